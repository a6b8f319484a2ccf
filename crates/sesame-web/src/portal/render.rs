//! Templates (minijinja, escaping HTML by default for every `.html` template), the page frame every
//! page shares, and the pages for errors. Templates are compiled into the binary.

use super::session::Visitor;
use crate::ApiError;
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use minijinja::Environment;
use serde_json::{json, Value};
use sesame_app::{App, AppError};
use std::sync::OnceLock;

const TEMPLATES: [(&str, &str); 17] = [
    ("base.html", include_str!("../../templates/base.html")),
    ("macros.html", include_str!("../../templates/macros.html")),
    ("message.html", include_str!("../../templates/message.html")),
    ("catalog.html", include_str!("../../templates/catalog.html")),
    (
        "request_form.html",
        include_str!("../../templates/request_form.html"),
    ),
    (
        "requests.html",
        include_str!("../../templates/requests.html"),
    ),
    ("request.html", include_str!("../../templates/request.html")),
    ("waiting.html", include_str!("../../templates/waiting.html")),
    ("admin.html", include_str!("../../templates/admin.html")),
    (
        "admin_flows.html",
        include_str!("../../templates/admin_flows.html"),
    ),
    (
        "admin_audit.html",
        include_str!("../../templates/admin_audit.html"),
    ),
    (
        "admin_outbox.html",
        include_str!("../../templates/admin_outbox.html"),
    ),
    (
        "admin_directory.html",
        include_str!("../../templates/admin_directory.html"),
    ),
    (
        "admin_identities.html",
        include_str!("../../templates/admin_identities.html"),
    ),
    ("link.html", include_str!("../../templates/link.html")),
    ("login.html", include_str!("../../templates/login.html")),
    (
        "signed_out.html",
        include_str!("../../templates/signed_out.html"),
    ),
];

const STYLESHEET: &str = include_str!("../../static/portal.css");

fn environment() -> &'static Result<Environment<'static>, String> {
    static ENVIRONMENT: OnceLock<Result<Environment<'static>, String>> = OnceLock::new();
    ENVIRONMENT.get_or_init(|| {
        let mut env = Environment::new();
        // The default already escapes `.html` templates; spelled out because it is the portal's
        // defence against user text (comments, answers, names) becoming markup.
        env.set_auto_escape_callback(|name| {
            if name.ends_with(".html") {
                minijinja::AutoEscape::Html
            } else {
                minijinja::AutoEscape::None
            }
        });
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Chainable);
        for (name, source) in TEMPLATES {
            env.add_template(name, source)
                .map_err(|e| format!("{name}: {e}"))?;
        }
        Ok(env)
    })
}

/// Compiles every template (once per process) and reports the first that does not compile.
pub fn check_templates() -> Result<(), String> {
    environment().as_ref().map(|_| ()).map_err(Clone::clone)
}

/// Renders `template` inside the page frame. `context` is the page's own data (a JSON object).
pub fn page(
    app: &App,
    visitor: Option<&Visitor>,
    status: StatusCode,
    template: &str,
    context: Value,
) -> Response {
    let mut context = match context {
        Value::Object(map) => map,
        _ => serde_json::Map::new(),
    };
    if let Some(v) = visitor {
        let directory = app.directory();
        context.insert(
            String::from("me"),
            json!({
                "id": v.principal.user,
                "name": directory.display_name(&v.principal.user),
                "admin": v.principal.admin,
                "auditor": v.principal.auditor,
            }),
        );
        context.insert(String::from("csrf"), json!(v.csrf));
    }
    render(status, template, Value::Object(context))
}

fn render(status: StatusCode, template: &str, context: Value) -> Response {
    let rendered = environment()
        .as_ref()
        .map_err(Clone::clone)
        .and_then(|env| {
            env.get_template(template)
                .and_then(|t| t.render(&context))
                .map_err(|e| format!("{e:#}"))
        });
    match rendered {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(template, error = %e, "a portal page failed to render");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                "The page could not be shown. The error was logged.",
            )
                .into_response()
        }
    }
}

/// A page with a heading and a sentence, for refusals and errors.
pub fn message_page(status: StatusCode, title: &str, message: &str) -> Response {
    render(
        status,
        "message.html",
        json!({ "title": title, "message": message, "status": status.as_u16() }),
    )
}

/// A failed use case as a page, with the status code the REST API gives the same failure.
pub fn app_error_page(error: AppError, app: Option<(&App, &Visitor)>) -> Response {
    let message = match &error {
        AppError::Storage(_) => String::from("Sesame could not complete this; try again shortly."),
        other => other.to_string(),
    };
    let status = ApiError::from(error).status();
    let title = match status {
        StatusCode::NOT_FOUND => "Not found",
        StatusCode::FORBIDDEN => "Not allowed",
        StatusCode::CONFLICT => "This cannot be done now",
        StatusCode::UNPROCESSABLE_ENTITY => "Please check what you entered",
        StatusCode::UNAUTHORIZED => "Please sign in",
        _ => "Something went wrong",
    };
    let context = json!({ "title": title, "message": message, "status": status.as_u16() });
    match app {
        Some((app, visitor)) => page(app, Some(visitor), status, "message.html", context),
        None => render(status, "message.html", context),
    }
}

pub async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        STYLESHEET,
    )
        .into_response()
}
