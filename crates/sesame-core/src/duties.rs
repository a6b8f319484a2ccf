//! Separation of duties, checked before anyone asks: flows in which the requester would end up as
//! the only approver of a step, the only person an escalation reaches, or the only fulfiller, and
//! steps whose approvers all have to approve an earlier step already. The engine enforces the
//! rules when a request runs (a step left with nobody waits for an administrator); these warnings
//! let `sesame check` and `flows explain` say so while the flow is being written.

use crate::directory::Directory;
use crate::flow::{Approvers, Flow, Fulfillment};
use crate::ids::UserId;
use crate::policy::{self, resolve_approvers, resolve_fulfillers};
use std::collections::BTreeSet;

/// What would go wrong for `requester` in particular, as sentences.
pub fn for_requester(flow: &Flow, requester: &UserId, directory: &Directory) -> Vec<String> {
    let mut warnings = Vec::new();
    // People every earlier step needs all of: with the one-step-per-person rule they cannot
    // approve a later step.
    let mut needed_earlier: Vec<(usize, BTreeSet<UserId>)> = Vec::new();
    for (index, step) in flow.approval.iter().enumerate() {
        let label = format!("step {} ({})", index + 1, step.name);
        let required = step.required as usize;
        let Ok(resolved) = resolve_approvers(&step.approvers, &flow.owners, requester, directory)
        else {
            continue;
        };
        let mut people: BTreeSet<UserId> = resolved.people.into_iter().collect();
        if !flow.allow_self_approval && people.remove(requester) && people.len() < required {
            warnings.push(if people.is_empty() {
                format!(
                    "{label}: when {requester} asks, they would be its only approver, and nobody approves their own request"
                )
            } else {
                format!(
                    "{label}: when {requester} asks, only {} of the {required} approvers it needs are left, because nobody approves their own request",
                    people.len()
                )
            });
        } else if !flow.allow_same_approver_for_several_steps {
            let taken: BTreeSet<&UserId> = needed_earlier
                .iter()
                .flat_map(|(_, needed)| needed.iter())
                .collect();
            let free = people.iter().filter(|p| !taken.contains(p)).count();
            if free < required {
                let earlier: Vec<String> = needed_earlier
                    .iter()
                    .filter(|(_, needed)| needed.iter().any(|p| people.contains(p)))
                    .map(|(i, _)| format!("step {}", i + 1))
                    .collect();
                warnings.push(format!(
                    "{label}: its approvers must all approve {} already, and one person approves at most one step of a request",
                    earlier.join(" and ")
                ));
            }
        }
        if people.len() == required {
            needed_earlier.push((index, people));
        }
        if let Some(to) = &step.escalate_to {
            if let Some(warning) = escalation_warning(flow, to, requester, directory, &label) {
                warnings.push(warning);
            }
        }
    }
    if let Fulfillment::Manual(fulfillers) = &flow.fulfillment {
        if !flow.allow_self_fulfilment {
            if let Ok(resolved) = resolve_fulfillers(fulfillers, directory) {
                if resolved.people.as_slice() == std::slice::from_ref(requester) {
                    warnings.push(format!(
                        "when {requester} asks, they would be the only fulfiller, and nobody fulfils their own request"
                    ));
                }
            }
        }
    }
    warnings
}

fn escalation_warning(
    flow: &Flow,
    to: &Approvers,
    requester: &UserId,
    directory: &Directory,
    label: &str,
) -> Option<String> {
    if flow.allow_self_approval {
        return None;
    }
    let resolved = resolve_approvers(to, &flow.owners, requester, directory).ok()?;
    (resolved.people.as_slice() == std::slice::from_ref(requester)).then(|| {
        format!(
            "{label}: when {requester} asks, its escalation reaches only {requester}, who may not approve their own request"
        )
    })
}

/// The warnings for every person who could meet them: those named by a step, an escalation or the
/// fulfilment (a manager is never their own report) who may request the flow. Each distinct
/// sentence once, people listed at most a few at a time.
pub fn for_flow(flow: &Flow, directory: &Directory) -> Vec<String> {
    let mut candidates: BTreeSet<UserId> = BTreeSet::new();
    let mut named = |rule: &Approvers| match rule {
        Approvers::Manager => {}
        Approvers::Owners => {
            candidates.extend(flow.owners.iter().filter_map(|u| directory.resolve(u)))
        }
        Approvers::Users(users) => {
            candidates.extend(users.iter().filter_map(|u| directory.resolve(u)))
        }
        Approvers::Group(group) => candidates.extend(directory.members(group).iter().cloned()),
    };
    for step in &flow.approval {
        named(&step.approvers);
        if let Some(to) = &step.escalate_to {
            named(to);
        }
    }
    if let Fulfillment::Manual(fulfillers) = &flow.fulfillment {
        if let Ok(r) = resolve_fulfillers(fulfillers, directory) {
            candidates.extend(r.people);
        }
    }
    // And one person the rules do not name, for what does not depend on who asks (a step whose
    // approvers all have to approve an earlier one).
    let bystander = directory
        .users()
        .filter(|u| u.active && !candidates.contains(&u.id))
        .find(|u| policy::may_request(flow, &u.id, directory).is_ok())
        .map(|u| u.id.clone());
    candidates.extend(bystander);
    let mut warnings: Vec<String> = Vec::new();
    for person in candidates {
        if policy::may_request(flow, &person, directory).is_err() {
            continue;
        }
        for warning in for_requester(flow, &person, directory) {
            if !warnings.contains(&warning) {
                warnings.push(warning);
            }
        }
    }
    warnings
}
