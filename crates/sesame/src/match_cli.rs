//! `sesame match`: the free-text matcher from the command line, to try it on a catalog and to
//! measure it on labelled messages.
//!
//! - `sesame match --flows <dir>` reads messages, one a line, on stdin and writes one JSON line
//!   each: `{"text", "ranked": [{"flow", "score"}], "confident", "why", "extracted"}`.
//! - `sesame match eval <labelled.jsonl> --flows <dir>` prints top-1 accuracy, top-3 recall,
//!   abstain accuracy, the auto-pick rate (the right flow proposed on its own) and the
//!   confident-wrong rate (wrong proposals as a share of all proposals), overall and per kind of
//!   message.
//!
//! Without `--flows`, the configuration's flows directory is used. With `[matcher] model_url` in
//! the configuration, or `--model-url`, the model is the second retrieval path as in `sesame
//! serve` (`--no-model` leaves it out); `match eval` then prints the figures without and with it
//! and the model path's latency per message (p50, p99).

use crate::model::EmbeddingModel;
use anyhow::{bail, Context};
use clap::{Args, Subcommand};
use sesame_app::Catalog;
use sesame_core::matcher::eval::{evaluate, evaluate_outcomes, parse_labelled, Labelled, Report};
use sesame_core::matcher::{Evidence, MatchOutcome, Matcher, Vocabulary};
use sesame_core::ports::MatchModel;
use sesame_core::{Flow, Timestamp};
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

#[derive(Args)]
pub struct MatchArgs {
    /// The flows directory to match against (default: the configuration's).
    #[arg(long, global = true)]
    flows: Option<PathBuf>,
    /// A YAML file of words to add to the built-in vocabulary (see docs/matching.md; default:
    /// the configuration's).
    #[arg(long, global = true)]
    vocabulary: Option<PathBuf>,
    /// An OpenAI-compatible embeddings API to match with too (default: the configuration's
    /// `[matcher] model_url`).
    #[arg(long, global = true)]
    model_url: Option<String>,
    /// The model's name at that API (default: the configuration's `model_name`).
    #[arg(long, global = true)]
    model_name: Option<String>,
    /// Put before each message ("query: " for e5 models; default: the configuration's).
    #[arg(long, global = true)]
    model_query_prefix: Option<String>,
    /// Put before each flow's text ("passage: " for e5 models; default: the configuration's).
    #[arg(long, global = true)]
    model_passage_prefix: Option<String>,
    /// How much the model counts, 0 to 1 (default: the configuration's `model_weight`).
    #[arg(long, global = true)]
    model_weight: Option<f64>,
    /// How long a message waits for the model (default: the configuration's
    /// `model_timeout_ms`).
    #[arg(long, global = true)]
    model_timeout_ms: Option<u64>,
    /// Match without the model even when one is configured.
    #[arg(long, global = true)]
    no_model: bool,
    #[command(subcommand)]
    command: Option<MatchCommand>,
}

#[derive(Subcommand)]
enum MatchCommand {
    /// Measure the matcher on labelled messages (JSON lines with text, flow and kind).
    Eval {
        /// The labelled messages.
        file: PathBuf,
        /// Also list every message the matcher got wrong.
        #[arg(long)]
        misses: bool,
    },
}

/// The model and how much it counts.
struct WithModel {
    model: EmbeddingModel,
    weight: f64,
}

