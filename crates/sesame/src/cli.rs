//! The command line: `serve`, `check`, `migrate`, `token`, `flows explain`, `audit`, `config
//! example` and `openapi`.

use crate::application::{
    load_catalog, load_directory_file, load_vocabulary, open_store, Application,
};
use crate::config::{self, Config};
use anyhow::{bail, Context};
use clap::{Parser, Subcommand};
use sesame_app::{App, AppParts, Catalog, Roles, SystemClock};
use sesame_core::{Actor, Directory, Span, UserId};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

#[derive(Parser)]
#[command(
    name = "sesame",
    version,
    about = "Self-hosted access requests: ask in chat, approve in chat, audited end to end."
)]
pub struct Cli {
    /// The TOML config file. Without it Sesame runs on its embedded default (SQLite under
    /// ./sesame-data, the example flows and directory, 127.0.0.1:8080).
    #[arg(long, global = true, env = "SESAME_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server.
    Serve,
    /// Check the configuration, the flows and the directory file without starting anything.
    Check {
        /// Check only this directory of flows.
        #[arg(long)]
        flows: Option<PathBuf>,
    },
    /// Create or update the database schema.
    Migrate {
        /// Change nothing: say whether this binary and the database's schema fit (exit 0), the
        /// database needs migrating (exit 1), or a newer Sesame migrated it (exit 2).
        #[arg(long)]
        check: bool,
    },
    /// Manage API tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Inspect flows.
    Flows {
        #[command(subcommand)]
        command: FlowsCommand,
    },
    /// Print the documented example configuration.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// Print the REST API's OpenAPI document.
    Openapi,
    /// Match free text to flows (messages on stdin, one a line), or measure the matcher with
    /// `match eval <labelled.jsonl>`.
    Match(crate::match_cli::MatchArgs),
    /// The Microsoft Teams app: `teams package` writes the app package to upload to Teams.
    Teams {
        #[command(subcommand)]
        command: crate::teams_package::TeamsCommand,
    },
    /// Check people's chat identities.
    Identities {
        #[command(subcommand)]
        command: IdentitiesCommand,
    },
    /// The audit trail as evidence: verify it, print the public key, export it.
    Audit {
        #[command(subcommand)]
        command: crate::audit::AuditCommand,
    },
}

#[derive(Subcommand)]
enum IdentitiesCommand {
    /// Report people without a Slack account, accounts that are nobody, and links that point
    /// nowhere or are ambiguous; exits 1 when there is something to fix.
    Check {
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Print a link (valid for an hour) with which the owner of a chat account confirms, in the
    /// portal, that the account is theirs.
    OfferLink {
        /// slack or teams.
        platform: String,
        /// The account id on that platform (a Slack member id such as U012AB3CD).
        account: String,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Create a token that acts as a person; the secret is printed once.
    Create {
        /// The person (id or email) the token acts as.
        #[arg(long)]
        user: String,
        /// A name to recognise the token by.
        #[arg(long, default_value = "cli")]
        name: String,
        /// Expire the token after this long, such as 30d; `never` for a token that does not
        /// expire (say so only on purpose).
        #[arg(long, default_value = sesame_app::tokens::DEFAULT_TOKEN_LIFETIME)]
        expires_in: String,
        /// The person (id or email) handing the token out, as the audit trail records it;
        /// otherwise the operating-system account running this command.
        #[arg(long)]
        by: Option<String>,
    },
    /// List tokens (never their secrets).
    List,
    /// Revoke a token by id.
    Revoke {
        id: i64,
        /// The person (id or email) revoking it, as the audit trail records it.
        #[arg(long)]
        by: Option<String>,
    },
}

#[derive(Subcommand)]
enum FlowsCommand {
    /// Who may request a flow, who would approve each step and why, and what happens on approval.
    /// A dry run: nothing is stored.
    Explain {
        flow: String,
        /// The person (id or email) to explain it for.
        #[arg(long = "as")]
        as_user: String,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Print the example configuration with every key documented.
    Example,
}

pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Config {
            command: ConfigCommand::Example,
        } => {
            print!("{}", config::EXAMPLE);
            return Ok(ExitCode::SUCCESS);
        }
        Command::Openapi => {
            println!("{}", sesame_web::openapi_json());
            return Ok(ExitCode::SUCCESS);
        }
        Command::Match(args) => return crate::match_cli::run(args, cli.config.as_deref()),
        _ => {}
    }
    let (config, source) = config::load(cli.config.as_deref())?;
    crate::telemetry::init(&config.log);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async move {
        match cli.command {
            Command::Serve => serve(config, source).await,
            Command::Check { flows } => check(&config, flows),
            Command::Migrate { check } if check => migrate_check(&config).await,
            Command::Migrate { .. } => {
                open_store(&config).await?;
                println!("database {} is up to date", config.database.redacted_url());
                Ok(ExitCode::SUCCESS)
            }
            Command::Token { command } => token(&config, command).await,
            Command::Flows {
                command:
                    FlowsCommand::Explain {
                        flow,
                        as_user,
                        json,
                    },
            } => explain(&config, &flow, &as_user, json).await,
            Command::Identities {
                command: IdentitiesCommand::Check { json },
            } => {
                let app = open_app(&config).await?;
                crate::identities_cli::check(&config, &app, json).await
            }
            Command::Identities {
                command: IdentitiesCommand::OfferLink { platform, account },
            } => {
                let app = open_app(&config).await?;
                crate::portal::offer_link(&config, &app, &platform, &account).await
            }
            Command::Teams { command } => crate::teams_package::run(&config, command),
            Command::Audit { command } => crate::audit::run(&config, command).await,
            Command::Config { .. } | Command::Openapi | Command::Match(_) => Ok(ExitCode::SUCCESS),
        }
    })
}

