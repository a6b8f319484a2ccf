//! The questions modal (opened, updated as answers change, submitted) and the reason modals of
//! Deny and Can't do it; options for external selects.
//!
//! A submission creates the request exactly once: the view id is the submission's client key, so a
//! repeated submission of the same view returns the first request. Problems with the answers come
//! back inline (`response_action: errors`); anything else replaces the modal with a sentence.

use super::actions::{say, ReplyTo};
use super::work::SlackWork;
use super::{Ack, SlackInbound};
use crate::blocks::PrivateMetadata;
use crate::inbound::{BlockSuggestion, View, ViewSubmission};
use crate::modal::{
    errors_response, parse_submission, question_block_id, request_modal, suggest_options,
    visible_answers, Prefill, ANSWER_ACTION, CALLBACK_ID,
};
use crate::render::{
    flow_suggestions, info_modal, parse_request_action_value, parse_step_action_value,
    reason_from_state, DENY_CALLBACK_ID, EXTEND_CALLBACK_ID, FAIL_CALLBACK_ID, PICK_FLOW_ACTION,
    REASON_BLOCK,
};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sesame_app::{AppError, Principal};
use sesame_core::answers::Answers;
use sesame_core::engine::Command;
use sesame_core::flow::{Flow, QuestionKind};
use sesame_core::DomainError;
use std::collections::BTreeMap;

/// What the questions modal remembers between opening and submitting.
#[derive(Debug, Serialize, Deserialize)]
struct RequestModalState {
    flow: String,
    /// What the person wrote before choosing the flow, for the matcher to learn from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    typed: Option<String>,
}

/// Room for the typed text in `private_metadata` (3000 characters with the JSON around it).
const TYPED_IN_METADATA: usize = 2000;

fn modal_state(view: &View) -> Option<RequestModalState> {
    serde_json::from_str(&view.private_metadata).ok()
}

/// Replaces the modal with a sentence.
fn replace_with(text: &str) -> Ack {
    Ack::Json(json!({ "response_action": "update", "view": info_modal("Sesame", text) }))
}

fn inline_error(block: &str, text: &str) -> Ack {
    Ack::Json(json!({ "response_action": "errors", "errors": { block: text } }))
}

impl SlackInbound {
    /// Opens `flow`'s questions for `who`, pre-filled from what they typed.
    pub(super) async fn open_request_modal(
        &self,
        to: &ReplyTo,
        who: &Principal,
        flow_id: &str,
        typed: Option<&str>,
    ) -> Result<(), String> {
        let allowed = self.app.requestable_flows(who);
        let Some(flow) = allowed.iter().find(|f| f.id.as_str() == flow_id).cloned() else {
            return Err(String::from(
                "That flow is not one you can request (it may have been removed).",
            ));
        };
        let mut prefill = Prefill::default();
        if let Some(typed) = typed {
            let extracted = self.app.match_text(&allowed, typed).extracted;
            // "until Friday" becomes the span from now, in whole hours rounded up.
            let until = extracted.until.map(|end| {
                let hours = (end.millis() - self.app.time().millis()).div_euclid(3_600_000) + 1;
                sesame_core::Span::from_seconds(hours.max(1) * 3600)
            });
            prefill.duration = extracted.duration.or(until);
            // Only the person's own words: the matcher leaves it empty for flows without one.
            prefill.justification = extracted.justification.or_else(|| Some(typed.to_owned()));
        }
        let state = RequestModalState {
            flow: flow.id.to_string(),
            typed: typed.map(|t| t.chars().take(TYPED_IN_METADATA).collect()),
        };
        let metadata = PrivateMetadata::new(serde_json::to_string(&state).unwrap_or_default())
            .unwrap_or_default();
        self.open_modal(
            to,
            request_modal(&flow, &prefill, &Answers::new(), &metadata),
        )
        .await
    }

    /// An answer that decides which questions show changed: rebuild the modal for the answers so
    /// far. Slack keeps what was typed in inputs whose ids stay the same.
    pub(super) async fn answers_changed(&self, view: View) -> Result<(), String> {
        let Some(state) = modal_state(&view) else {
            return Ok(());
        };
        let Some(flow) = self.app.catalog().get(&state.flow).cloned() else {
            return Ok(());
        };
        let directory = self.app.directory();
        let raw = parse_submission(&flow, &view.state_values(), |slack_id| {
            match self.people.lookup_cached(&directory, slack_id) {
                Some(sesame_core::chat_person::ChatPerson::Known { user, .. }) => {
                    Some(user.to_string())
                }
                _ => None,
            }
        });
        let answers = visible_answers(&flow, &raw);
        let metadata = PrivateMetadata::new(view.private_metadata.clone()).unwrap_or_default();
        let updated = request_modal(&flow, &Prefill::default(), &answers, &metadata);
        let work = SlackWork::UpdateView {
            view_id: view.id.clone(),
            hash: view.hash.clone(),
            view: updated,
        };
        self.app
            .owe_now(work.job())
            .await
            .map_err(|e| e.to_string())
    }

