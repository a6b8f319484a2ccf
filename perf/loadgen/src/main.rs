//! Open-loop load generator for Slack apps: sends correctly signed slash commands,
//! block_actions (button clicks) and Events API callbacks at a fixed rate.
//!
//! * Open loop: request `i` of a step is due at `t0 + i/rate`, whatever happened to the
//!   earlier ones; latency is measured from that *scheduled* time (so a stalled server
//!   cannot hide its stall, no coordinated omission) and, separately, from the actual send.
//! * Every request has a unique body, a fresh `X-Slack-Request-Timestamp` and its own
//!   signature `v0=hex(HMAC-SHA256(secret, "v0:{ts}:{body}"))`.
//! * Anything but HTTP 200 within `--timeout-ms` (Slack's 3 s) is an error.
//! * With `--emulator-url` it prepares what the app's follow-up Web API calls need (trigger ids,
//!   bot messages to update) and afterwards checks the emulator kept up with those calls.
//! * With `--sink-url` (perf/fastsink) it sends dummy trigger ids and message ts (the sink accepts
//!   any) and afterwards checks, from the sink's /_sink/stats counters, that it kept up.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use clap::{Parser, ValueEnum};
use hdrhistogram::Histogram;
use hmac::{Hmac, Mac};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioExecutor;
use serde::Deserialize;
use sha2::Sha256;

type HttpClient = Client<HttpConnector, Full<Bytes>>;

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
enum Kind {
    /// form-encoded slash command (/access TEXT), the app should views.open
    Slash,
    /// interactivity payload: an Approve button click, the app should chat.update
    #[value(name = "block_action", alias = "block-action")]
    BlockAction,
    /// Events API event_callback with an app_mention, unique event_id
    Event,
    /// interactivity payload: a modal submitted (view_submission), unique view id; the app
    /// should file a request and tell its approver
    #[value(name = "view_submission", alias = "view-submission")]
    ViewSubmission,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Slash => "slash",
            Kind::BlockAction => "block_action",
            Kind::Event => "event",
            Kind::ViewSubmission => "view_submission",
        }
    }
    fn default_followup(self) -> &'static str {
        match self {
            Kind::Slash => "views.open",
            Kind::BlockAction => "chat.update",
            Kind::Event => "chat.postMessage",
            Kind::ViewSubmission => "chat.postMessage",
        }
    }
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
enum Triggers {
    /// real trigger ids from the emulator when --emulator-url is given, else dummy
    Auto,
    /// fetched in bulk from <emulator>/_emulator/issue_trigger before each step (start the
    /// emulator with a --trigger-ttl longer than a step, e.g. 600)
    Emulator,
    /// unique made-up trigger ids (the app's views.open then fails with expired_trigger_id)
    Dummy,
}

#[derive(Parser, Debug)]
#[command(name = "loadgen", about = "Open-loop load generator for Slack apps (signed slash commands, block actions, events)")]
struct Args {
    /// base URL of the app under test
    #[arg(long, default_value = "http://127.0.0.1:3000")]
    url: String,
    /// path that receives the requests (Bolt's default serves everything on /slack/events)
    #[arg(long, default_value = "/slack/events")]
    path: String,
    /// the app's signing secret
    #[arg(long, env = "SLACK_SIGNING_SECRET")]
    secret: String,
    #[arg(long, value_enum, default_value = "slash")]
    kind: Kind,
    /// target rate in requests per second (single run)
    #[arg(long, default_value_t = 100.0)]
    rate: f64,
    /// seconds per run / per ramp step
    #[arg(long, default_value_t = 10.0)]
    duration: f64,
    /// step through --ramp-rates and report the highest rate with p99 < --p99-ms and no errors
    #[arg(long)]
    ramp: bool,
    #[arg(long, value_delimiter = ',', default_value = "100,250,500,1000,2000,4000")]
    ramp_rates: Vec<f64>,
    /// p99 ack-latency threshold for the ramp, in ms
    #[arg(long, default_value_t = 50.0)]
    p99_ms: f64,
    /// keep stepping after the first failing step
    #[arg(long)]
    ramp_continue: bool,
    /// seconds of rest between steps (after the emulator drained, when checked)
    #[arg(long, default_value_t = 2.0)]
    pause: f64,
    /// seconds of unrecorded warm-up at the first rate before measuring
    #[arg(long, default_value_t = 2.0)]
    warmup: f64,
    /// a request not answered within this is an error (Slack's limit is 3000)
    #[arg(long, default_value_t = 3000)]
    timeout_ms: u64,
    /// size of the pool of user ids (U0PERF00000...); requests cycle through it
    #[arg(long, default_value_t = 1000)]
    users: usize,
    /// slash command name and text
    #[arg(long, default_value = "/access")]
    command: String,
    #[arg(long, default_value = "prod-db")]
    text: String,
    /// base URL of the Slack emulator (acceptance/slack_emulator.py), for trigger ids,
    /// seeded messages and the follow-up check
    #[arg(long)]
    emulator_url: Option<String>,
    /// base URL of perf/fastsink instead of the emulator: dummy trigger ids and message ts (the
    /// sink accepts any), response_url pointed at the sink, and after each step its
    /// /_sink/stats is read to check the app's follow-up calls kept up (sink_kept_up=)
    #[arg(long, conflicts_with = "emulator_url")]
    sink_url: Option<String>,
    /// bot token accepted by the emulator (to seed messages)
    #[arg(long, default_value = "xoxb-emulator-0000-token")]
    token: String,
    #[arg(long, value_enum, default_value = "auto")]
    triggers: Triggers,
    /// block_action: bot messages posted in the emulator before each step, clicked round-robin
    #[arg(long, default_value_t = 1000)]
    seed_messages: usize,
    /// POST /_emulator/reset before each step (keeps the emulator's state small; its
    /// views.open cost grows with the number of stored views)
    #[arg(long)]
    emulator_reset: bool,
    /// Web API method the app calls once per request (default: views.open / chat.update / chat.postMessage)
    #[arg(long)]
    followup_method: Option<String>,
    /// do not check the emulator's follow-up calls even with --emulator-url
    #[arg(long)]
    no_followup_check: bool,
    /// max seconds to wait for the follow-up calls to reach the emulator after a step
    #[arg(long, default_value_t = 60.0)]
    drain_timeout: f64,
    /// tokio worker threads
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// requests in flight above this are not sent and count as errors (client_overload)
    #[arg(long, default_value_t = 20000)]
    max_inflight: usize,
    /// every request comes from this Slack user instead of the --users pool (an approver)
    #[arg(long)]
    user: Option<String>,
    /// block_action: the button's action_id
    #[arg(long, default_value = "approve")]
    action_id: String,
    /// block_action: the button's value, `{n}` replaced by a counter that starts at --value-from
    /// and grows by one per click over the whole run (warm-up included), so that every click
    /// names a request of its own: "{n}:0" clicks Sesame's request n, step 0; "R{n}" Bolt's
    #[arg(long)]
    action_value: Option<String>,
    #[arg(long, default_value_t = 1)]
    value_from: u64,
    /// block_action: a file of clicks, one "USER VALUE" a line (an approver and the request they
    /// approve, `{n}` filled in as for --action-value); the k-th click of the run uses line k
    /// (and starts over past the end). Overrides --user and --action-value.
    #[arg(long)]
    clicks_file: Option<String>,
    /// view_submission: the view's callback_id
    #[arg(long, default_value = "access_request")]
    view_callback_id: String,
    /// view_submission: the view's private_metadata (sent as a JSON string)
    #[arg(long, default_value = "")]
    view_metadata: String,
    /// view_submission: the view's state.values, as JSON
    #[arg(
        long,
        default_value = r#"{"resource":{"resource":{"type":"static_select","selected_option":{"text":{"type":"plain_text","text":"prod-db"},"value":"prod-db"}}},"reason":{"reason":{"type":"plain_text_input","value":"load test"}},"until":{"until":{"type":"datepicker","selected_date":"2030-01-01"}}}"#
    )]
    view_values: String,
    /// a 200 whose body does not contain this counts as an error (unexpected_body): for
    /// view_submission, `clear` tells a filed request from a form sent back with a problem
    #[arg(long)]
    expect_body: Option<String>,
}

