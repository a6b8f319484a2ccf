//! The configured connectors by name, as flows refer to them (`fulfillment: { connector:
//! corp-ldap, group: ... }`).

use crate::settings::ConnectorSettings;
use sesame_core::ports::Connector;
use std::collections::BTreeMap;
use std::sync::Arc;

/// The name flows use for fulfilment by people (a task for fulfillers, kept by the engine): never
/// a connector.
pub const MANUAL: &str = "manual";

/// Why the connectors could not be set up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegistryError {
    #[error("connector {0:?} is configured twice")]
    Duplicate(String),
    #[error(
        "connector name {0:?} is not valid: 1 to 64 characters of a-z, 0-9, '-' and '_', \
         starting with a letter or digit"
    )]
    BadName(String),
    #[error("\"manual\" is fulfilment by people, not a connector; choose another name")]
    Reserved,
    #[error("connector {name:?}: {message}")]
    Invalid { name: String, message: String },
}

/// Name to connector. Cheap to clone.
#[derive(Clone, Default)]
pub struct Connectors {
    by_name: BTreeMap<String, Arc<dyn Connector>>,
}

impl std::fmt::Debug for Connectors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map()
            .entries(self.by_name.iter().map(|(n, c)| (n, c.kind())))
            .finish()
    }
}

impl Connectors {
    pub fn new() -> Connectors {
        Connectors::default()
    }

    /// Builds every configured connector, refusing bad names and bad settings; the first problem
    /// found is reported with the connector's name.
    pub fn from_settings<'a>(
        settings: impl IntoIterator<Item = (&'a String, &'a ConnectorSettings)>,
    ) -> Result<Connectors, RegistryError> {
        let mut connectors = Connectors::new();
        for (name, settings) in settings {
            check_name(name)?;
            let connector = settings.build().map_err(|message| RegistryError::Invalid {
                name: name.clone(),
                message,
            })?;
            connectors.insert(name, connector)?;
        }
        Ok(connectors)
    }

    /// Adds a connector under `name`; a name may be used once.
    pub fn insert(
        &mut self,
        name: &str,
        connector: Arc<dyn Connector>,
    ) -> Result<(), RegistryError> {
        check_name(name)?;
        if self.by_name.contains_key(name) {
            return Err(RegistryError::Duplicate(name.to_owned()));
        }
        self.by_name.insert(name.to_owned(), connector);
        Ok(())
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.by_name.keys().map(String::as_str)
    }

    /// The connectors by name, for the application's registry (which checks flows against them
    /// and hands them to the provisioning worker).
    pub fn into_map(self) -> BTreeMap<String, Arc<dyn Connector>> {
        self.by_name
    }
}

fn check_name(name: &str) -> Result<(), RegistryError> {
    if name == MANUAL {
        return Err(RegistryError::Reserved);
    }
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(RegistryError::BadName(name.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn webhook() -> Arc<dyn Connector> {
        let settings: ConnectorSettings = toml::from_str(
            "kind = \"webhook\"\nurl = \"https://hooks.example.com/x\"\n\
             secret = \"0123456789abcdef\"\ntarget_keys = [\"app\"]\n",
        )
        .unwrap();
        settings.build().unwrap()
    }

    #[test]
    fn names_are_unique_well_formed_and_never_manual() {
        let mut connectors = Connectors::new();
        connectors.insert("hr-portal", webhook()).unwrap();
        assert_eq!(
            connectors.insert("hr-portal", webhook()),
            Err(RegistryError::Duplicate(String::from("hr-portal")))
        );
        assert_eq!(
            connectors.insert("manual", webhook()),
            Err(RegistryError::Reserved)
        );
        for bad in ["", "HR", "-x", "a b", &"x".repeat(65)] {
            assert!(
                matches!(
                    connectors.insert(bad, webhook()),
                    Err(RegistryError::BadName(_))
                ),
                "{bad:?}"
            );
        }
        assert_eq!(connectors.names().collect::<Vec<_>>(), ["hr-portal"]);
        assert_eq!(format!("{connectors:?}"), "{\"hr-portal\": \"webhook\"}");
    }
}
