//! Clicks and selections (`block_actions`): picking a flow (Home tab, match replies, pickers),
//! Approve and Deny, Cancel, Done and Can't do it, and answers changing inside the questions modal.
//!
//! Who may act is decided by the engine against the request's recorded eligible people, never by
//! the button: a button only names the request and step. A click is remembered by (user, message,
//! action, action time) before it is acted on, so a click Slack delivers twice is acted on once; two
//! separate clicks on a decision meet the engine, which makes the second a no-op that says so.

use super::{Ack, SlackInbound};
use crate::inbound::{Action, BlockActions, Interaction};
use crate::modal::CALLBACK_ID;
use crate::render::{
    deny_modal, fail_modal, parse_request_action_value, parse_step_action_value,
    typed_text_of_block, APPROVE_ACTION, CANCEL_ACTION, COMPLETE_ACTION, DENY_ACTION,
    EXTEND_ACTION, FAIL_ACTION, PICK_FLOW_ACTION, RELINQUISH_ACTION, START_FLOW_ACTION,
};
use sesame_app::{AppError, Principal};
use sesame_core::engine::Command;
use sesame_core::{Duty, RequestNumber, State};
use std::sync::Arc;

const CLICK_SOURCE: &str = "slack-click";

/// What a person is told when their action failed; storage problems stay in the logs.
pub(super) fn say(error: &AppError) -> String {
    match error {
        AppError::Storage(_) => String::from(
            "Sesame could not save that just now. Nothing was changed; please try again.",
        ),
        other => other.to_string(),
    }
}

/// Where to answer a person about a click: in the conversation, or in a modal when the click came
/// from the Home tab, which has no conversation.
#[derive(Clone)]
pub(super) struct ReplyTo {
    pub(super) channel: Option<String>,
    pub(super) slack_user: String,
    pub(super) trigger_id: String,
}

impl SlackInbound {
    pub(crate) async fn interaction(
        self: &Arc<Self>,
        interaction: Interaction,
    ) -> Result<Ack, String> {
        match interaction {
            Interaction::BlockActions(clicked) => self.block_actions(clicked).await,
            Interaction::ViewSubmission(submitted) => Ok(self.view_submission(submitted).await),
            Interaction::BlockSuggestion(typed) => Ok(self.suggestion(typed)),
            Interaction::ViewClosed(_) | Interaction::Other(_) => Ok(Ack::Empty),
        }
    }

    /// Tells a person something after the acknowledgement: in the conversation, or in a modal
    /// when the click came from the Home tab.
    pub(super) async fn explain(&self, to: &ReplyTo, text: String) -> Result<(), String> {
        if to.channel.is_some() || to.trigger_id.is_empty() {
            return self.tell(to.channel.clone(), &to.slack_user, text).await;
        }
        self.open_info(&to.trigger_id, &text, &to.slack_user).await
    }

    /// Opens a modal with the click's trigger id, at once after committing it: the id expires
    /// three seconds after the click. When Slack says it expired (a slow moment), the person is
    /// told to click again.
    pub(super) async fn open_modal(
        &self,
        to: &ReplyTo,
        view: serde_json::Value,
    ) -> Result<(), String> {
        self.open_view(&to.trigger_id, view, to.channel.clone(), &to.slack_user)
            .await
    }

