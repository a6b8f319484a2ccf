//! Slack Socket Mode: the client in `sesame-slack` against the fake Slack's WebSocket, with a small
//! handler standing in for the real ones.

use secrecy::SecretString;
use serde_json::json;
use sesame_slack::socket::{
    SocketAnswer, SocketHandler, SocketMode, SocketModeError, SocketRequest,
};
use sesame_testkit::fake_slack::{FakeSlack, InjectedFailure};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

const APP_TOKEN: &str = "xapp-1-AFAKEAPP1-1000-fakesocketmodetoken";
/// How long a test waits for something that should happen at once; only reached on failure.
const WAIT: Duration = Duration::from_secs(10);

/// Reports every request as it starts, and answers by kind. A request whose payload has
/// `"hold": true` waits until the test releases held requests.
struct Recorder {
    seen: mpsc::UnboundedSender<SocketRequest>,
    released: watch::Receiver<bool>,
}

#[async_trait::async_trait]
impl SocketHandler for Recorder {
    async fn handle(&self, request: SocketRequest) -> SocketAnswer {
        let _ = self.seen.send(request.clone());
        let (SocketRequest::Events(payload)
        | SocketRequest::SlashCommand(payload)
        | SocketRequest::Interactive(payload)) = &request;
        if payload["hold"] == true {
            let _ = self.released.clone().wait_for(|released| *released).await;
        }
        if payload["refuse"] == true {
            return SocketAnswer::Unacknowledged;
        }
        SocketAnswer::Ack(Some(match request {
            // Slack reads no payload for events, so the client must drop this.
            SocketRequest::Events(_) => json!({ "dropped": true }),
            SocketRequest::SlashCommand(fields) => json!({
                "response_type": "ephemeral",
                "text": format!("you said {}", fields["text"].as_str().unwrap_or("")),
            }),
            SocketRequest::Interactive(_) => json!({ "response_action": "clear" }),
        }))
    }
}

struct Running {
    slack: FakeSlack,
    seen: mpsc::UnboundedReceiver<SocketRequest>,
    release: watch::Sender<bool>,
    shutdown: watch::Sender<bool>,
    task: JoinHandle<Result<(), SocketModeError>>,
}

fn client(slack: &FakeSlack, token: &str) -> SocketMode {
    SocketMode::new(
        slack.base_url(),
        SecretString::from(token.to_owned()),
        reqwest::Client::new(),
    )
    .expect("the fake's base URL is valid")
    .with_backoff(Duration::from_millis(10), Duration::from_millis(200))
    .with_connect_timeout(Duration::from_secs(5))
}

fn recorder() -> (
    Arc<Recorder>,
    mpsc::UnboundedReceiver<SocketRequest>,
    watch::Sender<bool>,
) {
    let (seen, seen_rx) = mpsc::unbounded_channel();
    let (release, released) = watch::channel(false);
    (Arc::new(Recorder { seen, released }), seen_rx, release)
}

/// A fake with Socket Mode on and a client serving it; `configure` adjusts the client.
async fn start_with(slack: FakeSlack, configure: impl FnOnce(SocketMode) -> SocketMode) -> Running {
    slack.enable_socket_mode(APP_TOKEN);
    let (handler, seen, release) = recorder();
    let (shutdown, stop) = watch::channel(false);
    let socket = configure(client(&slack, APP_TOKEN));
    let task = tokio::spawn(socket.serve(handler, stop));
    Running {
        slack,
        seen,
        release,
        shutdown,
        task,
    }
}

async fn start() -> Running {
    let running = start_with(FakeSlack::start().await, |socket| socket).await;
    assert!(
        running
            .slack
            .wait_for_socket(WAIT, |status| status.live_connections == 1)
            .await,
        "connected: {:?}",
        running.slack.socket_status()
    );
    running
}

/// The next request the handler saw.
async fn next_seen(seen: &mut mpsc::UnboundedReceiver<SocketRequest>) -> SocketRequest {
    tokio::time::timeout(WAIT, seen.recv())
        .await
        .expect("the handler was called in time")
        .expect("the handler is alive")
}

impl Running {
    /// Stops the client and returns how `serve` ended.
    async fn stop(self) -> (FakeSlack, Result<(), SocketModeError>) {
        let _ = self.shutdown.send(true);
        let outcome = tokio::time::timeout(WAIT, self.task)
            .await
            .expect("serve returns after shutdown")
            .expect("serve does not panic");
        (self.slack, outcome)
    }
}

fn assert_clean(slack: &FakeSlack) {
    let status = slack.socket_status();
    assert!(status.lost.is_empty(), "lost envelopes: {status:?}");
    assert!(
        status.protocol_errors.is_empty(),
        "protocol errors: {status:?}"
    );
}

