//! Slack acknowledgements under load: signed slash commands, Approve clicks and questions-modal
//! submissions, sent as Slack sends them at rising open-loop rates to a real server (built as
//! `sesame serve` builds it, dispatcher running) whose Slack is the test kit's fake. Prints, per
//! rate, the offered rate, the achieved throughput and the acknowledgement latency (p50, p99, max,
//! from sending to the whole response), then checks that nothing was lost or done twice: every
//! submitted modal created exactly one request (a fraction are delivered twice), every click gave
//! exactly one approval (a fraction are delivered twice). Exits non-zero when a check fails.
//!
//!     cargo bench -p sesame --bench slack_ack
//!     SESAME_BENCH_RATES=100,500,1000 SESAME_BENCH_SECONDS=5 cargo bench -p sesame --bench slack_ack
//!
//! On SQLite, and on PostgreSQL as well when SESAME_TEST_POSTGRES_URL names a server.

use serde_json::{json, Value};
use sesame::config::Config;
use sesame::Application;
use sesame_app::{App, SystemClock};
use sesame_core::{Actor, UserId};
use sesame_store::{AuditFilter, RequestFilter};
use sesame_testkit::fake_slack::{FakeSlack, FakeView};
use sesame_testkit::slack_driver::{ClickedIn, SlackDriver};
use sesame_testkit::slack_load::{LoadPerson, SignedSlackRequest, SlackLoadWorkspace};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::runtime::Runtime;

/// The same allocator as the `sesame` binary, so the figures are the binary's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Where slash commands are typed.
const CHANNEL: &str = "C0LOAD";
/// What people type after `/access`.
const TYPED: [&str; 7] = [
    "office badge please",
    "parking for 2 weeks",
    "I need a new laptop",
    "prod db write for INC-4411",
    "",
    "help",
    "what is for lunch",
];
/// Every how many submissions one is delivered a second time; the same for clicks.
const RESEND_SUBMISSION_EVERY: usize = 10;
const RESEND_CLICK_EVERY: usize = 20;

struct Settings {
    rates: Vec<usize>,
    seconds: f64,
    requesters: usize,
    managers: usize,
    /// Off (`SESAME_BENCH_DISPATCHER=off`) to see what delivering Slack messages costs the
    /// acknowledgements; the pending requests are then filed without their Slack messages and
    /// clicked with buttons built as the notifier builds them.
    dispatcher: bool,
}

fn settings() -> Settings {
    // `cargo test --benches` runs benchmarks once as a smoke test; keep that quick.
    if std::env::args().any(|a| a == "--test") {
        return Settings {
            rates: vec![50],
            seconds: 1.0,
            requesters: 20,
            managers: 4,
            dispatcher: true,
        };
    }
    let rates = std::env::var("SESAME_BENCH_RATES")
        .ok()
        .map(|v| v.split(',').filter_map(|r| r.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![100, 250, 500, 750]);
    let seconds = std::env::var("SESAME_BENCH_SECONDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3.0);
    Settings {
        rates,
        seconds,
        requesters: 200,
        managers: 20,
        dispatcher: std::env::var("SESAME_BENCH_DISPATCHER").map_or(true, |v| v != "off"),
    }
}

fn runtime(name: &str, threads: usize) -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .thread_name(name)
        .enable_all()
        .build()
        .expect("runtime")
}

fn main() {
    let settings = settings();
    let mut ok = true;
    let dir = tempfile::tempdir().expect("temp dir");
    let sqlite = format!("sqlite://{}", dir.path().join("bench.db").display());
    ok &= bench("SQLite", |_| sqlite.clone(), &settings);
    match std::env::var("SESAME_TEST_POSTGRES_URL") {
        Ok(admin) if !admin.is_empty() => {
            ok &= bench(
                "PostgreSQL",
                |rt| {
                    rt.block_on(sesame_store::create_test_database(&admin))
                        .expect("create a benchmark database")
                },
                &settings,
            );
        }
        _ => println!(
            "PostgreSQL: skipped (set SESAME_TEST_POSTGRES_URL to an admin URL, e.g. from scripts/postgres.sh)"
        ),
    }
    if !ok {
        eprintln!("slack_ack: a check failed");
        std::process::exit(1);
    }
}

/// What one request is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Command,
    Click,
    ClickAgain,
    Submit,
    SubmitAgain,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Command => "command",
            Kind::Click => "click",
            Kind::ClickAgain => "click x2",
            Kind::Submit => "submit",
            Kind::SubmitAgain => "submit x2",
        }
    }

    /// Whether Sesame's answer is the one Slack expects.
    fn acknowledged(self, status: reqwest::StatusCode, body: &str) -> bool {
        if status != reqwest::StatusCode::OK {
            return false;
        }
        match self {
            Kind::Command => serde_json::from_str::<Value>(body).is_ok_and(|b| {
                b["response_type"] == "ephemeral"
                    && b["blocks"].as_array().is_some_and(|a| !a.is_empty())
            }),
            Kind::Click | Kind::ClickAgain => body.is_empty(),
            Kind::Submit | Kind::SubmitAgain => {
                serde_json::from_str::<Value>(body).is_ok_and(|b| b["response_action"] == "clear")
            }
        }
    }
}

