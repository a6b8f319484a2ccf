//! The questions modal: a flow's questions as Block Kit inputs, the submitted values read back into
//! a [`RawSubmission`], and `check_submission`'s problems shown next to their fields.
//!
//! The modal shows only the questions whose `shown_if` holds for the answers so far. Inputs whose
//! answer decides another question's visibility send `block_actions` when they change
//! (`dispatch_action`), and the adapter answers with `views.update`; Slack keeps what was typed into
//! inputs whose `block_id` and `action_id` stay the same, which is why both are stable.

mod submission;

pub use sesame_core::answers::visible_answers;
pub use submission::{errors_response, parse_submission, suggest_options};

use crate::blocks::{
    context, datepicker, external_select, multi_external_select, multi_static_select, number_input,
    option, plain_text_input, radio_buttons, section, static_select, users_select, Input, Modal,
    PrivateMetadata, Text, MAX_OPTIONS, MAX_VIEW_BLOCKS,
};
use crate::text::{Mrkdwn, PlainText};
use serde_json::Value;
use sesame_core::answers::{is_shown, Answers, MAX_JUSTIFICATION};
use sesame_core::flow::{DurationPolicy, Flow, Justification, Question, QuestionKind};
use sesame_core::ids::QuestionId;
use sesame_core::time::Span;
use std::collections::{BTreeMap, BTreeSet};

/// The modal's `callback_id`, which routes its submission back here.
pub const CALLBACK_ID: &str = "sesame_request";
/// The `action_id` of every question's element: the block id already names the question.
pub const ANSWER_ACTION: &str = "sesame_answer";
pub const JUSTIFICATION_BLOCK: &str = "sesame_justification";
pub const JUSTIFICATION_ACTION: &str = "sesame_justification";
pub const DURATION_BLOCK: &str = "sesame_duration";
pub const DURATION_ACTION: &str = "sesame_duration";
/// Who the request is for, in flows that allow asking for someone else; empty means oneself.
pub const REQUESTER_BLOCK: &str = "sesame_for";
pub const REQUESTER_ACTION: &str = "sesame_for";
const QUESTION_BLOCK_PREFIX: &str = "q_";

/// Common choices for a duration, offered up to the allowed maximum. A list, not a text field: a
/// person cannot type something unparseable or too long, and the flow's own default and maximum are
/// always among the choices.
const DURATION_LADDER: [&str; 17] = [
    "15m", "30m", "1h", "2h", "4h", "8h", "12h", "1d", "2d", "3d", "1w", "2w", "30d", "60d", "90d",
    "180d", "365d",
];

/// The input block that asks `question`.
pub fn question_block_id(question: &QuestionId) -> String {
    format!("{QUESTION_BLOCK_PREFIX}{question}")
}

/// Values to show before the person has typed anything: an earlier attempt, or what a chat message
/// already said. Answers are keyed by question id in the form Sesame stores them, except that a
/// `user` question takes the person's Slack user id.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Prefill {
    pub answers: BTreeMap<String, Value>,
    pub justification: Option<String>,
    pub duration: Option<Span>,
}

/// The modal for `views.open` (or `views.update` as answers change).
pub fn request_modal(
    flow: &Flow,
    prefill: &Prefill,
    answers_so_far: &Answers,
    private_metadata: &PrivateMetadata,
) -> Value {
    let plan = ModalPlan::new(flow, prefill, answers_so_far);
    let mut blocks = plan.intro;
    blocks.extend(plan.questions.iter().map(Input::block));
    if plan.left_out > 0 {
        blocks.push(context(&[Text::Mrkdwn(Mrkdwn::escaped(&format!(
            "{} more question(s) do not fit in Slack; please use the web portal for this request.",
            plan.left_out
        )))]));
    }
    blocks.extend(plan.footer.iter().map(Input::block));
    Modal {
        callback_id: String::from(CALLBACK_ID),
        title: PlainText::new(&flow.name),
        submit: Some(PlainText::new("Submit")),
        close: PlainText::new("Cancel"),
        blocks,
        private_metadata: private_metadata.clone(),
        notify_on_close: false,
    }
    .view()
}

/// What the modal contains, computed once so that the modal and the error mapping agree on which
/// inputs exist.
struct ModalPlan {
    intro: Vec<Value>,
    questions: Vec<Input>,
    /// Shown questions that did not fit in Slack's 100 blocks.
    left_out: usize,
    footer: Vec<Input>,
}

