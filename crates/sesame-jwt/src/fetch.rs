//! Bounded JSON fetches: what the key cache reads key sets and OpenID metadata with, shared with
//! the OpenID Connect relying party for its discovery document and token endpoint, so that every
//! document from an identity provider is read with the same timeout and size limit.

use std::time::Duration;

/// Metadata, key sets and token responses are a few kilobytes.
pub const MAX_DOCUMENT_BYTES: usize = 1024 * 1024;
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a document could not be had, in words for a log line; it names the document (`what`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct FetchError(pub String);

/// `GET url` with [`FETCH_TIMEOUT`]; a non-2xx status is an error.
pub async fn get_json<T: serde::de::DeserializeOwned>(
    http: &reqwest::Client,
    url: &str,
    what: &str,
) -> Result<T, FetchError> {
    let response = http
        .get(url)
        .timeout(FETCH_TIMEOUT)
        .send()
        .await
        .map_err(|error| FetchError(format!("{what}: {}", describe(&error))))?;
    let status = response.status();
    if !status.is_success() {
        return Err(FetchError(format!("{what}: HTTP {}", status.as_u16())));
    }
    read_json(response, what).await
}

/// Reads a response's body as JSON, whatever its status, giving up past [`MAX_DOCUMENT_BYTES`]
/// while it streams rather than after buffering whatever arrives.
pub async fn read_json<T: serde::de::DeserializeOwned>(
    mut response: reqwest::Response,
    what: &str,
) -> Result<T, FetchError> {
    let too_large = || FetchError(format!("{what}: larger than {MAX_DOCUMENT_BYTES} bytes"));
    if response
        .content_length()
        .is_some_and(|length| length > MAX_DOCUMENT_BYTES as u64)
    {
        return Err(too_large());
    }
    let mut bytes = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|error| FetchError(format!("{what}: {}", describe(&error))))?
    {
        if bytes.len() + chunk.len() > MAX_DOCUMENT_BYTES {
            return Err(too_large());
        }
        bytes.extend_from_slice(&chunk);
    }
    serde_json::from_slice(&bytes)
        .map_err(|error| FetchError(format!("{what}: not the expected JSON: {error}")))
}

/// reqwest's own message is terse ("error sending request"); the cause chain says why.
fn describe(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        return "timed out".to_owned();
    }
    let mut reason = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        reason.push_str(": ");
        reason.push_str(&cause.to_string());
        source = cause.source();
    }
    reason
}
