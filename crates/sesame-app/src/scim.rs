//! Provisioning from an identity provider (SCIM): people and groups created, changed, deactivated
//! and deleted by the provider, with their SCIM bookkeeping, and what leaving means for requests.
//!
//! The web layer speaks SCIM's JSON; here a user is core's `User` plus a [`ScimRecord`]. Every
//! change is read, modified and written under one lock, so two provider calls in this process never
//! lose each other's update. When a person becomes inactive (deactivated or deleted), Sesame cancels
//! the requests still waiting for them (pending, or approved but not yet fulfilled) and ends their
//! active access, each through the engine as `Actor::System`, with its own audit events.

use crate::{App, AppError, Principal};
use serde_json::json;
use sesame_core::engine::{self, Command};
use sesame_core::{Actor, AuditEvent, Group, GroupId, RequestNumber, User, UserId};
use sesame_store::{DirectoryChange, RequestFilter, ScimKind, ScimRecord, StoreError};
use std::collections::{BTreeMap, BTreeSet};

/// How the audit trail names provisioning changes.
const SCIM_ACTOR: &str = "scim";

/// Who calls the provisioning use cases: the identity provider (authenticated by the web layer with
/// the configured SCIM token) or an administrator.
#[derive(Debug, Clone)]
pub enum ScimCaller {
    Provisioner,
    Person(Principal),
}

impl ScimCaller {
    fn check(&self) -> Result<(), AppError> {
        match self {
            ScimCaller::Provisioner => Ok(()),
            ScimCaller::Person(p) if p.admin => Ok(()),
            ScimCaller::Person(_) => Err(AppError::Forbidden(String::from(
                "only administrators and the identity provider may provision people",
            ))),
        }
    }
}

/// A user as SCIM shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct ScimUser {
    pub user: User,
    pub record: ScimRecord,
}

/// What a provider sets on a user; everything else (chat links, groups) is kept.
#[derive(Debug, Clone, PartialEq)]
pub struct ScimUserFields {
    /// The provider's unique name for the person, kept as sent (often the email).
    pub user_name: String,
    /// The person's email; `None` when the provider sent none (then Sesame stores
    /// [`placeholder_email`]).
    pub email: Option<String>,
    pub display_name: String,
    pub active: bool,
    pub manager: Option<UserId>,
    pub external_id: Option<String>,
    /// Attributes the directory has no place for, kept and shown back.
    pub attributes: serde_json::Value,
}

/// A group as SCIM shows it: its members are every user (active or not) who has it, and the
/// members the provider named that are not users yet (`pending`, as sent).
#[derive(Debug, Clone, PartialEq)]
pub struct ScimGroup {
    pub group: Group,
    pub members: BTreeSet<UserId>,
    pub pending: Vec<serde_json::Value>,
    pub record: ScimRecord,
}

/// What a provider sets on a group. `members` are the member objects as sent (each with a
/// `value`); those naming a user become memberships, the others wait for that user.
#[derive(Debug, Clone, PartialEq)]
pub struct ScimGroupFields {
    pub display_name: String,
    pub external_id: Option<String>,
    pub members: Vec<serde_json::Value>,
    pub attributes: serde_json::Value,
}

/// Where a group's SCIM record keeps the members that name no user yet.
const PENDING_MEMBERS: &str = "members";

/// The reserved domain of the email Sesame gives a person the provider sent no email for: `.invalid`
/// never routes and never matches a Slack account's email.
pub const PLACEHOLDER_EMAIL_DOMAIN: &str = "scim.invalid";

/// The email stored for a person provisioned without one: `<id>@scim.invalid`.
pub fn placeholder_email(id: &UserId) -> String {
    format!(
        "{}@{PLACEHOLDER_EMAIL_DOMAIN}",
        id.as_str().replace('@', ".")
    )
}

/// Whether the email is a placeholder (not shown over SCIM as one of the person's emails).
pub fn is_placeholder_email(email: &str) -> bool {
    email
        .rsplit_once('@')
        .is_some_and(|(_, domain)| domain.eq_ignore_ascii_case(PLACEHOLDER_EMAIL_DOMAIN))
}

