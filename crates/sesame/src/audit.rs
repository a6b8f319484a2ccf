//! The audit trail's parts that need files, the network and the command line: `[audit]` (the
//! signing key file, when checkpoints are signed, where the trail is streamed), the key file
//! itself (generated on first start), the file and webhook sinks, and `sesame audit verify`,
//! `public-key` and `export`.

use crate::config::Config;
use anyhow::{bail, Context};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use sesame_app::audit_trail::{AuditPublicKey, AuditSigner, AuditSink, CheckpointPolicy};
use sesame_app::{App, ChainedEvent};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

/// `[audit]`: how Sesame makes its audit trail evidence (docs/operations.md, "For your auditor").
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditConfig {
    /// Sesame's Ed25519 key for signing checkpoints, as PKCS#8 PEM. Generated on first start when
    /// missing. Defaults to `audit-signing-key.pem` beside the SQLite database, or
    /// `./sesame-data/audit-signing-key.pem` with PostgreSQL.
    pub signing_key_file: Option<PathBuf>,
    /// Sign a checkpoint once this many events were added since the last one...
    #[serde(default = "default_checkpoint_every_events")]
    pub checkpoint_every_events: i64,
    /// ...or once this many minutes have passed with any event added.
    #[serde(default = "default_checkpoint_every_minutes")]
    pub checkpoint_every_minutes: u64,
    /// Write every event as a JSON line to this file (appended; for a log shipper), or to standard
    /// output with `-`.
    pub stream_file: Option<String>,
    /// POST every event to this URL (a SIEM's HTTP collector), signed with `webhook_secret`.
    pub webhook_url: Option<String>,
    /// The shared secret of the webhook's `X-Sesame-Signature` (`SESAME__AUDIT__WEBHOOK_SECRET`).
    pub webhook_secret: Option<SecretString>,
}

fn default_checkpoint_every_events() -> i64 {
    1000
}

fn default_checkpoint_every_minutes() -> u64 {
    60
}

impl Default for AuditConfig {
    fn default() -> Self {
        AuditConfig {
            signing_key_file: None,
            checkpoint_every_events: default_checkpoint_every_events(),
            checkpoint_every_minutes: default_checkpoint_every_minutes(),
            stream_file: None,
            webhook_url: None,
            webhook_secret: None,
        }
    }
}

impl AuditConfig {
    pub fn policy(&self) -> anyhow::Result<CheckpointPolicy> {
        if self.checkpoint_every_events < 1 || self.checkpoint_every_minutes < 1 {
            bail!(
                "[audit] checkpoint_every_events and checkpoint_every_minutes must be at least 1"
            );
        }
        Ok(CheckpointPolicy {
            every_events: self.checkpoint_every_events,
            every: Duration::from_secs(self.checkpoint_every_minutes.saturating_mul(60)),
        })
    }

    /// Whether the trail goes to standard output (so `sesame serve` keeps its own lines off it).
    pub fn streams_to_stdout(&self) -> bool {
        self.stream_file.as_deref().map(str::trim) == Some("-")
    }
}

/// Where the signing key is: as configured, else beside the SQLite database, else
/// `./sesame-data/audit-signing-key.pem`.
pub fn signing_key_path(config: &Config) -> PathBuf {
    if let Some(path) = &config.audit.signing_key_file {
        return path.clone();
    }
    const NAME: &str = "audit-signing-key.pem";
    let url = config.database.url.expose_secret();
    let file = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .map(|rest| rest.split('?').next().unwrap_or(rest))
        .filter(|path| !path.is_empty() && !path.starts_with(":memory:"));
    match file.and_then(|f| Path::new(f).parent()) {
        Some(dir) if !dir.as_os_str().is_empty() => dir.join(NAME),
        Some(_) => PathBuf::from(NAME),
        None => PathBuf::from("sesame-data").join(NAME),
    }
}

/// Reads the signing key file.
pub fn load_signer(path: &Path) -> anyhow::Result<AuditSigner> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the audit signing key {}", path.display()))?;
    AuditSigner::from_pem(&text).map_err(|e| {
        anyhow::anyhow!(
            "the audit signing key {} is not usable: {e}",
            path.display()
        )
    })
}

