// The audit trail's hash chain, signed checkpoints and stream cursors, written once for both
// backends. This file is `include!`d into `backend::sqlite` and `backend::postgres`; see
// `backend/mod.rs`. What differs (locking the chain's head, the append-only triggers) lives in the
// backend files: `lock_chain_head`, `GUARDS`, `guard_problems`, `restore_guards_in`,
// `lift_update_guard_in`.

/// The most chained events one read returns.
const MAX_CHAIN_PAGE: u32 = 10_000;

const CHAIN_COLUMNS: &str = "id, request_number, at, actor, kind, detail, prev_hash, hash";

/// Appends events to the chain inside the caller's transaction: locks the chain's head, gives each
/// event the next id and its links, inserts them and moves the head. Call it last before the
/// commit, so that the head is locked as briefly as possible.
async fn append_chained(
    conn: &mut <DB as sqlx::Database>::Connection,
    request: RequestRef,
    events: &[EncodedAudit],
) -> Result<(), StoreError> {
    if events.is_empty() {
        return Ok(());
    }
    let mut appender = lock_chain_head(&mut *conn).await?;
    let number = request.number();
    let linked: Vec<Linked<'_>> = events.iter().map(|e| appender.link(number, e)).collect();
    let mut st = Statements::new();
    st.next("INSERT INTO audit (id, request_number, at, actor, kind, detail, prev_hash, hash) ")
        .push_values(&linked, |mut row, l| {
            row.push_bind(l.id)
                .push_bind(number)
                .push_bind(l.event.at)
                .push_bind(l.event.actor.as_str())
                .push_bind(l.event.kind.as_str())
                .push_bind(l.event.detail.as_str())
                .push_bind(l.prev_hash.as_str())
                .push_bind(l.hash.as_str());
        });
    st.next("UPDATE audit_head SET last_id = ")
        .push_bind(appender.last_id)
        .push(", last_hash = ")
        .push_bind(appender.last_hash.as_str())
        .push(", count = count + ")
        .push_bind(appender.added)
        .push(" WHERE singleton = 1");
    st.execute_each(conn).await
}

#[derive(sqlx::FromRow)]
struct HeadRow {
    last_id: i64,
    last_hash: String,
    count: i64,
    legacy_until: i64,
}

impl HeadRow {
    fn head(&self) -> ChainHead {
        ChainHead {
            event_id: self.last_id,
            hash: self.last_hash.clone(),
            count: self.count,
        }
    }
}

const SELECT_HEAD: &str =
    "SELECT last_id, last_hash, count, legacy_until FROM audit_head WHERE singleton = 1";

#[derive(sqlx::FromRow)]
struct CheckpointRow {
    id: i64,
    event_id: i64,
    hash: String,
    count: i64,
    at: i64,
    key_id: String,
    signature: String,
}

impl CheckpointRow {
    fn into_checkpoint(self) -> Checkpoint {
        Checkpoint {
            id: self.id,
            event_id: self.event_id,
            hash: self.hash,
            count: self.count,
            at: Timestamp(self.at),
            key_id: self.key_id,
            signature: self.signature,
        }
    }
}

const CHECKPOINT_COLUMNS: &str = "id, event_id, hash, count, at, key_id, signature";

/// Whitespace runs as one space, for comparing a trigger's stored definition with Sesame's.
fn normalise_sql(sql: &str) -> String {
    sql.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .trim_end_matches(';')
        .trim()
        .to_owned()
}

impl Pools {
    pub(crate) async fn audit_chain(
        &self,
        after_id: i64,
        limit: u32,
    ) -> Result<Vec<ChainedEvent>, StoreError> {
        let rows: Vec<ChainedRow> = sqlx::query_as(&format!(
            "SELECT {CHAIN_COLUMNS} FROM audit WHERE id > $1 ORDER BY id LIMIT $2"
        ))
        .bind(after_id)
        .bind(i64::from(limit.clamp(1, MAX_CHAIN_PAGE)))
        .fetch_all(&self.reader)
        .await
        .map_err(db)?;
        Ok(rows.into_iter().map(ChainedRow::into_event).collect())
    }