fn pending_members(record: &ScimRecord) -> Vec<serde_json::Value> {
    record.attributes[PENDING_MEMBERS]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn member_value(member: &serde_json::Value) -> Option<&str> {
    member["value"].as_str().map(str::trim)
}

/// The user name SCIM shows for a user: as the provider sent it, else the email.
pub fn user_name(user: &ScimUser) -> &str {
    user.record.attributes["userName"]
        .as_str()
        .unwrap_or(&user.user.email)
}

/// What deactivating a person did to their requests.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Departure {
    pub canceled: Vec<RequestNumber>,
    pub revoked: Vec<RequestNumber>,
    /// Requests whose current step can no longer reach its quorum without them: administrators
    /// were told.
    pub stuck: Vec<RequestNumber>,
}

fn record(kind: ScimKind, id: &str, at: sesame_core::Timestamp) -> ScimRecord {
    ScimRecord {
        kind,
        id: id.to_owned(),
        external_id: None,
        created_at: at,
        updated_at: at,
        deleted_at: None,
        attributes: json!({}),
    }
}

fn audit(at: sesame_core::Timestamp, kind: &str, detail: serde_json::Value) -> AuditEvent {
    AuditEvent {
        at,
        actor: String::from(SCIM_ACTOR),
        kind: kind.to_owned(),
        detail,
    }
}

impl App {
    async fn scim_records(&self, kind: ScimKind) -> Result<BTreeMap<String, ScimRecord>, AppError> {
        Ok(self
            .store()
            .scim_records(kind)
            .await?
            .into_iter()
            .map(|r| (r.id.clone(), r))
            .collect())
    }

    /// Every user the provider may see (all of the directory except those it deleted), by id.
    pub async fn scim_users(&self, who: &ScimCaller) -> Result<Vec<ScimUser>, AppError> {
        who.check()?;
        let records = self.scim_records(ScimKind::User).await?;
        let directory = self.directory();
        Ok(directory
            .users()
            .filter_map(|u| {
                let record = records.get(u.id.as_str()).cloned().unwrap_or_else(|| {
                    record(ScimKind::User, u.id.as_str(), sesame_core::Timestamp(0))
                });
                record.deleted_at.is_none().then(|| ScimUser {
                    user: u.clone(),
                    record,
                })
            })
            .collect())
    }

    pub async fn scim_user(&self, who: &ScimCaller, id: &str) -> Result<ScimUser, AppError> {
        self.scim_users(who)
            .await?
            .into_iter()
            .find(|u| u.user.id.as_str() == id)
            .ok_or_else(|| AppError::NotFound(format!("user {id} was not found")))
    }

    /// Every group the provider may see, by id, with its members.
    pub async fn scim_groups(&self, who: &ScimCaller) -> Result<Vec<ScimGroup>, AppError> {
        who.check()?;
        let records = self.scim_records(ScimKind::Group).await?;
        let directory = self.directory();
        let mut members: BTreeMap<&GroupId, BTreeSet<UserId>> = BTreeMap::new();
        for u in directory.users() {
            for g in &u.groups {
                members.entry(g).or_default().insert(u.id.clone());
            }
        }
        Ok(directory
            .groups()
            .filter_map(|g| {
                let record = records.get(g.id.as_str()).cloned().unwrap_or_else(|| {
                    record(ScimKind::Group, g.id.as_str(), sesame_core::Timestamp(0))
                });
                record.deleted_at.is_none().then(|| ScimGroup {
                    group: g.clone(),
                    members: members.get(&g.id).cloned().unwrap_or_default(),
                    pending: pending_members(&record),
                    record,
                })
            })
            .collect())
    }

    pub async fn scim_group(&self, who: &ScimCaller, id: &str) -> Result<ScimGroup, AppError> {
        self.scim_groups(who)
            .await?
            .into_iter()
            .find(|g| g.group.id.as_str() == id)
            .ok_or_else(|| AppError::NotFound(format!("group {id} was not found")))
    }

