// Multi-row inserts of jobs, and the statements of a write, written once for both backends. This file is
// `include!`d into `backend::sqlite` and `backend::postgres`; see `backend/mod.rs`.

/// Which request a statement's rows belong to.
#[derive(Clone, Copy)]
enum RequestRef {
    None,
    Known(i64),
}

impl RequestRef {
    fn number(self) -> Option<i64> {
        match self {
            RequestRef::None => None,
            RequestRef::Known(number) => Some(number),
        }
    }
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
