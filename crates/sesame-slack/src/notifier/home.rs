//! Keeping App Home tabs current: when a request changes, the people whose home shows it (the
//! requester, whoever filed it, and the people asked to act before and after the change) get their
//! tab published again from their current overview.
//!
//! Best effort by design: a home tab is a view that is rebuilt in full whenever the person opens
//! it (`app_home_opened`), so a refresh that fails is logged and dropped rather than holding back
//! the notice, whose direct messages matter more. Only people whose Slack account is already known
//! are refreshed; nobody is looked up for this.

use super::delivery::Delivery;
use crate::render::home_view;
use sesame_core::events::Notice;
use sesame_core::ids::UserId;
use sesame_core::ports::Overviews;
use std::collections::BTreeSet;

impl Delivery<'_> {
    /// The people whose home tab shows something this notice changed.
    fn people_whose_home_changed(&self, notice: &Notice) -> BTreeSet<UserId> {
        let request = self.request;
        let mut people = BTreeSet::new();
        match notice {
            Notice::RequestUpdated => {
                people.insert(request.requester.clone());
                people.insert(request.submitted_by.clone());
                people.extend(request.duties().into_iter().map(|(user, _)| user));
            }
            Notice::ApprovalRequested { approvers, .. } => people.extend(approvers.iter().cloned()),
            Notice::Escalated { to, .. } => people.extend(to.iter().cloned()),
            Notice::StepDecided { step } => {
                if let Some(progress) = request.steps.get(*step) {
                    people.extend(progress.eligible.iter().cloned());
                }
            }
            Notice::FulfilmentRequested | Notice::FulfilmentDecided => {
                if let Some(fulfilment) = &request.fulfilment {
                    people.extend(fulfilment.fulfillers.iter().cloned());
                }
            }
            Notice::ApprovalReminder { .. }
            | Notice::AccessEndingSoon
            | Notice::RemovalRequested
            | Notice::Commented { .. }
            | Notice::AdminAttention { .. } => {}
        }
        people
    }

    pub(super) async fn refresh_homes(&self, notice: &Notice, overviews: &dyn Overviews) {
        for user in self.people_whose_home_changed(notice) {
            let Some(slack_id) = self
                .directory
                .user(&user)
                .filter(|u| u.active)
                .and_then(|u| self.notifier.identities.known(u))
            else {
                continue;
            };
            let overview = match overviews.overview(&user).await {
                Ok(overview) => overview,
                Err(e) => {
                    tracing::debug!(user = %user, error = ?e, "no overview for the home tab");
                    continue;
                }
            };
            let view = self.render_view(|ctx| {
                let flows: Vec<_> = overview.requestable.iter().collect();
                home_view(ctx, &flows, &overview.requests, &overview.waiting)
            });
            if let Err(e) = self.notifier.api.views_publish(&slack_id, &view).await {
                tracing::info!(user = %user, error = %e, "the home tab was not refreshed");
            }
        }
    }
}