    /// Creates a user. The id is the user name when that is a free, valid user id, else a generated
    /// one; it never changes afterwards. A user the provider deleted comes back under their old id
    /// when created again with the same email (or, without one, the same user name). Groups that
    /// named the new id as a member before it existed now have them.
    pub async fn scim_create_user(
        &self,
        who: &ScimCaller,
        fields: ScimUserFields,
    ) -> Result<ScimUser, AppError> {
        who.check()?;
        let _guard = self.inner.scim_lock.lock().await;
        self.reload_directory().await?;
        let directory = self.directory();
        let records = self.scim_records(ScimKind::User).await?;
        let now = self.now();
        let email = fields.email.as_deref().map(str::trim);
        let deleted = |id: &UserId| {
            records
                .get(id.as_str())
                .is_some_and(|r| r.deleted_at.is_some())
        };
        let existing = match email {
            Some(email) => directory.user_by_email(email),
            None => directory.users().find(|u| {
                deleted(&u.id)
                    && is_placeholder_email(&u.email)
                    && records[u.id.as_str()].attributes["userName"]
                        .as_str()
                        .is_some_and(|n| n.eq_ignore_ascii_case(fields.user_name.trim()))
            }),
        };
        let (id, previous) = match existing {
            Some(existing) if deleted(&existing.id) => {
                (existing.id.clone(), Some(existing.clone()))
            }
            Some(existing) => {
                return Err(AppError::Conflict(format!(
                    "userName {} already belongs to {}",
                    email.unwrap_or(&fields.user_name),
                    existing.id
                )))
            }
            None => (
                self.new_user_id(email.unwrap_or(&fields.user_name), &directory),
                None,
            ),
        };
        self.check_user_name(&fields.user_name, &id).await?;
        let mut record = record(ScimKind::User, id.as_str(), now);
        record.external_id = fields.external_id.clone();
        record.attributes = fields.attributes.clone();
        record.attributes["userName"] = json!(fields.user_name);
        let mut user = User {
            id: id.clone(),
            email: email.map_or_else(|| placeholder_email(&id), str::to_owned),
            display_name: fields.display_name.clone(),
            manager: fields.manager.clone(),
            groups: previous.map(|p| p.groups).unwrap_or_default(),
            chat: Default::default(),
            active: fields.active,
        };
        self.check_scim_user(&user, &directory)?;
        let mut change = DirectoryChange {
            audit: vec![audit(
                now,
                "user_provisioned",
                json!({ "user": id, "active": user.active, "external_id": record.external_id }),
            )],
            ..DirectoryChange::default()
        };
        // Memberships that waited for this person.
        for mut group in self.scim_records(ScimKind::Group).await?.into_values() {
            let Some(gid) = GroupId::new(group.id.as_str())
                .ok()
                .filter(|g| group.deleted_at.is_none() && directory.group(g).is_some())
            else {
                continue;
            };
            let mut pending = pending_members(&group);
            let before = pending.len();
            pending
                .retain(|m| !member_value(m).is_some_and(|v| v.eq_ignore_ascii_case(id.as_str())));
            if pending.len() == before {
                continue;
            }
            user.groups.insert(gid.clone());
            group.attributes[PENDING_MEMBERS] = json!(pending);
            group.updated_at = now;
            change.audit.push(audit(
                now,
                "group_changed",
                json!({ "group": gid, "added": [id], "removed": [] }),
            ));
            change.scim.push(group);
        }
        change.users.push(user.clone());
        change.scim.push(record.clone());
        self.store().apply_directory_change(&change).await?;
        self.reload_directory().await?;
        if !user.active {
            self.depart(&id).await?;
        }
        Ok(ScimUser { user, record })
    }

    fn new_user_id(&self, user_name: &str, directory: &sesame_core::Directory) -> UserId {
        let wanted = user_name.trim().to_lowercase();
        if let Ok(id) = UserId::new(wanted.clone()) {
            if directory.user(&id).is_none() {
                return id;
            }
        }
        let base: String = wanted
            .split('@')
            .next()
            .unwrap_or_default()
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            .take(40)
            .collect();
        let base = if base.is_empty() {
            String::from("user")
        } else {
            base
        };
        (2..)
            .filter_map(|n| UserId::new(format!("{base}-{n}")).ok())
            .find(|id| directory.user(id).is_none())
            .unwrap_or_else(|| UserId::new("user").expect("a valid id"))
    }

