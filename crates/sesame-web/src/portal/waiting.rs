//! "Waiting for me": the approvals and fulfilment tasks that wait on the visitor, each with its
//! buttons (approve, deny with a reason; done, can't do it). Oldest first, so that what has waited
//! longest is at the top, each list paged with its true count.

use super::listing::{self, PAGE_ROWS};
use super::render::{self, page};
use super::session::Visitor;
use super::views;
use crate::WebState;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use serde_json::{json, Value};
use sesame_app::{RequestListQuery, RequestScope};
use sesame_core::Duty;

#[derive(Deserialize, Default)]
pub struct WaitingQuery {
    approvals_page: Option<u32>,
    tasks_page: Option<u32>,
}

pub async fn list(
    State(state): State<WebState>,
    visitor: Visitor,
    Query(q): Query<WaitingQuery>,
) -> Response {
    let app = &state.app;
    let who = &visitor.principal;
    let visitor = &visitor;
    let directory = app.directory();
    let mut sections = Vec::new();
    for (duty, param, page_number, other) in [
        (
            Duty::Approve,
            "approvals_page",
            q.approvals_page,
            ("tasks_page", q.tasks_page),
        ),
        (
            Duty::Fulfil,
            "tasks_page",
            q.tasks_page,
            ("approvals_page", q.approvals_page),
        ),
    ] {
        let offset = page_number.unwrap_or(1).clamp(1, 100_000).saturating_sub(1) * PAGE_ROWS;
        let query = RequestListQuery {
            duty: Some(duty),
            oldest_first: true,
            offset,
            limit: PAGE_ROWS,
            ..RequestListQuery::default()
        };
        let found = match app
            .page_requests(who, RequestScope::WaitingOnMe, query)
            .await
        {
            Ok(found) => found,
            Err(e) => return render::app_error_page(e, Some((app, visitor))),
        };
        let rows: Vec<Value> = found
            .requests
            .iter()
            .map(|request| {
                let mut row = views::summary(&directory, request);
                row["justification"] = json!(request.justification);
                row
            })
            .collect();
        // The other list stays on its page when this one moves.
        let base = match other.1 {
            Some(n) => format!("/waiting?{}={n}", other.0),
            None => String::from("/waiting"),
        };
        let pager = listing::pager(&base, param, offset, rows.len(), found.total);
        sections.push((rows, pager));
    }
    let (tasks, tasks_pager) = sections.pop().unwrap_or_default();
    let (approvals, approvals_pager) = sections.pop().unwrap_or_default();
    page(
        app,
        Some(visitor),
        StatusCode::OK,
        "waiting.html",
        json!({
            "title": "Waiting for me",
            "nav": "waiting",
            "approvals": approvals,
            "approvals_pager": approvals_pager,
            "tasks": tasks,
            "tasks_pager": tasks_pager,
        }),
    )
}
