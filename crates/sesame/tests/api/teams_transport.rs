//! The Teams adapter's transport against the fake Teams: inbound token verification (genuine and
//! forged tokens), the client-credentials token cache, and the Bot Connector client.

use serde_json::json;
use sesame_core::ports::DeliveryError;
use sesame_testkit::fake_teams::sesame_teams::{
    self, AllowedHosts, AuthError, AuthFailure, BotAuth, BotConnector, ConnectorError, TokenClient,
    TokenError,
};
use sesame_testkit::fake_teams::{FakeTeams, InboundToken, InjectedFailure, TokenKey};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const HOUR: Duration = Duration::from_secs(3600);

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

async fn verify(
    auth: &BotAuth,
    token: &str,
    service_url: &str,
    channel_id: &str,
    at: i64,
) -> Result<sesame_teams::VerifiedCaller, AuthError> {
    auth.verify_at(Some(&bearer(token)), service_url, channel_id, at)
        .await
}

#[tokio::test]
async fn a_genuine_token_is_accepted_for_its_activity() {
    let teams = FakeTeams::start().await;
    let auth = teams.bot_auth();
    let token = teams.sign_inbound(&teams.app_id(), teams.service_url(), "msteams", HOUR);
    let body = json!({
        "type": "message",
        "id": "1700000000001",
        "serviceUrl": teams.service_url(),
        "channelId": "msteams",
        "from": { "id": "29:alice", "aadObjectId": "a-guid" },
        "conversation": { "id": "a:1", "conversationType": "personal", "tenantId": "t-1" },
        "recipient": { "id": teams.bot_id() },
        "text": "hello",
    });
    let activity = sesame_teams::parse_activity(body.to_string().as_bytes()).unwrap();
    let caller = auth.verify(Some(&bearer(&token)), &activity).await.unwrap();
    assert_eq!(caller.service_url, teams.service_url());
    assert_eq!(caller.claims["aud"], teams.app_id());
    // One fetch of the metadata and the keys serves every later verification.
    for _ in 0..3 {
        verify(&auth, &token, teams.service_url(), "msteams", now())
            .await
            .unwrap();
    }
    assert_eq!(teams.metadata_fetches(), 1);
    assert_eq!(teams.key_set_fetches(), 1);
}

#[tokio::test]
async fn forged_and_misdirected_tokens_are_refused_each_with_its_reason() {
    let teams = FakeTeams::start().await;
    let auth = teams.bot_auth();
    let app = teams.app_id();
    let service = teams.service_url().to_owned();
    let genuine = || InboundToken::new(&app, &service);
    let refusal = |token: InboundToken| {
        let token = teams.sign(&token);
        let auth = &auth;
        let service = service.clone();
        async move { verify(auth, &token, &service, "msteams", now()).await }
    };

    assert_eq!(
        refusal(genuine().key(TokenKey::Forged)).await,
        Err(AuthError::BadSignature)
    );
    assert!(matches!(
        refusal(genuine().expired(600)).await,
        Err(AuthError::Expired { .. })
    ));
    // Within the five minutes of leeway, an expired token still passes.
    refusal(genuine().expired(120)).await.unwrap();
    assert!(matches!(
        refusal(genuine().issued_at(now() + 900)).await,
        Err(AuthError::NotYetValid { .. })
    ));
    assert_eq!(
        refusal(genuine().audience("another-app")).await,
        Err(AuthError::WrongAudience(vec!["another-app".into()]))
    );
    assert_eq!(
        refusal(genuine().issuer("https://sts.windows.net/evil/")).await,
        Err(AuthError::WrongIssuer(Some(
            "https://sts.windows.net/evil/".into()
        )))
    );
    assert_eq!(
        refusal(genuine().service_url(Some("https://smba.trafficmanager.net/emea/"))).await,
        Err(AuthError::ServiceUrlMismatch {
            claimed: "https://smba.trafficmanager.net/emea/".into(),
            activity: service.clone(),
        })
    );
    assert_eq!(
        refusal(genuine().service_url(None)).await,
        Err(AuthError::MissingServiceUrl)
    );
    let unendorsed = refusal(genuine().key(TokenKey::Unendorsed))
        .await
        .unwrap_err();
    assert!(matches!(unendorsed, AuthError::EndorsementMissing { .. }));
    assert_eq!(unendorsed.failure(), AuthFailure::Forbidden);

    // A genuine token, but the activity claims a channel the key is not endorsed for.
    let token = teams.sign(&genuine());
    assert!(matches!(
        verify(&auth, &token, &service, "webchat", now()).await,
        Err(AuthError::EndorsementMissing { .. })
    ));
    // A genuine token replayed with an activity that names another service URL.
    assert!(matches!(
        verify(&auth, &token, "https://evil.example/", "msteams", now()).await,
        Err(AuthError::ServiceUrlMismatch { .. })
    ));
    // No header, or not a bearer token, or garbage.
    assert_eq!(
        auth.verify_at(None, &service, "msteams", now()).await,
        Err(AuthError::MissingHeader)
    );
    assert_eq!(
        auth.verify_at(Some("Basic abc"), &service, "msteams", now())
            .await,
        Err(AuthError::NotBearer)
    );
    assert!(matches!(
        verify(&auth, "not.a.jwt", &service, "msteams", now()).await,
        Err(AuthError::Malformed(_))
    ));
}

