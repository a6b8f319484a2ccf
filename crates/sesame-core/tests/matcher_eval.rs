//! The matcher against the committed evaluation set (`eval/matcher`): a realistic catalog of 71
//! flows and labelled messages written the way people type. The targets must hold on both the
//! tune split (which the matcher was tuned on) and the holdout split (which it was not), so a
//! regression in either fails CI. The company's own words are loaded from
//! `eval/matcher/vocabulary.yaml`, as a company's `[matcher] vocabulary` file would be.
//! `sesame match eval --vocabulary eval/matcher/vocabulary.yaml` prints the same figures.

use sesame_core::flow::parse_flow;
use sesame_core::matcher::eval::{evaluate, parse_labelled, Report};
use sesame_core::matcher::{Evidence, Matcher, Vocabulary};
use sesame_core::Flow;
use std::path::PathBuf;

const TOP1: f64 = 0.90;
const TOP3: f64 = 0.97;
const ABSTAIN: f64 = 0.90;

fn eval_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../eval/matcher")
}

fn catalog() -> Vec<Flow> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(eval_dir().join("flows"))
        .expect("eval/matcher/flows exists")
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

fn run(split: &str) -> Report {
    let flows = catalog();
    assert!(flows.len() >= 60, "the catalog has {} flows", flows.len());
    let words = std::fs::read_to_string(eval_dir().join("vocabulary.yaml")).unwrap();
    let vocabulary = Vocabulary::builtin_extended_by(&words).unwrap();
    let matcher = Matcher::with_vocabulary(&flows, &vocabulary);
    let text = std::fs::read_to_string(eval_dir().join(format!("{split}.jsonl"))).unwrap();
    let messages = parse_labelled(&text).unwrap();
    let report = evaluate(&matcher, &messages, &Evidence::default());
    println!("{split} ({} messages)\n{report}", messages.len());
    for miss in &report.misses {
        println!(
            "  miss [{}] {:?}: expected {:?}, got {:?} (confident: {}) - {}",
            miss.kind, miss.text, miss.expected, miss.got, miss.confident, miss.why
        );
    }
    report
}

fn assert_targets(split: &str, report: &Report) {
    let o = &report.overall;
    let top1 = o.top1_accuracy().unwrap();
    let top3 = o.top3_recall().unwrap();
    let abstain = o.abstain_accuracy().unwrap();
    assert!(top1 >= TOP1, "{split}: top-1 accuracy {top1:.3} < {TOP1}");
    assert!(top3 >= TOP3, "{split}: top-3 recall {top3:.3} < {TOP3}");
    assert!(
        abstain >= ABSTAIN,
        "{split}: abstain accuracy {abstain:.3} < {ABSTAIN}"
    );
}

#[test]
fn the_tune_split_meets_the_targets() {
    assert_targets("tune", &run("tune"));
}

#[test]
fn the_holdout_split_meets_the_targets() {
    assert_targets("holdout", &run("holdout"));
}

#[test]
fn the_eval_set_is_large_enough_and_labels_real_flows() {
    let flows = catalog();
    let mut total = 0;
    for split in ["tune", "holdout"] {
        let text = std::fs::read_to_string(eval_dir().join(format!("{split}.jsonl"))).unwrap();
        for m in parse_labelled(&text).unwrap() {
            total += 1;
            if let Some(flow) = &m.flow {
                assert!(
                    flows.iter().any(|f| f.id.as_str() == flow),
                    "{flow} is not in the catalog"
                );
            }
        }
    }
    assert!(total >= 300, "{total} labelled messages");
}
