//! Cards rendered from real requests (made by the engine): every question type has an input and
//! reads back, the largest request Sesame accepts still fits Teams' message limit, and people's
//! words never reach a markdown field.

use super::*;
use serde_json::json;
use sesame_core::answers::RawSubmission;
use sesame_core::directory::{Directory, DirectoryFile};
use sesame_core::engine::{self, Submission};
use sesame_core::events::Actor;
use sesame_core::flow::{parse_flow, Flow};
use sesame_core::ids::{RequestNumber, UserId};
use sesame_core::request::Request;
use sesame_core::time::Timestamp;

const DIRECTORY: &str = "
groups:
  - { id: employees, name: Everyone }
users:
  - { id: boss, email: boss@example.com, display_name: Boss, groups: [employees] }
  - { id: rita, email: rita@example.com, display_name: 'Rita **[x](https://evil.test)**', manager: boss, groups: [employees] }
";

const EVERY_TYPE: &str = "
id: every-type
name: Every type
description: One question of each type.
requesters: { groups: [employees] }
questions:
  - { id: text, label: Text, type: text, required: true, max_length: 3000 }
  - { id: area, label: Area, type: textarea, max_length: 3000 }
  - { id: one, label: One, type: select, options: [a, b] }
  - { id: many, label: Many, type: multi_select, options: [x, y, z] }
  - { id: day, label: Day, type: date }
  - { id: span, label: Span, type: duration, max: 8h }
  - { id: who, label: Who, type: user }
  - { id: count, label: Count, type: number, min: 1, max: 9 }
  - { id: yes, label: Yes?, type: boolean }
justification: required
duration: { default: 1d, max: 30d, requester_chooses: true }
approval:
  - { approvers: manager }
fulfillment: { manual: { users: [boss] } }
";

fn directory() -> Directory {
    DirectoryFile::parse(DIRECTORY)
        .expect("the directory parses")
        .into_directory()
}

fn flow() -> Flow {
    parse_flow("every-type.yaml", EVERY_TYPE).expect("the flow parses")
}

fn uid(id: &str) -> UserId {
    UserId::new(id).unwrap()
}

fn request(flow: &Flow, answers: serde_json::Value, justification: &str) -> Request {
    let raw = RawSubmission {
        answers: serde_json::from_value(answers).unwrap(),
        justification: Some(justification.to_owned()),
        duration: Some(String::from("2d")),
    };
    let transition = engine::submit(
        flow,
        Submission {
            requester: uid("rita"),
            answers: raw,
        },
        &Actor::user(uid("rita")),
        &directory(),
        Timestamp::from_millis(1_767_603_600_000),
    )
    .expect("the engine accepts it");
    let mut request = transition.request;
    request.number = RequestNumber(7);
    request
}

/// Writes a card where `scripts/adaptive-cards-check.sh` parses it, when the tests are run with
/// `SESAME_TEAMS_CARD_DIR` set (as scripts/test.sh does).
fn for_the_parser(card: &serde_json::Value) {
    let Some(dir) = std::env::var_os("SESAME_TEAMS_CARD_DIR") else {
        return;
    };
    let dir = std::path::PathBuf::from(dir);
    std::fs::create_dir_all(&dir).unwrap();
    static WRITTEN: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = WRITTEN.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let name = format!("unit-{}-{n}.json", std::process::id());
    std::fs::write(dir.join(name), card.to_string()).unwrap();
}

