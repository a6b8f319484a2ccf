//! Okta's management API as the connector uses it: `Authorization: SSWS <token>`, Okta's error
//! objects (`errorCode`, `errorSummary`, `errorCauses`), pagination through `Link: <...>;
//! rel="next"`, and the rate limit headers (`X-Rate-Limit-Limit`, `-Remaining`, `-Reset`): once
//! Okta says nothing remains, calls wait for the reset instead of being refused one by one.

use crate::http;
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use sesame_core::ports::ConnectorError;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};
use url::Url;

pub(super) const SYSTEM: &str = "Okta";

/// How many pages a listing may take before the connector stops following `next` links.
const MAX_PAGES: usize = 1000;

pub(super) struct OktaClient {
    client: reqwest::Client,
    pub(super) base: Url,
    token: SecretString,
    /// Until when Okta's rate limit is used up, from its last answer.
    exhausted_until: Mutex<Option<SystemTime>>,
}

/// An answer: its JSON body, and the next page when Okta linked one.
pub(super) struct Answer {
    pub body: Value,
    pub next: Option<Url>,
}

impl OktaClient {
    pub(super) fn new(
        base: Url,
        token: SecretString,
        timeout: Duration,
    ) -> Result<OktaClient, String> {
        Ok(OktaClient {
            client: http::client(timeout)?,
            base,
            token,
            exhausted_until: Mutex::new(None),
        })
    }

    /// `/api/v1/...` under the base URL, each segment encoded.
    pub(super) fn url(&self, segments: &[&str]) -> Url {
        let mut all = vec!["api", "v1"];
        all.extend_from_slice(segments);
        http::join(&self.base, &all)
    }

    fn exhausted_for(&self, now: SystemTime) -> Option<Duration> {
        let until = (*self.exhausted_until.lock().ok()?)?;
        until.duration_since(now).ok().filter(|d| !d.is_zero())
    }

    fn remember_limit(&self, headers: &HeaderMap, status: StatusCode) {
        let number =
            |name: &str| -> Option<u64> { headers.get(name)?.to_str().ok()?.trim().parse().ok() };
        let reset = number("x-rate-limit-reset")
            .map(|secs| SystemTime::UNIX_EPOCH + Duration::from_secs(secs));
        let used_up =
            status == StatusCode::TOO_MANY_REQUESTS || number("x-rate-limit-remaining") == Some(0);
        if let Ok(mut until) = self.exhausted_until.lock() {
            *until = if used_up { reset } else { None };
        }
    }

    /// One call. Statuses in `accept` are handed back; other failures become errors with Okta's
    /// own summary.
    pub(super) async fn call(
        &self,
        method: Method,
        url: Url,
        accept: &[StatusCode],
    ) -> Result<Answer, ConnectorError> {
        if let Some(wait) = self.exhausted_for(SystemTime::now()) {
            return Err(ConnectorError::Retry {
                after: Some(wait),
                reason: format!(
                    "{SYSTEM}'s rate limit is used up; it resets in {}s",
                    wait.as_secs().max(1)
                ),
            });
        }
        let request = self
            .client
            .request(method, url)
            .header(
                reqwest::header::AUTHORIZATION,
                format!("SSWS {}", self.token.expose_secret()),
            )
            .header(reqwest::header::ACCEPT, "application/json");
        let (status, headers, text) = http::send(SYSTEM, request).await?;
        self.remember_limit(&headers, status);
        let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        if status.is_success() || accept.contains(&status) {
            let next = next_link(&headers).filter(|next| next.origin() == self.base.origin());
            return Ok(Answer { body, next });
        }
        let detail = error_summary(&body).unwrap_or_else(|| http::excerpt(&text));
        let mut error = http::status_error(SYSTEM, status, &headers, &detail);
        if status == StatusCode::TOO_MANY_REQUESTS {
            if let ConnectorError::Retry { after, .. } = &mut error {
                *after = after.or_else(|| self.exhausted_for(SystemTime::now()));
                *after = Some(after.unwrap_or(Duration::from_secs(1)));
            }
        }
        Err(error)
    }

