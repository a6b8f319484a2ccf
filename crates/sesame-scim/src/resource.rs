//! What users and groups share as SCIM resources: their type (name, endpoint, schema, the
//! attributes a PATCH may name), what Sesame keeps for SCIM beside a directory entry, `meta` with
//! its ETag, and the `If-Match`/`If-None-Match` checks against that ETag.

use crate::error::{Error, ScimType};
use crate::filter::{get_ci, AttrPath};
use crate::{group, user, CORE_GROUP, CORE_USER};
use serde_json::{json, Map, Value};
use sesame_core::Timestamp;

/// The two resource types Sesame serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceType {
    User,
    Group,
}

impl ResourceType {
    pub const ALL: [ResourceType; 2] = [ResourceType::User, ResourceType::Group];

    /// The name in `meta.resourceType` and `/ResourceTypes/{name}`.
    pub fn name(self) -> &'static str {
        match self {
            ResourceType::User => "User",
            ResourceType::Group => "Group",
        }
    }

    /// The endpoint below the SCIM base URL: `/Users`, `/Groups`.
    pub fn endpoint(self) -> &'static str {
        match self {
            ResourceType::User => "/Users",
            ResourceType::Group => "/Groups",
        }
    }

    /// The core schema's URN.
    pub fn schema(self) -> &'static str {
        match self {
            ResourceType::User => CORE_USER,
            ResourceType::Group => CORE_GROUP,
        }
    }

    /// Whether the type has the top-level attribute (or extension) a PATCH path names; a path
    /// naming anything else is refused with `invalidPath`.
    pub fn knows(self, path: &AttrPath) -> bool {
        match self {
            ResourceType::User => user::known_attribute(path),
            ResourceType::Group => group::known_attribute(path),
        }
    }

    /// Where a resource of this type lives: `<base>/Users/<id>`.
    pub fn location(self, base: &str, id: &str) -> String {
        format!("{base}{}/{id}", self.endpoint())
    }
}

/// What Sesame keeps for SCIM beside a directory entry, as the mapping reads it.
#[derive(Debug, Clone, Copy)]
pub struct Record<'a> {
    pub external_id: Option<&'a str>,
    /// When the provider created the entry; `Timestamp(0)` for one it never touched (not shown).
    pub created: Timestamp,
    pub modified: Timestamp,
    /// What the provider sent that the directory has no place for: a JSON object.
    pub attributes: &'a Value,
}

/// A weak ETag over the resource without its `meta`: it changes whenever anything shown changes.
pub(crate) fn version(resource: &Value) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in resource.to_string().bytes() {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("W/\"{hash:016x}\"")
}

/// Adds `meta` (type, location, ETag, and the times the provider's changes have) to a resource.
pub(crate) fn with_meta(
    mut body: Value,
    kind: ResourceType,
    id: &str,
    record: &Record<'_>,
    base: &str,
) -> Value {
    let v = version(&body);
    let mut meta = json!({
        "resourceType": kind.name(),
        "location": kind.location(base, id),
        "version": v,
    });
    let shown = |at: Timestamp| (at.millis() > 0).then(|| at.to_rfc3339());
    if let Some(created) = shown(record.created) {
        meta["created"] = json!(created);
    }
    if let Some(modified) = shown(record.modified) {
        meta["lastModified"] = json!(modified);
    }
    body["meta"] = meta;
    body
}

/// Whether a key is one the mapping derives itself (`mapped`, ignoring case).
fn is_mapped(key: &str, mapped: &[&str]) -> bool {
    mapped.iter().any(|m| m.eq_ignore_ascii_case(key))
}

/// Shows the attributes kept as the provider sent them, except those the mapping derives.
pub(crate) fn show_kept(body: &mut Value, kept: &Value, mapped: &[&str]) {
    if let Value::Object(kept) = kept {
        for (k, v) in kept {
            if !is_mapped(k, mapped) {
                body[k.as_str()] = v.clone();
            }
        }
    }
}