#[tokio::test]
async fn socket_mode_delivers_each_kind_to_the_handler_and_acknowledges_with_its_answer() {
    let mut run = start().await;
    let slack = &run.slack;

    let slash = json!({ "command": "/access", "text": "list", "user_id": "U0ALICE" });
    let id = slack.socket_send("slash_commands", slash.clone());
    assert_eq!(
        slack.socket_ack(&id, WAIT).await,
        Some(json!({ "response_type": "ephemeral", "text": "you said list" }))
    );
    let interaction = json!({ "type": "view_submission", "view": { "id": "V1" } });
    let id = slack.socket_send("interactive", interaction.clone());
    assert_eq!(
        slack.socket_ack(&id, WAIT).await,
        Some(json!({ "response_action": "clear" }))
    );
    let event = json!({ "type": "event_callback", "event": { "type": "app_home_opened" } });
    let id = slack.socket_send("events_api", event.clone());
    // Events API envelopes take no payload: the handler's answer is not sent.
    assert_eq!(slack.socket_ack(&id, WAIT).await, Some(json!({})));

    // An envelope of a type nobody handles is acknowledged, and the handler never sees it.
    let id = slack.socket_send("workflow_step_execute", json!({ "step": 1 }));
    assert_eq!(slack.socket_ack(&id, WAIT).await, Some(json!({})));
    // Malformed frames are ignored, and the connection goes on.
    slack.socket_send_raw("this is not JSON");
    slack.socket_send_raw(r#"{"no": "type"}"#);
    slack.socket_send_raw(r#"{"type": "events_api", "envelope_id": 42}"#);
    let last = json!({ "type": "block_actions", "actions": [] });
    let id = slack.socket_send("interactive", last.clone());
    assert_eq!(
        slack.socket_ack(&id, WAIT).await,
        Some(json!({ "response_action": "clear" }))
    );

    assert_eq!(
        next_seen(&mut run.seen).await,
        SocketRequest::SlashCommand(slash)
    );
    assert_eq!(
        next_seen(&mut run.seen).await,
        SocketRequest::Interactive(interaction)
    );
    assert_eq!(next_seen(&mut run.seen).await, SocketRequest::Events(event));
    assert_eq!(
        next_seen(&mut run.seen).await,
        SocketRequest::Interactive(last)
    );

    // Slack's pings are answered.
    slack.socket_ping();
    assert!(
        slack
            .wait_for_socket(WAIT, |status| status.pongs >= 1)
            .await
    );

    let status = slack.socket_status();
    assert_eq!(status.connections_opened, 1);
    assert_clean(slack);
    let opens = slack.calls_to("apps.connections.open");
    assert_eq!(opens.len(), 1);
    assert!(opens[0].response["url"]
        .as_str()
        .is_some_and(|url| url.starts_with("ws://127.0.0.1:")));

    let (slack, outcome) = run.stop().await;
    assert_eq!(outcome, Ok(()));
    assert!(
        slack
            .wait_for_socket(WAIT, |s| s.live_connections == 0)
            .await
    );
}

#[tokio::test]
async fn a_slow_handler_is_acknowledged_in_time_without_its_answer_and_holds_up_nothing() {
    let slack = FakeSlack::start().await;
    let mut run = start_with(slack, |socket| {
        socket.with_ack_deadline(Duration::from_millis(1000))
    })
    .await;
    let slack = &run.slack;
    let slow = slack.socket_send(
        "interactive",
        json!({ "type": "view_submission", "hold": true }),
    );
    assert!(matches!(
        next_seen(&mut run.seen).await,
        SocketRequest::Interactive(_)
    ));
    let quick = slack.socket_send("slash_commands", json!({ "text": "quick" }));
    assert_eq!(
        slack.socket_ack(&quick, WAIT).await,
        Some(json!({ "response_type": "ephemeral", "text": "you said quick" }))
    );
    // The held handler never answers; the acknowledgement goes without it, before Slack's
    // three seconds.
    assert_eq!(slack.socket_ack(&slow, WAIT).await, Some(json!({})));
    let acks = slack.socket_acks();
    assert_eq!(acks[0].envelope_id, quick, "{acks:?}");
    assert!(acks[1].after >= Duration::from_millis(1000), "{acks:?}");
    assert_clean(slack);

    // Released late, its answer is dropped: there is no second acknowledgement.
    let _ = run.release.send(true);
    let (slack, outcome) = run.stop().await;
    assert_eq!(outcome, Ok(()));
    assert_eq!(slack.socket_acks().len(), 2);
    assert_clean(&slack);
}

#[tokio::test]
async fn a_refresh_connects_the_successor_first_and_loses_no_envelope() {
    let slack = FakeSlack::start().await;
    let mut run = start_with(slack, |socket| {
        // The held envelope must keep its answer however slow this machine is.
        socket.with_ack_deadline(Duration::from_secs(30))
    })
    .await;
    let slack = &run.slack;
    assert!(
        slack
            .wait_for_socket(WAIT, |s| s.live_connections == 1)
            .await
    );

    let held = slack.socket_send(
        "interactive",
        json!({ "type": "block_actions", "hold": true }),
    );
    next_seen(&mut run.seen).await;
    slack.socket_disconnect("refresh_requested");
    assert!(
        slack
            .wait_for_socket(WAIT, |s| s.connections_opened == 2)
            .await,
        "a successor: {:?}",
        slack.socket_status()
    );
    // The old connection is still open: it has an envelope to acknowledge.
    assert_eq!(slack.socket_status().live_connections, 2);

    let fresh = slack.socket_send("slash_commands", json!({ "text": "after refresh" }));
    assert_eq!(
        slack.socket_ack(&fresh, WAIT).await,
        Some(json!({ "response_type": "ephemeral", "text": "you said after refresh" }))
    );
    let _ = run.release.send(true);
    assert_eq!(
        slack.socket_ack(&held, WAIT).await,
        Some(json!({ "response_action": "clear" }))
    );
    let acks = slack.socket_acks();
    assert_ne!(acks[0].connection, acks[1].connection, "{acks:?}");

    // Having acknowledged everything, the old connection closes itself.
    assert!(
        slack
            .wait_for_socket(WAIT, |s| s.live_connections == 1)
            .await,
        "{:?}",
        slack.socket_status()
    );
    assert_clean(slack);
    assert_eq!(slack.calls_to("apps.connections.open").len(), 2);
    let (_, outcome) = run.stop().await;
    assert_eq!(outcome, Ok(()));
}

#[tokio::test]
async fn an_envelope_the_handler_could_not_take_in_is_left_for_slack_to_send_again() {
    let mut run = start().await;
    let slack = &run.slack;
    let refused = slack.socket_send(
        "events_api",
        json!({ "type": "event_callback", "refuse": true }),
    );
    next_seen(&mut run.seen).await;
    let taken = slack.socket_send("events_api", json!({ "type": "event_callback" }));
    assert_eq!(slack.socket_ack(&taken, WAIT).await, Some(json!({})));
    assert_eq!(
        slack.socket_ack(&refused, Duration::from_millis(300)).await,
        None,
        "not acknowledged"
    );
    let (_, outcome) = run.stop().await;
    assert_eq!(outcome, Ok(()));
}

#[tokio::test]
async fn a_dropped_connection_is_replaced() {
    let run = start().await;
    let slack = &run.slack;
    slack.socket_drop_connections();
    assert!(
        slack
            .wait_for_socket(WAIT, |s| s.connections_opened == 2
                && s.live_connections == 1)
            .await,
        "{:?}",
        slack.socket_status()
    );
    let id = slack.socket_send("events_api", json!({ "type": "event_callback" }));
    assert_eq!(slack.socket_ack(&id, WAIT).await, Some(json!({})));
    assert_eq!(slack.calls_to("apps.connections.open").len(), 2);
    assert_clean(slack);
    let (_, outcome) = run.stop().await;
    assert_eq!(outcome, Ok(()));
}

#[tokio::test]
async fn rate_limits_server_errors_and_passing_slack_errors_are_retried() {
    let slack = FakeSlack::start().await;
    slack.rate_limit_next("apps.connections.open", 1, 0);
    slack.fail_next("apps.connections.open", 1, InjectedFailure::HttpStatus(503));
    slack.fail_next(
        "apps.connections.open",
        1,
        InjectedFailure::SlackError("internal_error".into()),
    );
    let run = start_with(slack, |socket| socket).await;
    let slack = &run.slack;
    assert!(
        slack
            .wait_for_socket(WAIT, |s| s.live_connections == 1)
            .await
    );
    let statuses: Vec<_> = slack
        .calls_to("apps.connections.open")
        .iter()
        .map(|call| (call.status, call.error().map(str::to_owned)))
        .collect();
    assert_eq!(
        statuses,
        vec![
            (429, Some("ratelimited".to_owned())),
            (503, None),
            (200, Some("internal_error".to_owned())),
            (200, None),
        ]
    );
    let (_, outcome) = run.stop().await;
    assert_eq!(outcome, Ok(()));
}

#[tokio::test]
async fn a_wrong_app_token_stops_with_a_clear_error_instead_of_looping() {
    let slack = FakeSlack::start().await;
    slack.enable_socket_mode(APP_TOKEN);
    let (handler, _seen, _release) = recorder();
    let (_shutdown, stop) = watch::channel(false);

    let wrong = "xapp-1-AFAKEAPP1-1000-wrongwrongwrong";
    let outcome = tokio::time::timeout(
        WAIT,
        client(&slack, wrong).serve(handler.clone(), stop.clone()),
    )
    .await
    .expect("serve gives up at once");
    let error = outcome.expect_err("a wrong token is refused");
    assert_eq!(
        error,
        SocketModeError::Refused {
            code: "invalid_auth".into()
        }
    );
    let message = error.to_string();
    assert!(message.contains("connections:write"), "{message}");
    assert!(!message.contains(wrong), "{message}");
    assert_eq!(slack.calls_to("apps.connections.open").len(), 1);

    // The bot token is the wrong kind of token.
    let outcome = tokio::time::timeout(
        WAIT,
        client(&slack, &slack.bot_token()).serve(handler.clone(), stop.clone()),
    )
    .await
    .expect("serve gives up at once");
    assert_eq!(
        outcome,
        Err(SocketModeError::Refused {
            code: "not_allowed_token_type".into()
        })
    );

    // `run`, which only logs the error, returns too.
    tokio::time::timeout(WAIT, client(&slack, wrong).run(handler, stop))
        .await
        .expect("run returns");
    assert_eq!(slack.calls_to("apps.connections.open").len(), 3);
    assert_eq!(slack.socket_status().connections_opened, 0);
}

#[tokio::test]
async fn link_disabled_stops_socket_mode() {
    let run = start().await;
    run.slack.socket_disconnect("link_disabled");
    let outcome = tokio::time::timeout(WAIT, run.task)
        .await
        .expect("serve stops")
        .expect("serve does not panic");
    assert_eq!(outcome, Err(SocketModeError::LinkDisabled));
    assert!(
        run.slack
            .wait_for_socket(WAIT, |s| s.live_connections == 0)
            .await
    );
    assert_eq!(run.slack.calls_to("apps.connections.open").len(), 1);
}

#[tokio::test]
async fn shutdown_ends_run_after_acknowledging_what_it_took() {
    let slack = FakeSlack::start().await;
    slack.enable_socket_mode(APP_TOKEN);
    let (handler, mut seen, release) = recorder();
    let (shutdown, stop) = watch::channel(false);
    let socket = client(&slack, APP_TOKEN).with_ack_deadline(Duration::from_secs(30));
    let task = tokio::spawn(socket.run(handler, stop));
    assert!(
        slack
            .wait_for_socket(WAIT, |s| s.live_connections == 1)
            .await
    );

    let held = slack.socket_send("slash_commands", json!({ "text": "held", "hold": true }));
    next_seen(&mut seen).await;
    shutdown.send(true).expect("run is listening");
    let _ = release.send(true);
    tokio::time::timeout(WAIT, task)
        .await
        .expect("run returns after shutdown")
        .expect("run does not panic");
    assert_eq!(
        slack.socket_ack(&held, Duration::ZERO).await,
        Some(json!({ "response_type": "ephemeral", "text": "you said held" }))
    );
    assert!(
        slack
            .wait_for_socket(WAIT, |s| s.live_connections == 0)
            .await
    );
    assert_clean(&slack);
}

#[tokio::test]
async fn shutdown_ends_run_while_it_waits_to_reconnect() {
    let slack = FakeSlack::start().await;
    slack.enable_socket_mode(APP_TOKEN);
    let (handler, _seen, _release) = recorder();
    let (shutdown, stop) = watch::channel(false);
    // A connection that drops at once is replaced only after the backoff: a minute here.
    let socket =
        client(&slack, APP_TOKEN).with_backoff(Duration::from_secs(60), Duration::from_secs(60));
    let task = tokio::spawn(socket.run(handler, stop));
    assert!(
        slack
            .wait_for_socket(WAIT, |s| s.live_connections == 1)
            .await
    );
    slack.socket_drop_connections();
    assert!(
        slack
            .wait_for_socket(WAIT, |s| s.live_connections == 0)
            .await
    );
    shutdown.send(true).expect("run is listening");
    tokio::time::timeout(WAIT, task)
        .await
        .expect("run returns during its backoff")
        .expect("run does not panic");
    assert_eq!(slack.calls_to("apps.connections.open").len(), 1);
}