/// One request in a schedule: when to send it (from the start of the phase) and what.
struct Planned {
    at: Duration,
    kind: Kind,
    request: Arc<SignedSlackRequest>,
}

/// What happened to one request.
struct Outcome {
    kind: Kind,
    /// From sending to the whole response.
    latency: Duration,
    /// How late the generator sent it against its schedule.
    late: Duration,
    /// When the response was complete, from the start of the phase.
    done_at: Duration,
    ok: bool,
}

/// An Approve button in a manager's direct message, as the dispatcher posted it.
#[derive(Clone)]
struct ApproveButton {
    number: i64,
    manager: String,
    channel: String,
    ts: String,
    block_id: String,
    value: Value,
}

/// What the checks need to know about what was sent.
#[derive(Default)]
struct Sent {
    /// Pre-created requests, by number, with their requester.
    precreated: BTreeMap<i64, String>,
    /// Distinct modal submissions, by requester.
    submissions_by: BTreeMap<String, usize>,
    submissions: usize,
    submissions_with_typed: usize,
    resubmissions: usize,
    /// The requests whose Approve button was clicked.
    clicked: Vec<i64>,
    reclicks: usize,
}

fn quantile(sorted: &[Duration], q: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let index = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn bench(label: &str, database: impl FnOnce(&Runtime) -> String, settings: &Settings) -> bool {
    println!("== {label}: Slack acknowledgements ==");
    // The fake Slack, the server and the load generator each get their own runtime, like separate
    // processes would (on this machine they share the same cores all the same).
    let slack_rt = runtime("fake-slack", 1);
    let server_rt = runtime("sesame-server", 2);
    let client_rt = runtime("load-client", 2);
    let database_url = database(&server_rt);

    let workspace = SlackLoadWorkspace::generate(settings.requesters, settings.managers);
    let slack = slack_rt.block_on(FakeSlack::start());
    workspace.add_to_slack(&slack, CHANNEL);
    let config: Config =
        toml::from_str(&workspace.config_toml(&database_url, &slack)).expect("config");

    let (app, base_url, stop, server) = server_rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let mut application = Application::build(&config, listener, Arc::new(SystemClock))
            .await
            .expect("build the application");
        if !settings.dispatcher {
            application = application.without_dispatcher();
        }
        let app = application.app.clone();
        let base_url = format!("http://{}", application.local_addr().expect("address"));
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let server = tokio::spawn(async move { application.run(stopped).await });
        (app, base_url, stop, server)
    });
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(512)
        .timeout(Duration::from_secs(15))
        .build()
        .expect("HTTP client");

    // Pending requests for the Approve clicks, filed through the REST API by the requesters.
    let phase_counts: Vec<usize> = settings
        .rates
        .iter()
        .map(|&rate| (rate as f64 * settings.seconds).round() as usize)
        .collect();
    let clicks_needed: usize = phase_counts.iter().map(|&n| (n * 3).div_ceil(10)).sum();
    let started = Instant::now();
    let tokens = server_rt.block_on(async {
        let mut tokens = Vec::new();
        for person in &workspace.requesters {
            let id = UserId::new(person.id.clone()).expect("id");
            let token = app
                .create_token(&id, "bench", None, &Actor::System)
                .await
                .expect("token")
                .secret;
            tokens.push((person.id.clone(), token));
        }
        tokens
    });
    let mut sent = Sent {
        precreated: client_rt.block_on(precreate(&client, &base_url, &tokens, clicks_needed)),
        ..Sent::default()
    };
    let drain = |limit: u64| {
        settings.dispatcher && server_rt.block_on(wait_for_outbox(&app, Duration::from_secs(limit)))
    };
    let drained = drain(120);
    println!(
        "setup: {} requesters, {} managers; {} pending requests filed over the API and their Slack messages delivered in {:.1} s{}",
        workspace.requesters.len(),
        workspace.managers.len(),
        sent.precreated.len(),
        started.elapsed().as_secs_f64(),
        match (settings.dispatcher, drained) {
            (false, _) => " (dispatcher off: NOT delivered)",
            (true, true) => "",
            (true, false) => " (the outbox did NOT drain)",
        }
    );
    let buttons = if settings.dispatcher {
        approve_buttons(&slack, &workspace.managers)
    } else {
        built_buttons(&sent.precreated, &workspace)
    };
    let mut targets: Vec<ApproveButton> = sent
        .precreated
        .keys()
        .filter_map(|n| buttons.get(n).cloned())
        .collect();
    if targets.len() < sent.precreated.len() {
        println!(
            "  note: only {} of {} pending requests have an Approve button in Slack",
            targets.len(),
            sent.precreated.len()
        );
    }
    targets.reverse(); // popped from the end: oldest first

    let driver = SlackDriver::new(&base_url);

    // First contact: every requester once, so that Sesame has looked each one up on Slack (a
    // `users.info` call, then cached), as in a workspace that has been running for a while.
    let warmup: Vec<Planned> = workspace
        .requesters
        .iter()
        .enumerate()
        .map(|(i, person)| Planned {
            at: Duration::from_millis(i as u64 * 10),
            kind: Kind::Command,
            request: Arc::new(SignedSlackRequest::command(
                &person.slack_id,
                CHANNEL,
                "",
                &slack.trigger_id(),
            )),
        })
        .collect();
    let outcomes = client_rt.block_on(run_schedule(&client, &base_url, warmup));
    let mut first: Vec<Duration> = outcomes.iter().map(|o| o.latency).collect();
    first.sort();
    println!(
        "first contact (users.info each): {} commands, p50 {:.2} ms, p99 {:.2} ms, errors {}",
        outcomes.len(),
        ms(quantile(&first, 0.5)),
        ms(quantile(&first, 0.99)),
        outcomes.iter().filter(|o| !o.ok).count()
    );
    drain(30);

    println!(
        "{:>6} {:>6} {:>8} {:>7} {:>7} {:>7} {:>6} {:>8} {:>7} {:>7}",
        "rate/s",
        "sent",
        "achieved",
        "p50 ms",
        "p99 ms",
        "max ms",
        "errors",
        "late p99",
        "backlog",
        "drain s"
    );
    let mut all_ok = true;
    let mut p99_at_500 = None;
    for (phase, (&rate, &count)) in settings.rates.iter().zip(&phase_counts).enumerate() {
        let plan = plan_phase(
            phase,
            rate,
            count,
            &workspace,
            &slack,
            &driver,
            &mut targets,
            &mut sent,
        );
        let offered = plan.len();
        let outcomes = client_rt.block_on(run_schedule(&client, &base_url, plan));
        let backlog = server_rt
            .block_on(app.store_for_tests().job_counts())
            .map(|c| c.pending)
            .unwrap_or_default();
        let errors = outcomes.iter().filter(|o| !o.ok).count();
        all_ok &= errors == 0;
        let mut latencies: Vec<Duration> = outcomes.iter().map(|o| o.latency).collect();
        latencies.sort();
        let mut late: Vec<Duration> = outcomes.iter().map(|o| o.late).collect();
        late.sort();
        let span = outcomes.iter().map(|o| o.done_at).max().unwrap_or_default();
        let achieved = (outcomes.len() - errors) as f64 / span.as_secs_f64().max(1e-9);
        let p99 = quantile(&latencies, 0.99);
        if rate == 500 {
            p99_at_500 = Some(p99);
        }
        // Let the dispatcher catch up before the next rate, so each rate starts from the same
        // place; how long that takes says how far behind the Slack messages are.
        let draining = Instant::now();
        drain(60);
        let drain_time = draining.elapsed().as_secs_f64();
        println!(
            "{:>6} {:>6} {:>8.0} {:>7.2} {:>7.2} {:>7.2} {:>6} {:>8.2} {:>7} {:>7.1}",
            rate,
            offered,
            achieved,
            ms(quantile(&latencies, 0.5)),
            ms(p99),
            ms(quantile(&latencies, 1.0)),
            errors,
            ms(quantile(&late, 0.99)),
            backlog,
            drain_time,
        );
        let mut by_kind: BTreeMap<Kind, Vec<Duration>> = BTreeMap::new();
        for o in &outcomes {
            by_kind.entry(o.kind).or_default().push(o.latency);
        }
        let parts: Vec<String> = by_kind
            .iter_mut()
            .map(|(kind, samples)| {
                samples.sort();
                format!(
                    "{} {} p50 {:.1}/p99 {:.1}",
                    kind.name(),
                    samples.len(),
                    ms(quantile(samples, 0.5)),
                    ms(quantile(samples, 0.99))
                )
            })
            .collect();
        println!("         {}", parts.join("; "));
    }

    let drained = !settings.dispatcher || drain(120);
    let checks = server_rt.block_on(check(&app, &sent, &slack, &workspace));
    all_ok &= checks && drained;
    if let Some(p99) = p99_at_500 {
        let met = p99 < Duration::from_millis(50);
        println!(
            "target: p99 under 50 ms at 500 requests/s: {} ({:.2} ms)",
            if met { "met" } else { "NOT met" },
            ms(p99)
        );
    }
    println!("({label} took {:.0} s)", started.elapsed().as_secs_f64());

    let _ = stop.send(true);
    let _ = server_rt.block_on(server);
    drop(slack);
    all_ok
}

