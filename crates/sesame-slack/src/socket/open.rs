//! `apps.connections.open`: trades the app-level token (`xapp-…`) for a one-off WebSocket URL.
//!
//! The token goes in the `Authorization` header (Slack refuses it as a POST parameter). The URL
//! that comes back carries a ticket and is as secret as the token, so neither is ever logged.

use reqwest::header::{HeaderMap, CONTENT_TYPE, RETRY_AFTER};
use reqwest::{StatusCode, Url};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use std::time::Duration;

pub(super) const METHOD: &str = "apps.connections.open";

/// Why no URL came back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum OpenError {
    /// Slack refused the token or the app (`invalid_auth`, `not_allowed_token_type`,
    /// `missing_scope`, ...): asking again cannot help until a person changes something.
    Refused { code: String },
    /// Rate limited, Slack in trouble, or the network: try again after `after` (Slack's
    /// `Retry-After`) or the backoff's wait.
    Retry {
        after: Option<Duration>,
        reason: String,
    },
}

/// Slack error codes after which asking again later may work. Everything else is a setting a
/// person must fix, and retrying would only hide it behind a loop of log lines.
const RETRYABLE_CODES: &[&str] = &[
    "ratelimited",
    "rate_limited",
    "internal_error",
    "fatal_error",
    "service_unavailable",
    "request_timeout",
    "team_added_to_org",
];

#[derive(Deserialize)]
struct Answer {
    ok: bool,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    error: Option<String>,
}

/// Asks Slack for a WebSocket URL.
pub(super) async fn open_url(
    http: &reqwest::Client,
    base_url: &Url,
    app_token: &SecretString,
    timeout: Duration,
) -> Result<String, OpenError> {
    let url = base_url.join(METHOD).map_err(|error| OpenError::Retry {
        after: None,
        reason: format!("cannot build the method URL: {error}"),
    })?;
    let response = http
        .post(url)
        .bearer_auth(app_token.expose_secret())
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body("")
        .timeout(timeout)
        .send()
        .await
        .map_err(|error| retry(format!("cannot reach Slack: {}", describe(&error))))?;
    let status = response.status();
    if status == StatusCode::TOO_MANY_REQUESTS {
        return Err(OpenError::Retry {
            after: Some(retry_after(response.headers())),
            reason: "rate limited (HTTP 429)".to_owned(),
        });
    }
    if status.is_server_error() {
        return Err(retry(format!("HTTP {status}")));
    }
    let body = response
        .bytes()
        .await
        .map_err(|error| retry(format!("answer cut off: {}", describe(&error))))?;
    read_answer(status, &body)
}

fn read_answer(status: StatusCode, body: &[u8]) -> Result<String, OpenError> {
    let answer: Answer = serde_json::from_slice(body)
        .map_err(|_| retry(format!("not Slack's JSON (HTTP {status})")))?;
    if !answer.ok {
        let code = answer.error.unwrap_or_else(|| "unknown_error".to_owned());
        if RETRYABLE_CODES.contains(&code.as_str()) {
            return Err(retry(format!("Slack answered {code}")));
        }
        return Err(OpenError::Refused { code });
    }
    match answer.url {
        Some(url) if url.starts_with("wss://") || url.starts_with("ws://") => Ok(url),
        Some(_) => Err(retry(
            "the URL Slack gave is not a WebSocket URL".to_owned(),
        )),
        None => Err(retry("Slack's answer has no URL".to_owned())),
    }
}

fn retry(reason: String) -> OpenError {
    OpenError::Retry {
        after: None,
        reason,
    }
}

/// A reqwest error without its URL (the base URL is not secret, but keeping URLs out of the
/// reason keeps every caller's logs uniform).
fn describe(error: &reqwest::Error) -> String {
    let kind = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "connection failed"
    } else {
        "request failed"
    };
    let mut text = kind.to_owned();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Slack sends whole seconds; anything else falls back to one second.
fn retry_after(headers: &HeaderMap) -> Duration {
    headers
        .get(RETRY_AFTER)
        .and_then(|value| value.to_str().ok())
        .and_then(|text| text.trim().parse::<u64>().ok())
        .map_or(Duration::from_secs(1), Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn read(body: &str) -> Result<String, OpenError> {
        read_answer(StatusCode::OK, body.as_bytes())
    }

    #[test]
    fn socket_open_answers_are_read() {
        assert_eq!(
            read(r#"{"ok":true,"url":"wss://wss-primary.slack.com/link/?ticket=t&app_id=A1"}"#),
            Ok("wss://wss-primary.slack.com/link/?ticket=t&app_id=A1".to_owned())
        );
        assert_eq!(
            read(r#"{"ok":true,"url":"ws://127.0.0.1:9/link/?ticket=t"}"#),
            Ok("ws://127.0.0.1:9/link/?ticket=t".to_owned())
        );
        for refused in [
            "invalid_auth",
            "not_authed",
            "not_allowed_token_type",
            "token_revoked",
            "missing_scope",
            "forbidden_team",
        ] {
            assert_eq!(
                read(&format!(r#"{{"ok":false,"error":"{refused}"}}"#)),
                Err(OpenError::Refused {
                    code: refused.to_owned()
                })
            );
        }
        for passing in ["ratelimited", "internal_error", "service_unavailable"] {
            assert!(matches!(
                read(&format!(r#"{{"ok":false,"error":"{passing}"}}"#)),
                Err(OpenError::Retry { after: None, .. })
            ));
        }
    }

    #[test]
    fn socket_open_odd_answers_are_retried() {
        for odd in [
            "<html>502</html>",
            r#"{"ok":true}"#,
            r#"{"ok":true,"url":"https://example.com/"}"#,
            "",
        ] {
            assert!(
                matches!(read(odd), Err(OpenError::Retry { .. })),
                "{odd:?} should be retried"
            );
        }
        assert_eq!(
            read(r#"{"ok":false}"#),
            Err(OpenError::Refused {
                code: "unknown_error".into()
            })
        );
    }

    #[test]
    fn socket_open_retry_after_is_read_in_seconds() {
        let mut headers = HeaderMap::new();
        assert_eq!(retry_after(&headers), Duration::from_secs(1));
        headers.insert(RETRY_AFTER, HeaderValue::from_static("42"));
        assert_eq!(retry_after(&headers), Duration::from_secs(42));
        headers.insert(RETRY_AFTER, HeaderValue::from_static("later"));
        assert_eq!(retry_after(&headers), Duration::from_secs(1));
    }
}
