//! `sesame audit verify`: recomputes the chain from the first event, checks every checkpoint's
//! signature with the public key and that the events it signed are unchanged, and checks the
//! append-only triggers. It stops at the first broken link and says where and what.

use super::AuditPublicKey;
use crate::{App, AppError};
use sesame_core::{RequestNumber, Timestamp};
use sesame_store::chain::{canonical_time, GENESIS};
use sesame_store::{ChainedEvent, Checkpoint};
use std::collections::BTreeMap;
use std::fmt;

/// How many events one read takes.
const PAGE: u32 = 5000;
/// How far an event may be dated before the one chained before it (clocks of replicas differ a
/// little) before the report mentions it.
const BACKDATED_MILLIS: i64 = 5 * 60_000;

/// Something that is wrong with the trail: where (an event, with its request and time, when it is
/// about one) and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditProblem {
    pub event: Option<i64>,
    pub request: Option<RequestNumber>,
    pub at: Option<Timestamp>,
    pub what: String,
}

impl AuditProblem {
    fn general(what: String) -> Self {
        AuditProblem {
            event: None,
            request: None,
            at: None,
            what,
        }
    }

    fn at_event(event: &ChainedEvent, what: String) -> Self {
        AuditProblem {
            event: Some(event.id),
            request: event.request,
            at: Some(event.at),
            what,
        }
    }
}

impl fmt::Display for AuditProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(id) = self.event {
            let request = self
                .request
                .map_or_else(|| String::from("no request"), |n| format!("request {n}"));
            let at = self.at.map(canonical_time).unwrap_or_default();
            write!(f, "event {id} ({request}, {at}): ")?;
        }
        f.write_str(&self.what)
    }
}

/// What verifying the trail found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditVerification {
    /// Events in the chain up to the first problem (all of them when whole).
    pub events: i64,
    pub last_event: Option<i64>,
    /// The checkpoints whose signature and events hold, and the latest of them.
    pub checkpoints_verified: usize,
    pub last_checkpoint: Option<Checkpoint>,
    /// Events after the latest checkpoint: chained, not yet signed.
    pub unsigned_events: i64,
    /// What is wrong, the first broken link of the chain among it; empty when the trail is whole.
    pub problems: Vec<AuditProblem>,
    /// Worth knowing without being wrong (earlier repairs of the triggers, say).
    pub notes: Vec<String>,
}

impl AuditVerification {
    pub fn is_whole(&self) -> bool {
        self.problems.is_empty()
    }
}

fn short(hash: &str) -> &str {
    hash.get(..12).unwrap_or(hash)
}

impl App {
    /// Verifies the whole trail against `key` (see the module's documentation).
    pub async fn verify_audit_trail(
        &self,
        key: &AuditPublicKey,
    ) -> Result<AuditVerification, AppError> {
        let store = self.store();
        let mut report = AuditVerification::default();
        for problem in store.audit_guard_problems().await? {
            report.problems.push(AuditProblem::general(problem));
        }
        // Checkpoints by the event they cover; a forged one is a problem of its own.
        let mut checkpoints: BTreeMap<i64, Checkpoint> = BTreeMap::new();
        for checkpoint in store.audit_checkpoints().await? {
            if key.signed(&checkpoint) {
                checkpoints.insert(checkpoint.event_id, checkpoint);
            } else {
                let whose = if checkpoint.key_id == key.key_id() {
                    String::from("it was forged or changed")
                } else {
                    format!(
                        "it names the key {} and this key is {}: it was forged, or signed with \
                         another key",
                        checkpoint.key_id,
                        key.key_id()
                    )
                };
                report.problems.push(AuditProblem::general(format!(
                    "checkpoint {} (covering event {}, signed at {}) does not carry a valid \
                     signature by this key: {whose}",
                    checkpoint.id,
                    checkpoint.event_id,
                    canonical_time(checkpoint.at)
                )));
            }
        }
        let head = store.audit_chain_head().await?;

        let mut prev_hash = GENESIS.to_owned();
        let mut previous: Option<ChainedEvent> = None;
        // The last checkpoint the walk passed that held.
        let mut vouched: Option<Checkpoint> = None;
        let mut broken = false;
        let mut events = Events::new();
        while let Some(event) = events.next(self).await? {
            let next = events.peek(self).await?;
            if let Some(problem) = link_problem(&event, previous.as_ref(), next, &prev_hash) {
                report.problems.push(problem);
                broken = true;
                break;
            }
            let hash = event.hash.clone().unwrap_or_default();
            report.events += 1;
            if let Some(checkpoint) = checkpoints.remove(&event.id) {
                if checkpoint.hash != hash || checkpoint.count != report.events {
                    report.problems.push(rewritten(
                        &event,
                        &hash,
                        report.events,
                        &checkpoint,
                        vouched.as_ref(),
                    ));
                    broken = true;
                    break;
                }
                report.checkpoints_verified += 1;
                vouched = Some(checkpoint);
            }
            if let Some(previous) = previous
                .as_ref()
                .filter(|p| p.at.millis() - event.at.millis() > BACKDATED_MILLIS)
            {
                report.notes.push(format!(
                    "event {} is dated {}, before event {} ({}): back-dated?",
                    event.id,
                    canonical_time(event.at),
                    previous.id,
                    canonical_time(previous.at)
                ));
            }
            if event.kind == "audit_guards_restored" {
                report.notes.push(format!(
                    "at {} Sesame found the append-only triggers tampered with and recreated \
                     them (event {}): {}",
                    canonical_time(event.at),
                    event.id,
                    event.detail["problems"]
                ));
            }
            prev_hash = hash;
            report.last_event = Some(event.id);
            previous = Some(event);
        }
        if !broken {
            // Checkpoints whose event the walk never met: that event is gone.
            if let Some(checkpoint) = checkpoints.values().next() {
                report.problems.push(AuditProblem::general(format!(
                    "checkpoint {} (signed at {}) covers event {} with {} events, but the trail \
                     holds no such event: events were deleted",
                    checkpoint.id,
                    canonical_time(checkpoint.at),
                    checkpoint.event_id,
                    checkpoint.count
                )));
            } else if head.event_id != report.last_event.unwrap_or(0)
                || head.hash != prev_hash
                || head.count != report.events
            {
                report.problems.push(AuditProblem::general(format!(
                    "the chain's recorded end (event {}, {} events) is not its last event \
                     (event {}, {} events): events at the end were deleted, or the end was moved",
                    head.event_id,
                    head.count,
                    report.last_event.unwrap_or(0),
                    report.events
                )));
            }
        }
        report.unsigned_events = report.events - vouched.as_ref().map_or(0, |c| c.count);
        report.last_checkpoint = vouched;
        if report.last_checkpoint.is_none() && report.events > 0 && !broken {
            report.notes.push(String::from(
                "no signed checkpoint yet: only the chain protects the trail",
            ));
        }
        Ok(report)
    }
}

