//! The `okta` connector: membership of a person in an Okta group through Okta's Groups API
//! (`PUT`/`DELETE /api/v1/groups/{groupId}/users/{userId}`), checked by listing the person's
//! groups (`GET /api/v1/users/{userId}/groups`, following `Link: rel="next"`).
//!
//! The person is found by login (`GET /api/v1/users/{login}`, the login made from the `login`
//! template, `{id}` by default) or by email (`search=profile.email eq "..."`); the group by id
//! (`group_id`) or by name (`group`, `search=profile.name eq "..."`). Okta changes only groups of
//! type `OKTA_GROUP` this way; others are refused by Okta, in its words.

mod client;

use crate::http::{self, default_timeout_ms};
use crate::target::{self, TargetKeys};
use crate::template::PersonTemplate;
use async_trait::async_trait;
use client::{OktaClient, SYSTEM};
use reqwest::Method;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::Value;
use sesame_core::ports::{Connector, ConnectorError, ConnectorOutcome, Grant, Presence};
use std::collections::BTreeMap;
use std::time::Duration;

/// `[connectors.<name>]` with `kind = "okta"`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OktaSettings {
    /// The org's URL, such as `https://example.okta.com`.
    pub base_url: String,
    /// An API token, sent as `Authorization: SSWS <token>`.
    pub token: SecretString,
    /// How people are found: by `login` (the default) or `email`.
    #[serde(default)]
    pub user_match: OktaUserMatch,
    /// The person's Okta login, for `user_match = "login"`; `{id}` by default.
    #[serde(default = "default_login")]
    pub login: PersonTemplate,
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OktaUserMatch {
    #[default]
    Login,
    Email,
}

fn default_login() -> PersonTemplate {
    PersonTemplate::parse("{id}").expect("the default template is valid")
}

pub struct OktaConnector {
    client: OktaClient,
    user_match: OktaUserMatch,
    login: PersonTemplate,
}

const TARGET: TargetKeys<'static> = TargetKeys {
    required: &[],
    one_of: &["group", "group_id"],
};

/// A value in Okta's search expressions, which use JSON-like double-quoted strings.
fn search_string(value: &str) -> String {
    Value::String(value.to_owned()).to_string()
}

impl OktaConnector {
    pub fn new(settings: &OktaSettings) -> Result<OktaConnector, String> {
        if settings.token.expose_secret().trim().is_empty() {
            return Err(String::from("`token` is empty"));
        }
        let base = http::base_url("base_url", &settings.base_url)?;
        Ok(OktaConnector {
            client: OktaClient::new(
                base,
                settings.token.clone(),
                Duration::from_millis(settings.timeout_ms),
            )?,
            user_match: settings.user_match,
            login: settings.login.clone(),
        })
    }

    /// The one item a search finds, by `what` for messages.
    async fn search_one(
        &self,
        resource: &str,
        expression: &str,
        what: &str,
    ) -> Result<String, ConnectorError> {
        let mut url = self.client.url(&[resource]);
        url.query_pairs_mut().append_pair("search", expression);
        let answer = self.client.call(Method::GET, url, &[]).await?;
        let items = answer.body.as_array().cloned().unwrap_or_default();
        match items.as_slice() {
            [one] => one["id"].as_str().map(str::to_owned).ok_or_else(|| {
                ConnectorError::Permanent(format!("{SYSTEM} sent a {what} without an id"))
            }),
            [] => Err(ConnectorError::Permanent(format!(
                "{SYSTEM} has no {what} matching {expression}"
            ))),
            many => Err(ConnectorError::Permanent(format!(
                "{SYSTEM} has {} {what}s matching {expression}; expected one",
                many.len()
            ))),
        }
    }

    async fn user_id(&self, grant: &Grant) -> Result<String, ConnectorError> {
        match self.user_match {
            OktaUserMatch::Login => {
                let login = self.login.render_plain(&grant.person);
                let url = self.client.url(&["users", &login]);
                let answer = self.client.call(Method::GET, url, &[]).await?;
                answer.body["id"]
                    .as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| {
                        ConnectorError::Permanent(format!(
                            "{SYSTEM} sent the user {login} without an id"
                        ))
                    })
            }
            OktaUserMatch::Email => {
                if grant.person.email.trim().is_empty() {
                    return Err(ConnectorError::Permanent(format!(
                        "{} has no email address to find them by",
                        grant.person.id
                    )));
                }
                let expression = format!("profile.email eq {}", search_string(&grant.person.email));
                self.search_one("users", &expression, "user").await
            }
        }
    }

    async fn group_id(&self, grant: &Grant) -> Result<String, ConnectorError> {
        if let Some(id) = grant.target.get("group_id").map(|v| v.trim()) {
            return Ok(id.to_owned());
        }
        let name = target::value(&grant.target, "group").map_err(ConnectorError::Permanent)?;
        let expression = format!("profile.name eq {}", search_string(name));
        self.search_one("groups", &expression, "group").await
    }
}

#[async_trait]
impl Connector for OktaConnector {
    fn kind(&self) -> &'static str {
        "okta"
    }

    fn validate_target(&self, target: &BTreeMap<String, String>) -> Result<(), String> {
        TARGET.check(target)
    }

    async fn check(&self, grant: &Grant) -> Result<Presence, ConnectorError> {
        let user = self.user_id(grant).await?;
        let group = self.group_id(grant).await?;
        let mut url = self.client.url(&["users", &user, "groups"]);
        url.query_pairs_mut().append_pair("limit", "200");
        if self
            .client
            .find_in_pages(url, |g| g["id"].as_str() == Some(group.as_str()))
            .await?
        {
            return Ok(Presence::Present);
        }
        // A group given by id was not looked up: an unknown id must not pass for "absent".
        if grant.target.contains_key("group_id") {
            let url = self.client.url(&["groups", &group]);
            self.client.call(Method::GET, url, &[]).await?;
        }
        Ok(Presence::Absent)
    }

    async fn grant(&self, grant: &Grant) -> Result<ConnectorOutcome, ConnectorError> {
        let user = self.user_id(grant).await?;
        let group = self.group_id(grant).await?;
        // Okta answers 204 whether or not the person was a member already.
        let url = self.client.url(&["groups", &group, "users", &user]);
        self.client.call(Method::PUT, url, &[]).await?;
        Ok(ConnectorOutcome::Done)
    }

    async fn revoke(&self, grant: &Grant) -> Result<ConnectorOutcome, ConnectorError> {
        let user = self.user_id(grant).await?;
        let group = self.group_id(grant).await?;
        let url = self.client.url(&["groups", &group, "users", &user]);
        self.client.call(Method::DELETE, url, &[]).await?;
        Ok(ConnectorOutcome::Done)
    }
}
