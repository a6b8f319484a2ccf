//! Slack's inbound side: slash commands, events and interactivity, over HTTP (`/slack/*`) or Socket
//! Mode, served by the same handlers against the application's use cases.
//!
//! Every handler answers within Slack's three seconds: it verifies, parses, does the one database
//! write the person's action needs (a submission, a decision), commits whatever Slack calls it owes
//! as outbox jobs ([`work::SlackWork`], run by the handlers as the platform's `ChatHandlers`), and acknowledges. No Slack
//! call is made outside a committed job except the acknowledgement body itself: a reply held back
//! by a rate limit waits and goes out later, and a crash after the acknowledgement loses nothing.
//! Calls that cannot wait (`views.open`, whose trigger id expires three seconds after the click)
//! run at once after their commit. Retries and double clicks are recognised by keys remembered in
//! the database (event ids, in the same transaction as the work they call for; user, message and
//! action time for clicks; the view id for submissions), so they never create a second request or
//! decision.

mod actions;
mod commands;
mod events;
mod extension;
mod http;
mod people;
mod socket;
mod views;
mod work;

pub use http::{routes, MAX_IN_FLIGHT};
pub use socket::SlackSocketHandler;
pub use work::SlackWork;

use crate::api::SlackApi;
use crate::people::SlackPeople;
use crate::render::{flow_picker, match_reply, plain_notice, Message};
use secrecy::SecretString;
use serde_json::{json, Value};
use sesame_app::{App, Principal};
use sesame_core::Flow;
use std::sync::Arc;

/// What the Slack handlers need; one per process, shared by both transports.
pub struct SlackInbound {
    app: App,
    api: SlackApi,
    /// Verifies HTTP requests; Socket Mode connections are authenticated by the app token instead.
    signing_secret: Option<SecretString>,
    /// Where links to requests point.
    portal_url: String,
    /// The slash command this app answers, such as `/access`.
    command: String,
    people: SlackPeople,
    /// Whether someone Sesame cannot match is offered to confirm the link in the portal (only
    /// when the portal has a sign-in).
    link_offers: bool,
}

/// The answer to Slack: an empty 200, or a JSON body (a slash command's reply, a modal's
/// `response_action`, a challenge, options).
#[derive(Debug, Clone, PartialEq)]
pub enum Ack {
    Empty,
    Json(Value),
}

impl SlackInbound {
    pub fn new(
        app: App,
        api: SlackApi,
        signing_secret: Option<SecretString>,
        portal_url: String,
        command: String,
        link_offers: bool,
    ) -> Arc<SlackInbound> {
        Arc::new(SlackInbound {
            app,
            api,
            signing_secret,
            portal_url,
            command,
            people: SlackPeople::default(),
            link_offers,
        })
    }

    /// What to say to `who` about `typed`: the confident match with its reason, a Continue button
    /// and the other flows; or, when the matcher abstains, the flows to pick from, best first.
    async fn match_message(&self, who: &Principal, typed: &str) -> Message {
        // The matcher reads the words, not Slack's markup around them.
        let words = crate::inbound::as_typed(typed);
        let typed = if words.is_empty() {
            typed
        } else {
            words.as_str()
        };
        let offer = self.app.match_offer(who, typed).await;
        let ordered: Vec<&Flow> = offer.flows.iter().collect();
        match offer.proposed() {
            Some(flow) => match_reply(flow, &offer.why, &ordered, typed),
            None => flow_picker(&ordered, Some(typed)),
        }
    }

    /// The flows picker with nothing typed.
    fn picker(&self, who: &Principal) -> Message {
        let flows = self.app.requestable_flows(who);
        let refs: Vec<&Flow> = flows.iter().collect();
        flow_picker(&refs, None)
    }

    /// Commits a call to Slack that this handler owes; it runs after the acknowledgement, in
    /// order with the same person's other calls.
    async fn owe(&self, slack_user: &str, work: SlackWork) -> Result<(), String> {
        self.app
            .owe(Some(&work::order(slack_user)), work.job())
            .await
            .map_err(|e| e.to_string())
    }

    /// Shows `text` to one person in a channel, after the acknowledgement; in their direct
    /// message with the app when the channel is one the app cannot post in (an `/access` reply in a
    /// channel the app was never added to), or when there is no channel at all.
    async fn tell(
        &self,
        channel: Option<String>,
        slack_user: &str,
        text: String,
    ) -> Result<(), String> {
        let work = SlackWork::Tell {
            channel,
            user: slack_user.to_owned(),
            text,
        };
        self.owe(slack_user, work).await
    }
}

/// A slash command's or ephemeral reply body.
fn ephemeral(message: &Message) -> Value {
    let mut body = message.to_json();
    body["response_type"] = json!("ephemeral");
    body
}

/// A plain ephemeral sentence.
fn ephemeral_text(text: &str) -> Value {
    ephemeral(&plain_notice(text))
}
