//! What the Teams handlers owe, as outbox jobs: the answer to a typed message and the welcome on
//! install ([`TeamsWork`], stored in a `ChatJob`), run by the handlers as [`ChatHandlers`].
//!
//! The job works out the answer when it runs (who wrote, what they need) and sends it; a 429 or an
//! outage of the Bot Connector defers or retries the job, so the answer is never dropped, and a
//! crash after the acknowledgement loses nothing.

use super::TeamsInbound;
use crate::activity::parse_activity;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sesame_app::chat::{ChatHandlers, ChatJob};
use sesame_core::ports::DeliveryError;
use std::sync::Arc;

/// The platform name chat jobs carry.
pub(crate) const PLATFORM: &str = "teams";

/// One person's answers go out in the order they wrote.
pub(super) fn order(from: &str) -> String {
    format!("{PLATFORM}:{from}")
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TeamsWork {
    /// A message to the app (typed text, a command, an `Action.Submit` click, a mention), as sent.
    Message { activity: Value },
    /// The app was installed for a person: welcome them and save their chat.
    Installed { activity: Value },
}

impl TeamsWork {
    pub(super) fn job(&self) -> ChatJob {
        ChatJob {
            platform: String::from(PLATFORM),
            work: serde_json::to_value(self).unwrap_or_default(),
        }
    }
}

#[async_trait::async_trait]
impl ChatHandlers for TeamsInbound {
    const PLATFORM: &'static str = PLATFORM;
    type Work = TeamsWork;

    async fn perform(self: Arc<Self>, work: TeamsWork, _attempt: u32) -> Result<(), DeliveryError> {
        let (TeamsWork::Message { activity } | TeamsWork::Installed { activity }) = &work;
        let bytes = serde_json::to_vec(activity).unwrap_or_default();
        let activity = parse_activity(&bytes).map_err(|e| {
            DeliveryError::Permanent(format!("an activity that no longer parses: {e}"))
        })?;
        match work {
            TeamsWork::Message { .. } => self.message(activity).await,
            TeamsWork::Installed { .. } => self.installed(activity).await,
        }
    }
}
