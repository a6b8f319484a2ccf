//! The pure half of inbound authentication: splitting a compact JWT, reading its header and claims,
//! checking an RSA PKCS#1 v1.5 signature with a public key, and checking the claims Bot Framework
//! requires. No I/O and no clock: the caller passes the key and `now`.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ring::signature::{self, RsaPublicKeyComponents};
use serde::Deserialize;
use serde_json::Value;

use crate::auth::AuthError;

/// A bearer token longer than this is not a Bot Framework token (they are about 1.5 KB); refusing
/// early bounds the work a forged header can cause.
pub const MAX_TOKEN_BYTES: usize = 16 * 1024;

/// Signature algorithms Bot Framework's SDKs accept. Teams signs with RS256; `none` and the HMAC
/// family are refused by construction, since a public key must never be usable as an HMAC secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    Rs256,
    Rs384,
    Rs512,
}

impl Algorithm {
    fn parse(name: &str) -> Option<Algorithm> {
        match name {
            "RS256" => Some(Algorithm::Rs256),
            "RS384" => Some(Algorithm::Rs384),
            "RS512" => Some(Algorithm::Rs512),
            _ => None,
        }
    }

    fn verification(self) -> &'static signature::RsaParameters {
        match self {
            Algorithm::Rs256 => &signature::RSA_PKCS1_2048_8192_SHA256,
            Algorithm::Rs384 => &signature::RSA_PKCS1_2048_8192_SHA384,
            Algorithm::Rs512 => &signature::RSA_PKCS1_2048_8192_SHA512,
        }
    }
}

/// A token split and decoded, but not yet trusted.
#[derive(Debug, Clone)]
pub struct UnverifiedToken {
    pub algorithm: Algorithm,
    pub key_id: String,
    pub claims: Claims,
    /// `base64url(header) "." base64url(payload)`: the bytes the signature covers.
    signed_part: String,
    signature: Vec<u8>,
}

/// The claims Bot Framework tokens carry that Sesame checks, plus all of them as sent.
#[derive(Debug, Clone, PartialEq)]
pub struct Claims {
    pub issuer: Option<String>,
    /// `aud` as one string or an array of strings.
    pub audiences: Vec<String>,
    pub expires_at: Option<i64>,
    pub not_before: Option<i64>,
    /// The `serviceurl` claim (Bot Framework's SDKs spell it in lower case).
    pub service_url: Option<String>,
    pub raw: Value,
}

#[derive(Deserialize)]
struct Header {
    alg: String,
    #[serde(default)]
    kid: Option<String>,
}

/// An RSA public key as a JWK gives it: big-endian modulus and exponent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RsaPublicKey {
    pub modulus: Vec<u8>,
    pub exponent: Vec<u8>,
}

pub fn decode(token: &str) -> Result<UnverifiedToken, AuthError> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err(AuthError::Malformed(format!(
            "token longer than {MAX_TOKEN_BYTES} bytes"
        )));
    }
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(AuthError::Malformed(
            "not three dot-separated parts".to_owned(),
        ));
    };
    let header: Header = decode_json(header, "header")?;
    let algorithm = Algorithm::parse(&header.alg)
        .ok_or_else(|| AuthError::UnsupportedAlgorithm(header.alg.clone()))?;
    let key_id = header
        .kid
        .filter(|kid| !kid.is_empty())
        .ok_or(AuthError::MissingKeyId)?;
    let raw: Value = decode_json(payload, "payload")?;
    let claims = Claims::read(raw)?;
    let signature = URL_SAFE_NO_PAD
        .decode(signature)
        .map_err(|error| AuthError::Malformed(format!("signature is not base64url: {error}")))?;
    let signed_part = token[..header_and_payload_len(token)].to_owned();
    Ok(UnverifiedToken {
        algorithm,
        key_id,
        claims,
        signed_part,
        signature,
    })
}

fn header_and_payload_len(token: &str) -> usize {
    // `decode` has checked there are exactly two dots.
    token.rfind('.').unwrap_or(token.len())
}

fn decode_json<T: serde::de::DeserializeOwned>(part: &str, what: &str) -> Result<T, AuthError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|error| AuthError::Malformed(format!("{what} is not base64url: {error}")))?;
    serde_json::from_slice(&bytes)
        .map_err(|error| AuthError::Malformed(format!("{what} is not the expected JSON: {error}")))
}

