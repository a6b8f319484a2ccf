// Chat addresses (where a platform lets a bot reach a person), written once for both backends.
// This file is `include!`d into `backend::sqlite` and `backend::postgres`; see `backend/mod.rs`.

impl Pools {
    pub(crate) async fn chat_address(
        &self,
        platform: &str,
        account: &str,
    ) -> Result<Option<String>, StoreError> {
        let row: Option<(String,)> = sqlx::query_as(
            "SELECT address FROM chat_addresses WHERE platform = $1 AND account = $2",
        )
        .bind(platform)
        .bind(account)
        .fetch_optional(&self.reader)
        .await
        .map_err(db)?;
        Ok(row.map(|(address,)| address))
    }

    pub(crate) async fn record_chat_address(
        &self,
        platform: &str,
        account: &str,
        address: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO chat_addresses (platform, account, address, updated_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (platform, account) DO UPDATE SET address = excluded.address, updated_at = excluded.updated_at",
        )
        .bind(platform)
        .bind(account)
        .bind(address)
        .bind(now.millis())
        .execute(&self.writer)
        .await
        .map_err(db)?;
        Ok(())
    }
}
