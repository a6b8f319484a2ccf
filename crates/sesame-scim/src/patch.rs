//! PATCH (RFC 7644 §3.5.2) applied to a resource's JSON: `add`, `remove` and `replace`, with or
//! without a path, including value filters (`members[value eq "..."]`). Operation names ignore
//! case (Entra ID sends `Replace`, `Add`, `Remove`), and a `remove` of `members` with a `value`
//! list removes those members (as Entra ID sends it). The result is then read like a PUT body.

use crate::error::{Error, ScimType};
use crate::filter::{self, get_ci, AttrPath, Filter};
use crate::ENTERPRISE;
use serde::Deserialize;
use serde_json::{Map, Value};

pub const PATCH_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

#[derive(Debug, Deserialize)]
pub struct PatchRequest {
    #[serde(default)]
    pub schemas: Vec<String>,
    #[serde(rename = "Operations", alias = "operations")]
    pub operations: Vec<Operation>,
}

impl PatchRequest {
    /// Reads a PATCH body (RFC 7644 §3.5.2).
    pub fn from_json(body: Value) -> Result<PatchRequest, Error> {
        serde_json::from_value(body)
            .map_err(|e| Error::bad(ScimType::InvalidSyntax, format!("not a PATCH request: {e}")))
    }
}

#[derive(Debug, Deserialize)]
pub struct Operation {
    pub op: String,
    #[serde(default)]
    pub path: Option<String>,
    #[serde(default)]
    pub value: Option<Value>,
}

fn bad_path(detail: impl Into<String>) -> Error {
    Error::bad(ScimType::InvalidPath, detail)
}

/// A parsed operation path: the attribute, an optional filter on its elements, and an optional
/// sub-attribute after the filter (`emails[type eq "work"].value`).
struct Target {
    path: AttrPath,
    filter: Option<Filter>,
    after: Option<String>,
}

fn parse_target(text: &str) -> Result<Target, Error> {
    let text = text.trim();
    // A path that is an extension's URN alone names the whole extension object.
    if text.eq_ignore_ascii_case(ENTERPRISE) {
        return Ok(Target {
            path: AttrPath {
                urn: None,
                attr: text.to_owned(),
                sub: None,
            },
            filter: None,
            after: None,
        });
    }
    if let Some(open) = text.find('[') {
        let close = text
            .rfind(']')
            .filter(|c| *c > open)
            .ok_or_else(|| bad_path(format!("{text:?}: a bracket is not closed")))?;
        let path = AttrPath::parse(&text[..open])
            .filter(|p| p.sub.is_none())
            .ok_or_else(|| bad_path(format!("{text:?} is not an attribute path")))?;
        let filter = filter::parse(&text[open + 1..close])
            .map_err(|e| bad_path(format!("{text:?}: {}", e.detail)))?;
        let after = text[close + 1..].strip_prefix('.').map(str::to_owned);
        if after.is_none() && close + 1 != text.len() {
            return Err(bad_path(format!("{text:?} is not an attribute path")));
        }
        return Ok(Target {
            path,
            filter: Some(filter),
            after,
        });
    }
    let path = AttrPath::parse(text)
        .ok_or_else(|| bad_path(format!("{text:?} is not an attribute path")))?;
    Ok(Target {
        path,
        filter: None,
        after: None,
    })
}

/// The object a path's attribute lives in (the resource, or its extension object).
fn container<'a>(
    resource: &'a mut Value,
    urn: &Option<String>,
    create: bool,
) -> Option<&'a mut Map<String, Value>> {
    let root = resource.as_object_mut()?;
    match urn {
        None => Some(root),
        Some(urn) => {
            let key = root
                .keys()
                .find(|k| k.eq_ignore_ascii_case(urn))
                .cloned()
                .unwrap_or_else(|| urn.clone());
            if !root.contains_key(&key) {
                if !create {
                    return None;
                }
                root.insert(key.clone(), Value::Object(Map::new()));
            }
            root.get_mut(&key)?.as_object_mut()
        }
    }
}

fn key_ci(map: &Map<String, Value>, key: &str) -> String {
    map.keys()
        .find(|k| k.eq_ignore_ascii_case(key))
        .cloned()
        .unwrap_or_else(|| key.to_owned())
}

