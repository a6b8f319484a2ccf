//! Compact JWTs: splitting, decoding the header and the payload, and the signature check. Nothing
//! in a token is trusted before [`UnverifiedToken::verify_signature`] has accepted it.

use crate::claims::Claims;
use crate::jwks::Jwk;
use crate::JwtError;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ring::signature::{self, RsaPublicKeyComponents};
use serde::Deserialize;

/// The signature algorithms this crate can accept: RSA PKCS#1 v1.5 only. `none` and the HMAC
/// family have no variant, so they are refused by construction; a public key must never be
/// usable as an HMAC secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    Rs256,
    Rs384,
    Rs512,
}

/// Every algorithm [`Algorithm`] knows, for callers that accept all three.
pub const RSA_ALGORITHMS: &[Algorithm] = &[Algorithm::Rs256, Algorithm::Rs384, Algorithm::Rs512];

impl Algorithm {
    fn parse(name: &str) -> Option<Algorithm> {
        match name {
            "RS256" => Some(Algorithm::Rs256),
            "RS384" => Some(Algorithm::Rs384),
            "RS512" => Some(Algorithm::Rs512),
            _ => None,
        }
    }

    /// ring refuses moduli under 2048 bits with these parameters, as it should.
    fn verification(self) -> &'static signature::RsaParameters {
        match self {
            Algorithm::Rs256 => &signature::RSA_PKCS1_2048_8192_SHA256,
            Algorithm::Rs384 => &signature::RSA_PKCS1_2048_8192_SHA384,
            Algorithm::Rs512 => &signature::RSA_PKCS1_2048_8192_SHA512,
        }
    }
}

/// Whether the header must name its signing key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyId {
    /// Bot Framework always sends one; a token without is refused.
    Required,
    /// OpenID providers with one key may leave it out; then every key in the set is tried.
    Optional,
}

/// What [`decode`] accepts before anything is verified.
#[derive(Debug, Clone, Copy)]
pub struct Rules {
    /// A subset of [`RSA_ALGORITHMS`].
    pub algorithms: &'static [Algorithm],
    pub key_id: KeyId,
    /// Longer tokens are refused before any decoding, which bounds the work a forged token causes.
    pub max_bytes: usize,
}

/// A token split and decoded, but not yet trusted.
#[derive(Debug, Clone)]
pub struct UnverifiedToken {
    pub algorithm: Algorithm,
    /// Never empty: an empty `kid` counts as none.
    pub key_id: Option<String>,
    pub claims: Claims,
    /// `base64url(header) "." base64url(payload)`: the bytes the signature covers.
    signed_part: String,
    signature: Vec<u8>,
}

#[derive(Deserialize)]
struct Header {
    alg: String,
    #[serde(default)]
    kid: Option<String>,
}

/// Splits and decodes `token` under `rules`. Checks nothing about the claims but their shape.
pub fn decode(token: &str, rules: &Rules) -> Result<UnverifiedToken, JwtError> {
    if token.len() > rules.max_bytes {
        return Err(JwtError::Malformed(format!(
            "token longer than {} bytes",
            rules.max_bytes
        )));
    }
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(JwtError::Malformed(
            "not three dot-separated parts".to_owned(),
        ));
    };
    let header: Header = decode_json(header, "header")?;
    let algorithm = Algorithm::parse(&header.alg)
        .filter(|algorithm| rules.algorithms.contains(algorithm))
        .ok_or_else(|| JwtError::UnsupportedAlgorithm(header.alg.clone()))?;
    let key_id = header.kid.filter(|kid| !kid.is_empty());
    if key_id.is_none() && rules.key_id == KeyId::Required {
        return Err(JwtError::MissingKeyId);
    }
    let claims = Claims::parse(decode_json(payload, "payload")?)?;
    let signature = URL_SAFE_NO_PAD
        .decode(signature)
        .map_err(|error| JwtError::Malformed(format!("signature is not base64url: {error}")))?;
    // Exactly two dots were found above, so the last one ends the signed part.
    let signed_part = token[..token.rfind('.').unwrap_or(token.len())].to_owned();
    Ok(UnverifiedToken {
        algorithm,
        key_id,
        claims,
        signed_part,
        signature,
    })
}

