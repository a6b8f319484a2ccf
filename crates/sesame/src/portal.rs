//! The web portal's settings: `[portal]` (sessions, the demo sign-in) and `[oidc]` (the OpenID
//! Connect provider people sign in with), checked and turned into the portal the web layer serves.

use anyhow::{bail, Context};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use sesame_web::portal::{OidcClient, OidcSettings, Portal, PortalSettings, TokenEndpointAuth};

/// `[portal]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PortalConfig {
    /// Offers "sign in as ..." for every active person, to try Sesame out. Refused together with
    /// `[oidc]`: it lets anyone act as anyone.
    #[serde(default)]
    pub demo: bool,
    /// How long a portal sign-in lasts.
    #[serde(default = "default_session_hours")]
    pub session_hours: u32,
}

fn default_session_hours() -> u32 {
    8
}

impl Default for PortalConfig {
    fn default() -> Self {
        PortalConfig {
            demo: false,
            session_hours: default_session_hours(),
        }
    }
}

/// `[oidc]`: OpenID Connect sign-in, on when `issuer` is set.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OidcConfig {
    /// The issuer as the provider names itself, such as `https://accounts.google.com`,
    /// `https://example.okta.com`, `https://login.microsoftonline.com/<tenant>/v2.0` or
    /// `https://slack.com`. Discovery reads `<issuer>/.well-known/openid-configuration`.
    pub issuer: Option<String>,
    pub client_id: Option<String>,
    /// `SESAME__OIDC__CLIENT_SECRET` sets it from the environment.
    pub client_secret: Option<SecretString>,
    /// `client_secret_basic` (default) or `client_secret_post`.
    #[serde(default = "default_token_auth")]
    pub token_auth: String,
    #[serde(default = "default_scopes")]
    pub scopes: String,
    /// The ID token claim that finds the person in the directory (by email, else by id).
    #[serde(default = "default_claim")]
    pub claim: String,
    /// Where the provider sends people back; `<public_url>/auth/callback` by default. Register
    /// this URL with the provider.
    pub redirect_url: Option<String>,
}

fn default_token_auth() -> String {
    String::from("client_secret_basic")
}

fn default_scopes() -> String {
    String::from("openid email profile")
}

fn default_claim() -> String {
    String::from("email")
}

impl Default for OidcConfig {
    fn default() -> Self {
        OidcConfig {
            issuer: None,
            client_id: None,
            client_secret: None,
            token_auth: default_token_auth(),
            scopes: default_scopes(),
            claim: default_claim(),
            redirect_url: None,
        }
    }
}

impl OidcConfig {
    pub fn enabled(&self) -> bool {
        self.issuer.as_deref().is_some_and(|i| !i.trim().is_empty())
    }
}

/// Builds the portal from `[portal]` and `[oidc]`, refusing settings that cannot work together.
pub fn build(
    portal: &PortalConfig,
    oidc: &OidcConfig,
    public_url: &str,
) -> anyhow::Result<(Portal, String)> {
    if portal.demo && oidc.enabled() {
        bail!(
            "[portal] demo = true cannot be used together with [oidc]: the demo sign-in lets \
             anyone act as anyone. Remove `demo`, or remove the [oidc] section"
        );
    }
    if portal.session_hours == 0 || portal.session_hours > 24 * 30 {
        bail!("[portal] session_hours must be from 1 to 720");
    }
    let client = if oidc.enabled() {
        Some(oidc_client(oidc, public_url)?)
    } else {
        None
    };
    let summary = match (&client, portal.demo) {
        (Some(c), _) => format!(
            "the portal signs people in with OpenID Connect at {}",
            c.settings().issuer
        ),
        (None, true) => String::from(
            "the portal offers the DEMO sign-in ([portal] demo = true): anyone can act as anyone",
        ),
        (None, false) => {
            String::from("the portal has no sign-in configured ([oidc]); its pages say so")
        }
    };
    let portal = Portal::new(PortalSettings {
        public_url: public_url.to_owned(),
        session_lifetime_seconds: i64::from(portal.session_hours) * 3600,
        demo: portal.demo,
        oidc: client,
    })?;
    Ok((portal, summary))
}

fn oidc_client(oidc: &OidcConfig, public_url: &str) -> anyhow::Result<OidcClient> {
    let issuer = oidc
        .issuer
        .clone()
        .context("[oidc] issuer is required")?
        .trim()
        .to_owned();
    let client_id = oidc
        .client_id
        .clone()
        .filter(|c| !c.trim().is_empty())
        .context("[oidc] client_id is required when issuer is set")?;
    let token_auth = match oidc.token_auth.as_str() {
        "client_secret_basic" => TokenEndpointAuth::ClientSecretBasic,
        "client_secret_post" => TokenEndpointAuth::ClientSecretPost,
        other => {
            bail!("[oidc] token_auth {other:?} is not client_secret_basic or client_secret_post")
        }
    };
    let client_secret = oidc
        .client_secret
        .as_ref()
        .filter(|s| !s.expose_secret().trim().is_empty())
        .cloned();
    let redirect_url = oidc
        .redirect_url
        .clone()
        .unwrap_or_else(|| format!("{}/auth/callback", public_url.trim_end_matches('/')));
    let http = reqwest::Client::builder()
        .connect_timeout(std::time::Duration::from_secs(5))
        // The provider's endpoints come from its discovery document; never follow a redirect
        // to somewhere else with the client's secret.
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .context("cannot build the HTTP client for OpenID Connect")?;
    OidcClient::new(
        OidcSettings {
            issuer,
            client_id,
            client_secret,
            token_auth,
            redirect_url,
            scopes: oidc.scopes.clone(),
            claim: oidc.claim.clone(),
        },
        http,
    )
    .map_err(|e| anyhow::anyhow!("[oidc] is not usable: {e}"))
}

/// `sesame identities offer-link <platform> <account>`: prints the portal URL with which the
/// account's owner links it to themselves (`App::offer_chat_link`).
pub async fn offer_link(
    config: &crate::config::Config,
    app: &sesame_app::App,
    platform: &str,
    account: &str,
) -> anyhow::Result<std::process::ExitCode> {
    let url = app
        .offer_chat_link(platform, account, &config.server.public_url())
        .await?;
    println!("{url}");
    Ok(std::process::ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_mode_is_refused_with_openid_connect() {
        let portal = PortalConfig {
            demo: true,
            ..PortalConfig::default()
        };
        let oidc = OidcConfig {
            issuer: Some(String::from("https://id.example")),
            client_id: Some(String::from("sesame")),
            ..OidcConfig::default()
        };
        let error = build(&portal, &oidc, "https://sesame.example")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(error.contains("demo"), "{error}");
        assert!(build(&portal, &OidcConfig::default(), "http://localhost:8080").is_ok());
    }

    #[test]
    fn an_issuer_needs_a_client_id_and_a_known_token_auth() {
        let oidc = OidcConfig {
            issuer: Some(String::from("https://id.example")),
            ..OidcConfig::default()
        };
        assert!(build(&PortalConfig::default(), &oidc, "https://s.example").is_err());
        let oidc = OidcConfig {
            issuer: Some(String::from("https://id.example")),
            client_id: Some(String::from("sesame")),
            token_auth: String::from("private_key_jwt"),
            ..OidcConfig::default()
        };
        assert!(build(&PortalConfig::default(), &oidc, "https://s.example").is_err());
    }
}
