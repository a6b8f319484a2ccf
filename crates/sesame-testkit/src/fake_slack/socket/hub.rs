//! The fake's Socket Mode state: the app-level token, the tickets `apps.connections.open` handed
//! out, the open connections, every envelope sent and every acknowledgement received.
//!
//! Routing follows what Slack documents and what its SDKs expect: an envelope goes to the newest
//! connection that was not asked to disconnect (else the newest at all, since Slack keeps using a
//! refreshed connection until its successor is up), and waits in a queue while there is none.
//! Where Slack is vague the fake is strict: an envelope whose connection closes before its
//! acknowledgement is lost (Slack retries some events later; a test should not rely on that), and
//! an acknowledgement later than Slack's three seconds is noted as a protocol error.

use super::{FakeSocketAck, FakeSocketStatus};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, watch};

/// Slack's deadline for acknowledging an envelope.
pub(in crate::fake_slack) const ACK_DEADLINE: Duration = Duration::from_secs(3);

/// What a connection's task is told to do.
#[derive(Debug)]
pub(in crate::fake_slack) enum LinkCommand {
    /// Send this text frame.
    Send(String),
    /// Send a WebSocket ping.
    Ping,
    /// Vanish without a closing handshake, as a dropped network path does.
    Drop,
}

#[derive(Debug)]
struct Link {
    commands: mpsc::UnboundedSender<LinkCommand>,
    /// Sent a `disconnect`: new envelopes go elsewhere once there is elsewhere.
    retiring: bool,
}

#[derive(Debug)]
struct Sent {
    /// The connection it was written to; `None` while queued.
    connection: Option<u64>,
    /// When it was written to a connection.
    written_at: Option<Instant>,
    acked: bool,
}

#[derive(Debug)]
pub(in crate::fake_slack) struct SocketHub {
    pub(in crate::fake_slack) app_token: Option<String>,
    /// The WebSocket listener's port, once socket mode is on.
    pub(in crate::fake_slack) port: Option<u16>,
    pub(in crate::fake_slack) listener: Option<tokio::task::AbortHandle>,
    tickets: HashSet<String>,
    links: BTreeMap<u64, Link>,
    opened: u64,
    /// Frames waiting for a connection: envelope ids (None for raw frames) and their text.
    queue: VecDeque<(Option<String>, String)>,
    sent: HashMap<String, Sent>,
    acks: Vec<FakeSocketAck>,
    lost: Vec<String>,
    protocol_errors: Vec<String>,
    pongs: u64,
    last_id: u64,
    changes: watch::Sender<u64>,
}

impl Default for SocketHub {
    fn default() -> SocketHub {
        SocketHub {
            app_token: None,
            port: None,
            listener: None,
            tickets: HashSet::new(),
            links: BTreeMap::new(),
            opened: 0,
            queue: VecDeque::new(),
            sent: HashMap::new(),
            acks: Vec::new(),
            lost: Vec::new(),
            protocol_errors: Vec::new(),
            pongs: 0,
            last_id: 0,
            changes: watch::channel(0).0,
        }
    }
}

impl SocketHub {
    /// A receiver that wakes after every change; take it before reading the state to wait on.
    pub(in crate::fake_slack) fn subscribe(&self) -> watch::Receiver<u64> {
        self.changes.subscribe()
    }

    fn changed(&self) {
        self.changes.send_modify(|version| *version += 1);
    }

    pub(in crate::fake_slack) fn issue_ticket(&mut self) -> String {
        self.last_id += 1;
        let scrambled = self.last_id.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let ticket = format!("{scrambled:016x}-{:04}", self.last_id);
        self.tickets.insert(ticket.clone());
        ticket
    }

    /// A ticket is good for one connection.
    pub(in crate::fake_slack) fn redeem_ticket(&mut self, ticket: &str) -> bool {
        self.tickets.remove(ticket)
    }

    /// A new connection, after its handshake: `hello` goes out first, then whatever waited for
    /// a connection.
    pub(in crate::fake_slack) fn connect(
        &mut self,
        commands: mpsc::UnboundedSender<LinkCommand>,
    ) -> u64 {
        self.opened += 1;
        let id = self.opened;
        let hello = json!({
            "type": "hello",
            "num_connections": self.links.len() + 1,
            "debug_info": {
                "host": format!("fake-applink-{id}"),
                "build_number": 1,
                "approximate_connection_time": 18060,
            },
            "connection_info": { "app_id": crate::fake_slack::identity::APP_ID },
        });
        // The connection's task reads its commands in order, so `hello` precedes the rest.
        let _ = commands.send(LinkCommand::Send(hello.to_string()));
        self.links.insert(
            id,
            Link {
                commands,
                retiring: false,
            },
        );
        let queued: Vec<_> = self.queue.drain(..).collect();
        for (envelope_id, text) in queued {
            self.write(id, envelope_id, text);
        }
        self.changed();
        id
    }

    pub(in crate::fake_slack) fn protocol_error(&mut self, error: String) {
        self.protocol_errors.push(error);
        self.changed();
    }

    pub(in crate::fake_slack) fn closed(&mut self, id: u64) {
        self.links.remove(&id);
        for (envelope_id, sent) in &self.sent {
            if sent.connection == Some(id) && !sent.acked && !self.lost.contains(envelope_id) {
                self.lost.push(envelope_id.clone());
            }
        }
        self.changed();
    }

