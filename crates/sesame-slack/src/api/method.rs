//! The Slack Web API methods Sesame calls, with the rate-limit tier each method's documentation
//! gives.

use crate::ratelimit::RateTier;
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SlackMethod {
    AuthTest,
    ChatPostMessage,
    ChatUpdate,
    ChatPostEphemeral,
    ConversationsOpen,
    ConversationsHistory,
    ViewsOpen,
    ViewsUpdate,
    ViewsPublish,
    UsersInfo,
    UsersList,
    UsersLookupByEmail,
}

impl SlackMethod {
    /// The name Slack uses, which is also the last segment of the method's URL.
    pub const fn name(self) -> &'static str {
        match self {
            SlackMethod::AuthTest => "auth.test",
            SlackMethod::ChatPostMessage => "chat.postMessage",
            SlackMethod::ChatUpdate => "chat.update",
            SlackMethod::ChatPostEphemeral => "chat.postEphemeral",
            SlackMethod::ConversationsOpen => "conversations.open",
            SlackMethod::ConversationsHistory => "conversations.history",
            SlackMethod::ViewsOpen => "views.open",
            SlackMethod::ViewsUpdate => "views.update",
            SlackMethod::ViewsPublish => "views.publish",
            SlackMethod::UsersInfo => "users.info",
            SlackMethod::UsersList => "users.list",
            SlackMethod::UsersLookupByEmail => "users.lookupByEmail",
        }
    }

    /// The tier from the "Rate limits" fact of each method's page on docs.slack.dev. `auth.test`
    /// is "special" there with a very high limit; Tier 4 is a safe stand-in.
    pub const fn rate_tier(self) -> RateTier {
        match self {
            SlackMethod::ChatPostMessage => RateTier::PostMessage,
            SlackMethod::ChatUpdate
            | SlackMethod::ConversationsOpen
            | SlackMethod::ConversationsHistory
            | SlackMethod::UsersLookupByEmail => RateTier::Tier3,
            SlackMethod::UsersList => RateTier::Tier2,
            SlackMethod::AuthTest
            | SlackMethod::ChatPostEphemeral
            | SlackMethod::ViewsOpen
            | SlackMethod::ViewsUpdate
            | SlackMethod::ViewsPublish
            | SlackMethod::UsersInfo => RateTier::Tier4,
        }
    }
}

impl fmt::Display for SlackMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
