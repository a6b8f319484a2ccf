//! Inbound authentication: every call Bot Framework makes to `POST /teams/messages` carries
//! `Authorization: Bearer <JWT>`. [`BotAuth`] accepts it only when it is signed (RS256) by a key from
//! Bot Framework's OpenID metadata, issued by Bot Framework, meant for this app, within its lifetime
//! (five minutes of leeway), for the activity's own `serviceUrl`, and signed with a key endorsed
//! for the activity's channel. Nothing else in Sesame reads an activity before this has accepted
//! it, and nothing here panics on input.
//!
//! Decoding, the signature, the registered claims and the key cache are `sesame_jwt`'s, shared
//! with the portal's ID tokens; what is Bot Framework's own (the `serviceurl` claim and the keys'
//! `endorsements`) is checked here.
//!
//! [`InboundAuth::loopback_without_auth`] is the development mode for local tools (the Agents
//! Playground), which cannot sign: off unless asked for, refused unless Sesame listens on a loopback
//! address only, and refused for callers that are not on loopback.

mod dev;

pub use dev::{DevModeRefused, InboundAuth};

use crate::activity::Activity;
use serde_json::Value;
use sesame_jwt::{
    ClaimChecks, Jwk, JwtError, KeyCache, KeyId, KeySource, RefreshPolicy, Rules, RSA_ALGORITHMS,
};
use std::net::IpAddr;
use std::time::{SystemTime, UNIX_EPOCH};

/// Where Bot Framework publishes the keys it signs calls to bots with.
pub const DEFAULT_OPENID_METADATA_URL: &str =
    "https://login.botframework.com/v1/.well-known/openidconfiguration";
/// The issuer of tokens the Bot Connector service sends to bots.
pub const DEFAULT_ISSUER: &str = "https://api.botframework.com";
/// The clock skew Bot Framework's SDKs tolerate either way.
pub const LEEWAY_SECONDS: i64 = 5 * 60;
/// Keys are fetched again after this long even when every `kid` is known, so a key Microsoft
/// withdrew stops being accepted within a day.
pub const KEY_MAX_AGE_SECONDS: i64 = 24 * 60 * 60;
/// An unknown `kid` (a rotation, or a forged token) fetches the keys again at most this often, so
/// forged tokens cannot make Sesame hammer the metadata endpoint.
pub const UNKNOWN_KID_REFRESH_SECONDS: i64 = 60;

/// What Bot Framework's SDKs accept: RS256 (what Teams signs with), RS384 and RS512, and always a
/// `kid`. Bot Framework tokens are about 1.5 KB; a longer bearer token is refused before decoding.
const TOKEN_RULES: Rules = Rules {
    algorithms: RSA_ALGORITHMS,
    key_id: KeyId::Required,
    max_bytes: 16 * 1024,
};

/// How the web layer should answer a refusal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthFailure {
    /// No or an invalid token: 401.
    Unauthenticated,
    /// A valid token whose key is not endorsed for the channel: 403, as Bot Framework documents.
    Forbidden,
    /// The signing keys could not be fetched: 503, so Bot Framework retries later.
    Unavailable,
}

/// Why a call was refused; one variant per check, so logs say which check failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("no Authorization header")]
    MissingHeader,
    #[error("the Authorization header is not `Bearer <token>`")]
    NotBearer,
    #[error("the token is malformed: {0}")]
    Malformed(String),
    #[error("the token's algorithm {0:?} is not accepted")]
    UnsupportedAlgorithm(String),
    #[error("the token names no signing key (`kid`)")]
    MissingKeyId,
    #[error("the token's signing key {0:?} is not among Bot Framework's keys")]
    UnknownKey(String),
    #[error("Bot Framework's signing keys are unavailable: {0}")]
    KeysUnavailable(String),
    #[error("the token's signature does not verify")]
    BadSignature,
    #[error("the token's issuer {0:?} is not accepted")]
    WrongIssuer(Option<String>),
    #[error("the token is for {0:?}, not this app")]
    WrongAudience(Vec<String>),
    #[error("the token has no expiry")]
    MissingExpiry,
    #[error("the token expired at {expired_at} (now {now})")]
    Expired { expired_at: i64, now: i64 },
    #[error("the token is not valid before {not_before} (now {now})")]
    NotYetValid { not_before: i64, now: i64 },
    #[error("the token has no serviceurl claim")]
    MissingServiceUrl,
    #[error("the token is for service URL {claimed:?}, the activity says {activity:?}")]
    ServiceUrlMismatch { claimed: String, activity: String },
    #[error("the signing key {key_id:?} is not endorsed for channel {channel_id:?}")]
    EndorsementMissing { key_id: String, channel_id: String },
    #[error("unauthenticated development mode refuses calls from {0}, which is not loopback")]
    NotLoopback(IpAddr),
}

