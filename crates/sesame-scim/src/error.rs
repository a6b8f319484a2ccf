//! SCIM's error format (RFC 7644 §3.12) as plain data: an HTTP status, for 400s and 409s a
//! `scimType`, and a detail a person can read. The web layer turns an [`Error`] into a response
//! with [`Error::body`] as its JSON.

use serde_json::{json, Value};
use std::fmt;

pub const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

/// The `scimType` of a 400 or 409 (RFC 7644 §3.12), the ones Sesame answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScimType {
    /// A filter that does not parse.
    InvalidFilter,
    /// A body (or a PATCH or search request) that is not what the endpoint takes.
    InvalidSyntax,
    /// A PATCH path that does not parse or names an attribute the resource type does not have.
    InvalidPath,
    /// A PATCH path or filter that matches nothing where something must be matched.
    NoTarget,
    /// A value Sesame cannot take (a missing `userName`, `active: "maybe"`, a bad number).
    InvalidValue,
    /// A 409: the value belongs to another resource.
    Uniqueness,
}

impl ScimType {
    pub fn as_str(self) -> &'static str {
        match self {
            ScimType::InvalidFilter => "invalidFilter",
            ScimType::InvalidSyntax => "invalidSyntax",
            ScimType::InvalidPath => "invalidPath",
            ScimType::NoTarget => "noTarget",
            ScimType::InvalidValue => "invalidValue",
            ScimType::Uniqueness => "uniqueness",
        }
    }
}

/// A SCIM error: what the service provider answers when it does not do what was asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    /// The HTTP status code.
    pub status: u16,
    pub scim_type: Option<ScimType>,
    pub detail: String,
}

impl Error {
    pub fn new(status: u16, scim_type: Option<ScimType>, detail: impl Into<String>) -> Self {
        Error {
            status,
            scim_type,
            detail: detail.into(),
        }
    }

    /// A 400 with its `scimType`.
    pub fn bad(scim_type: ScimType, detail: impl Into<String>) -> Self {
        Self::new(400, Some(scim_type), detail)
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(404, None, detail)
    }

    /// A 409: the value is taken.
    pub fn uniqueness(detail: impl Into<String>) -> Self {
        Self::new(409, Some(ScimType::Uniqueness), detail)
    }

    /// A 412: the caller's copy (`If-Match`) is not the current one.
    pub fn precondition_failed(detail: impl Into<String>) -> Self {
        Self::new(412, None, detail)
    }

    /// The error's JSON: `schemas`, `status` as a string (as RFC 7644 writes it), `detail` and,
    /// when there is one, `scimType`.
    pub fn body(&self) -> Value {
        let mut body = json!({
            "schemas": [ERROR_SCHEMA],
            "status": self.status.to_string(),
            "detail": self.detail,
        });
        if let Some(t) = self.scim_type {
            body["scimType"] = json!(t.as_str());
        }
        body
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.scim_type {
            Some(t) => write!(f, "{} {}: {}", self.status, t.as_str(), self.detail),
            None => write!(f, "{}: {}", self.status, self.detail),
        }
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_carry_the_status_as_a_string_and_scim_type_only_when_set() {
        assert_eq!(
            Error::bad(ScimType::InvalidFilter, "expected an attribute name").body(),
            json!({
                "schemas": [ERROR_SCHEMA],
                "status": "400",
                "scimType": "invalidFilter",
                "detail": "expected an attribute name",
            })
        );
        let missing = Error::not_found("user x was not found").body();
        assert_eq!(missing["status"], "404");
        assert!(missing.get("scimType").is_none());
        let taken = Error::uniqueness("userName a@b.io already belongs to a");
        assert_eq!(
            (taken.status, taken.body()["scimType"].as_str()),
            (409, Some("uniqueness"))
        );
        assert_eq!(Error::precondition_failed("stale").status, 412);
    }

    #[test]
    fn every_scim_type_is_spelled_as_rfc_7644_does() {
        let all = [
            (ScimType::InvalidFilter, "invalidFilter"),
            (ScimType::InvalidSyntax, "invalidSyntax"),
            (ScimType::InvalidPath, "invalidPath"),
            (ScimType::NoTarget, "noTarget"),
            (ScimType::InvalidValue, "invalidValue"),
            (ScimType::Uniqueness, "uniqueness"),
        ];
        for (t, text) in all {
            assert_eq!(t.as_str(), text);
        }
    }

    #[test]
    fn errors_read_as_text() {
        assert_eq!(
            Error::bad(ScimType::NoTarget, "remove needs a path").to_string(),
            "400 noTarget: remove needs a path"
        );
        assert_eq!(Error::not_found("gone").to_string(), "404: gone");
    }
}
