//! The saved Teams conversations, kept by the application as chat addresses.

use crate::conversations::ConversationBook;
use crate::notifier::NAME;
use crate::ConversationReference;
use sesame_app::App;
use sesame_core::ports::DeliveryError;
use std::sync::OnceLock;

/// A [`ConversationBook`] over the application's chat addresses. The notifier is built before the
/// application (the application takes its notifiers), so the application is handed in afterwards
/// with [`AppConversationBook::attach`]; until then nothing is found or saved.
#[derive(Default)]
pub struct AppConversationBook {
    app: OnceLock<App>,
}

impl AppConversationBook {
    pub fn attach(&self, app: App) {
        if self.app.set(app).is_err() {
            tracing::warn!("the Teams conversation book was attached twice; the first stays");
        }
    }

    fn app(&self) -> Result<&App, DeliveryError> {
        self.app.get().ok_or_else(|| DeliveryError::Retry {
            after: None,
            reason: String::from("the application is still starting"),
        })
    }
}

fn storage(e: sesame_app::AppError) -> DeliveryError {
    DeliveryError::Retry {
        after: None,
        reason: e.to_string(),
    }
}

#[async_trait::async_trait]
impl ConversationBook for AppConversationBook {
    async fn find(&self, object_id: &str) -> Result<Option<ConversationReference>, DeliveryError> {
        let Some(text) = self
            .app()?
            .chat_address(NAME, object_id)
            .await
            .map_err(storage)?
        else {
            return Ok(None);
        };
        match serde_json::from_str(&text) {
            Ok(reference) => Ok(Some(reference)),
            Err(e) => {
                tracing::warn!(%e, "a saved Teams conversation is unreadable; ignored");
                Ok(None)
            }
        }
    }

    async fn remember(
        &self,
        object_id: &str,
        reference: &ConversationReference,
    ) -> Result<(), DeliveryError> {
        let text = serde_json::to_string(reference)
            .map_err(|e| DeliveryError::Permanent(e.to_string()))?;
        self.app()?
            .remember_chat_address(NAME, object_id, &text)
            .await
            .map_err(storage)
    }
}
