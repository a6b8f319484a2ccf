//! The Block Kit limits Slack enforces on messages and views, from Slack's Block Kit reference and
//! `slack_sdk`'s validators (collected in the project's chat-protocols research notes, §6). Problems
//! are reported in Slack's own style, `[ERROR] <what> [json-pointer:<where>]`, so a failing test
//! says exactly which field of the rendered output broke which limit.
//!
//! The checks cover the blocks and elements Sesame renders and their documented limits. Rich text
//! and video blocks are accepted with only their required fields checked.

mod elements;

use elements::{check_element, ElementPlace};
use serde_json::{Map, Value};
use std::collections::HashSet;
use std::fmt::Display;

/// Where blocks are shown; some blocks exist only on some surfaces, and the block count differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Surface {
    Message,
    Modal,
    Home,
}

impl Surface {
    fn max_blocks(self) -> usize {
        match self {
            Surface::Message => 50,
            Surface::Modal | Surface::Home => 100,
        }
    }
}

/// A message's top-level `text` longer than this is `msg_too_long`.
pub(super) const MESSAGE_TEXT_MAX_CHARS: usize = 40_000;
/// Slack's "view_too_large" threshold, 250 kB of view JSON.
const VIEW_MAX_BYTES: usize = 250_000;
/// Markdown blocks share one budget per payload.
const MARKDOWN_MAX_CHARS_PER_PAYLOAD: usize = 12_000;

/// Why a view was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum ViewProblem {
    TooLarge,
    Invalid(Vec<String>),
}

/// Checks a message's `blocks`; the problems become `invalid_blocks`.
pub(super) fn check_message_blocks(blocks: &[Value]) -> Vec<String> {
    let mut checker = Checker::default();
    let max = Surface::Message.max_blocks();
    if blocks.len() > max {
        checker.fail("/blocks", format!("no more than {max} items allowed"));
    }
    checker.block_list(blocks, "/blocks", Surface::Message);
    checker.problems
}

/// Checks a view whose `type` must be one of `allowed_types`.
pub(super) fn check_view(view: &Value, allowed_types: &[&str]) -> Result<(), ViewProblem> {
    if view.to_string().len() > VIEW_MAX_BYTES {
        return Err(ViewProblem::TooLarge);
    }
    let mut checker = Checker::default();
    checker.view(view, allowed_types);
    if checker.problems.is_empty() {
        Ok(())
    } else {
        Err(ViewProblem::Invalid(checker.problems))
    }
}

/// Whether a text object must be `plain_text` (titles, labels, button texts) or may be either.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum TextKind {
    Any,
    PlainOnly,
}

#[derive(Debug, Default)]
pub(super) struct Checker {
    pub(super) problems: Vec<String>,
    markdown_chars: usize,
}

impl Checker {
    pub(super) fn fail(&mut self, pointer: &str, what: impl Display) {
        self.problems
            .push(format!("[ERROR] {what} [json-pointer:{pointer}]"));
    }

