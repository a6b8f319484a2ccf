//! The `sesame` binary as people run it: `check`, `flows explain`, `token create`, `audit`, and
//! `serve` surviving kill -9 and stopping cleanly on SIGTERM.

use serde_json::json;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

fn sesame(config: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sesame"))
        .arg("--config")
        .arg(config)
        .args(args)
        .output()
        .expect("run sesame")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A config on the test kit's fixtures with its own SQLite file.
fn config_in(dir: &Path) -> PathBuf {
    let fixtures = sesame_testkit::fixtures();
    let path = dir.join("sesame.toml");
    let toml = format!(
        "[server]\nlisten = \"127.0.0.1:0\"\n[database]\nurl = {:?}\n[flows]\ndir = {:?}\n[directory]\nfile = {:?}\n[log]\nlevel = \"warn\"\n",
        format!("sqlite://{}", dir.join("data/sesame.db").display()),
        fixtures.join("flows").display().to_string(),
        fixtures.join("directory.yaml").display().to_string(),
    );
    std::fs::write(&path, toml).unwrap();
    path
}

#[test]
fn check_reports_every_problem_with_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let flows = dir.path().join("flows");
    std::fs::create_dir(&flows).unwrap();
    std::fs::write(
        flows.join("broken.yaml"),
        "id: broken\nname: Broken\nrequesters: everyone\nquestions:\n  - { id: a, label: A, type: select }\n  - { id: b, label: B, type: text, shown_if: { zzz: 1 } }\nfulfillment: { manual: { group: it } }\n",
    )
    .unwrap();
    std::fs::write(
        flows.join("good.yaml"),
        "id: good\nname: Good\nrequesters: everyone\nfulfillment: { manual: { group: it } }\n",
    )
    .unwrap();
    let out = sesame(
        &config_in(dir.path()),
        &["check", "--flows", flows.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains(
            "broken.yaml:5:5: questions[0].options: a select question needs `options: [...]`"
        ),
        "{err}"
    );
    assert!(
        err.contains(
            "broken.yaml:6:48: questions[1].shown_if.zzz: `zzz` is not an earlier question"
        ),
        "{err}"
    );
    assert!(err.contains("no flow was loaded"), "{err}");

    let ok = sesame(&config_in(dir.path()), &["check"]);
    assert!(ok.status.success(), "{}", text(&ok.stderr));
    assert!(
        text(&ok.stdout).contains("ok: 4 flow(s) are valid, 4 warning(s)"),
        "{}",
        text(&ok.stdout)
    );

    // The fixtures' own separation-of-duties traps are reported, naming who would meet them.
    assert!(
        text(&ok.stdout).contains("warning: flow prod-db: step 1 (Approval by security): when sam asks, only 1 of the 2 approvers it needs are left"),
        "{}",
        text(&ok.stdout)
    );

    // The matcher's vocabulary file is checked too.
    let config = config_in(dir.path());
    let vocabulary = dir.path().join("words.yaml");
    std::fs::write(&vocabulary, "synonyms: [not, a, map]\n").unwrap();
    let mut toml = std::fs::read_to_string(&config).unwrap();
    toml.push_str(&format!(
        "[matcher]\nvocabulary = {:?}\n",
        vocabulary.display().to_string()
    ));
    std::fs::write(&config, toml).unwrap();
    let refused = sesame(&config, &["check"]);
    assert!(!refused.status.success());
    assert!(
        text(&refused.stderr).contains("words.yaml"),
        "{}",
        text(&refused.stderr)
    );
    std::fs::write(&vocabulary, "synonyms:\n  parking: [stellplatz]\n").unwrap();
    let accepted = sesame(&config, &["check"]);
    assert!(accepted.status.success(), "{}", text(&accepted.stderr));
}

#[test]
fn explain_says_who_approves_and_why_without_storing_anything() {
    let dir = tempfile::tempdir().unwrap();
    let config = config_in(dir.path());
    let out = sesame(
        &config,
        &["flows", "explain", "carpark", "--as", "alice@example.com"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    for expected in [
        "alice may request it: Alice Requester is a member of Employees",
        "step 1: Manager approval — 1 of: carol",
        "why: Carol Manager is Alice Requester's manager",
        "escalated to ada after 1d",
        "access lasts 30d by default; the requester may choose up to 90d",
    ] {
        assert!(
            stdout.contains(expected),
            "missing {expected:?} in:\n{stdout}"
        );
    }
    assert!(
        !dir.path().join("data").exists(),
        "a dry run with a directory file opens no database"
    );
    let out = sesame(&config, &["flows", "explain", "carpark", "--as", "eve"]);
    assert!(text(&out.stdout)
        .contains("eve may NOT request it: only members of employees may request Carpark access"));
}

struct Server {
    child: Child,
    url: String,
    /// What it printed before it listened.
    summary: Vec<String>,
}

fn start_server(config: &Path) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sesame"))
        .arg("--config")
        .arg(config)
        .arg("serve")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start sesame serve");
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let mut summary = Vec::new();
    let url = loop {
        let line = lines
            .next()
            .expect("sesame serve printed its address")
            .unwrap();
        if let Some(rest) = line.strip_prefix("sesame: listening on ") {
            break rest.split_whitespace().next().unwrap().to_owned();
        }
        summary.push(line);
    };
    // Keep reading so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    Server {
        child,
        url,
        summary,
    }
}

/// Stops the server as a service manager does (SIGTERM) and checks that it stopped cleanly.
fn stop_server(mut server: Server) {
    let status = Command::new("kill")
        .arg("-TERM")
        .arg(server.child.id().to_string())
        .status()
        .unwrap();
    assert!(status.success());
    let exit = server.child.wait().unwrap();
    assert!(exit.success(), "sesame exits 0 on SIGTERM, got {exit:?}");
}

fn token(config: &Path, user: &str) -> String {
    let out = sesame(
        config,
        &["token", "create", "--user", user, "--name", "test"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    text(&out.stdout).trim().to_owned()
}

/// Submits requests from several tasks until stopped; returns every number the server acknowledged.
async fn submit_until(
    url: String,
    token: String,
    stop: tokio::sync::watch::Receiver<bool>,
) -> Vec<i64> {
    let client = reqwest::Client::new();
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let (client, url, token, stop) = (client.clone(), url.clone(), token.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            let mut acknowledged = Vec::new();
            while !*stop.borrow() {
                let sent = client
                    .post(format!("{url}/api/v1/requests"))
                    .bearer_auth(&token)
                    .json(&json!({ "flow": "badge", "answers": { "floor": "1" } }))
                    .send()
                    .await;
                let Ok(response) = sent else { break };
                if response.status() != reqwest::StatusCode::CREATED {
                    break;
                }
                let Ok(body) = response.json::<serde_json::Value>().await else {
                    break;
                };
                acknowledged.push(body["number"].as_i64().unwrap());
            }
            acknowledged
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    all
}

async fn numbers_stored(url: &str, token: &str) -> Vec<i64> {
    let client = reqwest::Client::new();
    let mut numbers = Vec::new();
    let mut before: Option<i64> = None;
    loop {
        let mut q = String::from("/api/v1/requests?limit=500");
        if let Some(b) = before {
            q.push_str(&format!("&before={b}"));
        }
        let page: serde_json::Value = client
            .get(format!("{url}{q}"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        numbers.extend(
            page["requests"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["number"].as_i64().unwrap()),
        );
        match page["next_before"].as_i64() {
            Some(b) => before = Some(b),
            None => return numbers,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_acknowledged_request_survives_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let config = config_in(dir.path());
    let alice = token(&config, "alice");
    let mut server = start_server(&config);
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let load = tokio::spawn(submit_until(server.url.clone(), alice.clone(), stopped));
    tokio::time::sleep(std::time::Duration::from_millis(700)).await;
    server.child.kill().unwrap(); // SIGKILL: no chance to flush or clean up.
    server.child.wait().unwrap();
    let _ = stop.send(true);
    let acknowledged = load.await.unwrap();
    assert!(
        acknowledged.len() > 10,
        "the load ran ({} acknowledged)",
        acknowledged.len()
    );

    let mut server = start_server(&config);
    let mut stored = numbers_stored(&server.url, &alice).await;
    stored.sort();
    for n in &acknowledged {
        assert!(
            stored.binary_search(n).is_ok(),
            "request #{n} was acknowledged but lost"
        );
    }
    server.child.kill().unwrap();
    server.child.wait().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_stops_cleanly_and_loses_no_accepted_work() {
    let dir = tempfile::tempdir().unwrap();
    let config = config_in(dir.path());
    let alice = token(&config, "alice");
    let mut server = start_server(&config);
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let load = tokio::spawn(submit_until(server.url.clone(), alice.clone(), stopped));
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let status = Command::new("kill")
        .arg("-TERM")
        .arg(server.child.id().to_string())
        .status()
        .unwrap();
    assert!(status.success());
    let exit = server.child.wait().unwrap();
    let _ = stop.send(true);
    let acknowledged = load.await.unwrap();
    assert!(exit.success(), "sesame exits 0 on SIGTERM, got {exit:?}");

    let mut server = start_server(&config);
    let stored = numbers_stored(&server.url, &alice).await;
    assert!(
        acknowledged.iter().all(|n| stored.contains(n)),
        "every acknowledged request is stored"
    );
    server.child.kill().unwrap();
    server.child.wait().unwrap();
}

/// `sesame match` on the committed evaluation catalog: one JSON line per message on stdin, and
/// `match eval` printing the figures per kind.
#[test]
fn match_ranks_stdin_messages_and_eval_prints_the_figures() {
    use std::io::Write;
    let eval = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../eval/matcher");
    let flows = eval.join("flows");
    let mut child = Command::new(env!("CARGO_BIN_EXE_sesame"))
        .args(["match", "--flows", flows.to_str().unwrap()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run sesame match");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(
            "I can't get into the parking garage\nwhat's for lunch?\nprod db ro for 2h, INC-4411\n"
                .as_bytes(),
        )
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let lines: Vec<serde_json::Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(
        lines[0]["text"],
        json!("I can't get into the parking garage")
    );
    assert_eq!(lines[0]["ranked"][0]["flow"], json!("carpark"));
    assert!(lines[0]["ranked"][0]["score"].is_number());
    assert_eq!(lines[0]["confident"], json!(true));
    assert!(
        lines[0]["why"].as_str().unwrap().contains("parking garage"),
        "{}",
        lines[0]["why"]
    );
    assert_eq!(lines[1]["confident"], json!(false));
    assert_eq!(lines[2]["ranked"][0]["flow"], json!("database-prod-read"));
    assert_eq!(lines[2]["extracted"]["ticket"], json!("INC-4411"));
    assert_eq!(lines[2]["extracted"]["duration"], json!("2h"));

    let out = Command::new(env!("CARGO_BIN_EXE_sesame"))
        .args(["match", "eval"])
        .arg(eval.join("holdout.jsonl"))
        .args(["--flows", flows.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report = text(&out.stdout);
    for expected in [
        "top-1", "top-3", "abstain", "no_match", "spanish", "overall",
    ] {
        assert!(report.contains(expected), "{report}");
    }
}

#[tokio::test]
async fn identities_check_reports_who_cannot_be_reached_and_which_accounts_are_nobody() {
    let slack = sesame_testkit::fake_slack::FakeSlack::start().await;
    for (id, email, name) in [
        ("U0ALICE", "alice@example.com", "Alice Requester"),
        ("U0CAROL", "carol@example.com", "Carol Manager"),
        ("U0FRED", "fred@example.com", "Fred Facilities"),
        ("U0STRANGER", "stranger@elsewhere.example", "Stranger"),
    ] {
        slack.add_user(id, Some(email), name);
    }
    let dir = tempfile::tempdir().unwrap();
    let config = config_in(dir.path());
    let mut toml = std::fs::read_to_string(&config).unwrap();
    toml.push_str(&format!(
        "[slack]\nbot_token = {:?}\nsigning_secret = \"s3cret-for-tests\"\napi_url = {:?}\n",
        slack.bot_token(),
        slack.base_url()
    ));
    std::fs::write(&config, toml).unwrap();
    let run = |args: &'static [&'static str]| {
        let config = config.clone();
        tokio::task::spawn_blocking(move || sesame(&config, args))
    };

    let out = run(&["identities", "check"]).await.unwrap();
    let report = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{report}{}", text(&out.stderr));
    // Fran is linked to U0FRAN, which the workspace does not have; Bob and others have no account;
    // the stranger's account is nobody; Fred is found by his email.
    assert!(
        report.contains("fran is linked to U0FRAN, which does not exist"),
        "{report}"
    );
    assert!(
        report.contains("bob (bob@example.com) has no chat account"),
        "{report}"
    );
    assert!(report.contains("account U0STRANGER"), "{report}");
    assert!(
        report.contains("2 linked explicitly, 1 matched by email"),
        "{report}"
    );

    let json = run(&["identities", "check", "--json"]).await.unwrap();
    let parsed: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(parsed["matched_by_email"], 1);
    assert!(parsed["problems"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["problem"] == "account_without_person" && p["account"] == "U0STRANGER"));
}

#[test]
fn check_refuses_a_flow_whose_connector_is_not_configured_or_refuses_its_settings() {
    let dir = tempfile::tempdir().unwrap();
    let flows = dir.path().join("flows");
    std::fs::create_dir(&flows).unwrap();
    std::fs::write(
        flows.join("vpn.yaml"),
        "id: vpn\nname: VPN\nrequesters: everyone\nfulfillment: { connector: hook, group: vpn }\n",
    )
    .unwrap();
    let write_config = |connectors: &str| {
        let path = dir.path().join("sesame.toml");
        let toml = format!(
            "[database]\nurl = {:?}\n[flows]\ndir = {:?}\n[directory]\nfile = {:?}\n{connectors}",
            format!("sqlite://{}", dir.path().join("sesame.db").display()),
            flows.display().to_string(),
            sesame_testkit::fixtures()
                .join("directory.yaml")
                .display()
                .to_string(),
        );
        std::fs::write(&path, toml).unwrap();
        path
    };
    let out = sesame(&write_config(""), &["check"]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("vpn.yaml:4:")
            && err.contains("fulfillment.connector: there is no connector `hook`"),
        "{err}"
    );
    let hook = |keys: &str| {
        format!(
            "[connectors.hook]\nkind = \"webhook\"\nurl = \"http://127.0.0.1:9/hook\"\n\
             secret = \"0123456789abcdef-check\"\ntarget_keys = [{keys}]\n"
        )
    };
    let out = sesame(&write_config(&hook("\"app\"")), &["check"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    assert!(
        text(&out.stderr).contains("vpn.yaml:4:"),
        "{}",
        text(&out.stderr)
    );
    let out = sesame(&write_config(&hook("\"group\"")), &["check"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
}

/// A config for the audit trail's story: the test kit's fixtures on `database_url`, the signing key
/// and a stream file in `dir`.
fn audit_config(dir: &Path, database_url: &str) -> PathBuf {
    let fixtures = sesame_testkit::fixtures();
    let path = dir.join("sesame.toml");
    let toml = format!(
        "[server]\nlisten = \"127.0.0.1:0\"\n[database]\nurl = {database_url:?}\n[flows]\ndir = {:?}\n[directory]\nfile = {:?}\n[log]\nlevel = \"warn\"\n[audit]\nsigning_key_file = {:?}\nstream_file = {:?}\n",
        fixtures.join("flows").display().to_string(),
        fixtures.join("directory.yaml").display().to_string(),
        dir.join("keys/audit.pem").display().to_string(),
        dir.join("audit.jsonl").display().to_string(),
    );
    std::fs::write(&path, toml).unwrap();
    path
}

fn json_lines(text: &str) -> Vec<serde_json::Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect()
}

/// `sesame audit public-key`, `verify` and `export`, the stream file, and `serve` recreating
/// dropped triggers loudly, on one database.
fn audit_story(database_url: &str, dir: &Path) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let config = audit_config(dir, database_url);
    let out = sesame(&config, &["audit", "public-key"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("there is no audit signing key"),
        "{}",
        text(&out.stderr)
    );

    // The first start makes the key and says so; a request and a clean stop follow.
    let alice = token(&config, "alice");
    let server = start_server(&config);
    assert!(
        server
            .summary
            .iter()
            .any(|l| l.contains("generated a new audit signing key") && l.contains("ed25519:")),
        "{:?}",
        server.summary
    );
    runtime.block_on(async {
        let response = reqwest::Client::new()
            .post(format!("{}/api/v1/requests", server.url))
            .bearer_auth(&alice)
            .json(&json!({ "flow": "badge", "answers": { "floor": "1" }, "justification": "new desk" }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), reqwest::StatusCode::CREATED);
    });
    stop_server(server);

    let out = sesame(&config, &["audit", "public-key"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let public_key = text(&out.stdout).trim().to_owned();
    assert!(public_key.starts_with("ed25519:"), "{public_key}");

    let out = sesame(&config, &["audit", "verify"]);
    let report = text(&out.stdout);
    assert!(out.status.success(), "{report}{}", text(&out.stderr));
    assert!(report.contains("ok: the audit trail is whole"), "{report}");
    assert!(
        report.contains("signed checkpoint(s) hold") && report.contains("0 event(s) after it"),
        "the clean stop signed everything: {report}"
    );
    let out = sesame(&config, &["audit", "verify", "--public-key", &public_key]);
    assert!(out.status.success(), "{}", text(&out.stdout));

    // Export: everything, the rest after an id, from a time on; the stream file has it all.
    let out = sesame(&config, &["audit", "export"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let all = json_lines(&text(&out.stdout));
    let ids: Vec<i64> = all.iter().map(|e| e["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, (1..=ids.len() as i64).collect::<Vec<_>>());
    let submitted = all
        .iter()
        .find(|e| e["kind"] == "submitted")
        .expect("the request's submission");
    assert_eq!(submitted["detail"]["justification"], "new desk");
    assert_eq!(submitted["detail"]["answers"]["floor"], "1");
    assert!(submitted["at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(submitted["hash"].as_str().unwrap().len(), 64);
    let streamed = json_lines(&std::fs::read_to_string(dir.join("audit.jsonl")).unwrap());
    assert_eq!(streamed, all, "the stream file holds every event, once");
    let out = sesame(&config, &["audit", "export", "--since", "3"]);
    assert_eq!(json_lines(&text(&out.stdout)), all[3..]);
    let out = sesame(
        &config,
        &[
            "audit",
            "export",
            "--since",
            submitted["at"].as_str().unwrap(),
        ],
    );
    assert_eq!(
        json_lines(&text(&out.stdout))[0]["id"],
        all.iter().find(|e| e["at"] == submitted["at"]).unwrap()["id"]
    );
    let out = sesame(&config, &["audit", "export", "--since", "yesterday"]);
    assert_eq!(out.status.code(), Some(1));

    // Another key does not vouch for these checkpoints.
    let other = dir.join("other.pem");
    let other_config = std::fs::read_to_string(&config)
        .unwrap()
        .replace("keys/audit.pem", "other.pem");
    let other_config_path = dir.join("other.toml");
    std::fs::write(&other_config_path, other_config).unwrap();
    std::fs::write(
        &other,
        "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIM2Nc0a/wQxLkdFssH052HalStW24Hm3465MIeFtXrkA\n-----END PRIVATE KEY-----\n",
    )
    .unwrap();
    let out = sesame(&other_config_path, &["audit", "verify"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stdout).contains("BROKEN: checkpoint 1 (covering event"),
        "{}",
        text(&out.stdout)
    );

    // Someone with database access drops a trigger and rewrites who filed the request.
    runtime.block_on(async {
        let store = sesame_store::Store::connect(database_url).await.unwrap();
        let drop = match store.backend() {
            sesame_store::Backend::Sqlite => "DROP TRIGGER audit_refuses_update",
            sesame_store::Backend::Postgres => {
                "DROP TRIGGER audit_refuses_update_and_delete ON audit"
            }
        };
        store.execute_raw_for_tests(drop).await.unwrap();
        store
            .execute_raw_for_tests(&format!(
                "UPDATE audit SET actor = 'mallory' WHERE id = {}",
                submitted["id"]
            ))
            .await
            .unwrap();
        store.close().await;
    });
    let out = sesame(&config, &["audit", "verify"]);
    let report = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{report}");
    assert!(report.contains("append-only is missing"), "{report}");
    assert!(
        report.contains(&format!(
            "BROKEN: event {} (request #{}, {}): it was changed after it was written",
            submitted["id"],
            submitted["request"],
            submitted["at"].as_str().unwrap()
        )),
        "{report}"
    );

    // The next start recreates the trigger, says so, and records it; the edit stays visible.
    let server = start_server(&config);
    assert!(
        server
            .summary
            .iter()
            .any(|l| l.contains("WARNING: the audit trail's append-only triggers")),
        "{:?}",
        server.summary
    );
    stop_server(server);
    let out = sesame(&config, &["audit", "export"]);
    assert!(json_lines(&text(&out.stdout))
        .iter()
        .any(|e| e["kind"] == "audit_guards_restored"));
    let out = sesame(&config, &["audit", "verify"]);
    let report = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{report}");
    assert!(!report.contains("is missing"), "{report}");
    assert!(
        report.contains("it was changed after it was written"),
        "{report}"
    );
}

#[test]
fn audit_verify_public_key_export_and_streams_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("data/sesame.db").display());
    audit_story(&url, dir.path());
}

#[test]
fn audit_verify_public_key_export_and_streams_on_postgres() {
    let Some(admin) = sesame_testkit::postgres_admin_url() else {
        return;
    };
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let url = runtime
        .block_on(sesame_store::create_test_database(&admin))
        .unwrap();
    drop(runtime);
    let dir = tempfile::tempdir().unwrap();
    audit_story(&url, dir.path());
}

#[test]
fn check_and_explain_warn_where_duties_cannot_be_separated() {
    let dir = tempfile::tempdir().unwrap();
    let flows = dir.path().join("flows");
    std::fs::create_dir(&flows).unwrap();
    // Fred alone owns step 1 (so he must approve it) and is one of the two Facilities approvers
    // step 2 needs; step 1 escalates to Fran alone, and Fran alone fulfils.
    std::fs::write(
        flows.join("cash.yaml"),
        "id: cash\nname: Petty cash\nrequesters: everyone\napproval:\n  - { name: Owner, approvers: { users: [fred] }, escalate_after: 1d, escalate_to: { user: fran } }\n  - { name: Facilities, approvers: { group: facilities }, required: 2 }\nfulfillment: { manual: { users: [fran] } }\n",
    )
    .unwrap();
    let config = config_in(dir.path());
    let fixture_flows = format!(
        "{:?}",
        sesame_testkit::fixtures()
            .join("flows")
            .display()
            .to_string()
    );
    let toml = std::fs::read_to_string(&config).unwrap().replace(
        &fixture_flows,
        &format!("{:?}", flows.display().to_string()),
    );
    std::fs::write(&config, toml).unwrap();
    let out = sesame(&config, &["check"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    for expected in [
        "warning: flow cash: step 1 (Owner): when fred asks, they would be its only approver, and nobody approves their own request",
        "warning: flow cash: step 1 (Owner): when fran asks, its escalation reaches only fran, who may not approve their own request",
        "warning: flow cash: step 2 (Facilities): its approvers must all approve step 1 already, and one person approves at most one step of a request",
        "warning: flow cash: when fran asks, they would be the only fulfiller, and nobody fulfils their own request",
    ] {
        assert!(stdout.contains(expected), "missing {expected:?} in:\n{stdout}");
    }

    let out = sesame(&config, &["flows", "explain", "cash", "--as", "fran"]);
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("WARNING: when fran asks, they would be the only fulfiller"),
        "{stdout}{}",
        text(&out.stderr)
    );
    // Someone the rules do not trap gets no warning about the fulfilment.
    let out = sesame(&config, &["flows", "explain", "cash", "--as", "alice"]);
    assert!(
        !text(&out.stdout).contains("only fulfiller"),
        "{}",
        text(&out.stdout)
    );
}

#[tokio::test]
async fn tokens_expire_name_their_maker_and_metrics_can_require_a_token() {
    let dir = tempfile::tempdir().unwrap();
    let config = config_in(dir.path());
    let mut toml = std::fs::read_to_string(&config).unwrap();
    toml = toml.replace(
        "[server]\n",
        "[server]\nmetrics_token = \"scrape-me-with-this-token\"\n",
    );
    std::fs::write(&config, toml).unwrap();

    // By default a token lives 90 days and is recorded as made by the account running the command.
    let made = Command::new(env!("CARGO_BIN_EXE_sesame"))
        .arg("--config")
        .arg(&config)
        .args(["token", "create", "--user", "alice", "--name", "laptop"])
        .env("USER", "opsperson")
        .output()
        .unwrap();
    assert!(made.status.success(), "{}", text(&made.stderr));
    let forever = sesame(
        &config,
        &[
            "token",
            "create",
            "--user",
            "bob",
            "--name",
            "robot",
            "--expires-in",
            "never",
            "--by",
            "ada",
        ],
    );
    assert!(forever.status.success(), "{}", text(&forever.stderr));
    let unknown = sesame(
        &config,
        &["token", "create", "--user", "bob", "--by", "nobody-at-all"],
    );
    assert!(!unknown.status.success());
    assert!(
        text(&unknown.stderr).contains("--by"),
        "{}",
        text(&unknown.stderr)
    );

    let list = text(&sesame(&config, &["token", "list"]).stdout);
    let laptop = list
        .lines()
        .find(|l| l.contains("laptop"))
        .expect("laptop token listed");
    assert!(laptop.contains("made by cli:opsperson"), "{laptop}");
    assert!(!laptop.contains("expires never"), "{laptop}");
    let robot = list
        .lines()
        .find(|l| l.contains("robot"))
        .expect("robot token listed");
    assert!(
        robot.contains("expires never") && robot.contains("made by ada"),
        "{robot}"
    );

    // The trail names who handed each token out, never "sesame".
    let export = text(&sesame(&config, &["audit", "export"]).stdout);
    let created: Vec<serde_json::Value> = export
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|e| e["kind"] == "token_created")
        .collect();
    let actors: Vec<&str> = created.iter().filter_map(|e| e["actor"].as_str()).collect();
    assert_eq!(actors, ["cli:opsperson", "ada"], "{export}");
    assert_eq!(created[1]["detail"]["never_expires"], true);

    // /metrics answers only with the configured bearer token.
    let server = start_server(&config);
    let client = reqwest::Client::new();
    let open = client
        .get(format!("{}/metrics", server.url))
        .send()
        .await
        .unwrap();
    assert_eq!(open.status(), reqwest::StatusCode::UNAUTHORIZED);
    assert!(open.headers().contains_key("www-authenticate"));
    let wrong = client
        .get(format!("{}/metrics", server.url))
        .bearer_auth("scrape-me-with-this-tokeN")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), reqwest::StatusCode::UNAUTHORIZED);
    let scraped = client
        .get(format!("{}/metrics", server.url))
        .bearer_auth("scrape-me-with-this-token")
        .send()
        .await
        .unwrap();
    assert_eq!(scraped.status(), reqwest::StatusCode::OK);
    assert!(scraped.text().await.unwrap().contains("sesame_outbox_jobs"));
    stop_server(server);
}

#[test]
fn migrate_check_says_whether_the_binary_and_the_schema_fit() {
    let dir = tempfile::tempdir().unwrap();
    let config = config_in(dir.path());
    let fresh = sesame(&config, &["migrate", "--check"]);
    assert_eq!(fresh.status.code(), Some(1), "{}", text(&fresh.stderr));
    assert!(
        text(&fresh.stdout).contains("migration(s) to apply"),
        "{}",
        text(&fresh.stdout)
    );
    let migrated = sesame(&config, &["migrate"]);
    assert!(migrated.status.success(), "{}", text(&migrated.stderr));
    let fits = sesame(&config, &["migrate", "--check"]);
    assert_eq!(fits.status.code(), Some(0), "{}", text(&fits.stderr));
    assert!(
        text(&fits.stdout).contains("as this Sesame expects"),
        "{}",
        text(&fits.stdout)
    );
}

#[tokio::test]
async fn a_backup_taken_under_load_restores_every_request_it_holds_and_a_whole_trail() {
    let dir = tempfile::tempdir().unwrap();
    let config = config_in(dir.path());
    let alice = token(&config, "alice");
    let server = start_server(&config);
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let load = tokio::spawn(submit_until(server.url.clone(), alice.clone(), stopped));
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    // Backed up while requests are being filed.
    let copy = dir.path().join("backup.db");
    let backup = sesame(&config, &["backup", "--to", copy.to_str().unwrap()]);
    assert!(backup.status.success(), "{}", text(&backup.stderr));
    let _ = stop.send(true);
    let filed = load.await.unwrap();
    stop_server(server);
    let again = sesame(&config, &["backup", "--to", copy.to_str().unwrap()]);
    assert!(!again.status.success(), "a backup never overwrites");
    assert!(
        text(&again.stderr).contains("already exists"),
        "{}",
        text(&again.stderr)
    );

    // Restored: the copy serves as the database, its trail verifies, and it holds a prefix of
    // what was filed (everything acknowledged before the copy's moment, nothing half-written).
    let restored = dir.path().join("restored.toml");
    let toml = std::fs::read_to_string(&config).unwrap().replace(
        &format!(
            "{:?}",
            format!("sqlite://{}", dir.path().join("data/sesame.db").display())
        ),
        &format!("{:?}", format!("sqlite://{}", copy.display())),
    );
    assert!(toml.contains("backup.db"));
    // The signing key stays where it was (it is not in the database, by design).
    let key = dir.path().join("data/audit-signing-key.pem");
    assert!(key.exists());
    let toml = format!(
        "{toml}[audit]\nsigning_key_file = {:?}\n",
        key.display().to_string()
    );
    std::fs::write(&restored, toml).unwrap();
    let verify = sesame(&restored, &["audit", "verify"]);
    assert!(
        verify.status.success(),
        "{}{}",
        text(&verify.stdout),
        text(&verify.stderr)
    );
    let server = start_server(&restored);
    let mut held = numbers_stored(&server.url, &alice).await;
    held.sort();
    assert!(
        !held.is_empty(),
        "the copy holds the requests filed before it"
    );
    assert!(held.len() <= filed.len());
    assert_eq!(
        held,
        (1..=held.len() as i64).collect::<Vec<_>>(),
        "a consistent prefix"
    );
    stop_server(server);
}