    pub(crate) async fn first_audit_id_since(
        &self,
        at: Timestamp,
    ) -> Result<Option<i64>, StoreError> {
        sqlx::query_scalar("SELECT MIN(id) FROM audit WHERE at >= $1")
            .bind(at.millis())
            .fetch_one(&self.reader)
            .await
            .map_err(db)
    }

    pub(crate) async fn audit_chain_head(&self) -> Result<ChainHead, StoreError> {
        let row: HeadRow = sqlx::query_as(SELECT_HEAD)
            .fetch_one(&self.reader)
            .await
            .map_err(db)?;
        Ok(row.head())
    }

    pub(crate) async fn append_audit_checkpoint(
        &self,
        checkpoint: &NewCheckpoint,
    ) -> Result<bool, StoreError> {
        let inserted = sqlx::query(
            "INSERT INTO audit_checkpoints (event_id, hash, count, at, key_id, signature) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (event_id) DO NOTHING",
        )
        .bind(checkpoint.event_id)
        .bind(checkpoint.hash.as_str())
        .bind(checkpoint.count)
        .bind(checkpoint.at.millis())
        .bind(checkpoint.key_id.as_str())
        .bind(checkpoint.signature.as_str())
        .execute(&self.writer)
        .await
        .map_err(db)?
        .rows_affected();
        Ok(inserted > 0)
    }

    pub(crate) async fn audit_checkpoints(&self) -> Result<Vec<Checkpoint>, StoreError> {
        let rows: Vec<CheckpointRow> = sqlx::query_as(&format!(
            "SELECT {CHECKPOINT_COLUMNS} FROM audit_checkpoints ORDER BY id"
        ))
        .fetch_all(&self.reader)
        .await
        .map_err(db)?;
        Ok(rows.into_iter().map(CheckpointRow::into_checkpoint).collect())
    }

    pub(crate) async fn last_audit_checkpoint(&self) -> Result<Option<Checkpoint>, StoreError> {
        let row: Option<CheckpointRow> = sqlx::query_as(&format!(
            "SELECT {CHECKPOINT_COLUMNS} FROM audit_checkpoints ORDER BY event_id DESC LIMIT 1"
        ))
        .fetch_optional(&self.reader)
        .await
        .map_err(db)?;
        Ok(row.map(CheckpointRow::into_checkpoint))
    }

