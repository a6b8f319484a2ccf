//! JSON Web Key Sets (RFC 7517): the RSA signing keys in one, as [`Jwk`]s.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::Value;

/// An RSA public key as a JWK gives it: big-endian modulus and exponent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RsaPublicKey {
    pub modulus: Vec<u8>,
    pub exponent: Vec<u8>,
}

/// One RSA signing key from a key set.
#[derive(Debug, Clone, PartialEq)]
pub struct Jwk {
    /// Never empty: an empty `kid` counts as none.
    pub kid: Option<String>,
    pub key: RsaPublicKey,
    /// The key's JSON as published, for members only one protocol defines (Bot Framework's
    /// `endorsements`).
    pub raw: Value,
}

/// The RSA signing keys in a JWKS document. Other key types, keys for encryption (`use` other
/// than `sig`) and broken entries are skipped rather than failing the whole set, so that one odd
/// key a provider adds does not lock everyone out.
pub fn parse_key_set(document: &Value) -> Vec<Jwk> {
    let Some(keys) = document.get("keys").and_then(Value::as_array) else {
        return Vec::new();
    };
    keys.iter().filter_map(usable).collect()
}

fn usable(raw: &Value) -> Option<Jwk> {
    let string = |name: &str| raw.get(name).and_then(Value::as_str);
    if string("kty") != Some("RSA") || string("use").is_some_and(|usage| usage != "sig") {
        return None;
    }
    // Some providers pad their base64url; the padding carries nothing.
    let bytes = |name: &str| {
        string(name).and_then(|value| URL_SAFE_NO_PAD.decode(value.trim_end_matches('=')).ok())
    };
    Some(Jwk {
        kid: string("kid")
            .filter(|kid| !kid.is_empty())
            .map(str::to_owned),
        key: RsaPublicKey {
            modulus: bytes("n").filter(|n| !n.is_empty())?,
            exponent: bytes("e").filter(|e| !e.is_empty())?,
        },
        raw: raw.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_complete_rsa_signing_keys_are_kept() {
        let set = json!({ "keys": [
            { "kty": "RSA", "kid": "a", "n": "AQAB", "e": "AQAB", "endorsements": ["msteams"] },
            { "kty": "RSA", "kid": "b", "n": "AQAB", "e": "AQAB", "use": "enc" },
            { "kty": "EC", "kid": "c", "x": "AQAB", "y": "AQAB" },
            { "kty": "RSA", "kid": "d", "n": "not base64!", "e": "AQAB" },
            { "kty": "RSA", "kid": "e", "e": "AQAB" },
            { "kty": "oct", "kid": "f", "k": "c2VjcmV0" },
            { "kty": "RSA", "n": "AQAB", "e": "AQAB", "use": "sig" },
            { "kty": "RSA", "kid": "", "n": "AQAB", "e": "AQAB==" },
            "not an object",
        ]});
        let keys = parse_key_set(&set);
        let kids: Vec<Option<&str>> = keys.iter().map(|k| k.kid.as_deref()).collect();
        assert_eq!(kids, [Some("a"), None, None]);
        assert_eq!(keys[0].key.exponent, [1, 0, 1]);
        assert_eq!(keys[0].raw["endorsements"], json!(["msteams"]));
        assert_eq!(keys[2].key.exponent, [1, 0, 1], "padding is tolerated");
    }

    #[test]
    fn documents_without_keys_give_none() {
        assert!(parse_key_set(&json!({})).is_empty());
        assert!(parse_key_set(&json!({ "keys": "nope" })).is_empty());
        assert!(parse_key_set(&json!([])).is_empty());
    }
}
