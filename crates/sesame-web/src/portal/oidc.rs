//! The OpenID Connect relying party: discovery from the issuer's
//! `/.well-known/openid-configuration`, the authorization request (code flow with PKCE S256,
//! `state` and `nonce`), the code exchange at the token endpoint and the ID token's verification
//! against the provider's JWKS (see `id_token`; the keys are cached by `sesame_jwt::KeyCache`).
//! Works with any provider that signs ID tokens with RS256, which Okta, Entra ID, Google and Sign
//! in with Slack all do.

use super::id_token::{self, Expectations, IdTokenError};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use sesame_app::sessions::LoginSecrets;
use sesame_jwt::fetch::{get_json, read_json, FetchError, FETCH_TIMEOUT};
use sesame_jwt::{KeyCache, RefreshPolicy};
use std::time::{Duration, Instant};

/// Discovery documents are read again after this long.
const METADATA_MAX_AGE: Duration = Duration::from_secs(3600);
/// Keys are read again after an hour, and for an unknown key id at most every 30 seconds (also
/// after a failed read, so a provider that is down is not asked on every sign-in).
const KEY_REFRESH: RefreshPolicy = RefreshPolicy {
    max_age_seconds: 3600,
    min_refetch_interval_seconds: 30,
};
/// Clock skew tolerated between Sesame and the provider.
const LEEWAY_SECONDS: i64 = 120;

/// How the client authenticates at the token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenEndpointAuth {
    /// HTTP Basic with the client id and secret (the OAuth default).
    ClientSecretBasic,
    /// The client id and secret in the form body.
    ClientSecretPost,
}

/// What the binary reads from `[oidc]`.
#[derive(Debug, Clone)]
pub struct OidcSettings {
    /// The issuer exactly as the provider names itself (`https://accounts.google.com`).
    pub issuer: String,
    pub client_id: String,
    /// Absent for a public client (PKCE alone).
    pub client_secret: Option<SecretString>,
    pub token_auth: TokenEndpointAuth,
    /// `{public_url}/auth/callback`, registered with the provider.
    pub redirect_url: String,
    pub scopes: String,
    /// The claim whose value finds the person in the directory (`email` by default).
    pub claim: String,
}

#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    /// The provider could not be reached or answered nonsense: try again later.
    #[error("the sign-in provider is unavailable: {0}")]
    Unavailable(String),
    /// The provider refused, or what it sent does not verify.
    #[error("the sign-in was refused: {0}")]
    Refused(String),
}

#[derive(Debug, Clone)]
struct Metadata {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    jwks_uri: String,
}

pub struct OidcClient {
    settings: OidcSettings,
    http: reqwest::Client,
    metadata: tokio::sync::Mutex<Option<(Metadata, Instant)>>,
    keys: KeyCache,
}

impl OidcClient {
    pub fn new(settings: OidcSettings, http: reqwest::Client) -> Result<OidcClient, String> {
        for (name, url) in [
            ("issuer", &settings.issuer),
            ("redirect URL", &settings.redirect_url),
        ] {
            if !(url.starts_with("https://") || url.starts_with("http://")) {
                return Err(format!("the {name} {url:?} is not an http(s) URL"));
            }
        }
        if settings.client_id.trim().is_empty() {
            return Err(String::from("the client id is empty"));
        }
        if !settings.scopes.split_whitespace().any(|s| s == "openid") {
            return Err(String::from("the scopes must include openid"));
        }
        if settings.claim.trim().is_empty() {
            return Err(String::from("the claim that names the person is empty"));
        }
        Ok(OidcClient {
            settings,
            keys: KeyCache::new(http.clone(), KEY_REFRESH),
            http,
            metadata: tokio::sync::Mutex::new(None),
        })
    }

    pub fn settings(&self) -> &OidcSettings {
        &self.settings
    }

    /// Where to send the browser to sign in.
    pub async fn authorization_url(&self, secrets: &LoginSecrets) -> Result<String, OidcError> {
        let metadata = self.metadata().await?;
        let challenge = URL_SAFE_NO_PAD.encode(ring::digest::digest(
            &ring::digest::SHA256,
            secrets.pkce_verifier.as_bytes(),
        ));
        let query = form_urlencoded::Serializer::new(String::new())
            .append_pair("response_type", "code")
            .append_pair("client_id", &self.settings.client_id)
            .append_pair("redirect_uri", &self.settings.redirect_url)
            .append_pair("scope", &self.settings.scopes)
            .append_pair("state", &secrets.state)
            .append_pair("nonce", &secrets.nonce)
            .append_pair("code_challenge", &challenge)
            .append_pair("code_challenge_method", "S256")
            .finish();
        let separator = if metadata.authorization_endpoint.contains('?') {
            '&'
        } else {
            '?'
        };
        Ok(format!(
            "{}{separator}{query}",
            metadata.authorization_endpoint
        ))
    }

