//! The Microsoft Teams (Bot Framework) adapter's transport: inbound token verification ([`auth`]),
//! the bot's client-credentials token ([`token`]), the Bot Connector REST client ([`connector`]),
//! and typed inbound activities ([`activity`]); above it, Adaptive Cards ([`cards`]), who a Teams
//! user is in the directory ([`people`]), and the notifier ([`notifier`]) that delivers notices
//! through saved conversations ([`conversations`]); and `handlers`, the `/teams/messages` route
//! over the application's use cases, whose answers go out as outbox jobs. Teams' one home.
#![forbid(unsafe_code)]

pub mod activity;
pub mod auth;
pub mod cards;
pub mod connector;
pub mod conversations;
pub mod handlers;
mod http;
pub mod notifier;
pub mod people;
pub mod token;

pub use activity::{parse_activity, Activity, ActivityError, ActivityKind, ConversationReference};
pub use auth::{AuthError, AuthFailure, BotAuth, BotAuthConfig, InboundAuth, VerifiedCaller};
pub use connector::{
    AllowedHosts, BotConnector, ConnectorError, ConversationParameters,
    ConversationResourceResponse, ResourceResponse, TeamsChannelAccount,
};
pub use conversations::ConversationBook;
pub use notifier::TeamsNotifier;
pub use token::{TokenClient, TokenConfig, TokenError};
