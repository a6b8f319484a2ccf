//! The `scim` connector: membership of a person in a group of a SCIM 2.0 service provider
//! (RFC 7644), changed with `PATCH /Groups/{id}` (`add` to `members`, `remove` with
//! `members[value eq "..."]`) and checked with a filter on the group's members.
//!
//! The person is found by `userName` (their Sesame id) or by email (`emails.value`), the group by
//! `displayName` (`group`) or by its SCIM id (`group_id`).

use crate::http::{self, default_timeout_ms};
use crate::target::{self, TargetKeys};
use async_trait::async_trait;
use reqwest::{Method, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::{json, Value};
use sesame_core::ports::{Connector, ConnectorError, ConnectorOutcome, Grant, Presence};
use std::collections::BTreeMap;
use std::time::Duration;
use url::Url;

/// `[connectors.<name>]` with `kind = "scim"`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScimSettings {
    /// The service provider's base URL, such as `https://idp.example.com/scim/v2`.
    pub base_url: String,
    /// Sent as `Authorization: Bearer <token>`.
    pub token: SecretString,
    /// How people are found: by `userName` (their Sesame id; the default) or `email`.
    #[serde(default)]
    pub user_match: UserMatch,
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
pub enum UserMatch {
    #[default]
    #[serde(rename = "userName")]
    UserName,
    #[serde(rename = "email")]
    Email,
}

pub struct ScimConnector {
    client: reqwest::Client,
    base: Url,
    token: SecretString,
    user_match: UserMatch,
}

const TARGET: TargetKeys<'static> = TargetKeys {
    required: &[],
    one_of: &["group", "group_id"],
};

const SYSTEM: &str = "the SCIM server";
const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const SCIM_JSON: &str = "application/scim+json";

/// A string in a SCIM filter: JSON string syntax, so quotes and backslashes are escaped.
fn filter_string(value: &str) -> String {
    Value::String(value.to_owned()).to_string()
}

impl ScimConnector {
    pub fn new(settings: &ScimSettings) -> Result<ScimConnector, String> {
        if settings.token.expose_secret().trim().is_empty() {
            return Err(String::from("`token` is empty"));
        }
        Ok(ScimConnector {
            client: http::client(Duration::from_millis(settings.timeout_ms))?,
            base: http::base_url("base_url", &settings.base_url)?,
            token: settings.token.clone(),
            user_match: settings.user_match,
        })
    }

    /// One call; a non-success answer becomes an error with SCIM's `detail` (and `scimType`),
    /// except the statuses in `accept`, which are handed back.
    async fn call(
        &self,
        method: Method,
        url: Url,
        body: Option<Value>,
        accept: &[StatusCode],
    ) -> Result<(StatusCode, Value), ConnectorError> {
        let mut request = self
            .client
            .request(method, url)
            .bearer_auth(self.token.expose_secret())
            .header(reqwest::header::ACCEPT, SCIM_JSON);
        if let Some(body) = body {
            request = request
                .header(reqwest::header::CONTENT_TYPE, SCIM_JSON)
                .body(body.to_string());
        }
        let (status, headers, text) = http::send(SYSTEM, request).await?;
        let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        if status.is_success() || accept.contains(&status) {
            return Ok((status, body));
        }
        let detail = match (body["detail"].as_str(), body["scimType"].as_str()) {
            (Some(detail), Some(kind)) => format!("{detail} ({kind})"),
            (Some(detail), None) => detail.to_owned(),
            _ => http::excerpt(&text),
        };
        Err(http::status_error(SYSTEM, status, &headers, &detail))
    }

    /// The id of the one resource under `endpoint` matching `filter`.
    async fn find_one(
        &self,
        endpoint: &str,
        filter: &str,
        what: &str,
    ) -> Result<String, ConnectorError> {
        let mut url = http::join(&self.base, &[endpoint]);
        url.query_pairs_mut()
            .append_pair("filter", filter)
            .append_pair("attributes", "id");
        let (status, body) = self.call(Method::GET, url, None, &[]).await?;
        if body.get("totalResults").is_none() && body.get("Resources").is_none() {
            return Err(ConnectorError::Permanent(format!(
                "{SYSTEM} answered {status} to a search with something that is not a SCIM list"
            )));
        }
        let resources = body["Resources"].as_array().cloned().unwrap_or_default();
        let total = body["totalResults"]
            .as_u64()
            .unwrap_or(resources.len() as u64);
        match (total, resources.first().and_then(|r| r["id"].as_str())) {
            (1, Some(id)) => Ok(id.to_owned()),
            (0, _) => Err(ConnectorError::Permanent(format!(
                "{SYSTEM} has no {what} matching {filter}"
            ))),
            (1, None) => Err(ConnectorError::Permanent(format!(
                "{SYSTEM} found the {what} matching {filter} but sent no id"
            ))),
            (n, _) => Err(ConnectorError::Permanent(format!(
                "{SYSTEM} has {n} {what}s matching {filter}; expected one"
            ))),
        }
    }

