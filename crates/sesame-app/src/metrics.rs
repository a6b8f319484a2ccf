//! Counters the application keeps for `/metrics`. Plain atomics: a handful of series does not need a
//! metrics library.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Mutex;

#[derive(Default)]
pub struct Metrics {
    transitions: Mutex<BTreeMap<&'static str, u64>>,
    pub jobs_done: AtomicU64,
    pub jobs_retried: AtomicU64,
    pub jobs_dead: AtomicU64,
    pub timers_fired: AtomicU64,
    pub audit: AuditGauges,
    /// Per audit stream: the last event delivered and the failed deliveries.
    streams: Mutex<BTreeMap<String, (i64, u64)>>,
}

/// The latest signed checkpoint of the audit trail, as last checked.
pub struct AuditGauges {
    pub checkpoint_event_id: AtomicI64,
    pub checkpoint_events: AtomicI64,
    pub checkpoint_timestamp_ms: AtomicI64,
    /// 1 when its signature and the event it signed hold, 0 when not; -1 before the first check
    /// (the gauges are left out of `/metrics` until then).
    pub checkpoint_valid: AtomicI64,
}

impl Default for AuditGauges {
    fn default() -> Self {
        AuditGauges {
            checkpoint_event_id: AtomicI64::new(0),
            checkpoint_events: AtomicI64::new(0),
            checkpoint_timestamp_ms: AtomicI64::new(0),
            checkpoint_valid: AtomicI64::new(-1),
        }
    }
}

impl Metrics {
    pub fn count_transition(&self, kind: &'static str) {
        let mut map = self
            .transitions
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *map.entry(kind).or_default() += 1;
    }

    pub fn set_stream_position(&self, sink: &str, last_event_id: i64) {
        let mut map = self
            .streams
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        map.entry(sink.to_owned()).or_default().0 = last_event_id;
    }

    pub fn count_stream_failure(&self, sink: &str) {
        let mut map = self
            .streams
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        map.entry(sink.to_owned()).or_default().1 += 1;
    }

    /// The metrics in Prometheus' text format.
    pub fn render(&self, out: &mut String) {
        use std::fmt::Write;
        let _ = writeln!(
            out,
            "# HELP sesame_request_commands_total Request commands applied, by kind."
        );
        let _ = writeln!(out, "# TYPE sesame_request_commands_total counter");
        let map = self
            .transitions
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for (kind, n) in map.iter() {
            let _ = writeln!(out, "sesame_request_commands_total{{kind=\"{kind}\"}} {n}");
        }
        for (name, help, value) in [
            (
                "sesame_jobs_done_total",
                "Outbox jobs delivered or fired.",
                &self.jobs_done,
            ),
            (
                "sesame_jobs_retried_total",
                "Outbox job attempts that failed and were rescheduled.",
                &self.jobs_retried,
            ),
            (
                "sesame_jobs_dead_total",
                "Outbox jobs given up on.",
                &self.jobs_dead,
            ),
            (
                "sesame_timers_fired_total",
                "Timers that changed a request.",
                &self.timers_fired,
            ),
        ] {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}",
                value.load(Ordering::Relaxed)
            );
        }
        self.render_audit(out);
    }

    fn render_audit(&self, out: &mut String) {
        use std::fmt::Write;
        let audit = &self.audit;
        let valid = audit.checkpoint_valid.load(Ordering::Relaxed);
        if valid >= 0 {
            for (name, help, value) in [
                (
                    "sesame_audit_last_checkpoint_event_id",
                    "The last audit event the latest signed checkpoint covers.",
                    audit.checkpoint_event_id.load(Ordering::Relaxed),
                ),
                (
                    "sesame_audit_last_checkpoint_events",
                    "How many audit events the latest signed checkpoint covers.",
                    audit.checkpoint_events.load(Ordering::Relaxed),
                ),
                (
                    "sesame_audit_last_checkpoint_timestamp_seconds",
                    "When the latest audit checkpoint was signed (Unix seconds).",
                    audit.checkpoint_timestamp_ms.load(Ordering::Relaxed) / 1000,
                ),
                (
                    "sesame_audit_last_checkpoint_valid",
                    "1 when the latest audit checkpoint's signature and event hold, 0 when not.",
                    valid,
                ),
            ] {
                let _ = writeln!(
                    out,
                    "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}"
                );
            }
        }
        let streams = self
            .streams
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if streams.is_empty() {
            return;
        }
        let _ = writeln!(
            out,
            "# HELP sesame_audit_stream_last_event_id The last audit event each stream delivered.\n# TYPE sesame_audit_stream_last_event_id gauge"
        );
        for (sink, (last, _)) in streams.iter() {
            let _ = writeln!(
                out,
                "sesame_audit_stream_last_event_id{{sink=\"{}\"}} {last}",
                escape_label(sink)
            );
        }
        let _ = writeln!(
            out,
            "# HELP sesame_audit_stream_failures_total Failed deliveries of the audit trail, by stream.\n# TYPE sesame_audit_stream_failures_total counter"
        );
        for (sink, (_, failures)) in streams.iter() {
            let _ = writeln!(
                out,
                "sesame_audit_stream_failures_total{{sink=\"{}\"}} {failures}",
                escape_label(sink)
            );
        }
    }
}

/// A Prometheus label value: backslashes, quotes and newlines escaped.
fn escape_label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}
