//! A fake Microsoft Teams for tests, playing the three services a bot talks to, on one port:
//! - Bot Framework's OpenID metadata and signing keys (`/v1/.well-known/...`), with its own RSA keys
//!   and their `endorsements`; it signs inbound tokens ([`FakeTeams::sign_inbound`]) and forges
//!   them ([`FakeTeams::sign`] with an [`InboundToken`] changed in one way);
//! - the token endpoint (`/botframework.com/oauth2/v2.0/token`): client credentials, checking the
//!   app id, secret and scope, counting the tokens it issues;
//! - the Bot Connector at the service URL `http://127.0.0.1:PORT/teams/`: it accepts only tokens it
//!   issued, creates 1:1 conversations for people who installed the app, records activities per
//!   conversation (sent, replied, updated, deleted), refuses activities over 100 KB, and fails on
//!   request (429 with `Retry-After`, any status); it answers `GET .../members/{id}` with each
//!   person's email and Entra object id, refuses messages over Teams' 28 KB, and writes every
//!   card it sees to `$SESAME_TEAMS_CARD_DIR` for the Adaptive Cards check (`cards`);
//! - and Teams itself towards Sesame (`driver`): people with the app installed, and the
//!   activities Teams posts to `/teams/messages`, signed.
//!
//! ```no_run
//! # async fn example() {
//! use sesame_testkit::fake_teams::FakeTeams;
//! let teams = FakeTeams::start().await;
//! teams.install_app("29:alice", "tenant-1");
//! let connector = teams.connector();
//! let parameters = teams.personal_conversation("29:alice", "tenant-1");
//! let created = connector.create_conversation(teams.service_url(), &parameters).await.unwrap();
//! let activity = serde_json::json!({ "type": "message", "text": "hello" });
//! connector.send_to_conversation(teams.service_url(), &created.id, &activity).await.unwrap();
//! assert_eq!(teams.activities(&created.id)[0].body["text"], "hello");
//! # }
//! ```

pub mod cards;
mod driver;
mod inbound;
mod keys;
mod login;
mod members;
mod server;
mod state;

pub use driver::{Answer, TeamsUser, TENANT};
pub use inbound::{InboundToken, TokenKey};
/// The adapter the fake plays against, for tests that name its types.
pub use sesame_teams;
pub use state::{FakeActivity, FakeConversation, InjectedFailure, RecordedCall};

use login::{PRIMARY_KID, ROTATED_KID, UNENDORSED_KID};
use secrecy::SecretString;
use sesame_teams::{
    AllowedHosts, BotAuth, BotAuthConfig, BotConnector, ConversationParameters, TokenClient,
    TokenConfig,
};
use state::{FakeConversation as Conversation, FakeState, Shared};
use std::sync::Arc;
use std::time::Duration;

/// The app id and secret a fake accepts unless told otherwise.
pub const DEFAULT_APP_ID: &str = "00000000-0000-4000-8000-00000000fa4e";
pub const DEFAULT_APP_SECRET: &str = "fake-teams-app-secret";

