//! The Events API: `url_verification` when the Request URL is set up, and `event_callback`
//! envelopes around the events Sesame subscribes to (App Home opened, direct messages, mentions).

use super::{check_size, parse_json, typed, InboundError};
use serde::Deserialize;
use serde_json::Value;

#[derive(Debug, Clone, PartialEq)]
pub enum EventsRequest {
    /// Answer with the challenge to prove the URL is ours.
    UrlVerification { challenge: String },
    /// Boxed: the envelope is large and the other variants are small.
    EventCallback(Box<EventCallback>),
    /// Envelope types Sesame does not handle (`app_rate_limited`, anything new).
    Other(Value),
}

#[derive(Debug, Clone, PartialEq)]
pub struct EventCallback {
    /// Unique per event and repeated on Slack's retries: the de-duplication key.
    pub event_id: String,
    pub event_time: i64,
    pub team_id: String,
    pub api_app_id: Option<String>,
    pub event: Event,
    pub raw: Value,
}

impl EventCallback {
    /// Sesame's own bot user id, from the envelope's `authorizations`, so the caller can ignore the
    /// bot's own messages without asking `auth.test`.
    pub fn bot_user_id(&self) -> Option<&str> {
        self.raw
            .get("authorizations")?
            .as_array()?
            .iter()
            .find(|a| a.get("is_bot").and_then(Value::as_bool) == Some(true))?
            .get("user_id")?
            .as_str()
    }

    /// Whether Sesame does anything with this event: the Home tab opened, a person's direct
    /// message, a person's mention. Edits, deletions, the bot's own posts and the Messages tab
    /// are acknowledged and left alone, without writing anything.
    pub fn needs_handling(&self) -> bool {
        match &self.event {
            Event::AppHomeOpened(opened) => opened.tab == "home",
            Event::DirectMessage(message) => message.is_from_a_person(self.bot_user_id()),
            Event::AppMention(mention) => mention.bot_id.is_none(),
            Event::Other(_) => false,
        }
    }

