//! The `ldap` connector against OpenLDAP's slapd (scripts/ldap.sh: people alice, bob and carol
//! under ou=people, groupOfNames vpn and wiki and posixGroup devs under ou=groups, a read-only
//! cn=reader). Each test uses its own group, so they run side by side.

mod common;

use common::*;
use sesame_connectors::Connector;
use std::sync::Arc;

const PEOPLE: &str = "ou=people,dc=example,dc=com";

struct Server {
    url: String,
    bind_dn: String,
    bind_password: String,
}

fn server() -> Option<Server> {
    let url = server_env("SESAME_TEST_LDAP_URL", "scripts/ldap.sh")?;
    let bind_dn = server_env("SESAME_TEST_LDAP_BIND_DN", "scripts/ldap.sh")?;
    let bind_password = server_env("SESAME_TEST_LDAP_BIND_PASSWORD", "scripts/ldap.sh")?;
    Some(Server {
        url,
        bind_dn,
        bind_password,
    })
}

fn ldap(url: &str, bind_dn: &str, password: &str, person: &str) -> Arc<dyn Connector> {
    connector(&format!(
        "kind = \"ldap\"\nurl = {url:?}\nbind_dn = {bind_dn:?}\nbind_password = {password:?}\n\
         timeout_ms = 3000\n{person}"
    ))
}

fn by_template(server: &Server) -> Arc<dyn Connector> {
    ldap(
        &server.url,
        &server.bind_dn,
        &server.bind_password,
        &format!("person_dn = \"uid={{id}},{PEOPLE}\""),
    )
}

#[tokio::test]
async fn a_dn_template_member_is_added_checked_and_removed_idempotently() {
    let Some(server) = server() else { return };
    let connector = by_template(&server);
    let grant = grant(
        "alice",
        "alice@example.com",
        &[("group", "cn=vpn,ou=groups,dc=example,dc=com")],
    );
    connector.validate_target(&grant.target).unwrap();
    assert_idempotent_lifecycle(connector.as_ref(), &grant).await;
}

#[tokio::test]
async fn a_person_found_by_mail_is_added_and_removed() {
    let Some(server) = server() else { return };
    let connector = ldap(
        &server.url,
        &server.bind_dn,
        &server.bind_password,
        &format!("person_search_base = {PEOPLE:?}"),
    );
    // The Sesame id differs from the LDAP uid: the search by mail finds bob anyway.
    let grant = grant(
        "robert",
        "bob@example.com",
        &[("group", "cn=wiki,ou=groups,dc=example,dc=com")],
    );
    assert_idempotent_lifecycle(connector.as_ref(), &grant).await;
}

#[tokio::test]
async fn member_uid_groups_hold_the_persons_uid() {
    let Some(server) = server() else { return };
    let connector = ldap(
        &server.url,
        &server.bind_dn,
        &server.bind_password,
        &format!(
            "person_dn = \"uid={{id}},{PEOPLE}\"\nmember_attribute = \"memberUid\"\nmember_value = \"uid\""
        ),
    );
    let grant = grant(
        "carol",
        "carol@example.com",
        &[("group", "cn=devs,ou=groups,dc=example,dc=com")],
    );
    assert_idempotent_lifecycle(connector.as_ref(), &grant).await;
}

#[tokio::test]
async fn unknown_people_and_groups_are_permanent_failures_in_the_servers_words() {
    let Some(server) = server() else { return };
    let connector = by_template(&server);
    let nobody = grant(
        "nobody",
        "nobody@example.com",
        &[("group", "cn=vpn,ou=groups,dc=example,dc=com")],
    );
    assert_permanent(connector.grant(&nobody).await, "noSuchObject (32)");
    assert_permanent(
        connector.check(&nobody).await,
        "nearest existing entry: ou=people,dc=example,dc=com",
    );

    let no_group = grant(
        "alice",
        "alice@example.com",
        &[("group", "cn=nope,ou=groups,dc=example,dc=com")],
    );
    assert_permanent(connector.grant(&no_group).await, "noSuchObject (32)");
    assert_permanent(connector.revoke(&no_group).await, "noSuchObject (32)");

    // An email is escaped into the filter: `*` matches nobody rather than everybody.
    let search = ldap(
        &server.url,
        &server.bind_dn,
        &server.bind_password,
        &format!("person_search_base = {PEOPLE:?}"),
    );
    let wildcard = grant(
        "mallory",
        "*",
        &[("group", "cn=vpn,ou=groups,dc=example,dc=com")],
    );
    assert_permanent(
        search.grant(&wildcard).await,
        "no LDAP entry under ou=people",
    );
}

#[tokio::test]
async fn bad_credentials_and_missing_rights_are_permanent() {
    let Some(server) = server() else { return };
    let grant = grant(
        "alice",
        "alice@example.com",
        &[("group", "cn=vpn,ou=groups,dc=example,dc=com")],
    );
    let person = format!("person_dn = \"uid={{id}},{PEOPLE}\"");
    let wrong = ldap(&server.url, &server.bind_dn, "not-the-password", &person);
    assert_permanent(wrong.grant(&grant).await, "invalidCredentials (49)");

    let reader = ldap(
        &server.url,
        "cn=reader,dc=example,dc=com",
        "reader-password",
        &person,
    );
    assert_eq!(
        reader.check(&grant).await.expect("the reader may read"),
        sesame_connectors::Presence::Absent
    );
    assert_permanent(reader.grant(&grant).await, "insufficientAccessRights (50)");
}

#[tokio::test]
async fn a_server_that_is_down_is_worth_retrying() {
    let Some(server) = server() else { return };
    let down = format!("ldap://127.0.0.1:{}", closed_port());
    let connector = ldap(
        &down,
        &server.bind_dn,
        &server.bind_password,
        "person_dn = \"uid={id},ou=people,dc=example,dc=com\"",
    );
    let grant = grant(
        "alice",
        "alice@example.com",
        &[("group", "cn=vpn,ou=groups,dc=example,dc=com")],
    );
    assert_retry(connector.grant(&grant).await, "could not be reached");
    assert_retry(connector.check(&grant).await, "could not be reached");
}

#[tokio::test]
async fn flows_must_name_a_group_dn_and_nothing_else() {
    let connector = ldap(
        "ldap://127.0.0.1:1",
        "cn=admin",
        "x",
        "person_dn = \"uid={id}\"",
    );
    let target = |pairs: &[(&str, &str)]| grant("alice", "", pairs).target;
    assert!(connector
        .validate_target(&target(&[("group", "cn=vpn,dc=example,dc=com")]))
        .is_ok());
    assert!(connector
        .validate_target(&target(&[]))
        .unwrap_err()
        .contains("missing `group`"));
    assert!(connector
        .validate_target(&target(&[("group", "vpn")]))
        .unwrap_err()
        .contains("must be the group's DN"));
    assert!(connector
        .validate_target(&target(&[("group", "cn=x"), ("role", "y")]))
        .unwrap_err()
        .contains("unknown setting `role`"));
}