/// The events in the chain's order, read a page at a time, with a look at the next one.
struct Events {
    buffer: std::collections::VecDeque<ChainedEvent>,
    after: i64,
    done: bool,
}

impl Events {
    fn new() -> Self {
        Events {
            buffer: std::collections::VecDeque::new(),
            after: 0,
            done: false,
        }
    }

    async fn fill(&mut self, app: &App) -> Result<(), AppError> {
        if self.buffer.len() < 2 && !self.done {
            let page = app.store().audit_chain(self.after, PAGE).await?;
            match page.last() {
                Some(last) => self.after = last.id,
                None => self.done = true,
            }
            self.buffer.extend(page);
        }
        Ok(())
    }

    async fn next(&mut self, app: &App) -> Result<Option<ChainedEvent>, AppError> {
        self.fill(app).await?;
        Ok(self.buffer.pop_front())
    }

    async fn peek(&mut self, app: &App) -> Result<Option<&ChainedEvent>, AppError> {
        self.fill(app).await?;
        Ok(self.buffer.front())
    }
}

/// A checkpoint that no longer matches the event it signed.
fn rewritten(
    event: &ChainedEvent,
    hash: &str,
    count: i64,
    checkpoint: &Checkpoint,
    vouched: Option<&Checkpoint>,
) -> AuditProblem {
    let since = vouched.map_or_else(
        || String::from("the start of the trail"),
        |c| format!("event {} (checkpoint {})", c.event_id, c.id),
    );
    let what = if checkpoint.hash != hash {
        format!(
            "its hash is {}… but checkpoint {} signed {}… for it at {}",
            short(hash),
            checkpoint.id,
            short(&checkpoint.hash),
            canonical_time(checkpoint.at)
        )
    } else {
        format!(
            "the chain holds {count} events up to it but checkpoint {} signed {} at {}",
            checkpoint.id,
            checkpoint.count,
            canonical_time(checkpoint.at)
        )
    };
    AuditProblem::at_event(
        event,
        format!(
            "the trail was rewritten: {what}. An event after {since} and up to this one was \
             changed, inserted or deleted, and the chain recomputed to hide it"
        ),
    )
}

/// Whether `event` follows `previous` (whose hash is `prev_hash`) as Sesame chained it; `next` is
/// the event after it, which tells an inserted event from a changed one.
fn link_problem(
    event: &ChainedEvent,
    previous: Option<&ChainedEvent>,
    next: Option<&ChainedEvent>,
    prev_hash: &str,
) -> Option<AuditProblem> {
    let skipped = next.is_some_and(|n| n.prev_hash.as_deref() == Some(prev_hash));
    let (Some(stored_prev), Some(stored_hash)) = (&event.prev_hash, &event.hash) else {
        return Some(AuditProblem::at_event(
            event,
            String::from("it has no chain hash: it was written around Sesame (an inserted row)"),
        ));
    };
    if stored_prev == prev_hash && &event.expected_hash(prev_hash) == stored_hash {
        return None;
    }
    if skipped {
        return Some(AuditProblem::at_event(
            event,
            String::from(
                "it was inserted: it is not part of the chain, and the event after it follows the \
                 one before it",
            ),
        ));
    }
    if stored_prev == prev_hash {
        return Some(AuditProblem::at_event(
            event,
            String::from(
                "it was changed after it was written: its content no longer matches its hash",
            ),
        ));
    }
    let Some(previous) = previous else {
        return Some(AuditProblem::at_event(
            event,
            String::from(
                "it was not chained from the start of the trail: the events before it were \
                 deleted",
            ),
        ));
    };
    if previous.prev_hash.as_ref() == Some(stored_prev) {
        return Some(AuditProblem::at_event(
            previous,
            format!(
                "it was inserted: event {} after it follows the event before it",
                event.id
            ),
        ));
    }
    if event.id > previous.id + 1 {
        let missing = if event.id == previous.id + 2 {
            format!("event {}", previous.id + 1)
        } else {
            format!("events {} to {}", previous.id + 1, event.id - 1)
        };
        return Some(AuditProblem::at_event(
            event,
            format!(
                "it does not follow event {}: it was chained after {missing}, which {} deleted",
                previous.id,
                if event.id == previous.id + 2 {
                    "was"
                } else {
                    "were"
                }
            ),
        ));
    }
    Some(AuditProblem::at_event(
        previous,
        format!(
            "it was changed after it was written and its hash recomputed: event {} after it was \
             chained to a different hash",
            event.id
        ),
    ))
}
