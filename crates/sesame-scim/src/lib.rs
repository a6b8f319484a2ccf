//! SCIM 2.0 (RFC 7643/7644) as a service provider speaks it, without HTTP: what the identity
//! provider's requests mean and what Sesame answers, as plain values, so that every rule is tested
//! without a server.
//!
//! - [`filter`] parses filters into a tree and evaluates them against a resource's JSON.
//! - [`patch`] applies PATCH operations to a resource's JSON, with the quirks of Okta and Entra ID.
//! - [`user`] and [`group`] map directory entries (with what Sesame keeps for SCIM) to SCIM's JSON,
//!   and read a body (a POST, a PUT, a patched resource) into the fields Sesame stores; [`resource`]
//!   holds what both share: the resource types, `meta` and ETags.
//! - [`list`] reads a list's query string or a `.search` body and builds the `ListResponse`.
//! - [`discovery`] builds `ServiceProviderConfig`, `ResourceTypes` and `Schemas`.
//! - [`error`] is SCIM's error body (status, `scimType`, detail) as data.
//!
//! The routes, the token check and the use cases live elsewhere: `sesame-web` serves this over
//! `/scim/v2` and calls `sesame-app`'s provisioning use cases. See docs/scim.md.
#![forbid(unsafe_code)]

pub mod discovery;
pub mod error;
pub mod filter;
pub mod group;
pub mod list;
pub mod patch;
pub mod resource;
pub mod user;

pub use error::{Error, ScimType};
pub use group::{group_fields, group_json, GroupFields, GroupResource};
pub use list::ListQuery;
pub use patch::PatchRequest;
pub use resource::{check_if_match, not_modified, Record, ResourceType};
pub use user::{user_fields, user_json, UserFields, UserResource};

use serde_json::Value;

/// The media type of every SCIM response.
pub const CONTENT_TYPE: &str = "application/scim+json";
pub const CORE_USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const CORE_GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
pub const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

/// Reads a request body as JSON; anything else is `invalidSyntax`. A value or attribute name
/// holding U+0000 is `invalidValue`: no directory entry may hold it (PostgreSQL cannot store it in
/// text), and refusing it here names the attribute instead of failing in the store.
pub fn parse_json(body: &[u8]) -> Result<Value, Error> {
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        Error::bad(
            ScimType::InvalidSyntax,
            format!("the body is not valid JSON: {e}"),
        )
    })?;
    if let Some(at) = nul_at(&value, "") {
        let at = if at.is_empty() {
            String::from("the body")
        } else {
            at
        };
        return Err(Error::bad(
            ScimType::InvalidValue,
            format!("{at} contains the NUL character (U+0000), which is not allowed"),
        ));
    }
    Ok(value)
}

/// The path of the first string or attribute name that holds U+0000, such as `name.givenName`
/// or `Operations[0].value`.
fn nul_at(value: &Value, path: &str) -> Option<String> {
    let join = |key: &str| {
        if path.is_empty() {
            key.to_owned()
        } else {
            format!("{path}.{key}")
        }
    };
    match value {
        Value::String(s) => s.contains('\0').then(|| path.to_owned()),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, item)| nul_at(item, &format!("{path}[{i}]"))),
        Value::Object(map) => map.iter().find_map(|(key, item)| {
            if key.contains('\0') {
                Some(join(&key.replace('\0', "\\u0000")))
            } else {
                nul_at(item, &join(key))
            }
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_that_are_not_json_are_invalid_syntax() {
        assert_eq!(parse_json(b"{\"a\": 1}").unwrap()["a"], 1);
        let err = parse_json(b"{nope").unwrap_err();
        assert_eq!(
            (err.status, err.scim_type),
            (400, Some(ScimType::InvalidSyntax))
        );
        assert!(err.detail.starts_with("the body is not valid JSON"));
    }

    #[test]
    fn nul_in_any_value_or_attribute_name_is_an_invalid_value_naming_it() {
        for (body, at) in [
            (r#"{"userName":"a\u0000"}"#, "userName"),
            (r#"{"name":{"givenName":"\u0000"}}"#, "name.givenName"),
            (
                r#"{"Operations":[{"op":"replace","value":{"displayName":"x\u0000"}}]}"#,
                "Operations[0].value.displayName",
            ),
            (
                r#"{"emails":[{"value":"a@b"},{"value":"\u0000"}]}"#,
                "emails[1].value",
            ),
            (r#"{"a\u0000b":1}"#, "a\\u0000b"),
            (r#""\u0000""#, "the body"),
        ] {
            let err = parse_json(body.as_bytes()).unwrap_err();
            assert_eq!(
                (err.status, err.scim_type),
                (400, Some(ScimType::InvalidValue)),
                "{body}"
            );
            assert!(
                err.detail.starts_with(&format!("{at} contains")),
                "{body}: {}",
                err.detail
            );
        }
        assert!(
            parse_json(br#"{"userName":"a\\u0000"}"#).is_ok(),
            "an escaped backslash is no NUL"
        );
    }
}
