//! Bot Framework's signing keys: the OpenID metadata document names a `jwks_uri`, whose keys carry
//! Bot Framework's `endorsements` (the channels each key may speak for). Keys are cached; see
//! [`KeyCache::key`] for when they are fetched again.

use super::AuthError;
use crate::http::{describe, read_limited, ReadError};
use crate::jwt::RsaPublicKey;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::Deserialize;
use std::collections::HashMap;
use std::time::Duration;

/// Keys are fetched again after this long even when every `kid` is known, so a key Microsoft
/// withdrew stops being accepted within a day.
pub const KEY_MAX_AGE_SECONDS: i64 = 24 * 60 * 60;
/// An unknown `kid` (a rotation, or a forged token) fetches the keys again at most this often, so
/// forged tokens cannot make Sesame hammer the metadata endpoint.
pub const UNKNOWN_KID_REFRESH_SECONDS: i64 = 60;
/// Metadata and key documents are a few kilobytes.
const MAX_DOCUMENT_BYTES: usize = 1024 * 1024;
const FETCH_TIMEOUT: Duration = Duration::from_secs(10);

/// One key from the key set, with the channels it is endorsed for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningKey {
    pub key: RsaPublicKey,
    pub endorsements: Vec<String>,
}

#[derive(Debug, Default)]
pub(crate) struct KeyCache {
    keys: HashMap<String, SigningKey>,
    /// When the keys were last fetched successfully (caller's Unix seconds).
    fetched_at: Option<i64>,
    /// When a fetch was last tried, successful or not.
    attempted_at: Option<i64>,
}

#[derive(Deserialize)]
struct Metadata {
    jwks_uri: String,
}

#[derive(Deserialize)]
struct KeySetDocument {
    #[serde(default)]
    keys: Vec<Jwk>,
}

#[derive(Deserialize)]
struct Jwk {
    #[serde(default)]
    kty: String,
    #[serde(default)]
    kid: Option<String>,
    #[serde(default)]
    n: Option<String>,
    #[serde(default)]
    e: Option<String>,
    #[serde(default)]
    endorsements: Vec<String>,
}

fn since(then: Option<i64>, now: i64) -> Option<i64> {
    // A clock that stepped backwards counts as time passing, so it cannot freeze the cache.
    then.map(|then| now.abs_diff(then).try_into().unwrap_or(i64::MAX))
}

impl KeyCache {
    /// The key with this id. Fetches the keys when none were fetched yet or they are older than
    /// [`KEY_MAX_AGE_SECONDS`], and once more for an unknown `kid` when the last try is at least
    /// [`UNKNOWN_KID_REFRESH_SECONDS`] old. A failed fetch keeps the keys held before.
    pub(crate) async fn key(
        &mut self,
        http: &reqwest::Client,
        metadata_url: &str,
        kid: &str,
        now: i64,
    ) -> Result<SigningKey, AuthError> {
        let may_try =
            since(self.attempted_at, now).is_none_or(|age| age >= UNKNOWN_KID_REFRESH_SECONDS);
        let stale = since(self.fetched_at, now).is_none_or(|age| age >= KEY_MAX_AGE_SECONDS);
        let mut failure = None;
        if stale && may_try {
            failure = self.refresh(http, metadata_url, now).await.err();
        }
        if let Some(key) = self.keys.get(kid) {
            return Ok(key.clone());
        }
        let may_try =
            since(self.attempted_at, now).is_none_or(|age| age >= UNKNOWN_KID_REFRESH_SECONDS);
        if may_try {
            failure = self.refresh(http, metadata_url, now).await.err();
            if let Some(key) = self.keys.get(kid) {
                return Ok(key.clone());
            }
        }
        match failure {
            Some(reason) if self.keys.is_empty() => Err(AuthError::KeysUnavailable(reason)),
            _ if self.fetched_at.is_none() => Err(AuthError::KeysUnavailable(
                "the signing keys have not been fetched yet".to_owned(),
            )),
            _ => Err(AuthError::UnknownKey(kid.to_owned())),
        }
    }