    async fn block_actions(&self, clicked: BlockActions) -> Result<Ack, String> {
        let Some(action) = clicked.actions.first() else {
            return Ok(Ack::Empty);
        };
        if let Some(view) = clicked
            .view
            .as_ref()
            .filter(|v| v.callback_id == CALLBACK_ID)
        {
            self.answers_changed(view.clone()).await?;
            return Ok(Ack::Empty);
        }
        if !self.first_click(&clicked, action).await? {
            return Ok(Ack::Empty);
        }
        let reply_to = ReplyTo {
            channel: clicked.container.channel_id.clone(),
            slack_user: clicked.user.id.clone(),
            trigger_id: clicked.trigger_id.clone(),
        };
        let who = match self.principal(&clicked.user.id).await {
            Ok(who) => who,
            Err(refusal) => {
                self.explain(&reply_to, refusal).await?;
                return Ok(Ack::Empty);
            }
        };
        let value = action.value.as_deref().unwrap_or_default();
        let outcome = match action.action_id.as_str() {
            PICK_FLOW_ACTION | START_FLOW_ACTION => {
                let flow = match &action.selected_option {
                    Some(chosen) => chosen.value.as_str(),
                    None => value,
                };
                let typed = typed_text_of_block(&action.block_id);
                self.open_request_modal(&reply_to, &who, flow, typed).await
            }
            APPROVE_ACTION => match parse_step_action_value(value) {
                Ok((number, step)) => {
                    self.decide(
                        &who,
                        number,
                        Command::Approve {
                            step: Some(step),
                            comment: None,
                        },
                    )
                    .await
                }
                Err(e) => Err(e.to_string()),
            },
            DENY_ACTION => match parse_step_action_value(value) {
                Ok((number, step)) => {
                    self.open_reason_modal(
                        &reply_to,
                        &who,
                        number,
                        Duty::Approve,
                        deny_modal(number, step),
                    )
                    .await
                }
                Err(e) => Err(e.to_string()),
            },
            CANCEL_ACTION => match parse_request_action_value(value) {
                Ok(number) => {
                    self.decide(&who, number, Command::Cancel { reason: None })
                        .await
                }
                Err(e) => Err(e.to_string()),
            },
            COMPLETE_ACTION => match parse_request_action_value(value) {
                Ok(number) => {
                    self.decide(&who, number, Command::CompleteFulfilment { note: None })
                        .await
                }
                Err(e) => Err(e.to_string()),
            },
            FAIL_ACTION => match parse_request_action_value(value) {
                Ok(number) => {
                    self.open_reason_modal(
                        &reply_to,
                        &who,
                        number,
                        Duty::Fulfil,
                        fail_modal(number),
                    )
                    .await
                }
                Err(e) => Err(e.to_string()),
            },
            EXTEND_ACTION => match parse_request_action_value(value) {
                Ok(number) => self.open_extend_modal(&reply_to, &who, number).await,
                Err(e) => Err(e.to_string()),
            },
            RELINQUISH_ACTION => match parse_request_action_value(value) {
                Ok(number) => self.relinquish(&who, number).await,
                Err(e) => Err(e.to_string()),
            },
            _ => Ok(()),
        };
        if let Err(text) = outcome {
            self.explain(&reply_to, text).await?;
        }
        Ok(Ack::Empty)
    }

    /// Remembers the click; false when it was seen before (a double click, a redelivery).
    async fn first_click(&self, clicked: &BlockActions, action: &Action) -> Result<bool, String> {
        let Some(action_ts) = &action.action_ts else {
            return Ok(true);
        };
        let place = clicked
            .container
            .message_ts
            .as_deref()
            .or(clicked.container.view_id.as_deref())
            .unwrap_or_default();
        let key = format!(
            "{}:{place}:{}:{action_ts}",
            clicked.user.id, action.action_id
        );
        self.app
            .first_time(CLICK_SOURCE, &key)
            .await
            .map_err(|e| e.to_string())
    }

    /// Applies a decision; the messages that show it are updated through the outbox.
    pub(super) async fn decide(
        &self,
        who: &Principal,
        number: RequestNumber,
        command: Command,
    ) -> Result<(), String> {
        self.app
            .act(who, number, command)
            .await
            .map(|_| ())
            .map_err(|e| say(&e))
    }

    /// Opens the modal asking for a reason (deny, can't do it), after checking the person is asked
    /// to act on the request now, so nobody types a reason that is then refused.
    async fn open_reason_modal(
        &self,
        to: &ReplyTo,
        who: &Principal,
        number: RequestNumber,
        duty: Duty,
        modal: serde_json::Value,
    ) -> Result<(), String> {
        let request = self
            .app
            .request_for(who, number)
            .await
            .map_err(|e| say(&e))?;
        if self.app.duty_of(who, &request) != Some(duty) {
            let state = match &request.state {
                State::PendingApproval { .. } | State::Fulfilling => {
                    String::from("waiting on others")
                }
                other => other.name().replace('_', " "),
            };
            return Err(format!(
                "There is nothing for you to decide on {} now: it is {state}.",
                request.title()
            ));
        }
        self.open_modal(to, modal).await
    }
}
