//! Slack Socket Mode: Slack delivers events, slash commands and interactivity over a WebSocket the
//! app opens, so Sesame needs no public URL.
//!
//! [`SocketMode::run`] asks `apps.connections.open` for a URL (with the app-level `xapp-…` token,
//! never the bot token), connects, waits for `hello`, and hands each envelope to a
//! [`SocketHandler`] in its own task. The acknowledgement (`{"envelope_id": …, "payload": …}`)
//! goes back as soon as the handler answers, or without the answer once the acknowledgement
//! deadline (2.5 s, inside Slack's 3 s) passes, so a slow handler costs its own answer and
//! nothing else.
//!
//! Connections do not last: Slack sends `disconnect` (`refresh_requested`, `warning`) before
//! closing one. The replacement is connected first, and the old connection keeps serving until
//! it has acknowledged everything it took, so nothing falls in between. A connection that drops
//! is replaced with capped exponential backoff; so are rate limits, 5xx answers and network
//! failures of `apps.connections.open`. A refused token (`invalid_auth`,
//! `not_allowed_token_type`, ...) and `link_disabled` (Socket Mode turned off for the app) stop
//! it: retrying cannot help until a person changes a setting. Neither the token nor the
//! WebSocket URL (whose ticket is a credential) is ever logged.

mod backoff;
mod connection;
mod frame;
mod open;

use crate::api::{parse_base_url, InvalidBaseUrl};
use backoff::Backoff;
use connection::{establish, Context, Event, Live, Ws};
use open::{open_url, OpenError};
use reqwest::Url;
use secrecy::SecretString;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};

/// What arrives over Socket Mode: the same payloads Slack would POST over HTTP, already decoded.
#[derive(Debug, Clone, PartialEq)]
pub enum SocketRequest {
    /// `events_api`: the Events API body (an `event_callback`), as JSON. Slack may deliver an
    /// event more than once (after a lost or late acknowledgement): deduplicate on `event_id`.
    Events(serde_json::Value),
    /// `slash_commands`: the slash command's fields as JSON (Socket Mode sends them as a JSON
    /// object).
    SlashCommand(serde_json::Value),
    /// `interactive`: an interactivity payload (block_actions, view_submission, ...).
    Interactive(serde_json::Value),
}

/// What to do with an envelope once handled.
#[derive(Debug, Clone, PartialEq)]
pub enum SocketAnswer {
    /// Acknowledge it; the JSON, if any, goes back as the acknowledgement's `payload` (e.g. a
    /// view_submission's `response_action`, a slash command's ephemeral reply). Slack reads no
    /// payload for Events API envelopes, so one returned for those is dropped.
    Ack(Option<serde_json::Value>),
    /// Leave it unacknowledged: Sesame could not take it in (its database is down, say), so Slack
    /// delivers it again, as it retries an HTTP request that was answered with an error.
    Unacknowledged,
}

#[async_trait::async_trait]
pub trait SocketHandler: Send + Sync + 'static {
    async fn handle(&self, request: SocketRequest) -> SocketAnswer;
}

/// Why Socket Mode stopped for good.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SocketModeError {
    /// `apps.connections.open` refused: a wrong or revoked token, a bot token instead of an
    /// app-level one, a missing `connections:write` scope.
    #[error(
        "Slack refused to open a Socket Mode connection ({code}): check the app-level token \
         (xapp-…, with the connections:write scope) and that Socket Mode is on for the app"
    )]
    Refused { code: String },
    /// Slack turned Socket Mode off for the app while it was connected.
    #[error("Slack disabled Socket Mode for this app (link_disabled)")]
    LinkDisabled,
}

/// How long things may take. The defaults suit Slack; tests shorten them.
#[derive(Debug, Clone, Copy)]
struct Timings {
    /// The handler's answer must be ready by then, or the acknowledgement goes without it.
    ack_deadline: Duration,
    /// For `apps.connections.open`, the WebSocket handshake, and the wait for `hello`, each.
    connect_timeout: Duration,
    /// A ping goes out this often; a connection silent for `idle_timeout` is replaced.
    ping_interval: Duration,
    idle_timeout: Duration,
    /// The longest a draining connection waits for its acknowledgements.
    drain_limit: Duration,
    backoff_initial: Duration,
    backoff_max: Duration,
    /// A connection that lived this long resets the backoff when it drops.
    stable_after: Duration,
}

