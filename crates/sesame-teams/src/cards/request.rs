//! Cards about one request, rendered from its current state: the requester's (edited in place at
//! every change), each approver's and fulfiller's (with buttons while the decision is theirs), the
//! removal task. The short updates that arrive as replies are in `updates`.

use super::text::{format_number, rich, utc_minutes, Run};
use super::{execute, request_url, verbs, Card, MAX_REFRESH_USERS};
use serde_json::{json, Value};
use sesame_core::flow::Flow;
use sesame_core::ids::UserId;
use sesame_core::request::{Request, State, StepProgress, StepStatus};

/// How many people a line names before it says "and N others".
const NAMED_PEOPLE: usize = 5;

/// What rendering may know beyond the request.
pub struct RenderContext<'a> {
    /// A person's display name (their id when the directory does not know them).
    pub name: &'a (dyn Fn(&UserId) -> String + Sync),
    /// Where links point: `{portal_base_url}/requests/{number}`.
    pub portal_base_url: &'a str,
}

impl RenderContext<'_> {
    pub(super) fn people(&self, people: &[UserId]) -> String {
        let mut names: Vec<String> = people
            .iter()
            .take(NAMED_PEOPLE)
            .map(|p| (self.name)(p))
            .collect();
        if people.len() > NAMED_PEOPLE {
            names.push(format!("{} others", people.len() - NAMED_PEOPLE));
        }
        match names.len() {
            0 => String::from("nobody"),
            1 => names.remove(0),
            n => format!("{} and {}", names[..n - 1].join(", "), names[n - 1]),
        }
    }

    pub fn url(&self, request: &Request) -> String {
        request_url(self.portal_base_url, request.number)
    }

    /// "<flow> #<number>", linked to the portal.
    pub(super) fn title_link(&self, request: &Request) -> Run {
        Run::link(&request.title(), &self.url(request))
    }
}

/// Where the request stands, in one line.
pub(super) fn status_line(ctx: &RenderContext<'_>, request: &Request) -> String {
    let by = || {
        request
            .outcome
            .as_ref()
            .map_or_else(|| String::from("someone"), |o| by_name(ctx, &o.by))
    };
    let with_reason =
        |line: String| match request.outcome.as_ref().and_then(|o| o.reason.as_deref()) {
            Some(reason) => format!("{line}: {reason}"),
            None => line,
        };
    match request.state {
        State::Submitted => String::from("Submitted"),
        State::PendingApproval { step } => match request.steps.get(step) {
            Some(progress) => waiting_line(ctx, request, step, progress),
            None => String::from("Waiting for approval"),
        },
        State::Approved => String::from("Approved"),
        State::Fulfilling => {
            let fulfillers = request
                .fulfilment
                .as_ref()
                .map(|f| f.fulfillers.as_slice())
                .unwrap_or_default();
            if fulfillers.is_empty() {
                String::from(
                    "Approved; nobody can grant it right now, and an administrator has been told",
                )
            } else {
                format!(
                    "Approved; waiting for {} to grant access",
                    ctx.people(fulfillers)
                )
            }
        }
        State::Active { until } => format!("Active until {}", utc_minutes(until)),
        State::Fulfilled => match request.fulfilment.as_ref().and_then(|f| f.by.as_ref()) {
            Some(by) => format!("Done by {}", (ctx.name)(by)),
            None => String::from("Done"),
        },
        State::Expired => String::from("Expired"),
        State::Revoked => with_reason(format!("Revoked by {}", by())),
        State::Denied => with_reason(format!("Denied by {}", by())),
        State::Canceled => with_reason(format!("Canceled by {}", by())),
        State::Failed => with_reason(format!("Could not be granted ({})", by())),
        State::ClosedUnanswered => String::from("Closed: nobody decided in time"),
    }
}

/// An outcome's `by` is a user id or a word such as `system`.
fn by_name(ctx: &RenderContext<'_>, by: &str) -> String {
    match UserId::new(by) {
        Ok(id) => (ctx.name)(&id),
        Err(_) => by.to_owned(),
    }
}

