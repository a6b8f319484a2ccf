//! Lists and queries: a list's `filter`, paging and attribute selection, read from a query string
//! (`GET /Users?...`) or a `POST .../.search` body, and the `ListResponse` they produce; the same
//! `attributes`/`excludedAttributes` projection applies to a single resource.

use crate::error::{Error, ScimType};
use crate::filter::{self, get_ci, AttrPath};
use crate::resource::require_object;
use crate::ENTERPRISE;
use serde_json::{json, Value};
use std::collections::HashMap;

pub const LIST_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
pub const SEARCH_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";
/// The most resources one page returns.
pub const MAX_COUNT: usize = 200;
/// The page size when the caller asks for none.
const DEFAULT_COUNT: i64 = 100;

/// `startIndex` (1-based), `count`, `filter`, `attributes` and `excludedAttributes` of a list.
#[derive(Debug, Clone, PartialEq)]
pub struct ListQuery {
    pub filter: Option<filter::Filter>,
    pub start: usize,
    pub count: usize,
    pub attributes: Vec<String>,
    pub excluded: Vec<String>,
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

/// A comma-separated list of attribute names.
fn names(text: &str) -> Vec<String> {
    text.split(',')
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect()
}

fn not_a_number(key: &str) -> Error {
    Error::bad(ScimType::InvalidValue, format!("{key} must be a number"))
}

impl ListQuery {
    fn new(
        filter: Option<&str>,
        start: i64,
        count: i64,
        attributes: Vec<String>,
        excluded: Vec<String>,
    ) -> Result<ListQuery, Error> {
        Ok(ListQuery {
            filter: filter
                .filter(|f| !f.trim().is_empty())
                .map(filter::parse)
                .transpose()?,
            start: start.max(1) as usize,
            count: count.clamp(0, MAX_COUNT as i64) as usize,
            attributes,
            excluded,
        })
    }

    /// Reads a list's query string (without the `?`; parameter names ignore case).
    pub fn from_query(raw: Option<&str>) -> Result<ListQuery, Error> {
        let params: HashMap<String, String> = raw
            .unwrap_or_default()
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap_or((p, ""));
                (decode(k).to_ascii_lowercase(), decode(v))
            })
            .collect();
        let number = |key: &str, default: i64| -> Result<i64, Error> {
            params.get(key).map_or(Ok(default), |v| {
                v.trim().parse::<i64>().map_err(|_| not_a_number(key))
            })
        };
        let list = |key: &str| names(params.get(key).map_or("", String::as_str));
        // The keys are lowercase here: query parameter names ignore case.
        ListQuery::new(
            params.get("filter").map(String::as_str),
            number("startindex", 1)?,
            number("count", DEFAULT_COUNT)?,
            list("attributes"),
            list("excludedattributes"),
        )
    }

    /// Reads the body of a `POST .../.search` (RFC 7644 §3.4.3): the list's parameters as JSON.
    pub fn from_search(body: &Value) -> Result<ListQuery, Error> {
        require_object(body)?;
        if let Some(schemas) = get_ci(body, "schemas").and_then(Value::as_array) {
            if !schemas.iter().any(|s| s.as_str() == Some(SEARCH_SCHEMA)) {
                return Err(Error::bad(
                    ScimType::InvalidSyntax,
                    format!("a search body's schemas must include {SEARCH_SCHEMA}"),
                ));
            }
        }
        let number = |key: &str, default: i64| -> Result<i64, Error> {
            match get_ci(body, key) {
                None | Some(Value::Null) => Ok(default),
                Some(v) => v
                    .as_i64()
                    .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
                    .ok_or_else(|| not_a_number(key)),
            }
        };
        let list = |key: &str| -> Vec<String> {
            match get_ci(body, key) {
                Some(Value::Array(items)) => items
                    .iter()
                    .filter_map(Value::as_str)
                    .map(|s| s.trim().to_owned())
                    .filter(|s| !s.is_empty())
                    .collect(),
                Some(Value::String(s)) => names(s),
                _ => Vec::new(),
            }
        };
        ListQuery::new(
            get_ci(body, "filter").and_then(Value::as_str),
            number("startIndex", 1)?,
            number("count", DEFAULT_COUNT)?,
            list("attributes"),
            list("excludedAttributes"),
        )
    }

    /// Keeps only the requested attributes (always `id` and `schemas`), or drops the excluded ones.
    pub fn project(&self, mut resource: Value) -> Value {
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
            if !self.attributes.is_empty() {
                let wanted: Vec<String> = self.attributes.iter().map(|a| name_of(a)).collect();
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
            for e in &self.excluded {
                let e = name_of(e);
                if e != "id" && e != "schemas" {
                    map.retain(|k, _| !k.eq_ignore_ascii_case(&e));
                }
            }
        }
        resource
    }

    /// The `ListResponse` for these resources: those the filter matches, paged and projected.
    pub fn respond(&self, all: Vec<Value>) -> Value {
        let matching: Vec<Value> = all
            .into_iter()
            .filter(|r| self.filter.as_ref().is_none_or(|f| f.matches(r)))
            .collect();
        let total = matching.len();
        let page: Vec<Value> = matching
            .into_iter()
            .skip(self.start - 1)
            .take(self.count)
            .map(|r| self.project(r))
            .collect();
        list_body(total, self.start, page)
    }
}