/// The attributes of a body the mapping does not derive, to keep and show back (nulls dropped).
pub(crate) fn to_keep(body: &Value, mapped: &[&str]) -> Map<String, Value> {
    body.as_object()
        .into_iter()
        .flatten()
        .filter(|(k, v)| !is_mapped(k, mapped) && !v.is_null())
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// A body (a POST, a PUT, a `.search`) must be a JSON object.
pub(crate) fn require_object(body: &Value) -> Result<(), Error> {
    if body.is_object() {
        Ok(())
    } else {
        Err(Error::bad(
            ScimType::InvalidSyntax,
            "the body must be a JSON object",
        ))
    }
}

/// A string attribute, trimmed, when it is there and not empty.
pub(crate) fn string_at<'a>(body: &'a Value, key: &str) -> Option<&'a str> {
    get_ci(body, key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// `If-Match` on a change: the caller's copy must be the current one (`*` is any).
pub fn check_if_match(if_match: Option<&str>, current: &Value) -> Result<(), Error> {
    let Some(wanted) = if_match else {
        return Ok(());
    };
    let now = current["meta"]["version"].as_str().unwrap_or_default();
    if wanted.trim() == "*" || wanted.split(',').any(|w| w.trim() == now) {
        Ok(())
    } else {
        Err(Error::precondition_failed(
            "the resource changed since it was read (If-Match)",
        ))
    }
}

/// `If-None-Match` on a read: whether the caller's copy is the current one (then 304).
pub fn not_modified(if_none_match: &str, resource: &Value) -> bool {
    resource["meta"]["version"].as_str() == Some(if_none_match.trim())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ENTERPRISE;

    fn path(text: &str) -> AttrPath {
        AttrPath::parse(text).unwrap()
    }

    #[test]
    fn each_type_knows_its_own_attributes() {
        let user = ResourceType::User;
        for known in [
            "userName",
            "EMAILS",
            "name",
            "active",
            "externalId",
            &format!("{ENTERPRISE}:manager"),
            &format!("{ENTERPRISE}:Department"),
        ] {
            assert!(user.knows(&path(known)), "{known}");
        }
        // A PATCH path that is the extension's URN alone names the whole extension object.
        let extension = AttrPath {
            urn: None,
            attr: ENTERPRISE.to_owned(),
            sub: None,
        };
        assert!(user.knows(&extension));
        for unknown in [
            "shoeSize",
            "members",
            &format!("{ENTERPRISE}:shoeSize"),
            "urn:example:other:department",
        ] {
            assert!(!user.knows(&path(unknown)), "{unknown}");
        }
        let group = ResourceType::Group;
        for known in [
            "displayName",
            "Members",
            "externalId",
            "id",
            "meta",
            "schemas",
        ] {
            assert!(group.knows(&path(known)), "{known}");
        }
        for unknown in ["userName", "emails", &format!("{ENTERPRISE}:manager")] {
            assert!(!group.knows(&path(unknown)), "{unknown}");
        }
    }

    #[test]
    fn meta_has_location_times_only_when_known_and_an_etag_over_the_rest() {
        let attributes = json!({});
        let untouched = Record {
            external_id: None,
            created: Timestamp(0),
            modified: Timestamp(0),
            attributes: &attributes,
        };
        let body = json!({ "id": "eng", "displayName": "Eng" });
        let shown = with_meta(
            body.clone(),
            ResourceType::Group,
            "eng",
            &untouched,
            "https://s.io/scim/v2",
        );
        assert_eq!(shown["meta"]["resourceType"], "Group");
        assert_eq!(shown["meta"]["location"], "https://s.io/scim/v2/Groups/eng");
        assert!(shown["meta"].get("created").is_none());
        assert!(shown["meta"].get("lastModified").is_none());
        let etag = shown["meta"]["version"].as_str().unwrap();
        assert!(etag.starts_with("W/\"") && etag.ends_with('"'), "{etag}");
        let provisioned = Record {
            created: Timestamp(1_700_000_000_000),
            modified: Timestamp(1_700_000_060_000),
            ..untouched
        };
        let again = with_meta(body, ResourceType::Group, "eng", &provisioned, "b");
        assert_eq!(
            again["meta"]["version"], etag,
            "times are not part of the ETag"
        );
        assert!(again["meta"]["created"].is_string());
        assert!(again["meta"]["lastModified"].is_string());
        assert_ne!(version(&json!({ "displayName": "Eng2" })), etag);
    }

    #[test]
    fn if_match_and_if_none_match_compare_with_the_current_etag() {
        let current = json!({ "meta": { "version": "W/\"abc\"" } });
        assert!(check_if_match(None, &current).is_ok());
        assert!(check_if_match(Some("*"), &current).is_ok());
        assert!(check_if_match(Some(" W/\"abc\" "), &current).is_ok());
        assert!(check_if_match(Some("W/\"old\", W/\"abc\""), &current).is_ok());
        let stale = check_if_match(Some("W/\"old\""), &current).unwrap_err();
        assert_eq!((stale.status, stale.scim_type), (412, None));
        assert!(not_modified("W/\"abc\"", &current));
        assert!(!not_modified("W/\"old\"", &current));
    }
}
