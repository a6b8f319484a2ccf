//! The `ldap` connector: membership of a person in an LDAP group (`member` of a `groupOfNames`,
//! or `memberUid` of a `posixGroup`), added and removed with a modify, checked with a compare.
//!
//! The person is found from a DN template (`uid={id},ou=people,dc=example,dc=com`) or a search
//! (`person_search_base` and `person_filter`, `(mail={email})` by default); values are escaped
//! for DNs and filters so a person's id cannot change their shape. Either way the entry must
//! exist: slapd does not check that a `member` value names anything, so without the look-up a
//! typo would "succeed".

mod connection;

use crate::target::{self, TargetKeys};
use crate::template::PersonTemplate;
use async_trait::async_trait;
use connection::{breaks_connection, ldap_error, result_error, Connection};
use ldap3::{Ldap, Mod, Scope, SearchEntry};
use secrecy::SecretString;
use serde::Deserialize;
use sesame_core::ports::{Connector, ConnectorError, ConnectorOutcome, Grant, Presence};
use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

/// `[connectors.<name>]` with `kind = "ldap"`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LdapSettings {
    /// `ldap://host:389` or `ldaps://host:636`.
    pub url: String,
    /// Upgrade an `ldap://` connection with StartTLS before binding.
    #[serde(default)]
    pub starttls: bool,
    pub bind_dn: String,
    pub bind_password: SecretString,
    /// The person's DN, such as `uid={id},ou=people,dc=example,dc=com`.
    pub person_dn: Option<PersonTemplate>,
    /// Or: where to search for the person...
    pub person_search_base: Option<String>,
    /// ...and with which filter (`(mail={email})` by default).
    pub person_filter: Option<PersonTemplate>,
    /// The group attribute that lists members: `member` (the default), `uniqueMember`,
    /// `memberUid`...
    #[serde(default = "default_member_attribute")]
    pub member_attribute: String,
    /// What the member attribute holds: `dn` (the default) or an attribute of the person's entry,
    /// such as `uid` for `memberUid`.
    #[serde(default = "default_member_value")]
    pub member_value: String,
    #[serde(default = "crate::http::default_timeout_ms")]
    pub timeout_ms: u64,
}

fn default_member_attribute() -> String {
    String::from("member")
}

fn default_member_value() -> String {
    String::from("dn")
}

enum PersonLookup {
    Template(PersonTemplate),
    Search {
        base: String,
        filter: PersonTemplate,
    },
}

pub struct LdapConnector {
    connection: Connection,
    person: PersonLookup,
    member_attribute: String,
    /// `None` for the person's DN, else the attribute of their entry.
    member_value: Option<String>,
}

const TARGET: TargetKeys<'static> = TargetKeys {
    required: &["group"],
    one_of: &[],
};

