//! What the HTTP connectors (SCIM, webhook, Okta) share: a client with timeouts that follows no
//! redirects (a redirect must not carry a token elsewhere), base URL checks, and the mapping of
//! transport failures and status codes to retry or give up.

use reqwest::header::{HeaderMap, RETRY_AFTER};
use reqwest::StatusCode;
use sesame_core::ports::ConnectorError;
use std::time::{Duration, SystemTime};
use url::Url;

/// How long a connector waits for a target system unless configured otherwise.
pub(crate) const DEFAULT_TIMEOUT_MS: u64 = 10_000;

pub(crate) fn default_timeout_ms() -> u64 {
    DEFAULT_TIMEOUT_MS
}

/// A client whose every call gives up after `timeout` (connecting after at most five seconds).
pub(crate) fn client(timeout: Duration) -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(5)))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("sesame/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| format!("cannot build an HTTP client: {e}"))
}

/// Checks a configured base URL: http or https, a host, no credentials, query or fragment. The
/// result has no trailing slash, so paths are appended as `{base}/Users`.
pub(crate) fn base_url(field: &str, value: &str) -> Result<Url, String> {
    let url = Url::parse(value.trim()).map_err(|e| format!("`{field}` is not a URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("`{field}` must be an http:// or https:// URL"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(format!("`{field}` has no host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(format!(
            "`{field}` must not carry credentials; use the connector's secret setting"
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!("`{field}` must not have a query or a fragment"));
    }
    let mut url = url;
    let trimmed = url.path().trim_end_matches('/').to_owned();
    url.set_path(&trimmed);
    Ok(url)
}

/// `base` followed by `segments`, each percent-encoded as one path segment (so that an id with
/// `/` or `?` cannot reach another resource).
pub(crate) fn join(base: &Url, segments: &[&str]) -> Url {
    let mut url = base.clone();
    if let Ok(mut path) = url.path_segments_mut() {
        path.pop_if_empty();
        for segment in segments {
            path.push(segment);
        }
    }
    url
}

/// Sends `request` and reads the whole answer: its status, headers and body text.
pub(crate) async fn send(
    system: &str,
    request: reqwest::RequestBuilder,
) -> Result<(StatusCode, HeaderMap, String), ConnectorError> {
    let response = request
        .send()
        .await
        .map_err(|e| transport_error(system, e))?;
    let status = response.status();
    let headers = response.headers().clone();
    let text = response
        .text()
        .await
        .map_err(|e| transport_error(system, e))?;
    Ok((status, headers, text))
}

/// A failed call that never got an answer: unreachable, refused, timed out. The URL is left out
/// of the message, as a webhook URL may carry a secret of its own.
pub(crate) fn transport_error(system: &str, error: reqwest::Error) -> ConnectorError {
    let error = error.without_url();
    if error.is_decode() || error.is_builder() {
        return ConnectorError::Permanent(format!("{system}: {}", chain(&error)));
    }
    ConnectorError::Retry {
        after: None,
        reason: format!("{system} could not be reached: {}", chain(&error)),
    }
}

/// A non-success answer: 408, 429 and 5xx are worth retrying (429 and 503 after the server's
/// `Retry-After`), the rest not. `detail` is the server's own message.
pub(crate) fn status_error(
    system: &str,
    status: StatusCode,
    headers: &HeaderMap,
    detail: &str,
) -> ConnectorError {
    let reason = if detail.is_empty() {
        format!("{system} answered {status}")
    } else {
        format!("{system} answered {status}: {detail}")
    };
    if status == StatusCode::TOO_MANY_REQUESTS
        || status == StatusCode::REQUEST_TIMEOUT
        || status.is_server_error()
    {
        ConnectorError::Retry {
            after: retry_after(headers),
            reason,
        }
    } else {
        ConnectorError::Permanent(reason)
    }
}

/// `Retry-After` as seconds or an HTTP date.
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let when = httpdate(value)?;
    Some(
        when.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

/// Parses the IMF-fixdate form of an HTTP date (`Sun, 06 Nov 1994 08:49:37 GMT`), the only form
/// servers send today.
fn httpdate(value: &str) -> Option<SystemTime> {
    let parts: Vec<&str> = value.split_whitespace().collect();
    let [_, day, month, year, time, "GMT"] = parts.as_slice() else {
        return None;
    };
    let month = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ]
    .iter()
    .position(|m| m == month)? as i64
        + 1;
    let (day, year): (i64, i64) = (day.parse().ok()?, year.parse().ok()?);
    let hms: Vec<i64> = time
        .split(':')
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    let [h, m, s] = hms.as_slice() else {
        return None;
    };
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let seconds = days * 86_400 + h * 3600 + m * 60 + s;
    u64::try_from(seconds)
        .ok()
        .map(|s| SystemTime::UNIX_EPOCH + Duration::from_secs(s))
}

/// The start of a body, on one line, for messages.
pub(crate) fn excerpt(text: &str) -> String {
    const LIMIT: usize = 300;
    let one_line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() <= LIMIT {
        one_line
    } else {
        let cut: String = one_line.chars().take(LIMIT).collect();
        format!("{cut}…")
    }
}

/// An error with its causes, which reqwest keeps in `source()` (its own text alone says little).
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn base_urls_are_checked_and_trimmed() {
        let url = base_url("base_url", "https://scim.example.com/v2/").unwrap();
        assert_eq!(
            join(&url, &["Groups", "a/b?c"]).as_str(),
            "https://scim.example.com/v2/Groups/a%2Fb%3Fc"
        );
        for bad in [
            "ftp://x",
            "not a url",
            "https://user:pw@x.example",
            "https://x.example/?q=1",
        ] {
            assert!(base_url("base_url", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn statuses_map_to_retry_or_permanent() {
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, HeaderValue::from_static("7"));
        match status_error("X", StatusCode::TOO_MANY_REQUESTS, &headers, "slow down") {
            ConnectorError::Retry { after, reason } => {
                assert_eq!(after, Some(Duration::from_secs(7)));
                assert!(reason.contains("slow down"));
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            status_error("X", StatusCode::BAD_GATEWAY, &HeaderMap::new(), ""),
            ConnectorError::Retry { after: None, .. }
        ));
        assert!(matches!(
            status_error("X", StatusCode::NOT_FOUND, &HeaderMap::new(), "gone"),
            ConnectorError::Permanent(m) if m == "X answered 404 Not Found: gone"
        ));
    }

    #[test]
    fn http_dates_parse() {
        let t = httpdate("Sun, 06 Nov 1994 08:49:37 GMT").unwrap();
        assert_eq!(
            t.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs(),
            784_111_777
        );
        assert!(httpdate("yesterday").is_none());
    }

    #[test]
    fn excerpts_are_short_and_on_one_line() {
        assert_eq!(excerpt("a\n  b"), "a b");
        assert_eq!(excerpt(&"x".repeat(400)).chars().count(), 301);
    }
}
