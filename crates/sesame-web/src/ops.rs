//! Health, readiness and Prometheus metrics, and the middleware that measures every call.

use crate::WebState;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Instant;

pub fn routes() -> Router<WebState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
}

/// Alive: the process answers.
async fn healthz() -> &'static str {
    "ok"
}

/// Ready: the database answers and flows are loaded.
async fn readyz(State(state): State<WebState>) -> Response {
    match state.app.database_ready().await {
        Ok(()) if !state.app.catalog().is_empty() => "ready".into_response(),
        Ok(()) => (StatusCode::SERVICE_UNAVAILABLE, "no flows are loaded").into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "the database does not answer",
            )
                .into_response()
        }
    }
}

/// Prometheus metrics; behind a bearer token when `[server] metrics_token` is set (queue sizes and
/// call counts tell an outsider more than they should).
async fn metrics(State(state): State<WebState>, headers: axum::http::HeaderMap) -> Response {
    if let Some(expected) = &state.metrics_token {
        if !crate::auth::bearer_is(&headers, expected) {
            return (
                StatusCode::UNAUTHORIZED,
                [(header::WWW_AUTHENTICATE, "Bearer realm=\"sesame metrics\"")],
                "a bearer token is required for /metrics",
            )
                .into_response();
        }
    }
    let mut out = String::new();
    state.http.render(&mut out);
    state.app.metrics().render(&mut out);
    if let Ok(counts) = state.app.outbox_counts().await {
        let _ = writeln!(out, "# HELP sesame_outbox_jobs Jobs in the outbox, by status.\n# TYPE sesame_outbox_jobs gauge");
        let _ = writeln!(
            out,
            "sesame_outbox_jobs{{status=\"pending\"}} {}",
            counts.pending
        );
        let _ = writeln!(out, "sesame_outbox_jobs{{status=\"dead\"}} {}", counts.dead);
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], out).into_response()
}

/// Latency buckets in seconds, from 1 ms to 5 s.
const BUCKETS: [f64; 11] = [
    0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];

#[derive(Default)]
struct Series {
    count: u64,
    sum: f64,
    buckets: [u64; BUCKETS.len()],
}

/// Calls and latency per (method, route, status).
#[derive(Default)]
pub struct HttpMetrics {
    series: Mutex<BTreeMap<(String, String, u16), Series>>,
}

impl HttpMetrics {
    fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let mut series = self
            .series
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let s = series
            .entry((method.to_owned(), route.to_owned(), status))
            .or_default();
        s.count += 1;
        s.sum += seconds;
        for (i, limit) in BUCKETS.iter().enumerate() {
            if seconds <= *limit {
                s.buckets[i] += 1;
            }
        }
    }

    fn render(&self, out: &mut String) {
        let series = self
            .series
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let _ = writeln!(
            out,
            "# HELP sesame_http_request_duration_seconds HTTP calls by route and status."
        );
        let _ = writeln!(out, "# TYPE sesame_http_request_duration_seconds histogram");
        for ((method, route, status), s) in series.iter() {
            let labels = format!("method=\"{method}\",route=\"{route}\",status=\"{status}\"");
            for (i, limit) in BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "sesame_http_request_duration_seconds_bucket{{{labels},le=\"{limit}\"}} {}",
                    s.buckets[i]
                );
            }
            let _ = writeln!(
                out,
                "sesame_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
                s.count
            );
            let _ = writeln!(
                out,
                "sesame_http_request_duration_seconds_sum{{{labels}}} {}",
                s.sum
            );
            let _ = writeln!(
                out,
                "sesame_http_request_duration_seconds_count{{{labels}}} {}",
                s.count
            );
        }
    }
}

/// Measures every call by its route template (never the raw path, which would let callers create
/// unbounded series) and logs it.
pub async fn observe(State(state): State<WebState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().as_str().to_owned();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| String::from("unmatched"));
    let response = next.run(request).await;
    let elapsed = started.elapsed().as_secs_f64();
    let status = response.status().as_u16();
    state.http.observe(&method, &route, status, elapsed);
    tracing::debug!(%method, %route, status, ms = elapsed * 1000.0, "http");
    response
}
