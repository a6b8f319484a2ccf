// The audit trail, the directory, API tokens and inbound de-duplication, written once for both
// backends. This file is `include!`d into `backend::sqlite` and `backend::postgres`; see
// `backend/mod.rs`.

impl Pools {
    pub(crate) async fn append_audit(
        &self,
        request: Option<RequestNumber>,
        event: &AuditEvent,
    ) -> Result<(), StoreError> {
        let event = EncodedAudit::new(event)?;
        let request = request.map_or(RequestRef::None, |n| RequestRef::Known(n.0));
        let mut tx = self.begin_write().await?;
        append_chained(&mut tx, request, std::slice::from_ref(&event)).await?;
        tx.commit().await.map_err(db)
    }

    pub(crate) async fn audit(&self, filter: &AuditFilter) -> Result<Vec<AuditRecord>, StoreError> {
        let mut q = QueryBuilder::<DB>::new(
            "SELECT id, request_number, at, actor, kind, detail FROM audit WHERE 1 = 1",
        );
        if let Some(request) = filter.request {
            q.push(" AND request_number = ").push_bind(request.0);
        }
        if let Some(actor) = &filter.actor {
            q.push(" AND actor = ").push_bind(actor.as_str());
        }
        if let Some(kind) = &filter.kind {
            q.push(" AND kind = ").push_bind(kind.as_str());
        }
        if let Some(since) = filter.since {
            q.push(" AND at >= ").push_bind(since.millis());
        }
        if let Some(until) = filter.until {
            q.push(" AND at < ").push_bind(until.millis());
        }
        if let Some(after) = filter.after_id {
            q.push(" AND id > ").push_bind(after);
        }
        q.push(" ORDER BY id LIMIT ")
            .push_bind(clamp_limit(filter.limit));
        let rows: Vec<AuditRow> = q
            .build_query_as()
            .fetch_all(&self.reader)
            .await
            .map_err(db)?;
        Ok(rows.into_iter().map(AuditRow::into_record).collect())
    }

    pub(crate) async fn upsert_user(
        &self,
        user: &User,
        audit: &AuditEvent,
    ) -> Result<(), StoreError> {
        let body = encode_user(user)?;
        let departed: &[User] = if user.active {
            &[]
        } else {
            std::slice::from_ref(user)
        };
        self.upsert_directory_entry(
            "INSERT INTO directory_users (id, body) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET body = excluded.body",
            user.id.as_str(),
            &body,
            audit,
            departed,
        )
        .await
    }

    pub(crate) async fn upsert_group(
        &self,
        group: &Group,
        audit: &AuditEvent,
    ) -> Result<(), StoreError> {
        let body = encode_group(group)?;
        self.upsert_directory_entry(
            "INSERT INTO directory_groups (id, body) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET body = excluded.body",
            group.id.as_str(),
            &body,
            audit,
            &[],
        )
        .await
    }

    async fn upsert_directory_entry(
        &self,
        sql: &'static str,
        id: &str,
        body: &str,
        audit: &AuditEvent,
        departed: &[User],
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query(sql)
            .bind(id)
            .bind(body)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        sqlx::query("UPDATE directory_state SET version = version + 1 WHERE singleton = 1")
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        let mut events = vec![EncodedAudit::new(audit)?];
        events.extend(revoke_tokens_of_departed(&mut tx, departed, audit).await?);
        append_chained(&mut tx, RequestRef::None, &events).await?;
        tx.commit().await.map_err(db)
    }

    pub(crate) async fn load_directory(&self) -> Result<(Vec<User>, Vec<Group>), StoreError> {
        // One read transaction, so that users and groups come from the same moment.
        let mut tx = self.reader.begin().await.map_err(db)?;
        let users: Vec<(String, String)> =
            sqlx::query_as("SELECT id, body FROM directory_users ORDER BY id")
                .fetch_all(&mut *tx)
                .await
                .map_err(db)?;
        let groups: Vec<(String, String)> =
            sqlx::query_as("SELECT id, body FROM directory_groups ORDER BY id")
                .fetch_all(&mut *tx)
                .await
                .map_err(db)?;
        tx.commit().await.map_err(db)?;
        let users = users
            .iter()
            .map(|(id, body)| decode_user(id, body))
            .collect::<Result<Vec<_>, _>>()?;
        let groups = groups
            .iter()
            .map(|(id, body)| decode_group(id, body))
            .collect::<Result<Vec<_>, _>>()?;
        Ok((users, groups))
    }

    /// The schema versions this build knows, and those the database has applied.
    pub(crate) async fn schema_versions(&self) -> Result<crate::SchemaVersions, StoreError> {
        let known = MIGRATOR.iter().map(|m| m.version).collect();
        // The writer: an in-memory SQLite database is only the writer's.
        let exists: bool = sqlx::query_scalar(MIGRATIONS_TABLE_EXISTS)
            .fetch_one(&self.writer)
            .await
            .map_err(db)?;
        let applied = if exists {
            sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success ORDER BY version")
                .fetch_all(&self.writer)
                .await
                .map_err(db)?
        } else {
            Vec::new()
        };
        Ok(crate::SchemaVersions { known, applied })
    }

