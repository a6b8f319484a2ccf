//! The `webhook` connector: signed JSON to a URL that the receiving team runs.
//!
//! Each operation is one `POST` of `{operation: grant|revoke|check, request, person, target,
//! callback_url?}` with `X-Sesame-Timestamp` and `X-Sesame-Signature` (see [`sign_webhook`]). The
//! receiver answers a grant or revoke with `200 {"status":"done"}`, or with
//! `202 {"status":"accepted","reference":"..."}` when it finishes later and reports to
//! `callback_url` (signed the same way; [`verify_callback`] checks it), and a check with
//! `200 {"present": true|false}`.

mod signature;

pub use signature::{sign_webhook, verify_callback, CallbackError, CALLBACK_WINDOW_SECS};

use crate::http::{self, default_timeout_ms};
use crate::target::TargetKeys;
use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sesame_core::ports::{
    Connector, ConnectorError, ConnectorOutcome, Grant, GrantPerson, Presence,
};
use sesame_core::RequestNumber;
use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};
use url::Url;

/// `[connectors.<name>]` with `kind = "webhook"`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookSettings {
    /// Where the signed JSON goes (http or https).
    pub url: String,
    /// The shared signing secret, at least 16 characters.
    pub secret: SecretString,
    /// Sent in every body, for receivers that report later.
    pub callback_url: Option<String>,
    /// The settings flows must give (all of them; no others). None by default.
    #[serde(default)]
    pub target_keys: Vec<String>,
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
}

pub struct WebhookConnector {
    client: reqwest::Client,
    url: Url,
    secret: SecretString,
    callback_url: Option<String>,
    target_keys: Vec<String>,
}

/// What the receiver gets.
#[derive(Debug, Serialize)]
struct Envelope<'a> {
    operation: &'static str,
    request: RequestNumber,
    person: &'a GrantPerson,
    target: &'a BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    callback_url: Option<&'a str>,
}

/// What a receiver answers; unknown fields are ignored so receivers can add their own.
#[derive(Debug, Deserialize)]
struct Answer {
    status: Option<String>,
    reference: Option<String>,
    present: Option<bool>,
}

const SYSTEM: &str = "the webhook receiver";

impl WebhookConnector {
    pub fn new(settings: &WebhookSettings) -> Result<WebhookConnector, String> {
        let url =
            Url::parse(settings.url.trim()).map_err(|e| format!("`url` is not a URL: {e}"))?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(String::from(
                "`url` must be an http:// or https:// URL with a host",
            ));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(String::from(
                "`url` must not carry credentials; the signature authenticates Sesame",
            ));
        }
        if let Some(callback) = &settings.callback_url {
            http::base_url("callback_url", callback)?;
        }
        if settings.secret.expose_secret().trim().len() < 16 {
            return Err(String::from("`secret` must be at least 16 characters"));
        }
        Ok(WebhookConnector {
            client: http::client(Duration::from_millis(settings.timeout_ms))?,
            url,
            secret: settings.secret.clone(),
            callback_url: settings.callback_url.clone(),
            target_keys: settings.target_keys.clone(),
        })
    }

    async fn call(&self, operation: &'static str, grant: &Grant) -> Result<Answer, ConnectorError> {
        let body = serde_json::to_vec(&Envelope {
            operation,
            request: grant.request,
            person: &grant.person,
            target: &grant.target,
            callback_url: self.callback_url.as_deref(),
        })
        .map_err(|e| ConnectorError::Permanent(format!("cannot encode the webhook body: {e}")))?;
        let timestamp = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs()
            .to_string();
        let signature = sign_webhook(&self.secret, &timestamp, &body);
        let request = self
            .client
            .post(self.url.clone())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header("X-Sesame-Timestamp", &timestamp)
            .header("X-Sesame-Signature", signature)
            .body(body);
        let (status, headers, text) = http::send(SYSTEM, request).await?;
        if !status.is_success() {
            return Err(http::status_error(
                SYSTEM,
                status,
                &headers,
                &http::excerpt(&text),
            ));
        }
        serde_json::from_str(&text).map_err(|_| {
            ConnectorError::Permanent(format!(
                "{SYSTEM} answered {status} with a body that is not the expected JSON: {}",
                http::excerpt(&text)
            ))
        })
    }

    async fn change(
        &self,
        operation: &'static str,
        grant: &Grant,
    ) -> Result<ConnectorOutcome, ConnectorError> {
        let answer = self.call(operation, grant).await?;
        match (answer.status.as_deref(), answer.reference) {
            (Some("done"), _) => Ok(ConnectorOutcome::Done),
            (Some("accepted"), Some(reference)) if !reference.trim().is_empty() => {
                Ok(ConnectorOutcome::Accepted { reference })
            }
            (Some("accepted"), _) => Err(ConnectorError::Permanent(format!(
                "{SYSTEM} accepted the {operation} without a `reference` to report it by"
            ))),
            (status, _) => Err(ConnectorError::Permanent(format!(
                "{SYSTEM} answered the {operation} with status {:?}; expected \"done\" or \
                 \"accepted\"",
                status.unwrap_or("(none)")
            ))),
        }
    }
}

#[async_trait]
impl Connector for WebhookConnector {
    fn kind(&self) -> &'static str {
        "webhook"
    }

    fn validate_target(&self, target: &BTreeMap<String, String>) -> Result<(), String> {
        let required: Vec<&str> = self.target_keys.iter().map(String::as_str).collect();
        TargetKeys {
            required: &required,
            one_of: &[],
        }
        .check(target)
    }

    async fn check(&self, grant: &Grant) -> Result<Presence, ConnectorError> {
        match self.call("check", grant).await?.present {
            Some(true) => Ok(Presence::Present),
            Some(false) => Ok(Presence::Absent),
            None => Err(ConnectorError::Permanent(format!(
                "{SYSTEM} answered the check without `present`"
            ))),
        }
    }

    async fn grant(&self, grant: &Grant) -> Result<ConnectorOutcome, ConnectorError> {
        self.change("grant", grant).await
    }

    async fn revoke(&self, grant: &Grant) -> Result<ConnectorOutcome, ConnectorError> {
        self.change("revoke", grant).await
    }
}
