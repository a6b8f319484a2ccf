//! Scoring flows against what a message mentions, and deciding whether the best is clear enough
//! to propose on its own.
//!
//! A flow's content score grows with the rare, prominent concepts it shares with the message and
//! saturates (three good matches are not three times as sure as one). It is then scaled by how
//! much of the flow's name the message covers, which separates near neighbours, and cut when the
//! message names something the flow rules out (staging for a production flow). Least privilege is
//! an ordering rule, not a score: a flow granting more (admin, write) than the message asks for
//! never ranks above a plainer sibling.

use super::index::Index;
use super::lexicon::{Concept, Lexicon, Reading, Unit};
use std::collections::HashMap;

/// Raw match strength at which the content score reaches 63%.
const SATURATION: f32 = 0.9;
/// The share of the score a flow gets before any of its name is covered.
const NAME_BASE: f32 = 0.6;
/// The factor for a flow whose name or keywords rule out something the message asks for.
const EXCLUDED: f32 = 0.55;
/// How much a word nothing knows counts against coverage: less than a known concept, since
/// chat is full of words that say nothing about the flow ("Anna", "INC").
const UNKNOWN: f32 = 0.35;
/// How much a common word nothing knows counts against coverage ("quarterly", "colleague").
const FILLER: f32 = 0.05;

/// How far down the list least privilege reorders siblings.
const PRIVILEGE_WINDOW: usize = 30;

/// Thresholds for proposing the best flow on its own.
pub(super) const CONFIDENT_SCORE: f32 = 0.42;
pub(super) const CONFIDENT_MARGIN: f32 = 0.1;
pub(super) const CONFIDENT_COVERAGE: f32 = 0.4;

/// One flow's score and what earned it.
#[derive(Debug, Clone)]
pub(super) struct Ranked {
    pub flow: u32,
    pub score: f32,
    /// The share of the message's content words this flow accounts for.
    pub coverage: f32,
    /// The share of the flow's name the message covers.
    pub name_share: f32,
    /// Whether the message states (not only hints at) part of the flow's name or id.
    pub anchored: bool,
    /// Whether the flow grants more (admin, write) than the message asks for.
    pub unasked: bool,
    /// Past choices' support, between 0 and 1.
    pub evidence: f32,
    /// Indexes into the reading's hits, with what each contributed.
    pub because: Vec<(usize, f32)>,
}

impl Ranked {
    pub fn from_evidence(flow: u32) -> Ranked {
        Ranked {
            flow,
            score: 0.0,
            coverage: 0.0,
            name_share: 0.0,
            anchored: false,
            unasked: false,
            evidence: 0.0,
            because: Vec::new(),
        }
    }
}

/// One concept of the message: the hit that said it best, how much, and whether it was stated.
#[derive(Debug, Clone, Copy)]
pub(super) struct Mention {
    pub hit: usize,
    pub concept: Concept,
    pub weight: f32,
    pub direct: bool,
}

/// The message's concepts, each once with its best weight.
pub(super) fn distinct(reading: &Reading) -> Vec<Mention> {
    let mut out: Vec<Mention> = Vec::new();
    for (i, h) in reading.hits.iter().enumerate() {
        match out.iter_mut().find(|m| m.concept == h.concept) {
            Some(m) => {
                if h.weight > m.weight {
                    m.hit = i;
                    m.weight = h.weight;
                }
                m.direct |= h.direct;
            }
            None => out.push(Mention {
                hit: i,
                concept: h.concept,
                weight: h.weight,
                direct: h.direct,
            }),
        }
    }
    out
}

