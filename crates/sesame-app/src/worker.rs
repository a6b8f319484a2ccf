//! Who holds a job's lease, and whether that process still lives.
//!
//! A claimed job is leased to one worker; a worker that dies keeps its jobs until the lease runs
//! out, which across hosts is the only safe rule (another host cannot see the process). On the
//! same host it can: a Sesame restarted after `kill -9` finds the leases its dead predecessor held
//! and takes them back at once instead of waiting the lease out. A worker's name is
//! `host:pid:start`, where `start` tells apart two processes that got the same pid (a container's
//! pid 1 after a restart).

use std::time::{SystemTime, UNIX_EPOCH};

/// One process's name for its leases.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerId {
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
        WorkerId {
            host: hostname(),
            pid: std::process::id(),
            start: format!("{start:x}"),
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

    /// Whether `other` is a process on this host that is gone: not this process, and its pid
    /// either is this process's (so it died before we started) or runs no Sesame any more. Where
    /// the operating system cannot tell (no `/proc`), nothing is known to be dead.
    pub fn is_dead_neighbour(&self, other: &WorkerId) -> bool {
        if other.host != self.host || other == self {
            return false;
        }
        if other.pid == self.pid {
            return true;
        }
        let proc = std::path::Path::new("/proc");
        if !proc.join("self").exists() {
            return false;
        }
        let comm = |pid: &str| std::fs::read_to_string(proc.join(pid).join("comm")).ok();
        match comm(&other.pid.to_string()) {
            None => true,
            // A pid taken over by another program: the Sesame that had it is gone.
            Some(theirs) => comm("self").is_some_and(|ours| ours != theirs),
        }
    }
}

impl std::fmt::Display for WorkerId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{}", self.host, self.pid, self.start)
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().replace(':', "_"))
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| String::from("sesame"))
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
        if !std::path::Path::new("/proc/self").exists() {
            return;
        }
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .expect("sleep");
        let running = WorkerId {
            pid: child.id(),
            start: String::from("1"),
            ..me.clone()
        };
        // `sleep` is not a Sesame: its pid running something else means our worker is gone.
        assert!(me.is_dead_neighbour(&running));
        child.kill().ok();
        child.wait().ok();
        assert!(me.is_dead_neighbour(&running));
        // A live process with our own program name is alive.
        let parent = WorkerId {
            pid: std::os::unix::process::parent_id(),
            start: String::from("1"),
            ..me.clone()
        };
        let parent_comm = std::fs::read_to_string(format!("/proc/{}/comm", parent.pid)).ok();
        let own_comm = std::fs::read_to_string("/proc/self/comm").ok();
        if parent_comm == own_comm {
            assert!(!me.is_dead_neighbour(&parent));
        }
    }
}
