//! The end of access: when it starts, when it ends (with the expiry and the warnings before it),
//! and how it is taken away again (by a connector, or by the fulfillers).

use super::{Change, ACCESS_WARNING_DAY, ACCESS_WARNING_HOUR};
use crate::events::Actor;
use crate::events::{Notice, Provision, Timer, TimerKind};
use crate::request::{Outcome, State};
use crate::time::Timestamp;

impl Change<'_> {
    /// Closes the fulfilment by Sesame itself (a connector's answer, an applied extension),
    /// noting what the target system said.
    pub(super) fn close_fulfilment(&mut self, note: &str) {
        let now = self.now;
        if let Some(f) = self.request.fulfilment.as_mut() {
            f.finished_at = Some(now);
            f.note = Some(note.to_owned());
        }
    }

    /// Ends the request as failed by Sesame itself, with `error` as the reason people see.
    pub(super) fn fail_by_system(&mut self, error: &str) {
        self.close_fulfilment(error);
        self.request.state = State::Failed;
        self.request.outcome = Some(Outcome {
            by: Actor::System.label(),
            at: self.now,
            reason: Some(error.to_owned()),
        });
    }

    /// Access is in place from now: active until the end of the requested duration (with its
    /// expiry and warnings), or fulfilled for good when the flow has no duration. Returns the end.
    pub(super) fn start_access(&mut self) -> Option<Timestamp> {
        let now = self.now;
        self.request.access_starts_at = Some(now);
        match self.request.duration {
            Some(duration) => {
                let until = now.plus(duration);
                self.set_end(until);
                Some(until)
            }
            None => {
                self.request.state = State::Fulfilled;
                None
            }
        }
    }

    /// Makes `until` the end of active access: the expiry timer and the warnings a day and an hour
    /// before it, for those still ahead. Timers for an earlier end are outlived by the `until`
    /// they carry (or, for the expiry, by looking at the end again when it fires).
    pub(super) fn set_end(&mut self, until: Timestamp) {
        let now = self.now;
        self.request.access_ends_at = Some(until);
        self.request.state = State::Active { until };
        self.timers.push(Timer {
            at: until,
            kind: TimerKind::AccessExpiry,
        });
        for before in [ACCESS_WARNING_DAY, ACCESS_WARNING_HOUR] {
            let at = Timestamp(until.0 - before);
            if at > now {
                self.timers.push(Timer {
                    at,
                    kind: TimerKind::AccessEndingSoon { until },
                });
            }
        }
    }

    /// Access ended (expired, revoked): a connector removes it, and people are asked to remove
    /// access granted by hand.
    pub(super) fn remove_access(&mut self) {
        if self.request.provisioning.is_some() {
            self.provisioning.push(Provision::Revoke);
        } else {
            self.notices.push(Notice::RemovalRequested);
        }
    }
}