/// How much each unit (word or phrase) of the message says: its best posted concept, or a fixed
/// amount for words no flow explains. Filler counts for almost nothing.
fn unit_weights(index: &Index, reading: &Reading) -> Vec<f32> {
    let mut weights: Vec<f32> = reading
        .units
        .iter()
        .map(|u| match u {
            Unit::Known | Unit::Rare => UNKNOWN,
            Unit::Filler => FILLER,
        })
        .collect();
    let mut best = vec![0.0f32; reading.units.len()];
    for h in &reading.hits {
        if index.is_posted(h.concept) {
            let w = index.idf(h.concept) * h.weight;
            best[h.unit] = best[h.unit].max(w);
        }
    }
    for (w, b) in weights.iter_mut().zip(best) {
        if b > 0.0 {
            *w = b;
        }
    }
    weights
}

/// Scores every allowed flow sharing at least one concept with the message, best first.
pub(super) fn score(
    index: &Index,
    lexicon: &Lexicon,
    reading: &Reading,
    allowed: &dyn Fn(u32) -> bool,
) -> Vec<Ranked> {
    let mentions = distinct(reading);
    let units = unit_weights(index, reading);
    let total: f32 = units.iter().sum();
    #[derive(Default)]
    struct Acc {
        raw: f32,
        /// Per unit, the most this flow explains of it.
        explained: Vec<(usize, f32)>,
        anchored: bool,
        because: Vec<(usize, f32)>,
    }
    let mut acc: HashMap<u32, Acc> = HashMap::new();
    for m in &mentions {
        let idf = index.idf(m.concept);
        for &(flow, field) in index.postings.get(&m.concept).into_iter().flatten() {
            if !allowed(flow) {
                continue;
            }
            let a = acc.entry(flow).or_default();
            let contribution = m.weight * field * idf;
            a.raw += contribution;
            a.because.push((m.hit, contribution));
        }
    }
    // Coverage and anchoring look at every hit, so that a unit read two ways (a word and the
    // concept it hints at) is explained by either.
    for h in &reading.hits {
        let w = index.idf(h.concept) * h.weight;
        for &(flow, _) in index.postings.get(&h.concept).into_iter().flatten() {
            let Some(a) = acc.get_mut(&flow) else {
                continue;
            };
            match a.explained.iter_mut().find(|(u, _)| *u == h.unit) {
                Some((_, e)) => *e = e.max(w),
                None => a.explained.push((h.unit, w)),
            }
            if h.direct && index.flows[flow as usize].anchors.contains(&h.concept) {
                a.anchored = true;
            }
        }
    }
    let asked: Vec<Concept> = mentions
        .iter()
        .filter(|m| m.direct)
        .map(|m| m.concept)
        .collect();
    let mut ranked: Vec<Ranked> = acc
        .into_iter()
        .map(|(flow, a)| {
            let entry = &index.flows[flow as usize];
            let name_total: f32 = entry
                .name_concepts
                .iter()
                .map(|(c, w)| index.idf(*c) * w)
                .sum();
            let name_covered: f32 = entry
                .name_concepts
                .iter()
                .filter_map(|(c, w)| {
                    let m = mentions.iter().find(|m| m.concept == *c)?;
                    Some(index.idf(*c) * w * m.weight)
                })
                .sum();
            let name_share = if name_total > 0.0 {
                (name_covered / name_total).min(1.0)
            } else {
                0.0
            };
            let content = 1.0 - (-a.raw / SATURATION).exp();
            let mut score = content * (NAME_BASE + (1.0 - NAME_BASE) * name_share);
            for set in &lexicon.exclusive {
                let asks = set.iter().any(|c| asked.contains(c));
                let fits = set
                    .iter()
                    .any(|c| asked.contains(c) && entry.key_concepts.contains(c));
                let other = set.iter().any(|c| entry.key_concepts.contains(c));
                if asks && other && !fits {
                    score *= EXCLUDED;
                }
            }
            let explained: f32 = a.explained.iter().map(|(u, e)| e.min(units[*u])).sum();
            let mut because = a.because;
            because.sort_by(|x, y| y.1.total_cmp(&x.1));
            Ranked {
                flow,
                score,
                coverage: if total > 0.0 { explained / total } else { 0.0 },
                name_share,
                anchored: a.anchored,
                unasked: lexicon
                    .elevated
                    .iter()
                    .any(|c| entry.key_concepts.contains(c) && !asked.contains(c)),
                evidence: 0.0,
                because,
            }
        })
        .collect();
    sort(&mut ranked, index, lexicon);
    ranked
}

