//! Replies in the thread under the requester's message: one short line per step of the request's
//! life, so the thread reads as its history while the message above shows where it stands.

use super::facts::{approvers, status_line, step_position, waiting_line, NAMED_PEOPLE};
use super::{Message, RenderContext};
use crate::blocks::section;
use crate::text::Mrkdwn;
use sesame_core::events::Notice;
use sesame_core::ids::UserId;
use sesame_core::request::{Request, State, StepProgress, StepStatus};

/// What a thread reply is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThreadEvent<'a> {
    /// The request changed: say what happened last and where it stands now.
    Changed,
    /// A comment; its text lives beside the request, not in it, so the notice carries it.
    Commented { author: &'a UserId, text: &'a str },
    /// A step was escalated to more people.
    Escalated { step: usize, to: &'a [UserId] },
    /// Access ends soon.
    AccessEndingSoon,
}

impl<'a> ThreadEvent<'a> {
    /// The thread event a notice calls for in the requester's thread, if any.
    pub fn from_notice(notice: &'a Notice) -> Option<Self> {
        match notice {
            Notice::RequestUpdated => Some(ThreadEvent::Changed),
            Notice::Commented { author, text, .. } => Some(ThreadEvent::Commented { author, text }),
            Notice::Escalated { step, to } => Some(ThreadEvent::Escalated { step: *step, to }),
            Notice::AccessEndingSoon => Some(ThreadEvent::AccessEndingSoon),
            _ => None,
        }
    }
}

/// A reply for the requester's thread, rendered from the request as it is now.
pub fn thread_reply(
    ctx: &RenderContext<'_>,
    request: &Request,
    event: &ThreadEvent<'_>,
) -> Message {
    let line = match event {
        ThreadEvent::Changed => change_line(ctx, request),
        ThreadEvent::Commented { author, text } => Mrkdwn::literal("Comment from ")
            .then(ctx.person(author))
            .then_literal(": ")
            .then_escaped(text),
        ThreadEvent::Escalated { step, to } => {
            let position = request
                .steps
                .get(*step)
                .map(|progress| step_position(request, *step, progress))
                .unwrap_or_else(|| Mrkdwn::escaped(&format!("step {}", step.saturating_add(1))));
            Mrkdwn::literal("Escalated to ")
                .then(ctx.people_list(to, NAMED_PEOPLE))
                .then_literal(" (")
                .then(position)
                .then_literal(")")
        }
        ThreadEvent::AccessEndingSoon => {
            let line = match request.access_ends_at {
                Some(at) => Mrkdwn::literal("Access ending soon: it ends ").then(Mrkdwn::date(at)),
                None => Mrkdwn::literal("Access ending soon"),
            };
            // While the access is active the requester can extend it or give it up from here.
            let mut blocks = vec![section(&line)];
            if matches!(request.state, State::Active { .. }) {
                blocks.push(super::ending_soon_actions(request));
            }
            return Message::new(&line, blocks);
        }
    };
    Message::new(&line, vec![section(&line)])
}

fn change_line(ctx: &RenderContext<'_>, request: &Request) -> Mrkdwn {
    match request.state {
        State::PendingApproval { step } => {
            let waiting = match request.steps.get(step) {
                Some(progress) => waiting_on(ctx, request, step, progress),
                None => status_line(ctx, request),
            };
            match finished_before(ctx, request, step) {
                Some(done) => done.then_literal(". ").then(waiting),
                None => waiting,
            }
        }
        State::Approved | State::Fulfilling => {
            match finished_before(ctx, request, request.steps.len()) {
                Some(done) => done.then_literal(". ").then(status_line(ctx, request)),
                None => status_line(ctx, request),
            }
        }
        State::Active { until } => {
            let granted = Mrkdwn::literal("Access granted until ").then(Mrkdwn::date(until));
            match request.fulfilment.as_ref().and_then(|f| f.by.as_ref()) {
                Some(by) => granted.then_literal(" by ").then(ctx.person(by)),
                None => granted,
            }
        }
        _ => status_line(ctx, request),
    }
}

/// "Waiting on @mark (step 1 of 2: Manager approval)".
fn waiting_on(
    ctx: &RenderContext<'_>,
    request: &Request,
    step: usize,
    progress: &StepProgress,
) -> Mrkdwn {
    if progress.eligible.is_empty() || progress.spec.required > 1 {
        // The full line explains a step nobody can approve, and the quorum.
        return waiting_line(ctx, request, step, progress);
    }
    Mrkdwn::literal("Waiting on ")
        .then(ctx.people_list(&progress.eligible, NAMED_PEOPLE))
        .then_literal(" (")
        .then(step_position(request, step, progress))
        .then_literal(")")
}