async fn serve(config: Config, source: config::Source) -> anyhow::Result<ExitCode> {
    let listener = tokio::net::TcpListener::bind(config.server.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.server.listen))?;
    let application = Application::build(&config, listener, Arc::new(SystemClock)).await?;
    // Listening for SIGTERM and Ctrl-C before saying where Sesame listens: a service manager (or a
    // test) may stop it as soon as it has said so.
    let signals = Signals::listen()?;
    // With the audit trail streamed to standard output, Sesame's own lines go to standard error.
    let say = |line: &str| {
        if config.audit.streams_to_stdout() {
            eprintln!("sesame: {line}");
        } else {
            println!("sesame: {line}");
        }
    };
    match source {
        config::Source::EmbeddedDefault => say("no --config given; running the embedded default"),
        config::Source::File(path) => say(&format!("configuration from {}", path.display())),
    }
    for line in &application.summary {
        say(line);
    }
    say("create an API token with `sesame token create --user <id>`; stop with Ctrl-C or SIGTERM");
    let (stop, stopped) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        signals.wait().await;
        tracing::info!("shutting down: finishing in-flight work");
        let _ = stop.send(true);
    });
    application.run(stopped).await?;
    say("stopped cleanly");
    Ok(ExitCode::SUCCESS)
}

/// SIGTERM and Ctrl-C, listened for from the moment this is made.
struct Signals {
    #[cfg(unix)]
    term: Option<tokio::signal::unix::Signal>,
    #[cfg(unix)]
    interrupt: Option<tokio::signal::unix::Signal>,
}

