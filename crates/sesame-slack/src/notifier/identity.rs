//! Who a directory user is on Slack. An explicit link (`chat.slack` in the directory) wins;
//! otherwise the person is looked up by email once and the answer kept in memory, "not found"
//! included, so a person without a Slack account costs one `users.lookupByEmail` per
//! [`NOT_FOUND_FOR`] rather than one per message.

use crate::api::{ApiError, SlackApi};
use sesame_core::directory::User;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a found account is trusted; people change emails and accounts get deactivated.
const FOUND_FOR: Duration = Duration::from_secs(24 * 3600);
/// How long "no Slack account" is trusted; someone who joins Slack is found after this.
pub(crate) const NOT_FOUND_FOR: Duration = Duration::from_secs(15 * 60);

struct Cached {
    slack_id: Option<String>,
    until: Instant,
}

#[derive(Default)]
pub(crate) struct Identities {
    /// By lower-cased email.
    by_email: Mutex<HashMap<String, Cached>>,
    /// DM channel by Slack user id: Slack keeps one DM per user and bot, so its id never changes
    /// and `conversations.open` is needed once per person and process.
    dm_channels: Mutex<HashMap<String, String>>,
}

fn email_key(user: &User) -> Option<String> {
    let email = user.email.trim();
    (!email.is_empty()).then(|| email.to_lowercase())
}

impl Identities {
    /// The person's Slack id when it is known without a call: linked, or looked up before. Used
    /// while rendering, which cannot wait for Slack; unknown people appear by name.
    pub(crate) fn known(&self, user: &User) -> Option<String> {
        if let Some(linked) = &user.chat.slack {
            return Some(linked.clone());
        }
        let key = email_key(user)?;
        let cache = self.by_email.lock().unwrap_or_else(|e| e.into_inner());
        cache.get(&key).and_then(|cached| cached.slack_id.clone())
    }

    /// The person's Slack id, asking Slack when needed; `None` for an inactive person or one with no
    /// (active, human) Slack account.
    pub(crate) async fn resolve(
        &self,
        api: &SlackApi,
        user: &User,
    ) -> Result<Option<String>, ApiError> {
        if !user.active {
            return Ok(None);
        }
        if let Some(linked) = &user.chat.slack {
            return Ok(Some(linked.clone()));
        }
        let Some(key) = email_key(user) else {
            return Ok(None);
        };
        if let Some(cached) = self.fresh(&key) {
            return Ok(cached);
        }
        let found = match api.users_lookup_by_email(&key).await {
            Ok(account) if !account.deleted && !account.is_bot => Some(account.id),
            Ok(_) => None,
            Err(ApiError::Slack { code, .. }) if code == "users_not_found" => None,
            Err(e) => return Err(e),
        };
        let ttl = if found.is_some() {
            FOUND_FOR
        } else {
            NOT_FOUND_FOR
        };
        let mut cache = self.by_email.lock().unwrap_or_else(|e| e.into_inner());
        cache.insert(
            key,
            Cached {
                slack_id: found.clone(),
                until: Instant::now() + ttl,
            },
        );
        Ok(found)
    }

    fn fresh(&self, key: &str) -> Option<Option<String>> {
        let cache = self.by_email.lock().unwrap_or_else(|e| e.into_inner());
        cache
            .get(key)
            .filter(|cached| cached.until > Instant::now())
            .map(|cached| cached.slack_id.clone())
    }

    /// The DM channel with a Slack user, opened on first use.
    pub(crate) async fn dm_channel(
        &self,
        api: &SlackApi,
        slack_id: &str,
    ) -> Result<String, ApiError> {
        let known = {
            let channels = self.dm_channels.lock().unwrap_or_else(|e| e.into_inner());
            channels.get(slack_id).cloned()
        };
        if let Some(channel) = known {
            return Ok(channel);
        }
        let channel = api.conversations_open(&[slack_id]).await?;
        let mut channels = self.dm_channels.lock().unwrap_or_else(|e| e.into_inner());
        channels.insert(slack_id.to_owned(), channel.clone());
        Ok(channel)
    }
}
