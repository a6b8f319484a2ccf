//! The seam for an external re-ranker (for example an OpenAI-compatible model endpoint that the
//! application may call). The core does no I/O: the caller asks the model, then hands its scores
//! here. Only flows already in the outcome can be re-scored, so a model can never put forward a
//! flow the person may not request.

use super::score::{CONFIDENT_MARGIN, CONFIDENT_SCORE};
use super::{MatchOutcome, Scored};
use crate::ids::FlowId;

/// Blends external scores (0 to 1, by flow) into `outcome` with `weight` (0: ignore them, 1: use
/// them alone). Flows the re-ranker gave no score keep their own. The result is confident only
/// when the blended best is clear by the matcher's own thresholds and was either the matcher's
/// confident proposal or the re-ranker's own first choice: a model may confirm or break a tie,
/// not overrule a clear match on its own.
pub fn blend_external(
    outcome: &MatchOutcome,
    external: &[(FlowId, f64)],
    weight: f64,
) -> MatchOutcome {
    let weight = weight.clamp(0.0, 1.0);
    let external_of = |flow: &FlowId| {
        external
            .iter()
            .find(|(f, _)| f == flow)
            .map(|(_, s)| s.clamp(0.0, 1.0))
    };
    let mut ranked: Vec<Scored> = outcome
        .ranked
        .iter()
        .map(|s| Scored {
            flow: s.flow.clone(),
            score: match external_of(&s.flow) {
                Some(e) => (1.0 - weight) * s.score + weight * e,
                None => s.score,
            },
        })
        .collect();
    ranked.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then_with(|| a.flow.cmp(&b.flow))
    });
    for s in &mut ranked {
        s.score = (s.score * 1000.0).round() / 1000.0;
    }
    let model_first = external
        .iter()
        .filter(|(f, _)| outcome.ranked.iter().any(|s| &s.flow == f))
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(f, _)| f);
    let confident = match ranked.as_slice() {
        [] => false,
        [best, rest @ ..] => {
            let second = rest.first().map_or(0.0, |s| s.score);
            let backed = outcome.proposal() == Some(&best.flow) || model_first == Some(&best.flow);
            best.score >= f64::from(CONFIDENT_SCORE)
                && best.score - second >= f64::from(CONFIDENT_MARGIN)
                && backed
        }
    };
    let changed = ranked.first().map(|s| &s.flow) != outcome.ranked.first().map(|s| &s.flow);
    MatchOutcome {
        why: if changed {
            format!("re-ranked by the model; before that: {}", outcome.why)
        } else {
            outcome.why.clone()
        },
        ranked,
        confident,
        extracted: outcome.extracted.clone(),
    }
}
