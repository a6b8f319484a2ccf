//! Resources as SCIM's JSON and back: a user or group with its `meta` (times, location, ETag), and a
//! body (a POST or PUT, or a patched resource) read into the fields the app stores.

use super::base;
use super::error::ScimError;
use super::filter::{get_ci, CORE_GROUP, CORE_USER, ENTERPRISE};
use crate::WebState;
use serde_json::{json, Map, Value};
use sesame_app::scim::{ScimGroup, ScimGroupFields, ScimUser, ScimUserFields};
use sesame_core::UserId;

/// A weak ETag over the resource without its `meta`: it changes whenever anything shown changes.
fn version(resource: &Value) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in resource.to_string().bytes() {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("W/\"{hash:016x}\"")
}

type Times = (Option<String>, Option<String>);

fn with_meta(mut body: Value, kind: &str, id: &str, record: &Times, state: &WebState) -> Value {
    let v = version(&body);
    let mut meta = json!({
        "resourceType": kind,
        "location": format!("{}/{kind}s/{id}", base(state)),
        "version": v,
    });
    if let Some(created) = &record.0 {
        meta["created"] = json!(created);
    }
    if let Some(modified) = &record.1 {
        meta["lastModified"] = json!(modified);
    }
    body["meta"] = meta;
    body
}

fn times(created: sesame_core::Timestamp, updated: sesame_core::Timestamp) -> Times {
    let t = |at: sesame_core::Timestamp| (at.millis() > 0).then(|| at.to_rfc3339());
    (t(created), t(updated))
}
// Users.

