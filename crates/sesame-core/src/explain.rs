//! `sesame flows explain`: a dry run of a flow for one person. Who may request it, who would approve
//! each step and why, and what happens on approval; nothing is stored.

use crate::answers::Answers;
use crate::directory::Directory;
use crate::flow::{Flow, Fulfillment};
use crate::ids::UserId;
use crate::policy::{self, condition_holds, resolve_approvers, resolve_fulfillers, ConditionInput};
use serde::Serialize;
use std::fmt;

#[derive(Debug, Clone, Serialize)]
pub struct Explanation {
    pub flow: String,
    pub name: String,
    pub user: String,
    pub may_request: bool,
    pub why: String,
    pub steps: Vec<StepExplanation>,
    pub fulfilment: String,
    pub duration: String,
    pub pending_expiry: String,
    /// Separation-of-duties problems this person would meet (see [`crate::duties`]).
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct StepExplanation {
    pub name: String,
    pub approvers: Vec<UserId>,
    pub required: u32,
    pub why: String,
    /// When the step would be skipped; conditions on answers cannot be decided before there are answers.
    pub skipped_when: Option<String>,
    pub problem: Option<String>,
    pub timing: Vec<String>,
}

pub fn explain(flow: &Flow, user: &UserId, directory: &Directory) -> Explanation {
    let (may_request, why) = match policy::may_request(flow, user, directory) {
        Ok(why) => (true, why),
        Err(why) => (false, why),
    };
    let no_answers = Answers::new();
    let steps = flow
        .approval
        .iter()
        .map(|step| {
            let mut out = StepExplanation {
                name: step.name.clone(),
                approvers: Vec::new(),
                required: step.required,
                why: String::new(),
                skipped_when: None,
                problem: None,
                timing: Vec::new(),
            };
            if let Some(condition) = &step.skip_if {
                let input = ConditionInput {
                    answers: &no_answers,
                    requester: user,
                    duration: flow.duration.map(|d| d.default),
                    directory,
                };
                let (holds, reason) = condition_holds(condition, &input);
                out.skipped_when = Some(if holds {
                    format!("skipped for {user} with the default answers, because {reason}")
                } else {
                    format!(
                        "runs unless its condition holds ({})",
                        serde_json::to_string(condition).unwrap_or_default()
                    )
                });
            }
            match resolve_approvers(&step.approvers, &flow.owners, user, directory) {
                Ok(r) => {
                    let mut people = r.people;
                    let mut why = r.why;
                    if !flow.allow_self_approval && people.contains(user) {
                        people.retain(|p| p != user);
                        why.push_str(&format!(
                            "; {user} is left out because nobody approves their own request"
                        ));
                    }
                    if people.len() < step.required as usize {
                        out.problem = Some(format!(
                            "needs {} approver(s) but only {} can approve",
                            step.required,
                            people.len()
                        ));
                    }
                    out.approvers = people;
                    out.why = why;
                }
                Err(problem) => out.problem = Some(problem),
            }
            if let Some(r) = step.remind_after {
                out.timing.push(format!("approvers are reminded after {r}"));
            }
            if let (Some(after), Some(to)) = (step.escalate_after, &step.escalate_to) {
                let to = resolve_approvers(to, &flow.owners, user, directory)
                    .map(|r| policy::join(&r.people))
                    .unwrap_or_else(|e| format!("nobody ({e})"));
                out.timing.push(format!("escalated to {to} after {after}"));
            }
            out
        })
        .collect();
    let fulfilment = match &flow.fulfillment {
        Fulfillment::Manual(f) => match resolve_fulfillers(f, directory) {
            Ok(r) => format!(
                "a task for {} to grant the access by hand ({})",
                policy::join(&r.people),
                r.why
            ),
            Err(e) => format!("a task to grant the access by hand, but {e}"),
        },
        Fulfillment::Connector(c) => format!(
            "granted and removed by the `{}` connector, without anyone in the loop",
            c.connector
        ),
    };
    let duration = match flow.duration {
        Some(d) if d.requester_chooses => format!(
            "access lasts {} by default; the requester may choose up to {}",
            d.default, d.max
        ),
        Some(d) => format!("access lasts {}", d.default),
        None => String::from("access has no end time"),
    };
    let pending_expiry = match flow.pending_expires_after {
        Some(s) => format!("a request nobody decides is closed after {s}"),
        None => String::from("a request nobody decides stays open"),
    };
    Explanation {
        flow: flow.id.to_string(),
        name: flow.name.clone(),
        user: user.to_string(),
        may_request,
        why,
        steps,
        fulfilment,
        duration,
        pending_expiry,
        warnings: crate::duties::for_requester(flow, user, directory),
    }
}

impl fmt::Display for Explanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{} ({}) for {}", self.name, self.flow, self.user)?;
        let verdict = if self.may_request {
            "may request it"
        } else {
            "may NOT request it"
        };
        writeln!(f, "  {} {verdict}: {}", self.user, self.why)?;
        if self.steps.is_empty() {
            writeln!(f, "  approval: none; requests are approved at once")?;
        }
        for (i, s) in self.steps.iter().enumerate() {
            let who = if s.approvers.is_empty() {
                String::from("nobody")
            } else {
                policy::join(&s.approvers)
            };
            writeln!(f, "  step {}: {} — {} of: {who}", i + 1, s.name, s.required)?;
            if !s.why.is_empty() {
                writeln!(f, "    why: {}", s.why)?;
            }
            if let Some(skip) = &s.skipped_when {
                writeln!(f, "    skip: {skip}")?;
            }
            for t in &s.timing {
                writeln!(f, "    {t}")?;
            }
            if let Some(p) = &s.problem {
                writeln!(f, "    PROBLEM: {p}")?;
            }
        }
        writeln!(f, "  on approval: {}", self.fulfilment)?;
        writeln!(f, "  duration: {}", self.duration)?;
        writeln!(f, "  pending: {}", self.pending_expiry)?;
        for w in &self.warnings {
            writeln!(f, "  WARNING: {w}")?;
        }
        Ok(())
    }
}
