//! Matching free text through Slack: the optional model (consulted when configured, ignored when
//! it fails or is slow), and learning from what people chose.

use reqwest::StatusCode;
use serde_json::{json, Value};
use sesame_testkit::fake_model::FakeModel;
use sesame_testkit::fake_slack::FakeSlack;
use sesame_testkit::slack_driver::{ClickedIn, SlackDriver};
use sesame_testkit::TestApp;
use std::time::{Duration, Instant};

async fn slack() -> FakeSlack {
    let slack = FakeSlack::start().await;
    for (id, email, name) in [
        ("U0ALICE", "alice@example.com", "Alice Requester"),
        ("U0BOB", "bob@example.com", "Bob Requester"),
    ] {
        slack.add_user(id, Some(email), name);
        slack.open_dm(id);
    }
    slack
}

fn proposes(reply: &Value, flow: &str) -> bool {
    reply["blocks"].as_array().is_some_and(|blocks| {
        blocks.iter().any(|b| {
            b["elements"].as_array().is_some_and(|elements| {
                elements
                    .iter()
                    .any(|e| e["action_id"] == "sesame_start_flow" && e["value"] == flow)
            })
        })
    })
}

async fn access(driver: &SlackDriver, slack: &FakeSlack, user: &str, text: &str) -> Value {
    let reply = driver
        .command(user, "C0GENERAL", text, &slack.trigger_id())
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    reply.body
}

#[tokio::test]
async fn the_model_is_asked_when_configured_and_its_failures_change_nothing() {
    let slack = slack().await;
    let model = FakeModel::start().await;
    let config = format!(
        "[matcher]\nmodel_url = {:?}\nmodel_name = \"fake-embed\"\nmodel_timeout_ms = 300\n",
        model.base_url()
    );
    let app = TestApp::spawn_with_slack_and(&slack, &config).await;
    let driver = app.slack_driver();

    let answered = access(&driver, &slack, "U0ALICE", "parking garage please").await;
    assert!(proposes(&answered, "carpark"), "{answered}");
    let sent = model.inputs();
    assert!(
        sent.contains(&String::from("parking garage please")),
        "{sent:?}"
    );
    assert!(
        sent.iter().any(|t| t.starts_with("Carpark access.")),
        "{sent:?}"
    );

    // A failing model: the built-in matcher answers alone.
    model.fail_next(1);
    let answered = access(&driver, &slack, "U0ALICE", "parking garage please").await;
    assert!(proposes(&answered, "carpark"), "{answered}");

    // A slow model: the answer does not wait for it beyond its timeout.
    model.set_delay(Duration::from_secs(5));
    let started = Instant::now();
    let answered = access(&driver, &slack, "U0ALICE", "parking garage please").await;
    assert!(proposes(&answered, "carpark"), "{answered}");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    app.stop().await;
}

#[tokio::test]
async fn the_model_brings_in_flows_the_words_do_not_reach_and_embeds_each_flow_once() {
    let slack = slack().await;
    let model = FakeModel::start().await;
    let config = format!(
        "[matcher]\nmodel_url = {:?}\nmodel_name = \"fake-embed\"\nmodel_timeout_ms = 2000\n\
         model_query_prefix = \"query: \"\nmodel_passage_prefix = \"passage: \"\n",
        model.base_url()
    );
    let carpark = "passage: Carpark access. A parking permit for the HQ carpark, valid on \
                   weekdays.. Facilities. parking, garage";
    let typed = "somewhere to leave my vehicle overnight";
    model.read_as(&format!("query: {typed}"), carpark);
    let app = TestApp::spawn_with_slack_and(&slack, &config).await;
    let driver = app.slack_driver();

    // Without the model the words reach nothing; with it, the message reads like Carpark access.
    let answered = access(&driver, &slack, "U0ALICE", typed).await;
    assert!(proposes(&answered, "carpark"), "{answered}");
    let shown = serde_json::to_string(&answered).unwrap();
    assert!(shown.contains("reads like Carpark access"), "{shown}");
    let answered = access(&driver, &slack, "U0BOB", typed).await;
    assert!(proposes(&answered, "carpark"), "{answered}");

    // The prefixes are sent, and each flow was embedded once for both messages.
    let sent = model.inputs();
    assert_eq!(
        sent.iter()
            .filter(|t| *t == &format!("query: {typed}"))
            .count(),
        2,
        "{sent:?}"
    );
    assert_eq!(sent.iter().filter(|t| *t == carpark).count(), 1, "{sent:?}");
    app.stop().await;
}

#[tokio::test]
async fn without_a_model_nothing_leaves_the_server_and_choices_teach_the_matcher() {
    let slack = slack().await;
    let model = FakeModel::start().await;
    let app = TestApp::spawn_with_slack(&slack).await;
    let driver = app.slack_driver();
    let typed = "need the zorblat sticker for level minus two";

    // Sesame does not know what this means yet: it lists the flows.
    let unsure = access(&driver, &slack, "U0ALICE", typed).await;
    assert!(!proposes(&unsure, "carpark"), "{unsure}");

    // Alice picks Carpark access from that list and submits it.
    for plate in ["LRN1"] {
        let reply = access(&driver, &slack, "U0ALICE", typed).await;
        let block = reply["blocks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["accessory"]["action_id"] == "sesame_pick_flow")
            .cloned()
            .expect("a picker");
        let pick = driver.block_actions(
            "U0ALICE",
            &slack.trigger_id(),
            ClickedIn::Message {
                channel: "C0GENERAL",
                ts: "1767603600.000009",
            },
            json!({"action_id": "sesame_pick_flow", "block_id": block["block_id"],
                   "type": "static_select", "selected_option": {"value": "carpark"}}),
        );
        driver.interaction(&pick).await;
        let mut modal = None;
        for _ in 0..500 {
            modal = slack.views().into_iter().rfind(|v| {
                v.kind() == "modal"
                    && v.view["private_metadata"]
                        .as_str()
                        .unwrap_or("")
                        .contains(typed)
                    && v.updates == 0
            });
            if modal.is_some() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let modal = modal.expect("the carpark modal");
        let values = json!({
            "q_plate": {"sesame_answer": {"type": "plain_text_input", "value": plate}},
            "q_site": {"sesame_answer": {"type": "static_select", "selected_option": {"value": "Berlin"}}},
            "sesame_duration": {"sesame_duration": {"type": "static_select", "selected_option": {"value": "30d"}}},
            "sesame_justification": {"sesame_justification": {"type": "plain_text_input", "value": typed}}
        });
        let done = driver
            .interaction(&driver.view_submission("U0ALICE", &modal, values))
            .await;
        assert_eq!(done.body["response_action"], "clear", "{:?}", done.body);
        slack.clear();
    }

    // Now the same words lead Bob straight to Carpark access.
    let learned = access(&driver, &slack, "U0BOB", typed).await;
    assert!(proposes(&learned, "carpark"), "{learned}");
    let why = serde_json::to_string(&learned).unwrap();
    assert!(why.contains("Why:"), "{why}");
    assert!(model.inputs().is_empty(), "no text left the server");
    app.drain_outbox().await;
    app.stop().await;
}