/// Reads the signing key file, or makes a new key there (readable by its owner only) when there
/// is none. Returns the key and whether it is new.
pub fn load_or_generate_signer(path: &Path) -> anyhow::Result<(AuditSigner, bool)> {
    if path.exists() {
        return Ok((load_signer(path)?, false));
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create the directory {}", dir.display()))?;
    }
    let pem = AuditSigner::generate_pem()?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(path) {
        Ok(mut file) => {
            file.write_all(pem.as_bytes())
                .and_then(|()| file.sync_all())
                .with_context(|| {
                    format!("cannot write the audit signing key {}", path.display())
                })?;
        }
        // Another Sesame made it first: use theirs.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => {
            return Err(e)
                .with_context(|| format!("cannot create the audit signing key {}", path.display()))
        }
    }
    Ok((load_signer(path)?, true))
}

/// The streams `[audit]` configures.
pub fn sinks(config: &AuditConfig) -> anyhow::Result<Vec<Arc<dyn AuditSink>>> {
    let mut sinks: Vec<Arc<dyn AuditSink>> = Vec::new();
    if let Some(target) = config
        .stream_file
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        sinks.push(Arc::new(FileSink {
            path: (target != "-").then(|| PathBuf::from(target)),
        }));
    }
    match (&config.webhook_url, &config.webhook_secret) {
        (Some(url), Some(secret)) if secret.expose_secret().trim().len() >= 16 => {
            sinks.push(Arc::new(WebhookSink::new(url, secret.clone())?));
        }
        (Some(_), _) => {
            bail!("[audit] webhook_url needs webhook_secret, at least 16 characters, to sign with")
        }
        (None, Some(_)) => bail!("[audit] webhook_secret is set but webhook_url is not"),
        (None, None) => {}
    }
    Ok(sinks)
}

/// JSON lines appended to a file (opened for each delivery, so that log rotation works) or
/// written to standard output, flushed (and synced, for a file) before the cursor moves.
struct FileSink {
    path: Option<PathBuf>,
}

#[async_trait::async_trait]
impl AuditSink for FileSink {
    fn name(&self) -> String {
        match &self.path {
            Some(path) => format!("file:{}", path.display()),
            None => String::from("stdout"),
        }
    }

    async fn deliver(&self, events: &[ChainedEvent]) -> Result<(), String> {
        let mut text = String::new();
        for event in events {
            text.push_str(&event.to_json_line());
            text.push('\n');
        }
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || -> std::io::Result<()> {
            match path {
                Some(path) => {
                    let mut file = std::fs::OpenOptions::new()
                        .create(true)
                        .append(true)
                        .open(&path)?;
                    file.write_all(text.as_bytes())?;
                    file.sync_data()
                }
                None => {
                    let mut out = std::io::stdout().lock();
                    out.write_all(text.as_bytes())?;
                    out.flush()
                }
            }
        })
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())
    }
}

/// Events POSTed as `{"events": [...]}` and signed like the webhook connector's calls:
/// `X-Sesame-Timestamp` (Unix seconds) and `X-Sesame-Signature: v0=<hex HMAC-SHA256 of
/// "v0:<timestamp>:<body>">`. Anything but a 2xx is retried.
struct WebhookSink {
    url: reqwest::Url,
    secret: SecretString,
    client: reqwest::Client,
}

impl WebhookSink {
    fn new(url: &str, secret: SecretString) -> anyhow::Result<WebhookSink> {
        let url = reqwest::Url::parse(url.trim())
            .with_context(|| format!("[audit] webhook_url {url:?} is not a URL"))?;
        if !matches!(url.scheme(), "http" | "https") {
            bail!("[audit] webhook_url must be an http or https URL");
        }
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(15))
            .build()
            .context("cannot build the HTTP client for the audit webhook")?;
        Ok(WebhookSink {
            url,
            secret,
            client,
        })
    }
}

#[async_trait::async_trait]
impl AuditSink for WebhookSink {
    /// The URL without credentials or query, so that no secret lands in the database or metrics.
    fn name(&self) -> String {
        let port = self.url.port().map(|p| format!(":{p}")).unwrap_or_default();
        format!(
            "webhook:{}://{}{port}{}",
            self.url.scheme(),
            self.url.host_str().unwrap_or_default(),
            self.url.path()
        )
    }