#[tokio::test]
async fn an_unknown_key_id_fetches_the_keys_again_at_most_once_a_minute() {
    let teams = FakeTeams::start().await;
    let auth = teams.bot_auth();
    let app = teams.app_id();
    let service = teams.service_url().to_owned();
    let start = now();
    let genuine = teams.sign(&InboundToken::new(&app, &service));
    verify(&auth, &genuine, &service, "msteams", start)
        .await
        .unwrap();
    assert_eq!(teams.key_set_fetches(), 1);

    // Bot Framework rolls its keys: a token signed with the new key triggers one refresh.
    teams.rotate_keys();
    let rotated = teams.sign(&InboundToken::new(&app, &service).key(TokenKey::Rotated));
    verify(&auth, &rotated, &service, "msteams", start + 61)
        .await
        .unwrap();
    assert_eq!(teams.key_set_fetches(), 2);

    // A kid nobody serves: refused, and within the minute without asking again.
    let unknown =
        teams.sign(&InboundToken::new(&app, &service).key(TokenKey::UnknownKid("nobody".into())));
    for _ in 0..3 {
        assert_eq!(
            verify(&auth, &unknown, &service, "msteams", start + 90).await,
            Err(AuthError::UnknownKey("nobody".into()))
        );
    }
    assert_eq!(teams.key_set_fetches(), 2);
    // A minute later, one more refresh, still refused.
    assert_eq!(
        verify(&auth, &unknown, &service, "msteams", start + 125).await,
        Err(AuthError::UnknownKey("nobody".into()))
    );
    assert_eq!(teams.key_set_fetches(), 3);

    // Known keys are fetched again after a day even when nothing is unknown.
    let fresh = teams.sign(&InboundToken::new(&app, &service).issued_at(start + 86_600));
    verify(&auth, &fresh, &service, "msteams", start + 86_600)
        .await
        .unwrap();
    assert_eq!(teams.key_set_fetches(), 4);
}

#[tokio::test]
async fn unreachable_metadata_is_unavailable_not_unauthenticated() {
    let teams = FakeTeams::start().await;
    let config = teams
        .auth_config()
        .with_openid_metadata_url(format!("{}nothing-here", teams.service_url()));
    let auth = BotAuth::new(config, reqwest::Client::new()).unwrap();
    let token = teams.sign_inbound(&teams.app_id(), teams.service_url(), "msteams", HOUR);
    let error = verify(&auth, &token, teams.service_url(), "msteams", now())
        .await
        .unwrap_err();
    assert!(matches!(error, AuthError::KeysUnavailable(_)), "{error:?}");
    assert_eq!(error.failure(), AuthFailure::Unavailable);
}

