//! Chat addresses: where a chat platform lets Sesame's bot reach a person, saved by the platform's
//! adapter at first contact (a Microsoft Teams conversation reference) and read when a notice must
//! reach them. The application keeps them without reading them: the address is the adapter's text.

use crate::{App, AppError};

/// The longest address kept; a conversation reference is a few hundred bytes.
const MAX_ADDRESS_BYTES: usize = 8 * 1024;

impl App {
    /// The address saved for `account` on `platform`, if any.
    pub async fn chat_address(
        &self,
        platform: &str,
        account: &str,
    ) -> Result<Option<String>, AppError> {
        Ok(self.store().chat_address(platform, account).await?)
    }

    /// Saves (or replaces) where `account` on `platform` can be reached.
    pub async fn remember_chat_address(
        &self,
        platform: &str,
        account: &str,
        address: &str,
    ) -> Result<(), AppError> {
        if platform.is_empty() || account.trim().is_empty() {
            return Err(AppError::Invalid(String::from(
                "a chat address needs a platform and an account",
            )));
        }
        if address.len() > MAX_ADDRESS_BYTES {
            return Err(AppError::Invalid(format!(
                "a chat address is at most {MAX_ADDRESS_BYTES} bytes"
            )));
        }
        self.store()
            .record_chat_address(platform, account, address, self.now())
            .await?;
        Ok(())
    }
}
