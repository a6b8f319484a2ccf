//! A second retrieval path: an embeddings model's similarity between the message and every flow
//! the person may request, fused with the lexical scores. The core does no I/O: the caller asks
//! the model (`[matcher] model_url`) and hands the similarities to
//! [`Matcher::rank_with_model`](super::Matcher::rank_with_model).
//!
//! **Calibration.** Raw cosine similarities of embedding models are squeezed into a narrow band
//! (0.75 to 0.9 for e5) that differs from model to model, so they cannot be added to the lexical
//! score as they are. Over the flows the person may request they are turned into a distribution
//! with a softmax at temperature 0.02 (e5 was trained at 0.01; a little warmer keeps the second
//! and third flows visible): the model's probability that this flow is the one. That is on the
//! same 0-to-1 footing as the lexical score and says how sure the model is relative to the rest
//! of the catalog, which a raw cosine does not.
//!
//! **Fusion.** The candidates are the union of the lexical list and the model's best ten; each
//! scores `(1 - w) * lexical + w * model` (`w` = `model_weight`, 0.5 by default: a flow the
//! lexical matcher does not list gets no lexical score). Reciprocal-rank fusion was measured too
//! (on `eval/matcher/tune.jsonl`, and on the same catalog without its keywords and site
//! vocabulary, where the lexical matcher is weaker) and lost 1 to 4 points of top-1 accuracy:
//! ranks throw away how sure each side is. Least privilege still applies to the fused order.
//!
//! **Confidence.** The lexical matcher's own confident proposal stands when the fused order keeps
//! it first; when the model puts another flow first, nothing is proposed (each disagrees with the
//! other). Without a lexical proposal, the model's first flow is proposed when it is also the
//! fused first with a fused score of at least 0.3 and 0.1 ahead of the next (a model probability
//! of at least 0.6 when the lexical matcher lists nothing), and no sign says the message is not a
//! request. Otherwise the list is shown.

use super::index::Index;
use super::lexicon::{Concept, Lexicon, Reading};
use super::score::{self, Ranked};
use super::LISTED;
use std::collections::HashMap;

/// The softmax temperature that turns cosine similarities into the model's probabilities.
const TEMPERATURE: f64 = 0.02;
/// How many of the model's best flows join the candidates.
const MODEL_CANDIDATES: usize = 10;
/// Fused flows scoring below this are not listed.
const FUSED_LISTED: f32 = 0.01;
/// What the model's own first choice needs to be proposed without the lexical matcher.
pub(super) const MODEL_CONFIDENT: f32 = 0.3;
pub(super) const MODEL_MARGIN: f32 = 0.1;

/// The fused ranking, and the model's own first choice.
pub(super) struct Fused {
    pub ranked: Vec<Ranked>,
    pub model_first: Option<u32>,
}

/// Fuses `lexical` (best first) with `similarities` (cosine, by flow, for the allowed flows only)
/// with `weight` for the model.
pub(super) fn fuse(
    index: &Index,
    lexicon: &Lexicon,
    reading: &Reading,
    lexical: &[Ranked],
    similarities: &[(u32, f64)],
    weight: f64,
) -> Fused {
    let weight = weight.clamp(0.0, 1.0);
    let mut by_model: Vec<(u32, f64)> = similarities
        .iter()
        .filter(|(_, s)| s.is_finite())
        .copied()
        .collect();
    by_model.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    by_model.dedup_by_key(|(flow, _)| *flow);
    let Some(&(model_first, best)) = by_model.first() else {
        return Fused {
            ranked: lexical.to_vec(),
            model_first: None,
        };
    };
    let exp: Vec<f64> = by_model
        .iter()
        .map(|(_, s)| ((s - best) / TEMPERATURE).exp())
        .collect();
    let total: f64 = exp.iter().sum();
    let probability: HashMap<u32, (usize, f64)> = by_model
        .iter()
        .zip(&exp)
        .enumerate()
        .map(|(rank, ((flow, _), e))| (*flow, (rank, e / total)))
        .collect();

    let asked = asked_concepts(reading);
    let mut candidates: Vec<(Ranked, usize, usize)> = lexical
        .iter()
        .enumerate()
        .map(|(rank, r)| {
            let mut r = r.clone();
            let (model_rank, p) = probability
                .get(&r.flow)
                .copied()
                .unwrap_or((usize::MAX, 0.0));
            r.score = if model_rank == usize::MAX {
                // The model did not judge this flow: its lexical score stands.
                r.score
            } else {
                ((1.0 - weight) * f64::from(r.score) + weight * p) as f32
            };
            (r, rank, model_rank)
        })
        .collect();
    for (model_rank, (flow, _)) in by_model.iter().take(MODEL_CANDIDATES).enumerate() {
        if candidates.iter().any(|(r, _, _)| r.flow == *flow) {
            continue;
        }
        let mut r = Ranked::from_evidence(*flow);
        r.unasked = unasked(index, lexicon, &asked, *flow);
        r.score = (weight * probability[flow].1) as f32;
        candidates.push((r, usize::MAX, model_rank));
    }
    candidates.sort_by(|a, b| {
        b.0.score
            .total_cmp(&a.0.score)
            .then_with(|| a.1.cmp(&b.1))
            .then_with(|| a.2.cmp(&b.2))
    });
    let mut ranked: Vec<Ranked> = candidates.into_iter().map(|(r, _, _)| r).collect();
    score::least_privilege(&mut ranked, index, lexicon);
    ranked.retain(|r| r.score >= FUSED_LISTED);
    ranked.truncate(LISTED);
    Fused {
        ranked,
        model_first: Some(model_first),
    }
}

/// The concepts the message states (not only hints at).
fn asked_concepts(reading: &Reading) -> Vec<Concept> {
    score::distinct(reading)
        .into_iter()
        .filter(|m| m.direct)
        .map(|m| m.concept)
        .collect()
}

/// Whether `flow` grants an elevated concept (admin, write) the message does not ask for.
fn unasked(index: &Index, lexicon: &Lexicon, asked: &[Concept], flow: u32) -> bool {
    let entry = &index.flows[flow as usize];
    lexicon
        .elevated
        .iter()
        .any(|c| entry.key_concepts.contains(c) && !asked.contains(c))
}
