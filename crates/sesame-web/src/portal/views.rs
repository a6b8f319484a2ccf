//! Requests as the templates show them: plain JSON values with names instead of ids, times in
//! words, and a label and tone for every state. Templates escape whatever ends up here.

use serde_json::{json, Value};
use sesame_app::{App, AuditRecord, Comment, Principal};
use sesame_core::request::{State, StepStatus};
use sesame_core::{Directory, Duty, Request, Timestamp, UserId};

/// `2026-01-05 09:00 UTC`.
pub fn time(t: Timestamp) -> String {
    let text = t.to_rfc3339();
    match (text.get(..10), text.get(11..16)) {
        (Some(date), Some(clock)) => format!("{date} {clock} UTC"),
        _ => text,
    }
}

/// A label a person understands, and a tone for its badge (`waiting`, `good`, `bad`, `done`).
pub fn state_label(request: &Request) -> (String, &'static str) {
    match request.state {
        State::Submitted => (String::from("Submitted"), "waiting"),
        State::PendingApproval { step } => {
            let name = request
                .steps
                .get(step)
                .map(|s| s.spec.name.as_str())
                .unwrap_or("approval");
            (format!("Waiting for approval ({name})"), "waiting")
        }
        State::Approved => (String::from("Approved"), "good"),
        State::Fulfilling => (String::from("Approved, being set up"), "waiting"),
        State::Active { until } => (format!("Active until {}", time(until)), "good"),
        State::Fulfilled => (String::from("Done"), "good"),
        State::Expired => (String::from("Expired"), "done"),
        State::Revoked => (String::from("Ended early"), "done"),
        State::Denied => (String::from("Denied"), "bad"),
        State::Canceled => (String::from("Canceled"), "done"),
        State::Failed => (String::from("Could not be done"), "bad"),
        State::ClosedUnanswered => (String::from("Closed without an answer"), "bad"),
    }
}

fn name(directory: &Directory, id: &UserId) -> String {
    directory.display_name(id)
}

fn names(directory: &Directory, ids: &[UserId]) -> Vec<String> {
    ids.iter().map(|id| name(directory, id)).collect()
}

/// One line of a list of requests.
pub fn summary(directory: &Directory, request: &Request) -> Value {
    let (label, tone) = state_label(request);
    json!({
        "number": request.number.0,
        "flow": request.flow.name,
        "state": request.state.name(),
        "label": label,
        "tone": tone,
        "requester": name(directory, &request.requester),
        "created": time(request.created_at),
        "ends": request.access_ends_at.map(time),
    })
}

fn answer_text(directory: &Directory, kind: Option<&str>, value: &Value) -> String {
    match value {
        Value::String(s) if kind == Some("user") => UserId::new(s.as_str())
            .map(|id| name(directory, &id))
            .unwrap_or_else(|_| s.clone()),
        Value::String(s) => s.clone(),
        Value::Bool(true) => String::from("Yes"),
        Value::Bool(false) => String::from("No"),
        Value::Array(items) => items
            .iter()
            .map(|i| {
                i.as_str()
                    .map(str::to_owned)
                    .unwrap_or_else(|| i.to_string())
            })
            .collect::<Vec<_>>()
            .join(", "),
        Value::Number(n) => n
            .as_f64()
            .filter(|f| f.fract() == 0.0 && f.abs() < 1e15)
            .map(|f| format!("{}", f as i64))
            .unwrap_or_else(|| n.to_string()),
        other => other.to_string(),
    }
}

