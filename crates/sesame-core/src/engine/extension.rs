//! Extending active access. An extension is a request of its own, of the same flow, linked to the
//! original (`extends`): it goes through the flow's approval steps (skip rules apply, on the
//! original's answers), and once approved Sesame moves the original's end. The original keeps the
//! access, its timers and its connector grant; the extension records the decision.

use super::{clean_text, file, person, Change, DomainError, Transition};
use crate::answers::FieldError;
use crate::directory::Directory;
use crate::events::{Actor, Provision};
use crate::flow::Flow;
use crate::ids::RequestNumber;
use crate::policy;
use crate::request::{FulfilmentProgress, Request, State};
use crate::time::{Span, Timestamp};
use serde_json::json;

/// What someone asks for when extending access.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExtensionAsk {
    /// How much longer ("7d"); the flow's default when absent. At most the flow's maximum.
    pub duration: Option<String>,
    /// Why, shown to approvers as the request's justification.
    pub reason: Option<String>,
}

fn field(field: &str, message: impl Into<String>) -> DomainError {
    DomainError::InvalidSubmission(vec![FieldError {
        field: field.to_owned(),
        message: message.into(),
    }])
}

/// Files an extension of `original`'s active access, as a new request of `flow` (the flow the
/// original came from, as it stands now). The requester or an administrator may ask.
pub fn extend(
    original: &Request,
    flow: &Flow,
    ask: ExtensionAsk,
    actor: &Actor,
    directory: &Directory,
    now: Timestamp,
) -> Result<Transition, DomainError> {
    let filer = person(actor)?.clone();
    if directory.user(&filer).is_none_or(|u| !u.active) {
        return Err(DomainError::NotAllowed(format!(
            "{filer} is not an active person in the directory"
        )));
    }
    if filer != original.requester && !actor.is_admin() {
        return Err(DomainError::NotAllowed(String::from(
            "only the person who holds the access (or an administrator) can extend it",
        )));
    }
    let State::Active { until } = original.state else {
        return Err(DomainError::IllegalTransition(format!(
            "{} is {}; only active access can be extended",
            original.title(),
            original.state.name().replace('_', " ")
        )));
    };
    if flow.id != original.flow.id {
        return Err(DomainError::IllegalTransition(format!(
            "{} came from the flow `{}`, not `{}`",
            original.title(),
            original.flow.id,
            flow.id
        )));
    }
    let Some(policy) = flow.duration else {
        return Err(DomainError::IllegalTransition(format!(
            "{} now grants access without an end, so there is nothing to extend",
            flow.name
        )));
    };
    let duration = match ask.duration.as_deref().map(str::trim) {
        None | Some("") => policy.default,
        Some(text) => {
            let d = Span::parse(text).map_err(|e| field("duration", e.to_string()))?;
            if d > policy.max {
                return Err(field("duration", format!("must be at most {}", policy.max)));
            }
            d
        }
    };
    let reason = clean_text("reason", ask.reason)?;
    if reason.is_none() && flow.justification == crate::flow::Justification::Required {
        return Err(field("justification", "a reason is required"));
    }
    policy::may_request(flow, &original.requester, directory).map_err(DomainError::NotAllowed)?;
    let mut request = Request::filed(
        flow,
        original.requester.clone(),
        filer.clone(),
        original.answers.clone(),
        reason,
        Some(duration),
        now,
    );
    request.extends = Some(original.number);
    let detail = json!({
        "extends": original.number,
        "current_end": until.to_rfc3339(),
    });
    file(request, flow, actor, directory, now, detail)
}

impl Change<'_> {
    /// An approved extension has nothing for people to do: Sesame checks the access and moves the
    /// original's end.
    pub(super) fn start_extension(&mut self) {
        let original = self.request.extends;
        self.request.fulfilment = Some(FulfilmentProgress {
            fulfillers: Vec::new(),
            why: String::from("Sesame extends the access by itself"),
            started_at: self.now,
            finished_at: None,
            by: None,
            note: None,
        });
        self.request.state = State::Fulfilling;
        self.system_event(
            "fulfilment_started",
            json!({ "kind": "extension", "extends": original }),
        );
        self.provisioning.push(Provision::Extend);
    }
}

/// Moves the end of the original's access by `by`, for the approved extension `extension`.
pub(super) fn extend_access(
    change: &mut Change<'_>,
    extension: RequestNumber,
    by: Span,
) -> Result<(), DomainError> {
    if change.actor != &Actor::System {
        return Err(DomainError::NotAllowed(String::from(
            "only Sesame itself applies an approved extension",
        )));
    }
    if change.request.extended_by.contains(&extension) {
        return Err(DomainError::AlreadyDone(format!(
            "{extension} already extended {}",
            change.request.title()
        )));
    }
    let State::Active { until } = change.request.state else {
        return Err(DomainError::IllegalTransition(format!(
            "{} is {}; its access can no longer be extended",
            change.request.title(),
            change.request.state.name().replace('_', " ")
        )));
    };
    let new_until = until.plus(by);
    change.set_end(new_until);
    change.request.extended_by.push(extension);
    change.system_event(
        "access_extended",
        json!({
            "extension": extension,
            "from": until.to_rfc3339(),
            "until": new_until.to_rfc3339(),
            "by": by.to_string(),
        }),
    );
    Ok(())
}

/// The extension moved the original's end to `until`: its work is done.
pub(super) fn applied(
    change: &mut Change<'_>,
    until: Timestamp,
    answer: String,
) -> Result<(), DomainError> {
    let Some(original) = change.request.extends else {
        return Err(DomainError::Outlived);
    };
    if change.request.state != State::Fulfilling {
        return Err(DomainError::Outlived);
    }
    change.close_fulfilment(&answer);
    change.request.state = State::Fulfilled;
    change.system_event(
        "extension_applied",
        json!({ "extends": original, "until": until.to_rfc3339(), "answer": answer }),
    );
    Ok(())
}

/// The extension was approved but cannot apply (the access it extends ended meanwhile).
pub(super) fn failed(change: &mut Change<'_>, error: String) -> Result<(), DomainError> {
    let Some(original) = change.request.extends else {
        return Err(DomainError::Outlived);
    };
    if change.request.state != State::Fulfilling {
        return Err(DomainError::Outlived);
    }
    change.fail_by_system(&error);
    change.system_event(
        "extension_failed",
        json!({ "extends": original, "error": error }),
    );
    Ok(())
}