    pub(crate) async fn directory_version(&self) -> Result<i64, StoreError> {
        sqlx::query_scalar("SELECT version FROM directory_state WHERE singleton = 1")
            .fetch_one(&self.reader)
            .await
            .map_err(db)
    }

    pub(crate) async fn create_token(
        &self,
        token: &NewToken,
        audit: &AuditEvent,
    ) -> Result<TokenRecord, StoreError> {
        let event = EncodedAudit::new(audit)?;
        let mut tx = self.begin_write().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO api_tokens (name, user_id, hash, created_at, expires_at, created_by) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(token.name.as_str())
        .bind(token.user.as_str())
        .bind(token.hash.as_str())
        .bind(token.created_at.millis())
        .bind(token.expires_at.map(Timestamp::millis))
        .bind(token.created_by.as_str())
        .fetch_one(&mut *tx)
        .await
        .map_err(db)?;
        append_chained(&mut tx, RequestRef::None, std::slice::from_ref(&event)).await?;
        tx.commit().await.map_err(db)?;
        Ok(TokenRecord {
            id,
            name: token.name.clone(),
            user: token.user.clone(),
            created_at: token.created_at,
            expires_at: token.expires_at,
            revoked_at: None,
            created_by: Some(token.created_by.clone()),
        })
    }

    pub(crate) async fn token_by_hash(
        &self,
        hash: &str,
    ) -> Result<Option<TokenRecord>, StoreError> {
        let row: Option<TokenRow> = sqlx::query_as(&format!(
            "SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE hash = $1"
        ))
        .bind(hash)
        .fetch_optional(&self.reader)
        .await
        .map_err(db)?;
        row.map(TokenRow::into_record).transpose()
    }

    pub(crate) async fn list_tokens(&self) -> Result<Vec<TokenRecord>, StoreError> {
        let rows: Vec<TokenRow> = sqlx::query_as(&format!(
            "SELECT {TOKEN_COLUMNS} FROM api_tokens ORDER BY id"
        ))
        .fetch_all(&self.reader)
        .await
        .map_err(db)?;
        rows.into_iter().map(TokenRow::into_record).collect()
    }

    pub(crate) async fn revoke_token(
        &self,
        id: i64,
        at: Timestamp,
        audit: &AuditEvent,
    ) -> Result<bool, StoreError> {
        let event = EncodedAudit::new(audit)?;
        let mut tx = self.begin_write().await?;
        let revoked = sqlx::query(
            "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
        )
        .bind(at.millis())
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(db)?
        .rows_affected()
            > 0;
        if !revoked {
            // Unknown or already revoked: nothing happened, so nothing is audited.
            tx.rollback().await.map_err(db)?;
            return Ok(false);
        }
        append_chained(&mut tx, RequestRef::None, std::slice::from_ref(&event)).await?;
        tx.commit().await.map_err(db)?;
        Ok(true)
    }

    pub(crate) async fn forget_inbound_before(&self, cutoff: Timestamp) -> Result<u64, StoreError> {
        let deleted = sqlx::query("DELETE FROM inbound_seen WHERE seen_at < $1")
            .bind(cutoff.millis())
            .execute(&self.writer)
            .await
            .map_err(db)?
            .rows_affected();
        Ok(deleted)
    }

    pub(crate) async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1")
            .execute(&self.reader)
            .await
            .map_err(db)?;
        Ok(())
    }

    pub(crate) async fn execute_raw(&self, sql: &str) -> Result<u64, StoreError> {
        let done = sqlx::raw_sql(sql).execute(&self.writer).await.map_err(db)?;
        Ok(done.rows_affected())
    }
}

/// Credentials die with the person: every unrevoked API token of someone written as inactive is
/// revoked, and their portal sessions ended, in the same transaction as the change (whatever its
/// source), so that reactivating them later brings no old credential back. One `tokens_revoked` event per person who had any, by the
/// same actor and at the same time as `cause`.
async fn revoke_tokens_of_departed(
    conn: &mut <DB as sqlx::Database>::Connection,
    departed: &[User],
    cause: &AuditEvent,
) -> Result<Vec<EncodedAudit>, StoreError> {
    let mut events = Vec::new();
    for user in departed.iter().filter(|u| !u.active) {
        let ids: Vec<i64> = sqlx::query_scalar(
            "UPDATE api_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL RETURNING id",
        )
        .bind(cause.at.millis())
        .bind(user.id.as_str())
        .fetch_all(&mut *conn)
        .await
        .map_err(db)?;
        // Portal sign-ins end too: a session must not come back to life with the person.
        let sessions = sqlx::query("DELETE FROM portal_sessions WHERE user_id = $1")
            .bind(user.id.as_str())
            .execute(&mut *conn)
            .await
            .map_err(db)?
            .rows_affected();
        if ids.is_empty() && sessions == 0 {
            continue;
        }
        events.push(EncodedAudit::new(&AuditEvent {
            at: cause.at,
            actor: cause.actor.clone(),
            kind: String::from("tokens_revoked"),
            detail: serde_json::json!({
                "user": user.id,
                "tokens": ids,
                "portal_sessions_ended": sessions,
                "reason": "the person is no longer active in the directory",
            }),
        })?);
    }
    Ok(events)
}