    async fn deliver(&self, events: &[ChainedEvent]) -> Result<(), String> {
        let events: Vec<serde_json::Value> = events
            .iter()
            .map(|e| serde_json::from_str(&e.to_json_line()).unwrap_or_default())
            .collect();
        let body = serde_json::json!({ "events": events }).to_string();
        let timestamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
            .to_string();
        let signature = sesame_connectors::sign_webhook(&self.secret, &timestamp, body.as_bytes());
        let response = self
            .client
            .post(self.url.clone())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header("X-Sesame-Timestamp", &timestamp)
            .header("X-Sesame-Signature", signature)
            .body(body)
            .send()
            .await
            .map_err(|e| format!("cannot reach the audit webhook: {}", e.without_url()))?;
        let status = response.status();
        if status.is_success() {
            Ok(())
        } else {
            Err(format!("the audit webhook answered {status}"))
        }
    }
}

/// Everything the server needs to sign checkpoints and stream the trail.
pub struct AuditParts {
    pub signer: Arc<AuditSigner>,
    pub policy: CheckpointPolicy,
    pub sinks: Vec<Arc<dyn AuditSink>>,
}

impl AuditParts {
    /// Checks the append-only triggers (recreating them loudly), loads or makes the signing key,
    /// and builds the streams; adds what it did to `summary`.
    pub async fn build(
        config: &Config,
        app: &App,
        summary: &mut Vec<String>,
    ) -> anyhow::Result<AuditParts> {
        let restored = app.ensure_audit_guards().await?;
        if !restored.is_empty() {
            summary.push(format!(
                "WARNING: the audit trail's append-only triggers had been tampered with and were \
                 recreated ({}); this is recorded in the trail. Run `sesame audit verify`",
                restored.join("; ")
            ));
        }
        let policy = config.audit.policy()?;
        let path = signing_key_path(config);
        let (signer, generated) = load_or_generate_signer(&path)?;
        let public = signer.public_key().to_text();
        if generated {
            tracing::warn!(
                path = %path.display(),
                public_key = public.as_str(),
                "generated a new audit signing key; keep it safe and give its public key to your \
                 auditor (`sesame audit public-key`)"
            );
            summary.push(format!(
                "generated a new audit signing key at {}; its public key is {public}",
                path.display()
            ));
        } else {
            summary.push(format!(
                "audit checkpoints are signed with {} (public key {public})",
                path.display()
            ));
        }
        let sinks = sinks(&config.audit)?;
        for sink in &sinks {
            summary.push(format!("the audit trail is streamed to {}", sink.name()));
        }
        Ok(AuditParts {
            signer: Arc::new(signer),
            policy,
            sinks,
        })
    }
}

/// `sesame audit ...`.
#[derive(clap::Subcommand)]
pub enum AuditCommand {
    /// Recompute the audit trail's hash chain and check its signed checkpoints and append-only
    /// triggers; exits 1 with the first broken link when it is not whole.
    Verify {
        /// The public key (`ed25519:...`, or a file holding it); by default the one of the
        /// configured signing key.
        #[arg(long)]
        public_key: Option<String>,
    },
    /// Print the public key of the audit signing key, for your auditor.
    PublicKey,
    /// Print the trail as JSON lines: everything, or the events after an event id, or from a
    /// time (RFC 3339) on.
    Export {
        /// An event id (prints the events after it) or an RFC 3339 time (prints the events from
        /// the first one written at or after it).
        #[arg(long)]
        since: Option<String>,
    },
}

