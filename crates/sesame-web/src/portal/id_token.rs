//! Checking an OpenID Connect ID token (Core 3.1.3.7). Decoding, the RS256 signature by one of the
//! provider's keys, the issuer, audience and lifetime are `sesame_jwt`'s, shared with Teams'
//! inbound tokens; what is OpenID Connect's own is checked here: the authorized party (`azp`) and
//! the sign-in's `nonce`.

use serde_json::Value;
use sesame_jwt::{Algorithm, ClaimChecks, Claims, JwtError, KeyCache, KeyId, KeySource, Rules};

/// RS256 only: the algorithm OpenID Connect defaults to and every supported provider signs with
/// (clients that want another must register it). The `kid` is optional, since providers with one
/// key may leave it out; then every key is tried. ID tokens are a few kilobytes (more with group
/// claims); anything much larger is refused before decoding.
const RULES: Rules = Rules {
    algorithms: &[Algorithm::Rs256],
    key_id: KeyId::Optional,
    max_bytes: 32 * 1024,
};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdTokenError {
    #[error("the ID token is malformed: {0}")]
    Malformed(String),
    #[error("the ID token is signed with {0:?}; only RS256 is accepted")]
    UnsupportedAlgorithm(String),
    #[error("the ID token names signing key {0:?}, which the provider does not list")]
    UnknownKey(String),
    /// Not the token's fault: the provider's keys could not be fetched.
    #[error("the provider's signing keys are unavailable: {0}")]
    KeysUnavailable(String),
    #[error("the ID token's signature does not verify")]
    BadSignature,
    #[error("the ID token was issued by {0:?}, not the configured provider")]
    WrongIssuer(Option<String>),
    #[error("the ID token is not meant for this client")]
    WrongAudience,
    #[error("the ID token has expired")]
    Expired,
    #[error("the ID token is not valid yet")]
    NotYetValid,
    #[error("the ID token's nonce does not match this sign-in")]
    WrongNonce,
}

/// The portal's words for the shared checks' refusals (they reach the sign-in error page).
impl From<JwtError> for IdTokenError {
    fn from(error: JwtError) -> IdTokenError {
        match error {
            JwtError::Malformed(reason) => IdTokenError::Malformed(reason),
            JwtError::UnsupportedAlgorithm(alg) => IdTokenError::UnsupportedAlgorithm(alg),
            // `RULES` makes the kid optional, so a missing one never gets here.
            JwtError::MissingKeyId => IdTokenError::UnknownKey(String::new()),
            JwtError::UnknownKey(kid) => IdTokenError::UnknownKey(kid),
            JwtError::KeysUnavailable(reason) => IdTokenError::KeysUnavailable(reason),
            JwtError::BadSignature => IdTokenError::BadSignature,
            JwtError::WrongIssuer(issuer) => IdTokenError::WrongIssuer(issuer),
            JwtError::WrongAudience(_) => IdTokenError::WrongAudience,
            JwtError::MissingExpiry | JwtError::Expired { .. } => IdTokenError::Expired,
            JwtError::NotYetValid { .. } => IdTokenError::NotYetValid,
        }
    }
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

/// Verifies `token` with the provider's keys (from `jwks_uri`, through `keys`) and returns its
/// claims.
pub async fn verify(
    token: &str,
    keys: &KeyCache,
    jwks_uri: &str,
    expected: Expectations<'_>,
) -> Result<Value, IdTokenError> {
    let token = sesame_jwt::decode(token, &RULES)?;
    let candidates = keys
        .keys_for(KeySource::Jwks(jwks_uri), token.kid(), expected.now)
        .await?;
    token.verify_signature(&candidates)?;
    check_claims(&token.claims, expected)?;
    Ok(token.claims.raw)
}

/// Issuer, audience and lifetime (shared), then the authorized party and the nonce.
fn check_claims(claims: &Claims, expected: Expectations<'_>) -> Result<(), IdTokenError> {
    sesame_jwt::check_claims(
        claims,
        &ClaimChecks {
            issuers: &[expected.issuer.to_owned()],
            audience: expected.client_id,
            leeway_seconds: expected.leeway_seconds,
            now: expected.now,
        },
    )?;
    // With several audiences the token must say it was issued to us; when it names an authorized
    // party at all, that must be us.
    let authorized_party = claims.string("azp");
    if claims.audiences.len() > 1 && authorized_party != Some(expected.client_id) {
        return Err(IdTokenError::WrongAudience);
    }
    if authorized_party.is_some_and(|azp| azp != expected.client_id) {
        return Err(IdTokenError::WrongAudience);
    }
    let nonce = claims.string("nonce").unwrap_or("");
    if !super::session::tokens_match(nonce, expected.nonce) {
        return Err(IdTokenError::WrongNonce);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
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

    fn check(raw: Value) -> Result<(), IdTokenError> {
        check_claims(&Claims::parse(raw).unwrap(), expectations())
    }

    #[test]
    fn each_claim_is_checked() {
        check(claims()).unwrap();
        let with = |key: &str, value: Value| {
            let mut c = claims();
            c[key] = value;
            check(c)
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
        let mut with_azp = claims();
        with_azp["aud"] = json!(["sesame", "other"]);
        with_azp["azp"] = json!("sesame");
        check(with_azp.clone()).unwrap();
        with_azp["azp"] = json!("other");
        assert_eq!(check(with_azp), Err(IdTokenError::WrongAudience));
        assert_eq!(
            with("azp", json!("other")),
            Err(IdTokenError::WrongAudience)
        );
        assert_eq!(with("exp", json!(NOW - 61)), Err(IdTokenError::Expired));
        assert_eq!(with("exp", Value::Null), Err(IdTokenError::Expired));
        assert_eq!(with("nbf", json!(NOW + 61)), Err(IdTokenError::NotYetValid));
        assert_eq!(with("nonce", json!("n-2")), Err(IdTokenError::WrongNonce));
        let mut no_nonce = claims();
        no_nonce.as_object_mut().unwrap().remove("nonce");
        assert_eq!(check(no_nonce), Err(IdTokenError::WrongNonce));
    }

    #[test]
    fn malformed_and_unsigned_tokens_are_refused() {
        let decode = |token: &str| sesame_jwt::decode(token, &RULES).map_err(IdTokenError::from);
        let none = format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(br#"{"alg":"none"}"#),
            URL_SAFE_NO_PAD.encode(claims().to_string())
        );
        assert!(matches!(
            decode(&none),
            Err(IdTokenError::UnsupportedAlgorithm(_))
        ));
        for bad in ["", "a.b", "a.b.c.d", "!!.??.**"] {
            assert!(decode(bad).is_err());
        }
        for alg in ["HS256", "RS384", "RS512"] {
            let token = format!(
                "{}.{}.AAAA",
                URL_SAFE_NO_PAD.encode(json!({ "alg": alg }).to_string()),
                URL_SAFE_NO_PAD.encode(claims().to_string())
            );
            assert_eq!(
                decode(&token).unwrap_err(),
                IdTokenError::UnsupportedAlgorithm(alg.into())
            );
        }
        let long = "a".repeat(RULES.max_bytes + 1);
        assert!(matches!(decode(&long), Err(IdTokenError::Malformed(_))));
        // Without a kid the token is accepted for decoding; every key is then tried.
        let no_kid = format!(
            "{}.{}.AAAA",
            URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256"}"#),
            URL_SAFE_NO_PAD.encode(claims().to_string())
        );
        assert_eq!(decode(&no_kid).unwrap().kid(), None);
    }
}
