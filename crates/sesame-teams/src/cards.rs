//! Adaptive Cards: the one place Sesame's Teams messages are built. Every card is version 1.5
//! (what Teams renders on desktop, web and mobile, and the first with `Action.Execute`), every
//! person-written text goes through [`text`], and [`Card::fitted`] keeps each card under Teams'
//! message size limit by leaving details to the portal.
//!
//! Buttons are Universal Actions (`Action.Execute`): Teams sends an `adaptiveCard/action` invoke and
//! shows the card the bot answers with. Each action's `data` names what it acts on; [`CardAction`]
//! reads it back.

mod form;
mod menu;
#[cfg(test)]
mod rendering_tests;
mod request;
pub mod text;
mod updates;

pub use form::{form_card, parse_form, FormState};
pub use menu::{
    flow_picker, help_card, link_offer_card, match_reply, my_requests_card, notice_card,
    welcome_card,
};
pub use request::{
    admin_alert_card, approver_card, fulfiller_card, removal_card, requester_card, RenderContext,
};
pub use updates::{update_card, Update};

use serde_json::{json, Map, Value};
use sesame_core::ids::RequestNumber;

pub const CARD_CONTENT_TYPE: &str = "application/vnd.microsoft.card.adaptive";
pub const CARD_VERSION: &str = "1.5";
/// Teams refuses a message over about 28 KB (text, card and envelope together); cards stay under
/// this with room for the activity around them.
pub const MAX_CARD_BYTES: usize = 26 * 1024;
/// At most this many people's copies refresh automatically (`refresh.userIds`); Teams allows 60.
pub const MAX_REFRESH_USERS: usize = 60;

/// The verbs of Sesame's `Action.Execute` buttons.
pub mod verbs {
    pub const PICK: &str = "pick";
    pub const SUBMIT: &str = "submit";
    pub const APPROVE: &str = "approve";
    pub const DENY: &str = "deny";
    pub const COMPLETE: &str = "complete";
    pub const FAIL: &str = "fail";
    pub const REFRESH: &str = "refresh";
    pub const MY_REQUESTS: &str = "my_requests";
    pub const EXTEND: &str = "extend";
    pub const RELINQUISH: &str = "relinquish";
}

/// A card: the essential body, details that may be left to the portal, buttons, and an optional
/// automatic refresh.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Card {
    pub body: Vec<Value>,
    /// Shown after the body unless the card would be too large; then cut from the end.
    pub details: Vec<Value>,
    pub actions: Vec<Value>,
    pub refresh: Option<Value>,
    /// The notification preview: Sesame's words and names, shown as plain text.
    pub summary: String,
}

impl Card {
    pub fn new(summary: &str) -> Card {
        Card {
            summary: text::truncate(summary, 200),
            ..Card::default()
        }
    }

    /// The card's JSON, with details cut from the end until it fits (then a note points to the
    /// portal at `more`).
    pub fn fitted(&self, more: Option<&str>) -> Value {
        let mut details = self.details.clone();
        let mut cut = false;
        loop {
            let card = self.render(&details, cut.then_some(more).flatten());
            if card.to_string().len() <= MAX_CARD_BYTES || details.is_empty() {
                return card;
            }
            details.pop();
            cut = true;
        }
    }

    fn render(&self, details: &[Value], more: Option<&str>) -> Value {
        let mut body = self.body.clone();
        body.extend(details.iter().cloned());
        if let Some(url) = more {
            body.push(text::rich(&[
                text::Run::subtle("More details are on the "),
                text::Run::link("portal", url),
            ]));
        }
        let mut card = Map::new();
        card.insert("type".into(), json!("AdaptiveCard"));
        card.insert(
            "$schema".into(),
            json!("http://adaptivecards.io/schemas/adaptive-card.json"),
        );
        card.insert("version".into(), json!(CARD_VERSION));
        card.insert("body".into(), Value::Array(body));
        if !self.actions.is_empty() {
            card.insert("actions".into(), Value::Array(self.actions.clone()));
        }
        if let Some(refresh) = &self.refresh {
            card.insert("refresh".into(), refresh.clone());
        }
        card.insert("msteams".into(), json!({ "width": "Full" }));
        Value::Object(card)
    }

    /// A message activity carrying the card.
    pub fn activity(&self, more: Option<&str>) -> Value {
        card_activity(&self.summary, self.fitted(more))
    }

