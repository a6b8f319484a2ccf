//! Checking a submission's answers against its flow's questions. The same rules serve Slack, Teams, the
//! portal and the API, and each problem names the question so every surface can show it next to the
//! field. Answers are typed JSON: a number question takes a JSON number, a yes/no question `true`
//! or `false`, a multi-select a list; forms, which send every input as text, turn their inputs into
//! those types with [`from_form`] first. Free text goes through [`text`].

pub mod text;

use crate::directory::Directory;
use crate::flow::{DurationPolicy, Flow, Justification, Question, QuestionKind};
use crate::ids::QuestionId;
use crate::time::Span;
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// Answers as stored: one normalised JSON value per question that was asked and answered.
pub type Answers = BTreeMap<QuestionId, serde_json::Value>;

/// One problem with one field of a submission. `field` is a question id, `justification` or
/// `duration`, or empty for the submission as a whole.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub(crate) fn new(field: &str, message: impl Into<String>) -> Self {
        Self {
            field: field.to_owned(),
            message: message.into(),
        }
    }
}

/// The most a justification may hold (Slack's plain-text input limit).
pub const MAX_JUSTIFICATION: usize = 3000;

/// What the requester filled in, before checking.
#[derive(Debug, Clone, Default)]
pub struct RawSubmission {
    pub answers: BTreeMap<String, serde_json::Value>,
    pub justification: Option<String>,
    pub duration: Option<String>,
}

/// A submission that passed every check.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckedSubmission {
    pub answers: Answers,
    pub justification: Option<String>,
    pub duration: Option<Span>,
}

/// Whether a question is asked, given the answers to earlier questions.
pub fn is_shown(question: &Question, answers: &Answers) -> bool {
    question.shown_if.iter().all(|(id, accepted)| {
        answers
            .get(id)
            .is_some_and(|given| matches_any(given, accepted))
    })
}

/// Whether a stored answer is one of the accepted values. A multi-select answer (a list) matches
/// when any of its choices is accepted, so `{ envs: prod }` holds for `[staging, prod]`.
pub(crate) fn matches_any(given: &serde_json::Value, accepted: &[serde_json::Value]) -> bool {
    accepted.contains(given)
        || given
            .as_array()
            .is_some_and(|items| items.iter().any(|i| accepted.contains(i)))
}

/// Checks every answer, the justification and the duration; reports every problem at once.
pub fn check_submission(
    flow: &Flow,
    raw: &RawSubmission,
    directory: &Directory,
) -> Result<CheckedSubmission, Vec<FieldError>> {
    let mut errors = Vec::new();
    for key in raw.answers.keys() {
        if flow.question(key).is_none() {
            errors.push(FieldError::new(
                key,
                format!("{} has no question `{key}`", flow.name),
            ));
        }
    }
    let mut answers = Answers::new();
    for question in &flow.questions {
        // Answers to questions that are not shown are dropped: a form without JavaScript sends every
        // field, and a hidden answer must never change what is stored or decided.
        if !is_shown(question, &answers) {
            continue;
        }
        let given = raw
            .answers
            .get(question.id.as_str())
            .filter(|v| !is_blank(v));
        match given {
            None if question.required => errors.push(FieldError::new(
                question.id.as_str(),
                "this question needs an answer",
            )),
            None => {}
            Some(value) => match check_answer(&question.kind, value, directory) {
                Ok(v) => {
                    answers.insert(question.id.clone(), v);
                }
                Err(message) => errors.push(FieldError::new(question.id.as_str(), message)),
            },
        }
    }
    // Unbounded here so that a flow without justifications says so before any length.
    let justification =
        match text::optional("justification", raw.justification.as_deref(), usize::MAX) {
            Ok(j) => j,
            Err(e) => {
                errors.push(e);
                None
            }
        };
    let refused = errors.iter().any(|e| e.field == "justification");
    match (flow.justification, justification.as_deref()) {
        _ if refused => {}
        (Justification::Required, None) => errors.push(FieldError::new(
            "justification",
            "a justification is required",
        )),
        (Justification::None, Some(_)) => errors.push(FieldError::new(
            "justification",
            "this flow does not take a justification",
        )),
        (_, Some(j)) if j.chars().count() > MAX_JUSTIFICATION => errors.push(FieldError::new(
            "justification",
            format!("must be at most {MAX_JUSTIFICATION} characters"),
        )),
        _ => {}
    }
    let duration = match check_duration(flow.duration.as_ref(), raw.duration.as_deref()) {
        Ok(d) => d,
        Err(e) => {
            errors.push(e);
            None
        }
    };
    if errors.is_empty() {
        Ok(CheckedSubmission {
            answers,
            justification,
            duration,
        })
    } else {
        Err(errors)
    }
}

