//! The catalog (the flows the person may request, grouped by category, and searched with the
//! matcher) and the request form built from a flow's questions.

use super::form::{self, Entered, ON_BEHALF_FIELD};
use super::render::{self, page};
use super::session::{PortalForm, Visitor};
use crate::WebState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::{json, Value};
use sesame_app::sessions::random_secret;
use sesame_app::AppError;
use sesame_core::{DomainError, FieldError, Flow};
use std::collections::BTreeMap;

pub async fn home() -> Response {
    Redirect::to("/catalog").into_response()
}

#[derive(Deserialize)]
pub struct CatalogQuery {
    q: Option<String>,
}

/// The longest search that is matched; longer ones are cut (a search box is not an essay).
const SEARCH_CHARS: usize = 500;

fn card(flow: &Flow) -> Value {
    json!({
        "id": flow.id,
        "name": flow.name,
        "description": flow.description,
        "category": category_of(flow),
    })
}

fn category_of(flow: &Flow) -> String {
    if flow.category.trim().is_empty() {
        String::from("Other")
    } else {
        flow.category.clone()
    }
}

/// Without a search, every flow the person may request, by category. With one, the flows the
/// matcher finds for it (the same as in chat: typos, abbreviations, other languages, the model
/// when one is configured), best first, with the matcher's reason and its proposal marked.
pub async fn catalog(
    State(state): State<WebState>,
    visitor: Visitor,
    Query(q): Query<CatalogQuery>,
) -> Response {
    let search: String = q.q.unwrap_or_default().chars().take(SEARCH_CHARS).collect();
    let search = search.trim().to_owned();
    if !search.is_empty() {
        let offer = state.app.match_offer(&visitor.principal, &search).await;
        let results: Vec<Value> = offer
            .matches()
            .iter()
            .map(|flow| {
                let mut card = card(flow);
                card["proposed"] = json!(offer.proposal.as_ref() == Some(&flow.id));
                card
            })
            .collect();
        return page(
            &state.app,
            Some(&visitor),
            StatusCode::OK,
            "catalog.html",
            json!({
                "title": "Request access",
                "nav": "catalog",
                "q": search,
                "results": results,
                "why": offer.why,
                "searched": true,
            }),
        );
    }
    let mut groups: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for flow in state.app.requestable_flows(&visitor.principal) {
        groups
            .entry(category_of(&flow))
            .or_default()
            .push(card(&flow));
    }
    let groups: Vec<Value> = groups
        .into_iter()
        .map(|(category, flows)| json!({ "category": category, "flows": flows }))
        .collect();
    page(
        &state.app,
        Some(&visitor),
        StatusCode::OK,
        "catalog.html",
        json!({ "title": "Request access", "nav": "catalog", "q": search, "groups": groups }),
    )
}

fn requestable(state: &WebState, visitor: &Visitor, id: &str) -> Result<Flow, Box<Response>> {
    state
        .app
        .requestable_flows(&visitor.principal)
        .into_iter()
        .find(|f| f.id.as_str() == id)
        .ok_or_else(|| {
            Box::new(render::app_error_page(
                AppError::NotFound(format!("there is no flow `{id}` that you may request")),
                Some((&state.app, visitor)),
            ))
        })
}

fn form_page(
    state: &WebState,
    visitor: &Visitor,
    flow: &Flow,
    entered: &Entered,
    errors: &[FieldError],
    status: StatusCode,
) -> Response {
    let directory = state.app.directory();
    // Suggestions for "someone else" and person questions; a datalist needs no script.
    let people: Vec<Value> = directory
        .users()
        .filter(|u| u.active)
        .take(500)
        .map(|u| json!({ "email": u.email, "name": u.display_name }))
        .collect();
    page(
        &state.app,
        Some(visitor),
        status,
        "request_form.html",
        json!({
            "title": format!("Request {}", flow.name),
            "nav": "catalog",
            "flow": { "id": flow.id, "name": flow.name, "description": flow.description },
            "fields": form::fields(flow, entered, errors),
            "people": people,
            "form_key": random_secret(),
            "has_errors": !errors.is_empty(),
        }),
    )
}

pub async fn request_form(
    State(state): State<WebState>,
    visitor: Visitor,
    Path(id): Path<String>,
) -> Response {
    match requestable(&state, &visitor, &id) {
        Ok(flow) => form_page(
            &state,
            &visitor,
            &flow,
            &Entered::new(),
            &[],
            StatusCode::OK,
        ),
        Err(refusal) => *refusal,
    }
}

pub async fn submit(
    State(state): State<WebState>,
    visitor: Visitor,
    Path(id): Path<String>,
    form: PortalForm,
) -> Response {
    if let Some(refusal) = visitor.refuse_without_csrf(&form) {
        return refusal;
    }
    let flow = match requestable(&state, &visitor, &id) {
        Ok(flow) => flow,
        Err(refusal) => return *refusal,
    };
    let (raw, entered) = form::submission(&flow, &form);
    let on_behalf_of = form.text(ON_BEHALF_FIELD);
    // The form key makes a double-clicked or resent form return the first request.
    let client_key = form
        .text("form_key")
        .filter(|k| k.len() <= 100)
        .map(|k| format!("portal:{}:{k}", visitor.principal.user));
    let result = state
        .app
        .submit(
            &visitor.principal,
            flow.id.as_str(),
            on_behalf_of.as_deref(),
            raw,
            client_key.as_deref(),
        )
        .await;
    let refuse = |errors: Vec<FieldError>, status| {
        form_page(&state, &visitor, &flow, &entered, &errors, status)
    };
    match result {
        Ok(request) => Redirect::to(&format!("/requests/{}", request.number.0)).into_response(),
        Err(AppError::Domain(DomainError::InvalidSubmission(errors))) => {
            refuse(errors, StatusCode::UNPROCESSABLE_ENTITY)
        }
        Err(AppError::Invalid(message)) if on_behalf_of.is_some() => refuse(
            vec![FieldError {
                field: ON_BEHALF_FIELD.to_owned(),
                message,
            }],
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(AppError::Domain(DomainError::NotAllowed(message))) => refuse(
            vec![FieldError {
                field: String::new(),
                message,
            }],
            StatusCode::FORBIDDEN,
        ),
        Err(e) => render::app_error_page(e, Some((&state.app, &visitor))),
    }
}
