//! The ports adapters implement, declared here so that adapters depend on the domain only. The
//! application calls them only from its outbox worker, never from a request handler, so a slow or
//! failing chat platform never slows down or fails a decision.

use crate::{Directory, Notice, Request};
use std::time::Duration;

/// Why a delivery failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryError {
    /// Try again later (rate limited, platform down); `after` is the platform's own hint.
    Retry {
        after: Option<Duration>,
        reason: String,
    },
    /// Trying again will not help (a revoked token, a deleted channel).
    Permanent(String),
}

/// Tells people about requests: a chat adapter (Slack, Teams) or any other channel.
#[async_trait::async_trait]
pub trait Notifier: Send + Sync {
    /// A short name for logs and the dead-letter view.
    fn name(&self) -> &'static str;

    /// Delivers one notice about `request`, rendered from its current state.
    async fn deliver(
        &self,
        request: &Request,
        notice: &Notice,
        directory: &Directory,
    ) -> Result<(), DeliveryError>;
}