impl LdapConnector {
    pub fn new(settings: &LdapSettings) -> Result<LdapConnector, String> {
        let url =
            url::Url::parse(settings.url.trim()).map_err(|e| format!("`url` is not a URL: {e}"))?;
        if !matches!(url.scheme(), "ldap" | "ldaps") || url.host_str().is_none() {
            return Err(String::from(
                "`url` must be an ldap:// or ldaps:// URL with a host",
            ));
        }
        if settings.starttls && url.scheme() == "ldaps" {
            return Err(String::from(
                "`starttls` is for ldap:// URLs; ldaps:// is TLS already",
            ));
        }
        if settings.bind_dn.trim().is_empty() {
            return Err(String::from("`bind_dn` is empty"));
        }
        let person = match (&settings.person_dn, &settings.person_search_base) {
            (Some(template), None) => {
                if settings.person_filter.is_some() {
                    return Err(String::from(
                        "`person_filter` goes with `person_search_base`, not `person_dn`",
                    ));
                }
                PersonLookup::Template(template.clone())
            }
            (None, Some(base)) if !base.trim().is_empty() => PersonLookup::Search {
                base: base.trim().to_owned(),
                filter: match &settings.person_filter {
                    Some(filter) => filter.clone(),
                    None => PersonTemplate::parse("(mail={email})")?,
                },
            },
            _ => {
                return Err(String::from(
                    "give exactly one of `person_dn` (a template such as \
                     \"uid={id},ou=people,dc=example,dc=com\") and `person_search_base`",
                ))
            }
        };
        let attribute = |value: &str, what: &str| -> Result<String, String> {
            let value = value.trim();
            if value.is_empty() || !value.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
                return Err(format!(
                    "`{what}` must be an attribute name, such as member"
                ));
            }
            Ok(value.to_owned())
        };
        let member_attribute = attribute(&settings.member_attribute, "member_attribute")?;
        let member_value = match settings.member_value.trim() {
            "dn" => None,
            other => Some(attribute(other, "member_value")?),
        };
        Ok(LdapConnector {
            connection: Connection::new(
                url.to_string(),
                settings.starttls,
                settings.bind_dn.trim().to_owned(),
                settings.bind_password.clone(),
                Duration::from_millis(settings.timeout_ms.max(1)),
            ),
            person,
            member_attribute,
            member_value,
        })
    }

    /// Runs `operation` on a bound handle, dropping the connection when it failed in a way that
    /// may have broken it.
    async fn with_handle<T, F, Fut>(&self, operation: F) -> Result<T, ConnectorError>
    where
        F: FnOnce(Ldap) -> Fut,
        Fut: std::future::Future<Output = Result<T, ConnectorError>>,
    {
        let handle = self.connection.handle().await?;
        let result = operation(handle).await;
        if let Err(error) = &result {
            if breaks_connection(error) {
                self.connection.forget().await;
            }
        }
        result
    }

    /// The value that names `grant`'s person in the group's member attribute.
    async fn member_value(&self, ldap: &mut Ldap, grant: &Grant) -> Result<String, ConnectorError> {
        let wanted: Vec<&str> = match &self.member_value {
            Some(attribute) => vec![attribute.as_str()],
            None => vec!["1.1"],
        };
        let (base, scope, filter) = match &self.person {
            PersonLookup::Template(template) => (
                template.render(&grant.person, ldap3::dn_escape),
                Scope::Base,
                String::from("(objectClass=*)"),
            ),
            PersonLookup::Search { base, filter } => (
                base.clone(),
                Scope::Subtree,
                filter.render(&grant.person, ldap3::ldap_escape),
            ),
        };
        let (entries, _) = ldap
            .with_timeout(self.connection.timeout)
            .search(&base, scope, &filter, wanted)
            .await
            .and_then(|r| r.success())
            .map_err(|e| ldap_error(&format!("looking up the person ({base})"), e))?;
        let entry = match entries.len() {
            1 => entries.into_iter().next(),
            0 => None,
            n => {
                return Err(ConnectorError::Permanent(format!(
                    "{n} LDAP entries under {base} match {filter}; expected one person"
                )))
            }
        };
        let Some(entry) = entry else {
            return Err(ConnectorError::Permanent(format!(
                "no LDAP entry under {base} matches {filter}"
            )));
        };
        // ldap3 panics on a malformed entry instead of returning an error; a bad answer from
        // the server must not take the worker down with it.
        let entry = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            SearchEntry::construct(entry)
        }))
        .map_err(|_| {
            ConnectorError::Permanent(format!("the LDAP server sent a malformed entry for {base}"))
        })?;
        match &self.member_value {
            None => Ok(entry.dn),
            Some(attribute) => entry
                .attrs
                .iter()
                .find(|(name, _)| name.eq_ignore_ascii_case(attribute))
                .and_then(|(_, values)| values.first().cloned())
                .ok_or_else(|| {
                    ConnectorError::Permanent(format!(
                        "the LDAP entry {} has no {attribute}",
                        entry.dn
                    ))
                }),
        }
    }

    /// Adds or deletes the person's value; `harmless` is the result code that means the change
    /// was already in place (attributeOrValueExists for an add, noSuchAttribute for a delete).
    async fn modify(&self, grant: &Grant, add: bool) -> Result<ConnectorOutcome, ConnectorError> {
        let group = target::value(&grant.target, "group").map_err(ConnectorError::Permanent)?;
        let (harmless, doing) = if add {
            (20, format!("adding the member to {group}"))
        } else {
            (16, format!("removing the member from {group}"))
        };
        self.with_handle(|mut ldap| async move {
            let value = self.member_value(&mut ldap, grant).await?;
            let values = HashSet::from([value]);
            let change = if add {
                Mod::Add(self.member_attribute.clone(), values)
            } else {
                Mod::Delete(self.member_attribute.clone(), values)
            };
            let result = ldap
                .with_timeout(self.connection.timeout)
                .modify(group, vec![change])
                .await
                .map_err(|e| ldap_error(&doing, e))?;
            if result.rc == 0 || result.rc == harmless {
                Ok(ConnectorOutcome::Done)
            } else {
                Err(result_error(&doing, &result))
            }
        })
        .await
    }
}

#[async_trait]
impl Connector for LdapConnector {
    fn kind(&self) -> &'static str {
        "ldap"
    }

    fn validate_target(&self, target: &BTreeMap<String, String>) -> Result<(), String> {
        TARGET.check(target)?;
        let group = target::value(target, "group")?;
        if !group.contains('=') {
            return Err(format!(
                "`group` must be the group's DN, such as cn=vpn,ou=groups,dc=example,dc=com \
                 (got {group:?})"
            ));
        }
        Ok(())
    }

    async fn check(&self, grant: &Grant) -> Result<Presence, ConnectorError> {
        let group = target::value(&grant.target, "group").map_err(ConnectorError::Permanent)?;
        self.with_handle(|mut ldap| async move {
            let value = self.member_value(&mut ldap, grant).await?;
            let doing = format!("checking the membership in {group}");
            let result = ldap
                .with_timeout(self.connection.timeout)
                .compare(group, &self.member_attribute, value.as_bytes())
                .await
                .map_err(|e| ldap_error(&doing, e))?;
            match result.0.rc {
                6 => Ok(Presence::Present),
                // compareFalse, or noSuchAttribute: a group with no members at all.
                5 | 16 => Ok(Presence::Absent),
                _ => Err(result_error(&doing, &result.0)),
            }
        })
        .await
    }

    async fn grant(&self, grant: &Grant) -> Result<ConnectorOutcome, ConnectorError> {
        self.modify(grant, true).await
    }

    async fn revoke(&self, grant: &Grant) -> Result<ConnectorOutcome, ConnectorError> {
        self.modify(grant, false).await
    }
}
