//! One connector's configuration, as written under `[connectors.<name>]`: its `kind` chooses the
//! connector, and the rest are that kind's settings, unknown ones refused.

use crate::{ldap, okta, postgres, scim, webhook};
use serde::Deserialize;
use sesame_core::ports::Connector;
use std::sync::Arc;

#[derive(Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum ConnectorSettings {
    Ldap(ldap::LdapSettings),
    Scim(scim::ScimSettings),
    Postgres(postgres::PostgresSettings),
    Webhook(webhook::WebhookSettings),
    Okta(okta::OktaSettings),
}

impl ConnectorSettings {
    /// The connector these settings describe, after checking them (URLs, templates, timeouts).
    /// Nothing is contacted yet: a target system that is down at start delays grants, not Sesame.
    pub fn build(&self) -> Result<Arc<dyn Connector>, String> {
        Ok(match self {
            ConnectorSettings::Ldap(s) => Arc::new(ldap::LdapConnector::new(s)?),
            ConnectorSettings::Scim(s) => Arc::new(scim::ScimConnector::new(s)?),
            ConnectorSettings::Postgres(s) => Arc::new(postgres::PostgresConnector::new(s)?),
            ConnectorSettings::Webhook(s) => Arc::new(webhook::WebhookConnector::new(s)?),
            ConnectorSettings::Okta(s) => Arc::new(okta::OktaConnector::new(s)?),
        })
    }
}
