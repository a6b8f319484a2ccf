//! Discovery: `ServiceProviderConfig`, `ResourceTypes` and `Schemas`, the documents a provider reads
//! to learn what Sesame supports. `base` is the SCIM base URL (`https://sesame.example/scim/v2`),
//! for each document's `meta.location`.

use crate::error::Error;
use crate::list::MAX_COUNT;
use crate::resource::ResourceType;
use crate::{CORE_GROUP, CORE_USER, ENTERPRISE};
use serde_json::{json, Value};

/// What Sesame supports: PATCH, filters and ETags; no bulk, sorting or password changes.
/// `documentation` is the address of the administrator's guide.
pub fn service_provider_config(base: &str, documentation: &str) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
        "documentationUri": documentation,
        "patch": { "supported": true },
        "bulk": { "supported": false, "maxOperations": 0, "maxPayloadSize": 0 },
        "filter": { "supported": true, "maxResults": MAX_COUNT },
        "changePassword": { "supported": false },
        "sort": { "supported": false },
        "etag": { "supported": true },
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "Bearer token",
            "description": "The token configured as [scim] token, sent as Authorization: Bearer <token>",
            "primary": true,
        }],
        "meta": { "resourceType": "ServiceProviderConfig", "location": format!("{base}/ServiceProviderConfig") },
    })
}

fn resource_type_doc(kind: ResourceType, base: &str) -> Value {
    let name = kind.name();
    let mut doc = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
        "id": name, "name": name, "endpoint": kind.endpoint(),
        "schema": kind.schema(),
        "meta": { "resourceType": "ResourceType", "location": format!("{base}/ResourceTypes/{name}") },
    });
    match kind {
        ResourceType::User => {
            doc["description"] = json!("People");
            doc["schemaExtensions"] = json!([{ "schema": ENTERPRISE, "required": false }]);
        }
        ResourceType::Group => doc["description"] = json!("Groups"),
    }
    doc
}

/// The resource types, users then groups.
pub fn resource_types(base: &str) -> Vec<Value> {
    ResourceType::ALL
        .into_iter()
        .map(|kind| resource_type_doc(kind, base))
        .collect()
}

/// One resource type by its name (`User`, `Group`).
pub fn resource_type(base: &str, name: &str) -> Result<Value, Error> {
    ResourceType::ALL
        .into_iter()
        .find(|kind| kind.name() == name)
        .map(|kind| resource_type_doc(kind, base))
        .ok_or_else(|| Error::not_found(format!("there is no resource type {name}")))
}

fn attr(
    name: &str,
    kind: &str,
    multi: bool,
    required: bool,
    mutability: &str,
    uniqueness: &str,
    description: &str,
) -> Value {
    json!({
        "name": name, "type": kind, "multiValued": multi, "required": required,
        "caseExact": false, "mutability": mutability, "returned": "default",
        "uniqueness": uniqueness, "description": description,
    })
}

fn complex(
    name: &str,
    multi: bool,
    mutability: &str,
    subs: Vec<Value>,
    description: &str,
) -> Value {
    let mut a = attr(
        name,
        "complex",
        multi,
        false,
        mutability,
        "none",
        description,
    );
    a["subAttributes"] = Value::Array(subs);
    a
}

