//! One Socket Mode WebSocket: connecting and waiting for `hello`, then serving envelopes until
//! Slack closes it, the link goes quiet, or the supervisor asks it to drain.
//!
//! Every envelope gets its own task, so a slow handler never holds up the others; the connection
//! task itself only reads frames and writes acknowledgements. Draining keeps the connection
//! serving until every envelope it took has been acknowledged, then closes it: this is how a
//! refreshed connection hands over to its successor without losing anything.

use super::frame::{ack_text, Envelope, Frame, Route};
use super::{SocketAnswer, SocketHandler, Timings};
use futures_util::{SinkExt, StreamExt};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use tracing::Instrument;

pub(super) type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// What a connection tells the supervisor.
#[derive(Debug)]
pub(super) enum Event {
    /// Slack sent `disconnect` with this reason.
    Disconnect { id: u64, reason: String },
    /// The connection is gone (closed by either side, or lost).
    Closed { id: u64, lived: Duration },
}

/// What every connection shares.
#[derive(Clone)]
pub(super) struct Context {
    pub(super) handler: Arc<dyn SocketHandler>,
    pub(super) events: mpsc::UnboundedSender<Event>,
    pub(super) timings: Timings,
}

/// Connects to a URL from `apps.connections.open` and waits for Slack's `hello`. The error text
/// never contains the URL, whose ticket is a credential.
pub(super) async fn establish(url: &str, timings: &Timings) -> Result<(Ws, Option<u64>), String> {
    let connect = tokio_tungstenite::connect_async(url);
    let (mut ws, _) = match tokio::time::timeout(timings.connect_timeout, connect).await {
        Ok(Ok(connected)) => connected,
        Ok(Err(error)) => return Err(format!("WebSocket connection failed: {error}")),
        Err(_) => return Err("WebSocket connection timed out".to_owned()),
    };
    let hello = async {
        loop {
            match ws.next().await {
                Some(Ok(Message::Text(text))) => match Frame::parse(text.as_str()) {
                    Ok(Frame::Hello { num_connections }) => return Ok(num_connections),
                    Ok(Frame::Disconnect { reason, .. }) => {
                        return Err(format!("Slack disconnected before hello ({reason})"))
                    }
                    Ok(other) => tracing::debug!(?other, "frame before hello ignored"),
                    Err(error) => tracing::warn!(%error, "unreadable frame before hello ignored"),
                },
                Some(Ok(Message::Close(_))) | None => {
                    return Err("Slack closed the connection before hello".to_owned())
                }
                Some(Ok(_)) => {}
                Some(Err(error)) => return Err(format!("connection lost before hello: {error}")),
            }
        }
    };
    match tokio::time::timeout(timings.connect_timeout, hello).await {
        Ok(Ok(num_connections)) => Ok((ws, num_connections)),
        Ok(Err(reason)) => Err(reason),
        Err(_) => Err("no hello from Slack in time".to_owned()),
    }
}

