//! What the Teams tests share: Sesame wired to the fake Teams, people who installed the app, and
//! waiting for the work Sesame does after acknowledging.

use serde_json::Value;
use sesame_testkit::fake_teams::{FakeActivity, FakeTeams, TeamsUser};
use sesame_testkit::TestApp;
use std::time::Duration;

pub struct Teams {
    pub fake: FakeTeams,
    pub app: TestApp,
    pub alice: TeamsUser,
    pub carol: TeamsUser,
    pub fran: TeamsUser,
    pub fred: TeamsUser,
}

/// Sesame with Teams, and Alice, Carol, Fran and Fred having installed the app (each welcomed,
/// each found by email and linked).
pub async fn start() -> Teams {
    let fake = FakeTeams::start().await;
    let app = TestApp::spawn_with_teams(&fake).await;
    let alice = fake.person("alice", "alice@example.com");
    let carol = fake.person("carol", "carol@example.com");
    let fran = fake.person("fran", "fran@example.com");
    let fred = fake.person("fred", "fred@example.com");
    for user in [&alice, &carol, &fran, &fred] {
        let answer = fake.send(&app.base_url, &fake.install(user)).await;
        assert_eq!(answer.status, 200);
        eventually("the welcome", || {
            (!fake.cards(&user.conversation).is_empty()).then_some(())
        })
        .await;
    }
    Teams {
        fake,
        app,
        alice,
        carol,
        fran,
        fred,
    }
}

/// The activity in `conversation` whose card says `text` (as it is now, after any updates).
pub fn activity_saying(fake: &FakeTeams, conversation: &str, text: &str) -> FakeActivity {
    fake.activities(conversation)
        .into_iter()
        .find(|a| text_of(&a.body).contains(text))
        .unwrap_or_else(|| panic!("no card in {conversation} says {text:?}"))
}

/// Waits for work Sesame does after acknowledging, checking every few milliseconds; fails after
/// ten seconds.
pub async fn eventually<T>(what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(found) = check() {
            return found;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Every text in a card, in order (text blocks, text runs, input labels, button titles), for
/// assertions that read like what a person sees.
pub fn texts(card: &Value) -> Vec<String> {
    let mut found = Vec::new();
    collect(card, &mut found);
    found
}

fn collect(value: &Value, found: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for key in ["text", "label", "title"] {
                if let Some(Value::String(s)) = map.get(key) {
                    found.push(s.clone());
                }
            }
            for (key, child) in map {
                if key != "text" && key != "label" && key != "title" {
                    collect(child, found);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|i| collect(i, found)),
        _ => {}
    }
}

/// The whole card as one string of its texts.
pub fn text_of(card: &Value) -> String {
    texts(card).join(" | ")
}

/// The verbs of a card's `Action.Execute` buttons, shown cards included.
pub fn verbs(card: &Value) -> Vec<String> {
    let mut found = Vec::new();
    verbs_in(card, &mut found);
    found
}

fn verbs_in(value: &Value, found: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            if map.get("type") == Some(&Value::from("Action.Execute")) {
                if let Some(Value::String(verb)) = map.get("verb") {
                    // The automatic refresh is not a button.
                    if verb != "refresh" {
                        found.push(verb.clone());
                    }
                }
            }
            map.values().for_each(|v| verbs_in(v, found));
        }
        Value::Array(items) => items.iter().for_each(|i| verbs_in(i, found)),
        _ => {}
    }
}