    /// Every item of a paginated listing, following `next` links on the same origin, until
    /// `found` says to stop.
    pub(super) async fn find_in_pages(
        &self,
        first: Url,
        found: impl Fn(&Value) -> bool,
    ) -> Result<bool, ConnectorError> {
        let mut url = Some(first);
        let mut pages = 0;
        while let Some(current) = url.take() {
            pages += 1;
            if pages > MAX_PAGES {
                return Err(ConnectorError::Permanent(format!(
                    "{SYSTEM} kept linking further pages after {MAX_PAGES}"
                )));
            }
            let answer = self.call(Method::GET, current, &[]).await?;
            let Some(items) = answer.body.as_array() else {
                return Err(ConnectorError::Permanent(format!(
                    "{SYSTEM} answered a listing with something that is not a list"
                )));
            };
            if items.iter().any(&found) {
                return Ok(true);
            }
            url = answer.next;
        }
        Ok(false)
    }
}

/// Okta's error object in words: `E0000007: Not found: ...`, with its causes.
fn error_summary(body: &Value) -> Option<String> {
    let summary = body["errorSummary"].as_str()?;
    let mut text = match body["errorCode"].as_str() {
        Some(code) => format!("{code}: {summary}"),
        None => summary.to_owned(),
    };
    let causes: Vec<&str> = body["errorCauses"]
        .as_array()
        .map(|c| {
            c.iter()
                .filter_map(|c| c["errorSummary"].as_str())
                .collect()
        })
        .unwrap_or_default();
    if !causes.is_empty() {
        text.push_str(&format!(" ({})", causes.join("; ")));
    }
    Some(text)
}

/// The `rel="next"` target of a `Link` header (Okta sends one header per link, or several links
/// in one header, separated by commas).
fn next_link(headers: &HeaderMap) -> Option<Url> {
    headers
        .get_all(reqwest::header::LINK)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .find_map(|link| {
            let (target, params) = link.split_once(';')?;
            let is_next = params
                .split(';')
                .any(|p| p.trim().replace(' ', "") == "rel=\"next\"" || p.trim() == "rel=next");
            let target = target.trim().strip_prefix('<')?.strip_suffix('>')?;
            if is_next {
                Url::parse(target).ok()
            } else {
                None
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn next_links_are_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.append(
            "link",
            HeaderValue::from_static(
                "<https://x.okta.com/api/v1/groups/g/users?limit=2>; rel=\"self\"",
            ),
        );
        headers.append(
            "link",
            HeaderValue::from_static(
                "<https://x.okta.com/api/v1/groups/g/users?after=00u2&limit=2>; rel=\"next\"",
            ),
        );
        assert_eq!(
            next_link(&headers).unwrap().as_str(),
            "https://x.okta.com/api/v1/groups/g/users?after=00u2&limit=2"
        );
        let mut one = HeaderMap::new();
        one.insert(
            "link",
            HeaderValue::from_static("<https://a/1>; rel=\"self\", <https://a/2>; rel=\"next\""),
        );
        assert_eq!(next_link(&one).unwrap().as_str(), "https://a/2");
        assert!(next_link(&HeaderMap::new()).is_none());
    }

    #[test]
    fn okta_errors_read_as_their_summary_and_causes() {
        let body = serde_json::json!({
            "errorCode": "E0000001",
            "errorSummary": "Api validation failed: login",
            "errorLink": "E0000001",
            "errorId": "oae1",
            "errorCauses": [{ "errorSummary": "login: An object with this field already exists" }]
        });
        assert_eq!(
            error_summary(&body).unwrap(),
            "E0000001: Api validation failed: login (login: An object with this field already exists)"
        );
        assert!(error_summary(&Value::Null).is_none());
    }
}
