//! The text frames of a Socket Mode connection: what Slack sends (`hello`, `disconnect`, and
//! envelopes carrying Events API, slash command and interactivity payloads) and the
//! acknowledgement the app sends back.

use super::SocketRequest;
use serde_json::{json, Map, Value};

/// One frame from Slack, read leniently: unknown fields are ignored, and a frame type this code
/// does not know is reported rather than refused.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Frame {
    /// The connection is ready. `num_connections` counts this app's open connections.
    Hello { num_connections: Option<u64> },
    /// Slack will close this connection (`refresh_requested`, `warning`) or has turned Socket Mode
    /// off for the app (`link_disabled`).
    Disconnect {
        reason: String,
        host: Option<String>,
    },
    /// Anything with an `envelope_id`, which must be acknowledged whatever its type.
    Envelope(Envelope),
    /// A frame without an envelope id and of a type this code does not know.
    Other { kind: String },
}

/// A payload Slack delivered and waits to see acknowledged.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Envelope {
    pub(super) envelope_id: String,
    /// `events_api`, `slash_commands`, `interactive`, or a type added later.
    pub(super) kind: String,
    pub(super) payload: Value,
    /// Whether Slack reads a `payload` in the acknowledgement.
    pub(super) accepts_response_payload: bool,
    /// Events API redeliveries count up from 0, with the reason of the previous failure.
    pub(super) retry_attempt: Option<u64>,
    pub(super) retry_reason: Option<String>,
}

/// What to do with an envelope.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Route {
    Handle(SocketRequest),
    /// A type this code does not handle: acknowledge it so Slack does not retry, and move on.
    Unknown,
    /// A known type whose payload is not a JSON object.
    Malformed,
}

/// Why a frame could not be read. The text is safe to log: it never repeats the frame.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(super) enum FrameError {
    #[error("not JSON: {0}")]
    NotJson(String),
    #[error("not a JSON object")]
    NotAnObject,
    #[error("neither a type nor an envelope id")]
    Untyped,
    #[error("an envelope id that is not a non-empty string")]
    BadEnvelopeId,
}

impl Frame {
    pub(super) fn parse(text: &str) -> Result<Frame, FrameError> {
        let value: Value =
            serde_json::from_str(text).map_err(|error| FrameError::NotJson(error.to_string()))?;
        let Value::Object(mut fields) = value else {
            return Err(FrameError::NotAnObject);
        };
        let kind = fields
            .get("type")
            .and_then(Value::as_str)
            .map(str::to_owned);
        if let Some(id) = fields.get("envelope_id") {
            let envelope_id = match id.as_str() {
                Some(id) if !id.is_empty() => id.to_owned(),
                _ => return Err(FrameError::BadEnvelopeId),
            };
            return Ok(Frame::Envelope(Envelope::from_fields(
                envelope_id,
                kind.unwrap_or_default(),
                &mut fields,
            )));
        }
        match kind.as_deref() {
            Some("hello") => Ok(Frame::Hello {
                num_connections: fields.get("num_connections").and_then(Value::as_u64),
            }),
            Some("disconnect") => Ok(Frame::Disconnect {
                reason: string_field(&fields, "reason").unwrap_or_default(),
                host: fields
                    .get("debug_info")
                    .and_then(|info| info.get("host"))
                    .and_then(Value::as_str)
                    .map(str::to_owned),
            }),
            Some(other) => Ok(Frame::Other {
                kind: other.to_owned(),
            }),
            None => Err(FrameError::Untyped),
        }
    }
}

impl Envelope {
    fn from_fields(envelope_id: String, kind: String, fields: &mut Map<String, Value>) -> Envelope {
        // Slack says per envelope whether it reads a response payload; when it does not say,
        // the documented defaults apply (slash commands and interactivity do, events do not).
        let accepts_response_payload = fields
            .get("accepts_response_payload")
            .and_then(Value::as_bool)
            .unwrap_or(matches!(kind.as_str(), "slash_commands" | "interactive"));
        Envelope {
            envelope_id,
            accepts_response_payload,
            retry_attempt: fields.get("retry_attempt").and_then(Value::as_u64),
            retry_reason: string_field(fields, "retry_reason").filter(|reason| !reason.is_empty()),
            payload: fields.remove("payload").unwrap_or(Value::Null),
            kind,
        }
    }

    /// The request to hand over, if this is a type Sesame handles. Consumes the payload.
    pub(super) fn take_route(&mut self) -> Route {
        let make: fn(Value) -> SocketRequest = match self.kind.as_str() {
            "events_api" => SocketRequest::Events,
            "slash_commands" => SocketRequest::SlashCommand,
            "interactive" => SocketRequest::Interactive,
            _ => return Route::Unknown,
        };
        if !self.payload.is_object() {
            return Route::Malformed;
        }
        Route::Handle(make(self.payload.take()))
    }
}

/// The acknowledgement frame: `{"envelope_id": ...}` plus `payload` when there is one.
pub(super) fn ack_text(envelope_id: &str, payload: Option<&Value>) -> String {
    let ack = match payload {
        Some(payload) => json!({ "envelope_id": envelope_id, "payload": payload }),
        None => json!({ "envelope_id": envelope_id }),
    };
    ack.to_string()
}

