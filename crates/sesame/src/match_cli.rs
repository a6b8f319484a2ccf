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
//! Without `--flows`, the configuration's flows directory is used.

use anyhow::{bail, Context};
use clap::{Args, Subcommand};
use sesame_app::Catalog;
use sesame_core::matcher::eval::{evaluate, parse_labelled};
use sesame_core::matcher::{Evidence, Matcher, Vocabulary};
use sesame_core::Timestamp;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Args)]
pub struct MatchArgs {
    /// The flows directory to match against (default: the configuration's).
    #[arg(long, global = true)]
    flows: Option<PathBuf>,
    /// A YAML file of words to add to the built-in vocabulary (see docs/matching.md).
    #[arg(long, global = true)]
    vocabulary: Option<PathBuf>,
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

pub fn run(args: MatchArgs, config: Option<&Path>) -> anyhow::Result<ExitCode> {
    let dir = match args.flows {
        Some(dir) => dir,
        None => crate::config::load(config)?.0.flows.dir,
    };
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
    let extra = match &args.vocabulary {
        Some(path) => std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?,
        None => String::new(),
    };
    let vocabulary = Vocabulary::builtin_extended_by(&extra)?;
    let matcher = Matcher::with_vocabulary(catalog.flows(), &vocabulary);
    match args.command {
        None => match_stdin(&matcher),
        Some(MatchCommand::Eval { file, misses }) => eval(&matcher, &file, misses),
    }
}

fn match_stdin(matcher: &Matcher) -> anyhow::Result<ExitCode> {
    let evidence = Evidence::default();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for line in std::io::stdin().lock().lines() {
        let text = line.context("cannot read stdin")?;
        if text.trim().is_empty() {
            continue;
        }
        // The binary may read the clock: "until Friday" is resolved against now.
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64);
        let outcome = matcher.rank_at(&text, |_| true, &evidence, Timestamp::from_millis(now));
        let json = serde_json::json!({
            "text": text,
            "ranked": outcome.ranked,
            "confident": outcome.confident,
            "why": outcome.why,
            "extracted": outcome.extracted,
        });
        writeln!(out, "{json}")?;
    }
    Ok(ExitCode::SUCCESS)
}

fn eval(matcher: &Matcher, file: &Path, misses: bool) -> anyhow::Result<ExitCode> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let messages = parse_labelled(&text).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    let report = evaluate(matcher, &messages, &Evidence::default());
    println!(
        "{} labelled messages from {}",
        messages.len(),
        file.display()
    );
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
