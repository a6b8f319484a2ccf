//! Interactive elements (buttons, selects, inputs) and where each may appear.

use super::{Checker, TextKind};
use serde_json::{Map, Value};
use std::collections::HashSet;

/// The container an element sits in. Text inputs exist only inside input blocks (a
/// `plain_text_input` in an actions block is `invalid_blocks`), and buttons never inside them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(in crate::fake_slack) enum ElementPlace {
    Actions,
    Accessory,
    Input,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ElementKind {
    Button,
    /// `static_select` and `multi_static_select`, which carry their options.
    StaticSelect,
    /// Selects whose options come from elsewhere (users, conversations, an options URL).
    SourcedSelect,
    Overflow,
    /// Checkboxes and radio buttons.
    Choices,
    /// Date, time and date-time pickers.
    Picker,
    TextInput,
    FileInput,
    Image,
    WorkflowButton,
}

fn kind_of(element_type: &str) -> Option<ElementKind> {
    Some(match element_type {
        "button" => ElementKind::Button,
        "static_select" | "multi_static_select" => ElementKind::StaticSelect,
        "external_select"
        | "multi_external_select"
        | "users_select"
        | "multi_users_select"
        | "conversations_select"
        | "multi_conversations_select"
        | "channels_select"
        | "multi_channels_select" => ElementKind::SourcedSelect,
        "overflow" => ElementKind::Overflow,
        "checkboxes" | "radio_buttons" => ElementKind::Choices,
        "datepicker" | "timepicker" | "datetimepicker" => ElementKind::Picker,
        "plain_text_input" | "email_text_input" | "url_text_input" | "number_text_input"
        | "rich_text_input" => ElementKind::TextInput,
        "file_input" => ElementKind::FileInput,
        "image" => ElementKind::Image,
        "workflow_button" => ElementKind::WorkflowButton,
        _ => return None,
    })
}

fn allowed_in(kind: ElementKind, place: ElementPlace) -> bool {
    use ElementKind::*;
    match place {
        ElementPlace::Input => !matches!(kind, Button | Overflow | Image | WorkflowButton),
        ElementPlace::Actions => !matches!(kind, TextInput | FileInput | Image),
        ElementPlace::Accessory => !matches!(kind, TextInput | FileInput),
    }
}

/// Checks one element; `action_ids` collects the block's action ids, which must be unique in it.
pub(in crate::fake_slack) fn check_element<'v>(
    checker: &mut Checker,
    value: &'v Value,
    pointer: &str,
    place: ElementPlace,
    action_ids: &mut HashSet<&'v str>,
) {
    let Some(element) = checker.object(value, pointer) else {
        return;
    };
    let field = |name: &str| format!("{pointer}/{name}");
    let element_type = element.get("type").and_then(Value::as_str).unwrap_or("");
    let Some(kind) = kind_of(element_type) else {
        checker.fail(&field("type"), format!("unsupported type: {element_type}"));
        return;
    };
    if !allowed_in(kind, place) {
        checker.fail(
            &field("type"),
            format!("{element_type} is not allowed in this block"),
        );
        return;
    }
    if kind == ElementKind::Image {
        checker.image(value, pointer, false);
        return;
    }
    checker.string(element.get("action_id"), &field("action_id"), 255);
    if let Some(action_id) = element.get("action_id").and_then(Value::as_str) {
        if !action_ids.insert(action_id) {
            checker.fail(
                &field("action_id"),
                format!("duplicate action_id: {action_id}"),
            );
        }
    }
    let placeholder = element.get("placeholder");
    match kind {
        ElementKind::Button => button(checker, element, pointer),
        ElementKind::StaticSelect => {
            checker.text_object(
                placeholder,
                &field("placeholder"),
                150,
                TextKind::PlainOnly,
                false,
            );
            static_select_options(checker, element, pointer);
        }
        ElementKind::SourcedSelect | ElementKind::Picker => {
            checker.text_object(
                placeholder,
                &field("placeholder"),
                150,
                TextKind::PlainOnly,
                false,
            );
        }
        ElementKind::Overflow => {
            let options = checker.array(element.get("options"), &field("options"), 1, 5);
            each_option(checker, options, &field("options"), TextKind::PlainOnly);
        }
        ElementKind::Choices => {
            let options = checker.array(element.get("options"), &field("options"), 1, 10);
            each_option(checker, options, &field("options"), TextKind::Any);
        }
        ElementKind::TextInput => {
            checker.text_object(
                placeholder,
                &field("placeholder"),
                150,
                TextKind::PlainOnly,
                false,
            );
            length_bound(checker, element, &field("min_length"), "min_length", 0);
            length_bound(checker, element, &field("max_length"), "max_length", 1);
        }
        ElementKind::FileInput | ElementKind::WorkflowButton | ElementKind::Image => {}
    }
    if let Some(confirm) = element.get("confirm") {
        confirm_dialog(checker, confirm, &field("confirm"));
    }
}

