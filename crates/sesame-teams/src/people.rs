//! Who a Teams user is in Sesame's directory: the platform-neutral rules of
//! [`sesame_core::chat_person`] with the account's Entra object id (`aadObjectId` on every
//! activity) as the linked account, and its email as Teams reports it for the conversation member.

use crate::activity::Activity;
use crate::connector::{BotConnector, ConnectorError};
use sesame_app::chat::EmailCache;
use sesame_core::chat_person::{self, ChatPerson, ChatPlatform};
use sesame_core::directory::Directory;

/// Maps Teams accounts to directory people, remembering the emails Teams reported.
#[derive(Default)]
pub struct TeamsPeople {
    emails: EmailCache,
}

impl TeamsPeople {
    /// Who sent `activity`, asking the Connector for their email when there is no explicit link
    /// and the email is not cached.
    pub async fn lookup(
        &self,
        connector: &BotConnector,
        directory: &Directory,
        activity: &Activity,
    ) -> Result<ChatPerson, ConnectorError> {
        let object_id = activity.from.aad_object_id.as_deref();
        if let Some(found) =
            object_id.and_then(|id| chat_person::by_link(directory, ChatPlatform::Teams, id))
        {
            return Ok(found);
        }
        let key = object_id.unwrap_or(&activity.from.id).to_owned();
        let email = match self.emails.get(&key) {
            Some(email) => email,
            None => {
                let email = match connector
                    .get_member(
                        &activity.service_url,
                        &activity.conversation.id,
                        &activity.from.id,
                    )
                    .await
                {
                    Ok(member) => member.email_address(),
                    Err(ConnectorError::Rejected { status: 404, .. }) => None,
                    Err(error) => return Err(error),
                };
                self.emails.remember(&key, email.clone());
                email
            }
        };
        Ok(chat_person::resolve(
            directory,
            ChatPlatform::Teams,
            object_id,
            email.as_deref(),
        ))
    }
}
