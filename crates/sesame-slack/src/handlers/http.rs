//! The HTTP transport: `POST /slack/events`, `/slack/commands` and `/slack/interactivity`. The
//! signature is checked against the raw bytes before anything is parsed; a request that fails the
//! check, is too large or does not parse gets a 4xx and changes nothing.
//!
//! In-flight requests are bounded: past [`MAX_IN_FLIGHT`] at once, a request is answered 503 at
//! once, before its body is read, and nothing is written. Slack retries events that were not
//! acknowledged; a person whose click was refused clicks again. Without the bound an overload
//! queues without limit (every waiting request holds its connection and body) until memory runs
//! out; with it, memory stays flat and the requests that are taken in are answered in time.

use super::{Ack, SlackInbound};
use crate::inbound::{self, InboundError};
use crate::verify::verify;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use secrecy::ExposeSecret;
use std::sync::Arc;
use tokio::sync::Semaphore;

/// How many Slack requests are handled at once. Each waits at most for one group commit, so a few
/// hundred in flight carry tens of thousands a second; more would only queue.
pub const MAX_IN_FLIGHT: usize = 512;

/// The Slack routes, for the binary to mount beside the others.
pub fn routes(slack: Arc<SlackInbound>) -> Router {
    let routes = Router::new()
        .route("/slack/events", post(events))
        .route("/slack/commands", post(commands))
        .route("/slack/interactivity", post(interactivity))
        .layer(DefaultBodyLimit::max(inbound::MAX_BODY))
        .with_state(slack);
    bounded(routes, MAX_IN_FLIGHT)
}

/// `router` answering 503 to whatever arrives while `in_flight` requests are being handled.
fn bounded(router: Router, in_flight: usize) -> Router {
    let gate = Arc::new(Semaphore::new(in_flight));
    router.layer(middleware::from_fn(move |request, next| {
        shed(gate.clone(), request, next)
    }))
}

/// Lets a request through while fewer than the bound are in flight; answers 503 otherwise.
async fn shed(gate: Arc<Semaphore>, request: axum::extract::Request, next: Next) -> Response {
    let Ok(_permit) = gate.try_acquire_owned() else {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            [(axum::http::header::RETRY_AFTER, "1")],
            "busy; try again",
        )
            .into_response();
    };
    next.run(request).await
}

/// Why a request from "Slack" was not handled.
enum Refusal {
    Unsigned(crate::verify::SignatureError),
    Unreadable(InboundError),
    /// Our side failed (the database); Slack retries events that were not acknowledged.
    Internal(String),
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        match self {
            Refusal::Unsigned(e) => {
                tracing::warn!(error = %e, "refused a Slack request with a bad signature");
                (StatusCode::UNAUTHORIZED, "invalid Slack signature").into_response()
            }
            Refusal::Unreadable(InboundError::TooLarge { .. }) => {
                (StatusCode::PAYLOAD_TOO_LARGE, "the body is too large").into_response()
            }
            Refusal::Unreadable(e) => {
                tracing::info!(error = %e, "refused a Slack request that does not parse");
                (StatusCode::BAD_REQUEST, e.to_string()).into_response()
            }
            Refusal::Internal(problem) => {
                tracing::error!(%problem, "a Slack request failed");
                (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
            }
        }
    }
}

impl IntoResponse for Ack {
    fn into_response(self) -> Response {
        match self {
            Ack::Empty => StatusCode::OK.into_response(),
            Ack::Json(body) => Json(body).into_response(),
        }
    }
}

/// The Slack handlers, once the request is known to come from Slack.
fn verified(slack: &SlackInbound, headers: &HeaderMap, body: &[u8]) -> Result<(), Refusal> {
    inbound::check_size(body).map_err(Refusal::Unreadable)?;
    let secret = slack
        .signing_secret
        .as_ref()
        .map(|s| s.expose_secret().as_bytes())
        .unwrap_or_default();
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    // Real time, not the application's clock (which tests may move): the freshness check is about
    // when Slack signed the request.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    verify(
        secret,
        header("x-slack-request-timestamp"),
        header("x-slack-signature"),
        body,
        now,
    )
    .map_err(Refusal::Unsigned)
}

async fn events(
    State(slack): State<Arc<SlackInbound>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Ack, Refusal> {
    verified(&slack, &headers, &body)?;
    let request = inbound::parse_events(&body).map_err(Refusal::Unreadable)?;
    slack.events(request).await.map_err(Refusal::Internal)
}

async fn commands(
    State(slack): State<Arc<SlackInbound>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Ack, Refusal> {
    verified(&slack, &headers, &body)?;
    let command = inbound::parse_slash_command(&body).map_err(Refusal::Unreadable)?;
    Ok(slack.command(command).await)
}

async fn interactivity(
    State(slack): State<Arc<SlackInbound>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Ack, Refusal> {
    verified(&slack, &headers, &body)?;
    let interaction = inbound::parse_interaction(&body).map_err(Refusal::Unreadable)?;
    slack
        .interaction(interaction)
        .await
        .map_err(Refusal::Internal)
}

#[cfg(test)]
mod tests {
    use super::bounded;
    use axum::body::Body;
    use axum::http::{header, Request, StatusCode};
    use axum::routing::post;
    use axum::Router;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use tokio::sync::Notify;
    use tower::ServiceExt;

    fn post_to(path: &str) -> Request<Body> {
        Request::post(path).body(Body::from("x")).unwrap()
    }

    #[tokio::test]
    async fn past_the_bound_requests_are_refused_at_once_and_reach_nothing() {
        let handled = Arc::new(AtomicUsize::new(0));
        let release = Arc::new(Notify::new());
        let (counter, gate) = (handled.clone(), release.clone());
        let router = bounded(
            Router::new().route(
                "/slow",
                post(move || {
                    let (counter, gate) = (counter.clone(), gate.clone());
                    async move {
                        gate.notified().await;
                        counter.fetch_add(1, Ordering::SeqCst);
                        "done"
                    }
                }),
            ),
            1,
        );
        // The first request holds the only place until released.
        let first = tokio::spawn(router.clone().oneshot(post_to("/slow")));
        tokio::task::yield_now().await;
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        let refused = router.clone().oneshot(post_to("/slow")).await.unwrap();
        assert_eq!(refused.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(refused.headers()[header::RETRY_AFTER], "1");
        assert_eq!(
            handled.load(Ordering::SeqCst),
            0,
            "the refused request ran nothing"
        );
        release.notify_one();
        let first = first.await.unwrap().unwrap();
        assert_eq!(first.status(), StatusCode::OK);
        // Once the place is free, requests go through again.
        let next = tokio::spawn(router.oneshot(post_to("/slow")));
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        release.notify_one();
        assert_eq!(next.await.unwrap().unwrap().status(), StatusCode::OK);
        assert_eq!(handled.load(Ordering::SeqCst), 2);
    }
}
