//! The `okta` connector against the test kit's fake Okta, which checks what Okta's management API
//! checks (the SSWS token, ids, its rate limit) and answers with Okta's error objects, pagination
//! links and rate limit headers.

mod common;

use common::*;
use sesame_connectors::{Connector, Presence};
use sesame_testkit::fake_okta::FakeOkta;
use std::sync::Arc;
use std::time::Duration;

fn okta(fake: &FakeOkta, extra: &str) -> Arc<dyn Connector> {
    connector(&format!(
        "kind = \"okta\"\nbase_url = {:?}\ntoken = {:?}\ntimeout_ms = 3000\n{extra}",
        fake.base_url(),
        fake.token()
    ))
}

#[tokio::test]
async fn a_user_found_by_login_joins_and_leaves_a_group_found_by_name() {
    let fake = FakeOkta::start().await;
    let alice = fake.add_user("alice@example.com", "alice@example.com");
    let vpn = fake.add_group("vpn");
    fake.add_group("vpn-admins");
    let connector = okta(&fake, "login = \"{id}@example.com\"");
    let grant = grant("alice", "", &[("group", "vpn")]);
    connector.validate_target(&grant.target).unwrap();
    assert_idempotent_lifecycle(connector.as_ref(), &grant).await;
    connector.grant(&grant).await.unwrap();
    assert_eq!(fake.members(&vpn), vec![alice]);
    let put = fake
        .calls()
        .into_iter()
        .find(|c| c.method == "PUT")
        .unwrap();
    assert_eq!(
        put.uri,
        format!("/api/v1/groups/{vpn}/users/{}", fake.members(&vpn)[0])
    );
    assert_eq!(put.status, 204);
}

#[tokio::test]
async fn a_check_follows_next_links_through_every_page() {
    let fake = FakeOkta::start().await;
    fake.set_page_size(2);
    let bob = fake.add_user("bob", "bob@example.com");
    let mut groups = Vec::new();
    for n in 0..7 {
        let group = fake.add_group(&format!("team-{n}"));
        fake.add_member(&group, &bob);
        groups.push(group);
    }
    let last = fake.add_group("last");
    let connector = okta(&fake, "user_match = \"email\"");
    let grant = grant("robert", "bob@example.com", &[("group_id", &last)]);
    assert_idempotent_lifecycle(connector.as_ref(), &grant).await;
    connector.grant(&grant).await.unwrap();
    assert_eq!(connector.check(&grant).await.unwrap(), Presence::Present);
    let pages = fake
        .calls()
        .into_iter()
        .filter(|c| c.uri.contains("/groups?") || c.uri.contains("/groups&"))
        .filter(|c| c.uri.contains("after="))
        .count();
    assert!(
        pages >= 3,
        "the group is on the last of four pages; followed {pages} next links"
    );
}

#[tokio::test]
async fn unknown_users_and_groups_are_permanent_with_oktas_error() {
    let fake = FakeOkta::start().await;
    fake.add_user("carol", "carol@example.com");
    let connector = okta(&fake, "");
    let nobody = grant("nobody", "", &[("group", "vpn")]);
    assert_permanent(
        connector.grant(&nobody).await,
        "404 Not Found: E0000007: Not found: Resource not found: nobody (User)",
    );
    let no_group = grant("carol", "", &[("group_id", "00gnosuchgroup0000")]);
    assert_permanent(
        connector.grant(&no_group).await,
        "E0000007: Not found: Resource not found: 00gnosuchgroup0000 (UserGroup)",
    );
    assert_permanent(connector.check(&no_group).await, "E0000007");
    let no_name = grant("carol", "", &[("group", "nope")]);
    assert_permanent(
        connector.revoke(&no_name).await,
        "has no group matching profile.name eq \"nope\"",
    );
}

#[tokio::test]
async fn a_wrong_token_is_permanent() {
    let fake = FakeOkta::start().await;
    fake.add_user("dana", "dana@example.com");
    let connector = connector(&format!(
        "kind = \"okta\"\nbase_url = {:?}\ntoken = \"00wrong-token\"\n",
        fake.base_url()
    ));
    let grant = grant("dana", "", &[("group", "vpn")]);
    let result = connector.grant(&grant).await;
    assert_permanent(
        result.clone(),
        "401 Unauthorized: E0000011: Invalid token provided",
    );
    assert!(
        !format!("{result:?}").contains("00wrong-token"),
        "the token is never in a message"
    );
}

#[tokio::test]
async fn a_429_is_retried_after_the_reset_and_calls_wait_for_it() {
    let fake = FakeOkta::start().await;
    let erin = fake.add_user("erin", "erin@example.com");
    let vpn = fake.add_group("vpn");
    fake.set_rate_limit(3, Duration::from_secs(60));
    // Two replicas share the org's limit; each knows only what its own answers said.
    let first = okta(&fake, "");
    let second = okta(&fake, "");
    let grant = grant("erin", "", &[("group_id", &vpn)]);
    first.grant(&grant).await.unwrap();
    // The third call uses the window up; the second replica has not heard and is refused.
    first
        .check(&grant)
        .await
        .expect_err("the listing waits for the reset");
    let after = assert_retry(
        second.grant(&grant).await,
        "429 Too Many Requests: E0000047",
    );
    let after = after.expect("a 429 says when to come back");
    assert!(
        after > Duration::from_secs(50) && after <= Duration::from_secs(61),
        "{after:?}"
    );
    // Until the reset both wait without calling Okta again.
    let calls = fake.calls().len();
    let after = assert_retry(second.check(&grant).await, "rate limit is used up");
    assert!(after.expect("the reset") > Duration::from_secs(50));
    assert_retry(first.revoke(&grant).await, "rate limit is used up");
    assert_eq!(
        fake.calls().len(),
        calls,
        "no call while the limit is used up"
    );
    assert_eq!(fake.members(&vpn), vec![erin]);
}

#[tokio::test]
async fn remaining_zero_holds_calls_back_before_okta_refuses_them() {
    let fake = FakeOkta::start().await;
    fake.add_user("frank", "frank@example.com");
    let vpn = fake.add_group("vpn");
    fake.set_rate_limit(2, Duration::from_secs(60));
    let connector = okta(&fake, "");
    let grant = grant("frank", "", &[("group_id", &vpn)]);
    // User look-up and PUT: the second answer says nothing remains.
    connector.grant(&grant).await.unwrap();
    assert_retry(connector.revoke(&grant).await, "rate limit is used up");
    assert!(
        fake.calls().iter().all(|c| c.status != 429),
        "Okta never had to refuse"
    );
}

#[tokio::test]
async fn server_errors_and_a_server_that_is_down_are_retried() {
    let fake = FakeOkta::start().await;
    fake.add_user("gina", "gina@example.com");
    let vpn = fake.add_group("vpn");
    let connector = okta(&fake, "");
    let grant = grant("gina", "", &[("group_id", &vpn)]);
    fake.fail_next(500);
    assert_retry(connector.grant(&grant).await, "500 Internal Server Error");
    connector.grant(&grant).await.expect("the next try works");

    let down = connector_for_port(closed_port());
    assert_retry(down.grant(&grant).await, "could not be reached");
}

fn connector_for_port(port: u16) -> Arc<dyn Connector> {
    connector(&format!(
        "kind = \"okta\"\nbase_url = \"http://127.0.0.1:{port}\"\ntoken = \"x\"\n"
    ))
}