/// Best first. Equal scores go to the flow whose name the message states, then covers more of,
/// then that explains more of the message, then that grants less, then the plainer (shorter)
/// name; the id only keeps results stable between identical flows. Then least privilege: a flow
/// granting more than asked never stays above a plainer sibling.
pub(super) fn sort(ranked: &mut [Ranked], index: &Index, lexicon: &Lexicon) {
    ranked.sort_by(|a, b| {
        let (fa, fb) = (&index.flows[a.flow as usize], &index.flows[b.flow as usize]);
        b.score
            .total_cmp(&a.score)
            .then_with(|| b.anchored.cmp(&a.anchored))
            .then_with(|| b.name_share.total_cmp(&a.name_share))
            .then_with(|| b.coverage.total_cmp(&a.coverage))
            .then_with(|| a.unasked.cmp(&b.unasked))
            .then_with(|| fa.name_concepts.len().cmp(&fb.name_concepts.len()))
            .then_with(|| fa.id.cmp(&fb.id))
    });
    least_privilege(ranked, index, lexicon);
}

/// Moves a plainer sibling above a flow that grants more than the message asks for ("github
/// org" lists membership before organisation admin, whatever a typo or an extra word did to the
/// scores). The sibling takes the elevated flow's score, so that neither is proposed on its own
/// unless the message says which.
pub(super) fn least_privilege(ranked: &mut [Ranked], index: &Index, lexicon: &Lexicon) {
    // Only the head of the list is shown; reordering deep in the tail would cost time for nothing.
    let window = ranked.len().min(PRIVILEGE_WINDOW);
    if !ranked[..window].iter().any(|r| r.unasked) {
        return;
    }
    let privilege = |c: &Concept| {
        lexicon.elevated.contains(c)
            || lexicon
                .exclusive
                .iter()
                .any(|set| set.contains(c) && set.iter().any(|e| lexicon.elevated.contains(e)))
    };
    let mut cores: Vec<(u32, Vec<Concept>)> = ranked[..window]
        .iter()
        .map(|r| {
            let core = index.flows[r.flow as usize]
                .name_concepts
                .iter()
                .map(|(c, _)| *c)
                .filter(|c| !privilege(c))
                .collect();
            (r.flow, core)
        })
        .collect();
    let siblings = |a: &[Concept], b: &[Concept]| {
        !a.is_empty()
            && !b.is_empty()
            && (a.iter().all(|c| b.contains(c)) || b.iter().all(|c| a.contains(c)))
    };
    let mut i = 0;
    while i < window {
        if ranked[i].unasked {
            let plainer =
                (i + 1..window).find(|&j| !ranked[j].unasked && siblings(&cores[i].1, &cores[j].1));
            if let Some(j) = plainer {
                let score = ranked[i].score;
                ranked[i..=j].rotate_right(1);
                cores[i..=j].rotate_right(1);
                ranked[i].score = score;
                continue;
            }
        }
        i += 1;
    }
}

/// Whether the best flow is clear enough to propose on its own: good enough, well ahead of the
/// next, accounting for enough of what the message says and stating part of the flow's name (or
/// backed by what people chose before). A match on keywords, description or hints alone
/// ("broken" for laptop repair, "car" for the carpark) is a reason to list, not to propose.
pub(super) fn confident(ranked: &[Ranked]) -> bool {
    let Some(best) = ranked.first() else {
        return false;
    };
    let second = ranked.get(1).map_or(0.0, |r| r.score);
    let explained = best.coverage >= CONFIDENT_COVERAGE && best.anchored || best.evidence >= 0.6;
    best.score >= CONFIDENT_SCORE && best.score - second >= CONFIDENT_MARGIN && explained
}
