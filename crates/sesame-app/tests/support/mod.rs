//! What sesame-app's own tests share: a real [`App`] on SQLite in memory (or on a fresh PostgreSQL
//! database when `SESAME_TEST_POSTGRES_URL` names an admin URL), a [`ManualClock`], flows and a
//! directory written here, and fakes for every port the dispatcher calls: notifiers, a chat
//! worker and a connector, each of which records what it was asked and answers as the test says.
//!
//! Everything is read through `App`'s public methods (`outbox`, `request_for`, ...), so the tests
//! need no feature and run under `cargo test -p sesame-app` and `cargo test --workspace` alike.

// Each test file uses a different part of this module.
#![allow(dead_code)]

use async_trait::async_trait;
use serde_json::Value;
use sesame_app::chat::{ChatJob, ChatWorker};
use sesame_app::dispatcher::Outcome;
use sesame_app::ports::{DeliveryContext, DeliveryError, Notifier};
use sesame_app::{
    App, AppParts, Catalog, ConnectorRegistry, Job, JobPayload, JobStatus, ManualClock, Principal,
    Roles, Store,
};
use sesame_core::directory::DirectoryFile;
use sesame_core::ports::{Connector, ConnectorError, ConnectorOutcome, Grant, Presence};
use sesame_core::{
    GroupId, Notice, RawSubmission, Request, RequestNumber, Span, Timestamp, UserId,
};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// Runs each named story (an `async fn(Db)`) once on SQLite and once on PostgreSQL, as
/// `<story>::sqlite` and `<story>::postgres` (`#[macro_use] mod support;`).
macro_rules! on_both_databases {
    ($($story:ident),* $(,)?) => {
        $(
            mod $story {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$story($crate::support::Db::Sqlite).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    super::$story($crate::support::Db::Postgres).await;
                }
            }
        )*
    };
}

/// 2026-01-05T09:00:00Z, a Monday: timestamps in failures stay readable.
pub const START: Timestamp = Timestamp(1_767_603_600_000);

/// The dispatcher's name in tests that do not care who holds a lease.
pub const DISPATCHER: &str = "test-dispatcher";

/// People and groups: Carol manages everyone but Ada; Sam and Sue are security (a quorum of two);
/// Fran is facilities; Ada is an administrator.
pub const DIRECTORY: &str = "
groups:
  - { id: employees, name: Employees }
  - { id: facilities, name: Facilities }
  - { id: security, name: Security }
  - { id: admins, name: Administrators }
users:
  - { id: carol, email: carol@example.com, display_name: Carol Manager, groups: [employees] }
  - { id: alice, email: alice@example.com, display_name: Alice Requester, manager: carol, groups: [employees] }
  - { id: bob, email: bob@example.com, display_name: Bob Requester, manager: carol, groups: [employees] }
  - { id: fran, email: fran@example.com, display_name: Fran Facilities, manager: carol, groups: [employees, facilities] }
  - { id: sam, email: sam@example.com, display_name: Sam Security, manager: carol, groups: [employees, security] }
  - { id: sue, email: sue@example.com, display_name: Sue Security, manager: carol, groups: [employees, security] }
  - { id: ada, email: ada@example.com, display_name: Ada Admin, groups: [employees, admins] }
";

/// A badge: the manager approves, facilities hand it out. No timers.
pub const BADGE: &str = "
id: badge
name: Office badge
requesters: { groups: [employees] }
approval:
  - { approvers: manager }
fulfillment: { manual: { group: facilities } }
";

/// Production database writes: two of security must approve; Fran carries it out. No timers.
pub const PROD_DB: &str = "
id: prod-db
name: Production database write
requesters: everyone
approval:
  - { approvers: { group: security }, required: 2 }
fulfillment: { manual: { users: [fran] } }
";

/// VPN access for eight hours: the manager approves, the `fake` connector grants and removes it.
pub const VPN: &str = "
id: vpn
name: VPN access
requesters: everyone
duration: { default: 8h, max: 1d }
approval:
  - { approvers: manager }
fulfillment: { connector: fake, group: vpn-users }
";

/// How long VPN access lasts, in seconds.
pub const VPN_SECONDS: i64 = 8 * 3600;

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Db {
    Sqlite,
    Postgres,
}

/// The PostgreSQL server tests may use, if any. Under CI it must be set, as for the store's
/// contract: a PostgreSQL test that quietly does nothing would be a lie.
fn postgres_admin_url() -> Option<String> {
    match std::env::var("SESAME_TEST_POSTGRES_URL") {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ if std::env::var_os("CI").is_some() => {
            panic!("SESAME_TEST_POSTGRES_URL must be set under CI")
        }
        _ => {
            eprintln!(
                "note: SESAME_TEST_POSTGRES_URL is not set; the PostgreSQL run of this test is skipped"
            );
            None
        }
    }
}

