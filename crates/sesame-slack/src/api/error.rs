//! How a Slack Web API call fails, and whether trying again can help. The outbox worker owns
//! retries: it turns a retryable error into a rescheduled job (at `retry_after` when there is one)
//! and a permanent one into a dead job an administrator can look at.

use super::SlackMethod;
use reqwest::header::{HeaderMap, RETRY_AFTER};
use sesame_core::ports::DeliveryError;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Slack answered `{"ok": false, "error": code}`.
    #[error("Slack refused {method}: {code}{}", describe_messages(.messages))]
    Slack {
        method: SlackMethod,
        code: String,
        /// Slack's `response_metadata.messages`, which explain `invalid_blocks` and
        /// `invalid_arguments`.
        messages: Vec<String>,
    },
    /// Slack answered HTTP 429; calls to this method (or channel) must wait `retry_after`.
    #[error("Slack rate-limited {method}; retry after {retry_after:?}")]
    RateLimited {
        method: SlackMethod,
        retry_after: Duration,
    },
    /// Sesame's own limiter held the call back before it was sent.
    #[error("{method} held back by the local rate limiter for {wait:?}")]
    Throttled { method: SlackMethod, wait: Duration },
    /// Slack could not be reached, timed out, or answered with a 5xx status. A timeout after the
    /// request was sent may still have taken effect on Slack's side.
    #[error("Slack unavailable for {method}: {reason}")]
    Unavailable { method: SlackMethod, reason: String },
    /// Slack answered with something that is not its envelope (an HTML error page, a truncated
    /// body, a success without the fields the method promises).
    #[error("unexpected answer from Slack to {method} (HTTP {status}): {detail}")]
    UnexpectedResponse {
        method: SlackMethod,
        status: u16,
        detail: String,
    },
}

/// Error codes after which the same call may succeed later. Everything else (invalid_auth,
/// account_inactive, token_revoked, missing_scope, channel_not_found, not_in_channel, is_archived,
/// invalid_blocks, msg_too_long, expired_trigger_id, user_not_found, ...) needs a person or a
/// different call, so retrying only delays the dead-letter entry that tells someone.
const RETRYABLE_SLACK_CODES: &[&str] = &[
    "ratelimited",
    "rate_limited",
    "internal_error",
    // "It's possible some aspect of the operation succeeded": a retried post may duplicate, which
    // the metadata tag on posts lets the worker detect.
    "fatal_error",
    "service_unavailable",
    "request_timeout",
    // The workspace is being migrated into an Enterprise Grid org; Slack asks to come back later.
    "team_added_to_org",
];

impl ApiError {
    pub fn method(&self) -> SlackMethod {
        match self {
            ApiError::Slack { method, .. }
            | ApiError::RateLimited { method, .. }
            | ApiError::Throttled { method, .. }
            | ApiError::Unavailable { method, .. }
            | ApiError::UnexpectedResponse { method, .. } => *method,
        }
    }

    /// Whether the same call may succeed if tried again later.
    pub fn is_retryable(&self) -> bool {
        match self {
            ApiError::Slack { code, .. } => RETRYABLE_SLACK_CODES.contains(&code.as_str()),
            ApiError::RateLimited { .. }
            | ApiError::Throttled { .. }
            | ApiError::Unavailable { .. } => true,
            // A proxy's error page or a body cut off mid-way is a passing fault far more often
            // than a permanent one; the outbox's attempt limit bounds the cost of being wrong.
            ApiError::UnexpectedResponse { .. } => true,
        }
    }

    /// How long to wait before trying again, when Slack or the limiter said.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            ApiError::RateLimited { retry_after, .. } => Some(*retry_after),
            ApiError::Throttled { wait, .. } => Some(*wait),
            _ => None,
        }
    }

    /// Slack's error code, for `ok: false` answers.
    pub fn slack_code(&self) -> Option<&str> {
        match self {
            ApiError::Slack { code, .. } => Some(code),
            _ => None,
        }
    }
}

/// What the outbox needs to know: try again (and when), or give up and tell an administrator.
impl From<ApiError> for DeliveryError {
    fn from(error: ApiError) -> DeliveryError {
        if let ApiError::RateLimited { retry_after, .. }
        | ApiError::Throttled {
            wait: retry_after, ..
        } = &error
        {
            return DeliveryError::Deferred {
                after: *retry_after,
                reason: error.to_string(),
            };
        }
        if error.is_retryable() {
            DeliveryError::Retry {
                after: error.retry_after(),
                reason: error.to_string(),
            }
        } else {
            DeliveryError::Permanent(error.to_string())
        }
    }
}

