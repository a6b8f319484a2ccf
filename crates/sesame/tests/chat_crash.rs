//! A reply owed to someone in Slack survives `kill -9`: the answer to a direct message is a job
//! committed before Slack hears the acknowledgement, so a Sesame killed before the reply went out
//! sends it after a restart, and a Sesame restarted on the same host takes its dead predecessor's
//! jobs back at once instead of waiting their lease out.

use sesame_testkit::fake_slack::{FakeSlack, InjectedFailure};
use sesame_testkit::serve_process::ServeProcess;
use sesame_testkit::slack_driver::{SlackDriver, SIGNING_SECRET};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

fn config_in(dir: &Path, slack: &FakeSlack) -> PathBuf {
    let fixtures = sesame_testkit::fixtures();
    let path = dir.join("sesame.toml");
    let toml = format!(
        "[server]\nlisten = \"127.0.0.1:0\"\njob_lease_seconds = 600\n\
         [database]\nurl = {:?}\n[flows]\ndir = {:?}\n[directory]\nfile = {:?}\n\
         [log]\nlevel = \"warn\"\n\
         [slack]\nbot_token = {:?}\nsigning_secret = {SIGNING_SECRET:?}\napi_url = {:?}\npace_calls = false\n",
        format!("sqlite://{}", dir.join("data/sesame.db").display()),
        fixtures.join("flows").display().to_string(),
        fixtures.join("directory.yaml").display().to_string(),
        slack.bot_token(),
        slack.base_url(),
    );
    std::fs::write(&path, toml).expect("config");
    path
}

async fn wait_for<T>(what: &str, within: Duration, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + within;
    loop {
        if let Some(found) = check() {
            return found;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dm_reply_owed_when_sesame_is_killed_goes_out_after_the_restart() {
    let slack = FakeSlack::start().await;
    slack.add_user("U0ALICE", Some("alice@example.com"), "Alice Requester");
    slack.open_dm("U0ALICE");
    let dir = tempfile::tempdir().expect("temp dir");
    let config = config_in(dir.path(), &slack);
    let binary = Path::new(env!("CARGO_BIN_EXE_sesame"));
    let mut server = ServeProcess::start(binary, &config);

    // Slack is down when the answer is first tried; Sesame is killed while it still owes it.
    slack.fail_next("chat.postMessage", 1, InjectedFailure::HttpStatus(503));
    let driver = SlackDriver::new(&server.url);
    let ack = driver
        .event(driver.direct_message("U0ALICE", "I need carpark access", None))
        .await;
    assert_eq!(ack.status, 200);
    wait_for("the failed attempt", Duration::from_secs(10), || {
        (!slack.calls_to("chat.postMessage").is_empty()).then_some(())
    })
    .await;
    server.kill_9();
    assert!(slack.messages_in("DU0ALICE").is_empty());

    let restarted = ServeProcess::start(binary, &config);
    let reply = wait_for(
        "the reply after the restart",
        Duration::from_secs(20),
        || slack.messages_in("DU0ALICE").into_iter().next(),
    )
    .await;
    assert!(reply.text.contains("Carpark"), "{}", reply.text);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(slack.messages_in("DU0ALICE").len(), 1, "answered once");
    drop(restarted);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dm_reply_in_flight_when_sesame_is_killed_is_taken_back_without_waiting_the_lease() {
    let slack = FakeSlack::start().await;
    slack.add_user("U0ALICE", Some("alice@example.com"), "Alice Requester");
    slack.open_dm("U0ALICE");
    let dir = tempfile::tempdir().expect("temp dir");
    let config = config_in(dir.path(), &slack);
    let binary = Path::new(env!("CARGO_BIN_EXE_sesame"));
    let mut server = ServeProcess::start(binary, &config);

    // Slack holds the answer to the post, so the job is leased and in flight when Sesame dies;
    // the lease is ten minutes, and only taking it back runs the job again within the test's wait.
    slack.fail_next(
        "chat.postMessage",
        1,
        InjectedFailure::AnswerLate(Duration::from_secs(30)),
    );
    let driver = SlackDriver::new(&server.url);
    let ack = driver
        .event(driver.direct_message("U0ALICE", "I need carpark access", None))
        .await;
    assert_eq!(ack.status, 200);
    wait_for("the call in flight", Duration::from_secs(10), || {
        (!slack.calls_to("chat.postMessage").is_empty()).then_some(())
    })
    .await;
    server.kill_9();

    let restarted = ServeProcess::start(binary, &config);
    wait_for(
        "the job run again by the restarted Sesame",
        Duration::from_secs(20),
        || (slack.calls_to("chat.postMessage").len() >= 2).then_some(()),
    )
    .await;
    let replies = slack.messages_in("DU0ALICE");
    assert!(!replies.is_empty());
    assert!(
        replies.iter().all(|r| r.text.contains("Carpark")),
        "{replies:?}"
    );
    drop(restarted);
}
