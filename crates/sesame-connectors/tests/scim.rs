//! The `scim` connector against scim2-server (scripts/scim-server.sh), a SCIM 2.0 service provider
//! that starts empty: each test creates the users and groups it needs through SCIM itself, with
//! names of its own.

mod common;

use common::*;
use serde_json::{json, Value};
use sesame_connectors::Connector;
use std::sync::Arc;

struct Server {
    url: String,
    token: String,
}

fn server() -> Option<Server> {
    Some(Server {
        url: server_env("SESAME_TEST_SCIM_URL", "scripts/scim-server.sh")?,
        token: server_env("SESAME_TEST_SCIM_TOKEN", "scripts/scim-server.sh")?,
    })
}

impl Server {
    /// Creates a resource with SCIM's POST; returns its id.
    async fn create(&self, endpoint: &str, body: Value) -> String {
        let response = reqwest::Client::new()
            .post(format!("{}/{endpoint}", self.url))
            .bearer_auth(&self.token)
            .header("content-type", "application/scim+json")
            .body(body.to_string())
            .send()
            .await
            .expect("scim2-server answers");
        assert!(
            response.status().is_success(),
            "creating in {endpoint}: {}",
            response.status()
        );
        let created: Value = response.json().await.expect("JSON");
        created["id"].as_str().expect("an id").to_owned()
    }

    async fn user(&self, user_name: &str, email: &str) -> String {
        self.create(
            "Users",
            json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                "userName": user_name,
                "emails": [{ "value": email, "primary": true }],
            }),
        )
        .await
    }

    async fn group(&self, name: &str) -> String {
        self.create(
            "Groups",
            json!({ "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": name }),
        )
        .await
    }

    fn connector(&self, extra: &str) -> Arc<dyn Connector> {
        connector(&format!(
            "kind = \"scim\"\nbase_url = {:?}\ntoken = {:?}\ntimeout_ms = 3000\n{extra}",
            self.url, self.token
        ))
    }
}

#[tokio::test]
async fn members_found_by_user_name_join_and_leave_a_group_named_by_display_name() {
    let Some(server) = server() else { return };
    let run = unique();
    let id = format!("dana{run}");
    server.user(&id, &format!("{id}@example.com")).await;
    let group = format!("vpn-{run}");
    server.group(&group).await;
    let connector = server.connector("");
    let grant = grant(&id, "", &[("group", &group)]);
    connector.validate_target(&grant.target).unwrap();
    assert_idempotent_lifecycle(connector.as_ref(), &grant).await;
}

#[tokio::test]
async fn members_found_by_email_join_and_leave_a_group_named_by_id() {
    let Some(server) = server() else { return };
    let run = unique();
    let email = format!("erin.{run}@example.com");
    server.user(&format!("erin-scim-{run}"), &email).await;
    let group = server.group(&format!("wiki-{run}")).await;
    // Another member keeps the group from ever being empty, so the check must pick the person.
    server
        .user(&format!("frank-{run}"), &format!("frank.{run}@example.com"))
        .await;
    let connector = server.connector("user_match = \"email\"");
    let frank = grant(
        "frank",
        &format!("frank.{run}@example.com"),
        &[("group_id", &group)],
    );
    connector.grant(&frank).await.expect("frank joins");
    let grant = grant("erin", &email, &[("group_id", &group)]);
    assert_idempotent_lifecycle(connector.as_ref(), &grant).await;
    assert_eq!(
        connector.check(&frank).await.unwrap(),
        sesame_connectors::Presence::Present,
        "removing erin left frank in the group"
    );
}

#[tokio::test]
async fn unknown_people_and_groups_are_permanent_failures() {
    let Some(server) = server() else { return };
    let run = unique();
    let id = format!("gina{run}");
    server.user(&id, &format!("{id}@example.com")).await;
    let connector = server.connector("");

    let nobody = grant(&format!("nobody{run}"), "", &[("group", "anything")]);
    assert_permanent(
        connector.grant(&nobody).await,
        "has no user matching userName eq",
    );

    let no_group = grant(&id, "", &[("group", &format!("no-such-group-{run}"))]);
    assert_permanent(
        connector.grant(&no_group).await,
        "has no group matching displayName eq",
    );

    // An unknown group id reaches the server, and its own message comes back.
    let no_id = grant(&id, "", &[("group_id", "0000no0such0group")]);
    assert_permanent(connector.grant(&no_id).await, "not found");
    assert_permanent(connector.check(&no_id).await, "not found");
}

#[tokio::test]
async fn a_wrong_token_is_permanent_and_a_server_that_is_down_is_retried() {
    let Some(server) = server() else { return };
    let grant = grant("alice", "", &[("group", "vpn")]);
    let wrong = connector(&format!(
        "kind = \"scim\"\nbase_url = {:?}\ntoken = \"not-the-token\"\n",
        server.url
    ));
    assert_permanent(
        wrong.grant(&grant).await,
        "401 Unauthorized: Authorization failure",
    );

    let down = connector(&format!(
        "kind = \"scim\"\nbase_url = \"http://127.0.0.1:{}/v2\"\ntoken = \"t\"\n",
        closed_port()
    ));
    assert_retry(down.grant(&grant).await, "could not be reached");
}
