//! The directory: stored in the database, served from an in-memory snapshot that is rebuilt whenever
//! it changes (here, or on another replica, noticed through the store's directory version).

use crate::{read_lock, write_lock, App, AppError, Principal};
use serde_json::{json, Value};
use sesame_core::directory::DirectoryFile;
use sesame_core::{Actor, AuditEvent, Directory, Group, GroupId, Timestamp, User, UserId};
use sesame_store::DirectoryChange;
use std::collections::BTreeSet;
use std::sync::Arc;

/// Where a directory change came from, as the trail records it.
pub(crate) mod source {
    pub const API: &str = "api";
    pub const DIRECTORY_FILE: &str = "directory_file";
    pub const SCIM: &str = "scim";
    pub const CHAT_LINK: &str = "chat_link";
}

/// What the trail records of a change to a person: who, where the change came from, which fields
/// changed, and the person before (null for someone new) and after, with their manager, groups,
/// chat links and whether they are active.
pub(crate) fn user_change(source: &str, before: Option<&User>, after: &User) -> Value {
    let mut changed = Vec::new();
    if let Some(before) = before {
        for (field, differs) in [
            ("email", before.email != after.email),
            ("display_name", before.display_name != after.display_name),
            ("manager", before.manager != after.manager),
            ("groups", before.groups != after.groups),
            ("chat", before.chat != after.chat),
            ("active", before.active != after.active),
        ] {
            if differs {
                changed.push(field);
            }
        }
    }
    json!({
        "user": after.id,
        "active": after.active,
        "source": source,
        "created": before.is_none(),
        "changed": changed,
        "before": before,
        "after": after,
    })
}

/// What the trail records of a change to a group: its name and description before and after.
fn group_change(source: &str, before: Option<&Group>, after: &Group) -> Value {
    json!({
        "group": after.id,
        "source": source,
        "created": before.is_none(),
        "before": before,
        "after": after,
    })
}

impl App {
    /// Whether `user` is an active administrator (a member of an `[access] admin_groups` group).
    fn is_active_admin(&self, user: &User) -> bool {
        user.active
            && self
                .roles()
                .admin_groups
                .iter()
                .any(|g| user.groups.contains(g))
    }

    /// Refuses a change that would leave nobody able to administer Sesame: the last active
    /// administrator may not be deactivated, deleted or taken out of the admin groups, whatever the
    /// source (API, directory file, SCIM). `changed` holds people as they would be after the change.
    pub(crate) fn keep_an_admin(&self, changed: &[User]) -> Result<(), AppError> {
        let directory = self.directory();
        let loses_one = changed.iter().any(|after| {
            directory
                .user(&after.id)
                .is_some_and(|before| self.is_active_admin(before))
                && !self.is_active_admin(after)
        });
        if !loses_one {
            return Ok(());
        }
        let ids: BTreeSet<&UserId> = changed.iter().map(|u| &u.id).collect();
        let others = directory
            .users()
            .filter(|u| !ids.contains(&u.id))
            .chain(changed.iter())
            .any(|u| self.is_active_admin(u));
        if others {
            return Ok(());
        }
        let names: Vec<String> = changed.iter().map(|u| u.id.to_string()).collect();
        Err(AppError::Conflict(format!(
            "{} is the last active administrator; make someone else an administrator first",
            names.join(", ")
        )))
    }

    /// Rebuilds the in-memory directory from the store if it changed since the last load.
    pub async fn reload_directory(&self) -> Result<bool, AppError> {
        let version = self.store().directory_version().await?;
        if *read_lock(&self.inner.directory_version) == version {
            return Ok(false);
        }
        let (users, groups) = self.store().load_directory().await?;
        *write_lock(&self.inner.directory) = Arc::new(Directory::new(users, groups));
        *write_lock(&self.inner.directory_version) = version;
        // A person who left had their tokens revoked with the change: forget what was cached, so
        // that no token outlives its person here even if they are reactivated at once.
        self.forget_cached_tokens();
        Ok(true)
    }

