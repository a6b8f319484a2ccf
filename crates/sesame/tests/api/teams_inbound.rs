//! Teams' inbound side end to end, each way in: free text in the personal chat matched to a flow
//! (the same matcher and reasons as everywhere), the command menu, an @mention in a channel
//! answered privately, the form with a validation error and then a submission, installs, and people
//! Sesame cannot map. Sesame runs as `sesame serve` wires it, against the fake Bot Framework.

use super::teams_support::{eventually, start, text_of, texts, verbs};
use serde_json::json;
use sesame_core::UserId;

#[tokio::test]
async fn installing_links_people_by_email_and_saves_their_chat() {
    let teams = start().await;
    let directory = teams.app.app.directory();
    let alice = directory.user(&UserId::new("alice").unwrap()).unwrap();
    assert_eq!(alice.chat.teams.as_deref(), Some("oid-alice"));
    let saved = teams
        .app
        .app
        .chat_address("teams", "oid-alice")
        .await
        .unwrap()
        .expect("the conversation is saved");
    assert!(saved.contains("a:personal-alice"), "{saved}");
    let welcome = &teams.fake.cards(&teams.alice.conversation)[0];
    assert!(text_of(welcome).contains("Welcome to Sesame"));
    // A second announcement of the same install does not welcome twice.
    let again = teams.fake.message(&teams.alice, "ignored");
    let mut update = again.clone();
    update["type"] = json!("conversationUpdate");
    update["membersAdded"] = json!([{ "id": teams.fake.bot_id() }]);
    teams.fake.send(&teams.app.base_url, &update).await;
    teams
        .fake
        .send(
            &teams.app.base_url,
            &teams.fake.message(&teams.alice, "help"),
        )
        .await;
    eventually("the help", || {
        teams
            .fake
            .cards(&teams.alice.conversation)
            .iter()
            .any(|c| {
                text_of(c).contains("How to use") || text_of(c).contains("Sesame: access requests")
            })
            .then_some(())
    })
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let welcomes = teams
        .fake
        .cards(&teams.alice.conversation)
        .iter()
        .filter(|c| text_of(c).contains("Welcome to Sesame"))
        .count();
    assert_eq!(welcomes, 1, "one welcome per person");
    let audit = teams
        .app
        .app
        .store_for_tests()
        .audit(&sesame_app::AuditFilter::default())
        .await
        .unwrap();
    assert!(audit.iter().any(|a| a.kind == "chat_account_linked"));
}

#[tokio::test]
async fn free_text_is_matched_with_the_same_matcher_and_reason() {
    let teams = start().await;
    let typed = "I need a parking permit for the garage";
    let answer = teams
        .fake
        .send(
            &teams.app.base_url,
            &teams.fake.message(&teams.alice, typed),
        )
        .await;
    assert_eq!(answer.status, 200);
    let card = eventually("the match", || {
        teams.fake.cards(&teams.alice.conversation).get(1).cloned()
    })
    .await;
    let who = teams
        .app
        .app
        .principal(&UserId::new("alice").unwrap())
        .unwrap();
    let flows = teams.app.app.requestable_flows(&who);
    let outcome = teams.app.app.match_text(&flows, typed);
    assert_eq!(outcome.proposal().map(|f| f.as_str()), Some("carpark"));
    let shown = texts(&card);
    assert!(shown.contains(&String::from("Carpark access")), "{shown:?}");
    assert!(
        shown.contains(&outcome.why),
        "the matcher's reason: {shown:?}"
    );
    assert!(verbs(&card).contains(&String::from("pick")));
    // Continuing opens the form and remembers the choice for the matcher.
    let data = card["actions"][0]["data"].clone();
    assert_eq!(data["flow"], "carpark");
    let form = teams
        .fake
        .send(
            &teams.app.base_url,
            &teams.fake.click(&teams.alice, "pick", data),
        )
        .await;
    let ids: Vec<&str> = form.card()["body"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["id"].as_str())
        .collect();
    assert_eq!(
        ids,
        [
            "q_plate",
            "q_site",
            "q_reason",
            "q_ev",
            "duration",
            "justification"
        ]
    );
}

