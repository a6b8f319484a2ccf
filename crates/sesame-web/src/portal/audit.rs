//! The audit log page with its filters, and the same rows exported as CSV or JSON (administrators
//! and auditors; `App::audit` enforces it).

use super::admin::refuse_unless_reader;
use super::render::{self, page};
use super::session::Visitor;
use super::views;
use crate::WebState;
use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{json, Value};
use sesame_app::{AuditFilter, AuditRecord};
use sesame_core::{RequestNumber, Timestamp};

/// The most rows one page shows; exports page through the store up to [`MAX_EXPORT_ROWS`].
const PAGE_ROWS: u32 = 200;
const MAX_EXPORT_ROWS: usize = 100_000;

#[derive(Deserialize, Default)]
pub struct AuditQuery {
    request: Option<String>,
    actor: Option<String>,
    kind: Option<String>,
    /// `YYYY-MM-DD`, from the start of that day (UTC).
    since: Option<String>,
    /// `YYYY-MM-DD`, to the end of that day (UTC).
    until: Option<String>,
    /// The next page: rows after this id.
    after: Option<i64>,
}

fn blank_to_none(value: &Option<String>) -> Option<String> {
    value
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

/// Midnight UTC at the start of a `YYYY-MM-DD` date, in milliseconds.
pub(super) fn day_start(text: &str) -> Option<i64> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let date = time::Date::parse(text, &format).ok()?;
    Some(date.midnight().assume_utc().unix_timestamp() * 1000)
}

impl AuditQuery {
    /// The store's filter, or what is wrong with the query.
    fn filter(&self) -> Result<AuditFilter, String> {
        let request = match blank_to_none(&self.request) {
            Some(text) => Some(RequestNumber(
                text.trim_start_matches('#')
                    .parse()
                    .map_err(|_| format!("{text:?} is not a request number"))?,
            )),
            None => None,
        };
        let date = |value: &Option<String>, end: bool| match blank_to_none(value) {
            Some(text) => day_start(&text)
                .map(|ms| Some(Timestamp(if end { ms + 86_400_000 } else { ms })))
                .ok_or_else(|| format!("{text:?} is not a date (YYYY-MM-DD)")),
            None => Ok(None),
        };
        Ok(AuditFilter {
            request,
            actor: blank_to_none(&self.actor),
            kind: blank_to_none(&self.kind).map(|k| k.replace(' ', "_")),
            since: date(&self.since, false)?,
            until: date(&self.until, true)?,
            after_id: self.after,
            limit: PAGE_ROWS,
        })
    }

    fn query_string(&self) -> String {
        let mut out = form_urlencoded::Serializer::new(String::new());
        for (name, value) in [
            ("request", &self.request),
            ("actor", &self.actor),
            ("kind", &self.kind),
            ("since", &self.since),
            ("until", &self.until),
        ] {
            if let Some(v) = blank_to_none(value) {
                out.append_pair(name, &v);
            }
        }
        out.finish()
    }
}

pub async fn audit(
    State(state): State<WebState>,
    visitor: Visitor,
    Query(q): Query<AuditQuery>,
) -> Response {
    if let Some(refusal) = refuse_unless_reader(&state, &visitor) {
        return refusal;
    }
    let (rows, problem) = match q.filter() {
        Ok(filter) => match state.app.audit(&visitor.principal, &filter).await {
            Ok(records) => (records, None),
            Err(e) => return render::app_error_page(e, Some((&state.app, &visitor))),
        },
        Err(problem) => (Vec::new(), Some(problem)),
    };
    let directory = state.app.directory();
    let next_after = (rows.len() == PAGE_ROWS as usize)
        .then(|| rows.last().map(|r| r.id))
        .flatten();
    let rows: Vec<Value> = rows
        .iter()
        .map(|r| views::audit_line(&directory, r))
        .collect();
    page(
        &state.app,
        Some(&visitor),
        if problem.is_some() {
            StatusCode::UNPROCESSABLE_ENTITY
        } else {
            StatusCode::OK
        },
        "admin_audit.html",
        json!({
            "title": "Audit log",
            "nav": "admin",
            "q": {
                "request": blank_to_none(&q.request).unwrap_or_default(),
                "actor": blank_to_none(&q.actor).unwrap_or_default(),
                "kind": blank_to_none(&q.kind).unwrap_or_default(),
                "since": blank_to_none(&q.since).unwrap_or_default(),
                "until": blank_to_none(&q.until).unwrap_or_default(),
            },
            "query": q.query_string(),
            "rows": rows,
            "next_after": next_after,
            "paged": q.after.is_some(),
            "problem": problem,
        }),
    )
}

