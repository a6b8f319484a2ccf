//! A workspace for load against Sesame's Slack endpoints (the `slack_ack` benchmark): a generated
//! directory of many requesters and their managers, the same people in a [`FakeSlack`], the
//! configuration `sesame serve` would be given, and Slack's requests built and signed ahead of the
//! moment they are sent, so that a load generator spends no time on them while it measures.
//!
//! Requesters are linked to Slack by their email only (Sesame asks `users.info` once per account and
//! caches the answer); managers and facilities are linked explicitly (`chat.slack`), as an admin
//! would link them. The flows are the test kit's fixtures: `badge` is approved by the requester's
//! manager with one click.

use crate::fake_slack::{sign_request, FakeSlack};
use crate::slack_driver::{SIGNING_SECRET, TEAM};
use serde_json::Value;
use std::fmt::Write as _;
use std::path::PathBuf;

/// A person in the generated workspace.
#[derive(Debug, Clone)]
pub struct LoadPerson {
    /// The directory id.
    pub id: String,
    pub slack_id: String,
    pub email: String,
    /// The directory id of their manager, for requesters.
    pub manager: Option<String>,
}

impl LoadPerson {
    /// The direct-message channel the fake Slack gives this person and the app.
    pub fn dm(&self) -> String {
        format!("D{}", self.slack_id)
    }
}

/// The generated directory and people, in a temporary folder that lives as long as this value.
pub struct SlackLoadWorkspace {
    pub requesters: Vec<LoadPerson>,
    pub managers: Vec<LoadPerson>,
    pub fulfillers: Vec<LoadPerson>,
    /// An administrator (and auditor) for reading everything back.
    pub admin: LoadPerson,
    pub directory_file: PathBuf,
    pub flows_dir: PathBuf,
    _dir: tempfile::TempDir,
}

fn person(id: String, slack_id: String, manager: Option<String>) -> LoadPerson {
    LoadPerson {
        email: format!("{id}@load.example"),
        id,
        slack_id,
        manager,
    }
}

impl SlackLoadWorkspace {
    /// `requesters` people in `employees`, each reporting to one of `managers` managers (round
    /// robin), two facilities people and an administrator.
    pub fn generate(requesters: usize, managers: usize) -> SlackLoadWorkspace {
        let managers: Vec<LoadPerson> = (1..=managers.max(1))
            .map(|n| person(format!("mgr{n:03}"), format!("U1MGR{n:03}"), None))
            .collect();
        let requesters: Vec<LoadPerson> = (1..=requesters)
            .map(|n| {
                let manager = managers[(n - 1) % managers.len()].id.clone();
                person(format!("req{n:04}"), format!("U2REQ{n:04}"), Some(manager))
            })
            .collect();
        let fulfillers: Vec<LoadPerson> = (1..=2)
            .map(|n| person(format!("fac{n:02}"), format!("U1FAC{n:02}"), None))
            .collect();
        let admin = person(String::from("admin"), String::from("U1ADMIN"), None);

        let mut yaml = String::from(
            "groups:\n  - { id: employees, name: Employees }\n  - { id: facilities, name: Facilities }\n  - { id: security, name: Security }\n  - { id: sesame-admins, name: Sesame administrators }\n  - { id: auditors, name: Auditors }\nusers:\n",
        );
        let mut line = |p: &LoadPerson, groups: &str, linked: bool| {
            let manager = p
                .manager
                .as_deref()
                .map(|m| format!(", manager: {m}"))
                .unwrap_or_default();
            let chat = if linked {
                format!(", chat: {{ slack: {} }}", p.slack_id)
            } else {
                String::new()
            };
            let _ = writeln!(
                yaml,
                "  - {{ id: {}, email: {}, display_name: {}{manager}, groups: [{groups}]{chat} }}",
                p.id,
                p.email,
                p.id.to_uppercase(),
            );
        };
        for m in &managers {
            line(m, "employees", true);
        }
        for f in &fulfillers {
            line(f, "employees, facilities", true);
        }
        line(&admin, "employees, sesame-admins, auditors", true);
        for r in &requesters {
            line(r, "employees", false);
        }
        let dir = tempfile::tempdir().expect("temp dir");
        let directory_file = dir.path().join("directory.yaml");
        std::fs::write(&directory_file, yaml).expect("write the directory");
        SlackLoadWorkspace {
            requesters,
            managers,
            fulfillers,
            admin,
            directory_file,
            flows_dir: crate::fixtures().join("flows"),
            _dir: dir,
        }
    }

