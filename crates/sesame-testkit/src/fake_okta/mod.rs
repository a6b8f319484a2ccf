//! A fake Okta management API for the `okta` connector's tests, built from Okta's API reference:
//! - `Authorization: SSWS <token>` on every call, else 401 with `E0000011` ("Invalid token
//!   provided");
//! - Okta's error object (`errorCode`, `errorSummary`, `errorLink`, `errorId`, `errorCauses`),
//!   `E0000007` for an unknown user or group;
//! - users by id or login (`GET /api/v1/users/{idOrLogin}`) and by search
//!   (`search=profile.email eq "..."`), groups by id and by search (`profile.name eq "..."`) or
//!   `q`; a user's groups and a group's users, paginated with `limit` and `after` and
//!   `Link: <...>; rel="next"`;
//! - `PUT` and `DELETE /api/v1/groups/{groupId}/users/{userId}` (ids only), 204 whether or not
//!   the membership was there;
//! - the org rate limit: `X-Rate-Limit-Limit`, `-Remaining` and `-Reset` (epoch seconds) on every
//!   answer, 429 with `E0000047` once the window's calls are used up.
//!
//! ```no_run
//! # async fn example() {
//! use sesame_testkit::fake_okta::FakeOkta;
//! let okta = FakeOkta::start().await;
//! let alice = okta.add_user("alice@example.com", "alice@example.com");
//! let vpn = okta.add_group("vpn");
//! // ... point the connector at okta.base_url() with okta.token() ...
//! assert!(okta.members(&vpn).contains(&alice));
//! # }
//! ```

mod server;
mod state;

pub use state::{FakeGroup, FakeUser, RecordedCall};

use state::{FakeState, Shared};
use std::sync::Arc;
use std::time::Duration;

/// The API token a fake accepts unless told otherwise.
pub const DEFAULT_TOKEN: &str = "00fake-okta-api-token-0123456789abcdef";

/// A running fake; it stops when dropped.
pub struct FakeOkta {
    shared: Arc<Shared>,
    base_url: String,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for FakeOkta {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl FakeOkta {
    /// Starts on a free port accepting [`DEFAULT_TOKEN`].
    pub async fn start() -> FakeOkta {
        // Binding before serving means the URL works as soon as this returns.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a free port on 127.0.0.1");
        let port = listener.local_addr().expect("local address").port();
        let base_url = format!("http://127.0.0.1:{port}");
        let shared = Arc::new(Shared::new(FakeState::new(&base_url, DEFAULT_TOKEN)));
        let app = server::router(shared.clone());
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FakeOkta {
            shared,
            base_url,
            server,
        }
    }

    /// The org URL (`http://127.0.0.1:PORT`), the connector's `base_url`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    pub fn token(&self) -> String {
        self.shared.lock().token.clone()
    }

    /// Adds an active user; returns its id.
    pub fn add_user(&self, login: &str, email: &str) -> String {
        let mut state = self.shared.lock();
        let id = state.new_id("00u");
        state.users.insert(
            id.clone(),
            FakeUser {
                id: id.clone(),
                login: login.to_owned(),
                email: email.to_owned(),
            },
        );
        id
    }

    /// Adds an `OKTA_GROUP`; returns its id.
    pub fn add_group(&self, name: &str) -> String {
        let mut state = self.shared.lock();
        let id = state.new_id("00g");
        state.groups.insert(
            id.clone(),
            FakeGroup {
                id: id.clone(),
                name: name.to_owned(),
            },
        );
        state.members.insert(id.clone(), Default::default());
        id
    }

    /// Puts a user in a group directly, as an administrator would in Okta's console.
    pub fn add_member(&self, group_id: &str, user_id: &str) {
        self.shared
            .lock()
            .members
            .entry(group_id.to_owned())
            .or_default()
            .insert(user_id.to_owned());
    }

    /// The ids of a group's members.
    pub fn members(&self, group_id: &str) -> Vec<String> {
        self.shared
            .lock()
            .members
            .get(group_id)
            .map(|m| m.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// The largest page the fake sends (Okta's own limits are 200 to 1000 by endpoint).
    pub fn set_page_size(&self, size: usize) {
        self.shared.lock().page_size = size.max(1);
    }

    /// `limit` calls per `window`, starting a new window now.
    pub fn set_rate_limit(&self, limit: u64, window: Duration) {
        let mut state = self.shared.lock();
        state.rate.limit = limit;
        state.rate.window = window;
        state.rate.used = 0;
        state.rate.resets_at = None;
    }

    /// The next call (after authentication and the rate limit) answers with `status` and an
    /// Okta error body instead of doing its work.
    pub fn fail_next(&self, status: u16) {
        self.shared.lock().injected.push_back(status);
    }

    /// Every call answered so far, in order.
    pub fn calls(&self) -> Vec<RecordedCall> {
        self.shared.lock().calls.clone()
    }
}