    /// An object, or a problem saying it should have been one.
    pub(super) fn object<'v>(
        &mut self,
        value: &'v Value,
        pointer: &str,
    ) -> Option<&'v Map<String, Value>> {
        let object = value.as_object();
        if object.is_none() {
            self.fail(pointer, "must provide an object");
        }
        object
    }

    /// An optional string of at most `max` characters.
    pub(super) fn string(&mut self, value: Option<&Value>, pointer: &str, max: usize) {
        match value {
            None | Some(Value::Null) => {}
            Some(Value::String(text)) => self.length(text, pointer, max),
            Some(_) => self.fail(pointer, "must provide a string"),
        }
    }

    /// A required string of 1 to `max` characters.
    pub(super) fn required_string(&mut self, value: Option<&Value>, pointer: &str, max: usize) {
        match value {
            Some(Value::String(text)) if text.is_empty() => {
                self.fail(pointer, "must be more than 0 characters")
            }
            Some(Value::String(text)) => self.length(text, pointer, max),
            Some(_) => self.fail(pointer, "must provide a string"),
            None => self.fail(pointer, "missing required field"),
        }
    }

    /// Slack counts characters, not bytes.
    fn length(&mut self, text: &str, pointer: &str, max: usize) {
        if text.chars().count() > max {
            self.fail(pointer, format!("must be less than {} characters", max + 1));
        }
    }

    /// An array of `min..=max` items, returned for the caller to check item by item.
    pub(super) fn array<'v>(
        &mut self,
        value: Option<&'v Value>,
        pointer: &str,
        min: usize,
        max: usize,
    ) -> &'v [Value] {
        let Some(value) = value else {
            if min > 0 {
                self.fail(pointer, "missing required field");
            }
            return &[];
        };
        let Some(items) = value.as_array() else {
            self.fail(pointer, "must provide an array");
            return &[];
        };
        if items.len() < min {
            self.fail(pointer, format!("must provide at least {min} items"));
        }
        if items.len() > max {
            self.fail(pointer, format!("no more than {max} items allowed"));
        }
        items
    }

    /// A text object (`{"type": "plain_text"|"mrkdwn", "text": ...}`), optional unless `required`.
    pub(super) fn text_object(
        &mut self,
        value: Option<&Value>,
        pointer: &str,
        max: usize,
        kind: TextKind,
        required: bool,
    ) {
        let Some(value) = value else {
            if required {
                self.fail(pointer, "missing required field");
            }
            return;
        };
        let Some(object) = self.object(value, pointer) else {
            return;
        };
        let text_type = object.get("type").and_then(Value::as_str);
        match (text_type, kind) {
            (Some("plain_text"), _) | (Some("mrkdwn"), TextKind::Any) => {}
            (Some("mrkdwn"), TextKind::PlainOnly) => {
                self.fail(&format!("{pointer}/type"), "must be one of: plain_text")
            }
            _ => self.fail(
                &format!("{pointer}/type"),
                "must be one of: plain_text, mrkdwn",
            ),
        }
        // `emoji` belongs to plain_text and `verbatim` to mrkdwn; Slack refuses the other pairing.
        if text_type == Some("mrkdwn") && object.contains_key("emoji") {
            self.fail(&format!("{pointer}/emoji"), "not allowed for mrkdwn");
        }
        if text_type == Some("plain_text") && object.contains_key("verbatim") {
            self.fail(&format!("{pointer}/verbatim"), "not allowed for plain_text");
        }
        self.required_string(object.get("text"), &format!("{pointer}/text"), max);
    }

    fn view(&mut self, view: &Value, allowed_types: &[&str]) {
        let Some(view) = self.object(view, "/view") else {
            return;
        };
        let view_type = view.get("type").and_then(Value::as_str).unwrap_or("");
        if !allowed_types.contains(&view_type) {
            let allowed = allowed_types.join(", ");
            self.fail("/view/type", format!("must be one of: {allowed}"));
            return;
        }
        let surface = if view_type == "home" {
            Surface::Home
        } else {
            Surface::Modal
        };
        match surface {
            Surface::Modal => {
                let title = view.get("title");
                self.text_object(title, "/view/title", 24, TextKind::PlainOnly, true);
                self.text_object(
                    view.get("submit"),
                    "/view/submit",
                    24,
                    TextKind::PlainOnly,
                    false,
                );
                self.text_object(
                    view.get("close"),
                    "/view/close",
                    24,
                    TextKind::PlainOnly,
                    false,
                );
                if has_input_block(view) && !view.contains_key("submit") {
                    self.fail(
                        "/view/submit",
                        "submit is required when an input block is within the blocks array",
                    );
                }
            }
            Surface::Home | Surface::Message => {
                for field in ["submit", "close"] {
                    if view.contains_key(field) {
                        self.fail(&format!("/view/{field}"), "not allowed in a home view");
                    }
                }
            }
        }
        self.string(view.get("private_metadata"), "/view/private_metadata", 3000);
        self.string(view.get("callback_id"), "/view/callback_id", 255);
        self.string(view.get("external_id"), "/view/external_id", 255);
        self.view_blocks(view.get("blocks"), surface);
    }

    /// A view's `blocks`, which must be an array of at least one block.
    fn view_blocks(&mut self, blocks: Option<&Value>, surface: Surface) {
        let items = self.array(blocks, "/view/blocks", 1, surface.max_blocks());
        self.block_list(items, "/view/blocks", surface);
    }

    /// Each block, and that their ids are unique. (A message may have no blocks at all:
    /// `chat.update` with `[]` removes them.)
    fn block_list(&mut self, items: &[Value], pointer: &str, surface: Surface) {
        let mut block_ids = HashSet::new();
        for (index, block) in items.iter().enumerate() {
            let pointer = format!("{pointer}/{index}");
            if let Some(block_id) = block.get("block_id").and_then(Value::as_str) {
                if !block_ids.insert(block_id) {
                    self.fail(
                        &format!("{pointer}/block_id"),
                        format!("duplicate block_id: {block_id}"),
                    );
                }
            }
            self.block(block, &pointer, surface);
        }
    }

    fn block(&mut self, value: &Value, pointer: &str, surface: Surface) {
        let Some(block) = self.object(value, pointer) else {
            return;
        };
        self.string(block.get("block_id"), &format!("{pointer}/block_id"), 255);
        let field = |name: &str| format!("{pointer}/{name}");
        let mut action_ids = HashSet::new();
        match block.get("type").and_then(Value::as_str) {
            Some("section") => {
                let text = block.get("text");
                self.text_object(text, &field("text"), 3000, TextKind::Any, false);
                let fields = self.array(block.get("fields"), &field("fields"), 0, 10);
                for (index, item) in fields.iter().enumerate() {
                    let pointer = format!("{}/{index}", field("fields"));
                    self.text_object(Some(item), &pointer, 2000, TextKind::Any, true);
                }
                if text.is_none() && block.get("fields").is_none() {
                    self.fail(pointer, "must provide either text or fields");
                }
                if let Some(accessory) = block.get("accessory") {
                    let place = ElementPlace::Accessory;
                    check_element(self, accessory, &field("accessory"), place, &mut action_ids);
                }
            }
            Some("header") => {
                let text = block.get("text");
                self.text_object(text, &field("text"), 150, TextKind::PlainOnly, true);
            }
            Some("divider") => {}
            Some("image") => self.image(value, pointer, true),
            Some("context") => {
                let elements = self.array(block.get("elements"), &field("elements"), 1, 10);
                for (index, element) in elements.iter().enumerate() {
                    let pointer = format!("{}/{index}", field("elements"));
                    match element.get("type").and_then(Value::as_str) {
                        Some("image") => self.image(element, &pointer, false),
                        _ => self.text_object(Some(element), &pointer, 3000, TextKind::Any, true),
                    }
                }
            }
            Some("actions") => {
                let elements = self.array(block.get("elements"), &field("elements"), 1, 25);
                for (index, element) in elements.iter().enumerate() {
                    let pointer = format!("{}/{index}", field("elements"));
                    check_element(
                        self,
                        element,
                        &pointer,
                        ElementPlace::Actions,
                        &mut action_ids,
                    );
                }
            }
            Some("input") => {
                let label = block.get("label");
                self.text_object(label, &field("label"), 2000, TextKind::PlainOnly, true);
                let hint = block.get("hint");
                self.text_object(hint, &field("hint"), 2000, TextKind::PlainOnly, false);
                match block.get("element") {
                    Some(element) => {
                        let place = ElementPlace::Input;
                        check_element(self, element, &field("element"), place, &mut action_ids);
                    }
                    None => self.fail(&field("element"), "missing required field"),
                }
            }
            Some("markdown") if surface == Surface::Message => {
                self.required_string(block.get("text"), &field("text"), 12_000);
                let chars = block
                    .get("text")
                    .and_then(Value::as_str)
                    .map_or(0, |t| t.chars().count());
                self.markdown_chars += chars;
                if self.markdown_chars > MARKDOWN_MAX_CHARS_PER_PAYLOAD {
                    self.fail(
                        &field("text"),
                        "markdown blocks exceed 12000 characters in total",
                    );
                }
            }
            Some("rich_text") => {
                self.array(block.get("elements"), &field("elements"), 1, usize::MAX);
            }
            Some("video") => {
                self.text_object(
                    block.get("title"),
                    &field("title"),
                    200,
                    TextKind::PlainOnly,
                    true,
                );
                for required in ["video_url", "thumbnail_url", "alt_text"] {
                    self.required_string(block.get(required), &field(required), 3000);
                }
            }
            Some(other) => self.fail(&field("type"), format!("unsupported type: {other}")),
            None => self.fail(&field("type"), "missing required field"),
        }
    }

    /// An image block (with an optional title) or image element.
    pub(super) fn image(&mut self, image: &Value, pointer: &str, is_block: bool) {
        let Some(image) = self.object(image, pointer) else {
            return;
        };
        // An image may instead be a file already in Slack (`slack_file`); nothing to measure then.
        if !image.contains_key("slack_file") {
            self.required_string(
                image.get("image_url"),
                &format!("{pointer}/image_url"),
                3000,
            );
        }
        self.required_string(image.get("alt_text"), &format!("{pointer}/alt_text"), 2000);
        if is_block {
            let title = image.get("title");
            self.text_object(
                title,
                &format!("{pointer}/title"),
                2000,
                TextKind::PlainOnly,
                false,
            );
        }
    }
}

fn has_input_block(view: &Map<String, Value>) -> bool {
    view.get("blocks")
        .and_then(Value::as_array)
        .is_some_and(|blocks| {
            blocks
                .iter()
                .any(|block| block.get("type").and_then(Value::as_str) == Some("input"))
        })
}

#[cfg(test)]
mod tests;
