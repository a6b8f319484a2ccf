//! `/link/{token}`: a person confirms that a chat account is theirs. The offer comes from the chat
//! side (`App::offer_chat_link`); confirming links it through `App::link_chat_account` (audited)
//! and uses the offer up.

use super::render::{self, page};
use super::session::{PortalForm, Visitor};
use crate::WebState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::json;
use sesame_app::chat_links::LinkOfferStatus;
use sesame_app::AppError;

fn platform_name(platform: &str) -> &'static str {
    match platform {
        "slack" => "Slack",
        "teams" => "Microsoft Teams",
        _ => "chat",
    }
}

pub async fn page_for(state: &WebState, visitor: &Visitor, token: &str) -> Response {
    let app = &state.app;
    let status =
        match app.chat_link_offer(token).await {
            Ok(s) => s,
            Err(AppError::NotFound(_)) => return render::message_page(
                StatusCode::NOT_FOUND,
                "This link is not known",
                "Check that you opened the whole link from the chat message, or ask for a new one.",
            ),
            Err(e) => return render::app_error_page(e, Some((app, visitor))),
        };
    let directory = app.directory();
    let me = directory.user(&visitor.principal.user);
    let context = match status {
        LinkOfferStatus::Open { platform, account } => json!({
            "open": true,
            "platform": platform_name(&platform),
            "account": account,
            "token": token,
            "person": me.map(|u| json!({ "name": u.display_name, "email": u.email })),
        }),
        LinkOfferStatus::Used { .. } => json!({ "used": true }),
        LinkOfferStatus::Expired => json!({ "expired": true }),
    };
    let status_code = if context["open"] == json!(true) {
        StatusCode::OK
    } else {
        StatusCode::GONE
    };
    let mut context = context;
    context["title"] = json!("Link your chat account");
    page(app, Some(visitor), status_code, "link.html", context)
}

pub async fn page_route(
    State(state): State<WebState>,
    visitor: Visitor,
    Path(token): Path<String>,
) -> Response {
    page_for(&state, &visitor, &token).await
}

pub async fn confirm(
    State(state): State<WebState>,
    visitor: Visitor,
    Path(token): Path<String>,
    form: PortalForm,
) -> Response {
    if let Some(refusal) = visitor.refuse_without_csrf(&form) {
        return refusal;
    }
    let app = &state.app;
    match app.confirm_chat_link(&visitor.principal, &token).await {
        Ok((platform, account)) => page(
            app,
            Some(&visitor),
            StatusCode::OK,
            "link.html",
            json!({
                "title": "Chat account linked",
                "done": true,
                "platform": platform_name(&platform),
                "account": account,
            }),
        ),
        Err(AppError::NotFound(_)) => page_for(&state, &visitor, &token).await,
        Err(e) => render::app_error_page(e, Some((app, &visitor))),
    }
}
