//! How a Bot Connector call fails, and what the outbox should do about it: wait (429), try again
//! (5xx, network, a refused token that a fresh one may fix), or give up (other 4xx, a host that is
//! not allowed, refused credentials).

use crate::token::TokenError;
use sesame_core::ports::DeliveryError;
use std::fmt;
use std::time::Duration;

/// The Bot Connector operations Sesame uses, for errors and logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectorOperation {
    SendToConversation,
    ReplyToActivity,
    UpdateActivity,
    DeleteActivity,
    CreateConversation,
    GetMember,
}

impl fmt::Display for ConnectorOperation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ConnectorOperation::SendToConversation => "send to conversation",
            ConnectorOperation::ReplyToActivity => "reply to activity",
            ConnectorOperation::UpdateActivity => "update activity",
            ConnectorOperation::DeleteActivity => "delete activity",
            ConnectorOperation::CreateConversation => "create conversation",
            ConnectorOperation::GetMember => "get conversation member",
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConnectorError {
    /// The service URL's host is not in the allow list; nothing was sent.
    #[error("service URL {url:?} is not on an allowed host")]
    HostNotAllowed { url: String },
    #[error("service URL {url:?} is unusable: {reason}")]
    InvalidServiceUrl { url: String, reason: String },
    /// A conversation or activity id that cannot be a path segment; nothing was sent.
    #[error("{id:?} is not a usable conversation or activity id")]
    InvalidId { id: String },
    #[error("no bot token: {0}")]
    Token(#[from] TokenError),
    #[error("the Bot Connector rate-limited {operation}; retry after {retry_after:?}")]
    RateLimited {
        operation: ConnectorOperation,
        retry_after: Duration,
    },
    /// Unreachable, timed out, or a 5xx. A timeout after sending may still have taken effect.
    #[error("the Bot Connector is unavailable for {operation}: {reason}")]
    Unavailable {
        operation: ConnectorOperation,
        reason: String,
    },
    /// 401: the token was refused. It is dropped from the cache, so a retry fetches a new one.
    #[error("the Bot Connector refused the bot's token for {operation}")]
    Unauthorized { operation: ConnectorOperation },
    /// Another 4xx: the call itself is wrong (an unknown conversation, a user who blocked the bot,
    /// an app not installed for them, a message too large).
    #[error("the Bot Connector refused {operation} (HTTP {status}): {code}: {message}")]
    Rejected {
        operation: ConnectorOperation,
        status: u16,
        code: String,
        message: String,
    },
    #[error("unexpected answer from the Bot Connector to {operation} (HTTP {status}): {detail}")]
    UnexpectedResponse {
        operation: ConnectorOperation,
        status: u16,
        detail: String,
    },
}

impl ConnectorError {
    /// Whether the same call may succeed if tried again later.
    pub fn is_retryable(&self) -> bool {
        match self {
            ConnectorError::RateLimited { .. }
            | ConnectorError::Unavailable { .. }
            | ConnectorError::Unauthorized { .. }
            | ConnectorError::UnexpectedResponse { .. } => true,
            ConnectorError::Token(error) => !matches!(error, TokenError::Refused { .. }),
            ConnectorError::HostNotAllowed { .. }
            | ConnectorError::InvalidServiceUrl { .. }
            | ConnectorError::InvalidId { .. }
            | ConnectorError::Rejected { .. } => false,
        }
    }

    /// The HTTP status the Connector answered, when it answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            ConnectorError::Rejected { status, .. }
            | ConnectorError::UnexpectedResponse { status, .. } => Some(*status),
            ConnectorError::RateLimited { .. } => Some(429),
            ConnectorError::Unauthorized { .. } => Some(401),
            _ => None,
        }
    }
}

impl From<ConnectorError> for DeliveryError {
    fn from(error: ConnectorError) -> DeliveryError {
        match error {
            ConnectorError::Token(token) => token.into(),
            ConnectorError::RateLimited { retry_after, .. } => DeliveryError::Deferred {
                after: retry_after,
                reason: error.to_string(),
            },
            error if error.is_retryable() => DeliveryError::Retry {
                after: None,
                reason: error.to_string(),
            },
            error => DeliveryError::Permanent(error.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_become_delivery_outcomes_for_the_outbox() {
        let operation = ConnectorOperation::SendToConversation;
        assert_eq!(
            DeliveryError::from(ConnectorError::RateLimited {
                operation,
                retry_after: Duration::from_secs(3),
            }),
            DeliveryError::Deferred {
                after: Duration::from_secs(3),
                reason: "the Bot Connector rate-limited send to conversation; retry after 3s"
                    .into(),
            }
        );
        for retry in [
            ConnectorError::Unavailable {
                operation,
                reason: "HTTP 502".into(),
            },
            ConnectorError::Unauthorized { operation },
            ConnectorError::Token(TokenError::Unavailable("down".into())),
        ] {
            assert!(matches!(
                DeliveryError::from(retry),
                DeliveryError::Retry { .. }
            ));
        }
        for permanent in [
            ConnectorError::HostNotAllowed {
                url: "https://evil.example/".into(),
            },
            ConnectorError::Rejected {
                operation,
                status: 403,
                code: "Forbidden".into(),
                message: "The bot is not part of the conversation roster.".into(),
            },
            ConnectorError::Token(TokenError::Refused {
                status: 401,
                code: "invalid_client".into(),
                description: None,
            }),
        ] {
            assert!(matches!(
                DeliveryError::from(permanent),
                DeliveryError::Permanent(_)
            ));
        }
    }
}
