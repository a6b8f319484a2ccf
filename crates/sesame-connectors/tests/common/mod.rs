//! What the connector tests share: finding the real servers scripts/test.sh starts, building
//! connectors from configuration text as `sesame serve` does, and grants.
#![allow(dead_code)]

use sesame_connectors::{
    Connector, ConnectorError, ConnectorOutcome, ConnectorSettings, Grant, GrantPerson, Presence,
};
use sesame_core::{RequestNumber, UserId};
use std::sync::Arc;

/// The value of a variable naming a test server. Under CI it must be set: a connector test that
/// quietly does nothing would be a lie.
pub fn server_env(name: &str, started_by: &str) -> Option<String> {
    match std::env::var(name) {
        Ok(value) if !value.is_empty() => Some(value),
        _ if std::env::var_os("CI").is_some() => {
            panic!("{name} must be set under CI ({started_by} starts the server; scripts/test.sh sets it)")
        }
        _ => {
            eprintln!(
                "note: {name} is not set ({started_by} starts the server); this test did not run"
            );
            None
        }
    }
}

/// A connector from the TOML of one `[connectors.<name>]` section.
pub fn connector(settings: &str) -> Arc<dyn Connector> {
    let settings: ConnectorSettings = toml::from_str(settings).expect("connector settings");
    settings.build().expect("connector")
}

pub fn grant(id: &str, email: &str, target: &[(&str, &str)]) -> Grant {
    Grant {
        request: RequestNumber(117),
        person: GrantPerson {
            id: UserId::new(id).expect("user id"),
            email: email.to_owned(),
            display_name: id.to_owned(),
        },
        target: target
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    }
}

/// A port on 127.0.0.1 with nothing listening.
pub fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("address").port();
    drop(listener);
    port
}

/// A suffix that keeps names of one run apart from those of runs before it on the same server.
pub fn unique() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos();
    format!("{}{:x}", std::process::id(), nanos % 0xffff_ffff)
}

/// The whole story every connector must tell about one grant: absent, granted, present, granted
/// again (idempotent), revoked, absent, revoked again (idempotent).
pub async fn assert_idempotent_lifecycle(connector: &dyn Connector, grant: &Grant) {
    // A run before this one may have stopped half-way; start from nothing.
    connector.revoke(grant).await.expect("clean up");
    assert_eq!(
        connector.check(grant).await.expect("check before"),
        Presence::Absent
    );
    assert_eq!(
        connector.grant(grant).await.expect("grant"),
        ConnectorOutcome::Done
    );
    assert_eq!(
        connector.check(grant).await.expect("check after grant"),
        Presence::Present
    );
    assert_eq!(
        connector.grant(grant).await.expect("grant again"),
        ConnectorOutcome::Done,
        "granting what is there succeeds"
    );
    assert_eq!(
        connector.check(grant).await.expect("check"),
        Presence::Present
    );
    assert_eq!(
        connector.revoke(grant).await.expect("revoke"),
        ConnectorOutcome::Done
    );
    assert_eq!(
        connector.check(grant).await.expect("check after revoke"),
        Presence::Absent
    );
    assert_eq!(
        connector.revoke(grant).await.expect("revoke again"),
        ConnectorOutcome::Done,
        "removing what is absent succeeds"
    );
    assert_eq!(
        connector.check(grant).await.expect("check at the end"),
        Presence::Absent
    );
}

/// The message of a `Permanent` error, which must contain `expected`.
pub fn assert_permanent<T: std::fmt::Debug>(result: Result<T, ConnectorError>, expected: &str) {
    match result {
        Err(ConnectorError::Permanent(message)) => {
            assert!(
                message.contains(expected),
                "expected {expected:?} in {message:?}"
            )
        }
        other => panic!("expected a permanent error with {expected:?}, got {other:?}"),
    }
}

/// A `Retry` error; returns its `after`.
pub fn assert_retry<T: std::fmt::Debug>(
    result: Result<T, ConnectorError>,
    expected: &str,
) -> Option<std::time::Duration> {
    match result {
        Err(ConnectorError::Retry { after, reason }) => {
            assert!(
                reason.contains(expected),
                "expected {expected:?} in {reason:?}"
            );
            after
        }
        other => panic!("expected a retry with {expected:?}, got {other:?}"),
    }
}