impl Default for Timings {
    fn default() -> Timings {
        Timings {
            ack_deadline: Duration::from_millis(2500),
            connect_timeout: Duration::from_secs(10),
            ping_interval: Duration::from_secs(20),
            idle_timeout: Duration::from_secs(65),
            drain_limit: Duration::from_secs(10),
            backoff_initial: Duration::from_secs(1),
            backoff_max: Duration::from_secs(60),
            stable_after: Duration::from_secs(30),
        }
    }
}

/// A Socket Mode client; see the module documentation.
pub struct SocketMode {
    /// Always ends with `/`, like the Web API client's.
    base_url: Url,
    app_token: SecretString,
    http: reqwest::Client,
    timings: Timings,
}

// The token must never reach a log line, so Debug is written by hand.
impl fmt::Debug for SocketMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SocketMode")
            .field("base_url", &self.base_url.as_str())
            .field("app_token", &"[redacted]")
            .field("timings", &self.timings)
            .finish()
    }
}

/// How one round of connecting ended.
enum Attempt {
    Connected(Box<Ws>, Option<u64>),
    Refused(String),
    Shutdown,
}

impl SocketMode {
    /// `api_base_url` is the Web API's (`https://slack.com/api/`), where
    /// `apps.connections.open` lives; `app_token` is the app-level token (`xapp-…`).
    pub fn new(
        api_base_url: &str,
        app_token: SecretString,
        http: reqwest::Client,
    ) -> Result<SocketMode, InvalidBaseUrl> {
        Ok(SocketMode {
            base_url: parse_base_url(api_base_url)?,
            app_token,
            http,
            timings: Timings::default(),
        })
    }

    /// How long a handler may take before its envelope is acknowledged without its answer
    /// (2.5 s by default; Slack waits 3 s).
    pub fn with_ack_deadline(mut self, deadline: Duration) -> SocketMode {
        self.timings.ack_deadline = deadline;
        self.timings.drain_limit = self
            .timings
            .drain_limit
            .max(deadline.saturating_add(Duration::from_secs(2)));
        self
    }

    /// The first wait before reconnecting after a failure, doubling up to `max` (1 s and 60 s
    /// by default). Slack's `Retry-After` is honoured when it is longer.
    pub fn with_backoff(mut self, initial: Duration, max: Duration) -> SocketMode {
        self.timings.backoff_initial = initial;
        self.timings.backoff_max = max;
        self
    }

    /// Pings every `ping_interval` and replaces a connection that stayed silent for
    /// `idle_timeout` (20 s and 65 s by default), which catches half-open connections.
    pub fn with_keepalive(mut self, ping_interval: Duration, idle_timeout: Duration) -> SocketMode {
        self.timings.ping_interval = ping_interval.max(Duration::from_millis(1));
        self.timings.idle_timeout = idle_timeout;
        self
    }

    /// The limit for `apps.connections.open`, the WebSocket handshake and the wait for
    /// `hello`, each (10 s by default).
    pub fn with_connect_timeout(mut self, timeout: Duration) -> SocketMode {
        self.timings.connect_timeout = timeout;
        self
    }

    /// Runs until `shutdown` turns true (or its sender is dropped): connects, serves envelopes,
    /// reconnects. A refused token or `link_disabled` ends it early, logged as an error; see
    /// [`SocketMode::serve`] to get that error back.
    pub async fn run(self, handler: Arc<dyn SocketHandler>, shutdown: watch::Receiver<bool>) {
        // `serve` has logged why it stopped.
        let _ = self.serve(handler, shutdown).await;
    }

