//! Reading a submitted (or changing) modal back: `view.state.values` into a [`RawSubmission`], the
//! answers that decide which questions show, and `check_submission`'s problems as inline errors.

use super::{
    question_block_id, ModalPlan, Prefill, ANSWER_ACTION, DURATION_ACTION, DURATION_BLOCK,
    JUSTIFICATION_ACTION, JUSTIFICATION_BLOCK, QUESTION_BLOCK_PREFIX,
};
use crate::blocks::{option, options_response, section, Modal, PrivateMetadata};
use crate::text::{truncate, Mrkdwn, PlainText};
use serde_json::{json, Map, Value};
use sesame_core::answers::{from_form, visible_answers, FieldError, RawSubmission};
use sesame_core::flow::{Flow, QuestionKind};

/// Slack documents no limit for an inline error; the input label and hint limit is a safe bound.
const MAX_ERROR_MESSAGE: usize = 2000;

/// Reads `view.state.values` into the submission `check_submission` expects. Nothing is refused
/// here: a missing or odd value becomes an absent answer or is passed through as sent, and the
/// checks shared by every surface say what is wrong with it.
///
/// A `users_select` yields a Slack user id; `slack_user_to_directory` maps it to the person's
/// directory id. A Slack user nobody linked to a directory entry is passed on as a description that
/// `check_submission` refuses ("… is not an active person in the directory"), rather than dropped,
/// which would read as "this question needs an answer".
pub fn parse_submission(
    flow: &Flow,
    state_values: &Value,
    slack_user_to_directory: impl Fn(&str) -> Option<String>,
) -> RawSubmission {
    let mut raw = RawSubmission::default();
    for question in &flow.questions {
        let state = state_values
            .get(question_block_id(&question.id))
            .and_then(|block| block.get(ANSWER_ACTION));
        let Some(value) = state.and_then(element_value) else {
            continue;
        };
        let answer = match (&question.kind, value) {
            (QuestionKind::User, Value::String(slack_id)) => {
                Value::String(slack_user_to_directory(&slack_id).unwrap_or_else(|| {
                    format!("Slack user {slack_id} (no Sesame account is linked to it)")
                }))
            }
            (QuestionKind::MultiSelect { .. }, Value::Array(items)) if items.is_empty() => continue,
            // Inputs arrive as text ("12", "true"); the question's type decides the JSON type.
            (kind, Value::String(text)) => from_form(kind, text),
            (_, other) => other,
        };
        raw.answers.insert(question.id.to_string(), answer);
    }
    let text_of = |block: &str, action: &str| {
        state_values
            .get(block)
            .and_then(|b| b.get(action))
            .and_then(element_value)
            .and_then(|v| v.as_str().map(str::to_owned))
    };
    raw.justification = text_of(JUSTIFICATION_BLOCK, JUSTIFICATION_ACTION);
    raw.duration = text_of(DURATION_BLOCK, DURATION_ACTION);
    raw
}

/// What one element holds, whatever its type: typed text, a chosen option's value, the chosen
/// options' values, a date or a user. `None` when nothing was entered.
fn element_value(state: &Value) -> Option<Value> {
    let string = |key: &str| {
        state
            .get(key)
            .and_then(Value::as_str)
            .map(|s| Value::String(s.to_owned()))
    };
    if let Some(user) = string("selected_user") {
        return Some(user);
    }
    if let Some(date) = string("selected_date") {
        return Some(date);
    }
    if let Some(chosen) = state.get("selected_option").filter(|o| !o.is_null()) {
        return chosen.get("value").cloned();
    }
    if let Some(Value::Array(chosen)) = state.get("selected_options") {
        return Some(Value::Array(
            chosen
                .iter()
                .filter_map(|o| o.get("value").cloned())
                .collect(),
        ));
    }
    state.get("value").filter(|v| !v.is_null()).cloned()
}

/// The `response_action: errors` answer to a submission `check_submission` refused. Each problem
/// goes on its field's input block; a problem with no block on the modal (a hidden question, the
/// request as a whole) goes on the first input, prefixed with what it is about. Several problems on
/// one block are joined.
pub fn errors_response(flow: &Flow, submitted: &RawSubmission, errors: &[FieldError]) -> Value {
    let plan = ModalPlan::new(flow, &Prefill::default(), &visible_answers(flow, submitted));
    let block_ids = plan.input_block_ids();
    let Some(first_block) = block_ids.first() else {
        return no_inputs_response(errors);
    };
    let mut by_block: Vec<(String, Vec<String>)> = Vec::new();
    for error in errors {
        let own_block = field_block_id(&error.field);
        let (block, message) = match own_block.filter(|b| block_ids.contains(b)) {
            Some(block) => (block, error.message.clone()),
            None if error.field.is_empty() => (first_block.clone(), error.message.clone()),
            None => (
                first_block.clone(),
                format!("{}: {}", field_label(flow, &error.field), error.message),
            ),
        };
        match by_block.iter_mut().find(|(b, _)| *b == block) {
            Some((_, messages)) => messages.push(message),
            None => by_block.push((block, vec![message])),
        }
    }
    let errors: Map<String, Value> = by_block
        .into_iter()
        .map(|(block, messages)| {
            let text = PlainText::new(&messages.join("; "));
            (
                block,
                Value::String(truncate(text.as_str(), MAX_ERROR_MESSAGE)),
            )
        })
        .collect();
    json!({ "response_action": "errors", "errors": errors })
}

/// A modal without inputs has nowhere to show an inline error, so the problems replace the view.
fn no_inputs_response(errors: &[FieldError]) -> Value {
    let blocks = errors
        .iter()
        .map(|e| section(&Mrkdwn::escaped(&e.message)))
        .collect();
    let view = Modal {
        callback_id: String::from("sesame_request_problem"),
        title: PlainText::new("Cannot submit"),
        submit: None,
        close: PlainText::new("Close"),
        blocks,
        private_metadata: PrivateMetadata::default(),
        notify_on_close: false,
    }
    .view();
    json!({ "response_action": "update", "view": view })
}

fn field_block_id(field: &str) -> Option<String> {
    match field {
        "" => None,
        "justification" => Some(String::from(JUSTIFICATION_BLOCK)),
        "duration" => Some(String::from(DURATION_BLOCK)),
        question => Some(format!("{QUESTION_BLOCK_PREFIX}{question}")),
    }
}

fn field_label(flow: &Flow, field: &str) -> String {
    match field {
        "justification" => String::from("Justification"),
        "duration" => String::from("Duration"),
        question => flow
            .question(question)
            .map_or_else(|| question.to_owned(), |q| q.label.clone()),
    }
}

/// The answer to a `block_suggestion` from an external select: the question's options that contain
/// what was typed (ignoring case), at most 100.
pub fn suggest_options(flow: &Flow, block_id: &str, typed: &str) -> Value {
    let needle = typed.trim().to_lowercase();
    let options = block_id
        .strip_prefix(QUESTION_BLOCK_PREFIX)
        .and_then(|id| flow.question(id))
        .map(|q| match &q.kind {
            QuestionKind::Select { options } | QuestionKind::MultiSelect { options } => {
                options.clone()
            }
            _ => Vec::new(),
        })
        .unwrap_or_default();
    options_response(
        options
            .iter()
            .filter(|o| o.to_lowercase().contains(&needle))
            .map(|o| option(&PlainText::new(o), o))
            .collect(),
    )
}