/// A running fake; it stops when dropped.
pub struct FakeTeams {
    shared: Arc<Shared>,
    base_url: String,
    service_url: String,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for FakeTeams {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl FakeTeams {
    /// Starts on a free port with [`DEFAULT_APP_ID`] and [`DEFAULT_APP_SECRET`].
    pub async fn start() -> FakeTeams {
        FakeTeams::start_with(DEFAULT_APP_ID, DEFAULT_APP_SECRET).await
    }

    pub async fn start_with(app_id: &str, app_secret: &str) -> FakeTeams {
        // Generating the keys can take a moment in debug builds; do it off the async threads.
        tokio::task::spawn_blocking(|| (keys::primary(), keys::secondary()))
            .await
            .expect("RSA key generation");
        // Binding before serving means the URLs work as soon as this returns: no sleeps.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a free port on 127.0.0.1");
        let port = listener
            .local_addr()
            .expect("a bound listener has an address")
            .port();
        let base_url = format!("http://127.0.0.1:{port}/");
        let shared = Arc::new(Shared::new(FakeState::new(&base_url, app_id, app_secret)));
        let app = server::router(shared.clone());
        let server = tokio::spawn(async move {
            // The server runs until the fake is dropped; an I/O error ends it, and the next call
            // then fails in the test that made it.
            let _ = axum::serve(listener, app).await;
        });
        FakeTeams {
            shared,
            service_url: format!("{base_url}teams/"),
            base_url,
            server,
        }
    }

    // Addresses and credentials.

    /// The Bot Connector's service URL, `http://127.0.0.1:PORT/teams/`, as activities carry it.
    pub fn service_url(&self) -> &str {
        &self.service_url
    }

    pub fn openid_metadata_url(&self) -> String {
        format!("{}{}", self.base_url, login::METADATA_PATH)
    }

    pub fn token_url(&self) -> String {
        format!("{}{}", self.base_url, login::TOKEN_PATH)
    }

    pub fn app_id(&self) -> String {
        self.shared.lock().app_id.clone()
    }

    /// The bot's account id in conversations, `28:<app id>`.
    pub fn bot_id(&self) -> String {
        format!("28:{}", self.app_id())
    }

    // Clients pointed at this fake.

    pub fn auth_config(&self) -> BotAuthConfig {
        BotAuthConfig::new(self.app_id()).with_openid_metadata_url(self.openid_metadata_url())
    }

    pub fn bot_auth(&self) -> BotAuth {
        BotAuth::new(self.auth_config(), reqwest::Client::new())
            .expect("the fake's authentication settings are valid")
    }

    pub fn token_config(&self) -> TokenConfig {
        let secret = self.shared.lock().app_secret.clone();
        TokenConfig::new(self.app_id(), SecretString::from(secret)).with_token_url(self.token_url())
    }

    pub fn token_client(&self) -> Arc<TokenClient> {
        Arc::new(TokenClient::new(
            self.token_config(),
            reqwest::Client::new(),
        ))
    }

    /// Loopback only: the fake's host, and nothing of Bot Framework's.
    pub fn allowed_hosts(&self) -> AllowedHosts {
        AllowedHosts::new(["127.0.0.1"]).expect("a valid host")
    }

    /// A connector with its own token client.
    pub fn connector(&self) -> BotConnector {
        BotConnector::new(
            self.token_client(),
            self.allowed_hosts(),
            reqwest::Client::new(),
        )
    }

    /// The parameters of a 1:1 chat between this fake's bot and `user_id`.
    pub fn personal_conversation(&self, user_id: &str, tenant_id: &str) -> ConversationParameters {
        ConversationParameters::personal(&self.bot_id(), user_id, tenant_id)
    }

    // Inbound tokens.

    /// A genuine inbound token for `app_id` and `service_url`, valid for `ttl`, signed with a key
    /// endorsed for `channel_id` (the fake endorses its key for every channel it signs for).
    pub fn sign_inbound(
        &self,
        app_id: &str,
        service_url: &str,
        channel_id: &str,
        ttl: Duration,
    ) -> String {
        {
            let mut state = self.shared.lock();
            if !state.endorsements.iter().any(|e| e == channel_id) {
                state.endorsements.push(channel_id.to_owned());
            }
        }
        let lifetime = i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX);
        self.sign(&InboundToken::new(app_id, service_url).lifetime(lifetime))
    }

    /// Signs a token as it says, forged or not.
    pub fn sign(&self, token: &InboundToken) -> String {
        let claims = token.claims();
        match &token.key {
            TokenKey::Served => keys::sign_jwt(keys::primary(), PRIMARY_KID, &claims),
            TokenKey::Forged => keys::sign_jwt(keys::secondary(), PRIMARY_KID, &claims),
            TokenKey::Unendorsed => keys::sign_jwt(keys::primary(), UNENDORSED_KID, &claims),
            TokenKey::Rotated => keys::sign_jwt(keys::secondary(), ROTATED_KID, &claims),
            TokenKey::UnknownKid(kid) => keys::sign_jwt(keys::primary(), kid, &claims),
        }
    }

    /// The channels the served key is endorsed for (`msteams` at start).
    pub fn set_endorsements(&self, channels: &[&str]) {
        self.shared.lock().endorsements = channels.iter().map(|c| (*c).to_owned()).collect();
    }

    /// Starts serving a second key ([`TokenKey::Rotated`]), as Bot Framework does when it rolls
    /// its keys.
    pub fn rotate_keys(&self) {
        self.shared.lock().rotated = true;
    }

    /// How many times the key set was fetched.
    pub fn key_set_fetches(&self) -> u64 {
        self.shared.lock().jwks_fetches
    }

    pub fn metadata_fetches(&self) -> u64 {
        self.shared.lock().metadata_fetches
    }

    // The token endpoint.

    /// How many tokens the token endpoint issued.
    pub fn tokens_issued(&self) -> u64 {
        self.shared.lock().tokens_issued
    }

    /// The `expires_in` of tokens issued from now on (3599 seconds at start).
    pub fn set_token_lifetime(&self, seconds: u64) {
        self.shared.lock().token_lifetime_secs = seconds;
    }

    /// Makes every token issued so far unusable at the Connector, as a revoked app's would be.
    pub fn revoke_tokens(&self) {
        self.shared.lock().issued_tokens.clear();
    }

    // The Bot Connector.

    /// Records that `user_id` installed the app in `tenant_id`, so a 1:1 chat can be created.
    pub fn install_app(&self, user_id: &str, tenant_id: &str) {
        self.shared
            .lock()
            .installed
            .insert(user_id.to_owned(), tenant_id.to_owned());
    }

    /// Adds a conversation the bot is in (a channel, or a chat the person started).
    pub fn add_conversation(&self, id: &str, tenant_id: Option<&str>) {
        self.shared.lock().conversations.insert(
            id.to_owned(),
            Conversation {
                id: id.to_owned(),
                tenant_id: tenant_id.map(str::to_owned),
                member: None,
            },
        );
    }

    pub fn conversations(&self) -> Vec<FakeConversation> {
        self.shared.lock().conversations.values().cloned().collect()
    }

    /// A conversation's activities in posting order, deleted ones included (marked).
    pub fn activities(&self, conversation_id: &str) -> Vec<FakeActivity> {
        self.shared
            .lock()
            .activities
            .get(conversation_id)
            .cloned()
            .unwrap_or_default()
    }

    /// Every Connector and token call, in order.
    pub fn calls(&self) -> Vec<RecordedCall> {
        self.shared.lock().calls.clone()
    }

    /// The next Connector call fails this way (queued: call it again for more).
    pub fn fail_next(&self, failure: InjectedFailure) {
        self.shared.lock().injected.push_back(failure);
    }

    /// The next Connector call answers 429 with this `Retry-After`.
    pub fn rate_limit_next(&self, retry_after_secs: u64) {
        self.fail_next(InjectedFailure::RateLimited { retry_after_secs });
    }
}
