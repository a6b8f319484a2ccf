//! The registered claims every caller checks the same way (RFC 7519 4.1): issuer, audience,
//! expiry and not-before. Protocol-specific claims are read by callers from [`Claims::raw`].

use crate::JwtError;
use serde_json::Value;

/// The registered claims, plus every claim as sent.
#[derive(Debug, Clone, PartialEq)]
pub struct Claims {
    pub issuer: Option<String>,
    /// `aud` as one string or an array of strings.
    pub audiences: Vec<String>,
    pub expires_at: Option<i64>,
    pub not_before: Option<i64>,
    /// The whole payload, a JSON object.
    pub raw: Value,
}

impl Claims {
    /// Reads a token's payload: it must be a JSON object, and `exp` and `nbf`, when present,
    /// numbers.
    pub fn parse(raw: Value) -> Result<Claims, JwtError> {
        if !raw.is_object() {
            return Err(JwtError::Malformed(
                "payload is not a JSON object".to_owned(),
            ));
        }
        let seconds = |key: &str| -> Result<Option<i64>, JwtError> {
            match raw.get(key) {
                None | Some(Value::Null) => Ok(None),
                Some(value) => value
                    .as_i64()
                    // NumericDate may carry a fraction; whole seconds are precise enough.
                    .or_else(|| value.as_f64().map(|seconds| seconds as i64))
                    .map(Some)
                    .ok_or_else(|| JwtError::Malformed(format!("`{key}` is not a number"))),
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
            issuer: raw.get("iss").and_then(Value::as_str).map(str::to_owned),
            audiences,
            expires_at: seconds("exp")?,
            not_before: seconds("nbf")?,
            raw,
        })
    }

    /// A string claim, for the protocol-specific checks callers make.
    pub fn string(&self, key: &str) -> Option<&str> {
        self.raw.get(key).and_then(Value::as_str)
    }
}

/// What the registered claims must say; see [`check_claims`].
#[derive(Debug, Clone, Copy)]
pub struct ClaimChecks<'a> {
    /// `iss` must be one of these, exactly.
    pub issuers: &'a [String],
    /// One of the token's audiences must be this, exactly.
    pub audience: &'a str,
    /// Clock skew tolerated either way on `exp` and `nbf`.
    pub leeway_seconds: i64,
    /// Unix seconds.
    pub now: i64,
}

/// Issuer, audience, expiry (required) and not-before (when present), in that order, each
/// failure with its own error. The signature must have been checked before, so that nothing here
/// is read from a forged token.
pub fn check_claims(claims: &Claims, expected: &ClaimChecks<'_>) -> Result<(), JwtError> {
    match &claims.issuer {
        Some(issuer) if expected.issuers.iter().any(|allowed| allowed == issuer) => {}
        other => return Err(JwtError::WrongIssuer(other.clone())),
    }
    if !claims
        .audiences
        .iter()
        .any(|audience| audience == expected.audience)
    {
        return Err(JwtError::WrongAudience(claims.audiences.clone()));
    }
    let expires_at = claims.expires_at.ok_or(JwtError::MissingExpiry)?;
    if expected.now > expires_at.saturating_add(expected.leeway_seconds) {
        return Err(JwtError::Expired {
            expired_at: expires_at,
            now: expected.now,
        });
    }
    if let Some(not_before) = claims.not_before {
        if expected.now < not_before.saturating_sub(expected.leeway_seconds) {
            return Err(JwtError::NotYetValid {
                not_before,
                now: expected.now,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NOW: i64 = 1_800_000_000;
    const ISSUER: &str = "https://issuer.example";

    fn claims_with(changes: &[(&str, Value)]) -> Claims {
        let mut raw = json!({ "iss": ISSUER, "aud": "app-1", "nbf": NOW - 60, "exp": NOW + 3600 });
        for (key, value) in changes {
            raw[*key] = value.clone();
        }
        Claims::parse(raw).unwrap()
    }

    fn check(claims: &Claims, now: i64) -> Result<(), JwtError> {
        check_claims(
            claims,
            &ClaimChecks {
                issuers: &[ISSUER.to_owned(), "https://second.example".to_owned()],
                audience: "app-1",
                leeway_seconds: 300,
                now,
            },
        )
    }

    #[test]
    fn valid_claims_pass() {
        check(&claims_with(&[]), NOW).unwrap();
        check(
            &claims_with(&[("iss", json!("https://second.example"))]),
            NOW,
        )
        .unwrap();
        // NumericDate with a fraction.
        check(&claims_with(&[("exp", json!(NOW as f64 + 0.5))]), NOW).unwrap();
    }

    #[test]
    fn an_expired_token_is_refused_after_the_leeway() {
        let claims = claims_with(&[]);
        check(&claims, NOW + 3600 + 300).unwrap();
        assert_eq!(
            check(&claims, NOW + 3600 + 301),
            Err(JwtError::Expired {
                expired_at: NOW + 3600,
                now: NOW + 3600 + 301
            })
        );
        assert_eq!(
            check(&claims_with(&[("exp", Value::Null)]), NOW),
            Err(JwtError::MissingExpiry)
        );
    }

    #[test]
    fn a_token_not_yet_valid_is_refused_before_the_leeway() {
        let claims = claims_with(&[]);
        check(&claims, NOW - 60 - 300).unwrap();
        assert_eq!(
            check(&claims, NOW - 60 - 301),
            Err(JwtError::NotYetValid {
                not_before: NOW - 60,
                now: NOW - 60 - 301
            })
        );
        // Without `nbf` only the expiry bounds the lifetime.
        check(&claims_with(&[("nbf", Value::Null)]), NOW - 100_000).unwrap();
    }

    #[test]
    fn a_wrong_or_missing_issuer_is_refused() {
        assert_eq!(
            check(&claims_with(&[("iss", json!("https://evil.example"))]), NOW),
            Err(JwtError::WrongIssuer(Some("https://evil.example".into())))
        );
        assert_eq!(
            check(&claims_with(&[("iss", Value::Null)]), NOW),
            Err(JwtError::WrongIssuer(None))
        );
        // Compared exactly: no trailing-slash or case tolerance.
        assert!(check(
            &claims_with(&[("iss", json!("https://issuer.example/"))]),
            NOW
        )
        .is_err());
        assert!(check(
            &claims_with(&[("iss", json!("HTTPS://issuer.example"))]),
            NOW
        )
        .is_err());
    }

    #[test]
    fn a_wrong_audience_is_refused_as_string_or_array() {
        assert_eq!(
            check(&claims_with(&[("aud", json!("other"))]), NOW),
            Err(JwtError::WrongAudience(vec!["other".into()]))
        );
        assert_eq!(
            check(&claims_with(&[("aud", json!(["other", "another"]))]), NOW),
            Err(JwtError::WrongAudience(vec![
                "other".into(),
                "another".into()
            ]))
        );
        assert_eq!(
            check(&claims_with(&[("aud", Value::Null)]), NOW),
            Err(JwtError::WrongAudience(Vec::new()))
        );
        check(&claims_with(&[("aud", json!(["other", "app-1"]))]), NOW).unwrap();
    }

    #[test]
    fn the_payload_must_be_an_object_with_numeric_times() {
        assert!(matches!(
            Claims::parse(json!("just a string")),
            Err(JwtError::Malformed(_))
        ));
        assert!(matches!(
            Claims::parse(json!({ "nbf": true })),
            Err(JwtError::Malformed(_))
        ));
        let claims = claims_with(&[("nonce", json!("n-1"))]);
        assert_eq!(claims.string("nonce"), Some("n-1"));
        assert_eq!(claims.string("exp"), None);
    }
}
