//! "Waiting for me": the approvals and fulfilment tasks that wait on the visitor, each with its
//! buttons (approve, deny with a reason; done, can't do it).

use super::render::{self, page};
use super::session::Visitor;
use super::views;
use crate::WebState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{json, Value};
use sesame_app::RequestScope;
use sesame_core::Duty;

pub async fn list(State(state): State<WebState>, visitor: Visitor) -> Response {
    let app = &state.app;
    let who = &visitor.principal;
    let visitor = &visitor;
    let requests = match app
        .list_requests(who, RequestScope::WaitingOnMe, Vec::new(), None, 200)
        .await
    {
        Ok(r) => r,
        Err(e) => return render::app_error_page(e, Some((app, visitor))),
    };
    let directory = app.directory();
    let (mut approvals, mut tasks): (Vec<Value>, Vec<Value>) = (Vec::new(), Vec::new());
    for request in &requests {
        let mut row = views::summary(&directory, request);
        row["justification"] = json!(request.justification);
        match app.duty_of(who, request) {
            Some(Duty::Approve) => approvals.push(row),
            Some(Duty::Fulfil) => tasks.push(row),
            None => {}
        }
    }
    page(
        app,
        Some(visitor),
        StatusCode::OK,
        "waiting.html",
        json!({ "title": "Waiting for me", "nav": "waiting", "approvals": approvals, "tasks": tasks }),
    )
}
