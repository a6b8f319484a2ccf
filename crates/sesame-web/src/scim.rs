//! SCIM 2.0 (RFC 7643/7644) under `/scim/v2`: identity providers (Okta, Entra ID) create, change,
//! deactivate and delete people and groups. Authenticated with the `[scim] token` bearer token; with
//! no token configured every SCIM path answers 404. JSON mapping here, use cases in
//! `sesame_app::scim`; `filter.rs` parses filters, `patch.rs` applies PATCH, `error.rs` speaks
//! SCIM's error format. See docs/scim.md.

mod error;
mod filter;
mod patch;

use crate::WebState;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequestParts, Path, RawQuery, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use error::{ScimError, CONTENT_TYPE};
use filter::{get_ci, AttrPath, CORE_GROUP, CORE_USER, ENTERPRISE};
use secrecy::ExposeSecret;
use serde_json::{json, Map, Value};
use sesame_app::scim::{ScimCaller, ScimGroup, ScimGroupFields, ScimUser, ScimUserFields};
use sesame_app::AppError;
use sesame_core::UserId;
use std::collections::HashMap;

const LIST_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
/// The most resources one page returns.
const MAX_COUNT: usize = 200;

pub fn routes() -> Router<WebState> {
    Router::new()
        .route(
            "/scim/v2/ServiceProviderConfig",
            get(service_provider_config),
        )
        .route("/scim/v2/ResourceTypes", get(resource_types))
        .route("/scim/v2/ResourceTypes/{name}", get(resource_type))
        .route("/scim/v2/Schemas", get(schemas))
        .route("/scim/v2/Schemas/{id}", get(schema))
        .route("/scim/v2/.search", post(search_all))
        .route("/scim/v2/Users", get(list_users).post(create_user))
        .route("/scim/v2/Users/.search", post(search_users))
        .route(
            "/scim/v2/Users/{id}",
            get(get_user)
                .put(replace_user)
                .patch(patch_user)
                .delete(delete_user),
        )
        .route("/scim/v2/Groups", get(list_groups).post(create_group))
        .route("/scim/v2/Groups/.search", post(search_groups))
        .route(
            "/scim/v2/Groups/{id}",
            get(get_group)
                .put(replace_group)
                .patch(patch_group)
                .delete(delete_group),
        )
        .route("/scim/v2/{*rest}", axum::routing::any(unknown))
}

/// The identity provider, authenticated by the configured token (compared in constant time).
struct Provisioner;

impl FromRequestParts<WebState> for Provisioner {
    type Rejection = ScimError;

