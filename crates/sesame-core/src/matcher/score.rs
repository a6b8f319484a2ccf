//! Scoring flows against what a message mentions, and deciding whether the best is clear enough
//! to propose on its own.
//!
//! A flow's content score grows with the rare, prominent concepts it shares with the message and
//! saturates (three good matches are not three times as sure as one). It is then scaled by how
//! much of the flow's name the message covers, which separates near neighbours, and cut when the
//! message names something the flow rules out (staging for a production flow).

use super::index::Index;
use super::lexicon::{Concept, Hit, Lexicon, Reading};
use std::collections::HashMap;

/// Raw match strength at which the content score reaches 63%.
const SATURATION: f32 = 0.9;
/// The share of the score a flow gets before any of its name is covered.
const NAME_BASE: f32 = 0.6;
/// The factor for a flow whose name or keywords rule out something the message asks for.
const EXCLUDED: f32 = 0.55;
/// The factor for a flow granting more (admin, write) than the message asks for.
const ELEVATED: f32 = 0.9;
/// How much a word nothing knows counts against coverage: less than a known concept, since
/// chat is full of words that say nothing about the flow ("quarterly", "Anna").
const UNKNOWN: f32 = 0.35;

/// Thresholds for proposing the best flow on its own.
pub(super) const CONFIDENT_SCORE: f32 = 0.42;
pub(super) const CONFIDENT_MARGIN: f32 = 0.1;
pub(super) const CONFIDENT_COVERAGE: f32 = 0.4;

/// One flow's score and what earned it.
#[derive(Debug, Clone)]
pub(super) struct Ranked {
    pub flow: u32,
    pub score: f32,
    /// The share of the message's meaning this flow accounts for.
    pub coverage: f32,
    /// The share of the flow's name the message covers.
    pub name_share: f32,
    /// Past choices' support, between 0 and 1.
    pub evidence: f32,
    /// Indexes into the reading's hits, with what each contributed.
    pub because: Vec<(usize, f32)>,
}

/// The message's concepts, each once with its best weight (index of the hit that said it).
pub(super) fn distinct(reading: &Reading) -> Vec<(usize, Concept, f32)> {
    let mut best: HashMap<Concept, (usize, f32)> = HashMap::new();
    for (
        i,
        Hit {
            concept, weight, ..
        },
    ) in reading.hits.iter().enumerate()
    {
        let entry = best.entry(*concept).or_insert((i, *weight));
        if *weight > entry.1 {
            *entry = (i, *weight);
        }
    }
    let mut out: Vec<(usize, Concept, f32)> =
        best.into_iter().map(|(c, (i, w))| (i, c, w)).collect();
    out.sort_by_key(|(i, _, _)| *i);
    out
}

/// Scores every allowed flow sharing at least one concept with the message, best first.
pub(super) fn score(
    index: &Index,
    lexicon: &Lexicon,
    reading: &Reading,
    allowed: &dyn Fn(u32) -> bool,
) -> Vec<Ranked> {
    let concepts = distinct(reading);
    let total: f32 = concepts
        .iter()
        .map(|(_, c, w)| index.idf(*c) * w)
        .sum::<f32>()
        + UNKNOWN * reading.unknown.len() as f32;
    #[derive(Default)]
    struct Acc {
        raw: f32,
        matched: f32,
        because: Vec<(usize, f32)>,
    }
    let mut acc: HashMap<u32, Acc> = HashMap::new();
    for &(hit, concept, weight) in &concepts {
        let idf = index.idf(concept);
        for &(flow, field) in index.postings.get(&concept).into_iter().flatten() {
            if !allowed(flow) {
                continue;
            }
            let a = acc.entry(flow).or_default();
            let contribution = weight * field * idf;
            a.raw += contribution;
            a.matched += weight * idf;
            a.because.push((hit, contribution));
        }
    }
    let mentioned: Vec<Concept> = concepts.iter().map(|(_, c, _)| *c).collect();
    let mut ranked: Vec<Ranked> = acc
        .into_iter()
        .map(|(flow, a)| {
            let entry = &index.flows[flow as usize];
            let name_total: f32 = entry.name_concepts.iter().map(|c| index.idf(*c)).sum();
            let name_covered: f32 = entry
                .name_concepts
                .iter()
                .filter_map(|c| concepts.iter().find(|(_, m, _)| m == c))
                .map(|(_, c, w)| index.idf(*c) * w)
                .sum();
            let name_share = if name_total > 0.0 {
                name_covered / name_total
            } else {
                0.0
            };
            let content = 1.0 - (-a.raw / SATURATION).exp();
            let mut score = content * (NAME_BASE + (1.0 - NAME_BASE) * name_share);
            for set in &lexicon.exclusive {
                let asked = set.iter().any(|c| mentioned.contains(c));
                let fits = set
                    .iter()
                    .any(|c| mentioned.contains(c) && entry.key_concepts.contains(c));
                let other = set.iter().any(|c| entry.key_concepts.contains(c));
                if asked && other && !fits {
                    score *= EXCLUDED;
                }
            }
            let unasked = |c: &Concept| entry.key_concepts.contains(c) && !mentioned.contains(c);
            if lexicon.elevated.iter().any(unasked) {
                score *= ELEVATED;
            }
            let mut because = a.because;
            because.sort_by(|x, y| y.1.total_cmp(&x.1));
            Ranked {
                flow,
                score,
                coverage: if total > 0.0 { a.matched / total } else { 0.0 },
                name_share,
                evidence: 0.0,
                because,
            }
        })
        .collect();
    sort(&mut ranked, index);
    ranked
}

/// Best first; equal scores in catalog order so that results are stable.
pub(super) fn sort(ranked: &mut [Ranked], index: &Index) {
    ranked.sort_by(|a, b| {
        b.score.total_cmp(&a.score).then_with(|| {
            index.flows[a.flow as usize]
                .id
                .cmp(&index.flows[b.flow as usize].id)
        })
    });
}

/// Whether the best flow is clear enough to propose on its own: good enough, well ahead of the
/// next, accounting for enough of the message and naming part of the flow's name (or backed by
/// what people chose before). A match on keywords or description alone ("broken" for laptop
/// repair) is a hint to list, not grounds to propose.
pub(super) fn confident(ranked: &[Ranked]) -> bool {
    let Some(best) = ranked.first() else {
        return false;
    };
    let second = ranked.get(1).map_or(0.0, |r| r.score);
    let explained =
        best.coverage >= CONFIDENT_COVERAGE && best.name_share > 0.0 || best.evidence >= 0.6;
    best.score >= CONFIDENT_SCORE && best.score - second >= CONFIDENT_MARGIN && explained
}