    /// The answer to an `adaptiveCard/action` invoke: Teams replaces the card with this one.
    pub fn invoke_response(&self, more: Option<&str>) -> Value {
        json!({ "statusCode": 200, "type": CARD_CONTENT_TYPE, "value": self.fitted(more) })
    }
}

/// A message activity with one card attachment.
pub fn card_activity(summary: &str, card: Value) -> Value {
    json!({
        "type": "message",
        "summary": summary,
        "attachments": [{ "contentType": CARD_CONTENT_TYPE, "content": card }],
    })
}

/// An `Action.Execute` button.
pub fn execute(title: &str, verb: &str, data: Value) -> Value {
    json!({ "type": "Action.Execute", "title": title, "verb": verb, "data": data })
}

/// An `Action.Execute` button that insists on the card's inputs being valid first.
pub fn execute_validated(title: &str, verb: &str, data: Value) -> Value {
    let mut action = execute(title, verb, data);
    action["associatedInputs"] = json!("auto");
    action
}

/// A click read back: which verb, on what. Values arrive as JSON numbers or, from some clients
/// and from `Action.Submit`, as strings; both are accepted.
#[derive(Debug, Clone, PartialEq)]
pub struct CardAction {
    pub verb: String,
    pub data: Value,
}

impl CardAction {
    pub fn new(verb: &str, data: Value) -> CardAction {
        CardAction {
            verb: verb.to_owned(),
            data,
        }
    }

    /// An `Action.Submit` click arrives as a message whose `value` holds the data; Sesame puts the
    /// verb there too.
    pub fn from_submit_value(value: &Value) -> Option<CardAction> {
        let verb = value.get("verb")?.as_str()?;
        Some(CardAction::new(verb, value.clone()))
    }

    pub fn string(&self, key: &str) -> Option<String> {
        match self.data.get(key)? {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }

    fn integer(&self, key: &str) -> Option<i64> {
        match self.data.get(key)? {
            Value::Number(n) => n.as_i64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    pub fn request(&self) -> Option<RequestNumber> {
        self.integer("request")
            .filter(|n| *n > 0)
            .map(RequestNumber)
    }

    pub fn step(&self) -> Option<usize> {
        self.integer("step").and_then(|s| usize::try_from(s).ok())
    }

    /// A typed reason (deny, can't do it), trimmed; `None` when empty.
    pub fn reason(&self) -> Option<String> {
        self.string("reason")
            .map(|r| r.trim().to_owned())
            .filter(|r| !r.is_empty())
    }
}

/// The portal's page of a request.
pub fn request_url(portal_base_url: &str, number: RequestNumber) -> String {
    format!(
        "{}/requests/{}",
        portal_base_url.trim_end_matches('/'),
        number.0
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_large_card_drops_details_and_points_to_the_portal() {
        let mut card = Card::new("Carpark access #1");
        card.body.push(text::note("Carpark access"));
        for i in 0..200 {
            card.details.push(text::rich(&[text::Run::plain(&format!(
                "{i} {}",
                "x".repeat(500)
            ))]));
        }
        let json = card.fitted(Some("https://sesame.test/requests/1"));
        assert!(json.to_string().len() <= MAX_CARD_BYTES);
        let last = json["body"].as_array().unwrap().last().unwrap().clone();
        assert_eq!(last["inlines"][1]["text"], "portal");
        let small = Card::new("x").fitted(None);
        assert_eq!(small["version"], CARD_VERSION);
        assert!(small.get("actions").is_none());
    }

    #[test]
    fn action_data_is_read_from_numbers_and_strings() {
        let action = CardAction::new(
            "approve",
            json!({ "request": "42", "step": 1, "reason": "  " }),
        );
        assert_eq!(action.request(), Some(RequestNumber(42)));
        assert_eq!(action.step(), Some(1));
        assert_eq!(action.reason(), None);
        let bad = CardAction::new("approve", json!({ "request": "-3", "step": "x" }));
        assert_eq!((bad.request(), bad.step()), (None, None));
        assert_eq!(
            CardAction::from_submit_value(&json!({ "verb": "deny", "request": 3 }))
                .unwrap()
                .verb,
            "deny"
        );
        assert!(CardAction::from_submit_value(&json!({ "request": 3 })).is_none());
    }
}
