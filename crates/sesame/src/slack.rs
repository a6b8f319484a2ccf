//! Wiring the Slack app from `[slack]`: the Web API client, the notifier that delivers notices, the
//! inbound handlers behind `/slack/*`, and the Socket Mode connection when an app token is set.

use crate::config::Config;
use anyhow::Context;
use sesame_app::{App, Catalog};
use sesame_slack::api::SlackApi;
use sesame_slack::handlers::{SlackInbound, SlackSocketHandler};
use sesame_slack::notifier::{FlowLookup, SlackNotifier};
use sesame_slack::socket::SocketMode;
use std::sync::Arc;
use tokio::sync::watch;

/// The parts built before the application exists.
pub struct SlackParts {
    api: SlackApi,
    pub notifier: Arc<SlackNotifier>,
    signing_secret: Option<secrecy::SecretString>,
    app_token: Option<secrecy::SecretString>,
    portal_url: String,
    command: String,
    api_url: String,
}

impl SlackParts {
    /// `None` when Slack is not configured.
    pub fn build(
        config: &Config,
        catalog: &Catalog,
        portal_url: &str,
    ) -> anyhow::Result<Option<SlackParts>> {
        let slack = &config.slack;
        if !slack.enabled()? {
            return Ok(None);
        }
        let token = slack
            .bot_token
            .clone()
            .context("[slack] bot_token is required")?;
        let http = reqwest::Client::builder()
            .connect_timeout(std::time::Duration::from_secs(5))
            .build()
            .context("cannot build the HTTP client for Slack")?;
        // One limiter for the process, shared by the notifier and the inbound handlers, so both
        // count against the same per-method and per-channel budgets.
        let mut api = SlackApi::new(&slack.api_url, token, http)
            .with_context(|| format!("[slack] api_url {:?} is not a usable URL", slack.api_url))?;
        if slack.pace_calls {
            api = api.with_rate_limiter(Arc::new(sesame_slack::ratelimit::RateLimiter::new()));
        }
        let catalog = Arc::new(catalog.clone());
        let flows: FlowLookup = Arc::new(move |id| catalog.get(id.as_str()).cloned());
        let notifier = Arc::new(
            SlackNotifier::new(api.clone(), portal_url.to_owned(), flows)
                .with_admin_channel(slack.admin_channel.clone()),
        );
        Ok(Some(SlackParts {
            api,
            notifier,
            signing_secret: slack.signing_secret.clone(),
            app_token: slack.app_token.clone().filter(|_| slack.socket_mode()),
            portal_url: portal_url.to_owned(),
            command: slack.command.clone(),
            api_url: slack.api_url.clone(),
        }))
    }

    pub fn summary(&self) -> String {
        let transport = if self.app_token.is_some() {
            "Socket Mode"
        } else {
            "HTTP at /slack/events, /slack/commands and /slack/interactivity"
        };
        format!(
            "Slack is on ({transport}; command {}; Web API {})",
            self.command, self.api_url
        )
    }

    /// Slack's inbound handlers, with their worker registered for the calls they owe;
    /// `link_offers` when the portal has a sign-in, so that people Sesame cannot match can confirm
    /// their link there.
    pub fn inbound(&self, app: &App, link_offers: bool) -> Arc<SlackInbound> {
        let inbound = SlackInbound::new(
            app.clone(),
            self.api.clone(),
            self.signing_secret.clone(),
            self.portal_url.clone(),
            self.command.clone(),
            link_offers,
        );
        app.add_chat_worker(sesame_app::chat::worker_for(&inbound));
        inbound
    }

    pub fn socket_mode(self, inbound: Arc<SlackInbound>) -> Option<SocketModeTask> {
        let app_token = self.app_token?;
        Some(SocketModeTask {
            api_url: self.api_url,
            app_token,
            inbound,
        })
    }
}

/// The Socket Mode connection, started with the server.
pub struct SocketModeTask {
    api_url: String,
    app_token: secrecy::SecretString,
    inbound: Arc<SlackInbound>,
}

impl SocketModeTask {
    /// Connects to Slack and serves envelopes until `shutdown` turns true.
    pub fn spawn(self, shutdown: watch::Receiver<bool>) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let client =
                match SocketMode::new(&self.api_url, self.app_token, reqwest::Client::new()) {
                    Ok(client) => client,
                    Err(e) => {
                        tracing::error!(error = %e, "Socket Mode cannot start");
                        return;
                    }
                };
            let handler = Arc::new(SlackSocketHandler(self.inbound));
            if let Err(e) = client.serve(handler, shutdown).await {
                tracing::error!(error = %e, "Socket Mode stopped; Slack requests are no longer received");
            }
        })
    }
}