impl AuthError {
    pub fn failure(&self) -> AuthFailure {
        match self {
            AuthError::EndorsementMissing { .. } => AuthFailure::Forbidden,
            AuthError::KeysUnavailable(_) => AuthFailure::Unavailable,
            _ => AuthFailure::Unauthenticated,
        }
    }
}

/// The shared checks keep their own variant here, so callers and logs see one `AuthError` per
/// failed check whichever crate ran it.
impl From<JwtError> for AuthError {
    fn from(error: JwtError) -> AuthError {
        match error {
            JwtError::Malformed(reason) => AuthError::Malformed(reason),
            JwtError::UnsupportedAlgorithm(alg) => AuthError::UnsupportedAlgorithm(alg),
            JwtError::MissingKeyId => AuthError::MissingKeyId,
            JwtError::UnknownKey(kid) => AuthError::UnknownKey(kid),
            JwtError::KeysUnavailable(reason) => AuthError::KeysUnavailable(reason),
            JwtError::BadSignature => AuthError::BadSignature,
            JwtError::WrongIssuer(issuer) => AuthError::WrongIssuer(issuer),
            JwtError::WrongAudience(audiences) => AuthError::WrongAudience(audiences),
            JwtError::MissingExpiry => AuthError::MissingExpiry,
            JwtError::Expired { expired_at, now } => AuthError::Expired { expired_at, now },
            JwtError::NotYetValid { not_before, now } => AuthError::NotYetValid { not_before, now },
        }
    }
}

/// The configuration is unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid Teams authentication setting: {0}")]
pub struct InvalidAuthConfig(pub String);

/// What [`BotAuth`] checks against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BotAuthConfig {
    /// The bot's Microsoft App ID: the audience tokens must carry.
    pub app_id: String,
    pub openid_metadata_url: String,
    /// Accepted issuers; Bot Framework's by default.
    pub issuers: Vec<String>,
}

impl BotAuthConfig {
    /// Bot Framework's public cloud, for this app.
    pub fn new(app_id: impl Into<String>) -> BotAuthConfig {
        BotAuthConfig {
            app_id: app_id.into(),
            openid_metadata_url: DEFAULT_OPENID_METADATA_URL.to_owned(),
            issuers: vec![DEFAULT_ISSUER.to_owned()],
        }
    }

    pub fn with_openid_metadata_url(mut self, url: impl Into<String>) -> BotAuthConfig {
        self.openid_metadata_url = url.into();
        self
    }

    pub fn with_issuers(mut self, issuers: Vec<String>) -> BotAuthConfig {
        self.issuers = issuers;
        self
    }
}

/// Who called, once [`BotAuth`] has accepted the token.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedCaller {
    pub service_url: String,
    pub channel_id: String,
    /// Every claim as sent, for logs and later checks.
    pub claims: Value,
}

/// Verifies inbound tokens. One per process: it caches the signing keys, and concurrent
/// verifications wait for one fetch instead of each fetching.
#[derive(Debug)]
pub struct BotAuth {
    config: BotAuthConfig,
    keys: KeyCache,
}

