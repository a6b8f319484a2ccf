//! The fake's WebSocket side: a listener on its own port (the URL `apps.connections.open` hands
//! out), a ticket check at the handshake, and one task per connection that writes what the hub
//! routes to it and reports what the app sends back.

use super::hub::LinkCommand;
use crate::fake_slack::state::Shared;
use futures_util::{SinkExt, StreamExt};
use std::sync::Arc;
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::{StatusCode, Uri};
use tokio_tungstenite::tungstenite::Message;

/// Starts listening on a free port of 127.0.0.1. Must run inside a Tokio runtime.
pub(in crate::fake_slack) fn listen(shared: Arc<Shared>) -> (u16, tokio::task::AbortHandle) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port on 127.0.0.1");
    listener
        .set_nonblocking(true)
        .expect("a listener can be made non-blocking");
    let port = listener
        .local_addr()
        .expect("a bound listener has an address")
        .port();
    let listener =
        tokio::net::TcpListener::from_std(listener).expect("socket mode is enabled inside Tokio");
    let task = tokio::spawn(async move {
        // Runs until the fake is dropped; an accept error ends it, and the test that needed a
        // connection then fails waiting for one.
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(serve(stream, shared.clone()));
        }
    });
    (port, task.abort_handle())
}

/// The ticket in `/link/?ticket=...`, the shape of Slack's URLs.
fn ticket_of(uri: &Uri) -> Option<String> {
    let query = uri.query()?;
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).ok()?;
    pairs
        .into_iter()
        .find(|(name, _)| name == "ticket")
        .map(|(_, ticket)| ticket)
}

async fn serve(stream: TcpStream, shared: Arc<Shared>) {
    // tungstenite fixes the callback's shape, large error response included.
    #[allow(clippy::result_large_err)]
    let check = |request: &Request, response: Response| -> Result<Response, ErrorResponse> {
        let redeemed = request.uri().path() == "/link/"
            && ticket_of(request.uri())
                .is_some_and(|ticket| shared.lock().socket.redeem_ticket(&ticket));
        if redeemed {
            return Ok(response);
        }
        shared.lock().socket.protocol_error(format!(
            "a connection to {} refused: no valid ticket",
            request.uri().path()
        ));
        let mut refusal = ErrorResponse::new(Some("invalid or already used ticket".to_owned()));
        *refusal.status_mut() = StatusCode::UNAUTHORIZED;
        Err(refusal)
    };
    let Ok(mut ws) = tokio_tungstenite::accept_hdr_async(stream, check).await else {
        return;
    };
    let (commands, mut pending) = mpsc::unbounded_channel();
    let id = shared.lock().socket.connect(commands);
    loop {
        tokio::select! {
            command = pending.recv() => {
                let sent = match command {
                    Some(LinkCommand::Send(text)) => ws.send(Message::text(text)).await,
                    Some(LinkCommand::Ping) => ws.send(Message::Ping(Default::default())).await,
                    // Dropping the stream closes the TCP connection without a closing handshake.
                    Some(LinkCommand::Drop) | None => break,
                };
                if sent.is_err() {
                    break;
                }
            }
            message = ws.next() => match message {
                Some(Ok(Message::Text(text))) => shared.lock().socket.receive(id, text.as_str()),
                Some(Ok(Message::Binary(_))) => {
                    shared.lock().socket.receive(id, "<a binary frame>");
                }
                Some(Ok(Message::Pong(_))) => shared.lock().socket.pong(),
                // tungstenite answers pings and closes by itself.
                Some(Ok(_)) => {}
                Some(Err(_)) | None => break,
            },
        }
    }
    shared.lock().socket.closed(id);
}