fn button(checker: &mut Checker, button: &Map<String, Value>, pointer: &str) {
    let field = |name: &str| format!("{pointer}/{name}");
    checker.text_object(
        button.get("text"),
        &field("text"),
        75,
        TextKind::PlainOnly,
        true,
    );
    checker.string(button.get("value"), &field("value"), 2000);
    checker.string(button.get("url"), &field("url"), 3000);
    checker.string(
        button.get("accessibility_label"),
        &field("accessibility_label"),
        75,
    );
    match button.get("style").map(|style| style.as_str()) {
        None | Some(Some("primary" | "danger")) => {}
        Some(_) => checker.fail(&field("style"), "must be one of: primary, danger"),
    }
}

/// Exactly one of `options` or `option_groups`, up to 100 of either.
fn static_select_options(checker: &mut Checker, select: &Map<String, Value>, pointer: &str) {
    let field = |name: &str| format!("{pointer}/{name}");
    match (select.get("options"), select.get("option_groups")) {
        (Some(_), Some(_)) => {
            checker.fail(pointer, "must provide options or option_groups, not both")
        }
        (None, None) => checker.fail(&field("options"), "missing required field"),
        (Some(options), None) => {
            let options = checker.array(Some(options), &field("options"), 1, 100);
            each_option(checker, options, &field("options"), TextKind::PlainOnly);
        }
        (None, Some(groups)) => {
            let groups = checker.array(Some(groups), &field("option_groups"), 1, 100);
            for (index, group) in groups.iter().enumerate() {
                let pointer = format!("{}/{index}", field("option_groups"));
                let label = group.get("label");
                checker.text_object(
                    label,
                    &format!("{pointer}/label"),
                    75,
                    TextKind::PlainOnly,
                    true,
                );
                let options =
                    checker.array(group.get("options"), &format!("{pointer}/options"), 1, 100);
                each_option(
                    checker,
                    options,
                    &format!("{pointer}/options"),
                    TextKind::PlainOnly,
                );
            }
        }
    }
}

/// Option objects: text up to 75 characters, value up to 150, description up to 75.
fn each_option(checker: &mut Checker, options: &[Value], pointer: &str, text_kind: TextKind) {
    for (index, option) in options.iter().enumerate() {
        let pointer = format!("{pointer}/{index}");
        let Some(option) = checker.object(option, &pointer) else {
            continue;
        };
        let field = |name: &str| format!("{pointer}/{name}");
        checker.text_object(option.get("text"), &field("text"), 75, text_kind, true);
        checker.required_string(option.get("value"), &field("value"), 150);
        let description = option.get("description");
        checker.text_object(description, &field("description"), 75, text_kind, false);
        checker.string(option.get("url"), &field("url"), 3000);
    }
}

/// `min_length` / `max_length` of a text input: whole numbers from `lowest` to 3000.
fn length_bound(
    checker: &mut Checker,
    input: &Map<String, Value>,
    pointer: &str,
    name: &str,
    lowest: u64,
) {
    let Some(value) = input.get(name) else {
        return;
    };
    match value.as_u64() {
        Some(bound) if (lowest..=3000).contains(&bound) => {}
        _ => checker.fail(pointer, format!("must be a number from {lowest} to 3000")),
    }
}

/// A confirmation dialog on a button or select.
fn confirm_dialog(checker: &mut Checker, confirm: &Value, pointer: &str) {
    let Some(confirm) = checker.object(confirm, pointer) else {
        return;
    };
    let field = |name: &str| format!("{pointer}/{name}");
    checker.text_object(
        confirm.get("title"),
        &field("title"),
        100,
        TextKind::PlainOnly,
        true,
    );
    checker.text_object(
        confirm.get("text"),
        &field("text"),
        300,
        TextKind::Any,
        true,
    );
    checker.text_object(
        confirm.get("confirm"),
        &field("confirm"),
        30,
        TextKind::PlainOnly,
        true,
    );
    checker.text_object(
        confirm.get("deny"),
        &field("deny"),
        30,
        TextKind::PlainOnly,
        true,
    );
}
