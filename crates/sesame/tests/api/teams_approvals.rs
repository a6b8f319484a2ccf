//! Deciding in Teams end to end: approvers' cards with Approve / Deny as Universal Actions, the
//! engine deciding who may (a late or ineligible click is refused with the reason), every copy
//! refreshed, the requester's card edited in place with updates as replies, and fulfilment.

use super::teams_support::{activity_saying, start, text_of, verbs, Teams};
use serde_json::json;
use sesame_core::{RequestNumber, State};

/// Alice files a carpark request through the form; the outbox delivers its first notices.
async fn filed(teams: &Teams) -> RequestNumber {
    let answers = json!({
        "flow": "carpark", "q_plate": "B-SE 1", "q_site": "Berlin", "q_ev": "false",
        "duration": "30d", "justification": "New job",
    });
    let answer = teams
        .fake
        .send(
            &teams.app.base_url,
            &teams.fake.click(&teams.alice, "submit", answers),
        )
        .await;
    assert!(text_of(answer.card()).contains("Submitted"));
    teams.app.drain_outbox().await;
    RequestNumber(1)
}

fn card_with<'a>(cards: &'a [serde_json::Value], text: &str) -> &'a serde_json::Value {
    cards
        .iter()
        .find(|c| text_of(c).contains(text))
        .unwrap_or_else(|| panic!("no card says {text:?}"))
}

