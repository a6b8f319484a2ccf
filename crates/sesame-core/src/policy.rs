//! Who may request a flow, who may approve a step, and whether a step's skip condition holds. Each
//! answer comes with a reason a person can read, because "why am I the approver?" and "why can't I
//! request this?" are the questions people ask most.

use crate::answers::Answers;
use crate::directory::Directory;
use crate::flow::{Approvers, Condition, Flow, Fulfillers, Requesters};
use crate::ids::{GroupId, UserId};
use crate::time::Span;

/// Whether `user` may request `flow`: `Ok(why)` or `Err(why not)`.
pub fn may_request(flow: &Flow, user: &UserId, directory: &Directory) -> Result<String, String> {
    let Some(person) = directory.user(user).filter(|u| u.active) else {
        return Err(format!("{user} is not an active person in the directory"));
    };
    match &flow.requesters {
        Requesters::Everyone => Ok(String::from("everyone may request it")),
        Requesters::Some { groups, users } => {
            if users
                .iter()
                .any(|u| directory.resolve(u).as_ref() == Some(&person.id))
            {
                return Ok(format!(
                    "{} is named in the flow's requesters",
                    person.display_name
                ));
            }
            if let Some(g) = groups.iter().find(|g| person.groups.contains(*g)) {
                return Ok(format!(
                    "{} is a member of {}",
                    person.display_name,
                    directory.group_name(g)
                ));
            }
            Err(format!(
                "only {} may request {}",
                describe_requesters(groups, users),
                flow.name
            ))
        }
    }
}

fn describe_requesters(groups: &[GroupId], users: &[UserId]) -> String {
    let mut parts = Vec::new();
    if !groups.is_empty() {
        parts.push(format!("members of {}", join(groups)));
    }
    if !users.is_empty() {
        parts.push(join(users));
    }
    parts.join(" and ")
}

pub(crate) fn join<T: std::fmt::Display>(items: &[T]) -> String {
    items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The people a rule names, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    pub people: Vec<UserId>,
    pub why: String,
}

/// Resolves an approver rule for a request by `requester`. Nobody is excluded here; the engine removes
/// the requester when the flow forbids self-approval and says so.
pub fn resolve_approvers(
    approvers: &Approvers,
    owners: &[UserId],
    requester: &UserId,
    directory: &Directory,
) -> Result<Resolved, String> {
    match approvers {
        Approvers::Manager => {
            let manager = directory
                .user(requester)
                .and_then(|u| u.manager.clone())
                .ok_or_else(|| format!("{requester} has no manager in the directory"))?;
            let manager = directory.resolve(&manager).ok_or_else(|| {
                format!("{requester}'s manager {manager} is not an active person in the directory")
            })?;
            Ok(Resolved {
                why: format!(
                    "{} is {}'s manager",
                    directory.display_name(&manager),
                    directory.display_name(requester)
                ),
                people: vec![manager],
            })
        }
        Approvers::Owners => Ok(Resolved {
            people: resolve_all(owners, directory),
            why: String::from("they own the resource this flow grants"),
        }),
        Approvers::Users(users) => Ok(Resolved {
            people: resolve_all(users, directory),
            why: String::from("the flow names them as approvers"),
        }),
        Approvers::Group(group) => {
            if directory.group(group).is_none() {
                return Err(format!("group {group} is not in the directory"));
            }
            Ok(Resolved {
                people: directory.members(group).to_vec(),
                why: format!("they are members of {}", directory.group_name(group)),
            })
        }
    }
}

/// Resolves who fulfils a request by hand.
pub fn resolve_fulfillers(
    fulfillers: &Fulfillers,
    directory: &Directory,
) -> Result<Resolved, String> {
    let resolved = match fulfillers {
        Fulfillers::Group(group) => Resolved {
            people: directory.members(group).to_vec(),
            why: format!("they are members of {}", directory.group_name(group)),
        },
        Fulfillers::Users(users) => Resolved {
            people: resolve_all(users, directory),
            why: String::from("the flow names them as fulfillers"),
        },
    };
    if resolved.people.is_empty() {
        return Err(match fulfillers {
            Fulfillers::Group(group) => {
                format!("nobody can fulfil it: {group} has no active members")
            }
            Fulfillers::Users(users) => format!(
                "nobody can fulfil it: none of {} is an active person in the directory",
                join(users)
            ),
        });
    }
    Ok(resolved)
}

fn resolve_all(users: &[UserId], directory: &Directory) -> Vec<UserId> {
    let mut out: Vec<UserId> = users.iter().filter_map(|u| directory.resolve(u)).collect();
    out.sort();
    out.dedup();
    out
}

/// What a condition is checked against.
pub struct ConditionInput<'a> {
    pub answers: &'a Answers,
    pub requester: &'a UserId,
    pub duration: Option<Span>,
    pub directory: &'a Directory,
}

/// Whether `condition` holds, and a sentence saying why (or why not).
pub fn condition_holds(condition: &Condition, input: &ConditionInput<'_>) -> (bool, String) {
    let mut reasons = Vec::new();
    for (question, accepted) in &condition.answers {
        let given = input.answers.get(question);
        let ok = given.is_some_and(|g| crate::answers::matches_any(g, accepted));
        let shown = given
            .map(ToString::to_string)
            .unwrap_or_else(|| String::from("no answer"));
        if !ok {
            return (false, format!("answer {question} is {shown}"));
        }
        reasons.push(format!("answer {question} is {shown}"));
    }
    if !condition.requester_in.is_empty() {
        match condition
            .requester_in
            .iter()
            .find(|g| input.directory.is_member(input.requester, g))
        {
            Some(g) => reasons.push(format!(
                "{} is a member of {}",
                input.directory.display_name(input.requester),
                input.directory.group_name(g)
            )),
            None => {
                return (
                    false,
                    format!(
                        "{} is not a member of {}",
                        input.requester,
                        join(&condition.requester_in)
                    ),
                )
            }
        }
    }
    if let Some(limit) = condition.duration_at_most {
        match input.duration {
            Some(d) if d <= limit => reasons.push(format!("the duration {d} is at most {limit}")),
            Some(d) => return (false, format!("the duration {d} is longer than {limit}")),
            None => return (false, String::from("no duration was requested")),
        }
    }
    if !condition.any.is_empty() {
        let mut misses = Vec::new();
        let mut hit = None;
        for c in &condition.any {
            let (ok, why) = condition_holds(c, input);
            if ok {
                hit = Some(why);
                break;
            }
            misses.push(why);
        }
        match hit {
            Some(why) => reasons.push(why),
            None => return (false, misses.join("; and ")),
        }
    }
    (true, reasons.join(" and "))
}

#[cfg(test)]
mod tests;
