//! What the OpenAPI document says beyond what the types show: the values a string field can take
//! (from the same lists the server uses, so the document cannot drift from it), and the error
//! statuses every operation can answer with, added to each operation in one place.

use utoipa::openapi::path::{Operation, ParameterStyle};
use utoipa::openapi::schema::{Array, ArrayBuilder, Object, ObjectBuilder, SchemaType, Type};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Response, ResponseBuilder};

/// A step's status as `status` shows it.
pub const STEP_STATUSES: [&str; 6] = [
    "waiting", "pending", "approved", "denied", "skipped", "closed",
];

/// A flow's justification rule.
pub const JUSTIFICATION_RULES: [&str; 3] = ["required", "optional", "none"];

/// What a caller may be asked to do about a request.
pub const DUTIES: [&str; 2] = ["approve", "fulfil"];

/// A string that is one of `names`.
fn one_of(names: &[&str]) -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(names.iter().copied()))
        .build()
}

/// A string that is one of `names`, or null.
fn one_of_or_null(names: &[&str]) -> Object {
    let values = names
        .iter()
        .map(|n| serde_json::Value::from(*n))
        .chain([serde_json::Value::Null]);
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
        .enum_values(Some(values))
        .build()
}

pub fn request_state() -> Object {
    one_of(&sesame_core::State::NAMES)
}

/// A list of one or more request states (in a query string: comma-separated).
pub fn request_states() -> Array {
    ArrayBuilder::new()
        .items(request_state())
        .min_items(Some(1))
        .build()
}

pub fn step_status() -> Object {
    one_of(&STEP_STATUSES)
}

pub fn question_type() -> Object {
    one_of(&sesame_core::flow::QuestionKind::TYPE_NAMES)
}

pub fn justification_rule() -> Object {
    one_of(&JUSTIFICATION_RULES)
}

pub fn duty() -> Object {
    one_of_or_null(&DUTIES)
}

pub fn job_status() -> Object {
    one_of(&["pending", "dead"])
}

pub fn callback_status() -> Object {
    one_of(&["done", "failed"])
}

fn error(description: &str) -> RefOr<Response> {
    RefOr::T(
        ResponseBuilder::new()
            .description(description)
            .content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("ErrorBody")))
                    .build(),
            )
            .build(),
    )
}

/// Adds the statuses every operation of its kind can answer with, where the operation does not
/// say more itself: 400 for a path or query string that cannot be read (or holds U+0000), 401
/// without a valid token, 413/415/422 where a body is read, 503 when the database fails.
pub struct CommonResponses;

/// Query parameters that hold a comma-separated list (`state=approved,active`), as the server
/// reads them, rather than OpenAPI's default of one parameter per item.
const COMMA_SEPARATED: [(&str, &str); 1] = [("/api/v1/requests", "state")];

impl utoipa::Modify for CommonResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for (path, name) in COMMA_SEPARATED {
            let parameters = openapi
                .paths
                .paths
                .get_mut(path)
                .and_then(|item| item.get.as_mut())
                .and_then(|operation| operation.parameters.as_mut());
            for parameter in parameters.into_iter().flatten() {
                if parameter.name == name {
                    parameter.style = Some(ParameterStyle::Form);
                    parameter.explode = Some(false);
                }
            }
        }
        for item in openapi.paths.paths.values_mut() {
            for operation in [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ]
            .into_iter()
            .flatten()
            {
                add_common(operation);
            }
        }
    }
}

fn add_common(operation: &mut Operation) {
    // An operation with its own `security` (the signed connector callback) takes no token.
    let takes_token = operation.security.is_none();
    let reads_body = operation.request_body.is_some();
    let mut statuses = vec![(
        "400",
        "The body, path or query string cannot be read, or holds U+0000",
    )];
    if takes_token {
        statuses.push(("401", "No token, or an unknown, expired or revoked one"));
    }
    if reads_body {
        statuses.push(("413", "The body is over 64 KiB"));
        statuses.push(("415", "The body is not sent as JSON"));
        statuses.push((
            "422",
            "Unknown fields, wrong types or values the rules refuse",
        ));
    }
    statuses.push(("503", "The database failed; nothing was stored; retry"));
    for (status, description) in statuses {
        operation
            .responses
            .responses
            .entry(status.to_owned())
            .or_insert_with(|| error(description));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enum_of(schema: Object) -> Vec<serde_json::Value> {
        schema.enum_values.unwrap_or_default()
    }

    #[test]
    fn listed_values_are_the_servers_own() {
        assert_eq!(
            enum_of(request_state()),
            sesame_core::State::NAMES.map(serde_json::Value::from)
        );
        assert!(enum_of(duty()).contains(&serde_json::Value::Null));
        for duty in [sesame_core::Duty::Approve, sesame_core::Duty::Fulfil] {
            assert!(DUTIES.contains(&duty.name()));
        }
    }
}
