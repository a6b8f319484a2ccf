//! A flow's questions as an Adaptive Card form, and the submitted inputs read back into a
//! [`RawSubmission`]. Every question type has an input: text and textarea (`Input.Text`), select
//! and multi_select (`Input.ChoiceSet`), date (`Input.Date`), duration (a choice of common spans up
//! to the maximum), user (`Input.Text` taking an email or directory id), number (`Input.Number`)
//! and boolean (`Input.Toggle`), plus the justification and the requested duration.
//!
//! A card cannot show or hide inputs as answers change, so the form shows the questions visible for
//! the answers so far; a submission that makes another question appear comes back with that
//! question and its problem, the other answers kept. `check_submission`'s problems are shown under
//! their inputs.

use super::text::{heading, note, rich, truncate, Run, MAX_NAME_CHARS};
use super::{execute, verbs, Card};
use serde_json::{json, Value};
use sesame_core::answers::{
    from_form, is_shown, Answers, FieldError, RawSubmission, MAX_JUSTIFICATION,
};
use sesame_core::flow::{Flow, Justification, Question, QuestionKind};
use sesame_core::time::Span;

const QUESTION_PREFIX: &str = "q_";
pub const JUSTIFICATION_INPUT: &str = "justification";
pub const DURATION_INPUT: &str = "duration";

/// Common choices for a duration; the flow's own default and maximum are always offered too.
const DURATION_LADDER: [&str; 17] = [
    "15m", "30m", "1h", "2h", "4h", "8h", "12h", "1d", "2d", "3d", "1w", "2w", "30d", "60d", "90d",
    "180d", "365d",
];

/// What the form shows besides the questions: answers given so far (kept after a refusal), those
/// of them that decide which questions show (normalised as `check_submission` stores them; the
/// web layer computes them with the same helper as Slack's modal), the problems to show, and the
/// free text that led here (so the choice can be learnt from).
#[derive(Debug, Clone, Default)]
pub struct FormState {
    pub submitted: RawSubmission,
    pub visible: Answers,
    pub errors: Vec<FieldError>,
    pub typed: Option<String>,
}

fn input_id(question: &Question) -> String {
    format!("{QUESTION_PREFIX}{}", question.id)
}

/// The input's current value as the card wants it: a string.
fn shown_value(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        Value::Array(items) => Some(
            items
                .iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(","),
        ),
        _ => None,
    }
}

fn choices(options: &[String]) -> Vec<Value> {
    options
        .iter()
        .map(|o| json!({ "title": truncate(o, MAX_NAME_CHARS), "value": o }))
        .collect()
}

/// The input for one question, with its current value.
fn question_input(question: &Question, value: Option<String>) -> Value {
    let mut input = match &question.kind {
        QuestionKind::Text { max_length } => {
            json!({ "type": "Input.Text", "maxLength": max_length })
        }
        QuestionKind::Textarea { max_length } => {
            json!({ "type": "Input.Text", "maxLength": max_length, "isMultiline": true })
        }
        QuestionKind::Select { options } => {
            json!({ "type": "Input.ChoiceSet", "style": "compact", "choices": choices(options) })
        }
        QuestionKind::MultiSelect { options } => json!({
            "type": "Input.ChoiceSet", "isMultiSelect": true, "style": "compact", "choices": choices(options),
        }),
        QuestionKind::Date => json!({ "type": "Input.Date" }),
        QuestionKind::Duration { max } => json!({
            "type": "Input.ChoiceSet", "style": "compact", "choices": duration_choices(*max, None),
        }),
        QuestionKind::User => json!({
            "type": "Input.Text", "placeholder": "Their email address or Sesame id", "maxLength": 254,
        }),
        QuestionKind::Number { min, max, .. } => {
            let mut input = json!({ "type": "Input.Number" });
            if let Some(min) = min {
                input["min"] = json!(min);
            }
            if let Some(max) = max {
                input["max"] = json!(max);
            }
            input
        }
        QuestionKind::Boolean => json!({
            "type": "Input.Toggle", "title": truncate(&question.label, MAX_NAME_CHARS),
            "valueOn": "true", "valueOff": "false", "value": "false",
        }),
    };
    input["id"] = json!(input_id(question));
    input["label"] = json!(truncate(&question.label, MAX_NAME_CHARS));
    input["isRequired"] = json!(question.required);
    if question.required {
        input["errorMessage"] = json!("This question needs an answer.");
    }
    if let Some(value) = value {
        input["value"] = json!(value);
    }
    input
}

