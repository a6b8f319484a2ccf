//! Messages and views rendered from a request's *current* state. Outbox notices carry intent only
//! ("the request changed", "ask these approvers"), so a late or repeated delivery renders what is
//! true now and a message can never move backwards.
//!
//! Every string a person typed goes through [`crate::text`], every mention through
//! [`crate::text::mention`], and every block through the builders of [`crate::blocks`], so the
//! output stays within Slack's limits however long the answers or how many the steps.

mod approver;
mod extension;
mod facts;
mod home;
mod notes;
mod requester;
mod thread;

#[cfg(test)]
pub(crate) mod fixtures;

pub use approver::{
    approver_message, deny_modal, fail_modal, fulfiller_message, reason_from_state,
    DENY_CALLBACK_ID, FAIL_CALLBACK_ID, REASON_ACTION, REASON_BLOCK,
};
pub use extension::{
    ending_soon_actions, extend_modal, extension_duration_from_state, EXTEND_ACTION,
    EXTEND_CALLBACK_ID, EXTEND_DURATION_BLOCK, RELINQUISH_ACTION,
};
pub use home::{flow_picker, flow_suggestions, home_view, match_reply, typed_text_of_block};
pub use notes::{
    admin_alert, info_modal, plain_notice, reminder_reply, removal_message, INFO_CALLBACK_ID,
};
pub use requester::requester_message;
pub use thread::{thread_reply, ThreadEvent};

use crate::text::{is_slack_user_id, Mrkdwn};
use serde_json::{json, Value};
use sesame_core::events::Actor;
use sesame_core::ids::{RequestNumber, UserId};
use sesame_core::request::Request;

pub const CANCEL_ACTION: &str = "sesame_cancel";
pub const APPROVE_ACTION: &str = "sesame_approve";
pub const DENY_ACTION: &str = "sesame_deny";
pub const COMPLETE_ACTION: &str = "sesame_complete";
pub const FAIL_ACTION: &str = "sesame_fail";
pub const PICK_FLOW_ACTION: &str = "sesame_pick_flow";
pub const START_FLOW_ACTION: &str = "sesame_start_flow";

/// How a directory user appears in Slack: their name, and their Slack account when one is linked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub display_name: String,
    pub slack_user_id: Option<String>,
}

impl Person {
    /// How a directory person appears, with their Slack account as `slack_id` knows it; someone
    /// not in the directory appears by their id.
    pub fn from_directory(
        directory: &sesame_core::directory::Directory,
        id: &UserId,
        slack_id: impl Fn(&sesame_core::directory::User) -> Option<String>,
    ) -> Person {
        match directory.user(id) {
            Some(user) => Person {
                display_name: user.display_name.clone(),
                slack_user_id: slack_id(user),
            },
            None => Person {
                display_name: id.to_string(),
                slack_user_id: None,
            },
        }
    }
}

/// What rendering needs besides the request: who people are, and where the portal lives.
#[derive(Clone, Copy)]
pub struct RenderContext<'a> {
    pub people: &'a dyn Fn(&UserId) -> Person,
    /// The portal's base URL, such as `https://sesame.example.com`; links go to
    /// `{portal_base_url}/requests/{number}`.
    pub portal_base_url: &'a str,
}

impl RenderContext<'_> {
    /// A mention when the person has a Slack account, else their escaped name.
    pub(crate) fn person(&self, id: &UserId) -> Mrkdwn {
        let person = (self.people)(id);
        match person
            .slack_user_id
            .as_deref()
            .filter(|s| is_slack_user_id(s))
        {
            Some(slack_id) => Mrkdwn::mention(slack_id),
            None => Mrkdwn::escaped(&person.display_name),
        }
    }

    /// The person's name as plain text, for `plain_text` objects and notification texts.
    pub(crate) fn name(&self, id: &UserId) -> String {
        (self.people)(id).display_name
    }

    /// Who an outcome names: a user id, or `sesame` for Sesame's own timers.
    pub(crate) fn actor(&self, label: &str) -> Mrkdwn {
        if label == Actor::System.label() {
            return Mrkdwn::literal("Sesame");
        }
        match UserId::new(label) {
            Ok(id) => self.person(&id),
            Err(_) => Mrkdwn::escaped(label),
        }
    }

    pub(crate) fn request_url(&self, number: RequestNumber) -> String {
        format!(
            "{}/requests/{}",
            self.portal_base_url.trim_end_matches('/'),
            number.0
        )
    }

    /// The note that replaces blocks cut to fit Slack's limits.
    pub(crate) fn details_on_portal(&self, number: RequestNumber) -> Mrkdwn {
        Mrkdwn::literal("More details are on ").then(Mrkdwn::link(
            &self.request_url(number),
            "the request's page",
        ))
    }

    /// "Carpark access #117" linking to the request's page.
    pub(crate) fn title_link(&self, request: &Request) -> Mrkdwn {
        Mrkdwn::link(&self.request_url(request.number), &request.title())
    }

    /// "@a, @b and 3 others": at most `named` people by name, so a large group stays one line.
    pub(crate) fn people_list(&self, ids: &[UserId], named: usize) -> Mrkdwn {
        let shown: Vec<Mrkdwn> = ids.iter().take(named).map(|id| self.person(id)).collect();
        let rest = ids.len().saturating_sub(named);
        let listed = Mrkdwn::join(shown, ", ");
        match rest {
            0 => listed,
            1 => listed.then_literal(" and 1 other"),
            n => listed.then_escaped(&format!(" and {n} others")),
        }
    }
}

/// A message for `chat.postMessage` or `chat.update`: `text` is the notification and fallback
/// text (mrkdwn, escaped like everything else), `blocks` what Slack shows.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub text: String,
    pub blocks: Vec<Value>,
}

/// The most a notification text holds; the blocks carry the detail.
const MAX_NOTIFICATION: usize = 300;

impl Message {
    pub(crate) fn new(text: &Mrkdwn, blocks: Vec<Value>) -> Self {
        Message {
            text: text.truncated(MAX_NOTIFICATION).as_str().to_owned(),
            blocks,
        }
    }

    /// `{"text": …, "blocks": […]}`, the part of a `chat.*` call that this module owns.
    pub fn to_json(&self) -> Value {
        json!({ "text": self.text, "blocks": self.blocks })
    }
}

/// Why a button's value could not be read back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a request reference Sesame wrote")]
pub struct ActionValueError(pub String);

/// The value of an Approve or Deny button: the request number and the step's index (from zero, as
/// in `Notice` and `Command`), such as `117:0`. The step is part of the value so that a click on an
/// old step's message cannot decide a later step.
pub fn step_action_value(number: RequestNumber, step: usize) -> String {
    format!("{}:{step}", number.0)
}

pub fn parse_step_action_value(value: &str) -> Result<(RequestNumber, usize), ActionValueError> {
    let error = || ActionValueError(value.to_owned());
    let (number, step) = value.split_once(':').ok_or_else(error)?;
    Ok((
        parse_request_action_value(number)?,
        step.parse().map_err(|_| error())?,
    ))
}

/// The value of a Cancel, Done or Can't-do-it button: the request number.
pub fn request_action_value(number: RequestNumber) -> String {
    number.0.to_string()
}

pub fn parse_request_action_value(value: &str) -> Result<RequestNumber, ActionValueError> {
    match value.parse::<i64>() {
        Ok(n) if n > 0 && !value.starts_with('+') => Ok(RequestNumber(n)),
        _ => Err(ActionValueError(value.to_owned())),
    }
}

#[cfg(test)]
mod tests;