impl BotAuth {
    pub fn new(config: BotAuthConfig, http: reqwest::Client) -> Result<BotAuth, InvalidAuthConfig> {
        if config.app_id.trim().is_empty() {
            return Err(InvalidAuthConfig("the app id is empty".to_owned()));
        }
        if config.issuers.iter().all(|issuer| issuer.trim().is_empty()) {
            return Err(InvalidAuthConfig("no issuer is accepted".to_owned()));
        }
        match reqwest::Url::parse(&config.openid_metadata_url) {
            Ok(url) if matches!(url.scheme(), "http" | "https") => {}
            _ => {
                return Err(InvalidAuthConfig(format!(
                    "the OpenID metadata URL {:?} is not an http(s) URL",
                    config.openid_metadata_url
                )))
            }
        }
        Ok(BotAuth {
            config,
            keys: KeyCache::new(
                http,
                RefreshPolicy {
                    max_age_seconds: KEY_MAX_AGE_SECONDS,
                    min_refetch_interval_seconds: UNKNOWN_KID_REFRESH_SECONDS,
                },
            ),
        })
    }

    pub fn config(&self) -> &BotAuthConfig {
        &self.config
    }

    /// Verifies the `Authorization` header of a call that carried `activity`, against the system
    /// clock.
    pub async fn verify(
        &self,
        authorization: Option<&str>,
        activity: &Activity,
    ) -> Result<VerifiedCaller, AuthError> {
        self.verify_at(
            authorization,
            &activity.service_url,
            &activity.channel_id,
            unix_now(),
        )
        .await
    }

    /// [`BotAuth::verify`] with the activity's `serviceUrl` and `channelId` and the time given:
    /// `now` is wall-clock Unix seconds, and also paces the key cache's refreshes.
    pub async fn verify_at(
        &self,
        authorization: Option<&str>,
        service_url: &str,
        channel_id: &str,
        now: i64,
    ) -> Result<VerifiedCaller, AuthError> {
        let token = bearer_token(authorization)?;
        let token = sesame_jwt::decode(token, &TOKEN_RULES)?;
        let candidates = self
            .keys
            .keys_for(
                KeySource::OpenIdMetadata(&self.config.openid_metadata_url),
                token.kid(),
                now,
            )
            .await?;
        let signing_key = token.verify_signature(&candidates)?;
        sesame_jwt::check_claims(
            &token.claims,
            &ClaimChecks {
                issuers: &self.config.issuers,
                audience: &self.config.app_id,
                leeway_seconds: LEEWAY_SECONDS,
                now,
            },
        )?;
        check_service_url(&token.claims.raw, service_url)?;
        if channel_id.is_empty() || !endorsements(signing_key).any(|channel| channel == channel_id)
        {
            return Err(AuthError::EndorsementMissing {
                key_id: token.key_id.unwrap_or_default(),
                channel_id: channel_id.to_owned(),
            });
        }
        Ok(VerifiedCaller {
            service_url: service_url.to_owned(),
            channel_id: channel_id.to_owned(),
            claims: token.claims.raw,
        })
    }
}

/// The `serviceurl` claim (Bot Framework's SDKs spell it in lower case; `serviceUrl` is read too)
/// must name the activity's own `serviceUrl`, so a token cannot be replayed to make Sesame write
/// to another service.
fn check_service_url(claims: &Value, activity_service_url: &str) -> Result<(), AuthError> {
    let claimed = ["serviceurl", "serviceUrl"]
        .iter()
        .find_map(|key| claims.get(key).and_then(Value::as_str));
    match claimed {
        None => Err(AuthError::MissingServiceUrl),
        Some(claimed) if claimed == activity_service_url => Ok(()),
        Some(claimed) => Err(AuthError::ServiceUrlMismatch {
            claimed: claimed.to_owned(),
            activity: activity_service_url.to_owned(),
        }),
    }
}

/// The channels Bot Framework endorsed a key for (its JWKs' `endorsements` member).
fn endorsements(key: &Jwk) -> impl Iterator<Item = &str> {
    key.raw
        .get("endorsements")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
}

fn bearer_token(authorization: Option<&str>) -> Result<&str, AuthError> {
    let header = authorization.ok_or(AuthError::MissingHeader)?.trim();
    let (scheme, token) = header.split_once(' ').ok_or(AuthError::NotBearer)?;
    let token = token.trim();
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() {
        return Err(AuthError::NotBearer);
    }
    Ok(token)
}