impl ModalPlan {
    fn new(flow: &Flow, prefill: &Prefill, answers_so_far: &Answers) -> Self {
        let intro = intro_blocks(flow);
        let footer: Vec<Input> = [
            requester_input(flow),
            duration_input(flow, prefill),
            justification_input(flow, prefill),
        ]
        .into_iter()
        .flatten()
        .collect();
        let deciders = questions_others_depend_on(flow);
        let mut questions: Vec<Input> = shown_questions(flow, answers_so_far)
            .into_iter()
            .map(|q| {
                question_input(
                    q,
                    prefill.answers.get(q.id.as_str()),
                    deciders.contains(&q.id),
                )
            })
            .collect();
        let room = MAX_VIEW_BLOCKS.saturating_sub(intro.len() + footer.len());
        let mut left_out = 0;
        if questions.len() > room {
            // One block goes to the note saying what was left out.
            let keep = room.saturating_sub(1);
            left_out = questions.len() - keep;
            questions.truncate(keep);
        }
        ModalPlan {
            intro,
            questions,
            left_out,
            footer,
        }
    }

    /// The input block ids, in the order the modal shows them.
    fn input_block_ids(&self) -> Vec<String> {
        self.questions
            .iter()
            .chain(&self.footer)
            .map(|input| input.block_id.clone())
            .collect()
    }
}

/// The questions asked given the answers so far, as `check_submission` decides it: an answer to a
/// hidden question never makes another question appear.
pub fn shown_questions<'f>(flow: &'f Flow, answers_so_far: &Answers) -> Vec<&'f Question> {
    let mut considered = Answers::new();
    let mut shown = Vec::new();
    for question in &flow.questions {
        if is_shown(question, &considered) {
            shown.push(question);
            if let Some(answer) = answers_so_far.get(&question.id) {
                considered.insert(question.id.clone(), answer.clone());
            }
        }
    }
    shown
}

fn questions_others_depend_on(flow: &Flow) -> BTreeSet<QuestionId> {
    flow.questions
        .iter()
        .flat_map(|q| q.shown_if.keys().cloned())
        .collect()
}

fn intro_blocks(flow: &Flow) -> Vec<Value> {
    let mut blocks = Vec::new();
    if !flow.description.trim().is_empty() {
        blocks.push(section(&Mrkdwn::escaped(&flow.description)));
    }
    if let Some(policy) = flow.duration.filter(|p| !p.requester_chooses) {
        blocks.push(context(&[Text::Plain(PlainText::new(&format!(
            "Access lasts {}.",
            policy.default.in_words()
        )))]));
    }
    blocks
}

fn question_input(question: &Question, prefill: Option<&Value>, dispatch_action: bool) -> Input {
    Input {
        block_id: question_block_id(&question.id),
        label: PlainText::new(&question.label),
        element: answer_element(&question.kind, prefill),
        optional: !question.required,
        hint: question.help.as_deref().map(PlainText::new),
        dispatch_action,
    }
}

fn answer_element(kind: &QuestionKind, prefill: Option<&Value>) -> Value {
    let prefill_text = prefill.and_then(Value::as_str);
    let choose = PlainText::new("Choose");
    match kind {
        QuestionKind::Text { max_length } => {
            plain_text_input(ANSWER_ACTION, false, *max_length, prefill_text, None)
        }
        QuestionKind::Textarea { max_length } => {
            plain_text_input(ANSWER_ACTION, true, *max_length, prefill_text, None)
        }
        QuestionKind::Select { options } => {
            let initial = prefill_text
                .filter(|p| options.iter().any(|o| o == p))
                .map(choice);
            if options.len() <= MAX_OPTIONS {
                static_select(
                    ANSWER_ACTION,
                    &choose,
                    options.iter().map(String::as_str).map(choice).collect(),
                    initial,
                )
            } else {
                external_select(ANSWER_ACTION, &PlainText::new("Type to search"), 1, initial)
            }
        }
        QuestionKind::MultiSelect { options } => {
            let chosen: Vec<Value> = prefill
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .filter(|p| options.iter().any(|o| o == p))
                .map(choice)
                .collect();
            if options.len() <= MAX_OPTIONS {
                multi_static_select(
                    ANSWER_ACTION,
                    &choose,
                    options.iter().map(String::as_str).map(choice).collect(),
                    chosen,
                )
            } else {
                multi_external_select(ANSWER_ACTION, &PlainText::new("Type to search"), 1, chosen)
            }
        }
        QuestionKind::Date => datepicker(ANSWER_ACTION, prefill_text),
        QuestionKind::Duration { max: Some(max) } => {
            let initial = prefill_text
                .and_then(|p| Span::parse(p).ok())
                .filter(|s| s <= max);
            duration_select(ANSWER_ACTION, *max, initial, initial)
        }
        QuestionKind::Duration { max: None } => plain_text_input(
            ANSWER_ACTION,
            false,
            20,
            prefill_text,
            Some(&PlainText::new("For example 8h, 3d or 2w")),
        ),
        QuestionKind::User => users_select(
            ANSWER_ACTION,
            &PlainText::new("Choose a person"),
            prefill_text,
        ),
        QuestionKind::Number { min, max, integer } => {
            let initial = prefill.and_then(|p| match p {
                Value::Number(n) => n.as_f64(),
                Value::String(s) => s.trim().parse().ok(),
                _ => None,
            });
            number_input(ANSWER_ACTION, !integer, *min, *max, initial)
        }
        QuestionKind::Boolean => {
            let initial = match prefill {
                Some(Value::Bool(true)) => Some(yes_no(true)),
                Some(Value::Bool(false)) => Some(yes_no(false)),
                _ => None,
            };
            radio_buttons(ANSWER_ACTION, vec![yes_no(true), yes_no(false)], initial)
        }
    }
}

