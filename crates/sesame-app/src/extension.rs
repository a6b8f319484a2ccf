//! Extending active access: a new request of the same flow, linked to the original, through the
//! flow's approvals. Chat apps, the portal and the API all call [`App::extend`].

use crate::{App, AppError, Principal};
use serde_json::json;
use sesame_core::engine::{self, ExtensionAsk};
use sesame_core::{AuditEvent, Request, RequestNumber};
use sesame_store::RequestFilter;

/// The states in which an extension is still on its way.
const UNDER_WAY: [&str; 4] = ["submitted", "pending_approval", "approved", "fulfilling"];

impl App {
    /// Asks to extend the access `number` grants by `duration` (the flow's default when absent,
    /// at most its maximum), with a reason for the approvers. The requester or an administrator
    /// may ask, while the access is active and no other extension of it is under way. Returns
    /// the extension request.
    pub async fn extend(
        &self,
        who: &Principal,
        number: RequestNumber,
        duration: Option<String>,
        reason: Option<String>,
    ) -> Result<Request, AppError> {
        let original = self.request_for(who, number).await?;
        let catalog = self.catalog();
        let flow = catalog.get(original.flow.id.as_str()).ok_or_else(|| {
            AppError::Invalid(format!(
                "the flow `{}` no longer exists, so {} cannot be extended",
                original.flow.id,
                original.title()
            ))
        })?;
        let waiting = RequestFilter {
            requester: Some(original.requester.clone()),
            flow: Some(original.flow.id.clone()),
            states: UNDER_WAY.map(String::from).to_vec(),
            limit: sesame_store::MAX_LIST_LIMIT,
            ..RequestFilter::default()
        };
        if let Some(other) = self
            .store()
            .list_requests(&waiting)
            .await?
            .into_iter()
            .find(|r| r.extends == Some(number))
        {
            return Err(AppError::Conflict(format!(
                "{} is already asking to extend {}",
                other.title(),
                original.title()
            )));
        }
        let now = self.now();
        let transition = engine::extend(
            &original,
            flow,
            ExtensionAsk { duration, reason },
            &who.actor(),
            &self.directory(),
            now,
        )?;
        let stored = self.store().create_request(&transition, None).await?;
        // The original's trail shows the ask too; its end moves only once the extension is
        // approved, in a transition of its own.
        let event = AuditEvent::new(
            now,
            &who.actor(),
            "extension_requested",
            json!({ "extension": stored.number, "duration": stored.duration.map(|d| d.to_string()) }),
        );
        self.store().append_audit(Some(number), &event).await?;
        self.inner.recent.put(&stored);
        self.metrics().count_transition("extend");
        self.wake_dispatcher();
        Ok(stored)
    }
}
