//! OpenID Connect sign-in against the in-process provider: the whole code flow works, and a
//! callback whose state, nonce or PKCE verifier does not belong to the sign-in is refused without
//! a session.

use super::browser::{Browser, Page};
use super::fake_oidc::FakeOidc;
use reqwest::StatusCode;
use sesame_testkit::{TestApp, TestDatabase};

async fn app_with(provider: &FakeOidc) -> TestApp {
    TestApp::spawn_configured(TestDatabase::Sqlite, Vec::new(), &provider.config())
        .await
        .unwrap()
}

/// Starts a sign-in in `browser` and has `email` sign in at the provider; returns the callback
/// path (`/auth/callback?code=...&state=...`) the provider sends the browser to.
async fn sign_in_at_provider(browser: &mut Browser, email: &str) -> String {
    let login = browser.get("/login?next=/requests").await;
    assert_eq!(login.status, StatusCode::SEE_OTHER, "{}", login.body);
    let authorize = login.location().to_owned();
    assert!(
        authorize.contains("code_challenge_method=S256"),
        "{authorize}"
    );
    assert!(authorize.contains("nonce="), "{authorize}");
    let mut provider = Browser::new("");
    let hint: String = form_urlencoded::byte_serialize(email.as_bytes()).collect();
    let answer = provider
        .get(&format!("{authorize}&login_hint={hint}"))
        .await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
    let back = answer.location();
    let query = back.split_once('?').unwrap().1;
    format!("/auth/callback?{query}")
}

fn has_session(page: &Page) -> bool {
    page.set_cookies()
        .iter()
        .any(|c| c.starts_with("sesame_session=") && !c.contains("Max-Age=0"))
}

#[tokio::test]
async fn the_code_flow_signs_a_directory_person_in() {
    let provider = FakeOidc::start().await;
    let app = app_with(&provider).await;
    let mut browser = Browser::for_app(&app);
    let callback = sign_in_at_provider(&mut browser, "alice@example.com").await;
    let signed_in = browser.get(&callback).await;
    assert_eq!(
        signed_in.status,
        StatusCode::SEE_OTHER,
        "{}",
        signed_in.body
    );
    assert_eq!(signed_in.location(), "/requests");
    let cookie = signed_in
        .set_cookies()
        .into_iter()
        .find(|c| c.starts_with("sesame_session="))
        .unwrap();
    // The public URL is https, so the cookie is Secure; it is never readable by script.
    for attribute in [
        "HttpOnly",
        "SameSite=Lax",
        "Secure",
        "Path=/",
        "Max-Age=28800",
    ] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
    let page = browser.get("/requests").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Alice Requester"), "{}", page.body);
    // The sign-in cannot be finished twice.
    let mut other = Browser::for_app(&app);
    other.cookies = browser.cookies.clone();
    other.cookies.remove("sesame_session");
    let replayed = other.get(&callback).await;
    assert_eq!(replayed.status, StatusCode::FORBIDDEN);
    assert!(!has_session(&replayed));
    app.stop().await;
}

#[tokio::test]
async fn a_callback_for_a_sign_in_started_in_another_browser_is_refused() {
    let provider = FakeOidc::start().await;
    let app = app_with(&provider).await;
    let mut attacker = Browser::for_app(&app);
    let callback = sign_in_at_provider(&mut attacker, "alice@example.com").await;
    // The victim's browser never started this sign-in: its state cookie is missing or another.
    let mut victim = Browser::for_app(&app);
    victim.get("/login").await;
    let refused = victim.get(&callback).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(
        refused.body.contains("not started in this browser"),
        "{}",
        refused.body
    );
    assert!(!has_session(&refused));
    app.stop().await;
}