    /// User names are unique, ignoring case, among the users SCIM shows.
    async fn check_user_name(&self, name: &str, id: &UserId) -> Result<(), AppError> {
        let users = self.scim_users(&ScimCaller::Provisioner).await?;
        if let Some(other) = users
            .iter()
            .find(|u| &u.user.id != id && user_name(u).eq_ignore_ascii_case(name.trim()))
        {
            return Err(AppError::Conflict(format!(
                "userName {name} already belongs to {}",
                other.user.id
            )));
        }
        Ok(())
    }

    fn check_scim_user(
        &self,
        user: &User,
        directory: &sesame_core::Directory,
    ) -> Result<(), AppError> {
        // A manager who does not exist (yet) is kept: providers push people in any order, and the
        // reference resolves once that person exists. Until then a `manager` approval step for
        // this person cannot proceed, which the engine reports like having no manager.
        user.validate()
            .map_err(|e| AppError::Invalid(e.to_string()))?;
        if let Some(other) = directory
            .user_by_email(&user.email)
            .filter(|o| o.id != user.id)
        {
            return Err(AppError::Conflict(format!(
                "userName {} already belongs to {}",
                user.email, other.id
            )));
        }
        Ok(())
    }

    /// Changes a user: `change` receives the current state and returns the new fields (a replace or
    /// a patch, decided by the caller), all under the provisioning lock.
    pub async fn scim_update_user(
        &self,
        who: &ScimCaller,
        id: &str,
        change: impl FnOnce(&ScimUser) -> Result<ScimUserFields, AppError>,
    ) -> Result<ScimUser, AppError> {
        who.check()?;
        let _guard = self.inner.scim_lock.lock().await;
        self.reload_directory().await?;
        let current = self.scim_user(who, id).await?;
        let fields = change(&current)?;
        let now = self.now();
        let mut user = current.user.clone();
        user.email = fields
            .email
            .as_deref()
            .map_or_else(|| placeholder_email(&user.id), |e| e.trim().to_owned());
        user.display_name = fields.display_name;
        user.active = fields.active;
        user.manager = fields.manager;
        let mut record = current.record.clone();
        if record.created_at.millis() == 0 {
            record.created_at = now;
        }
        record.updated_at = now;
        record.external_id = fields.external_id;
        record.attributes = fields.attributes;
        record.attributes["userName"] = json!(fields.user_name);
        if user == current.user
            && record.external_id == current.record.external_id
            && record.attributes == current.record.attributes
        {
            return Ok(current);
        }
        self.check_user_name(&fields.user_name, &user.id).await?;
        self.check_scim_user(&user, &self.directory())?;
        let departs = current.user.active && !user.active;
        let change = DirectoryChange {
            users: vec![user.clone()],
            scim: vec![record.clone()],
            audit: vec![audit(
                now,
                if departs {
                    "user_deactivated"
                } else {
                    "user_provisioned"
                },
                json!({ "user": user.id, "active": user.active, "external_id": record.external_id }),
            )],
            ..DirectoryChange::default()
        };
        self.store().apply_directory_change(&change).await?;
        self.reload_directory().await?;
        if departs {
            self.depart(&user.id).await?;
        }
        Ok(ScimUser { user, record })
    }

    /// Deletes a user as the provider sees it: Sesame keeps them, inactive (requests name them), and
    /// SCIM no longer shows them.
    pub async fn scim_delete_user(&self, who: &ScimCaller, id: &str) -> Result<(), AppError> {
        who.check()?;
        let _guard = self.inner.scim_lock.lock().await;
        self.reload_directory().await?;
        let current = self.scim_user(who, id).await?;
        let now = self.now();
        let mut user = current.user.clone();
        user.active = false;
        let mut record = current.record.clone();
        record.updated_at = now;
        record.deleted_at = Some(now);
        let change = DirectoryChange {
            users: vec![user.clone()],
            scim: vec![record],
            audit: vec![audit(now, "user_deleted", json!({ "user": user.id }))],
            ..DirectoryChange::default()
        };
        self.store().apply_directory_change(&change).await?;
        self.reload_directory().await?;
        if current.user.active {
            self.depart(&user.id).await?;
        }
        Ok(())
    }

