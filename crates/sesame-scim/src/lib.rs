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

/// Reads a request body as JSON; anything else is `invalidSyntax`.
pub fn parse_json(body: &[u8]) -> Result<Value, Error> {
    serde_json::from_slice(body).map_err(|e| {
        Error::bad(
            ScimType::InvalidSyntax,
            format!("the body is not valid JSON: {e}"),
        )
    })
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
}
