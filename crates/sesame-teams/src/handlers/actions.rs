//! Universal Actions (`Action.Execute`): picking a flow, submitting the form, approving, denying,
//! marking fulfilment done or failed, and the automatic refresh. Each answers with the card Teams
//! shows in place of the clicked one. Permission is the engine's: a click from someone who may not
//! decide, or after someone else did, changes nothing and gets the current card with the reason.

use super::TeamsInbound;
use crate::cards::text::{rich, Run};
use crate::cards::{
    approver_card, form_card, fulfiller_card, notice_card, parse_form, request_url, verbs, Card,
    CardAction, FormState,
};
use crate::Activity;
use serde_json::Value;
use sesame_app::{AppError, Principal};
use sesame_core::{Command, DomainError, Request, RequestNumber, UserId};
// The answers that decide which questions show are read the same way for every chat surface.
use sesame_core::answers::visible_answers;

/// What a failed use case says to the person who clicked.
fn explain(error: &AppError) -> String {
    match error {
        AppError::Domain(e) => e.to_string(),
        AppError::NotFound(_) => String::from("That request was not found."),
        AppError::Storage(_) => String::from(
            "Sesame could not save that just now. Nothing was changed; please try again.",
        ),
        other => other.to_string(),
    }
}

impl TeamsInbound {
    /// The invoke response for a click.
    pub(super) async fn card_action(
        &self,
        activity: &Activity,
        action: CardAction,
        first_time: bool,
    ) -> Value {
        let number = action.request();
        let card = self.card_action_card(activity, action, first_time).await;
        let more = number.map(|n| request_url(&self.portal_url, n));
        card.invoke_response(more.as_deref())
    }

    /// The card a click leads to. A repeated delivery of the same click (`first_time` false) only
    /// shows the current state, so a retry never decides twice.
    pub(super) async fn card_action_card(
        &self,
        activity: &Activity,
        action: CardAction,
        first_time: bool,
    ) -> Card {
        let who = match self.principal(activity).await {
            Ok(who) => who,
            Err(refusal) => return refusal,
        };
        let verb = match action.verb.as_str() {
            verbs::APPROVE | verbs::DENY | verbs::COMPLETE | verbs::FAIL if !first_time => {
                verbs::REFRESH
            }
            verb => verb,
        };
        match verb {
            verbs::PICK => self.pick(&who, &action).await,
            verbs::SUBMIT => self.submit(&who, &action, activity).await,
            verbs::MY_REQUESTS => self.my_requests(&who).await,
            verbs::EXTEND | verbs::RELINQUISH => match action.request() {
                Some(number) => self.ending(&who, number, verb, &action).await,
                None => notice_card("That button names no request."),
            },
            verbs::APPROVE | verbs::DENY | verbs::COMPLETE | verbs::FAIL | verbs::REFRESH => {
                let Some(number) = action.request() else {
                    return notice_card("That button names no request.");
                };
                self.decide(&who, number, verb, &action).await
            }
            _ => notice_card("Sesame does not know that button; it may be from an older card."),
        }
    }

    /// A flow chosen (from a match or the picker): its form. The free text that led here becomes
    /// evidence for the matcher.
    async fn pick(&self, who: &Principal, action: &CardAction) -> Card {
        let typed = action.string("typed").filter(|t| !t.trim().is_empty());
        let Some(flow_id) = action.string("flow").filter(|f| !f.is_empty()) else {
            return self.picker(who, typed.as_deref());
        };
        let flows = self.app.requestable_flows(who);
        let Some(flow) = flows.iter().find(|f| f.id.as_str() == flow_id) else {
            return notice_card("You cannot request that, or it no longer exists.");
        };
        if let Some(typed) = &typed {
            if let Err(e) = self.app.record_choice(who, typed, &flow.id).await {
                tracing::warn!(error = %e, "the choice was not remembered");
            }
        }
        form_card(
            flow,
            &FormState {
                typed,
                ..FormState::default()
            },
        )
    }

    /// The form submitted: a request, or the form again with the problems under their inputs and
    /// the answers kept.
    async fn submit(&self, who: &Principal, action: &CardAction, activity: &Activity) -> Card {
        let catalog = self.app.catalog();
        let Some(flow) = action
            .string("flow")
            .and_then(|id| catalog.get(&id).cloned())
        else {
            return notice_card("That form is for something that no longer exists.");
        };
        let raw = parse_form(&flow, &action.data);
        // The activity id makes a retried delivery of this click return the first request.
        let key = activity
            .id
            .as_ref()
            .map(|id| format!("teams:{}:{id}", activity.conversation.id));
        match self
            .app
            .submit(who, flow.id.as_str(), None, raw.clone(), key.as_deref())
            .await
        {
            Ok(request) => self.submitted(&request),
            Err(AppError::Domain(DomainError::InvalidSubmission(errors))) => form_card(
                &flow,
                &FormState {
                    visible: visible_answers(&flow, &raw),
                    submitted: raw,
                    errors,
                    typed: action.string("typed"),
                },
            ),
            Err(e) => {
                let mut card = form_card(
                    &flow,
                    &FormState {
                        visible: visible_answers(&flow, &raw),
                        submitted: raw,
                        typed: action.string("typed"),
                        ..FormState::default()
                    },
                );
                let problem = rich(&[Run::attention("Not submitted: "), Run::plain(&explain(&e))]);
                card.body.insert(1, problem);
                card
            }
        }
    }

