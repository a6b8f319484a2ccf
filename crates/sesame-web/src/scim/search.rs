//! Lists and queries: `GET /Users` and `/Groups` with `filter`, paging and attribute selection, the
//! same as a `POST .../.search` body, and a single resource with `attributes`/`excludedAttributes`.

use super::error::ScimError;
use super::filter::{self, get_ci, AttrPath, ENTERPRISE};
use super::groups::all_groups;
use super::users::all_users;
use super::{parse_body, resource_response, scim_response, Provisioner};
use crate::WebState;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};
use std::collections::HashMap;

pub(super) const LIST_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
/// The most resources one page returns.
pub(super) const MAX_COUNT: usize = 200;

/// `startIndex` (1-based), `count`, `filter`, `attributes` and `excludedAttributes` of a list.
pub(super) struct ListQuery {
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

pub(super) fn list_query(raw: Option<String>) -> Result<ListQuery, ScimError> {
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
pub(super) fn search_query(body: Result<Bytes, BytesRejection>) -> Result<ListQuery, ScimError> {
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

pub(super) fn list_response(all: Vec<Value>, q: &ListQuery) -> Response {
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

pub(super) fn single(
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

/// `POST /.search` at the root: users, then groups.
pub(super) async fn search_all(
    _: Provisioner,
    State(state): State<WebState>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ScimError> {
    let q = search_query(body)?;
    let mut all = all_users(&state).await?;
    all.extend(all_groups(&state).await?);
    Ok(list_response(all, &q))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_components_are_percent_decoded() {
        assert_eq!(
            decode("userName%20eq%20%22a%2Bb%40x.io%22"),
            "userName eq \"a+b@x.io\""
        );
    }
}