fn decode_json<T: serde::de::DeserializeOwned>(part: &str, what: &str) -> Result<T, JwtError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|error| JwtError::Malformed(format!("{what} is not base64url: {error}")))?;
    serde_json::from_slice(&bytes)
        .map_err(|error| JwtError::Malformed(format!("{what} is not the expected JSON: {error}")))
}

impl UnverifiedToken {
    /// Checks the signature against `keys` (the candidates for this token's `kid`, or every key
    /// when it names none) and returns the key that made it. Each check is constant-time inside
    /// ring.
    pub fn verify_signature<'k>(&self, keys: &'k [Jwk]) -> Result<&'k Jwk, JwtError> {
        if keys.is_empty() {
            return Err(JwtError::UnknownKey(
                self.key_id.clone().unwrap_or_default(),
            ));
        }
        keys.iter()
            .find(|jwk| {
                RsaPublicKeyComponents {
                    n: &jwk.key.modulus,
                    e: &jwk.key.exponent,
                }
                .verify(
                    self.algorithm.verification(),
                    self.signed_part.as_bytes(),
                    &self.signature,
                )
                .is_ok()
            })
            .ok_or(JwtError::BadSignature)
    }

    /// The `kid` header, if any; a shorthand for key lookups.
    pub fn kid(&self) -> Option<&str> {
        self.key_id.as_deref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{jwk, other_jwk, sign, sign_with_hmac};
    use serde_json::{json, Value};

    const RULES: Rules = Rules {
        algorithms: RSA_ALGORITHMS,
        key_id: KeyId::Required,
        max_bytes: 16 * 1024,
    };

    fn claims() -> Value {
        json!({ "iss": "https://issuer.example", "aud": "app-1", "exp": 1_800_000_000 })
    }

    fn header() -> Value {
        json!({ "alg": "RS256", "kid": "k1", "typ": "JWT" })
    }

    #[test]
    fn a_signed_token_decodes_and_verifies_with_its_key() {
        let token = decode(&sign(&header(), &claims()), &RULES).unwrap();
        assert_eq!(token.algorithm, Algorithm::Rs256);
        assert_eq!(token.kid(), Some("k1"));
        assert_eq!(
            token.claims.issuer.as_deref(),
            Some("https://issuer.example")
        );
        let keys = [other_jwk("k0"), jwk("k1")];
        let key = token.verify_signature(&keys).unwrap();
        assert_eq!(key.kid.as_deref(), Some("k1"));
    }

    #[test]
    fn rs384_and_rs512_verify_too_when_allowed() {
        for alg in ["RS384", "RS512"] {
            let raw = sign(&json!({ "alg": alg, "kid": "k1" }), &claims());
            let token = decode(&raw, &RULES).unwrap();
            token.verify_signature(&[jwk("k1")]).unwrap();
            let only_rs256 = Rules {
                algorithms: &[Algorithm::Rs256],
                ..RULES
            };
            assert_eq!(
                decode(&raw, &only_rs256).unwrap_err(),
                JwtError::UnsupportedAlgorithm(alg.into())
            );
        }
    }

    #[test]
    fn a_forged_signature_is_refused() {
        // Another key's signature under the right kid, and a payload changed after signing.
        let token = decode(&sign(&header(), &claims()), &RULES).unwrap();
        assert_eq!(
            token.verify_signature(&[other_jwk("k1")]).unwrap_err(),
            JwtError::BadSignature
        );
        let signed = sign(&header(), &claims());
        let mut parts: Vec<&str> = signed.split('.').collect();
        let mut forged = claims();
        forged["aud"] = json!("someone-else");
        let forged_payload = URL_SAFE_NO_PAD.encode(forged.to_string());
        parts[1] = &forged_payload;
        let decoded = decode(&parts.join("."), &RULES).unwrap();
        assert_eq!(
            decoded.verify_signature(&[jwk("k1")]).unwrap_err(),
            JwtError::BadSignature
        );
        // A signature that is cut short never verifies either.
        let (signed_part, signature) = signed.rsplit_once('.').unwrap();
        let short = &URL_SAFE_NO_PAD.decode(signature).unwrap()[..200];
        let truncated = format!("{signed_part}.{}", URL_SAFE_NO_PAD.encode(short));
        let decoded = decode(&truncated, &RULES).unwrap();
        assert_eq!(
            decoded.verify_signature(&[jwk("k1")]).unwrap_err(),
            JwtError::BadSignature
        );
    }

    #[test]
    fn alg_none_is_refused_with_or_without_a_signature() {
        for alg in ["none", "None", "NONE", ""] {
            let unsigned = format!(
                "{}.{}.",
                URL_SAFE_NO_PAD.encode(json!({ "alg": alg, "kid": "k1" }).to_string()),
                URL_SAFE_NO_PAD.encode(claims().to_string())
            );
            assert_eq!(
                decode(&unsigned, &RULES).unwrap_err(),
                JwtError::UnsupportedAlgorithm(alg.into())
            );
        }
        let signed = sign(&json!({ "alg": "none", "kid": "k1" }), &claims());
        assert!(matches!(
            decode(&signed, &RULES),
            Err(JwtError::UnsupportedAlgorithm(_))
        ));
    }

    #[test]
    fn hs256_with_the_public_key_as_secret_is_refused() {
        // The classic confusion attack: an HMAC over the token keyed with the published key.
        let public = jwk("k1");
        for alg in ["HS256", "HS384", "HS512"] {
            let forged = sign_with_hmac(alg, "k1", &claims(), &public.key.modulus);
            let header: Value = decode_json(forged.split('.').next().unwrap(), "header").unwrap();
            assert_eq!(header["alg"], alg);
            assert_eq!(
                decode(&forged, &RULES).unwrap_err(),
                JwtError::UnsupportedAlgorithm(alg.into())
            );
        }
    }

    #[test]
    fn an_oversized_token_is_refused_before_decoding() {
        let limit = 4096;
        let rules = Rules {
            max_bytes: limit,
            ..RULES
        };
        let mut big = claims();
        big["padding"] = json!("x".repeat(limit));
        let token = sign(&header(), &big);
        assert!(token.len() > limit);
        assert_eq!(
            decode(&token, &rules).unwrap_err(),
            JwtError::Malformed(format!("token longer than {limit} bytes"))
        );
        // Not even base64 is looked at past the limit.
        assert!(matches!(
            decode(&"!".repeat(limit + 1), &rules),
            Err(JwtError::Malformed(message)) if message.contains("longer than")
        ));
        decode(&sign(&header(), &claims()), &rules).unwrap();
    }

    #[test]
    fn malformed_tokens_are_refused_without_panicking() {
        for token in [
            "",
            "a.b",
            "a.b.c.d",
            "!!.??.**",
            "e30.e30.e30",
            "e30.e30.",
            "W10.e30.AA",
        ] {
            assert!(
                matches!(decode(token, &RULES), Err(JwtError::Malformed(_))),
                "{token:?} should be refused as malformed"
            );
        }
        let mut not_a_number = claims();
        not_a_number["exp"] = json!("tomorrow");
        assert!(matches!(
            decode(&sign(&header(), &not_a_number), &RULES),
            Err(JwtError::Malformed(_))
        ));
        let array_payload = sign(&header(), &json!([1, 2]));
        assert!(matches!(
            decode(&array_payload, &RULES),
            Err(JwtError::Malformed(_))
        ));
    }

    #[test]
    fn the_caller_decides_whether_a_kid_is_required() {
        let no_kid = sign(&json!({ "alg": "RS256" }), &claims());
        let empty_kid = sign(&json!({ "alg": "RS256", "kid": "" }), &claims());
        assert_eq!(decode(&no_kid, &RULES).unwrap_err(), JwtError::MissingKeyId);
        assert_eq!(
            decode(&empty_kid, &RULES).unwrap_err(),
            JwtError::MissingKeyId
        );
        let optional = Rules {
            key_id: KeyId::Optional,
            ..RULES
        };
        let token = decode(&no_kid, &optional).unwrap();
        assert_eq!(token.kid(), None);
        // Without a kid every candidate is tried; the one that signed is returned.
        let keys = [other_jwk("a"), jwk("b")];
        assert_eq!(
            token.verify_signature(&keys).unwrap().kid.as_deref(),
            Some("b")
        );
        assert_eq!(
            token.verify_signature(&[]).unwrap_err(),
            JwtError::UnknownKey(String::new())
        );
    }
}