pub fn run(args: MatchArgs, config: Option<&Path>) -> anyhow::Result<ExitCode> {
    let (config, _) = crate::config::load(config)?;
    let dir = args.flows.clone().unwrap_or(config.flows.dir.clone());
    let catalog = match Catalog::load_dir(&dir) {
        Ok(catalog) => catalog,
        Err(errors) => {
            for e in &errors {
                eprintln!("{e}");
            }
            bail!(
                "{} problem(s) in {}; no flow was loaded",
                errors.len(),
                dir.display()
            );
        }
    };
    let extra = match args
        .vocabulary
        .as_ref()
        .or(config.matcher.vocabulary.as_ref())
    {
        Some(path) => std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?,
        None => String::new(),
    };
    let vocabulary = Vocabulary::builtin_extended_by(&extra)?;
    let matcher = Matcher::with_vocabulary(catalog.flows(), &vocabulary);
    let flows: Vec<Flow> = catalog.flows().cloned().collect();
    let model = if args.no_model {
        None
    } else {
        let mut matcher_config = config.matcher;
        if let Some(url) = args.model_url {
            matcher_config.model_url = Some(url);
        }
        if let Some(name) = args.model_name {
            matcher_config.model_name = name;
        }
        if let Some(prefix) = args.model_query_prefix {
            matcher_config.model_query_prefix = prefix;
        }
        if let Some(prefix) = args.model_passage_prefix {
            matcher_config.model_passage_prefix = prefix;
        }
        if let Some(weight) = args.model_weight {
            matcher_config.model_weight = weight;
        }
        if let Some(ms) = args.model_timeout_ms {
            matcher_config.model_timeout_ms = ms;
        }
        crate::model::from_config(&matcher_config)?.map(|model| WithModel {
            model,
            weight: matcher_config.model_weight,
        })
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        if let Some(m) = &model {
            let started = Instant::now();
            m.model.prepare(&flows).await.map_err(|e| {
                anyhow::anyhow!(
                    "the model at {} cannot embed the flows: {e}",
                    m.model.settings().url
                )
            })?;
            eprintln!(
                "the model {} embedded {} flows in {:.1} s",
                m.model.settings().name,
                flows.len(),
                started.elapsed().as_secs_f64()
            );
        }
        match args.command {
            None => match_stdin(&matcher, &flows, model.as_ref()).await,
            Some(MatchCommand::Eval { file, misses }) => {
                eval(&matcher, &flows, model.as_ref(), &file, misses).await
            }
        }
    })
}

/// One message through the matcher, with the model when there is one (the lexical answer when
/// the model fails or is slow, as in `sesame serve`). Also says whether the model answered.
async fn match_one(
    matcher: &Matcher,
    flows: &[Flow],
    model: Option<&WithModel>,
    text: &str,
    now: Option<Timestamp>,
) -> (MatchOutcome, bool) {
    let evidence = Evidence::default();
    let lexical = || match now {
        Some(now) => matcher.rank_at(text, |_| true, &evidence, now),
        None => matcher.rank(text, |_| true, &evidence),
    };
    let Some(m) = model else {
        return (lexical(), false);
    };
    let timeout = m.model.settings().timeout;
    match tokio::time::timeout(timeout, m.model.similarities(text, flows)).await {
        Ok(Ok(similarities)) => (
            matcher.rank_with_model(text, |_| true, &evidence, now, &similarities, m.weight),
            true,
        ),
        _ => (lexical(), false),
    }
}

async fn match_stdin(
    matcher: &Matcher,
    flows: &[Flow],
    model: Option<&WithModel>,
) -> anyhow::Result<ExitCode> {
    let stdout = std::io::stdout();
    for line in std::io::stdin().lock().lines() {
        let text = line.context("cannot read stdin")?;
        if text.trim().is_empty() {
            continue;
        }
        // The binary may read the clock: "until Friday" is resolved against now.
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64);
        let (outcome, _) = match_one(
            matcher,
            flows,
            model,
            &text,
            Some(Timestamp::from_millis(now)),
        )
        .await;
        let json = serde_json::json!({
            "text": text,
            "ranked": outcome.ranked,
            "confident": outcome.confident,
            "why": outcome.why,
            "extracted": outcome.extracted,
        });
        writeln!(stdout.lock(), "{json}")?;
    }
    Ok(ExitCode::SUCCESS)
}

/// The figures with the model, and what the model path cost per message.
pub struct ModelEval {
    pub report: Report,
    pub latency: Latency,
    /// Messages the model did not answer in time (or at all), matched lexically.
    pub fallbacks: usize,
}