fn string_field(fields: &Map<String, Value>, name: &str) -> Option<String> {
    fields.get(name).and_then(Value::as_str).map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn envelope(text: &str) -> Envelope {
        match Frame::parse(text) {
            Ok(Frame::Envelope(envelope)) => envelope,
            other => panic!("expected an envelope, got {other:?}"),
        }
    }

    #[test]
    fn socket_hello_and_disconnect_frames_are_read() {
        let hello = r#"{"type":"hello","num_connections":2,"connection_info":{"app_id":"A1"},
            "debug_info":{"host":"applink-1","build_number":10,
            "approximate_connection_time":18060}}"#;
        assert_eq!(
            Frame::parse(hello),
            Ok(Frame::Hello {
                num_connections: Some(2)
            })
        );
        let disconnect = r#"{"type":"disconnect","reason":"refresh_requested",
            "debug_info":{"host":"applink-7"}}"#;
        assert_eq!(
            Frame::parse(disconnect),
            Ok(Frame::Disconnect {
                reason: "refresh_requested".into(),
                host: Some("applink-7".into())
            })
        );
        assert_eq!(
            Frame::parse(r#"{"type":"disconnect"}"#),
            Ok(Frame::Disconnect {
                reason: String::new(),
                host: None
            })
        );
        assert_eq!(
            Frame::parse(r#"{"type":"something_new"}"#),
            Ok(Frame::Other {
                kind: "something_new".into()
            })
        );
    }

    #[test]
    fn socket_envelopes_of_each_kind_route_to_their_request() {
        let mut events = envelope(
            r#"{"type":"events_api","envelope_id":"e-1","accepts_response_payload":false,
                "retry_attempt":1,"retry_reason":"timeout",
                "payload":{"type":"event_callback","event":{"type":"app_home_opened"}}}"#,
        );
        assert_eq!(events.envelope_id, "e-1");
        assert!(!events.accepts_response_payload);
        assert_eq!(events.retry_attempt, Some(1));
        assert_eq!(events.retry_reason.as_deref(), Some("timeout"));
        assert_eq!(
            events.take_route(),
            Route::Handle(SocketRequest::Events(
                json!({"type":"event_callback","event":{"type":"app_home_opened"}})
            ))
        );

        let mut slash = envelope(
            r#"{"type":"slash_commands","envelope_id":"s-1","accepts_response_payload":true,
                "payload":{"command":"/access","text":"list","user_id":"U1"}}"#,
        );
        assert!(slash.accepts_response_payload);
        assert_eq!(
            slash.take_route(),
            Route::Handle(SocketRequest::SlashCommand(
                json!({"command":"/access","text":"list","user_id":"U1"})
            ))
        );

        let mut interactive = envelope(
            r#"{"type":"interactive","envelope_id":"i-1","payload":{"type":"view_submission"}}"#,
        );
        // Not said: interactivity reads a response payload.
        assert!(interactive.accepts_response_payload);
        assert_eq!(
            interactive.take_route(),
            Route::Handle(SocketRequest::Interactive(
                json!({"type":"view_submission"})
            ))
        );
    }

    #[test]
    fn socket_unknown_and_malformed_envelopes_are_still_acknowledgeable() {
        let mut unknown = envelope(r#"{"type":"workflow_thing","envelope_id":"u-1","payload":{}}"#);
        assert_eq!(unknown.take_route(), Route::Unknown);
        assert!(!unknown.accepts_response_payload);

        let mut untyped = envelope(r#"{"envelope_id":"u-2"}"#);
        assert_eq!(untyped.kind, "");
        assert_eq!(untyped.take_route(), Route::Unknown);

        let mut no_payload = envelope(r#"{"type":"interactive","envelope_id":"m-1"}"#);
        assert_eq!(no_payload.take_route(), Route::Malformed);
        let mut text_payload =
            envelope(r#"{"type":"events_api","envelope_id":"m-2","payload":"oops"}"#);
        assert_eq!(text_payload.take_route(), Route::Malformed);
    }

    #[test]
    fn socket_malformed_frames_are_errors_not_panics() {
        assert!(matches!(
            Frame::parse("not json"),
            Err(FrameError::NotJson(_))
        ));
        assert!(matches!(Frame::parse(""), Err(FrameError::NotJson(_))));
        assert_eq!(Frame::parse("[1,2]"), Err(FrameError::NotAnObject));
        assert_eq!(Frame::parse("\"hello\""), Err(FrameError::NotAnObject));
        assert_eq!(Frame::parse("{}"), Err(FrameError::Untyped));
        assert_eq!(Frame::parse(r#"{"type":7}"#), Err(FrameError::Untyped));
        assert_eq!(
            Frame::parse(r#"{"type":"events_api","envelope_id":12}"#),
            Err(FrameError::BadEnvelopeId)
        );
        assert_eq!(
            Frame::parse(r#"{"type":"events_api","envelope_id":""}"#),
            Err(FrameError::BadEnvelopeId)
        );
        // The error text never repeats the frame, which may hold user data.
        let secret = r#"{"token": "xapp-1-secret" "#;
        let error = Frame::parse(secret).unwrap_err().to_string();
        assert!(!error.contains("xapp"), "{error}");
    }

    #[test]
    fn socket_acknowledgements_carry_the_payload_only_when_there_is_one() {
        let bare: Value = serde_json::from_str(&ack_text("e-1", None)).unwrap();
        assert_eq!(bare, json!({"envelope_id": "e-1"}));
        let with: Value =
            serde_json::from_str(&ack_text("s-1", Some(&json!({"response_action": "clear"}))))
                .unwrap();
        assert_eq!(
            with,
            json!({"envelope_id": "s-1", "payload": {"response_action": "clear"}})
        );
    }
}
