// The web portal's sessions, sign-ins and chat link offers, written once for both backends. This
// file is `include!`d into `backend::sqlite` and `backend::postgres`; see `backend/mod.rs`.

impl Pools {
    pub(crate) async fn create_portal_session(
        &self,
        session: &crate::portal::PortalSession,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO portal_sessions (id_hash, user_id, csrf_token, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(session.id_hash.as_str())
        .bind(session.user.as_str())
        .bind(session.csrf_token.as_str())
        .bind(session.created_at.0)
        .bind(session.expires_at.0)
        .execute(&self.writer)
        .await
        .map_err(db)?;
        Ok(())
    }

    pub(crate) async fn portal_session(
        &self,
        id_hash: &str,
    ) -> Result<Option<crate::portal::PortalSession>, StoreError> {
        let row: Option<crate::portal::PortalSessionRow> = sqlx::query_as(
            "SELECT id_hash, user_id, csrf_token, created_at, expires_at FROM portal_sessions \
             WHERE id_hash = $1",
        )
        .bind(id_hash)
        .fetch_optional(&self.reader)
        .await
        .map_err(db)?;
        row.map(crate::portal::PortalSessionRow::into_record)
            .transpose()
    }

    pub(crate) async fn delete_portal_session(&self, id_hash: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM portal_sessions WHERE id_hash = $1")
            .bind(id_hash)
            .execute(&self.writer)
            .await
            .map_err(db)?;
        Ok(done.rows_affected() > 0)
    }

    pub(crate) async fn delete_expired_portal_rows(
        &self,
        now: Timestamp,
    ) -> Result<u64, StoreError> {
        let mut tx = self.begin_write().await?;
        let sessions = sqlx::query("DELETE FROM portal_sessions WHERE expires_at <= $1")
            .bind(now.0)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        let logins = sqlx::query("DELETE FROM portal_logins WHERE expires_at <= $1")
            .bind(now.0)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        tx.commit().await.map_err(db)?;
        Ok(sessions.rows_affected() + logins.rows_affected())
    }

    pub(crate) async fn create_portal_login(
        &self,
        login: &crate::portal::PortalLogin,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO portal_logins (state_hash, nonce, pkce_verifier, return_to, expires_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(login.state_hash.as_str())
        .bind(login.nonce.as_str())
        .bind(login.pkce_verifier.as_str())
        .bind(login.return_to.as_str())
        .bind(login.expires_at.0)
        .execute(&self.writer)
        .await
        .map_err(db)?;
        Ok(())
    }

    pub(crate) async fn take_portal_login(
        &self,
        state_hash: &str,
    ) -> Result<Option<crate::portal::PortalLogin>, StoreError> {
        let row: Option<crate::portal::PortalLoginRow> = sqlx::query_as(
            "DELETE FROM portal_logins WHERE state_hash = $1 \
             RETURNING state_hash, nonce, pkce_verifier, return_to, expires_at",
        )
        .bind(state_hash)
        .fetch_optional(&self.writer)
        .await
        .map_err(db)?;
        Ok(row.map(crate::portal::PortalLoginRow::into_record))
    }

    pub(crate) async fn create_chat_link_offer(
        &self,
        offer: &crate::portal::ChatLinkOffer,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO chat_link_offers (token_hash, platform, account, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(offer.token_hash.as_str())
        .bind(offer.platform.as_str())
        .bind(offer.account.as_str())
        .bind(offer.created_at.0)
        .bind(offer.expires_at.0)
        .execute(&self.writer)
        .await
        .map_err(db)?;
        Ok(())
    }

    pub(crate) async fn chat_link_offer(
        &self,
        token_hash: &str,
    ) -> Result<Option<crate::portal::ChatLinkOffer>, StoreError> {
        let row: Option<crate::portal::ChatLinkOfferRow> = sqlx::query_as(
            "SELECT token_hash, platform, account, created_at, expires_at, used_at, used_by \
             FROM chat_link_offers WHERE token_hash = $1",
        )
        .bind(token_hash)
        .fetch_optional(&self.reader)
        .await
        .map_err(db)?;
        row.map(crate::portal::ChatLinkOfferRow::into_record)
            .transpose()
    }

    pub(crate) async fn use_chat_link_offer(
        &self,
        token_hash: &str,
        user: &UserId,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE chat_link_offers SET used_at = $1, used_by = $2 \
             WHERE token_hash = $3 AND used_at IS NULL AND expires_at > $1",
        )
        .bind(now.0)
        .bind(user.as_str())
        .bind(token_hash)
        .execute(&self.writer)
        .await
        .map_err(db)?;
        Ok(done.rows_affected() > 0)
    }
}
