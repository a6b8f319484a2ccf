//! The Slack notifier: turns outbox notices into direct messages, rendered from the request's
//! current state and edited in place as the request moves on.
//!
//! Each person gets one message per (request, purpose), remembered in the application's
//! [`MessageLog`]: the requester's message (`requester`) with a thread that reads as the request's
//! history, each approver's message per step (`approve:<step>`), and each fulfiller's (`fulfil`,
//! `remove`). Thread replies are recorded too, under a key per change, so a notice delivered again
//! neither posts a second message nor repeats a reply.
//!
//! Failures: a Slack error that may pass (rate limits, outages) stops the delivery at once and the
//! outbox retries it later; what was already done is found in the log then. An error about one
//! person (a deactivated account) does not stop the others, and the notice is then given up with
//! that error so an administrator sees it.

mod delivery;
mod home;
mod identity;

pub use delivery::EVENT_TYPE;

use crate::api::SlackApi;
use crate::render::{
    approver_message, fulfiller_message, reminder_reply, removal_message, requester_message,
    thread_reply, ThreadEvent,
};
use delivery::Delivery;
use identity::Identities;
use sesame_core::events::Notice;
use sesame_core::flow::Flow;
use sesame_core::ids::{FlowId, UserId};
use sesame_core::ports::{deliver_to_each, DeliveryContext, DeliveryError, Notifier};
use sesame_core::request::{Request, StepStatus};
use std::sync::Arc;

/// Finds a flow's current definition (for question labels); `None` when it was removed.
pub type FlowLookup = Arc<dyn Fn(&FlowId) -> Option<Flow> + Send + Sync>;

const NAME: &str = "slack";
const REQUESTER: &str = "requester";
const FULFIL: &str = "fulfil";
const REMOVE: &str = "remove";

/// The `source` of a comment written as a reply in a Slack thread, so the notifier can tell that
/// the reply is already in that thread.
pub fn thread_source(channel: &str, thread_ts: &str) -> String {
    format!("{NAME}:{channel}:{thread_ts}")
}

fn approve_purpose(step: usize) -> String {
    format!("approve:{step}")
}

pub struct SlackNotifier {
    api: SlackApi,
    portal_base_url: String,
    flows: FlowLookup,
    identities: Identities,
    /// Where problems that need an administrator are posted; only logged without one.
    admin_channel: Option<String>,
}

impl SlackNotifier {
    /// `portal_base_url` is where links point (`{portal_base_url}/requests/{number}`).
    pub fn new(api: SlackApi, portal_base_url: String, flows: FlowLookup) -> Self {
        SlackNotifier {
            api,
            portal_base_url,
            flows,
            identities: Identities::default(),
            admin_channel: None,
        }
    }

    /// Posts problems that need an administrator (a step nobody can approve, a failed escalation)
    /// to this channel, which the app must be a member of.
    pub fn with_admin_channel(mut self, channel: Option<String>) -> Self {
        self.admin_channel = channel.filter(|c| !c.trim().is_empty());
        self
    }
}

#[async_trait::async_trait]
impl Notifier for SlackNotifier {
    fn name(&self) -> &'static str {
        NAME
    }

    async fn deliver(
        &self,
        request: &Request,
        notice: &Notice,
        context: &DeliveryContext<'_>,
    ) -> Result<(), DeliveryError> {
        let delivery = Delivery {
            notifier: self,
            request,
            directory: context.directory,
            log: context.log,
            flow: (self.flows)(&request.flow.id),
            earlier_attempt_unknown: context.attempt > 1,
        };
        delivery.notice(notice).await?;
        delivery.refresh_homes(notice, context.overviews).await;
        Ok(())
    }
}

