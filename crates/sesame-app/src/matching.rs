//! Matching free text to flows (the matcher lives in core) and learning from what people chose.

use crate::requests::Principal;
use crate::{read_lock, write_lock, App, AppError};
use sesame_core::matcher::{Evidence, MatchOutcome, PastChoice};
use sesame_core::ports::MatchModel;
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

    /// [`App::match_text`] with the configured model as a second retrieval path: it may add
    /// flows the words do not reach, and the two rankings are fused
    /// ([`Matcher::rank_with_model`](sesame_core::matcher::Matcher::rank_with_model)). The model
    /// gets at most its timeout; when it fails or is slow, the built-in matcher's answer stands.
    pub async fn match_text_with_model(&self, requestable: &[Flow], text: &str) -> MatchOutcome {
        let Some(model) = read_lock(&self.inner.match_model).clone() else {
            return self.match_text(requestable, text);
        };
        if requestable.is_empty() || text.trim().is_empty() {
            return self.match_text(requestable, text);
        }
        let similarities =
            tokio::time::timeout(model.timeout, model.model.similarities(text, requestable)).await;
        match similarities {
            Ok(Ok(similarities)) => {
                let allowed: BTreeSet<&FlowId> = requestable.iter().map(|f| &f.id).collect();
                let catalog = self.catalog();
                let evidence = read_lock(&self.inner.evidence);
                catalog.matcher().rank_with_model(
                    text,
                    |id| allowed.contains(id),
                    &evidence,
                    Some(self.now()),
                    &similarities,
                    model.weight,
                )
            }
            Ok(Err(problem)) => {
                tracing::warn!(%problem, "the matching model failed; the built-in matcher answered");
                self.match_text(requestable, text)
            }
            Err(_) => {
                tracing::warn!(timeout = ?model.timeout, "the matching model was too slow; the built-in matcher answered");
                self.match_text(requestable, text)
            }
        }
    }

    /// Adds a model to matching (`[matcher] model_url`), and has it embed the catalog now.
    pub fn set_match_model(
        &self,
        model: Arc<dyn MatchModel>,
        weight: f64,
        timeout: std::time::Duration,
    ) {
        *write_lock(&self.inner.match_model) = Some(ModelMatching {
            model,
            weight: weight.clamp(0.0, 1.0),
            timeout,
        });
        self.prepare_match_model();
    }

    /// Has the model embed the current catalog in the background (at start and after the
    /// flows change), so that messages wait for their own embedding only. Failures are logged;
    /// the flows left out are embedded with the next message.
    pub(crate) fn prepare_match_model(&self) {
        let Some(model) = read_lock(&self.inner.match_model).clone() else {
            return;
        };
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let flows: Vec<Flow> = self.catalog().flows().cloned().collect();
        runtime.spawn(async move {
            let started = std::time::Instant::now();
            match model.model.prepare(&flows).await {
                Ok(()) => tracing::info!(
                    flows = flows.len(),
                    elapsed = ?started.elapsed(),
                    "the matching model embedded the catalog"
                ),
                Err(problem) => {
                    tracing::warn!(%problem, "the matching model could not embed the catalog yet")
                }
            }
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
pub(crate) struct ModelMatching {
    model: Arc<dyn MatchModel>,
    weight: f64,
    timeout: std::time::Duration,
}
