//! Signs tokens with a fixed test key (an RSA-2048 private key in PKCS#1 DER, generated once with
//! openssl for these tests; it signs nothing else), and forges them in the ways attackers do.

use crate::{Jwk, RsaPublicKey};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ring::rand::SystemRandom;
use ring::signature::{RsaKeyPair, RsaPublicKeyComponents};
use serde_json::{json, Value};

const TEST_KEY_DER: &[u8] = include_bytes!("testdata/test_key.der");

fn key_pair() -> RsaKeyPair {
    RsaKeyPair::from_der(TEST_KEY_DER).expect("the test key is valid PKCS#1")
}

fn public_key() -> RsaPublicKey {
    let components = RsaPublicKeyComponents::<Vec<u8>>::from(key_pair().public());
    RsaPublicKey {
        modulus: components.n,
        exponent: components.e,
    }
}

/// A key as a JWKS would publish it: the test key, or (`signer: false`) a key of the same size
/// that did not sign anything here (the test key's modulus with its low bits changed).
pub fn jwk_json(kid: &str, signer: bool) -> Value {
    let mut key = public_key();
    if !signer {
        let last = key.modulus.len() - 1;
        key.modulus[last] ^= 0x06;
    }
    json!({
        "kty": "RSA",
        "use": "sig",
        "kid": kid,
        "n": URL_SAFE_NO_PAD.encode(&key.modulus),
        "e": URL_SAFE_NO_PAD.encode(&key.exponent),
    })
}

fn parsed(document: Value) -> Jwk {
    crate::parse_key_set(&json!({ "keys": [document] }))
        .pop()
        .expect("the test key parses")
}

/// The key that signs in [`sign`].
pub fn jwk(kid: &str) -> Jwk {
    parsed(jwk_json(kid, true))
}

/// A key that did not sign.
pub fn other_jwk(kid: &str) -> Jwk {
    parsed(jwk_json(kid, false))
}

/// Signs with the test key, using the RSA algorithm the header names (RS256 for anything else, so
/// that tests can put any `alg` in a correctly signed token).
pub fn sign(header: &Value, claims: &Value) -> String {
    let signed_part = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let padding: &'static dyn ring::signature::RsaEncoding =
        match header.get("alg").and_then(Value::as_str) {
            Some("RS384") => &ring::signature::RSA_PKCS1_SHA384,
            Some("RS512") => &ring::signature::RSA_PKCS1_SHA512,
            _ => &ring::signature::RSA_PKCS1_SHA256,
        };
    let pair = key_pair();
    let mut signature = vec![0; pair.public().modulus_len()];
    pair.sign(
        padding,
        &SystemRandom::new(),
        signed_part.as_bytes(),
        &mut signature,
    )
    .expect("signing with the test key");
    format!("{signed_part}.{}", URL_SAFE_NO_PAD.encode(signature))
}

/// An HMAC "signature" keyed with `secret`: what an attacker makes with a published public key
/// when a verifier lets the token choose HMAC.
pub fn sign_with_hmac(alg: &str, kid: &str, claims: &Value, secret: &[u8]) -> String {
    let signed_part = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(json!({ "alg": alg, "kid": kid, "typ": "JWT" }).to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let algorithm = match alg {
        "HS384" => ring::hmac::HMAC_SHA384,
        "HS512" => ring::hmac::HMAC_SHA512,
        _ => ring::hmac::HMAC_SHA256,
    };
    let tag = ring::hmac::sign(
        &ring::hmac::Key::new(algorithm, secret),
        signed_part.as_bytes(),
    );
    format!("{signed_part}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref()))
}