impl Delivery<'_> {
    async fn notice(&self, notice: &Notice) -> Result<(), DeliveryError> {
        let request = self.request;
        match notice {
            Notice::RequestUpdated => {
                let shown = self
                    .show(&request.requester, REQUESTER, |ctx| {
                        requester_message(ctx, request, self.flow())
                    })
                    .await?;
                if let Some(parent) = shown {
                    // Keyed by version: notices of changes that happened while Slack was
                    // unreachable render the same current state, so only the first one replies.
                    let key = format!("reply:{}", request.version);
                    self.reply_once(&parent, &request.requester, &key, |ctx| {
                        thread_reply(ctx, request, &ThreadEvent::Changed)
                    })
                    .await?;
                }
                Ok(())
            }
            Notice::ApprovalRequested { step, approvers } => {
                self.ask_approvers(*step, approvers).await
            }
            Notice::StepDecided { step } => {
                let eligible = request.steps.get(*step).map_or(&[][..], |s| &s.eligible);
                let purpose = approve_purpose(*step);
                deliver_to_each(eligible, |approver| {
                    self.refresh(approver, &purpose, |ctx| {
                        approver_message(ctx, request, self.flow(), *step, approver)
                    })
                })
                .await
            }
            Notice::ApprovalReminder { step } => self.remind(*step).await,
            Notice::AccessEndingSoon => {
                // Each warning is its own change of the request, so the version keys it.
                let key = format!("ending:{}", request.version);
                self.requester_reply(&key, &ThreadEvent::AccessEndingSoon)
                    .await
            }
            Notice::Escalated { step, to } => {
                self.ask_approvers(*step, to).await?;
                let key = format!("escalated:{step}:{}", request.version);
                self.requester_reply(&key, &ThreadEvent::Escalated { step: *step, to })
                    .await
            }
            Notice::FulfilmentRequested => {
                deliver_to_each(self.fulfillers(), |fulfiller| async move {
                    self.post_if_new(fulfiller, FULFIL, |ctx| {
                        fulfiller_message(ctx, request, self.flow())
                    })
                    .await
                })
                .await
            }
            Notice::FulfilmentDecided => {
                deliver_to_each(self.fulfillers(), |fulfiller| {
                    self.refresh(fulfiller, FULFIL, |ctx| {
                        fulfiller_message(ctx, request, self.flow())
                    })
                })
                .await
            }
            Notice::RemovalRequested => {
                deliver_to_each(self.fulfillers(), |fulfiller| async move {
                    self.show(fulfiller, REMOVE, |ctx| removal_message(ctx, request))
                        .await
                        .map(drop)
                })
                .await
            }
            Notice::Commented {
                comment,
                author,
                text,
                source,
            } => {
                // A reply the requester wrote in their own thread is already there.
                if let Some(parent) = self.recorded(&request.requester, REQUESTER).await? {
                    if *source == thread_source(&parent.channel, &parent.ts) {
                        return Ok(());
                    }
                }
                let key = format!("comment:{comment}");
                self.requester_reply(&key, &ThreadEvent::Commented { author, text })
                    .await
            }
            Notice::AdminAttention { problem } => {
                tracing::warn!(request = request.number.0, %problem, "needs an administrator");
                match &self.notifier.admin_channel {
                    Some(channel) => self.alert_admins(channel, problem).await,
                    None => Ok(()),
                }
            }
        }
    }

    fn fulfillers(&self) -> &[UserId] {
        self.request
            .fulfilment
            .as_ref()
            .map_or(&[][..], |f| &f.fulfillers)
    }

    async fn ask_approvers(&self, step: usize, approvers: &[UserId]) -> Result<(), DeliveryError> {
        let request = self.request;
        let purpose = approve_purpose(step);
        deliver_to_each(approvers, |approver| {
            let purpose = &purpose;
            async move {
                self.post_if_new(approver, purpose, |ctx| {
                    approver_message(ctx, request, self.flow(), step, approver)
                })
                .await
            }
        })
        .await
    }

    /// A reminder under each undecided approver's message (or the message itself, for someone
    /// who never got it), once per reminder the engine counted.
    async fn remind(&self, step: usize) -> Result<(), DeliveryError> {
        let request = self.request;
        let Some(progress) = request
            .steps
            .get(step)
            .filter(|s| s.status == StepStatus::Pending)
        else {
            return Ok(());
        };
        let purpose = approve_purpose(step);
        let key = format!("remind:{step}:{}", progress.reminders_sent);
        // Collected first: a lazy filter here would make the delivery future not `Send`.
        let undecided: Vec<UserId> = progress.undecided().cloned().collect();
        deliver_to_each(&undecided, |approver| {
            let (purpose, key) = (&purpose, &key);
            async move {
                match self.recorded(approver, purpose).await? {
                    Some(parent) => {
                        self.reply_once(&parent, approver, key, |ctx| {
                            reminder_reply(ctx, request, step)
                        })
                        .await
                    }
                    None => self
                        .show(approver, purpose, |ctx| {
                            approver_message(ctx, request, self.flow(), step, approver)
                        })
                        .await
                        .map(drop),
                }
            }
        })
        .await
    }

    /// A reply in the requester's thread; nothing when the requester has no message there (not on
    /// Slack).
    async fn requester_reply(
        &self,
        key: &str,
        event: &ThreadEvent<'_>,
    ) -> Result<(), DeliveryError> {
        let requester = &self.request.requester;
        match self.recorded(requester, REQUESTER).await? {
            Some(parent) => {
                self.reply_once(&parent, requester, key, |ctx| {
                    thread_reply(ctx, self.request, event)
                })
                .await
            }
            None => {
                tracing::debug!(
                    request = self.request.number.0,
                    "no requester message to reply under"
                );
                Ok(())
            }
        }
    }
}
