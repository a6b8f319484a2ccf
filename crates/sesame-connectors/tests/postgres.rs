//! The `postgres` connector against the PostgreSQL server the tests start (scripts/postgres.sh,
//! `SESAME_TEST_POSTGRES_URL`). Roles are cluster-wide, so each test makes its own, with names of
//! its own, and drops them at the end.

mod common;

use common::*;
use sesame_connectors::{Connector, Presence};
use sqlx::{Connection, Executor, PgConnection};
use std::sync::Arc;

async fn admin() -> Option<(String, PgConnection)> {
    let url = sesame_testkit::postgres_admin_url()?;
    let connection = PgConnection::connect(&url).await.expect("connect as admin");
    Some((url, connection))
}

fn postgres(url: &str) -> Arc<dyn Connector> {
    connector(&format!(
        "kind = \"postgres\"\nurl = {url:?}\ntimeout_ms = 3000\nlogin = \"{{id}}_{{email_local}}\""
    ))
}

/// Makes `roles` (quoted, as given) and returns a guard-like list to drop them with.
async fn create_roles(admin: &mut PgConnection, roles: &[(&str, &str)]) {
    for (name, options) in roles {
        let quoted = format!("\"{}\"", name.replace('"', "\"\""));
        admin
            .execute(format!("DROP ROLE IF EXISTS {quoted}").as_str())
            .await
            .expect("drop role");
        admin
            .execute(format!("CREATE ROLE {quoted} {options}").as_str())
            .await
            .expect("create role");
    }
}

async fn drop_roles(admin: &mut PgConnection, roles: &[&str]) {
    for name in roles {
        let quoted = format!("\"{}\"", name.replace('"', "\"\""));
        let _ = admin
            .execute(format!("DROP ROLE IF EXISTS {quoted}").as_str())
            .await;
    }
}

#[tokio::test]
async fn a_login_role_joins_and_leaves_a_role_idempotently() {
    let Some((url, mut admin)) = admin().await else {
        return;
    };
    let run = unique();
    let role = format!("analytics_ro_{run}");
    // The login template is "{id}_{email_local}".
    let login = format!("dana_d{run}");
    create_roles(&mut admin, &[(&role, "NOLOGIN"), (&login, "LOGIN")]).await;
    let connector = postgres(&url);
    let grant = grant("dana", &format!("d{run}@example.com"), &[("role", &role)]);
    connector.validate_target(&grant.target).unwrap();
    assert_idempotent_lifecycle(connector.as_ref(), &grant).await;
    drop_roles(&mut admin, &[&role, &login]).await;
}

#[tokio::test]
async fn role_names_are_quoted_never_spliced() {
    let Some((url, mut admin)) = admin().await else {
        return;
    };
    let run = unique();
    // A name that would end the statement if it were pasted in unquoted.
    let role = format!("Read \"Only\"; DROP ROLE x{run}; --");
    let login = format!("erin_e{run}");
    create_roles(&mut admin, &[(&role, "NOLOGIN"), (&login, "LOGIN")]).await;
    let connector = postgres(&url);
    let grant = grant("erin", &format!("e{run}@example.com"), &[("role", &role)]);
    assert_idempotent_lifecycle(connector.as_ref(), &grant).await;
    drop_roles(&mut admin, &[&role, &login]).await;
}

#[tokio::test]
async fn unknown_roles_and_logins_are_permanent_failures_in_the_servers_words() {
    let Some((url, mut admin)) = admin().await else {
        return;
    };
    let run = unique();
    let role = format!("wiki_{run}");
    let login = format!("gina_g{run}");
    create_roles(&mut admin, &[(&role, "NOLOGIN"), (&login, "LOGIN")]).await;
    let connector = postgres(&url);

    let no_role = grant(
        "gina",
        &format!("g{run}@example.com"),
        &[("role", "no_such_role_anywhere")],
    );
    assert_permanent(
        connector.grant(&no_role).await,
        "role \"no_such_role_anywhere\" does not exist (SQLSTATE 42704)",
    );
    let nobody = grant("nobody", &format!("n{run}@example.com"), &[("role", &role)]);
    assert_permanent(
        connector.grant(&nobody).await,
        &format!("role \"nobody_n{run}\" does not exist"),
    );
    assert_eq!(connector.check(&nobody).await.unwrap(), Presence::Absent);

    // Membership in a superuser role would make anyone a superuser.
    let superuser = grant(
        "gina",
        &format!("g{run}@example.com"),
        &[("role", "postgres")],
    );
    assert_permanent(connector.grant(&superuser).await, "is a superuser role");
    drop_roles(&mut admin, &[&role, &login]).await;
}

#[tokio::test]
async fn a_connector_role_without_the_right_to_grant_is_refused_by_the_server() {
    let Some((url, mut admin)) = admin().await else {
        return;
    };
    let run = unique();
    let role = format!("payroll_{run}");
    let login = format!("hank_h{run}");
    let granter = format!("granter_{run}");
    create_roles(
        &mut admin,
        &[(&role, "NOLOGIN"), (&login, "LOGIN"), (&granter, "LOGIN")],
    )
    .await;
    // The test server trusts local connections, so only the user name changes.
    let (prefix, rest) = url.split_once("://").expect("a URL");
    let host = rest.split_once('@').map_or(rest, |(_, host)| host);
    let as_granter = postgres(&format!("{prefix}://{granter}@{host}"));
    let grant = grant("hank", &format!("h{run}@example.com"), &[("role", &role)]);
    assert_permanent(as_granter.grant(&grant).await, "SQLSTATE 42501");
    drop_roles(&mut admin, &[&role, &login, &granter]).await;

    // A role that cannot log in at all: the server's refusal, not a retry.
    let as_nobody = postgres(&format!("{prefix}://no_such_login_{run}@{host}"));
    assert_permanent(as_nobody.check(&grant).await, "does not exist");
}

#[tokio::test]
async fn a_server_that_is_down_is_worth_retrying() {
    if sesame_testkit::postgres_admin_url().is_none() {
        return;
    }
    // A short timeout: the pool tries to connect until it runs out.
    let connector = connector(&format!(
        "kind = \"postgres\"\nurl = \"postgres://postgres@127.0.0.1:{}/postgres\"\ntimeout_ms = 500\n",
        closed_port()
    ));
    let grant = grant("dana", "d@example.com", &[("role", "analytics")]);
    // The pool only says it timed out; the connector finds out why.
    assert_retry(connector.grant(&grant).await, "Connection refused");
    assert_retry(connector.check(&grant).await, "could not be reached");
}

#[test]
fn flows_must_name_a_role_postgres_can_hold() {
    let connector = postgres("postgres://u@127.0.0.1:1/db");
    let target = |pairs: &[(&str, &str)]| grant("dana", "", pairs).target;
    assert!(connector
        .validate_target(&target(&[("role", "analytics")]))
        .is_ok());
    assert!(connector
        .validate_target(&target(&[]))
        .unwrap_err()
        .contains("missing `role`"));
    let long = "r".repeat(64);
    assert!(connector
        .validate_target(&target(&[("role", &long)]))
        .unwrap_err()
        .contains("longer than 63 bytes"));
}