impl Signals {
    fn listen() -> anyhow::Result<Signals> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            Ok(Signals {
                term: signal(SignalKind::terminate()).ok(),
                interrupt: signal(SignalKind::interrupt()).ok(),
            })
        }
        #[cfg(not(unix))]
        {
            Ok(Signals {})
        }
    }

    async fn wait(self) {
        #[cfg(unix)]
        {
            match (self.term, self.interrupt) {
                (Some(mut term), Some(mut interrupt)) => {
                    tokio::select! {
                        _ = term.recv() => {}
                        _ = interrupt.recv() => {}
                    }
                }
                (Some(mut term), None) => {
                    term.recv().await;
                }
                (None, Some(mut interrupt)) => {
                    interrupt.recv().await;
                }
                (None, None) => {
                    let _ = tokio::signal::ctrl_c().await;
                }
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

/// Checks everything that can be checked without a database; exits non-zero on any error.
fn check(config: &Config, flows_only: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    // Flows naming a connector are checked against the configured ones, as `sesame serve` does;
    // a directory checked on its own is checked for shape only when none are configured.
    let connectors = crate::application::connector_registry(config)?;
    let (catalog, directory) = match flows_only {
        Some(dir) => {
            let registry = (!connectors.is_empty()).then_some(&connectors);
            let catalog = Catalog::load_dir_checked(
                &dir,
                registry.map(|r| r as &dyn sesame_core::flow::ConnectorCheck),
            );
            (catalog.map_err(|e| (dir, e)), None)
        }
        None => {
            load_vocabulary(config)?;
            let directory = load_directory_file(config)?.map(|f| f.into_directory());
            (
                Catalog::load_dir_checked(&config.flows.dir, Some(&connectors))
                    .map_err(|e| (config.flows.dir.clone(), e)),
                directory,
            )
        }
    };
    let catalog = match catalog {
        Ok(c) => c,
        Err((dir, errors)) => {
            for e in &errors {
                eprintln!("{e}");
            }
            eprintln!(
                "{} problem(s) in {}; no flow was loaded",
                errors.len(),
                dir.display()
            );
            return Ok(ExitCode::from(1));
        }
    };
    let mut warnings = 0;
    if let Some(directory) = &directory {
        for flow in catalog.flows() {
            let duties = sesame_core::duties::for_flow(flow, directory);
            for warning in dangling_references(flow, directory)
                .into_iter()
                .chain(duties)
            {
                println!("warning: flow {}: {warning}", flow.id);
                warnings += 1;
            }
        }
    }
    println!(
        "ok: {} flow(s) are valid{}",
        catalog.len(),
        if directory.is_some() {
            format!(", {warnings} warning(s) against the directory file")
        } else {
            String::new()
        }
    );
    Ok(ExitCode::SUCCESS)
}

/// Groups and people a flow names that the directory does not have. Not errors: the directory can
/// change at run time (the API, an identity provider), so these are reported, and `submit` refuses a
/// request whose steps nobody could approve.
fn dangling_references(flow: &sesame_core::Flow, directory: &Directory) -> Vec<String> {
    use sesame_core::flow::{Approvers, Fulfillers, Fulfillment, Requesters};
    let mut out = Vec::new();
    let mut group = |g: &sesame_core::GroupId, role: &str| {
        if directory.group(g).is_none() {
            out.push(format!("{role} group `{g}` is not in the directory"));
        }
    };
    if let Requesters::Some { groups, .. } = &flow.requesters {
        groups.iter().for_each(|g| group(g, "requester"));
    }
    for step in &flow.approval {
        for rule in std::iter::once(&step.approvers).chain(step.escalate_to.iter()) {
            if let Approvers::Group(g) = rule {
                group(g, "approver");
            }
        }
    }
    let fulfillers = match &flow.fulfillment {
        Fulfillment::Manual(fulfillers) => Some(fulfillers),
        Fulfillment::Connector(_) => None,
    };
    if let Some(Fulfillers::Group(g)) = fulfillers {
        group(g, "fulfiller");
    }
    let mut users: Vec<&UserId> = flow.owners.iter().collect();
    if let Requesters::Some { users: u, .. } = &flow.requesters {
        users.extend(u);
    }
    for step in &flow.approval {
        for rule in std::iter::once(&step.approvers).chain(step.escalate_to.iter()) {
            if let Approvers::Users(u) = rule {
                users.extend(u);
            }
        }
    }
    if let Some(Fulfillers::Users(u)) = fulfillers {
        users.extend(u);
    }
    for u in users {
        if directory.resolve(u).is_none() {
            out.push(format!(
                "person `{u}` is not an active person in the directory"
            ));
        }
    }
    out
}

/// The application over the configured database, without flows or roles and without loading the
/// directory file: for commands that only read (and must not add to the audit trail).
pub(crate) async fn open_bare_app(config: &Config) -> anyhow::Result<App> {
    let store = open_store(config).await?;
    Ok(App::new(AppParts {
        store,
        catalog: Catalog::default(),
        clock: Arc::new(SystemClock),
        roles: Roles::default(),
        notifiers: Vec::new(),
        connectors: Default::default(),
    })
    .await?)
}

async fn open_app(config: &Config) -> anyhow::Result<App> {
    let store = open_store(config).await?;
    let app = App::new(AppParts {
        store,
        catalog: Catalog::default(),
        clock: Arc::new(SystemClock),
        roles: Roles::default(),
        notifiers: Vec::new(),
        connectors: Default::default(),
    })
    .await?;
    if let Some(file) = load_directory_file(config)? {
        app.seed_directory(file).await?;
    }
    Ok(app)
}

/// Who runs a token command, as the audit trail names them: the person `--by` names, or the
/// operating-system account (never "sesame": the trail must say which human handed out a
/// credential).
fn token_operator(app: &sesame_app::App, by: Option<&str>) -> anyhow::Result<Actor> {
    if let Some(by) = by {
        let directory = app.directory();
        let Some(person) = directory.find_user(by).filter(|u| u.active) else {
            bail!("--by {by:?} is not an active person in the directory");
        };
        return Ok(match app.principal(&person.id) {
            Ok(p) if p.admin => Actor::admin(person.id.clone()),
            _ => Actor::user(person.id.clone()),
        });
    }
    Ok(Actor::Operator {
        account: os_account(),
    })
}

/// The operating-system account running this process: `$USER`, `$LOGNAME`, else the numeric uid.
fn os_account() -> String {
    for var in ["USER", "LOGNAME"] {
        if let Ok(name) = std::env::var(var) {
            let name = name.trim();
            if !name.is_empty() && name.len() <= 64 && !name.contains(char::is_control) {
                return name.to_owned();
            }
        }
    }
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .and_then(|ids| {
                    ids.split_whitespace()
                        .next()
                        .map(|uid| format!("uid {uid}"))
                })
        })
        .unwrap_or_else(|| String::from("unknown"))
}

/// `sesame migrate --check`, for a rolling upgrade: run it with the new binary before starting
/// it, and with the old one to know whether it may still start.
async fn migrate_check(config: &Config) -> anyhow::Result<ExitCode> {
    let url = config.database.redacted_url();
    let store =
        sesame_app::Store::connect(secrecy::ExposeSecret::expose_secret(&config.database.url))
            .await
            .with_context(|| format!("cannot open the database {url}"))?;
    let versions = store.schema_versions().await?;
    store.close().await;
    let latest = versions.known.last().copied().unwrap_or(0);
    if let Some(problem) = versions.newer_than_this_build() {
        println!("{url}: {problem}");
        return Ok(ExitCode::from(2));
    }
    let pending = versions.pending();
    if pending.is_empty() {
        println!("{url}: the schema is at {latest:04}, as this Sesame expects");
        return Ok(ExitCode::SUCCESS);
    }
    let list: Vec<String> = pending.iter().map(|v| format!("{v:04}")).collect();
    println!(
        "{url}: {} migration(s) to apply ({}); `sesame migrate` or `sesame serve` applies them",
        pending.len(),
        list.join(", ")
    );
    Ok(ExitCode::from(1))
}

async fn token(config: &Config, command: TokenCommand) -> anyhow::Result<ExitCode> {
    let app = open_app(config).await?;
    match command {
        TokenCommand::Create {
            user,
            name,
            expires_in,
            by,
        } => {
            let operator = token_operator(&app, by.as_deref())?;
            let directory = app.directory();
            let Some(person) = directory.find_user(&user) else {
                bail!("{user:?} is not an active person in the directory");
            };
            let expires_at = if expires_in.trim().eq_ignore_ascii_case("never") {
                None
            } else {
                Some(app.now().plus(Span::parse(&expires_in)?))
            };
            let created = app
                .create_token(&person.id, &name, expires_at, &operator)
                .await?;
            eprintln!(
                "token {} for {} created; it is shown once, keep it secret:",
                created.record.id, person.id
            );
            println!("{}", created.secret);
        }
        TokenCommand::List => {
            for t in app.list_tokens().await? {
                let status = if t.revoked_at.is_some() {
                    "revoked"
                } else {
                    "active"
                };
                let expires = t
                    .expires_at
                    .map(|e| e.to_rfc3339())
                    .unwrap_or_else(|| String::from("never"));
                let by = t.created_by.as_deref().unwrap_or("unknown");
                println!(
                    "{}\t{}\t{}\t{status}\texpires {expires}\tmade by {by}",
                    t.id, t.user, t.name
                );
            }
        }
        TokenCommand::Revoke { id, by } => {
            let operator = token_operator(&app, by.as_deref())?;
            if !app.revoke_token(id, &operator).await? {
                bail!("there is no active token {id}");
            }
            println!("token {id} revoked");
        }
    }
    app.close().await;
    Ok(ExitCode::SUCCESS)
}

/// A dry run against the directory file if one is configured, otherwise the database's directory.
async fn explain(
    config: &Config,
    flow_id: &str,
    as_user: &str,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let connectors = crate::application::connector_registry(config)?;
    let catalog = load_catalog(config, &connectors)?;
    let flow = catalog.get(flow_id).with_context(|| {
        format!(
            "there is no flow `{flow_id}` in {}",
            config.flows.dir.display()
        )
    })?;
    let directory = match load_directory_file(config)? {
        Some(file) => file.into_directory(),
        None => {
            let app = open_app(config).await?;
            let directory = (*app.directory()).clone();
            app.close().await;
            directory
        }
    };
    let user = directory
        .find_user(as_user)
        .with_context(|| format!("{as_user:?} is not an active person in the directory"))?;
    let explanation = sesame_core::explain::explain(flow, &user.id, &directory);
    if json {
        println!("{}", serde_json::to_string_pretty(&explanation)?);
    } else {
        print!("{explanation}");
    }
    Ok(ExitCode::SUCCESS)
}
