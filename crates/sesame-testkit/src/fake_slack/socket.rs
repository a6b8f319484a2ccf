//! Socket Mode in the fake: `apps.connections.open` with the app-level token hands out a
//! `ws://127.0.0.1:PORT/link/?ticket=…` URL (one connection per ticket, like Slack's), the
//! connection gets `hello`, and the test sends envelopes, `disconnect` frames and pings, drops
//! connections, and waits for acknowledgements.
//!
//! ```no_run
//! # async fn example() {
//! use sesame_testkit::fake_slack::FakeSlack;
//! use std::time::Duration;
//! let slack = FakeSlack::start().await;
//! slack.enable_socket_mode("xapp-1-fake");
//! // ... start sesame_slack::socket::SocketMode against slack.base_url() ...
//! let id = slack.socket_send("slash_commands", serde_json::json!({"command": "/access"}));
//! let answer = slack.socket_ack(&id, Duration::from_secs(5)).await;
//! # }
//! ```

pub(super) mod hub;
mod link;

use super::FakeSlack;
use hub::{LinkCommand, SocketHub};
use serde_json::{json, Value};
use std::time::Duration;

/// An acknowledgement the app sent.
#[derive(Debug, Clone, PartialEq)]
pub struct FakeSocketAck {
    pub envelope_id: String,
    /// The `payload` field, when the app sent one.
    pub payload: Option<Value>,
    /// The connection it came on; connections are numbered from 1 in opening order.
    pub connection: u64,
    /// From writing the envelope to receiving the acknowledgement.
    pub after: Duration,
}

/// Socket Mode as the fake sees it now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeSocketStatus {
    /// Connections open now.
    pub live_connections: usize,
    /// Connections ever opened (each after a successful handshake).
    pub connections_opened: u64,
    pub envelopes_sent: usize,
    /// Frames waiting for a connection.
    pub queued: usize,
    pub acks: usize,
    /// Envelopes whose connection closed before they were acknowledged.
    pub lost: Vec<String>,
    /// What Slack would refuse or ignore: frames that are not acknowledgements, acknowledgements
    /// of unknown envelopes, repeated, late (past three seconds) or on another connection, and
    /// connections without a valid ticket.
    pub protocol_errors: Vec<String>,
    /// Pongs received for [`FakeSlack::socket_ping`].
    pub pongs: u64,
}

impl FakeSlack {
    /// Turns Socket Mode on with this app-level token: `apps.connections.open` accepts it (and
    /// only it, in the `Authorization` header), answers a bot token with
    /// `not_allowed_token_type` and anything else with `invalid_auth`. The WebSocket listener
    /// starts here, so this must run inside a Tokio runtime.
    pub fn enable_socket_mode(&self, app_token: &str) {
        let mut state = self.shared.lock();
        state.socket.app_token = Some(app_token.to_owned());
        if state.socket.port.is_none() {
            let (port, listener) = link::listen(self.shared.clone());
            state.socket.port = Some(port);
            state.socket.listener = Some(listener);
        }
    }

    /// The app-level token, once Socket Mode is on.
    pub fn app_token(&self) -> Option<String> {
        self.shared.lock().socket.app_token.clone()
    }

    /// Sends an envelope of this kind (`events_api`, `slash_commands`, `interactive`, or any other
    /// string) with this payload to the newest connection not asked to disconnect, or queues it
    /// until a connection opens. Returns its `envelope_id`.
    pub fn socket_send(&self, kind: &str, payload: Value) -> String {
        self.shared.lock().socket.send_envelope(kind, payload)
    }

    /// Sends a text frame as is (routed like an envelope), e.g. something malformed.
    pub fn socket_send_raw(&self, frame: &str) {
        self.shared.lock().socket.send_raw(frame.to_owned());
    }

    /// Waits for the acknowledgement of an envelope: its `payload`, or `{}` when it had none.
    /// `None` when none came in time or the envelope was lost with its connection.
    pub async fn socket_ack(&self, envelope_id: &str, timeout: Duration) -> Option<Value> {
        self.wait_for_hub(timeout, |hub| {
            hub.ack_of(envelope_id).is_some() || hub.is_lost(envelope_id)
        })
        .await;
        let state = self.shared.lock();
        let ack = state.socket.ack_of(envelope_id)?;
        Some(ack.payload.clone().unwrap_or_else(|| json!({})))
    }

    /// Every acknowledgement so far, in arrival order.
    pub fn socket_acks(&self) -> Vec<FakeSocketAck> {
        self.shared.lock().socket.acks()
    }

    /// Sends `disconnect` with this reason (`refresh_requested`, `warning`, `link_disabled`) on
    /// every open connection. Like Slack, the fake keeps them open (the app closes them) and
    /// routes new envelopes to a newer connection as soon as there is one.
    pub fn socket_disconnect(&self, reason: &str) {
        self.shared.lock().socket.disconnect_all(reason);
    }

    /// Drops every open connection without a closing handshake, as a broken network path would.
    pub fn socket_drop_connections(&self) {
        self.shared.lock().socket.command_all(|| LinkCommand::Drop);
    }

    /// Pings every open connection; pongs are counted in [`FakeSocketStatus::pongs`].
    pub fn socket_ping(&self) {
        self.shared.lock().socket.command_all(|| LinkCommand::Ping);
    }

    pub fn socket_status(&self) -> FakeSocketStatus {
        self.shared.lock().socket.status()
    }

    /// Waits until `condition` holds for the status (checked at once and after every change);
    /// false if it still does not after `timeout`.
    pub async fn wait_for_socket(
        &self,
        timeout: Duration,
        condition: impl Fn(&FakeSocketStatus) -> bool,
    ) -> bool {
        self.wait_for_hub(timeout, |hub| condition(&hub.status()))
            .await
    }

    async fn wait_for_hub(&self, timeout: Duration, done: impl Fn(&SocketHub) -> bool) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        // Subscribing before looking means no change between the look and the wait is missed.
        let mut changes = self.shared.lock().socket.subscribe();
        loop {
            if done(&self.shared.lock().socket) {
                return true;
            }
            match tokio::time::timeout_at(deadline, changes.changed()).await {
                Ok(Ok(())) => {}
                Ok(Err(_)) | Err(_) => return done(&self.shared.lock().socket),
            }
        }
    }
}
