//! The one error type of the store. It carries messages, never `sqlx` types, so that no other crate
//! sees the database driver; messages never contain passwords.

use sesame_core::RequestNumber;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// An optimistic version check failed: someone else changed the request since it was read.
    #[error("the request was changed by someone else; reload it and try again")]
    Conflict,
    /// The client key was already used; `existing` is the request it created.
    #[error("the client key was already used for request {existing}")]
    DuplicateKey { existing: RequestNumber },
    #[error("{0} was not found")]
    NotFound(String),
    #[error("invalid database URL: {0}")]
    InvalidUrl(String),
    #[error("database error: {0}")]
    Database(String),
    /// A stored document (a request body, a job payload) could not be read or written.
    #[error("stored data is unreadable: {0}")]
    Corrupt(String),
}

/// Turns a driver error into a message. Connection URLs, and so passwords, are never part of it.
pub(crate) fn db(error: sqlx::Error) -> StoreError {
    match error {
        sqlx::Error::Database(e) => StoreError::Database(e.message().to_owned()),
        sqlx::Error::PoolTimedOut => {
            StoreError::Database(String::from("timed out waiting for a database connection"))
        }
        sqlx::Error::PoolClosed => StoreError::Database(String::from("the store was closed")),
        other => StoreError::Database(other.to_string()),
    }
}

/// Whether the driver error is a foreign-key violation (a row naming a request that does not exist).
pub(crate) fn is_foreign_key_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(e) if e.kind() == sqlx::error::ErrorKind::ForeignKeyViolation)
}

pub(crate) fn is_unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(e) if e.kind() == sqlx::error::ErrorKind::UniqueViolation)
}

pub(crate) fn is_check_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(e) if e.kind() == sqlx::error::ErrorKind::CheckViolation)
}

pub(crate) fn migrate_error(error: sqlx::migrate::MigrateError) -> StoreError {
    StoreError::Database(format!("migration failed: {error}"))
}

pub(crate) fn encode_error(what: &str, error: serde_json::Error) -> StoreError {
    StoreError::Corrupt(format!("could not encode {what}: {error}"))
}
