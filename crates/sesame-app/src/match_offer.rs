//! What a chat app (or the portal's search) offers after someone writes what they need: the
//! matcher's proposal with its reason, and every flow the person may request, best first. The
//! same for every surface, so that they all propose the same flow for the same words, with the
//! same reason.

use crate::{App, Principal};
use sesame_core::{Flow, FlowId};

/// The matcher's answer to free text, ready to show.
#[derive(Debug, Clone, PartialEq)]
pub struct MatchOffer {
    /// The flows the person may request: the ranked ones best first, then the rest in catalog
    /// order.
    pub flows: Vec<Flow>,
    /// How many of `flows` the matcher ranked (fit what was written at all); the rest follow.
    pub matched: usize,
    /// The flow the matcher is confident about, if any (one of `flows`).
    pub proposal: Option<FlowId>,
    /// Why, in words a person can read.
    pub why: String,
}

impl MatchOffer {
    /// The flows that fit what was written, best first.
    pub fn matches(&self) -> &[Flow] {
        &self.flows[..self.matched.min(self.flows.len())]
    }

    /// The proposed flow.
    pub fn proposed(&self) -> Option<&Flow> {
        let id = self.proposal.as_ref()?;
        self.flows.iter().find(|f| &f.id == id)
    }
}

impl App {
    /// Matches `typed` against the flows `who` may request (with the model too when one is
    /// configured) and orders them for a picker.
    pub async fn match_offer(&self, who: &Principal, typed: &str) -> MatchOffer {
        let requestable = self.requestable_flows(who);
        let outcome = self.match_text_with_model(&requestable, typed).await;
        let mut flows: Vec<Flow> = outcome
            .ranked
            .iter()
            .filter_map(|scored| requestable.iter().find(|f| f.id == scored.flow).cloned())
            .collect();
        let matched = flows.len();
        for flow in &requestable {
            if !flows.iter().any(|f| f.id == flow.id) {
                flows.push(flow.clone());
            }
        }
        let proposal = outcome
            .proposal()
            .filter(|id| flows.iter().any(|f| &f.id == *id))
            .cloned();
        MatchOffer {
            flows,
            matched,
            proposal,
            why: outcome.why,
        }
    }
}
