//! What the requester can do when access ends soon: Extend (a modal asking how much longer and
//! why, which files an extension request through the flow's approvals) and Remove now (ending the
//! access at once, after a confirmation).

use super::{request_action_value, REASON_ACTION, REASON_BLOCK};
use crate::blocks::{
    actions, button, button_with_confirm, confirm_dialog, plain_text_input, ButtonStyle, Input,
    Modal, PrivateMetadata,
};
use crate::text::{Mrkdwn, PlainText};
use serde_json::Value;
use sesame_core::engine::MAX_REASON;
use sesame_core::flow::DurationPolicy;
use sesame_core::ids::RequestNumber;
use sesame_core::request::Request;

pub const EXTEND_ACTION: &str = "sesame_extend";
pub const RELINQUISH_ACTION: &str = "sesame_relinquish";
pub const EXTEND_CALLBACK_ID: &str = "sesame_extend_access";
pub const EXTEND_DURATION_BLOCK: &str = "sesame_extend_duration";
pub const EXTEND_DURATION_ACTION: &str = "sesame_extend_duration";

/// The buttons under an "access ending soon" reply.
pub fn ending_soon_actions(request: &Request) -> Value {
    let value = request_action_value(request.number);
    let confirm = confirm_dialog(
        &PlainText::new(&format!("Remove {} now?", request.title())),
        &Mrkdwn::literal(
            "Your access ends now instead of at its planned end. You can ask again later.",
        ),
        &PlainText::new("Remove now"),
        &PlainText::new("Keep it"),
    );
    actions(
        &format!("sesame_ending_{}", request.number.0),
        vec![
            button(
                EXTEND_ACTION,
                &PlainText::new("Extend"),
                &value,
                Some(ButtonStyle::Primary),
            ),
            button_with_confirm(
                RELINQUISH_ACTION,
                &PlainText::new("Remove now"),
                &value,
                Some(ButtonStyle::Danger),
                confirm,
            ),
        ],
    )
}

/// The modal asking how much longer and why. `policy` is the flow's duration rule, for the
/// default and the limit shown as a hint.
pub fn extend_modal(number: RequestNumber, policy: &DurationPolicy) -> Value {
    let default = policy.default.to_string();
    let duration = Input {
        block_id: String::from(EXTEND_DURATION_BLOCK),
        label: PlainText::new("How much longer?"),
        element: plain_text_input(
            EXTEND_DURATION_ACTION,
            false,
            20,
            Some(&default),
            Some(&PlainText::new("For example: 7d, 12h")),
        ),
        optional: false,
        hint: Some(PlainText::new(&format!(
            "Added to the current end; at most {}.",
            policy.max
        ))),
        dispatch_action: false,
    }
    .block();
    let reason = Input {
        block_id: String::from(REASON_BLOCK),
        label: PlainText::new("Why do you need it longer?"),
        element: plain_text_input(REASON_ACTION, true, MAX_REASON, None, None),
        optional: true,
        hint: Some(PlainText::new("The approvers see this.")),
        dispatch_action: false,
    }
    .block();
    Modal {
        callback_id: String::from(EXTEND_CALLBACK_ID),
        title: PlainText::new(&format!("Extend {number}")),
        submit: Some(PlainText::new("Ask")),
        close: PlainText::new("Back"),
        blocks: vec![duration, reason],
        private_metadata: PrivateMetadata::new(request_action_value(number)).unwrap_or_default(),
        notify_on_close: false,
    }
    .view()
}

/// The duration typed into the Extend modal, from `view.state.values`.
pub fn extension_duration_from_state(state_values: &Value) -> Option<String> {
    state_values
        .get(EXTEND_DURATION_BLOCK)?
        .get(EXTEND_DURATION_ACTION)?
        .get("value")?
        .as_str()
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::*;
    use super::*;
    use crate::blocks::check_limits;
    use serde_json::json;

    #[test]
    fn ending_soon_offers_extend_and_a_confirmed_remove_now() {
        let request = active();
        let block = ending_soon_actions(&request);
        let elements = block["elements"].as_array().expect("elements");
        assert_eq!(elements.len(), 2);
        assert_eq!(elements[0]["action_id"], EXTEND_ACTION);
        assert_eq!(elements[0]["value"], request.number.0.to_string());
        assert_eq!(elements[1]["action_id"], RELINQUISH_ACTION);
        assert_eq!(elements[1]["style"], "danger");
        assert!(elements[1]["confirm"]["title"]["text"]
            .as_str()
            .is_some_and(|t| t.starts_with("Remove ")));
        assert_eq!(check_limits(&json!([block])), Ok(()));
    }

    #[test]
    fn a_request_granted_by_a_connector_says_so_and_shows_the_target_systems_error() {
        let mut request = fulfilling();
        request.fulfilment = None;
        let mut progress = sesame_core::request::ProvisioningProgress::new("corp-ldap");
        progress.last_error = Some(String::from("<!channel> ldap down"));
        request.provisioning = Some(progress);
        let line = super::super::facts::status_line(&render_context(), &request);
        assert_eq!(
            line.as_str(),
            "Approved; Sesame is granting the access and keeps trying; the target system \
             answered: &lt;!channel&gt; ldap down"
        );
        request.extends = Some(RequestNumber(3));
        let line = super::super::facts::status_line(&render_context(), &request);
        assert_eq!(line.as_str(), "Approved; Sesame is extending the access");
    }

    #[test]
    fn the_extend_modal_names_the_request_and_reads_back_what_was_typed() {
        let policy = DurationPolicy {
            default: sesame_core::Span::parse("7d").expect("span"),
            max: sesame_core::Span::parse("30d").expect("span"),
            requester_chooses: true,
        };
        let view = extend_modal(RequestNumber(42), &policy);
        assert_eq!(check_limits(&view), Ok(()));
        assert_eq!(view["callback_id"], EXTEND_CALLBACK_ID);
        assert_eq!(view["private_metadata"], "42");
        assert_eq!(view["blocks"][0]["element"]["initial_value"], "1w");
        assert!(view["blocks"][0]["hint"]["text"]
            .as_str()
            .is_some_and(|h| h.contains("30d")));
        let values =
            json!({ EXTEND_DURATION_BLOCK: { EXTEND_DURATION_ACTION: { "value": " 3d " } } });
        assert_eq!(
            extension_duration_from_state(&values).as_deref(),
            Some("3d")
        );
        assert_eq!(extension_duration_from_state(&json!({})), None);
    }
}