fn waiting_line(
    ctx: &RenderContext<'_>,
    request: &Request,
    step: usize,
    progress: &StepProgress,
) -> String {
    let position = format!(
        "step {} of {}: {}",
        step + 1,
        request.steps.len(),
        progress.spec.name
    );
    if progress.eligible.is_empty() {
        return format!(
            "Waiting: nobody can approve {position} right now, and an administrator has been told"
        );
    }
    let undecided: Vec<UserId> = progress.undecided().cloned().collect();
    let mut line = format!(
        "Waiting for approval from {} ({position})",
        ctx.people(&undecided)
    );
    let need = progress.spec.required as usize;
    if need > 1 {
        line.push_str(&format!(
            ", {} of {need} approvals so far",
            progress.approvals.len()
        ));
    }
    line
}

/// The answers, justification and duration, one line each.
fn facts(request: &Request, flow: Option<&Flow>) -> Vec<Value> {
    let mut lines = Vec::new();
    for (question, answer) in &request.answers {
        let label = flow
            .and_then(|f| f.question(question.as_str()))
            .map_or_else(|| question.to_string(), |q| q.label.clone());
        let shown = match answer {
            Value::String(s) => s.clone(),
            Value::Bool(true) => String::from("Yes"),
            Value::Bool(false) => String::from("No"),
            Value::Number(n) => n.as_f64().map_or_else(|| n.to_string(), format_number),
            Value::Array(items) => items
                .iter()
                .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_owned))
                .collect::<Vec<_>>()
                .join(", "),
            other => other.to_string(),
        };
        lines.push(rich(&[
            Run::bold(&format!("{label}: ")),
            Run::plain(&shown),
        ]));
    }
    if let Some(duration) = request.duration {
        lines.push(rich(&[
            Run::bold("Duration: "),
            Run::plain(&duration.in_words()),
        ]));
    }
    if let Some(justification) = &request.justification {
        lines.push(rich(&[
            Run::bold("Justification: "),
            Run::plain(justification),
        ]));
    }
    lines
}

fn steps_summary(ctx: &RenderContext<'_>, request: &Request) -> Vec<Value> {
    request
        .steps
        .iter()
        .enumerate()
        .map(|(index, step)| {
            let detail = match step.status {
                StepStatus::Approved => {
                    let by: Vec<UserId> = step.approvals.iter().map(|d| d.by.clone()).collect();
                    format!("approved by {}", ctx.people(&by))
                }
                StepStatus::Denied => match &step.denial {
                    Some(d) => format!("denied by {}", (ctx.name)(&d.by)),
                    None => String::from("denied"),
                },
                StepStatus::Pending => String::from("waiting"),
                StepStatus::Waiting => String::from("to come"),
                StepStatus::Skipped => String::from("skipped"),
                StepStatus::Closed => String::from("closed"),
            };
            rich(&[Run::subtle(&format!(
                "Step {}: {} ({detail})",
                index + 1,
                step.spec.name
            ))])
        })
        .collect()
}

/// The header every request card starts with: who asks for what (linked), and where it stands.
fn header(ctx: &RenderContext<'_>, request: &Request, lead: &str) -> Vec<Value> {
    vec![
        rich(&[Run::plain(lead), ctx.title_link(request)]),
        rich(&[
            Run::bold("Status: "),
            Run::plain(&status_line(ctx, request)),
        ]),
    ]
}

/// The requester's card, edited in place at every change.
pub fn requester_card(ctx: &RenderContext<'_>, request: &Request, flow: Option<&Flow>) -> Card {
    let mut card = Card::new(&format!(
        "{}: {}",
        request.title(),
        status_line(ctx, request)
    ));
    card.body = header(ctx, request, "Your request ");
    card.details = facts(request, flow);
    card.details.extend(steps_summary(ctx, request));
    card
}

/// A line under a card's header saying why a click was not recorded.
fn problem_line(problem: Option<&str>) -> Option<Value> {
    problem.map(|p| rich(&[Run::attention("Not recorded: "), Run::plain(p)]))
}

/// A deny or can't-do-it button: it opens a reason field and a confirming `Action.Execute`.
fn with_reason(title: &str, verb: &str, data: Value, placeholder: &str) -> Value {
    json!({
        "type": "Action.ShowCard",
        "title": title,
        "card": {
            "type": "AdaptiveCard",
            "body": [{
                "type": "Input.Text",
                "id": "reason",
                "label": "Reason (the requester sees it)",
                "placeholder": placeholder,
                "isMultiline": true,
                "isRequired": true,
                "errorMessage": "Please give a reason.",
                "maxLength": sesame_core::engine::MAX_REASON,
            }],
            "actions": [super::execute_validated(title, verb, data)],
        },
    })
}