#[tokio::test]
async fn the_token_client_caches_shares_and_refreshes_its_token() {
    let teams = FakeTeams::start().await;
    let tokens = teams.token_client();
    let first = tokens.access_token().await.unwrap();
    let second = tokens.access_token().await.unwrap();
    use secrecy::ExposeSecret;
    assert_eq!(first.expose_secret(), second.expose_secret());
    assert_eq!(teams.tokens_issued(), 1);

    // Concurrent callers after an invalidation share one refresh.
    tokens.invalidate().await;
    let calls = (0..8).map(|_| {
        let tokens = tokens.clone();
        tokio::spawn(async move { tokens.access_token().await })
    });
    for call in calls {
        call.await.unwrap().unwrap();
    }
    assert_eq!(teams.tokens_issued(), 2);
    assert_eq!(tokens.fetched(), 2);

    // A token that expires within the refresh margin is fetched again on every call.
    teams.set_token_lifetime(60);
    tokens.invalidate().await;
    tokens.access_token().await.unwrap();
    tokens.access_token().await.unwrap();
    assert_eq!(teams.tokens_issued(), 4);
    let with_small_margin = Arc::new(
        TokenClient::new(teams.token_config(), reqwest::Client::new())
            .with_refresh_margin(Duration::from_secs(10)),
    );
    with_small_margin.access_token().await.unwrap();
    with_small_margin.access_token().await.unwrap();
    assert_eq!(teams.tokens_issued(), 5);
}

#[tokio::test]
async fn a_wrong_secret_is_refused_permanently_and_never_shown() {
    let teams = FakeTeams::start().await;
    let mut config = teams.token_config();
    config.app_secret = "wrong-secret-value".to_owned().into();
    let tokens = TokenClient::new(config, reqwest::Client::new());
    let error = tokens.access_token().await.unwrap_err();
    assert!(
        matches!(&error, TokenError::Refused { status: 401, code, .. } if code == "invalid_client"),
        "{error:?}"
    );
    assert!(!format!("{error} {error:?} {tokens:?}").contains("wrong-secret-value"));
    assert!(matches!(
        DeliveryError::from(ConnectorError::from(error)),
        DeliveryError::Permanent(_)
    ));
    assert_eq!(teams.tokens_issued(), 0);
}

#[tokio::test]
async fn the_connector_creates_sends_replies_updates_and_deletes() {
    let teams = FakeTeams::start().await;
    let connector = teams.connector();
    let service = teams.service_url();

    // Proactive: a 1:1 chat only for someone who installed the app.
    let stranger = teams.personal_conversation("29:bob", "t-1");
    let error = connector
        .create_conversation(service, &stranger)
        .await
        .unwrap_err();
    assert!(
        matches!(error, ConnectorError::Rejected { status: 403, .. }),
        "{error:?}"
    );
    assert!(matches!(
        DeliveryError::from(error),
        DeliveryError::Permanent(_)
    ));
    teams.install_app("29:alice", "t-1");
    let parameters = teams.personal_conversation("29:alice", "t-1");
    let created = connector
        .create_conversation(service, &parameters)
        .await
        .unwrap();
    let again = connector
        .create_conversation(service, &parameters)
        .await
        .unwrap();
    assert_eq!(created.id, again.id, "the same person gets the same chat");

    let card = json!({ "type": "message", "text": "Request 42 waits for you" });
    let sent = connector
        .send_to_conversation(service, &created.id, &card)
        .await
        .unwrap();
    let updated_card = json!({ "type": "message", "text": "Request 42 approved" });
    let updated = connector
        .update_activity(service, &created.id, &sent.id, &updated_card)
        .await
        .unwrap();
    assert_eq!(updated.id, sent.id);
    let activities = teams.activities(&created.id);
    assert_eq!(activities.len(), 1);
    assert_eq!(activities[0].body, updated_card);
    assert_eq!(activities[0].updates, 1);

    // A channel thread: the id carries `:`, `@`, `;` and `=`, and must arrive as one segment.
    let channel = "19:abc@thread.tacv2;messageid=1700000000000";
    teams.add_conversation(channel, Some("t-1"));
    let root = connector
        .send_to_conversation(
            service,
            channel,
            &json!({ "type": "message", "text": "root" }),
        )
        .await
        .unwrap();
    connector
        .reply_to_activity(
            service,
            channel,
            &root.id,
            &json!({ "type": "message", "text": "reply" }),
        )
        .await
        .unwrap();
    let thread = teams.activities(channel);
    assert_eq!(thread.len(), 2);
    assert_eq!(thread[1].reply_to.as_deref(), Some(root.id.as_str()));
    connector
        .delete_activity(service, channel, &thread[1].id)
        .await
        .unwrap();
    assert!(teams.activities(channel)[1].deleted);

    // Unknown conversations and activities are the call's fault: permanent.
    let missing = connector
        .send_to_conversation(service, "a:nobody", &card)
        .await
        .unwrap_err();
    assert!(matches!(
        missing,
        ConnectorError::Rejected { status: 404, ref code, .. } if code == "ConversationNotFound"
    ));
    // Every call above used one cached token.
    assert_eq!(teams.tokens_issued(), 1);
}

