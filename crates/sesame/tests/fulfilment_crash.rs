//! `sesame serve` killed with SIGKILL in the middle of a grant, through the real `webhook`
//! connector: after a restart the outbox runs the grant again, the connector checks first, finds
//! the access the receiver already put in place, and records it. Exactly one grant is in effect and
//! the receiver was asked to grant once. Then the same in the middle of the removal that follows a
//! revoke: removed once, nothing left in effect.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::{Json, Router};
use secrecy::SecretString;
use serde_json::{json, Value};
use sesame_testkit::serve_process::ServeProcess;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const SECRET: &str = "a-shared-secret-for-the-crash-test";

/// A webhook receiver that keeps access in memory, counts the grants it carries out, and takes
/// its time over the first grant, so that Sesame can be killed while it waits.
#[derive(Default)]
struct Receiver {
    present: BTreeSet<String>,
    grants: usize,
    revokes: usize,
    checks: usize,
    refused: usize,
}

type Shared = (
    Arc<Mutex<Receiver>>,
    tokio::sync::mpsc::UnboundedSender<&'static str>,
);

fn lock(receiver: &Mutex<Receiver>) -> std::sync::MutexGuard<'_, Receiver> {
    receiver
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

async fn hook(
    State((receiver, started)): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, Json<Value>) {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let verified = sesame_connectors::verify_callback(
        &SecretString::from(SECRET),
        &header("x-sesame-timestamp"),
        &header("x-sesame-signature"),
        &body,
        now,
    );
    if verified.is_err() {
        lock(&receiver).refused += 1;
        return (StatusCode::UNAUTHORIZED, Json(json!({})));
    }
    let Ok(call) = serde_json::from_slice::<Value>(&body) else {
        return (StatusCode::BAD_REQUEST, Json(json!({})));
    };
    let key = format!("{}:{}", call["person"]["id"], call["target"]);
    match call["operation"].as_str() {
        Some("check") => {
            let mut r = lock(&receiver);
            r.checks += 1;
            (
                StatusCode::OK,
                Json(json!({ "present": r.present.contains(&key) })),
            )
        }
        Some("grant") => {
            // The work runs on its own, as a target system's would: a caller that disconnects
            // (Sesame killed mid-call) does not undo it.
            let work = tokio::spawn(async move {
                let first = lock(&receiver).grants == 0;
                if first {
                    let _ = started.send("grant");
                    // Sesame is killed while this grant is under way.
                    tokio::time::sleep(Duration::from_secs(3)).await;
                }
                let mut r = lock(&receiver);
                r.grants += 1;
                r.present.insert(key);
            });
            let _ = work.await;
            (StatusCode::OK, Json(json!({ "status": "done" })))
        }
        Some("revoke") => {
            // Like the grant: the first removal takes its time and completes even if Sesame dies.
            let work = tokio::spawn(async move {
                let first = lock(&receiver).revokes == 0;
                if first {
                    let _ = started.send("revoke");
                    tokio::time::sleep(Duration::from_secs(3)).await;
                }
                let mut r = lock(&receiver);
                r.revokes += 1;
                r.present.remove(&key);
            });
            let _ = work.await;
            (StatusCode::OK, Json(json!({ "status": "done" })))
        }
        _ => (StatusCode::BAD_REQUEST, Json(json!({}))),
    }
}

fn start_server(config: &Path) -> ServeProcess {
    ServeProcess::start(Path::new(env!("CARGO_BIN_EXE_sesame")), config)
}

/// The test kit's directory, a flow granted by the webhook connector without approval, and the
/// connector pointing at the receiver.
fn config_in(dir: &Path, hook_url: &str) -> PathBuf {
    let fixtures = sesame_testkit::fixtures();
    let flows = dir.join("flows");
    std::fs::create_dir_all(&flows).expect("flows dir");
    std::fs::write(
        flows.join("vpn.yaml"),
        "id: vpn\nname: VPN access\nrequesters: everyone\n\
         duration: { default: 1d, max: 7d }\n\
         fulfillment: { connector: hook, app: vpn }\n",
    )
    .expect("flow");
    let path = dir.join("sesame.toml");
    let toml = format!(
        "[server]\nlisten = \"127.0.0.1:0\"\njob_lease_seconds = 600\n[database]\nurl = {:?}\n[flows]\ndir = {:?}\n\
         [directory]\nfile = {:?}\n[log]\nlevel = \"warn\"\n\
         [connectors.hook]\nkind = \"webhook\"\nurl = {hook_url:?}\nsecret = {SECRET:?}\n\
         target_keys = [\"app\"]\ntimeout_ms = 10000\n",
        format!("sqlite://{}", dir.join("data/sesame.db").display()),
        flows.display().to_string(),
        fixtures.join("directory.yaml").display().to_string(),
    );
    std::fs::write(&path, toml).expect("config");
    path
}

