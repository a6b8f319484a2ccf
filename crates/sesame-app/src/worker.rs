//! Who holds a job's lease, and whether that process still lives.
//!
//! A claimed job is leased to one worker; a worker that dies keeps its jobs until the lease runs
//! out, which across hosts is the only safe rule (another host cannot see the process). On the
//! same host it can: a Sesame restarted after `kill -9` finds the leases its dead predecessor held
//! and takes them back at once instead of waiting the lease out. A worker's name is
//! `host/pidns:pid:start`: `pidns` (the kernel's pid namespace) keeps two containers that share a
//! host name apart, and `start` tells apart two processes that got the same pid (a container's
//! pid 1 after a restart). When in doubt a worker counts as alive: waiting a lease out is slow,
//! taking a live worker's job would run it twice.

use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

/// The workers this process created and that still live here (several applications in one
/// process share its pid, as tests of replicas do).
static LIVE_HERE: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// One process's name for its leases.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerId {
    /// The host name and the pid namespace; empty when either cannot be read, and then nothing
    /// is ever judged dead.
    host: String,
    pid: u32,
    start: String,
}

impl WorkerId {
    /// This process.
    pub fn current() -> WorkerId {
        let start = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let start = format!("{start:x}");
        LIVE_HERE
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(start.clone());
        WorkerId {
            host: host_and_namespace().unwrap_or_default(),
            pid: std::process::id(),
            start,
        }
    }

    /// Reads a name written by [`WorkerId::to_string`]; `None` for names of another form (a
    /// test's worker, an older Sesame), whose leases are left to run out.
    pub fn parse(name: &str) -> Option<WorkerId> {
        let mut parts = name.rsplitn(3, ':');
        let start = parts.next()?;
        let pid = parts.next()?.parse().ok()?;
        let host = parts.next()?;
        Some(WorkerId {
            host: host.to_owned(),
            pid,
            start: start.to_owned(),
        })
    }

    /// Whether `other` is a process on this host (and in this pid namespace) that is gone: not
    /// this process's, and either its pid is now this process's (it died before we started) or
    /// no process has its pid. Where the operating system cannot tell (no `/proc`, no host
    /// name), nothing is known to be dead.
    pub fn is_dead_neighbour(&self, other: &WorkerId) -> bool {
        if self.host.is_empty() || other.host != self.host || other == self {
            return false;
        }
        if other.pid == self.pid {
            let live_here = LIVE_HERE
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            return !live_here.contains(&other.start);
        }
        let proc = std::path::Path::new("/proc");
        proc.join("self").exists() && !proc.join(other.pid.to_string()).exists()
    }
}

impl std::fmt::Display for WorkerId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{}", self.host, self.pid, self.start)
    }
}

/// `host/pidns`: the kernel's host name and this process's pid namespace, or `None` when either
/// is unknown.
fn host_and_namespace() -> Option<String> {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .ok()?
        .trim()
        .replace(':', "_");
    let namespace = std::fs::read_link("/proc/self/ns/pid").ok()?;
    let namespace = namespace.to_string_lossy().replace(':', "_");
    (!host.is_empty()).then(|| format!("{host}/{namespace}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_foreign_names_are_not_read() {
        let me = WorkerId::current();
        assert_eq!(WorkerId::parse(&me.to_string()), Some(me.clone()));
        assert_eq!(WorkerId::parse("test"), None);
        assert_eq!(WorkerId::parse("host-12"), None);
    }

    #[test]
    fn a_predecessor_with_our_pid_is_dead_and_we_are_not() {
        let me = WorkerId::current();
        assert!(!me.is_dead_neighbour(&me));
        let predecessor = WorkerId {
            start: String::from("0"),
            ..me.clone()
        };
        assert!(me.is_dead_neighbour(&predecessor));
        let elsewhere = WorkerId {
            host: String::from("another-host"),
            ..predecessor
        };
        assert!(
            !me.is_dead_neighbour(&elsewhere),
            "other hosts wait out the lease"
        );
    }

    #[test]
    fn a_live_process_is_not_dead_and_a_finished_one_is() {
        let me = WorkerId::current();
        if me.host.is_empty() {
            return;
        }
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .expect("sleep");
        let other = WorkerId {
            pid: child.id(),
            start: String::from("1"),
            ..me.clone()
        };
        assert!(
            !me.is_dead_neighbour(&other),
            "a running process may be a Sesame"
        );
        child.kill().ok();
        child.wait().ok();
        assert!(me.is_dead_neighbour(&other), "its pid is gone");
    }

    #[test]
    fn two_applications_in_one_process_do_not_take_each_others_jobs() {
        let first = WorkerId::current();
        let second = WorkerId::current();
        assert!(!first.is_dead_neighbour(&second));
        assert!(!second.is_dead_neighbour(&first));
    }
}
