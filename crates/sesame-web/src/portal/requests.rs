//! "My requests", the request page (`/requests/{number}`, the page Slack messages link to) and
//! the actions on it. Requests the visitor may not see are "not found", as in the API.

use super::listing::{self, ListFilters};
use super::render::{self, page};
use super::session::{PortalForm, Visitor};
use super::views;
use crate::WebState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::json;
use sesame_app::{AppError, RequestScope};
use sesame_core::engine::Command;
use sesame_core::RequestNumber;

#[derive(Deserialize)]
pub struct ListQuery {
    scope: Option<String>,
    #[serde(flatten)]
    filters: ListFilters,
}

pub async fn list(
    State(state): State<WebState>,
    visitor: Visitor,
    Query(q): Query<ListQuery>,
) -> Response {
    let who = &visitor.principal;
    let (scope, heading) = match q.scope.as_deref() {
        Some("all") if who.admin || who.auditor => (RequestScope::All, "All requests"),
        Some("all") => (RequestScope::All, "Requests I take part in"),
        _ => (RequestScope::Mine, "My requests"),
    };
    let scope_name = if scope == RequestScope::All {
        "all"
    } else {
        "mine"
    };
    let (rows, pager, problem) = match q.filters.query(&state.app, false) {
        Ok(query) => {
            let offset = query.offset;
            match state.app.page_requests(who, scope, query).await {
                Ok(found) => {
                    let directory = state.app.directory();
                    let rows: Vec<_> = found
                        .requests
                        .iter()
                        .map(|r| views::summary(&directory, r))
                        .collect();
                    let base = format!(
                        "/requests?{}",
                        q.filters.query_string(&[("scope", scope_name)])
                    );
                    let pager = listing::pager(&base, "page", offset, rows.len(), found.total);
                    (rows, pager, None)
                }
                Err(e) => return render::app_error_page(e, Some((&state.app, &visitor))),
            }
        }
        Err(problem) => (Vec::new(), serde_json::Value::Null, Some(problem)),
    };
    let flows: Vec<_> = state
        .app
        .catalog()
        .flows()
        .map(|f| json!({ "value": f.id, "label": f.name }))
        .collect();
    page(
        &state.app,
        Some(&visitor),
        if problem.is_some() {
            StatusCode::UNPROCESSABLE_ENTITY
        } else {
            StatusCode::OK
        },
        "requests.html",
        json!({
            "title": heading,
            "nav": "requests",
            "scope": scope_name,
            "requests": rows,
            "pager": pager,
            "problem": problem,
            "f": q.filters.echo(),
            "states": listing::state_choices(),
            "flows": flows,
        }),
    )
}

/// Request numbers are positive and fit the store's integer; anything else is simply not found.
fn number(text: &str) -> Option<RequestNumber> {
    text.parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .map(RequestNumber)
}

fn not_found(state: &WebState, visitor: &Visitor, text: &str) -> Response {
    render::app_error_page(
        AppError::NotFound(format!("request {text} was not found")),
        Some((&state.app, visitor)),
    )
}

pub async fn show(
    State(state): State<WebState>,
    visitor: Visitor,
    Path(text): Path<String>,
) -> Response {
    let Some(number) = number(&text) else {
        return not_found(&state, &visitor, &text);
    };
    show_request(&state, &visitor, number, StatusCode::OK, None).await
}

async fn show_request(
    state: &WebState,
    visitor: &Visitor,
    number: RequestNumber,
    status: StatusCode,
    problem: Option<String>,
) -> Response {
    let app = &state.app;
    let who = &visitor.principal;
    let loaded = async {
        let request = app.request_for(who, number).await?;
        let comments = app.comments(who, number).await?;
        let audit = app.request_audit(who, number).await?;
        Ok::<_, AppError>((request, comments, audit))
    }
    .await;
    match loaded {
        Ok((request, comments, audit)) => page(
            app,
            Some(visitor),
            status,
            "request.html",
            json!({
                "title": request.title(),
                "nav": "requests",
                "request": views::detail(app, who, &request, &comments, &audit),
                "problem": problem,
            }),
        ),
        Err(e) => render::app_error_page(e, Some((app, visitor))),
    }
}

