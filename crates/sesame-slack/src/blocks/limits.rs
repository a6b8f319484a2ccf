//! Checks a finished payload against Slack's Block Kit limits: the same table the builders follow,
//! applied from the outside, so tests and the fake Slack server catch what a builder missed.

use super::*;
use serde_json::{Map, Value};

/// One limit a payload breaks, with the JSON path to the offending value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {problem}")]
pub struct LimitError {
    pub path: String,
    pub problem: String,
}

/// The first limit `payload` breaks. It accepts a list of blocks (a message's), a message
/// (`{text, blocks}`), a view (`type` modal or home), a `response_action` carrying a view, or an
/// options list answering a `block_suggestion`.
pub fn check_limits(payload: &Value) -> Result<(), LimitError> {
    limit_problems(payload)
        .into_iter()
        .next()
        .map_or(Ok(()), Err)
}

/// Every limit `payload` breaks.
pub fn limit_problems(payload: &Value) -> Vec<LimitError> {
    let mut checker = Checker::default();
    checker.payload(payload);
    checker.problems
}

fn chars(value: &Value) -> usize {
    value.as_str().map_or(0, |s| s.chars().count())
}

fn join(path: &str, key: impl std::fmt::Display) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}/{key}")
    }
}

#[derive(Default)]
struct Checker {
    problems: Vec<LimitError>,
}

impl Checker {
    fn problem(&mut self, path: &str, problem: impl Into<String>) {
        self.problems.push(LimitError {
            path: path.to_owned(),
            problem: problem.into(),
        });
    }

    fn at_most(&mut self, path: &str, value: Option<&Value>, max: usize) {
        if let Some(value) = value {
            let length = chars(value);
            if !value.is_string() {
                self.problem(path, "expected a string");
            } else if length > max {
                self.problem(
                    path,
                    format!("{length} characters; at most {max} are allowed"),
                );
            }
        }
    }

