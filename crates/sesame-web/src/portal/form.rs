//! The request form: a flow's questions as form fields, and a posted form back into the
//! submission the engine checks (the same checks as Slack and the API). Fields are named
//! `q.<question id>`; a multi-select sends one pair per choice.

use super::session::PortalForm;
use serde_json::{json, Value};
use sesame_core::answers::from_form;
use sesame_core::flow::{Flow, Justification, QuestionKind};
use sesame_core::{FieldError, RawSubmission};
use std::collections::BTreeMap;

pub const ON_BEHALF_FIELD: &str = "on_behalf_of";

fn field_name(id: &str) -> String {
    format!("q.{id}")
}

/// What the person entered, by field, to show the form again with their answers kept.
pub type Entered = BTreeMap<String, Vec<String>>;

/// The submission a posted form stands for, and what was entered.
pub fn submission(flow: &Flow, form: &PortalForm) -> (RawSubmission, Entered) {
    let mut entered = Entered::new();
    let mut answers = BTreeMap::new();
    for question in &flow.questions {
        let id = question.id.as_str();
        let values: Vec<String> = form
            .all(&field_name(id))
            .into_iter()
            .map(str::to_owned)
            .collect();
        let answer = match &question.kind {
            QuestionKind::MultiSelect { .. } => {
                let chosen: Vec<Value> = values
                    .iter()
                    .filter(|v| !v.trim().is_empty())
                    .map(|v| json!(v))
                    .collect();
                (!chosen.is_empty()).then_some(Value::Array(chosen))
            }
            // Inputs arrive as text ("12", "yes"); the question's type decides the JSON type.
            kind => values
                .first()
                .filter(|v| !v.trim().is_empty())
                .map(|v| from_form(kind, v.clone())),
        };
        if let Some(answer) = answer {
            answers.insert(id.to_owned(), answer);
        }
        entered.insert(id.to_owned(), values);
    }
    for field in ["justification", "duration", ON_BEHALF_FIELD] {
        if let Some(v) = form.get(field) {
            entered.insert(field.to_owned(), vec![v.to_owned()]);
        }
    }
    let raw = RawSubmission {
        answers,
        justification: form.text("justification"),
        duration: form.text("duration"),
    };
    (raw, entered)
}

/// The form's fields with what was entered and the errors next to them.
pub fn fields(flow: &Flow, entered: &Entered, errors: &[FieldError]) -> Value {
    let error_for = |field: &str| {
        errors
            .iter()
            .filter(|e| e.field == field)
            .map(|e| e.message.clone())
            .collect::<Vec<_>>()
            .join("; ")
    };
    let first = |field: &str| {
        entered
            .get(field)
            .and_then(|v| v.first())
            .cloned()
            .unwrap_or_default()
    };
    let questions: Vec<Value> = flow
        .questions
        .iter()
        .map(|q| {
            let id = q.id.as_str();
            let given = entered.get(id).cloned().unwrap_or_default();
            let options: Vec<Value> = match &q.kind {
                QuestionKind::Select { options } | QuestionKind::MultiSelect { options } => options
                    .iter()
                    .map(|o| json!({ "value": o, "selected": given.contains(o) }))
                    .collect(),
                _ => Vec::new(),
            };
            let (min, max, max_length) = match &q.kind {
                QuestionKind::Text { max_length } | QuestionKind::Textarea { max_length } => {
                    (None, None, Some(*max_length))
                }
                QuestionKind::Number { min, max, .. } => (*min, max.map(|m| json!(m)), None),
                QuestionKind::Duration { max } => (None, max.map(|m| json!(m.to_string())), None),
                _ => (None, None, None),
            };
            let shown_if: Vec<String> = q
                .shown_if
                .iter()
                .map(|(other, values)| {
                    let label = flow
                        .question(other.as_str())
                        .map(|o| o.label.clone())
                        .unwrap_or_else(|| other.to_string());
                    let values: Vec<String> = values
                        .iter()
                        .map(|v| {
                            v.as_str()
                                .map(str::to_owned)
                                .unwrap_or_else(|| v.to_string())
                        })
                        .collect();
                    format!("“{label}” is {}", values.join(" or "))
                })
                .collect();
            json!({
                "id": id,
                "name": field_name(id),
                "label": q.label,
                "help": q.help,
                "type": q.kind.type_name(),
                "required": q.required,
                "options": options,
                "value": given.first().cloned().unwrap_or_default(),
                "min": min,
                "max": max,
                "max_length": max_length,
                "shown_if": (!shown_if.is_empty()).then(|| shown_if.join(" and ")),
                "error": error_for(id),
            })
        })
        .collect();
    let duration = flow.duration.map(|d| {
        json!({
            "default": d.default.to_string(),
            "max": d.max.to_string(),
            "choose": d.requester_chooses,
            "value": first("duration"),
            "error": error_for("duration"),
        })
    });
    json!({
        "questions": questions,
        "justification": match flow.justification {
            Justification::Required => Some("required"),
            Justification::Optional => Some("optional"),
            Justification::None => None,
        },
        "justification_value": first("justification"),
        "justification_error": error_for("justification"),
        "duration": duration,
        "for_others": flow.allow_requests_for_others,
        "on_behalf_of": first(ON_BEHALF_FIELD),
        "on_behalf_error": error_for(ON_BEHALF_FIELD),
        "general_errors": errors.iter()
            .filter(|e| e.field.is_empty() || (flow.question(&e.field).is_none()
                && e.field != "justification" && e.field != "duration"
                && (e.field != ON_BEHALF_FIELD || !flow.allow_requests_for_others)))
            .map(|e| e.message.clone())
            .collect::<Vec<_>>(),
    })
}
