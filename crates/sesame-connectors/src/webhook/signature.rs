//! The webhook signature, in Slack's scheme: `v0=` and the hex HMAC-SHA256, keyed with the shared
//! secret, of `v0:{timestamp}:{body}`, with the timestamp (Unix seconds) sent beside it so that a
//! captured message cannot be replayed after five minutes.

use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;

/// How far a signed timestamp may be from now, either way.
pub const CALLBACK_WINDOW_SECS: i64 = 5 * 60;

/// Why a callback was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallbackError {
    #[error("the timestamp is not a number of seconds")]
    BadTimestamp,
    #[error("the timestamp is more than five minutes away from now")]
    Stale,
    #[error("the signature is missing or not of the form v0=<hex>")]
    BadSignature,
    #[error("the signature does not match")]
    Mismatch,
}

fn mac(secret: &SecretString, timestamp: &str, body: &[u8]) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.expose_secret().as_bytes())
        .expect("HMAC accepts keys of any length");
    mac.update(b"v0:");
    mac.update(timestamp.as_bytes());
    mac.update(b":");
    mac.update(body);
    mac
}

/// The `X-Sesame-Signature` value for `body` sent at `timestamp` (Unix seconds, as sent in
/// `X-Sesame-Timestamp`).
pub fn sign_webhook(secret: &SecretString, timestamp: &str, body: &[u8]) -> String {
    format!(
        "v0={}",
        hex::encode(mac(secret, timestamp, body).finalize().into_bytes())
    )
}

/// Checks a signed message (a receiver's callback, or what a receiver gets from Sesame): the
/// timestamp within five minutes of `now` (Unix seconds), and the signature, compared in constant
/// time.
pub fn verify_callback(
    secret: &SecretString,
    timestamp: &str,
    signature: &str,
    body: &[u8],
    now: i64,
) -> Result<(), CallbackError> {
    let sent: i64 = timestamp
        .trim()
        .parse()
        .map_err(|_| CallbackError::BadTimestamp)?;
    if (now - sent).abs() > CALLBACK_WINDOW_SECS {
        return Err(CallbackError::Stale);
    }
    let expected = signature
        .trim()
        .strip_prefix("v0=")
        .and_then(|h| hex::decode(h).ok())
        .ok_or(CallbackError::BadSignature)?;
    mac(secret, timestamp, body)
        .verify_slice(&expected)
        .map_err(|_| CallbackError::Mismatch)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_verify_within_the_window_only() {
        let secret = SecretString::from("s3cret");
        let body = br#"{"status":"done"}"#;
        let signature = sign_webhook(&secret, "1700000000", body);
        assert!(signature.starts_with("v0=") && signature.len() == 3 + 64);
        assert_eq!(
            verify_callback(&secret, "1700000000", &signature, body, 1_700_000_299),
            Ok(())
        );
        assert_eq!(
            verify_callback(&secret, "1700000000", &signature, body, 1_700_000_301),
            Err(CallbackError::Stale)
        );
        assert_eq!(
            verify_callback(&secret, "1700000000", &signature, b"{}", 1_700_000_000),
            Err(CallbackError::Mismatch)
        );
        let other = SecretString::from("other");
        assert_eq!(
            verify_callback(&other, "1700000000", &signature, body, 1_700_000_000),
            Err(CallbackError::Mismatch)
        );
        assert_eq!(
            verify_callback(&secret, "soon", &signature, body, 1_700_000_000),
            Err(CallbackError::BadTimestamp)
        );
        assert_eq!(
            verify_callback(&secret, "1700000000", "v1=00", body, 1_700_000_000),
            Err(CallbackError::BadSignature)
        );
    }
}