    fn submitted(&self, request: &Request) -> Card {
        let url = request_url(&self.portal_url, request.number);
        let mut card = Card::new(&format!("Submitted {}", request.title()));
        card.body.push(rich(&[
            Run::plain("Submitted "),
            Run::link(&request.title(), &url),
            Run::plain(". Its status follows in this chat."),
        ]));
        card
    }

    /// Extend (a new request of the same flow, through its approvals) or Remove now, from the
    /// warning that access ends soon.
    async fn ending(
        &self,
        who: &Principal,
        number: RequestNumber,
        verb: &str,
        action: &CardAction,
    ) -> Card {
        if verb == verbs::EXTEND {
            let duration = action.string("duration").filter(|d| !d.trim().is_empty());
            return match self.app.extend(who, number, duration, action.reason()).await {
                Ok(extension) => notice_card(&format!(
                    "Asked: {} extends {number} once it is approved. Its status follows in this chat.",
                    extension.title()
                )),
                Err(e) => notice_card(&format!("Not extended: {}", explain(&e))),
            };
        }
        let reason = Some(String::from("removed early from Teams"));
        match self.app.act(who, number, Command::Revoke { reason }).await {
            Ok(request) => notice_card(&format!("Removed: {} has ended.", request.title())),
            Err(e) => notice_card(&format!("Not removed: {}", explain(&e))),
        }
    }

    /// Approve, deny, done, can't do it, or just look: the engine decides whether the click counts.
    async fn decide(
        &self,
        who: &Principal,
        number: RequestNumber,
        verb: &str,
        action: &CardAction,
    ) -> Card {
        let step = action.step();
        let command = match verb {
            verbs::APPROVE => Some(Command::Approve {
                step,
                comment: None,
            }),
            verbs::DENY => action.reason().map(|reason| Command::Deny { step, reason }),
            verbs::COMPLETE => Some(Command::CompleteFulfilment { note: None }),
            verbs::FAIL => action
                .reason()
                .map(|reason| Command::FailFulfilment { reason }),
            _ => None,
        };
        let needs_reason = matches!(verb, verbs::DENY | verbs::FAIL) && command.is_none();
        let (request, problem) = match command {
            Some(command) => match self.app.act(who, number, command).await {
                Ok(request) => (Some(request), None),
                Err(e) => (None, Some(explain(&e))),
            },
            None if needs_reason => (None, Some(String::from("Please give a reason."))),
            None => (None, None),
        };
        let request = match request {
            Some(request) => request,
            None => match self.app.request_for(who, number).await {
                Ok(request) => request,
                Err(e) => return notice_card(&explain(&e)),
            },
        };
        self.decision_card(&request, &who.user, step, problem.as_deref())
            .await
    }

    /// The approver's card for `step` (the fulfiller's when no step is named), as `viewer` sees it.
    async fn decision_card(
        &self,
        request: &Request,
        viewer: &UserId,
        step: Option<usize>,
        problem: Option<&str>,
    ) -> Card {
        let catalog = self.app.catalog();
        let flow = catalog.get(request.flow.id.as_str());
        match step {
            Some(step) => {
                let eligible = request.steps.get(step).map_or(&[][..], |s| &s.eligible);
                let colleagues = self.teams_ids(eligible).await;
                self.render(|ctx| {
                    approver_card(ctx, request, flow, step, viewer, &colleagues, problem)
                })
            }
            None => {
                let fulfillers = request
                    .fulfilment
                    .as_ref()
                    .map_or(&[][..], |f| &f.fulfillers);
                let colleagues = self.teams_ids(fulfillers).await;
                self.render(|ctx| fulfiller_card(ctx, request, flow, viewer, &colleagues, problem))
            }
        }
    }

    /// The Teams ids of those of `people` who saved a conversation, for a card's refresh.
    async fn teams_ids(&self, people: &[UserId]) -> Vec<String> {
        let directory = self.app.directory();
        let mut ids = Vec::new();
        for person in people {
            let Some(object_id) = directory.user(person).and_then(|u| u.chat.teams.clone()) else {
                continue;
            };
            if let Ok(Some(reference)) = self.book.find(&object_id).await {
                ids.push(reference.user.id);
            }
        }
        ids
    }
}
