//! Matching free text to flows (the matcher lives in core) and learning from what people chose.

use crate::requests::Principal;
use crate::{read_lock, write_lock, App, AppError};
use sesame_core::matcher::{Evidence, MatchOutcome, PastChoice};
use sesame_core::FlowId;
use std::collections::BTreeSet;

/// How many past choices are loaded at start; older ones matter less and cost memory.
pub(crate) const EVIDENCE_LOADED: u32 = 10_000;

/// The longest text kept as evidence; longer messages are cut.
const EVIDENCE_TEXT_CHARS: usize = 500;

impl App {
    /// Ranks the flows `who` may request for what they wrote.
    pub fn match_text(&self, who: &Principal, text: &str) -> MatchOutcome {
        let allowed: BTreeSet<FlowId> = self
            .requestable_flows(who)
            .into_iter()
            .map(|f| f.id)
            .collect();
        let catalog = self.catalog();
        let evidence = read_lock(&self.inner.evidence);
        catalog
            .matcher()
            .rank_at(text, |id| allowed.contains(id), &evidence, self.now())
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
