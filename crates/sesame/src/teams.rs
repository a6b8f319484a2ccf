//! Wiring the Teams app from `[teams]`: inbound authentication (Bot Framework's tokens, or the
//! loopback development mode), the bot's token client and Bot Connector, the notifier that
//! delivers notices, and the inbound handlers behind `/teams/messages`.

use crate::config::Config;
use anyhow::{bail, Context};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use sesame_app::{App, Catalog};
use sesame_teams::auth::{DEFAULT_ISSUER, DEFAULT_OPENID_METADATA_URL};
use sesame_teams::connector::DEFAULT_ALLOWED_HOSTS;
use sesame_teams::handlers::{AppConversationBook, TeamsInbound};
use sesame_teams::notifier::FlowLookup;
use sesame_teams::token::DEFAULT_TOKEN_URL;
use sesame_teams::{
    AllowedHosts, BotAuth, BotAuthConfig, BotConnector, InboundAuth, TeamsNotifier, TokenClient,
    TokenConfig,
};
use std::net::SocketAddr;
use std::sync::Arc;

/// The Teams app: on when `app_id` is set. Bot Framework sends activities to
/// `{public_url}/teams/messages`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TeamsConfig {
    /// The bot's Microsoft App ID (the Azure Bot's or the Teams Developer Portal's).
    pub app_id: Option<String>,
    /// The bot's client secret; `SESAME__TEAMS__APP_PASSWORD` sets it from the environment.
    pub app_password: Option<SecretString>,
    /// Where the bot gets its own tokens. A single-tenant bot puts its tenant id in place of
    /// `botframework.com`.
    #[serde(default = "default_token_url")]
    pub token_url: String,
    /// Where Bot Framework publishes the keys inbound calls are signed with.
    #[serde(default = "default_openid_metadata_url")]
    pub openid_metadata_url: String,
    /// Accepted issuers of inbound tokens.
    #[serde(default = "default_issuers")]
    pub issuers: Vec<String>,
    /// The hosts the bot's token may be sent to (an activity's `serviceUrl`); `*.` for
    /// subdomains.
    #[serde(default = "default_allowed_hosts")]
    pub allowed_service_hosts: Vec<String>,
    /// Accept calls without a token, for the Microsoft 365 Agents Playground on this machine.
    /// Refused unless `[server] listen` is a loopback address and no `app_password` is set.
    #[serde(default)]
    pub development_without_auth: bool,
    /// The app's name in the Teams package (`sesame teams package`).
    #[serde(default = "default_app_name")]
    pub app_name: String,
    /// The Teams app's own id in the package (a GUID); the bot id when unset.
    pub package_id: Option<String>,
}

fn default_token_url() -> String {
    DEFAULT_TOKEN_URL.to_owned()
}

fn default_openid_metadata_url() -> String {
    DEFAULT_OPENID_METADATA_URL.to_owned()
}

fn default_issuers() -> Vec<String> {
    vec![DEFAULT_ISSUER.to_owned()]
}

fn default_allowed_hosts() -> Vec<String> {
    DEFAULT_ALLOWED_HOSTS
        .iter()
        .map(|h| (*h).to_owned())
        .collect()
}

fn default_app_name() -> String {
    String::from("Sesame")
}

impl Default for TeamsConfig {
    fn default() -> Self {
        TeamsConfig {
            app_id: None,
            app_password: None,
            token_url: default_token_url(),
            openid_metadata_url: default_openid_metadata_url(),
            issuers: default_issuers(),
            allowed_service_hosts: default_allowed_hosts(),
            development_without_auth: false,
            app_name: default_app_name(),
            package_id: None,
        }
    }
}

impl TeamsConfig {
    /// The app id when Teams is on.
    pub fn app_id(&self) -> Option<&str> {
        self.app_id
            .as_deref()
            .map(str::trim)
            .filter(|id| !id.is_empty())
    }

    fn password(&self) -> Option<&SecretString> {
        self.app_password
            .as_ref()
            .filter(|p| !p.expose_secret().trim().is_empty())
    }
}

/// The parts built before the application exists.
pub struct TeamsParts {
    pub notifier: Arc<TeamsNotifier>,
    auth: InboundAuth,
    connector: BotConnector,
    book: Arc<AppConversationBook>,
    portal_url: String,
    listen: SocketAddr,
}

impl TeamsParts {
    /// `None` when Teams is not configured. `listen` is the address Sesame is bound to.
    pub fn build(
        config: &Config,
        catalog: &Catalog,
        portal_url: &str,
        listen: SocketAddr,
    ) -> anyhow::Result<Option<TeamsParts>> {
        let teams = &config.teams;
        let Some(app_id) = teams.app_id() else {
            if teams.password().is_some() || teams.development_without_auth {
                bail!("[teams] needs app_id");
            }
            return Ok(None);
        };
        let http = reqwest::Client::builder()
            .connect_timeout(std::time::Duration::from_secs(5))
            .build()
            .context("cannot build the HTTP client for Teams")?;
        let hosts = AllowedHosts::new(&teams.allowed_service_hosts)
            .context("[teams] allowed_service_hosts")?;
        let (auth, connector) = if teams.development_without_auth {
            let auth = InboundAuth::loopback_without_auth(listen, teams.password().is_some())
                .context("[teams] development_without_auth")?;
            (auth, BotConnector::without_token(hosts, http))
        } else {
            let password = teams
                .password()
                .cloned()
                .context("[teams] needs app_password (or development_without_auth on loopback)")?;
            let auth_config = BotAuthConfig::new(app_id)
                .with_openid_metadata_url(&teams.openid_metadata_url)
                .with_issuers(teams.issuers.clone());
            let auth = BotAuth::new(auth_config, http.clone()).context("[teams]")?;
            let tokens = TokenClient::new(
                TokenConfig::new(app_id, password).with_token_url(&teams.token_url),
                http.clone(),
            );
            (
                InboundAuth::Verified(Arc::new(auth)),
                BotConnector::new(Arc::new(tokens), hosts, http),
            )
        };
        let book = Arc::new(AppConversationBook::default());
        let catalog = Arc::new(catalog.clone());
        let flows: FlowLookup = Arc::new(move |id| catalog.get(id.as_str()).cloned());
        let admin_groups =
            crate::application::group_ids(&config.access.admin_groups, "admin_groups")?;
        let notifier = Arc::new(
            TeamsNotifier::new(
                connector.clone(),
                portal_url.to_owned(),
                flows,
                book.clone(),
            )
            .with_admin_groups(admin_groups),
        );
        Ok(Some(TeamsParts {
            notifier,
            auth,
            connector,
            book,
            portal_url: portal_url.to_owned(),
            listen,
        }))
    }

    pub fn summary(&self) -> String {
        if self.auth.is_development() {
            String::from(
                "Teams is on at /teams/messages WITHOUT authentication (loopback development mode)",
            )
        } else {
            String::from("Teams is on at /teams/messages")
        }
    }

    /// Teams' inbound handlers, with their worker registered for the answers they owe; also
    /// hands the application to the notifier's conversation book. `link_offers` when the portal
    /// has a sign-in, so that people Sesame cannot match can confirm their link there.
    pub fn inbound(&self, app: &App, link_offers: bool) -> Arc<TeamsInbound> {
        self.book.attach(app.clone());
        let inbound = TeamsInbound::new(
            app.clone(),
            self.auth.clone(),
            self.connector.clone(),
            self.book.clone(),
            self.portal_url.clone(),
            self.listen,
            link_offers,
        );
        app.add_chat_worker(sesame_app::chat::worker_for(&inbound));
        inbound
    }
}
