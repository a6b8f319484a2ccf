//! Block Kit builders that stay within Slack's limits by construction: every text is cut to its
//! field's limit, every list is capped, and ids are cut to 255 characters. The limits are Slack's,
//! as read from `slack_sdk`'s validators and Slack's reference (chat-protocols.md §6);
//! [`check_limits`] checks a finished payload against the same table, for tests and the fake Slack.
//!
//! Builders take [`PlainText`] and [`Mrkdwn`], never `&str`, for anything shown to people, so user
//! text cannot reach a block without passing through [`crate::text`].

mod elements;
mod limits;

pub use elements::{
    button, button_with_confirm, checkboxes, confirm_dialog, datepicker, external_select,
    multi_external_select, multi_static_select, number_input, option, options_response,
    plain_text_input, radio_buttons, static_select, users_select, ButtonStyle,
};
pub use limits::{check_limits, limit_problems, LimitError};

use crate::text::{Mrkdwn, PlainText};
use serde_json::{json, Value};

pub const MAX_MESSAGE_BLOCKS: usize = 50;
pub const MAX_VIEW_BLOCKS: usize = 100;
pub const MAX_ID: usize = 255;
pub const MAX_TEXT_OBJECT: usize = 3000;
pub const MAX_SECTION_TEXT: usize = 3000;
pub const MAX_FIELDS: usize = 10;
pub const MAX_FIELD_TEXT: usize = 2000;
pub const MAX_HEADER_TEXT: usize = 150;
pub const MAX_CONTEXT_ELEMENTS: usize = 10;
pub const MAX_ACTIONS_ELEMENTS: usize = 25;
pub const MAX_BUTTON_TEXT: usize = 75;
pub const MAX_BUTTON_VALUE: usize = 2000;
pub const MAX_BUTTON_URL: usize = 3000;
pub const MAX_OPTION_TEXT: usize = 75;
pub const MAX_OPTION_VALUE: usize = 150;
pub const MAX_OPTIONS: usize = 100;
pub const MAX_RADIO_OPTIONS: usize = 10;
pub const MAX_LABEL: usize = 2000;
pub const MAX_HINT: usize = 2000;
pub const MAX_PLACEHOLDER: usize = 150;
pub const MAX_INPUT_LENGTH: usize = 3000;
pub const MAX_VIEW_TITLE: usize = 24;
pub const MAX_VIEW_BUTTON: usize = 24;
pub const MAX_PRIVATE_METADATA: usize = 3000;
pub const MAX_CONFIRM_TITLE: usize = 100;
pub const MAX_CONFIRM_TEXT: usize = 300;
pub const MAX_CONFIRM_BUTTON: usize = 30;
/// Slack truncates longer message texts; Sesame keeps its notification texts far shorter.
pub const MAX_MESSAGE_TEXT: usize = 40_000;
/// `views.open` refuses larger views with `view_too_large`.
pub const MAX_VIEW_BYTES: usize = 250_000;

/// Slack refuses empty text objects, so an empty text is shown as a dash.
const EMPTY_TEXT: &str = "-";

/// Either kind of text object, for places that take both (section fields, context elements).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Text {
    Plain(PlainText),
    Mrkdwn(Mrkdwn),
}

impl From<PlainText> for Text {
    fn from(text: PlainText) -> Self {
        Text::Plain(text)
    }
}

impl From<Mrkdwn> for Text {
    fn from(text: Mrkdwn) -> Self {
        Text::Mrkdwn(text)
    }
}

impl Text {
    fn object(&self, max_chars: usize) -> Value {
        match self {
            Text::Plain(text) => plain_object(text, max_chars),
            Text::Mrkdwn(text) => mrkdwn_object(text, max_chars),
        }
    }
}

/// A `plain_text` object cut to `max_chars`.
pub fn plain_object(text: &PlainText, max_chars: usize) -> Value {
    let cut = text.truncated(max_chars);
    let shown = if cut.as_str().trim().is_empty() {
        EMPTY_TEXT
    } else {
        cut.as_str()
    };
    json!({ "type": "plain_text", "text": shown })
}

/// A `mrkdwn` object cut to `max_chars`.
pub fn mrkdwn_object(text: &Mrkdwn, max_chars: usize) -> Value {
    let cut = text.truncated(max_chars);
    let shown = if cut.as_str().trim().is_empty() {
        EMPTY_TEXT
    } else {
        cut.as_str()
    };
    json!({ "type": "mrkdwn", "text": shown })
}

/// Block and action ids come from Sesame's code (question ids, fixed names), never from users; they
/// are cut, not refused, because a payload Slack rejects helps nobody.
pub(crate) fn id(text: &str) -> String {
    text.chars().take(MAX_ID).collect()
}

pub fn section(text: &Mrkdwn) -> Value {
    json!({ "type": "section", "text": mrkdwn_object(text, MAX_SECTION_TEXT) })
}

pub fn section_with_accessory(text: &Mrkdwn, accessory: Value) -> Value {
    json!({
        "type": "section",
        "text": mrkdwn_object(text, MAX_SECTION_TEXT),
        "accessory": accessory,
    })
}