// ------------------------------------------------------------------------------------------
// per-step measurements
// ------------------------------------------------------------------------------------------

struct StepStats {
    lat: Histogram<u64>,     // µs from scheduled send time to full response
    service: Histogram<u64>, // µs from actual send to full response
    ok: u64,
    errors: BTreeMap<String, u64>,
}

impl StepStats {
    fn new() -> Self {
        StepStats {
            lat: Histogram::new_with_bounds(1, 120_000_000, 3).unwrap(),
            service: Histogram::new_with_bounds(1, 120_000_000, 3).unwrap(),
            ok: 0,
            errors: BTreeMap::new(),
        }
    }
    fn err_total(&self) -> u64 {
        self.errors.values().sum()
    }
}

struct StepResult {
    rate: f64,
    sent: u64,
    ok: u64,
    err: u64,
    errors: BTreeMap<String, u64>,
    achieved: f64,
    p50: f64,
    p90: f64,
    p99: f64,
    p999: f64,
    max: f64,
    followup_ok: Option<bool>,
}

fn ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

fn unix_now() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs_f64()
}

// ------------------------------------------------------------------------------------------
// request bodies
// ------------------------------------------------------------------------------------------

struct Prepared {
    triggers: Vec<String>,
    messages: Vec<(String, String, String)>, // channel, ts, request id in the button value
}

struct Ctx {
    args: Args,
    client: HttpClient,
    target: hyper::Uri,
    run_id: String,
    seq: AtomicU64,
    inflight: AtomicUsize,
    triggers: Triggers,
    emu_last_seq: AtomicU64,
    /// the next {n} of --action-value
    value_seq: AtomicU64,
    /// --clicks-file, read once
    clicks: Vec<(String, String)>,
}

fn form_encode(pairs: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(512);
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        enc_into(&mut out, k);
        out.push('=');
        enc_into(&mut out, v);
    }
    out
}

fn enc_into(out: &mut String, s: &str) {
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'*' => out.push(b as char),
            b' ' => out.push('+'),
            _ => {
                out.push('%');
                out.push_str(&format!("{:02X}", b));
            }
        }
    }
}

fn user_id(i: u64, pool: usize) -> String {
    format!("U0PERF{:05}", i % pool.max(1) as u64)
}