pub(super) fn duration_choices(max: Option<Span>, default: Option<Span>) -> Vec<Value> {
    let mut spans: Vec<Span> = DURATION_LADDER
        .iter()
        .filter_map(|s| Span::parse(s).ok())
        .filter(|s| max.is_none_or(|max| *s <= max))
        .collect();
    spans.extend(max);
    spans.extend(default);
    spans.sort();
    spans.dedup();
    spans
        .into_iter()
        .map(|s| json!({ "title": s.in_words(), "value": s.to_string() }))
        .collect()
}

/// The problems about `field`, as red lines under its input.
fn problems_for(errors: &[FieldError], field: &str) -> Vec<Value> {
    errors
        .iter()
        .filter(|e| e.field == field)
        .map(|e| rich(&[Run::attention(&e.message)]))
        .collect()
}

/// The form for `flow`.
pub fn form_card(flow: &Flow, state: &FormState) -> Card {
    let mut card = Card::new(&format!("Request {}", flow.name));
    card.body.push(heading(&flow.name));
    if !flow.description.is_empty() {
        card.body.push(rich(&[Run::plain(&flow.description)]));
    }
    let mut shown_fields = Vec::new();
    for question in flow
        .questions
        .iter()
        .filter(|q| is_shown(q, &state.visible))
    {
        let value = state
            .submitted
            .answers
            .get(question.id.as_str())
            .and_then(shown_value);
        card.body.push(question_input(question, value));
        if let Some(help) = &question.help {
            card.body.push(rich(&[Run::subtle(help)]));
        }
        card.body
            .extend(problems_for(&state.errors, question.id.as_str()));
        shown_fields.push(question.id.to_string());
    }
    if let Some(policy) = flow.duration.filter(|p| p.requester_chooses) {
        let chosen = state.submitted.duration.clone();
        card.body.push(json!({
            "type": "Input.ChoiceSet",
            "id": DURATION_INPUT,
            "label": "For how long?",
            "style": "compact",
            "choices": duration_choices(Some(policy.max), Some(policy.default)),
            "value": chosen.unwrap_or_else(|| policy.default.to_string()),
        }));
        card.body
            .extend(problems_for(&state.errors, DURATION_INPUT));
        shown_fields.push(DURATION_INPUT.to_owned());
    }
    if flow.justification != Justification::None {
        let required = flow.justification == Justification::Required;
        let mut input = json!({
            "type": "Input.Text",
            "id": JUSTIFICATION_INPUT,
            "label": "Why do you need it?",
            "isMultiline": true,
            "isRequired": required,
            "maxLength": MAX_JUSTIFICATION,
        });
        if required {
            input["errorMessage"] = json!("Please say why you need it.");
        }
        if let Some(text) = &state.submitted.justification {
            input["value"] = json!(text);
        }
        card.body.push(input);
        card.body
            .extend(problems_for(&state.errors, JUSTIFICATION_INPUT));
        shown_fields.push(JUSTIFICATION_INPUT.to_owned());
    }
    // Problems about nothing shown (the request as a whole, a question now hidden) go last.
    for error in state
        .errors
        .iter()
        .filter(|e| !shown_fields.contains(&e.field))
    {
        let about = match flow.question(&error.field) {
            Some(q) => format!("{}: ", q.label),
            None => String::new(),
        };
        card.body.push(rich(&[Run::attention(&format!(
            "{about}{}",
            error.message
        ))]));
    }
    if flow.questions.iter().any(|q| !q.shown_if.is_empty()) {
        card.body.push(note(
            "Some questions appear only after you answer others; Sesame asks for them when you submit.",
        ));
    }
    let mut data = json!({ "flow": flow.id.as_str() });
    if let Some(typed) = &state.typed {
        data["typed"] = json!(truncate(typed, 500));
    }
    card.actions = vec![execute("Submit", verbs::SUBMIT, data)];
    card
}

/// Reads the card's inputs (merged into the action's data as strings) into a submission. Nothing
/// is refused here: empty inputs are absent answers, and the checks every surface shares say what
/// is wrong with the rest.
pub fn parse_form(flow: &Flow, data: &Value) -> RawSubmission {
    let text = |id: &str| {
        data.get(id)
            .and_then(|v| match v {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                Value::Bool(b) => Some(b.to_string()),
                _ => None,
            })
            .filter(|s| !s.trim().is_empty())
    };
    let mut raw = RawSubmission::default();
    for question in &flow.questions {
        let Some(given) = text(&input_id(question)) else {
            continue;
        };
        let answer = match &question.kind {
            QuestionKind::MultiSelect { .. } => Value::Array(
                given
                    .split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(|s| Value::String(s.to_owned()))
                    .collect(),
            ),
            // Inputs arrive as text ("12", "true"); the question's type decides the JSON type.
            kind => from_form(kind, given),
        };
        raw.answers.insert(question.id.to_string(), answer);
    }
    raw.justification = text(JUSTIFICATION_INPUT);
    raw.duration = text(DURATION_INPUT);
    raw
}
