//! Provisioned groups: listing, creating, changing and deleting them; members the provider names
//! before they are users wait in the group's SCIM record.

use super::{
    audit, member_value, pending_members, record, shown_record, ScimCaller, ScimGroup,
    ScimGroupFields, PENDING_MEMBERS, SCIM_ACTOR,
};
use crate::directory::source;
use crate::{App, AppError};
use serde_json::json;
use sesame_core::{Group, GroupId, UserId};
use sesame_store::{DirectoryChange, ScimKind};
use std::collections::{BTreeMap, BTreeSet};

impl App {
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
                shown_record(&records, ScimKind::Group, g.id.as_str()).map(|record| ScimGroup {
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

    /// Creates a group; its id is a slug of the display name, made unique.
    pub async fn scim_create_group(
        &self,
        who: &ScimCaller,
        fields: ScimGroupFields,
    ) -> Result<ScimGroup, AppError> {
        let _guard = self.begin_scim_change(who).await?;
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
        let _guard = self.begin_scim_change(who).await?;
        let current = self.scim_group(who, id).await?;
        let fields = change(&current)?;
        self.write_group(current, fields, false).await
    }

    /// Deletes a group as the provider sees it: everybody leaves it, and SCIM no longer shows it.
    /// The group itself stays, as flows may name it.
    pub async fn scim_delete_group(&self, who: &ScimCaller, id: &str) -> Result<(), AppError> {
        let _guard = self.begin_scim_change(who).await?;
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
        let mut events = vec![audit(
            now,
            kind,
            json!({ "group": group.id, "name": group.name, "added": added, "removed": removed, "pending": waiting }),
        )];
        for user in &users {
            events.extend(self.role_changes(
                now,
                SCIM_ACTOR,
                source::SCIM,
                directory.user(&user.id),
                user,
            ));
        }
        self.keep_an_admin(&users)?;
        let change = DirectoryChange {
            audit: events,
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
}