/// Builds the (content-type, body) of request number `i` of a step; `n` is the global,
/// run-unique sequence number that makes every body different.
fn build_body(ctx: &Ctx, prep: &Prepared, i: usize, n: u64) -> (&'static str, String) {
    let a = &ctx.args;
    let mut user = a.user.clone().unwrap_or_else(|| user_id(i as u64, a.users));
    let click = (a.kind == Kind::BlockAction && !ctx.clicks.is_empty()).then(|| {
        let v = ctx.value_seq.fetch_add(1, Ordering::Relaxed);
        let (who, value) = &ctx.clicks[(v.saturating_sub(a.value_from) as usize) % ctx.clicks.len()];
        user = who.clone();
        (v, value.replace("{n}", &v.to_string()))
    });
    match a.kind {
        Kind::Slash => {
            let trigger = prep
                .triggers
                .get(i)
                .cloned()
                .unwrap_or_else(|| format!("{}.{}.dummy{}", 1_700_000_000 + n, ctx.run_id, n));
            let response_url = match (&a.emulator_url, &a.sink_url) {
                (Some(e), _) => format!("{}/_emulator/response_url/perf{}{}", e.trim_end_matches('/'), ctx.run_id, n),
                (None, Some(s)) => format!("{}/_sink/response_url/perf{}{}", s.trim_end_matches('/'), ctx.run_id, n),
                (None, None) => format!("http://127.0.0.1:9/response_url/perf{}{}", ctx.run_id, n),
            };
            let body = form_encode(&[
                ("token", "perfverificationtoken"),
                ("team_id", "T0EMULATED"),
                ("team_domain", "emulated"),
                ("channel_id", "C0GENERAL1"),
                ("channel_name", "general"),
                ("user_id", &user),
                ("user_name", &user.to_lowercase()),
                ("command", &a.command),
                ("text", &a.text),
                ("api_app_id", "A0EMULATED"),
                ("is_enterprise_install", "false"),
                ("response_url", &response_url),
                ("trigger_id", &trigger),
            ]);
            ("application/x-www-form-urlencoded", body)
        }
        Kind::BlockAction => {
            let (channel, ts, rid) = if let Some((v, value)) = click {
                let ts = format!("{}.{:06}", 1_700_000_000 + v / 1_000_000, v % 1_000_000);
                ("D0BOB00002".to_string(), ts, value)
            } else if let Some(template) = &a.action_value {
                // a request of its own per click, on a message of its own
                let v = ctx.value_seq.fetch_add(1, Ordering::Relaxed);
                let ts = format!("{}.{:06}", 1_700_000_000 + v / 1_000_000, v % 1_000_000);
                ("D0BOB00002".to_string(), ts, template.replace("{n}", &v.to_string()))
            } else if prep.messages.is_empty() {
                ("D0BOB00002".to_string(), "1700000000.000100".to_string(), "R1".to_string())
            } else {
                prep.messages[i % prep.messages.len()].clone()
            };
            let now = unix_now();
            let payload = format!(
                concat!(
                    r#"{{"type":"block_actions","user":{{"id":"{user}","username":"{lower}","name":"{lower}","team_id":"T0EMULATED"}},"#,
                    r#""api_app_id":"A0EMULATED","token":"perfverificationtoken","#,
                    r#""container":{{"type":"message","message_ts":"{ts}","channel_id":"{ch}","is_ephemeral":false}},"#,
                    r#""trigger_id":"{trig}","team":{{"id":"T0EMULATED","domain":"emulated"}},"enterprise":null,"#,
                    r#""is_enterprise_install":false,"channel":{{"id":"{ch}","name":"directmessage"}},"#,
                    r#""message":{{"type":"message","subtype":"bot_message","user":"U0EMUBOT01","bot_id":"B0EMULATED","#,
                    r#""text":"Access request {rid}","ts":"{ts}","blocks":[{{"type":"actions","block_id":"decision","elements":["#,
                    r#"{{"type":"button","action_id":"approve","style":"primary","text":{{"type":"plain_text","text":"Approve"}},"value":"{rid}"}},"#,
                    r#"{{"type":"button","action_id":"deny","style":"danger","text":{{"type":"plain_text","text":"Deny"}},"value":"{rid}"}}]}}]}},"#,
                    r#""state":{{"values":{{}}}},"response_url":"{rurl}/response_url/perf{run}{n}","#,
                    r#""actions":[{{"action_id":"{aid}","block_id":"decision","type":"button","style":"primary","#,
                    r#""text":{{"type":"plain_text","text":"Approve"}},"value":"{rid}","action_ts":"{now:.6}"}}]}}"#
                ),
                user = user,
                lower = user.to_lowercase(),
                ts = ts,
                ch = channel,
                rid = rid,
                aid = a.action_id,
                trig = format!("{}.{}.perf{}", 1_700_000_000 + n, ctx.run_id, n),
                run = ctx.run_id,
                n = n,
                now = now,
                rurl = match &a.sink_url {
                    Some(s) => format!("{}/_sink", s.trim_end_matches('/')),
                    None => "http://127.0.0.1:9".to_string(),
                },
            );
            let body = form_encode(&[("payload", &payload)]);
            ("application/x-www-form-urlencoded", body)
        }
        Kind::ViewSubmission => {
            let metadata = serde_json::to_string(&a.view_metadata).unwrap();
            let payload = format!(
                concat!(
                    r#"{{"type":"view_submission","team":{{"id":"T0EMULATED","domain":"emulated"}},"#,
                    r#""user":{{"id":"{user}","username":"{lower}","name":"{lower}","team_id":"T0EMULATED"}},"#,
                    r#""api_app_id":"A0EMULATED","token":"perfverificationtoken","trigger_id":"{trig}","#,
                    r#""view":{{"id":"V0PERF{run}X{n}","team_id":"T0EMULATED","type":"modal","#,
                    r#""callback_id":"{cb}","private_metadata":{meta},"hash":"{n}.perf","#,
                    r#""state":{{"values":{values}}}}},"response_urls":[],"is_enterprise_install":false}}"#
                ),
                user = user,
                lower = user.to_lowercase(),
                trig = format!("{}.{}.perf{}", 1_700_000_000 + n, ctx.run_id, n),
                run = ctx.run_id,
                n = n,
                cb = a.view_callback_id,
                meta = metadata,
                values = a.view_values,
            );
            let body = form_encode(&[("payload", &payload)]);
            ("application/x-www-form-urlencoded", body)
        }
        Kind::Event => {
            let now = unix_now();
            let ts = format!("{:.6}", now);
            let body = format!(
                concat!(
                    r#"{{"token":"perfverificationtoken","team_id":"T0EMULATED","api_app_id":"A0EMULATED","#,
                    r#""event":{{"type":"app_mention","user":"{user}","text":"<@U0EMUBOT01> need access {n}","#,
                    r#""ts":"{ts}","channel":"C0GENERAL1","event_ts":"{ts}"}},"#,
                    r#""type":"event_callback","event_id":"Ev0PERF{run}{n}","event_time":{secs},"#,
                    r#""authorizations":[{{"enterprise_id":null,"team_id":"T0EMULATED","user_id":"U0EMUBOT01","#,
                    r#""is_bot":true,"is_enterprise_install":false}}],"is_ext_shared_channel":false,"#,
                    r#""event_context":"4-perf{run}{n}"}}"#
                ),
                user = user,
                n = n,
                ts = ts,
                run = ctx.run_id,
                secs = now as u64,
            );
            ("application/json", body)
        }
    }
}

