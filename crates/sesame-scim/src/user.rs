//! A user as SCIM's JSON and back: a directory person with what Sesame keeps for SCIM shown as a
//! `User` (with the enterprise extension when there is something in it), and a body (a POST or
//! PUT, or a patched resource) read into the fields Sesame stores.

use crate::error::{Error, ScimType};
use crate::filter::{get_ci, AttrPath};
use crate::resource::{
    require_object, show_kept, string_at, to_keep, with_meta, Record, ResourceType,
};
use crate::{CORE_USER, ENTERPRISE};
use serde_json::{json, Value};
use sesame_core::{Directory, User, UserId};

/// The user's top-level attributes (RFC 7643 §4.1), which a PATCH may name.
const ATTRIBUTES: &[&str] = &[
    "userName",
    "name",
    "displayName",
    "nickName",
    "profileUrl",
    "title",
    "userType",
    "preferredLanguage",
    "locale",
    "timezone",
    "active",
    "password",
    "emails",
    "phoneNumbers",
    "ims",
    "photos",
    "addresses",
    "groups",
    "entitlements",
    "roles",
    "x509Certificates",
    "externalId",
    "id",
    "meta",
    "schemas",
];
const ENTERPRISE_ATTRIBUTES: &[&str] = &[
    "employeeNumber",
    "costCenter",
    "organization",
    "division",
    "department",
    "manager",
];

pub(crate) fn known_attribute(path: &AttrPath) -> bool {
    match &path.urn {
        None => {
            ATTRIBUTES
                .iter()
                .any(|a| a.eq_ignore_ascii_case(&path.attr))
                || (path.attr.eq_ignore_ascii_case(ENTERPRISE) && path.sub.is_none())
        }
        Some(urn) if urn.eq_ignore_ascii_case(ENTERPRISE) => {
            path.attr.is_empty()
                || ENTERPRISE_ATTRIBUTES
                    .iter()
                    .any(|a| a.eq_ignore_ascii_case(&path.attr))
        }
        Some(_) => false,
    }
}

/// The attributes of a user Sesame derives itself; everything else the provider sent is kept.
const MAPPED: &[&str] = &[
    "schemas",
    "id",
    "meta",
    "userName",
    "displayName",
    "active",
    "groups",
    "externalId",
    "password",
];

/// A user as the mapping shows it.
#[derive(Debug, Clone, Copy)]
pub struct UserResource<'a> {
    pub user: &'a User,
    /// The `userName` to show: as the provider sent it, else the email.
    pub user_name: &'a str,
    /// Whether the user's email is one Sesame made up because the provider sent none; it is then
    /// not shown as one of the person's emails.
    pub placeholder_email: bool,
    pub record: Record<'a>,
}

/// What a provider sets on a user, read from a body.
#[derive(Debug, Clone, PartialEq)]
pub struct UserFields {
    /// The provider's unique name for the person, kept as sent (often the email).
    pub user_name: String,
    /// The person's email: the user name when it is one, else the first email (primary first);
    /// `None` when there is none.
    pub email: Option<String>,
    pub display_name: String,
    pub active: bool,
    pub manager: Option<UserId>,
    pub external_id: Option<String>,
    /// Attributes the directory has no place for, kept and shown back.
    pub attributes: Value,
}

/// Whether to show `displayName` or `active`: people the provider created show them when it sent
/// them (so that a PATCH `remove` removes them), everybody else always. An inactive person always
/// shows `active: false`.
fn shown(u: &UserResource<'_>, key: &str) -> bool {
    let provisioned = u.record.attributes.get("userName").is_some();
    !provisioned || u.record.attributes.get(key).is_some()
}

/// The user as SCIM's JSON, with `meta`; `directory` names their manager and groups, `base` is
/// the SCIM base URL (for `meta.location`).
pub fn user_json(u: &UserResource<'_>, directory: &Directory, base: &str) -> Value {
    let user = u.user;
    let mut body = json!({
        "schemas": [CORE_USER],
        "id": user.id,
        "userName": u.user_name,
    });
    if shown(u, "displayName") {
        body["displayName"] = json!(user.display_name);
    }
    if shown(u, "active") || !user.active {
        body["active"] = json!(user.active);
    }
    if let Some(e) = u.record.external_id {
        body["externalId"] = json!(e);
    }
    let mut not_kept = MAPPED.to_vec();
    not_kept.push(ENTERPRISE);
    show_kept(&mut body, u.record.attributes, &not_kept);
    let email_kept = body["emails"].as_array().is_some_and(|a| {
        a.iter().any(|e| {
            e["value"]
                .as_str()
                .is_some_and(|v| v.eq_ignore_ascii_case(&user.email))
        })
    });
    if !email_kept && !u.placeholder_email {
        body["emails"] = json!([{ "value": user.email, "type": "work", "primary": true }]);
    }
    if body.get("name").is_none() && u.record.attributes.get("userName").is_none() {
        body["name"] = json!({ "formatted": user.display_name });
    }
    let mut extension = u.record.attributes[ENTERPRISE].clone();
    if !extension.is_object() {
        extension = json!({});
    }
    extension.as_object_mut().map(|m| m.remove("manager"));
    // A manager who is not a user (yet) is shown as sent: just the value.
    if let Some(m) = &user.manager {
        extension["manager"] = match directory.user(m) {
            Some(manager) => json!({ "value": m, "displayName": manager.display_name }),
            None => json!({ "value": m }),
        };
    }
    if extension.as_object().is_some_and(|m| !m.is_empty()) {
        body[ENTERPRISE] = extension;
        body["schemas"] = json!([CORE_USER, ENTERPRISE]);
    }
    let groups: Vec<Value> = user
        .groups
        .iter()
        .filter_map(|g| directory.group(g))
        .map(|g| json!({ "value": g.id, "display": g.name, "type": "direct" }))
        .collect();
    if !groups.is_empty() {
        body["groups"] = Value::Array(groups);
    }
    with_meta(body, ResourceType::User, user.id.as_str(), &u.record, base)
}