impl Claims {
    fn read(raw: Value) -> Result<Claims, AuthError> {
        if !raw.is_object() {
            return Err(AuthError::Malformed(
                "payload is not a JSON object".to_owned(),
            ));
        }
        let string = |key: &str| raw.get(key).and_then(Value::as_str).map(str::to_owned);
        let seconds = |key: &str| -> Result<Option<i64>, AuthError> {
            match raw.get(key) {
                None | Some(Value::Null) => Ok(None),
                Some(value) => value
                    .as_i64()
                    // NumericDate may carry a fraction; whole seconds are precise enough.
                    .or_else(|| value.as_f64().map(|seconds| seconds as i64))
                    .map(Some)
                    .ok_or_else(|| AuthError::Malformed(format!("`{key}` is not a number"))),
            }
        };
        let audiences = match raw.get("aud") {
            Some(Value::String(audience)) => vec![audience.clone()],
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect(),
            _ => Vec::new(),
        };
        Ok(Claims {
            issuer: string("iss"),
            audiences,
            expires_at: seconds("exp")?,
            not_before: seconds("nbf")?,
            service_url: string("serviceurl").or_else(|| string("serviceUrl")),
            raw,
        })
    }
}

impl UnverifiedToken {
    /// Checks the signature with `key`; constant-time inside ring.
    pub fn verify_signature(&self, key: &RsaPublicKey) -> Result<(), AuthError> {
        let components = RsaPublicKeyComponents {
            n: &key.modulus,
            e: &key.exponent,
        };
        components
            .verify(
                self.algorithm.verification(),
                self.signed_part.as_bytes(),
                &self.signature,
            )
            .map_err(|_| AuthError::BadSignature)
    }
}

/// What the claims must say; see [`check_claims`].
#[derive(Debug, Clone, Copy)]
pub struct Expectations<'a> {
    pub issuers: &'a [String],
    pub audience: &'a str,
    pub service_url: &'a str,
    pub leeway_seconds: i64,
    pub now: i64,
}

/// Issuer, audience, lifetime (with leeway either way) and the `serviceurl` claim. The signature
/// must have been checked before, so that nothing here is read from a forged token.
pub fn check_claims(claims: &Claims, expected: Expectations<'_>) -> Result<(), AuthError> {
    match &claims.issuer {
        Some(issuer) if expected.issuers.iter().any(|allowed| allowed == issuer) => {}
        other => return Err(AuthError::WrongIssuer(other.clone())),
    }
    if !claims
        .audiences
        .iter()
        .any(|audience| audience == expected.audience)
    {
        return Err(AuthError::WrongAudience(claims.audiences.clone()));
    }
    let expires_at = claims.expires_at.ok_or(AuthError::MissingExpiry)?;
    if expected.now > expires_at.saturating_add(expected.leeway_seconds) {
        return Err(AuthError::Expired {
            expired_at: expires_at,
            now: expected.now,
        });
    }
    if let Some(not_before) = claims.not_before {
        if expected.now < not_before.saturating_sub(expected.leeway_seconds) {
            return Err(AuthError::NotYetValid {
                not_before,
                now: expected.now,
            });
        }
    }
    match &claims.service_url {
        None => Err(AuthError::MissingServiceUrl),
        Some(claimed) if claimed == expected.service_url => Ok(()),
        Some(claimed) => Err(AuthError::ServiceUrlMismatch {
            claimed: claimed.clone(),
            activity: expected.service_url.to_owned(),
        }),
    }
}

#[cfg(test)]
pub(crate) mod test_support {
    //! Signs tokens with a fixed test key (generated once with openssl, used only here).
    use super::RsaPublicKey;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    use ring::rand::SystemRandom;
    use ring::signature::{RsaKeyPair, RsaPublicKeyComponents, RSA_PKCS1_SHA256};
    use serde_json::Value;

    /// An RSA-2048 private key in PKCS#1 DER; it signs nothing outside these tests.
    const TEST_KEY_DER: &[u8] = include_bytes!("testdata/test_key.der");

    fn key_pair() -> RsaKeyPair {
        RsaKeyPair::from_der(TEST_KEY_DER).expect("the test key is valid PKCS#1")
    }

    pub fn public_key() -> RsaPublicKey {
        let components = RsaPublicKeyComponents::<Vec<u8>>::from(key_pair().public());
        RsaPublicKey {
            modulus: components.n,
            exponent: components.e,
        }
    }