    /// Sends an envelope now or when a connection opens; returns its id.
    pub(in crate::fake_slack) fn send_envelope(&mut self, kind: &str, payload: Value) -> String {
        self.last_id += 1;
        let envelope_id = format!("{:08x}-fake-4e00-8000-{:012x}", self.last_id, self.last_id);
        let mut envelope = json!({
            "envelope_id": envelope_id,
            "type": kind,
            "payload": payload,
            "accepts_response_payload": kind != "events_api",
        });
        if kind == "events_api" {
            envelope["retry_attempt"] = 0.into();
            envelope["retry_reason"] = "".into();
        }
        self.sent.insert(
            envelope_id.clone(),
            Sent {
                connection: None,
                written_at: None,
                acked: false,
            },
        );
        self.route(Some(envelope_id.clone()), envelope.to_string());
        envelope_id
    }

    /// Sends any text, as is, the way envelopes are routed.
    pub(in crate::fake_slack) fn send_raw(&mut self, text: String) {
        self.route(None, text);
    }

    fn route(&mut self, envelope_id: Option<String>, text: String) {
        let target = self
            .links
            .iter()
            .rev()
            .find(|(_, link)| !link.retiring)
            .or_else(|| self.links.iter().next_back())
            .map(|(id, _)| *id);
        match target {
            Some(id) => self.write(id, envelope_id, text),
            None => self.queue.push_back((envelope_id, text)),
        }
        self.changed();
    }

    fn write(&mut self, id: u64, envelope_id: Option<String>, text: String) {
        let Some(link) = self.links.get(&id) else {
            self.queue.push_back((envelope_id, text));
            return;
        };
        // A send fails only when the connection's task has ended, and `closed` follows.
        let _ = link.commands.send(LinkCommand::Send(text));
        if let Some(sent) = envelope_id.and_then(|envelope| self.sent.get_mut(&envelope)) {
            sent.connection = Some(id);
            sent.written_at = Some(Instant::now());
        }
    }

    /// Sends `disconnect` on every open connection and stops routing to them.
    pub(in crate::fake_slack) fn disconnect_all(&mut self, reason: &str) {
        let frame = json!({
            "type": "disconnect",
            "reason": reason,
            "debug_info": { "host": "fake-applink" },
        })
        .to_string();
        for link in self.links.values_mut() {
            link.retiring = true;
            let _ = link.commands.send(LinkCommand::Send(frame.clone()));
        }
        self.changed();
    }

    pub(in crate::fake_slack) fn command_all(&mut self, command: fn() -> LinkCommand) {
        for link in self.links.values() {
            let _ = link.commands.send(command());
        }
    }

    /// A text frame from the app: an acknowledgement, or a protocol error.
    pub(in crate::fake_slack) fn receive(&mut self, connection: u64, text: &str) {
        let envelope_id = serde_json::from_str::<Value>(text).ok().and_then(|frame| {
            let id = frame.get("envelope_id")?.as_str()?.to_owned();
            Some((id, frame.get("payload").cloned()))
        });
        let Some((envelope_id, payload)) = envelope_id else {
            self.protocol_errors.push(format!(
                "connection {connection}: not an acknowledgement: {text}"
            ));
            self.changed();
            return;
        };
        match self.sent.get_mut(&envelope_id) {
            None => self.protocol_errors.push(format!(
                "acknowledgement of an unknown envelope {envelope_id}"
            )),
            Some(sent) if sent.acked => self
                .protocol_errors
                .push(format!("second acknowledgement of {envelope_id}")),
            Some(sent) => {
                sent.acked = true;
                let after = sent.written_at.map(|at| at.elapsed()).unwrap_or_default();
                if after > ACK_DEADLINE {
                    self.protocol_errors.push(format!(
                        "{envelope_id} acknowledged after {after:?}, past Slack's 3 seconds"
                    ));
                }
                if sent.connection != Some(connection) {
                    self.protocol_errors.push(format!(
                        "{envelope_id} acknowledged on connection {connection}, sent on {:?}",
                        sent.connection
                    ));
                }
                self.acks.push(FakeSocketAck {
                    envelope_id,
                    payload,
                    connection,
                    after,
                });
            }
        }
        self.changed();
    }

    pub(in crate::fake_slack) fn pong(&mut self) {
        self.pongs += 1;
        self.changed();
    }

    pub(in crate::fake_slack) fn ack_of(&self, envelope_id: &str) -> Option<&FakeSocketAck> {
        self.acks.iter().find(|ack| ack.envelope_id == envelope_id)
    }

    pub(in crate::fake_slack) fn is_lost(&self, envelope_id: &str) -> bool {
        self.lost.iter().any(|lost| lost == envelope_id)
    }

    pub(in crate::fake_slack) fn acks(&self) -> Vec<FakeSocketAck> {
        self.acks.clone()
    }

    pub(in crate::fake_slack) fn status(&self) -> FakeSocketStatus {
        FakeSocketStatus {
            live_connections: self.links.len(),
            connections_opened: self.opened,
            envelopes_sent: self.sent.len(),
            queued: self.queue.len(),
            acks: self.acks.len(),
            lost: self.lost.clone(),
            protocol_errors: self.protocol_errors.clone(),
            pongs: self.pongs,
        }
    }

    /// Forgets envelopes, acknowledgements and errors; keeps the token, tickets and connections.
    pub(in crate::fake_slack) fn clear_records(&mut self) {
        self.sent.clear();
        self.acks.clear();
        self.lost.clear();
        self.protocol_errors.clear();
        self.pongs = 0;
        self.changed();
    }

    /// When the fake stops: the listener and every connection go.
    pub(in crate::fake_slack) fn shut_down(&mut self) {
        if let Some(listener) = self.listener.take() {
            listener.abort();
        }
        self.command_all(|| LinkCommand::Drop);
    }
}
