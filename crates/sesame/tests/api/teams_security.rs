//! `/teams/messages` refuses what Bot Framework did not send: no token, a forged or expired one,
//! one for another app or another service URL; a body that is not an activity. Nothing is stored
//! or answered for any of them. A repeated activity is handled once, and the development mode
//! without authentication refuses to run anywhere but on loopback.

use super::teams_support::{eventually, start, text_of};
use reqwest::StatusCode;
use sesame::config::Config;
use sesame::Application;
use sesame_app::ManualClock;
use sesame_core::Timestamp;
use sesame_testkit::fake_teams::{InboundToken, TokenKey};
use std::sync::Arc;

#[tokio::test]
async fn forged_expired_and_misdirected_tokens_are_refused_and_nothing_is_stored() {
    let teams = start().await;
    let url = &teams.app.base_url;
    let stranger = teams.fake.person("newcomer", "bob@example.com");
    let activity = teams.fake.message(&stranger, "parking please");
    let app_id = teams.fake.app_id();
    let service = teams.fake.service_url().to_owned();
    let genuine = || InboundToken::new(&app_id, &service);
    let cases = [
        ("forged signature", Some(genuine().key(TokenKey::Forged))),
        ("expired", Some(genuine().expired(600))),
        ("wrong audience", Some(genuine().audience("another-app"))),
        (
            "foreign service URL",
            Some(genuine().service_url(Some("https://smba.trafficmanager.net/emea/"))),
        ),
        (
            "unknown key",
            Some(genuine().key(TokenKey::UnknownKid("nope".into()))),
        ),
        ("no token", None),
    ];
    for (what, token) in cases {
        let header = token.map(|t| format!("Bearer {}", teams.fake.sign(&t)));
        let answer = teams
            .fake
            .send_with(url, &activity, header.as_deref())
            .await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{what}");
    }
    // Unparseable bodies are refused before anything else.
    let client = reqwest::Client::new();
    for body in ["not json", "[1, 2]", "{\"type\": \"message\"}"] {
        let response = client
            .post(format!("{url}/teams/messages"))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{body}");
    }
    let too_large = format!(
        "{{\"type\":\"message\",\"text\":\"{}\"}}",
        "x".repeat(300 * 1024)
    );
    let response = client
        .post(format!("{url}/teams/messages"))
        .body(too_large)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    // Nothing was answered, linked or saved for any of them.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert!(teams.fake.activities(&stranger.conversation).is_empty());
    assert!(teams
        .app
        .app
        .chat_address("teams", &stranger.object_id)
        .await
        .unwrap()
        .is_none());
    let bob = teams.app.app.directory();
    assert!(bob
        .user(&sesame_core::UserId::new("bob").unwrap())
        .unwrap()
        .chat
        .teams
        .is_none());
}

#[tokio::test]
async fn a_repeated_activity_is_handled_once() {
    let teams = start().await;
    let activity = teams.fake.message(&teams.alice, "help");
    let before = teams.fake.cards(&teams.alice.conversation).len();
    for _ in 0..3 {
        let answer = teams.fake.send(&teams.app.base_url, &activity).await;
        assert_eq!(answer.status, StatusCode::OK);
    }
    eventually("the answer", || {
        teams
            .fake
            .cards(&teams.alice.conversation)
            .get(before)
            .cloned()
    })
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(
        teams.fake.cards(&teams.alice.conversation).len(),
        before + 1
    );

    // A click delivered twice files one request.
    let answers = serde_json::json!({
        "flow": "badge", "q_floor": "2", "justification": "Lost mine",
    });
    let click = teams.fake.click(&teams.alice, "submit", answers);
    let first = teams.fake.send(&teams.app.base_url, &click).await;
    let second = teams.fake.send(&teams.app.base_url, &click).await;
    assert_eq!(text_of(first.card()), text_of(second.card()));
    assert!(text_of(first.card()).contains("Office badge #1"));
    assert!(teams
        .app
        .app
        .store_for_tests()
        .request(sesame_core::RequestNumber(2))
        .await
        .unwrap()
        .is_none());
}

