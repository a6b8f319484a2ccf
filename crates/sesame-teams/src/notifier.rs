//! The Teams notifier: turns outbox notices into cards in each person's 1:1 chat with the bot,
//! rendered from the request's current state and edited in place as the request moves on.
//!
//! Each person gets one card per (request, purpose), remembered in the application's
//! [`MessageLog`](sesame_core::ports::MessageLog): the requester's card (`requester`), each
//! approver's per step (`approve:<step>`), each fulfiller's (`fulfil`, `remove`); updates arrive as
//! replies under the requester's card, recorded under a key per change, so a notice delivered
//! again neither posts a second card nor repeats a reply. Approver and fulfiller cards carry a
//! `refresh` for every colleague's Teams id, so a decision shows on every copy even before its
//! notice is delivered.
//!
//! People are reached through the conversation saved when they installed the app
//! ([`ConversationBook`]); someone who never did cannot be messaged by a bot, and is skipped (and
//! logged). A crash between posting a card and recording it can post that card twice on the next
//! try: the Bot Connector offers bots no history to look for the first one.

mod delivery;

use crate::cards::Update;
use crate::connector::BotConnector;
use crate::conversations::ConversationBook;
use delivery::Delivery;
use sesame_core::events::Notice;
use sesame_core::flow::Flow;
use sesame_core::ids::{FlowId, GroupId, UserId};
use sesame_core::ports::{deliver_to_each, DeliveryContext, DeliveryError, Notifier};
use sesame_core::request::{Request, StepStatus};
use std::sync::Arc;

/// Finds a flow's current definition (for question labels); `None` when it was removed.
pub type FlowLookup = Arc<dyn Fn(&FlowId) -> Option<Flow> + Send + Sync>;

pub const NAME: &str = "teams";
const REQUESTER: &str = "requester";
const FULFIL: &str = "fulfil";
const REMOVE: &str = "remove";

fn approve_purpose(step: usize) -> String {
    format!("approve:{step}")
}

pub struct TeamsNotifier {
    connector: BotConnector,
    portal_base_url: String,
    flows: FlowLookup,
    book: Arc<dyn ConversationBook>,
    /// Members of these groups get problems that need an administrator in their own chat.
    admin_groups: Vec<GroupId>,
}

impl TeamsNotifier {
    pub fn new(
        connector: BotConnector,
        portal_base_url: String,
        flows: FlowLookup,
        book: Arc<dyn ConversationBook>,
    ) -> TeamsNotifier {
        TeamsNotifier {
            connector,
            portal_base_url,
            flows,
            book,
            admin_groups: Vec::new(),
        }
    }

    /// Sends problems that need an administrator to the members of `groups` (the configuration's
    /// `[access] admin_groups`) who can be reached on Teams.
    pub fn with_admin_groups(mut self, groups: Vec<GroupId>) -> TeamsNotifier {
        self.admin_groups = groups;
        self
    }
}

#[async_trait::async_trait]
impl Notifier for TeamsNotifier {
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
            connector: &self.connector,
            book: self.book.as_ref(),
            portal_base_url: &self.portal_base_url,
            request,
            directory: context.directory,
            log: context.log,
            flow: (self.flows)(&request.flow.id),
            admin_groups: &self.admin_groups,
        };
        delivery.notice(notice).await
    }
}