fn sign(secret: &[u8], ts: &str, body: &str) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret).expect("hmac key");
    mac.update(b"v0:");
    mac.update(ts.as_bytes());
    mac.update(b":");
    mac.update(body.as_bytes());
    format!("v0={}", hex::encode(mac.finalize().into_bytes()))
}

// ------------------------------------------------------------------------------------------
// sending
// ------------------------------------------------------------------------------------------

async fn send_one(ctx: Arc<Ctx>, prep: Arc<Prepared>, stats: Arc<Mutex<StepStats>>, i: usize, scheduled: Instant) {
    let n = ctx.seq.fetch_add(1, Ordering::Relaxed);
    let (ctype, body) = build_body(&ctx, &prep, i, n);
    let ts = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs().to_string();
    let sig = sign(ctx.args.secret.as_bytes(), &ts, &body);
    let req = hyper::Request::post(ctx.target.clone())
        .header("content-type", ctype)
        .header("x-slack-request-timestamp", &ts)
        .header("x-slack-signature", sig)
        .header("user-agent", "Slackbot 1.0 (+https://api.slack.com/robots)")
        .body(Full::new(Bytes::from(body)))
        .unwrap();
    let started = Instant::now();
    let deadline = Duration::from_millis(ctx.args.timeout_ms);
    let fut = async {
        let resp = ctx.client.request(req).await?;
        let status = resp.status().as_u16();
        let body = resp.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
        Ok::<(u16, Bytes), hyper_util::client::legacy::Error>((status, body))
    };
    let expected = |body: &Bytes| match &ctx.args.expect_body {
        Some(want) => body.windows(want.len().max(1)).any(|w| w == want.as_bytes()),
        None => true,
    };
    let outcome: Result<(), String> = match tokio::time::timeout(deadline, fut).await {
        Err(_) => Err("timeout".into()),
        Ok(Err(e)) => Err(if e.is_connect() { "connect".into() } else { format!("io:{}", short_err(&e)) }),
        Ok(Ok((200, body))) if expected(&body) => Ok(()),
        Ok(Ok((200, _))) => Err("unexpected_body".into()),
        Ok(Ok((code, _))) => Err(format!("http_{}", code)),
    };
    let done = Instant::now();
    let lat = done.duration_since(scheduled).as_micros() as u64;
    let svc = done.duration_since(started).as_micros() as u64;
    {
        let mut s = stats.lock().unwrap();
        match outcome {
            Ok(()) => {
                s.ok += 1;
                let _ = s.lat.record(lat.max(1));
                let _ = s.service.record(svc.max(1));
            }
            Err(kind) => {
                *s.errors.entry(kind).or_insert(0) += 1;
                // errors still count in the latency distribution (a timeout at least the timeout)
                let _ = s.lat.record(lat.max(1));
                let _ = s.service.record(svc.max(1));
            }
        }
    }
    ctx.inflight.fetch_sub(1, Ordering::AcqRel);
}

fn short_err(e: &hyper_util::client::legacy::Error) -> String {
    use std::error::Error;
    let mut src: Option<&dyn Error> = e.source();
    let mut last = e.to_string();
    while let Some(s) = src {
        last = s.to_string();
        src = s.source();
    }
    last.chars().filter(|c| c.is_ascii_alphanumeric() || *c == ' ').collect::<String>().replace(' ', "_")
}

