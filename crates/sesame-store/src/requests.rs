//! Requests as the store keeps them: the public filter and comment types, and what a transition
//! becomes before it is written (encoded once, outside the transaction).

use crate::audit::EncodedAudit;
use crate::error::{encode_error, StoreError};
use crate::jobs::NewJob;
use serde::Serialize;
use sesame_core::{Duty, FlowId, Request, RequestNumber, Timestamp, Transition, UserId};
use std::collections::BTreeSet;

/// The most rows a list returns, whatever the caller asks for.
pub const MAX_LIST_LIMIT: u32 = 500;
/// What a limit of zero means.
pub const DEFAULT_LIST_LIMIT: u32 = 100;

pub(crate) fn clamp_limit(limit: u32) -> i64 {
    i64::from(if limit == 0 {
        DEFAULT_LIST_LIMIT
    } else {
        limit.min(MAX_LIST_LIMIT)
    })
}

/// Which requests to list. Every condition given must hold; results are newest first unless
/// `oldest_first`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestFilter {
    /// Requests for this person.
    pub requester: Option<UserId>,
    /// Requests for this person or filed by them on someone's behalf ("my requests").
    pub requested_or_filed_by: Option<UserId>,
    /// Requests this person is or was part of: requester, filer, asked to approve, or fulfiller.
    pub involving: Option<UserId>,
    /// Requests waiting on this person now (with `duty`, waiting for that duty only).
    pub waiting_on: Option<UserId>,
    /// Requests waiting on someone for this duty.
    pub duty: Option<Duty>,
    /// State names (`State::name()`); empty means any state.
    pub states: Vec<String>,
    pub flow: Option<FlowId>,
    /// Requests filed at or after this time.
    pub created_from: Option<Timestamp>,
    /// Requests filed before this time.
    pub created_until: Option<Timestamp>,
    /// Keyset pagination: only requests numbered below this one.
    pub before: Option<RequestNumber>,
    /// Oldest first (the longest-waiting work at the top) instead of newest first.
    pub oldest_first: bool,
    /// Skip this many matching requests first (numbered pages; `before` is cheaper for APIs).
    pub offset: u32,
    /// At most this many (capped at [`MAX_LIST_LIMIT`]; zero means [`DEFAULT_LIST_LIMIT`]).
    pub limit: u32,
}

/// A comment on a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Comment {
    pub id: i64,
    pub request: RequestNumber,
    pub author: UserId,
    pub text: String,
    /// Where it was written: "web", "slack", "api", ...
    pub source: String,
    pub created_at: Timestamp,
}

/// Everyone a request involves, as the `request_people` table records them (see `Request::involves`).
pub(crate) fn people(request: &Request) -> BTreeSet<&UserId> {
    let mut people = BTreeSet::new();
    people.insert(&request.requester);
    people.insert(&request.submitted_by);
    for step in &request.steps {
        people.extend(step.eligible.iter());
    }
    if let Some(fulfilment) = &request.fulfilment {
        people.extend(fulfilment.fulfillers.iter());
    }
    people
}

/// A transition encoded for writing. Every serialisation happens here, before the write starts, so
/// that the write lock is held only for the statements themselves; and it owns its data, so that a
/// write can run in a task of its own (see `backend::sqlite`).
pub(crate) struct EncodedTransition {
    pub number: i64,
    pub flow_id: String,
    pub requester: String,
    pub submitted_by: String,
    pub created_at: i64,
    pub body: String,
    pub state: &'static str,
    pub updated_at: i64,
    pub access_ends_at: Option<i64>,
    pub duties: Vec<(String, &'static str)>,
    pub people: Vec<String>,
    pub audit: Vec<EncodedAudit>,
    pub jobs: Vec<NewJob>,
}

impl EncodedTransition {
    pub fn new(t: &Transition) -> Result<Self, StoreError> {
        let request = &t.request;
        let body = serde_json::to_string(request).map_err(|e| encode_error("the request", e))?;
        let audit = t
            .audit
            .iter()
            .map(EncodedAudit::new)
            .collect::<Result<Vec<_>, _>>()?;
        let now = request.updated_at;
        let mut jobs = Vec::with_capacity(t.notices.len() + t.timers.len() + t.provisioning.len());
        for notice in &t.notices {
            jobs.push(NewJob::notice(notice, now)?);
        }
        for timer in &t.timers {
            jobs.push(NewJob::timer(timer, now)?);
        }
        for work in &t.provisioning {
            jobs.push(NewJob::provision(*work, now)?);
        }
        // A person holds each duty once; the set also keeps the rows in a stable order.
        let duties: BTreeSet<(String, &'static str)> = request
            .duties()
            .into_iter()
            .map(|(user, duty)| (String::from(user), duty.name()))
            .collect();
        Ok(EncodedTransition {
            number: request.number.0,
            flow_id: request.flow.id.to_string(),
            requester: request.requester.to_string(),
            submitted_by: request.submitted_by.to_string(),
            created_at: request.created_at.millis(),
            body,
            state: request.state.name(),
            updated_at: now.millis(),
            access_ends_at: request.access_ends_at.map(Timestamp::millis),
            duties: duties.into_iter().collect(),
            people: people(request)
                .into_iter()
                .map(ToString::to_string)
                .collect(),
            audit,
            jobs,
        })
    }
}

/// The columns a request is read from.
#[derive(sqlx::FromRow)]
pub(crate) struct RequestRow {
    pub number: i64,
    pub version: i64,
    pub body: String,
}

impl RequestRow {
    pub fn into_request(self) -> Result<Request, StoreError> {
        let mut request: Request = serde_json::from_str(&self.body)
            .map_err(|e| StoreError::Corrupt(format!("request #{}: {e}", self.number)))?;
        request.number = RequestNumber(self.number);
        request.version = self.version;
        Ok(request)
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct CommentRow {
    pub id: i64,
    pub request_number: i64,
    pub author: String,
    pub text: String,
    pub source: String,
    pub created_at: i64,
}

impl CommentRow {
    pub fn into_comment(self) -> Result<Comment, StoreError> {
        let author = UserId::new(self.author)
            .map_err(|e| StoreError::Corrupt(format!("comment {}: {e}", self.id)))?;
        Ok(Comment {
            id: self.id,
            request: RequestNumber(self.request_number),
            author,
            text: self.text,
            source: self.source,
            created_at: Timestamp(self.created_at),
        })
    }
}

/// Which request, person and purpose a posted chat message belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatMessageRecord {
    pub request: RequestNumber,
    pub recipient: String,
    pub purpose: String,
}