pub(crate) fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| i64::try_from(elapsed.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_header_must_be_a_bearer_token() {
        assert_eq!(bearer_token(None), Err(AuthError::MissingHeader));
        assert_eq!(bearer_token(Some("Basic abc")), Err(AuthError::NotBearer));
        assert_eq!(bearer_token(Some("Bearer")), Err(AuthError::NotBearer));
        assert_eq!(bearer_token(Some("Bearer   ")), Err(AuthError::NotBearer));
        assert_eq!(bearer_token(Some("bearer a.b.c")), Ok("a.b.c"));
    }

    #[test]
    fn the_service_url_claim_must_name_the_activitys() {
        let service = "https://smba.trafficmanager.net/emea/";
        assert_eq!(
            check_service_url(&json!({ "serviceurl": service }), service),
            Ok(())
        );
        assert_eq!(
            check_service_url(&json!({ "serviceUrl": service }), service),
            Ok(())
        );
        assert_eq!(
            check_service_url(&json!({ "serviceurl": "https://evil.example/" }), service),
            Err(AuthError::ServiceUrlMismatch {
                claimed: "https://evil.example/".into(),
                activity: service.into(),
            })
        );
        assert_eq!(
            check_service_url(&json!({ "serviceurl": null }), service),
            Err(AuthError::MissingServiceUrl)
        );
        assert_eq!(
            check_service_url(&json!({}), service),
            Err(AuthError::MissingServiceUrl)
        );
    }

    #[test]
    fn endorsements_are_read_from_the_key() {
        let keys = sesame_jwt::parse_key_set(&json!({ "keys": [
            { "kty": "RSA", "kid": "a", "n": "AQAB", "e": "AQAB", "endorsements": ["msteams", 7, "webchat"] },
            { "kty": "RSA", "kid": "b", "n": "AQAB", "e": "AQAB" },
        ]}));
        assert_eq!(
            endorsements(&keys[0]).collect::<Vec<_>>(),
            ["msteams", "webchat"]
        );
        assert_eq!(endorsements(&keys[1]).count(), 0);
    }

    #[test]
    fn shared_refusals_keep_their_own_variant() {
        assert_eq!(
            AuthError::from(JwtError::Expired {
                expired_at: 1,
                now: 2
            }),
            AuthError::Expired {
                expired_at: 1,
                now: 2
            }
        );
        assert_eq!(
            AuthError::from(JwtError::UnknownKey("k".into())),
            AuthError::UnknownKey("k".into())
        );
        assert_eq!(
            AuthError::from(JwtError::KeysUnavailable("down".into())).failure(),
            AuthFailure::Unavailable
        );
    }

    #[test]
    fn refusals_map_to_how_the_web_layer_answers() {
        assert_eq!(
            AuthError::BadSignature.failure(),
            AuthFailure::Unauthenticated
        );
        let endorsement = AuthError::EndorsementMissing {
            key_id: "k".into(),
            channel_id: "msteams".into(),
        };
        assert_eq!(endorsement.failure(), AuthFailure::Forbidden);
        assert_eq!(
            AuthError::KeysUnavailable("down".into()).failure(),
            AuthFailure::Unavailable
        );
    }

    #[test]
    fn configuration_is_checked() {
        let http = reqwest::Client::new();
        assert!(BotAuth::new(BotAuthConfig::new(""), http.clone()).is_err());
        let ftp = BotAuthConfig::new("app").with_openid_metadata_url("ftp://example.test/");
        assert!(BotAuth::new(ftp, http.clone()).is_err());
        let no_issuer = BotAuthConfig::new("app").with_issuers(Vec::new());
        assert!(BotAuth::new(no_issuer, http.clone()).is_err());
        let auth = BotAuth::new(BotAuthConfig::new("app"), http).unwrap();
        assert_eq!(auth.config().issuers, [DEFAULT_ISSUER]);
    }
}