#[tokio::test]
async fn the_command_menu_answers_help_request_and_my_requests() {
    let teams = start().await;
    let url = &teams.app.base_url;
    for (command, expected) in [
        ("help", "\"request\" lists what you can ask for"),
        ("request", "What do you need?"),
        ("my requests", "You have no requests yet."),
    ] {
        let before = teams.fake.cards(&teams.alice.conversation).len();
        teams
            .fake
            .send(url, &teams.fake.message(&teams.alice, command))
            .await;
        let card = eventually(command, || {
            teams
                .fake
                .cards(&teams.alice.conversation)
                .get(before)
                .cloned()
        })
        .await;
        assert!(
            text_of(&card).contains(expected),
            "{command}: {}",
            text_of(&card)
        );
    }
    let picker = teams.fake.cards(&teams.alice.conversation)[2].clone();
    let choices: Vec<&str> = picker["body"][0]["choices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["value"].as_str().unwrap())
        .collect();
    assert_eq!(choices, ["badge", "carpark", "laptop", "prod-db"]);
}

#[tokio::test]
async fn a_mention_in_a_channel_is_answered_to_the_person_alone() {
    let teams = start().await;
    let channel = teams.fake.channel("19:general@thread.tacv2");
    let before = teams.fake.cards(&teams.alice.conversation).len();
    let answer = teams
        .fake
        .send(
            &teams.app.base_url,
            &teams
                .fake
                .mention(&teams.alice, &channel, "parking permit please"),
        )
        .await;
    assert_eq!(answer.status, 200);
    let card = eventually("the private answer", || {
        teams
            .fake
            .cards(&teams.alice.conversation)
            .get(before)
            .cloned()
    })
    .await;
    assert!(text_of(&card).contains("Carpark access"));
    assert!(
        teams.fake.activities(&channel).is_empty(),
        "nothing is said in the channel"
    );
}

#[tokio::test]
async fn the_form_shows_problems_under_their_inputs_keeps_answers_then_submits() {
    let teams = start().await;
    let url = &teams.app.base_url;
    let bad = json!({
        "flow": "carpark", "q_plate": "TOO-LONG-PLATE-123", "q_site": "Paris",
        "q_ev": "true", "duration": "30d", "justification": "",
    });
    let answer = teams
        .fake
        .send(url, &teams.fake.click(&teams.alice, "submit", bad))
        .await;
    assert_eq!(answer.status, 200);
    let card = answer.card();
    let shown = text_of(card);
    assert!(shown.contains("must be at most 12 characters"), "{shown}");
    assert!(shown.contains("must be one of: London, Berlin"), "{shown}");
    let input = |id: &str| {
        card["body"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["id"] == id)
            .cloned()
    };
    assert_eq!(input("q_plate").unwrap()["value"], "TOO-LONG-PLATE-123");
    // Electric: the charging bay question now shows.
    assert!(input("q_bay").is_some(), "{shown}");
    assert!(teams
        .app
        .app
        .store_for_tests()
        .request(sesame_core::RequestNumber(1))
        .await
        .unwrap()
        .is_none());

    let good = json!({
        "flow": "carpark", "q_plate": "B-SE 1", "q_site": "Berlin", "q_ev": "false",
        "duration": "30d", "justification": "New job, **driving** in [daily](https://evil.test)",
    });
    let answer = teams
        .fake
        .send(url, &teams.fake.click(&teams.alice, "submit", good))
        .await;
    assert!(
        text_of(answer.card()).contains("Submitted"),
        "{}",
        text_of(answer.card())
    );
    let request = teams
        .app
        .app
        .store_for_tests()
        .request(sesame_core::RequestNumber(1))
        .await
        .unwrap()
        .expect("the request exists");
    assert_eq!(request.requester.as_str(), "alice");
    teams.app.drain_outbox().await;
    // The requester's card links to the portal, and her words stay plain text.
    let cards = teams.fake.cards(&teams.alice.conversation);
    let status = cards
        .iter()
        .find(|c| text_of(c).contains("Your request"))
        .expect("the requester's card");
    let link = status["body"][0]["inlines"][1].clone();
    assert_eq!(link["text"], "Carpark access #1");
    assert_eq!(
        link["selectAction"]["url"],
        "https://sesame.test/requests/1"
    );
    let serialized = status.to_string();
    assert!(
        !serialized.contains("\"url\":\"https://evil.test"),
        "{serialized}"
    );
    assert!(serialized.contains("New job, **driving** in [daily](https://evil.test)"));
}

#[tokio::test]
async fn people_sesame_cannot_map_are_told_why_and_nothing_is_created() {
    let teams = start().await;
    let stranger = teams.fake.person("mallory", "mallory@elsewhere.example");
    teams
        .fake
        .send(
            &teams.app.base_url,
            &teams.fake.message(&stranger, "parking please"),
        )
        .await;
    let card = eventually("the refusal", || {
        teams.fake.cards(&stranger.conversation).first().cloned()
    })
    .await;
    let shown = text_of(&card);
    assert!(shown.contains("mallory@elsewhere.example"), "{shown}");
    assert!(shown.contains("Nothing was created"), "{shown}");
    assert!(
        teams
            .app
            .app
            .chat_address("teams", &stranger.object_id)
            .await
            .unwrap()
            .is_none(),
        "nothing is kept for someone Sesame does not know"
    );
    let clicked = teams
        .fake
        .send(
            &teams.app.base_url,
            &teams
                .fake
                .click(&stranger, "submit", json!({ "flow": "badge" })),
        )
        .await;
    assert!(text_of(clicked.card()).contains("Sesame cannot find you"));
    assert!(teams
        .app
        .app
        .store_for_tests()
        .request(sesame_core::RequestNumber(1))
        .await
        .unwrap()
        .is_none());

    // An explicit link wins over the email: Carol's email on another account is not Carol.
    let impostor = teams.fake.person("impostor", "carol@example.com");
    teams
        .fake
        .send(&teams.app.base_url, &teams.fake.message(&impostor, "help"))
        .await;
    let card = eventually("the refusal", || {
        teams.fake.cards(&impostor.conversation).first().cloned()
    })
    .await;
    assert!(text_of(&card).contains("linked to another Teams account"));
}

#[tokio::test]
async fn someone_sesame_cannot_map_is_offered_to_link_their_account_in_the_portal() {
    let fake = sesame_testkit::fake_teams::FakeTeams::start().await;
    let app = sesame_testkit::TestApp::spawn_with_teams_and(&fake, "[portal]\ndemo = true\n").await;
    let stranger = fake.person("bobby", "bobby@elsewhere.example");
    fake.send(&app.base_url, &fake.message(&stranger, "parking please"))
        .await;
    let card = eventually("the refusal", || {
        fake.cards(&stranger.conversation).first().cloned()
    })
    .await;
    assert!(text_of(&card).contains("Sesame cannot find you"));
    let url = card["actions"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|a| a["type"] == "Action.OpenUrl")
        .and_then(|a| a["url"].as_str())
        .expect("a button to the portal")
        .to_owned();
    let token = url.rsplit("/link/").next().unwrap();
    assert_eq!(
        app.app.chat_link_offer(token).await.unwrap(),
        sesame_app::chat_links::LinkOfferStatus::Open {
            platform: String::from("teams"),
            account: stranger.object_id.clone(),
        },
        "the offer is for this Teams account"
    );

    // Bob signs in to the portal and confirms; from then on the account is Bob's.
    let bob = app.app.principal(&UserId::new("bob").unwrap()).unwrap();
    app.app.confirm_chat_link(&bob, token).await.unwrap();
    fake.send(&app.base_url, &fake.message(&stranger, "help"))
        .await;
    let answer = eventually("the answer", || {
        let cards = fake.cards(&stranger.conversation);
        (cards.len() >= 2).then(|| cards[cards.len() - 1].clone())
    })
    .await;
    assert!(!text_of(&answer).contains("cannot find you"), "{answer}");
}
