//! Reading Slack's answer: its size, its envelope (`ok`, `error`, `warning`,
//! `response_metadata`), and what a transport failure means.

use super::{ApiError, SlackMethod};
use reqwest::StatusCode;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::Value;

/// A Slack answer larger than this is not one of the answers these methods give (a page of 200
/// messages with full Block Kit is well under a megabyte); reading stops rather than buffering it.
pub(super) const MAX_RESPONSE_BYTES: usize = 8 * 1024 * 1024;

/// Turns a response body into `R`, following Slack's envelope: `ok`, `error`, `warning` and
/// `response_metadata`.
pub(super) fn parse_answer<R: DeserializeOwned>(
    method: SlackMethod,
    status: StatusCode,
    bytes: &[u8],
) -> Result<R, ApiError> {
    let unexpected = |detail: String| ApiError::UnexpectedResponse {
        method,
        status: status.as_u16(),
        detail,
    };
    let answer: Value =
        serde_json::from_slice(bytes).map_err(|error| unexpected(format!("not JSON: {error}")))?;
    let envelope = Envelope::deserialize(&answer)
        .map_err(|error| unexpected(format!("not Slack's envelope: {error}")))?;
    if let Some(warning) = &envelope.warning {
        // Warnings (a deprecated argument, a missing charset) are worth fixing but not failing for.
        tracing::warn!(%method, %warning, warnings = ?envelope.response_metadata.warnings, "Slack warned");
    }
    if !envelope.ok {
        return Err(ApiError::Slack {
            method,
            code: envelope.error.unwrap_or_else(|| "unknown_error".to_owned()),
            messages: envelope.response_metadata.messages,
        });
    }
    if !status.is_success() {
        return Err(unexpected("ok: true with a non-success status".to_owned()));
    }
    serde_json::from_value(answer).map_err(|error| unexpected(format!("missing fields: {error}")))
}

/// Reads the body, giving up past [`MAX_RESPONSE_BYTES`] instead of buffering whatever arrives.
pub(super) async fn read_limited(
    mut response: reqwest::Response,
    method: SlackMethod,
) -> Result<Vec<u8>, ApiError> {
    let status = response.status().as_u16();
    let mut bytes = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|error| unavailable(method, &error))?
    {
        if bytes.len() + chunk.len() > MAX_RESPONSE_BYTES {
            return Err(ApiError::UnexpectedResponse {
                method,
                status,
                detail: format!("answer larger than {MAX_RESPONSE_BYTES} bytes"),
            });
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

/// A call that got no usable HTTP answer: refused connection, DNS, TLS, timeout, reset.
pub(super) fn unavailable(method: SlackMethod, error: &reqwest::Error) -> ApiError {
    let reason = if error.is_timeout() {
        "timed out".to_owned()
    } else {
        // reqwest's own message is terse ("error sending request"); the cause chain says why.
        let mut reason = error.to_string();
        let mut source = std::error::Error::source(error);
        while let Some(cause) = source {
            reason.push_str(": ");
            reason.push_str(&cause.to_string());
            source = cause.source();
        }
        reason
    };
    ApiError::Unavailable { method, reason }
}

#[derive(Deserialize)]
struct Envelope {
    ok: bool,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    warning: Option<String>,
    #[serde(default)]
    response_metadata: ResponseMetadata,
}

#[derive(Default, Deserialize)]
struct ResponseMetadata {
    #[serde(default)]
    messages: Vec<String>,
    #[serde(default)]
    warnings: Vec<String>,
}
