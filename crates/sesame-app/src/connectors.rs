//! The connectors flows name, by name, as the application holds them: the provisioning worker
//! looks a flow's connector up here, and flows are checked against it when they are loaded.

use secrecy::SecretString;
use sesame_core::flow::ConnectorCheck;
use sesame_core::ports::Connector;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Name to connector. Empty by default: then flows fulfilled by a connector wait (and their
/// administrators are told) until one with that name is configured.
#[derive(Clone, Default)]
pub struct ConnectorRegistry {
    by_name: BTreeMap<String, Arc<dyn Connector>>,
    /// The secrets that sign target systems' callbacks (`/api/v1/connectors/<name>/callback`), for
    /// connectors whose work can finish later.
    callback_secrets: BTreeMap<String, SecretString>,
}

impl std::fmt::Debug for ConnectorRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map()
            .entries(self.by_name.iter().map(|(n, c)| (n, c.kind())))
            .finish()
    }
}

impl ConnectorRegistry {
    pub fn new(by_name: BTreeMap<String, Arc<dyn Connector>>) -> Self {
        ConnectorRegistry {
            by_name,
            callback_secrets: BTreeMap::new(),
        }
    }

    /// Accepts callbacks for the connector called `name`, signed with `secret`.
    pub fn with_callback_secret(mut self, name: &str, secret: SecretString) -> Self {
        self.callback_secrets.insert(name.to_owned(), secret);
        self
    }

    /// The secret callbacks for `name` must be signed with; none means its callbacks are refused.
    pub fn callback_secret(&self, name: &str) -> Option<&SecretString> {
        self.callback_secrets.get(name)
    }

    /// Adds (or replaces) the connector called `name`.
    pub fn with(mut self, name: &str, connector: Arc<dyn Connector>) -> Self {
        self.by_name.insert(name.to_owned(), connector);
        self
    }

    pub fn get(&self, name: &str) -> Option<Arc<dyn Connector>> {
        self.by_name.get(name).cloned()
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.by_name.keys().map(String::as_str)
    }

    pub fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }
}

impl ConnectorCheck for ConnectorRegistry {
    fn check_target(
        &self,
        connector: &str,
        target: &BTreeMap<String, String>,
    ) -> Result<(), String> {
        if connector == "manual" {
            return Err(String::from(
                "\"manual\" is fulfilment by people: write `manual: { group: ... }` instead of \
                 `connector: manual`",
            ));
        }
        let Some(found) = self.by_name.get(connector) else {
            let known: Vec<&str> = self.names().collect();
            return Err(if known.is_empty() {
                format!(
                    "there is no connector `{connector}`: no connectors are configured \
                     ([connectors] in the configuration)"
                )
            } else {
                format!(
                    "there is no connector `{connector}`; configured: {}",
                    known.join(", ")
                )
            });
        };
        found
            .validate_target(target)
            .map_err(|problem| format!("connector `{connector}` ({}): {problem}", found.kind()))
    }
}
