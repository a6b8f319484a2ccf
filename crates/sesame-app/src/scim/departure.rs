//! What leaving means for requests: a person who becomes inactive has their waiting requests
//! canceled and their access revoked, each through the engine as `Actor::System`.

use super::Departure;
use crate::{App, AppError};
use sesame_core::engine::Command;
use sesame_core::{RequestNumber, UserId};
use sesame_store::RequestFilter;

impl App {
    /// A person left: cancel what still waits for them and end the access they hold, each through the
    /// engine as Sesame itself. Requests they were asked to approve stay as they are (the engine
    /// refuses decisions by people who left, and the step's escalation and pending expiry timers
    /// still apply), but a step that can no longer reach its quorum is brought to the
    /// administrators at once.
    pub async fn depart(&self, user: &UserId) -> Result<Departure, AppError> {
        let mut departure = Departure::default();
        let filter = RequestFilter {
            requester: Some(user.clone()),
            states: [
                "submitted",
                "pending_approval",
                "fulfilling",
                "active",
                "fulfilled",
            ]
            .map(String::from)
            .to_vec(),
            limit: sesame_store::MAX_LIST_LIMIT,
            ..RequestFilter::default()
        };
        loop {
            let requests = self.store().list_requests(&filter).await?;
            let mut progressed = false;
            for request in &requests {
                let revoke = matches!(
                    request.state,
                    sesame_core::State::Active { .. } | sesame_core::State::Fulfilled
                );
                let reason = Some(String::from(
                    "the requester left (deactivated in the directory)",
                ));
                let command = if revoke {
                    Command::Revoke { reason }
                } else {
                    Command::Cancel { reason }
                };
                if self.act_as_system(request.number, command).await? {
                    progressed = true;
                    if revoke {
                        departure.revoked.push(request.number);
                    } else {
                        departure.canceled.push(request.number);
                    }
                }
            }
            if !progressed || requests.len() < sesame_store::MAX_LIST_LIMIT as usize {
                break;
            }
        }
        // Steps they were asked to approve: their decision no longer counts, so a step that can no
        // longer reach its quorum is brought to the administrators at once rather than waiting for
        // escalation or expiry.
        let waiting = RequestFilter {
            waiting_on: Some(user.clone()),
            limit: sesame_store::MAX_LIST_LIMIT,
            ..RequestFilter::default()
        };
        for request in self.store().list_requests(&waiting).await? {
            if self.act_as_system(request.number, Command::Recheck).await? {
                departure.stuck.push(request.number);
            }
        }
        tracing::info!(user = %user, canceled = departure.canceled.len(), revoked = departure.revoked.len(), stuck = departure.stuck.len(), "a person left");
        Ok(departure)
    }

    /// Applies a command as Sesame itself; false when it no longer applies to the request (it
    /// moved on, or the engine refuses it as things now stand).
    async fn act_as_system(
        &self,
        number: RequestNumber,
        command: Command,
    ) -> Result<bool, AppError> {
        match self.apply_as_system(number, command, None).await {
            Err(AppError::Domain(_)) => Ok(false),
            other => other,
        }
    }
}
