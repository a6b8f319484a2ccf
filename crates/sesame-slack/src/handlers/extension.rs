//! The buttons under "access ending soon": Extend opens a modal (how much longer, and why) whose
//! submission files an extension through the flow's approvals; Remove now (confirmed in Slack
//! first) ends the access at once. The engine decides who may do either, not the button.

use super::actions::{say, ReplyTo};
use super::{Ack, SlackInbound};
use crate::inbound::View;
use crate::render::{
    extend_modal, extension_duration_from_state, info_modal, parse_request_action_value,
    reason_from_state, EXTEND_DURATION_BLOCK, REASON_BLOCK,
};
use serde_json::json;
use sesame_app::{AppError, Principal};
use sesame_core::engine::Command;
use sesame_core::{DomainError, RequestNumber, State};

impl SlackInbound {
    /// Opens the Extend modal, after checking the access can still be extended, so nobody fills
    /// in a form that is then refused.
    pub(super) async fn open_extend_modal(
        &self,
        to: &ReplyTo,
        who: &Principal,
        number: RequestNumber,
    ) -> Result<(), String> {
        let request = self
            .app
            .request_for(who, number)
            .await
            .map_err(|e| say(&e))?;
        if request.requester != who.user && !who.admin {
            return Err(format!(
                "Only the person who holds the access can extend {}.",
                request.title()
            ));
        }
        if !matches!(request.state, State::Active { .. }) {
            return Err(format!(
                "{} is {}; only active access can be extended.",
                request.title(),
                request.state.name().replace('_', " ")
            ));
        }
        let catalog = self.app.catalog();
        let Some(policy) = catalog
            .get(request.flow.id.as_str())
            .and_then(|flow| flow.duration)
        else {
            return Err(format!(
                "{} can no longer be extended: its flow was removed or now grants access \
                 without an end.",
                request.title()
            ));
        };
        self.open_modal(to, extend_modal(number, &policy)).await
    }

    /// Remove now: the requester gives the access up (Slack asked them to confirm first).
    pub(super) async fn relinquish(
        &self,
        who: &Principal,
        number: RequestNumber,
    ) -> Result<(), String> {
        let reason = Some(String::from("removed early from Slack"));
        self.decide(who, number, Command::Revoke { reason }).await
    }

    /// The Extend modal was submitted: file the extension, or show what is wrong in the form.
    pub(super) async fn submit_extension(&self, who: &Principal, view: &View) -> Ack {
        let Ok(number) = parse_request_action_value(&view.private_metadata) else {
            return Ack::Json(json!({
                "response_action": "update",
                "view": info_modal("Sesame", "This form no longer names a request."),
            }));
        };
        let values = view.state_values();
        let duration = extension_duration_from_state(&values);
        let reason = reason_from_state(&values);
        match self.app.extend(who, number, duration, reason).await {
            Ok(extension) => Ack::Json(json!({
                "response_action": "update",
                "view": info_modal(
                    "Sesame",
                    &format!(
                        "Asked: {} extends {} once it is approved.",
                        extension.title(),
                        number
                    ),
                ),
            })),
            Err(AppError::Domain(DomainError::InvalidSubmission(errors))) => {
                let mut shown = serde_json::Map::new();
                for error in errors {
                    let block = if error.field == "duration" {
                        EXTEND_DURATION_BLOCK
                    } else {
                        REASON_BLOCK
                    };
                    shown.insert(block.to_owned(), json!(error.message));
                }
                Ack::Json(json!({ "response_action": "errors", "errors": shown }))
            }
            Err(e) => Ack::Json(json!({
                "response_action": "errors",
                "errors": { EXTEND_DURATION_BLOCK: say(&e) },
            })),
        }
    }
}