/// Files `count` badge requests through the REST API, round robin over the requesters.
async fn precreate(
    client: &reqwest::Client,
    base_url: &str,
    tokens: &[(String, String)],
    count: usize,
) -> BTreeMap<i64, String> {
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let tokens = Arc::new(tokens.to_vec());
    let mut workers = Vec::new();
    for _ in 0..16 {
        let (client, next, tokens, base) = (
            client.clone(),
            next.clone(),
            tokens.clone(),
            base_url.to_owned(),
        );
        workers.push(tokio::spawn(async move {
            let mut filed = Vec::new();
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= count {
                    return filed;
                }
                let (who, token) = &tokens[i % tokens.len()];
                let created: Value = client
                    .post(format!("{base}/api/v1/requests"))
                    .bearer_auth(token)
                    .json(&json!({ "flow": "badge", "answers": { "floor": "2" } }))
                    .send()
                    .await
                    .expect("Sesame answers")
                    .json()
                    .await
                    .expect("a JSON answer");
                let number = created["number"]
                    .as_i64()
                    .unwrap_or_else(|| panic!("a request number in {created}"));
                filed.push((number, who.clone()));
            }
        }));
    }
    let mut all = BTreeMap::new();
    for worker in workers {
        all.extend(worker.await.expect("a filing worker"));
    }
    all
}

