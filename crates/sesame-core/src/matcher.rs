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
//! `fusion` adds an embeddings model as a second retrieval path (the caller asks the model);
//! `eval` measures all of this on labelled messages. See `docs/matching.md`.

pub mod eval;
mod evidence;
mod extract;
mod fusion;
mod fuzzy;
mod index;
mod lexicon;
mod normalize;
mod reason;
mod score;
#[cfg(test)]
mod tests;
mod vocabulary;
mod words;

pub use evidence::{Evidence, PastChoice};
pub use extract::Extracted;
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

    /// Like [`Matcher::rank_at`] (or [`Matcher::rank`] without `now`), with an embeddings
    /// model's cosine `similarities` between the message and the flows as a second retrieval
    /// path (`model_weight` between 0 and 1; see `fusion` for how the two are combined and when
    /// the result is confident). Flows `may_request` refuses are dropped from `similarities`, so
    /// a model can never put forward a flow the person may not request.
    pub fn rank_with_model(
        &self,
        text: &str,
        may_request: impl Fn(&FlowId) -> bool,
        evidence: &Evidence,
        now: Option<Timestamp>,
        similarities: &[(FlowId, f64)],
        model_weight: f64,
    ) -> MatchOutcome {
        let lexical = self.lexical(text, &may_request, evidence);
        let flows = &self.index.flows;
        let similarities: Vec<(u32, f64)> = similarities
            .iter()
            .filter(|(id, _)| may_request(id))
            .filter_map(|(id, s)| self.index.by_id.get(id).map(|&flow| (flow, *s)))
            .collect();
        let fused = fusion::fuse(
            &self.index,
            &self.lexicon,
            &lexical.reading,
            &lexical.ranked,
            &similarities,
            model_weight,
        );
        let ranked = fused.ranked;
        let lexical_confident = lexical.confident();
        let best = ranked.first();
        let second = ranked.get(1).map_or(0.0, |r| r.score);
        let ruled_out = |flow: u32| lexical.signs.rules_out(&flows[flow as usize].key_concepts);
        let lexical_first = lexical.ranked.first().map(|r| r.flow);
        let (confident, why) = match best {
            None => (false, lexical.why(&self.index)),
            Some(best) if lexical_confident && lexical_first == Some(best.flow) => {
                (true, lexical.why(&self.index))
            }
            Some(best)
                if !lexical_confident
                    && fused.model_first == Some(best.flow)
                    && best.score >= fusion::MODEL_CONFIDENT
                    && best.score - second >= fusion::MODEL_MARGIN =>
            {
                if ruled_out(best.flow) {
                    (false, String::from(NOT_A_REQUEST))
                } else {
                    let name = &flows[best.flow as usize].name;
                    let why = match reason::grounds_of(best, &lexical.reading, &self.index) {
                        Some(grounds) => format!("{grounds}, and the message reads like it"),
                        None => format!("what you wrote reads like {name}"),
                    };
                    (true, why)
                }
            }
            Some(best) if !best.because.is_empty() => (
                false,
                reason::why(&ranked, false, &lexical.reading, &self.index),
            ),
            Some(best) => {
                let close: Vec<&str> = ranked
                    .iter()
                    .take(3)
                    .filter(|r| best.score - r.score < score::CONFIDENT_MARGIN)
                    .map(|r| flows[r.flow as usize].name.as_str())
                    .collect();
                (
                    false,
                    format!(
                        "not sure: what you wrote reads most like {}; pick a flow from the list",
                        close.join(" or ")
                    ),
                )
            }
        };
        self.outcome(text, now, &ranked, confident, why)
    }

    fn rank_inner(
        &self,
        text: &str,
        may_request: &dyn Fn(&FlowId) -> bool,
        evidence: &Evidence,
        now: Option<Timestamp>,
    ) -> MatchOutcome {
        let lexical = self.lexical(text, may_request, evidence);
        let why = lexical.why(&self.index);
        self.outcome(text, now, &lexical.ranked, lexical.confident(), why)
    }

    /// The lexical matcher's ranking, with what it read and the signs of a message that is not
    /// a request.
    fn lexical(
        &self,
        text: &str,
        may_request: &dyn Fn(&FlowId) -> bool,
        evidence: &Evidence,
    ) -> Lexical {
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
        Lexical {
            reading,
            ranked,
            signs,
            not_a_request,
        }
    }

    fn outcome(
        &self,
        text: &str,
        now: Option<Timestamp>,
        ranked: &[Ranked],
        confident: bool,
        why: String,
    ) -> MatchOutcome {
        let flows = &self.index.flows;
        let mut extracted = extract::extract(text, now);
        if ranked
            .first()
            .is_some_and(|r| !flows[r.flow as usize].takes_justification)
        {
            extracted.justification = None;
        }
        MatchOutcome {
            ranked: ranked
                .iter()
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

/// Why a message that reads like a problem, a reset or a question gets no proposal.
const NOT_A_REQUEST: &str = "this reads like a problem, a reset or a question rather than a \
     request for access; pick a flow from the list if you need one";

/// What the lexical matcher made of a message.
struct Lexical {
    reading: lexicon::Reading,
    ranked: Vec<Ranked>,
    signs: lexicon::Signs,
    /// Whether a sign rules out proposing the lexical first flow.
    not_a_request: bool,
}

impl Lexical {
    fn confident(&self) -> bool {
        score::confident(&self.ranked) && !self.not_a_request
    }

    fn why(&self, index: &Index) -> String {
        if self.not_a_request && score::confident(&self.ranked) {
            String::from(NOT_A_REQUEST)
        } else {
            reason::why(&self.ranked, self.confident(), &self.reading, index)
        }
    }
}
