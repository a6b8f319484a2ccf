//! Small helpers every outbound call shares: reading a bounded body and describing a transport
//! failure with its cause chain.

/// Why a body could not be read.
#[derive(Debug)]
pub(crate) enum ReadError {
    TooLarge(usize),
    Transport(String),
}

/// Reads the body, giving up past `max` bytes instead of buffering whatever arrives.
pub(crate) async fn read_limited(
    mut response: reqwest::Response,
    max: usize,
) -> Result<Vec<u8>, ReadError> {
    let mut bytes = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|error| ReadError::Transport(describe(&error)))?
    {
        if bytes.len() + chunk.len() > max {
            return Err(ReadError::TooLarge(max));
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

/// reqwest's own message is terse ("error sending request"); the cause chain says why.
pub(crate) fn describe(error: &reqwest::Error) -> String {
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

/// The wait after a 429 without a usable `Retry-After`.
pub(crate) const DEFAULT_RETRY_AFTER: std::time::Duration = std::time::Duration::from_secs(1);

/// Reads `Retry-After` as a whole number of seconds; a missing, malformed or HTTP-date value falls
/// back to [`DEFAULT_RETRY_AFTER`] rather than failing.
pub(crate) fn retry_after_from(headers: &reqwest::header::HeaderMap) -> std::time::Duration {
    headers
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|value| value.to_str().ok())
        .and_then(|text| text.trim().parse::<u64>().ok())
        .map(std::time::Duration::from_secs)
        .unwrap_or(DEFAULT_RETRY_AFTER)
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderMap, HeaderValue, RETRY_AFTER};
    use std::time::Duration;

    #[test]
    fn retry_after_accepts_seconds_and_defaults_to_one_second() {
        let mut headers = HeaderMap::new();
        assert_eq!(retry_after_from(&headers), DEFAULT_RETRY_AFTER);
        headers.insert(RETRY_AFTER, HeaderValue::from_static("12"));
        assert_eq!(retry_after_from(&headers), Duration::from_secs(12));
        headers.insert(RETRY_AFTER, HeaderValue::from_static("later"));
        assert_eq!(retry_after_from(&headers), DEFAULT_RETRY_AFTER);
    }
}