fn is_blank(v: &serde_json::Value) -> bool {
    match v {
        serde_json::Value::Null => true,
        serde_json::Value::String(s) => text::is_blank(s),
        serde_json::Value::Array(items) => items.is_empty(),
        _ => false,
    }
}

fn check_duration(
    policy: Option<&DurationPolicy>,
    given: Option<&str>,
) -> Result<Option<Span>, FieldError> {
    let given = given
        .map(text::clean)
        .transpose()
        .map_err(|e| FieldError::new("duration", e.to_string()))?
        .filter(|g| !g.is_empty());
    match (policy, given.as_deref()) {
        (None, None) => Ok(None),
        (None, Some(_)) => Err(FieldError::new(
            "duration",
            "this flow grants access without an end, so it takes no duration",
        )),
        (Some(p), None) => Ok(Some(p.default)),
        (Some(p), Some(_)) if !p.requester_chooses => Err(FieldError::new(
            "duration",
            format!(
                "this flow always grants {}; the duration cannot be chosen",
                p.default
            ),
        )),
        (Some(p), Some(text)) => {
            let d = Span::parse(text).map_err(|e| FieldError::new("duration", e.to_string()))?;
            if d > p.max {
                return Err(FieldError::new(
                    "duration",
                    format!("must be at most {}", p.max),
                ));
            }
            Ok(Some(d))
        }
    }
}

/// Checks one answer and returns it normalised (trimmed text, canonical durations, numbers as
/// floating point) so that conditions compare like with like.
fn check_answer(
    kind: &QuestionKind,
    value: &serde_json::Value,
    directory: &Directory,
) -> Result<serde_json::Value, String> {
    use serde_json::Value as J;
    let text = || {
        let given = value
            .as_str()
            .ok_or_else(|| format!("expected text, got {}", json_kind(value)))?;
        text::clean(given).map_err(|e| e.to_string())
    };
    match kind {
        QuestionKind::Text { max_length } | QuestionKind::Textarea { max_length } => {
            let t = text()?;
            if matches!(kind, QuestionKind::Text { .. }) && t.contains(['\n', '\r']) {
                return Err(String::from("must be a single line"));
            }
            if t.chars().count() > *max_length {
                return Err(format!("must be at most {max_length} characters"));
            }
            Ok(J::String(t))
        }
        QuestionKind::Select { options } => {
            let t = text()?;
            if options.contains(&t) {
                Ok(J::String(t))
            } else {
                Err(format!("must be one of: {}", options.join(", ")))
            }
        }
        QuestionKind::MultiSelect { options } => {
            // A single option is still a list: `"write"` for `["write"]` would hide a caller
            // that confuses this question with a select.
            let items: Vec<String> = match value {
                J::Array(items) => items
                    .iter()
                    .map(|i| {
                        let item = i
                            .as_str()
                            .ok_or_else(|| String::from("expected a list of options"))?;
                        text::clean(item).map_err(|e| e.to_string())
                    })
                    .collect::<Result<_, _>>()?,
                other => {
                    return Err(format!(
                        "expected a list of options, got {}",
                        json_kind(other)
                    ))
                }
            };
            let mut chosen: Vec<String> = Vec::new();
            for item in items {
                if !options.contains(&item) {
                    return Err(format!("`{item}` is not one of: {}", options.join(", ")));
                }
                if !chosen.contains(&item) {
                    chosen.push(item);
                }
            }
            // Stored in the flow's order, so the same choice always looks the same.
            chosen.sort_by_key(|c| options.iter().position(|o| o == c));
            Ok(J::Array(chosen.into_iter().map(J::String).collect()))
        }
        QuestionKind::Date => {
            let t = text()?;
            let format = ::time::macros::format_description!("[year]-[month]-[day]");
            ::time::Date::parse(&t, &format)
                .map_err(|_| format!("{t:?} is not a date; expected YYYY-MM-DD"))?;
            Ok(J::String(t))
        }
        QuestionKind::Duration { max } => {
            let d = Span::parse(&text()?).map_err(|e| e.to_string())?;
            if let Some(max) = max {
                if d > *max {
                    return Err(format!("must be at most {max}"));
                }
            }
            Ok(J::String(d.to_string()))
        }
        QuestionKind::User => {
            let t = text()?;
            let user = directory
                .find_user(&t)
                .ok_or_else(|| format!("{t:?} is not an active person in the directory"))?;
            Ok(J::String(user.id.to_string()))
        }
        QuestionKind::Number { min, max, integer } => {
            // Only a JSON number: `"12"` would hide a caller that sends the wrong type.
            let n = value
                .as_f64()
                .filter(|n| n.is_finite())
                .ok_or_else(|| format!("expected a number, got {}", json_kind(value)))?;
            if *integer && n.fract() != 0.0 {
                return Err(String::from("must be a whole number"));
            }
            if min.is_some_and(|m| n < m) || max.is_some_and(|m| n > m) {
                let range = match (min, max) {
                    (Some(lo), Some(hi)) => format!("between {lo} and {hi}"),
                    (Some(lo), None) => format!("at least {lo}"),
                    (None, Some(hi)) => format!("at most {hi}"),
                    (None, None) => String::new(),
                };
                return Err(format!("must be {range}"));
            }
            serde_json::Number::from_f64(n)
                .map(J::Number)
                .ok_or_else(|| String::from("expected a number"))
        }
        QuestionKind::Boolean => match value {
            J::Bool(b) => Ok(J::Bool(*b)),
            other => Err(format!("expected true or false, got {}", json_kind(other))),
        },
    }
}