impl Delivery<'_> {
    async fn notice(&self, notice: &Notice) -> Result<(), DeliveryError> {
        let request = self.request;
        match notice {
            Notice::RequestUpdated => {
                let card = |d: &Delivery<'_>, _: &UserId, _: &[String]| d.requester_card();
                if let Some(parent) = self.show(&request.requester, REQUESTER, card).await? {
                    // Keyed by version: notices of changes that happened while Teams was
                    // unreachable render the same current state, so only the first one replies.
                    let key = format!("reply:{}", request.version);
                    self.reply_once(&parent, &request.requester, &key, &Update::Changed)
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
                let colleagues = self.teams_ids(eligible).await?;
                deliver_to_each(eligible, |approver| {
                    self.refresh(approver, &purpose, &colleagues, |d, who, ids| {
                        d.approver_card(*step, who, ids)
                    })
                })
                .await
            }
            Notice::ApprovalReminder { step } => self.remind(*step).await,
            Notice::AccessEndingSoon => {
                let key = format!("ending:{}", request.version);
                self.requester_reply(&key, &Update::AccessEndingSoon).await
            }
            Notice::Escalated { step, to } => {
                self.ask_approvers(*step, to).await?;
                let key = format!("escalated:{step}:{}", request.version);
                self.requester_reply(&key, &Update::Escalated { step: *step, to })
                    .await
            }
            Notice::FulfilmentRequested => {
                let colleagues = self.teams_ids(self.fulfillers()).await?;
                deliver_to_each(self.fulfillers(), |fulfiller| {
                    let colleagues = &colleagues;
                    async move {
                        if self.recorded(fulfiller, FULFIL).await?.is_some() {
                            return Ok(());
                        }
                        self.show_to(fulfiller, FULFIL, colleagues, |d, who, ids| {
                            d.fulfiller_card(who, ids)
                        })
                        .await
                        .map(drop)
                    }
                })
                .await
            }
            Notice::FulfilmentDecided => {
                let colleagues = self.teams_ids(self.fulfillers()).await?;
                deliver_to_each(self.fulfillers(), |fulfiller| {
                    self.refresh(fulfiller, FULFIL, &colleagues, |d, who, ids| {
                        d.fulfiller_card(who, ids)
                    })
                })
                .await
            }
            Notice::RemovalRequested => {
                deliver_to_each(self.fulfillers(), |fulfiller| async move {
                    self.show(fulfiller, REMOVE, |d, _, _| d.removal_card())
                        .await
                        .map(drop)
                })
                .await
            }
            Notice::Commented {
                comment,
                author,
                text,
                ..
            } => {
                let key = format!("comment:{comment}");
                self.requester_reply(&key, &Update::Commented { author, text })
                    .await
            }
            Notice::AdminAttention { problem } => {
                tracing::warn!(request = request.number.0, %problem, "needs an administrator");
                // One card per administrator and change of the request, so a notice delivered
                // again edits the card instead of repeating it.
                let purpose = format!("admin:{}", request.version);
                let admins = self.admins();
                deliver_to_each(&admins, |admin| {
                    let purpose = purpose.as_str();
                    async move {
                        self.show(admin, purpose, |d, _, _| d.admin_alert_card(problem))
                            .await
                            .map(drop)
                    }
                })
                .await
            }
        }
    }

    /// The active members of the administrator groups, each once.
    fn admins(&self) -> Vec<UserId> {
        let mut admins: Vec<UserId> = Vec::new();
        for group in self.admin_groups {
            for member in self.directory.members(group) {
                let active = self.directory.user(member).is_some_and(|u| u.active);
                if active && !admins.contains(member) {
                    admins.push(member.clone());
                }
            }
        }
        admins
    }

    fn fulfillers(&self) -> &[UserId] {
        self.request
            .fulfilment
            .as_ref()
            .map_or(&[][..], |f| &f.fulfillers)
    }

    async fn ask_approvers(&self, step: usize, approvers: &[UserId]) -> Result<(), DeliveryError> {
        let purpose = approve_purpose(step);
        let eligible = self
            .request
            .steps
            .get(step)
            .map_or(approvers, |s| s.eligible.as_slice());
        let colleagues = self.teams_ids(eligible).await?;
        deliver_to_each(approvers, |approver| {
            let (purpose, colleagues) = (&purpose, &colleagues);
            async move {
                if self.recorded(approver, purpose).await?.is_some() {
                    return Ok(());
                }
                self.show_to(approver, purpose, colleagues, |d, who, ids| {
                    d.approver_card(step, who, ids)
                })
                .await
                .map(drop)
            }
        })
        .await
    }

    /// A reminder under each undecided approver's card, once per reminder the engine counted.
    async fn remind(&self, step: usize) -> Result<(), DeliveryError> {
        let Some(progress) = self
            .request
            .steps
            .get(step)
            .filter(|s| s.status == StepStatus::Pending)
        else {
            return Ok(());
        };
        let purpose = approve_purpose(step);
        let key = format!("remind:{step}:{}", progress.reminders_sent);
        let undecided: Vec<UserId> = progress.undecided().cloned().collect();
        let colleagues = self.teams_ids(&progress.eligible).await?;
        deliver_to_each(&undecided, |approver| {
            let (purpose, key, colleagues) = (&purpose, &key, &colleagues);
            async move {
                match self.recorded(approver, purpose).await? {
                    Some(parent) => {
                        self.reply_once(&parent, approver, key, &Update::Reminder { step })
                            .await
                    }
                    None => self
                        .show_to(approver, purpose, colleagues, |d, who, ids| {
                            d.approver_card(step, who, ids)
                        })
                        .await
                        .map(drop),
                }
            }
        })
        .await
    }

    /// A reply under the requester's card; nothing when they have none (not on Teams).
    async fn requester_reply(&self, key: &str, update: &Update<'_>) -> Result<(), DeliveryError> {
        let requester = &self.request.requester;
        match self.recorded(requester, REQUESTER).await? {
            Some(parent) => self.reply_once(&parent, requester, key, update).await,
            None => Ok(()),
        }
    }
}