/// An empty, migrated store on `db`; `None` for PostgreSQL when no server is configured.
pub async fn store_on(db: Db) -> Option<Store> {
    let url = match db {
        Db::Sqlite => String::from("sqlite::memory:"),
        Db::Postgres => {
            let admin = postgres_admin_url()?;
            sesame_store::create_test_database(&admin)
                .await
                .expect("create a PostgreSQL test database")
        }
    };
    let store = Store::connect(&url).await.expect("connect to the store");
    store.migrate().await.expect("migrate the store");
    Some(store)
}

/// Builds a [`Harness`].
pub struct Builder {
    db: Db,
    notifiers: Vec<Arc<dyn Notifier>>,
    connectors: ConnectorRegistry,
    chat_workers: Vec<Arc<dyn ChatWorker>>,
}

impl Builder {
    pub fn on(db: Db) -> Builder {
        Builder {
            db,
            notifiers: Vec::new(),
            connectors: ConnectorRegistry::default(),
            chat_workers: Vec::new(),
        }
    }

    pub fn notifier(mut self, notifier: Arc<dyn Notifier>) -> Builder {
        self.notifiers.push(notifier);
        self
    }

    /// Registers `connector` as `fake`, the name [`VPN`] uses.
    pub fn connector(mut self, connector: Arc<dyn Connector>) -> Builder {
        self.connectors = self.connectors.with("fake", connector);
        self
    }

    pub fn chat_worker(mut self, worker: Arc<dyn ChatWorker>) -> Builder {
        self.chat_workers.push(worker);
        self
    }

    /// The harness; `None` when the database is PostgreSQL and none is configured.
    pub async fn build(self) -> Option<Harness> {
        let store = store_on(self.db).await?;
        let clock = Arc::new(ManualClock::new(START));
        let app = App::new(AppParts {
            store: store.clone(),
            catalog: catalog(),
            clock: clock.clone(),
            roles: roles(),
            notifiers: self.notifiers,
            connectors: self.connectors,
        })
        .await
        .expect("build the app");
        let directory = DirectoryFile::parse(DIRECTORY).expect("the test directory parses");
        app.seed_directory(directory)
            .await
            .expect("seed the directory");
        for worker in self.chat_workers {
            app.add_chat_worker(worker);
        }
        Some(Harness { app, clock, store })
    }
}

pub fn catalog() -> Catalog {
    let flows = [("badge", BADGE), ("prod-db", PROD_DB), ("vpn", VPN)]
        .into_iter()
        .map(|(name, text)| {
            sesame_core::flow::parse_flow(&format!("{name}.yaml"), text)
                .unwrap_or_else(|e| panic!("the test flow {name} does not parse: {e:#?}"))
        });
    Catalog::new(flows)
}

fn roles() -> Roles {
    Roles {
        admin_groups: vec![GroupId::new("admins").expect("a group id")],
        auditor_groups: Vec::new(),
    }
}

/// A real application on a fresh database, its clock, and shortcuts for what tests do often.
pub struct Harness {
    pub app: App,
    pub clock: Arc<ManualClock>,
    store: Store,
}

impl Harness {
    /// A second Sesame on the same database and clock (another replica), with no notifiers.
    pub async fn replica(&self) -> App {
        App::new(AppParts {
            store: self.store.clone(),
            catalog: catalog(),
            clock: self.clock.clone(),
            roles: roles(),
            notifiers: Vec::new(),
            connectors: ConnectorRegistry::default(),
        })
        .await
        .expect("build a replica")
    }

    pub fn principal(&self, id: &str) -> Principal {
        self.app
            .principal(&UserId::new(id).expect("a user id"))
            .expect("a person in the test directory")
    }

    /// Files a request for `flow` as `who`, with no answers.
    pub async fn submit(&self, who: &str, flow: &str) -> Request {
        self.app
            .submit(
                &self.principal(who),
                flow,
                None,
                RawSubmission::default(),
                None,
            )
            .await
            .unwrap_or_else(|e| panic!("{who} could not file {flow}: {e}"))
    }

    /// The request as it is stored now (read as an administrator).
    pub async fn request(&self, number: RequestNumber) -> Request {
        self.app
            .request_for(&self.principal("ada"), number)
            .await
            .expect("the request exists")
    }

    pub async fn pending(&self) -> Vec<Job> {
        self.app
            .outbox(JobStatus::Pending, 500)
            .await
            .expect("list pending jobs")
    }

    pub async fn dead(&self) -> Vec<Job> {
        self.app
            .outbox(JobStatus::Dead, 500)
            .await
            .expect("list dead jobs")
    }

