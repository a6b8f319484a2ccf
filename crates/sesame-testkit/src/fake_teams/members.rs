//! Conversation members as the Bot Connector describes them (`GET .../members/{id}`), with the
//! email and Entra object id a bot uses to know who someone is.

use super::server::{connector_call, Answer, SharedState};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

pub(super) async fn get_member(
    State(shared): SharedState,
    Path((conversation, member)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let path = format!("v3/conversations/{conversation}/members/{member}");
    connector_call(&shared, "GET", path, &headers, &Bytes::new(), |state, _| {
        if !state.conversations.contains_key(&conversation) {
            return Answer::error(
                StatusCode::NOT_FOUND,
                "ConversationNotFound",
                "Conversation not found.",
            );
        }
        match state.members.get(&member) {
            Some(account) => Answer::ok(StatusCode::OK, account.clone()),
            None => Answer::error(
                StatusCode::NOT_FOUND,
                "MemberNotFound",
                "The member is not in the conversation.",
            ),
        }
    })
}