/// Runs one step at `rate` for `duration` seconds. Returns None stats when `record` is false.
async fn run_step(ctx: Arc<Ctx>, rate: f64, duration: f64, record: bool) -> StepResult {
    let a = &ctx.args;
    let total = (rate * duration).round().max(1.0) as usize;
    let prep = Arc::new(prepare(&ctx, total).await);
    if record && a.emulator_url.is_some() && !a.no_followup_check {
        // skip the follow-up calls made so far (warm-up, previous steps, seeding)
        let _ = fetch_calls(&ctx, &followup_method(&ctx)).await;
    }
    let sink_check = record && a.sink_url.is_some() && !a.no_followup_check;
    let sink_before = if sink_check { sink_counts(&ctx).await } else { None };
    let stats = Arc::new(Mutex::new(StepStats::new()));
    let handle = tokio::runtime::Handle::current();
    let (c2, p2, s2) = (ctx.clone(), prep.clone(), stats.clone());
    let wall_start = unix_now();
    // A plain OS thread keeps the schedule (sub-millisecond sleeps); the runtime does the I/O.
    let dispatcher = std::thread::spawn(move || {
        let t0 = Instant::now() + Duration::from_millis(5);
        let interval = 1.0 / rate;
        let mut sent = 0u64;
        let mut first: Option<Instant> = None;
        let mut last = t0;
        for i in 0..total {
            let due = t0 + Duration::from_secs_f64(i as f64 * interval);
            let now = Instant::now();
            if due > now {
                std::thread::sleep(due - now);
            }
            if c2.inflight.load(Ordering::Acquire) >= c2.args.max_inflight {
                let mut s = s2.lock().unwrap();
                *s.errors.entry("client_overload".into()).or_insert(0) += 1;
                continue;
            }
            c2.inflight.fetch_add(1, Ordering::AcqRel);
            let now = Instant::now();
            first.get_or_insert(now);
            last = now;
            sent += 1;
            handle.spawn(send_one(c2.clone(), p2.clone(), s2.clone(), i, due));
        }
        (sent, first.unwrap_or(t0), last)
    });
    let (sent, first, last) = tokio::task::spawn_blocking(move || dispatcher.join().unwrap()).await.unwrap();
    let wall_end = wall_start + last.duration_since(first).as_secs_f64();
    let sink_at_end = if sink_check { sink_counts(&ctx).await } else { None };
    // wait for the stragglers (each ends by itself at the timeout)
    let wait_until = Instant::now() + Duration::from_millis(a.timeout_ms + 2000);
    while ctx.inflight.load(Ordering::Acquire) > 0 && Instant::now() < wait_until {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let span = last.duration_since(first).as_secs_f64();
    let achieved = if span > 0.0 { (sent.saturating_sub(1)) as f64 / span } else { sent as f64 };
    let s = stats.lock().unwrap();
    let mut errors = s.errors.clone();
    let still = ctx.inflight.load(Ordering::Acquire);
    if still > 0 {
        *errors.entry("unfinished".into()).or_insert(0) += still as u64;
    }
    let err: u64 = errors.values().sum();
    let q = |h: &Histogram<u64>, p: f64| if h.len() == 0 { 0.0 } else { ms(h.value_at_quantile(p)) };
    let res = StepResult {
        rate,
        sent,
        ok: s.ok,
        err,
        errors,
        achieved,
        p50: q(&s.lat, 0.5),
        p90: q(&s.lat, 0.9),
        p99: q(&s.lat, 0.99),
        p999: q(&s.lat, 0.999),
        max: if s.lat.len() == 0 { 0.0 } else { ms(s.lat.max()) },
        followup_ok: None,
    };
    let _ = s.err_total();
    if record {
        println!(
            "  sent={} ok={} err={} errors={} achieved_rate={:.1}/s (target {:.0}/s, {:.1}s)",
            res.sent,
            res.ok,
            res.err,
            fmt_errors(&res.errors),
            res.achieved,
            rate,
            duration
        );
        println!(
            "  ack latency ms (from scheduled send): p50={:.2} p90={:.2} p99={:.2} p99.9={:.2} max={:.2}",
            res.p50, res.p90, res.p99, res.p999, res.max
        );
        println!(
            "  service time ms (from actual send):   p50={:.2} p90={:.2} p99={:.2} p99.9={:.2} max={:.2}",
            q(&s.service, 0.5),
            q(&s.service, 0.9),
            q(&s.service, 0.99),
            q(&s.service, 0.999),
            if s.service.len() == 0 { 0.0 } else { ms(s.service.max()) }
        );
    }
    drop(s);
    let mut res = res;
    if record && a.emulator_url.is_some() && !a.no_followup_check {
        res.followup_ok = Some(check_followups(&ctx, res.ok, wall_start, wall_end, duration).await);
    }
    if sink_check {
        res.followup_ok = Some(check_sink(&ctx, res.ok, sink_before, sink_at_end, wall_end, duration).await);
    }
    res
}

fn fmt_errors(e: &BTreeMap<String, u64>) -> String {
    if e.is_empty() {
        return "{}".into();
    }
    let parts: Vec<String> = e.iter().map(|(k, v)| format!("{}:{}", k, v)).collect();
    format!("{{{}}}", parts.join(","))
}

// ------------------------------------------------------------------------------------------
// emulator side: trigger ids, seeded messages, follow-up check
// ------------------------------------------------------------------------------------------

fn followup_method(ctx: &Ctx) -> String {
    ctx.args.followup_method.clone().unwrap_or_else(|| ctx.args.kind.default_followup().to_string())
}

async fn http_call(ctx: &Ctx, method: &str, url: &str, body: Option<String>, auth: bool) -> Result<(u16, Bytes), String> {
    let mut b = hyper::Request::builder().method(method).uri(url);
    if body.is_some() {
        b = b.header("content-type", "application/json; charset=utf-8");
    }
    if auth {
        b = b.header("authorization", format!("Bearer {}", ctx.args.token));
    }
    let req = b.body(Full::new(Bytes::from(body.unwrap_or_default()))).map_err(|e| e.to_string())?;
    let resp = tokio::time::timeout(Duration::from_secs(120), ctx.client.request(req))
        .await
        .map_err(|_| "timeout".to_string())?
        .map_err(|e| e.to_string())?;
    let status = resp.status().as_u16();
    let bytes = resp.into_body().collect().await.map_err(|e| e.to_string())?.to_bytes();
    Ok((status, bytes))
}

async fn prepare(ctx: &Arc<Ctx>, total: usize) -> Prepared {
    let a = &ctx.args;
    let mut prep = Prepared { triggers: vec![], messages: vec![] };
    let Some(emu) = a.emulator_url.as_ref().map(|e| e.trim_end_matches('/').to_string()) else {
        return prep;
    };
    if a.emulator_reset {
        match http_call(ctx, "POST", &format!("{}/_emulator/reset", emu), Some(r#"{"config":false}"#.into()), false).await {
            Ok((200, _)) => ctx.emu_last_seq.store(0, Ordering::Release),
            other => eprintln!("warning: emulator reset failed: {:?}", other.map(|(s, _)| s)),
        }
    }
    let workers = 32usize;
    if a.kind == Kind::Slash && ctx.triggers == Triggers::Emulator {
        let t = Instant::now();
        let out: Arc<Mutex<Vec<Option<String>>>> = Arc::new(Mutex::new(vec![None; total]));
        let next = Arc::new(AtomicUsize::new(0));
        let expires = Arc::new(Mutex::new(f64::MAX));
        let mut set = tokio::task::JoinSet::new();
        for _ in 0..workers {
            let (ctx, out, next, emu, expires) = (ctx.clone(), out.clone(), next.clone(), emu.clone(), expires.clone());
            set.spawn(async move {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= total {
                        break;
                    }
                    // the trigger belongs to the user who will send request i (user pool cycles
                    // with the global sequence, which is only known at send time: use i's slot)
                    let body = format!(r#"{{"user_id":"{}"}}"#, user_id(i as u64, ctx.args.users));
                    if let Ok((200, b)) = http_call(&ctx, "POST", &format!("{}/_emulator/issue_trigger", emu), Some(body), false).await {
                        if let Ok(v) = serde_json::from_slice::<serde_json::Value>(&b) {
                            if let Some(id) = v["trigger_id"].as_str() {
                                out.lock().unwrap()[i] = Some(id.to_string());
                            }
                            if let Some(x) = v["expires_at"].as_f64() {
                                let mut e = expires.lock().unwrap();
                                if x < *e {
                                    *e = x;
                                }
                            }
                        }
                    }
                }
            });
        }
        while set.join_next().await.is_some() {}
        let got: Vec<String> = Arc::try_unwrap(out).unwrap().into_inner().unwrap().into_iter().flatten().collect();
        let exp = *expires.lock().unwrap();
        eprintln!("  prepared {} trigger ids from the emulator in {:.1}s", got.len(), t.elapsed().as_secs_f64());
        if got.len() < total {
            eprintln!("  warning: only {} of {} trigger ids; the rest are dummies", got.len(), total);
        }
        if exp < unix_now() + a.duration + 5.0 {
            eprintln!("  warning: trigger ids expire before the step ends: start the emulator with --trigger-ttl 600");
        }
        prep.triggers = got;
    }
    if a.kind == Kind::BlockAction && a.seed_messages > 0 {
        let t = Instant::now();
        let n = a.seed_messages;
        let out: Arc<Mutex<Vec<Option<(String, String, String)>>>> = Arc::new(Mutex::new(vec![None; n]));
        let next = Arc::new(AtomicUsize::new(0));
        let mut set = tokio::task::JoinSet::new();
        for _ in 0..workers {
            let (ctx, out, next, emu) = (ctx.clone(), out.clone(), next.clone(), emu.clone());
            set.spawn(async move {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= n {
                        break;
                    }
                    let rid = format!("RPERF{}", i);
                    let channel = format!("C0PERF{:04}", i % 100);
                    let body = format!(
                        concat!(
                            r#"{{"channel":"{ch}","text":"Access request {rid}","blocks":[{{"type":"actions","block_id":"decision","elements":["#,
                            r#"{{"type":"button","action_id":"approve","style":"primary","text":{{"type":"plain_text","text":"Approve"}},"value":"{rid}"}},"#,
                            r#"{{"type":"button","action_id":"deny","style":"danger","text":{{"type":"plain_text","text":"Deny"}},"value":"{rid}"}}]}}]}}"#
                        ),
                        ch = channel,
                        rid = rid
                    );
                    if let Ok((200, b)) = http_call(&ctx, "POST", &format!("{}/api/chat.postMessage", emu), Some(body), true).await {
                        if let Ok(v) = serde_json::from_slice::<serde_json::Value>(&b) {
                            if let (Some(ch), Some(ts)) = (v["channel"].as_str(), v["ts"].as_str()) {
                                out.lock().unwrap()[i] = Some((ch.to_string(), ts.to_string(), rid));
                            }
                        }
                    }
                }
            });
        }
        while set.join_next().await.is_some() {}
        prep.messages = Arc::try_unwrap(out).unwrap().into_inner().unwrap().into_iter().flatten().collect();
        eprintln!("  seeded {} bot messages in the emulator in {:.1}s", prep.messages.len(), t.elapsed().as_secs_f64());
    }
    prep
}

#[derive(Deserialize)]
struct CallsResp {
    calls: Vec<Call>,
}

#[derive(Deserialize)]
struct Call {
    seq: u64,
    time: f64,
    #[serde(default)]
    duration_ms: f64,
    #[serde(default)]
    status: u16,
    result: CallResult,
}

#[derive(Deserialize)]
struct CallResult {
    #[serde(default)]
    ok: bool,
    #[serde(default)]
    error: Option<String>,
}

/// New calls of `method` since the last fetch.
async fn fetch_calls(ctx: &Ctx, method: &str) -> Result<Vec<Call>, String> {
    let emu = ctx.args.emulator_url.as_ref().unwrap().trim_end_matches('/');
    let since = ctx.emu_last_seq.load(Ordering::Acquire);
    let url = format!("{}/_emulator/calls?method={}&since={}", emu, method, since);
    let (status, body) = http_call(ctx, "GET", &url, None, false).await?;
    if status != 200 {
        return Err(format!("calls -> {}", status));
    }
    let r: CallsResp = serde_json::from_slice(&body).map_err(|e| e.to_string())?;
    if let Some(m) = r.calls.iter().map(|c| c.seq).max() {
        ctx.emu_last_seq.fetch_max(m, Ordering::AcqRel);
    }
    Ok(r.calls)
}

/// After a step: waits until the app's follow-up Web API calls stop arriving at the emulator,
/// then reports how many arrived, when the last one did, and the emulator's own handling time.
async fn check_followups(ctx: &Ctx, expected: u64, step_start: f64, step_end: f64, duration: f64) -> bool {
    let method = followup_method(ctx);
    let t = Instant::now();
    let mut calls: Vec<Call> = Vec::new();
    let mut quiet_polls = 0;
    loop {
        tokio::time::sleep(Duration::from_millis(1000)).await;
        match fetch_calls(ctx, &method).await {
            Ok(new) => {
                if new.is_empty() {
                    quiet_polls += 1;
                } else {
                    quiet_polls = 0;
                }
                calls.extend(new);
            }
            Err(e) => {
                eprintln!("  warning: could not read emulator calls: {}", e);
                quiet_polls += 1;
            }
        }
        let have = calls.len() as u64;
        if (have >= expected && quiet_polls >= 1) || quiet_polls >= 3 || t.elapsed().as_secs_f64() > ctx.args.drain_timeout {
            break;
        }
    }
    let received = calls.len() as u64;
    let ok = calls.iter().filter(|c| c.result.ok && c.status == 200).count() as u64;
    let mut errs: BTreeMap<String, u64> = BTreeMap::new();
    for c in calls.iter().filter(|c| !(c.result.ok && c.status == 200)) {
        *errs.entry(c.result.error.clone().unwrap_or_else(|| format!("status_{}", c.status))).or_insert(0) += 1;
    }
    let in_window = calls.iter().filter(|c| c.time >= step_start && c.time <= step_end + 0.001).count() as f64;
    let last = calls.iter().map(|c| c.time).fold(f64::MIN, f64::max);
    let lag = if calls.is_empty() { f64::NAN } else { (last - step_end).max(0.0) };
    let mut durs: Vec<f64> = calls.iter().map(|c| c.duration_ms).collect();
    durs.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let pct = |p: f64| if durs.is_empty() { 0.0 } else { durs[((p * durs.len() as f64).ceil() as usize).clamp(1, durs.len()) - 1] };
    let keeps_up = received >= expected && lag <= 1.0;
    println!(
        "  emulator {}: expected={} received={} ok={} err={} in_step_rate={:.1}/s last_call_after_step_end_s={:.2} handler_ms p50={:.2} p99={:.2} max={:.2} keeps_up={}",
        method,
        expected,
        received,
        ok,
        fmt_errors(&errs),
        in_window / duration.max(0.001),
        lag,
        pct(0.5),
        pct(0.99),
        pct(1.0),
        if keeps_up { "yes" } else { "NO" }
    );
    keeps_up
}

// ------------------------------------------------------------------------------------------

// ------------------------------------------------------------------------------------------
// perf/fastsink side: follow-up check from its /_sink/stats counters
// ------------------------------------------------------------------------------------------

static SINK_MODE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

fn kept_up_label() -> &'static str {
    if SINK_MODE.load(Ordering::Relaxed) {
        "sink_kept_up"
    } else {
        "emulator_kept_up"
    }
}