    pub(super) async fn view_submission(&self, submitted: ViewSubmission) -> Ack {
        let view = &submitted.view;
        let who = match self.principal(&submitted.user.id).await {
            Ok(who) => who,
            Err(refusal) => return replace_with(&refusal),
        };
        match view.callback_id.as_str() {
            CALLBACK_ID => self.submit_request(&who, view).await,
            DENY_CALLBACK_ID => {
                let Ok((number, step)) = parse_step_action_value(&view.private_metadata) else {
                    return replace_with("This form no longer names a request.");
                };
                let Some(reason) = reason_from_state(&view.state_values()) else {
                    return inline_error(REASON_BLOCK, "Please say why you deny the request.");
                };
                let command = Command::Deny {
                    step: Some(step),
                    reason,
                };
                self.decision_from_modal(&who, number, command).await
            }
            FAIL_CALLBACK_ID => {
                let Ok(number) = parse_request_action_value(&view.private_metadata) else {
                    return replace_with("This form no longer names a request.");
                };
                let Some(reason) = reason_from_state(&view.state_values()) else {
                    return inline_error(REASON_BLOCK, "Please say why it cannot be done.");
                };
                let command = Command::FailFulfilment { reason };
                self.decision_from_modal(&who, number, command).await
            }
            EXTEND_CALLBACK_ID => self.submit_extension(&who, view).await,
            _ => Ack::Empty,
        }
    }

    async fn decision_from_modal(
        &self,
        who: &Principal,
        number: sesame_core::RequestNumber,
        command: Command,
    ) -> Ack {
        match self.decide(who, number, command).await {
            Ok(()) => Ack::Json(json!({ "response_action": "clear" })),
            Err(text) => inline_error(REASON_BLOCK, &text),
        }
    }

    async fn submit_request(&self, who: &Principal, view: &View) -> Ack {
        let Some(state) = modal_state(view) else {
            return replace_with("This form is damaged; please start again.");
        };
        let Some(flow) = self.app.catalog().get(&state.flow).cloned() else {
            return replace_with("This flow was removed while you were filling it in.");
        };
        let values = view.state_values();
        // Someone else picked in "For someone else?" must be a person Sesame knows; picking
        // oneself is the same as leaving it empty.
        let on_behalf_of = match crate::modal::picked_requester(&values) {
            None => None,
            Some(slack_id) => match self.directory_id_of(slack_id).await {
                Some(person) if person != who.user.as_str() => Some(person),
                Some(_) => None,
                None => {
                    return inline_error(
                        crate::modal::REQUESTER_BLOCK,
                        "Sesame cannot find this person in its directory.",
                    )
                }
            },
        };
        let people = self.people_picked(&flow, &values).await;
        let raw = parse_submission(&flow, &values, |slack_id| people.get(slack_id).cloned());
        let client_key = format!("slack-view:{}", view.id);
        match self
            .app
            .submit(
                who,
                flow.id.as_str(),
                on_behalf_of.as_deref(),
                raw.clone(),
                Some(&client_key),
            )
            .await
        {
            Ok(_) => {
                if let Some(typed) = &state.typed {
                    self.learn_once(who, &view.id, typed, &flow).await;
                }
                Ack::Json(json!({ "response_action": "clear" }))
            }
            Err(AppError::Domain(DomainError::InvalidSubmission(errors))) => {
                Ack::Json(errors_response(&flow, &raw, &errors))
            }
            // Asking for someone who may not have this (or a flow that does not allow it): said
            // next to the person, so the rest of the form is kept.
            Err(AppError::Domain(DomainError::NotAllowed(why))) if on_behalf_of.is_some() => {
                inline_error(crate::modal::REQUESTER_BLOCK, &why)
            }
            Err(e) => replace_with(&say(&e)),
        }
    }

    /// Remembers what the person typed and the flow they submitted, once per modal however often
    /// the submission is delivered. Failing to remember only costs the matcher a lesson.
    async fn learn_once(&self, who: &Principal, view_id: &str, typed: &str, flow: &Flow) {
        let first = self.app.first_time("slack-choice", view_id).await;
        let learned = match first {
            Ok(true) => self.app.record_choice(who, typed, &flow.id).await,
            Ok(false) => Ok(()),
            Err(e) => Err(e),
        };
        if let Err(e) = learned {
            tracing::warn!(error = %e, "the choice was not remembered for matching");
        }
    }

    /// The directory ids of the Slack users picked in the form's `user` questions.
    async fn people_picked(&self, flow: &Flow, values: &Value) -> BTreeMap<String, String> {
        let mut found = BTreeMap::new();
        for question in flow
            .questions
            .iter()
            .filter(|q| matches!(q.kind, QuestionKind::User))
        {
            let picked = values
                .get(question_block_id(&question.id))
                .and_then(|b| b.get(ANSWER_ACTION))
                .and_then(|a| a.get("selected_user"))
                .and_then(Value::as_str);
            if let Some(slack_id) = picked {
                if let Some(user) = self.directory_id_of(slack_id).await {
                    found.insert(slack_id.to_owned(), user);
                }
            }
        }
        found
    }

    /// Options for an external select: the flow picker, or a question with many options.
    pub(super) fn suggestion(&self, typed: BlockSuggestion) -> Ack {
        if typed.action_id == PICK_FLOW_ACTION {
            let directory = self.app.directory();
            let who = match self.people.lookup_cached(&directory, &typed.user.id) {
                Some(sesame_core::chat_person::ChatPerson::Known { user, .. }) => {
                    self.app.principal(&user)
                }
                _ => return Ack::Json(json!({ "options": [] })),
            };
            let Ok(who) = who else {
                return Ack::Json(json!({ "options": [] }));
            };
            let flows = self.app.requestable_flows(&who);
            let refs: Vec<&Flow> = flows.iter().collect();
            return Ack::Json(flow_suggestions(&refs, &typed.value));
        }
        let flow = typed
            .view
            .as_ref()
            .and_then(modal_state)
            .and_then(|state| self.app.catalog().get(&state.flow).cloned());
        match flow {
            Some(flow) => Ack::Json(suggest_options(&flow, &typed.block_id, &typed.value)),
            None => Ack::Json(json!({ "options": [] })),
        }
    }
}