#[tokio::test]
async fn approvals_refresh_every_copy_and_refuse_late_or_ineligible_clicks() {
    let teams = start().await;
    let number = filed(&teams).await;
    let url = &teams.app.base_url;
    let step0 = json!({ "request": number.0, "step": 0 });

    // Carol (the manager) is asked; Alice may not approve her own request.
    let carol_cards = teams.fake.cards(&teams.carol.conversation);
    let asked = card_with(&carol_cards, "Alice Requester asks for");
    assert_eq!(verbs(asked), ["approve", "deny"]);
    let refused = teams
        .fake
        .send(
            url,
            &teams.fake.click(&teams.alice, "approve", step0.clone()),
        )
        .await;
    assert!(
        text_of(refused.card()).contains("Not recorded"),
        "{}",
        text_of(refused.card())
    );
    assert!(verbs(refused.card()).is_empty());

    let approved = teams
        .fake
        .send(
            url,
            &teams.fake.click(&teams.carol, "approve", step0.clone()),
        )
        .await;
    assert_eq!(approved.status, 200);
    assert_eq!(approved.body["statusCode"], 200);
    assert_eq!(
        approved.body["type"],
        "application/vnd.microsoft.card.adaptive"
    );
    assert!(verbs(approved.card()).is_empty(), "decided: no buttons");
    assert!(text_of(approved.card()).contains("step 2 of 2"));
    teams.app.drain_outbox().await;

    // The requester's card was edited in place; the change arrived as a reply under it.
    let alice_activities = teams.fake.activities(&teams.alice.conversation);
    let requester = alice_activities
        .iter()
        .find(|a| text_of(&a.body).contains("Your request"))
        .expect("the requester's card");
    assert!(requester.updates >= 1, "edited in place");
    assert!(alice_activities
        .iter()
        .any(|a| a.reply_to.as_deref() == Some(requester.id.as_str())));
    assert!(
        text_of(&requester.body).contains("step 2 of 2"),
        "{}",
        text_of(&requester.body)
    );

    // Fran and Fred are both asked; each card refreshes for both of them.
    let step1 = json!({ "request": number.0, "step": 1 });
    let fred_card = card_with(&teams.fake.cards(&teams.fred.conversation), "asks for").clone();
    let refresh = &fred_card["refresh"];
    let users: Vec<&str> = refresh["userIds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u.as_str().unwrap())
        .collect();
    assert_eq!(users, ["29:fran", "29:fred"]);
    assert_eq!(refresh["action"]["verb"], "refresh");

    let fran = teams
        .fake
        .send(
            url,
            &teams.fake.click(&teams.fran, "approve", step1.clone()),
        )
        .await;
    assert!(!text_of(fran.card()).contains("Not recorded"));
    // Fred's copy refreshes (Teams asks with the refresh verb) and shows Fran's decision.
    let refreshed = teams
        .fake
        .send(
            url,
            &teams.fake.click(&teams.fred, "refresh", step1.clone()),
        )
        .await;
    assert!(verbs(refreshed.card()).is_empty());
    assert!(
        text_of(refreshed.card()).contains("Fran Facilities"),
        "{}",
        text_of(refreshed.card())
    );
    // A late click changes nothing and says why.
    let late = teams
        .fake
        .send(url, &teams.fake.click(&teams.fred, "approve", step1))
        .await;
    assert!(
        text_of(late.card()).contains("Not recorded"),
        "{}",
        text_of(late.card())
    );
    let request = teams
        .app
        .app
        .store_for_tests()
        .request(number)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(request.steps[1].approvals.len(), 1);
    teams.app.drain_outbox().await;
    // The notice edited Fred's copy too.
    let fred_activity = activity_saying(&teams.fake, &teams.fred.conversation, "asks for");
    assert!(fred_activity.updates >= 1);

    // Fulfilment: Done, by a fulfiller.
    let task = card_with(&teams.fake.cards(&teams.fran.conversation), "Please grant").clone();
    assert_eq!(verbs(&task), ["complete", "fail"]);
    let done = teams
        .fake
        .send(
            url,
            &teams
                .fake
                .click(&teams.fran, "complete", json!({ "request": number.0 })),
        )
        .await;
    assert!(verbs(done.card()).is_empty());
    let request = teams
        .app
        .app
        .store_for_tests()
        .request(number)
        .await
        .unwrap()
        .unwrap();
    assert!(
        matches!(request.state, State::Active { .. }),
        "{:?}",
        request.state
    );
    teams.app.assert_nothing_owed().await;
}

#[tokio::test]
async fn a_denial_needs_a_reason_and_shows_it_as_plain_text() {
    let teams = start().await;
    let number = filed(&teams).await;
    let url = &teams.app.base_url;
    let no_reason = teams
        .fake
        .send(
            url,
            &teams.fake.click(
                &teams.carol,
                "deny",
                json!({ "request": number.0, "step": 0, "reason": " " }),
            ),
        )
        .await;
    assert!(text_of(no_reason.card()).contains("Please give a reason"));
    assert_eq!(verbs(no_reason.card()), ["approve", "deny"]);
    let reason = "Not this quarter, see **budget** [here](https://evil.test) <at>Alice</at>";
    let denied = teams
        .fake
        .send(
            url,
            &teams.fake.click(
                &teams.carol,
                "deny",
                json!({ "request": number.0, "step": 0, "reason": reason }),
            ),
        )
        .await;
    assert!(text_of(denied.card()).contains(&format!("Denied by Carol Manager: {reason}")));
    let request = teams
        .app
        .app
        .store_for_tests()
        .request(number)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(request.state, State::Denied);
    teams.app.drain_outbox().await;
    let requester = activity_saying(&teams.fake, &teams.alice.conversation, "Your request");
    let shown = requester.body.to_string();
    assert!(text_of(&requester.body).contains(reason));
    assert!(!shown.contains("\"url\":\"https://evil.test"));
    assert!(!shown.contains("\"entities\""));
    teams.app.assert_nothing_owed().await;
}

#[tokio::test]
async fn reminders_escalations_and_ending_access_arrive_as_replies() {
    let teams = start().await;
    let number = filed(&teams).await;
    let url = &teams.app.base_url;
    // An `Action.Submit` click (a message carrying the data) works like a Universal Action.
    let mut click = teams.fake.message(&teams.carol, "");
    click.as_object_mut().unwrap().remove("text");
    click["value"] = json!({ "verb": "approve", "request": number.0, "step": 0 });
    teams.fake.send(url, &click).await;
    super::teams_support::eventually("the approval", || {
        teams
            .fake
            .cards(&teams.carol.conversation)
            .iter()
            .any(|c| text_of(c).contains("step 2 of 2") && verbs(c).is_empty())
            .then_some(())
    })
    .await;
    teams.app.drain_outbox().await;

    // Step 2 reminds after four hours: a reply under each approver's card.
    teams.app.advance("4h").await;
    let fran_card = activity_saying(&teams.fake, &teams.fran.conversation, "asks for");
    let reminder = teams
        .fake
        .activities(&teams.fran.conversation)
        .into_iter()
        .find(|a| a.reply_to.as_deref() == Some(fran_card.id.as_str()))
        .expect("a reminder under Fran's card");
    assert!(text_of(&reminder.body).contains("Reminder"));
    // After a day it escalates to Ada (not on Teams: skipped), and Alice hears of it.
    teams.app.advance("20h").await;
    let alice = teams.fake.activities(&teams.alice.conversation);
    assert!(
        alice
            .iter()
            .any(|a| text_of(&a.body).contains("was escalated to")),
        "{alice:#?}"
    );

    teams
        .fake
        .send(
            url,
            &teams.fake.click(
                &teams.fred,
                "approve",
                json!({ "request": number.0, "step": 1 }),
            ),
        )
        .await;
    teams.app.drain_outbox().await;
    teams
        .fake
        .send(
            url,
            &teams
                .fake
                .click(&teams.fred, "complete", json!({ "request": number.0 })),
        )
        .await;
    teams.app.drain_outbox().await;
    // Thirty days of access: the warning comes a day before the end.
    teams.app.advance("29d").await;
    let alice = teams.fake.activities(&teams.alice.conversation);
    let ending = alice
        .iter()
        .find(|a| text_of(&a.body).contains("Access ending soon"))
        .expect("the warning");
    let card = &ending.body["attachments"][0]["content"];
    assert_eq!(verbs(card), ["extend", "relinquish"]);

    // Extend files a linked request through the flow's approvals; Remove now ends the access.
    let extended = teams
        .fake
        .send(
            url,
            &teams.fake.click(
                &teams.alice,
                "extend",
                json!({ "request": number.0, "duration": "7d", "reason": "Still on the project" }),
            ),
        )
        .await;
    assert!(
        text_of(extended.card()).contains("Asked: Carpark access #2 extends #1"),
        "{}",
        text_of(extended.card())
    );
    let extension = teams
        .app
        .app
        .store_for_tests()
        .request(RequestNumber(2))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(extension.extends, Some(number));
    let removed = teams
        .fake
        .send(
            url,
            &teams
                .fake
                .click(&teams.alice, "relinquish", json!({ "request": number.0 })),
        )
        .await;
    assert!(
        text_of(removed.card()).contains("Removed"),
        "{}",
        text_of(removed.card())
    );
    let request = teams
        .app
        .app
        .store_for_tests()
        .request(number)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(request.state, State::Revoked);
    teams.app.assert_nothing_owed().await;
}

#[tokio::test]
async fn problems_for_administrators_reach_their_own_chats_once() {
    let teams = start().await;
    let ada = teams.fake.person("ada", "ada@example.com");
    teams
        .fake
        .send(&teams.app.base_url, &teams.fake.install(&ada))
        .await;
    super::teams_support::eventually("Ada's welcome", || {
        (!teams.fake.cards(&ada.conversation).is_empty()).then_some(())
    })
    .await;
    let number = filed(&teams).await;
    // Both facilities people leave, so the second step will have nobody to approve it.
    let admin = teams.app.token("ada").await;
    for (id, name) in [("fran", "Fran Facilities"), ("fred", "Fred Facilities")] {
        let gone = json!({ "email": format!("{id}@example.com"), "display_name": name,
                           "manager": "carol", "groups": ["employees", "facilities"], "active": false });
        let put = teams
            .app
            .call(
                reqwest::Method::PUT,
                &format!("/api/v1/directory/users/{id}"),
                Some(&admin),
                Some(gone),
            )
            .await;
        assert_eq!(put.status, reqwest::StatusCode::NO_CONTENT);
    }
    let carol = teams.app.token("carol").await;
    teams
        .app
        .post(
            &format!("/api/v1/requests/{}/approve", number.0),
            &carol,
            json!({}),
        )
        .await;
    teams.app.drain_outbox().await;
    let alert = activity_saying(&teams.fake, &ada.conversation, "Needs an administrator");
    let shown = text_of(&alert.body);
    assert!(
        shown.contains(&format!("Carpark access #{}", number.0)),
        "{shown}"
    );
    let alerts = |conversation: &str| {
        teams
            .fake
            .cards(conversation)
            .iter()
            .filter(|c| text_of(c).contains("Needs an administrator"))
            .count()
    };
    assert_eq!(alerts(&ada.conversation), 1);
    assert_eq!(alerts(&teams.alice.conversation), 0, "only administrators");
    teams.app.drain_outbox().await;
    assert_eq!(alerts(&ada.conversation), 1, "once per change");
}