/// The attributes of a user Sesame derives itself; everything else the provider sent is kept.
const USER_MAPPED: &[&str] = &[
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

/// Whether to show `displayName` or `active`: people the provider created show them when it sent
/// them (so that a PATCH `remove` removes them), everybody else always. An inactive person always
/// shows `active: false`.
fn shown(u: &ScimUser, key: &str) -> bool {
    let provisioned = u.record.attributes.get("userName").is_some();
    !provisioned || u.record.attributes.get(key).is_some()
}

pub(super) fn user_json(u: &ScimUser, state: &WebState) -> Value {
    let directory = state.app.directory();
    let mut body = json!({
        "schemas": [CORE_USER],
        "id": u.user.id,
        "userName": sesame_app::scim::user_name(u),
    });
    if shown(u, "displayName") {
        body["displayName"] = json!(u.user.display_name);
    }
    if shown(u, "active") || !u.user.active {
        body["active"] = json!(u.user.active);
    }
    if let Some(e) = &u.record.external_id {
        body["externalId"] = json!(e);
    }
    if let Value::Object(kept) = &u.record.attributes {
        for (k, v) in kept {
            if !USER_MAPPED.iter().any(|m| m.eq_ignore_ascii_case(k))
                && !k.eq_ignore_ascii_case(ENTERPRISE)
            {
                body[k.as_str()] = v.clone();
            }
        }
    }
    let email_kept = body["emails"].as_array().is_some_and(|a| {
        a.iter().any(|e| {
            e["value"]
                .as_str()
                .is_some_and(|v| v.eq_ignore_ascii_case(&u.user.email))
        })
    });
    if !email_kept && !sesame_app::scim::is_placeholder_email(&u.user.email) {
        body["emails"] = json!([{ "value": u.user.email, "type": "work", "primary": true }]);
    }
    if body.get("name").is_none() && u.record.attributes.get("userName").is_none() {
        body["name"] = json!({ "formatted": u.user.display_name });
    }
    let mut extension = u.record.attributes[ENTERPRISE].clone();
    if !extension.is_object() {
        extension = json!({});
    }
    extension.as_object_mut().map(|m| m.remove("manager"));
    // A manager who is not a user (yet) is shown as sent: just the value.
    if let Some(m) = &u.user.manager {
        extension["manager"] = match directory.user(m) {
            Some(manager) => json!({ "value": m, "displayName": manager.display_name }),
            None => json!({ "value": m }),
        };
    }
    if extension.as_object().is_some_and(|m| !m.is_empty()) {
        body[ENTERPRISE] = extension;
        body["schemas"] = json!([CORE_USER, ENTERPRISE]);
    }
    let groups: Vec<Value> = u
        .user
        .groups
        .iter()
        .filter_map(|g| directory.group(g))
        .map(|g| json!({ "value": g.id, "display": g.name, "type": "direct" }))
        .collect();
    if !groups.is_empty() {
        body["groups"] = Value::Array(groups);
    }
    let record = times(u.record.created_at, u.record.updated_at);
    with_meta(body, "User", u.user.id.as_str(), &record, state)
}
fn string_at<'a>(body: &'a Value, key: &str) -> Option<&'a str> {
    get_ci(body, key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// Reads `active` as a boolean, or as Entra ID's strings "True"/"False".
fn read_active(body: &Value) -> Result<bool, ScimError> {
    match get_ci(body, "active") {
        None | Some(Value::Null) => Ok(true),
        Some(Value::Bool(b)) => Ok(*b),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => Ok(true),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => Ok(false),
        Some(other) => Err(ScimError::bad(
            "invalidValue",
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
pub(super) fn user_fields(body: &Value) -> Result<ScimUserFields, ScimError> {
    if !body.is_object() {
        return Err(ScimError::bad(
            "invalidSyntax",
            "the body must be a JSON object",
        ));
    }
    let user_name = string_at(body, "userName")
        .ok_or_else(|| ScimError::bad("invalidValue", "userName is required"))?
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
            UserId::new(m).map_err(|e| ScimError::bad("invalidValue", format!("manager: {e}")))
        })
        .transpose()?;
    let mut attributes = Map::new();
    for (k, v) in body.as_object().into_iter().flatten() {
        if !USER_MAPPED.iter().any(|m| m.eq_ignore_ascii_case(k)) && !v.is_null() {
            attributes.insert(k.clone(), v.clone());
        }
    }
    // Kept only to know that they were sent (see `shown`); the directory has their values.
    for key in ["displayName", "active"] {
        if get_ci(body, key).is_some_and(|v| !v.is_null()) {
            attributes.insert(key.to_owned(), Value::Bool(true));
        }
    }
    Ok(ScimUserFields {
        user_name,
        email,
        display_name,
        active: read_active(body)?,
        manager,
        external_id: string_at(body, "externalId").map(str::to_owned),
        attributes: Value::Object(attributes),
    })
}

// Groups.

const GROUP_MAPPED: &[&str] = &[
    "schemas",
    "id",
    "meta",
    "displayName",
    "members",
    "externalId",
];

pub(super) fn group_json(g: &ScimGroup, state: &WebState) -> Value {
    let directory = state.app.directory();
    let mut body = json!({
        "schemas": [CORE_GROUP],
        "id": g.group.id,
        "displayName": g.group.name,
        "members": g.members.iter().map(|m| json!({
            "value": m, "display": directory.display_name(m), "type": "User",
        })).chain(g.pending.iter().cloned()).collect::<Vec<_>>(),
    });
    if let Some(e) = &g.record.external_id {
        body["externalId"] = json!(e);
    }
    if let Value::Object(kept) = &g.record.attributes {
        for (k, v) in kept {
            if !GROUP_MAPPED.iter().any(|m| m.eq_ignore_ascii_case(k)) {
                body[k.as_str()] = v.clone();
            }
        }
    }
    let record = times(g.record.created_at, g.record.updated_at);
    with_meta(body, "Group", g.group.id.as_str(), &record, state)
}

pub(super) fn group_fields(body: &Value) -> Result<ScimGroupFields, ScimError> {
    if !body.is_object() {
        return Err(ScimError::bad(
            "invalidSyntax",
            "the body must be a JSON object",
        ));
    }
    let display_name = string_at(body, "displayName")
        .ok_or_else(|| ScimError::bad("invalidValue", "displayName is required"))?
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
            .ok_or_else(|| ScimError::bad("invalidValue", "every member needs a value"))?;
        let mut member = json!({ "value": value });
        for key in ["display", "type"] {
            if let Some(v) = get_ci(m, key).filter(|v| !v.is_null()) {
                member[key] = v.clone();
            }
        }
        members.push(member);
    }
    let mut attributes = Map::new();
    for (k, v) in body.as_object().into_iter().flatten() {
        if !GROUP_MAPPED.iter().any(|m| m.eq_ignore_ascii_case(k)) && !v.is_null() {
            attributes.insert(k.clone(), v.clone());
        }
    }
    Ok(ScimGroupFields {
        display_name,
        external_id: string_at(body, "externalId").map(str::to_owned),
        members,
        attributes: Value::Object(attributes),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
