//! One error type for every step, one variant per check, so callers can say which check failed
//! (and map each to their own wording and status).

/// Why a token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwtError {
    #[error("the token is malformed: {0}")]
    Malformed(String),
    #[error("the token's algorithm {0:?} is not accepted")]
    UnsupportedAlgorithm(String),
    #[error("the token names no signing key (`kid`)")]
    MissingKeyId,
    /// The `kid` is not in the key set (empty when the token names none and there are no keys).
    #[error("the token's signing key {0:?} is not in the key set")]
    UnknownKey(String),
    /// The key set could not be fetched and none is held: the caller should answer "try later".
    #[error("the signing keys are unavailable: {0}")]
    KeysUnavailable(String),
    #[error("the token's signature does not verify")]
    BadSignature,
    #[error("the token's issuer {0:?} is not accepted")]
    WrongIssuer(Option<String>),
    #[error("the token is for {0:?}, not this audience")]
    WrongAudience(Vec<String>),
    #[error("the token has no expiry")]
    MissingExpiry,
    #[error("the token expired at {expired_at} (now {now})")]
    Expired { expired_at: i64, now: i64 },
    #[error("the token is not valid before {not_before} (now {now})")]
    NotYetValid { not_before: i64, now: i64 },
}
