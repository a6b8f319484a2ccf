//! PATCH (RFC 7644 §3.5.2) applied to a resource's JSON: `add`, `remove` and `replace`, with or
//! without a path, including value filters (`members[value eq "..."]`). Operation names ignore
//! case (Entra ID sends `Replace`, `Add`, `Remove`), and a `remove` of `members` with a `value`
//! list removes those members (as Entra ID sends it). The result is then read like a PUT body.

use super::error::ScimError;
use super::filter::{self, get_ci, AttrPath, Filter};
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

#[derive(Debug, Deserialize)]
pub struct Operation {
    pub op: String,
    #[serde(default)]
    pub path: Option<String>,
    #[serde(default)]
    pub value: Option<Value>,
}

fn bad_path(detail: impl Into<String>) -> ScimError {
    ScimError::bad("invalidPath", detail)
}

/// A parsed operation path: the attribute, an optional filter on its elements, and an optional
/// sub-attribute after the filter (`emails[type eq "work"].value`).
struct Target {
    path: AttrPath,
    filter: Option<Filter>,
    after: Option<String>,
}

fn parse_target(text: &str) -> Result<Target, ScimError> {
    let text = text.trim();
    // A path that is an extension's URN alone names the whole extension object.
    if text.eq_ignore_ascii_case(filter::ENTERPRISE) {
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
) -> Result<(), ScimError> {
    if !request.schemas.is_empty() && !request.schemas.iter().any(|s| s == PATCH_SCHEMA) {
        return Err(ScimError::bad(
            "invalidSyntax",
            format!("a PATCH body's schemas must include {PATCH_SCHEMA}"),
        ));
    }
    if request.operations.is_empty() {
        return Err(ScimError::bad("invalidSyntax", "Operations is empty"));
    }
    for op in request.operations {
        let kind = op.op.to_ascii_lowercase();
        match (
            kind.as_str(),
            op.path.as_deref().filter(|p| !p.trim().is_empty()),
        ) {
            ("add" | "replace", None) => {
                let Some(Value::Object(values)) = op.value else {
                    return Err(ScimError::bad(
                        "invalidValue",
                        "an operation without a path needs an object value",
                    ));
                };
                for (k, v) in values {
                    let target = parse_target(&k)?;
                    let is_extension = k.eq_ignore_ascii_case(filter::ENTERPRISE) && v.is_object();
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
                    ScimError::bad(
                        "invalidValue",
                        format!("{} of {path:?} needs a value", op.op),
                    )
                })?;
                set(resource, &target, value, kind == "add", known)?;
            }
            ("remove", None) => {
                return Err(ScimError::bad("noTarget", "remove needs a path"));
            }
            ("remove", Some(path)) => {
                let target = parse_target(path)?;
                remove(resource, &target, op.value, known)?;
            }
            _ => {
                return Err(ScimError::bad(
                    "invalidSyntax",
                    format!("unknown PATCH operation {:?}", op.op),
                ))
            }
        }
    }
    Ok(())
}

fn check_known(target: &Target, known: &dyn Fn(&AttrPath) -> bool) -> Result<(), ScimError> {
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
) -> Result<(), ScimError> {
    check_known(target, known)?;
    let map = container(resource, &target.path.urn, true)
        .ok_or_else(|| bad_path("the resource cannot be changed there"))?;
    let key = key_ci(map, &target.path.attr);
    if let Some(filter) = &target.filter {
        let Some(Value::Array(items)) = map.get_mut(&key) else {
            return Err(ScimError::bad(
                "noTarget",
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
            return Err(ScimError::bad(
                "noTarget",
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
) -> Result<(), ScimError> {
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

    fn run(resource: &mut Value, ops: Value) -> Result<(), ScimError> {
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
        assert_eq!(user[filter::ENTERPRISE]["manager"], "carol");
    }

    #[test]
    fn bad_operations_are_refused() {
        let mut user = json!({ "active": true });
        let err = run(
            &mut user,
            json!([{ "op": "replace", "path": "shoeSize", "value": 9 }]),
        )
        .unwrap_err();
        assert_eq!(err.scim_type, Some("invalidPath"));
        let err = run(&mut user, json!([{ "op": "remove" }])).unwrap_err();
        assert_eq!(err.scim_type, Some("noTarget"));
        let err = run(&mut user, json!([{ "op": "frobnicate", "path": "active" }])).unwrap_err();
        assert_eq!(err.scim_type, Some("invalidSyntax"));
    }
}
