//! Matching free text to flows (the matcher lives in core) and learning from what people chose.

use crate::requests::Principal;
use crate::{read_lock, write_lock, App, AppError};
use sesame_core::matcher::{blend_external, Evidence, MatchOutcome, PastChoice};
use sesame_core::ports::Reranker;
use sesame_core::{Flow, FlowId};
use std::collections::BTreeSet;
use std::sync::Arc;

/// How many past choices are loaded at start; older ones matter less and cost memory.
pub(crate) const EVIDENCE_LOADED: u32 = 10_000;

/// The longest text kept as evidence; longer messages are cut.
const EVIDENCE_TEXT_CHARS: usize = 500;

impl App {
    /// Ranks `requestable` (the flows the person may request, from
    /// [`App::requestable_flows`]) for what they wrote.
    pub fn match_text(&self, requestable: &[Flow], text: &str) -> MatchOutcome {
        let allowed: BTreeSet<&FlowId> = requestable.iter().map(|f| &f.id).collect();
        let catalog = self.catalog();
        let evidence = read_lock(&self.inner.evidence);
        catalog
            .matcher()
            .rank_at(text, |id| allowed.contains(id), &evidence, self.now())
    }

    /// [`App::match_text`], re-ranked by the configured model when there is one. The model gets
    /// at most its timeout; when it fails or is slow, the built-in matcher's answer stands.
    pub async fn match_text_reranked(&self, requestable: &[Flow], text: &str) -> MatchOutcome {
        let outcome = self.match_text(requestable, text);
        let Some(model) = read_lock(&self.inner.reranker).clone() else {
            return outcome;
        };
        if outcome.ranked.is_empty() {
            return outcome;
        }
        let catalog = self.catalog();
        let candidates: Vec<_> = outcome
            .ranked
            .iter()
            .filter_map(|s| catalog.get(s.flow.as_str()).cloned())
            .collect();
        match tokio::time::timeout(model.timeout, model.reranker.scores(text, &candidates)).await {
            Ok(Ok(scores)) => blend_external(&outcome, &scores, model.weight),
            Ok(Err(problem)) => {
                tracing::warn!(%problem, "the matching model failed; the built-in matcher answered");
                outcome
            }
            Err(_) => {
                tracing::warn!(timeout = ?model.timeout, "the matching model was too slow; the built-in matcher answered");
                outcome
            }
        }
    }

    /// Lets a model re-rank matches (`[matcher] model_url`).
    pub fn set_reranker(
        &self,
        reranker: Arc<dyn Reranker>,
        weight: f64,
        timeout: std::time::Duration,
    ) {
        *write_lock(&self.inner.reranker) = Some(ModelReranking {
            reranker,
            weight,
            timeout,
        });
    }

    /// Remembers that `who` wrote `text` and then chose `flow`, so similar messages lean towards it.
    pub async fn record_choice(
        &self,
        who: &Principal,
        text: &str,
        flow: &FlowId,
    ) -> Result<(), AppError> {
        let text: String = text.trim().chars().take(EVIDENCE_TEXT_CHARS).collect();
        if text.is_empty() {
            return Ok(());
        }
        self.store()
            .record_match_choice(who.user.as_str(), &text, flow.as_str(), self.now())
            .await?;
        write_lock(&self.inner.evidence).add(PastChoice {
            text,
            flow: flow.clone(),
        });
        Ok(())
    }

    /// Loads the latest choices from the store.
    pub(crate) async fn load_evidence(&self) -> Result<(), AppError> {
        let choices = self.store().recent_match_choices(EVIDENCE_LOADED).await?;
        let evidence = Evidence::new(choices.into_iter().filter_map(|(text, flow)| {
            FlowId::new(flow).ok().map(|flow| PastChoice { text, flow })
        }));
        *write_lock(&self.inner.evidence) = evidence;
        Ok(())
    }
}

/// The configured model and how far to trust it.
#[derive(Clone)]
pub(crate) struct ModelReranking {
    reranker: Arc<dyn Reranker>,
    weight: f64,
    timeout: std::time::Duration,
}