#[tokio::test]
async fn a_code_issued_for_another_sign_in_fails_the_pkce_check() {
    let provider = FakeOidc::start().await;
    let app = app_with(&provider).await;
    // Two sign-ins in one browser: the code of the first is sent back with the state of the
    // second, so Sesame presents the second sign-in's verifier, which the provider refuses.
    let mut browser = Browser::for_app(&app);
    let first = sign_in_at_provider(&mut browser, "alice@example.com").await;
    let second = sign_in_at_provider(&mut browser, "alice@example.com").await;
    let code = first
        .split("code=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap();
    let state = second.split("state=").nth(1).unwrap();
    let spliced = browser
        .get(&format!("/auth/callback?code={code}&state={state}"))
        .await;
    assert_eq!(spliced.status, StatusCode::FORBIDDEN, "{}", spliced.body);
    assert!(
        spliced.body.contains("token endpoint answered 400"),
        "{}",
        spliced.body
    );
    assert!(!has_session(&spliced));
    app.stop().await;
}

#[tokio::test]
async fn an_id_token_with_another_nonce_or_an_unknown_key_is_refused() {
    let provider = FakeOidc::start().await;
    let app = app_with(&provider).await;
    provider.put_wrong_nonce();
    let mut browser = Browser::for_app(&app);
    let callback = sign_in_at_provider(&mut browser, "alice@example.com").await;
    let refused = browser.get(&callback).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(
        refused.body.contains("nonce does not match"),
        "{}",
        refused.body
    );
    assert!(!has_session(&refused));

    let provider = FakeOidc::start().await;
    let app2 = app_with(&provider).await;
    provider.sign_with_unpublished_key();
    let mut browser = Browser::for_app(&app2);
    let callback = sign_in_at_provider(&mut browser, "alice@example.com").await;
    let refused = browser.get(&callback).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(refused.body.contains("signing key"), "{}", refused.body);
    assert!(!has_session(&refused));
    app.stop().await;
    app2.stop().await;
}

#[tokio::test]
async fn people_the_directory_does_not_know_are_refused_with_a_clear_page() {
    let provider = FakeOidc::start().await;
    let app = app_with(&provider).await;
    let mut browser = Browser::for_app(&app);
    let callback = sign_in_at_provider(&mut browser, "mallory@elsewhere.example").await;
    let refused = browser.get(&callback).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(
        refused.body.contains("Sesame does not know you"),
        "{}",
        refused.body
    );
    assert!(refused.body.contains("mallory@elsewhere.example"));
    assert!(!has_session(&refused));
    app.stop().await;
}

#[tokio::test]
async fn the_demo_sign_in_is_refused_together_with_openid_connect() {
    let provider = FakeOidc::start().await;
    let config = format!("[portal]\ndemo = true\n{}", provider.config());
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "[database]\nurl = \"sqlite://{}/s.db\"\n[directory]\nfile = {:?}\n[flows]\ndir = {:?}\n{config}",
        dir.path().display(),
        sesame_testkit::fixtures().join("directory.yaml").display().to_string(),
        sesame_testkit::fixtures().join("flows").display().to_string(),
    );
    let config: sesame::config::Config = toml::from_str(&text).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let clock = std::sync::Arc::new(sesame_app::SystemClock);
    let error = sesame::Application::build(&config, listener, clock)
        .await
        .err()
        .expect("the demo sign-in with OpenID Connect must not start");
    assert!(
        error
            .to_string()
            .contains("[portal] demo = true cannot be used together with [oidc]"),
        "{error}"
    );
}

#[tokio::test]
async fn without_a_provider_or_demo_the_portal_says_sign_in_is_not_configured() {
    let app = TestApp::spawn().await;
    let mut browser = Browser::for_app(&app);
    let page = browser.get("/requests/1").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.location(), "/login?next=%2Frequests%2F1");
    let login = browser.get("/login").await;
    assert_eq!(login.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(login.body.contains("Sign-in is not configured"));
    let demo = browser.post("/login/demo", &[("user", "ada")]).await;
    assert_eq!(demo.status, StatusCode::NOT_FOUND);
    app.stop().await;
}

#[tokio::test]
async fn the_code_flow_works_on_postgresql() {
    let provider = FakeOidc::start().await;
    let Some(app) =
        TestApp::spawn_configured(TestDatabase::Postgres, Vec::new(), &provider.config()).await
    else {
        return;
    };
    let mut browser = Browser::for_app(&app);
    let callback = sign_in_at_provider(&mut browser, "carol@example.com").await;
    let signed_in = browser.get(&callback).await;
    assert_eq!(
        signed_in.status,
        StatusCode::SEE_OTHER,
        "{}",
        signed_in.body
    );
    assert!(has_session(&signed_in));
    assert_eq!(browser.get("/waiting").await.status, StatusCode::OK);
    let replayed = browser.get(&callback).await;
    assert_eq!(replayed.status, StatusCode::FORBIDDEN);
    app.stop().await;
}
