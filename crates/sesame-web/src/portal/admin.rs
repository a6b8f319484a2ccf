//! The administration pages: the flows as code with `explain`'s dry run, undelivered messages with
//! retry, the directory, and chat identities. Administrators and auditors read them; only
//! administrators act (retry). The audit log is in `audit`.

use super::render::{self, page};
use super::session::{PortalForm, Visitor};
use super::views;
use crate::WebState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::{json, Value};
use sesame_app::{AppError, JobStatus};
use sesame_core::identities::{check_identities, ChatAccount};
use sesame_core::{Directory, User};

pub use super::audit::{audit, audit_csv, audit_json};

/// Administrators and auditors may read the administration pages; everyone else gets this
/// refusal.
pub fn refuse_unless_reader(state: &WebState, visitor: &Visitor) -> Option<Response> {
    if visitor.principal.admin || visitor.principal.auditor {
        None
    } else {
        Some(render::app_error_page(
            AppError::Forbidden(String::from(
                "only administrators and auditors may see the administration pages",
            )),
            Some((&state.app, visitor)),
        ))
    }
}

pub async fn index(State(state): State<WebState>, visitor: Visitor) -> Response {
    if let Some(refusal) = refuse_unless_reader(&state, &visitor) {
        return refusal;
    }
    page(
        &state.app,
        Some(&visitor),
        StatusCode::OK,
        "admin.html",
        json!({ "title": "Administration", "nav": "admin" }),
    )
}

#[derive(Deserialize)]
pub struct FlowsQuery {
    /// Whom to explain the flows for (an id or email); the visitor by default.
    person: Option<String>,
}

pub async fn flows(
    State(state): State<WebState>,
    visitor: Visitor,
    Query(q): Query<FlowsQuery>,
) -> Response {
    if let Some(refusal) = refuse_unless_reader(&state, &visitor) {
        return refusal;
    }
    let directory = state.app.directory();
    let asked = q.person.as_deref().map(str::trim).filter(|p| !p.is_empty());
    let person = match asked {
        Some(p) => directory.find_user(p).map(|u| u.id.clone()),
        None => Some(visitor.principal.user.clone()),
    };
    let catalog = state.app.catalog();
    let flows: Vec<Value> = catalog
        .flows()
        .map(|flow| {
            let explanation = person.as_ref().map(|p| {
                let e = sesame_core::explain::explain(flow, p, &directory);
                json!({
                    "may_request": e.may_request,
                    "why": e.why,
                    "steps": e.steps.iter().map(|s| json!({
                        "name": s.name,
                        "approvers": s.approvers.iter().map(|a| directory.display_name(a)).collect::<Vec<_>>(),
                        "required": s.required,
                        "why": s.why,
                        "skipped_when": s.skipped_when,
                        "problem": s.problem,
                        "timing": s.timing,
                    })).collect::<Vec<_>>(),
                    "fulfilment": e.fulfilment,
                    "duration": e.duration,
                    "pending_expiry": e.pending_expiry,
                    "warnings": e.warnings,
                })
            });
            json!({
                "id": flow.id,
                "name": flow.name,
                "category": flow.category,
                "description": flow.description,
                "requesters": serde_json::to_string(&flow.requesters).unwrap_or_default(),
                "questions": flow.questions.len(),
                "explanation": explanation,
            })
        })
        .collect();
    page(
        &state.app,
        Some(&visitor),
        StatusCode::OK,
        "admin_flows.html",
        json!({
            "title": "Flows",
            "nav": "admin",
            "person": asked.unwrap_or(visitor.principal.user.as_str()),
            "person_name": person.as_ref().map(|p| directory.display_name(p)),
            "unknown_person": person.is_none(),
            "flows": flows,
        }),
    )
}

pub async fn outbox(State(state): State<WebState>, visitor: Visitor) -> Response {
    if !visitor.principal.admin {
        return render::app_error_page(
            AppError::Forbidden(String::from("only administrators may read the outbox")),
            Some((&state.app, &visitor)),
        );
    }
    let jobs = match state.app.outbox(JobStatus::Dead, 500).await {
        Ok(jobs) => jobs,
        Err(e) => return render::app_error_page(e, Some((&state.app, &visitor))),
    };
    let rows: Vec<Value> = jobs
        .iter()
        .map(|j| {
            // The payload as JSON, whatever its kind.
            let what = serde_json::to_string(&j.payload).unwrap_or_default();
            json!({
                "id": j.id.0,
                "request": j.request.map(|r| r.0),
                "what": what,
                "attempts": j.attempts,
                "error": j.last_error,
                "created": views::time(j.created_at),
            })
        })
        .collect();
    page(
        &state.app,
        Some(&visitor),
        StatusCode::OK,
        "admin_outbox.html",
        json!({ "title": "Undelivered messages", "nav": "admin", "jobs": rows }),
    )
}

