use sesame_core::{DomainError, RequestNumber};
use sesame_store::StoreError;

/// What a use case can fail with. The web crate maps each kind to one status code.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Domain(#[from] DomainError),
    /// Unknown flow or user, or a request the caller may not see (indistinguishable on purpose).
    #[error("{0}")]
    NotFound(String),
    #[error("a valid API token is required")]
    Unauthenticated,
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Conflict(String),
    /// A submission's client key was already used for this request, which was filed with
    /// different content: answering with it would tell the caller their new submission was filed.
    #[error("this key was already used for request {0}, filed with different content")]
    KeyReused(RequestNumber),
    /// The database is unreachable or failed; the message is for logs, not for callers.
    #[error("storage failed: {0}")]
    Storage(StoreError),
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(what) => AppError::NotFound(what),
            other => AppError::Storage(other),
        }
    }
}
