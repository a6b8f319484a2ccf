//! Slack's inbound side end to end: the four ways in (a direct message, `/access`, an @mention, the
//! Home tab), the questions modal, approvers' and fulfillers' buttons, comments both ways, and the
//! forged, stale, repeated and malformed cases. Sesame runs as `sesame serve` wires it, with the
//! fake Slack as its Web API and a driver that signs requests as Slack does.

use reqwest::StatusCode;
use serde_json::{json, Value};
use sesame_testkit::fake_slack::{sign_request_at, FakeMessage, FakeSlack, FakeView};
use sesame_testkit::slack_driver::{ClickedIn, SlackDriver, BOT_USER};
use sesame_testkit::TestApp;
use std::time::Duration;

async fn slack_and_app() -> (FakeSlack, TestApp, SlackDriver) {
    let slack = FakeSlack::start().await;
    for (id, email, name) in [
        ("U0ALICE", "alice@example.com", "Alice Requester"),
        ("U0BOB", "bob@example.com", "Bob Requester"),
        ("U0CAROL", "carol@example.com", "Carol Manager"),
        ("U0FRAN", "fran@example.com", "Fran Facilities"),
        ("U0FRED", "fred@example.com", "Fred Facilities"),
        ("U0STRANGER", "stranger@elsewhere.example", "Stranger"),
    ] {
        slack.add_user(id, Some(email), name);
        slack.open_dm(id);
    }
    slack.add_channel("C0GENERAL");
    let app = TestApp::spawn_with_slack(&slack).await;
    let driver = app.slack_driver();
    (slack, app, driver)
}

