//! `/access [text]`: without text, the flows to pick from; with text, the matcher's proposal or the
//! list. The reply is the acknowledgement itself, ephemeral, so the channel is not spammed and no
//! Slack call is needed.

use super::{ephemeral, ephemeral_text, Ack, SlackInbound};
use crate::inbound::SlashCommand;

impl SlackInbound {
    pub(crate) async fn command(&self, command: SlashCommand) -> Ack {
        if !command.command.eq_ignore_ascii_case(&self.command) {
            return Ack::Json(ephemeral_text(&format!(
                "Sesame answers {}, not {}.",
                self.command, command.command
            )));
        }
        let who = match self.principal(&command.user_id).await {
            Ok(who) => who,
            Err(refusal) => return Ack::Json(ephemeral_text(&refusal)),
        };
        let text = command.text.trim();
        let message = match text {
            "" => self.picker(&who),
            "help" => {
                let mut picker = self.picker(&who);
                let usage = format!(
                    "Type `{0}` to choose from the list, or say what you need: \
                     `{0} carpark for 2 weeks`. Your requests are on the app's Home tab.",
                    self.command
                );
                picker.blocks.insert(
                    0,
                    serde_json::json!({"type": "section", "text": {"type": "mrkdwn", "text": usage}}),
                );
                picker
            }
            typed => self.match_message(&who, typed).await,
        };
        Ack::Json(ephemeral(&message))
    }
}
