// SCIM bookkeeping and multi-entry directory writes, written once for both backends. This file is
// `include!`d into `backend::sqlite` and `backend::postgres`; see `backend/mod.rs`.

impl Pools {
    pub(crate) async fn apply_directory_change(
        &self,
        change: &DirectoryChange,
    ) -> Result<(), StoreError> {
        let users = change
            .users
            .iter()
            .map(|u| Ok((u.id.as_str(), encode_user(u)?)))
            .collect::<Result<Vec<_>, StoreError>>()?;
        let groups = change
            .groups
            .iter()
            .map(|g| Ok((g.id.as_str(), encode_group(g)?)))
            .collect::<Result<Vec<_>, StoreError>>()?;
        let events = change
            .audit
            .iter()
            .map(EncodedAudit::new)
            .collect::<Result<Vec<_>, _>>()?;
        let mut tx = self.begin_write().await?;
        for (id, body) in &groups {
            sqlx::query("INSERT INTO directory_groups (id, body) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET body = excluded.body")
                .bind(*id)
                .bind(body.as_str())
                .execute(&mut *tx)
                .await
                .map_err(db)?;
        }
        for (id, body) in &users {
            sqlx::query("INSERT INTO directory_users (id, body) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET body = excluded.body")
                .bind(*id)
                .bind(body.as_str())
                .execute(&mut *tx)
                .await
                .map_err(db)?;
        }
        for record in &change.scim {
            sqlx::query(
                "INSERT INTO scim_resources (kind, id, external_id, created_at, updated_at, deleted_at, attributes) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (kind, id) DO UPDATE SET \
                 external_id = excluded.external_id, created_at = excluded.created_at, \
                 updated_at = excluded.updated_at, deleted_at = excluded.deleted_at, \
                 attributes = excluded.attributes",
            )
            .bind(record.kind.as_str())
            .bind(record.id.as_str())
            .bind(record.external_id.as_deref())
            .bind(record.created_at.millis())
            .bind(record.updated_at.millis())
            .bind(record.deleted_at.map(Timestamp::millis))
            .bind(record.attributes.to_string())
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        }
        if !users.is_empty() || !groups.is_empty() {
            sqlx::query("UPDATE directory_state SET version = version + 1 WHERE singleton = 1")
                .execute(&mut *tx)
                .await
                .map_err(db)?;
        }
        let mut events = events;
        if let Some(cause) = change.audit.first() {
            events.extend(revoke_tokens_of_departed(&mut tx, &change.users, cause).await?);
        }
        append_chained(&mut tx, RequestRef::None, &events).await?;
        tx.commit().await.map_err(db)
    }

    pub(crate) async fn scim_records(&self, kind: ScimKind) -> Result<Vec<ScimRecord>, StoreError> {
        let rows: Vec<ScimRow> = sqlx::query_as(
            "SELECT kind, id, external_id, created_at, updated_at, deleted_at, attributes FROM scim_resources WHERE kind = $1 ORDER BY id",
        )
        .bind(kind.as_str())
        .fetch_all(&self.reader)
        .await
        .map_err(db)?;
        rows.into_iter().map(ScimRow::into_record).collect()
    }
}
