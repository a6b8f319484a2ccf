// The outbox and timer queue, written once for both backends. This file is `include!`d into
// `backend::sqlite` and `backend::postgres`, which each define the `claim_lock!` macro: empty on
// SQLite (one writer connection serialises claims), `FOR UPDATE OF j SKIP LOCKED` on PostgreSQL (so
// that replicas claiming at once skip each other's rows instead of waiting). See `backend/mod.rs`.

/// The condition that makes a pending job the head of its ordering key: no older pending job shares
/// the key. Jobs without a key are always heads. A leased job stays pending, so the job behind it
/// waits until it is completed, retried later or buried.
macro_rules! head_of_its_key {
    () => {
        "(j.ordering_key IS NULL OR NOT EXISTS (\
         SELECT 1 FROM jobs o WHERE o.ordering_key = j.ordering_key AND o.status = 'pending' AND o.id < j.id))"
    };
}

/// Claims ready jobs in one statement: $1 the lease end, $2 the worker, $3 now, $4 the limit.
macro_rules! claim_jobs {
    ($only:literal) => {
        concat!(
            "UPDATE jobs SET locked_until = $1, locked_by = $2, attempts = attempts + 1 \
             WHERE id IN (SELECT j.id FROM jobs j \
               WHERE j.status = 'pending' AND j.run_at <= $3 AND (j.locked_until IS NULL OR j.locked_until < $3) AND ",
            $only,
            head_of_its_key!(),
            " ORDER BY j.run_at, j.id LIMIT $4",
            claim_lock!(),
            ") RETURNING id, request_number, kind, payload, run_at, attempts, status, last_error, locked_until, created_at"
        )
    };
}
const CLAIM_JOBS: &str = claim_jobs!("");
/// Claims ready chat jobs only: the replies people wait for, in a lane of their own.
const CLAIM_CHAT_JOBS: &str = claim_jobs!("j.kind = 'chat' AND ");

/// The earliest moment one of the first heads (by run time) may be claimed: its run time, or the end
/// of its lease. Looking at the first hundred heads keeps this cheap however many timers wait far in
/// the future (timers are never cancelled, so they pile up); a lease ending earlier than all of those
/// is found once the leases in front of it are done.
const NEXT_JOB_AT: &str = concat!(
    "SELECT MIN(CASE WHEN heads.locked_until IS NOT NULL AND heads.locked_until >= heads.run_at \
                     THEN heads.locked_until + 1 ELSE heads.run_at END) \
     FROM (SELECT j.run_at, j.locked_until FROM jobs j WHERE j.status = 'pending' AND ",
    head_of_its_key!(),
    " ORDER BY j.run_at LIMIT 100) AS heads"
);

/// The most jobs one claim takes.
const MAX_CLAIM: u32 = 1000;
/// The most ids one DELETE names.
const COMPLETE_CHUNK: usize = 500;