    /// Exchanges the authorization code (with the PKCE verifier) for tokens and returns the ID
    /// token's verified claims.
    pub async fn finish_sign_in(
        &self,
        code: &str,
        pkce_verifier: &str,
        nonce: &str,
    ) -> Result<Value, OidcError> {
        let metadata = self.metadata().await?;
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", self.settings.redirect_url.as_str()),
            ("code_verifier", pkce_verifier),
        ];
        let secret = self
            .settings
            .client_secret
            .as_ref()
            .map(|s| s.expose_secret().to_owned());
        let mut request = self
            .http
            .post(&metadata.token_endpoint)
            .timeout(FETCH_TIMEOUT)
            .header(reqwest::header::ACCEPT, "application/json");
        match (&secret, self.settings.token_auth) {
            (Some(secret), TokenEndpointAuth::ClientSecretBasic) => {
                // RFC 6749 2.3.1: both parts are form-encoded before they are joined.
                let id: String =
                    form_urlencoded::byte_serialize(self.settings.client_id.as_bytes()).collect();
                let secret: String = form_urlencoded::byte_serialize(secret.as_bytes()).collect();
                request = request.basic_auth(id, Some(secret));
            }
            (Some(secret), TokenEndpointAuth::ClientSecretPost) => {
                form.push(("client_id", self.settings.client_id.as_str()));
                form.push(("client_secret", secret.as_str()));
            }
            (None, _) => form.push(("client_id", self.settings.client_id.as_str())),
        }
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        let response = request
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .body(body)
            .send()
            .await
            .map_err(|e| OidcError::Unavailable(format!("token endpoint: {e}")))?;
        let status = response.status();
        let answer: Value = read_json(response, "token endpoint")
            .await
            .map_err(unavailable)?;
        if !status.is_success() {
            let error = answer.get("error").and_then(Value::as_str).unwrap_or("");
            return Err(OidcError::Refused(format!(
                "the token endpoint answered {} {error}",
                status.as_u16()
            )));
        }
        let id_token = answer
            .get("id_token")
            .and_then(Value::as_str)
            .ok_or_else(|| OidcError::Refused(String::from("the provider sent no ID token")))?;
        self.verify_id_token(&metadata, id_token, nonce).await
    }

    async fn verify_id_token(
        &self,
        metadata: &Metadata,
        token: &str,
        nonce: &str,
    ) -> Result<Value, OidcError> {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        let expected = Expectations {
            issuer: &metadata.issuer,
            client_id: &self.settings.client_id,
            nonce,
            now,
            leeway_seconds: LEEWAY_SECONDS,
        };
        // Keys that cannot be read are the provider's trouble (try later), not a refusal.
        match id_token::verify(token, &self.keys, &metadata.jwks_uri, expected).await {
            Ok(claims) => Ok(claims),
            Err(IdTokenError::KeysUnavailable(reason)) => Err(OidcError::Unavailable(reason)),
            Err(refused) => Err(OidcError::Refused(refused.to_string())),
        }
    }

    async fn metadata(&self) -> Result<Metadata, OidcError> {
        let mut cached = self.metadata.lock().await;
        if let Some((metadata, at)) = cached.as_ref() {
            if at.elapsed() < METADATA_MAX_AGE {
                return Ok(metadata.clone());
            }
        }
        let url = format!(
            "{}/.well-known/openid-configuration",
            self.settings.issuer.trim_end_matches('/')
        );
        let document: Value = get_json(&self.http, &url, "discovery document")
            .await
            .map_err(unavailable)?;
        let field = |name: &str| {
            document
                .get(name)
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| {
                    OidcError::Unavailable(format!("the discovery document has no {name}"))
                })
        };
        let metadata = Metadata {
            issuer: field("issuer")?,
            authorization_endpoint: field("authorization_endpoint")?,
            token_endpoint: field("token_endpoint")?,
            jwks_uri: field("jwks_uri")?,
        };
        // OpenID Connect Discovery 4.3: the document must be the configured issuer's own.
        if metadata.issuer.trim_end_matches('/') != self.settings.issuer.trim_end_matches('/') {
            return Err(OidcError::Unavailable(format!(
                "the discovery document names issuer {:?}, not the configured {:?}",
                metadata.issuer, self.settings.issuer
            )));
        }
        *cached = Some((metadata.clone(), Instant::now()));
        Ok(metadata)
    }
}

fn unavailable(error: FetchError) -> OidcError {
    OidcError::Unavailable(error.0)
}
