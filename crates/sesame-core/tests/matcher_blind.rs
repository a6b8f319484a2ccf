//! The matcher against the blind evaluation set (`eval/matcher-blind`): a hospital network's
//! catalog of 104 flows and 453 messages written without seeing the matcher, its vocabulary or its
//! tuning set. Nothing in the matcher may be taken from these messages, so this test prints the
//! figures overall and per kind, never the individual misses, and holds the matcher to the
//! figures it reached (see `eval/matcher-blind/README.md`).

use sesame_core::flow::parse_flow;
use sesame_core::matcher::eval::{evaluate, parse_labelled, Report};
use sesame_core::matcher::{Evidence, Matcher};
use sesame_core::Flow;
use std::path::PathBuf;

fn eval_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../eval/matcher-blind")
}

fn catalog() -> Vec<Flow> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(eval_dir().join("flows"))
        .expect("eval/matcher-blind/flows exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|p| {
            let text = std::fs::read_to_string(p).unwrap();
            parse_flow(&p.display().to_string(), &text).unwrap_or_else(|e| panic!("{e:#?}"))
        })
        .collect()
}

/// The built-in matcher alone: no site vocabulary, no past choices.
fn run() -> Report {
    let flows = catalog();
    let matcher = Matcher::new(&flows);
    let text = std::fs::read_to_string(eval_dir().join("messages.jsonl")).unwrap();
    let messages = parse_labelled(&text).unwrap();
    let report = evaluate(&matcher, &messages, &Evidence::default());
    println!("blind ({} messages)\n{report}", messages.len());
    report
}

// The figures the built-in matcher reached on this set (see eval/matcher-blind/README.md), a
// little below the measured ones so that rounding does not fail the test. The targets the issue
// set (top-1 90%, top-3 97%, abstain 92%, confident-wrong 3%) are not all reached yet; these hold
// what was reached, so that a regression fails.
const TOP1: f64 = 0.75;
const TOP3: f64 = 0.86;
const ABSTAIN: f64 = 0.88;
const AUTO_PICK: f64 = 0.54;
const CONFIDENT_WRONG: f64 = 0.05;

#[test]
fn the_blind_set_holds_the_figures_reached() {
    let report = run();
    let o = &report.overall;
    let top1 = o.top1_accuracy().unwrap();
    let top3 = o.top3_recall().unwrap();
    let abstain = o.abstain_accuracy().unwrap();
    let auto_pick = o.auto_pick_rate().unwrap();
    let wrong = o.confident_wrong_rate().unwrap();
    assert!(top1 >= TOP1, "blind: top-1 accuracy {top1:.3} < {TOP1}");
    assert!(top3 >= TOP3, "blind: top-3 recall {top3:.3} < {TOP3}");
    assert!(
        abstain >= ABSTAIN,
        "blind: abstain accuracy {abstain:.3} < {ABSTAIN}"
    );
    assert!(
        auto_pick >= AUTO_PICK,
        "blind: auto-pick rate {auto_pick:.3} < {AUTO_PICK}"
    );
    assert!(
        wrong <= CONFIDENT_WRONG,
        "blind: confident-wrong rate {wrong:.3} > {CONFIDENT_WRONG}"
    );
}

#[test]
fn the_blind_set_labels_real_flows() {
    let flows = catalog();
    assert_eq!(flows.len(), 104);
    let text = std::fs::read_to_string(eval_dir().join("messages.jsonl")).unwrap();
    let messages = parse_labelled(&text).unwrap();
    assert_eq!(messages.len(), 453);
    for m in messages.iter().filter_map(|m| m.flow.as_ref()) {
        assert!(
            flows.iter().any(|f| f.id.as_str() == m),
            "{m} is not in the catalog"
        );
    }
}
