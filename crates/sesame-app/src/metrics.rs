//! Counters the application keeps for `/metrics`. Plain atomics: a handful of series does not need a
//! metrics library.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

#[derive(Default)]
pub struct Metrics {
    transitions: Mutex<BTreeMap<&'static str, u64>>,
    pub jobs_done: AtomicU64,
    pub jobs_retried: AtomicU64,
    pub jobs_dead: AtomicU64,
    pub timers_fired: AtomicU64,
}

impl Metrics {
    pub fn count_transition(&self, kind: &'static str) {
        let mut map = self
            .transitions
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *map.entry(kind).or_default() += 1;
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
    }
}