/// A form's input as the answer its question takes. Forms (Slack's modal, Teams' card, the
/// portal's page) send every input as text; this gives a number question a JSON number, a yes/no
/// question `true` or `false` (from true/yes/on and false/no/off) and a multi-select a list. Text
/// that does not convert stays text, for [`check_submission`] to refuse with the question's name.
pub fn from_form(kind: &QuestionKind, given: String) -> Value {
    match kind {
        QuestionKind::Number { .. } => given
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|n| n.is_finite())
            .and_then(serde_json::Number::from_f64)
            .map_or(Value::String(given), Value::Number),
        QuestionKind::Boolean => match given.trim().to_ascii_lowercase().as_str() {
            "true" | "yes" | "on" => Value::Bool(true),
            "false" | "no" | "off" => Value::Bool(false),
            _ => Value::String(given),
        },
        QuestionKind::MultiSelect { .. } => Value::Array(vec![Value::String(given)]),
        _ => Value::String(given),
    }
}

fn json_kind(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "nothing",
        serde_json::Value::Bool(_) => "true/false",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "text",
        serde_json::Value::Array(_) => "a list",
        serde_json::Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests;

/// The answers that decide which questions show (read the same way on every chat surface), normalised the way `check_submission` stores them
/// (booleans, numbers as floating point, canonical durations) so that `shown_if` compares like with
/// like. Answers that do not parse count as not given.
pub fn visible_answers(flow: &Flow, raw: &RawSubmission) -> Answers {
    let mut answers = Answers::new();
    for question in &flow.questions {
        let Some(given) = raw.answers.get(question.id.as_str()) else {
            continue;
        };
        let text = given.as_str().map(str::trim).filter(|t| !t.is_empty());
        let normalised = match &question.kind {
            QuestionKind::Boolean => match given {
                Value::Bool(b) => Some(Value::Bool(*b)),
                _ => text.and_then(|t| match t {
                    "true" => Some(Value::Bool(true)),
                    "false" => Some(Value::Bool(false)),
                    _ => None,
                }),
            },
            QuestionKind::Number { .. } => match given {
                Value::Number(n) => n.as_f64(),
                _ => text.and_then(|t| t.parse::<f64>().ok()),
            }
            .and_then(serde_json::Number::from_f64)
            .map(Value::Number),
            QuestionKind::Duration { .. } => text
                .and_then(|t| Span::parse(t).ok())
                .map(|s| Value::String(s.to_string())),
            QuestionKind::MultiSelect { .. } => given
                .as_array()
                .filter(|items| !items.is_empty())
                .map(|_| given.clone()),
            _ => text.map(|t| Value::String(t.to_owned())),
        };
        if let Some(value) = normalised {
            answers.insert(question.id.clone(), value);
        }
    }
    answers
}
