//! Sesame's use cases: submit, decide, cancel, comment, fulfil, expire; the directory and API tokens;
//! and the worker that delivers notices and fires timers. It talks to chat platforms and connectors
//! only through the ports declared in `sesame_core::ports`, and to the database only through
//! `sesame-store`.

#![forbid(unsafe_code)]

pub use sesame_core::ports;

pub mod audit_trail;
pub mod catalog;
pub mod chat;
pub mod chat_addresses;
pub mod chat_links;
pub mod clock;
pub mod connectors;
pub mod directory;
pub mod dispatcher;
mod error;
mod extension;
pub mod match_offer;
pub mod matching;
pub mod message_log;
pub mod metrics;
mod overview;
mod provisioning;
pub mod requests;
pub mod scim;
pub mod sessions;
pub mod tokens;
pub mod worker;

pub use catalog::Catalog;
pub use clock::{Clock, ManualClock, SystemClock};
pub use connectors::ConnectorRegistry;
pub use error::AppError;
pub use provisioning::CallbackOutcome;
pub use requests::{Principal, RequestListQuery, RequestPage, RequestScope};

use sesame_core::{Directory, GroupId};

use std::sync::{Arc, RwLock};
use tokio::sync::Notify;

/// Who is an administrator or auditor: members of these directory groups.
#[derive(Debug, Clone, Default)]
pub struct Roles {
    pub admin_groups: Vec<GroupId>,
    pub auditor_groups: Vec<GroupId>,
}

/// Everything a use case needs. Cheap to clone: every field is shared.
#[derive(Clone)]
pub struct App {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    catalog: RwLock<Arc<Catalog>>,
    directory: RwLock<Arc<Directory>>,
    directory_version: RwLock<i64>,
    clock: Arc<dyn Clock>,
    roles: Roles,
    notifiers: Vec<Arc<dyn ports::Notifier>>,
    /// The connectors that fulfil flows by themselves, by name.
    connectors: RwLock<Arc<ConnectorRegistry>>,
    /// Woken after every commit that wrote jobs, so notices go out without waiting for a poll.
    wake: Notify,
    metrics: metrics::Metrics,
    token_cache: tokens::TokenCache,
    recent: requests::RecentRequests,
    /// What people chose after writing free text, for the matcher.
    evidence: RwLock<sesame_core::matcher::Evidence>,
    /// An embeddings model for matching, when configured.
    match_model: RwLock<Option<matching::ModelMatching>>,
    /// Serialises provisioning (SCIM) changes in this process: each reads, changes and writes.
    scim_lock: tokio::sync::Mutex<()>,
    /// This process, as the holder of job leases.
    worker: worker::WorkerId,
    /// How long a claimed job is reserved for its worker, in milliseconds.
    lease_millis: std::sync::atomic::AtomicI64,
    /// The chat platforms' workers for their owed calls, by platform.
    chat_workers: RwLock<Vec<Arc<dyn chat::ChatWorker>>>,
    /// Owed chat calls running right after their commit ([`App::owe_now`]).
    run_now: Arc<tokio::sync::Semaphore>,
}

/// How to build an [`App`].
pub struct AppParts {
    pub store: Store,
    pub catalog: Catalog,
    pub clock: Arc<dyn Clock>,
    pub roles: Roles,
    pub notifiers: Vec<Arc<dyn ports::Notifier>>,
    /// The connectors flows name (`fulfillment: { connector: <name> }`); empty by default.
    pub connectors: ConnectorRegistry,
}