/// The schemas: the core user, the enterprise extension and the core group, with the attributes
/// Sesame reads.
pub fn schemas(base: &str) -> Vec<Value> {
    let s = |n: &str| attr(n, "string", false, false, "readWrite", "none", n);
    let user = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
        "id": CORE_USER, "name": "User", "description": "A person in Sesame's directory",
        "attributes": [
            attr("userName", "string", false, true, "readWrite", "server", "Unique name; an email, or an email in emails"),
            complex("name", false, "readWrite", vec![s("formatted"), s("familyName"), s("givenName"), s("middleName"), s("honorificPrefix"), s("honorificSuffix")], "The person's name"),
            attr("displayName", "string", false, false, "readWrite", "none", "The name Sesame shows"),
            s("nickName"), s("title"), s("userType"), s("preferredLanguage"), s("locale"), s("timezone"),
            attr("active", "boolean", false, false, "readWrite", "none", "False deactivates the person and ends their requests and access"),
            complex("emails", true, "readWrite", vec![s("value"), s("type"), attr("primary", "boolean", false, false, "readWrite", "none", "primary")], "Email addresses"),
            complex("phoneNumbers", true, "readWrite", vec![s("value"), s("type"), attr("primary", "boolean", false, false, "readWrite", "none", "primary")], "Phone numbers"),
            complex("groups", true, "readOnly", vec![attr("value", "string", false, false, "readOnly", "none", "value"), attr("display", "string", false, false, "readOnly", "none", "display"), attr("type", "string", false, false, "readOnly", "none", "type")], "Groups, set through Group resources"),
        ],
        "meta": { "resourceType": "Schema", "location": format!("{base}/Schemas/{CORE_USER}") },
    });
    let enterprise = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
        "id": ENTERPRISE, "name": "EnterpriseUser", "description": "Enterprise user",
        "attributes": [
            s("employeeNumber"), s("costCenter"), s("organization"), s("division"), s("department"),
            complex("manager", false, "readWrite", vec![attr("value", "string", false, false, "readWrite", "none", "The manager's id"), attr("displayName", "string", false, false, "readOnly", "none", "displayName")], "The person's manager (approves `approvers: manager` steps)"),
        ],
        "meta": { "resourceType": "Schema", "location": format!("{base}/Schemas/{ENTERPRISE}") },
    });
    let group = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
        "id": CORE_GROUP, "name": "Group", "description": "A group in Sesame's directory",
        "attributes": [
            attr("displayName", "string", false, true, "readWrite", "none", "The group's name"),
            complex("members", true, "readWrite", vec![attr("value", "string", false, false, "immutable", "none", "A user's id"), attr("display", "string", false, false, "readOnly", "none", "display"), attr("type", "string", false, false, "immutable", "none", "User")], "Members (users only)"),
        ],
        "meta": { "resourceType": "Schema", "location": format!("{base}/Schemas/{CORE_GROUP}") },
    });
    vec![user, enterprise, group]
}

/// One schema by its URN.
pub fn schema(base: &str, id: &str) -> Result<Value, Error> {
    schemas(base)
        .into_iter()
        .find(|r| r["id"] == id)
        .ok_or_else(|| Error::not_found(format!("there is no schema {id}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "https://sesame.example/scim/v2";

    #[test]
    fn the_config_says_what_is_supported() {
        let config = service_provider_config(BASE, "https://sesame.example/docs/scim.md");
        assert_eq!(config["patch"]["supported"], true);
        assert_eq!(config["bulk"]["supported"], false);
        assert_eq!(config["filter"]["maxResults"], MAX_COUNT);
        assert_eq!(config["etag"]["supported"], true);
        assert_eq!(
            config["documentationUri"],
            "https://sesame.example/docs/scim.md"
        );
        assert_eq!(
            config["meta"]["location"],
            format!("{BASE}/ServiceProviderConfig")
        );
    }

    #[test]
    fn resource_types_and_schemas_are_found_by_id() {
        let types = resource_types(BASE);
        assert_eq!(
            types.iter().map(|t| &t["endpoint"]).collect::<Vec<_>>(),
            ["/Users", "/Groups"]
        );
        assert_eq!(types[0]["schemaExtensions"][0]["schema"], ENTERPRISE);
        assert!(types[1].get("schemaExtensions").is_none());
        assert_eq!(resource_type(BASE, "Group").unwrap(), types[1]);
        assert_eq!(
            resource_type(BASE, "group").unwrap_err().status,
            404,
            "ids are exact"
        );
        let all = schemas(BASE);
        assert_eq!(
            all.iter().map(|s| &s["id"]).collect::<Vec<_>>(),
            [CORE_USER, ENTERPRISE, CORE_GROUP]
        );
        assert_eq!(schema(BASE, ENTERPRISE).unwrap(), all[1]);
        assert_eq!(
            schema(BASE, ENTERPRISE).unwrap()["meta"]["location"],
            format!("{BASE}/Schemas/{ENTERPRISE}")
        );
        assert_eq!(schema(BASE, "urn:x").unwrap_err().status, 404);
    }

    #[test]
    fn every_attribute_a_schema_lists_can_be_patched() {
        use crate::filter::AttrPath;
        for (doc, kind, urn) in [
            (&schemas(BASE)[0], ResourceType::User, None),
            (&schemas(BASE)[1], ResourceType::User, Some(ENTERPRISE)),
            (&schemas(BASE)[2], ResourceType::Group, None),
        ] {
            for a in doc["attributes"].as_array().unwrap() {
                let name = a["name"].as_str().unwrap();
                let path = AttrPath {
                    urn: urn.map(str::to_owned),
                    attr: name.to_owned(),
                    sub: None,
                };
                assert!(kind.knows(&path), "{name}");
            }
        }
    }
}