/// The step decided just before `step`: "Approved by @mark (step 1: Manager approval)" or
/// "Skipped step 1 (Manager approval)".
fn finished_before(ctx: &RenderContext<'_>, request: &Request, step: usize) -> Option<Mrkdwn> {
    let index = step.checked_sub(1)?;
    let progress = request.steps.get(index)?;
    let name = Mrkdwn::escaped(&format!("step {}: {}", index + 1, progress.spec.name));
    match progress.status {
        StepStatus::Approved => Some(
            Mrkdwn::literal("Approved by ")
                .then(ctx.people_list(&approvers(progress), NAMED_PEOPLE))
                .then_literal(" (")
                .then(name)
                .then_literal(")"),
        ),
        StepStatus::Skipped => Some(Mrkdwn::literal("Skipped (").then(name).then_literal(")")),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::*;
    use super::*;
    use crate::blocks::check_limits;

    fn line(request: &Request, event: ThreadEvent<'_>) -> String {
        let message = thread_reply(&render_context(), request, &event);
        assert_eq!(check_limits(&message.to_json()), Ok(()));
        assert_eq!(message.blocks[0]["text"]["text"], message.text.as_str());
        message.text
    }

    #[test]
    fn each_change_gets_a_short_summary() {
        assert_eq!(
            line(&submitted_carpark(), ThreadEvent::Changed),
            "Waiting on <@U0MARK> (step 1 of 2: Manager approval)"
        );
        assert_eq!(
            line(&approved_by_manager(), ThreadEvent::Changed),
            "Approved by <@U0MARK> (step 1: Manager approval). Waiting on <@U0FAY>, Fred (step 2 of 2: Approval by facilities)"
        );
        assert_eq!(
            line(&fulfilling(), ThreadEvent::Changed),
            "Approved by <@U0FAY> (step 2: Approval by facilities). Approved; waiting for <@U0FAY>, Fred to grant access"
        );
        assert!(line(&active(), ThreadEvent::Changed).starts_with("Access granted until <!date^"));
        assert!(line(&active(), ThreadEvent::Changed).ends_with(" by <@U0FAY>"));
        assert_eq!(
            line(&denied(), ThreadEvent::Changed),
            "Denied by <@U0MARK>: Not this quarter &lt;sorry&gt;"
        );
        assert!(line(&expired(), ThreadEvent::Changed).starts_with("Expired <!date^"));
        assert_eq!(
            line(&canceled(), ThreadEvent::Changed),
            "Canceled by <@U0RITA>: changed my mind"
        );
    }

    #[test]
    fn comments_escalations_and_endings_are_rendered() {
        let text = "<!everyone> see <https://evil.example|this>";
        assert_eq!(
            line(
                &submitted_carpark(),
                ThreadEvent::Commented {
                    author: &uid("fred"),
                    text
                }
            ),
            "Comment from Fred: &lt;!everyone&gt; see &lt;https://evil.example|this&gt;"
        );
        let to = [uid("alice")];
        assert_eq!(
            line(
                &approved_by_manager(),
                ThreadEvent::Escalated { step: 1, to: &to }
            ),
            "Escalated to Alice (step 2 of 2: Approval by facilities)"
        );
        assert_eq!(
            line(
                &approved_by_manager(),
                ThreadEvent::Escalated { step: 9, to: &to }
            ),
            "Escalated to Alice (step 10)"
        );
        assert!(line(&active(), ThreadEvent::AccessEndingSoon)
            .starts_with("Access ending soon: it ends <!date^"));
        assert_eq!(
            line(&submitted_carpark(), ThreadEvent::AccessEndingSoon),
            "Access ending soon"
        );
        let long = "x".repeat(5000);
        let reply = thread_reply(
            &render_context(),
            &active(),
            &ThreadEvent::Commented {
                author: &uid("fay"),
                text: &long,
            },
        );
        assert_eq!(check_limits(&reply.to_json()), Ok(()));
    }

    #[test]
    fn notices_map_to_thread_events() {
        assert_eq!(
            ThreadEvent::from_notice(&Notice::RequestUpdated),
            Some(ThreadEvent::Changed)
        );
        let escalated = Notice::Escalated {
            step: 1,
            to: vec![uid("alice")],
        };
        assert!(matches!(
            ThreadEvent::from_notice(&escalated),
            Some(ThreadEvent::Escalated { step: 1, to }) if to == [uid("alice")]
        ));
        let commented = Notice::Commented {
            comment: 3,
            author: uid("fred"),
            text: String::from("hi"),
            source: String::from("api"),
        };
        assert_eq!(
            ThreadEvent::from_notice(&commented),
            Some(ThreadEvent::Commented {
                author: &uid("fred"),
                text: "hi"
            })
        );
        assert_eq!(ThreadEvent::from_notice(&Notice::FulfilmentRequested), None);
    }
}
