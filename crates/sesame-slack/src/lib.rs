//! The Slack adapter: verifies and parses what Slack sends, renders Block Kit within Slack's limits,
//! and calls Slack's Web API. It knows requests and flows from `sesame-core`, and nothing of the
//! database or HTTP routing.
#![forbid(unsafe_code)]

pub mod api;
pub mod blocks;
pub mod inbound;
pub mod modal;
pub mod notifier;
pub mod people;
pub mod ratelimit;
pub mod render;
pub mod socket;
pub mod text;
pub mod verify;