/// (calls, errors, last call unix time) of the follow-up method at the sink.
async fn sink_counts(ctx: &Ctx) -> Option<(u64, u64, f64)> {
    let sink = ctx.args.sink_url.as_ref()?.trim_end_matches('/');
    match http_call(ctx, "GET", &format!("{}/_sink/stats", sink), None, false).await {
        Ok((200, b)) => {
            let v: serde_json::Value = serde_json::from_slice(&b).ok()?;
            let m = &v["methods"][followup_method(ctx)];
            Some((m["calls"].as_u64().unwrap_or(0), m["errors"].as_u64().unwrap_or(0), m["last_call"].as_f64().unwrap_or(0.0)))
        }
        other => {
            eprintln!("  warning: could not read sink stats: {:?}", other.map(|(s, _)| s));
            None
        }
    }
}

/// After a step: waits until the app's follow-up calls stop arriving at the sink, then reports
/// how many arrived, the rate during the step and when the last one did.
async fn check_sink(ctx: &Ctx, expected: u64, before: Option<(u64, u64, f64)>, at_end: Option<(u64, u64, f64)>, step_end: f64, duration: f64) -> bool {
    let method = followup_method(ctx);
    let (c0, e0, _) = before.unwrap_or((0, 0, 0.0));
    let t = Instant::now();
    let mut last = at_end;
    let mut quiet_polls = 0;
    loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let now = sink_counts(ctx).await;
        if now.map(|x| x.0) == last.map(|x| x.0) {
            quiet_polls += 1;
        } else {
            quiet_polls = 0;
        }
        if now.is_some() {
            last = now;
        }
        let have = last.map(|x| x.0.saturating_sub(c0)).unwrap_or(0);
        if (have >= expected && quiet_polls >= 1) || quiet_polls >= 4 || t.elapsed().as_secs_f64() > ctx.args.drain_timeout {
            break;
        }
    }
    let (c1, e1, last_t) = last.unwrap_or((c0, e0, 0.0));
    let received = c1.saturating_sub(c0);
    let err = e1.saturating_sub(e0);
    let in_step = at_end.map(|x| x.0.saturating_sub(c0)).unwrap_or(0) as f64;
    let lag = if received == 0 { f64::NAN } else { (last_t - step_end).max(0.0) };
    let keeps_up = received >= expected && lag <= 1.0;
    println!(
        "  sink {}: expected={} received={} ok={} err={} in_step_rate={:.1}/s last_call_after_step_end_s={:.2} keeps_up={}",
        method,
        expected,
        received,
        received.saturating_sub(err),
        err,
        in_step / duration.max(0.001),
        lag,
        if keeps_up { "yes" } else { "NO" }
    );
    keeps_up
}

