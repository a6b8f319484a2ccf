//! Slash commands (`/access prod-db 4h`): a form body over HTTP, a JSON object in Socket Mode.

use super::{check_size, decode_form, InboundError};
use serde_json::{Map, Value};

/// One invocation of a slash command. `user_name` is deprecated by Slack and may be empty; the
/// user id is what identifies the person.
#[derive(Debug, Clone, PartialEq)]
pub struct SlashCommand {
    pub command: String,
    /// What followed the command, untrimmed; empty when the person typed only the command.
    pub text: String,
    pub user_id: String,
    pub user_name: String,
    pub team_id: String,
    pub channel_id: String,
    pub channel_name: Option<String>,
    /// Replies to the person (ephemeral by default), up to five times in thirty minutes.
    pub response_url: String,
    /// Opens a modal, within three seconds of the command.
    pub trigger_id: String,
    pub enterprise_id: Option<String>,
    pub api_app_id: Option<String>,
    /// Every field as sent, as a JSON object of strings.
    pub raw: Value,
}

/// Parses a slash command's form body.
pub fn parse_slash_command(body: &[u8]) -> Result<SlashCommand, InboundError> {
    let mut fields = Map::new();
    for (name, value) in decode_form(body)? {
        fields.entry(name).or_insert(Value::String(value));
    }
    parse_slash_command_json(Value::Object(fields))
}

/// Parses a slash command delivered as JSON (Socket Mode's `slash_commands` envelope).
pub fn parse_slash_command_json(raw: Value) -> Result<SlashCommand, InboundError> {
    let Value::Object(fields) = &raw else {
        return Err(InboundError::Shape {
            what: "slash command",
            problem: String::from("expected an object of fields"),
        });
    };
    let text_of = |name: &str| -> Option<String> {
        fields
            .get(name)
            .and_then(Value::as_str)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    };
    let required = |name: &'static str| text_of(name).ok_or(InboundError::MissingField(name));
    // Re-check the size for Socket Mode, where no body passed through `decode_form`.
    check_size(raw.to_string().as_bytes())?;
    Ok(SlashCommand {
        command: required("command")?,
        text: text_of("text").unwrap_or_default(),
        user_id: required("user_id")?,
        user_name: text_of("user_name").unwrap_or_default(),
        team_id: required("team_id")?,
        channel_id: required("channel_id")?,
        channel_name: text_of("channel_name"),
        response_url: required("response_url")?,
        trigger_id: required("trigger_id")?,
        enterprise_id: text_of("enterprise_id"),
        api_app_id: text_of("api_app_id"),
        raw,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example from Slack's slash command documentation (chat-protocols.md §2), encoded as sent.
    const BODY: &str = "token=gIkuvaNzQIHg97ATvDxqgjtO&team_id=T0001&team_domain=example\
&enterprise_id=E0001&enterprise_name=Globular%20Construct%20Inc&channel_id=C2147483705\
&channel_name=test&user_id=U2147483697&user_name=Steve&command=%2Faccess\
&text=grant%20prod-db%2024h&api_app_id=A123456&is_enterprise_install=false\
&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2F1234%2F5678\
&trigger_id=13345224609.738474920.8088930838d88f008e0";

    #[test]
    fn parses_slacks_documented_example() {
        let command = parse_slash_command(BODY.as_bytes()).unwrap();
        assert_eq!(command.command, "/access");
        assert_eq!(command.text, "grant prod-db 24h");
        assert_eq!(command.user_id, "U2147483697");
        assert_eq!(command.user_name, "Steve");
        assert_eq!(command.team_id, "T0001");
        assert_eq!(command.channel_id, "C2147483705");
        assert_eq!(command.channel_name.as_deref(), Some("test"));
        assert_eq!(
            command.response_url,
            "https://hooks.slack.com/commands/1234/5678"
        );
        assert_eq!(
            command.trigger_id,
            "13345224609.738474920.8088930838d88f008e0"
        );
        assert_eq!(command.enterprise_id.as_deref(), Some("E0001"));
        assert_eq!(command.api_app_id.as_deref(), Some("A123456"));
        assert_eq!(command.raw["enterprise_name"], "Globular Construct Inc");
    }

    #[test]
    fn a_bare_command_has_empty_text_and_optional_fields_absent() {
        let body = "command=%2Faccess&text=&user_id=U1&team_id=T1&channel_id=D1\
&response_url=https%3A%2F%2Fhooks.slack.com%2Fx&trigger_id=1.2.3&enterprise_id=";
        let command = parse_slash_command(body.as_bytes()).unwrap();
        assert_eq!(command.text, "");
        assert_eq!(command.user_name, "");
        assert_eq!(command.channel_name, None);
        assert_eq!(
            command.enterprise_id, None,
            "an empty enterprise id means none"
        );
        assert_eq!(command.api_app_id, None);
    }

    #[test]
    fn missing_required_fields_are_named() {
        for field in [
            "command",
            "user_id",
            "team_id",
            "channel_id",
            "response_url",
            "trigger_id",
        ] {
            let body: String = BODY
                .split('&')
                .filter(|pair| !pair.starts_with(&format!("{field}=")))
                .collect::<Vec<_>>()
                .join("&");
            assert_eq!(
                parse_slash_command(body.as_bytes()),
                Err(InboundError::MissingField(field)),
                "{field}"
            );
        }
    }

    #[test]
    fn oversized_and_undecodable_bodies_are_refused() {
        let huge = vec![b'a'; super::super::MAX_BODY + 1];
        assert!(matches!(
            parse_slash_command(&huge),
            Err(InboundError::TooLarge { .. })
        ));
        // Form decoding is lossy (invalid UTF-8 becomes U+FFFD), so garbage ends as missing fields.
        assert_eq!(
            parse_slash_command(&[0xff, 0xfe, b'=', 0xff]),
            Err(InboundError::MissingField("command"))
        );
        assert!(matches!(
            parse_slash_command_json(Value::from("not an object")),
            Err(InboundError::Shape { .. })
        ));
    }

    #[test]
    fn socket_mode_json_parses_the_same_way() {
        let raw = serde_json::json!({
            "command": "/access", "text": "vpn", "user_id": "U1", "team_id": "T1",
            "channel_id": "C1", "response_url": "https://hooks.slack.com/x", "trigger_id": "t"
        });
        let command = parse_slash_command_json(raw).unwrap();
        assert_eq!(
            (command.command.as_str(), command.text.as_str()),
            ("/access", "vpn")
        );
    }
}
