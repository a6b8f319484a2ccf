//! SCIM bookkeeping: records written with the directory entries they describe, in one transaction.

use crate::fixtures::*;
use sesame_core::{Actor, AuditEvent, Timestamp};
use sesame_store::{AuditFilter, DirectoryChange, ScimKind, ScimRecord, Store};

fn record(kind: ScimKind, id: &str, external_id: Option<&str>, at: i64) -> ScimRecord {
    ScimRecord {
        kind,
        id: id.to_owned(),
        external_id: external_id.map(str::to_owned),
        created_at: Timestamp(at),
        updated_at: Timestamp(at),
        deleted_at: None,
        attributes: serde_json::json!({ "title": "Engineer" }),
    }
}

pub async fn a_directory_change_writes_entries_records_and_audit_together(store: Store) {
    let version = store.directory_version().await.expect("version");
    let mut alice = person("alice", None);
    let change = DirectoryChange {
        users: vec![alice.clone(), person("bob", None)],
        groups: vec![employees()],
        scim: vec![
            record(ScimKind::User, "alice", Some("00u1"), T0),
            record(ScimKind::Group, "employees", None, T0),
        ],
        audit: vec![AuditEvent::new(
            Timestamp(T0),
            &Actor::System,
            "scim_user_created",
            serde_json::json!({ "user": "alice" }),
        )],
    };
    store.apply_directory_change(&change).await.expect("apply");
    assert_eq!(
        store.directory_version().await.expect("version"),
        version + 1,
        "one change, one version"
    );
    let (users, groups) = store.load_directory().await.expect("load");
    assert_eq!(users.len(), 2);
    assert_eq!(groups, vec![employees()]);
    let users_scim = store.scim_records(ScimKind::User).await.expect("records");
    assert_eq!(
        users_scim,
        vec![record(ScimKind::User, "alice", Some("00u1"), T0)]
    );
    assert_eq!(
        store
            .scim_records(ScimKind::Group)
            .await
            .expect("records")
            .len(),
        1
    );
    let audit = store
        .audit(&AuditFilter {
            kind: Some(String::from("scim_user_created")),
            limit: 10,
            ..AuditFilter::default()
        })
        .await
        .expect("audit");
    assert_eq!(audit.len(), 1);

    // Replacing a record keeps one row per (kind, id); deletion is a timestamp, not a lost row.
    alice.active = false;
    let mut deleted = record(ScimKind::User, "alice", None, T0);
    deleted.updated_at = Timestamp(T0 + DAY);
    deleted.deleted_at = Some(Timestamp(T0 + DAY));
    store
        .apply_directory_change(&DirectoryChange {
            users: vec![alice],
            scim: vec![deleted.clone()],
            ..DirectoryChange::default()
        })
        .await
        .expect("apply");
    assert_eq!(
        store.scim_records(ScimKind::User).await.expect("records"),
        vec![deleted]
    );
    let (users, _) = store.load_directory().await.expect("load");
    assert!(
        !users
            .iter()
            .find(|u| u.id.as_str() == "alice")
            .unwrap()
            .active
    );

    // Records alone do not bump the directory version.
    let version = store.directory_version().await.expect("version");
    store
        .apply_directory_change(&DirectoryChange {
            scim: vec![record(ScimKind::Group, "employees", Some("g1"), T0)],
            ..DirectoryChange::default()
        })
        .await
        .expect("apply");
    assert_eq!(store.directory_version().await.expect("version"), version);
}