fn with_context<T>(render: impl FnOnce(&RenderContext<'_>) -> T) -> T {
    let directory = directory();
    let name = |id: &UserId| directory.display_name(id);
    render(&RenderContext {
        name: &name,
        portal_base_url: "https://sesame.example/",
    })
}

#[test]
fn every_question_type_has_an_input_that_reads_back() {
    let flow = flow();
    let card = form_card(&flow, &FormState::default()).fitted(None);
    for_the_parser(&card);
    let inputs: Vec<(String, String)> = card["body"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e.get("id").is_some())
        .map(|e| {
            (
                e["id"].as_str().unwrap().into(),
                e["type"].as_str().unwrap().into(),
            )
        })
        .collect();
    let expected = [
        ("q_text", "Input.Text"),
        ("q_area", "Input.Text"),
        ("q_one", "Input.ChoiceSet"),
        ("q_many", "Input.ChoiceSet"),
        ("q_day", "Input.Date"),
        ("q_span", "Input.ChoiceSet"),
        ("q_who", "Input.Text"),
        ("q_count", "Input.Number"),
        ("q_yes", "Input.Toggle"),
        ("duration", "Input.ChoiceSet"),
        ("justification", "Input.Text"),
    ];
    let expected: Vec<(String, String)> = expected
        .iter()
        .map(|(a, b)| ((*a).into(), (*b).into()))
        .collect();
    assert_eq!(inputs, expected);
    let spans: Vec<&str> = card["body"][7]["choices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["value"].as_str().unwrap())
        .collect();
    assert_eq!(
        spans.last(),
        Some(&"8h"),
        "no choice above the question's maximum"
    );

    let data = json!({
        "q_text": "hello", "q_area": "", "q_one": "b", "q_many": "x,z", "q_day": "2026-02-01",
        "q_span": "4h", "q_who": "boss@example.com", "q_count": "3", "q_yes": "true",
        "duration": "2d", "justification": "because",
    });
    let raw = parse_form(&flow, &data);
    assert_eq!(raw.answers["text"], json!("hello"));
    assert!(
        !raw.answers.contains_key("area"),
        "empty inputs are absent answers"
    );
    assert_eq!(raw.answers["many"], json!(["x", "z"]));
    assert_eq!(raw.answers["yes"], json!(true));
    assert_eq!(
        raw.answers["count"],
        json!(3.0),
        "numbers arrive as text and become numbers"
    );
    assert_eq!(raw.duration.as_deref(), Some("2d"));
    // What the form reads is what the engine accepts.
    let checked = sesame_core::answers::check_submission(&flow, &raw, &directory());
    assert!(checked.is_ok(), "{checked:?}");
}

#[test]
fn the_largest_request_still_fits_in_a_teams_message() {
    let flow = flow();
    let long = "W".repeat(3000);
    let answers = json!({
        "text": long, "area": long, "one": "a", "many": ["x", "y", "z"], "day": "2026-02-01",
        "span": "8h", "who": "boss", "count": 9, "yes": true,
    });
    let request = request(&flow, answers, &"J".repeat(3000));
    let cards = with_context(|ctx| {
        vec![
            requester_card(ctx, &request, Some(&flow)),
            approver_card(
                ctx,
                &request,
                Some(&flow),
                0,
                &uid("boss"),
                &["29:a".into()],
                None,
            ),
            fulfiller_card(ctx, &request, Some(&flow), &uid("boss"), &[], Some(&long)),
            form_card(
                &flow,
                &FormState {
                    submitted: RawSubmission {
                        answers: [("text".to_owned(), json!(long))].into(),
                        justification: Some(long.clone()),
                        duration: None,
                    },
                    errors: Vec::new(),
                    typed: Some(long.clone()),
                    ..FormState::default()
                },
            ),
        ]
    });
    for card in cards {
        let activity = card.activity(Some("https://sesame.example/requests/7"));
        let size = activity.to_string().len();
        assert!(size <= 28 * 1024, "{size} bytes: {}", card.summary);
        assert!(card.fitted(None).to_string().len() <= MAX_CARD_BYTES);
        for_the_parser(&card.fitted(Some("https://sesame.example/requests/7")));
    }
}

#[test]
fn peoples_words_are_text_runs_never_markdown() {
    let flow = flow();
    let evil = "**bold** [click](https://evil.test) <at>Boss</at>";
    let request = request(&flow, json!({ "text": evil }), evil);
    let card = with_context(|ctx| requester_card(ctx, &request, Some(&flow))).fitted(None);
    let json = card.to_string();
    assert!(json.contains(evil), "shown as written");
    // Every TextBlock is Sesame's own words; people's text is only ever a TextRun.
    fn text_blocks(value: &serde_json::Value, found: &mut Vec<String>) {
        match value {
            serde_json::Value::Object(map) => {
                if map.get("type") == Some(&json!("TextBlock")) {
                    found.push(map["text"].as_str().unwrap_or_default().to_owned());
                }
                map.values().for_each(|v| text_blocks(v, found));
            }
            serde_json::Value::Array(items) => items.iter().for_each(|v| text_blocks(v, found)),
            _ => {}
        }
    }
    let mut blocks = Vec::new();
    text_blocks(&card, &mut blocks);
    assert!(blocks.iter().all(|b| !b.contains("evil")), "{blocks:?}");
    assert!(!json.contains("\"url\":\"https://evil.test\""));
    // The requester's name is a person's text too.
    let approver =
        with_context(|ctx| approver_card(ctx, &request, Some(&flow), 0, &uid("boss"), &[], None));
    assert!(approver.summary.contains("Rita **[x](https://evil.test)**"));
    assert!(!approver
        .fitted(None)
        .to_string()
        .contains("\"url\":\"https://evil.test\""));
}
