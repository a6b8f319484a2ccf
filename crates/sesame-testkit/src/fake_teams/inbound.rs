//! Inbound tokens as Bot Framework signs them, and the ways a test forges them.

use std::time::{SystemTime, UNIX_EPOCH};

/// Which key signs a token, and under which key id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenKey {
    /// The fake's served key, endorsed for the channels it signed for: a genuine token.
    Served,
    /// Another key, under the served key's id: a forged signature.
    Forged,
    /// A served key that is endorsed for no channel.
    Unendorsed,
    /// The key that [`super::FakeTeams::rotate_keys`] starts serving; unknown before that.
    Rotated,
    /// A key id the fake never serves.
    UnknownKid(String),
}

/// What a token says; [`super::FakeTeams::sign`] signs it. Start from [`InboundToken::new`], a
/// genuine token, and change one thing to forge one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundToken {
    pub issuer: String,
    pub audience: String,
    /// The `serviceurl` claim; `None` leaves it out.
    pub service_url: Option<String>,
    /// Unix seconds; now unless set.
    pub issued_at: i64,
    pub lifetime_seconds: i64,
    pub key: TokenKey,
}

pub(super) fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs() as i64)
        .unwrap_or(0)
}

impl InboundToken {
    /// A genuine token for this app and service URL, valid for an hour from now.
    pub fn new(app_id: &str, service_url: &str) -> InboundToken {
        InboundToken {
            issuer: sesame_teams::auth::DEFAULT_ISSUER.to_owned(),
            audience: app_id.to_owned(),
            service_url: Some(service_url.to_owned()),
            issued_at: unix_now(),
            lifetime_seconds: 3600,
            key: TokenKey::Served,
        }
    }

    /// Expired `seconds_ago` (more than the five minutes of leeway makes it refused).
    pub fn expired(mut self, seconds_ago: i64) -> InboundToken {
        self.issued_at = unix_now() - seconds_ago - self.lifetime_seconds;
        self
    }

    pub fn issued_at(mut self, unix_seconds: i64) -> InboundToken {
        self.issued_at = unix_seconds;
        self
    }

    pub fn lifetime(mut self, seconds: i64) -> InboundToken {
        self.lifetime_seconds = seconds;
        self
    }

    pub fn audience(mut self, audience: &str) -> InboundToken {
        self.audience = audience.to_owned();
        self
    }

    pub fn issuer(mut self, issuer: &str) -> InboundToken {
        self.issuer = issuer.to_owned();
        self
    }

    pub fn service_url(mut self, service_url: Option<&str>) -> InboundToken {
        self.service_url = service_url.map(str::to_owned);
        self
    }

    pub fn key(mut self, key: TokenKey) -> InboundToken {
        self.key = key;
        self
    }

    pub(super) fn claims(&self) -> serde_json::Value {
        let mut claims = serde_json::json!({
            "iss": self.issuer,
            "aud": self.audience,
            "iat": self.issued_at,
            "nbf": self.issued_at,
            "exp": self.issued_at + self.lifetime_seconds,
        });
        if let Some(service_url) = &self.service_url {
            claims["serviceurl"] = serde_json::Value::from(service_url.as_str());
        }
        claims
    }
}
