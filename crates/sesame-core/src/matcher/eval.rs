//! Measuring the matcher on labelled messages: top-1 accuracy and top-3 recall on messages that
//! have a right flow, abstain accuracy (no confident proposal) on messages that have none, the
//! auto-pick rate (the right flow proposed on its own) and the confident-wrong rate (wrong
//! proposals as a share of all proposals). Shared by `sesame match eval` and the core tests that
//! hold the targets.

use super::{Evidence, MatchOutcome, Matcher};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// One labelled message: `flow` is `None` when no flow fits.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Labelled {
    pub text: String,
    pub flow: Option<String>,
    pub kind: String,
}

/// Parses JSON lines (blank lines skipped); errors name the line.
pub fn parse_labelled(text: &str) -> Result<Vec<Labelled>, String> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(n, l)| serde_json::from_str(l).map_err(|e| format!("line {}: {e}", n + 1)))
        .collect()
}

/// Counts for one kind of message (or all of them).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    pub messages: usize,
    /// Messages with a right flow, and how often it came first / in the first three.
    pub matchable: usize,
    pub top1: usize,
    pub top3: usize,
    /// Messages with no right flow, and how often the matcher made no confident proposal.
    pub no_match: usize,
    pub abstained: usize,
    /// Confident proposals of a wrong flow (the costly mistake).
    pub confident_wrong: usize,
    /// Confident proposals overall.
    pub confident: usize,
    /// Confident proposals of the right flow (messages that need no list).
    pub auto_picked: usize,
}

fn ratio(n: usize, of: usize) -> Option<f64> {
    (of > 0).then(|| n as f64 / of as f64)
}

impl Tally {
    pub fn top1_accuracy(&self) -> Option<f64> {
        ratio(self.top1, self.matchable)
    }
    pub fn top3_recall(&self) -> Option<f64> {
        ratio(self.top3, self.matchable)
    }
    pub fn abstain_accuracy(&self) -> Option<f64> {
        ratio(self.abstained, self.no_match)
    }
    /// Of the messages with a right flow, how often it was proposed on its own.
    pub fn auto_pick_rate(&self) -> Option<f64> {
        ratio(self.auto_picked, self.matchable)
    }
    /// Of the confident proposals, how many were wrong.
    pub fn confident_wrong_rate(&self) -> Option<f64> {
        ratio(self.confident_wrong, self.confident)
    }
}

/// A message the matcher got wrong, for looking at.
#[derive(Debug, Clone, Serialize)]
pub struct Miss {
    pub text: String,
    pub kind: String,
    pub expected: Option<String>,
    pub got: Option<String>,
    pub confident: bool,
    pub why: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    pub overall: Tally,
    pub by_kind: BTreeMap<String, Tally>,
    pub misses: Vec<Miss>,
}

/// Runs every message through `matcher` (all flows requestable) with `evidence`.
pub fn evaluate(matcher: &Matcher, messages: &[Labelled], evidence: &Evidence) -> Report {
    evaluate_outcomes(
        messages,
        messages
            .iter()
            .map(|m| matcher.rank(&m.text, |_| true, evidence)),
    )
}

/// Scores outcomes computed elsewhere (with a model, say), one for each of `messages` in order.
pub fn evaluate_outcomes(
    messages: &[Labelled],
    outcomes: impl IntoIterator<Item = MatchOutcome>,
) -> Report {
    let mut report = Report::default();
    for (m, outcome) in messages.iter().zip(outcomes) {
        let ids: Vec<&str> = outcome.ranked.iter().map(|s| s.flow.as_str()).collect();
        let proposal = outcome.proposal().map(|f| f.as_str());
        let right_first = ids.first().copied() == m.flow.as_deref();
        let wrong_proposal = proposal.is_some() && proposal != m.flow.as_deref();
        for tally in [
            &mut report.overall,
            report.by_kind.entry(m.kind.clone()).or_default(),
        ] {
            tally.messages += 1;
            tally.confident += usize::from(outcome.confident);
            tally.confident_wrong += usize::from(wrong_proposal);
            match &m.flow {
                Some(flow) => {
                    tally.matchable += 1;
                    tally.top1 += usize::from(right_first);
                    tally.top3 += usize::from(ids.iter().take(3).any(|f| f == flow));
                    tally.auto_picked += usize::from(proposal == Some(flow.as_str()));
                }
                None => {
                    tally.no_match += 1;
                    tally.abstained += usize::from(!outcome.confident);
                }
            }
        }
        let missed = match &m.flow {
            Some(_) => !right_first || wrong_proposal,
            None => outcome.confident,
        };
        if missed {
            report.misses.push(Miss {
                text: m.text.clone(),
                kind: m.kind.clone(),
                expected: m.flow.clone(),
                got: ids.first().map(|s| (*s).to_owned()),
                confident: outcome.confident,
                why: outcome.why.clone(),
            });
        }
    }
    report
}

fn percent(value: Option<f64>) -> String {
    value.map_or_else(|| String::from("-"), |v| format!("{:.1}%", v * 100.0))
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{:<14}{:>6}{:>9}{:>9}{:>10}{:>11}{:>11}{:>17}",
            "kind", "n", "top-1", "top-3", "abstain", "auto-pick", "confident", "confident-wrong"
        )?;
        let overall = String::from("overall");
        let rows = self
            .by_kind
            .iter()
            .chain(std::iter::once((&overall, &self.overall)));
        for (kind, t) in rows {
            let wrong = match t.confident_wrong_rate() {
                Some(rate) => format!("{} ({})", t.confident_wrong, percent(Some(rate))),
                None => String::from("0"),
            };
            writeln!(
                f,
                "{:<14}{:>6}{:>9}{:>9}{:>10}{:>11}{:>11}{:>17}",
                kind,
                t.messages,
                percent(t.top1_accuracy()),
                percent(t.top3_recall()),
                percent(t.abstain_accuracy()),
                percent(t.auto_pick_rate()),
                t.confident,
                wrong
            )?;
        }
        Ok(())
    }
}