/// The command a button stands for; reasons and notes come from the form.
fn command(action: &str, form: &PortalForm) -> Option<Command> {
    Some(match action {
        "approve" => Command::Approve {
            step: None,
            comment: form.text("comment"),
        },
        "deny" => Command::Deny {
            step: None,
            reason: form.text("reason").unwrap_or_default(),
        },
        "cancel" => Command::Cancel {
            reason: form.text("reason"),
        },
        "complete" => Command::CompleteFulfilment {
            note: form.text("note"),
        },
        "fail" => Command::FailFulfilment {
            reason: form.text("reason").unwrap_or_default(),
        },
        "relinquish" | "revoke" => Command::Revoke {
            reason: form.text("reason"),
        },
        _ => return None,
    })
}

/// `POST /requests/{number}/{action}`: approve, deny, cancel, complete, fail, relinquish, revoke.
pub async fn act(
    State(state): State<WebState>,
    visitor: Visitor,
    Path((text, action)): Path<(String, String)>,
    form: PortalForm,
) -> Response {
    if let Some(refusal) = visitor.refuse_without_csrf(&form) {
        return refusal;
    }
    if action == "extend" {
        return extend(&state, &visitor, &text, &form).await;
    }
    let (Some(number), Some(command)) = (number(&text), command(&action, &form)) else {
        return not_found(&state, &visitor, &text);
    };
    match state.app.act(&visitor.principal, number, command).await {
        Ok(_) => after_action(&form, number),
        Err(e @ (AppError::NotFound(_) | AppError::Storage(_))) => {
            render::app_error_page(e, Some((&state.app, &visitor)))
        }
        // A refusal (not allowed, no longer possible, a reason missing) is shown on the request
        // page, with the status the API gives it.
        Err(e) => {
            let message = e.to_string();
            let status = crate::ApiError::from(e).status();
            show_request(&state, &visitor, number, status, Some(message)).await
        }
    }
}

/// Asks for more time on active access: a new request through the flow's approvals, shown next.
async fn extend(state: &WebState, visitor: &Visitor, text: &str, form: &PortalForm) -> Response {
    let Some(number) = number(text) else {
        return not_found(state, visitor, text);
    };
    match state
        .app
        .extend(
            &visitor.principal,
            number,
            form.text("duration"),
            form.text("reason"),
        )
        .await
    {
        Ok(extension) => Redirect::to(&format!("/requests/{}", extension.number.0)).into_response(),
        Err(e @ (AppError::NotFound(_) | AppError::Storage(_))) => {
            render::app_error_page(e, Some((&state.app, visitor)))
        }
        Err(e) => {
            let message = e.to_string();
            let status = crate::ApiError::from(e).status();
            show_request(state, visitor, number, status, Some(message)).await
        }
    }
}

/// Back to where the button was: the request page, or the "waiting for me" list.
fn after_action(form: &PortalForm, number: RequestNumber) -> Response {
    let to = match form.get("back") {
        Some("waiting") => String::from("/waiting"),
        _ => format!("/requests/{}", number.0),
    };
    Redirect::to(&to).into_response()
}

pub async fn comment(
    State(state): State<WebState>,
    visitor: Visitor,
    Path(text): Path<String>,
    form: PortalForm,
) -> Response {
    if let Some(refusal) = visitor.refuse_without_csrf(&form) {
        return refusal;
    }
    let Some(number) = number(&text) else {
        return not_found(&state, &visitor, &text);
    };
    let body = form.get("text").unwrap_or_default();
    match state
        .app
        .comment(&visitor.principal, number, body, "portal")
        .await
    {
        Ok(_) => Redirect::to(&format!("/requests/{}#comments", number.0)).into_response(),
        Err(e @ (AppError::NotFound(_) | AppError::Storage(_))) => {
            render::app_error_page(e, Some((&state.app, &visitor)))
        }
        Err(e) => {
            let message = e.to_string();
            let status = crate::ApiError::from(e).status();
            show_request(&state, &visitor, number, status, Some(message)).await
        }
    }
}