    /// The pending jobs that carry notices (to every notifier, or to one).
    pub async fn pending_notices(&self) -> Vec<Job> {
        self.pending()
            .await
            .into_iter()
            .filter(|j| {
                matches!(
                    j.payload,
                    JobPayload::Notice(_) | JobPayload::NoticeTo { .. }
                )
            })
            .collect()
    }

    /// One dispatcher pass.
    pub async fn pass(&self) -> Outcome {
        self.app
            .run_jobs_once(DISPATCHER)
            .await
            .expect("a dispatcher pass")
    }

    /// Dispatcher passes until one claims nothing (the clock does not move).
    pub async fn drain(&self) {
        for _ in 0..100 {
            if self.pass().await.claimed == 0 {
                return;
            }
        }
        panic!("the outbox did not drain in 100 passes");
    }

    pub fn advance(&self, seconds: i64) {
        self.clock.advance(Span::from_seconds(seconds));
    }

    pub fn now(&self) -> Timestamp {
        self.app.now()
    }

    /// The host part of this process's lease-holder name (`host:pid:start`).
    pub fn host(&self) -> String {
        let name = self.app.worker_name();
        name.rsplitn(3, ':')
            .nth(2)
            .expect("a worker name has three parts")
            .to_owned()
    }
}

/// Checks `condition` until it holds, for what happens in a task the test does not await.
pub async fn eventually<F, Fut>(what: &str, mut condition: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    for _ in 0..1000 {
        if condition().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("timed out waiting until {what}");
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

pub fn retry(reason: &str) -> DeliveryError {
    DeliveryError::Retry {
        after: None,
        reason: reason.to_owned(),
    }
}

pub fn deferred(seconds: u64, reason: &str) -> DeliveryError {
    DeliveryError::Deferred {
        after: Duration::from_secs(seconds),
        reason: reason.to_owned(),
    }
}

pub fn permanent(reason: &str) -> DeliveryError {
    DeliveryError::Permanent(reason.to_owned())
}

/// One delivery a [`FakeNotifier`] was asked for, and what it answered.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    pub request: RequestNumber,
    pub notice: Notice,
    pub attempt: u32,
    pub answer: Result<(), DeliveryError>,
}

/// A notifier that records every delivery and answers from a script (then `Ok`).
pub struct FakeNotifier {
    name: &'static str,
    script: Mutex<VecDeque<Result<(), DeliveryError>>>,
    deliveries: Mutex<Vec<Delivery>>,
}

impl FakeNotifier {
    pub fn new(name: &'static str) -> Arc<FakeNotifier> {
        Arc::new(FakeNotifier {
            name,
            script: Mutex::new(VecDeque::new()),
            deliveries: Mutex::new(Vec::new()),
        })
    }

    /// The next delivery fails with `error` (scripted failures are used in order).
    pub fn fail_next(&self, error: DeliveryError) {
        lock(&self.script).push_back(Err(error));
    }

    pub fn deliveries(&self) -> Vec<Delivery> {
        lock(&self.deliveries).clone()
    }

    /// The notices delivered successfully, in order.
    pub fn delivered(&self) -> Vec<Notice> {
        self.deliveries()
            .into_iter()
            .filter(|d| d.answer.is_ok())
            .map(|d| d.notice)
            .collect()
    }
}

#[async_trait]
impl Notifier for FakeNotifier {
    fn name(&self) -> &'static str {
        self.name
    }

    async fn deliver(
        &self,
        request: &Request,
        notice: &Notice,
        context: &DeliveryContext<'_>,
    ) -> Result<(), DeliveryError> {
        let answer = lock(&self.script).pop_front().unwrap_or(Ok(()));
        lock(&self.deliveries).push(Delivery {
            request: request.number,
            notice: notice.clone(),
            attempt: context.attempt,
            answer: answer.clone(),
        });
        answer
    }
}

/// The platform [`FakeChatWorker`] works for.
pub const PLATFORM: &str = "testchat";

/// Chat work for [`FakeChatWorker`], which knows it by `id`.
pub fn chat_work(id: &str) -> ChatJob {
    ChatJob {
        platform: PLATFORM.to_owned(),
        work: serde_json::json!({ "id": id }),
    }
}

/// What a [`FakeChatWorker`] does with a piece of work.
enum Step {
    Answer(Result<(), DeliveryError>),
    /// Never finishes, as a process that is killed while it works.
    Hang,
}

/// A chat platform's worker that records the work it is handed, with the attempt number, and
/// answers as scripted for each piece of work (then `Ok`). Scripts are per work id, since the
/// dispatcher runs the jobs of one pass side by side.
pub struct FakeChatWorker {
    script: Mutex<BTreeMap<String, VecDeque<Step>>>,
    performed: Mutex<Vec<(String, u32)>>,
}

impl FakeChatWorker {
    pub fn new() -> Arc<FakeChatWorker> {
        Arc::new(FakeChatWorker {
            script: Mutex::new(BTreeMap::new()),
            performed: Mutex::new(Vec::new()),
        })
    }