/// A running connection, as the supervisor holds it.
pub(super) struct Live {
    pub(super) id: u64,
    pub(super) opened: Instant,
    drain: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl Live {
    pub(super) fn spawn(id: u64, ws: Ws, context: Context) -> Live {
        let (drain, drained) = oneshot::channel();
        let span = tracing::info_span!("slack_socket", connection = id);
        let task = tokio::spawn(serve(ws, id, context, drained).instrument(span));
        Live {
            id,
            opened: Instant::now(),
            drain,
            task,
        }
    }

    /// Asks the connection to finish its envelopes and close; the task ends when it has.
    pub(super) fn drain(self) -> JoinHandle<()> {
        // Sending and dropping both wake the connection; which one happens does not matter.
        let _ = self.drain.send(());
        self.task
    }
}

/// How the serving loop ended.
enum Ending {
    /// Asked to drain, and done (or out of time).
    Drained,
    /// Slack closed the connection, or it was lost.
    Gone(String),
}

async fn serve(mut ws: Ws, id: u64, context: Context, mut drain: oneshot::Receiver<()>) {
    let opened = Instant::now();
    let timings = context.timings;
    // `None` settles an envelope that is deliberately left unacknowledged.
    let (acks, mut pending_acks) = mpsc::unbounded_channel::<Option<String>>();
    let mut in_flight = 0usize;
    let mut drain_deadline: Option<tokio::time::Instant> = None;
    let mut last_heard = Instant::now();
    let mut keepalive = tokio::time::interval_at(
        tokio::time::Instant::now() + timings.ping_interval,
        timings.ping_interval,
    );
    keepalive.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let far_future = tokio::time::Instant::now() + Duration::from_secs(86_400 * 365);

    let ending = loop {
        if drain_deadline.is_some() && in_flight == 0 {
            break Ending::Drained;
        }
        tokio::select! {
            Some(ack) = pending_acks.recv() => {
                in_flight = in_flight.saturating_sub(1);
                let Some(ack) = ack else { continue };
                if let Err(error) = ws.send(Message::text(ack)).await {
                    break Ending::Gone(format!("acknowledgement not sent: {error}"));
                }
            }
            _ = &mut drain, if drain_deadline.is_none() => {
                tracing::debug!(in_flight, "draining the connection");
                drain_deadline = Some(tokio::time::Instant::now() + timings.drain_limit);
            }
            _ = tokio::time::sleep_until(drain_deadline.unwrap_or(far_future)),
                if drain_deadline.is_some() => {
                tracing::warn!(
                    in_flight,
                    "closing with envelopes unacknowledged: the drain time ran out"
                );
                break Ending::Drained;
            }
            _ = keepalive.tick() => {
                if last_heard.elapsed() >= timings.idle_timeout {
                    let silence = timings.idle_timeout;
                    break Ending::Gone(format!("nothing heard from Slack for {silence:?}"));
                }
                if let Err(error) = ws.send(Message::Ping(Default::default())).await {
                    break Ending::Gone(format!("ping not sent: {error}"));
                }
            }
            message = ws.next() => {
                last_heard = Instant::now();
                match message {
                    Some(Ok(Message::Text(text))) => {
                        if read_frame(text.as_str(), id, &context, &acks) {
                            in_flight += 1;
                        }
                    }
                    // tungstenite queues the pong; flushing sends it now rather than with the
                    // next frame.
                    Some(Ok(Message::Ping(_))) => {
                        if let Err(error) = ws.flush().await {
                            break Ending::Gone(format!("pong not sent: {error}"));
                        }
                    }
                    Some(Ok(Message::Close(frame))) => {
                        let reason = frame.map(|f| format!("{} {}", f.code, f.reason));
                        tracing::debug!(?reason, "Slack is closing the connection");
                    }
                    Some(Ok(Message::Binary(_))) => {
                        tracing::warn!("binary frame from Slack ignored");
                    }
                    Some(Ok(Message::Pong(_) | Message::Frame(_))) => {}
                    Some(Err(error)) => break Ending::Gone(format!("connection lost: {error}")),
                    None => break Ending::Gone("closed by Slack".to_owned()),
                }
            }
        }
    };

    match ending {
        Ending::Drained => {
            let _ = ws.close(None).await;
            // Read until Slack answers the close, briefly: nothing more will be handled here.
            let _ = tokio::time::timeout(Duration::from_secs(1), async {
                while let Some(Ok(_)) = ws.next().await {}
            })
            .await;
            tracing::info!(
                lived = ?opened.elapsed(),
                "Socket Mode connection closed after draining"
            );
        }
        Ending::Gone(reason) if in_flight > 0 => tracing::warn!(
            %reason, in_flight,
            "Socket Mode connection ended with envelopes unacknowledged; Slack may send them again"
        ),
        Ending::Gone(reason) => tracing::info!(%reason, "Socket Mode connection ended"),
    }
    let _ = context.events.send(Event::Closed {
        id,
        lived: opened.elapsed(),
    });
}

/// Reads one text frame; returns whether it was an envelope now waiting for its acknowledgement.
fn read_frame(
    text: &str,
    id: u64,
    context: &Context,
    acks: &mpsc::UnboundedSender<Option<String>>,
) -> bool {
    match Frame::parse(text) {
        Ok(Frame::Envelope(envelope)) => {
            spawn_answer(envelope, context, acks.clone());
            true
        }
        Ok(Frame::Disconnect { reason, host }) => {
            tracing::info!(%reason, ?host, "Slack asked to disconnect");
            let _ = context.events.send(Event::Disconnect { id, reason });
            false
        }
        Ok(Frame::Hello { num_connections }) => {
            tracing::debug!(?num_connections, "another hello");
            false
        }
        Ok(Frame::Other { kind }) => {
            tracing::debug!(%kind, "frame of an unknown type ignored");
            false
        }
        Err(error) => {
            tracing::warn!(%error, bytes = text.len(), "unreadable frame from Slack ignored");
            false
        }
    }
}

/// Runs the handler for one envelope in its own task and queues the acknowledgement.
fn spawn_answer(
    mut envelope: Envelope,
    context: &Context,
    acks: mpsc::UnboundedSender<Option<String>>,
) {
    let span = tracing::info_span!(
        "slack_envelope",
        envelope_id = %envelope.envelope_id,
        kind = %envelope.kind,
        retry_attempt = envelope.retry_attempt.unwrap_or(0),
        retry_reason = envelope.retry_reason.as_deref().unwrap_or(""),
    );
    let handler = context.handler.clone();
    let deadline = context.timings.ack_deadline;
    let task = async move {
        let payload = match envelope.take_route() {
            Route::Handle(request) => match answer_within(handler, request, deadline).await {
                SocketAnswer::Ack(payload) => payload,
                SocketAnswer::Unacknowledged => {
                    tracing::warn!("not acknowledged, so that Slack delivers it again");
                    let _ = acks.send(None);
                    return;
                }
            },
            Route::Unknown => {
                tracing::debug!("envelope of a type Sesame does not handle: acknowledged, ignored");
                None
            }
            Route::Malformed => {
                tracing::warn!("envelope without an object payload: acknowledged, ignored");
                None
            }
        };
        let payload = match payload {
            Some(_) if !envelope.accepts_response_payload => {
                tracing::debug!("Slack reads no payload for this envelope; the answer is dropped");
                None
            }
            payload => payload,
        };
        if acks
            .send(Some(ack_text(&envelope.envelope_id, payload.as_ref())))
            .is_err()
        {
            tracing::warn!("connection gone before the acknowledgement; Slack may send it again");
        }
    };
    tokio::spawn(task.instrument(span));
}

/// The handler's answer, or `None` once `deadline` has passed (Slack waits three seconds for the
/// acknowledgement). The handler keeps running after the deadline; only its answer is lost.
async fn answer_within(
    handler: Arc<dyn SocketHandler>,
    request: super::SocketRequest,
    deadline: Duration,
) -> SocketAnswer {
    let started = Instant::now();
    let work = async move { handler.handle(request).await };
    let mut work = tokio::spawn(work.in_current_span());
    match tokio::time::timeout(deadline, &mut work).await {
        Ok(Ok(payload)) => payload,
        Ok(Err(error)) => {
            tracing::error!(%error, "the handler failed; acknowledged without an answer");
            SocketAnswer::Ack(None)
        }
        Err(_) => {
            tracing::warn!(
                ?deadline,
                "the handler is slower than Slack's acknowledgement deadline; acknowledged \
                 without its answer while it goes on"
            );
            let late = async move {
                match work.await {
                    Ok(SocketAnswer::Ack(Some(_))) => tracing::warn!(
                        took = ?started.elapsed(),
                        "a late handler's answer was dropped: Slack had stopped waiting"
                    ),
                    Ok(_) => tracing::debug!(took = ?started.elapsed(), "late handler done"),
                    Err(error) => tracing::error!(%error, "the Socket Mode handler failed late"),
                }
            };
            tokio::spawn(late.in_current_span());
            SocketAnswer::Ack(None)
        }
    }
}
