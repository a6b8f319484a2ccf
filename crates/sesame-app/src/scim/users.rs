//! Provisioned users: listing, creating, changing and deleting them, with their SCIM records.

use super::{
    audit, is_placeholder_email, member_value, pending_members, placeholder_email, record,
    shown_record, user_name, ScimCaller, ScimUser, ScimUserFields, PENDING_MEMBERS, SCIM_ACTOR,
};
use crate::directory::{source, user_change};
use crate::{App, AppError};
use serde_json::json;
use sesame_core::{GroupId, User, UserId};
use sesame_store::{DirectoryChange, ScimKind, ScimRecord};

impl App {
    /// Every user the provider may see (all of the directory except those it deleted), by id.
    pub async fn scim_users(&self, who: &ScimCaller) -> Result<Vec<ScimUser>, AppError> {
        who.check()?;
        let records = self.scim_records(ScimKind::User).await?;
        let directory = self.directory();
        Ok(directory
            .users()
            .filter_map(|u| {
                shown_record(&records, ScimKind::User, u.id.as_str()).map(|record| ScimUser {
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

    /// Creates a user. The id is the user name when that is a free, valid user id, else a generated
    /// one; it never changes afterwards. A user the provider deleted comes back under their old id
    /// when created again with the same email (or, without one, the same user name). Groups that
    /// named the new id as a member before it existed now have them.
    pub async fn scim_create_user(
        &self,
        who: &ScimCaller,
        fields: ScimUserFields,
    ) -> Result<ScimUser, AppError> {
        let _guard = self.begin_scim_change(who).await?;
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
            groups: previous
                .as_ref()
                .map(|p| p.groups.clone())
                .unwrap_or_default(),
            chat: Default::default(),
            active: fields.active,
        };
        self.check_scim_user(&user, &directory)?;
        let mut change = DirectoryChange::default();
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
        let mut events = vec![audit(
            now,
            "user_provisioned",
            user_detail(previous.as_ref(), &user, &record),
        )];
        events.extend(self.role_changes(now, SCIM_ACTOR, source::SCIM, previous.as_ref(), &user));
        change.audit.splice(0..0, events);
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
        let _guard = self.begin_scim_change(who).await?;
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
        self.keep_an_admin(std::slice::from_ref(&user))?;
        let departs = current.user.active && !user.active;
        let mut events = vec![audit(
            now,
            if departs {
                "user_deactivated"
            } else {
                "user_provisioned"
            },
            user_detail(Some(&current.user), &user, &record),
        )];
        events.extend(self.role_changes(now, SCIM_ACTOR, source::SCIM, Some(&current.user), &user));
        let change = DirectoryChange {
            users: vec![user.clone()],
            scim: vec![record.clone()],
            audit: events,
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
        let _guard = self.begin_scim_change(who).await?;
        let current = self.scim_user(who, id).await?;
        let now = self.now();
        let mut user = current.user.clone();
        user.active = false;
        self.keep_an_admin(std::slice::from_ref(&user))?;
        let mut record = current.record.clone();
        record.updated_at = now;
        record.deleted_at = Some(now);
        let change = DirectoryChange {
            users: vec![user.clone()],
            scim: vec![record],
            audit: vec![audit(
                now,
                "user_deleted",
                user_change(source::SCIM, Some(&current.user), &user),
            )],
            ..DirectoryChange::default()
        };
        self.store().apply_directory_change(&change).await?;
        self.reload_directory().await?;
        if current.user.active {
            self.depart(&user.id).await?;
        }
        Ok(())
    }
}

/// A provisioned person's change as the trail records it: before and after, and the provider's
/// `externalId`.
fn user_detail(before: Option<&User>, after: &User, record: &ScimRecord) -> serde_json::Value {
    let mut detail = user_change(source::SCIM, before, after);
    if let serde_json::Value::Object(map) = &mut detail {
        map.insert(String::from("external_id"), json!(record.external_id));
    }
    detail
}