pub async fn run(config: &Config, command: AuditCommand) -> anyhow::Result<ExitCode> {
    match command {
        AuditCommand::PublicKey => {
            let path = signing_key_path(config);
            if !path.exists() {
                bail!(
                    "there is no audit signing key at {} yet: `sesame serve` makes it on first \
                     start (or set [audit] signing_key_file)",
                    path.display()
                );
            }
            println!("{}", load_signer(&path)?.public_key().to_text());
            Ok(ExitCode::SUCCESS)
        }
        AuditCommand::Verify { public_key } => {
            let key = match public_key {
                Some(given) => read_public_key(&given)?,
                None => {
                    let path = signing_key_path(config);
                    if !path.exists() {
                        bail!(
                            "no public key to check the checkpoints with: give --public-key, or \
                             configure [audit] signing_key_file (there is no key at {})",
                            path.display()
                        );
                    }
                    load_signer(&path)?.public_key().clone()
                }
            };
            let app = crate::cli::open_bare_app(config).await?;
            let report = app.verify_audit_trail(&key).await?;
            app.close().await;
            print_report(&report, &key);
            Ok(if report.is_whole() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        AuditCommand::Export { since } => {
            let app = crate::cli::open_bare_app(config).await?;
            let mut after = match since.as_deref().map(str::trim) {
                None | Some("") => 0,
                Some(text) => match text.parse::<i64>() {
                    Ok(id) => id,
                    Err(_) => {
                        let at = parse_rfc3339(text)?;
                        match app.audit_id_before(at).await? {
                            Some(id) => id,
                            None => {
                                app.close().await;
                                return Ok(ExitCode::SUCCESS);
                            }
                        }
                    }
                },
            };
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::new(stdout.lock());
            loop {
                let page = app.audit_events_after(after, 1000).await?;
                let Some(last) = page.last() else { break };
                after = last.id;
                for event in &page {
                    if let Err(e) = writeln!(out, "{}", event.to_json_line()) {
                        if e.kind() == std::io::ErrorKind::BrokenPipe {
                            app.close().await;
                            return Ok(ExitCode::SUCCESS);
                        }
                        return Err(e.into());
                    }
                }
            }
            out.flush()?;
            app.close().await;
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn read_public_key(given: &str) -> anyhow::Result<AuditPublicKey> {
    let text = if Path::new(given).is_file() {
        std::fs::read_to_string(given).with_context(|| format!("cannot read {given}"))?
    } else {
        given.to_owned()
    };
    AuditPublicKey::parse(&text).map_err(|e| anyhow::anyhow!("--public-key: {e}"))
}

fn parse_rfc3339(text: &str) -> anyhow::Result<sesame_core::Timestamp> {
    let at = time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .with_context(|| {
            format!("--since {text:?}: expected an event id or an RFC 3339 time such as 2026-01-05T09:00:00Z")
        })?;
    let millis = at.unix_timestamp_nanos() / 1_000_000;
    Ok(sesame_core::Timestamp(
        i64::try_from(millis).unwrap_or(i64::MAX),
    ))
}

fn print_report(report: &sesame_app::audit_trail::AuditVerification, key: &AuditPublicKey) {
    use sesame_store::chain::canonical_time;
    if report.is_whole() {
        let range = match report.last_event {
            Some(last) => format!("{} events, the last is event {last}", report.events),
            None => String::from("no events yet"),
        };
        println!("ok: the audit trail is whole: {range}");
        match &report.last_checkpoint {
            Some(c) => println!(
                "ok: {} signed checkpoint(s) hold (key {}); the latest covers event {} ({} \
                 events), signed at {}; {} event(s) after it are chained, not yet signed",
                report.checkpoints_verified,
                key.key_id(),
                c.event_id,
                c.count,
                canonical_time(c.at),
                report.unsigned_events
            ),
            None => println!("ok: no signed checkpoint yet (key {})", key.key_id()),
        }
        println!("ok: the append-only triggers are in place");
    } else {
        for problem in &report.problems {
            println!("BROKEN: {problem}");
        }
        println!(
            "checked {} event(s) from the start before the first broken link",
            report.events
        );
    }
    for note in &report.notes {
        println!("note: {note}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(text: &str) -> Config {
        toml::from_str(text).expect("config")
    }

    #[test]
    fn the_key_lives_beside_the_sqlite_database_unless_configured() {
        assert_eq!(
            signing_key_path(&config(
                "[database]\nurl = \"sqlite:///var/lib/sesame/s.db?readers=2\"\n"
            )),
            PathBuf::from("/var/lib/sesame/audit-signing-key.pem")
        );
        assert_eq!(
            signing_key_path(&config("")),
            PathBuf::from("./sesame-data/audit-signing-key.pem")
        );
        assert_eq!(
            signing_key_path(&config("[database]\nurl = \"postgres://u:p@h/db\"\n")),
            PathBuf::from("sesame-data/audit-signing-key.pem")
        );
        assert_eq!(
            signing_key_path(&config(
                "[database]\nurl = \"postgres://h/db\"\n[audit]\nsigning_key_file = \"/etc/sesame/audit.pem\"\n"
            )),
            PathBuf::from("/etc/sesame/audit.pem")
        );
    }

    #[test]
    fn a_key_is_made_once_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys").join("audit.pem");
        let (made, generated) = load_or_generate_signer(&path).unwrap();
        assert!(generated);
        let (read, generated) = load_or_generate_signer(&path).unwrap();
        assert!(!generated);
        assert_eq!(made.public_key(), read.public_key());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "only its owner reads the key");
        }
    }

    fn event(id: i64) -> ChainedEvent {
        ChainedEvent {
            id,
            request: Some(sesame_core::RequestNumber(3)),
            at: sesame_core::Timestamp(1_767_603_600_000),
            actor: String::from("alice"),
            kind: String::from("submitted"),
            detail: serde_json::json!({ "flow": "badge" }),
            prev_hash: Some(String::from("aa")),
            hash: Some(String::from("bb")),
        }
    }

    #[tokio::test]
    async fn the_webhook_signs_its_calls_and_only_a_2xx_counts() {
        use axum::http::{HeaderMap, StatusCode};
        use std::sync::atomic::{AtomicUsize, Ordering};
        use std::sync::Mutex;
        type Received = Arc<Mutex<Vec<(HeaderMap, String)>>>;
        let received: Received = Arc::default();
        let calls = Arc::new(AtomicUsize::new(0));
        let router = axum::Router::new().route(
            "/in",
            axum::routing::post({
                let (received, calls) = (received.clone(), calls.clone());
                move |headers: HeaderMap, body: String| async move {
                    received.lock().unwrap().push((headers, body));
                    if calls.fetch_add(1, Ordering::SeqCst) == 0 {
                        StatusCode::SERVICE_UNAVAILABLE
                    } else {
                        StatusCode::NO_CONTENT
                    }
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, router).await });
        let secret = SecretString::from("0123456789abcdef-siem");
        let sink = WebhookSink::new(&format!("http://{address}/in?key=x"), secret.clone()).unwrap();
        let events = [event(1), event(2)];
        assert_eq!(
            sink.deliver(&events).await,
            Err(String::from(
                "the audit webhook answered 503 Service Unavailable"
            ))
        );
        assert_eq!(sink.deliver(&events).await, Ok(()));
        let received = received.lock().unwrap();
        let (headers, body) = &received[1];
        let header = |name: &str| headers[name].to_str().unwrap().to_owned();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        assert_eq!(
            sesame_connectors::verify_callback(
                &secret,
                &header("x-sesame-timestamp"),
                &header("x-sesame-signature"),
                body.as_bytes(),
                now
            ),
            Ok(())
        );
        let body: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(body["events"][1]["id"], 2);
        assert_eq!(body["events"][0]["at"], "2026-01-05T09:00:00.000Z");
        assert_eq!(body["events"][0]["hash"], "bb");
        assert_eq!(sink.name(), format!("webhook:http://{address}/in"));
    }

    #[tokio::test]
    async fn the_file_sink_appends_json_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.jsonl");
        let sink = FileSink {
            path: Some(path.clone()),
        };
        sink.deliver(&[event(1)]).await.unwrap();
        sink.deliver(&[event(2), event(3)]).await.unwrap();
        let ids: Vec<i64> = std::fs::read_to_string(&path)
            .unwrap()
            .lines()
            .map(|l| {
                serde_json::from_str::<serde_json::Value>(l).unwrap()["id"]
                    .as_i64()
                    .unwrap()
            })
            .collect();
        assert_eq!(ids, [1, 2, 3]);
        assert_eq!(sink.name(), format!("file:{}", path.display()));
    }

    #[test]
    fn streams_are_checked() {
        let audit = |text: &str| config(text).audit;
        assert!(sinks(&audit("")).unwrap().is_empty());
        let names: Vec<String> = sinks(&audit(
            "[audit]\nstream_file = \"-\"\nwebhook_url = \"https://user:pw@siem.example/in?token=x\"\nwebhook_secret = \"0123456789abcdef\"\n",
        ))
        .unwrap()
        .iter()
        .map(|s| s.name())
        .collect();
        assert_eq!(names, ["stdout", "webhook:https://siem.example/in"]);
        assert!(sinks(&audit("[audit]\nwebhook_url = \"https://siem.example/\"\n")).is_err());
        assert!(sinks(&audit(
            "[audit]\nwebhook_url = \"https://siem.example/\"\nwebhook_secret = \"short\"\n"
        ))
        .is_err());
        assert!(sinks(&audit("[audit]\nwebhook_secret = \"0123456789abcdef\"\n")).is_err());
        assert!(audit("[audit]\ncheckpoint_every_events = 0\n")
            .policy()
            .is_err());
    }
}