    pub(crate) async fn claim_audit_stream(
        &self,
        name: &str,
        holder: &str,
        now: Timestamp,
        lease_ms: i64,
    ) -> Result<Option<i64>, StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO audit_stream_cursors (name, last_event_id, updated_at) VALUES ($1, 0, $2) \
             ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(now.millis())
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        let cursor: Option<i64> = sqlx::query_scalar(
            "UPDATE audit_stream_cursors SET holder = $1, held_until = $2 \
             WHERE name = $3 AND (holder IS NULL OR holder = $1 OR held_until < $4) \
             RETURNING last_event_id",
        )
        .bind(holder)
        .bind(now.millis().saturating_add(lease_ms))
        .bind(name)
        .bind(now.millis())
        .fetch_optional(&mut *tx)
        .await
        .map_err(db)?;
        tx.commit().await.map_err(db)?;
        Ok(cursor)
    }

    pub(crate) async fn advance_audit_stream(
        &self,
        name: &str,
        holder: &str,
        last_event_id: i64,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let updated = sqlx::query(
            "UPDATE audit_stream_cursors SET last_event_id = $1, updated_at = $2 \
             WHERE name = $3 AND holder = $4 AND last_event_id <= $1",
        )
        .bind(last_event_id)
        .bind(now.millis())
        .bind(name)
        .bind(holder)
        .execute(&self.writer)
        .await
        .map_err(db)?
        .rows_affected();
        Ok(updated > 0)
    }

    pub(crate) async fn release_audit_stream(
        &self,
        name: &str,
        holder: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE audit_stream_cursors SET holder = NULL, held_until = NULL \
             WHERE name = $1 AND holder = $2",
        )
        .bind(name)
        .bind(holder)
        .execute(&self.writer)
        .await
        .map_err(db)?;
        Ok(())
    }

    pub(crate) async fn audit_stream_cursors(&self) -> Result<Vec<(String, i64)>, StoreError> {
        sqlx::query_as("SELECT name, last_event_id FROM audit_stream_cursors ORDER BY name")
            .fetch_all(&self.reader)
            .await
            .map_err(db)
    }

    pub(crate) async fn restore_audit_guards(&self) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        restore_guards_in(&mut tx).await?;
        tx.commit().await.map_err(db)
    }

    /// Chains the rows written before migration 0008, once: in id order from the genesis hash, with
    /// the append-only trigger lifted for this transaction only. Returns how many rows were chained.
    pub(crate) async fn chain_legacy_rows(&self) -> Result<i64, StoreError> {
        let mut tx = self.begin_write().await?;
        let head: HeadRow = sqlx::query_as(&format!("{SELECT_HEAD}{}", head_lock!()))
            .fetch_one(&mut *tx)
            .await
            .map_err(db)?;
        if head.legacy_until == 0 {
            tx.rollback().await.map_err(db)?;
            return Ok(0);
        }
        if head.count > 0 {
            // Cannot happen (every start chains before it appends); never chain behind new events.
            tracing::error!(
                until = head.legacy_until,
                "audit rows from before the chain were found after chained ones; left unchained"
            );
            sqlx::query("UPDATE audit_head SET legacy_until = 0 WHERE singleton = 1")
                .execute(&mut *tx)
                .await
                .map_err(db)?;
            tx.commit().await.map_err(db)?;
            return Ok(0);
        }
        lift_update_guard_in(&mut tx).await?;
        let mut last_id = head.last_id;
        let mut last_hash = head.last_hash.clone();
        let mut count = 0_i64;
        loop {
            let rows: Vec<ChainedRow> = sqlx::query_as(&format!(
                "SELECT {CHAIN_COLUMNS} FROM audit WHERE id > $1 AND id <= $2 AND hash IS NULL \
                 ORDER BY id LIMIT 1000"
            ))
            .bind(last_id)
            .bind(head.legacy_until)
            .fetch_all(&mut *tx)
            .await
            .map_err(db)?;
            if rows.is_empty() {
                break;
            }
            let mut links = Vec::with_capacity(rows.len());
            for row in rows {
                let event = row.into_event();
                let hash = event.expected_hash(&last_hash);
                links.push((event.id, std::mem::replace(&mut last_hash, hash.clone()), hash));
                last_id = event.id;
                count += 1;
            }
            let mut update = QueryBuilder::<DB>::new("WITH v (id, prev_hash, hash) AS (");
            update.push_values(&links, |mut row, (id, prev, hash)| {
                row.push_bind(*id)
                    .push_bind(prev.as_str())
                    .push_bind(hash.as_str());
            });
            update.push(
                ") UPDATE audit SET prev_hash = v.prev_hash, hash = v.hash FROM v WHERE audit.id = v.id",
            );
            update.build().execute(&mut *tx).await.map_err(db)?;
        }
        restore_guards_in(&mut tx).await?;
        sqlx::query(
            "UPDATE audit_head SET last_id = $1, last_hash = $2, count = $3, legacy_until = 0 \
             WHERE singleton = 1",
        )
        .bind(last_id)
        .bind(last_hash.as_str())
        .bind(count)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        tx.commit().await.map_err(db)?;
        if count > 0 {
            tracing::info!(
                events = count,
                "chained the audit events written before this version"
            );
        }
        Ok(count)
    }
}