    /// [`SocketMode::run`], saying why it stopped: `Ok` after a shutdown, an error when Slack
    /// refused the token or turned Socket Mode off. Either way, every connection has finished
    /// acknowledging the envelopes it took when this returns.
    pub async fn serve(
        self,
        handler: Arc<dyn SocketHandler>,
        mut shutdown: watch::Receiver<bool>,
    ) -> Result<(), SocketModeError> {
        let (events, mut incoming) = mpsc::unbounded_channel();
        let context = Context {
            handler,
            events,
            timings: self.timings,
        };
        let mut backoff = Backoff::new(self.timings.backoff_initial, self.timings.backoff_max);
        let mut next_id = 0u64;
        // The connection new envelopes are expected on.
        let mut current: Option<Live> = None;
        // Connections Slack asked to leave: they serve until their successor is up.
        let mut retiring: Vec<Live> = Vec::new();
        // Draining connections' tasks.
        let mut closing = Vec::new();
        let mut wait_first = false;

        let outcome = loop {
            if current.is_none() {
                match self.connect(wait_first, &mut backoff, &mut shutdown).await {
                    Attempt::Connected(ws, num_connections) => {
                        next_id += 1;
                        tracing::info!(
                            connection = next_id,
                            ?num_connections,
                            "Slack Socket Mode connected"
                        );
                        current = Some(Live::spawn(next_id, *ws, context.clone()));
                        closing.extend(retiring.drain(..).map(Live::drain));
                        closing.retain(|task: &tokio::task::JoinHandle<()>| !task.is_finished());
                    }
                    Attempt::Refused(code) => break Err(SocketModeError::Refused { code }),
                    Attempt::Shutdown => break Ok(()),
                }
            }
            let current_id = current.as_ref().map(|live| live.id);
            tokio::select! {
                () = shutdown_requested(&mut shutdown) => break Ok(()),
                Some(event) = incoming.recv() => match event {
                    Event::Disconnect { id, reason } if Some(id) == current_id => {
                        if reason == "link_disabled" {
                            break Err(SocketModeError::LinkDisabled);
                        }
                        // refresh_requested, warning, or a reason added later: connect a
                        // successor now; this one serves until it is up.
                        if let Some(live) = current.take() {
                            if live.opened.elapsed() >= self.timings.stable_after {
                                backoff.reset();
                            }
                            retiring.push(live);
                        }
                        wait_first = false;
                    }
                    // From a connection already being replaced.
                    Event::Disconnect { .. } => {}
                    Event::Closed { id, lived } => {
                        retiring.retain(|live| live.id != id);
                        if Some(id) == current_id {
                            current = None;
                            wait_first = lived < self.timings.stable_after;
                            if !wait_first {
                                backoff.reset();
                            }
                            tracing::warn!(
                                connection = id,
                                ?lived,
                                "Socket Mode connection dropped; reconnecting"
                            );
                        }
                    }
                },
            }
        };

        // Whatever the reason, every connection acknowledges what it took before it closes.
        closing.extend(current.take().map(Live::drain));
        closing.extend(retiring.drain(..).map(Live::drain));
        for task in closing {
            let _ = task.await;
        }
        match &outcome {
            Ok(()) => tracing::info!("Slack Socket Mode stopped"),
            Err(error) => tracing::error!(%error, "Slack Socket Mode stopped for good"),
        }
        outcome
    }

    /// Opens a URL and connects to it, retrying with backoff until connected, refused, or shut
    /// down. With `wait_first`, backs off before the first try too.
    async fn connect(
        &self,
        wait_first: bool,
        backoff: &mut Backoff,
        shutdown: &mut watch::Receiver<bool>,
    ) -> Attempt {
        let mut pause = wait_first.then(|| backoff.next_delay());
        loop {
            if let Some(pause) = pause.take() {
                tracing::debug!(?pause, "waiting before connecting again");
                tokio::select! {
                    () = tokio::time::sleep(pause) => {}
                    () = shutdown_requested(shutdown) => return Attempt::Shutdown,
                }
            }
            let opening = open_url(
                &self.http,
                &self.base_url,
                &self.app_token,
                self.timings.connect_timeout,
            );
            let opened = tokio::select! {
                opened = opening => opened,
                () = shutdown_requested(shutdown) => return Attempt::Shutdown,
            };
            let url = match opened {
                Ok(url) => url,
                Err(OpenError::Refused { code }) => return Attempt::Refused(code),
                Err(OpenError::Retry { after, reason }) => {
                    let wait = backoff.next_delay().max(after.unwrap_or_default());
                    tracing::warn!(
                        method = open::METHOD,
                        %reason,
                        ?wait,
                        "cannot open a Socket Mode connection yet"
                    );
                    pause = Some(wait);
                    continue;
                }
            };
            let established = tokio::select! {
                established = establish(&url, &self.timings) => established,
                () = shutdown_requested(shutdown) => return Attempt::Shutdown,
            };
            match established {
                Ok((ws, num_connections)) => {
                    return Attempt::Connected(Box::new(ws), num_connections)
                }
                Err(reason) => {
                    let wait = backoff.next_delay();
                    tracing::warn!(%reason, ?wait, "Socket Mode connection failed");
                    pause = Some(wait);
                }
            }
        }
    }
}

/// Resolves once shutdown is asked for. A dropped sender can never ask any more, which counts as
/// asking now.
async fn shutdown_requested(shutdown: &mut watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|stop| *stop).await;
}

#[cfg(test)]
mod tests;