fn print_step_line(kind: Kind, r: &StepResult, tag: &str) {
    println!(
        "{} kind={} rate={:.0} achieved={:.1} p50_ms={:.2} p90_ms={:.2} p99_ms={:.2} p999_ms={:.2} max_ms={:.2} sent={} ok={} err={}{}",
        tag,
        kind.name(),
        r.rate,
        r.achieved,
        r.p50,
        r.p90,
        r.p99,
        r.p999,
        r.max,
        r.sent,
        r.ok,
        r.err,
        match r.followup_ok {
            Some(f) => format!(" {}={}", kept_up_label(), if f { "yes" } else { "NO" }),
            None => String::new(),
        }
    );
}

fn main() {
    let args = Args::parse();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.threads.max(1))
        .enable_all()
        .build()
        .expect("tokio runtime");
    rt.block_on(real_main(args));
}

async fn real_main(args: Args) {
    let target: hyper::Uri = format!("{}{}", args.url.trim_end_matches('/'), args.path).parse().expect("bad --url/--path");
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    let client: HttpClient = Client::builder(TokioExecutor::new())
        .pool_idle_timeout(Duration::from_secs(4)) // below Node's 5 s keep-alive timeout
        .pool_max_idle_per_host(usize::MAX)
        .build(connector);
    let triggers = match (args.triggers, &args.emulator_url) {
        (Triggers::Auto, Some(_)) => Triggers::Emulator,
        (Triggers::Auto, None) => Triggers::Dummy,
        (Triggers::Emulator, None) => {
            eprintln!("--triggers emulator needs --emulator-url");
            std::process::exit(2);
        }
        (t, _) => t,
    };
    SINK_MODE.store(args.sink_url.is_some(), Ordering::Relaxed);
    let run_id = format!("{:x}", SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() % 0xffffff);
    let kind = args.kind;
    let value_from = args.value_from;
    let clicks: Vec<(String, String)> = match &args.clicks_file {
        Some(path) => std::fs::read_to_string(path)
            .unwrap_or_else(|e| panic!("--clicks-file {path}: {e}"))
            .lines()
            .filter_map(|l| l.split_once(' ').map(|(u, v)| (u.to_string(), v.trim().to_string())))
            .collect(),
        None => Vec::new(),
    };
    let ctx = Arc::new(Ctx {
        args,
        client,
        target: target.clone(),
        run_id,
        seq: AtomicU64::new(0),
        inflight: AtomicUsize::new(0),
        triggers,
        emu_last_seq: AtomicU64::new(0),
        value_seq: AtomicU64::new(value_from),
        clicks,
    });
    let a = &ctx.args;
    println!(
        "loadgen kind={} target={} triggers={:?} timeout={}ms threads={} users={}{}",
        kind.name(),
        target,
        triggers,
        a.timeout_ms,
        a.threads,
        a.users,
        a.sink_url.as_ref().map(|u| format!(" sink={}", u)).unwrap_or_default()
    );
    let rates: Vec<f64> = if a.ramp { a.ramp_rates.clone() } else { vec![a.rate] };
    if a.warmup > 0.0 {
        println!("warm-up: {:.0}/s for {:.1}s (not recorded)", rates[0], a.warmup);
        let w = run_step(ctx.clone(), rates[0], a.warmup, false).await;
        if w.err > 0 {
            println!("  warm-up errors: {}", fmt_errors(&w.errors));
        }
        tokio::time::sleep(Duration::from_secs_f64(a.pause.max(0.5))).await;
    }
    if !a.ramp {
        println!("run: {:.0}/s for {:.1}s", a.rate, a.duration);
        let r = run_step(ctx.clone(), a.rate, a.duration, true).await;
        print_step_line(kind, &r, "RESULT");
        std::process::exit(if r.err == 0 { 0 } else { 1 });
    }
    let mut best: Option<StepResult> = None;
    for (k, &rate) in rates.iter().enumerate() {
        println!("step {}/{}: {:.0}/s for {:.1}s", k + 1, rates.len(), rate, a.duration);
        let r = run_step(ctx.clone(), rate, a.duration, true).await;
        let pass = r.err == 0 && r.p99 < a.p99_ms;
        print_step_line(kind, &r, "STEP");
        println!("  -> {}", if pass { "PASS" } else { "FAIL" });
        if pass {
            best = Some(r);
        } else if !a.ramp_continue {
            break;
        }
        if k + 1 < rates.len() {
            tokio::time::sleep(Duration::from_secs_f64(a.pause)).await;
        }
    }
    match best {
        Some(r) => {
            println!("highest rate with p99 < {} ms and no errors: {:.0}/s", a.p99_ms, r.rate);
            let mut line = String::new();
            line.push_str(&format!(
                "RESULT kind={} rate={:.0} p50_ms={:.2} p99_ms={:.2} ok={} err={} mode=ramp p99_threshold_ms={}",
                kind.name(),
                r.rate,
                r.p50,
                r.p99,
                r.ok,
                r.err,
                a.p99_ms
            ));
            if let Some(f) = r.followup_ok {
                line.push_str(&format!(" {}={}", kept_up_label(), if f { "yes" } else { "NO" }));
            }
            println!("{}", line);
        }
        None => {
            println!("no step met p99 < {} ms with no errors", a.p99_ms);
            println!(
                "RESULT kind={} rate=0 p50_ms=0 p99_ms=0 ok=0 err=0 mode=ramp p99_threshold_ms={}",
                kind.name(),
                a.p99_ms
            );
        }
    }
}
