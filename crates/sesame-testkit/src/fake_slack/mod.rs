//! A fake Slack Web API for tests: it checks what Slack checks (the token, required arguments,
//! Block Kit limits, trigger ids, that a message exists before it is updated), keeps what Slack
//! would keep (messages, threads, views, Home tabs), records every call, and fails on request
//! (429s, Slack errors, dead gateways, late answers).
//!
//! ```no_run
//! # async fn example() {
//! use sesame_testkit::fake_slack::FakeSlack;
//! let slack = FakeSlack::start().await;
//! slack.add_user("U1", Some("alice@example.test"), "Alice");
//! slack.add_channel("C1");
//! let api = slack.client();
//! let posted = api.chat_post_message("C1", "hello", &[], None, None).await.unwrap();
//! assert_eq!(slack.message("C1", &posted.ts).unwrap().text, "hello");
//! # }
//! ```
//!
//! Methods it does not model answer `unknown_method`. Where Slack is lenient or its behaviour is
//! not documented, the fake is strict, so that a test fails rather than passes by luck:
//! - a `thread_ts` must name a top-level message the fake holds (`thread_not_found` otherwise);
//! - `text` over 40,000 characters is `msg_too_long` (Slack documents that error, but its
//!   changelog says it now truncates instead);
//! - `views.publish` for an unknown user is `user_not_found`.
//!
//! Socket Mode (`apps.connections.open` and the WebSocket behind it) is in `socket.rs`; turn it on
//! with [`FakeSlack::enable_socket_mode`].

mod args;
mod block_kit;
mod methods;
mod model;
mod server;
mod signing;
mod socket;
mod state;

pub use methods::identity;
pub use model::{FakeEphemeral, FakeMessage, FakeUser, FakeView, InjectedFailure, RecordedCall};
pub use signing::{sign_request, sign_request_at};
pub use socket::{FakeSocketAck, FakeSocketStatus};

use secrecy::SecretString;
use sesame_slack::api::SlackApi;
use state::{Channel, FakeState, Shared};
use std::sync::Arc;
use std::time::Duration;

/// The bot token a fake accepts unless told otherwise.
pub const DEFAULT_BOT_TOKEN: &str = "xoxb-fake-0000000000-sesame";

/// A running fake; it stops when dropped.
pub struct FakeSlack {
    shared: Arc<Shared>,
    base_url: String,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for FakeSlack {
    fn drop(&mut self) {
        self.server.abort();
        self.shared.lock().socket.shut_down();
    }
}

impl FakeSlack {
    /// Starts on a free port with [`DEFAULT_BOT_TOKEN`].
    pub async fn start() -> FakeSlack {
        FakeSlack::start_with_token(DEFAULT_BOT_TOKEN).await
    }

    pub async fn start_with_token(bot_token: &str) -> FakeSlack {
        let shared = Arc::new(Shared::new(FakeState::new(bot_token)));
        // Binding before serving means the URL works as soon as this returns: no sleeps.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a free port on 127.0.0.1");
        let port = listener
            .local_addr()
            .expect("a bound listener has an address")
            .port();
        let app = server::router(shared.clone());
        let server = tokio::spawn(async move {
            // The server runs until the fake is dropped; an I/O error ends it, and the next call
            // then fails in the test that made it.
            let _ = axum::serve(listener, app).await;
        });
        FakeSlack {
            shared,
            base_url: format!("http://127.0.0.1:{port}/api/"),
            server,
        }
    }

    /// `http://127.0.0.1:PORT/api/`, for Sesame's Slack base-URL setting.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    pub fn bot_token(&self) -> String {
        self.shared.lock().bot_token.clone()
    }

    /// A Web API client pointed at this fake with its token.
    pub fn client(&self) -> SlackApi {
        SlackApi::new(
            &self.base_url,
            SecretString::from(self.bot_token()),
            reqwest::Client::new(),
        )
        .expect("the fake's base URL is a valid http URL")
    }

    // The workspace.

    /// Opens (or finds) the direct message between a person and the app, as Slack does when the
    /// person writes to the app; returns its id (`D` followed by the user id).
    pub fn open_dm(&self, user: &str) -> String {
        self.shared.lock().dm_channel(user)
    }

    /// Adds a person. `email` is `None` for accounts without one (some guests, some bots).
    pub fn add_user(&self, id: &str, email: Option<&str>, real_name: &str) {
        let name = real_name.to_lowercase().replace(' ', ".");
        self.shared.lock().users.insert(
            id.to_owned(),
            FakeUser {
                id: id.to_owned(),
                name,
                real_name: real_name.to_owned(),
                email: email.map(str::to_owned),
                deleted: false,
                is_bot: false,
            },
        );
    }

    /// Adds a bot user (which `conversations.open` refuses to DM).
    pub fn add_bot_user(&self, id: &str, name: &str) {
        self.shared.lock().users.insert(
            id.to_owned(),
            FakeUser {
                id: id.to_owned(),
                name: name.to_owned(),
                real_name: name.to_owned(),
                email: None,
                deleted: false,
                is_bot: true,
            },
        );
    }

    /// Marks a person deactivated: still visible with `deleted: true`, but not reachable.
    pub fn deactivate_user(&self, id: &str) {
        if let Some(user) = self.shared.lock().users.get_mut(id) {
            user.deleted = true;
        }
    }