fn list_body(total: usize, start: usize, page: Vec<Value>) -> Value {
    json!({
        "schemas": [LIST_SCHEMA],
        "totalResults": total,
        "startIndex": start,
        "itemsPerPage": page.len(),
        "Resources": page,
    })
}

/// A `ListResponse` with every resource on one page (the discovery lists).
pub fn list_all(resources: Vec<Value>) -> Value {
    list_body(resources.len(), 1, resources)
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
        // A `%` without two hex digits after it stays as it is.
        assert_eq!(decode("100%+sure%2"), "100% sure%2");
    }

    fn resources(n: usize) -> Vec<Value> {
        (1..=n)
            .map(|i| json!({ "id": i.to_string(), "schemas": ["s"], "userName": format!("u{i}"), "title": "t" }))
            .collect()
    }

    #[test]
    fn query_strings_page_filter_and_project() {
        let q = ListQuery::from_query(Some(
            "FILTER=userName%20sw%20%22u%22&StartIndex=2&count=2&attributes=userName",
        ))
        .unwrap();
        assert_eq!((q.start, q.count), (2, 2));
        let page = q.respond(resources(5));
        assert_eq!(
            page,
            json!({
                "schemas": [LIST_SCHEMA], "totalResults": 5, "startIndex": 2, "itemsPerPage": 2,
                "Resources": [
                    { "id": "2", "schemas": ["s"], "userName": "u2" },
                    { "id": "3", "schemas": ["s"], "userName": "u3" },
                ],
            })
        );
        // Past the end: the total, and an empty page.
        let beyond = ListQuery::from_query(Some("startIndex=9")).unwrap();
        assert_eq!(beyond.respond(resources(5))["itemsPerPage"], 0);
        assert_eq!(beyond.respond(resources(5))["totalResults"], 5);
    }

    #[test]
    fn paging_is_clamped_and_numbers_are_checked() {
        let q = ListQuery::from_query(Some("startIndex=-3&count=5000&filter=")).unwrap();
        assert_eq!((q.start, q.count, q.filter), (1, MAX_COUNT, None));
        let q = ListQuery::from_query(None).unwrap();
        assert_eq!((q.start, q.count), (1, 100));
        assert_eq!(
            ListQuery::from_query(Some("count=-1")).unwrap().count,
            0,
            "a count of 0 or less asks for the total only"
        );
        for raw in ["count=ten", "startIndex=1.5"] {
            let err = ListQuery::from_query(Some(raw)).unwrap_err();
            assert_eq!(err.scim_type, Some(ScimType::InvalidValue), "{raw}");
        }
        let err = ListQuery::from_query(Some("filter=userName%20zz%20%22x%22")).unwrap_err();
        assert_eq!(err.scim_type, Some(ScimType::InvalidFilter));
    }

    #[test]
    fn search_bodies_read_like_query_strings() {
        let q = ListQuery::from_search(&json!({
            "schemas": [SEARCH_SCHEMA], "filter": "title pr", "startIndex": "2", "count": 1,
            "attributes": ["userName"], "excludedAttributes": "title, meta",
        }))
        .unwrap();
        assert_eq!(
            (q.start, q.count, q.attributes.clone(), q.excluded.clone()),
            (
                2,
                1,
                vec![String::from("userName")],
                vec![String::from("title"), String::from("meta")]
            )
        );
        assert_eq!(q.respond(resources(3))["Resources"][0]["id"], "2");
        assert_eq!(
            ListQuery::from_search(&json!({})).unwrap(),
            ListQuery::from_query(None).unwrap()
        );
        for (body, expected) in [
            (json!([]), ScimType::InvalidSyntax),
            (json!({ "schemas": ["urn:x"] }), ScimType::InvalidSyntax),
            (json!({ "count": "many" }), ScimType::InvalidValue),
            (json!({ "filter": "(" }), ScimType::InvalidFilter),
        ] {
            assert_eq!(
                ListQuery::from_search(&body).unwrap_err().scim_type,
                Some(expected),
                "{body}"
            );
        }
    }

    #[test]
    fn projection_keeps_id_and_schemas_and_understands_extension_paths() {
        let user = json!({
            "id": "1", "schemas": ["s"], "userName": "u", "name": { "givenName": "G" },
            ENTERPRISE: { "department": "Ops" }, "meta": {}
        });
        let only = |attributes: &str, excluded: &str| {
            ListQuery {
                filter: None,
                start: 1,
                count: 1,
                attributes: names(attributes),
                excluded: names(excluded),
            }
            .project(user.clone())
        };
        assert_eq!(
            only("name.givenName", ""),
            json!({ "id": "1", "schemas": ["s"], "name": { "givenName": "G" } })
        );
        assert_eq!(
            only(&format!("{ENTERPRISE}:department"), ""),
            json!({ "id": "1", "schemas": ["s"], ENTERPRISE: { "department": "Ops" } })
        );
        assert_eq!(
            only("", "id,schemas,meta,USERNAME"),
            json!({ "id": "1", "schemas": ["s"], "name": { "givenName": "G" }, ENTERPRISE: { "department": "Ops" } })
        );
    }

    #[test]
    fn discovery_lists_hold_everything() {
        assert_eq!(
            list_all(vec![json!({ "id": "a" })]),
            json!({ "schemas": [LIST_SCHEMA], "totalResults": 1, "startIndex": 1, "itemsPerPage": 1, "Resources": [{ "id": "a" }] })
        );
    }
}