/// Waits for work Sesame does after acknowledging (replies, modals), checking every few
/// milliseconds; fails after five seconds.
async fn eventually<T>(what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
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

fn text_of(blocks: &[Value]) -> String {
    serde_json::to_string(blocks).unwrap()
}

/// The first element of the message with this action id.
fn element(blocks: &[Value], action_id: &str) -> Option<(String, Value)> {
    blocks.iter().find_map(|block| {
        let in_block = |e: &Value| e["action_id"] == action_id;
        let block_id = block["block_id"].as_str().unwrap_or_default().to_owned();
        if in_block(&block["accessory"]) {
            return Some((block_id, block["accessory"].clone()));
        }
        block["elements"]
            .as_array()?
            .iter()
            .find(|e| in_block(e))
            .map(|e| (block_id, e.clone()))
    })
}

/// The `block_actions` payload of `user` clicking a button of a message.
fn button_click(
    driver: &SlackDriver,
    slack: &FakeSlack,
    user: &str,
    message: &FakeMessage,
    action_id: &str,
) -> Value {
    let (block_id, button) = element(&message.blocks, action_id)
        .unwrap_or_else(|| panic!("{action_id} in {}", text_of(&message.blocks)));
    driver.block_actions(
        user,
        &slack.trigger_id(),
        ClickedIn::Message {
            channel: &message.channel,
            ts: &message.ts,
        },
        json!({"action_id": action_id, "block_id": block_id, "type": "button", "value": button["value"]}),
    )
}

/// Clicks a button of a message as `user`.
async fn click(
    driver: &SlackDriver,
    slack: &FakeSlack,
    user: &str,
    message: &FakeMessage,
    action_id: &str,
) -> sesame_testkit::Reply {
    let payload = button_click(driver, slack, user, message, action_id);
    driver.interaction(&payload).await
}

fn modals(slack: &FakeSlack) -> Vec<FakeView> {
    slack
        .views()
        .into_iter()
        .filter(|v| v.kind() == "modal")
        .collect()
}

fn carpark_values(plate: &str) -> Value {
    json!({
        "q_plate": {"sesame_answer": {"type": "plain_text_input", "value": plate}},
        "q_site": {"sesame_answer": {"type": "static_select", "selected_option": {"value": "London"}}},
        "q_ev": {"sesame_answer": {"type": "radio_buttons", "selected_option": {"value": "false"}}},
        "sesame_duration": {"sesame_duration": {"type": "static_select", "selected_option": {"value": "14d"}}},
        "sesame_justification": {"sesame_justification": {"type": "plain_text_input", "value": "Parking for the Q3 on-site, INC-4411"}}
    })
}

async fn requests_of(app: &TestApp, user: &str) -> Vec<Value> {
    let token = app.token(user).await;
    app.get("/api/v1/requests", &token).await.body["requests"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[tokio::test]
async fn a_direct_message_becomes_a_request_that_is_approved_and_fulfilled_from_slack() {
    let (slack, app, driver) = slack_and_app().await;

    // Alice writes to the app as people do; the reply proposes the flow and says why.
    let dm = driver.direct_message(
        "U0ALICE",
        "hi! I need carpark access for 2 weeks pls, INC-4411",
        None,
    );
    let ack = driver.event(dm).await;
    assert_eq!(ack.status, StatusCode::OK);
    let reply = eventually("the match reply", || {
        slack.messages_in("DU0ALICE").into_iter().next()
    })
    .await;
    let shown = text_of(&reply.blocks);
    assert!(shown.contains("Carpark access"), "{shown}");
    assert!(shown.contains("Why:"), "{shown}");

    // Continue opens the questions, pre-filled from the message.
    assert_eq!(
        click(&driver, &slack, "U0ALICE", &reply, "sesame_start_flow")
            .await
            .status,
        StatusCode::OK
    );
    let modal = eventually("the questions modal", || modals(&slack).pop()).await;
    let modal_text = serde_json::to_string(&modal.view).unwrap();
    assert!(modal_text.contains("INC-4411"), "{modal_text}");
    assert!(
        modal_text.contains("\"14d\"") || modal_text.contains("\"2w\""),
        "{modal_text}"
    );

    // A missing answer comes back inline and creates nothing.
    let mut incomplete = carpark_values("");
    incomplete["q_plate"]["sesame_answer"]["value"] = Value::Null;
    let refused = driver
        .interaction(&driver.view_submission("U0ALICE", &modal, incomplete))
        .await;
    assert_eq!(
        refused.body["response_action"], "errors",
        "{:?}",
        refused.body
    );
    assert!(refused.body["errors"]["q_plate"].is_string());
    assert!(requests_of(&app, "alice").await.is_empty());

    // Submitting creates the request once, however often Slack delivers the submission.
    let submission = driver.view_submission("U0ALICE", &modal, carpark_values("KA 123"));
    for _ in 0..2 {
        let done = driver.interaction(&submission).await;
        assert_eq!(done.body["response_action"], "clear", "{:?}", done.body);
    }
    let mine = requests_of(&app, "alice").await;
    assert_eq!(mine.len(), 1);
    let number = mine[0]["number"].as_i64().unwrap();
    assert_eq!(
        mine[0]["justification"],
        "Parking for the Q3 on-site, INC-4411"
    );
    app.drain_outbox().await;

    // The requester's message links the request's page; Carol is asked to approve.
    let link = format!("Carpark access #{number}");
    let requester = slack
        .messages_in("DU0ALICE")
        .into_iter()
        .find(|m| text_of(&m.blocks).contains(&link))
        .expect("the requester's message");
    let carols = slack.messages_in("DU0CAROL");
    assert_eq!(carols.len(), 1);
    assert_eq!(
        click(&driver, &slack, "U0CAROL", &carols[0], "sesame_approve")
            .await
            .status,
        StatusCode::OK
    );
    app.drain_outbox().await;

    // Facilities approve (Fred is found by his email), then Fran grants it. Fred's copy is kept
    // as his screen shows it, buttons and all, for a late click.
    let freds_approval = slack
        .messages_in("DU0FRED")
        .into_iter()
        .find(|m| text_of(&m.blocks).contains(&link))
        .expect("Fred's copy");
    let frans = slack.messages_in("DU0FRAN");
    click(&driver, &slack, "U0FRAN", &frans[0], "sesame_approve").await;
    app.drain_outbox().await;
    let task = slack
        .messages_in("DU0FRAN")
        .into_iter()
        .find(|m| element(&m.blocks, "sesame_complete").is_some())
        .expect("Fran's fulfilment task");
    click(&driver, &slack, "U0FRAN", &task, "sesame_complete").await;
    app.drain_outbox().await;
    let request = &requests_of(&app, "alice").await[0];
    assert_eq!(request["state"], "active", "{request}");

    // A late click on the step Fran decided tells Fred who decided, and changes nothing.
    click(&driver, &slack, "U0FRED", &freds_approval, "sesame_approve").await;
    let freds_now = slack
        .message(&freds_approval.channel, &freds_approval.ts)
        .unwrap();
    assert!(
        element(&freds_now.blocks, "sesame_approve").is_none(),
        "his copy was updated"
    );
    let late = eventually("the late-click notice", || {
        slack.ephemerals().into_iter().find(|e| e.user == "U0FRED")
    })
    .await;
    assert!(late.text.contains("already"), "{}", late.text);
    assert!(
        late.text.contains("fran") || late.text.contains("Fran"),
        "{}",
        late.text
    );

    // The requester's message was edited in place and shows the access.
    let edited = slack.message("DU0ALICE", &requester.ts).unwrap();
    assert!(edited.updates > 0);

    // The Home tab lists the request; what Alice wrote now counts as evidence for the matcher.
    driver
        .event(json!({"type": "app_home_opened", "user": "U0ALICE", "channel": "DU0ALICE", "tab": "home"}))
        .await;
    let home = eventually("Alice's home tab", || slack.published_home("U0ALICE")).await;
    assert!(serde_json::to_string(&home.view).unwrap().contains(&link));
    let choices = app
        .app
        .store_for_tests()
        .recent_match_choices(10)
        .await
        .unwrap();
    assert_eq!(choices.len(), 1);
    assert_eq!(choices[0].1, "carpark");
    app.assert_nothing_owed().await;
    app.stop().await;
}

#[tokio::test]
async fn slash_commands_mentions_and_the_home_tab_answer_only_the_person() {
    let (slack, app, driver) = slack_and_app().await;

    // `/access` alone: the flows Alice may request, ephemeral.
    let picker = driver
        .command("U0ALICE", "C0GENERAL", "", &slack.trigger_id())
        .await;
    assert_eq!(picker.status, StatusCode::OK);
    assert_eq!(picker.body["response_type"], "ephemeral");
    let blocks = picker.body["blocks"].as_array().unwrap();
    let (_, select) = element(blocks, "sesame_pick_flow").expect("a flow picker");
    let options = serde_json::to_string(&select["options"]).unwrap();
    assert!(
        options.contains("carpark") && options.contains("badge"),
        "{options}"
    );

    // `/access text`: a proposal with its reason, or the list when nothing fits.
    let matched = driver
        .command(
            "U0ALICE",
            "C0GENERAL",
            "parking garage please",
            &slack.trigger_id(),
        )
        .await;
    assert_eq!(matched.body["response_type"], "ephemeral");
    assert!(element(
        matched.body["blocks"].as_array().unwrap(),
        "sesame_start_flow"
    )
    .is_some());
    let unsure = driver
        .command(
            "U0ALICE",
            "C0GENERAL",
            "what is for lunch",
            &slack.trigger_id(),
        )
        .await;
    let unsure_blocks = unsure.body["blocks"].as_array().unwrap();
    assert!(element(unsure_blocks, "sesame_start_flow").is_none());
    assert!(element(unsure_blocks, "sesame_pick_flow").is_some());

    // An @mention in a channel is answered to the person alone.
    driver
        .event(json!({
            "type": "app_mention", "user": "U0BOB", "channel": "C0GENERAL",
            "text": format!("<@{BOT_USER}> I need an office badge"), "ts": "1767603600.000100"
        }))
        .await;
    let private = eventually("the answer to the mention", || {
        slack.ephemerals().into_iter().find(|e| e.user == "U0BOB")
    })
    .await;
    assert_eq!(private.channel, "C0GENERAL");
    assert!(text_of(&private.blocks).contains("Office badge"));
    assert!(
        slack.messages_in("C0GENERAL").is_empty(),
        "nothing broadcast"
    );

    // Bob was found by his verified email; from now on the link is explicit, audited, and a
    // restart that reloads the directory file keeps it.
    let bob = sesame_core::UserId::new("bob").unwrap();
    let linked = |app: &TestApp| app.app.directory().user(&bob).unwrap().chat.slack.clone();
    assert_eq!(linked(&app), Some(String::from("U0BOB")));
    let file = std::fs::read_to_string(sesame_testkit::fixtures().join("directory.yaml")).unwrap();
    app.app
        .seed_directory(sesame_core::directory::DirectoryFile::parse(&file).unwrap())
        .await
        .unwrap();
    assert_eq!(linked(&app), Some(String::from("U0BOB")));
    let ada = app.token("ada").await;
    let audit = app
        .get("/api/v1/audit?kind=chat_account_linked", &ada)
        .await;
    assert!(audit.body.to_string().contains("U0BOB"), "{:?}", audit.body);

    // Someone Sesame cannot map is told so and nothing is created.
    let stranger = driver
        .command("U0STRANGER", "C0GENERAL", "carpark", &slack.trigger_id())
        .await;
    let said = stranger.body["text"].as_str().unwrap();
    assert!(
        said.contains("cannot find you") && said.contains("Nothing was created"),
        "{said}"
    );

    // The Home tab's pulldown opens the chosen flow's questions.
    driver
        .event(json!({"type": "app_home_opened", "user": "U0BOB", "tab": "home"}))
        .await;
    let home = eventually("Bob's home tab", || slack.published_home("U0BOB")).await;
    let payload = driver.block_actions(
        "U0BOB",
        &slack.trigger_id(),
        ClickedIn::Home { view_id: &home.id },
        json!({"action_id": "sesame_pick_flow", "block_id": "home", "type": "static_select",
               "selected_option": {"value": "badge", "text": {"type": "plain_text", "text": "Office badge"}}}),
    );
    assert_eq!(driver.interaction(&payload).await.status, StatusCode::OK);
    let modal = eventually("the badge modal", || modals(&slack).pop()).await;
    assert!(serde_json::to_string(&modal.view)
        .unwrap()
        .contains("Floor"));
    let done = driver
        .interaction(&driver.view_submission(
            "U0BOB",
            &modal,
            json!({"q_floor": {"sesame_answer": {"type": "static_select", "selected_option": {"value": "2"}}}}),
        ))
        .await;
    assert_eq!(done.body["response_action"], "clear", "{:?}", done.body);
    let bobs = requests_of(&app, "bob").await;
    assert_eq!(bobs.len(), 1);
    assert!(requests_of(&app, "alice").await.is_empty());
    app.drain_outbox().await;

    // Through to the end: Carol approves, Fran prints the badge; Bob's home follows along.
    let carols = slack.messages_in("DU0CAROL");
    click(&driver, &slack, "U0CAROL", &carols[0], "sesame_approve").await;
    app.drain_outbox().await;
    let task = slack
        .messages_in("DU0FRAN")
        .into_iter()
        .find(|m| element(&m.blocks, "sesame_complete").is_some())
        .expect("Fran's task");
    click(&driver, &slack, "U0FRAN", &task, "sesame_complete").await;
    app.drain_outbox().await;
    assert_eq!(requests_of(&app, "bob").await[0]["state"], "fulfilled");
    let home = slack.published_home("U0BOB").unwrap();
    assert!(
        home.updates > 0,
        "Bob's home tab was refreshed as the request moved"
    );
    app.assert_nothing_owed().await;
    app.stop().await;
}

#[tokio::test]
async fn reminders_and_escalations_arrive_as_direct_messages() {
    let (slack, app, driver) = slack_and_app().await;
    let alice = app.token("alice").await;
    let number = app
        .post("/api/v1/requests", &alice, super::carpark("REMIND1"))
        .await
        .body["number"]
        .as_i64()
        .unwrap();
    app.drain_outbox().await;
    let carols = slack.messages_in("DU0CAROL");
    click(&driver, &slack, "U0CAROL", &carols[0], "sesame_approve").await;
    app.drain_outbox().await;
    let link = format!("Carpark access #{number}");
    let frans = slack
        .messages_in("DU0FRAN")
        .into_iter()
        .find(|m| text_of(&m.blocks).contains(&link))
        .expect("Fran is asked");
    assert!(slack.thread("DU0FRAN", &frans.ts).is_empty());

    // Four hours without a decision: each undecided approver gets a reminder under their message.
    app.advance("4h").await;
    let reminders = slack.thread("DU0FRAN", &frans.ts);
    assert_eq!(reminders.len(), 1, "{reminders:#?}");
    assert!(
        reminders[0].text.contains("Reminder"),
        "{}",
        reminders[0].text
    );

    // A day without one: the step is escalated, and the requester's thread says so.
    app.advance("1d").await;
    let requester = slack
        .messages_in("DU0ALICE")
        .into_iter()
        .find(|m| text_of(&m.blocks).contains(&link))
        .unwrap();
    let thread = slack.thread("DU0ALICE", &requester.ts);
    assert!(
        thread
            .iter()
            .any(|m| m.text.to_lowercase().contains("escalat")),
        "{thread:#?}"
    );
    app.assert_nothing_owed().await;
    app.stop().await;
}

#[tokio::test]
async fn deny_cancel_comments_and_people_who_may_not_act() {
    let (slack, app, driver) = slack_and_app().await;
    let alice = app.token("alice").await;
    let file = |plate: &'static str| {
        let app = &app;
        let alice = alice.clone();
        async move {
            app.post("/api/v1/requests", &alice, super::carpark(plate))
                .await
                .body["number"]
                .as_i64()
                .unwrap()
        }
    };
    let first = file("DENY1").await;
    app.drain_outbox().await;
    let carols = slack.messages_in("DU0CAROL");

    // Bob is not an approver: his click is refused by the engine, whatever the button says.
    click(&driver, &slack, "U0BOB", &carols[0], "sesame_approve").await;
    eventually("Bob's refusal", || {
        slack.ephemerals().into_iter().find(|e| e.user == "U0BOB")
    })
    .await;

    // Deny asks for a reason in a modal; an empty reason is refused inline.
    click(&driver, &slack, "U0CAROL", &carols[0], "sesame_deny").await;
    let modal = eventually("the deny modal", || modals(&slack).pop()).await;
    let empty = driver
        .interaction(&driver.view_submission("U0CAROL", &modal, json!({})))
        .await;
    assert_eq!(empty.body["response_action"], "errors");
    let reason = json!({"sesame_reason": {"sesame_reason": {"type": "plain_text_input", "value": "Use the <!channel> bike shed"}}});
    let denied = driver
        .interaction(&driver.view_submission("U0CAROL", &modal, reason))
        .await;
    assert_eq!(denied.body["response_action"], "clear", "{:?}", denied.body);
    app.drain_outbox().await;
    let request = app
        .get(&format!("/api/v1/requests/{first}"), &alice)
        .await
        .body;
    assert_eq!(request["state"], "denied", "{request}");
    let alices = slack.messages_in("DU0ALICE");
    let denied_message = alices
        .iter()
        .find(|m| text_of(&m.blocks).contains(&format!("#{first}")))
        .unwrap();
    let shown = text_of(&denied_message.blocks);
    assert!(
        shown.contains("bike shed") && !shown.contains("<!channel>"),
        "{shown}"
    );

    // Alice cancels a pending request from her message.
    let second = file("CANCEL2").await;
    app.drain_outbox().await;
    let message = slack
        .messages_in("DU0ALICE")
        .into_iter()
        .find(|m| text_of(&m.blocks).contains(&format!("#{second}")))
        .unwrap();
    click(&driver, &slack, "U0ALICE", &message, "sesame_cancel").await;
    let request = app
        .get(&format!("/api/v1/requests/{second}"), &alice)
        .await
        .body;
    assert_eq!(request["state"], "canceled", "{request}");

    // A reply in the request's thread becomes a comment, and is not echoed back into it.
    let third = file("TALK3").await;
    app.drain_outbox().await;
    let message = slack
        .messages_in("DU0ALICE")
        .into_iter()
        .find(|m| text_of(&m.blocks).contains(&format!("#{third}")))
        .unwrap();
    let replies_before = slack.thread("DU0ALICE", &message.ts).len();
    let reply = driver.direct_message("U0ALICE", "My plate changed to TALK4", Some(&message.ts));
    driver.event(reply).await;
    let mut comments = Vec::new();
    for _ in 0..500 {
        let listed = app
            .get(&format!("/api/v1/requests/{third}/comments"), &alice)
            .await
            .body;
        comments = listed.as_array().cloned().unwrap_or_default();
        if !comments.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(comments.len(), 1, "the reply became a comment");
    assert_eq!(comments[0]["text"], "My plate changed to TALK4");
    app.drain_outbox().await;
    assert_eq!(slack.thread("DU0ALICE", &message.ts).len(), replies_before);

    // A comment made elsewhere appears in the thread.
    let carol = app.token("carol").await;
    app.post(
        &format!("/api/v1/requests/{third}/comments"),
        &carol,
        json!({"text": "Noted, approving soon"}),
    )
    .await;
    app.drain_outbox().await;
    let thread = slack.thread("DU0ALICE", &message.ts);
    assert!(thread
        .iter()
        .any(|m| m.text.contains("Noted, approving soon")
            || text_of(&m.blocks).contains("Noted, approving soon")));
    app.assert_nothing_owed().await;
    app.stop().await;
}

#[tokio::test]
async fn forged_stale_repeated_and_malformed_requests_change_nothing() {
    let (slack, app, driver) = slack_and_app().await;
    let form = "application/x-www-form-urlencoded";
    let body = String::from("command=%2Faccess&text=carpark&user_id=U0ALICE&team_id=T0&channel_id=C0GENERAL&trigger_id=1.2&response_url=https%3A%2F%2Fx.invalid");

    let unsigned = driver
        .post_with("/slack/commands", form, body.clone(), None)
        .await;
    assert_eq!(unsigned.status, StatusCode::UNAUTHORIZED);
    let forged = driver
        .post_with(
            "/slack/commands",
            form,
            body.clone(),
            Some((
                sign_request_at("test-signing-secret-0123456789abcdef", now(), "other").0,
                sign_request_at("wrong-secret", now(), &body).1,
            )),
        )
        .await;
    assert_eq!(forged.status, StatusCode::UNAUTHORIZED);
    let stale = driver
        .post_with(
            "/slack/commands",
            form,
            body.clone(),
            Some(sign_request_at(
                "test-signing-secret-0123456789abcdef",
                now() - 600,
                &body,
            )),
        )
        .await;
    assert_eq!(stale.status, StatusCode::UNAUTHORIZED);
    let huge = "x".repeat(300 * 1024);
    let too_big = driver.post_signed("/slack/commands", form, huge).await;
    assert_eq!(too_big.status, StatusCode::PAYLOAD_TOO_LARGE);
    let malformed = driver
        .post_signed(
            "/slack/interactivity",
            form,
            String::from("payload=%7Bnot%20json"),
        )
        .await;
    assert_eq!(malformed.status, StatusCode::BAD_REQUEST);
    let no_payload = driver
        .post_signed("/slack/interactivity", form, String::from("nothing=here"))
        .await;
    assert_eq!(no_payload.status, StatusCode::BAD_REQUEST);
    let bad_event = driver
        .post_signed("/slack/events", "application/json", String::from("[1,2"))
        .await;
    assert_eq!(bad_event.status, StatusCode::BAD_REQUEST);

    // Slack's URL check is answered with its challenge.
    let challenge = driver
        .post_signed(
            "/slack/events",
            "application/json",
            json!({"type": "url_verification", "challenge": "c-123", "token": "t"}).to_string(),
        )
        .await;
    assert_eq!(challenge.body["challenge"], "c-123");

    // An event Slack delivers twice is handled once.
    let (_, envelope) = driver.event_envelope(driver.direct_message("U0ALICE", "carpark", None));
    for _ in 0..3 {
        assert_eq!(
            driver.post_json_event(&envelope).await.status,
            StatusCode::OK
        );
    }
    eventually("the reply", || {
        slack.messages_in("DU0ALICE").into_iter().next()
    })
    .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        slack.messages_in("DU0ALICE").len(),
        1,
        "one reply for one event"
    );

    // A double click (the same action delivered twice) decides once; nothing else changed.
    let alice = app.token("alice").await;
    let number = app
        .post("/api/v1/requests", &alice, super::carpark("TWICE1"))
        .await
        .body["number"]
        .as_i64()
        .unwrap();
    app.drain_outbox().await;
    let carols = slack.messages_in("DU0CAROL");
    let payload = button_click(&driver, &slack, "U0CAROL", &carols[0], "sesame_approve");
    for _ in 0..2 {
        assert_eq!(driver.interaction(&payload).await.status, StatusCode::OK);
    }
    let audit = app
        .get(&format!("/api/v1/requests/{number}/audit"), &alice)
        .await
        .body;
    let approvals = super::audit_kinds(&audit)
        .iter()
        .filter(|kind| *kind == "approval_given")
        .count();
    assert_eq!(approvals, 1, "{audit}");
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(
        slack.ephemerals().iter().all(|e| e.user != "U0CAROL"),
        "the repeat was dropped silently"
    );
    app.drain_outbox().await;
    app.stop().await;
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[tokio::test]
async fn the_questions_modal_follows_answers_that_show_other_questions() {
    let (slack, app, driver) = slack_and_app().await;
    let picker = driver
        .command("U0ALICE", "C0GENERAL", "", &slack.trigger_id())
        .await;
    let blocks = picker.body["blocks"].as_array().unwrap().clone();
    let (block_id, _) = element(&blocks, "sesame_pick_flow").unwrap();
    let payload = driver.block_actions(
        "U0ALICE",
        &slack.trigger_id(),
        ClickedIn::Message {
            channel: "C0GENERAL",
            ts: "1767603600.000001",
        },
        json!({"action_id": "sesame_pick_flow", "block_id": block_id, "type": "static_select",
               "selected_option": {"value": "carpark"}}),
    );
    driver.interaction(&payload).await;
    let modal = eventually("the carpark modal", || modals(&slack).pop()).await;
    let before = serde_json::to_string(&modal.view).unwrap();
    assert!(
        !before.contains("q_bay"),
        "the charging bay is hidden at first"
    );

    // Ticking "electric vehicle" brings the charging bay question in, through views.update.
    let mut changed = driver.block_actions(
        "U0ALICE",
        &slack.trigger_id(),
        ClickedIn::Modal(&modal),
        json!({"action_id": "sesame_answer", "block_id": "q_ev", "type": "radio_buttons",
               "selected_option": {"value": "true"}}),
    );
    changed["view"]["state"]["values"] = json!({"q_ev": {"sesame_answer": {"type": "radio_buttons", "selected_option": {"value": "true"}}}});
    driver.interaction(&changed).await;
    let updated = eventually("the updated modal", || {
        slack.view(&modal.id).filter(|v| v.updates > 0)
    })
    .await;
    assert!(serde_json::to_string(&updated.view)
        .unwrap()
        .contains("q_bay"));
    app.stop().await;
}

#[tokio::test]
async fn socket_mode_serves_the_same_handlers_without_a_public_url() {
    let slack = FakeSlack::start().await;
    for (id, email, name) in [
        ("U0ALICE", "alice@example.com", "Alice Requester"),
        ("U0CAROL", "carol@example.com", "Carol Manager"),
    ] {
        slack.add_user(id, Some(email), name);
        slack.open_dm(id);
    }
    let app = TestApp::spawn_with_slack_socket_mode(&slack).await;
    let driver = app.slack_driver();
    let wait = Duration::from_secs(5);

    // A slash command is answered in the acknowledgement, as over HTTP.
    let envelope = slack.socket_send(
        "slash_commands",
        json!({"command": "/access", "text": "parking garage", "user_id": "U0ALICE",
               "user_name": "alice", "team_id": "T0SESAME", "channel_id": "C0GENERAL",
               "response_url": "https://hooks.slack.invalid/1", "trigger_id": slack.trigger_id()}),
    );
    let answer = slack
        .socket_ack(&envelope, wait)
        .await
        .expect("acknowledged");
    assert_eq!(answer["response_type"], "ephemeral", "{answer}");
    assert!(element(answer["blocks"].as_array().unwrap(), "sesame_start_flow").is_some());

    // An event is acknowledged at once and answered in the DM; its repeat is dropped.
    let (_, event) = driver.event_envelope(driver.direct_message("U0ALICE", "office badge", None));
    for _ in 0..2 {
        let id = slack.socket_send("events_api", event.clone());
        slack.socket_ack(&id, wait).await.expect("acknowledged");
    }
    eventually("the DM reply", || {
        slack.messages_in("DU0ALICE").into_iter().next()
    })
    .await;

    // A click decides, through the same engine checks.
    let alice = app.token("alice").await;
    let number = app
        .post("/api/v1/requests", &alice, super::carpark("SOCK1"))
        .await
        .body["number"]
        .as_i64()
        .unwrap();
    app.drain_outbox().await;
    let carols = slack.messages_in("DU0CAROL");
    let click = button_click(&driver, &slack, "U0CAROL", &carols[0], "sesame_approve");
    let id = slack.socket_send("interactive", click);
    slack.socket_ack(&id, wait).await.expect("acknowledged");
    let request = app
        .get(&format!("/api/v1/requests/{number}"), &alice)
        .await
        .body;
    assert_eq!(request["current_step"], 1, "{request}");
    assert_eq!(
        slack.messages_in("DU0ALICE").len(),
        2,
        "one reply, one request message"
    );
    app.drain_outbox().await;
    app.stop().await;
}

#[tokio::test]
async fn inbound_keys_are_forgotten_after_a_day() {
    let (_slack, app, _driver) = slack_and_app().await;
    let store = app.app.store_for_tests();
    assert!(store
        .remember_inbound("slack-event", "Ev1", app.app.now())
        .await
        .unwrap());
    app.app.forget_old_inbound_keys().await;
    assert!(
        !store
            .remember_inbound("slack-event", "Ev1", app.app.now())
            .await
            .unwrap(),
        "kept while Slack may still retry"
    );
    app.clock.advance(sesame_core::Span::parse("2d").unwrap());
    app.app.forget_old_inbound_keys().await;
    assert!(store
        .remember_inbound("slack-event", "Ev1", app.app.now())
        .await
        .unwrap());
    app.stop().await;
}

#[tokio::test]
async fn the_requester_is_warned_before_access_ends_and_told_when_it_has() {
    let (slack, app, _driver) = slack_and_app().await;
    let alice = app.token("alice").await;
    let number = app
        .post("/api/v1/requests", &alice, super::carpark("END1"))
        .await
        .body["number"]
        .as_i64()
        .unwrap();
    for (who, action) in [
        ("carol", "approve"),
        ("fran", "approve"),
        ("fran", "complete"),
    ] {
        let token = app.token(who).await;
        let done = app
            .post(
                &format!("/api/v1/requests/{number}/{action}"),
                &token,
                json!({}),
            )
            .await;
        assert_eq!(
            done.status,
            StatusCode::OK,
            "{who} {action}: {:?}",
            done.body
        );
    }
    app.drain_outbox().await;
    let link = format!("Carpark access #{number}");
    let requester = slack
        .messages_in("DU0ALICE")
        .into_iter()
        .find(|m| text_of(&m.blocks).contains(&link))
        .unwrap();
    let warnings = || {
        slack
            .thread("DU0ALICE", &requester.ts)
            .into_iter()
            .filter(|m| m.text.contains("Access ending soon"))
            .count()
    };
    let replies_before = slack.thread("DU0ALICE", &requester.ts).len();

    app.advance("29d").await;
    assert_eq!(warnings(), 1, "a day before");
    app.advance("23h").await;
    assert_eq!(warnings(), 2, "an hour before");
    assert_eq!(
        slack.thread("DU0ALICE", &requester.ts).len(),
        replies_before + 2,
        "the warnings and nothing else"
    );
    app.advance("1h").await;
    let ended = slack.message("DU0ALICE", &requester.ts).unwrap();
    assert!(
        text_of(&ended.blocks).to_lowercase().contains("expired"),
        "{}",
        text_of(&ended.blocks)
    );
    app.assert_nothing_owed().await;
    app.stop().await;
}

#[tokio::test]
async fn problems_that_need_an_administrator_are_posted_to_their_channel() {
    let slack = FakeSlack::start().await;
    for (id, email, name) in [
        ("U0ALICE", "alice@example.com", "Alice Requester"),
        ("U0CAROL", "carol@example.com", "Carol Manager"),
    ] {
        slack.add_user(id, Some(email), name);
        slack.open_dm(id);
    }
    slack.add_channel("C0ADMINS");
    let app = TestApp::spawn_with_slack_and(&slack, "admin_channel = \"C0ADMINS\"\n").await;
    let (alice, carol, ada) = (
        app.token("alice").await,
        app.token("carol").await,
        app.token("ada").await,
    );
    let number = app
        .post("/api/v1/requests", &alice, super::carpark("ADM1"))
        .await
        .body["number"]
        .as_i64()
        .unwrap();
    // A second request, filed while everyone is still there (a request nobody could approve is
    // refused up front).
    let second = app
        .post("/api/v1/requests", &alice, super::carpark("ADM2"))
        .await
        .body["number"]
        .as_i64()
        .unwrap();
    // Both facilities people leave, so the second step will have nobody to approve it.
    for (id, name) in [("fran", "Fran Facilities"), ("fred", "Fred Facilities")] {
        let gone = json!({ "email": format!("{id}@example.com"), "display_name": name, "manager": "carol",
                           "groups": ["employees", "facilities"], "active": false });
        let put = app
            .call(
                reqwest::Method::PUT,
                &format!("/api/v1/directory/users/{id}"),
                Some(&ada),
                Some(gone),
            )
            .await;
        assert_eq!(put.status, StatusCode::NO_CONTENT);
    }
    app.post(
        &format!("/api/v1/requests/{number}/approve"),
        &carol,
        json!({}),
    )
    .await;
    app.drain_outbox().await;
    let alerts = slack.messages_in("C0ADMINS");
    assert_eq!(alerts.len(), 1, "{alerts:#?}");
    let shown = text_of(&alerts[0].blocks);
    assert!(
        shown.contains(&format!("Carpark access #{number}")) && shown.contains("administrator"),
        "{shown}"
    );

    // A request waiting on Carol when she leaves: the step cannot be decided any more, and the
    // administrators hear of it at once.
    let gone = json!({ "email": "carol@example.com", "display_name": "Carol Manager",
                       "groups": ["employees"], "chat": { "slack": "U0CAROL" }, "active": false });
    let put = app
        .call(
            reqwest::Method::PUT,
            "/api/v1/directory/users/carol",
            Some(&ada),
            Some(gone),
        )
        .await;
    assert_eq!(put.status, StatusCode::NO_CONTENT, "{:?}", put.body);
    app.drain_outbox().await;
    let alerts = slack.messages_in("C0ADMINS");
    assert_eq!(alerts.len(), 2, "{alerts:#?}");
    let shown = text_of(&alerts[1].blocks);
    assert!(
        shown.contains(&format!("Carpark access #{second}")) && shown.contains("can still decide"),
        "{shown}"
    );
    app.assert_nothing_owed().await;
    app.stop().await;
}

#[tokio::test]
async fn a_request_for_someone_else_is_theirs_when_the_flow_allows_it() {
    let (slack, app, driver) = slack_and_app().await;
    driver
        .event(json!({"type": "app_home_opened", "user": "U0ALICE", "tab": "home"}))
        .await;
    let home = eventually("Alice's home tab", || slack.published_home("U0ALICE")).await;
    let payload = driver.block_actions(
        "U0ALICE",
        &slack.trigger_id(),
        ClickedIn::Home { view_id: &home.id },
        json!({"action_id": "sesame_pick_flow", "block_id": "home", "type": "static_select",
               "selected_option": {"value": "prod-db", "text": {"type": "plain_text", "text": "Production database write"}}}),
    );
    assert_eq!(driver.interaction(&payload).await.status, StatusCode::OK);
    let modal = eventually("the prod-db modal", || modals(&slack).pop()).await;
    let shown = serde_json::to_string(&modal.view).unwrap();
    assert!(shown.contains("For someone else?"), "{shown}");
    let values = |for_whom: &str| {
        json!({
            "q_ticket": {"sesame_answer": {"type": "plain_text_input", "value": "INC-9"}},
            "sesame_for": {"sesame_for": {"type": "users_select", "selected_user": for_whom}},
            "sesame_duration": {"sesame_duration": {"type": "static_select", "selected_option": {"value": "4h"}}},
            "sesame_justification": {"sesame_justification": {"type": "plain_text_input", "value": "Bob is on call tonight"}}
        })
    };

    // Someone Sesame does not know is refused next to the field, and nothing is created.
    let refused = driver
        .interaction(&driver.view_submission("U0ALICE", &modal, values("U0STRANGER")))
        .await;
    assert_eq!(
        refused.body["response_action"], "errors",
        "{:?}",
        refused.body
    );
    assert!(refused.body["errors"]["sesame_for"].is_string());
    assert!(requests_of(&app, "alice").await.is_empty());

    // For Bob: the request is Bob's, filed by Alice.
    let done = driver
        .interaction(&driver.view_submission("U0ALICE", &modal, values("U0BOB")))
        .await;
    assert_eq!(done.body["response_action"], "clear", "{:?}", done.body);
    let bobs = requests_of(&app, "bob").await;
    assert_eq!(bobs.len(), 1, "{bobs:?}");
    assert_eq!(bobs[0]["requester"], "bob");
    assert_eq!(bobs[0]["submitted_by"], "alice");
}

#[tokio::test]
async fn flows_that_do_not_allow_it_never_ask_for_whom() {
    let (slack, _app, driver) = slack_and_app().await;
    driver
        .event(json!({"type": "app_home_opened", "user": "U0ALICE", "tab": "home"}))
        .await;
    let home = eventually("Alice's home tab", || slack.published_home("U0ALICE")).await;
    let payload = driver.block_actions(
        "U0ALICE",
        &slack.trigger_id(),
        ClickedIn::Home { view_id: &home.id },
        json!({"action_id": "sesame_pick_flow", "block_id": "home", "type": "static_select",
               "selected_option": {"value": "carpark", "text": {"type": "plain_text", "text": "Carpark access"}}}),
    );
    assert_eq!(driver.interaction(&payload).await.status, StatusCode::OK);
    let modal = eventually("the carpark modal", || modals(&slack).pop()).await;
    let shown = serde_json::to_string(&modal.view).unwrap();
    assert!(!shown.contains("sesame_for"), "{shown}");
}

#[tokio::test]
async fn the_matcher_reads_the_words_not_the_markup_around_them() {
    let (slack, app, driver) = slack_and_app().await;
    // All that names a flow here is inside a link's address: a reader sees "the form".
    let dm = driver.direct_message(
        "U0ALICE",
        "<https://intranet.example.com/carpark/permits|the form> is what I need to fill",
        None,
    );
    assert_eq!(driver.event(dm).await.status, StatusCode::OK);
    let reply = eventually("the reply", || {
        slack.messages_in("DU0ALICE").into_iter().next()
    })
    .await;
    let shown = text_of(&reply.blocks);
    assert!(
        !shown.contains("Why:"),
        "nothing is proposed from a URL: {shown}"
    );

    // Formatting and a mention of the app do not get in the way of what was asked.
    let dm = driver.direct_message("U0ALICE", "<@U0SESAMEBOT> I need *carpark* access", None);
    assert_eq!(driver.event(dm).await.status, StatusCode::OK);
    let proposal = eventually("the proposal", || {
        slack
            .messages_in("DU0ALICE")
            .into_iter()
            .find(|m| text_of(&m.blocks).contains("Why:"))
    })
    .await;
    assert!(text_of(&proposal.blocks).contains("Carpark access"));
    app.assert_nothing_owed().await;
    app.stop().await;
}
