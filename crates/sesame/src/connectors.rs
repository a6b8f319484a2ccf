//! The provisioning connectors from `[connectors.<name>]` (docs/connectors.md): each named
//! connector is checked and built at start, so a typo in a kind, a setting or a URL stops
//! `sesame serve` instead of failing a grant later. Nothing is contacted here.

use crate::config::Config;
use anyhow::{anyhow, bail};
use sesame_connectors::Connectors;

/// The configured connectors by name.
pub fn build(config: &Config) -> anyhow::Result<Connectors> {
    Connectors::from_settings(&config.connectors).map_err(|e| anyhow!("[connectors] {e}"))
}

/// Applies `SESAME__CONNECTORS__<NAME>__<KEY>=value` (so that secrets such as a bind password
/// stay out of the file). Environment variable names cannot hold `-`, so `<NAME>` matches a
/// connector in the file whose name is the same with `-` written as `_` (`CORP_LDAP` sets
/// `corp-ldap`); a name the file does not have is taken as written, in lower case.
pub(crate) fn apply_env_override(
    table: &mut toml::Table,
    name: &str,
    key: &str,
    value: toml::Value,
) -> anyhow::Result<()> {
    let connectors = table
        .entry("connectors")
        .or_insert_with(|| toml::Value::Table(toml::Table::new()));
    let Some(connectors) = connectors.as_table_mut() else {
        bail!("[connectors] is not a section");
    };
    let existing = connectors
        .keys()
        .find(|known| known.replace('-', "_") == name)
        .cloned();
    let connector = connectors
        .entry(existing.unwrap_or_else(|| name.to_owned()))
        .or_insert_with(|| toml::Value::Table(toml::Table::new()));
    let Some(connector) = connector.as_table_mut() else {
        bail!("[connectors.{name}] is not a section");
    };
    connector.insert(key.to_owned(), value);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use sesame_core::flow::ConnectorCheck;

    fn config(text: &str) -> Result<Config, toml::de::Error> {
        toml::from_str(text)
    }

    #[test]
    fn connectors_are_built_by_name_from_the_configuration() {
        let config = config(
            r#"
[connectors.corp-ldap]
kind = "ldap"
url = "ldap://127.0.0.1:3890"
bind_dn = "cn=admin,dc=example,dc=com"
bind_password = "secret"
person_dn = "uid={id},ou=people,dc=example,dc=com"

[connectors.hr-hook]
kind = "webhook"
url = "https://hooks.example.com/sesame"
secret = "0123456789abcdef0123"
target_keys = ["app"]
"#,
        )
        .unwrap();
        assert_eq!(
            build(&config).unwrap().names().collect::<Vec<_>>(),
            ["corp-ldap", "hr-hook"]
        );
        let connectors = crate::application::connector_registry(&config).unwrap();
        let target = [(
            String::from("group"),
            String::from("cn=vpn,dc=example,dc=com"),
        )]
        .into();
        connectors.check_target("corp-ldap", &target).unwrap();
        let err = connectors.check_target("hr-hook", &target).unwrap_err();
        assert!(err.contains("unknown setting `group`"), "{err}");
        let err = connectors.check_target("nope", &target).unwrap_err();
        assert!(err.contains("configured: corp-ldap, hr-hook"), "{err}");
        let err = connectors.check_target("manual", &target).unwrap_err();
        assert!(err.contains("fulfilment by people"), "{err}");
        assert!(!format!("{config:?}").contains("0123456789abcdef0123"));
    }

    #[test]
    fn unknown_kinds_fields_bad_urls_and_reserved_names_stop_the_start() {
        let err = config("[connectors.x]\nkind = \"ftp\"\n").unwrap_err();
        assert!(err.to_string().contains("unknown variant `ftp`"), "{err}");
        let err = config(
            "[connectors.x]\nkind = \"okta\"\nbase_url = \"https://a.okta.com\"\ntoken = \"t\"\ncolour = 1\n",
        )
        .unwrap_err();
        assert!(err.to_string().contains("unknown field `colour`"), "{err}");

        let bad_url = config(
            "[connectors.x]\nkind = \"scim\"\nbase_url = \"scim.example.com\"\ntoken = \"t\"\n",
        )
        .unwrap();
        let err = build(&bad_url).unwrap_err().to_string();
        assert!(err.contains("`base_url` is not a URL"), "{err}");

        let manual =
            config("[connectors.manual]\nkind = \"postgres\"\nurl = \"postgres://u@h/db\"\n")
                .unwrap();
        assert!(build(&manual)
            .unwrap_err()
            .to_string()
            .contains("not a connector"));
    }

    #[test]
    fn environment_overrides_reach_connectors_with_dashes_in_their_names() {
        let mut table: toml::Table =
            toml::from_str("[connectors.corp-ldap]\nkind = \"ldap\"\n").unwrap();
        apply_env_override(
            &mut table,
            "corp_ldap",
            "bind_password",
            toml::Value::String(String::from("from-env")),
        )
        .unwrap();
        assert_eq!(
            table["connectors"]["corp-ldap"]["bind_password"].as_str(),
            Some("from-env")
        );
    }
}
