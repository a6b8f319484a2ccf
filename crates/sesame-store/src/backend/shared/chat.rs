// The chat messages Sesame posted, written once for both backends. This file is `include!`d into
// `backend::sqlite` and `backend::postgres`; see `backend/mod.rs`.

impl Pools {
    pub(crate) async fn chat_message(
        &self,
        number: RequestNumber,
        platform: &str,
        recipient: &str,
        purpose: &str,
    ) -> Result<Option<(String, String, Option<String>)>, StoreError> {
        sqlx::query_as(
            "SELECT channel, ts, digest FROM chat_messages WHERE request_number = $1 AND platform = $2 AND recipient = $3 AND purpose = $4",
        )
        .bind(number.0)
        .bind(platform)
        .bind(recipient)
        .bind(purpose)
        .fetch_optional(&self.reader)
        .await
        .map_err(db)
    }

    #[expect(clippy::too_many_arguments, reason = "one column each; a struct would only rename them")]
    pub(crate) async fn record_chat_message(
        &self,
        number: RequestNumber,
        platform: &str,
        recipient: &str,
        purpose: &str,
        channel: &str,
        ts: &str,
        digest: Option<&str>,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let written = sqlx::query(
            "INSERT INTO chat_messages (request_number, platform, recipient, purpose, channel, ts, updated_at, digest) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (request_number, platform, recipient, purpose) DO UPDATE SET channel = excluded.channel, ts = excluded.ts, updated_at = excluded.updated_at, digest = excluded.digest",
        )
        .bind(number.0)
        .bind(platform)
        .bind(recipient)
        .bind(purpose)
        .bind(channel)
        .bind(ts)
        .bind(now.millis())
        .bind(digest)
        .execute(&self.writer)
        .await;
        match written {
            Ok(_) => Ok(()),
            Err(e) if is_foreign_key_violation(&e) => {
                Err(StoreError::NotFound(format!("request {number}")))
            }
            Err(e) => Err(db(e)),
        }
    }

    pub(crate) async fn chat_message_at(
        &self,
        platform: &str,
        channel: &str,
        ts: &str,
    ) -> Result<Option<ChatMessageRecord>, StoreError> {
        let row: Option<(i64, String, String)> = sqlx::query_as(
            "SELECT request_number, recipient, purpose FROM chat_messages WHERE platform = $1 AND channel = $2 AND ts = $3 ORDER BY request_number LIMIT 1",
        )
        .bind(platform)
        .bind(channel)
        .bind(ts)
        .fetch_optional(&self.reader)
        .await
        .map_err(db)?;
        Ok(row.map(|(number, recipient, purpose)| ChatMessageRecord {
            request: RequestNumber(number),
            recipient,
            purpose,
        }))
    }

    pub(crate) async fn record_match_choice(
        &self,
        user: &str,
        text: &str,
        flow: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO match_choices (user_id, text, flow_id, created_at) VALUES ($1, $2, $3, $4)")
            .bind(user)
            .bind(text)
            .bind(flow)
            .bind(now.millis())
            .execute(&self.writer)
            .await
            .map_err(db)?;
        Ok(())
    }

    pub(crate) async fn recent_match_choices(
        &self,
        limit: u32,
    ) -> Result<Vec<(String, String)>, StoreError> {
        sqlx::query_as(
            "SELECT text, flow_id FROM match_choices ORDER BY created_at DESC, id DESC LIMIT $1",
        )
        .bind(i64::from(limit))
        .fetch_all(&self.reader)
        .await
        .map_err(db)
    }
}