    /// Answers as if the app lacked `users:read.email`: profiles have no email and
    /// `users.lookupByEmail` fails with `missing_scope`.
    pub fn hide_emails(&self) {
        self.shared.lock().emails_visible = false;
    }

    /// Adds a channel the bot is a member of.
    pub fn add_channel(&self, id: &str) {
        self.shared.lock().channels.insert(
            id.to_owned(),
            Channel {
                archived: false,
                bot_is_member: true,
            },
        );
    }

    /// Posting to an archived channel fails with `is_archived`.
    pub fn archive_channel(&self, id: &str) {
        let mut state = self.shared.lock();
        state.channels.entry(id.to_owned()).or_default().archived = true;
    }

    /// Posting to a channel the bot is not in fails with `not_in_channel`.
    pub fn remove_bot_from_channel(&self, id: &str) {
        let mut state = self.shared.lock();
        state
            .channels
            .entry(id.to_owned())
            .or_default()
            .bot_is_member = false;
    }

    // Time and trigger ids.

    /// A fresh trigger id, as Slack puts in an interaction payload; `views.open` accepts it once,
    /// within the trigger lifetime (three seconds, like Slack, unless changed).
    pub fn trigger_id(&self) -> String {
        self.shared.lock().issue_trigger()
    }

    pub fn set_trigger_lifetime(&self, lifetime: Duration) {
        self.shared.lock().trigger_lifetime = lifetime;
    }

    /// Moves the fake's clock forward: trigger ids age and the per-channel post window passes
    /// without the test sleeping. New message timestamps move forward too.
    pub fn advance_clock(&self, by: Duration) {
        let mut state = self.shared.lock();
        state.clock_offset = state.clock_offset.saturating_add(by);
    }

    // Failures.

    /// The next `times` calls of `method` fail this way (after the token check), in order with
    /// any failures queued before.
    pub fn fail_next(&self, method: &str, times: usize, failure: InjectedFailure) {
        let mut state = self.shared.lock();
        let queue = state.injected.entry(method.to_owned()).or_default();
        queue.extend(std::iter::repeat_n(failure, times));
    }

    /// The next `times` calls of `method` answer HTTP 429 with `Retry-After: retry_after_secs`.
    pub fn rate_limit_next(&self, method: &str, times: usize, retry_after_secs: u64) {
        self.fail_next(
            method,
            times,
            InjectedFailure::RateLimited { retry_after_secs },
        );
    }

    /// Enforces Slack's one `chat.postMessage` per second per channel (429, `Retry-After: 1`).
    /// Off by default so tests stay fast; see [`FakeSlack::advance_clock`].
    pub fn enforce_post_message_rate(&self, enforce: bool) {
        self.shared.lock().post_rate_enforced = enforce;
    }

    // Inspection.

    /// Every call so far, in arrival order.
    pub fn calls(&self) -> Vec<RecordedCall> {
        self.shared.lock().calls.clone()
    }

    /// The calls of one method, in arrival order.
    pub fn calls_to(&self, method: &str) -> Vec<RecordedCall> {
        let state = self.shared.lock();
        state
            .calls
            .iter()
            .filter(|call| call.method == method)
            .cloned()
            .collect()
    }

    /// The channel's top-level messages, oldest first, as they are now (after updates).
    pub fn messages_in(&self, channel: &str) -> Vec<FakeMessage> {
        let state = self.shared.lock();
        let messages = state
            .messages
            .get(channel)
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        messages
            .iter()
            .filter(|message| message.thread_ts.is_none())
            .cloned()
            .collect()
    }

    /// One message (top-level or reply) as it is now.
    pub fn message(&self, channel: &str, ts: &str) -> Option<FakeMessage> {
        self.shared.lock().message(channel, ts).cloned()
    }

    /// The replies in the thread under `parent_ts`, oldest first.
    pub fn thread(&self, channel: &str, parent_ts: &str) -> Vec<FakeMessage> {
        let state = self.shared.lock();
        let messages = state
            .messages
            .get(channel)
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        messages
            .iter()
            .filter(|message| message.thread_ts.as_deref() == Some(parent_ts))
            .cloned()
            .collect()
    }

    /// Every modal and Home tab, by id.
    pub fn views(&self) -> Vec<FakeView> {
        self.shared.lock().views.values().cloned().collect()
    }

    pub fn view(&self, id: &str) -> Option<FakeView> {
        self.shared.lock().views.get(id).cloned()
    }

    pub fn ephemerals(&self) -> Vec<FakeEphemeral> {
        self.shared.lock().ephemerals.clone()
    }

    /// The Home tab last published for `user`.
    pub fn published_home(&self, user: &str) -> Option<FakeView> {
        let state = self.shared.lock();
        state
            .views
            .values()
            .find(|view| view.home_of.as_deref() == Some(user))
            .cloned()
    }

    /// Forgets calls, messages, ephemerals, views, trigger ids and queued failures; keeps the
    /// people, channels, token and settings.
    pub fn clear(&self) {
        self.shared.lock().clear();
    }
}

impl std::fmt::Debug for FakeSlack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeSlack")
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}