#[tokio::test]
async fn the_connector_sends_nothing_to_hosts_that_are_not_allowed() {
    let teams = FakeTeams::start().await;
    let card = json!({ "type": "message", "text": "hi" });
    // Bot Framework's defaults do not include loopback: the fake's own URL is refused.
    let defaults = BotConnector::new(
        teams.token_client(),
        AllowedHosts::default(),
        reqwest::Client::new(),
    );
    let error = defaults
        .send_to_conversation(teams.service_url(), "a:1", &card)
        .await
        .unwrap_err();
    assert!(
        matches!(error, ConnectorError::HostNotAllowed { .. }),
        "{error:?}"
    );
    assert!(matches!(
        DeliveryError::from(error),
        DeliveryError::Permanent(_)
    ));
    let connector = teams.connector();
    for foreign in [
        "https://evil.example/teams/",
        "https://smba.trafficmanager.net.evil.example/emea/",
        "http://localhost.evil.example/",
    ] {
        let error = connector
            .send_to_conversation(foreign, "a:1", &card)
            .await
            .unwrap_err();
        assert!(
            matches!(
                error,
                ConnectorError::HostNotAllowed { .. } | ConnectorError::InvalidServiceUrl { .. }
            ),
            "{foreign}: {error:?}"
        );
    }
    // Refused before a token was even fetched.
    assert_eq!(teams.tokens_issued(), 0);
    assert!(teams.calls().is_empty());
}

#[tokio::test]
async fn rate_limits_defer_and_failures_retry() {
    let teams = FakeTeams::start().await;
    let connector = teams.connector();
    let service = teams.service_url();
    teams.add_conversation("a:1", Some("t-1"));
    let card = json!({ "type": "message", "text": "hi" });

    teams.rate_limit_next(7);
    let limited = connector
        .send_to_conversation(service, "a:1", &card)
        .await
        .unwrap_err();
    assert!(matches!(
        limited,
        ConnectorError::RateLimited { retry_after, .. } if retry_after == Duration::from_secs(7)
    ));
    assert!(matches!(
        DeliveryError::from(limited),
        DeliveryError::Deferred { after, .. } if after == Duration::from_secs(7)
    ));

    teams.fail_next(InjectedFailure::Status(503));
    let down = connector
        .send_to_conversation(service, "a:1", &card)
        .await
        .unwrap_err();
    assert!(matches!(
        DeliveryError::from(down),
        DeliveryError::Retry { .. }
    ));
    assert!(teams.activities("a:1").is_empty());

    // A revoked token: 401, the cached token is dropped, and the retry fetches a new one.
    teams.revoke_tokens();
    let refused = connector
        .send_to_conversation(service, "a:1", &card)
        .await
        .unwrap_err();
    assert!(matches!(refused, ConnectorError::Unauthorized { .. }));
    assert!(matches!(
        DeliveryError::from(refused),
        DeliveryError::Retry { .. }
    ));
    connector
        .send_to_conversation(service, "a:1", &card)
        .await
        .unwrap();
    assert_eq!(teams.tokens_issued(), 2);
    assert_eq!(teams.activities("a:1").len(), 1);

    // Over the Connector's size limit: permanent.
    let huge = json!({ "type": "message", "text": "x".repeat(120 * 1024) });
    let too_large = connector
        .send_to_conversation(service, "a:1", &huge)
        .await
        .unwrap_err();
    assert!(matches!(
        too_large,
        ConnectorError::Rejected { status: 413, .. }
    ));
}
