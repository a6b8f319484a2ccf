//! What the fake checks in the messages a bot posts: Teams' size limit for a message (about
//! 28 KB, answered with 413 as Teams does), and that every card attachment is an Adaptive Card
//! with a version. Every card seen is also written to the folder named by
//! [`CARD_DIR_VARIABLE`], where `scripts/adaptive-cards-check.sh` parses each one with the
//! `adaptivecards` package.

use super::server::Answer;
use axum::http::StatusCode;
use serde_json::Value;
use std::sync::atomic::{AtomicU64, Ordering};

/// Teams refuses a bot's message larger than this (text, attachments and envelope).
pub const MAX_MESSAGE_BYTES: usize = 28 * 1024;
/// The environment variable naming the folder every card is written to; nothing is written
/// without it.
pub const CARD_DIR_VARIABLE: &str = "SESAME_TEAMS_CARD_DIR";
pub const CARD_CONTENT_TYPE: &str = "application/vnd.microsoft.card.adaptive";

static WRITTEN: AtomicU64 = AtomicU64::new(0);

/// Writes one card to the card folder, if one is configured. A folder that cannot be written
/// fails the test: the card check after the tests would otherwise pass on nothing.
pub fn dump_card(card: &Value) {
    let Some(dir) = std::env::var_os(CARD_DIR_VARIABLE) else {
        return;
    };
    let dir = std::path::PathBuf::from(dir);
    std::fs::create_dir_all(&dir).expect("the card folder can be created");
    let n = WRITTEN.fetch_add(1, Ordering::SeqCst);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let path = dir.join(format!("card-{}-{nanos}-{n}.json", std::process::id()));
    std::fs::write(&path, card.to_string()).expect("the card can be written");
}

/// The cards an activity carries.
pub fn cards_in(activity: &Value) -> Vec<&Value> {
    activity["attachments"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|a| a["contentType"] == CARD_CONTENT_TYPE)
        .map(|a| &a["content"])
        .collect()
}

/// Refuses what Teams would; writes the cards of what it accepts.
pub(super) fn check_message(activity: &Value) -> Option<Answer> {
    let size = activity.to_string().len();
    if size > MAX_MESSAGE_BYTES {
        return Some(Answer::error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "MessageSizeTooBig",
            &format!("Message size too big: {size} bytes."),
        ));
    }
    for card in cards_in(activity) {
        if card["type"] != "AdaptiveCard" || !card["version"].is_string() {
            return Some(Answer::error(
                StatusCode::BAD_REQUEST,
                "BadSyntax",
                "An Adaptive Card attachment needs type AdaptiveCard and a version.",
            ));
        }
        dump_card(card);
    }
    None
}
