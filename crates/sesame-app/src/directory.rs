//! The directory: stored in the database, served from an in-memory snapshot that is rebuilt whenever
//! it changes (here, or on another replica, noticed through the store's directory version).

use crate::{read_lock, write_lock, App, AppError, Principal};
use serde_json::json;
use sesame_core::directory::DirectoryFile;
use sesame_core::{Actor, AuditEvent, Directory, Group, User, UserId};
use std::sync::Arc;

impl App {
    /// Rebuilds the in-memory directory from the store if it changed since the last load.
    pub async fn reload_directory(&self) -> Result<bool, AppError> {
        let version = self.store().directory_version().await?;
        if *read_lock(&self.inner.directory_version) == version {
            return Ok(false);
        }
        let (users, groups) = self.store().load_directory().await?;
        *write_lock(&self.inner.directory) = Arc::new(Directory::new(users, groups));
        *write_lock(&self.inner.directory_version) = version;
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
        self.store_user(&who.actor(), user).await
    }

    pub async fn upsert_group(&self, who: &Principal, group: Group) -> Result<(), AppError> {
        Self::require_admin(who)?;
        self.store_group(&who.actor(), group).await
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
        let audit = AuditEvent::new(
            self.now(),
            &Actor::System,
            "chat_account_linked",
            json!({ "user": person, "platform": platform, "account": account, "how": how.describe() }),
        );
        self.store().upsert_user(&user, &audit).await?;
        self.reload_directory().await?;
        Ok(true)
    }

    async fn store_user(&self, actor: &Actor, user: User) -> Result<(), AppError> {
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
        let audit = AuditEvent::new(
            self.now(),
            actor,
            "user_upserted",
            json!({ "user": user.id, "active": user.active }),
        );
        let leaving = !user.active && directory.user(&user.id).is_some_and(|u| u.active);
        self.store().upsert_user(&user, &audit).await?;
        self.reload_directory().await?;
        if leaving {
            // The same as a deactivation by the identity provider: nothing keeps waiting for, or
            // granting access to, someone who left.
            self.depart(&user.id).await?;
        }
        Ok(())
    }

    async fn store_group(&self, actor: &Actor, group: Group) -> Result<(), AppError> {
        group
            .validate()
            .map_err(|e| AppError::Invalid(e.to_string()))?;
        let audit = AuditEvent::new(
            self.now(),
            actor,
            "group_upserted",
            json!({ "group": group.id }),
        );
        self.store().upsert_group(&group, &audit).await?;
        self.reload_directory().await?;
        Ok(())
    }

    /// Loads a directory file (the embedded default's `examples/directory.yaml`): groups first, then
    /// users in an order where every manager exists before their reports. Existing entries are
    /// updated; nothing is deleted. Entries that are already stored exactly as in the file are left
    /// alone, so restarting does not fill the audit log with changes that changed nothing.
    pub async fn seed_directory(&self, file: DirectoryFile) -> Result<(), AppError> {
        for group in file.groups {
            if self.directory().group(&group.id) != Some(&group) {
                self.store_group(&Actor::System, group).await?;
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
                    self.store_user(&Actor::System, user).await?;
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