impl App {
    /// Builds the application and loads the directory from the store.
    pub async fn new(parts: AppParts) -> Result<App, AppError> {
        let app = App {
            inner: Arc::new(Inner {
                store: parts.store,
                catalog: RwLock::new(Arc::new(parts.catalog)),
                directory: RwLock::new(Arc::new(Directory::default())),
                directory_version: RwLock::new(-1),
                clock: parts.clock,
                roles: parts.roles,
                notifiers: parts.notifiers,
                connectors: RwLock::new(Arc::new(parts.connectors)),
                wake: Notify::new(),
                metrics: metrics::Metrics::default(),
                token_cache: tokens::TokenCache::default(),
                recent: requests::RecentRequests::default(),
                evidence: RwLock::new(sesame_core::matcher::Evidence::default()),
                match_model: RwLock::new(None),
                scim_lock: tokio::sync::Mutex::new(()),
                worker: worker::WorkerId::current(),
                lease_millis: std::sync::atomic::AtomicI64::new(dispatcher::LEASE_MILLIS),
                chat_workers: RwLock::new(Vec::new()),
                run_now: Arc::new(tokio::sync::Semaphore::new(chat::RUN_NOW_LIMIT)),
            }),
        };
        app.reload_directory().await?;
        app.load_evidence().await?;
        Ok(app)
    }

    /// The database. Only this crate talks to it; tests read it through
    /// [`App::store_for_tests`].
    pub(crate) fn store(&self) -> &Store {
        &self.inner.store
    }

    /// The database, for tests that look behind the use cases (the `test-support` feature).
    #[cfg(feature = "test-support")]
    pub fn store_for_tests(&self) -> &Store {
        &self.inner.store
    }

    /// Closes the database cleanly (at shutdown, after the last use).
    pub async fn close(&self) {
        self.inner.store.close().await;
    }

    /// This process's name as a holder of job leases (`host:pid:start`).
    pub fn worker_name(&self) -> String {
        self.inner.worker.to_string()
    }

    /// How long a claimed job is reserved for its worker (`[server] job_lease_seconds`). After a
    /// crash, the jobs wait this long unless a Sesame on the same host takes them back first.
    pub fn set_job_lease(&self, lease: std::time::Duration) {
        let millis = i64::try_from(lease.as_millis())
            .unwrap_or(i64::MAX)
            .max(1000);
        self.inner
            .lease_millis
            .store(millis, std::sync::atomic::Ordering::Relaxed);
    }

    pub(crate) fn lease_millis(&self) -> i64 {
        self.inner
            .lease_millis
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    pub fn catalog(&self) -> Arc<Catalog> {
        read_lock(&self.inner.catalog).clone()
    }

    /// Replaces the flows (after `sesame check` passed on a changed directory, say).
    pub fn replace_catalog(&self, catalog: Catalog) {
        *write_lock(&self.inner.catalog) = Arc::new(catalog);
        self.prepare_match_model();
    }

    pub fn connectors(&self) -> Arc<ConnectorRegistry> {
        read_lock(&self.inner.connectors).clone()
    }

    /// Replaces the connectors (tests hand in their own after start). Work already queued uses
    /// the new set when it next runs.
    pub fn set_connectors(&self, connectors: ConnectorRegistry) {
        *write_lock(&self.inner.connectors) = Arc::new(connectors);
    }

    pub fn directory(&self) -> Arc<Directory> {
        read_lock(&self.inner.directory).clone()
    }

    pub fn now(&self) -> sesame_core::Timestamp {
        self.inner.clock.now()
    }

    pub fn metrics(&self) -> &metrics::Metrics {
        &self.inner.metrics
    }

    pub fn roles(&self) -> &Roles {
        &self.inner.roles
    }

    pub(crate) fn wake_dispatcher(&self) {
        self.inner.wake.notify_one();
    }
}

/// A poisoned lock only means another thread panicked while holding it; the data (an `Arc` swap) is
/// still whole, so carry on rather than spread the panic.
pub(crate) fn read_lock<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

pub(crate) fn write_lock<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The stored records adapters and the web layer read, re-exported so that they depend on the
/// application and never on the store.
pub use sesame_store::{
    AuditFilter, AuditRecord, ChainedEvent, ChatMessageRecord, Checkpoint, Comment, Job, JobCounts,
    JobPayload, JobStatus, Store, StoreError, TokenRecord,
};
