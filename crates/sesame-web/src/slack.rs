//! Slack's inbound side: slash commands, events and interactivity, over HTTP (`/slack/*`) or Socket
//! Mode, served by the same handlers.
//!
//! Every handler answers within Slack's three seconds: it verifies, parses, does the one database
//! write the person's action needs (a submission, a decision), and acknowledges. Whatever calls
//! Slack happens after the acknowledgement in a spawned task, except `views.open`, whose trigger id
//! expires three seconds after the click and is therefore used at once. Retries and double clicks
//! are recognised by keys remembered in the database (event ids; user, message and action time for
//! clicks; the view id for submissions), so they never create a second request or decision.

mod actions;
mod commands;
mod events;
mod extension;
mod http;
mod people;
mod socket;
mod views;

pub use http::routes;
pub use socket::SlackSocketHandler;

use secrecy::SecretString;
use serde_json::{json, Value};
use sesame_app::{App, Principal};
use sesame_core::Flow;
use sesame_slack::api::SlackApi;
use sesame_slack::people::SlackPeople;
use sesame_slack::render::{flow_picker, match_reply, plain_notice, Message};
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

    /// Runs `work` after the acknowledgement; what it fails with is logged, never lost silently.
    fn after_ack<F>(self: &Arc<Self>, what: &'static str, work: F)
    where
        F: std::future::Future<Output = Result<(), String>> + Send + 'static,
    {
        tokio::spawn(async move {
            if let Err(problem) = work.await {
                tracing::warn!(task = what, %problem, "Slack follow-up failed");
            }
        });
    }

    /// Shows `text` to one person in a channel, after the acknowledgement; in their direct
    /// message with the app when the channel is one the app cannot post in (an `/access` reply in a
    /// channel the app was never added to), or when there is no channel at all.
    fn tell(self: &Arc<Self>, channel: Option<String>, slack_user: &str, text: String) {
        let this = self.clone();
        let user = slack_user.to_owned();
        self.after_ack("ephemeral", async move {
            let message = plain_notice(&text);
            if let Some(channel) = channel {
                match this
                    .api
                    .chat_post_ephemeral(&channel, &user, &message.text, &message.blocks)
                    .await
                {
                    Ok(_) => return Ok(()),
                    Err(e)
                        if matches!(
                            e.slack_code(),
                            Some("not_in_channel" | "channel_not_found" | "is_archived")
                        ) => {}
                    Err(e) => return Err(e.to_string()),
                }
            }
            let dm = this
                .api
                .conversations_open(&[user.as_str()])
                .await
                .map_err(|e| e.to_string())?;
            this.api
                .chat_post_message(&dm, &message.text, &message.blocks, None, None)
                .await
                .map(|_| ())
                .map_err(|e| e.to_string())
        });
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