/// An option whose value is the option's own text, so the answer needs no lookup table.
fn choice(text: &str) -> Value {
    option(&PlainText::new(text), text)
}

fn yes_no(answer: bool) -> Value {
    if answer {
        option(&PlainText::new("Yes"), "true")
    } else {
        option(&PlainText::new("No"), "false")
    }
}

/// The choices up to `max`, with `max` itself and `extra` (a default or earlier answer) included.
fn duration_choices(max: Span, extra: Option<Span>) -> Vec<Span> {
    let mut spans: BTreeSet<Span> = DURATION_LADDER
        .iter()
        .filter_map(|text| Span::parse(text).ok())
        .filter(|span| *span <= max)
        .collect();
    spans.insert(max);
    spans.extend(extra.filter(|span| *span <= max));
    spans.into_iter().collect()
}

fn duration_option(span: Span) -> Value {
    option(&PlainText::new(&span.in_words()), &span.to_string())
}

fn duration_select(
    action_id: &str,
    max: Span,
    extra: Option<Span>,
    initial: Option<Span>,
) -> Value {
    let options: Vec<Value> = duration_choices(max, extra)
        .into_iter()
        .map(duration_option)
        .collect();
    static_select(
        action_id,
        &PlainText::new("How long?"),
        options,
        initial.map(duration_option),
    )
}

/// "For someone else?", in flows that allow it. Empty means the person filling it in.
fn requester_input(flow: &Flow) -> Option<Input> {
    if !flow.allow_requests_for_others {
        return None;
    }
    Some(Input {
        block_id: String::from(REQUESTER_BLOCK),
        label: PlainText::new("For someone else?"),
        element: users_select(
            REQUESTER_ACTION,
            &PlainText::new("Leave empty for yourself"),
            None,
        ),
        optional: true,
        hint: Some(PlainText::new(
            "The request and the access are theirs; their approvers decide.",
        )),
        dispatch_action: false,
    })
}

/// The Slack user picked in "For someone else?", if any.
pub fn picked_requester(values: &Value) -> Option<&str> {
    values
        .get(REQUESTER_BLOCK)?
        .get(REQUESTER_ACTION)?
        .get("selected_user")?
        .as_str()
        .filter(|id| !id.is_empty())
}

fn duration_input(flow: &Flow, prefill: &Prefill) -> Option<Input> {
    let DurationPolicy {
        default,
        max,
        requester_chooses,
    } = flow.duration?;
    if !requester_chooses {
        return None;
    }
    let initial = prefill.duration.filter(|d| *d <= max).unwrap_or(default);
    Some(Input {
        block_id: String::from(DURATION_BLOCK),
        label: PlainText::new("For how long?"),
        element: duration_select(DURATION_ACTION, max, Some(initial), Some(initial)),
        optional: false,
        hint: Some(PlainText::new(&format!("At most {}.", max.in_words()))),
        dispatch_action: false,
    })
}

fn justification_input(flow: &Flow, prefill: &Prefill) -> Option<Input> {
    let optional = match flow.justification {
        Justification::None => return None,
        Justification::Required => false,
        Justification::Optional => true,
    };
    Some(Input {
        block_id: String::from(JUSTIFICATION_BLOCK),
        label: PlainText::new("Justification"),
        element: plain_text_input(
            JUSTIFICATION_ACTION,
            true,
            MAX_JUSTIFICATION,
            prefill.justification.as_deref(),
            Some(&PlainText::new(
                "Why do you need it? A ticket number helps.",
            )),
        ),
        optional,
        hint: None,
        dispatch_action: false,
    })
}

#[cfg(test)]
mod tests;
