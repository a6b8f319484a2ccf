//! Matching what a person wrote ("I need carpark access") to the flows they may request.
//!
//! The matcher is built once per catalog ([`Matcher::new`]) and answers [`Matcher::rank`] without
//! I/O: a ranked list with scores, whether the best is confident enough to propose on its own, and a
//! short reason a person can read. When nothing fits well it abstains (`confident: false`) and the
//! caller shows the list: a confident wrong flow is worse than a list.
//!
//! What people chose before counts as evidence ([`Evidence`]): when someone picks a flow after a
//! free-text message, the pair is remembered and similar messages later lean towards that flow.

use crate::flow::Flow;
use crate::ids::FlowId;
use crate::time::Span;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// The lowest score the best flow needs before it is proposed on its own.
const CONFIDENT_SCORE: f64 = 0.5;
/// How far ahead of the second the best flow must be to be proposed on its own.
const CONFIDENT_MARGIN: f64 = 0.15;
/// Past choices at least this similar to the message lend it their flow.
const EVIDENCE_SIMILARITY: f64 = 0.6;

/// One flow and how well it fits, between 0 and 1.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scored {
    pub flow: FlowId,
    pub score: f64,
}

/// What the message already says, for pre-filling the flow's questions.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Extracted {
    /// "for 2 hours", "for 3 days".
    pub duration: Option<Span>,
    /// A ticket reference such as `INC-4411`.
    pub ticket: Option<String>,
    /// The message itself, trimmed, as the justification's first draft.
    pub justification: Option<String>,
}

/// The answer to one message.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MatchOutcome {
    /// Flows that fit at all, best first.
    pub ranked: Vec<Scored>,
    /// Whether `ranked[0]` is good enough to propose on its own.
    pub confident: bool,
    /// Why the best flow fits (or why there is no proposal), for people.
    pub why: String,
    pub extracted: Extracted,
}

impl MatchOutcome {
    /// The proposed flow, when the match is confident.
    pub fn proposal(&self) -> Option<&FlowId> {
        self.confident
            .then(|| self.ranked.first().map(|s| &s.flow))
            .flatten()
    }
}

/// Free text someone wrote and the flow they then chose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PastChoice {
    pub text: String,
    pub flow: FlowId,
}

/// Past choices, indexed for lookup by similar words.
#[derive(Debug, Clone, Default)]
pub struct Evidence {
    choices: Vec<(BTreeSet<String>, FlowId)>,
}

impl Evidence {
    pub fn new(choices: impl IntoIterator<Item = PastChoice>) -> Evidence {
        let mut evidence = Evidence::default();
        for choice in choices {
            evidence.add(choice);
        }
        evidence
    }

    pub fn add(&mut self, choice: PastChoice) {
        let words: BTreeSet<String> = words(&choice.text).collect();
        if !words.is_empty() {
            self.choices.push((words, choice.flow));
        }
    }

    pub fn len(&self) -> usize {
        self.choices.len()
    }

    pub fn is_empty(&self) -> bool {
        self.choices.is_empty()
    }
}

/// One flow's words, weighted by where they come from.
#[derive(Debug, Clone)]
struct Entry {
    flow: FlowId,
    name: String,
    weights: BTreeMap<String, (f64, &'static str)>,
}

/// The catalog, indexed for matching.
#[derive(Debug, Clone, Default)]
pub struct Matcher {
    entries: Vec<Entry>,
}

impl Matcher {
    pub fn new<'a>(flows: impl IntoIterator<Item = &'a Flow>) -> Matcher {
        let entries = flows
            .into_iter()
            .map(|flow| {
                let mut weights = BTreeMap::new();
                let sources: [(&str, f64, &'static str); 3] = [
                    (&flow.description, 0.4, "description"),
                    (&flow.category, 0.5, "category"),
                    (&flow.name, 1.0, "name"),
                ];
                for (text, weight, source) in sources {
                    for word in words(text) {
                        weights.insert(word, (weight, source));
                    }
                }
                for keyword in &flow.keywords {
                    for word in words(keyword) {
                        weights.entry(word).or_insert((0.9, "keywords"));
                    }
                }
                Entry {
                    flow: flow.id.clone(),
                    name: flow.name.clone(),
                    weights,
                }
            })
            .collect();
        Matcher { entries }
    }

    /// Ranks the flows `may_request` allows for `text`.
    pub fn rank(
        &self,
        text: &str,
        may_request: impl Fn(&FlowId) -> bool,
        evidence: &Evidence,
    ) -> MatchOutcome {
        let message: BTreeSet<String> = words(text).collect();
        let mut scored: Vec<(f64, &Entry, Option<String>)> = self
            .entries
            .iter()
            .filter(|e| may_request(&e.flow))
            .map(|entry| {
                let mut best: Option<(f64, &str, &str)> = None;
                let mut total = 0.0;
                for word in &message {
                    if let Some((weight, source)) = entry.weights.get(word) {
                        total += weight;
                        if best.is_none_or(|(w, _, _)| *weight > w) {
                            best = Some((*weight, word, source));
                        }
                    }
                }
                let reason = best.map(|(_, word, source)| {
                    format!("'{word}' is in the {source} of {}", entry.name)
                });
                (total / (total + 1.0), entry, reason)
            })
            .collect();
        for (words_seen, flow) in &evidence.choices {
            let similarity = overlap(&message, words_seen);
            if similarity >= EVIDENCE_SIMILARITY {
                if let Some(item) = scored.iter_mut().find(|(_, e, _)| &e.flow == flow) {
                    item.0 = (item.0 + 0.5 * similarity).min(1.0);
                    item.2.get_or_insert_with(|| {
                        format!("people who wrote something similar chose {}", item.1.name)
                    });
                }
            }
        }
        scored.retain(|(score, _, _)| *score > 0.0);
        scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.flow.cmp(&b.1.flow)));
        let confident = match scored.as_slice() {
            [] => false,
            [(best, ..)] => *best >= CONFIDENT_SCORE,
            [(best, ..), (second, ..), ..] => {
                *best >= CONFIDENT_SCORE && best - second >= CONFIDENT_MARGIN
            }
        };
        let why = match scored.first() {
            Some((_, _, Some(reason))) if confident => reason.clone(),
            Some(_) => String::from("no flow fits clearly; pick one from the list"),
            None => String::from("nothing you may request matches what you wrote"),
        };
        MatchOutcome {
            ranked: scored
                .into_iter()
                .map(|(score, entry, _)| Scored {
                    flow: entry.flow.clone(),
                    score: (score * 1000.0).round() / 1000.0,
                })
                .collect(),
            confident,
            why,
            extracted: extract(text),
        }
    }
}

