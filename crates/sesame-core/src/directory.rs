//! The people and groups Sesame knows: who may request, who approves, who fulfils.
//!
//! The directory is an in-memory snapshot; the store keeps the durable copy and the application
//! rebuilds the snapshot whenever it changes.

use crate::ids::{GroupId, UserId};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct User {
    pub id: UserId,
    pub email: String,
    pub display_name: String,
    #[serde(default)]
    pub manager: Option<UserId>,
    #[serde(default)]
    pub groups: BTreeSet<GroupId>,
    #[serde(default)]
    pub chat: ChatIdentities,
    #[serde(default = "yes")]
    pub active: bool,
}

fn yes() -> bool {
    true
}

/// The person's accounts on chat platforms, linked explicitly.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChatIdentities {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slack: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub teams: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Group {
    pub id: GroupId,
    pub name: String,
    #[serde(default)]
    pub description: String,
}

/// Why a user or group was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DirectoryError {
    #[error("{0}")]
    Invalid(String),
}

impl User {
    /// Checks what the type cannot: an email that looks like one and a name to show.
    pub fn validate(&self) -> Result<(), DirectoryError> {
        let email = self.email.trim();
        let looks_like_email = email.len() <= 254
            && email
                .split_once('@')
                .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'))
            && !email.contains(char::is_whitespace);
        if !looks_like_email {
            return Err(DirectoryError::Invalid(format!(
                "user {}: email {:?} is not an email address",
                self.id, self.email
            )));
        }
        if self.display_name.trim().is_empty() || self.display_name.chars().count() > 200 {
            return Err(DirectoryError::Invalid(format!(
                "user {}: display_name must be 1 to 200 characters",
                self.id
            )));
        }
        if self.manager.as_ref() == Some(&self.id) {
            return Err(DirectoryError::Invalid(format!(
                "user {} cannot be their own manager",
                self.id
            )));
        }
        Ok(())
    }
}

impl Group {
    pub fn validate(&self) -> Result<(), DirectoryError> {
        if self.name.trim().is_empty() || self.name.chars().count() > 200 {
            return Err(DirectoryError::Invalid(format!(
                "group {}: name must be 1 to 200 characters",
                self.id
            )));
        }
        Ok(())
    }
}

/// A consistent view of users and groups with the indexes policy needs.
#[derive(Debug, Clone, Default)]
pub struct Directory {
    users: BTreeMap<UserId, User>,
    groups: BTreeMap<GroupId, Group>,
    by_email: HashMap<String, UserId>,
    /// Explicit Slack links (`chat.slack`), for mapping a Slack user back to a person.
    by_slack: HashMap<String, UserId>,
    members: HashMap<GroupId, Vec<UserId>>,
}

impl Directory {
    pub fn new(
        users: impl IntoIterator<Item = User>,
        groups: impl IntoIterator<Item = Group>,
    ) -> Self {
        let users: BTreeMap<UserId, User> = users.into_iter().map(|u| (u.id.clone(), u)).collect();
        let groups = groups.into_iter().map(|g| (g.id.clone(), g)).collect();
        let mut by_email = HashMap::new();
        let mut by_slack = HashMap::new();
        let mut members: HashMap<GroupId, Vec<UserId>> = HashMap::new();
        for user in users.values() {
            by_email.insert(user.email.to_lowercase(), user.id.clone());
            if let Some(slack) = &user.chat.slack {
                by_slack.insert(slack.clone(), user.id.clone());
            }
            if user.active {
                for g in &user.groups {
                    members.entry(g.clone()).or_default().push(user.id.clone());
                }
            }
        }
        Directory {
            users,
            groups,
            by_email,
            by_slack,
            members,
        }
    }

    /// The person whose directory entry links this Slack account, active or not.
    pub fn user_by_slack_id(&self, slack_user_id: &str) -> Option<&User> {
        self.by_slack
            .get(slack_user_id)
            .and_then(|id| self.users.get(id))
    }

    /// Any user, active or not, by email (case-insensitive).
    pub fn user_by_email(&self, email: &str) -> Option<&User> {
        self.by_email
            .get(&email.trim().to_lowercase())
            .and_then(|id| self.users.get(id))
    }

    pub fn user(&self, id: &UserId) -> Option<&User> {
        self.users.get(id)
    }

    /// An active user by id or by email, as flows and people name them either way.
    pub fn find_user(&self, id_or_email: &str) -> Option<&User> {
        let by_id = UserId::new(id_or_email)
            .ok()
            .and_then(|id| self.users.get(&id));
        by_id
            .or_else(|| {
                self.by_email
                    .get(&id_or_email.to_lowercase())
                    .and_then(|id| self.users.get(id))
            })
            .filter(|u| u.active)
    }

    /// The user id a reference in a flow stands for (flows may name people by email).
    pub fn resolve(&self, reference: &UserId) -> Option<UserId> {
        self.find_user(reference.as_str()).map(|u| u.id.clone())
    }

