//! One bound LDAP connection shared by every operation (ldap3 multiplexes concurrent operations
//! over it), made on first use and made again after it breaks; and the mapping of LDAP result
//! codes to retry or give up.

use ldap3::{Ldap, LdapConnAsync, LdapConnSettings, LdapError, LdapResult};
use secrecy::{ExposeSecret, SecretString};
use sesame_core::ports::ConnectorError;
use std::time::Duration;
use tokio::sync::Mutex;

pub(super) struct Connection {
    url: String,
    starttls: bool,
    bind_dn: String,
    bind_password: SecretString,
    pub(super) timeout: Duration,
    current: Mutex<Option<Ldap>>,
}

impl Connection {
    pub(super) fn new(
        url: String,
        starttls: bool,
        bind_dn: String,
        bind_password: SecretString,
        timeout: Duration,
    ) -> Connection {
        Connection {
            url,
            starttls,
            bind_dn,
            bind_password,
            timeout,
            current: Mutex::new(None),
        }
    }

    /// A bound handle, with this connector's timeout set for its next operation.
    pub(super) async fn handle(&self) -> Result<Ldap, ConnectorError> {
        // Holding the lock while connecting means concurrent callers wait for one connection
        // instead of each opening their own.
        let mut current = self.current.lock().await;
        if let Some(ldap) = current.as_mut() {
            if !ldap.is_closed() {
                let mut ldap = ldap.clone();
                ldap.with_timeout(self.timeout);
                return Ok(ldap);
            }
        }
        *current = None;
        let settings = LdapConnSettings::new()
            .set_conn_timeout(self.timeout)
            .set_starttls(self.starttls);
        let (connection, mut ldap) = LdapConnAsync::with_settings(settings, &self.url)
            .await
            .map_err(|e| ldap_error("connecting", e))?;
        ldap3::drive!(connection);
        ldap.with_timeout(self.timeout)
            .simple_bind(&self.bind_dn, self.bind_password.expose_secret())
            .await
            .and_then(LdapResult::success)
            .map_err(|e| ldap_error("binding", e))?;
        *current = Some(ldap.clone());
        ldap.with_timeout(self.timeout);
        Ok(ldap)
    }

    /// Drops the shared connection after a failure that may have broken it, so the next
    /// operation connects afresh.
    pub(super) async fn forget(&self) {
        *self.current.lock().await = None;
    }
}

/// Result codes that say "not now" (busy, unavailable, a time or admin limit, a server-side
/// timeout) rather than "never".
fn transient(rc: u32) -> bool {
    matches!(rc, 3 | 11 | 51 | 52 | 80 | 81 | 85)
}

/// Whether an error means the connection itself may be gone.
pub(super) fn breaks_connection(error: &ConnectorError) -> bool {
    matches!(error, ConnectorError::Retry { .. })
}

/// An LDAP failure in the server's own words: the result code, its name, the diagnostic text and
/// the matched DN when the server gives them.
pub(super) fn ldap_error(doing: &str, error: LdapError) -> ConnectorError {
    match error {
        LdapError::LdapResult { result } => result_error(doing, &result),
        other => ConnectorError::Retry {
            after: None,
            reason: format!("LDAP server could not be reached ({doing}): {other}"),
        },
    }
}

pub(super) fn result_error(doing: &str, result: &LdapResult) -> ConnectorError {
    let mut reason = format!(
        "LDAP server refused {doing}: {} ({})",
        rc_name(result.rc),
        result.rc
    );
    if !result.text.is_empty() {
        reason.push_str(&format!(": {}", result.text));
    }
    if !result.matched.is_empty() {
        reason.push_str(&format!(" (nearest existing entry: {})", result.matched));
    }
    if transient(result.rc) {
        ConnectorError::Retry {
            after: None,
            reason,
        }
    } else {
        ConnectorError::Permanent(reason)
    }
}

/// RFC 4511's names for the result codes a connector meets.
fn rc_name(rc: u32) -> &'static str {
    match rc {
        0 => "success",
        1 => "operationsError",
        2 => "protocolError",
        3 => "timeLimitExceeded",
        4 => "sizeLimitExceeded",
        8 => "strongerAuthRequired",
        11 => "adminLimitExceeded",
        13 => "confidentialityRequired",
        16 => "noSuchAttribute",
        17 => "undefinedAttributeType",
        18 => "inappropriateMatching",
        19 => "constraintViolation",
        20 => "attributeOrValueExists",
        21 => "invalidAttributeSyntax",
        32 => "noSuchObject",
        34 => "invalidDNSyntax",
        48 => "inappropriateAuthentication",
        49 => "invalidCredentials",
        50 => "insufficientAccessRights",
        51 => "busy",
        52 => "unavailable",
        53 => "unwillingToPerform",
        64 => "namingViolation",
        65 => "objectClassViolation",
        80 => "other",
        _ => "result code",
    }
}
