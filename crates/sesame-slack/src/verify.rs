//! Slack's request signing, version `v0`: every HTTP request Slack sends (events, slash commands,
//! interactivity, options) carries `X-Slack-Request-Timestamp` and
//! `X-Slack-Signature: v0=<hex HMAC-SHA256 of "v0:{timestamp}:{raw body}">`. Nothing else looks at
//! a request before [`verify`] has accepted it.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// How far Slack's timestamp may be from our clock, either way. A captured request replayed later
/// than this is refused; Slack's SDKs use the same five minutes.
pub const MAX_CLOCK_SKEW_SECONDS: i64 = 5 * 60;

const VERSION_PREFIX: &str = "v0=";

/// Why a request was refused. The web layer answers 401 for all of them and logs the variant.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("no signing secret is configured")]
    NoSecret,
    #[error("the X-Slack-Request-Timestamp header is missing")]
    MissingTimestamp,
    #[error("the X-Slack-Signature header is missing")]
    MissingSignature,
    #[error("the request timestamp is not a number of seconds")]
    MalformedTimestamp,
    #[error("the signature is not `v0=` followed by 64 hexadecimal digits")]
    MalformedSignature,
    #[error("the request timestamp {timestamp} is more than five minutes from now ({now})")]
    Stale { timestamp: i64, now: i64 },
    #[error("the signature does not match the request")]
    Mismatch,
}

/// Checks a request's signature against the raw body bytes exactly as received (re-encoding the body
/// first would change the bytes and the signature).
pub fn verify(
    signing_secret: &[u8],
    timestamp_header: Option<&str>,
    signature_header: Option<&str>,
    body: &[u8],
    now_unix_seconds: i64,
) -> Result<(), SignatureError> {
    // An empty secret is one everybody knows: refuse rather than accept forged requests.
    if signing_secret.is_empty() {
        return Err(SignatureError::NoSecret);
    }
    let timestamp_text = timestamp_header.ok_or(SignatureError::MissingTimestamp)?;
    let timestamp = parse_timestamp(timestamp_text)?;
    let signature_text = signature_header.ok_or(SignatureError::MissingSignature)?;
    let expected = parse_signature(signature_text)?;
    if now_unix_seconds.abs_diff(timestamp) > MAX_CLOCK_SKEW_SECONDS.unsigned_abs() {
        return Err(SignatureError::Stale {
            timestamp,
            now: now_unix_seconds,
        });
    }
    let mac = keyed_mac(signing_secret, timestamp_text, body)?;
    // `verify_slice` compares in constant time, so timing does not reveal how much of a forged
    // signature was right.
    mac.verify_slice(&expected)
        .map_err(|_| SignatureError::Mismatch)
}

/// The `X-Slack-Signature` value Slack would send for this body and timestamp; for tests and the
/// test driver that plays Slack.
pub fn sign(signing_secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    match keyed_mac(signing_secret, &timestamp.to_string(), body) {
        Ok(mac) => format!(
            "{VERSION_PREFIX}{}",
            hex::encode(mac.finalize().into_bytes())
        ),
        // HMAC takes keys of any length, so this arm is never taken; an empty string is a
        // signature no request can match.
        Err(_) => String::new(),
    }
}

fn keyed_mac(
    signing_secret: &[u8],
    timestamp_text: &str,
    body: &[u8],
) -> Result<Hmac<Sha256>, SignatureError> {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(signing_secret).map_err(|_| SignatureError::NoSecret)?;
    mac.update(b"v0:");
    mac.update(timestamp_text.as_bytes());
    mac.update(b":");
    mac.update(body);
    Ok(mac)
}

/// Only plain digits: the text is hashed as sent, so `+12` or ` 12` must not pass as 12.
fn parse_timestamp(text: &str) -> Result<i64, SignatureError> {
    if text.is_empty() || text.len() > 18 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(SignatureError::MalformedTimestamp);
    }
    text.parse().map_err(|_| SignatureError::MalformedTimestamp)
}

fn parse_signature(text: &str) -> Result<Vec<u8>, SignatureError> {
    let digits = text
        .strip_prefix(VERSION_PREFIX)
        .ok_or(SignatureError::MalformedSignature)?;
    if digits.len() != 64 {
        return Err(SignatureError::MalformedSignature);
    }
    hex::decode(digits).map_err(|_| SignatureError::MalformedSignature)
}

#[cfg(test)]
mod tests {
    use super::*;

