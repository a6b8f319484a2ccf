// Reading requests, and comments, written once for both backends. This file is `include!`d into
// `backend::sqlite` and `backend::postgres`, which each store transitions their own way (see
// `writes.rs`); see `backend/mod.rs`.

const SELECT_REQUEST: &str = "SELECT number, version, body FROM requests WHERE number = $1";

/// The request as stored by a write: its number and version come from the database.
fn stored(t: &Transition, number: i64, version: i64) -> Request {
    let mut request = t.request.clone();
    request.number = RequestNumber(number);
    request.version = version;
    request
}

impl Pools {
    /// The error for a create whose client key is taken: which request the key made.
    async fn duplicate_key(&self, client_key: Option<&str>) -> StoreError {
        let existing: Result<Option<i64>, _> =
            sqlx::query_scalar("SELECT number FROM requests WHERE client_key = $1")
                .bind(client_key)
                .fetch_optional(&self.reader)
                .await;
        match existing {
            Ok(Some(number)) => StoreError::DuplicateKey {
                existing: RequestNumber(number),
            },
            Ok(None) => StoreError::Database(String::from(
                "the client key conflicted but no request holds it",
            )),
            Err(e) => db(e),
        }
    }

    /// The error for an update that matched no row: a newer version, or no such request.
    async fn conflict_or_missing(&self, number: i64) -> StoreError {
        let exists: Result<Option<i64>, _> =
            sqlx::query_scalar("SELECT number FROM requests WHERE number = $1")
                .bind(number)
                .fetch_optional(&self.reader)
                .await;
        match exists {
            Ok(Some(_)) => StoreError::Conflict,
            Ok(None) => StoreError::NotFound(format!("request {}", RequestNumber(number))),
            Err(e) => db(e),
        }
    }

    pub(crate) async fn request(
        &self,
        number: RequestNumber,
    ) -> Result<Option<Request>, StoreError> {
        let row: Option<RequestRow> = sqlx::query_as(SELECT_REQUEST)
            .bind(number.0)
            .fetch_optional(&self.reader)
            .await
            .map_err(db)?;
        row.map(RequestRow::into_request).transpose()
    }

    pub(crate) async fn list_requests(
        &self,
        filter: &RequestFilter,
    ) -> Result<Vec<Request>, StoreError> {
        let mut q = QueryBuilder::<DB>::new(
            "SELECT r.number, r.version, r.body FROM requests r WHERE 1 = 1",
        );
        push_request_conditions(&mut q, filter);
        q.push(if filter.oldest_first {
            " ORDER BY r.number ASC LIMIT "
        } else {
            " ORDER BY r.number DESC LIMIT "
        })
        .push_bind(clamp_limit(filter.limit))
        .push(" OFFSET ")
        .push_bind(i64::from(filter.offset));
        let rows: Vec<RequestRow> = q
            .build_query_as()
            .fetch_all(&self.reader)
            .await
            .map_err(db)?;
        rows.into_iter().map(RequestRow::into_request).collect()
    }

    /// How many requests match the filter's conditions (its limit and offset ignored).
    pub(crate) async fn count_requests(&self, filter: &RequestFilter) -> Result<i64, StoreError> {
        let mut q = QueryBuilder::<DB>::new("SELECT COUNT(*) FROM requests r WHERE 1 = 1");
        push_request_conditions(&mut q, filter);
        q.build_query_scalar()
            .fetch_one(&self.reader)
            .await
            .map_err(db)
    }

    pub(crate) async fn add_comment(
        &self,
        number: RequestNumber,
        author: &UserId,
        text: &str,
        source: &str,
        audit: &AuditEvent,
    ) -> Result<Comment, StoreError> {
        let event = EncodedAudit::new(audit)?;
        let at = audit.at;
        let mut tx = self.begin_write().await?;
        let inserted = sqlx::query_scalar(
            "INSERT INTO comments (request_number, author, text, source, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(number.0)
        .bind(author.as_str())
        .bind(text)
        .bind(source)
        .bind(at.millis())
        .fetch_one(&mut *tx)
        .await;
        let id: i64 = match inserted {
            Ok(id) => id,
            Err(e) if is_foreign_key_violation(&e) => {
                return Err(StoreError::NotFound(format!("request {number}")))
            }
            Err(e) => return Err(db(e)),
        };
        let job = NewJob::notice(
            &Notice::Commented {
                comment: id,
                author: author.clone(),
                text: text.to_owned(),
                source: source.to_owned(),
            },
            at,
        )?;
        let mut st = Statements::new();
        push_jobs(&mut st, number.0, std::slice::from_ref(&job));
        st.execute_each(&mut tx).await?;
        append_chained(
            &mut tx,
            RequestRef::Known(number.0),
            std::slice::from_ref(&event),
        )
        .await?;
        tx.commit().await.map_err(db)?;
        Ok(Comment {
            id,
            request: number,
            author: author.clone(),
            text: text.to_owned(),
            source: source.to_owned(),
            created_at: at,
        })
    }

    pub(crate) async fn comments(&self, number: RequestNumber) -> Result<Vec<Comment>, StoreError> {
        let rows: Vec<CommentRow> = sqlx::query_as(
            "SELECT id, request_number, author, text, source, created_at FROM comments WHERE request_number = $1 ORDER BY id",
        )
        .bind(number.0)
        .fetch_all(&self.reader)
        .await
        .map_err(db)?;
        rows.into_iter().map(CommentRow::into_comment).collect()
    }
}

/// The WHERE conditions of a request filter (after `WHERE 1 = 1`), for listing and counting alike.
fn push_request_conditions<'a>(q: &mut QueryBuilder<'a, DB>, filter: &'a RequestFilter) {
        if let Some(requester) = &filter.requester {
        q.push(" AND r.requester = ").push_bind(requester.as_str());
    }
    if let Some(person) = &filter.requested_or_filed_by {
        q.push(" AND (r.requester = ")
            .push_bind(person.as_str())
            .push(" OR r.submitted_by = ")
            .push_bind(person.as_str())
            .push(")");
    }
    if let Some(person) = &filter.involving {
        q.push(" AND r.number IN (SELECT p.request_number FROM request_people p WHERE p.user_id = ")
            .push_bind(person.as_str())
            .push(")");
    }
    if filter.waiting_on.is_some() || filter.duty.is_some() {
        q.push(" AND r.number IN (SELECT d.request_number FROM duties d WHERE 1 = 1");
        if let Some(person) = &filter.waiting_on {
            q.push(" AND d.user_id = ").push_bind(person.as_str());
        }
        if let Some(duty) = filter.duty {
            q.push(" AND d.duty = ").push_bind(duty.name());
        }
        q.push(")");
    }
    if !filter.states.is_empty() {
        q.push(" AND r.state IN (");
        let mut names = q.separated(", ");
        for state in &filter.states {
            names.push_bind(state.as_str());
        }
        q.push(")");
    }
    if let Some(flow) = &filter.flow {
        q.push(" AND r.flow_id = ").push_bind(flow.as_str());
    }
    if let Some(before) = filter.before {
        q.push(" AND r.number < ").push_bind(before.0);
    }
    if let Some(from) = filter.created_from {
        q.push(" AND r.created_at >= ").push_bind(from.millis());
    }
    if let Some(until) = filter.created_until {
        q.push(" AND r.created_at < ").push_bind(until.millis());
    }
}