    /// Creates a group; its id is a slug of the display name, made unique.
    pub async fn scim_create_group(
        &self,
        who: &ScimCaller,
        fields: ScimGroupFields,
    ) -> Result<ScimGroup, AppError> {
        who.check()?;
        let _guard = self.inner.scim_lock.lock().await;
        self.reload_directory().await?;
        let directory = self.directory();
        let base: String = fields
            .display_name
            .to_lowercase()
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect::<String>()
            .split('-')
            .filter(|p| !p.is_empty())
            .collect::<Vec<_>>()
            .join("-")
            .chars()
            .take(50)
            .collect();
        let base = if base.is_empty() {
            String::from("group")
        } else {
            base
        };
        let id = std::iter::once(base.clone())
            .chain((2..).map(|n| format!("{base}-{n}")))
            .filter_map(|s| GroupId::new(s.trim_end_matches('-')).ok())
            .find(|g| directory.group(g).is_none())
            .ok_or_else(|| AppError::Invalid(String::from("no free group id")))?;
        let group = Group {
            id,
            name: String::new(),
            description: String::new(),
        };
        let empty = ScimGroup {
            record: record(ScimKind::Group, group.id.as_str(), self.now()),
            group,
            members: BTreeSet::new(),
            pending: Vec::new(),
        };
        self.write_group(empty, fields, true).await
    }

    pub async fn scim_update_group(
        &self,
        who: &ScimCaller,
        id: &str,
        change: impl FnOnce(&ScimGroup) -> Result<ScimGroupFields, AppError>,
    ) -> Result<ScimGroup, AppError> {
        who.check()?;
        let _guard = self.inner.scim_lock.lock().await;
        self.reload_directory().await?;
        let current = self.scim_group(who, id).await?;
        let fields = change(&current)?;
        self.write_group(current, fields, false).await
    }

    /// Deletes a group as the provider sees it: everybody leaves it, and SCIM no longer shows it.
    /// The group itself stays, as flows may name it.
    pub async fn scim_delete_group(&self, who: &ScimCaller, id: &str) -> Result<(), AppError> {
        who.check()?;
        let _guard = self.inner.scim_lock.lock().await;
        self.reload_directory().await?;
        let mut current = self.scim_group(who, id).await?;
        let fields = ScimGroupFields {
            display_name: current.group.name.clone(),
            external_id: current.record.external_id.clone(),
            members: Vec::new(),
            attributes: current.record.attributes.clone(),
        };
        current.record.deleted_at = Some(self.now());
        self.write_group(current, fields, false).await?;
        Ok(())
    }

    async fn write_group(
        &self,
        current: ScimGroup,
        fields: ScimGroupFields,
        created: bool,
    ) -> Result<ScimGroup, AppError> {
        let now = self.now();
        let directory = self.directory();
        let mut group = current.group.clone();
        group.name = fields.display_name.trim().to_owned();
        group
            .validate()
            .map_err(|e| AppError::Invalid(e.to_string()))?;
        // Members naming a user become memberships; the others are kept, as sent, until a user
        // with that id is provisioned.
        let mut members = BTreeSet::new();
        let mut pending: Vec<serde_json::Value> = Vec::new();
        for member in fields.members {
            let value = member_value(&member)
                .ok_or_else(|| AppError::Invalid(String::from("every member needs a value")))?;
            match UserId::new(value)
                .ok()
                .filter(|id| directory.user(id).is_some())
            {
                Some(id) => {
                    members.insert(id);
                }
                None if pending
                    .iter()
                    .any(|p| member_value(p).is_some_and(|v| v.eq_ignore_ascii_case(value))) => {}
                None => pending.push(member),
            }
        }
        let mut users = Vec::new();
        for id in current.members.symmetric_difference(&members) {
            let mut user = directory
                .user(id)
                .cloned()
                .ok_or_else(|| AppError::Invalid(format!("member {id} is not a user")))?;
            if members.contains(id) {
                user.groups.insert(group.id.clone());
            } else {
                user.groups.remove(&group.id);
            }
            users.push(user);
        }
        let mut record = current.record.clone();
        if record.created_at.millis() == 0 {
            record.created_at = now;
        }
        record.updated_at = now;
        record.external_id = fields.external_id;
        record.attributes = fields.attributes;
        if !record.attributes.is_object() {
            record.attributes = json!({});
        }
        if let Some(map) = record.attributes.as_object_mut() {
            map.remove(PENDING_MEMBERS);
            if !pending.is_empty() {
                map.insert(String::from(PENDING_MEMBERS), json!(pending));
            }
        }
        let kind = if current.record.deleted_at.is_some() {
            "group_deleted"
        } else if created {
            "group_provisioned"
        } else {
            "group_changed"
        };
        let added: Vec<&UserId> = members.difference(&current.members).collect();
        let removed: Vec<&UserId> = current.members.difference(&members).collect();
        let waiting: Vec<&str> = pending.iter().filter_map(member_value).collect();
        let change = DirectoryChange {
            audit: vec![audit(
                now,
                kind,
                json!({ "group": group.id, "name": group.name, "added": added, "removed": removed, "pending": waiting }),
            )],
            users,
            groups: vec![group.clone()],
            scim: vec![record.clone()],
        };
        self.store().apply_directory_change(&change).await?;
        self.reload_directory().await?;
        Ok(ScimGroup {
            group,
            members,
            pending,
            record,
        })
    }