    pub fn group(&self, id: &GroupId) -> Option<&Group> {
        self.groups.get(id)
    }

    /// Active members of a group, sorted by id.
    pub fn members(&self, group: &GroupId) -> &[UserId] {
        self.members
            .get(group)
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    pub fn is_member(&self, user: &UserId, group: &GroupId) -> bool {
        self.users
            .get(user)
            .is_some_and(|u| u.active && u.groups.contains(group))
    }

    pub fn users(&self) -> impl Iterator<Item = &User> {
        self.users.values()
    }

    pub fn groups(&self) -> impl Iterator<Item = &Group> {
        self.groups.values()
    }

    pub fn display_name(&self, id: &UserId) -> String {
        self.users
            .get(id)
            .map(|u| u.display_name.clone())
            .unwrap_or_else(|| id.to_string())
    }

    /// A group's name as people know it ("IT operations"), else its id.
    pub fn group_name(&self, id: &GroupId) -> String {
        self.groups
            .get(id)
            .map(|g| g.name.clone())
            .unwrap_or_else(|| id.to_string())
    }
}

/// The directory file of the embedded default: `groups:` and `users:` lists.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DirectoryFile {
    #[serde(default)]
    pub groups: Vec<Group>,
    #[serde(default)]
    pub users: Vec<User>,
}

impl DirectoryFile {
    /// Parses and checks a directory file: valid entries, unique ids and emails, and managers and
    /// groups that exist.
    pub fn parse(text: &str) -> Result<Self, DirectoryError> {
        let file: DirectoryFile =
            serde_yaml::from_str(text).map_err(|e| DirectoryError::Invalid(e.to_string()))?;
        let mut ids = BTreeSet::new();
        let mut emails = BTreeSet::new();
        let group_ids: BTreeSet<&GroupId> = file.groups.iter().map(|g| &g.id).collect();
        if group_ids.len() != file.groups.len() {
            return Err(DirectoryError::Invalid(String::from(
                "a group id is listed twice",
            )));
        }
        for g in &file.groups {
            g.validate()?;
        }
        for u in &file.users {
            u.validate()?;
            if !ids.insert(&u.id) {
                return Err(DirectoryError::Invalid(format!(
                    "user {} is listed twice",
                    u.id
                )));
            }
            if !emails.insert(u.email.to_lowercase()) {
                return Err(DirectoryError::Invalid(format!(
                    "email {} is used by two users",
                    u.email
                )));
            }
            if let Some(g) = u.groups.iter().find(|g| !group_ids.contains(g)) {
                return Err(DirectoryError::Invalid(format!(
                    "user {}: group {g} is not in `groups`",
                    u.id
                )));
            }
        }
        for u in &file.users {
            if let Some(m) = u.manager.as_ref().filter(|m| !ids.contains(m)) {
                return Err(DirectoryError::Invalid(format!(
                    "user {}: manager {m} is not in `users`",
                    u.id
                )));
            }
        }
        Ok(file)
    }

    pub fn into_directory(self) -> Directory {
        Directory::new(self.users, self.groups)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "
groups:
  - { id: employees, name: All employees }
  - { id: facilities, name: Facilities }
users:
  - { id: carol, email: carol@example.com, display_name: Carol, groups: [employees] }
  - { id: alice, email: Alice@Example.com, display_name: Alice, manager: carol, groups: [employees, facilities] }
  - { id: gone, email: gone@example.com, display_name: Gone, groups: [facilities], active: false }
";

    #[test]
    fn finds_people_by_id_or_email_and_lists_active_members() {
        let d = DirectoryFile::parse(FILE).unwrap().into_directory();
        assert_eq!(
            d.find_user("alice@example.com").unwrap().id.as_str(),
            "alice"
        );
        assert_eq!(
            d.find_user("alice")
                .unwrap()
                .manager
                .as_ref()
                .unwrap()
                .as_str(),
            "carol"
        );
        let facilities = GroupId::new("facilities").unwrap();
        assert_eq!(d.members(&facilities), &[UserId::new("alice").unwrap()]);
        assert!(
            d.find_user("gone").is_none(),
            "inactive people are not found"
        );
    }

    #[test]
    fn refuses_dangling_references_and_duplicates() {
        for (bad, why) in [
            ("users: [{ id: a, email: a@x.io, display_name: A, manager: nobody }]", "manager nobody"),
            ("users: [{ id: a, email: a@x.io, display_name: A, groups: [ghosts] }]", "group ghosts"),
            ("users: [{ id: a, email: a@x.io, display_name: A }, { id: b, email: A@x.io, display_name: B }]", "used by two"),
            ("users: [{ id: a, email: nope, display_name: A }]", "not an email"),
            ("users: [{ id: a, email: a@x.io, display_name: A, shoe_size: 9 }]", "unknown field"),
        ] {
            let err = DirectoryFile::parse(bad).unwrap_err().to_string();
            assert!(err.contains(why), "{err} should mention {why}");
        }
    }
}