/// Up to ten fields of up to 2000 characters, laid out by Slack in two columns. Extra fields are
/// dropped; callers with more use several sections ([`fields_sections`]).
pub fn fields_section(fields: &[Text]) -> Value {
    let fields: Vec<Value> = fields
        .iter()
        .take(MAX_FIELDS)
        .map(|f| f.object(MAX_FIELD_TEXT))
        .collect();
    json!({ "type": "section", "fields": fields })
}

/// As many field sections as the fields need, ten fields each. Fields come in label/value pairs, and
/// ten is even, so a pair is never split across sections.
pub fn fields_sections(fields: &[Text]) -> Vec<Value> {
    fields.chunks(MAX_FIELDS).map(fields_section).collect()
}

pub fn context(elements: &[Text]) -> Value {
    let elements: Vec<Value> = elements
        .iter()
        .take(MAX_CONTEXT_ELEMENTS)
        .map(|e| e.object(MAX_TEXT_OBJECT))
        .collect();
    json!({ "type": "context", "elements": elements })
}

pub fn divider() -> Value {
    json!({ "type": "divider" })
}

pub fn header(text: &PlainText) -> Value {
    json!({ "type": "header", "text": plain_object(text, MAX_HEADER_TEXT) })
}

pub fn actions(block_id: &str, elements: Vec<Value>) -> Value {
    let elements: Vec<Value> = elements.into_iter().take(MAX_ACTIONS_ELEMENTS).collect();
    json!({ "type": "actions", "block_id": id(block_id), "elements": elements })
}

/// An `input` block of a modal.
#[derive(Debug, Clone)]
pub struct Input {
    pub block_id: String,
    pub label: PlainText,
    pub element: Value,
    pub optional: bool,
    pub hint: Option<PlainText>,
    /// Send `block_actions` when the value changes, so the modal can be updated (questions shown
    /// or hidden by this answer).
    pub dispatch_action: bool,
}

impl Input {
    pub fn block(&self) -> Value {
        let mut block = json!({
            "type": "input",
            "block_id": id(&self.block_id),
            "label": plain_object(&self.label, MAX_LABEL),
            "element": self.element,
            "optional": self.optional,
        });
        if let Some(hint) = &self.hint {
            block["hint"] = plain_object(hint, MAX_HINT);
        }
        if self.dispatch_action {
            block["dispatch_action"] = Value::Bool(true);
        }
        block
    }
}

/// Keeps every `footer` block (the buttons that matter) and as many `body` blocks as fit in `max`,
/// replacing the rest with one context line made by `overflow_note` from the number left out.
pub fn fit_blocks(
    body: Vec<Value>,
    footer: Vec<Value>,
    max: usize,
    overflow_note: impl Fn(usize) -> Mrkdwn,
) -> Vec<Value> {
    if body.len() + footer.len() <= max {
        return body.into_iter().chain(footer).collect();
    }
    if footer.len() >= max {
        return footer.into_iter().take(max).collect();
    }
    let room = max - footer.len() - 1;
    let hidden = body.len() - room;
    let mut out: Vec<Value> = body.into_iter().take(room).collect();
    out.push(context(&[Text::Mrkdwn(overflow_note(hidden))]));
    out.extend(footer);
    out
}

/// A modal's `private_metadata`: at most 3000 characters, checked when made, because cutting it
/// would corrupt whatever the caller stored there.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PrivateMetadata(String);

impl PrivateMetadata {
    pub fn new(text: impl Into<String>) -> Result<Self, LimitError> {
        let text = text.into();
        let length = text.chars().count();
        if length > MAX_PRIVATE_METADATA {
            return Err(LimitError {
                path: String::from("private_metadata"),
                problem: format!("{length} characters; at most {MAX_PRIVATE_METADATA} are allowed"),
            });
        }
        Ok(Self(text))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A modal view for `views.open`, `views.update` or a `response_action`.
#[derive(Debug, Clone)]
pub struct Modal {
    pub callback_id: String,
    pub title: PlainText,
    /// Modals with input blocks need a submit button; informational ones have none.
    pub submit: Option<PlainText>,
    pub close: PlainText,
    pub blocks: Vec<Value>,
    pub private_metadata: PrivateMetadata,
    pub notify_on_close: bool,
}

impl Modal {
    pub fn view(self) -> Value {
        let blocks: Vec<Value> = self.blocks.into_iter().take(MAX_VIEW_BLOCKS).collect();
        let mut view = json!({
            "type": "modal",
            "callback_id": id(&self.callback_id),
            "title": plain_object(&self.title, MAX_VIEW_TITLE),
            "close": plain_object(&self.close, MAX_VIEW_BUTTON),
            "blocks": blocks,
            "private_metadata": self.private_metadata.as_str(),
        });
        if let Some(submit) = &self.submit {
            view["submit"] = plain_object(submit, MAX_VIEW_BUTTON);
        }
        if self.notify_on_close {
            view["notify_on_close"] = Value::Bool(true);
        }
        view
    }
}

/// The App Home view for `views.publish`.
pub fn home_tab(blocks: Vec<Value>) -> Value {
    let blocks: Vec<Value> = blocks.into_iter().take(MAX_VIEW_BLOCKS).collect();
    json!({ "type": "home", "blocks": blocks })
}

#[cfg(test)]
mod tests;