/// Every matching row, oldest first, read page by page.
async fn export_rows(
    state: &WebState,
    visitor: &Visitor,
    q: &AuditQuery,
) -> Result<Vec<AuditRecord>, Response> {
    if let Some(refusal) = refuse_unless_reader(state, visitor) {
        return Err(refusal);
    }
    let mut filter = q.filter().map_err(|problem| {
        render::message_page(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Check the filters",
            &problem,
        )
    })?;
    filter.limit = 500;
    let mut rows: Vec<AuditRecord> = Vec::new();
    loop {
        let page = state
            .app
            .audit(&visitor.principal, &filter)
            .await
            .map_err(|e| render::app_error_page(e, Some((&state.app, visitor))))?;
        let full = page.len() as u32 == filter.limit;
        filter.after_id = page.last().map(|r| r.id);
        rows.extend(page);
        if !full || rows.len() >= MAX_EXPORT_ROWS {
            return Ok(rows);
        }
    }
}

fn download(content_type: &'static str, name: &'static str, body: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CONTENT_DISPOSITION, name),
        ],
        body,
    )
        .into_response()
}

pub async fn audit_json(
    State(state): State<WebState>,
    visitor: Visitor,
    Query(q): Query<AuditQuery>,
) -> Response {
    match export_rows(&state, &visitor, &q).await {
        Ok(rows) => {
            let items: Vec<Value> = rows
                .iter()
                .map(|r| {
                    json!({
                        "id": r.id, "at": r.at.to_rfc3339(), "request": r.request.map(|n| n.0),
                        "actor": r.actor, "kind": r.kind, "detail": r.detail,
                    })
                })
                .collect();
            download(
                "application/json",
                "attachment; filename=\"sesame-audit.json\"",
                serde_json::to_string_pretty(&items).unwrap_or_default(),
            )
        }
        Err(refusal) => refusal,
    }
}

pub async fn audit_csv(
    State(state): State<WebState>,
    visitor: Visitor,
    Query(q): Query<AuditQuery>,
) -> Response {
    match export_rows(&state, &visitor, &q).await {
        Ok(rows) => {
            let mut out = String::from("id,at,request,actor,kind,detail\r\n");
            for r in &rows {
                let fields = [
                    r.id.to_string(),
                    r.at.to_rfc3339(),
                    r.request.map(|n| n.0.to_string()).unwrap_or_default(),
                    r.actor.clone(),
                    r.kind.clone(),
                    r.detail.to_string(),
                ];
                let line: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
                out.push_str(&line.join(","));
                out.push_str("\r\n");
            }
            download(
                "text/csv; charset=utf-8",
                "attachment; filename=\"sesame-audit.csv\"",
                out,
            )
        }
        Err(refusal) => refusal,
    }
}

/// RFC 4180 quoting; a field a spreadsheet would run as a formula is prefixed with `'`.
fn csv_field(text: &str) -> String {
    let text = if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    };
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_and_formulas_defused() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=SUM(A1)"), "'=SUM(A1)");
    }

    #[test]
    fn filters_are_parsed_or_refused() {
        let q = AuditQuery {
            request: Some(String::from("#12")),
            since: Some(String::from("2026-01-05")),
            until: Some(String::from("2026-01-05")),
            kind: Some(String::from("step approved")),
            ..AuditQuery::default()
        };
        let f = q.filter().unwrap();
        assert_eq!(f.request, Some(RequestNumber(12)));
        assert_eq!(f.since, Some(Timestamp(1_767_571_200_000)));
        assert_eq!(f.until, Some(Timestamp(1_767_657_600_000)));
        assert_eq!(f.kind.as_deref(), Some("step_approved"));
        let bad = AuditQuery {
            since: Some(String::from("yesterday")),
            ..AuditQuery::default()
        };
        assert!(bad.filter().is_err());
    }
}