fn token(config: &Path, user: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_sesame"))
        .arg("--config")
        .arg(config)
        .args(["token", "create", "--user", user, "--name", "test"])
        .output()
        .expect("run sesame");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

async fn state_of(url: &str, token: &str, number: i64) -> Value {
    reqwest::Client::new()
        .get(format!("{url}/api/v1/requests/{number}"))
        .bearer_auth(token)
        .send()
        .await
        .expect("read the request")
        .json()
        .await
        .expect("json")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_grant_and_a_removal_interrupted_by_kill_9_are_reconciled_once_after_restart() {
    let receiver = Arc::new(Mutex::new(Receiver::default()));
    let (started, mut work_started) = tokio::sync::mpsc::unbounded_channel();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let hook_url = format!("http://{}/hook", listener.local_addr().expect("address"));
    let app = Router::new()
        .route("/hook", post(hook))
        .with_state((receiver.clone(), started));
    tokio::spawn(async move { axum::serve(listener, app).await });

    let dir = tempfile::tempdir().expect("temp dir");
    let config = config_in(dir.path(), &hook_url);
    let alice = token(&config, "alice");
    let mut server = start_server(&config);
    let created: Value = reqwest::Client::new()
        .post(format!("{}/api/v1/requests", server.url))
        .bearer_auth(&alice)
        .json(&json!({ "flow": "vpn", "answers": {} }))
        .send()
        .await
        .expect("submit")
        .json()
        .await
        .expect("json");
    let number = created["number"].as_i64().expect("number");
    assert_eq!(created["state"], "fulfilling", "{created}");

    // The receiver has the grant in hand: kill Sesame before it hears back.
    tokio::time::timeout(Duration::from_secs(30), work_started.recv())
        .await
        .expect("the grant reached the receiver");
    server.kill_9();
    // Let the receiver finish the work Sesame never heard about.
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(lock(&receiver).grants, 1);

    // Nothing was recorded before the crash (the audit below shows the grant was found already in
    // place by the second run, not recorded by the first).
    let mut server = start_server(&config);
    // The restarted Sesame on the same host finds the dead process's lease and takes the job back
    // at once, instead of waiting the lease (ten minutes here) out: the grant runs again.
    let deadline = Instant::now() + Duration::from_secs(30);
    let active = loop {
        let request = state_of(&server.url, &alice, number).await;
        if request["state"] != "fulfilling" || Instant::now() > deadline {
            break request;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    assert_eq!(active["state"], "active", "{active}");
    assert_eq!(active["provisioning"]["connector"], "hook", "{active}");
    {
        let r = lock(&receiver);
        assert_eq!(r.grants, 1, "the receiver was asked to grant once");
        assert_eq!(r.present.len(), 1, "exactly one grant is in effect");
        assert!(
            r.checks >= 2,
            "each run checked first ({} checks)",
            r.checks
        );
        assert_eq!(r.refused, 0, "every call was signed");
    }
    let trail: Value = reqwest::Client::new()
        .get(format!("{}/api/v1/requests/{number}/audit", server.url))
        .bearer_auth(&alice)
        .send()
        .await
        .expect("audit")
        .json()
        .await
        .expect("json");
    let granted: Vec<&Value> = trail
        .as_array()
        .map(|events| {
            events
                .iter()
                .filter(|e| e["kind"] == "access_granted")
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(granted.len(), 1, "{trail}");
    assert_eq!(
        granted[0]["detail"]["answer"],
        "the access was already in place"
    );

    // The same between ending the access and removing it: Alice gives it up, and Sesame is killed
    // while the receiver removes it.
    let revoked: Value = reqwest::Client::new()
        .post(format!("{}/api/v1/requests/{number}/revoke", server.url))
        .bearer_auth(&alice)
        .json(&json!({}))
        .send()
        .await
        .expect("revoke")
        .json()
        .await
        .expect("json");
    assert_eq!(revoked["state"], "revoked", "{revoked}");
    let started = tokio::time::timeout(Duration::from_secs(30), work_started.recv())
        .await
        .expect("the removal reached the receiver");
    assert_eq!(started, Some("revoke"));
    server.kill_9();
    tokio::time::sleep(Duration::from_secs(4)).await;
    let mut server = start_server(&config);
    let deadline = Instant::now() + Duration::from_secs(30);
    let removed = loop {
        let request = state_of(&server.url, &alice, number).await;
        if request["provisioning"]["removed_at"].is_string() || Instant::now() > deadline {
            break request;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    assert!(
        removed["provisioning"]["removed_at"].is_string(),
        "{removed}"
    );
    assert_eq!(removed["state"], "revoked");
    {
        let r = lock(&receiver);
        assert_eq!(r.revokes, 1, "the receiver was asked to remove once");
        assert!(r.present.is_empty(), "no access is left in effect");
        assert_eq!(r.grants, 1);
    }
    server.kill_9();
}
