//! The composition root: builds the store, the application and the HTTP server from a [`Config`].
//! `sesame serve` and the test kit both go through [`Application::build`].

use crate::config::Config;
use anyhow::Context;
use secrecy::ExposeSecret;
use sesame_app::ports::Notifier;
use sesame_app::{App, AppParts, Catalog, Clock, Roles};
use sesame_core::directory::DirectoryFile;
use sesame_core::GroupId;
use sesame_store::Store;
use sesame_web::{HttpMetrics, WebState};
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::watch;

/// A built, not yet running, Sesame.
pub struct Application {
    pub app: App,
    listener: TcpListener,
    router: axum::Router,
    /// What was done at start, for the summary `sesame serve` prints.
    pub summary: Vec<String>,
    run_dispatcher: bool,
    /// The Slack Socket Mode connection, when configured.
    socket_mode: Option<crate::slack::SocketModeTask>,
    /// The audit trail's signing key, checkpoint policy and streams.
    audit: crate::audit::AuditParts,
}

/// The configured connectors as the application holds them: by name, with the secrets that sign
/// webhook receivers' callbacks.
pub fn connector_registry(config: &Config) -> anyhow::Result<sesame_app::ConnectorRegistry> {
    let built = crate::connectors::build(config)?;
    let mut registry = sesame_app::ConnectorRegistry::new(built.into_map());
    for (name, settings) in &config.connectors {
        if let sesame_connectors::ConnectorSettings::Webhook(webhook) = settings {
            registry = registry.with_callback_secret(name, webhook.secret.clone());
        }
    }
    Ok(registry)
}

/// Loads and checks the flows directory (a flow's connector must be configured and accept its
/// settings), with the matcher's vocabulary extended as configured.
pub fn load_catalog(
    config: &Config,
    connectors: &sesame_app::ConnectorRegistry,
) -> anyhow::Result<Catalog> {
    let catalog =
        Catalog::load_dir_checked(&config.flows.dir, Some(connectors)).map_err(|errors| {
            let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
            anyhow::anyhow!(
                "the flows in {} are not valid:\n  {}",
                config.flows.dir.display(),
                lines.join("\n  ")
            )
        })?;
    Ok(match load_vocabulary(config)? {
        Some(vocabulary) => catalog.with_vocabulary(&vocabulary),
        None => catalog,
    })
}

/// The built-in matcher vocabulary extended by `[matcher] vocabulary`, if one is configured.
pub fn load_vocabulary(
    config: &Config,
) -> anyhow::Result<Option<sesame_core::matcher::Vocabulary>> {
    let Some(path) = &config.matcher.vocabulary else {
        return Ok(None);
    };
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the matcher vocabulary {}", path.display()))?;
    let vocabulary = sesame_core::matcher::Vocabulary::builtin_extended_by(&text)
        .with_context(|| format!("the matcher vocabulary {} is not valid", path.display()))?;
    Ok(Some(vocabulary))
}

/// Loads and checks the directory file, if one is configured.
pub fn load_directory_file(config: &Config) -> anyhow::Result<Option<DirectoryFile>> {
    let Some(path) = &config.directory.file else {
        return Ok(None);
    };
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the directory file {}", path.display()))?;
    let file = DirectoryFile::parse(&text)
        .with_context(|| format!("the directory file {} is not valid", path.display()))?;
    Ok(Some(file))
}

pub(crate) fn group_ids(names: &[String], what: &str) -> anyhow::Result<Vec<GroupId>> {
    names
        .iter()
        .map(|n| GroupId::new(n.clone()).with_context(|| format!("access.{what}")))
        .collect()
}

/// Connects to the configured database and brings its schema up to date.
pub async fn open_store(config: &Config) -> anyhow::Result<Store> {
    let store = Store::connect(config.database.url.expose_secret())
        .await
        .with_context(|| {
            format!(
                "cannot open the database {}",
                config.database.redacted_url()
            )
        })?;
    store
        .migrate()
        .await
        .context("cannot migrate the database")?;
    Ok(store)
}

impl Application {
    /// Builds everything and binds `listener`; nothing is served until [`Application::run`].
    pub async fn build(
        config: &Config,
        listener: TcpListener,
        clock: Arc<dyn Clock>,
    ) -> anyhow::Result<Application> {
        Self::build_with_notifiers(config, listener, clock, Vec::new()).await
    }

