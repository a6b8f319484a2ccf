//! The `postgres` connector: membership of a login role in a PostgreSQL role (`GRANT role TO
//! login`, `REVOKE role FROM login`), checked in `pg_auth_members`.
//!
//! Role names cannot be bound as parameters, so they are checked (not empty, at most 63 bytes, no
//! NUL) and always written as quoted identifiers; they are used exactly as given, case included.

use crate::target::{self, TargetKeys};
use crate::template::PersonTemplate;
use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use sesame_core::ports::{Connector, ConnectorError, ConnectorOutcome, Grant, Presence};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{Connection, PgConnection};
use std::collections::BTreeMap;
use std::str::FromStr;
use std::time::Duration;
use tokio::sync::OnceCell;

/// `[connectors.<name>]` with `kind = "postgres"`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostgresSettings {
    /// `postgres://user:password@host:5432/db`, of a role allowed to grant the roles flows name
    /// (their admin option, or `CREATEROLE`).
    pub url: SecretString,
    /// The person's login role; `{id}` by default.
    #[serde(default = "default_login")]
    pub login: PersonTemplate,
    #[serde(default = "default_max_connections")]
    pub max_connections: u32,
    #[serde(default = "crate::http::default_timeout_ms")]
    pub timeout_ms: u64,
}

fn default_login() -> PersonTemplate {
    PersonTemplate::parse("{id}").expect("the default template is valid")
}

fn default_max_connections() -> u32 {
    4
}

pub struct PostgresConnector {
    options: PgConnectOptions,
    login: PersonTemplate,
    max_connections: u32,
    timeout: Duration,
    /// Made on first use, so that a server that is down at start only delays grants.
    pool: OnceCell<PgPool>,
}

const TARGET: TargetKeys<'static> = TargetKeys {
    required: &["role"],
    one_of: &[],
};

const SYSTEM: &str = "PostgreSQL";

impl PostgresConnector {
    pub fn new(settings: &PostgresSettings) -> Result<PostgresConnector, String> {
        let url = settings.url.expose_secret();
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return Err(String::from("`url` must be a postgres:// URL"));
        }
        // sqlx's own message may quote the URL, password included, so it is not passed on.
        let timeout = Duration::from_millis(settings.timeout_ms.max(1));
        let options = PgConnectOptions::from_str(url)
            .map_err(|_| String::from("`url` is not a valid PostgreSQL URL"))?
            .application_name("sesame")
            .options([
                ("statement_timeout", timeout.as_millis().to_string()),
                ("lock_timeout", timeout.as_millis().to_string()),
            ]);
        if settings.max_connections == 0 {
            return Err(String::from("`max_connections` must be at least 1"));
        }
        Ok(PostgresConnector {
            options,
            login: settings.login.clone(),
            max_connections: settings.max_connections,
            timeout,
            pool: OnceCell::new(),
        })
    }

    async fn pool(&self) -> &PgPool {
        self.pool
            .get_or_init(|| async {
                PgPoolOptions::new()
                    .max_connections(self.max_connections)
                    .acquire_timeout(self.timeout)
                    .connect_lazy_with(self.options.clone())
            })
            .await
    }

    /// The role and login of a grant, checked.
    fn names(&self, grant: &Grant) -> Result<(String, String), ConnectorError> {
        let role = target::value(&grant.target, "role").map_err(ConnectorError::Permanent)?;
        check_identifier("role", role).map_err(ConnectorError::Permanent)?;
        let login = self.login.render_plain(&grant.person);
        check_identifier("login role", &login).map_err(ConnectorError::Permanent)?;
        Ok((role.to_owned(), login))
    }

    /// The error to report. A pool that timed out says only that; one direct connection
    /// attempt tells why (refused, unknown host, a password refused), which is what a person
    /// reading the failure needs.
    async fn failure(&self, error: sqlx::Error) -> ConnectorError {
        if !matches!(error, sqlx::Error::PoolTimedOut) {
            return database_error(error);
        }
        let attempt =
            tokio::time::timeout(self.timeout, PgConnection::connect_with(&self.options)).await;
        match attempt {
            Ok(Err(cause)) => database_error(cause),
            Ok(Ok(connection)) => {
                let _ = connection.close().await;
                database_error(error)
            }
            Err(_) => database_error(error),
        }
    }

    async fn is_member(&self, role: &str, login: &str) -> Result<bool, ConnectorError> {
        let result = sqlx::query_scalar::<_, bool>(
            "SELECT EXISTS (SELECT 1 FROM pg_auth_members m \
             JOIN pg_roles r ON r.oid = m.roleid JOIN pg_roles u ON u.oid = m.member \
             WHERE r.rolname = $1 AND u.rolname = $2)",
        )
        .bind(role)
        .bind(login)
        .fetch_one(self.pool().await)
        .await;
        match result {
            Ok(member) => Ok(member),
            Err(error) => Err(self.failure(error).await),
        }
    }
}

