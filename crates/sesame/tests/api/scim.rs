//! SCIM provisioning end to end: the call sequences Okta's and Entra ID's provisioning clients send
//! (from their documentation), filters, pagination, ETags, errors, and what deactivating a person
//! does to their requests.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use sesame_testkit::scim::SCIM_TOKEN;
use sesame_testkit::TestApp;

const PATCH: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

fn okta_user(email: &str) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": email,
        "name": { "givenName": "Nina", "familyName": "New" },
        "emails": [{ "primary": true, "value": email, "type": "work" }],
        "displayName": "Nina New",
        "locale": "en-US",
        "externalId": "00ujl29u0le5T6Aj10h7",
        "groups": [],
        "password": "1mz050nq",
        "active": true
    })
}

#[tokio::test]
async fn okta_sequence_creates_reads_deactivates_and_reactivates() {
    let app = TestApp::spawn_with_scim().await;
    // Okta first looks the person up by user name, with paging parameters.
    let found = app
        .scim(
            Method::GET,
            "/Users?filter=userName%20eq%20%22nina%40example.com%22&startIndex=1&count=100",
            None,
        )
        .await;
    assert_eq!(found.status, StatusCode::OK, "{:?}", found.body);
    assert!(found.content_type.starts_with("application/scim+json"));
    assert_eq!(found.body["totalResults"], 0);
    assert_eq!(found.body["Resources"], json!([]));

    let created = app
        .scim(Method::POST, "/Users", Some(okta_user("nina@example.com")))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    let id = created.body["id"].as_str().unwrap().to_owned();
    assert_eq!(created.body["userName"], "nina@example.com");
    assert_eq!(created.body["externalId"], "00ujl29u0le5T6Aj10h7");
    assert_eq!(created.body["name"]["familyName"], "New");
    assert!(
        created.body.get("password").is_none(),
        "passwords are never kept"
    );
    assert!(created
        .location
        .as_deref()
        .unwrap()
        .ends_with(&format!("/scim/v2/Users/{id}")));
    assert_eq!(
        created.etag.as_deref(),
        created.body["meta"]["version"].as_str()
    );
    // Sesame's directory knows her now.
    assert_eq!(
        app.app
            .directory()
            .user_by_email("nina@example.com")
            .unwrap()
            .display_name,
        "Nina New"
    );

    let read = app.scim(Method::GET, &format!("/Users/{id}"), None).await;
    assert_eq!(read.body["active"], true);
    let found = app
        .scim(
            Method::GET,
            "/Users?filter=userName eq \"NINA@example.com\"&startIndex=1&count=100",
            None,
        )
        .await;
    assert_eq!(found.body["totalResults"], 1);
    assert_eq!(found.body["Resources"][0]["id"], id.as_str());

    // Okta deactivates with PATCH replace of `active` in a value object.
    let off = app
        .scim(
            Method::PATCH,
            &format!("/Users/{id}"),
            Some(json!({
                "schemas": [PATCH],
                "Operations": [{ "op": "replace", "value": { "active": false } }]
            })),
        )
        .await;
    assert_eq!(off.status, StatusCode::OK, "{:?}", off.body);
    assert_eq!(off.body["active"], false);
    assert!(app.app.directory().find_user(&id).is_none());
    // ...and reactivates; a profile update comes as a PUT of the whole user.
    let on = app
        .scim(
            Method::PATCH,
            &format!("/Users/{id}"),
            Some(json!({
                "schemas": [PATCH],
                "Operations": [{ "op": "replace", "value": { "active": true } }]
            })),
        )
        .await;
    assert_eq!(on.body["active"], true);
    let mut profile = okta_user("nina@example.com");
    profile["id"] = json!(id);
    profile["name"]["familyName"] = json!("Newer");
    profile["displayName"] = json!("Nina Newer");
    let put = app
        .scim(Method::PUT, &format!("/Users/{id}"), Some(profile))
        .await;
    assert_eq!(put.status, StatusCode::OK, "{:?}", put.body);
    assert_eq!(
        app.app.directory().find_user(&id).unwrap().display_name,
        "Nina Newer"
    );

    // Groups: Okta pushes a group, then changes its members with PATCH.
    let group = app
        .scim(
            Method::POST,
            "/Groups",
            Some(json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                "displayName": "Test SCIMv2", "members": []
            })),
        )
        .await;
    assert_eq!(group.status, StatusCode::CREATED, "{:?}", group.body);
    let gid = group.body["id"].as_str().unwrap().to_owned();
    let added = app
        .scim(Method::PATCH, &format!("/Groups/{gid}"), Some(json!({
            "schemas": [PATCH],
            "Operations": [{ "op": "add", "path": "members", "value": [{ "value": id, "display": "nina@example.com" }] }]
        })))
        .await;
    assert_eq!(
        added.body["members"][0]["value"],
        id.as_str(),
        "{:?}",
        added.body
    );
    let gid_core = sesame_core::GroupId::new(gid.clone()).unwrap();
    assert!(app
        .app
        .directory()
        .is_member(&sesame_core::UserId::new(id.clone()).unwrap(), &gid_core));
    let user = app.scim(Method::GET, &format!("/Users/{id}"), None).await;
    assert_eq!(user.body["groups"][0]["value"], gid.as_str());
    app.stop().await;
}

