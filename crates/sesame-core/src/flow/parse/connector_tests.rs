//! `fulfillment: { connector: ... }`: the shape, and the check against configured connectors.

use super::*;

const HEAD: &str = "id: vpn\nname: VPN\nrequesters: everyone\n";

/// Knows one connector, `corp-ldap`, which needs a `group` setting.
struct OneConnector;

impl ConnectorCheck for OneConnector {
    fn check_target(
        &self,
        connector: &str,
        target: &BTreeMap<String, String>,
    ) -> Result<(), String> {
        if connector != "corp-ldap" {
            return Err(format!(
                "there is no connector `{connector}`; configured: corp-ldap"
            ));
        }
        if !target.contains_key("group") {
            return Err(String::from("`group` is required"));
        }
        Ok(())
    }
}

#[test]
fn a_connector_block_keeps_every_other_key_as_a_setting_in_text() {
    let text = format!(
        "{HEAD}fulfillment:\n  connector: corp-ldap\n  group: cn=vpn,ou=groups\n  weight: 3\n  nested: true\n"
    );
    let flow = parse_flow("flows/vpn.yaml", &text).expect("valid");
    let Fulfillment::Connector(target) = flow.fulfillment else {
        panic!("expected a connector, got {:?}", flow.fulfillment);
    };
    assert_eq!(target.connector, "corp-ldap");
    let expected: BTreeMap<String, String> = [
        ("group", "cn=vpn,ou=groups"),
        ("nested", "true"),
        ("weight", "3"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    assert_eq!(target.target, expected);
}

#[test]
fn without_a_registry_any_connector_name_is_accepted_and_with_one_it_is_checked() {
    let text = format!("{HEAD}fulfillment:\n  connector: corp-ldp\n  group: vpn\n");
    assert!(parse_flow("flows/vpn.yaml", &text).is_ok());
    let errors = parse_flow_checked("flows/vpn.yaml", &text, Some(&OneConnector))
        .expect_err("an unknown connector is refused");
    assert_eq!(errors.len(), 1);
    assert_eq!(
        errors[0].to_string(),
        "flows/vpn.yaml:5:3: fulfillment.connector: there is no connector `corp-ldp`; configured: corp-ldap"
    );
}

#[test]
fn the_connector_checks_its_own_settings_when_flows_load() {
    let text = format!("{HEAD}fulfillment:\n  connector: corp-ldap\n  grp: vpn\n");
    let errors = parse_flow_checked("flows/vpn.yaml", &text, Some(&OneConnector))
        .expect_err("a missing setting is refused");
    assert_eq!(errors[0].path, "fulfillment.connector");
    assert_eq!(errors[0].message, "`group` is required");
    assert_eq!(errors[0].position.map(|p| p.line), Some(5));
    let good = format!("{HEAD}fulfillment:\n  connector: corp-ldap\n  group: vpn\n");
    assert!(parse_flow_checked("flows/vpn.yaml", &good, Some(&OneConnector)).is_ok());
}

#[test]
fn bad_connector_blocks_name_the_key_at_fault() {
    for (block, path, message) in [
        (
            "fulfillment:\n  connector: corp-ldap\n  group: [a, b]\n",
            "fulfillment.group",
            "expected a single value (text, number or true/false)",
        ),
        (
            "fulfillment:\n  connector: \"  \"\n",
            "fulfillment.connector",
            "must name a connector",
        ),
        (
            "fulfillment:\n  connector: corp-ldap\n  manual: { group: it }\n",
            "fulfillment.manual",
            "a flow is fulfilled by a connector or by hand, not both",
        ),
    ] {
        let errors = parse_flow("flows/vpn.yaml", &format!("{HEAD}{block}")).expect_err("refused");
        assert_eq!(errors[0].path, path, "{block}");
        assert_eq!(errors[0].message, message, "{block}");
        assert!(errors[0].position.is_some(), "{block}");
    }
}
