//! The client against a small scripted server: each test says what the "Slack" answers and checks
//! what the client sent and how it read the answer. The fuller fake (which checks what Slack
//! checks) lives in sesame-testkit and is tested against this client there.

use super::*;
use crate::ratelimit::RateLimiter;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode as AxumStatus};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use std::sync::Mutex;

const TOKEN: &str = "xoxb-test-token-123";

/// One canned answer.
#[derive(Clone)]
struct Answer {
    status: u16,
    headers: Vec<(&'static str, &'static str)>,
    body: String,
    delay: Duration,
}

impl Answer {
    fn json(body: Value) -> Answer {
        Answer {
            status: 200,
            headers: vec![("content-type", "application/json; charset=utf-8")],
            body: body.to_string(),
            delay: Duration::ZERO,
        }
    }

    fn status(status: u16, headers: Vec<(&'static str, &'static str)>, body: &str) -> Answer {
        Answer {
            status,
            headers,
            body: body.to_owned(),
            delay: Duration::ZERO,
        }
    }
}

/// What the server saw of one call.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    headers: HeaderMap,
    body: Value,
}

#[derive(Clone)]
struct Script {
    answer: Arc<Mutex<Answer>>,
    seen: Arc<Mutex<Vec<Seen>>>,
}

struct ScriptedSlack {
    base_url: String,
    script: Script,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for ScriptedSlack {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl ScriptedSlack {
    async fn start(answer: Answer) -> ScriptedSlack {
        let script = Script {
            answer: Arc::new(Mutex::new(answer)),
            seen: Arc::new(Mutex::new(Vec::new())),
        };
        let app = Router::new()
            .route("/api/{method}", post(answer_call))
            .with_state(script.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        ScriptedSlack {
            base_url: format!("http://127.0.0.1:{port}/api/"),
            script,
            server,
        }
    }

    fn set_answer(&self, answer: Answer) {
        *self.script.answer.lock().unwrap() = answer;
    }

    fn seen(&self) -> Vec<Seen> {
        self.script.seen.lock().unwrap().clone()
    }

    fn client(&self) -> SlackApi {
        SlackApi::new(
            &self.base_url,
            SecretString::from(TOKEN),
            reqwest::Client::new(),
        )
        .unwrap()
    }
}

async fn answer_call(
    State(script): State<Script>,
    Path(method): Path<String>,
    headers: HeaderMap,
    body: String,
) -> Response {
    let body = serde_json::from_str(&body).unwrap_or(Value::String(body));
    script.seen.lock().unwrap().push(Seen {
        method,
        headers,
        body,
    });
    let answer = script.answer.lock().unwrap().clone();
    tokio::time::sleep(answer.delay).await;
    let mut response = (
        AxumStatus::from_u16(answer.status).unwrap(),
        answer.body.clone(),
    )
        .into_response();
    for (name, value) in answer.headers {
        response
            .headers_mut()
            .insert(name, HeaderValue::from_static(value));
    }
    response
}

fn block() -> Value {
    json!({"type": "section", "text": {"type": "mrkdwn", "text": "Request #7"}})
}

#[tokio::test]
async fn post_message_sends_json_with_the_token_and_reads_channel_and_ts() {
    let slack = ScriptedSlack::start(Answer::json(json!({
        "ok": true, "channel": "D024BE91L", "ts": "1700000000.000100",
        "message": {"text": "Request #7"}
    })))
    .await;
    let metadata = MessageMetadata {
        event_type: "sesame_notice".into(),
        event_payload: json!({"request": 7, "purpose": "approver"}),
    };

    let posted = slack
        .client()
        .chat_post_message(
            "U024BE7LH",
            "Request #7",
            &[block()],
            Some("1699.1"),
            Some(&metadata),
        )
        .await
        .unwrap();

    assert_eq!(
        posted,
        Posted {
            channel: "D024BE91L".into(),
            ts: "1700000000.000100".into()
        }
    );
    let seen = slack.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].method, "chat.postMessage");
    assert_eq!(
        seen[0].headers["authorization"],
        format!("Bearer {TOKEN}").as_str()
    );
    assert_eq!(
        seen[0].headers["content-type"],
        "application/json; charset=utf-8"
    );
    assert_eq!(
        seen[0].body,
        json!({
            "channel": "U024BE7LH", "text": "Request #7", "blocks": [block()],
            "thread_ts": "1699.1",
            "metadata": {"event_type": "sesame_notice", "event_payload": {"request": 7, "purpose": "approver"}},
            "unfurl_links": false, "unfurl_media": false
        })
    );
}

#[tokio::test]
async fn optional_arguments_are_left_out_when_absent() {
    let slack = ScriptedSlack::start(Answer::json(
        json!({"ok": true, "channel": "C1", "ts": "1.2"}),
    ))
    .await;
    slack
        .client()
        .chat_post_message("C1", "hello", &[], None, None)
        .await
        .unwrap();
    let body = &slack.seen()[0].body;
    for absent in ["blocks", "thread_ts", "metadata"] {
        assert!(body.get(absent).is_none(), "{absent} sent: {body}");
    }
}

#[tokio::test]
async fn chat_update_always_sends_blocks_so_old_ones_never_linger() {
    let slack = ScriptedSlack::start(Answer::json(
        json!({"ok": true, "channel": "C1", "ts": "1.2", "text": "t"}),
    ))
    .await;
    let posted = slack
        .client()
        .chat_update("C1", "1.2", "Approved", &[])
        .await
        .unwrap();
    assert_eq!(posted.ts, "1.2");
    assert_eq!(
        slack.seen()[0].body,
        json!({"channel": "C1", "ts": "1.2", "text": "Approved", "blocks": []})
    );
}

#[tokio::test]
async fn ok_false_becomes_a_slack_error_with_its_code_and_messages() {
    let slack = ScriptedSlack::start(Answer::json(json!({
        "ok": false, "error": "invalid_blocks",
        "response_metadata": {"messages": ["[ERROR] must be less than 3001 characters [json-pointer:/blocks/0/text/text]"]}
    })))
    .await;
    let error = slack
        .client()
        .chat_post_message("C1", "x", &[block()], None, None)
        .await
        .unwrap_err();

    match &error {
        ApiError::Slack {
            method,
            code,
            messages,
        } => {
            assert_eq!(*method, SlackMethod::ChatPostMessage);
            assert_eq!(code, "invalid_blocks");
            assert_eq!(messages.len(), 1);
        }
        other => panic!("expected a Slack error, got {other:?}"),
    }
    assert!(!error.is_retryable());
    assert_eq!(error.slack_code(), Some("invalid_blocks"));
}

#[tokio::test]
async fn auth_errors_are_permanent() {
    let slack =
        ScriptedSlack::start(Answer::json(json!({"ok": false, "error": "invalid_auth"}))).await;
    let error = slack.client().auth_test().await.unwrap_err();
    assert_eq!(error.slack_code(), Some("invalid_auth"));
    assert!(!error.is_retryable());
}

#[tokio::test]
async fn http_429_reports_retry_after_without_retrying() {
    let slack = ScriptedSlack::start(Answer::status(
        429,
        vec![("retry-after", "7")],
        r#"{"ok":false,"error":"ratelimited"}"#,
    ))
    .await;
    let error = slack
        .client()
        .chat_update("C1", "1.2", "x", &[])
        .await
        .unwrap_err();

    assert!(matches!(
        error,
        ApiError::RateLimited { method: SlackMethod::ChatUpdate, retry_after } if retry_after == Duration::from_secs(7)
    ));
    assert!(error.is_retryable());
    assert_eq!(slack.seen().len(), 1, "the client must not retry by itself");
}

#[tokio::test]
async fn http_429_without_retry_after_waits_one_second() {
    let slack = ScriptedSlack::start(Answer::status(429, vec![], "")).await;
    let error = slack.client().users_info("U1").await.unwrap_err();
    assert_eq!(error.retry_after(), Some(Duration::from_secs(1)));
}

#[tokio::test]
async fn a_429_blocks_every_caller_sharing_the_limiter() {
    let slack = ScriptedSlack::start(Answer::status(429, vec![("retry-after", "30")], "")).await;
    let limiter = Arc::new(RateLimiter::new());
    let first = slack.client().with_rate_limiter(limiter.clone());
    let second = slack.client().with_rate_limiter(limiter);

    let error = first
        .chat_post_message("C1", "x", &[], None, None)
        .await
        .unwrap_err();
    assert!(matches!(error, ApiError::RateLimited { .. }));

    let held_back = second
        .chat_post_message("C1", "y", &[], None, None)
        .await
        .unwrap_err();
    match held_back {
        ApiError::Throttled { method, wait } => {
            assert_eq!(method, SlackMethod::ChatPostMessage);
            assert!(wait > Duration::from_secs(28), "wait {wait:?}");
        }
        other => panic!("expected Throttled, got {other:?}"),
    }
    assert_eq!(slack.seen().len(), 1, "a held-back call is never sent");
}

#[tokio::test]
async fn the_limiter_spaces_posts_to_one_channel() {
    let slack = ScriptedSlack::start(Answer::json(
        json!({"ok": true, "channel": "C1", "ts": "1.2"}),
    ))
    .await;
    let client = slack
        .client()
        .with_rate_limiter(Arc::new(RateLimiter::new()));
    client
        .chat_post_message("C1", "one", &[], None, None)
        .await
        .unwrap();
    let error = client
        .chat_post_message("C1", "two", &[], None, None)
        .await
        .unwrap_err();
    assert!(matches!(error, ApiError::Throttled { .. }));
    assert!(error.is_retryable());
    client
        .chat_post_message("C2", "elsewhere", &[], None, None)
        .await
        .unwrap();
}

#[tokio::test]
async fn server_errors_are_unavailable_and_retryable() {
    let slack = ScriptedSlack::start(Answer::status(503, vec![], "<html>down</html>")).await;
    let error = slack.client().users_info("U1").await.unwrap_err();
    assert!(matches!(&error, ApiError::Unavailable { reason, .. } if reason.contains("503")));
    assert!(error.is_retryable());
}

#[tokio::test]
async fn a_slow_answer_times_out_as_unavailable() {
    let mut answer = Answer::json(json!({"ok": true, "channel": "C1", "ts": "1.2"}));
    answer.delay = Duration::from_secs(5);
    let slack = ScriptedSlack::start(answer).await;
    let client = slack.client().with_call_timeout(Duration::from_millis(200));

    let started = Instant::now();
    let error = client
        .chat_post_message("C1", "x", &[], None, None)
        .await
        .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(3));
    assert!(matches!(&error, ApiError::Unavailable { reason, .. } if reason == "timed out"));
    assert!(error.is_retryable());
}