#[tokio::test]
async fn entra_sequence_with_its_casing_strings_and_member_paths() {
    let app = TestApp::spawn_with_scim().await;
    // Entra ID queries by userName (and by externalId), then creates.
    let none = app
        .scim(
            Method::GET,
            "/Users?filter=userName+eq+%22Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1%22",
            None,
        )
        .await;
    assert_eq!(none.body["totalResults"], 0);
    let mut body = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE],
        "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
        "userName": "Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1",
        "active": true,
        "emails": [{ "primary": true, "type": "work", "value": "Test_User_fd0ea19b@testuser.com" }],
        "meta": { "resourceType": "User" },
        "name": { "formatted": "givenName familyName", "familyName": "familyName", "givenName": "givenName" },
        "roles": []
    });
    body[ENTERPRISE] = json!({ "department": "Sales", "manager": { "value": "carol" } });
    let created = app.scim(Method::POST, "/Users", Some(body)).await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    let id = created.body["id"].as_str().unwrap().to_owned();
    assert_eq!(
        created.body["userName"],
        "Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1"
    );
    assert_eq!(created.body[ENTERPRISE]["manager"]["value"], "carol");
    assert_eq!(created.body[ENTERPRISE]["department"], "Sales");
    let person = app
        .app
        .directory()
        .user(&sesame_core::UserId::new(id.clone()).unwrap())
        .cloned()
        .unwrap();
    assert_eq!(
        (person.email.as_str(), person.manager.unwrap().as_str()),
        ("Test_User_fd0ea19b@testuser.com", "carol")
    );

    let by_external = app
        .scim(
            Method::GET,
            "/Users?filter=externalId eq \"0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef\"",
            None,
        )
        .await;
    assert_eq!(by_external.body["Resources"][0]["id"], id.as_str());

    // Entra's casing ("Replace", "Add"), paths with value filters, and `active` as a string.
    let patched = app
        .scim(Method::PATCH, &format!("/Users/{id}"), Some(json!({
            "schemas": [PATCH],
            "Operations": [
                { "op": "Replace", "path": "emails[type eq \"work\"].value", "value": "updated@testuser.com" },
                { "op": "Replace", "path": "name.familyName", "value": "updatedFamilyName" },
                { "op": "Add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager", "value": "fran" },
                { "op": "Replace", "path": "displayName", "value": "Updated Name" }
            ]
        })))
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{:?}", patched.body);
    assert_eq!(patched.body["emails"][0]["value"], "updated@testuser.com");
    assert_eq!(patched.body[ENTERPRISE]["manager"]["value"], "fran");
    let person = app
        .app
        .directory()
        .user(&sesame_core::UserId::new(id.clone()).unwrap())
        .cloned()
        .unwrap();
    assert_eq!(person.email, "updated@testuser.com");

    // Groups: create with a member, add and remove members the way Entra does.
    let group = app
        .scim(
            Method::POST,
            "/Groups",
            Some(json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
                "displayName": "displayName", "members": [{ "value": "alice" }]
            })),
        )
        .await;
    let gid = group.body["id"].as_str().unwrap().to_owned();
    assert_eq!(group.body["members"].as_array().unwrap().len(), 1);
    let filtered = app
        .scim(
            Method::GET,
            "/Groups?excludedAttributes=members&filter=displayName eq \"displayName\"",
            None,
        )
        .await;
    assert_eq!(filtered.body["totalResults"], 1);
    assert!(filtered.body["Resources"][0].get("members").is_none());
    let add = app
        .scim(Method::PATCH, &format!("/Groups/{gid}"), Some(json!({
            "schemas": [PATCH],
            "Operations": [{ "op": "Add", "path": "members", "value": [{ "value": id }, { "value": "bob" }] }]
        })))
        .await;
    assert_eq!(
        add.body["members"].as_array().unwrap().len(),
        3,
        "{:?}",
        add.body
    );
    let remove = app
        .scim(Method::PATCH, &format!("/Groups/{gid}"), Some(json!({
            "schemas": [PATCH],
            "Operations": [
                { "op": "Remove", "path": format!("members[value eq \"{id}\"]") },
                { "op": "Remove", "path": "members", "value": [{ "value": "bob" }] },
                { "op": "Replace", "path": "displayName", "value": "1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName" }
            ]
        })))
        .await;
    assert_eq!(
        remove.body["members"],
        json!([{ "value": "alice", "display": "Alice Requester", "type": "User" }])
    );

    // Disable with the string "False", then delete.
    let off = app
        .scim(
            Method::PATCH,
            &format!("/Users/{id}"),
            Some(json!({
                "schemas": [PATCH],
                "Operations": [{ "op": "Replace", "path": "active", "value": "False" }]
            })),
        )
        .await;
    assert_eq!(off.body["active"], false, "{:?}", off.body);
    assert_eq!(
        app.scim(Method::DELETE, &format!("/Users/{id}"), None)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.scim(Method::GET, &format!("/Users/{id}"), None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.scim(Method::DELETE, &format!("/Groups/{gid}"), None)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.scim(Method::GET, &format!("/Groups/{gid}"), None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert!(!app.app.directory().is_member(
        &sesame_core::UserId::new("alice").unwrap(),
        &sesame_core::GroupId::new(gid).unwrap()
    ));
    app.stop().await;
}

#[tokio::test]
async fn discovery_filters_pagination_etags_and_errors() {
    let app = TestApp::spawn_with_scim().await;
    let config = app.scim(Method::GET, "/ServiceProviderConfig", None).await;
    assert_eq!(config.body["patch"]["supported"], true);
    let types = app.scim(Method::GET, "/ResourceTypes", None).await;
    assert_eq!(types.body["totalResults"], 2);
    let schemas = app.scim(Method::GET, "/Schemas", None).await;
    assert_eq!(schemas.body["totalResults"], 3);

    // The seeded directory is visible: ten people, paged.
    let page = app
        .scim(Method::GET, "/Users?startIndex=3&count=4", None)
        .await;
    assert_eq!(
        (
            page.body["totalResults"].as_u64(),
            page.body["itemsPerPage"].as_u64(),
            page.body["startIndex"].as_u64()
        ),
        (Some(10), Some(4), Some(3))
    );
    let last = app
        .scim(Method::GET, "/Users?startIndex=9&count=4", None)
        .await;
    assert_eq!(last.body["Resources"].as_array().unwrap().len(), 2);
    let filtered = app.scim(Method::GET, "/Users?filter=emails.value co \"@example.com\" and not (active eq false)&attributes=userName", None).await;
    assert_eq!(filtered.body["totalResults"], 10);
    assert!(filtered.body["Resources"][0].get("displayName").is_none());
    assert!(filtered.body["Resources"][0].get("userName").is_some());

    // ETags: a stale If-Match is refused; the current one works.
    let alice = app.scim(Method::GET, "/Users/alice", None).await;
    let etag = alice.etag.clone().unwrap();
    let unchanged = app
        .scim_with(
            Method::GET,
            "/Users/alice",
            Some(SCIM_TOKEN),
            &[("if-none-match", &etag)],
            None,
        )
        .await;
    assert_eq!(unchanged.status, StatusCode::NOT_MODIFIED);
    let rename = |name: &str| {
        json!({ "schemas": [PATCH], "Operations": [{ "op": "replace", "path": "displayName", "value": name }] }).to_string().into_bytes()
    };
    let first = app
        .scim_with(
            Method::PATCH,
            "/Users/alice",
            Some(SCIM_TOKEN),
            &[("if-match", &etag)],
            Some(rename("Alice A")),
        )
        .await;
    assert_eq!(first.status, StatusCode::OK, "{:?}", first.body);
    assert_ne!(first.etag.as_deref(), Some(etag.as_str()));
    let stale = app
        .scim_with(
            Method::PATCH,
            "/Users/alice",
            Some(SCIM_TOKEN),
            &[("if-match", &etag)],
            Some(rename("Alice B")),
        )
        .await;
    assert_eq!(stale.status, StatusCode::PRECONDITION_FAILED);
    assert_eq!(
        app.app.directory().find_user("alice").unwrap().display_name,
        "Alice A"
    );

    // Errors in SCIM's format.
    let bad_filter = app
        .scim(Method::GET, "/Users?filter=userName%20zz%20%22x%22", None)
        .await;
    assert_eq!(
        (bad_filter.status, bad_filter.scim_type()),
        (StatusCode::BAD_REQUEST, "invalidFilter")
    );
    assert_eq!(
        bad_filter.body["schemas"][0],
        "urn:ietf:params:scim:api:messages:2.0:Error"
    );
    assert_eq!(bad_filter.body["status"], "400");
    let unknown = app.scim(Method::PATCH, "/Users/alice", Some(json!({ "schemas": [PATCH], "Operations": [{ "op": "replace", "path": "shoeSize", "value": 9 }] }))).await;
    assert_eq!(
        (unknown.status, unknown.scim_type()),
        (StatusCode::BAD_REQUEST, "invalidPath")
    );
    let duplicate = app
        .scim(Method::POST, "/Users", Some(okta_user("BOB@example.com")))
        .await;
    assert_eq!(
        (duplicate.status, duplicate.scim_type()),
        (StatusCode::CONFLICT, "uniqueness")
    );
    let no_name = app
        .scim(Method::POST, "/Users", Some(json!({ "displayName": "x" })))
        .await;
    assert_eq!(no_name.status, StatusCode::BAD_REQUEST);
    let missing = app.scim(Method::GET, "/Users/nobody", None).await;
    assert_eq!(
        (missing.status, missing.body["status"].as_str()),
        (StatusCode::NOT_FOUND, Some("404"))
    );
    for token in [None, Some("wrong-token-wrong-token")] {
        let refused = app.scim_with(Method::GET, "/Users", token, &[], None).await;
        assert_eq!(refused.status, StatusCode::UNAUTHORIZED, "{token:?}");
    }
    let alice_api = app.token("ada").await;
    let api_token = app
        .scim_with(Method::GET, "/Users", Some(&alice_api), &[], None)
        .await;
    assert_eq!(
        api_token.status,
        StatusCode::UNAUTHORIZED,
        "API tokens are not SCIM tokens"
    );
    let mut huge = okta_user("huge@example.com");
    huge["title"] = json!("x".repeat(70_000));
    let big = app.scim(Method::POST, "/Users", Some(huge)).await;
    assert_eq!(big.status, StatusCode::PAYLOAD_TOO_LARGE);
    let junk = app
        .scim_with(
            Method::POST,
            "/Users",
            Some(SCIM_TOKEN),
            &[],
            Some(b"{nope".to_vec()),
        )
        .await;
    assert_eq!(
        (junk.status, junk.scim_type()),
        (StatusCode::BAD_REQUEST, "invalidSyntax")
    );
    app.stop().await;
}

#[tokio::test]
async fn without_a_token_scim_is_off() {
    let app = TestApp::spawn().await;
    let reply = app.scim(Method::GET, "/Users", None).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    app.stop().await;
}

fn carpark(plate: &str) -> Value {
    json!({
        "flow": "carpark",
        "answers": { "plate": plate, "site": "London", "ev": true, "bay": "A" },
        "justification": "I drive in on Tuesdays",
        "duration": "30d"
    })
}

#[tokio::test]
async fn deactivating_a_person_cancels_their_pending_requests_and_ends_their_access() {
    let app = TestApp::spawn_with_scim().await;
    let (alice, carol, fran) = (
        app.token("alice").await,
        app.token("carol").await,
        app.token("fran").await,
    );
    let pending = app
        .post("/api/v1/requests", &alice, carpark("P1"))
        .await
        .body["number"]
        .as_i64()
        .unwrap();
    let active = app
        .post("/api/v1/requests", &alice, carpark("A1"))
        .await
        .body["number"]
        .as_i64()
        .unwrap();
    app.post(
        &format!("/api/v1/requests/{active}/approve"),
        &carol,
        json!({}),
    )
    .await;
    app.post(
        &format!("/api/v1/requests/{active}/approve"),
        &fran,
        json!({}),
    )
    .await;
    let granted = app
        .post(
            &format!("/api/v1/requests/{active}/complete"),
            &fran,
            json!({}),
        )
        .await;
    assert_eq!(granted.body["state"], "active", "{:?}", granted.body);
    // Bob's request is not Alice's business and stays.
    let bob = app.token("bob").await;
    let other = app.post("/api/v1/requests", &bob, carpark("B1")).await.body["number"]
        .as_i64()
        .unwrap();

    let off = app
        .scim(Method::PATCH, "/Users/alice", Some(json!({
            "schemas": [PATCH], "Operations": [{ "op": "replace", "value": { "active": false } }]
        })))
        .await;
    assert_eq!(off.status, StatusCode::OK, "{:?}", off.body);

    let ada = app.token("ada").await;
    let state = |n: i64| {
        let app = &app;
        let ada = ada.clone();
        async move { app.get(&format!("/api/v1/requests/{n}"), &ada).await.body }
    };
    let p = state(pending).await;
    assert_eq!(p["state"], "canceled", "{p:?}");
    assert_eq!(p["outcome"]["by"], "sesame");
    assert_eq!(state(active).await["state"], "revoked");
    assert_eq!(state(other).await["state"], "pending_approval");
    let kinds: Vec<String> = app
        .get(&format!("/api/v1/requests/{pending}/audit"), &ada)
        .await
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_owned())
        .collect();
    assert!(kinds.contains(&String::from("canceled")), "{kinds:?}");
    let revoked_audit = app
        .get(&format!("/api/v1/requests/{active}/audit"), &ada)
        .await
        .body;
    let revoked = revoked_audit
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "revoked")
        .unwrap();
    assert_eq!(revoked["actor"], "sesame");
    assert!(app
        .audit_kinds("ada", "&actor=scim")
        .await
        .contains(&String::from("user_deactivated")));
    // Alice can no longer use Sesame; the removal of her access is owed to the fulfillers.
    assert_eq!(
        app.get("/api/v1/me", &alice).await.status,
        StatusCode::UNAUTHORIZED
    );
    app.drain_outbox().await;

    // Deleting a person who is already inactive changes nothing more; a person with access who is
    // deleted outright loses it the same way.
    let fred = app.token("fred").await;
    let fred_request = app
        .post("/api/v1/requests", &fred, carpark("F1"))
        .await
        .body["number"]
        .as_i64()
        .unwrap();
    assert_eq!(
        app.scim(Method::DELETE, "/Users/fred", None).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(state(fred_request).await["state"], "canceled");
    assert!(app
        .audit_kinds("ada", "&actor=scim")
        .await
        .contains(&String::from("user_deleted")));
    app.stop().await;
}

/// Identity providers push people and groups in any order: a person without any email, a manager
/// and group members that do not exist yet are all accepted, shown back as sent, and resolve when
/// those people arrive.
#[tokio::test]
async fn out_of_order_provisioning_resolves_managers_and_members_that_arrive_later() {
    let app = TestApp::spawn_with_scim().await;
    // A person with no email: neither userName nor emails is one. Sesame stores a placeholder
    // under the reserved .invalid domain and does not show it as an email.
    let created = app
        .scim(
            Method::POST,
            "/Users",
            Some(json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                "userName": "kiosk-7",
                "emails": [{ "value": "not an address", "type": "other" }],
                ENTERPRISE: { "manager": { "value": "mia@example.com" } }
            })),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    let kiosk = created.body["id"].as_str().unwrap().to_owned();
    assert_eq!(kiosk, "kiosk-7");
    assert_eq!(
        created.body["emails"],
        json!([{ "value": "not an address", "type": "other" }])
    );
    assert_eq!(
        created.body[ENTERPRISE]["manager"],
        json!({ "value": "mia@example.com" })
    );
    let stored = app
        .app
        .directory()
        .user(&sesame_core::UserId::new(kiosk.as_str()).unwrap())
        .cloned()
        .unwrap();
    assert_eq!(stored.email, "kiosk-7@scim.invalid");
    assert_eq!(stored.manager.as_ref().unwrap().as_str(), "mia@example.com");
    let read = app
        .scim(Method::GET, &format!("/Users/{kiosk}"), None)
        .await;
    assert_eq!(read.body, created.body);
    let none = app
        .scim(
            Method::POST,
            "/Users",
            Some(json!({ "userName": "b1d5c3f2-5f0e-4d7e-9d59-5b1e0c1f6a11" })),
        )
        .await;
    assert_eq!(none.status, StatusCode::CREATED, "{:?}", none.body);
    assert!(none.body.get("emails").is_none(), "{:?}", none.body);

    // A group naming members who are not users yet: kept as sent, known users are members now.
    let group = app
        .scim(
            Method::POST,
            "/Groups",
            Some(json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                "displayName": "Night shift",
                "members": [
                    { "value": "alice", "type": "User" },
                    { "value": "mia@example.com", "display": "Mia Manager", "type": "User" }
                ]
            })),
        )
        .await;
    assert_eq!(group.status, StatusCode::CREATED, "{:?}", group.body);
    let gid = group.body["id"].as_str().unwrap().to_owned();
    let members = json!([
        { "value": "alice", "display": "Alice Requester", "type": "User" },
        { "value": "mia@example.com", "display": "Mia Manager", "type": "User" }
    ]);
    assert_eq!(group.body["members"], members);
    let night = sesame_core::GroupId::new(gid.as_str()).unwrap();
    assert_eq!(app.app.directory().members(&night).len(), 1);
    let listed = app
        .scim(
            Method::GET,
            "/Groups?filter=displayName eq \"Night shift\"",
            None,
        )
        .await;
    assert_eq!(listed.body["Resources"][0]["members"], members);

    // Until the manager exists, a manager approval step cannot proceed: the kiosk's request is
    // refused like anyone's without a manager (no panic, no request).
    let groups = app
        .scim(
            Method::PATCH,
            &format!("/Groups/{gid}"),
            Some(json!({
                "schemas": [PATCH],
                "Operations": [{ "op": "add", "path": "members", "value": [{ "value": kiosk }] }]
            })),
        )
        .await;
    assert_eq!(groups.status, StatusCode::OK, "{:?}", groups.body);
    let employees = app.scim(Method::GET, "/Groups/employees", None).await.body["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| json!({ "value": m["value"] }))
        .chain([json!({ "value": kiosk })])
        .collect::<Vec<_>>();
    let joined = app
        .scim(
            Method::PUT,
            "/Groups/employees",
            Some(json!({ "displayName": "Employees", "members": employees })),
        )
        .await;
    assert_eq!(joined.status, StatusCode::OK, "{:?}", joined.body);
    let kiosk_token = app.token(&kiosk).await;
    let refused = app
        .post("/api/v1/requests", &kiosk_token, carpark("K1"))
        .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{:?}",
        refused.body
    );
    assert!(
        refused.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("manager mia@example.com is not an active person"),
        "{:?}",
        refused.body
    );

    // The manager arrives: the kiosk's manager resolves, and the group's waiting membership applies.
    let mia = app
        .scim(
            Method::POST,
            "/Users",
            Some(json!({
                "userName": "mia@example.com", "displayName": "Mia Manager"
            })),
        )
        .await;
    assert_eq!(mia.status, StatusCode::CREATED, "{:?}", mia.body);
    assert_eq!(mia.body["id"], "mia@example.com");
    assert_eq!(
        mia.body["groups"],
        json!([{ "value": gid, "display": "Night shift", "type": "direct" }])
    );
    let mia_id = sesame_core::UserId::new("mia@example.com").unwrap();
    assert!(app.app.directory().is_member(&mia_id, &night));
    let group = app.scim(Method::GET, &format!("/Groups/{gid}"), None).await;
    assert_eq!(
        group.body["members"],
        json!([
            { "value": "alice", "display": "Alice Requester", "type": "User" },
            { "value": "kiosk-7", "display": "kiosk-7", "type": "User" },
            { "value": "mia@example.com", "display": "Mia Manager", "type": "User" }
        ])
    );
    let kiosk_read = app
        .scim(Method::GET, &format!("/Users/{kiosk}"), None)
        .await;
    assert_eq!(
        kiosk_read.body[ENTERPRISE]["manager"],
        json!({ "value": "mia@example.com", "displayName": "Mia Manager" })
    );
    let filed = app
        .post("/api/v1/requests", &kiosk_token, carpark("K2"))
        .await;
    assert_eq!(filed.status, StatusCode::CREATED, "{:?}", filed.body);
    assert_eq!(filed.body["state"], "pending_approval");
    let approved = app
        .post(
            &format!("/api/v1/requests/{}/approve", filed.body["number"]),
            &app.token("mia@example.com").await,
            json!({}),
        )
        .await;
    assert_eq!(approved.status, StatusCode::OK, "{:?}", approved.body);
    app.stop().await;
}