/// Reads `active` as a boolean, or as Entra ID's strings "True"/"False".
fn read_active(body: &Value) -> Result<bool, Error> {
    match get_ci(body, "active") {
        None | Some(Value::Null) => Ok(true),
        Some(Value::Bool(b)) => Ok(*b),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => Ok(true),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => Ok(false),
        Some(other) => Err(Error::bad(
            ScimType::InvalidValue,
            format!("active must be a boolean, not {other}"),
        )),
    }
}

fn looks_like_email(s: &str) -> bool {
    s.split_once('@')
        .is_some_and(|(l, d)| !l.is_empty() && d.contains('.'))
        && !s.contains(char::is_whitespace)
}

/// Reads a user body (a POST or PUT, or a patched resource) into the fields Sesame stores.
pub fn user_fields(body: &Value) -> Result<UserFields, Error> {
    require_object(body)?;
    let user_name = string_at(body, "userName")
        .ok_or_else(|| Error::bad(ScimType::InvalidValue, "userName is required"))?
        .to_owned();
    let emails: Vec<&str> = get_ci(body, "emails")
        .and_then(Value::as_array)
        .map(|a| {
            let mut sorted: Vec<&Value> = a.iter().collect();
            sorted.sort_by_key(|e| !e["primary"].as_bool().unwrap_or(false));
            sorted
                .into_iter()
                .filter_map(|e| string_at(e, "value"))
                .collect()
        })
        .unwrap_or_default();
    // Without an email anywhere the app stores a placeholder (`<id>@scim.invalid`).
    let email = if looks_like_email(&user_name) {
        Some(user_name.clone())
    } else {
        emails
            .iter()
            .find(|e| looks_like_email(e))
            .map(|e| (*e).to_owned())
    };
    let name = get_ci(body, "name");
    let display_name = string_at(body, "displayName")
        .map(str::to_owned)
        .or_else(|| {
            name.and_then(|n| string_at(n, "formatted"))
                .map(str::to_owned)
        })
        .or_else(|| {
            let parts: Vec<&str> = ["givenName", "familyName"]
                .iter()
                .filter_map(|k| name.and_then(|n| string_at(n, k)))
                .collect();
            (!parts.is_empty()).then(|| parts.join(" "))
        })
        .unwrap_or_else(|| user_name.clone());
    let extension = get_ci(body, ENTERPRISE);
    let manager = match extension.and_then(|e| get_ci(e, "manager")) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.trim().is_empty() => None,
        Some(Value::String(s)) => Some(s.trim().to_owned()),
        Some(m) => string_at(m, "value").map(str::to_owned),
    };
    let manager = manager
        .map(|m| {
            UserId::new(m).map_err(|e| Error::bad(ScimType::InvalidValue, format!("manager: {e}")))
        })
        .transpose()?;
    let mut attributes = to_keep(body, MAPPED);
    // Kept only to know that they were sent (see `shown`); the directory has their values.
    for key in ["displayName", "active"] {
        if get_ci(body, key).is_some_and(|v| !v.is_null()) {
            attributes.insert(key.to_owned(), Value::Bool(true));
        }
    }
    Ok(UserFields {
        user_name,
        email,
        display_name,
        active: read_active(body)?,
        manager,
        external_id: string_at(body, "externalId").map(str::to_owned),
        attributes: Value::Object(attributes),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use sesame_core::{Group, GroupId, Timestamp};

    #[test]
    fn entra_style_bodies_read_as_sesame_users() {
        let body = json!({
            "userName": "Nina@Example.com", "active": "False", "externalId": "e-1",
            "name": { "givenName": "Nina", "familyName": "New" },
            ENTERPRISE: { "manager": "carol" }
        });
        let f = user_fields(&body).unwrap();
        assert_eq!(
            (f.email.as_deref(), f.display_name.as_str(), f.active),
            (Some("Nina@Example.com"), "Nina New", false)
        );
        assert_eq!(f.manager.unwrap().as_str(), "carol");
        // Without an email anywhere, the app stores a placeholder.
        let f =
            user_fields(&json!({ "userName": "nomail", "emails": [{ "value": "n/a" }] })).unwrap();
        assert_eq!((f.email, f.display_name.as_str()), (None, "nomail"));
    }

    #[test]
    fn okta_style_bodies_keep_what_the_directory_has_no_place_for() {
        let body = json!({
            "schemas": [CORE_USER], "userName": "nina", "password": "1mz050nq", "locale": "en-US",
            "emails": [
                { "value": "home@example.com", "type": "home" },
                { "value": "work@example.com", "type": "work", "primary": true }
            ],
            "name": { "formatted": "Nina N." }, "displayName": null, "title": null, "groups": [],
        });
        let f = user_fields(&body).unwrap();
        assert_eq!(
            f.email.as_deref(),
            Some("work@example.com"),
            "primary first"
        );
        assert_eq!(f.display_name, "Nina N.");
        assert!(f.active, "active defaults to true");
        // Passwords, groups and nulls are never kept; displayName was sent as null, so not either.
        assert_eq!(
            f.attributes,
            json!({ "locale": "en-US", "emails": body["emails"], "name": { "formatted": "Nina N." } })
        );
    }

    #[test]
    fn bodies_sesame_cannot_take_are_refused() {
        for (body, expected) in [
            (json!([]), ScimType::InvalidSyntax),
            (json!({ "displayName": "x" }), ScimType::InvalidValue),
            (json!({ "userName": "  " }), ScimType::InvalidValue),
            (
                json!({ "userName": "a", "active": "maybe" }),
                ScimType::InvalidValue,
            ),
            (
                json!({ "userName": "a", "active": 1 }),
                ScimType::InvalidValue,
            ),
            (
                json!({ "userName": "a", ENTERPRISE: { "manager": { "value": "not an id!" } } }),
                ScimType::InvalidValue,
            ),
        ] {
            let err = user_fields(&body).unwrap_err();
            assert_eq!(err.scim_type, Some(expected), "{body}");
        }
    }

    fn person(id: &str, email: &str) -> User {
        User {
            id: UserId::new(id).unwrap(),
            email: email.to_owned(),
            display_name: format!("{id} (shown)"),
            manager: None,
            groups: Default::default(),
            chat: Default::default(),
            active: true,
        }
    }

    #[test]
    fn users_show_their_manager_groups_and_kept_attributes() {
        let mut nina = person("nina", "nina@example.com");
        nina.manager = Some(UserId::new("carol").unwrap());
        nina.groups.insert(GroupId::new("eng").unwrap());
        nina.groups.insert(GroupId::new("gone").unwrap());
        let directory = Directory::new(
            vec![nina.clone(), person("carol", "carol@example.com")],
            vec![Group {
                id: GroupId::new("eng").unwrap(),
                name: String::from("Engineering"),
                description: String::new(),
            }],
        );
        let attributes = json!({
            "userName": "Nina", "displayName": true, "locale": "en-US",
            ENTERPRISE: { "department": "Ops", "manager": "stale" },
        });
        let shown = user_json(
            &UserResource {
                user: &nina,
                user_name: "Nina",
                placeholder_email: false,
                record: Record {
                    external_id: Some("00u1"),
                    created: Timestamp(1),
                    modified: Timestamp(2),
                    attributes: &attributes,
                },
            },
            &directory,
            "https://s.io/scim/v2",
        );
        assert_eq!(shown["schemas"], json!([CORE_USER, ENTERPRISE]));
        assert_eq!(shown["userName"], "Nina");
        assert_eq!(shown["displayName"], "nina (shown)");
        assert!(shown.get("active").is_none(), "the provider never sent it");
        assert!(shown.get("name").is_none(), "the provider sent no name");
        assert_eq!(shown["locale"], "en-US");
        assert_eq!(shown["externalId"], "00u1");
        assert_eq!(
            shown["emails"],
            json!([{ "value": "nina@example.com", "type": "work", "primary": true }])
        );
        assert_eq!(
            shown[ENTERPRISE],
            json!({ "department": "Ops", "manager": { "value": "carol", "displayName": "carol (shown)" } })
        );
        assert_eq!(
            shown["groups"],
            json!([{ "value": "eng", "display": "Engineering", "type": "direct" }])
        );
        assert_eq!(shown["meta"]["location"], "https://s.io/scim/v2/Users/nina");
    }

    #[test]
    fn people_from_the_directory_file_show_everything_and_placeholders_stay_hidden() {
        let mut ada = person("ada", "ada@scim.invalid");
        ada.active = false;
        let directory = Directory::new(vec![ada.clone()], Vec::new());
        let attributes = json!({});
        let shown = user_json(
            &UserResource {
                user: &ada,
                user_name: "ada@scim.invalid",
                placeholder_email: true,
                record: Record {
                    external_id: None,
                    created: Timestamp(0),
                    modified: Timestamp(0),
                    attributes: &attributes,
                },
            },
            &directory,
            "b",
        );
        assert_eq!(shown["active"], false);
        assert_eq!(shown["displayName"], "ada (shown)");
        assert_eq!(shown["name"], json!({ "formatted": "ada (shown)" }));
        assert!(shown.get("emails").is_none());
        assert!(shown.get(ENTERPRISE).is_none());
        assert_eq!(shown["schemas"], json!([CORE_USER]));
    }
}
