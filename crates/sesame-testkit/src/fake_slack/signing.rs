//! Signs inbound calls the way Slack does, so tests can drive Sesame's Slack endpoints.
//!
//! This is written from Slack's documentation, independently of `sesame_slack::verify`, so that a
//! mistake there cannot be mirrored here and hidden.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::time::{SystemTime, UNIX_EPOCH};

/// The `X-Slack-Request-Timestamp` and `X-Slack-Signature` headers for `body`, signed now.
pub fn sign_request(signing_secret: &str, body: impl AsRef<[u8]>) -> (String, String) {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs());
    sign_request_at(signing_secret, now, body)
}

/// The same headers for a chosen timestamp (Unix seconds), to test the replay window.
pub fn sign_request_at(
    signing_secret: &str,
    timestamp: u64,
    body: impl AsRef<[u8]>,
) -> (String, String) {
    let timestamp = timestamp.to_string();
    let mut mac = Hmac::<Sha256>::new_from_slice(signing_secret.as_bytes())
        .expect("HMAC accepts keys of any length, the empty key included");
    mac.update(b"v0:");
    mac.update(timestamp.as_bytes());
    mac.update(b":");
    mac.update(body.as_ref());
    let signature = format!("v0={}", hex::encode(mac.finalize().into_bytes()));
    (timestamp, signature)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The worked example from Slack's "Verifying requests from Slack" guide.
    #[test]
    fn matches_slacks_documented_example() {
        let body = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
        let (timestamp, signature) =
            sign_request_at("8f742231b10e8888abcd99yyyzzz85a5", 1531420618, body);
        assert_eq!(timestamp, "1531420618");
        assert_eq!(
            signature,
            "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
        );
    }

    #[test]
    fn signing_now_uses_the_current_time() {
        let (timestamp, signature) = sign_request("secret", "{}");
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let signed_at: u64 = timestamp.parse().unwrap();
        assert!(now.abs_diff(signed_at) <= 1);
        assert_eq!(signature, sign_request_at("secret", signed_at, "{}").1);
    }
}
