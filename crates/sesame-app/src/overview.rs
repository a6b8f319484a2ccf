//! A person's overview: what they may request, their requests and what waits for them. Chat apps
//! show it on their home tab; the [`Overviews`] port hands it to adapters, which hold no database
//! handle.

use crate::requests::{Principal, RequestScope};
use crate::{App, AppError};
use async_trait::async_trait;
use sesame_core::ports::{DeliveryError, Overview, Overviews};
use sesame_core::UserId;

/// How many requests of each kind an overview lists; a home tab shows fewer and links to the rest.
const OVERVIEW_LENGTH: u32 = 50;

impl App {
    /// The overview of `who`.
    pub async fn overview(&self, who: &Principal) -> Result<Overview, AppError> {
        let requests = self
            .list_requests(who, RequestScope::Mine, Vec::new(), None, OVERVIEW_LENGTH)
            .await?;
        let waiting = self
            .list_requests(
                who,
                RequestScope::WaitingOnMe,
                Vec::new(),
                None,
                OVERVIEW_LENGTH,
            )
            .await?
            .into_iter()
            .filter_map(|request| self.duty_of(who, &request).map(|duty| (request, duty)))
            .collect();
        Ok(Overview {
            requestable: self.requestable_flows(who),
            requests,
            waiting,
        })
    }
}

#[async_trait]
impl Overviews for App {
    async fn overview(&self, user: &UserId) -> Result<Overview, DeliveryError> {
        let who = self
            .principal(user)
            .map_err(|e| DeliveryError::Permanent(e.to_string()))?;
        App::overview(self, &who)
            .await
            .map_err(|e| DeliveryError::Retry {
                after: None,
                reason: e.to_string(),
            })
    }
}