fn describe_messages(messages: &[String]) -> String {
    if messages.is_empty() {
        String::new()
    } else {
        format!(" ({})", messages.join("; "))
    }
}

/// The wait after a 429 without a usable `Retry-After`. Slack always sends the header, so this only
/// covers a proxy's or a load balancer's own 429.
pub(crate) const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(1);

/// Reads `Retry-After` as Slack sends it, a whole number of seconds. A missing, malformed or
/// HTTP-date value falls back to one second rather than failing the job.
pub(crate) fn retry_after_from(headers: &HeaderMap) -> Duration {
    headers
        .get(RETRY_AFTER)
        .and_then(|value| value.to_str().ok())
        .and_then(|text| text.trim().parse::<u64>().ok())
        .map(Duration::from_secs)
        .unwrap_or(DEFAULT_RETRY_AFTER)
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn slack(code: &str) -> ApiError {
        ApiError::Slack {
            method: SlackMethod::ChatPostMessage,
            code: code.to_owned(),
            messages: Vec::new(),
        }
    }

    #[test]
    fn slack_codes_are_classified() {
        for code in [
            "invalid_auth",
            "not_authed",
            "account_inactive",
            "token_revoked",
            "missing_scope",
            "channel_not_found",
            "not_in_channel",
            "is_archived",
            "invalid_blocks",
            "msg_too_long",
            "expired_trigger_id",
            "user_not_found",
            "some_code_slack_adds_next_year",
        ] {
            assert!(!slack(code).is_retryable(), "{code} should be permanent");
        }
        for code in [
            "ratelimited",
            "internal_error",
            "fatal_error",
            "service_unavailable",
            "request_timeout",
        ] {
            assert!(slack(code).is_retryable(), "{code} should be retryable");
        }
    }

    #[test]
    fn transport_failures_are_retryable_and_carry_their_wait() {
        let method = SlackMethod::ChatUpdate;
        let limited = ApiError::RateLimited {
            method,
            retry_after: Duration::from_secs(7),
        };
        assert!(limited.is_retryable());
        assert_eq!(limited.retry_after(), Some(Duration::from_secs(7)));
        let down = ApiError::Unavailable {
            method,
            reason: "HTTP 503".into(),
        };
        assert!(down.is_retryable());
        assert_eq!(down.retry_after(), None);
        assert_eq!(down.method(), method);
    }

    #[test]
    fn retry_after_accepts_seconds_and_defaults_to_one_second() {
        let mut headers = HeaderMap::new();
        assert_eq!(retry_after_from(&headers), DEFAULT_RETRY_AFTER);
        headers.insert(RETRY_AFTER, HeaderValue::from_static("30"));
        assert_eq!(retry_after_from(&headers), Duration::from_secs(30));
        headers.insert(RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(retry_after_from(&headers), DEFAULT_RETRY_AFTER);
        headers.insert(
            RETRY_AFTER,
            HeaderValue::from_static("Wed, 21 Oct 2026 07:28:00 GMT"),
        );
        assert_eq!(retry_after_from(&headers), DEFAULT_RETRY_AFTER);
        headers.insert(RETRY_AFTER, HeaderValue::from_static("-4"));
        assert_eq!(retry_after_from(&headers), DEFAULT_RETRY_AFTER);
    }

    #[test]
    fn errors_become_delivery_outcomes_for_the_outbox() {
        let limited = ApiError::RateLimited {
            method: SlackMethod::ChatPostMessage,
            retry_after: Duration::from_secs(30),
        };
        assert_eq!(
            DeliveryError::from(limited),
            DeliveryError::Deferred {
                after: Duration::from_secs(30),
                reason: "Slack rate-limited chat.postMessage; retry after 30s".into(),
            },
            "a rate limit is a wait, not a failure"
        );
        assert_eq!(
            DeliveryError::from(slack("channel_not_found")),
            DeliveryError::Permanent("Slack refused chat.postMessage: channel_not_found".into())
        );
        assert!(matches!(
            DeliveryError::from(slack("internal_error")),
            DeliveryError::Retry { after: None, .. }
        ));
    }

    #[test]
    fn messages_appear_in_the_error_text() {
        let error = ApiError::Slack {
            method: SlackMethod::ChatPostMessage,
            code: "invalid_blocks".into(),
            messages: vec!["[ERROR] must be less than 3001 characters".into()],
        };
        assert_eq!(
            error.to_string(),
            "Slack refused chat.postMessage: invalid_blocks ([ERROR] must be less than 3001 characters)"
        );
    }
}
