//! The [`MessageLog`] port over the store: where each notifier put its messages, so that adapters
//! edit in place and reply in the right thread without holding a database handle (invariant 4).

use crate::ports::{DeliveryError, MessageLog, PostedMessage};
use sesame_core::{RequestNumber, Timestamp};
use sesame_store::{Store, StoreError};
use std::time::Duration;

/// One notifier's view of the `chat_messages` table: every row it reads or writes carries the
/// notifier's platform name, so two platforms never see each other's messages.
pub struct StoreMessageLog {
    store: Store,
    platform: &'static str,
    now: Timestamp,
}

impl StoreMessageLog {
    pub fn new(store: Store, platform: &'static str, now: Timestamp) -> Self {
        StoreMessageLog {
            store,
            platform,
            now,
        }
    }
}

/// A database that does not answer now may answer soon; a request that no longer exists will not
/// come back.
fn delivery_error(error: StoreError) -> DeliveryError {
    match error {
        StoreError::NotFound(what) => DeliveryError::Permanent(format!("{what} does not exist")),
        other => DeliveryError::Retry {
            after: None::<Duration>,
            reason: other.to_string(),
        },
    }
}

#[async_trait::async_trait]
impl MessageLog for StoreMessageLog {
    async fn find(
        &self,
        request: RequestNumber,
        recipient: &str,
        purpose: &str,
    ) -> Result<Option<PostedMessage>, DeliveryError> {
        let found = self
            .store
            .chat_message(request, self.platform, recipient, purpose)
            .await
            .map_err(delivery_error)?;
        Ok(found.map(|(channel, ts, digest)| PostedMessage {
            platform: self.platform.to_owned(),
            channel,
            ts,
            digest,
        }))
    }

    async fn record(
        &self,
        request: RequestNumber,
        recipient: &str,
        purpose: &str,
        message: &PostedMessage,
    ) -> Result<(), DeliveryError> {
        self.store
            .record_chat_message(
                request,
                self.platform,
                recipient,
                purpose,
                &message.channel,
                &message.ts,
                message.digest.as_deref(),
                self.now,
            )
            .await
            .map_err(delivery_error)
    }
}