pub async fn retry(
    State(state): State<WebState>,
    visitor: Visitor,
    Path(id): Path<String>,
    form: PortalForm,
) -> Response {
    if let Some(refusal) = visitor.refuse_without_csrf(&form) {
        return refusal;
    }
    let Ok(id) = id.parse::<i64>() else {
        return render::message_page(
            StatusCode::NOT_FOUND,
            "Not found",
            "There is no such message.",
        );
    };
    match state.app.requeue_job(&visitor.principal, id).await {
        Ok(true) => Redirect::to("/admin/outbox").into_response(),
        Ok(false) => render::app_error_page(
            AppError::NotFound(format!("there is no undelivered message {id}")),
            Some((&state.app, &visitor)),
        ),
        Err(e) => render::app_error_page(e, Some((&state.app, &visitor))),
    }
}

pub async fn directory(State(state): State<WebState>, visitor: Visitor) -> Response {
    if let Some(refusal) = refuse_unless_reader(&state, &visitor) {
        return refusal;
    }
    let directory = state.app.directory();
    let users: Vec<Value> = directory
        .users()
        .map(|u| {
            json!({
                "id": u.id,
                "name": u.display_name,
                "email": u.email,
                "manager": u.manager.as_ref().map(|m| directory.display_name(m)),
                "groups": u.groups.iter().map(ToString::to_string).collect::<Vec<_>>().join(", "),
                "slack": u.chat.slack,
                "teams": u.chat.teams,
                "active": u.active,
            })
        })
        .collect();
    let groups: Vec<Value> = directory
        .groups()
        .map(|g| {
            json!({
                "id": g.id,
                "name": g.name,
                "description": g.description,
                "members": directory.members(&g.id).iter()
                    .map(|m| directory.display_name(m)).collect::<Vec<_>>().join(", "),
            })
        })
        .collect();
    page(
        &state.app,
        Some(&visitor),
        StatusCode::OK,
        "admin_directory.html",
        json!({ "title": "Directory", "nav": "admin", "users": users, "groups": groups }),
    )
}

/// The accounts the directory itself links, as if the platform listed exactly those: enough for
/// `check_identities` to find people without an account and accounts linked to several people
/// without asking the platform.
fn linked_accounts(
    directory: &Directory,
    link: impl Fn(&User) -> Option<&str>,
) -> Vec<ChatAccount> {
    let mut accounts: Vec<ChatAccount> = Vec::new();
    for user in directory.users().filter(|u| u.active) {
        if let Some(id) = link(user) {
            if !accounts.iter().any(|a| a.id == id) {
                accounts.push(ChatAccount {
                    id: id.to_owned(),
                    email: Some(user.email.clone()),
                    active_person: true,
                });
            }
        }
    }
    accounts
}

pub async fn identities(State(state): State<WebState>, visitor: Visitor) -> Response {
    if let Some(refusal) = refuse_unless_reader(&state, &visitor) {
        return refusal;
    }
    let directory = state.app.directory();
    let platform = |name: &str, link: fn(&User) -> Option<&str>| {
        let report = check_identities(&directory, &linked_accounts(&directory, link), link);
        let without: Vec<Value> = directory
            .users()
            .filter(|u| u.active && link(u).is_none())
            .map(|u| json!({ "id": u.id, "name": u.display_name, "email": u.email }))
            .collect();
        let problems: Vec<String> = report
            .problems
            .iter()
            .filter(|p| {
                !matches!(
                    p,
                    sesame_core::identities::IdentityProblem::PersonWithoutAccount { .. }
                )
            })
            .map(|p| p.describe())
            .collect();
        json!({
            "name": name,
            "linked": report.linked_explicitly,
            "without": without,
            "problems": problems,
        })
    };
    let platforms = vec![
        platform("Slack", |u| u.chat.slack.as_deref()),
        platform("Microsoft Teams", |u| u.chat.teams.as_deref()),
    ];
    page(
        &state.app,
        Some(&visitor),
        StatusCode::OK,
        "admin_identities.html",
        json!({ "title": "Chat identities", "nav": "admin", "platforms": platforms }),
    )
}