    async fn from_request_parts(parts: &mut Parts, state: &WebState) -> Result<Self, ScimError> {
        let Some(expected) = state.scim_token.as_ref() else {
            return Err(ScimError::not_found(
                "SCIM provisioning is not configured (set [scim] token)",
            ));
        };
        let unauthenticated = || ScimError::from(AppError::Unauthenticated);
        let header = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(unauthenticated)?;
        let (scheme, token) = header.split_once(' ').ok_or_else(unauthenticated)?;
        if !scheme.eq_ignore_ascii_case("bearer")
            || !constant_time_eq(token.trim().as_bytes(), expected.expose_secret().as_bytes())
        {
            return Err(unauthenticated());
        }
        Ok(Provisioner)
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let mut diff = a.len() ^ b.len();
    for i in 0..a.len().max(b.len()) {
        let x = a.get(i).copied().unwrap_or(0);
        let y = b.get(i).copied().unwrap_or(0);
        diff |= usize::from(x ^ y);
    }
    diff == 0
}

const WHO: ScimCaller = ScimCaller::Provisioner;

async fn unknown(_: Provisioner) -> ScimError {
    ScimError::not_found("there is no such SCIM endpoint")
}

fn scim_response(status: StatusCode, body: &Value) -> Response {
    let mut response = (status, body.to_string()).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
    response
}

/// A resource with its ETag and, when created, its location.
fn resource_response(status: StatusCode, body: &Value) -> Response {
    let mut response = scim_response(status, body);
    if let Some(v) = body["meta"]["version"]
        .as_str()
        .and_then(|v| HeaderValue::from_str(v).ok())
    {
        response.headers_mut().insert(header::ETAG, v);
    }
    if status == StatusCode::CREATED {
        if let Some(v) = body["meta"]["location"]
            .as_str()
            .and_then(|v| HeaderValue::from_str(v).ok())
        {
            response.headers_mut().insert(header::LOCATION, v);
        }
    }
    response
}

/// A weak ETag over the resource without its `meta`: it changes whenever anything shown changes.
fn version(resource: &Value) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in resource.to_string().bytes() {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("W/\"{hash:016x}\"")
}

/// `If-Match` on a change: the caller's copy must be the current one.
fn check_if_match(headers: &HeaderMap, current: &Value) -> Result<(), ScimError> {
    let Some(wanted) = headers.get(header::IF_MATCH).and_then(|v| v.to_str().ok()) else {
        return Ok(());
    };
    let now = current["meta"]["version"].as_str().unwrap_or_default();
    if wanted.trim() == "*" || wanted.split(',').any(|w| w.trim() == now) {
        Ok(())
    } else {
        Err(ScimError::new(
            StatusCode::PRECONDITION_FAILED,
            None,
            "the resource changed since it was read (If-Match)",
        ))
    }
}

fn base(state: &WebState) -> String {
    format!("{}/scim/v2", state.public_url.trim_end_matches('/'))
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

fn user_json(u: &ScimUser, state: &WebState) -> Value {
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

const USER_ATTRIBUTES: &[&str] = &[
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

fn known_user_attribute(path: &AttrPath) -> bool {
    match &path.urn {
        None => {
            USER_ATTRIBUTES
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
fn user_fields(body: &Value) -> Result<ScimUserFields, ScimError> {
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

fn parse_body(body: Result<Bytes, BytesRejection>) -> Result<Value, ScimError> {
    let bytes = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ScimError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                None,
                format!("the body is larger than {} bytes", crate::MAX_BODY_BYTES),
            )
        } else {
            ScimError::bad("invalidSyntax", e.body_text())
        }
    })?;
    serde_json::from_slice(&bytes)
        .map_err(|e| ScimError::bad("invalidSyntax", format!("the body is not valid JSON: {e}")))
}

/// `startIndex` (1-based), `count`, `filter`, `attributes` and `excludedAttributes` of a list.
struct ListQuery {
    filter: Option<filter::Filter>,
    start: usize,
    count: usize,
    attributes: Vec<String>,
    excluded: Vec<String>,
}

/// Percent-decodes a query component (`+` is a space).
fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'+', _) => out.push(b' '),
            (b'%', Some(b)) => {
                out.push(b);
                i += 2;
            }
            (b, _) => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn list_query(raw: Option<String>) -> Result<ListQuery, ScimError> {
    let params: HashMap<String, String> = raw
        .unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k).to_ascii_lowercase(), decode(v))
        })
        .collect();
    let number = |key: &str, default: i64| -> Result<i64, ScimError> {
        params.get(key).map_or(Ok(default), |v| {
            v.trim()
                .parse::<i64>()
                .map_err(|_| ScimError::bad("invalidValue", format!("{key} must be a number")))
        })
    };
    let list = |key: &str| -> Vec<String> {
        params
            .get(key)
            .map(|v| {
                v.split(',')
                    .map(|s| s.trim().to_owned())
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default()
    };
    Ok(ListQuery {
        filter: params
            .get("filter")
            .filter(|f| !f.trim().is_empty())
            .map(|f| filter::parse(f))
            .transpose()?,
        start: number("startindex", 1)?.max(1) as usize,
        count: number("count", 100)?.clamp(0, MAX_COUNT as i64) as usize,
        attributes: list("attributes"),
        excluded: list("excludedattributes"),
    })
}

const SEARCH_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";

/// The body of a `POST .../.search` (RFC 7644 §3.4.3): the list query's parameters as JSON.
fn search_query(body: Result<Bytes, BytesRejection>) -> Result<ListQuery, ScimError> {
    let body = parse_body(body)?;
    if !body.is_object() {
        return Err(ScimError::bad(
            "invalidSyntax",
            "the body must be a JSON object",
        ));
    }
    if let Some(schemas) = get_ci(&body, "schemas").and_then(Value::as_array) {
        if !schemas.iter().any(|s| s.as_str() == Some(SEARCH_SCHEMA)) {
            return Err(ScimError::bad(
                "invalidSyntax",
                format!("a search body's schemas must include {SEARCH_SCHEMA}"),
            ));
        }
    }
    let number = |key: &str, default: i64| -> Result<i64, ScimError> {
        match get_ci(&body, key) {
            None | Some(Value::Null) => Ok(default),
            Some(v) => v
                .as_i64()
                .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
                .ok_or_else(|| ScimError::bad("invalidValue", format!("{key} must be a number"))),
        }
    };
    let list = |key: &str| -> Vec<String> {
        match get_ci(&body, key) {
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(Value::as_str)
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect(),
            Some(Value::String(s)) => s
                .split(',')
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect(),
            _ => Vec::new(),
        }
    };
    Ok(ListQuery {
        filter: get_ci(&body, "filter")
            .and_then(Value::as_str)
            .filter(|f| !f.trim().is_empty())
            .map(filter::parse)
            .transpose()?,
        start: number("startIndex", 1)?.max(1) as usize,
        count: number("count", 100)?.clamp(0, MAX_COUNT as i64) as usize,
        attributes: list("attributes"),
        excluded: list("excludedAttributes"),
    })
}

/// Keeps only the requested attributes (always `id` and `schemas`), or drops the excluded ones.
fn project(mut resource: Value, attributes: &[String], excluded: &[String]) -> Value {
    let name_of = |a: &str| -> String {
        let path = AttrPath::parse(a);
        match path {
            Some(AttrPath {
                urn: Some(urn),
                attr,
                ..
            }) if urn.eq_ignore_ascii_case(ENTERPRISE) => format!("{urn}:{attr}"),
            Some(p) => p.attr,
            None => a.to_owned(),
        }
    };
    if let Value::Object(map) = &mut resource {
        if !attributes.is_empty() {
            let wanted: Vec<String> = attributes.iter().map(|a| name_of(a)).collect();
            let keep = |k: &str| {
                ["id", "schemas"].contains(&k)
                    || wanted.iter().any(|w| {
                        w.eq_ignore_ascii_case(k)
                            || w.to_ascii_lowercase()
                                .starts_with(&format!("{}:", k.to_ascii_lowercase()))
                    })
            };
            map.retain(|k, _| keep(k));
        }
        for e in excluded {
            let e = name_of(e);
            if e != "id" && e != "schemas" {
                map.retain(|k, _| !k.eq_ignore_ascii_case(&e));
            }
        }
    }
    resource
}

fn list_response(all: Vec<Value>, q: &ListQuery) -> Response {
    let matching: Vec<Value> = all
        .into_iter()
        .filter(|r| q.filter.as_ref().is_none_or(|f| f.matches(r)))
        .collect();
    let total = matching.len();
    let page: Vec<Value> = matching
        .into_iter()
        .skip(q.start - 1)
        .take(q.count)
        .map(|r| project(r, &q.attributes, &q.excluded))
        .collect();
    scim_response(
        StatusCode::OK,
        &json!({
            "schemas": [LIST_SCHEMA],
            "totalResults": total,
            "startIndex": q.start,
            "itemsPerPage": page.len(),
            "Resources": page,
        }),
    )
}

fn single(
    resource: Value,
    raw: Option<String>,
    headers: &HeaderMap,
) -> Result<Response, ScimError> {
    let q = list_query(raw)?;
    if let Some(tag) = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
    {
        if resource["meta"]["version"].as_str() == Some(tag.trim()) {
            return Ok(StatusCode::NOT_MODIFIED.into_response());
        }
    }
    Ok(resource_response(
        StatusCode::OK,
        &project(resource, &q.attributes, &q.excluded),
    ))
}

async fn list_users(
    _: Provisioner,
    State(state): State<WebState>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ScimError> {
    let q = list_query(raw)?;
    let users = state.app.scim_users(&WHO).await?;
    Ok(list_response(
        users.iter().map(|u| user_json(u, &state)).collect(),
        &q,
    ))
}

/// `POST /.search` at the root: users, then groups.
async fn search_all(
    _: Provisioner,
    State(state): State<WebState>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ScimError> {
    let q = search_query(body)?;
    let users = state.app.scim_users(&WHO).await?;
    let groups = state.app.scim_groups(&WHO).await?;
    Ok(list_response(
        users
            .iter()
            .map(|u| user_json(u, &state))
            .chain(groups.iter().map(|g| group_json(g, &state)))
            .collect(),
        &q,
    ))
}

async fn search_users(
    _: Provisioner,
    State(state): State<WebState>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ScimError> {
    let q = search_query(body)?;
    let users = state.app.scim_users(&WHO).await?;
    Ok(list_response(
        users.iter().map(|u| user_json(u, &state)).collect(),
        &q,
    ))
}

async fn get_user(
    _: Provisioner,
    State(state): State<WebState>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ScimError> {
    let user = state.app.scim_user(&WHO, &id).await?;
    single(user_json(&user, &state), raw, &headers)
}

async fn create_user(
    _: Provisioner,
    State(state): State<WebState>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ScimError> {
    let fields = user_fields(&parse_body(body)?)?;
    let user = state.app.scim_create_user(&WHO, fields).await?;
    Ok(resource_response(
        StatusCode::CREATED,
        &user_json(&user, &state),
    ))
}

async fn replace_user(
    _: Provisioner,
    State(state): State<WebState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ScimError> {
    let body = parse_body(body)?;
    let fields = user_fields(&body)?;
    let mut refused = None;
    let user = state
        .app
        .scim_update_user(&WHO, &id, |current| {
            if let Err(e) = check_if_match(&headers, &user_json(current, &state)) {
                refused = Some(e);
                return Err(AppError::Invalid(String::new()));
            }
            Ok(fields)
        })
        .await
        .map_err(|e| refused.take().unwrap_or_else(|| e.into()))?;
    Ok(resource_response(StatusCode::OK, &user_json(&user, &state)))
}

async fn patch_user(
    _: Provisioner,
    State(state): State<WebState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ScimError> {
    let request: patch::PatchRequest = serde_json::from_value(parse_body(body)?)
        .map_err(|e| ScimError::bad("invalidSyntax", format!("not a PATCH request: {e}")))?;
    let mut refused = None;
    let user = state
        .app
        .scim_update_user(&WHO, &id, |current| {
            let result = (|| {
                let mut resource = user_json(current, &state);
                check_if_match(&headers, &resource)?;
                patch::apply(&mut resource, request, &known_user_attribute)?;
                user_fields(&resource)
            })();
            result.map_err(|e| {
                refused = Some(e);
                AppError::Invalid(String::new())
            })
        })
        .await
        .map_err(|e| refused.take().unwrap_or_else(|| e.into()))?;
    Ok(resource_response(StatusCode::OK, &user_json(&user, &state)))
}

async fn delete_user(
    _: Provisioner,
    State(state): State<WebState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ScimError> {
    if headers.contains_key(header::IF_MATCH) {
        let current = state.app.scim_user(&WHO, &id).await?;
        check_if_match(&headers, &user_json(&current, &state))?;
    }
    state.app.scim_delete_user(&WHO, &id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
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

fn group_json(g: &ScimGroup, state: &WebState) -> Value {
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

fn known_group_attribute(path: &AttrPath) -> bool {
    path.urn.is_none()
        && [
            "displayName",
            "members",
            "externalId",
            "id",
            "meta",
            "schemas",
        ]
        .iter()
        .any(|a| a.eq_ignore_ascii_case(&path.attr))
}

fn group_fields(body: &Value) -> Result<ScimGroupFields, ScimError> {
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

async fn list_groups(
    _: Provisioner,
    State(state): State<WebState>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ScimError> {
    let q = list_query(raw)?;
    let groups = state.app.scim_groups(&WHO).await?;
    Ok(list_response(
        groups.iter().map(|g| group_json(g, &state)).collect(),
        &q,
    ))
}

async fn search_groups(
    _: Provisioner,
    State(state): State<WebState>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ScimError> {
    let q = search_query(body)?;
    let groups = state.app.scim_groups(&WHO).await?;
    Ok(list_response(
        groups.iter().map(|g| group_json(g, &state)).collect(),
        &q,
    ))
}

async fn get_group(
    _: Provisioner,
    State(state): State<WebState>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ScimError> {
    let group = state.app.scim_group(&WHO, &id).await?;
    single(group_json(&group, &state), raw, &headers)
}

async fn create_group(
    _: Provisioner,
    State(state): State<WebState>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ScimError> {
    let fields = group_fields(&parse_body(body)?)?;
    let group = state.app.scim_create_group(&WHO, fields).await?;
    Ok(resource_response(
        StatusCode::CREATED,
        &group_json(&group, &state),
    ))
}

async fn replace_group(
    _: Provisioner,
    State(state): State<WebState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ScimError> {
    let fields = group_fields(&parse_body(body)?)?;
    let mut refused = None;
    let group = state
        .app
        .scim_update_group(&WHO, &id, |current| {
            if let Err(e) = check_if_match(&headers, &group_json(current, &state)) {
                refused = Some(e);
                return Err(AppError::Invalid(String::new()));
            }
            Ok(fields)
        })
        .await
        .map_err(|e| refused.take().unwrap_or_else(|| e.into()))?;
    Ok(resource_response(
        StatusCode::OK,
        &group_json(&group, &state),
    ))
}

async fn patch_group(
    _: Provisioner,
    State(state): State<WebState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ScimError> {
    let request: patch::PatchRequest = serde_json::from_value(parse_body(body)?)
        .map_err(|e| ScimError::bad("invalidSyntax", format!("not a PATCH request: {e}")))?;
    let mut refused = None;
    let group = state
        .app
        .scim_update_group(&WHO, &id, |current| {
            let result = (|| {
                let mut resource = group_json(current, &state);
                check_if_match(&headers, &resource)?;
                patch::apply(&mut resource, request, &known_group_attribute)?;
                group_fields(&resource)
            })();
            result.map_err(|e| {
                refused = Some(e);
                AppError::Invalid(String::new())
            })
        })
        .await
        .map_err(|e| refused.take().unwrap_or_else(|| e.into()))?;
    Ok(resource_response(
        StatusCode::OK,
        &group_json(&group, &state),
    ))
}

async fn delete_group(
    _: Provisioner,
    State(state): State<WebState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ScimError> {
    if headers.contains_key(header::IF_MATCH) {
        let current = state.app.scim_group(&WHO, &id).await?;
        check_if_match(&headers, &group_json(&current, &state))?;
    }
    state.app.scim_delete_group(&WHO, &id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

// Discovery.

async fn service_provider_config(_: Provisioner, State(state): State<WebState>) -> Response {
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

async fn resource_types(_: Provisioner, State(state): State<WebState>) -> Response {
    list_of(resource_type_docs(&state))
}

async fn resource_type(
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

async fn schemas(_: Provisioner, State(state): State<WebState>) -> Response {
    list_of(schema_docs(&state))
}

async fn schema(
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_compare_whole() {
        assert!(constant_time_eq(b"secret", b"secret"));
        assert!(!constant_time_eq(b"secret", b"secreT"));
        assert!(!constant_time_eq(b"secret", b"secret2"));
        assert!(!constant_time_eq(b"", b"x"));
    }

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
        assert_eq!(
            decode("userName%20eq%20%22a%2Bb%40x.io%22"),
            "userName eq \"a+b@x.io\""
        );
    }
}