    fn require_admin(who: &Principal) -> Result<(), AppError> {
        if who.admin {
            Ok(())
        } else {
            Err(AppError::Forbidden(String::from(
                "only administrators may change the directory",
            )))
        }
    }

    pub async fn upsert_user(&self, who: &Principal, user: User) -> Result<(), AppError> {
        Self::require_admin(who)?;
        self.store_user(&who.actor(), user, source::API).await
    }

    pub async fn upsert_group(&self, who: &Principal, group: Group) -> Result<(), AppError> {
        Self::require_admin(who)?;
        self.store_group(&who.actor(), group, source::API).await
    }

    /// Makes the link between a person and their chat account explicit once Sesame has found it
    /// (by the account's verified email, or by the person's confirmation in the portal), so that
    /// it is stable from then on (a later change of email on either side does not break it) and
    /// shows as a link in `sesame identities check`. Nothing changes when the person already has
    /// a link on that platform. `platform` is `slack` or `teams`.
    pub async fn link_chat_account(
        &self,
        person: &UserId,
        platform: &str,
        account: &str,
        how: LinkedBy,
    ) -> Result<bool, AppError> {
        let Some(mut user) = self.directory().user(person).cloned() else {
            return Err(AppError::NotFound(format!("person {person}")));
        };
        let slot = match platform {
            "slack" => &mut user.chat.slack,
            "teams" => &mut user.chat.teams,
            other => return Err(AppError::Invalid(format!("unknown chat platform {other}"))),
        };
        if slot.is_some() {
            return Ok(false);
        }
        *slot = Some(account.to_owned());
        let mut detail = user_change(source::CHAT_LINK, self.directory().user(person), &user);
        if let Value::Object(map) = &mut detail {
            map.insert(String::from("platform"), json!(platform));
            map.insert(String::from("account"), json!(account));
            map.insert(String::from("how"), json!(how.describe()));
        }
        let audit = AuditEvent::new(self.now(), &Actor::System, "chat_account_linked", detail);
        self.store().upsert_user(&user, &audit).await?;
        self.reload_directory().await?;
        Ok(true)
    }

    async fn store_user(&self, actor: &Actor, user: User, source: &str) -> Result<(), AppError> {
        user.validate()
            .map_err(|e| AppError::Invalid(e.to_string()))?;
        let directory = self.directory();
        if let Some(g) = user.groups.iter().find(|g| directory.group(g).is_none()) {
            return Err(AppError::Invalid(format!(
                "group {g} does not exist; create it first"
            )));
        }
        if let Some(m) = user
            .manager
            .as_ref()
            .filter(|m| directory.user(m).is_none())
        {
            return Err(AppError::Invalid(format!(
                "manager {m} does not exist; create them first"
            )));
        }
        if let Some(other) = directory.find_user(&user.email).filter(|o| o.id != user.id) {
            return Err(AppError::Conflict(format!(
                "email {} already belongs to {}",
                user.email, other.id
            )));
        }
        // A directory file is checked as a whole before its first entry is written (it may hand
        // the role from one person to another in any order).
        if source != source::DIRECTORY_FILE {
            self.keep_an_admin(std::slice::from_ref(&user))?;
        }
        let before = directory.user(&user.id);
        let now = self.now();
        let mut audit = vec![AuditEvent::new(
            now,
            actor,
            "user_upserted",
            user_change(source, before, &user),
        )];
        audit.extend(self.role_changes(now, &actor.label(), source, before, &user));
        let leaving = !user.active && before.is_some_and(|u| u.active);
        self.store()
            .apply_directory_change(&DirectoryChange {
                users: vec![user.clone()],
                audit,
                ..DirectoryChange::default()
            })
            .await?;
        self.reload_directory().await?;
        if leaving {
            // The same as a deactivation by the identity provider: nothing keeps waiting for, or
            // granting access to, someone who left.
            self.depart(&user.id).await?;
        }
        Ok(())
    }

