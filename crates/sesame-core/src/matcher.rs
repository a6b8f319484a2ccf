//! Matching what a person wrote ("I can't get into the parking garage") to the flows they may
//! request.
//!
//! The matcher is built once per catalog ([`Matcher::new`], or [`Matcher::with_vocabulary`] with a
//! site's additions) and answers [`Matcher::rank`] without I/O: a ranked list with scores, whether
//! the best is confident enough to propose on its own, a short reason a person can read, and what
//! the message already says (duration, ticket, justification). When nothing fits well it abstains
//! (`confident: false`) and the caller shows the list: a confident wrong flow is worse than a list.
//!
//! How a message is read, step by step (each in its own module):
//! - `normalize`: folded words (case, accents, emoji codes, ticket references left out);
//! - `lexicon` with `vocabulary`: phrases, synonyms, abbreviations and translations mapped to
//!   concepts, German compounds split, typos corrected (`fuzzy`);
//! - `index` and `score`: flows scored by the rare, prominent concepts they share with the
//!   message; confidence from score, lead over the next flow and how much of the message is
//!   explained;
//! - `evidence`: what people chose before for similar messages;
//! - `reason` and `extract`: the sentence that says why, and the pre-filled answers.
//!
//! `rerank` is the seam for an optional external re-ranker; `eval` measures all of this on
//! labelled messages. See `docs/matching.md`.

pub mod eval;
mod evidence;
mod extract;
mod fuzzy;
mod index;
mod lexicon;
mod normalize;
mod reason;
mod rerank;
mod score;
#[cfg(test)]
mod tests;
mod vocabulary;
mod words;

pub use evidence::{Evidence, PastChoice};
pub use extract::Extracted;
pub use rerank::blend_external;
pub use vocabulary::{NotARequest, Vocabulary, VocabularyError};

use crate::flow::Flow;
use crate::ids::FlowId;
use crate::time::Timestamp;
use index::Index;
use lexicon::Lexicon;
use score::Ranked;
use serde::Serialize;

/// How much fully similar past choices can add to a flow's score.
const EVIDENCE_WEIGHT: f32 = 0.85;
/// Flows scoring below this are not listed at all.
const LISTED_SCORE: f32 = 0.05;
/// At most this many flows are listed.
const LISTED: usize = 10;

/// One flow and how well it fits, between 0 and 1.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scored {
    pub flow: FlowId,
    pub score: f64,
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

/// The catalog, indexed for matching.
#[derive(Debug, Clone)]
pub struct Matcher {
    lexicon: Lexicon,
    index: Index,
}

impl Default for Matcher {
    fn default() -> Matcher {
        Matcher::new([])
    }
}

impl Matcher {
    /// Indexes `flows` with the built-in vocabulary.
    pub fn new<'a>(flows: impl IntoIterator<Item = &'a Flow>) -> Matcher {
        Matcher::with_vocabulary(flows, &Vocabulary::builtin())
    }

    /// Indexes `flows` with `vocabulary` (usually `Vocabulary::builtin_extended_by(config)`).
    pub fn with_vocabulary<'a>(
        flows: impl IntoIterator<Item = &'a Flow>,
        vocabulary: &Vocabulary,
    ) -> Matcher {
        let flows: Vec<&Flow> = flows.into_iter().collect();
        let mut lexicon = Lexicon::new(vocabulary);
        let index = Index::new(&flows, &mut lexicon);
        Matcher { lexicon, index }
    }

    /// Ranks the flows `may_request` allows for `text`. Without a reference time, "until Friday"
    /// is not resolved; use [`Matcher::rank_at`] for that.
    pub fn rank(
        &self,
        text: &str,
        may_request: impl Fn(&FlowId) -> bool,
        evidence: &Evidence,
    ) -> MatchOutcome {
        self.rank_inner(text, &may_request, evidence, None)
    }

    /// Like [`Matcher::rank`], resolving "until Friday" and "till tomorrow" against `now`.
    pub fn rank_at(
        &self,
        text: &str,
        may_request: impl Fn(&FlowId) -> bool,
        evidence: &Evidence,
        now: Timestamp,
    ) -> MatchOutcome {
        self.rank_inner(text, &may_request, evidence, Some(now))
    }

    fn rank_inner(
        &self,
        text: &str,
        may_request: &dyn Fn(&FlowId) -> bool,
        evidence: &Evidence,
        now: Option<Timestamp>,
    ) -> MatchOutcome {
        let reading = self.lexicon.read(text, true);
        let flows = &self.index.flows;
        let allowed = |flow: u32| may_request(&flows[flow as usize].id);
        let mut ranked = score::score(&self.index, &self.lexicon, &reading, &allowed);
        self.add_evidence(&mut ranked, text, evidence, &allowed);
        ranked.retain(|r| r.score >= LISTED_SCORE);
        ranked.truncate(LISTED);
        // A message that is not a request (a reset, a problem, a status question) gets the list,
        // never a proposal, unless the best flow is about exactly that.
        let signs = self.lexicon.not_a_request(&reading);
        let not_a_request = ranked
            .first()
            .is_some_and(|r| signs.rules_out(&flows[r.flow as usize].key_concepts));
        let confident = score::confident(&ranked) && !not_a_request;
        let why = if not_a_request && score::confident(&ranked) {
            String::from(
                "this reads like a problem, a reset or a question rather than a request for \
                 access; pick a flow from the list if you need one",
            )
        } else {
            reason::why(&ranked, confident, &reading, &self.index)
        };
        let mut extracted = extract::extract(text, now);
        if ranked
            .first()
            .is_some_and(|r| !flows[r.flow as usize].takes_justification)
        {
            extracted.justification = None;
        }
        MatchOutcome {
            ranked: ranked
                .into_iter()
                .map(|r| Scored {
                    flow: flows[r.flow as usize].id.clone(),
                    score: (f64::from(r.score) * 1000.0).round() / 1000.0,
                })
                .collect(),
            confident,
            why,
            extracted,
        }
    }

    /// Raises the flows similar past messages chose: `score + (1 - score) * weight * support`.
    fn add_evidence(
        &self,
        ranked: &mut Vec<Ranked>,
        text: &str,
        evidence: &Evidence,
        allowed: &dyn Fn(u32) -> bool,
    ) {
        let support = evidence.support(text);
        if support.is_empty() {
            return;
        }
        for (flow_id, support) in support {
            let Some(&flow) = self.index.by_id.get(flow_id) else {
                continue;
            };
            if !allowed(flow) {
                continue;
            }
            let position = match ranked.iter().position(|r| r.flow == flow) {
                Some(p) => p,
                None => {
                    ranked.push(Ranked::from_evidence(flow));
                    ranked.len() - 1
                }
            };
            let r = &mut ranked[position];
            r.evidence = support;
            r.score += (1.0 - r.score) * EVIDENCE_WEIGHT * support;
        }
        score::sort(ranked, &self.index, &self.lexicon);
    }
}