    // Slack's known-answer vector, as slack-morphism and slack_sdk both test it
    // (chat-protocols.md §1).
    const SECRET: &[u8] = b"fa2c05deeef5a4077494e89f54394de0";
    const TIMESTAMP: &str = "1531420618";
    const BODY: &[u8] = b"test-body";
    const SIGNATURE: &str = "v0=baa91ef62d346e56607bbdd278a8acd570b91226854f15a382f43d33be42f666";
    const NOW: i64 = 1_531_420_618;

    fn check(
        timestamp: Option<&str>,
        signature: Option<&str>,
        body: &[u8],
        now: i64,
    ) -> Result<(), SignatureError> {
        verify(SECRET, timestamp, signature, body, now)
    }

    #[test]
    fn slacks_documented_example_signs_and_verifies() {
        assert_eq!(sign(SECRET, NOW, BODY), SIGNATURE);
        assert_eq!(check(Some(TIMESTAMP), Some(SIGNATURE), BODY, NOW), Ok(()));
        // Within the window on either side.
        assert_eq!(
            check(Some(TIMESTAMP), Some(SIGNATURE), BODY, NOW + 300),
            Ok(())
        );
        assert_eq!(
            check(Some(TIMESTAMP), Some(SIGNATURE), BODY, NOW - 300),
            Ok(())
        );
    }

    #[test]
    fn tampered_bodies_timestamps_and_signatures_are_refused() {
        assert_eq!(
            check(Some(TIMESTAMP), Some(SIGNATURE), b"test-bodz", NOW),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            check(Some("1531420619"), Some(SIGNATURE), BODY, NOW),
            Err(SignatureError::Mismatch)
        );
        let flipped = SIGNATURE.replace("baa9", "baa8");
        assert_eq!(
            check(Some(TIMESTAMP), Some(&flipped), BODY, NOW),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(
                b"another-secret",
                Some(TIMESTAMP),
                Some(SIGNATURE),
                BODY,
                NOW
            ),
            Err(SignatureError::Mismatch)
        );
        let upper = SIGNATURE.to_uppercase().replace("V0=", "v0=");
        assert_eq!(
            check(Some(TIMESTAMP), Some(&upper), BODY, NOW),
            Ok(()),
            "hex is case-insensitive"
        );
    }

    #[test]
    fn old_and_future_timestamps_are_refused_even_when_correctly_signed() {
        for now in [NOW + 301, NOW - 301, NOW + 86_400] {
            assert_eq!(
                check(Some(TIMESTAMP), Some(SIGNATURE), BODY, now),
                Err(SignatureError::Stale {
                    timestamp: NOW,
                    now
                }),
            );
        }
        let old = NOW - 3600;
        let signed = sign(SECRET, old, BODY);
        assert!(matches!(
            check(Some(&old.to_string()), Some(&signed), BODY, NOW),
            Err(SignatureError::Stale { .. })
        ));
    }

    #[test]
    fn missing_and_malformed_headers_are_refused() {
        assert_eq!(
            check(None, Some(SIGNATURE), BODY, NOW),
            Err(SignatureError::MissingTimestamp)
        );
        assert_eq!(
            check(Some(TIMESTAMP), None, BODY, NOW),
            Err(SignatureError::MissingSignature)
        );
        for bad in [
            "",
            "abc",
            "-1531420618",
            "+1531420618",
            " 1531420618",
            "1531420618.5",
            "99999999999999999999",
        ] {
            assert_eq!(
                check(Some(bad), Some(SIGNATURE), BODY, NOW),
                Err(SignatureError::MalformedTimestamp),
                "{bad:?}"
            );
        }
        let short = &SIGNATURE[..SIGNATURE.len() - 2];
        let not_hex = SIGNATURE.replace('b', "g");
        let v1 = SIGNATURE.replace("v0=", "v1=");
        for bad in ["", "v0=", short, &not_hex, &v1, &SIGNATURE[3..]] {
            assert_eq!(
                check(Some(TIMESTAMP), Some(bad), BODY, NOW),
                Err(SignatureError::MalformedSignature),
                "{bad:?}"
            );
        }
        assert_eq!(
            verify(b"", Some(TIMESTAMP), Some(SIGNATURE), BODY, NOW),
            Err(SignatureError::NoSecret)
        );
    }

    #[test]
    fn signatures_cover_arbitrary_binary_bodies() {
        let body = [0u8, 255, 10, 13, 0xF0, 0x9F];
        let signed = sign(SECRET, NOW, &body);
        assert_eq!(check(Some(TIMESTAMP), Some(&signed), &body, NOW), Ok(()));
        assert_eq!(
            check(Some(TIMESTAMP), Some(&signed), &body[..5], NOW),
            Err(SignatureError::Mismatch)
        );
    }
}