#[tokio::test]
async fn an_unreachable_slack_is_unavailable() {
    // Bind and drop a listener so the port is (almost certainly) closed.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let client = SlackApi::new(
        &format!("http://127.0.0.1:{port}/api/"),
        SecretString::from(TOKEN),
        reqwest::Client::new(),
    )
    .unwrap();
    let error = client.auth_test().await.unwrap_err();
    assert!(matches!(error, ApiError::Unavailable { .. }), "{error:?}");
}

#[tokio::test]
async fn an_answer_that_is_not_slacks_envelope_is_unexpected() {
    let slack = ScriptedSlack::start(Answer::status(200, vec![], "<html>proxy</html>")).await;
    let error = slack.client().auth_test().await.unwrap_err();
    assert!(matches!(
        error,
        ApiError::UnexpectedResponse { status: 200, .. }
    ));

    slack.set_answer(Answer::json(json!({"ok": true})));
    let error = slack
        .client()
        .views_open("trigger", &json!({}))
        .await
        .unwrap_err();
    assert!(
        matches!(&error, ApiError::UnexpectedResponse { detail, .. } if detail.contains("missing fields")),
        "{error:?}"
    );
}

#[tokio::test]
async fn an_oversized_answer_is_refused_without_buffering_it_all() {
    let huge = format!(
        r#"{{"ok":true,"messages":[],"padding":"{}"}}"#,
        "x".repeat(answer::MAX_RESPONSE_BYTES)
    );
    let slack = ScriptedSlack::start(Answer::status(200, vec![], &huge)).await;
    let query = HistoryQuery {
        oldest: None,
        limit: 10,
        cursor: None,
    };
    let error = slack
        .client()
        .conversations_history("C1", query)
        .await
        .unwrap_err();
    assert!(
        matches!(&error, ApiError::UnexpectedResponse { detail, .. } if detail.contains("larger than")),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_warning_does_not_fail_the_call() {
    let slack = ScriptedSlack::start(Answer::json(json!({
        "ok": true, "warning": "superfluous_charset", "channel": {"id": "D1"},
        "response_metadata": {"warnings": ["superfluous_charset"]}
    })))
    .await;
    let channel = slack
        .client()
        .conversations_open(&["U1", "U2"])
        .await
        .unwrap();
    assert_eq!(channel, "D1");
    assert_eq!(slack.seen()[0].body, json!({"users": "U1,U2"}));
}

#[tokio::test]
async fn users_info_reads_the_profile_and_tolerates_a_missing_email() {
    let slack = ScriptedSlack::start(Answer::json(json!({
        "ok": true,
        "user": {"id": "U1", "name": "alice", "deleted": false, "is_bot": false, "real_name": "Alice A",
                 "tz": "Europe/Paris", "profile": {"email": "alice@acme.test", "real_name": "Alice A"}}
    })))
    .await;
    let user = slack.client().users_info("U1").await.unwrap();
    assert_eq!(user.profile.email.as_deref(), Some("alice@acme.test"));
    assert_eq!(user.real_name.as_deref(), Some("Alice A"));
    assert!(!user.deleted);

    slack.set_answer(Answer::json(json!({
        "ok": true, "user": {"id": "U2", "deleted": true, "profile": {}}
    })));
    let user = slack.client().users_info("U2").await.unwrap();
    assert_eq!(user.profile.email, None);
    assert!(user.deleted);
}

#[tokio::test]
async fn views_open_returns_the_view_id_and_hash() {
    let slack = ScriptedSlack::start(Answer::json(json!({
        "ok": true, "view": {"id": "V1", "hash": "156.abc", "type": "modal"}
    })))
    .await;
    let view =
        json!({"type": "modal", "title": {"type": "plain_text", "text": "Request"}, "blocks": []});
    let opened = slack.client().views_open("12.34.ab", &view).await.unwrap();
    assert_eq!(
        opened,
        ViewHandle {
            id: "V1".into(),
            hash: "156.abc".into()
        }
    );
    assert_eq!(
        slack.seen()[0].body,
        json!({"trigger_id": "12.34.ab", "view": view})
    );

    slack
        .client()
        .views_update("V1", Some("156.abc"), &view)
        .await
        .unwrap();
    assert_eq!(
        slack.seen()[1].body,
        json!({"view_id": "V1", "hash": "156.abc", "view": view})
    );
}

#[tokio::test]
async fn find_tagged_message_walks_pages_until_the_tag_matches() {
    let slack = ScriptedSlack::start(Answer::json(json!({
        "ok": true,
        "messages": [
            {"ts": "3.0", "text": "other", "metadata": {"event_type": "sesame_notice", "event_payload": {"request": 8}}},
            {"ts": "2.0", "text": "untagged"}
        ],
        "has_more": true,
        "response_metadata": {"next_cursor": "page2"}
    })))
    .await;
    let client = slack.client();
    let wanted = |payload: &Value| payload["request"] == 7;

    // Page one has no match and points on; the scripted server repeats it, so the page budget
    // is what stops the search.
    let found = client
        .find_tagged_message("C1", Some("1.0"), "sesame_notice", wanted, 2)
        .await
        .unwrap();
    assert_eq!(found, None);
    let seen = slack.seen();
    assert_eq!(seen.len(), 2);
    assert_eq!(
        seen[0].body,
        json!({"channel": "C1", "limit": 100, "include_all_metadata": true, "oldest": "1.0"})
    );
    assert_eq!(seen[1].body["cursor"], "page2");

    slack.set_answer(Answer::json(json!({
        "ok": true,
        "messages": [{"ts": "4.0", "text": "yours", "metadata": {"event_type": "sesame_notice", "event_payload": {"request": 7}}}],
        "response_metadata": {"next_cursor": ""}
    })));
    let found = client
        .find_tagged_message("C1", None, "sesame_notice", wanted, 5)
        .await
        .unwrap()
        .expect("the tagged message");
    assert_eq!(found.ts, "4.0");
}

#[test]
fn debug_output_never_shows_the_token() {
    let client = SlackApi::new(
        SlackApi::DEFAULT_BASE_URL,
        SecretString::from(TOKEN),
        reqwest::Client::new(),
    )
    .unwrap();
    let debug = format!("{client:?}");
    assert!(!debug.contains(TOKEN), "{debug}");
    assert!(debug.contains("[redacted]"));
}

#[test]
fn base_urls_are_normalised_or_refused() {
    let client = |url: &str| SlackApi::new(url, SecretString::from(TOKEN), reqwest::Client::new());
    assert_eq!(
        client("https://slack.com/api").unwrap().base_url(),
        "https://slack.com/api/"
    );
    assert_eq!(
        client("http://127.0.0.1:9/api/").unwrap().base_url(),
        "http://127.0.0.1:9/api/"
    );
    for bad in [
        "",
        "slack.com/api",
        "ftp://slack.com/api/",
        "mailto:a@b",
        "https://slack.com/api/?x=1",
    ] {
        assert!(client(bad).is_err(), "{bad:?} accepted");
    }
}