    /// [`Application::build`] with the notifiers (chat adapters) that deliver notices.
    pub async fn build_with_notifiers(
        config: &Config,
        listener: TcpListener,
        clock: Arc<dyn Clock>,
        mut notifiers: Vec<Arc<dyn Notifier>>,
    ) -> anyhow::Result<Application> {
        let mut summary = Vec::new();
        // Built once: the flows are checked against the same connectors the worker will use.
        let connectors = connector_registry(config)?;
        let catalog = load_catalog(config, &connectors)?;
        let public_url = config.server.public_url();
        let slack = crate::slack::SlackParts::build(config, &catalog, &public_url)?;
        if let Some(slack) = &slack {
            notifiers.push(slack.notifier.clone());
            summary.push(slack.summary());
        }
        let teams =
            crate::teams::TeamsParts::build(config, &catalog, &public_url, listener.local_addr()?)?;
        if let Some(teams) = &teams {
            notifiers.push(teams.notifier.clone());
            summary.push(teams.summary());
        }
        summary.push(format!(
            "loaded {} flows from {}",
            catalog.len(),
            config.flows.dir.display()
        ));
        let directory_file = load_directory_file(config)?;
        let store = open_store(config).await?;
        summary.push(format!(
            "database {} is ready",
            config.database.redacted_url()
        ));
        let roles = Roles {
            admin_groups: group_ids(&config.access.admin_groups, "admin_groups")?,
            auditor_groups: group_ids(&config.access.auditor_groups, "auditor_groups")?,
        };
        let app = App::new(AppParts {
            store,
            catalog,
            clock,
            roles,
            notifiers,
            connectors,
        })
        .await?;
        let lease = config.server.job_lease_seconds;
        if !(5..=3600).contains(&lease) {
            anyhow::bail!("[server] job_lease_seconds = {lease}: expected 5 to 3600 seconds");
        }
        app.set_job_lease(std::time::Duration::from_secs(lease));
        if let Some(model) = crate::model::from_config(&config.matcher)? {
            let settings = model.settings();
            summary.push(format!(
                "matching also asks the model {} at {}",
                settings.name, settings.url
            ));
            let timeout = settings.timeout;
            app.set_match_model(Arc::new(model), config.matcher.model_weight, timeout);
        }
        // Before anything is written: are the audit trail's triggers as Sesame made them?
        let audit = crate::audit::AuditParts::build(config, &app, &mut summary).await?;
        if let (Some(file), Some(path)) = (directory_file, &config.directory.file) {
            let (users, groups) = (file.users.len(), file.groups.len());
            app.seed_directory(file).await?;
            summary.push(format!(
                "loaded {users} people and {groups} groups from {}",
                path.display()
            ));
        }
        let (portal, portal_summary) =
            crate::portal::build(&config.portal, &config.oidc, &public_url)?;
        summary.push(portal_summary);
        let slack_inbound = slack
            .as_ref()
            .map(|parts| parts.inbound(&app, portal.can_sign_in()));
        let teams_inbound = teams
            .as_ref()
            .map(|parts| parts.inbound(&app, portal.can_sign_in()));
        let state = WebState {
            app: app.clone(),
            http: Arc::new(HttpMetrics::default()),
            public_url: public_url.clone(),
            scim_token: config.scim.token()?.map(Arc::new),
            metrics_token: config.server.metrics_token()?.map(Arc::new),
            portal: Arc::new(portal),
        };
        // Each chat platform serves its own routes; without it configured they answer 404.
        let mut platforms = axum::Router::new();
        if let Some(slack) = &slack_inbound {
            platforms = platforms.merge(sesame_slack::handlers::routes(slack.clone()));
        }
        if let Some(teams) = teams_inbound {
            platforms = platforms.merge(sesame_teams::handlers::routes(teams));
        }
        let router = sesame_web::router(state, platforms);
        let address = listener.local_addr()?;
        summary.push(format!(
            "listening on http://{address} (links point to {public_url})"
        ));
        let socket_mode = slack.and_then(|parts| parts.socket_mode(slack_inbound?));
        Ok(Application {
            app,
            listener,
            router,
            summary,
            run_dispatcher: true,
            socket_mode,
            audit,
        })
    }

    /// Leaves the outbox to the caller (tests drain it with `App::run_jobs_once`, step by step).
    pub fn without_dispatcher(mut self) -> Self {
        self.run_dispatcher = false;
        self
    }

    pub fn local_addr(&self) -> std::io::Result<std::net::SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves HTTP and runs the dispatcher until `shutdown` turns true. In-flight HTTP calls finish
    /// (each commits before it answers), the dispatcher finishes the job in hand, then the database
    /// is closed cleanly.
    pub async fn run(self, shutdown: watch::Receiver<bool>) -> anyhow::Result<()> {
        let worker = self.app.worker_name();
        let dispatcher = self.run_dispatcher.then(|| {
            let app = self.app.clone();
            let shutdown = shutdown.clone();
            tokio::spawn(async move { app.run_dispatcher(worker, shutdown).await })
        });
        let socket_mode = self.socket_mode.map(|task| task.spawn(shutdown.clone()));
        // The audit tasks stop last, once nothing else writes: the streams deliver and the last
        // checkpoint signs everything committed before the stop.
        let (stop_audit, audit_stopped) = watch::channel(false);
        let mut audit_tasks = Vec::new();
        {
            let app = self.app.clone();
            let (signer, policy) = (self.audit.signer.clone(), self.audit.policy);
            let stopped = audit_stopped.clone();
            audit_tasks.push(tokio::spawn(async move {
                app.run_audit_checkpoints(signer, policy, stopped).await
            }));
        }
        for sink in self.audit.sinks {
            let app = self.app.clone();
            let stopped = audit_stopped.clone();
            audit_tasks.push(tokio::spawn(async move {
                app.run_audit_stream(sink, stopped).await
            }));
        }
        let mut http_shutdown = shutdown.clone();
        let listener =
            crate::connections::Bounded::new(self.listener, crate::connections::MAX_CONNECTIONS);
        axum::serve(listener, self.router)
            .with_graceful_shutdown(async move {
                let _ = http_shutdown.wait_for(|stop| *stop).await;
            })
            .await
            .context("the HTTP server failed")?;
        if let Some(dispatcher) = dispatcher {
            dispatcher.await.context("the dispatcher panicked")?;
        }
        if let Some(socket_mode) = socket_mode {
            socket_mode.await.context("the Slack connection panicked")?;
        }
        let _ = stop_audit.send(true);
        for task in audit_tasks {
            task.await.context("an audit task panicked")?;
        }
        self.app.close().await;
        Ok(())
    }
}