impl Pools {
    pub(crate) async fn claim_jobs(
        &self,
        worker: &str,
        now: Timestamp,
        lease_ms: i64,
        limit: u32,
        chat_only: bool,
    ) -> Result<Vec<Job>, StoreError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let locked_until = now.millis().saturating_add(lease_ms.max(0));
        let sql = if chat_only { CLAIM_CHAT_JOBS } else { CLAIM_JOBS };
        let rows: Vec<JobRow> = sqlx::query_as(sql)
            .bind(locked_until)
            .bind(worker)
            .bind(now.millis())
            .bind(i64::from(limit.min(MAX_CLAIM)))
            .fetch_all(&self.writer)
            .await
            .map_err(db)?;
        let mut jobs = Vec::with_capacity(rows.len());
        for row in rows {
            let id = row.id;
            match row.into_job() {
                Ok(job) => jobs.push(job),
                Err(e) => {
                    // A job nobody can read would be claimed forever and, holding the head of its
                    // key, block every later message about its request: bury it instead.
                    tracing::warn!(job_id = id, error = %e, "burying an unreadable job");
                    self.bury_job(JobId(id), &e.to_string()).await?;
                }
            }
        }
        jobs.sort_by_key(|job| job.id);
        Ok(jobs)
    }

    pub(crate) async fn complete_jobs(&self, ids: &[JobId]) -> Result<(), StoreError> {
        fn delete<'a>(ids: &[JobId]) -> QueryBuilder<'a, DB> {
            let mut q = QueryBuilder::<DB>::new("DELETE FROM jobs WHERE id IN (");
            let mut list = q.separated(", ");
            for id in ids {
                list.push_bind(id.0);
            }
            q.push(")");
            q
        }
        match ids.len() {
            0 => Ok(()),
            // The usual batch is one statement, atomic without a transaction around it.
            1..=COMPLETE_CHUNK => {
                delete(ids)
                    .build()
                    .execute(&self.writer)
                    .await
                    .map_err(db)?;
                Ok(())
            }
            _ => {
                let mut tx = self.begin_write().await?;
                for chunk in ids.chunks(COMPLETE_CHUNK) {
                    delete(chunk).build().execute(&mut *tx).await.map_err(db)?;
                }
                tx.commit().await.map_err(db)
            }
        }
    }

    pub(crate) async fn retry_job(
        &self,
        id: JobId,
        error: &str,
        run_at: Timestamp,
    ) -> Result<(), StoreError> {
        let updated = sqlx::query(
            "UPDATE jobs SET status = 'pending', run_at = $1, locked_until = NULL, locked_by = NULL, last_error = $2 \
             WHERE id = $3",
        )
        .bind(run_at.millis())
        .bind(bounded_error(error))
        .bind(id.0)
        .execute(&self.writer)
        .await
        .map_err(db)?
        .rows_affected();
        found(updated, id)
    }

    pub(crate) async fn defer_job(
        &self,
        id: JobId,
        reason: &str,
        run_at: Timestamp,
    ) -> Result<(), StoreError> {
        let updated = sqlx::query(
            "UPDATE jobs SET status = 'pending', run_at = $1, locked_until = NULL, locked_by = NULL, last_error = $2, \
             attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END WHERE id = $3",
        )
        .bind(run_at.millis())
        .bind(bounded_error(reason))
        .bind(id.0)
        .execute(&self.writer)
        .await
        .map_err(db)?
        .rows_affected();
        found(updated, id)
    }

    pub(crate) async fn bury_job(&self, id: JobId, error: &str) -> Result<(), StoreError> {
        let updated = sqlx::query(
            "UPDATE jobs SET status = 'dead', locked_until = NULL, locked_by = NULL, last_error = $1 WHERE id = $2",
        )
        .bind(bounded_error(error))
        .bind(id.0)
        .execute(&self.writer)
        .await
        .map_err(db)?
        .rows_affected();
        found(updated, id)
    }

    pub(crate) async fn requeue_job(&self, id: JobId, now: Timestamp) -> Result<bool, StoreError> {
        let updated = sqlx::query(
            "UPDATE jobs SET status = 'pending', attempts = 0, run_at = $1, locked_until = NULL, locked_by = NULL \
             WHERE id = $2 AND status = 'dead'",
        )
        .bind(now.millis())
        .bind(id.0)
        .execute(&self.writer)
        .await
        .map_err(db)?
        .rows_affected();
        Ok(updated > 0)
    }

    pub(crate) async fn jobs(&self, status: JobStatus, limit: u32) -> Result<Vec<Job>, StoreError> {
        let rows: Vec<JobRow> = sqlx::query_as(&format!(
            "SELECT {JOB_COLUMNS} FROM jobs WHERE status = $1 ORDER BY id LIMIT $2"
        ))
        .bind(status.name())
        .bind(clamp_limit(limit))
        .fetch_all(&self.reader)
        .await
        .map_err(db)?;
        let mut jobs = Vec::with_capacity(rows.len());
        for row in rows {
            let id = row.id;
            match row.into_job() {
                Ok(job) => jobs.push(job),
                Err(e) => {
                    tracing::warn!(job_id = id, error = %e, "leaving an unreadable job out of the list")
                }
            }
        }
        Ok(jobs)
    }

    pub(crate) async fn job_counts(&self) -> Result<JobCounts, StoreError> {
        let (pending, dead, oldest): (i64, i64, Option<i64>) = sqlx::query_as(
            "SELECT COUNT(CASE WHEN status = 'pending' THEN 1 END), \
                    COUNT(CASE WHEN status = 'dead' THEN 1 END), \
                    MIN(CASE WHEN status = 'pending' THEN run_at END) \
             FROM jobs",
        )
        .fetch_one(&self.reader)
        .await
        .map_err(db)?;
        Ok(JobCounts {
            pending: u64::try_from(pending).unwrap_or(0),
            dead: u64::try_from(dead).unwrap_or(0),
            oldest_pending_run_at: oldest.map(Timestamp),
        })
    }

    /// The earliest moment a job may become claimable: the run time of a pending head of its key,
    /// or the end of its lease if a worker holds it. Jobs queued behind another job of their key are
    /// left out; they become ready when that one completes.
    pub(crate) async fn next_job_at(&self) -> Result<Option<Timestamp>, StoreError> {
        let next: Option<i64> = sqlx::query_scalar(NEXT_JOB_AT)
            .fetch_one(&self.reader)
            .await
            .map_err(db)?;
        Ok(next.map(Timestamp))
    }
}

