//! Request use cases. Each one loads what it needs, asks the core engine, and stores the whole
//! transition in one call; none of them talks to chat or connectors (the dispatcher does, later).

use crate::{App, AppError};
use sesame_core::engine::{self, Command, Submission};
use sesame_core::{Actor, Duty, Flow, RawSubmission, Request, RequestNumber, Timestamp, UserId};
use sesame_store::{AuditFilter, AuditRecord, Comment, RequestFilter, StoreError};

/// The person behind a call, with the roles the directory and config give them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub user: UserId,
    pub admin: bool,
    pub auditor: bool,
}

impl Principal {
    pub fn actor(&self) -> Actor {
        Actor::User {
            id: self.user.clone(),
            admin: self.admin,
        }
    }

    /// Admins and auditors see every request; everyone else sees the ones they take part in.
    pub fn can_view(&self, request: &Request) -> bool {
        self.admin || self.auditor || request.involves(&self.user)
    }
}

/// Which requests a list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestScope {
    /// Requests the caller filed or that are for them.
    Mine,
    /// Requests waiting on the caller to approve or fulfil.
    WaitingOnMe,
    /// Everything the caller may see.
    All,
}

/// How many times a decision is retried when another decision on the same request won the race.
const CONFLICT_RETRIES: usize = 8;

impl App {
    /// The principal for a directory user, or `Unauthenticated` for someone unknown or deactivated.
    pub fn principal(&self, user: &UserId) -> Result<Principal, AppError> {
        let directory = self.directory();
        let person = directory
            .user(user)
            .filter(|u| u.active)
            .ok_or(AppError::Unauthenticated)?;
        let roles = self.roles();
        Ok(Principal {
            user: person.id.clone(),
            admin: roles.admin_groups.iter().any(|g| person.groups.contains(g)),
            auditor: roles
                .auditor_groups
                .iter()
                .any(|g| person.groups.contains(g)),
        })
    }

    /// The flows `who` may request, in catalog order.
    pub fn requestable_flows(&self, who: &Principal) -> Vec<Flow> {
        let directory = self.directory();
        self.catalog()
            .flows()
            .filter(|f| sesame_core::policy::may_request(f, &who.user, &directory).is_ok())
            .cloned()
            .collect()
    }

    /// Files a request. `client_key` makes a retried submission (a Slack view resubmitted, an API
    /// call repeated after a timeout) return the first request instead of creating a second; the
    /// same key with a different submission is refused (`AppError::KeyReused`).
    pub async fn submit(
        &self,
        who: &Principal,
        flow_id: &str,
        on_behalf_of: Option<&str>,
        answers: RawSubmission,
        client_key: Option<&str>,
    ) -> Result<Request, AppError> {
        let catalog = self.catalog();
        let flow = catalog
            .get(flow_id)
            .ok_or_else(|| AppError::NotFound(format!("there is no flow `{flow_id}`")))?;
        let directory = self.directory();
        let requester = match on_behalf_of {
            None => who.user.clone(),
            Some(other) => directory
                .find_user(other)
                .map(|u| u.id.clone())
                .ok_or_else(|| {
                    AppError::Invalid(format!(
                        "{other:?} is not an active person in the directory"
                    ))
                })?,
        };
        let now = self.now();
        let transition = engine::submit(
            flow,
            Submission { requester, answers },
            &who.actor(),
            &directory,
            now,
        )?;
        let stored = match self.store().create_request(&transition, client_key).await {
            Ok(request) => request,
            Err(StoreError::DuplicateKey { existing }) => {
                let first = self
                    .store()
                    .request(existing)
                    .await?
                    .ok_or_else(|| AppError::NotFound(existing.to_string()))?;
                if !same_submission(&first, &transition.request) {
                    return Err(AppError::KeyReused(existing));
                }
                return Ok(first);
            }
            Err(e) => return Err(e.into()),
        };
        self.inner.recent.put(&stored);
        self.metrics().count_transition("submitted");
        self.wake_dispatcher();
        Ok(stored)
    }

    /// Loads a request the principal may see. Requests they may not see are reported as missing, so
    /// numbers cannot be probed.
    pub async fn request_for(
        &self,
        who: &Principal,
        number: RequestNumber,
    ) -> Result<Request, AppError> {
        match self.store().request(number).await? {
            Some(r) if who.can_view(&r) => Ok(r),
            _ => Err(AppError::NotFound(format!(
                "request {number} was not found"
            ))),
        }
    }

