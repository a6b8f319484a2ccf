//! Checking an OpenID Connect ID token: an RS256 signature by one of the provider's keys, then the
//! issuer, audience (and authorized party), lifetime and nonce. Pure: the caller passes the keys,
//! the expectations and the time.
//!
//! Why not `sesame_teams::jwt`: its decoder requires a `kid` in the header (Bot Framework always
//! sends one, but OpenID providers may leave it out when they have one key, as some do) and its
//! claim check requires Bot Framework's `serviceurl` claim and knows nothing of `nonce` or `azp`.
//! The signature check itself is the same few lines over ring.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ring::signature::{RsaPublicKeyComponents, RSA_PKCS1_2048_8192_SHA256};
use serde_json::Value;

/// ID tokens are a few kilobytes; anything much larger is refused before decoding.
const MAX_TOKEN_BYTES: usize = 32 * 1024;

/// One RSA key from the provider's key set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RsaKey {
    pub kid: Option<String>,
    pub modulus: Vec<u8>,
    pub exponent: Vec<u8>,
}

/// The RSA signing keys in a JWKS document; other key types and broken entries are skipped.
pub fn parse_key_set(document: &Value) -> Vec<RsaKey> {
    let Some(keys) = document.get("keys").and_then(Value::as_array) else {
        return Vec::new();
    };
    keys.iter()
        .filter(|k| k.get("kty").and_then(Value::as_str) == Some("RSA"))
        .filter(|k| {
            k.get("use")
                .and_then(Value::as_str)
                .is_none_or(|u| u == "sig")
        })
        .filter_map(|k| {
            let decode = |name: &str| {
                k.get(name)
                    .and_then(Value::as_str)
                    .and_then(|v| URL_SAFE_NO_PAD.decode(v.trim_end_matches('=')).ok())
            };
            Some(RsaKey {
                kid: k.get("kid").and_then(Value::as_str).map(str::to_owned),
                modulus: decode("n")?,
                exponent: decode("e")?,
            })
        })
        .collect()
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdTokenError {
    #[error("the ID token is malformed: {0}")]
    Malformed(String),
    #[error("the ID token is signed with {0:?}; only RS256 is accepted")]
    UnsupportedAlgorithm(String),
    #[error("the ID token names signing key {0:?}, which the provider does not list")]
    UnknownKey(String),
    #[error("the ID token's signature does not verify")]
    BadSignature,
    #[error("the ID token was issued by {0:?}, not the configured provider")]
    WrongIssuer(Option<String>),
    #[error("the ID token is not meant for this client")]
    WrongAudience,
    #[error("the ID token has expired")]
    Expired,
    #[error("the ID token's nonce does not match this sign-in")]
    WrongNonce,
}

/// What the claims must say.
#[derive(Debug, Clone, Copy)]
pub struct Expectations<'a> {
    pub issuer: &'a str,
    pub client_id: &'a str,
    pub nonce: &'a str,
    /// Unix seconds.
    pub now: i64,
    pub leeway_seconds: i64,
}

/// Verifies `token` and returns its claims.
pub fn verify(
    token: &str,
    keys: &[RsaKey],
    expected: Expectations<'_>,
) -> Result<Value, IdTokenError> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err(IdTokenError::Malformed(String::from("too long")));
    }
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(IdTokenError::Malformed(String::from(
            "not three dot-separated parts",
        )));
    };
    let header = decode_json(header, "header")?;
    let algorithm = header.get("alg").and_then(Value::as_str).unwrap_or("");
    if algorithm != "RS256" {
        return Err(IdTokenError::UnsupportedAlgorithm(algorithm.to_owned()));
    }
    let signature = URL_SAFE_NO_PAD
        .decode(signature)
        .map_err(|_| IdTokenError::Malformed(String::from("the signature is not base64url")))?;
    let signed = &token[..header_and_payload_len(token)];
    let kid = header.get("kid").and_then(Value::as_str);
    let candidates: Vec<&RsaKey> = match kid {
        Some(kid) => keys
            .iter()
            .filter(|k| k.kid.as_deref() == Some(kid))
            .collect(),
        None => keys.iter().collect(),
    };
    if candidates.is_empty() {
        return Err(IdTokenError::UnknownKey(kid.unwrap_or("").to_owned()));
    }
    let verified = candidates.iter().any(|key| {
        RsaPublicKeyComponents {
            n: &key.modulus,
            e: &key.exponent,
        }
        .verify(&RSA_PKCS1_2048_8192_SHA256, signed.as_bytes(), &signature)
        .is_ok()
    });
    if !verified {
        return Err(IdTokenError::BadSignature);
    }
    let claims = decode_json(payload, "payload")?;
    check_claims(&claims, expected)?;
    Ok(claims)
}

fn header_and_payload_len(token: &str) -> usize {
    token.rfind('.').unwrap_or(token.len())
}

