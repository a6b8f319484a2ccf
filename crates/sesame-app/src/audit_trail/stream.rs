//! Streaming the trail as it is written to places outside the database (a file a log shipper
//! reads, a SIEM's webhook): each sink resumes after the last event it acknowledged, from a cursor
//! kept in the database, so nothing is skipped across restarts. Delivery is at least once: a crash
//! between delivering and recording the cursor delivers those events again, with the same ids.
//! Replicas take turns through a lease on each sink's cursor.

use crate::{App, AppError};
use sesame_store::ChainedEvent;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// Where the trail is streamed. The binary implements it (a file or stdout, a signed webhook).
#[async_trait::async_trait]
pub trait AuditSink: Send + Sync {
    /// The cursor's name: stable across restarts, different for each place.
    fn name(&self) -> String;

    /// Delivers events, in order. `Ok` only once the place has them (written and flushed, or
    /// acknowledged with a 2xx); an error is retried later with the same events.
    async fn deliver(&self, events: &[ChainedEvent]) -> Result<(), String>;
}

/// What one step of a stream did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamStep {
    /// Delivered this many events (zero: nothing new), up to this event id.
    Delivered { count: usize, through: i64 },
    /// Another Sesame holds the sink's lease.
    HeldElsewhere,
    /// The sink refused or failed; the same events are tried again next time.
    Failed(String),
}

/// How many events one delivery carries at most.
const BATCH: u32 = 100;
/// How long a Sesame keeps a sink to itself; renewed at every step.
const LEASE_MILLIS: i64 = 60_000;
/// How often an idle stream looks for new events.
const IDLE_POLL: Duration = Duration::from_secs(1);
/// The longest wait between attempts after failures.
const MAX_BACKOFF: Duration = Duration::from_secs(60);

impl App {
    /// Delivers the next events after the sink's cursor and moves the cursor.
    pub async fn stream_audit_once(&self, sink: &dyn AuditSink) -> Result<StreamStep, AppError> {
        let name = sink.name();
        let holder = self.worker_name();
        let now = self.now();
        let Some(cursor) = self
            .store()
            .claim_audit_stream(&name, &holder, now, LEASE_MILLIS)
            .await?
        else {
            return Ok(StreamStep::HeldElsewhere);
        };
        let events = self.store().audit_chain(cursor, BATCH).await?;
        let Some(last) = events.last().map(|e| e.id) else {
            return Ok(StreamStep::Delivered {
                count: 0,
                through: cursor,
            });
        };
        if let Err(error) = sink.deliver(&events).await {
            self.metrics().count_stream_failure(&name);
            return Ok(StreamStep::Failed(error));
        }
        if !self
            .store()
            .advance_audit_stream(&name, &holder, last, self.now())
            .await?
        {
            // The lease ran out during the delivery and another Sesame took over: it delivers
            // from the cursor it found, so these events may go out twice (with the same ids).
            return Ok(StreamStep::HeldElsewhere);
        }
        self.metrics().set_stream_position(&name, last);
        Ok(StreamStep::Delivered {
            count: events.len(),
            through: last,
        })
    }

    /// Streams to `sink` until `shutdown` turns true: at once while there is a backlog, every
    /// second when idle, and with growing pauses (up to a minute) while the sink fails.
    pub async fn run_audit_stream(
        &self,
        sink: Arc<dyn AuditSink>,
        mut shutdown: watch::Receiver<bool>,
    ) {
        let name = sink.name();
        let mut failures = 0_u32;
        loop {
            let pause = match self.stream_audit_once(sink.as_ref()).await {
                Ok(StreamStep::Delivered { count, .. }) => {
                    failures = 0;
                    if count == BATCH as usize {
                        Duration::ZERO
                    } else {
                        IDLE_POLL
                    }
                }
                Ok(StreamStep::HeldElsewhere) => Duration::from_secs(5),
                Ok(StreamStep::Failed(error)) => {
                    failures = failures.saturating_add(1);
                    let pause = backoff(failures);
                    tracing::warn!(
                        sink = name.as_str(),
                        error = error.as_str(),
                        retry_in_ms = pause.as_millis() as u64,
                        "cannot stream the audit trail; the same events are sent again"
                    );
                    pause
                }
                Err(e) => {
                    failures = failures.saturating_add(1);
                    tracing::warn!(sink = name.as_str(), error = %e, "cannot read the audit trail to stream it");
                    backoff(failures)
                }
            };
            if *shutdown.borrow() {
                break;
            }
            tokio::select! {
                _ = tokio::time::sleep(pause) => {}
                _ = shutdown.wait_for(|stop| *stop) => break,
            }
        }
        // A clean stop delivers what was committed before it, while the sink takes it.
        while let Ok(StreamStep::Delivered { count, .. }) =
            self.stream_audit_once(sink.as_ref()).await
        {
            if count == 0 {
                break;
            }
        }
        if let Err(e) = self
            .store()
            .release_audit_stream(&name, &self.worker_name())
            .await
        {
            tracing::warn!(sink = name.as_str(), error = %e, "cannot release the audit stream");
        }
    }
}

/// One second, doubling with every failure, up to [`MAX_BACKOFF`].
fn backoff(failures: u32) -> Duration {
    let seconds = 1_u64 << failures.saturating_sub(1).min(6);
    Duration::from_secs(seconds).min(MAX_BACKOFF)
}

#[cfg(test)]
mod tests {
    use super::backoff;
    use std::time::Duration;

    #[test]
    fn pauses_double_up_to_a_minute() {
        assert_eq!(backoff(1), Duration::from_secs(1));
        assert_eq!(backoff(2), Duration::from_secs(2));
        assert_eq!(backoff(6), Duration::from_secs(32));
        assert_eq!(backoff(7), Duration::from_secs(60));
        assert_eq!(backoff(100), Duration::from_secs(60));
    }
}