    async fn refresh(
        &mut self,
        http: &reqwest::Client,
        metadata_url: &str,
        now: i64,
    ) -> Result<(), String> {
        self.attempted_at = Some(now);
        match fetch_keys(http, metadata_url).await {
            Ok(keys) => {
                tracing::debug!(count = keys.len(), "fetched Bot Framework signing keys");
                self.keys = keys;
                self.fetched_at = Some(now);
                Ok(())
            }
            Err(reason) => {
                tracing::warn!(%reason, "could not fetch Bot Framework signing keys");
                Err(reason)
            }
        }
    }
}

async fn fetch_keys(
    http: &reqwest::Client,
    metadata_url: &str,
) -> Result<HashMap<String, SigningKey>, String> {
    let metadata: Metadata = get_json(http, metadata_url, "OpenID metadata").await?;
    let key_set: KeySetDocument = get_json(http, &metadata.jwks_uri, "key set").await?;
    let keys: HashMap<String, SigningKey> = key_set.keys.into_iter().filter_map(usable).collect();
    if keys.is_empty() {
        return Err("the key set has no usable RSA keys".to_owned());
    }
    Ok(keys)
}

/// RSA keys with an id, a modulus and an exponent; anything else (other key types, broken
/// entries) is skipped rather than failing the whole set.
fn usable(jwk: Jwk) -> Option<(String, SigningKey)> {
    if jwk.kty != "RSA" {
        return None;
    }
    let kid = jwk.kid.filter(|kid| !kid.is_empty())?;
    let modulus = URL_SAFE_NO_PAD.decode(jwk.n?).ok()?;
    let exponent = URL_SAFE_NO_PAD.decode(jwk.e?).ok()?;
    Some((
        kid,
        SigningKey {
            key: RsaPublicKey { modulus, exponent },
            endorsements: jwk.endorsements,
        },
    ))
}

async fn get_json<T: serde::de::DeserializeOwned>(
    http: &reqwest::Client,
    url: &str,
    what: &str,
) -> Result<T, String> {
    let response = http
        .get(url)
        .timeout(FETCH_TIMEOUT)
        .send()
        .await
        .map_err(|error| format!("{what}: {}", describe(&error)))?;
    let status = response.status();
    if !status.is_success() {
        return Err(format!("{what}: HTTP {}", status.as_u16()));
    }
    let bytes = read_limited(response, MAX_DOCUMENT_BYTES)
        .await
        .map_err(|error| match error {
            ReadError::TooLarge(max) => format!("{what}: larger than {max} bytes"),
            ReadError::Transport(reason) => format!("{what}: {reason}"),
        })?;
    serde_json::from_slice(&bytes)
        .map_err(|error| format!("{what}: not the expected JSON: {error}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_complete_rsa_keys_are_used() {
        let set: KeySetDocument = serde_json::from_value(json!({ "keys": [
            { "kty": "RSA", "kid": "a", "n": "AQAB", "e": "AQAB", "endorsements": ["msteams"] },
            { "kty": "EC", "kid": "b", "x": "AQAB", "y": "AQAB" },
            { "kty": "RSA", "kid": "c", "n": "not base64!", "e": "AQAB" },
            { "kty": "RSA", "n": "AQAB", "e": "AQAB" },
            { "kty": "RSA", "kid": "d", "e": "AQAB" },
        ]}))
        .unwrap();
        let keys: HashMap<_, _> = set.keys.into_iter().filter_map(usable).collect();
        assert_eq!(keys.len(), 1);
        assert_eq!(keys["a"].endorsements, ["msteams"]);
        assert_eq!(keys["a"].key.exponent, [1, 0, 1]);
    }

    #[test]
    fn a_clock_stepping_back_still_counts_as_time_passing() {
        assert_eq!(since(None, 100), None);
        assert_eq!(since(Some(40), 100), Some(60));
        assert_eq!(since(Some(160), 100), Some(60));
    }
}