/// Share of the smaller set's words found in the other.
fn overlap(a: &BTreeSet<String>, b: &BTreeSet<String>) -> f64 {
    let smaller = a.len().min(b.len());
    if smaller == 0 {
        return 0.0;
    }
    a.intersection(b).count() as f64 / smaller as f64
}

/// Words that carry meaning: lowercase letters and digits, without the words every request shares.
fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.len() > 1)
        .map(str::to_lowercase)
        .filter(|w| !STOP_WORDS.contains(&w.as_str()))
}

const STOP_WORDS: &[&str] = &[
    "a", "an", "and", "access", "am", "any", "are", "as", "at", "be", "can", "could", "do", "for",
    "from", "get", "have", "hi", "hello", "i", "in", "into", "is", "it", "me", "my", "need", "of",
    "on", "please", "pls", "request", "the", "to", "want", "we", "with", "would", "you",
];

/// Pulls out a ticket reference and a simple duration ("for 2 hours").
fn extract(text: &str) -> Extracted {
    let trimmed = text.trim();
    let ticket = trimmed
        .split(|c: char| c.is_whitespace() || ",.;:()[]".contains(c))
        .find(|w| is_ticket(w))
        .map(str::to_owned);
    let tokens: Vec<String> = trimmed
        .split_whitespace()
        .map(|w| {
            w.trim_matches(|c: char| !c.is_alphanumeric())
                .to_lowercase()
        })
        .collect();
    let duration = tokens.windows(3).find_map(|w| {
        if w[0] != "for" {
            return None;
        }
        let amount: u32 = w[1].parse().ok()?;
        let unit = match w[2].trim_end_matches('s') {
            "minute" | "min" => "m",
            "hour" | "hr" | "h" => "h",
            "day" | "d" => "d",
            "week" | "wk" | "w" => "w",
            _ => return None,
        };
        Span::parse(&format!("{amount}{unit}")).ok()
    });
    Extracted {
        duration,
        ticket,
        justification: (!trimmed.is_empty()).then(|| trimmed.to_owned()),
    }
}

/// `ABC-123`: letters, a dash, digits.
fn is_ticket(word: &str) -> bool {
    let Some((prefix, number)) = word.split_once('-') else {
        return false;
    };
    (2..=10).contains(&prefix.len())
        && prefix.chars().all(|c| c.is_ascii_uppercase())
        && !number.is_empty()
        && number.chars().all(|c| c.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog() -> Vec<Flow> {
        let flow = |id: &str, name: &str, keywords: &str| {
            crate::test_support::flow(&format!(
                "id: {id}\nname: {name}\ncategory: Facilities\nrequesters: everyone\nkeywords: [{keywords}]\n\
                 approval:\n  - {{ approvers: manager }}\nfulfillment: {{ manual: {{ group: facilities }} }}\n"
            ))
        };
        vec![
            flow("carpark", "Carpark access", "parking, garage"),
            flow("badge", "Office badge", "door, building"),
        ]
    }

    #[test]
    fn a_clear_message_is_matched_with_a_reason() {
        let flows = catalog();
        let matcher = Matcher::new(&flows);
        let outcome = matcher.rank("I need carpark access", |_| true, &Evidence::default());
        assert_eq!(outcome.proposal().map(FlowId::as_str), Some("carpark"));
        assert!(outcome.why.contains("carpark"), "{}", outcome.why);
    }

    #[test]
    fn nothing_fitting_abstains_and_forbidden_flows_are_never_ranked() {
        let flows = catalog();
        let matcher = Matcher::new(&flows);
        let outcome = matcher.rank("what's for lunch?", |_| true, &Evidence::default());
        assert!(!outcome.confident);
        assert!(outcome.ranked.is_empty());
        let outcome = matcher.rank("carpark", |f| f.as_str() != "carpark", &Evidence::default());
        assert!(outcome.ranked.iter().all(|s| s.flow.as_str() != "carpark"));
    }

    #[test]
    fn past_choices_lend_their_flow_to_similar_messages() {
        let flows = catalog();
        let matcher = Matcher::new(&flows);
        let evidence = Evidence::new([PastChoice {
            text: String::from("spot for my car tomorrow"),
            flow: FlowId::new("carpark").unwrap(),
        }]);
        let outcome = matcher.rank("a spot for my car", |_| true, &evidence);
        assert_eq!(outcome.ranked[0].flow.as_str(), "carpark");
    }

    #[test]
    fn tickets_and_durations_are_pulled_out() {
        let e = extract("need prod db for 2 hours, INC-4411");
        assert_eq!(e.ticket.as_deref(), Some("INC-4411"));
        assert_eq!(e.duration, Span::parse("2h").ok());
    }
}