    fn count(&mut self, path: &str, items: Option<&Value>, max: usize) -> Vec<Value> {
        match items {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) => {
                if items.len() > max {
                    self.problem(
                        path,
                        format!("{} items; at most {max} are allowed", items.len()),
                    );
                }
                items.clone()
            }
            Some(_) => {
                self.problem(path, "expected a list");
                Vec::new()
            }
        }
    }

    fn payload(&mut self, payload: &Value) {
        match payload {
            Value::Array(_) => self.blocks("blocks", Some(payload), MAX_MESSAGE_BLOCKS),
            Value::Object(map) => match map.get("type").and_then(Value::as_str) {
                Some("modal" | "home") => self.view("", map),
                _ if map.get("view").is_some_and(Value::is_object) => {
                    if let Some(Value::Object(view)) = map.get("view") {
                        self.view("view", view);
                    }
                }
                _ if map.contains_key("options") => {
                    self.options("options", map.get("options"), MAX_OPTIONS, true, None);
                }
                // `response_action: errors` and `clear` carry no blocks.
                _ if map.contains_key("response_action") => {}
                _ if map.contains_key("blocks") || map.contains_key("text") => {
                    self.at_most("text", map.get("text"), MAX_MESSAGE_TEXT);
                    self.blocks("blocks", map.get("blocks"), MAX_MESSAGE_BLOCKS);
                }
                _ => self.problem("", "expected blocks, a message, a view or an options list"),
            },
            _ => self.problem("", "expected blocks, a message, a view or an options list"),
        }
    }

    fn view(&mut self, path: &str, view: &Map<String, Value>) {
        let size = Value::Object(view.clone()).to_string().len();
        if size > MAX_VIEW_BYTES {
            self.problem(
                path,
                format!("{size} bytes of JSON; at most {MAX_VIEW_BYTES} are allowed"),
            );
        }
        for (key, max) in [
            ("title", MAX_VIEW_TITLE),
            ("submit", MAX_VIEW_BUTTON),
            ("close", MAX_VIEW_BUTTON),
        ] {
            if let Some(text) = view.get(key) {
                self.text(&join(path, key), text, max, true);
            }
        }
        self.at_most(
            &join(path, "private_metadata"),
            view.get("private_metadata"),
            MAX_PRIVATE_METADATA,
        );
        self.at_most(&join(path, "callback_id"), view.get("callback_id"), MAX_ID);
        self.at_most(&join(path, "external_id"), view.get("external_id"), MAX_ID);
        self.blocks(&join(path, "blocks"), view.get("blocks"), MAX_VIEW_BLOCKS);
    }

    fn blocks(&mut self, path: &str, blocks: Option<&Value>, max: usize) {
        for (index, block) in self.count(path, blocks, max).iter().enumerate() {
            self.block(&join(path, index), block);
        }
    }

    /// A text object: plain_text or mrkdwn, with 1 to `max` characters.
    fn text(&mut self, path: &str, text: &Value, max: usize, plain_only: bool) {
        let kind = text.get("type").and_then(Value::as_str);
        match kind {
            Some("plain_text") => {}
            Some("mrkdwn") if !plain_only => {}
            _ if plain_only => self.problem(&join(path, "type"), "must be plain_text"),
            _ => self.problem(&join(path, "type"), "must be plain_text or mrkdwn"),
        }
        let inner = join(path, "text");
        match text.get("text") {
            Some(Value::String(s)) if s.is_empty() => self.problem(&inner, "must not be empty"),
            Some(value) => self.at_most(&inner, Some(value), max),
            None => self.problem(&inner, "is missing"),
        }
    }

    fn optional_text(&mut self, path: &str, text: Option<&Value>, max: usize, plain_only: bool) {
        if let Some(text) = text {
            self.text(path, text, max, plain_only);
        }
    }

    fn block(&mut self, path: &str, block: &Value) {
        self.at_most(&join(path, "block_id"), block.get("block_id"), MAX_ID);
        match block.get("type").and_then(Value::as_str) {
            Some("section") => {
                if block.get("text").is_none() && block.get("fields").is_none() {
                    self.problem(path, "a section needs text or fields");
                }
                self.optional_text(
                    &join(path, "text"),
                    block.get("text"),
                    MAX_SECTION_TEXT,
                    false,
                );
                let fields_path = join(path, "fields");
                for (i, field) in self
                    .count(&fields_path, block.get("fields"), MAX_FIELDS)
                    .iter()
                    .enumerate()
                {
                    self.text(&join(&fields_path, i), field, MAX_FIELD_TEXT, false);
                }
                if let Some(accessory) = block.get("accessory") {
                    self.element(&join(path, "accessory"), accessory);
                }
            }
            Some("header") => match block.get("text") {
                Some(text) => self.text(&join(path, "text"), text, MAX_HEADER_TEXT, true),
                None => self.problem(path, "a header needs text"),
            },
            Some("context") => {
                let elements_path = join(path, "elements");
                for (i, e) in self
                    .count(&elements_path, block.get("elements"), MAX_CONTEXT_ELEMENTS)
                    .iter()
                    .enumerate()
                {
                    if e.get("text").is_some() {
                        self.text(&join(&elements_path, i), e, MAX_TEXT_OBJECT, false);
                    }
                }
            }
            Some("actions") => {
                let elements_path = join(path, "elements");
                for (i, e) in self
                    .count(&elements_path, block.get("elements"), MAX_ACTIONS_ELEMENTS)
                    .iter()
                    .enumerate()
                {
                    self.element(&join(&elements_path, i), e);
                }
            }
            Some("input") => {
                match block.get("label") {
                    Some(label) => self.text(&join(path, "label"), label, MAX_LABEL, true),
                    None => self.problem(path, "an input needs a label"),
                }
                self.optional_text(&join(path, "hint"), block.get("hint"), MAX_HINT, true);
                match block.get("element") {
                    Some(element) => self.element(&join(path, "element"), element),
                    None => self.problem(path, "an input needs an element"),
                }
            }
            Some(_) => {}
            None => self.problem(&join(path, "type"), "is missing"),
        }
    }

    fn element(&mut self, path: &str, element: &Value) {
        self.at_most(&join(path, "action_id"), element.get("action_id"), MAX_ID);
        self.optional_text(
            &join(path, "placeholder"),
            element.get("placeholder"),
            MAX_PLACEHOLDER,
            true,
        );
        if let Some(confirm) = element.get("confirm") {
            self.confirm(&join(path, "confirm"), confirm);
        }
        let initial = element
            .get("initial_option")
            .map(|o| vec![o.clone()])
            .or_else(|| {
                element
                    .get("initial_options")
                    .and_then(Value::as_array)
                    .cloned()
            });
        match element.get("type").and_then(Value::as_str) {
            Some("button") => {
                match element.get("text") {
                    Some(text) => self.text(&join(path, "text"), text, MAX_BUTTON_TEXT, true),
                    None => self.problem(path, "a button needs text"),
                }
                self.at_most(&join(path, "value"), element.get("value"), MAX_BUTTON_VALUE);
                self.at_most(&join(path, "url"), element.get("url"), MAX_BUTTON_URL);
            }
            Some("static_select" | "multi_static_select") => {
                self.options(
                    &join(path, "options"),
                    element.get("options"),
                    MAX_OPTIONS,
                    true,
                    initial.as_deref(),
                );
                let groups_path = join(path, "option_groups");
                for (i, group) in self
                    .count(&groups_path, element.get("option_groups"), MAX_OPTIONS)
                    .iter()
                    .enumerate()
                {
                    self.options(
                        &join(&join(&groups_path, i), "options"),
                        group.get("options"),
                        MAX_OPTIONS,
                        true,
                        None,
                    );
                }
            }
            Some("radio_buttons" | "checkboxes") => {
                self.options(
                    &join(path, "options"),
                    element.get("options"),
                    MAX_RADIO_OPTIONS,
                    false,
                    initial.as_deref(),
                );
            }
            Some("plain_text_input") => {
                let max_length = element.get("max_length").and_then(Value::as_u64);
                if let Some(n) = max_length.filter(|n| !(1..=MAX_INPUT_LENGTH as u64).contains(n)) {
                    self.problem(
                        &join(path, "max_length"),
                        format!("{n}; expected 1 to {MAX_INPUT_LENGTH}"),
                    );
                }
                let limit = max_length.map_or(MAX_INPUT_LENGTH, |n| n as usize);
                self.at_most(
                    &join(path, "initial_value"),
                    element.get("initial_value"),
                    limit,
                );
            }
            _ => {}
        }
    }

    /// Options of a select (plain text only) or of radio buttons and checkboxes (either kind), and
    /// whether the initial options are among them, which Slack insists on.
    fn options(
        &mut self,
        path: &str,
        options: Option<&Value>,
        max: usize,
        plain_only: bool,
        initial: Option<&[Value]>,
    ) {
        let options = self.count(path, options, max);
        for (i, option) in options.iter().enumerate() {
            let option_path = join(path, i);
            match option.get("text") {
                Some(text) => self.text(
                    &join(&option_path, "text"),
                    text,
                    MAX_OPTION_TEXT,
                    plain_only,
                ),
                None => self.problem(&option_path, "an option needs text"),
            }
            match option.get("value") {
                Some(value) => {
                    self.at_most(&join(&option_path, "value"), Some(value), MAX_OPTION_VALUE)
                }
                None => self.problem(&option_path, "an option needs a value"),
            }
        }
        if !options.is_empty() {
            for chosen in initial.unwrap_or_default() {
                if !options.contains(chosen) {
                    self.problem(path, "an initial option is not one of the options");
                }
            }
        }
    }

    fn confirm(&mut self, path: &str, confirm: &Value) {
        for (key, max, plain_only) in [
            ("title", MAX_CONFIRM_TITLE, true),
            ("text", MAX_CONFIRM_TEXT, false),
            ("confirm", MAX_CONFIRM_BUTTON, true),
            ("deny", MAX_CONFIRM_BUTTON, true),
        ] {
            match confirm.get(key) {
                Some(text) => self.text(&join(path, key), text, max, plain_only),
                None => self.problem(path, format!("a confirm dialog needs `{key}`")),
            }
        }
    }
}