/// Refuses names PostgreSQL would truncate or cannot hold.
fn check_identifier(what: &str, name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err(format!("the {what} name is empty"));
    }
    if name.len() > 63 {
        return Err(format!("the {what} name {name:?} is longer than 63 bytes"));
    }
    if name.contains('\0') {
        return Err(format!("the {what} name contains a NUL character"));
    }
    Ok(())
}

/// `name` as a quoted identifier: in double quotes, with any double quote doubled.
fn quote_identifier(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Connection failures, pool timeouts, serialization failures, and the server's "try later"
/// states are worth retrying; the rest (no such role, permission denied, bad password) is not.
fn database_error(error: sqlx::Error) -> ConnectorError {
    match &error {
        sqlx::Error::Database(db) => {
            let code = db.code().map(|c| c.into_owned()).unwrap_or_default();
            let reason = format!("{SYSTEM}: {} (SQLSTATE {code})", db.message());
            let transient = code.starts_with("08")
                || code.starts_with("53")
                || code.starts_with("57P")
                || code == "40001"
                || code == "40P01"
                || code == "55P03"
                || code == "57014";
            if transient {
                ConnectorError::Retry {
                    after: None,
                    reason,
                }
            } else {
                ConnectorError::Permanent(reason)
            }
        }
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => ConnectorError::Retry {
            after: None,
            reason: format!("{SYSTEM} could not be reached: {error}"),
        },
        _ => ConnectorError::Permanent(format!("{SYSTEM}: {error}")),
    }
}

#[async_trait]
impl Connector for PostgresConnector {
    fn kind(&self) -> &'static str {
        "postgres"
    }

    fn validate_target(&self, target: &BTreeMap<String, String>) -> Result<(), String> {
        TARGET.check(target)?;
        check_identifier("role", target::value(target, "role")?.trim())
    }

    async fn check(&self, grant: &Grant) -> Result<Presence, ConnectorError> {
        let (role, login) = self.names(grant)?;
        Ok(if self.is_member(&role, &login).await? {
            Presence::Present
        } else {
            Presence::Absent
        })
    }

    async fn grant(&self, grant: &Grant) -> Result<ConnectorOutcome, ConnectorError> {
        let (role, login) = self.names(grant)?;
        // Membership in a superuser role would make the person a superuser: never by a flow.
        let superuser: Option<bool> =
            match sqlx::query_scalar("SELECT rolsuper FROM pg_roles WHERE rolname = $1")
                .bind(&role)
                .fetch_optional(self.pool().await)
                .await
            {
                Ok(superuser) => superuser,
                Err(error) => return Err(self.failure(error).await),
            };
        if superuser == Some(true) {
            return Err(ConnectorError::Permanent(format!(
                "{SYSTEM}: role {role:?} is a superuser role; Sesame does not grant it"
            )));
        }
        // Granting a membership that exists is a notice, not an error, in PostgreSQL.
        let statement = format!(
            "GRANT {} TO {}",
            quote_identifier(&role),
            quote_identifier(&login)
        );
        if let Err(error) = sqlx::raw_sql(&statement).execute(self.pool().await).await {
            return Err(self.failure(error).await);
        }
        Ok(ConnectorOutcome::Done)
    }

    async fn revoke(&self, grant: &Grant) -> Result<ConnectorOutcome, ConnectorError> {
        let (role, login) = self.names(grant)?;
        // Revoking a membership that does not exist is a warning, not an error, in PostgreSQL.
        let statement = format!(
            "REVOKE {} FROM {}",
            quote_identifier(&role),
            quote_identifier(&login)
        );
        if let Err(error) = sqlx::raw_sql(&statement).execute(self.pool().await).await {
            return Err(self.failure(error).await);
        }
        // REVOKE removes only what this connector's role granted; a membership another role
        // granted survives it, and saying "done" then would be a lie.
        if self.is_member(&role, &login).await? {
            return Err(ConnectorError::Permanent(format!(
                "{SYSTEM}: {login:?} is still a member of {role:?} after REVOKE: another role \
                 granted the membership, and only it (or a superuser) can take it back"
            )));
        }
        Ok(ConnectorOutcome::Done)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_quoted_and_checked() {
        assert_eq!(quote_identifier("analyst"), "\"analyst\"");
        assert_eq!(
            quote_identifier("x\"; DROP ROLE y; --"),
            "\"x\"\"; DROP ROLE y; --\""
        );
        assert!(check_identifier("role", "").is_err());
        assert!(check_identifier("role", &"r".repeat(64)).is_err());
        assert!(check_identifier("role", "a\0b").is_err());
        assert!(check_identifier("role", "Read Only").is_ok());
    }
}
