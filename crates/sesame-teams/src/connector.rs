//! The Bot Connector REST client (v3): send an activity to a conversation, reply to one, update
//! one, delete one, and create a 1:1 conversation for proactive messages. Calls go to the service
//! URL an activity named (it varies by region) and only when its host is allowed (see
//! [`AllowedHosts`]), with the bot's client-credentials token. Like the Slack client, it never
//! sleeps or retries: a 429 comes back with its `Retry-After` for the outbox to reschedule.

mod error;
mod hosts;
mod types;

pub use error::{ConnectorError, ConnectorOperation};
pub use hosts::{AllowedHosts, InvalidHostPattern, ServiceUrl, DEFAULT_ALLOWED_HOSTS};
pub use types::{
    ConversationParameters, ConversationResourceResponse, ResourceResponse, TeamsChannelAccount,
};

use crate::http::{describe, read_limited, retry_after_from, ReadError};
use crate::token::TokenClient;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE};
use reqwest::Method;
use secrecy::ExposeSecret;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;

/// Long enough for the Connector's slow moments, short enough that a hung call releases its outbox
/// lease well before the lease expires.
pub const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_secs(10);
/// The Connector's answers are small; a larger one is not one of them.
const MAX_ANSWER_BYTES: usize = 1024 * 1024;

/// Cheap to clone: clones share the connection pool and the token cache.
#[derive(Debug, Clone)]
pub struct BotConnector {
    /// `None` only in the loopback development mode, whose local tools take no token.
    tokens: Option<Arc<TokenClient>>,
    hosts: AllowedHosts,
    http: reqwest::Client,
    call_timeout: Duration,
}

#[derive(Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Deserialize)]
struct ErrorDetail {
    #[serde(default)]
    code: String,
    #[serde(default)]
    message: String,
}

impl BotConnector {
    pub fn new(
        tokens: Arc<TokenClient>,
        hosts: AllowedHosts,
        http: reqwest::Client,
    ) -> BotConnector {
        BotConnector {
            tokens: Some(tokens),
            hosts,
            http,
            call_timeout: DEFAULT_CALL_TIMEOUT,
        }
    }

    /// A connector that sends no token, for the loopback development mode: local tools such as
    /// the Agents Playground play the Connector and take none. Give it loopback hosts only.
    pub fn without_token(hosts: AllowedHosts, http: reqwest::Client) -> BotConnector {
        BotConnector {
            tokens: None,
            hosts,
            http,
            call_timeout: DEFAULT_CALL_TIMEOUT,
        }
    }

    pub fn with_call_timeout(mut self, timeout: Duration) -> BotConnector {
        self.call_timeout = timeout;
        self
    }

    pub fn allowed_hosts(&self) -> &AllowedHosts {
        &self.hosts
    }

    /// Posts an activity to a conversation (a new message in a 1:1 chat, a new thread in a channel).
    pub async fn send_to_conversation(
        &self,
        service_url: &str,
        conversation_id: &str,
        activity: &Value,
    ) -> Result<ResourceResponse, ConnectorError> {
        let path = format!("v3/conversations/{}/activities", segment(conversation_id)?);
        self.call(
            ConnectorOperation::SendToConversation,
            Method::POST,
            service_url,
            &path,
            Some(activity),
        )
        .await
    }

    /// Posts an activity as a reply to another (a reply in a channel thread).
    pub async fn reply_to_activity(
        &self,
        service_url: &str,
        conversation_id: &str,
        activity_id: &str,
        activity: &Value,
    ) -> Result<ResourceResponse, ConnectorError> {
        let path = activity_path(conversation_id, activity_id)?;
        self.call(
            ConnectorOperation::ReplyToActivity,
            Method::POST,
            service_url,
            &path,
            Some(activity),
        )
        .await
    }

    /// Replaces an activity the bot posted (a card after a decision).
    pub async fn update_activity(
        &self,
        service_url: &str,
        conversation_id: &str,
        activity_id: &str,
        activity: &Value,
    ) -> Result<ResourceResponse, ConnectorError> {
        let path = activity_path(conversation_id, activity_id)?;
        self.call(
            ConnectorOperation::UpdateActivity,
            Method::PUT,
            service_url,
            &path,
            Some(activity),
        )
        .await
    }

    pub async fn delete_activity(
        &self,
        service_url: &str,
        conversation_id: &str,
        activity_id: &str,
    ) -> Result<(), ConnectorError> {
        let path = activity_path(conversation_id, activity_id)?;
        let _: Value = self
            .call(
                ConnectorOperation::DeleteActivity,
                Method::DELETE,
                service_url,
                &path,
                None,
            )
            .await?;
        Ok(())
    }

    /// Creates (or finds) a conversation, for a proactive message; see
    /// [`ConversationParameters::personal`].
    pub async fn create_conversation(
        &self,
        service_url: &str,
        parameters: &ConversationParameters,
    ) -> Result<ConversationResourceResponse, ConnectorError> {
        let body = serde_json::to_value(parameters).map_err(|error| {
            ConnectorError::UnexpectedResponse {
                operation: ConnectorOperation::CreateConversation,
                status: 0,
                detail: format!("cannot encode the parameters: {error}"),
            }
        })?;
        self.call(
            ConnectorOperation::CreateConversation,
            Method::POST,
            service_url,
            "v3/conversations",
            Some(&body),
        )
        .await
    }