fn dev_config(listen: &str, password: Option<&str>) -> Config {
    let fixtures = sesame_testkit::fixtures();
    let dir = tempfile::tempdir().unwrap().keep();
    let password = password.map_or(String::new(), |p| format!("app_password = {p:?}\n"));
    let text = format!(
        "[server]\nlisten = {listen:?}\n[database]\nurl = {:?}\n[flows]\ndir = {:?}\n[directory]\nfile = {:?}\n[teams]\napp_id = \"dev-app\"\ndevelopment_without_auth = true\nallowed_service_hosts = [\"127.0.0.1\"]\n{password}",
        format!("sqlite://{}", dir.join("sesame.db").display()),
        fixtures.join("flows").display().to_string(),
        fixtures.join("directory.yaml").display().to_string(),
    );
    toml::from_str(&text).unwrap()
}

async fn build(config: &Config, bind: &str) -> anyhow::Result<Application> {
    let listener = tokio::net::TcpListener::bind(bind).await.unwrap();
    let clock = Arc::new(ManualClock::new(Timestamp(1_767_603_600_000)));
    Application::build(config, listener, clock).await
}

#[tokio::test]
async fn the_development_mode_runs_on_loopback_only_and_never_with_a_password() {
    let refused = build(&dev_config("0.0.0.0:0", None), "0.0.0.0:0").await;
    let error = format!("{:#}", refused.err().expect("refused off loopback"));
    assert!(error.contains("loopback"), "{error}");
    let refused = build(&dev_config("127.0.0.1:0", Some("secret")), "127.0.0.1:0").await;
    let error = format!("{:#}", refused.err().expect("refused with a password"));
    assert!(error.contains("app password"), "{error}");

    // On loopback it accepts calls without a token, as the Agents Playground makes them.
    let application = build(&dev_config("127.0.0.1:0", None), "127.0.0.1:0")
        .await
        .unwrap()
        .without_dispatcher();
    assert!(application
        .summary
        .iter()
        .any(|l| l.contains("WITHOUT authentication")));
    let base = format!("http://{}", application.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let server = tokio::spawn(application.run(stopped));
    let activity = serde_json::json!({
        "type": "message", "id": "1", "serviceUrl": "http://127.0.0.1:9/", "channelId": "emulator",
        "from": { "id": "user-1", "name": "Dev" }, "recipient": { "id": "bot" },
        "conversation": { "id": "c-1", "conversationType": "personal" }, "text": "help",
    });
    let response = reqwest::Client::new()
        .post(format!("{base}/teams/messages"))
        .json(&activity)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    stop.send(true).unwrap();
    server.await.unwrap().unwrap();
}

#[tokio::test]
async fn a_genuine_activity_naming_a_foreign_service_url_is_refused_and_changes_nothing() {
    let teams = start().await;
    let mut activity = teams.fake.message(&teams.alice, "help");
    // The fake Connector under a host name Sesame does not allow (only 127.0.0.1 is): were the
    // check missing, the reply would reach the fake and be recorded.
    let foreign = teams.fake.service_url().replace("127.0.0.1", "localhost");
    let foreign = foreign.as_str();
    activity["serviceUrl"] = serde_json::json!(foreign);
    // Bot Framework signs for the service URL the activity names, so the token is genuine.
    let token = teams
        .fake
        .sign(&InboundToken::new(&teams.fake.app_id(), foreign));
    let calls_before = teams.fake.calls().len();
    let answer = teams
        .fake
        .send_with(
            &teams.app.base_url,
            &activity,
            Some(&format!("Bearer {token}")),
        )
        .await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    teams.app.drain_outbox().await;
    // Nothing was sent there, and nothing was owed.
    assert_eq!(teams.fake.calls().len(), calls_before);
    // Alice's saved conversation is still the one she installed the app in: her next notice
    // reaches her there instead of dying as an undeliverable job.
    let alice = teams.app.token("alice").await;
    let created = teams
        .app
        .post("/api/v1/requests", &alice, super::carpark("TS8"))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    let before = teams.fake.cards(&teams.alice.conversation).len();
    teams.app.drain_outbox().await;
    assert!(teams.fake.cards(&teams.alice.conversation).len() > before);
    teams.app.assert_nothing_owed().await;
}