/// Waits until the outbox has nothing pending (the dispatcher delivered everything); false when it
/// did not within `limit`.
async fn wait_for_outbox(app: &App, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        match app.store_for_tests().job_counts().await {
            Ok(counts) if counts.pending == 0 => return true,
            _ if Instant::now() > deadline => return false,
            _ => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
}

/// The Approve buttons in the managers' direct messages, by request number.
fn approve_buttons(slack: &FakeSlack, managers: &[LoadPerson]) -> HashMap<i64, ApproveButton> {
    let mut found = HashMap::new();
    for manager in managers {
        for message in slack.messages_in(&manager.dm()) {
            for block in &message.blocks {
                let elements = block["elements"].as_array().cloned().unwrap_or_default();
                for element in elements.iter().chain(std::iter::once(&block["accessory"])) {
                    if element["action_id"] != "sesame_approve" {
                        continue;
                    }
                    let value = element["value"].clone();
                    let Some(number) = value
                        .as_str()
                        .and_then(|v| v.split_once(':'))
                        .and_then(|(n, _)| n.parse().ok())
                    else {
                        continue;
                    };
                    found.insert(
                        number,
                        ApproveButton {
                            number,
                            manager: manager.slack_id.clone(),
                            channel: message.channel.clone(),
                            ts: message.ts.clone(),
                            block_id: block["block_id"].as_str().unwrap_or_default().to_owned(),
                            value,
                        },
                    );
                }
            }
        }
    }
    found
}

/// Approve buttons as the notifier would have posted them, for runs without the dispatcher.
fn built_buttons(
    precreated: &BTreeMap<i64, String>,
    workspace: &SlackLoadWorkspace,
) -> HashMap<i64, ApproveButton> {
    let slack_id = |id: &str| {
        workspace
            .everybody()
            .find(|p| p.id == id)
            .map(|p| p.slack_id.clone())
            .unwrap_or_default()
    };
    precreated
        .iter()
        .map(|(&number, requester)| {
            let manager = workspace
                .requesters
                .iter()
                .find(|p| &p.id == requester)
                .and_then(|p| p.manager.as_deref())
                .map(slack_id)
                .unwrap_or_default();
            let button = ApproveButton {
                number,
                channel: format!("D{manager}"),
                manager,
                ts: format!("1767603700.{number:06}"),
                block_id: String::from("sesame_decide"),
                value: json!(format!("{number}:0")),
            };
            (number, button)
        })
        .collect()
}

/// One rate's requests, signed now: of every ten, four slash commands, three Approve clicks and
/// three modal submissions; one submission in ten and one click in twenty is delivered again.
#[allow(clippy::too_many_arguments)]
fn plan_phase(
    phase: usize,
    rate: usize,
    count: usize,
    workspace: &SlackLoadWorkspace,
    slack: &FakeSlack,
    driver: &SlackDriver,
    targets: &mut Vec<ApproveButton>,
    sent: &mut Sent,
) -> Vec<Planned> {
    let interval = Duration::from_secs_f64(1.0 / rate as f64);
    let requesters = &workspace.requesters;
    let mut plan = Vec::with_capacity(count + count / 20);
    let (mut clicks, mut submissions) = (0usize, 0usize);
    for i in 0..count {
        let at = interval * i as u32;
        let person = &requesters[(i * 7 + phase) % requesters.len()];
        let slot = i % 10;
        if (4..7).contains(&slot) {
            if let Some(target) = targets.pop() {
                let payload = driver.block_actions(
                    &target.manager,
                    &slack.trigger_id(),
                    ClickedIn::Message {
                        channel: &target.channel,
                        ts: &target.ts,
                    },
                    json!({"action_id": "sesame_approve", "block_id": target.block_id, "type": "button", "value": target.value}),
                );
                let request = Arc::new(SignedSlackRequest::interaction(&payload));
                sent.clicked.push(target.number);
                clicks += 1;
                if clicks % RESEND_CLICK_EVERY == 0 {
                    sent.reclicks += 1;
                    plan.push(Planned {
                        at: at + Duration::from_millis(((i * 13) % 300) as u64),
                        kind: Kind::ClickAgain,
                        request: request.clone(),
                    });
                }
                plan.push(Planned {
                    at,
                    kind: Kind::Click,
                    request,
                });
                continue;
            }
        }
        if slot >= 7 {
            let typed = (i % 2 == 0).then_some("office badge please");
            let view = FakeView {
                id: format!("VLOAD{phase}X{i:06}"),
                hash: format!("{i}.hash"),
                view: json!({
                    "type": "modal",
                    "callback_id": "sesame_request",
                    "title": {"type": "plain_text", "text": "Office badge"},
                    "blocks": [],
                    "private_metadata": json!({"flow": "badge", "typed": typed}).to_string(),
                }),
                home_of: None,
                updates: 0,
            };
            let values = json!({"q_floor": {"sesame_answer": {"type": "static_select", "selected_option": {"value": "3"}}}});
            let payload = driver.view_submission(&person.slack_id, &view, values);
            let request = Arc::new(SignedSlackRequest::interaction(&payload));
            *sent.submissions_by.entry(person.id.clone()).or_default() += 1;
            sent.submissions += 1;
            sent.submissions_with_typed += usize::from(typed.is_some());
            submissions += 1;
            if submissions % RESEND_SUBMISSION_EVERY == 0 {
                sent.resubmissions += 1;
                // Half at once (racing the first delivery), half a little later.
                plan.push(Planned {
                    at: at + Duration::from_millis(if submissions % 20 == 0 { 0 } else { 200 }),
                    kind: Kind::SubmitAgain,
                    request: request.clone(),
                });
            }
            plan.push(Planned {
                at,
                kind: Kind::Submit,
                request,
            });
            continue;
        }
        let text = TYPED[i % TYPED.len()];
        plan.push(Planned {
            at,
            kind: Kind::Command,
            request: Arc::new(SignedSlackRequest::command(
                &person.slack_id,
                CHANNEL,
                text,
                &slack.trigger_id(),
            )),
        });
    }
    plan.sort_by_key(|p| p.at);
    plan
}

/// Sends every planned request at its time, whether or not earlier ones were answered (open
/// loop), and collects what happened.
async fn run_schedule(
    client: &reqwest::Client,
    base_url: &str,
    plan: Vec<Planned>,
) -> Vec<Outcome> {
    let start = tokio::time::Instant::now();
    let mut running = Vec::with_capacity(plan.len());
    for planned in plan {
        tokio::time::sleep_until(start + planned.at).await;
        let request = planned.request.build(client, base_url);
        running.push(tokio::spawn(async move {
            let sending = tokio::time::Instant::now();
            let late = sending.duration_since(start + planned.at);
            let answer = match request.send().await {
                Ok(response) => {
                    let status = response.status();
                    response.text().await.map(|body| (status, body))
                }
                Err(e) => Err(e),
            };
            let done = tokio::time::Instant::now();
            let ok = match &answer {
                Ok((status, body)) => {
                    let ok = planned.kind.acknowledged(*status, body);
                    if !ok {
                        eprintln!(
                            "{}: unexpected answer {status}: {body}",
                            planned.kind.name()
                        );
                    }
                    ok
                }
                Err(e) => {
                    eprintln!("{}: {e}", planned.kind.name());
                    false
                }
            };
            Outcome {
                kind: planned.kind,
                latency: done - sending,
                late,
                done_at: done - start,
                ok,
            }
        }));
    }
    let mut outcomes = Vec::with_capacity(running.len());
    for task in running {
        outcomes.push(task.await.expect("a request task"));
    }
    outcomes
}

/// Checks that nothing was lost or done twice; prints the figures.
async fn check(app: &App, sent: &Sent, slack: &FakeSlack, workspace: &SlackLoadWorkspace) -> bool {
    let mut ok = true;
    let mut report = |name: &str, expected: usize, found: usize| {
        let good = expected == found;
        ok &= good;
        println!(
            "  {:<58} expected {:>6}  found {:>6}  {}",
            name,
            expected,
            found,
            if good { "ok" } else { "FAILED" }
        );
    };
    println!("checks:");

    // Every request in the database.
    let mut requests = Vec::new();
    let mut before = None;
    loop {
        let page = app
            .store_for_tests()
            .list_requests(&RequestFilter {
                before,
                limit: 500,
                ..RequestFilter::default()
            })
            .await
            .expect("list requests");
        let Some(last) = page.last() else { break };
        before = Some(last.number);
        requests.extend(page);
    }
    let from_slack: Vec<_> = requests
        .iter()
        .filter(|r| !sent.precreated.contains_key(&r.number.0))
        .collect();
    report(
        "requests created by modal submissions",
        sent.submissions,
        from_slack.len(),
    );
    let mut by_requester: BTreeMap<String, usize> = BTreeMap::new();
    for r in &from_slack {
        *by_requester.entry(r.requester.to_string()).or_default() += 1;
    }
    let (mut lost, mut extra) = (0, 0);
    for person in &workspace.requesters {
        let expected = sent.submissions_by.get(&person.id).copied().unwrap_or(0);
        let found = by_requester.get(&person.id).copied().unwrap_or(0);
        lost += expected.saturating_sub(found);
        extra += found.saturating_sub(expected);
    }
    report("  per requester: submissions lost", 0, lost);
    report(
        &format!(
            "  per requester: duplicates ({} submissions delivered twice)",
            sent.resubmissions
        ),
        0,
        extra,
    );
    let choices = app
        .store_for_tests()
        .recent_match_choices(1_000_000)
        .await
        .map(|c| c.len())
        .unwrap_or_default();
    report(
        "typed text remembered for matching (once per modal)",
        sent.submissions_with_typed,
        choices,
    );

    // Every approval in the audit log.
    let mut approvals: HashMap<i64, usize> = HashMap::new();
    let mut after_id = None;
    loop {
        let page = app
            .store_for_tests()
            .audit(&AuditFilter {
                kind: Some(String::from("approval_given")),
                after_id,
                limit: 500,
                ..AuditFilter::default()
            })
            .await
            .expect("audit");
        let Some(last) = page.last() else { break };
        after_id = Some(last.id);
        for row in page {
            if let Some(number) = row.request {
                *approvals.entry(number.0).or_default() += 1;
            }
        }
    }
    let clicked: HashSet<i64> = sent.clicked.iter().copied().collect();
    let once = sent
        .clicked
        .iter()
        .filter(|n| approvals.get(n) == Some(&1))
        .count();
    let missing = sent
        .clicked
        .iter()
        .filter(|n| !approvals.contains_key(n))
        .count();
    let twice = approvals.values().filter(|&&c| c > 1).count();
    let unclicked = approvals.keys().filter(|n| !clicked.contains(n)).count();
    report(
        "clicked requests approved exactly once (audit)",
        sent.clicked.len(),
        once,
    );
    report("  clicks without an approval", 0, missing);
    report(
        &format!(
            "  requests approved twice ({} clicks delivered twice)",
            sent.reclicks
        ),
        0,
        twice,
    );
    report("  approvals nobody clicked", 0, unclicked);
    let moved_on = requests
        .iter()
        .filter(|r| clicked.contains(&r.number.0) && r.state.name() == "fulfilling")
        .count();
    report(
        "clicked requests now with facilities",
        sent.clicked.len(),
        moved_on,
    );
    let refusals = slack
        .ephemerals()
        .iter()
        .filter(|e| workspace.managers.iter().any(|m| m.slack_id == e.user))
        .count();
    report("refusals shown to approvers", 0, refusals);
    let dead = app
        .store_for_tests()
        .job_counts()
        .await
        .map(|c| c.dead as usize)
        .unwrap_or(usize::MAX);
    report("Slack messages given up (dead jobs)", 0, dead);
    ok
}
