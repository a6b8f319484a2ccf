//! Chat addresses: where a chat platform lets Sesame's bot reach a person (for Microsoft Teams, the
//! conversation reference saved when they installed the app), one per (platform, account). The
//! address is the adapter's own text (JSON); the store keeps it as given.

use crate::{Inner, Store, StoreError};
use sesame_core::Timestamp;

impl Store {
    /// The address saved for `account` on `platform`.
    pub async fn chat_address(
        &self,
        platform: &str,
        account: &str,
    ) -> Result<Option<String>, StoreError> {
        on_backend!(self, pools => pools.chat_address(platform, account).await)
    }

    /// Saves (or replaces) the address for `account` on `platform`.
    pub async fn record_chat_address(
        &self,
        platform: &str,
        account: &str,
        address: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        on_backend!(self, pools => pools.record_chat_address(platform, account, address, now).await)
    }
}

#[cfg(test)]
mod tests {
    use crate::{create_test_database, Store};
    use sesame_core::Timestamp;

    async fn story(store: Store) {
        assert_eq!(store.chat_address("teams", "oid-1").await.unwrap(), None);
        store
            .record_chat_address("teams", "oid-1", "{\"a\":1}", Timestamp(1))
            .await
            .unwrap();
        store
            .record_chat_address("slack", "oid-1", "other", Timestamp(1))
            .await
            .unwrap();
        // Saving again replaces the address.
        store
            .record_chat_address("teams", "oid-1", "{\"a\":2}", Timestamp(2))
            .await
            .unwrap();
        assert_eq!(
            store
                .chat_address("teams", "oid-1")
                .await
                .unwrap()
                .as_deref(),
            Some("{\"a\":2}")
        );
        assert_eq!(
            store
                .chat_address("slack", "oid-1")
                .await
                .unwrap()
                .as_deref(),
            Some("other")
        );
    }

    #[tokio::test]
    async fn addresses_are_saved_and_replaced_on_sqlite() {
        let store = Store::connect("sqlite::memory:").await.unwrap();
        store.migrate().await.unwrap();
        story(store).await;
    }

    #[tokio::test]
    async fn addresses_are_saved_and_replaced_on_postgres() {
        let Some(admin) = std::env::var("SESAME_TEST_POSTGRES_URL")
            .ok()
            .filter(|u| !u.trim().is_empty())
        else {
            assert!(
                std::env::var_os("CI").is_none(),
                "SESAME_TEST_POSTGRES_URL must be set under CI"
            );
            eprintln!("note: SESAME_TEST_POSTGRES_URL is not set; the PostgreSQL run is skipped");
            return;
        };
        let url = create_test_database(&admin).await.unwrap();
        let store = Store::connect(&url).await.unwrap();
        store.migrate().await.unwrap();
        story(store.clone()).await;
        store.close().await;
    }
}
