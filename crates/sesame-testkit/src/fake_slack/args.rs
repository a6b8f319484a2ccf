//! A method's arguments, read the ways Slack accepts them: a JSON body, a form body, or a query
//! string. Form values are strings, so the helpers here read `"true"`, `"1"` and JSON-in-a-string
//! the way Slack does.

use serde_json::{Map, Value};

/// Form arguments whose value is JSON text (Slack: "a JSON-based array ... presented as a
/// URL-encoded string").
const JSON_VALUED: &[&str] = &["blocks", "view", "metadata", "attachments"];

#[derive(Debug, Clone, Default)]
pub(super) struct Args {
    fields: Map<String, Value>,
    /// Slack accepts the token as a form or query argument too (never inside a JSON body).
    pub(super) token: Option<String>,
}

/// Why a body could not be read, as Slack's error code.
pub(super) type BodyError = &'static str;

impl Args {
    /// A JSON body. Slack ignores a `token` field in JSON: JSON callers must use the header.
    pub(super) fn from_json(body: &[u8]) -> Result<Args, BodyError> {
        match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(fields)) => Ok(Args {
                fields: without_token(fields).0,
                token: None,
            }),
            _ => Err("invalid_json"),
        }
    }

    /// A form body or a query string.
    pub(super) fn from_form(encoded: &[u8]) -> Result<Args, BodyError> {
        let pairs: Vec<(String, String)> =
            serde_urlencoded::from_bytes(encoded).map_err(|_| "invalid_form_data")?;
        let fields = pairs
            .into_iter()
            .map(|(name, value)| {
                let value = if JSON_VALUED.contains(&name.as_str()) {
                    serde_json::from_str(&value).unwrap_or(Value::String(value))
                } else {
                    Value::String(value)
                };
                (name, value)
            })
            .collect();
        let (fields, token) = without_token(fields);
        Ok(Args { fields, token })
    }

    /// The arguments as recorded for tests.
    pub(super) fn to_value(&self) -> Value {
        Value::Object(self.fields.clone())
    }

    pub(super) fn has(&self, name: &str) -> bool {
        self.fields.get(name).is_some_and(|value| !value.is_null())
    }

    /// A string argument; numbers count too, since a `ts` is sometimes sent as a JSON number.
    pub(super) fn text(&self, name: &str) -> Option<String> {
        match self.fields.get(name)? {
            Value::String(text) => Some(text.clone()),
            Value::Number(number) => Some(number.to_string()),
            _ => None,
        }
    }

    /// A string argument that must not be empty.
    pub(super) fn non_empty(&self, name: &str) -> Option<String> {
        self.text(name).filter(|text| !text.is_empty())
    }

    pub(super) fn flag(&self, name: &str) -> bool {
        match self.fields.get(name) {
            Some(Value::Bool(flag)) => *flag,
            Some(Value::String(text)) => text == "true" || text == "1",
            Some(Value::Number(number)) => number.as_u64() == Some(1),
            _ => false,
        }
    }

    pub(super) fn number(&self, name: &str) -> Option<u64> {
        match self.fields.get(name)? {
            Value::Number(number) => number.as_u64(),
            Value::String(text) => text.parse().ok(),
            _ => None,
        }
    }

    /// A JSON-valued argument: `Ok(None)` when absent, `Err` when it is a string that is not JSON.
    pub(super) fn json(&self, name: &str) -> Result<Option<Value>, ()> {
        match self.fields.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(text)) => serde_json::from_str(text).map(Some).map_err(|_| ()),
            Some(value) => Ok(Some(value.clone())),
        }
    }
}

fn without_token(mut fields: Map<String, Value>) -> (Map<String, Value>, Option<String>) {
    let token = match fields.remove("token") {
        Some(Value::String(token)) => Some(token),
        _ => None,
    };
    (fields, token)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn form_bodies_decode_json_valued_fields_and_take_out_the_token() {
        let args = Args::from_form(
            b"token=xoxb-1&channel=C1&blocks=%5B%7B%22type%22%3A%22divider%22%7D%5D&unfurl_links=true",
        )
        .unwrap();
        assert_eq!(args.token.as_deref(), Some("xoxb-1"));
        assert_eq!(
            args.to_value(),
            json!({"channel": "C1", "blocks": [{"type": "divider"}], "unfurl_links": "true"})
        );
        assert!(args.flag("unfurl_links"));
    }

    #[test]
    fn a_json_body_must_be_an_object_and_its_token_is_ignored() {
        assert_eq!(Args::from_json(b"[1]").unwrap_err(), "invalid_json");
        assert_eq!(Args::from_json(b"{nope").unwrap_err(), "invalid_json");
        let args =
            Args::from_json(br#"{"token":"xoxb-1","ts":1700000000.0001,"limit":"5"}"#).unwrap();
        assert_eq!(args.token, None);
        assert_eq!(args.text("ts").as_deref(), Some("1700000000.0001"));
        assert_eq!(args.number("limit"), Some(5));
    }

    #[test]
    fn json_valued_arguments_may_arrive_as_strings() {
        let args = Args::from_json(br#"{"view":"{\"type\":\"modal\"}","blocks":"[oops"}"#).unwrap();
        assert_eq!(args.json("view"), Ok(Some(json!({"type": "modal"}))));
        assert_eq!(args.json("blocks"), Err(()));
        assert_eq!(args.json("metadata"), Ok(None));
    }
}