fn found(rows: u64, id: JobId) -> Result<(), StoreError> {
    if rows == 0 {
        Err(StoreError::NotFound(id.to_string()))
    } else {
        Ok(())
    }
}

impl Pools {
    /// Replaces a notice for every notifier with one job per notifier, in one transaction, each on
    /// its notifier's own ordering key for the request.
    pub(crate) async fn split_notice(
        &self,
        id: JobId,
        request: RequestNumber,
        notice: &Notice,
        notifiers: &[&str],
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let mut jobs = Vec::with_capacity(notifiers.len());
        for notifier in notifiers {
            jobs.push((*notifier, NewJob::notice_to(notifier, notice, now)?));
        }
        let mut tx = self.begin_write().await?;
        let deleted = sqlx::query("DELETE FROM jobs WHERE id = $1")
            .bind(id.0)
            .execute(&mut *tx)
            .await
            .map_err(db)?
            .rows_affected();
        if deleted == 0 {
            tx.rollback().await.map_err(db)?;
            return Err(StoreError::NotFound(id.to_string()));
        }
        if !jobs.is_empty() {
            let mut insert = QueryBuilder::<DB>::new(
                "INSERT INTO jobs (request_number, ordering_key, kind, payload, run_at, created_at) ",
            );
            insert.push_values(&jobs, |mut row, (notifier, job)| {
                row.push_bind(request.0)
                    .push_bind(notifier_ordering_key(request.0, notifier))
                    .push_bind(job.kind)
                    .push_bind(job.payload.as_str())
                    .push_bind(job.run_at)
                    .push_bind(job.created_at);
            });
            insert.build().execute(&mut *tx).await.map_err(db)?;
        }
        tx.commit().await.map_err(db)
    }

    /// The workers that hold leases now, for taking back a dead process's jobs.
    pub(crate) async fn lease_holders(&self) -> Result<Vec<String>, StoreError> {
        sqlx::query_scalar(
            "SELECT DISTINCT locked_by FROM jobs WHERE status = 'pending' AND locked_by IS NOT NULL",
        )
        .fetch_all(&self.reader)
        .await
        .map_err(db)
    }

    /// Ends every lease `worker` holds, so that its jobs can be claimed at once (the worker is
    /// known to be dead). Attempts stay as counted.
    pub(crate) async fn release_leases(&self, worker: &str) -> Result<u64, StoreError> {
        let released = sqlx::query(
            "UPDATE jobs SET locked_until = NULL, locked_by = NULL WHERE locked_by = $1 AND status = 'pending'",
        )
        .bind(worker)
        .execute(&self.writer)
        .await
        .map_err(db)?
        .rows_affected();
        Ok(released)
    }
}