fn decode_json(part: &str, what: &str) -> Result<Value, IdTokenError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| IdTokenError::Malformed(format!("the {what} is not base64url")))?;
    let value: Value = serde_json::from_slice(&bytes)
        .map_err(|_| IdTokenError::Malformed(format!("the {what} is not JSON")))?;
    if value.is_object() {
        Ok(value)
    } else {
        Err(IdTokenError::Malformed(format!(
            "the {what} is not an object"
        )))
    }
}

/// OpenID Connect Core 3.1.3.7: issuer, audience, authorized party, expiry, nonce.
fn check_claims(claims: &Value, expected: Expectations<'_>) -> Result<(), IdTokenError> {
    let issuer = claims.get("iss").and_then(Value::as_str);
    if issuer != Some(expected.issuer) {
        return Err(IdTokenError::WrongIssuer(issuer.map(str::to_owned)));
    }
    let audiences: Vec<&str> = match claims.get("aud") {
        Some(Value::String(one)) => vec![one.as_str()],
        Some(Value::Array(many)) => many.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    if !audiences.contains(&expected.client_id) {
        return Err(IdTokenError::WrongAudience);
    }
    let authorized_party = claims.get("azp").and_then(Value::as_str);
    if audiences.len() > 1 && authorized_party != Some(expected.client_id) {
        return Err(IdTokenError::WrongAudience);
    }
    if authorized_party.is_some_and(|azp| azp != expected.client_id) {
        return Err(IdTokenError::WrongAudience);
    }
    let expires_at = claims
        .get("exp")
        .and_then(|v| v.as_i64().or_else(|| v.as_f64().map(|f| f as i64)))
        .ok_or(IdTokenError::Expired)?;
    if expected.now > expires_at.saturating_add(expected.leeway_seconds) {
        return Err(IdTokenError::Expired);
    }
    let nonce = claims.get("nonce").and_then(Value::as_str).unwrap_or("");
    if !super::session::tokens_match(nonce, expected.nonce) {
        return Err(IdTokenError::WrongNonce);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NOW: i64 = 1_800_000_000;

    fn expectations() -> Expectations<'static> {
        Expectations {
            issuer: "https://id.example",
            client_id: "sesame",
            nonce: "n-1",
            now: NOW,
            leeway_seconds: 60,
        }
    }

    fn claims() -> Value {
        json!({ "iss": "https://id.example", "aud": "sesame", "exp": NOW + 300, "nonce": "n-1" })
    }

    #[test]
    fn each_claim_is_checked() {
        check_claims(&claims(), expectations()).unwrap();
        let with = |key: &str, value: Value| {
            let mut c = claims();
            c[key] = value;
            check_claims(&c, expectations())
        };
        assert!(matches!(
            with("iss", json!("https://evil.example")),
            Err(IdTokenError::WrongIssuer(_))
        ));
        assert_eq!(
            with("aud", json!("other")),
            Err(IdTokenError::WrongAudience)
        );
        assert_eq!(
            with("aud", json!(["sesame", "other"])),
            Err(IdTokenError::WrongAudience),
            "several audiences need azp"
        );
        assert_eq!(with("exp", json!(NOW - 61)), Err(IdTokenError::Expired));
        assert_eq!(with("nonce", json!("n-2")), Err(IdTokenError::WrongNonce));
        let mut no_nonce = claims();
        no_nonce.as_object_mut().unwrap().remove("nonce");
        assert_eq!(
            check_claims(&no_nonce, expectations()),
            Err(IdTokenError::WrongNonce)
        );
    }

    #[test]
    fn malformed_and_unsigned_tokens_are_refused() {
        let none = format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(br#"{"alg":"none"}"#),
            URL_SAFE_NO_PAD.encode(claims().to_string())
        );
        assert!(matches!(
            verify(&none, &[], expectations()),
            Err(IdTokenError::UnsupportedAlgorithm(_))
        ));
        for bad in ["", "a.b", "a.b.c.d", "!!.??.**"] {
            assert!(verify(bad, &[], expectations()).is_err());
        }
        let hs = format!(
            "{}.{}.AAAA",
            URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256"}"#),
            URL_SAFE_NO_PAD.encode(claims().to_string())
        );
        assert!(matches!(
            verify(&hs, &[], expectations()),
            Err(IdTokenError::UnsupportedAlgorithm(_))
        ));
    }

    #[test]
    fn only_rsa_signing_keys_are_kept() {
        let set = json!({ "keys": [
            { "kty": "RSA", "kid": "a", "n": "AQAB", "e": "AQAB" },
            { "kty": "RSA", "kid": "b", "n": "AQAB", "e": "AQAB", "use": "enc" },
            { "kty": "EC", "kid": "c" },
            { "kty": "RSA", "kid": "d", "n": "!!" , "e": "AQAB" },
        ]});
        let keys = parse_key_set(&set);
        assert_eq!(keys.len(), 1);
        assert_eq!(keys[0].kid.as_deref(), Some("a"));
    }
}
