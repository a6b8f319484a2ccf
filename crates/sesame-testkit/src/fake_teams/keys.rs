//! The fake's RSA signing keys and JWT signing. Keys are generated once per test process (RSA key
//! generation is slow in debug builds) and shared by every fake.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rsa::pkcs1v15::SigningKey;
use rsa::signature::{SignatureEncoding, Signer};
use rsa::traits::PublicKeyParts;
use rsa::RsaPrivateKey;
use serde_json::{json, Value};
use sha2::Sha256;
use std::sync::OnceLock;

/// The size Bot Framework uses; ring refuses anything smaller.
const KEY_BITS: usize = 2048;

fn generate() -> RsaPrivateKey {
    RsaPrivateKey::new(&mut rand::thread_rng(), KEY_BITS).expect("RSA key generation")
}

/// The key the fake serves and signs with.
pub(super) fn primary() -> &'static RsaPrivateKey {
    static KEY: OnceLock<RsaPrivateKey> = OnceLock::new();
    KEY.get_or_init(generate)
}

/// A second key: it forges signatures under the primary key's id, and becomes a served key when a
/// test rotates the keys.
pub(super) fn secondary() -> &'static RsaPrivateKey {
    static KEY: OnceLock<RsaPrivateKey> = OnceLock::new();
    KEY.get_or_init(generate)
}

/// The key as a JWK with Bot Framework's `endorsements`.
pub(super) fn jwk(key: &RsaPrivateKey, kid: &str, endorsements: &[String]) -> Value {
    json!({
        "kty": "RSA",
        "use": "sig",
        "kid": kid,
        "n": URL_SAFE_NO_PAD.encode(key.n().to_bytes_be()),
        "e": URL_SAFE_NO_PAD.encode(key.e().to_bytes_be()),
        "endorsements": endorsements,
    })
}

/// A compact RS256 JWT over these claims, with `kid` in its header.
pub(super) fn sign_jwt(key: &RsaPrivateKey, kid: &str, claims: &Value) -> String {
    let header = json!({ "alg": "RS256", "typ": "JWT", "kid": kid, "x5t": kid });
    let signed_part = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let signature = SigningKey::<Sha256>::new(key.clone()).sign(signed_part.as_bytes());
    format!(
        "{signed_part}.{}",
        URL_SAFE_NO_PAD.encode(signature.to_vec())
    )
}