    async fn user_id(&self, grant: &Grant) -> Result<String, ConnectorError> {
        let filter = match self.user_match {
            UserMatch::UserName => {
                format!("userName eq {}", filter_string(grant.person.id.as_str()))
            }
            UserMatch::Email => {
                if grant.person.email.trim().is_empty() {
                    return Err(ConnectorError::Permanent(format!(
                        "{} has no email address to find them by",
                        grant.person.id
                    )));
                }
                format!("emails.value eq {}", filter_string(&grant.person.email))
            }
        };
        self.find_one("Users", &filter, "user").await
    }

    async fn group_id(&self, grant: &Grant) -> Result<String, ConnectorError> {
        if let Some(id) = grant.target.get("group_id").map(|v| v.trim()) {
            return Ok(id.to_owned());
        }
        let name = target::value(&grant.target, "group").map_err(ConnectorError::Permanent)?;
        let filter = format!("displayName eq {}", filter_string(name));
        self.find_one("Groups", &filter, "group").await
    }

    async fn patch_members(&self, group: &str, operation: Value) -> Result<(), ConnectorError> {
        let url = http::join(&self.base, &["Groups", group]);
        let body = json!({ "schemas": [PATCH_OP], "Operations": [operation] });
        let (status, body) = self
            .call(Method::PATCH, url, Some(body), &[StatusCode::BAD_REQUEST])
            .await?;
        // Removing a member that is not there may be answered 400 noTarget (RFC 7644 3.5.2.2):
        // the member is absent, which is what was asked.
        if status == StatusCode::BAD_REQUEST {
            if body["scimType"].as_str() == Some("noTarget") {
                return Ok(());
            }
            let detail = body["detail"].as_str().unwrap_or("bad request");
            return Err(ConnectorError::Permanent(format!(
                "{SYSTEM} answered {status}: {detail}"
            )));
        }
        Ok(())
    }
}

#[async_trait]
impl Connector for ScimConnector {
    fn kind(&self) -> &'static str {
        "scim"
    }

    fn validate_target(&self, target: &BTreeMap<String, String>) -> Result<(), String> {
        TARGET.check(target)
    }

    async fn check(&self, grant: &Grant) -> Result<Presence, ConnectorError> {
        let user = self.user_id(grant).await?;
        let group = self.group_id(grant).await?;
        // A filter asks the server the one question without sending every member of a large
        // group; servers that cannot filter on members get the group read instead.
        let mut url = http::join(&self.base, &["Groups"]);
        url.query_pairs_mut()
            .append_pair(
                "filter",
                &format!(
                    "id eq {} and members.value eq {}",
                    filter_string(&group),
                    filter_string(&user)
                ),
            )
            .append_pair("attributes", "id");
        let (status, body) = self
            .call(Method::GET, url, None, &[StatusCode::BAD_REQUEST])
            .await?;
        if status.is_success() {
            if body["totalResults"].as_u64().unwrap_or(0) > 0 {
                return Ok(Presence::Present);
            }
            // A group given by id was not looked up: an unknown id must not pass for "absent".
            if grant.target.contains_key("group_id") {
                let mut url = http::join(&self.base, &["Groups", &group]);
                url.query_pairs_mut().append_pair("attributes", "id");
                self.call(Method::GET, url, None, &[]).await?;
            }
            return Ok(Presence::Absent);
        }
        let mut url = http::join(&self.base, &["Groups", &group]);
        url.query_pairs_mut().append_pair("attributes", "members");
        let (_, body) = self.call(Method::GET, url, None, &[]).await?;
        let present = body["members"]
            .as_array()
            .is_some_and(|members| members.iter().any(|m| m["value"].as_str() == Some(&user)));
        Ok(if present {
            Presence::Present
        } else {
            Presence::Absent
        })
    }

    async fn grant(&self, grant: &Grant) -> Result<ConnectorOutcome, ConnectorError> {
        let user = self.user_id(grant).await?;
        let group = self.group_id(grant).await?;
        let add = json!({ "op": "add", "path": "members", "value": [{ "value": user }] });
        self.patch_members(&group, add).await?;
        Ok(ConnectorOutcome::Done)
    }

    async fn revoke(&self, grant: &Grant) -> Result<ConnectorOutcome, ConnectorError> {
        let user = self.user_id(grant).await?;
        let group = self.group_id(grant).await?;
        let path = format!("members[value eq {}]", filter_string(&user));
        self.patch_members(&group, json!({ "op": "remove", "path": path }))
            .await?;
        Ok(ConnectorOutcome::Done)
    }
}
