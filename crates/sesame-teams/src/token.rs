//! The bot's own token for calls to the Bot Connector: OAuth 2.0 client credentials (the app id and
//! its secret) at Microsoft's token endpoint, for Bot Framework's scope. The token is cached until
//! shortly before it expires, and concurrent callers share one refresh. Neither the secret nor a
//! token ever reaches a log line or a `Debug` output.

use crate::http::{describe, read_limited, retry_after_from, ReadError};
use reqwest::header::CONTENT_TYPE;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::Value;
use sesame_core::ports::DeliveryError;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::Mutex;
use tokio::time::Instant;

/// The token endpoint for multi-tenant bots. A single-tenant bot puts its tenant id in place of
/// `botframework.com`.
pub const DEFAULT_TOKEN_URL: &str =
    "https://login.microsoftonline.com/botframework.com/oauth2/v2.0/token";
pub const DEFAULT_SCOPE: &str = "https://api.botframework.com/.default";
/// A token is replaced this long before it expires, so that a call never carries one that expires
/// in flight.
pub const DEFAULT_REFRESH_MARGIN: Duration = Duration::from_secs(5 * 60);
const CALL_TIMEOUT: Duration = Duration::from_secs(10);
const MAX_ANSWER_BYTES: usize = 64 * 1024;

#[derive(Clone)]
pub struct TokenConfig {
    pub token_url: String,
    pub app_id: String,
    pub app_secret: SecretString,
    pub scope: String,
}

impl TokenConfig {
    /// The public cloud's endpoint and scope, for this app.
    pub fn new(app_id: impl Into<String>, app_secret: SecretString) -> TokenConfig {
        TokenConfig {
            token_url: DEFAULT_TOKEN_URL.to_owned(),
            app_id: app_id.into(),
            app_secret,
            scope: DEFAULT_SCOPE.to_owned(),
        }
    }

    pub fn with_token_url(mut self, url: impl Into<String>) -> TokenConfig {
        self.token_url = url.into();
        self
    }
}

// The secret must never reach a log line, so Debug is written by hand.
impl fmt::Debug for TokenConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenConfig")
            .field("token_url", &self.token_url)
            .field("app_id", &self.app_id)
            .field("app_secret", &"[redacted]")
            .field("scope", &self.scope)
            .finish()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// The endpoint refused the credentials or the request (a wrong secret, an unknown app, a
    /// scope the app may not have): a person must fix the configuration.
    #[error("the token endpoint refused (HTTP {status}): {code}{}", description.as_deref().map(|d| format!(": {d}")).unwrap_or_default())]
    Refused {
        status: u16,
        code: String,
        description: Option<String>,
    },
    #[error("the token endpoint rate-limited; retry after {retry_after:?}")]
    RateLimited { retry_after: Duration },
    #[error("the token endpoint is unavailable: {0}")]
    Unavailable(String),
    #[error("unexpected answer from the token endpoint (HTTP {status}): {detail}")]
    UnexpectedResponse { status: u16, detail: String },
}

impl From<TokenError> for DeliveryError {
    fn from(error: TokenError) -> DeliveryError {
        match &error {
            TokenError::RateLimited { retry_after } => DeliveryError::Deferred {
                after: *retry_after,
                reason: error.to_string(),
            },
            TokenError::Unavailable(_) | TokenError::UnexpectedResponse { .. } => {
                DeliveryError::Retry {
                    after: None,
                    reason: error.to_string(),
                }
            }
            TokenError::Refused { .. } => DeliveryError::Permanent(error.to_string()),
        }
    }
}

struct CachedToken {
    token: SecretString,
    refresh_at: Instant,
}

/// Gets and caches the bot's token. One per process, shared (behind an `Arc`) by every connector.
pub struct TokenClient {
    config: TokenConfig,
    http: reqwest::Client,
    refresh_margin: Duration,
    /// Held across a refresh, so concurrent callers wait for one request instead of each sending
    /// their own.
    cached: Mutex<Option<CachedToken>>,
    fetched: AtomicU64,
}

impl fmt::Debug for TokenClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenClient")
            .field("config", &self.config)
            .field("refresh_margin", &self.refresh_margin)
            .field("fetched", &self.fetched.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    /// Seconds; Entra's v1 endpoint sends it as a string.
    expires_in: Value,
}

#[derive(Deserialize)]
struct ErrorAnswer {
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    error_description: Option<String>,
}

impl TokenClient {
    pub fn new(config: TokenConfig, http: reqwest::Client) -> TokenClient {
        TokenClient {
            config,
            http,
            refresh_margin: DEFAULT_REFRESH_MARGIN,
            cached: Mutex::new(None),
            fetched: AtomicU64::new(0),
        }
    }

    pub fn with_refresh_margin(mut self, margin: Duration) -> TokenClient {
        self.refresh_margin = margin;
        self
    }

    pub fn app_id(&self) -> &str {
        &self.config.app_id
    }

    /// How many tokens this client has fetched; for tests and metrics.
    pub fn fetched(&self) -> u64 {
        self.fetched.load(Ordering::Relaxed)
    }

