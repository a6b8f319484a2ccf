//! Job leases: a claimed job belongs to its worker until the lease ends; the lease's length is
//! configurable; and a Sesame takes back at once the leases of a dead process on its own host,
//! never those of a live one or of another host.

#[macro_use]
mod support;

use sesame_app::dispatcher::LEASE_MILLIS;
use sesame_app::{Job, JobPayload};
use std::sync::Arc;
use std::time::Duration;
use support::{chat_work, Builder, Db, FakeChatWorker, Harness};

on_both_databases!(
    a_claimed_job_is_not_claimed_again_before_its_lease_ends,
    set_job_lease_changes_the_lease,
    leases_of_a_dead_process_on_this_host_are_taken_back,
    leases_of_a_live_worker_are_left_alone,
    leases_of_another_host_are_left_alone,
);

/// A pid no process can have: Linux's largest `pid_max` is 2^22, and pids stay below it.
const NO_SUCH_PID: u32 = 4_194_304;

async fn with_worker(db: Db) -> Option<(Harness, Arc<FakeChatWorker>)> {
    let worker = FakeChatWorker::new();
    let harness = Builder::on(db).chat_worker(worker.clone()).build().await?;
    Some((harness, worker))
}

/// The chat job `id` as it is stored now.
async fn job(harness: &Harness, id: &str) -> Job {
    harness
        .pending()
        .await
        .into_iter()
        .find(|j| matches!(&j.payload, JobPayload::Chat(w) if w.work["id"] == id))
        .unwrap_or_else(|| panic!("no pending job {id}"))
}

/// Commits the work `id` and has it claimed by `holder`, which then dies holding it.
async fn leased_to(harness: &Harness, worker: &FakeChatWorker, id: &str, holder: &str) {
    harness.app.owe(None, chat_work(id)).await.unwrap();
    harness.die_holding(holder, worker, id).await;
    let job = job(harness, id).await;
    assert!(job.locked_until.is_some(), "{id} is leased to {holder}");
}

/// Whoever else looks for work now: the jobs it may claim, by id.
async fn claimable(harness: &Harness, worker: &FakeChatWorker) -> Vec<String> {
    let before = worker.performed().len();
    harness.app.run_jobs_once("probe").await.unwrap();
    let mut ids: Vec<String> = worker.performed()[before..]
        .iter()
        .map(|(id, _)| id.clone())
        .collect();
    ids.sort();
    ids
}

async fn a_claimed_job_is_not_claimed_again_before_its_lease_ends(db: Db) {
    let Some((harness, worker)) = with_worker(db).await else {
        return;
    };
    leased_to(&harness, &worker, "reply", "w1").await;
    let leased = job(&harness, "reply").await;
    assert_eq!(
        leased.locked_until.map(|t| t.0),
        Some(harness.now().0 + LEASE_MILLIS)
    );
    assert_eq!(leased.attempts, 1);

    assert!(claimable(&harness, &worker).await.is_empty());
    harness.advance(LEASE_MILLIS / 1000);
    assert!(
        claimable(&harness, &worker).await.is_empty(),
        "still leased at the lease's last moment"
    );
    harness.advance(1);
    assert_eq!(claimable(&harness, &worker).await, ["reply"]);
    assert_eq!(
        worker.performed().last(),
        Some(&(String::from("reply"), 2)),
        "the crashed claim counted as an attempt"
    );
    assert!(harness.pending().await.is_empty());
}

async fn set_job_lease_changes_the_lease(db: Db) {
    let Some((harness, worker)) = with_worker(db).await else {
        return;
    };
    harness.app.set_job_lease(Duration::from_secs(5));
    leased_to(&harness, &worker, "reply", "w1").await;
    let leased = job(&harness, "reply").await;
    assert_eq!(
        leased.locked_until.map(|t| t.0),
        Some(harness.now().0 + 5_000)
    );
    harness.advance(5);
    assert!(claimable(&harness, &worker).await.is_empty());
    harness.advance(1);
    assert_eq!(claimable(&harness, &worker).await, ["reply"]);

    // Shorter than a second is taken as a second.
    harness.app.set_job_lease(Duration::from_millis(10));
    leased_to(&harness, &worker, "short", "w2").await;
    let leased = job(&harness, "short").await;
    assert_eq!(
        leased.locked_until.map(|t| t.0),
        Some(harness.now().0 + 1_000)
    );
}

