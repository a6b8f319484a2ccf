//! The short updates that arrive as replies under a request's card: the change, a reminder, an
//! escalation, a comment, and the warning that access ends soon (with Extend and Remove now).

use super::request::{status_line, RenderContext};
use super::text::{rich, utc_minutes, Run};
use super::{execute, verbs, Card};
use serde_json::{json, Value};
use sesame_core::flow::Flow;
use sesame_core::ids::UserId;
use sesame_core::request::{Request, State};

/// What a short update under a card says.
#[derive(Debug, Clone, PartialEq)]
pub enum Update<'a> {
    /// The request changed; the line says where it stands now.
    Changed,
    Reminder {
        step: usize,
    },
    AccessEndingSoon,
    Escalated {
        step: usize,
        to: &'a [UserId],
    },
    Commented {
        author: &'a UserId,
        text: &'a str,
    },
}

/// Extend and Remove now, under the warning that access ends soon: extending files a new request
/// of the same flow through its approvals; removing ends the access at once.
fn ending_actions(request: &Request, flow: Option<&Flow>) -> Vec<Value> {
    if !matches!(request.state, State::Active { .. }) {
        return Vec::new();
    }
    let data = json!({ "request": request.number.0 });
    let mut actions = Vec::new();
    if let Some(policy) = flow.and_then(|f| f.duration) {
        actions.push(json!({
            "type": "Action.ShowCard",
            "title": "Extend",
            "card": {
                "type": "AdaptiveCard",
                "body": [
                    {
                        "type": "Input.ChoiceSet",
                        "id": "duration",
                        "label": "How much longer?",
                        "style": "compact",
                        "choices": super::form::duration_choices(Some(policy.max), Some(policy.default)),
                        "value": policy.default.to_string(),
                    },
                    {
                        "type": "Input.Text",
                        "id": "reason",
                        "label": "Why do you need it longer? (the approvers see this)",
                        "isMultiline": true,
                        "maxLength": sesame_core::engine::MAX_REASON,
                    },
                ],
                "actions": [execute("Ask to extend", verbs::EXTEND, data.clone())],
            },
        }));
    }
    actions.push(execute("Remove now", verbs::RELINQUISH, data));
    actions
}

/// A reply under a request's card.
pub fn update_card(
    ctx: &RenderContext<'_>,
    request: &Request,
    flow: Option<&Flow>,
    update: &Update<'_>,
) -> Card {
    let runs = match update {
        Update::Changed => vec![
            ctx.title_link(request),
            Run::plain(": "),
            Run::plain(&status_line(ctx, request)),
        ],
        Update::Reminder { step } => vec![
            Run::bold("Reminder: "),
            ctx.title_link(request),
            Run::plain(&format!(
                " still waits for your decision (step {}).",
                step + 1
            )),
        ],
        Update::AccessEndingSoon => {
            let when = request.access_ends_at.map_or_else(
                || String::from("soon"),
                |at| format!("at {}", utc_minutes(at)),
            );
            vec![
                Run::bold("Access ending soon: "),
                ctx.title_link(request),
                Run::plain(&format!(
                    " ends {when}. Request it again if you still need it."
                )),
            ]
        }
        Update::Escalated { step, to } => vec![
            ctx.title_link(request),
            Run::plain(&format!(
                ": step {} was escalated to {}.",
                step + 1,
                ctx.people(to)
            )),
        ],
        Update::Commented { author, text } => vec![
            Run::bold(&format!("{} commented on ", (ctx.name)(author))),
            ctx.title_link(request),
            Run::plain(": "),
            Run::plain(text),
        ],
    };
    let mut card = Card::new(&format!("{}: update", request.title()));
    card.body = vec![rich(&runs)];
    if *update == Update::AccessEndingSoon {
        card.actions = ending_actions(request, flow);
    }
    card
}
