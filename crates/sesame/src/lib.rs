//! The `sesame` binary's library: configuration, the composition root and the CLI commands, kept
//! here so integration tests build Sesame exactly as `sesame serve` does.
#![forbid(unsafe_code)]

pub mod application;
pub mod audit;
pub mod cli;
pub mod config;
pub mod connections;
pub mod connectors;
pub mod identities_cli;
pub mod match_cli;
pub mod model;
pub mod portal;
pub mod slack;
pub mod teams;
pub mod teams_package;
pub mod telemetry;

pub use application::Application;