async fn leases_of_a_dead_process_on_this_host_are_taken_back(db: Db) {
    let Some((harness, worker)) = with_worker(db).await else {
        return;
    };
    let host = harness.host();
    let mut finished = std::process::Command::new("true")
        .spawn()
        .expect("run `true`");
    finished.wait().expect("wait for `true`");
    let holders = [
        (
            String::from("no-such-pid"),
            format!("{host}:{NO_SUCH_PID}:1a2b"),
        ),
        (
            String::from("finished"),
            format!("{host}:{}:1a2b", finished.id()),
        ),
        // Our own pid with another start: a predecessor that had it (a container's pid 1).
        (
            String::from("predecessor"),
            format!("{host}:{}:0", std::process::id()),
        ),
    ];
    for (id, holder) in &holders {
        leased_to(&harness, &worker, id, holder).await;
    }
    assert!(
        claimable(&harness, &worker).await.is_empty(),
        "the leases hold until they are taken back"
    );

    harness.app.take_back_dead_leases().await;
    for (id, _) in &holders {
        assert_eq!(job(&harness, id).await.locked_until, None, "{id}");
    }
    assert_eq!(
        claimable(&harness, &worker).await,
        ["finished", "no-such-pid", "predecessor"]
    );
    assert!(harness.pending().await.is_empty());
}

async fn leases_of_a_live_worker_are_left_alone(db: Db) {
    let Some((harness, worker)) = with_worker(db).await else {
        return;
    };
    let host = harness.host();
    leased_to(&harness, &worker, "mine", &harness.app.worker_name()).await;
    let neighbour = LiveNeighbour::start();
    if let Some(neighbour) = &neighbour {
        let holder = format!("{host}:{}:1a2b", neighbour.pid());
        leased_to(&harness, &worker, "neighbour", &holder).await;
    } else {
        eprintln!("note: no /proc here; only this process's own lease is checked");
    }

    harness.app.take_back_dead_leases().await;
    assert!(job(&harness, "mine").await.locked_until.is_some());
    if neighbour.is_some() {
        assert!(job(&harness, "neighbour").await.locked_until.is_some());
    }
    assert!(claimable(&harness, &worker).await.is_empty());
}

async fn leases_of_another_host_are_left_alone(db: Db) {
    let Some((harness, worker)) = with_worker(db).await else {
        return;
    };
    leased_to(
        &harness,
        &worker,
        "elsewhere",
        &format!("another-host-{}:{NO_SUCH_PID}:1a2b", harness.host()),
    )
    .await;
    // A name of another form (an older Sesame, a test's worker) tells nothing either.
    leased_to(&harness, &worker, "unnamed", "dispatcher-7").await;
    harness.app.take_back_dead_leases().await;
    assert!(job(&harness, "elsewhere").await.locked_until.is_some());
    assert!(job(&harness, "unnamed").await.locked_until.is_some());
    assert!(claimable(&harness, &worker).await.is_empty());
}

/// A live process running under this test's program name, as another Sesame on this host would:
/// `sleep`, started through a link named like this program (the kernel names a process after the
/// file it ran). `None` where there is no `/proc` to read names from, or the trick did not work.
struct LiveNeighbour {
    child: std::process::Child,
    _dir: tempfile::TempDir,
}

impl LiveNeighbour {
    fn start() -> Option<LiveNeighbour> {
        use std::os::unix::process::CommandExt;
        let ours = std::fs::read_to_string("/proc/self/comm").ok()?;
        let sleep = ["/bin/sleep", "/usr/bin/sleep"]
            .into_iter()
            .find(|p| std::path::Path::new(p).exists())?;
        let dir = tempfile::tempdir().ok()?;
        let link = dir.path().join(ours.trim_end());
        std::os::unix::fs::symlink(sleep, &link).ok()?;
        let child = std::process::Command::new(&link)
            .arg0("sleep")
            .arg("60")
            .spawn()
            .ok()?;
        let neighbour = LiveNeighbour { child, _dir: dir };
        let theirs = std::fs::read_to_string(format!("/proc/{}/comm", neighbour.pid())).ok()?;
        (theirs == ours).then_some(neighbour)
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for LiveNeighbour {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
