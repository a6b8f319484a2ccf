//! `apps.connections.open`: a one-off WebSocket URL for Socket Mode. The token check (the
//! app-level token, in the header only) happens before this, in the server.

use super::identity::APP_ID;
use super::{fields, Answer, Failure};
use crate::fake_slack::state::FakeState;
use serde_json::json;

pub(super) fn connections_open(state: &mut FakeState) -> Answer {
    // The token check lets nothing through before socket mode is on; this is belt and braces.
    let port = state
        .socket
        .port
        .ok_or_else(|| Failure::code("internal_error"))?;
    let ticket = state.socket.issue_ticket();
    Ok(fields(json!({
        "url": format!("ws://127.0.0.1:{port}/link/?ticket={ticket}&app_id={APP_ID}"),
    })))
}