/// Everything the request page shows.
pub fn detail(
    app: &App,
    who: &Principal,
    request: &Request,
    comments: &[Comment],
    audit: &[AuditRecord],
) -> Value {
    let directory = app.directory();
    let catalog = app.catalog();
    let flow = catalog.get(request.flow.id.as_str());
    // In the flow's order where the flow still exists; answers to questions it no longer has
    // come last.
    let position = |id: &str| {
        flow.and_then(|f| f.questions.iter().position(|q| q.id.as_str() == id))
            .unwrap_or(usize::MAX)
    };
    let mut ordered: Vec<_> = request.answers.iter().collect();
    ordered.sort_by_key(|(id, _)| position(id.as_str()));
    let answers: Vec<Value> = ordered
        .into_iter()
        .map(|(id, value)| {
            let question = flow.and_then(|f| f.question(id.as_str()));
            json!({
                "label": question.map(|q| q.label.clone()).unwrap_or_else(|| id.to_string()),
                "value": answer_text(&directory, question.map(|q| q.kind.type_name()), value),
            })
        })
        .collect();
    let steps: Vec<Value> = request
        .steps
        .iter()
        .map(|s| {
            json!({
                "name": s.spec.name,
                "status": step_status(s.status),
                "asked": names(&directory, &s.eligible),
                "why": s.why,
                "required": s.spec.required,
                "started": s.started_at.map(time),
                "finished": s.finished_at.map(time),
                "escalated": s.escalated,
                "approvals": s.approvals.iter().map(|d| json!({
                    "by": name(&directory, &d.by), "at": time(d.at), "comment": d.comment,
                })).collect::<Vec<_>>(),
                "denial": s.denial.as_ref().map(|d| json!({
                    "by": name(&directory, &d.by), "at": time(d.at), "reason": d.comment,
                })),
            })
        })
        .collect();
    let fulfilment = request.fulfilment.as_ref().map(|f| {
        json!({
            "asked": names(&directory, &f.fulfillers),
            "why": f.why,
            "started": time(f.started_at),
            "finished": f.finished_at.map(time),
            "by": f.by.as_ref().map(|b| name(&directory, b)),
            "note": f.note,
        })
    });
    // Automatic fulfilment: which connector, where it stands, and the target system's own words
    // when it failed, so a person sees why access is late without asking an administrator.
    let provisioning = request.provisioning.as_ref().map(|p| {
        json!({
            "connector": p.connector,
            "accepted": p.accepted_at.map(time),
            "granted": p.granted_at.map(time),
            "removed": p.removed_at.map(time),
            "error": p.last_error,
            "failures": p.failures,
        })
    });
    let outcome = request.outcome.as_ref().map(|o| {
        let by = UserId::new(o.by.as_str())
            .map(|id| name(&directory, &id))
            .unwrap_or_else(|_| o.by.clone());
        json!({ "by": by, "at": time(o.at), "reason": o.reason })
    });
    let (label, tone) = state_label(request);
    json!({
        "number": request.number.0,
        "title": request.title(),
        "flow": request.flow.name,
        "state": request.state.name(),
        "label": label,
        "tone": tone,
        "requester": name(&directory, &request.requester),
        "extends": request.extends.map(|n| n.0),
        "submitted_by": (request.submitted_by != request.requester)
            .then(|| name(&directory, &request.submitted_by)),
        "created": time(request.created_at),
        "updated": time(request.updated_at),
        "justification": request.justification,
        "duration": request.duration.map(|d| d.in_words()),
        "starts": request.access_starts_at.map(time),
        "ends": request.access_ends_at.map(time),
        "answers": answers,
        "steps": steps,
        "fulfilment": fulfilment,
        "provisioning": provisioning,
        "extended_by": request.extended_by.iter().map(|n| n.0).collect::<Vec<_>>(),
        "outcome": outcome,
        "comments": comments.iter().map(|c| json!({
            "author": name(&directory, &c.author),
            "at": time(c.created_at),
            "text": c.text,
            "source": source_name(&c.source),
        })).collect::<Vec<_>>(),
        "audit": audit.iter().map(|a| audit_line(&directory, a)).collect::<Vec<_>>(),
        "actions": actions(app, who, request),
    })
}

/// Where a comment was written, for people: nothing for the portal itself.
fn source_name(source: &str) -> Option<&'static str> {
    match source.split(':').next().unwrap_or_default() {
        "slack" => Some("Slack"),
        "teams" => Some("Microsoft Teams"),
        "api" => Some("the API"),
        _ => None,
    }
}

fn step_status(status: StepStatus) -> &'static str {
    match status {
        StepStatus::Waiting => "not started",
        StepStatus::Pending => "waiting",
        StepStatus::Approved => "approved",
        StepStatus::Denied => "denied",
        StepStatus::Skipped => "skipped",
        StepStatus::Closed => "closed",
    }
}

/// One audit row for the page and the admin log.
pub fn audit_line(directory: &Directory, record: &AuditRecord) -> Value {
    let actor = UserId::new(record.actor.as_str())
        .ok()
        .filter(|id| directory.user(id).is_some())
        .map(|id| name(directory, &id))
        .unwrap_or_else(|| record.actor.clone());
    let detail = match &record.detail {
        Value::Object(map) if map.is_empty() => String::new(),
        Value::Null => String::new(),
        other => other.to_string(),
    };
    json!({
        "id": record.id,
        "request": record.request.map(|r| r.0),
        "at": time(record.at),
        "actor": actor,
        "kind": record.kind.replace('_', " "),
        "detail": detail,
    })
}

/// What the person may do on the request now. The engine checks again on every action; this
/// only decides which buttons to show. Auditors who are not administrators see no buttons on
/// requests that are not their own.
pub fn actions(app: &App, who: &Principal, request: &Request) -> Value {
    let duty = app.duty_of(who, request);
    let own = request.requester == who.user || request.submitted_by == who.user;
    let waiting = matches!(
        request.state,
        State::Submitted | State::PendingApproval { .. }
    );
    let holding = matches!(request.state, State::Active { .. } | State::Fulfilled);
    json!({
        "approve": duty == Some(Duty::Approve),
        "fulfil": duty == Some(Duty::Fulfil),
        "cancel": waiting && (own || who.admin),
        "relinquish": holding && request.requester == who.user,
        "revoke": holding && who.admin && request.requester != who.user,
        "extend": matches!(request.state, State::Active { .. })
            && (request.requester == who.user || who.admin),
        "comment": request.involves(&who.user) || who.admin,
    })
}