    /// Everybody, for adding to Slack.
    pub fn everybody(&self) -> impl Iterator<Item = &LoadPerson> {
        self.requesters
            .iter()
            .chain(&self.managers)
            .chain(&self.fulfillers)
            .chain(std::iter::once(&self.admin))
    }

    /// Adds everybody to the fake Slack with their email and an open direct message, and a channel
    /// slash commands are typed in.
    pub fn add_to_slack(&self, slack: &FakeSlack, channel: &str) {
        for p in self.everybody() {
            slack.add_user(&p.slack_id, Some(&p.email), &p.id.to_uppercase());
            slack.open_dm(&p.slack_id);
        }
        slack.add_channel(channel);
    }

    /// The configuration `sesame serve` would be given: this directory, the fixture flows, Slack
    /// pointed at `slack` with the test signing secret (as [`crate::TestApp::spawn_with_slack`]
    /// configures it), and `database_url`.
    pub fn config_toml(&self, database_url: &str, slack: &FakeSlack) -> String {
        format!(
            "[server]\nlisten = \"127.0.0.1:0\"\npublic_url = \"https://sesame.test\"\n[database]\nurl = {database_url:?}\n[flows]\ndir = {:?}\n[directory]\nfile = {:?}\n[log]\nlevel = \"error\"\n[slack]\nbot_token = {:?}\nsigning_secret = {:?}\napi_url = {:?}\npace_calls = false\n[audit]\nsigning_key_file = {:?}\n",
            self.flows_dir.display().to_string(),
            self.directory_file.display().to_string(),
            slack.bot_token(),
            SIGNING_SECRET,
            slack.base_url(),
            self._dir
                .path()
                .join("audit-signing-key.pem")
                .display()
                .to_string(),
        )
    }
}

/// A request to one of Sesame's `/slack/*` endpoints, built and signed (now) as Slack would send
/// it.
#[derive(Debug, Clone)]
pub struct SignedSlackRequest {
    pub path: &'static str,
    pub content_type: &'static str,
    pub body: String,
    pub timestamp: String,
    pub signature: String,
}

impl SignedSlackRequest {
    fn sign(path: &'static str, content_type: &'static str, body: String) -> SignedSlackRequest {
        let (timestamp, signature) = sign_request(SIGNING_SECRET, &body);
        SignedSlackRequest {
            path,
            content_type,
            body,
            timestamp,
            signature,
        }
    }

    /// `/access text` typed by `user` in `channel`, with the same fields as
    /// [`crate::slack_driver::SlackDriver::command`].
    pub fn command(user: &str, channel: &str, text: &str, trigger_id: &str) -> SignedSlackRequest {
        let body = serde_urlencoded::to_string([
            ("token", "deprecated-verification-token"),
            ("team_id", TEAM),
            ("team_domain", "sesame-test"),
            ("channel_id", channel),
            ("channel_name", "general"),
            ("user_id", user),
            ("user_name", &user.to_lowercase()),
            ("command", "/access"),
            ("text", text),
            ("api_app_id", "A0SESAME"),
            (
                "response_url",
                "https://hooks.slack.invalid/commands/T0SESAME/1/x",
            ),
            ("trigger_id", trigger_id),
        ])
        .expect("form encoding");
        Self::sign("/slack/commands", "application/x-www-form-urlencoded", body)
    }

    /// An interactivity payload (`block_actions`, `view_submission`, ...), form-encoded as Slack
    /// sends it.
    pub fn interaction(payload: &Value) -> SignedSlackRequest {
        let body =
            serde_urlencoded::to_string([("payload", payload.to_string())]).expect("form encoding");
        Self::sign(
            "/slack/interactivity",
            "application/x-www-form-urlencoded",
            body,
        )
    }

    /// The request ready to send to Sesame at `base_url`.
    pub fn build(&self, client: &reqwest::Client, base_url: &str) -> reqwest::RequestBuilder {
        client
            .post(format!("{}{}", base_url.trim_end_matches('/'), self.path))
            .header("content-type", self.content_type)
            .header("x-slack-request-timestamp", &self.timestamp)
            .header("x-slack-signature", &self.signature)
            .body(self.body.clone())
    }
}
