//! Interactive elements: buttons, selects, pickers and inputs.

use super::{
    id, mrkdwn_object, plain_object, MAX_BUTTON_TEXT, MAX_BUTTON_VALUE, MAX_CONFIRM_BUTTON,
    MAX_CONFIRM_TEXT, MAX_CONFIRM_TITLE, MAX_INPUT_LENGTH, MAX_OPTIONS, MAX_OPTION_TEXT,
    MAX_OPTION_VALUE, MAX_PLACEHOLDER, MAX_RADIO_OPTIONS,
};
use crate::text::{format_number, is_slack_user_id, Mrkdwn, PlainText};
use serde_json::{json, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ButtonStyle {
    Primary,
    Danger,
}

/// A button. Its value travels back to Sesame on click; values longer than 2000 characters are
/// cut, so callers keep them short (a request number and a step).
pub fn button(action_id: &str, text: &PlainText, value: &str, style: Option<ButtonStyle>) -> Value {
    let mut element = json!({
        "type": "button",
        "action_id": id(action_id),
        "text": plain_object(text, MAX_BUTTON_TEXT),
        "value": value.chars().take(MAX_BUTTON_VALUE).collect::<String>(),
    });
    match style {
        Some(ButtonStyle::Primary) => element["style"] = json!("primary"),
        Some(ButtonStyle::Danger) => element["style"] = json!("danger"),
        None => {}
    }
    element
}

/// A button that asks "are you sure?" first.
pub fn button_with_confirm(
    action_id: &str,
    text: &PlainText,
    value: &str,
    style: Option<ButtonStyle>,
    confirm: Value,
) -> Value {
    let mut element = button(action_id, text, value, style);
    element["confirm"] = confirm;
    element
}

pub fn confirm_dialog(
    title: &PlainText,
    text: &Mrkdwn,
    confirm: &PlainText,
    deny: &PlainText,
) -> Value {
    json!({
        "title": plain_object(title, MAX_CONFIRM_TITLE),
        "text": mrkdwn_object(text, MAX_CONFIRM_TEXT),
        "confirm": plain_object(confirm, MAX_CONFIRM_BUTTON),
        "deny": plain_object(deny, MAX_CONFIRM_BUTTON),
    })
}

/// An option of a select, radio group or checkbox group. Flow options are at most 75 characters
/// (the flow parser refuses longer ones), so their values round-trip uncut.
pub fn option(text: &PlainText, value: &str) -> Value {
    json!({
        "text": plain_object(text, MAX_OPTION_TEXT),
        "value": value.chars().take(MAX_OPTION_VALUE).collect::<String>(),
    })
}

/// Slack refuses an initial option that is not one of the options, so one that is not is dropped.
fn known_initial(options: &[Value], initial: Option<Value>) -> Option<Value> {
    initial.filter(|i| options.contains(i))
}

fn capped(options: Vec<Value>, max: usize) -> Vec<Value> {
    options.into_iter().take(max).collect()
}

fn placeholder_object(placeholder: &PlainText) -> Value {
    plain_object(placeholder, MAX_PLACEHOLDER)
}

/// A single choice from up to 100 options; use [`external_select`] for more.
pub fn static_select(
    action_id: &str,
    placeholder: &PlainText,
    options: Vec<Value>,
    initial: Option<Value>,
) -> Value {
    let options = capped(options, MAX_OPTIONS);
    let mut element = json!({
        "type": "static_select",
        "action_id": id(action_id),
        "placeholder": placeholder_object(placeholder),
    });
    if let Some(initial) = known_initial(&options, initial) {
        element["initial_option"] = initial;
    }
    element["options"] = Value::Array(options);
    element
}

/// A single choice searched on Slack's side: Slack asks Sesame for options as the person types
/// (`block_suggestion`), so there is no limit on how many exist.
pub fn external_select(
    action_id: &str,
    placeholder: &PlainText,
    min_query_length: u32,
    initial: Option<Value>,
) -> Value {
    let mut element = json!({
        "type": "external_select",
        "action_id": id(action_id),
        "placeholder": placeholder_object(placeholder),
        "min_query_length": min_query_length,
    });
    if let Some(initial) = initial {
        element["initial_option"] = initial;
    }
    element
}

pub fn multi_static_select(
    action_id: &str,
    placeholder: &PlainText,
    options: Vec<Value>,
    initial: Vec<Value>,
) -> Value {
    let options = capped(options, MAX_OPTIONS);
    let initial: Vec<Value> = initial
        .into_iter()
        .filter(|i| options.contains(i))
        .collect();
    let mut element = json!({
        "type": "multi_static_select",
        "action_id": id(action_id),
        "placeholder": placeholder_object(placeholder),
    });
    if !initial.is_empty() {
        element["initial_options"] = Value::Array(initial);
    }
    element["options"] = Value::Array(options);
    element
}

pub fn multi_external_select(
    action_id: &str,
    placeholder: &PlainText,
    min_query_length: u32,
    initial: Vec<Value>,
) -> Value {
    let mut element = json!({
        "type": "multi_external_select",
        "action_id": id(action_id),
        "placeholder": placeholder_object(placeholder),
        "min_query_length": min_query_length,
    });
    if !initial.is_empty() {
        element["initial_options"] = Value::Array(capped(initial, MAX_OPTIONS));
    }
    element
}

/// A date picker; an initial date that is not `YYYY-MM-DD` is left out rather than sent.
pub fn datepicker(action_id: &str, initial_date: Option<&str>) -> Value {
    let mut element = json!({ "type": "datepicker", "action_id": id(action_id) });
    let format = ::time::macros::format_description!("[year]-[month]-[day]");
    if let Some(date) = initial_date.filter(|d| ::time::Date::parse(d, &format).is_ok()) {
        element["initial_date"] = json!(date);
    }
    element
}

pub fn users_select(action_id: &str, placeholder: &PlainText, initial_user: Option<&str>) -> Value {
    let mut element = json!({
        "type": "users_select",
        "action_id": id(action_id),
        "placeholder": placeholder_object(placeholder),
    });
    if let Some(user) = initial_user.filter(|u| is_slack_user_id(u)) {
        element["initial_user"] = json!(user);
    }
    element
}

/// A number input. Slack takes the bounds and initial value as strings; bounds that contradict
/// each other are left out (the flow parser should already have refused them).
pub fn number_input(
    action_id: &str,
    is_decimal_allowed: bool,
    min: Option<f64>,
    max: Option<f64>,
    initial: Option<f64>,
) -> Value {
    let mut element = json!({
        "type": "number_input",
        "action_id": id(action_id),
        "is_decimal_allowed": is_decimal_allowed,
    });
    let (min, max) = match (min, max) {
        (Some(lo), Some(hi)) if lo > hi => (None, None),
        bounds => bounds,
    };
    if let Some(lo) = min.filter(|n| n.is_finite()) {
        element["min_value"] = json!(format_number(lo));
    }
    if let Some(hi) = max.filter(|n| n.is_finite()) {
        element["max_value"] = json!(format_number(hi));
    }
    if let Some(value) = initial.filter(|n| n.is_finite()) {
        element["initial_value"] = json!(format_number(value));
    }
    element
}

/// A text input of at most `max_length` characters (1 to 3000). The initial value is what the
/// person typed before, shown as typed; it is cut to fit `max_length`.
pub fn plain_text_input(
    action_id: &str,
    multiline: bool,
    max_length: usize,
    initial_value: Option<&str>,
    placeholder: Option<&PlainText>,
) -> Value {
    let max_length = max_length.clamp(1, MAX_INPUT_LENGTH);
    let mut element = json!({
        "type": "plain_text_input",
        "action_id": id(action_id),
        "multiline": multiline,
        "max_length": max_length,
    });
    if let Some(value) = initial_value.filter(|v| !v.is_empty()) {
        element["initial_value"] = json!(value.chars().take(max_length).collect::<String>());
    }
    if let Some(placeholder) = placeholder {
        element["placeholder"] = placeholder_object(placeholder);
    }
    element
}

pub fn radio_buttons(action_id: &str, options: Vec<Value>, initial: Option<Value>) -> Value {
    let options = capped(options, MAX_RADIO_OPTIONS);
    let mut element = json!({ "type": "radio_buttons", "action_id": id(action_id) });
    if let Some(initial) = known_initial(&options, initial) {
        element["initial_option"] = initial;
    }
    element["options"] = Value::Array(options);
    element
}

pub fn checkboxes(action_id: &str, options: Vec<Value>, initial: Vec<Value>) -> Value {
    let options = capped(options, MAX_RADIO_OPTIONS);
    let initial: Vec<Value> = initial
        .into_iter()
        .filter(|i| options.contains(i))
        .collect();
    let mut element = json!({ "type": "checkboxes", "action_id": id(action_id) });
    if !initial.is_empty() {
        element["initial_options"] = Value::Array(initial);
    }
    element["options"] = Value::Array(options);
    element
}

/// The answer to a `block_suggestion`: at most 100 options.
pub fn options_response(options: Vec<Value>) -> Value {
    json!({ "options": capped(options, MAX_OPTIONS) })
}