/// Whether two elements of a multi-valued attribute are the same (same `value`, or equal).
fn same(a: &Value, b: &Value) -> bool {
    match (get_ci(a, "value"), get_ci(b, "value")) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

fn merge(into: &mut Value, value: Value) {
    match (into, value) {
        (Value::Object(existing), Value::Object(new)) => {
            for (k, v) in new {
                let key = key_ci(existing, &k);
                existing.insert(key, v);
            }
        }
        (slot, value) => *slot = value,
    }
}

/// Applies every operation in order; `known` says which top-level attributes (and extension URNs)
/// the resource type has, so that a path naming anything else is refused.
pub fn apply(
    resource: &mut Value,
    request: PatchRequest,
    known: &dyn Fn(&AttrPath) -> bool,
) -> Result<(), Error> {
    if !request.schemas.is_empty() && !request.schemas.iter().any(|s| s == PATCH_SCHEMA) {
        return Err(Error::bad(
            ScimType::InvalidSyntax,
            format!("a PATCH body's schemas must include {PATCH_SCHEMA}"),
        ));
    }
    if request.operations.is_empty() {
        return Err(Error::bad(ScimType::InvalidSyntax, "Operations is empty"));
    }
    for op in request.operations {
        let kind = op.op.to_ascii_lowercase();
        match (
            kind.as_str(),
            op.path.as_deref().filter(|p| !p.trim().is_empty()),
        ) {
            ("add" | "replace", None) => {
                let Some(Value::Object(values)) = op.value else {
                    return Err(Error::bad(
                        ScimType::InvalidValue,
                        "an operation without a path needs an object value",
                    ));
                };
                for (k, v) in values {
                    let target = parse_target(&k)?;
                    let is_extension = k.eq_ignore_ascii_case(ENTERPRISE) && v.is_object();
                    if is_extension {
                        let map = container(resource, &Some(k.clone()), true)
                            .ok_or_else(|| bad_path(format!("{k:?} cannot be changed")))?;
                        if let Value::Object(sub) = v {
                            for (sk, sv) in sub {
                                let key = key_ci(map, &sk);
                                map.insert(key, sv);
                            }
                        }
                        continue;
                    }
                    set(resource, &target, v, kind == "add", known)?;
                }
            }
            ("add" | "replace", Some(path)) => {
                let target = parse_target(path)?;
                let value = op.value.ok_or_else(|| {
                    Error::bad(
                        ScimType::InvalidValue,
                        format!("{} of {path:?} needs a value", op.op),
                    )
                })?;
                set(resource, &target, value, kind == "add", known)?;
            }
            ("remove", None) => {
                return Err(Error::bad(ScimType::NoTarget, "remove needs a path"));
            }
            ("remove", Some(path)) => {
                let target = parse_target(path)?;
                remove(resource, &target, op.value, known)?;
            }
            _ => {
                return Err(Error::bad(
                    ScimType::InvalidSyntax,
                    format!("unknown PATCH operation {:?}", op.op),
                ))
            }
        }
    }
    Ok(())
}

fn check_known(target: &Target, known: &dyn Fn(&AttrPath) -> bool) -> Result<(), Error> {
    if known(&target.path) {
        Ok(())
    } else {
        Err(bad_path(format!(
            "there is no attribute {:?}",
            target.path.attr
        )))
    }
}

fn set(
    resource: &mut Value,
    target: &Target,
    value: Value,
    add: bool,
    known: &dyn Fn(&AttrPath) -> bool,
) -> Result<(), Error> {
    check_known(target, known)?;
    let map = container(resource, &target.path.urn, true)
        .ok_or_else(|| bad_path("the resource cannot be changed there"))?;
    let key = key_ci(map, &target.path.attr);
    if let Some(filter) = &target.filter {
        let Some(Value::Array(items)) = map.get_mut(&key) else {
            return Err(Error::bad(
                ScimType::NoTarget,
                format!("{key} has no elements to match"),
            ));
        };
        let mut matched = false;
        for item in items.iter_mut().filter(|i| filter.matches(i)) {
            matched = true;
            match &target.after {
                Some(sub) => {
                    if let Value::Object(obj) = item {
                        let k = key_ci(obj, sub);
                        obj.insert(k, value.clone());
                    }
                }
                None => merge(item, value.clone()),
            }
        }
        if !matched {
            return Err(Error::bad(
                ScimType::NoTarget,
                format!("no element of {key} matches"),
            ));
        }
        return Ok(());
    }
    match &target.path.sub {
        Some(sub) => {
            let slot = map.entry(key).or_insert_with(|| Value::Object(Map::new()));
            match slot {
                Value::Object(obj) => {
                    let k = key_ci(obj, sub);
                    obj.insert(k, value);
                }
                Value::Array(items) => {
                    for item in items.iter_mut() {
                        if let Value::Object(obj) = item {
                            let k = key_ci(obj, sub);
                            obj.insert(k, value.clone());
                        }
                    }
                }
                other => *other = value,
            }
        }
        None => {
            let existing = map.get_mut(&key);
            match (existing, value) {
                // Adding to a multi-valued attribute appends what is not there yet.
                (Some(Value::Array(items)), Value::Array(new)) if add => {
                    for v in new {
                        if !items.iter().any(|i| same(i, &v)) {
                            items.push(v);
                        }
                    }
                }
                (Some(Value::Array(items)), v @ Value::Object(_)) if add => {
                    if !items.iter().any(|i| same(i, &v)) {
                        items.push(v);
                    }
                }
                (Some(slot @ Value::Object(_)), v @ Value::Object(_)) => merge(slot, v),
                (_, v) => {
                    map.insert(key, v);
                }
            }
        }
    }
    Ok(())
}

fn remove(
    resource: &mut Value,
    target: &Target,
    value: Option<Value>,
    known: &dyn Fn(&AttrPath) -> bool,
) -> Result<(), Error> {
    check_known(target, known)?;
    let Some(map) = container(resource, &target.path.urn, false) else {
        return Ok(());
    };
    let key = key_ci(map, &target.path.attr);
    if let Some(filter) = &target.filter {
        if let Some(Value::Array(items)) = map.get_mut(&key) {
            match &target.after {
                Some(sub) => {
                    for item in items.iter_mut().filter(|i| filter.matches(i)) {
                        if let Value::Object(obj) = item {
                            let k = key_ci(obj, sub);
                            obj.remove(&k);
                        }
                    }
                }
                None => items.retain(|i| !filter.matches(i)),
            }
        }
        return Ok(());
    }
    match (&target.path.sub, value) {
        // `{"op":"remove","path":"members","value":[{"value":"id"}]}`: remove those elements.
        (None, Some(Value::Array(gone))) if map.get(&key).is_some_and(Value::is_array) => {
            if let Some(Value::Array(items)) = map.get_mut(&key) {
                items.retain(|i| !gone.iter().any(|g| same(i, g)));
            }
        }
        (None, _) => {
            map.remove(&key);
        }
        (Some(sub), _) => match map.get_mut(&key) {
            Some(Value::Object(obj)) => {
                let k = key_ci(obj, sub);
                obj.remove(&k);
            }
            Some(Value::Array(items)) => {
                for item in items.iter_mut() {
                    if let Value::Object(obj) = item {
                        let k = key_ci(obj, sub);
                        obj.remove(&k);
                    }
                }
            }
            _ => {}
        },
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(resource: &mut Value, ops: Value) -> Result<(), Error> {
        let request: PatchRequest = serde_json::from_value(json!({
            "schemas": [PATCH_SCHEMA], "Operations": ops
        }))
        .unwrap();
        apply(resource, request, &|p: &AttrPath| p.attr != "shoeSize")
    }

    #[test]
    fn provider_style_patches_apply() {
        let mut group =
            json!({ "displayName": "Eng", "members": [{ "value": "a" }, { "value": "b" }] });
        run(
            &mut group,
            json!([
                { "op": "Add", "path": "members", "value": [{ "value": "c" }, { "value": "a" }] },
                { "op": "Remove", "path": "members[value eq \"b\"]" },
                { "op": "remove", "path": "members", "value": [{ "value": "c" }] },
                { "op": "Replace", "path": "displayName", "value": "Engineering" },
            ]),
        )
        .unwrap();
        assert_eq!(
            group,
            json!({ "displayName": "Engineering", "members": [{ "value": "a" }] })
        );

        let mut user = json!({ "active": true, "emails": [{ "value": "x@y.io", "type": "work" }] });
        run(&mut user, json!([
            { "op": "replace", "value": { "active": false } },
            { "op": "replace", "path": "emails[type eq \"work\"].value", "value": "z@y.io" },
            { "op": "add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager", "value": "carol" },
        ]))
        .unwrap();
        assert_eq!(user["active"], false);
        assert_eq!(user["emails"][0]["value"], "z@y.io");
        assert_eq!(user[ENTERPRISE]["manager"], "carol");
    }

    #[test]
    fn bad_operations_are_refused() {
        let mut user = json!({ "active": true });
        let err = run(
            &mut user,
            json!([{ "op": "replace", "path": "shoeSize", "value": 9 }]),
        )
        .unwrap_err();
        assert_eq!(err.scim_type, Some(ScimType::InvalidPath));
        let err = run(&mut user, json!([{ "op": "remove" }])).unwrap_err();
        assert_eq!(err.scim_type, Some(ScimType::NoTarget));
        let err = run(&mut user, json!([{ "op": "frobnicate", "path": "active" }])).unwrap_err();
        assert_eq!(err.scim_type, Some(ScimType::InvalidSyntax));
    }

    fn refused(resource: &mut Value, ops: Value) -> ScimType {
        let err = run(resource, ops.clone()).expect_err(&ops.to_string());
        err.scim_type.expect("a 400 has a scimType")
    }

    #[test]
    fn okta_patches_without_a_path_and_with_member_filters() {
        // Okta deactivates with a pathless replace, and sends the id along with a rename.
        let mut user = json!({ "id": "nina", "userName": "nina@x.io", "active": true });
        run(
            &mut user,
            json!([{ "op": "replace", "value": { "id": "nina", "active": false } }]),
        )
        .unwrap();
        assert_eq!(
            user,
            json!({ "id": "nina", "userName": "nina@x.io", "active": false })
        );

        let mut group = json!({ "id": "eng", "displayName": "Eng", "members": [{ "value": "a" }] });
        run(
            &mut group,
            json!([
                { "op": "replace", "value": { "id": "eng", "displayName": "Engineering" } },
                { "op": "add", "path": "members", "value": [{ "value": "b", "display": "B" }] },
                { "op": "add", "path": "members", "value": { "value": "a" } },
                { "op": "remove", "path": "members[value eq \"a\"]" },
            ]),
        )
        .unwrap();
        assert_eq!(
            group,
            json!({ "id": "eng", "displayName": "Engineering", "members": [{ "value": "b", "display": "B" }] })
        );
    }

    #[test]
    fn entra_patches_with_its_casing_strings_and_extension_paths() {
        let mut user = json!({
            "userName": "nina@x.io", "active": true,
            "emails": [{ "value": "nina@x.io", "type": "work" }],
            ENTERPRISE: { "manager": { "value": "carol" } },
        });
        let request = PatchRequest::from_json(json!({
            "schemas": [PATCH_SCHEMA],
            "operations": [
                { "op": "Replace", "path": "active", "value": "False" },
                { "op": "Add", "path": "name.givenName", "value": "Nina" },
                { "op": "Replace", "path": "EMAILS[TYPE eq \"Work\"].value", "value": "n@x.io" },
                { "op": "Add", "value": { format!("{ENTERPRISE}:department"): "Ops" } },
                { "op": "Replace", "value": { ENTERPRISE: { "costCenter": "42" } } },
                { "op": "Remove", "path": format!("{ENTERPRISE}:manager") },
            ]
        }))
        .unwrap();
        apply(&mut user, request, &|_: &AttrPath| true).unwrap();
        // Entra's "False" stays a string here; reading the body turns it into a boolean.
        assert_eq!(user["active"], "False");
        assert_eq!(user["name"], json!({ "givenName": "Nina" }));
        assert_eq!(
            user["emails"],
            json!([{ "value": "n@x.io", "type": "work" }])
        );
        assert_eq!(
            user[ENTERPRISE],
            json!({ "department": "Ops", "costCenter": "42" })
        );
    }

    #[test]
    fn adding_appends_what_is_new_and_replacing_a_list_replaces_it() {
        let mut user =
            json!({ "emails": [{ "value": "a@x.io" }], "Name": { "familyName": "Old" } });
        run(
            &mut user,
            json!([
                { "op": "add", "path": "emails", "value": [{ "value": "a@x.io", "type": "work" }, { "value": "b@x.io" }] },
                { "op": "replace", "path": "name", "value": { "FamilyName": "New", "givenName": "N" } },
            ]),
        )
        .unwrap();
        assert_eq!(
            user["emails"],
            json!([{ "value": "a@x.io" }, { "value": "b@x.io" }])
        );
        // Objects merge, keeping the key's existing spelling.
        assert_eq!(
            user["Name"],
            json!({ "familyName": "New", "givenName": "N" })
        );
        run(
            &mut user,
            json!([{ "op": "replace", "path": "emails", "value": [{ "value": "c@x.io" }] }]),
        )
        .unwrap();
        assert_eq!(user["emails"], json!([{ "value": "c@x.io" }]));
    }

    #[test]
    fn removing_with_filters_sub_attributes_and_absent_targets() {
        let mut user = json!({
            "emails": [{ "value": "a@x.io", "type": "work" }, { "value": "b@x.io", "type": "home" }],
            "name": { "givenName": "A", "familyName": "B" },
        });
        run(
            &mut user,
            json!([
                { "op": "remove", "path": "emails[type eq \"home\"].type" },
                { "op": "remove", "path": "name.givenName" },
                { "op": "remove", "path": "title" },
                { "op": "remove", "path": format!("{ENTERPRISE}:manager") },
            ]),
        )
        .unwrap();
        assert_eq!(
            user,
            json!({
                "emails": [{ "value": "a@x.io", "type": "work" }, { "value": "b@x.io" }],
                "name": { "familyName": "B" },
            })
        );
        // Removing what is not there changes nothing and does not create the extension.
        assert!(user.get(ENTERPRISE).is_none());
    }

    #[test]
    fn malformed_requests_and_paths_are_refused_with_their_scim_type() {
        let mut user = json!({ "emails": [{ "value": "a@x.io", "type": "work" }] });
        for (ops, expected) in [
            (json!([]), ScimType::InvalidSyntax),
            (
                json!([{ "op": "add", "path": "title" }]),
                ScimType::InvalidValue,
            ),
            (
                json!([{ "op": "add", "value": "x" }]),
                ScimType::InvalidValue,
            ),
            (
                json!([{ "op": "replace", "path": "emails[type eq \"work\"", "value": 1 }]),
                ScimType::InvalidPath,
            ),
            (
                json!([{ "op": "replace", "path": "emails[type zz \"work\"]", "value": 1 }]),
                ScimType::InvalidPath,
            ),
            (
                json!([{ "op": "replace", "path": "emails[type eq \"work\"]x", "value": 1 }]),
                ScimType::InvalidPath,
            ),
            (
                json!([{ "op": "replace", "path": "na me", "value": 1 }]),
                ScimType::InvalidPath,
            ),
            (
                json!([{ "op": "replace", "path": "emails[type eq \"home\"].value", "value": "b@x.io" }]),
                ScimType::NoTarget,
            ),
            (
                json!([{ "op": "replace", "path": "title[type eq \"x\"]", "value": 1 }]),
                ScimType::NoTarget,
            ),
            (
                json!([{ "op": "add", "value": { "shoeSize": 9 } }]),
                ScimType::InvalidPath,
            ),
        ] {
            assert_eq!(refused(&mut user, ops), expected);
        }
        let wrong_schema = PatchRequest::from_json(json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
            "Operations": [{ "op": "remove", "path": "title" }],
        }))
        .unwrap();
        let err = apply(&mut user, wrong_schema, &|_: &AttrPath| true).unwrap_err();
        assert_eq!(err.scim_type, Some(ScimType::InvalidSyntax));
        for body in [
            json!({ "schemas": [PATCH_SCHEMA] }),
            json!([1]),
            json!({ "Operations": [{ "path": "x" }] }),
        ] {
            let err = PatchRequest::from_json(body).unwrap_err();
            assert_eq!(err.scim_type, Some(ScimType::InvalidSyntax));
        }
        // Without schemas the operations still apply.
        let bare = PatchRequest::from_json(
            json!({ "Operations": [{ "op": "remove", "path": "emails" }] }),
        )
        .unwrap();
        apply(&mut user, bare, &|_: &AttrPath| true).unwrap();
        assert_eq!(user, json!({}));
    }
}
