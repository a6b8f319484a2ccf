//! Messages to the app: free text matched to a flow, the command menu (`request`,
//! `my requests`, `help`), @mentions in channels and group chats (answered to the person alone,
//! in their 1:1 chat), `Action.Submit` clicks (a message with a `value`), and installs (the
//! conversation is saved for later notices, and the person welcomed).

use super::TeamsInbound;
use crate::cards::{
    flow_picker, help_card, match_reply, my_requests_card, notice_card, welcome_card, Card,
    CardAction,
};
use crate::Activity;
use sesame_app::Principal;
use sesame_core::ports::DeliveryError;
use sesame_core::Flow;

/// What a typed message asks for.
enum Command<'a> {
    Help,
    Request,
    MyRequests,
    FreeText(&'a str),
}

fn command(text: &str) -> Command<'_> {
    let words = text.trim().trim_start_matches('/').trim();
    match words.to_lowercase().as_str() {
        "" | "help" | "hi" | "hello" => Command::Help,
        "request" | "new request" => Command::Request,
        "my requests" | "requests" | "status" => Command::MyRequests,
        _ => Command::FreeText(text.trim()),
    }
}

impl TeamsInbound {
    pub(super) async fn message(&self, activity: Activity) -> Result<(), DeliveryError> {
        if activity.from.id == activity.recipient.id {
            return Ok(());
        }
        // An `Action.Submit` click: a message with the card's data and no text.
        if let Some(action) = activity
            .value
            .as_ref()
            .and_then(CardAction::from_submit_value)
        {
            let answer = self.card_action_card(&activity, action, true).await;
            return self.reply_in_place(&activity, &answer).await;
        }
        let typed = activity.text_without_mentions();
        // Only the chats of people Sesame knows are saved: nothing is kept for anyone else.
        let (card, known) = match self.principal(&activity).await {
            Ok(who) => (self.answer_text(&who, &typed).await, true),
            Err(refusal) => (refusal, false),
        };
        if activity.is_personal() {
            if known {
                self.save_reference(&activity, &activity.conversation_reference())
                    .await;
            }
            self.reply_in_place(&activity, &card).await
        } else {
            self.reply_privately(&activity, &card, known).await
        }
    }

    async fn answer_text(&self, who: &Principal, typed: &str) -> Card {
        match command(typed) {
            Command::Help => help_card(),
            Command::Request => self.picker(who, None),
            Command::MyRequests => self.my_requests(who).await,
            Command::FreeText(text) => self.match_message(who, text).await,
        }
    }

    pub(super) fn picker(&self, who: &Principal, typed: Option<&str>) -> Card {
        let flows = self.app.requestable_flows(who);
        let refs: Vec<&Flow> = flows.iter().collect();
        flow_picker(&refs, typed)
    }

    pub(super) async fn my_requests(&self, who: &Principal) -> Card {
        match self.app.overview(who).await {
            Ok(overview) => self.render(|ctx| my_requests_card(ctx, &overview)),
            Err(e) => {
                tracing::warn!(error = %e, "cannot read an overview");
                notice_card("Sesame cannot read your requests just now; please try again.")
            }
        }
    }

    /// The confident match with its reason and a button to go on; or, when the matcher abstains,
    /// the flows to pick from, best first. The same matcher, order and reasons as every other
    /// surface ([`App::match_offer`](sesame_app::App::match_offer)).
    async fn match_message(&self, who: &Principal, typed: &str) -> Card {
        let offer = self.app.match_offer(who, typed).await;
        let ordered: Vec<&Flow> = offer.flows.iter().collect();
        match offer.proposed() {
            Some(flow) => match_reply(flow, &offer.why, &ordered, typed),
            None => flow_picker(&ordered, Some(typed)),
        }
    }

    /// Whether an install or membership change calls for a welcome: the app installed for a
    /// person, or the bot added to their 1:1 chat. In a team or group chat there is no one person
    /// to welcome; members reach the bot by mentioning it.
    pub(super) fn welcomes(&self, activity: &Activity) -> bool {
        let bot_added = activity
            .members_added
            .iter()
            .any(|m| m.id == activity.recipient.id);
        let install = matches!(
            activity.kind,
            crate::ActivityKind::InstallationUpdate { added: true }
        );
        activity.is_personal() && (bot_added || install)
    }

    /// The app was installed for a person (taken in once per person): save the 1:1
    /// conversation and welcome them.
    pub(super) async fn installed(&self, activity: Activity) -> Result<(), DeliveryError> {
        let card = match self.principal(&activity).await {
            Ok(_) => {
                self.save_reference(&activity, &activity.conversation_reference())
                    .await;
                welcome_card()
            }
            Err(refusal) => refusal,
        };
        self.reply_in_place(&activity, &card).await
    }
}