    /// Applies a person's command, retrying when a concurrent decision changed the request first.
    ///
    /// The first attempt may start from the copy this process last wrote (see [`RecentRequests`]):
    /// the store's version check refuses the write if that copy is stale, and any refusal based on it
    /// is tried again from a fresh read, so the cache only ever saves a read.
    pub async fn act(
        &self,
        who: &Principal,
        number: RequestNumber,
        command: Command,
    ) -> Result<Request, AppError> {
        let actor = who.actor();
        let mut cached = self.inner.recent.get(number);
        for _ in 0..CONFLICT_RETRIES {
            let from_cache = cached.is_some();
            let request = match cached.take() {
                Some(r) if who.can_view(&r) => r,
                _ => self.request_for(who, number).await?,
            };
            let transition = match engine::decide(
                &request,
                command.clone(),
                &actor,
                &self.directory(),
                self.now(),
            ) {
                Ok(t) => t,
                Err(_) if from_cache => continue,
                Err(e) => return Err(e.into()),
            };
            match self
                .store()
                .save_transition(&transition, request.version, None)
                .await
            {
                Ok(saved) => {
                    self.inner.recent.put(&saved);
                    self.metrics().count_transition(command.name());
                    self.wake_dispatcher();
                    return Ok(saved);
                }
                Err(StoreError::Conflict) => {
                    self.inner.recent.forget(number);
                    continue;
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(AppError::Conflict(format!(
            "request {number} is changing too often; try again"
        )))
    }

    /// Applies a command as Sesame itself (timers, departures), retrying when a concurrent write
    /// changed the request first. `completes_job` is removed in the same transaction (a timer's
    /// job). `Ok(false)` when the command no longer applies (`Outlived`); other refusals are errors.
    pub(crate) async fn apply_as_system(
        &self,
        number: RequestNumber,
        command: Command,
        completes_job: Option<sesame_store::JobId>,
    ) -> Result<bool, AppError> {
        for _ in 0..CONFLICT_RETRIES {
            let Some(request) = self.store().request(number).await? else {
                return Ok(false);
            };
            let transition = match engine::decide(
                &request,
                command.clone(),
                &Actor::System,
                &self.directory(),
                self.now(),
            ) {
                Ok(t) => t,
                Err(engine::DomainError::Outlived) => return Ok(false),
                Err(e) => return Err(e.into()),
            };
            match self
                .store()
                .save_transition(&transition, request.version, completes_job)
                .await
            {
                Ok(saved) => {
                    self.inner.recent.put(&saved);
                    if !matches!(command, Command::Fire(_)) {
                        self.metrics().count_transition(command.name());
                    }
                    self.wake_dispatcher();
                    return Ok(true);
                }
                Err(StoreError::Conflict) => {
                    self.inner.recent.forget(number);
                    continue;
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(AppError::Conflict(format!(
            "request {number} kept changing while Sesame acted on it"
        )))
    }

    pub async fn comment(
        &self,
        who: &Principal,
        number: RequestNumber,
        text: &str,
        source: &str,
    ) -> Result<Comment, AppError> {
        let request = self.request_for(who, number).await?;
        let (text, event) = engine::comment(&request, &who.actor(), text, self.now())?;
        let comment = self
            .store()
            .add_comment(number, &who.user, &text, source, &event)
            .await?;
        self.wake_dispatcher();
        Ok(comment)
    }

    pub async fn comments(
        &self,
        who: &Principal,
        number: RequestNumber,
    ) -> Result<Vec<Comment>, AppError> {
        self.request_for(who, number).await?;
        Ok(self.store().comments(number).await?)
    }

    pub async fn request_audit(
        &self,
        who: &Principal,
        number: RequestNumber,
    ) -> Result<Vec<AuditRecord>, AppError> {
        self.request_for(who, number).await?;
        let filter = AuditFilter {
            request: Some(number),
            limit: 10_000,
            ..AuditFilter::default()
        };
        Ok(self.store().audit(&filter).await?)
    }

    /// The whole audit trail, filtered; for administrators and auditors.
    pub async fn audit(
        &self,
        who: &Principal,
        filter: &AuditFilter,
    ) -> Result<Vec<AuditRecord>, AppError> {
        if !who.admin && !who.auditor {
            return Err(AppError::Forbidden(String::from(
                "only administrators and auditors may read the audit log",
            )));
        }
        Ok(self.store().audit(filter).await?)
    }

    pub async fn list_requests(
        &self,
        who: &Principal,
        scope: RequestScope,
        states: Vec<String>,
        before: Option<RequestNumber>,
        limit: u32,
    ) -> Result<Vec<Request>, AppError> {
        let mut filter = RequestFilter {
            states,
            before,
            limit: limit.clamp(1, 500),
            ..RequestFilter::default()
        };
        match scope {
            RequestScope::Mine => filter.requested_or_filed_by = Some(who.user.clone()),
            RequestScope::WaitingOnMe => filter.waiting_on = Some(who.user.clone()),
            RequestScope::All if who.admin || who.auditor => {}
            RequestScope::All => filter.involving = Some(who.user.clone()),
        }
        Ok(self.store().list_requests(&filter).await?)
    }

    /// One page of a list as people browse it (the portal): the same visibility as
    /// [`App::list_requests`], more conditions, either order, numbered pages, and the true count of
    /// everything that matches, so that a list never stops silently at its page size.
    pub async fn page_requests(
        &self,
        who: &Principal,
        scope: RequestScope,
        query: RequestListQuery,
    ) -> Result<RequestPage, AppError> {
        let mut filter = RequestFilter {
            states: query.states,
            flow: query.flow,
            requester: query.requester,
            created_from: query.created_from,
            created_until: query.created_until,
            duty: query.duty,
            oldest_first: query.oldest_first,
            offset: query.offset,
            limit: query.limit.clamp(1, sesame_store::MAX_LIST_LIMIT),
            ..RequestFilter::default()
        };
        match scope {
            RequestScope::Mine => filter.requested_or_filed_by = Some(who.user.clone()),
            RequestScope::WaitingOnMe => filter.waiting_on = Some(who.user.clone()),
            RequestScope::All if who.admin || who.auditor => {}
            RequestScope::All => filter.involving = Some(who.user.clone()),
        }
        let total = self.store().count_requests(&filter).await?;
        let requests = self.store().list_requests(&filter).await?;
        Ok(RequestPage { requests, total })
    }

    /// What `who` is asked to do on a request now, if anything.
    pub fn duty_of(&self, who: &Principal, request: &Request) -> Option<Duty> {
        request
            .duties()
            .into_iter()
            .find(|(u, _)| u == &who.user)
            .map(|(_, d)| d)
    }

    /// The current time, exposed for adapters that stamp their own records.
    pub fn time(&self) -> Timestamp {
        self.now()
    }
}

/// The requests this process wrote most recently, so that a decision right after a submission or
/// another decision (the common case: approve, then complete) need not read the request back.
/// Bounded: when full it starts again empty, which costs only reads.
#[derive(Default)]
pub(crate) struct RecentRequests {
    entries: std::sync::Mutex<std::collections::HashMap<RequestNumber, Request>>,
}

const RECENT_REQUESTS: usize = 4096;

impl RecentRequests {
    fn lock(&self) -> std::sync::MutexGuard<'_, std::collections::HashMap<RequestNumber, Request>> {
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub(crate) fn get(&self, number: RequestNumber) -> Option<Request> {
        self.lock().get(&number).cloned()
    }

    pub(crate) fn put(&self, request: &Request) {
        let mut entries = self.lock();
        if entries.len() >= RECENT_REQUESTS && !entries.contains_key(&request.number) {
            entries.clear();
        }
        if request.state.is_final() {
            entries.remove(&request.number);
        } else {
            entries.insert(request.number, request.clone());
        }
    }

    pub(crate) fn forget(&self, number: RequestNumber) {
        self.lock().remove(&number);
    }
}

/// The conditions and page of [`App::page_requests`]; every condition given must hold.
#[derive(Debug, Clone, Default)]
pub struct RequestListQuery {
    /// State names; empty means any.
    pub states: Vec<String>,
    pub flow: Option<sesame_core::FlowId>,
    /// Requests for this person.
    pub requester: Option<UserId>,
    pub created_from: Option<Timestamp>,
    pub created_until: Option<Timestamp>,
    /// With [`RequestScope::WaitingOnMe`]: waiting for this duty only.
    pub duty: Option<sesame_core::Duty>,
    pub oldest_first: bool,
    pub offset: u32,
    pub limit: u32,
}

/// A page of requests and how many match in all.
#[derive(Debug, Clone)]
pub struct RequestPage {
    pub requests: Vec<Request>,
    pub total: i64,
}

/// Whether a retried submission asks for what the first one filed: the same flow for the same
/// person by the same person, with the same answers, justification and duration once checked
/// (so spacing and key order do not matter, and anything that changes what approvers see does).
fn same_submission(first: &Request, retry: &Request) -> bool {
    first.flow.id == retry.flow.id
        && first.requester == retry.requester
        && first.submitted_by == retry.submitted_by
        && first.answers == retry.answers
        && first.justification == retry.justification
        && first.duration == retry.duration
}
