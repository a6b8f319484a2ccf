//! The Microsoft Teams (Bot Framework) adapter's transport: inbound token verification ([`auth`]),
//! the bot's client-credentials token ([`token`]), the Bot Connector REST client ([`connector`]),
//! and typed inbound activities ([`activity`]). See the README for what it must not depend on.
#![forbid(unsafe_code)]

pub mod activity;
pub mod auth;
pub mod connector;
mod http;
pub mod jwt;
pub mod token;

pub use activity::{parse_activity, Activity, ActivityError, ActivityKind, ConversationReference};
pub use auth::{AuthError, AuthFailure, BotAuth, BotAuthConfig, InboundAuth, VerifiedCaller};
pub use connector::{
    AllowedHosts, BotConnector, ConnectorError, ConversationParameters,
    ConversationResourceResponse, ResourceResponse,
};
pub use token::{TokenClient, TokenConfig, TokenError};