    fn then(&self, id: &str, step: Step) {
        lock(&self.script)
            .entry(id.to_owned())
            .or_default()
            .push_back(step);
    }

    /// The next run of the work `id` fails with `error`.
    pub fn fail_next(&self, id: &str, error: DeliveryError) {
        self.then(id, Step::Answer(Err(error)));
    }

    /// The next run of the work `id` never finishes.
    pub fn hang_next(&self, id: &str) {
        self.then(id, Step::Hang);
    }

    /// The work ids handed over, with their attempt numbers, in order.
    pub fn performed(&self) -> Vec<(String, u32)> {
        lock(&self.performed).clone()
    }

    /// How often the work `id` was handed over.
    pub fn times(&self, id: &str) -> usize {
        self.performed().iter().filter(|(w, _)| w == id).count()
    }
}

#[async_trait]
impl ChatWorker for FakeChatWorker {
    fn platform(&self) -> &'static str {
        PLATFORM
    }

    async fn perform(&self, work: &Value, attempt: u32) -> Result<(), DeliveryError> {
        let id = work["id"].as_str().unwrap_or_default().to_owned();
        lock(&self.performed).push((id.clone(), attempt));
        let step = lock(&self.script)
            .get_mut(&id)
            .and_then(VecDeque::pop_front);
        match step {
            None => Ok(()),
            Some(Step::Answer(answer)) => answer,
            Some(Step::Hang) => std::future::pending().await,
        }
    }
}

impl Harness {
    /// A dispatcher pass as `holder` that dies (its task aborted, as by `kill -9`) while `worker`
    /// holds the work `id`, the one job the pass claimed: the job stays leased to `holder`.
    pub async fn die_holding(&self, holder: &str, worker: &FakeChatWorker, id: &str) {
        let before = worker.times(id);
        worker.hang_next(id);
        let app = self.app.clone();
        let name = holder.to_owned();
        let pass = tokio::spawn(async move { app.run_jobs_once(&name).await });
        eventually("the dying pass holds the job", || async {
            worker.times(id) > before
        })
        .await;
        pass.abort();
        let _ = pass.await;
    }
}

/// A connector that keeps the access it granted in memory, records every call (`check`, `grant`,
/// `revoke`) and fails calls as scripted.
#[derive(Default)]
pub struct FakeConnector {
    present: Mutex<BTreeSet<String>>,
    calls: Mutex<Vec<&'static str>>,
    /// Failures still to give, per operation, in order.
    failures: Mutex<BTreeMap<&'static str, VecDeque<ConnectorError>>>,
}

impl FakeConnector {
    pub fn new() -> Arc<FakeConnector> {
        Arc::new(FakeConnector::default())
    }

    /// The next `times` calls of `operation` fail with `error`.
    pub fn fail(&self, operation: &'static str, times: usize, error: ConnectorError) {
        let mut failures = lock(&self.failures);
        let queue = failures.entry(operation).or_default();
        queue.extend(std::iter::repeat_n(error, times));
    }

    pub fn calls(&self) -> Vec<&'static str> {
        lock(&self.calls).clone()
    }

    pub fn forget_calls(&self) {
        lock(&self.calls).clear();
    }

    pub fn has_access(&self, person: &str) -> bool {
        lock(&self.present).contains(person)
    }

    /// Access put in place behind Sesame's back.
    pub fn put_in_place(&self, person: &str) {
        lock(&self.present).insert(person.to_owned());
    }

    fn call(&self, operation: &'static str) -> Result<(), ConnectorError> {
        lock(&self.calls).push(operation);
        match lock(&self.failures)
            .get_mut(operation)
            .and_then(VecDeque::pop_front)
        {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }
}

#[async_trait]
impl Connector for FakeConnector {
    fn kind(&self) -> &'static str {
        "fake"
    }

    fn validate_target(&self, target: &BTreeMap<String, String>) -> Result<(), String> {
        if target.contains_key("group") {
            Ok(())
        } else {
            Err(String::from("`group` is required"))
        }
    }

    async fn check(&self, grant: &Grant) -> Result<Presence, ConnectorError> {
        self.call("check")?;
        Ok(if self.has_access(grant.person.id.as_str()) {
            Presence::Present
        } else {
            Presence::Absent
        })
    }

    async fn grant(&self, grant: &Grant) -> Result<ConnectorOutcome, ConnectorError> {
        self.call("grant")?;
        self.put_in_place(grant.person.id.as_str());
        Ok(ConnectorOutcome::Done)
    }

    async fn revoke(&self, grant: &Grant) -> Result<ConnectorOutcome, ConnectorError> {
        self.call("revoke")?;
        lock(&self.present).remove(grant.person.id.as_str());
        Ok(ConnectorOutcome::Done)
    }
}