/// Time per message through the model path (the model's call and the fused ranking).
#[derive(Debug, Clone)]
pub struct Latency {
    sorted: Vec<Duration>,
}

impl Latency {
    fn new(mut samples: Vec<Duration>) -> Latency {
        samples.sort();
        Latency { sorted: samples }
    }

    /// The `q` quantile (0.5 for the median), nearest rank.
    pub fn quantile(&self, q: f64) -> Duration {
        if self.sorted.is_empty() {
            return Duration::ZERO;
        }
        let rank = ((q * self.sorted.len() as f64).ceil() as usize).clamp(1, self.sorted.len());
        self.sorted[rank - 1]
    }

    pub fn max(&self) -> Duration {
        self.sorted.last().copied().unwrap_or_default()
    }
}

impl std::fmt::Display for Latency {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        write!(
            f,
            "p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms over {} messages",
            ms(self.quantile(0.5)),
            ms(self.quantile(0.99)),
            ms(self.max()),
            self.sorted.len()
        )
    }
}

/// Runs `messages` through the matcher with `model` (all flows requestable, no past choices),
/// timing each message's model path.
pub async fn evaluate_with_model(
    matcher: &Matcher,
    flows: &[Flow],
    model: &EmbeddingModel,
    weight: f64,
    messages: &[Labelled],
) -> ModelEval {
    let with = WithModel {
        model: model.clone(),
        weight,
    };
    let mut outcomes = Vec::with_capacity(messages.len());
    let mut samples = Vec::with_capacity(messages.len());
    let mut fallbacks = 0;
    for m in messages {
        let started = Instant::now();
        let (outcome, answered) = match_one(matcher, flows, Some(&with), &m.text, None).await;
        samples.push(started.elapsed());
        fallbacks += usize::from(!answered);
        outcomes.push(outcome);
    }
    ModelEval {
        report: evaluate_outcomes(messages, outcomes),
        latency: Latency::new(samples),
        fallbacks,
    }
}

async fn eval(
    matcher: &Matcher,
    flows: &[Flow],
    model: Option<&WithModel>,
    file: &Path,
    misses: bool,
) -> anyhow::Result<ExitCode> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let messages = parse_labelled(&text).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    println!(
        "{} labelled messages from {}",
        messages.len(),
        file.display()
    );
    let lexical = evaluate(matcher, &messages, &Evidence::default());
    let report = match model {
        None => {
            print_report(&lexical);
            lexical
        }
        Some(m) => {
            println!("without the model:");
            print_report(&lexical);
            let with = evaluate_with_model(matcher, flows, &m.model, m.weight, &messages).await;
            println!(
                "with the model {} (weight {}):",
                m.model.settings().name,
                m.weight
            );
            print_report(&with.report);
            println!(
                "model path per message: {}; {} of {} messages fell back to the matcher alone",
                with.latency,
                with.fallbacks,
                messages.len()
            );
            with.report
        }
    };
    if misses {
        for m in &report.misses {
            println!(
                "miss [{}] {:?}: expected {}, got {} ({}) - {}",
                m.kind,
                m.text,
                m.expected.as_deref().unwrap_or("no match"),
                m.got.as_deref().unwrap_or("nothing"),
                if m.confident {
                    "confident"
                } else {
                    "not confident"
                },
                m.why
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_report(report: &Report) {
    print!("{report}");
    let o = &report.overall;
    let share =
        |v: Option<f64>| v.map_or_else(|| String::from("-"), |v| format!("{:.1}%", v * 100.0));
    println!(
        "auto-pick {} ({} of {} messages with a right flow); confident-wrong {} ({} of {} confident answers)",
        share(o.auto_pick_rate()),
        o.auto_picked,
        o.matchable,
        share(o.confident_wrong_rate()),
        o.confident_wrong,
        o.confident
    );
}