    /// A person left: cancel what still waits for them and end the access they hold, each through the
    /// engine as Sesame itself. Requests they were asked to approve stay as they are (the engine
    /// refuses decisions by people who left, and the step's escalation and pending expiry timers
    /// still apply), but a step that can no longer reach its quorum is brought to the
    /// administrators at once.
    pub async fn depart(&self, user: &UserId) -> Result<Departure, AppError> {
        let mut departure = Departure::default();
        let filter = RequestFilter {
            requester: Some(user.clone()),
            states: [
                "submitted",
                "pending_approval",
                "fulfilling",
                "active",
                "fulfilled",
            ]
            .map(String::from)
            .to_vec(),
            limit: sesame_store::MAX_LIST_LIMIT,
            ..RequestFilter::default()
        };
        loop {
            let requests = self.store().list_requests(&filter).await?;
            let mut progressed = false;
            for request in &requests {
                let revoke = matches!(
                    request.state,
                    sesame_core::State::Active { .. } | sesame_core::State::Fulfilled
                );
                let reason = Some(String::from(
                    "the requester left (deactivated in the directory)",
                ));
                let command = if revoke {
                    Command::Revoke { reason }
                } else {
                    Command::Cancel { reason }
                };
                if self.act_as_system(request.number, command).await? {
                    progressed = true;
                    if revoke {
                        departure.revoked.push(request.number);
                    } else {
                        departure.canceled.push(request.number);
                    }
                }
            }
            if !progressed || requests.len() < sesame_store::MAX_LIST_LIMIT as usize {
                break;
            }
        }
        // Steps they were asked to approve: their decision no longer counts, so a step that can no
        // longer reach its quorum is brought to the administrators at once rather than waiting for
        // escalation or expiry.
        let waiting = RequestFilter {
            waiting_on: Some(user.clone()),
            limit: sesame_store::MAX_LIST_LIMIT,
            ..RequestFilter::default()
        };
        for request in self.store().list_requests(&waiting).await? {
            if self.act_as_system(request.number, Command::Recheck).await? {
                departure.stuck.push(request.number);
            }
        }
        tracing::info!(user = %user, canceled = departure.canceled.len(), revoked = departure.revoked.len(), stuck = departure.stuck.len(), "a person left");
        Ok(departure)
    }

    /// Applies a command as Sesame itself, retrying on a concurrent write; false when the request
    /// moved on to a state where the command no longer applies.
    async fn act_as_system(
        &self,
        number: RequestNumber,
        command: Command,
    ) -> Result<bool, AppError> {
        for _ in 0..8 {
            let Some(request) = self.store().request(number).await? else {
                return Ok(false);
            };
            let transition = match engine::decide(
                &request,
                command.clone(),
                &Actor::System,
                &self.directory(),
                self.now(),
            ) {
                Ok(t) => t,
                Err(_) => return Ok(false),
            };
            match self
                .store()
                .save_transition(&transition, request.version, None)
                .await
            {
                Ok(saved) => {
                    self.inner.recent.put(&saved);
                    self.metrics().count_transition(command.name());
                    self.wake_dispatcher();
                    return Ok(true);
                }
                Err(StoreError::Conflict) => {
                    self.inner.recent.forget(number);
                    continue;
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(AppError::Conflict(format!(
            "request {number} is changing too often; try again"
        )))
    }
}
