//! The Slack adapter, Slack's one home: verifies and parses what Slack sends, renders Block Kit
//! within Slack's limits, calls Slack's Web API, delivers notices (`notifier`), and serves the
//! `/slack/*` routes and Socket Mode envelopes against the application's use cases (`handlers`).
//! Every Slack call it makes runs as an outbox job; it knows nothing of the database.
#![forbid(unsafe_code)]

pub mod api;
pub mod blocks;
pub mod handlers;
pub mod inbound;
pub mod modal;
pub mod notifier;
pub mod people;
pub mod ratelimit;
pub mod render;
pub mod socket;
pub mod text;
pub mod verify;
