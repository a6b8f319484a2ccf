//! The audit trail's hash chain: every event carries the hash of the event before it and its own
//! hash over that and its canonical content, so an event inserted, deleted or changed afterwards
//! breaks the chain where it happened.
//!
//! The definitions here are the contract an outside verifier implements (docs/operations.md,
//! "For your auditor"):
//!
//! - the **canonical content** of an event is the JSON object with the keys `actor`, `at`,
//!   `detail`, `id`, `kind` and `request`, written with keys sorted (at every depth, by their UTF-8
//!   bytes), no whitespace, and strings escaped as `serde_json` escapes them; `at` is the time in
//!   RFC 3339 with exactly three fractional digits in UTC (`2026-01-05T09:00:00.000Z`), `request`
//!   the request's number or `null`;
//! - its **hash** is the lowercase hex SHA-256 of the previous event's hash (64 hex characters;
//!   [`GENESIS`] for the first event) followed directly by the canonical content.

use crate::audit::EncodedAudit;
use serde::Serialize;
use serde_json::Value;
use sesame_core::{RequestNumber, Timestamp};
use sha2::{Digest, Sha256};

/// The "previous hash" of the first event.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// `value` as canonical JSON: object keys sorted at every depth, no whitespace.
pub fn canonical_json(value: &Value) -> String {
    let mut out = String::new();
    write_canonical(value, &mut out);
    out
}

fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            out.push('{');
            for (i, (key, value)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&json_string(key));
                out.push(':');
                write_canonical(value, out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        leaf => out.push_str(&leaf.to_string()),
    }
}

/// A string as a JSON string literal.
pub(crate) fn json_string(text: &str) -> String {
    Value::String(text.to_owned()).to_string()
}

/// The time as the chain writes it: RFC 3339 in UTC with exactly three fractional digits.
pub fn canonical_time(at: Timestamp) -> String {
    let millis = at.millis();
    let seconds = millis.div_euclid(1000);
    let fraction = millis.rem_euclid(1000);
    let days = seconds.div_euclid(86_400);
    let in_day = seconds.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{fraction:03}Z",
        in_day / 3600,
        in_day % 3600 / 60,
        in_day % 60
    )
}

/// The proleptic Gregorian date of a day counted from 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// The canonical content of an event, from its parts (`detail` already canonical JSON).
pub fn event_content(
    id: i64,
    request: Option<i64>,
    at: Timestamp,
    actor: &str,
    kind: &str,
    detail: &str,
) -> String {
    let request = request.map_or_else(|| String::from("null"), |n| n.to_string());
    format!(
        "{{\"actor\":{},\"at\":\"{}\",\"detail\":{detail},\"id\":{id},\"kind\":{},\"request\":{request}}}",
        json_string(actor),
        canonical_time(at),
        json_string(kind),
    )
}

/// The hash of an event: SHA-256 over the previous hash and the event's canonical content.
pub fn link_hash(prev_hash: &str, content: &str) -> String {
    let mut digest = Sha256::new();
    digest.update(prev_hash.as_bytes());
    digest.update(content.as_bytes());
    hex::encode(digest.finalize())
}

/// One stored audit event with its place in the chain, as `sesame audit verify` and the stream
/// read it. `prev_hash` and `hash` are `None` only for a row written around Sesame.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChainedEvent {
    pub id: i64,
    pub request: Option<RequestNumber>,
    pub at: Timestamp,
    pub actor: String,
    pub kind: String,
    pub detail: Value,
    pub prev_hash: Option<String>,
    pub hash: Option<String>,
}

impl ChainedEvent {
    /// The canonical content this event's hash must cover.
    pub fn content(&self) -> String {
        event_content(
            self.id,
            self.request.map(|n| n.0),
            self.at,
            &self.actor,
            &self.kind,
            &canonical_json(&self.detail),
        )
    }

    /// The hash this event should have after `prev_hash`.
    pub fn expected_hash(&self, prev_hash: &str) -> String {
        link_hash(prev_hash, &self.content())
    }

    /// The event as one line of the stream and of `sesame audit export`: its fields, with the time
    /// in RFC 3339, and its chain hashes.
    pub fn to_json_line(&self) -> String {
        serde_json::json!({
            "id": self.id,
            "request": self.request.map(|n| n.0),
            "at": canonical_time(self.at),
            "actor": self.actor,
            "kind": self.kind,
            "detail": self.detail,
            "prev_hash": self.prev_hash,
            "hash": self.hash,
        })
        .to_string()
    }
}

/// The end of the chain as the database records it (the `audit_head` row).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainHead {
    /// The last chained event's id (0 before the first).
    pub event_id: i64,
    /// Its hash ([`GENESIS`] before the first).
    pub hash: String,
    /// How many events the chain holds.
    pub count: i64,
}

