//! Directory changes in the audit trail: the directory file, the admin API and SCIM record each
//! person before and after, and joining or leaving the administrators' or auditors' groups is an
//! event of its own.

use serde_json::json;
use sesame_app::scim::{ScimCaller, ScimGroupFields};
use sesame_app::{App, AppParts, Catalog, ChainedEvent, ManualClock, Principal, Roles};
use sesame_core::directory::DirectoryFile;
use sesame_core::{GroupId, Timestamp, UserId};
use sesame_store::Store;
use std::sync::Arc;

const FILE: &str = "
groups:
  - { id: employees, name: Employees }
  - { id: sesame-admins, name: Sesame administrators }
  - { id: auditors, name: Auditors }
users:
  - { id: carol, email: carol@example.com, display_name: Carol, groups: [employees] }
  - { id: ada, email: ada@example.com, display_name: Ada, groups: [employees, sesame-admins] }
  - { id: bob, email: bob@example.com, display_name: Bob, manager: carol, groups: [employees] }
";

async fn app(dir: &tempfile::TempDir) -> App {
    let url = format!("sqlite://{}", dir.path().join("sesame.db").display());
    let store = Store::connect(&url).await.expect("connect");
    store.migrate().await.expect("migrate");
    App::new(AppParts {
        store,
        catalog: Catalog::default(),
        clock: Arc::new(ManualClock::new(Timestamp(1_767_603_600_000))),
        roles: Roles {
            admin_groups: vec![GroupId::new("sesame-admins").unwrap()],
            auditor_groups: vec![GroupId::new("auditors").unwrap()],
        },
        notifiers: Vec::new(),
        connectors: Default::default(),
    })
    .await
    .expect("app")
}

async fn trail(app: &App, after: i64) -> Vec<ChainedEvent> {
    app.audit_events_after(after, 1000).await.expect("trail")
}

fn last_id(events: &[ChainedEvent]) -> i64 {
    events.last().map_or(0, |e| e.id)
}

#[tokio::test]
async fn directory_changes_record_before_and_after_and_role_changes_stand_out() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(&dir).await;
    app.seed_directory(DirectoryFile::parse(FILE).unwrap())
        .await
        .unwrap();
    let seeded = trail(&app, 0).await;
    let ada = seeded
        .iter()
        .find(|e| e.kind == "user_upserted" && e.detail["user"] == "ada")
        .expect("ada stored");
    assert_eq!(
        (
            &ada.detail["source"],
            &ada.detail["created"],
            &ada.detail["before"]
        ),
        (&json!("directory_file"), &json!(true), &json!(null))
    );
    assert_eq!(
        ada.detail["after"]["groups"],
        json!(["employees", "sesame-admins"])
    );
    let roles: Vec<&serde_json::Value> = seeded
        .iter()
        .filter(|e| e.kind == "role_membership_changed")
        .map(|e| &e.detail)
        .collect();
    assert_eq!(
        roles,
        [&json!({
            "user": "ada",
            "role": "admin",
            "group": "sesame-admins",
            "change": "added",
            "active": true,
            "source": "directory_file",
        })]
    );

    // An administrator moves Bob to another manager, links his Slack account and makes him an
    // auditor, through the API.
    let admin = Principal {
        user: UserId::new("ada").unwrap(),
        admin: true,
        auditor: false,
    };
    let mut bob = app
        .directory()
        .user(&UserId::new("bob").unwrap())
        .unwrap()
        .clone();
    bob.manager = Some(UserId::new("ada").unwrap());
    bob.chat.slack = Some(String::from("U0BOB"));
    bob.groups.insert(GroupId::new("auditors").unwrap());
    let mark = last_id(&seeded);
    app.upsert_user(&admin, bob).await.unwrap();
    let events = trail(&app, mark).await;
    assert_eq!(
        events.iter().map(|e| e.kind.as_str()).collect::<Vec<_>>(),
        ["user_upserted", "role_membership_changed"]
    );
    let change = &events[0].detail;
    assert_eq!(events[0].actor, "ada");
    assert_eq!(change["source"], "api");
    assert_eq!(change["changed"], json!(["manager", "groups", "chat"]));
    assert_eq!(
        (&change["before"]["manager"], &change["after"]["manager"]),
        (&json!("carol"), &json!("ada"))
    );
    assert_eq!(
        (&change["before"]["chat"], &change["after"]["chat"]),
        (&json!({}), &json!({ "slack": "U0BOB" }))
    );
    assert_eq!(
        (&events[1].detail["role"], &events[1].detail["change"]),
        (&json!("auditor"), &json!("added"))
    );

    // The identity provider cannot take the last administrator out of the administrators' group,
    let mark = last_id(&events);
    let admins = |members: Vec<serde_json::Value>| {
        move |_: &sesame_app::scim::ScimGroup| {
            Ok(ScimGroupFields {
                display_name: String::from("Sesame administrators"),
                external_id: None,
                members,
                attributes: json!({}),
            })
        }
    };
    let refused = app
        .scim_update_group(
            &ScimCaller::Provisioner,
            "sesame-admins",
            admins(Vec::new()),
        )
        .await
        .expect_err("the last administrator stays");
    assert!(
        refused.to_string().contains("last active administrator"),
        "{refused}"
    );
    assert!(
        trail(&app, mark).await.is_empty(),
        "a refused change records nothing"
    );
    // but it can hand the role to Bob and take Ada out in one change.
    app.scim_update_group(
        &ScimCaller::Provisioner,
        "sesame-admins",
        admins(vec![json!({ "value": "bob" })]),
    )
    .await
    .unwrap();
    let events = trail(&app, mark).await;
    let removed = events
        .iter()
        .find(|e| e.kind == "role_membership_changed" && e.detail["change"] == "removed")
        .expect("a role event");
    assert_eq!(removed.actor, "scim");
    assert_eq!(
        (
            &removed.detail["user"],
            &removed.detail["role"],
            &removed.detail["change"],
            &removed.detail["source"]
        ),
        (
            &json!("ada"),
            &json!("admin"),
            &json!("removed"),
            &json!("scim")
        )
    );

    // Loading the same file again changes nothing and records nothing.
    let mark = last_id(&trail(&app, 0).await);
    let mut file = DirectoryFile::parse(FILE).unwrap();
    file.users.retain(|u| u.id.as_str() == "carol");
    app.seed_directory(file).await.unwrap();
    assert!(trail(&app, mark).await.is_empty());
}