/// The card asking `viewer` to decide step `step`, or, once decided or not theirs, saying how it
/// stands without buttons. `refresh_users` are the Teams ids whose copies Teams refreshes when
/// they look at it, so every approver sees a decision made by another.
pub fn approver_card(
    ctx: &RenderContext<'_>,
    request: &Request,
    flow: Option<&Flow>,
    step: usize,
    viewer: &UserId,
    refresh_users: &[String],
    problem: Option<&str>,
) -> Card {
    let lead = format!("{} asks for ", (ctx.name)(&request.requester));
    let mut card = Card::new(&format!("{}{}", lead, request.title()));
    card.body = header(ctx, request, &lead);
    card.body.extend(problem_line(problem));
    let Some(progress) = request.steps.get(step) else {
        card.body
            .push(rich(&[Run::plain("This approval step no longer exists.")]));
        return card;
    };
    let mut why = format!(
        "Step {} of {}: {}",
        step + 1,
        request.steps.len(),
        progress.spec.name
    );
    if !progress.why.is_empty() {
        why.push_str(&format!(". Why you: {}", progress.why));
    }
    card.body.push(rich(&[Run::subtle(&why)]));
    let data = json!({ "request": request.number.0, "step": step });
    let theirs = progress.status == StepStatus::Pending
        && request.state == (State::PendingApproval { step })
        && progress.eligible.contains(viewer)
        && !progress.approved_by(viewer);
    if theirs {
        card.actions = vec![
            execute("Approve", verbs::APPROVE, data.clone()),
            with_reason("Deny", verbs::DENY, data.clone(), "Why not?"),
        ];
    } else if progress.approved_by(viewer) && progress.status == StepStatus::Pending {
        card.body.push(rich(&[Run::plain(
            "You approved; waiting for the other approvals this step needs.",
        )]));
    }
    card.details = facts(request, flow);
    card.refresh = refresh(refresh_users, data);
    card
}

/// The fulfiller's card: Done / Can't do it while the request waits for them.
pub fn fulfiller_card(
    ctx: &RenderContext<'_>,
    request: &Request,
    flow: Option<&Flow>,
    viewer: &UserId,
    refresh_users: &[String],
    problem: Option<&str>,
) -> Card {
    let lead = format!("Please grant {} ", (ctx.name)(&request.requester));
    let mut card = Card::new(&format!("{}{}", lead, request.title()));
    card.body = header(ctx, request, &lead);
    card.body.extend(problem_line(problem));
    let data = json!({ "request": request.number.0 });
    let theirs = request.state == State::Fulfilling
        && request
            .fulfilment
            .as_ref()
            .is_some_and(|f| f.fulfillers.contains(viewer));
    if theirs {
        card.actions = vec![
            execute("Done", verbs::COMPLETE, data.clone()),
            with_reason("Can't do it", verbs::FAIL, data.clone(), "What went wrong?"),
        ];
    }
    card.details = facts(request, flow);
    card.refresh = refresh(refresh_users, data);
    card
}

/// The task to remove access that ended (revoked or expired) by hand.
pub fn removal_card(ctx: &RenderContext<'_>, request: &Request) -> Card {
    let lead = format!(
        "Please remove the access of {}: ",
        (ctx.name)(&request.requester)
    );
    let mut card = Card::new(&format!("{}{}", lead, request.title()));
    card.body = header(ctx, request, &lead);
    card
}

/// A problem only an administrator can solve (a step nobody can approve, an approver who left, a
/// connector that keeps failing), for the administrators' own chats.
pub fn admin_alert_card(ctx: &RenderContext<'_>, request: &Request, problem: &str) -> Card {
    let mut card = Card::new(&format!("{} needs an administrator", request.title()));
    card.body = vec![
        rich(&[
            Run::attention("Needs an administrator: "),
            ctx.title_link(request),
        ]),
        rich(&[Run::plain(problem)]),
    ];
    card
}

fn refresh(users: &[String], data: Value) -> Option<Value> {
    let users: Vec<&String> = users.iter().take(MAX_REFRESH_USERS).collect();
    (!users.is_empty()).then(|| {
        json!({
            "action": { "type": "Action.Execute", "title": "Refresh", "verb": verbs::REFRESH, "data": data },
            "userIds": users,
        })
    })
}
