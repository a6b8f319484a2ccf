//! Test helpers: [`TestApp::spawn`] starts Sesame exactly as `sesame serve` does (same composition
//! root), on a free port, with a clock the test moves and an outbox the test drains.
#![forbid(unsafe_code)]

pub mod fake_connector;
pub mod fake_model;
pub mod fake_okta;
pub mod fake_slack;
pub mod fake_teams;
pub mod load;
pub mod scim;
pub mod serve_process;
pub mod slack_driver;
pub mod slack_load;

use reqwest::StatusCode;
use serde_json::Value;
use sesame::config::Config;
use sesame::Application;
use sesame_app::dispatcher::Outcome;
use sesame_app::ports::Notifier;
use sesame_app::{App, ManualClock};
use sesame_core::{Actor, Span, Timestamp, UserId};
use std::path::PathBuf;
use std::sync::Arc;
use tokio::sync::watch;

/// Where the test kit's own flows and directory live.
pub fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// Which database a test app uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestDatabase {
    Sqlite,
    Postgres,
}

/// The admin URL of the PostgreSQL server tests may use. Under CI it must be set: a PostgreSQL test
/// that quietly does nothing would be a lie.
pub fn postgres_admin_url() -> Option<String> {
    match std::env::var("SESAME_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var_os("CI").is_some() => {
            panic!("SESAME_TEST_POSTGRES_URL must be set under CI (scripts/test.sh sets it)")
        }
        _ => {
            eprintln!("note: SESAME_TEST_POSTGRES_URL is not set; the PostgreSQL variant of this test did not run");
            None
        }
    }
}

/// The app-level token of test apps that use Socket Mode.
pub const SOCKET_APP_TOKEN: &str = "xapp-1-A0SESAME-0000-test";

pub struct TestApp {
    pub app: App,
    pub base_url: String,
    pub clock: Arc<ManualClock>,
    pub client: reqwest::Client,
    /// The database this app writes to (tests that play another process holding it).
    pub database_url: String,
    stop: watch::Sender<bool>,
    server: Option<tokio::task::JoinHandle<()>>,
    _dir: tempfile::TempDir,
}

/// A response's status and JSON body (Null when the body is empty or not JSON).
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub body: Value,
}

