// Multi-row inserts of audit rows and jobs, written once for both backends. This file is
// `include!`d into `backend::sqlite` and `backend::postgres`; see `backend/mod.rs`.

/// Which request a statement's rows belong to.
#[derive(Clone, Copy)]
enum RequestRef {
    None,
    Known(i64),
}

/// The statements of one write, each built on its own (PostgreSQL prepares one at a time) and run
/// in order inside the caller's transaction.
struct Statements<'args> {
    done: Vec<QueryBuilder<'args, DB>>,
}

impl<'args> Statements<'args> {
    fn new() -> Self {
        Statements { done: Vec::new() }
    }

    /// Starts the next statement.
    fn next(&mut self, sql: &str) -> &mut QueryBuilder<'args, DB> {
        self.done.push(QueryBuilder::new(sql));
        let last = self.done.len() - 1;
        &mut self.done[last]
    }

    async fn execute_each(
        self,
        conn: &mut <DB as sqlx::Database>::Connection,
    ) -> Result<(), StoreError> {
        for mut statement in self.done {
            statement.build().execute(&mut *conn).await.map_err(db)?;
        }
        Ok(())
    }
}

fn push_audit<'args>(
    st: &mut Statements<'args>,
    request: RequestRef,
    events: &'args [EncodedAudit],
) {
    if events.is_empty() {
        return;
    }
    st.next("INSERT INTO audit (request_number, at, actor, kind, detail) ")
        .push_values(events, |mut row, event| {
            push_request_in_row(&mut row, request);
            row.push_bind(event.at)
                .push_bind(event.actor.as_str())
                .push_bind(event.kind.as_str())
                .push_bind(event.detail.as_str());
        });
}

fn push_jobs<'args>(st: &mut Statements<'args>, request: i64, jobs: &'args [NewJob]) {
    if jobs.is_empty() {
        return;
    }
    st.next("INSERT INTO jobs (request_number, ordering_key, kind, payload, run_at, created_at) ")
        .push_values(jobs, |mut row, job| {
            row.push_bind(request)
                .push_bind(job.key_prefix.map(|prefix| ordering_key(prefix, request)))
                .push_bind(job.kind)
                .push_bind(job.payload.as_str())
                .push_bind(job.run_at)
                .push_bind(job.created_at);
        });
}

/// Appends one audit row inside the caller's transaction.
async fn insert_audit_in(
    conn: &mut <DB as sqlx::Database>::Connection,
    request: RequestRef,
    event: &EncodedAudit,
) -> Result<(), StoreError> {
    let mut st = Statements::new();
    push_audit(&mut st, request, std::slice::from_ref(event));
    st.execute_each(conn).await
}

fn push_request_in_row(
    row: &mut sqlx::query_builder::Separated<'_, '_, DB, &'static str>,
    request: RequestRef,
) {
    match request {
        RequestRef::None => row.push_bind(None::<i64>),
        RequestRef::Known(number) => row.push_bind(number),
    };
}
