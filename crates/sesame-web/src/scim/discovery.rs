//! Discovery: `ServiceProviderConfig`, `ResourceTypes` and `Schemas`, the documents a provider reads
//! to learn what Sesame supports.

use super::error::ScimError;
use super::filter::{CORE_GROUP, CORE_USER, ENTERPRISE};
use super::search::{LIST_SCHEMA, MAX_COUNT};
use super::{base, scim_response, Provisioner};
use crate::WebState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{json, Value};

pub(super) async fn service_provider_config(
    _: Provisioner,
    State(state): State<WebState>,
) -> Response {
    scim_response(
        StatusCode::OK,
        &json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
            "documentationUri": format!("{}/docs/scim.md", state.public_url.trim_end_matches('/')),
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
            "meta": { "resourceType": "ServiceProviderConfig", "location": format!("{}/ServiceProviderConfig", base(&state)) },
        }),
    )
}

fn resource_type_docs(state: &WebState) -> Vec<Value> {
    vec![
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
            "id": "User", "name": "User", "endpoint": "/Users", "description": "People",
            "schema": CORE_USER,
            "schemaExtensions": [{ "schema": ENTERPRISE, "required": false }],
            "meta": { "resourceType": "ResourceType", "location": format!("{}/ResourceTypes/User", base(state)) },
        }),
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
            "id": "Group", "name": "Group", "endpoint": "/Groups", "description": "Groups",
            "schema": CORE_GROUP,
            "meta": { "resourceType": "ResourceType", "location": format!("{}/ResourceTypes/Group", base(state)) },
        }),
    ]
}

fn list_of(resources: Vec<Value>) -> Response {
    scim_response(
        StatusCode::OK,
        &json!({
            "schemas": [LIST_SCHEMA],
            "totalResults": resources.len(),
            "startIndex": 1,
            "itemsPerPage": resources.len(),
            "Resources": resources,
        }),
    )
}

pub(super) async fn resource_types(_: Provisioner, State(state): State<WebState>) -> Response {
    list_of(resource_type_docs(&state))
}

pub(super) async fn resource_type(
    _: Provisioner,
    State(state): State<WebState>,
    Path(name): Path<String>,
) -> Result<Response, ScimError> {
    resource_type_docs(&state)
        .into_iter()
        .find(|r| r["id"] == name.as_str())
        .map(|r| scim_response(StatusCode::OK, &r))
        .ok_or_else(|| ScimError::not_found(format!("there is no resource type {name}")))
}

pub(super) async fn schemas(_: Provisioner, State(state): State<WebState>) -> Response {
    list_of(schema_docs(&state))
}

pub(super) async fn schema(
    _: Provisioner,
    State(state): State<WebState>,
    Path(id): Path<String>,
) -> Result<Response, ScimError> {
    schema_docs(&state)
        .into_iter()
        .find(|r| r["id"] == id.as_str())
        .map(|r| scim_response(StatusCode::OK, &r))
        .ok_or_else(|| ScimError::not_found(format!("there is no schema {id}")))
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

fn schema_docs(state: &WebState) -> Vec<Value> {
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
        "meta": { "resourceType": "Schema", "location": format!("{}/Schemas/{CORE_USER}", base(state)) },
    });
    let enterprise = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
        "id": ENTERPRISE, "name": "EnterpriseUser", "description": "Enterprise user",
        "attributes": [
            s("employeeNumber"), s("costCenter"), s("organization"), s("division"), s("department"),
            complex("manager", false, "readWrite", vec![attr("value", "string", false, false, "readWrite", "none", "The manager's id"), attr("displayName", "string", false, false, "readOnly", "none", "displayName")], "The person's manager (approves `approvers: manager` steps)"),
        ],
        "meta": { "resourceType": "Schema", "location": format!("{}/Schemas/{ENTERPRISE}", base(state)) },
    });
    let group = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
        "id": CORE_GROUP, "name": "Group", "description": "A group in Sesame's directory",
        "attributes": [
            attr("displayName", "string", false, true, "readWrite", "none", "The group's name"),
            complex("members", true, "readWrite", vec![attr("value", "string", false, false, "immutable", "none", "A user's id"), attr("display", "string", false, false, "readOnly", "none", "display"), attr("type", "string", false, false, "immutable", "none", "User")], "Members (users only)"),
        ],
        "meta": { "resourceType": "Schema", "location": format!("{}/Schemas/{CORE_GROUP}", base(state)) },
    });
    vec![user, enterprise, group]
}