    pub fn sign(header: &Value, claims: &Value) -> String {
        let signed_part = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let pair = key_pair();
        let mut signature = vec![0; pair.public().modulus_len()];
        pair.sign(
            &RSA_PKCS1_SHA256,
            &SystemRandom::new(),
            signed_part.as_bytes(),
            &mut signature,
        )
        .expect("signing with the test key");
        format!("{signed_part}.{}", URL_SAFE_NO_PAD.encode(signature))
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::{public_key, sign};
    use super::*;
    use serde_json::json;

    const NOW: i64 = 1_800_000_000;
    const SERVICE: &str = "https://smba.trafficmanager.net/emea/";

    fn claims() -> Value {
        json!({
            "iss": "https://api.botframework.com",
            "aud": "app-1",
            "serviceurl": SERVICE,
            "nbf": NOW - 60,
            "exp": NOW + 3600,
        })
    }

    fn header() -> Value {
        json!({ "alg": "RS256", "kid": "k1", "typ": "JWT" })
    }

    fn check(claims: &Claims, now: i64) -> Result<(), AuthError> {
        let issuers = vec!["https://api.botframework.com".to_owned()];
        check_claims(
            claims,
            Expectations {
                issuers: &issuers,
                audience: "app-1",
                service_url: SERVICE,
                leeway_seconds: 300,
                now,
            },
        )
    }

    #[test]
    fn a_signed_token_decodes_and_verifies() {
        let token = decode(&sign(&header(), &claims())).unwrap();
        assert_eq!(token.algorithm, Algorithm::Rs256);
        assert_eq!(token.key_id, "k1");
        assert_eq!(token.claims.service_url.as_deref(), Some(SERVICE));
        token.verify_signature(&public_key()).unwrap();
        check(&token.claims, NOW).unwrap();
    }

    #[test]
    fn a_changed_payload_breaks_the_signature() {
        let token = sign(&header(), &claims());
        let mut parts: Vec<&str> = token.split('.').collect();
        let mut forged = claims();
        forged["aud"] = json!("someone-else");
        let forged_payload = URL_SAFE_NO_PAD.encode(forged.to_string());
        parts[1] = &forged_payload;
        let decoded = decode(&parts.join(".")).unwrap();
        assert_eq!(
            decoded.verify_signature(&public_key()),
            Err(AuthError::BadSignature)
        );
    }

    #[test]
    fn malformed_tokens_are_refused_without_panicking() {
        for token in [
            "",
            "a.b",
            "a.b.c.d",
            "!!.??.**",
            "e30.e30.e30",
            &"x".repeat(MAX_TOKEN_BYTES + 1),
        ] {
            assert!(decode(token).is_err(), "{token:?} should be refused");
        }
        let hs256 = sign(&json!({ "alg": "HS256", "kid": "k1" }), &claims());
        assert_eq!(
            decode(&hs256).unwrap_err(),
            AuthError::UnsupportedAlgorithm("HS256".into())
        );
        let none = sign(&json!({ "alg": "none", "kid": "k1" }), &claims());
        assert!(matches!(
            decode(&none),
            Err(AuthError::UnsupportedAlgorithm(_))
        ));
        let no_kid = sign(&json!({ "alg": "RS256" }), &claims());
        assert_eq!(decode(&no_kid).unwrap_err(), AuthError::MissingKeyId);
    }

    #[test]
    fn claims_are_checked_with_five_minutes_of_leeway() {
        let token = decode(&sign(&header(), &claims())).unwrap();
        check(&token.claims, NOW + 3600 + 300).unwrap();
        assert!(matches!(
            check(&token.claims, NOW + 3600 + 301),
            Err(AuthError::Expired { .. })
        ));
        check(&token.claims, NOW - 60 - 300).unwrap();
        assert!(matches!(
            check(&token.claims, NOW - 60 - 301),
            Err(AuthError::NotYetValid { .. })
        ));
    }

    #[test]
    fn each_claim_failure_has_its_own_error() {
        let with = |key: &str, value: Value| {
            let mut claims = claims();
            claims[key] = value;
            decode(&sign(&header(), &claims)).unwrap().claims
        };
        assert!(matches!(
            check(&with("iss", json!("https://evil.example")), NOW),
            Err(AuthError::WrongIssuer(Some(_)))
        ));
        assert!(matches!(
            check(&with("aud", json!(["other", "another"])), NOW),
            Err(AuthError::WrongAudience(_))
        ));
        check(&with("aud", json!(["other", "app-1"])), NOW).unwrap();
        assert!(matches!(
            check(&with("serviceurl", json!("https://evil.example/")), NOW),
            Err(AuthError::ServiceUrlMismatch { .. })
        ));
        assert_eq!(
            check(&with("serviceurl", Value::Null), NOW),
            Err(AuthError::MissingServiceUrl)
        );
        assert_eq!(
            check(&with("exp", Value::Null), NOW),
            Err(AuthError::MissingExpiry)
        );
        let mut claims = claims();
        claims["exp"] = json!("tomorrow");
        assert!(matches!(
            decode(&sign(&header(), &claims)),
            Err(AuthError::Malformed(_))
        ));
    }
}