    /// A token valid for at least the refresh margin, from the cache when there is one.
    pub async fn access_token(&self) -> Result<SecretString, TokenError> {
        let mut cached = self.cached.lock().await;
        if let Some(token) = cached.as_ref() {
            if Instant::now() < token.refresh_at {
                return Ok(token.token.clone());
            }
        }
        let (token, lifetime) = self.fetch().await?;
        self.fetched.fetch_add(1, Ordering::Relaxed);
        *cached = Some(CachedToken {
            token: token.clone(),
            refresh_at: Instant::now() + lifetime.saturating_sub(self.refresh_margin),
        });
        Ok(token)
    }

    /// Forgets the cached token, after the Connector refused it (a rotated secret, a revoked app),
    /// so the next call fetches a new one.
    pub async fn invalidate(&self) {
        *self.cached.lock().await = None;
    }

    async fn fetch(&self) -> Result<(SecretString, Duration), TokenError> {
        let form = serde_urlencoded::to_string([
            ("grant_type", "client_credentials"),
            ("client_id", self.config.app_id.as_str()),
            ("client_secret", self.config.app_secret.expose_secret()),
            ("scope", self.config.scope.as_str()),
        ])
        .map_err(|error| TokenError::Unavailable(format!("cannot encode the form: {error}")))?;
        let response = self
            .http
            .post(&self.config.token_url)
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .timeout(CALL_TIMEOUT)
            .body(form)
            .send()
            .await
            .map_err(|error| TokenError::Unavailable(describe(&error)))?;
        let status = response.status();
        if status.as_u16() == 429 {
            return Err(TokenError::RateLimited {
                retry_after: retry_after_from(response.headers()),
            });
        }
        let bytes =
            read_limited(response, MAX_ANSWER_BYTES)
                .await
                .map_err(|error| match error {
                    ReadError::Transport(reason) => TokenError::Unavailable(reason),
                    ReadError::TooLarge(max) => TokenError::UnexpectedResponse {
                        status: status.as_u16(),
                        detail: format!("answer larger than {max} bytes"),
                    },
                })?;
        if status.is_server_error() {
            return Err(TokenError::Unavailable(format!("HTTP {}", status.as_u16())));
        }
        if !status.is_success() {
            let answer: ErrorAnswer = serde_json::from_slice(&bytes).unwrap_or(ErrorAnswer {
                error: None,
                error_description: None,
            });
            return Err(TokenError::Refused {
                status: status.as_u16(),
                code: answer.error.unwrap_or_else(|| "unknown_error".to_owned()),
                description: answer.error_description,
            });
        }
        let answer: TokenAnswer =
            serde_json::from_slice(&bytes).map_err(|error| TokenError::UnexpectedResponse {
                status: status.as_u16(),
                detail: format!("not a token answer: {error}"),
            })?;
        let seconds = answer
            .expires_in
            .as_u64()
            .or_else(|| answer.expires_in.as_str()?.trim().parse().ok())
            .ok_or_else(|| TokenError::UnexpectedResponse {
                status: status.as_u16(),
                detail: "expires_in is not a number of seconds".to_owned(),
            })?;
        if answer.access_token.is_empty() {
            return Err(TokenError::UnexpectedResponse {
                status: status.as_u16(),
                detail: "empty access_token".to_owned(),
            });
        }
        Ok((
            SecretString::from(answer.access_token),
            Duration::from_secs(seconds),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_hides_the_secret() {
        let config = TokenConfig::new("app-1", SecretString::from("hunter2-secret"))
            .with_token_url("http://127.0.0.1:9/token");
        let client = TokenClient::new(config.clone(), reqwest::Client::new());
        for text in [format!("{config:?}"), format!("{client:?}")] {
            assert!(!text.contains("hunter2"), "{text}");
            assert!(text.contains("app-1"), "{text}");
        }
    }

    #[test]
    fn errors_become_delivery_outcomes() {
        let limited = TokenError::RateLimited {
            retry_after: Duration::from_secs(9),
        };
        assert!(matches!(
            DeliveryError::from(limited),
            DeliveryError::Deferred { after, .. } if after == Duration::from_secs(9)
        ));
        let refused = TokenError::Refused {
            status: 401,
            code: "invalid_client".into(),
            description: Some("AADSTS7000215: Invalid client secret provided.".into()),
        };
        assert!(matches!(
            DeliveryError::from(refused),
            DeliveryError::Permanent(reason) if reason.contains("invalid_client")
        ));
        assert!(matches!(
            DeliveryError::from(TokenError::Unavailable("reset".into())),
            DeliveryError::Retry { .. }
        ));
    }

    #[tokio::test]
    async fn an_unreachable_endpoint_is_unavailable() {
        // Port 9 (discard) on loopback is closed in test environments.
        let config = TokenConfig::new("app-1", SecretString::from("s"))
            .with_token_url("http://127.0.0.1:9/token");
        let client = TokenClient::new(config, reqwest::Client::new());
        assert!(matches!(
            client.access_token().await,
            Err(TokenError::Unavailable(_))
        ));
        assert_eq!(client.fetched(), 0);
    }
}