    /// The Slack user the event comes from, when it names one.
    pub fn author(&self) -> Option<&str> {
        match &self.event {
            Event::AppHomeOpened(opened) => Some(&opened.user),
            Event::DirectMessage(message) => message.user.as_deref(),
            Event::AppMention(mention) => Some(&mention.user),
            Event::Other(_) => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    AppHomeOpened(AppHomeOpened),
    DirectMessage(DirectMessage),
    AppMention(AppMention),
    /// Messages outside direct messages, and every event type Sesame does not model.
    Other(Value),
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct AppHomeOpened {
    pub user: String,
    /// `home` or `messages`; only `home` needs a `views.publish`.
    pub tab: String,
    pub channel: Option<String>,
}

/// A `message` event in a direct message with the app (`channel_type: im`). Edits, deletions and
/// bot posts arrive as messages too, with a `subtype` or `bot_id` and sometimes without `user` or
/// `text`; [`DirectMessage::is_from_a_person`] tells them apart.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct DirectMessage {
    pub channel: String,
    pub user: Option<String>,
    #[serde(default)]
    pub text: String,
    pub ts: String,
    pub thread_ts: Option<String>,
    pub bot_id: Option<String>,
    pub subtype: Option<String>,
}

impl DirectMessage {
    /// Whether a person wrote this message now: not a bot (Sesame included, which would otherwise
    /// answer itself forever), not an edit, deletion or join notice.
    pub fn is_from_a_person(&self, bot_user_id: Option<&str>) -> bool {
        let Some(user) = self.user.as_deref() else {
            return false;
        };
        self.bot_id.is_none() && self.subtype.is_none() && bot_user_id != Some(user)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct AppMention {
    pub user: String,
    pub text: String,
    pub ts: String,
    pub channel: String,
    pub thread_ts: Option<String>,
    pub bot_id: Option<String>,
}

#[derive(Deserialize)]
struct RawCallback {
    event_id: String,
    event_time: i64,
    team_id: String,
    api_app_id: Option<String>,
}

/// Parses an Events API request body.
pub fn parse_events(body: &[u8]) -> Result<EventsRequest, InboundError> {
    check_size(body)?;
    parse_events_json(parse_json(body)?)
}

/// Parses an Events API envelope delivered as JSON (Socket Mode's `events_api` payload).
pub fn parse_events_json(raw: Value) -> Result<EventsRequest, InboundError> {
    match raw.get("type").and_then(Value::as_str) {
        Some("url_verification") => {
            let challenge = raw
                .get("challenge")
                .and_then(Value::as_str)
                .filter(|c| !c.is_empty())
                .ok_or(InboundError::MissingField("challenge"))?;
            Ok(EventsRequest::UrlVerification {
                challenge: challenge.to_owned(),
            })
        }
        Some("event_callback") => {
            let envelope: RawCallback = typed("event_callback envelope", &raw)?;
            let event = parse_event(
                raw.get("event")
                    .ok_or(InboundError::MissingField("event"))?,
            )?;
            Ok(EventsRequest::EventCallback(Box::new(EventCallback {
                event_id: envelope.event_id,
                event_time: envelope.event_time,
                team_id: envelope.team_id,
                api_app_id: envelope.api_app_id,
                event,
                raw,
            })))
        }
        _ => Ok(EventsRequest::Other(raw)),
    }
}

fn parse_event(event: &Value) -> Result<Event, InboundError> {
    let kind = event.get("type").and_then(Value::as_str);
    let channel_type = event.get("channel_type").and_then(Value::as_str);
    Ok(match (kind, channel_type) {
        (Some("app_home_opened"), _) => {
            Event::AppHomeOpened(typed("app_home_opened event", event)?)
        }
        (Some("message"), Some("im")) => Event::DirectMessage(typed("message event", event)?),
        (Some("app_mention"), _) => Event::AppMention(typed("app_mention event", event)?),
        _ => Event::Other(event.clone()),
    })
}

/// The text of a mention without the leading `<@BOT>` (or `<@BOT|name>`) that addressed Sesame:
/// "<@U0LAN0Z89> request prod-db" becomes "request prod-db". Text that does not start with the
/// bot's mention is returned trimmed and otherwise unchanged.
pub fn strip_leading_mention<'a>(text: &'a str, bot_user_id: &str) -> &'a str {
    let trimmed = text.trim_start();
    let Some(rest) = trimmed
        .strip_prefix("<@")
        .and_then(|r| r.strip_prefix(bot_user_id))
    else {
        return text.trim();
    };
    let after = if let Some(r) = rest.strip_prefix('>') {
        r
    } else if let Some((_, r)) = rest.strip_prefix('|').and_then(|r| r.split_once('>')) {
        r
    } else {
        // `<@U1X>` when the bot is `U1`: a different user, not ours.
        return text.trim();
    };
    after.trim()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn callback(event: Value) -> Value {
        json!({
            "token": "XXYYZZ", "team_id": "T123ABC456", "api_app_id": "A123ABC456",
            "event": event, "type": "event_callback", "event_id": "Ev123ABC456",
            "event_time": 1515449522,
            "authorizations": [{"enterprise_id": null, "team_id": "T123ABC456",
                "user_id": "U0LAN0Z89", "is_bot": true, "is_enterprise_install": false}],
            "is_ext_shared_channel": false, "event_context": "4-eyJldCI6ImFwcF9tZW50aW9uIi"
        })
    }

    fn parsed_event(event: Value) -> (EventCallback, Event) {
        let body = callback(event).to_string();
        match parse_events(body.as_bytes()).unwrap() {
            EventsRequest::EventCallback(cb) => {
                let event = cb.event.clone();
                (*cb, event)
            }
            other => panic!("expected an event callback, got {other:?}"),
        }
    }

    #[test]
    fn url_verification_yields_the_challenge() {
        let body = br#"{"token":"Jhj5dZrVaK7ZwHHjRyZWjbDl","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}"#;
        assert_eq!(
            parse_events(body),
            Ok(EventsRequest::UrlVerification {
                challenge: String::from("3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P")
            })
        );
        assert_eq!(
            parse_events(br#"{"type":"url_verification"}"#),
            Err(InboundError::MissingField("challenge"))
        );
    }

    #[test]
    fn app_mentions_parse_with_the_envelope_and_the_bot_id() {
        let (cb, event) = parsed_event(json!({
            "type": "app_mention", "user": "U061F7AUR", "text": "<@U0LAN0Z89> request prod-db",
            "ts": "1515449522.000016", "channel": "C123ABC456", "event_ts": "1515449522000016"
        }));
        assert_eq!(cb.event_id, "Ev123ABC456");
        assert_eq!(cb.event_time, 1_515_449_522);
        assert_eq!(cb.team_id, "T123ABC456");
        assert_eq!(cb.api_app_id.as_deref(), Some("A123ABC456"));
        assert_eq!(cb.bot_user_id(), Some("U0LAN0Z89"));
        let Event::AppMention(mention) = event else {
            panic!("expected a mention")
        };
        assert_eq!(mention.user, "U061F7AUR");
        assert_eq!(mention.channel, "C123ABC456");
        assert_eq!(mention.thread_ts, None);
        assert_eq!(
            strip_leading_mention(&mention.text, "U0LAN0Z89"),
            "request prod-db"
        );
    }

    #[test]
    fn direct_messages_parse_and_noise_is_recognised() {
        let (cb, event) = parsed_event(json!({
            "type": "message", "channel": "D024BE91L", "user": "U2147483697", "text": "hi",
            "ts": "1355517523.000005", "event_ts": "1355517523.000005", "channel_type": "im"
        }));
        let Event::DirectMessage(message) = event else {
            panic!("expected a DM")
        };
        assert_eq!(message.text, "hi");
        assert!(message.is_from_a_person(cb.bot_user_id()));

        let (_, edited) = parsed_event(json!({
            "type": "message", "subtype": "message_changed", "channel": "D024BE91L",
            "channel_type": "im", "ts": "1355517524.000001", "hidden": true,
            "message": {"type": "message", "user": "U2147483697", "text": "hello"}
        }));
        let Event::DirectMessage(edited) = edited else {
            panic!("expected a DM")
        };
        assert_eq!((edited.user.as_deref(), edited.text.as_str()), (None, ""));
        assert!(!edited.is_from_a_person(None));

        let (_, from_bot) = parsed_event(json!({
            "type": "message", "channel": "D1", "user": "U0LAN0Z89", "bot_id": "B1",
            "text": "Carpark access #1", "ts": "1.2", "channel_type": "im"
        }));
        let Event::DirectMessage(from_bot) = from_bot else {
            panic!("expected a DM")
        };
        assert!(!from_bot.is_from_a_person(Some("U0LAN0Z89")));
        let ours_without_bot_id = DirectMessage {
            bot_id: None,
            ..from_bot
        };
        assert!(!ours_without_bot_id.is_from_a_person(Some("U0LAN0Z89")));
    }

    #[test]
    fn app_home_opened_parses_and_other_events_are_kept_raw() {
        let (_, home) = parsed_event(json!({
            "type": "app_home_opened", "user": "U123", "channel": "D123", "tab": "home",
            "event_ts": "1.2", "view": {"id": "V1"}
        }));
        assert_eq!(
            home,
            Event::AppHomeOpened(AppHomeOpened {
                user: String::from("U123"),
                tab: String::from("home"),
                channel: Some(String::from("D123")),
            })
        );
        let channel_message = json!({"type": "message", "channel": "C1", "user": "U1", "text": "x",
            "ts": "1.2", "channel_type": "channel"});
        assert_eq!(
            parsed_event(channel_message.clone()).1,
            Event::Other(channel_message)
        );
        let reaction = json!({"type": "reaction_added", "user": "U1", "reaction": "tada"});
        assert_eq!(parsed_event(reaction.clone()).1, Event::Other(reaction));
        let limited = json!({"token": "x", "type": "app_rate_limited", "minute_rate_limited": 1});
        assert_eq!(
            parse_events_json(limited.clone()),
            Ok(EventsRequest::Other(limited))
        );
    }

    #[test]
    fn malformed_envelopes_and_known_events_are_typed_errors() {
        assert!(matches!(
            parse_events(b"{not json"),
            Err(InboundError::Json(_))
        ));
        assert!(matches!(parse_events(b""), Err(InboundError::Json(_))));
        let mut no_id = callback(json!({"type": "app_home_opened", "user": "U1", "tab": "home"}));
        no_id.as_object_mut().unwrap().remove("event_id");
        assert!(matches!(
            parse_events_json(no_id),
            Err(InboundError::Shape {
                what: "event_callback envelope",
                ..
            })
        ));
        let mut no_event = callback(Value::Null);
        no_event.as_object_mut().unwrap().remove("event");
        assert_eq!(
            parse_events_json(no_event),
            Err(InboundError::MissingField("event"))
        );
        let bad_mention = callback(json!({"type": "app_mention", "text": 5}));
        assert!(matches!(
            parse_events_json(bad_mention),
            Err(InboundError::Shape {
                what: "app_mention event",
                ..
            })
        ));
        let huge = vec![b' '; super::super::MAX_BODY + 1];
        assert!(matches!(
            parse_events(&huge),
            Err(InboundError::TooLarge { .. })
        ));
    }

    #[test]
    fn only_the_bots_own_leading_mention_is_stripped() {
        for (text, left) in [
            ("<@UBOT> vpn please", "vpn please"),
            ("  <@UBOT|sesame>   vpn ", "vpn"),
            ("<@UBOT>", ""),
            ("vpn <@UBOT>", "vpn <@UBOT>"),
            ("<@UBOTX> vpn", "<@UBOTX> vpn"),
            ("<@UOTHER> vpn", "<@UOTHER> vpn"),
            ("<@UBOT|unterminated", "<@UBOT|unterminated"),
            ("", ""),
        ] {
            assert_eq!(strip_leading_mention(text, "UBOT"), left, "{text:?}");
        }
    }
}