    async fn store_group(&self, actor: &Actor, group: Group, source: &str) -> Result<(), AppError> {
        group
            .validate()
            .map_err(|e| AppError::Invalid(e.to_string()))?;
        let directory = self.directory();
        let audit = AuditEvent::new(
            self.now(),
            actor,
            "group_upserted",
            group_change(source, directory.group(&group.id), &group),
        );
        self.store().upsert_group(&group, &audit).await?;
        self.reload_directory().await?;
        Ok(())
    }

    /// The events a change to a person's groups adds when it touches the groups that make
    /// administrators or auditors (`[access] admin_groups`, `auditor_groups`): one per person, role
    /// and group, joined or left.
    pub(crate) fn role_changes(
        &self,
        at: Timestamp,
        actor: &str,
        source: &str,
        before: Option<&User>,
        after: &User,
    ) -> Vec<AuditEvent> {
        let empty = BTreeSet::new();
        let had = before.map_or(&empty, |u| &u.groups);
        let roles = self.roles();
        let mut events = Vec::new();
        for (role, groups) in [
            ("admin", &roles.admin_groups),
            ("auditor", &roles.auditor_groups),
        ] {
            let groups: BTreeSet<&GroupId> = groups.iter().collect();
            for group in groups {
                let change = match (had.contains(group), after.groups.contains(group)) {
                    (false, true) => "added",
                    (true, false) => "removed",
                    _ => continue,
                };
                events.push(AuditEvent {
                    at,
                    actor: actor.to_owned(),
                    kind: String::from("role_membership_changed"),
                    detail: json!({
                        "user": after.id,
                        "role": role,
                        "group": group,
                        "change": change,
                        "active": after.active,
                        "source": source,
                    }),
                });
            }
        }
        events
    }

    /// Loads a directory file (the embedded default's `examples/directory.yaml`): groups first, then
    /// users in an order where every manager exists before their reports. Existing entries are
    /// updated; nothing is deleted. Entries that are already stored exactly as in the file are left
    /// alone, so restarting does not fill the audit log with changes that changed nothing.
    pub async fn seed_directory(&self, file: DirectoryFile) -> Result<(), AppError> {
        self.keep_an_admin(&file.users)?;
        for group in file.groups {
            if self.directory().group(&group.id) != Some(&group) {
                self.store_group(&Actor::System, group, source::DIRECTORY_FILE)
                    .await?;
            }
        }
        let mut pending = file.users;
        while !pending.is_empty() {
            let directory = self.directory();
            let (ready, waiting): (Vec<User>, Vec<User>) = pending.into_iter().partition(|u| {
                u.manager
                    .as_ref()
                    .is_none_or(|m| directory.user(m).is_some())
            });
            if ready.is_empty() {
                let names: Vec<String> = waiting.iter().map(|u| u.id.to_string()).collect();
                return Err(AppError::Invalid(format!(
                    "managers form a loop or are missing among: {}",
                    names.join(", ")
                )));
            }
            for mut user in ready {
                // A chat link the file does not set was learned at first contact (or set by an
                // administrator): the file does not take it away.
                if let Some(stored) = directory.user(&user.id) {
                    if user.chat.slack.is_none() {
                        user.chat.slack = stored.chat.slack.clone();
                    }
                    if user.chat.teams.is_none() {
                        user.chat.teams = stored.chat.teams.clone();
                    }
                }
                if directory.user(&user.id) != Some(&user) {
                    self.store_user(&Actor::System, user, source::DIRECTORY_FILE)
                        .await?;
                }
            }
            pending = waiting;
        }
        Ok(())
    }
}

/// How Sesame learned that a chat account is a person's, for the audit trail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkedBy {
    /// The chat platform's verified email matched the person's, at first contact.
    VerifiedEmail,
    /// The person signed in to the portal and confirmed a link offer.
    ConfirmedInPortal,
}

impl LinkedBy {
    fn describe(self) -> &'static str {
        match self {
            LinkedBy::VerifiedEmail => "verified email at first contact",
            LinkedBy::ConfirmedInPortal => "confirmed by the person in the portal",
        }
    }
}
