//! Where to reach people: the conversation reference of each person's 1:1 chat with the bot, saved
//! when they install the app or write to it, and read when a notice must reach them. The adapter
//! holds no database handle; the application implements [`ConversationBook`] over its store.

use crate::activity::ConversationReference;
use sesame_core::ports::DeliveryError;

/// The saved 1:1 conversations, keyed by the person's Entra object id (the same id as a directory
/// entry's `chat.teams`).
#[async_trait::async_trait]
pub trait ConversationBook: Send + Sync {
    async fn find(&self, object_id: &str) -> Result<Option<ConversationReference>, DeliveryError>;

    /// Saves (or replaces) the reference for this person.
    async fn remember(
        &self,
        object_id: &str,
        reference: &ConversationReference,
    ) -> Result<(), DeliveryError>;
}
