//! A group as SCIM's JSON and back: a directory group with its members (and those the provider
//! named before they were users) shown as a `Group`, and a body read into the fields Sesame stores.

use crate::error::{Error, ScimType};
use crate::filter::{get_ci, AttrPath};
use crate::resource::{
    require_object, show_kept, string_at, to_keep, with_meta, Record, ResourceType,
};
use crate::CORE_GROUP;
use serde_json::{json, Value};
use sesame_core::{Directory, Group, UserId};
use std::collections::BTreeSet;

/// The attributes of a group Sesame derives itself; everything else the provider sent is kept.
/// They are also all the top-level attributes a PATCH may name.
const MAPPED: &[&str] = &[
    "schemas",
    "id",
    "meta",
    "displayName",
    "members",
    "externalId",
];

pub(crate) fn known_attribute(path: &AttrPath) -> bool {
    path.urn.is_none() && MAPPED.iter().any(|a| a.eq_ignore_ascii_case(&path.attr))
}

/// A group as the mapping shows it.
#[derive(Debug, Clone, Copy)]
pub struct GroupResource<'a> {
    pub group: &'a Group,
    /// Every user (active or not) who has the group.
    pub members: &'a BTreeSet<UserId>,
    /// Members the provider named that are not users yet, as sent.
    pub pending: &'a [Value],
    pub record: Record<'a>,
}

/// What a provider sets on a group, read from a body. `members` are the member objects as sent
/// (each with a `value`).
#[derive(Debug, Clone, PartialEq)]
pub struct GroupFields {
    pub display_name: String,
    pub external_id: Option<String>,
    pub members: Vec<Value>,
    pub attributes: Value,
}

/// The group as SCIM's JSON, with `meta`; `directory` names its members, `base` is the SCIM base
/// URL (for `meta.location`).
pub fn group_json(g: &GroupResource<'_>, directory: &Directory, base: &str) -> Value {
    let mut body = json!({
        "schemas": [CORE_GROUP],
        "id": g.group.id,
        "displayName": g.group.name,
        "members": g.members.iter().map(|m| json!({
            "value": m, "display": directory.display_name(m), "type": "User",
        })).chain(g.pending.iter().cloned()).collect::<Vec<_>>(),
    });
    if let Some(e) = g.record.external_id {
        body["externalId"] = json!(e);
    }
    show_kept(&mut body, g.record.attributes, MAPPED);
    with_meta(
        body,
        ResourceType::Group,
        g.group.id.as_str(),
        &g.record,
        base,
    )
}

/// Reads a group body (a POST or PUT, or a patched resource) into the fields Sesame stores.
pub fn group_fields(body: &Value) -> Result<GroupFields, Error> {
    require_object(body)?;
    let display_name = string_at(body, "displayName")
        .ok_or_else(|| Error::bad(ScimType::InvalidValue, "displayName is required"))?
        .to_owned();
    // Members are kept as sent (value, display, type); the app turns those naming users into
    // memberships and keeps the others until such a user exists.
    let mut members = Vec::new();
    for m in get_ci(body, "members")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let value = string_at(m, "value")
            .ok_or_else(|| Error::bad(ScimType::InvalidValue, "every member needs a value"))?;
        let mut member = json!({ "value": value });
        for key in ["display", "type"] {
            if let Some(v) = get_ci(m, key).filter(|v| !v.is_null()) {
                member[key] = v.clone();
            }
        }
        members.push(member);
    }
    Ok(GroupFields {
        display_name,
        external_id: string_at(body, "externalId").map(str::to_owned),
        members,
        attributes: Value::Object(to_keep(body, MAPPED)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use sesame_core::{GroupId, Timestamp, User};

    #[test]
    fn bodies_read_members_as_sent_and_keep_the_rest() {
        let f = group_fields(&json!({
            "schemas": [CORE_GROUP], "DisplayName": " Eng ", "externalId": "g-1",
            "members": [
                { "value": " nina ", "display": "Nina", "$ref": "https://idp/Users/nina" },
                { "VALUE": "later", "type": "User", "display": null }
            ],
            "owner": "carol", "description": null,
        }))
        .unwrap();
        assert_eq!(
            f,
            GroupFields {
                display_name: String::from("Eng"),
                external_id: Some(String::from("g-1")),
                members: vec![
                    json!({ "value": "nina", "display": "Nina" }),
                    json!({ "value": "later", "type": "User" }),
                ],
                attributes: json!({ "owner": "carol" }),
            }
        );
        for (body, expected) in [
            (json!("Eng"), ScimType::InvalidSyntax),
            (json!({ "members": [] }), ScimType::InvalidValue),
            (
                json!({ "displayName": "Eng", "members": [{ "display": "x" }] }),
                ScimType::InvalidValue,
            ),
        ] {
            assert_eq!(
                group_fields(&body).unwrap_err().scim_type,
                Some(expected),
                "{body}"
            );
        }
    }

    #[test]
    fn groups_show_members_then_those_waiting_and_kept_attributes() {
        let nina = User {
            id: UserId::new("nina").unwrap(),
            email: String::from("nina@example.com"),
            display_name: String::from("Nina New"),
            manager: None,
            groups: Default::default(),
            chat: Default::default(),
            active: true,
        };
        let eng = Group {
            id: GroupId::new("eng").unwrap(),
            name: String::from("Engineering"),
            description: String::new(),
        };
        let directory = Directory::new(vec![nina.clone()], vec![eng.clone()]);
        let members = BTreeSet::from([nina.id.clone()]);
        let pending = [json!({ "value": "later" })];
        // The record keeps the pending members too; the app hands them over separately.
        let attributes = json!({ "owner": "carol", "members": [{ "value": "later" }] });
        let shown = group_json(
            &GroupResource {
                group: &eng,
                members: &members,
                pending: &pending,
                record: Record {
                    external_id: Some("g-1"),
                    created: Timestamp(0),
                    modified: Timestamp(0),
                    attributes: &attributes,
                },
            },
            &directory,
            "https://s.io/scim/v2",
        );
        assert_eq!(
            shown["members"],
            json!([
                { "value": "nina", "display": "Nina New", "type": "User" },
                { "value": "later" },
            ])
        );
        assert_eq!(
            (&shown["displayName"], &shown["externalId"], &shown["owner"]),
            (&json!("Engineering"), &json!("g-1"), &json!("carol"))
        );
        assert_eq!(shown["meta"]["location"], "https://s.io/scim/v2/Groups/eng");
    }
}