impl Reply {
    /// The error code of an error response.
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or_default()
    }
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        Self::spawn_on(TestDatabase::Sqlite)
            .await
            .expect("SQLite is always available")
    }

    /// Spawns on the given database; `None` when PostgreSQL is not configured (outside CI).
    pub async fn spawn_on(database: TestDatabase) -> Option<TestApp> {
        Self::spawn_with(database, Vec::new()).await
    }

    /// Spawns with notifiers that receive every notice the outbox delivers.
    pub async fn spawn_with(
        database: TestDatabase,
        notifiers: Vec<Arc<dyn Notifier>>,
    ) -> Option<TestApp> {
        Self::spawn_configured(database, notifiers, "").await
    }

    /// Spawns with Slack configured as `sesame serve` would wire it, against `slack`: the notifier
    /// delivers to the fake, and `/slack/*` accepts requests signed with
    /// [`slack_driver::SIGNING_SECRET`].
    pub async fn spawn_with_slack(slack: &fake_slack::FakeSlack) -> TestApp {
        Self::spawn_with_slack_and(slack, "").await
    }

    /// [`TestApp::spawn_with_slack`] with more configuration (TOML sections).
    pub async fn spawn_with_slack_and(slack: &fake_slack::FakeSlack, extra: &str) -> TestApp {
        Self::spawn_slack(slack, false, extra).await
    }

    /// [`TestApp::spawn_with_slack`] with Sesame pacing itself to Slack's rate limits, as in
    /// production (the other tests switch pacing off so that they need not wait).
    pub async fn spawn_with_slack_paced(slack: &fake_slack::FakeSlack) -> TestApp {
        Self::spawn_slack(slack, true, "").await
    }

    async fn spawn_slack(slack: &fake_slack::FakeSlack, paced: bool, extra: &str) -> TestApp {
        let config = format!(
            "[slack]\nbot_token = {:?}\nsigning_secret = {:?}\napi_url = {:?}\npace_calls = {paced}\n{extra}",
            slack.bot_token(),
            slack_driver::SIGNING_SECRET,
            slack.base_url(),
        );
        Self::spawn_configured(TestDatabase::Sqlite, Vec::new(), &config)
            .await
            .expect("SQLite is always available")
    }

    /// Spawns with Slack over Socket Mode against `slack` (whose Socket Mode is switched on here
    /// with [`SOCKET_APP_TOKEN`]): no signing secret, no `/slack/*` traffic.
    pub async fn spawn_with_slack_socket_mode(slack: &fake_slack::FakeSlack) -> TestApp {
        slack.enable_socket_mode(SOCKET_APP_TOKEN);
        let config = format!(
            "[slack]\nbot_token = {:?}\napp_token = {:?}\napi_url = {:?}\npace_calls = false\n",
            slack.bot_token(),
            SOCKET_APP_TOKEN,
            slack.base_url(),
        );
        Self::spawn_configured(TestDatabase::Sqlite, Vec::new(), &config)
            .await
            .expect("SQLite is always available")
    }

    /// Spawns with Teams configured as `sesame serve` would wire it, against `teams`: inbound
    /// calls must carry tokens the fake signs, and the notifier delivers to the fake's Connector.
    pub async fn spawn_with_teams(teams: &fake_teams::FakeTeams) -> TestApp {
        Self::spawn_with_teams_and(teams, "").await
    }

    /// [`TestApp::spawn_with_teams`] with more configuration (TOML sections).
    pub async fn spawn_with_teams_and(teams: &fake_teams::FakeTeams, extra: &str) -> TestApp {
        let config = format!(
            "[teams]\napp_id = {:?}\napp_password = {:?}\ntoken_url = {:?}\nopenid_metadata_url = {:?}\nallowed_service_hosts = [\"127.0.0.1\"]\n{extra}",
            teams.app_id(),
            fake_teams::DEFAULT_APP_SECRET,
            teams.token_url(),
            teams.openid_metadata_url(),
        );
        Self::spawn_configured(TestDatabase::Sqlite, Vec::new(), &config)
            .await
            .expect("SQLite is always available")
    }

    /// A driver that plays Slack towards this app.
    pub fn slack_driver(&self) -> slack_driver::SlackDriver {
        slack_driver::SlackDriver::new(&self.base_url)
    }

    /// Spawns with extra configuration (TOML sections appended to the test's own).
    pub async fn spawn_configured(
        database: TestDatabase,
        notifiers: Vec<Arc<dyn Notifier>>,
        extra_config: &str,
    ) -> Option<TestApp> {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = match database {
            TestDatabase::Sqlite => format!("sqlite://{}", dir.path().join("sesame.db").display()),
            TestDatabase::Postgres => {
                let admin = postgres_admin_url()?;
                sesame_store::create_test_database(&admin)
                    .await
                    .expect("create a PostgreSQL test database")
            }
        };
        let fixtures = fixtures();
        let mut config_text = format!(
            "[server]\nlisten = \"127.0.0.1:0\"\npublic_url = \"https://sesame.test\"\n[database]\nurl = {url:?}\n[flows]\ndir = {:?}\n[directory]\nfile = {:?}\n",
            fixtures.join("flows").display().to_string(),
            fixtures.join("directory.yaml").display().to_string(),
        ) + extra_config;
        if !extra_config.contains("[audit]") {
            // The audit signing key in the test's own directory (with PostgreSQL it would
            // otherwise go to ./sesame-data).
            config_text.push_str(&format!(
                "\n[audit]\nsigning_key_file = {:?}\n",
                dir.path()
                    .join("audit-signing-key.pem")
                    .display()
                    .to_string()
            ));
        }
        let config: Config = toml::from_str(&config_text).expect("test config");
        // A fixed start time makes timestamps in failures readable: 2026-01-05T09:00:00Z, a Monday.
        let clock = Arc::new(ManualClock::new(Timestamp(1_767_603_600_000)));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a free port");
        let application =
            Application::build_with_notifiers(&config, listener, clock.clone(), notifiers)
                .await
                .expect("build the application")
                .without_dispatcher();
        let base_url = format!(
            "http://{}",
            application.local_addr().expect("local address")
        );
        let app = application.app.clone();
        let (stop, stopped) = watch::channel(false);
        // Chat replies (the answer to a DM, a modal) run as they would in a server, so tests can
        // wait for them; notices and timers wait for the test to drain the outbox.
        tokio::spawn(chat_lane(app.clone(), stopped.clone()));
        let server = tokio::spawn(async move {
            application.run(stopped).await.expect("server runs");
        });
        Some(TestApp {
            app,
            base_url,
            clock,
            client: reqwest::Client::new(),
            database_url: url,
            stop,
            server: Some(server),
            _dir: dir,
        })
    }

    /// A fresh API token acting as `user`.
    pub async fn token(&self, user: &str) -> String {
        let id = UserId::new(user).expect("user id");
        self.app
            .create_token(&id, "test", None, &Actor::System)
            .await
            .expect("create token")
            .secret
    }

    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.base_url));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("send request");
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        Reply {
            status,
            body: serde_json::from_str(&text).unwrap_or(Value::Null),
        }
    }

    pub async fn get(&self, path: &str, token: &str) -> Reply {
        self.call(reqwest::Method::GET, path, Some(token), None)
            .await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> Reply {
        self.call(reqwest::Method::POST, path, Some(token), Some(body))
            .await
    }

    /// Sends a raw body with a content type, for malformed and oversized input.
    pub async fn post_raw(
        &self,
        path: &str,
        token: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> Reply {
        let response = self
            .client
            .post(format!("{}{path}", self.base_url))
            .bearer_auth(token)
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .expect("send request");
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        Reply {
            status,
            body: serde_json::from_str(&text).unwrap_or(Value::Null),
        }
    }

    /// Runs the outbox until nothing is due now.
    pub async fn drain_outbox(&self) -> Outcome {
        let mut total = Outcome::default();
        loop {
            let outcome = self.app.run_jobs_once("test").await.expect("run jobs");
            if outcome.claimed == 0 {
                return total;
            }
            total.claimed += outcome.claimed;
            total.done += outcome.done;
            total.retried += outcome.retried;
            total.dead += outcome.dead;
        }
    }

    /// Moves the clock forward and runs whatever became due.
    pub async fn advance(&self, span: &str) -> Outcome {
        self.clock.advance(Span::parse(span).expect("span"));
        self.drain_outbox().await
    }

    /// Asserts that nothing owed is left in the outbox except future timers: every test should end
    /// with every message delivered.
    ///
    /// A chat job the background chat lane holds under its lease is still being delivered, not
    /// owed: wait (a few seconds at most, in real time) for the lane to settle it before judging.
    pub async fn assert_nothing_owed(&self) {
        let give_up = std::time::Instant::now() + std::time::Duration::from_secs(10);
        let due = loop {
            self.drain_outbox().await;
            let now = self.app.now();
            let due: Vec<_> = self
                .app
                .store_for_tests()
                .jobs(sesame_app::JobStatus::Pending, 1000)
                .await
                .expect("jobs")
                .into_iter()
                .filter(|j| j.run_at <= now)
                .collect();
            let in_flight = due
                .iter()
                .any(|j| j.locked_until.is_some_and(|until| until > now));
            if due.is_empty() || !in_flight || std::time::Instant::now() > give_up {
                break due;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        };
        let counts = self
            .app
            .store_for_tests()
            .job_counts()
            .await
            .expect("job counts");
        assert_eq!(counts.dead, 0, "no message may be given up");
        assert!(due.is_empty(), "jobs still due: {due:?}");
    }

    /// Stops the server gracefully.
    pub async fn stop(mut self) {
        let _ = self.stop.send(true);
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

/// Runs chat jobs in the background until `stop` turns true.
async fn chat_lane(app: App, mut stop: watch::Receiver<bool>) {
    loop {
        if *stop.borrow() {
            return;
        }
        let busy = match app.run_chat_jobs_once("test-chat-lane").await {
            Ok(outcome) => outcome.claimed > 0,
            Err(_) => false,
        };
        if !busy {
            tokio::select! {
                _ = tokio::time::sleep(std::time::Duration::from_millis(5)) => {}
                _ = stop.changed() => {}
            }
        }
    }
}
