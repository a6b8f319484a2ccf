//! Verifying RSA-signed JSON Web Tokens against a published key set, written once for every
//! surface that accepts them: Bot Framework's inbound calls (`sesame-teams`) and OpenID Connect ID
//! tokens (`sesame-web`'s portal).
//!
//! The steps, in the order a caller runs them:
//!
//! 1. [`decode`] splits and decodes a compact token within a size limit, accepting only the
//!    algorithms the caller's [`Rules`] allow (RS256, RS384, RS512 at most: never `none` or HMAC,
//!    so a public key can never serve as an HMAC secret) and requiring a `kid` when the caller
//!    says so.
//! 2. [`KeyCache::keys_for`] finds the signing keys for the token's `kid`, fetching the key set
//!    when it has none, when it is old, and again for an unknown `kid` no more often than the
//!    caller's [`RefreshPolicy`] allows.
//! 3. [`UnverifiedToken::verify_signature`] checks the signature (ring, constant time) and returns
//!    the key that made it, for checks on the key itself (Bot Framework's endorsements).
//! 4. [`check_claims`] checks issuer, audience and lifetime with leeway.
//!
//! Protocol-specific claims (Bot Framework's `serviceurl`, OpenID Connect's `nonce` and `azp`)
//! stay with their callers, which read them from [`Claims::raw`]. Nothing here reads a clock:
//! callers pass `now` in Unix seconds, so tests can move time.
//!
//! Why not the `jsonwebtoken` crate: its expiry check reads the system clock (the Teams tests pace
//! key refreshes and expiry with a given `now`), its errors do not carry what a refusal reports
//! (the issuer or audiences found, the times), and it brings key-format parsing (PEM, DER) that a
//! JWKS-only verifier never needs. The RSA work itself is ring's either way.
#![forbid(unsafe_code)]

mod cache;
mod claims;
mod error;
pub mod fetch;
mod jwks;
mod token;

pub use cache::{KeyCache, KeySource, RefreshPolicy};
pub use claims::{check_claims, ClaimChecks, Claims};
pub use error::JwtError;
pub use jwks::{parse_key_set, Jwk, RsaPublicKey};
pub use token::{decode, Algorithm, KeyId, Rules, UnverifiedToken, RSA_ALGORITHMS};

#[cfg(test)]
mod test_support;