/// A signed checkpoint: the chain's end at a moment, signed with Sesame's audit key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Checkpoint {
    pub id: i64,
    /// The last event the checkpoint covers, its hash, and how many events the chain held then.
    pub event_id: i64,
    pub hash: String,
    pub count: i64,
    pub at: Timestamp,
    /// Which key signed it (see the application's audit module) and the Ed25519 signature, both
    /// as the application wrote them.
    pub key_id: String,
    pub signature: String,
}

/// A checkpoint to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCheckpoint {
    pub event_id: i64,
    pub hash: String,
    pub count: i64,
    pub at: Timestamp,
    pub key_id: String,
    pub signature: String,
}

/// The running end of the chain while a write appends events: the next id, the last event's id and
/// hash, and how many events were added.
#[derive(Debug, Clone)]
pub(crate) struct Appender {
    pub next_id: i64,
    pub last_id: i64,
    pub last_hash: String,
    pub added: i64,
}

/// An event with its id and links, ready to insert.
pub(crate) struct Linked<'a> {
    pub id: i64,
    pub event: &'a EncodedAudit,
    pub prev_hash: String,
    pub hash: String,
}

impl Appender {
    /// Starts after the stored head. `max_id` is the largest id ever used in the table (which may
    /// exceed the head's when rows were written around Sesame): ids are never reused.
    pub fn new(head: &ChainHead, max_id: i64) -> Appender {
        Appender {
            next_id: head.event_id.max(max_id) + 1,
            last_id: head.event_id,
            last_hash: head.hash.clone(),
            added: 0,
        }
    }

    pub fn link<'a>(&mut self, request: Option<i64>, event: &'a EncodedAudit) -> Linked<'a> {
        let id = self.next_id;
        let content = event_content(
            id,
            request,
            Timestamp(event.at),
            &event.actor,
            &event.kind,
            &event.detail,
        );
        let hash = link_hash(&self.last_hash, &content);
        let prev_hash = std::mem::replace(&mut self.last_hash, hash.clone());
        self.last_id = id;
        self.next_id += 1;
        self.added += 1;
        Linked {
            id,
            event,
            prev_hash,
            hash,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn canonical_json_sorts_keys_at_every_depth_and_drops_whitespace() {
        let value: Value =
            serde_json::from_str(r#"{ "b": [ {"z": 1, "a": "x\ny"} ], "a": null, "é": 1.5 }"#)
                .unwrap();
        assert_eq!(
            canonical_json(&value),
            r#"{"a":null,"b":[{"a":"x\ny","z":1}],"é":1.5}"#
        );
    }

    #[test]
    fn times_have_three_fractional_digits_in_utc() {
        assert_eq!(canonical_time(Timestamp(0)), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            canonical_time(Timestamp(1_767_603_600_123)),
            "2026-01-05T09:00:00.123Z"
        );
        assert_eq!(
            canonical_time(Timestamp(951_782_400_000)),
            "2000-02-29T00:00:00.000Z"
        );
        assert_eq!(canonical_time(Timestamp(-1)), "1969-12-31T23:59:59.999Z");
    }

    #[test]
    fn the_hash_covers_the_previous_hash_and_every_field() {
        let event = ChainedEvent {
            id: 7,
            request: Some(RequestNumber(3)),
            at: Timestamp(1_767_603_600_000),
            actor: String::from("alice"),
            kind: String::from("submitted"),
            detail: json!({ "flow": "carpark", "answers": { "plate": "AB 123" } }),
            prev_hash: None,
            hash: None,
        };
        assert_eq!(
            event.content(),
            r#"{"actor":"alice","at":"2026-01-05T09:00:00.000Z","detail":{"answers":{"plate":"AB 123"},"flow":"carpark"},"id":7,"kind":"submitted","request":3}"#
        );
        let hash = event.expected_hash(GENESIS);
        assert_eq!(hash.len(), 64);
        assert_ne!(hash, event.expected_hash(&hash), "the previous hash counts");
        let mut edited = event.clone();
        edited.actor = String::from("mallory");
        assert_ne!(hash, edited.expected_hash(GENESIS));
        let mut moved = event.clone();
        moved.id = 8;
        assert_ne!(hash, moved.expected_hash(GENESIS));
    }

    #[test]
    fn appended_events_link_to_each_other() {
        let encoded = |kind: &str| EncodedAudit {
            at: 1,
            actor: String::from("sesame"),
            kind: kind.to_owned(),
            detail: String::from("{}"),
        };
        let (a, b) = (encoded("a"), encoded("b"));
        let head = ChainHead {
            event_id: 4,
            hash: GENESIS.to_owned(),
            count: 4,
        };
        let mut appender = Appender::new(&head, 9);
        let first = appender.link(None, &a);
        let second = appender.link(Some(2), &b);
        assert_eq!((first.id, second.id), (10, 11), "ids are never reused");
        assert_eq!(first.prev_hash, GENESIS);
        assert_eq!(second.prev_hash, first.hash);
        assert_eq!(appender.last_hash, second.hash);
        assert_eq!((appender.last_id, appender.added), (11, 2));
    }
}