    /// One member of a conversation with what Teams knows of them (their email and Entra object
    /// id), for mapping a Teams account to a directory person.
    pub async fn get_member(
        &self,
        service_url: &str,
        conversation_id: &str,
        member_id: &str,
    ) -> Result<TeamsChannelAccount, ConnectorError> {
        let path = format!(
            "v3/conversations/{}/members/{}",
            segment(conversation_id)?,
            segment(member_id)?
        );
        self.call(
            ConnectorOperation::GetMember,
            Method::GET,
            service_url,
            &path,
            None,
        )
        .await
    }

    async fn call<R: DeserializeOwned>(
        &self,
        operation: ConnectorOperation,
        method: Method,
        service_url: &str,
        path: &str,
        body: Option<&Value>,
    ) -> Result<R, ConnectorError> {
        // The host is checked before a token is even fetched, so a foreign host gets nothing.
        let base = self.hosts.service_url(service_url)?;
        let url = format!("{base}{path}");
        let mut request = self.http.request(method, &url).timeout(self.call_timeout);
        if let Some(tokens) = &self.tokens {
            let token = tokens.access_token().await?;
            request = request.header(AUTHORIZATION, format!("Bearer {}", token.expose_secret()));
        }
        if let Some(body) = body {
            request = request
                .header(CONTENT_TYPE, "application/json; charset=utf-8")
                .body(body.to_string());
        }
        let response = request
            .send()
            .await
            .map_err(|error| ConnectorError::Unavailable {
                operation,
                reason: describe(&error),
            })?;
        let status = response.status();
        let retry_after = retry_after_from(response.headers());
        let unexpected = |detail: String| ConnectorError::UnexpectedResponse {
            operation,
            status: status.as_u16(),
            detail,
        };
        let bytes =
            read_limited(response, MAX_ANSWER_BYTES)
                .await
                .map_err(|error| match error {
                    ReadError::Transport(reason) => {
                        ConnectorError::Unavailable { operation, reason }
                    }
                    ReadError::TooLarge(max) => {
                        unexpected(format!("answer larger than {max} bytes"))
                    }
                })?;
        match status.as_u16() {
            429 => {
                return Err(ConnectorError::RateLimited {
                    operation,
                    retry_after,
                })
            }
            401 => {
                if let Some(tokens) = &self.tokens {
                    tokens.invalidate().await;
                }
                return Err(ConnectorError::Unauthorized { operation });
            }
            // A request timeout is the Connector's passing fault, not the call's.
            408 => {
                return Err(ConnectorError::Unavailable {
                    operation,
                    reason: "HTTP 408".to_owned(),
                })
            }
            code if status.is_server_error() => {
                return Err(ConnectorError::Unavailable {
                    operation,
                    reason: format!("HTTP {code}"),
                })
            }
            code if !status.is_success() => {
                let detail = serde_json::from_slice::<ErrorBody>(&bytes)
                    .map(|body| body.error)
                    .unwrap_or(ErrorDetail {
                        code: String::new(),
                        message: String::from_utf8_lossy(&bytes).chars().take(200).collect(),
                    });
                return Err(ConnectorError::Rejected {
                    operation,
                    status: code,
                    code: detail.code,
                    message: detail.message,
                });
            }
            _ => {}
        }
        // Some successes (a delete, some updates) answer with an empty body.
        let answer: Value = if bytes.iter().all(u8::is_ascii_whitespace) {
            Value::Object(Default::default())
        } else {
            serde_json::from_slice(&bytes)
                .map_err(|error| unexpected(format!("not JSON: {error}")))?
        };
        serde_json::from_value(answer)
            .map_err(|error| unexpected(format!("missing fields: {error}")))
    }
}

fn activity_path(conversation_id: &str, activity_id: &str) -> Result<String, ConnectorError> {
    Ok(format!(
        "v3/conversations/{}/activities/{}",
        segment(conversation_id)?,
        segment(activity_id)?
    ))
}

/// An id as one path segment. Empty, `.` and `..` are refused: URL parsing would drop or resolve
/// them (even percent-encoded) and the call would reach another resource.
fn segment(id: &str) -> Result<String, ConnectorError> {
    if matches!(id, "" | "." | "..") {
        return Err(ConnectorError::InvalidId { id: id.to_owned() });
    }
    Ok(encode(id))
}

/// Percent-encodes everything but RFC 3986's unreserved characters: conversation ids carry `:`,
/// `;`, `@`, `=` and (in channels) `,`, which must reach the Connector as one path segment.
fn encode(segment: &str) -> String {
    let mut encoded = String::with_capacity(segment.len());
    for byte in segment.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_one_encoded_path_segment() {
        assert_eq!(encode("a:1xyz"), "a%3A1xyz");
        assert_eq!(
            encode("19:abc@thread.tacv2;messageid=17"),
            "19%3Aabc%40thread.tacv2%3Bmessageid%3D17"
        );
        assert_eq!(encode("../x/y"), "..%2Fx%2Fy");
        assert_eq!(
            activity_path("a:1", "17 00").unwrap(),
            "v3/conversations/a%3A1/activities/17%2000"
        );
        for id in ["", ".", ".."] {
            assert!(matches!(
                activity_path(id, "1"),
                Err(ConnectorError::InvalidId { .. })
            ));
            assert!(segment(id).is_err());
        }
    }
}
