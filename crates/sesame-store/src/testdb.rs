//! Fresh PostgreSQL databases for test suites.

use crate::error::db;
use crate::url::{classify, redact, scrub, with_database, Target};
use crate::StoreError;
use sqlx::Connection;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// Creates an empty, uniquely named PostgreSQL database (`sesame_test_<pid>_<n>_<random>`) on the
/// server that `admin_url` names and returns its URL. The caller connects and migrates it.
pub async fn create_test_database(admin_url: &str) -> Result<String, StoreError> {
    if !matches!(classify(admin_url)?, Target::Postgres) {
        return Err(StoreError::InvalidUrl(format!(
            "{} is not a PostgreSQL URL",
            redact(admin_url)
        )));
    }
    let name = format!(
        "sesame_test_{}_{}_{:08x}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        random_u32()
    );
    let mut admin = sqlx::PgConnection::connect(admin_url)
        .await
        .map_err(|e| scrubbed(db(e), admin_url))?;
    // The name is built above from digits and letters only, so quoting it is enough.
    sqlx::raw_sql(&format!("CREATE DATABASE \"{name}\""))
        .execute(&mut admin)
        .await
        .map_err(|e| scrubbed(db(e), admin_url))?;
    admin.close().await.map_err(db)?;
    with_database(admin_url, &name)
}

fn scrubbed(error: StoreError, url: &str) -> StoreError {
    match error {
        StoreError::Database(message) => StoreError::Database(scrub(&message, url)),
        other => other,
    }
}

/// A random number from the standard library's randomly seeded hasher: good enough to keep test
/// databases of concurrent runs apart, without a dependency.
fn random_u32() -> u32 {
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    (hasher.finish() & 0xffff_ffff) as u32
}
