//! Provisioning connectors: each makes access real in one kind of target system behind the
//! connector port declared in `sesame-core` (`Connector`: check, grant, revoke), and
//! [`Connectors`] builds the ones configured by name (checking names and settings), which the
//! binary hands to the application's registry: the fulfilment worker and flow loading use them
//! from there.
//!
//! Every operation is idempotent (adding what is there and removing what is absent succeed) and
//! says whether trying again can help: unreachable servers, timeouts, 5xx answers and rate limits
//! are `ConnectorError::Retry` (with the server's hint of when), everything else
//! `ConnectorError::Permanent`, both with the target system's own words. Secrets live in
//! `SecretString`s and appear in no message and no log.
#![forbid(unsafe_code)]

mod http;
pub mod ldap;
pub mod okta;
pub mod postgres;
mod registry;
pub mod scim;
mod settings;
mod target;
mod template;
pub mod webhook;

pub use registry::{Connectors, RegistryError, MANUAL};
pub use settings::ConnectorSettings;
pub use template::PersonTemplate;
pub use webhook::{sign_webhook, verify_callback, CallbackError};

/// The port this crate implements, for callers that name its types.
pub use sesame_core::ports::{
    Connector, ConnectorError, ConnectorOutcome, Grant, GrantPerson, Presence,
};
