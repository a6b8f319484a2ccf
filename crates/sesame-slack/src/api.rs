//! A thin client for the Slack Web API methods Sesame uses.
//!
//! Every call is one HTTP POST with a JSON body and the bot token in the `Authorization` header.
//! The client never sleeps or retries: a 429 comes back as [`ApiError::RateLimited`] with Slack's
//! `Retry-After`, so the outbox can reschedule the job instead of holding a worker. With a
//! [`RateLimiter`] attached, the client also refuses calls the limiter holds back (without sending
//! them) and tells the limiter about every 429, so one caller's 429 slows down every caller.

mod answer;
mod error;
mod method;
mod types;

#[cfg(test)]
mod tests;

pub use error::ApiError;
pub use method::SlackMethod;
pub use types::{
    AuthIdentity, HistoryMessage, HistoryPage, HistoryQuery, MessageMetadata, Posted, SlackProfile,
    SlackUser, ViewHandle,
};

use crate::ratelimit::RateLimiter;
use answer::{parse_answer, read_limited, unavailable};
use reqwest::header::CONTENT_TYPE;
use reqwest::{StatusCode, Url};
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The base URL is wrong: not an absolute http(s) URL.
#[derive(Debug, thiserror::Error)]
#[error("invalid Slack API base URL {url:?}: {reason}")]
pub struct InvalidBaseUrl {
    pub url: String,
    pub reason: String,
}

/// Cheap to clone: clones share the HTTP connection pool and the rate limiter.
#[derive(Clone)]
pub struct SlackApi {
    /// Always ends with `/`, so joining a method name appends to it.
    base_url: Url,
    bot_token: SecretString,
    http: reqwest::Client,
    call_timeout: Duration,
    rate_limiter: Option<Arc<RateLimiter>>,
}

// The token must never reach a log line, so Debug is written by hand.
impl fmt::Debug for SlackApi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SlackApi")
            .field("base_url", &self.base_url.as_str())
            .field("bot_token", &"[redacted]")
            .field("call_timeout", &self.call_timeout)
            .field("rate_limited", &self.rate_limiter.is_some())
            .finish()
    }
}

impl SlackApi {
    pub const DEFAULT_BASE_URL: &'static str = "https://slack.com/api/";
    /// Long enough for Slack's slow moments, short enough that a hung call releases its outbox
    /// lease well before the lease expires.
    pub const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_secs(10);

    pub fn new(
        base_url: &str,
        bot_token: SecretString,
        http: reqwest::Client,
    ) -> Result<SlackApi, InvalidBaseUrl> {
        Ok(SlackApi {
            base_url: parse_base_url(base_url)?,
            bot_token,
            http,
            call_timeout: Self::DEFAULT_CALL_TIMEOUT,
            rate_limiter: None,
        })
    }

    pub fn with_call_timeout(mut self, timeout: Duration) -> SlackApi {
        self.call_timeout = timeout;
        self
    }

    /// Shares a process-wide limiter; see the module documentation.
    pub fn with_rate_limiter(mut self, limiter: Arc<RateLimiter>) -> SlackApi {
        self.rate_limiter = Some(limiter);
        self
    }

    pub fn base_url(&self) -> &str {
        self.base_url.as_str()
    }

    /// Checks the token and says whose it is.
    pub async fn auth_test(&self) -> Result<AuthIdentity, ApiError> {
        self.call(SlackMethod::AuthTest, None, json!({})).await
    }

    /// Posts a message. `text` is required even with blocks: it is the notification and
    /// screen-reader fallback. Link unfurling is off so user-supplied URLs never expand.
    pub async fn chat_post_message(
        &self,
        channel: &str,
        text: &str,
        blocks: &[Value],
        thread_ts: Option<&str>,
        metadata: Option<&MessageMetadata>,
    ) -> Result<Posted, ApiError> {
        let mut body = json!({
            "channel": channel,
            "text": text,
            "unfurl_links": false,
            "unfurl_media": false,
        });
        insert_if_some(
            &mut body,
            "blocks",
            (!blocks.is_empty()).then(|| json!(blocks)),
        );
        insert_if_some(&mut body, "thread_ts", thread_ts.map(Value::from));
        insert_if_some(&mut body, "metadata", metadata.map(|m| json!(m)));
        self.call(SlackMethod::ChatPostMessage, Some(channel), body)
            .await
    }

    /// Replaces a message's text and blocks. Blocks are always sent, even when empty, because
    /// Slack keeps the old blocks when the argument is left out, and a message must show the
    /// request's current state only.
    pub async fn chat_update(
        &self,
        channel: &str,
        ts: &str,
        text: &str,
        blocks: &[Value],
    ) -> Result<Posted, ApiError> {
        let body = json!({ "channel": channel, "ts": ts, "text": text, "blocks": blocks });
        self.call(SlackMethod::ChatUpdate, Some(channel), body)
            .await
    }

    /// Shows a message only `user` can see, until they reload; returns its ts (which no other
    /// method accepts: ephemeral messages cannot be updated through the Web API).
    pub async fn chat_post_ephemeral(
        &self,
        channel: &str,
        user: &str,
        text: &str,
        blocks: &[Value],
    ) -> Result<String, ApiError> {
        let mut body = json!({ "channel": channel, "user": user, "text": text });
        insert_if_some(
            &mut body,
            "blocks",
            (!blocks.is_empty()).then(|| json!(blocks)),
        );
        let posted: EphemeralPosted = self
            .call(SlackMethod::ChatPostEphemeral, Some(channel), body)
            .await?;
        Ok(posted.message_ts)
    }

    /// Opens a modal. The trigger id is valid for three seconds after the user's click and only
    /// once, so this is called right after acknowledging the interaction.
    pub async fn views_open(&self, trigger_id: &str, view: &Value) -> Result<ViewHandle, ApiError> {
        let body = json!({ "trigger_id": trigger_id, "view": view });
        let opened: ViewEnvelope = self.call(SlackMethod::ViewsOpen, None, body).await?;
        Ok(opened.view)
    }

    /// Replaces an open view. With `hash`, Slack refuses (`hash_conflict`) if the view changed since
    /// that hash was read, so a slow update cannot overwrite a newer one.
    pub async fn views_update(
        &self,
        view_id: &str,
        hash: Option<&str>,
        view: &Value,
    ) -> Result<ViewHandle, ApiError> {
        let mut body = json!({ "view_id": view_id, "view": view });
        insert_if_some(&mut body, "hash", hash.map(Value::from));
        let updated: ViewEnvelope = self.call(SlackMethod::ViewsUpdate, None, body).await?;
        Ok(updated.view)
    }

    /// Publishes a user's App Home tab.
    pub async fn views_publish(&self, user_id: &str, view: &Value) -> Result<ViewHandle, ApiError> {
        let body = json!({ "user_id": user_id, "view": view });
        let published: ViewEnvelope = self.call(SlackMethod::ViewsPublish, None, body).await?;
        Ok(published.view)
    }

    /// Looks a user up by id. `profile.email` needs the `users:read.email` scope.
    pub async fn users_info(&self, user: &str) -> Result<SlackUser, ApiError> {
        let found: UserEnvelope = self
            .call(SlackMethod::UsersInfo, None, json!({ "user": user }))
            .await?;
        Ok(found.user)
    }

    /// One page of the workspace's accounts (deleted ones and bots included), and the cursor of
    /// the next page, if any.
    pub async fn users_list(
        &self,
        cursor: Option<&str>,
    ) -> Result<(Vec<SlackUser>, Option<String>), ApiError> {
        let mut body = json!({ "limit": 200 });
        insert_if_some(&mut body, "cursor", cursor.map(Value::from));
        let page: UsersPage = self.call(SlackMethod::UsersList, None, body).await?;
        let next = page
            .response_metadata
            .and_then(|meta| meta.next_cursor)
            .filter(|cursor| !cursor.is_empty());
        Ok((page.members, next))
    }

    /// Finds the Slack user with this email (`users_not_found` when there is none); needs
    /// `users:read.email`.
    pub async fn users_lookup_by_email(&self, email: &str) -> Result<SlackUser, ApiError> {
        let found: UserEnvelope = self
            .call(
                SlackMethod::UsersLookupByEmail,
                None,
                json!({ "email": email }),
            )
            .await?;
        Ok(found.user)
    }

    /// Opens (or finds) the direct-message conversation with these users and returns its channel
    /// id. One user gives a DM between them and the bot.
    pub async fn conversations_open(&self, users: &[&str]) -> Result<String, ApiError> {
        let body = json!({ "users": users.join(",") });
        let opened: ChannelEnvelope = self
            .call(SlackMethod::ConversationsOpen, None, body)
            .await?;
        Ok(opened.channel.id)
    }

    /// Reads one page of a conversation's top-level messages, newest first, with their metadata.
    pub async fn conversations_history(
        &self,
        channel: &str,
        query: HistoryQuery<'_>,
    ) -> Result<HistoryPage, ApiError> {
        let mut body = json!({
            "channel": channel,
            "limit": query.limit,
            "include_all_metadata": true,
        });
        insert_if_some(&mut body, "oldest", query.oldest.map(Value::from));
        insert_if_some(&mut body, "cursor", query.cursor.map(Value::from));
        let page: HistoryResponse = self
            .call(SlackMethod::ConversationsHistory, None, body)
            .await?;
        let next_cursor = page
            .response_metadata
            .and_then(|meta| meta.next_cursor)
            .filter(|cursor| !cursor.is_empty());
        Ok(HistoryPage {
            messages: page.messages,
            next_cursor,
        })
    }

    /// Looks for a top-level message in `channel`, newer than `oldest`, whose metadata has
    /// `event_type` and a payload `matches` accepts. This closes the duplicate-post window: before
    /// posting again for a job that may have posted already (its earlier attempt crashed or timed
    /// out), the worker looks for its own tag. At most `max_pages` pages of 100 are read, so a busy
    /// channel costs a bounded number of Tier 3 calls.
    pub async fn find_tagged_message(
        &self,
        channel: &str,
        oldest: Option<&str>,
        event_type: &str,
        matches: impl Fn(&Value) -> bool,
        max_pages: usize,
    ) -> Result<Option<HistoryMessage>, ApiError> {
        let mut cursor: Option<String> = None;
        for _ in 0..max_pages {
            let query = HistoryQuery {
                oldest,
                limit: 100,
                cursor: cursor.as_deref(),
            };
            let page = self.conversations_history(channel, query).await?;
            let found = page.messages.into_iter().find(|message| {
                message.metadata.as_ref().is_some_and(|metadata| {
                    metadata.event_type == event_type && matches(&metadata.event_payload)
                })
            });
            if found.is_some() {
                return Ok(found);
            }
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
        Ok(None)
    }

    /// Sends one call and turns Slack's answer into `R` or an [`ApiError`]. `channel` is only the
    /// rate-limit key.
    async fn call<R: DeserializeOwned>(
        &self,
        method: SlackMethod,
        channel: Option<&str>,
        body: Value,
    ) -> Result<R, ApiError> {
        if let Some(limiter) = &self.rate_limiter {
            limiter
                .check(method, channel, Instant::now())
                .map_err(|wait| ApiError::Throttled { method, wait })?;
        }
        let url =
            self.base_url
                .join(method.name())
                .map_err(|error| ApiError::UnexpectedResponse {
                    method,
                    status: 0,
                    detail: format!("cannot build the method URL: {error}"),
                })?;
        tracing::debug!(%method, "calling Slack");
        let response = self
            .http
            .post(url)
            .bearer_auth(self.bot_token.expose_secret())
            // Slack warns (`missing_charset`) about JSON bodies without a charset.
            .header(CONTENT_TYPE, "application/json; charset=utf-8")
            .body(body.to_string())
            .timeout(self.call_timeout)
            .send()
            .await
            .map_err(|error| unavailable(method, &error))?;

        let status = response.status();
        if status == StatusCode::TOO_MANY_REQUESTS {
            let retry_after = error::retry_after_from(response.headers());
            if let Some(limiter) = &self.rate_limiter {
                let until = Instant::now().checked_add(retry_after);
                if let Some(until) = until {
                    limiter.note_retry_after(method, channel, until);
                }
            }
            tracing::info!(%method, ?retry_after, "Slack rate-limited a call");
            return Err(ApiError::RateLimited {
                method,
                retry_after,
            });
        }
        if status.is_server_error() {
            return Err(ApiError::Unavailable {
                method,
                reason: format!("HTTP {status}"),
            });
        }
        let bytes = read_limited(response, method).await?;
        parse_answer(method, status, &bytes)
    }
}

pub(crate) fn parse_base_url(base_url: &str) -> Result<Url, InvalidBaseUrl> {
    let invalid = |reason: String| InvalidBaseUrl {
        url: base_url.to_owned(),
        reason,
    };
    let mut url = Url::parse(base_url).map_err(|error| invalid(error.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") || url.cannot_be_a_base() {
        return Err(invalid("must be an http or https URL".to_owned()));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid("must not have a query or fragment".to_owned()));
    }
    // "https://slack.com/api" joined with "chat.postMessage" would replace "api"; a trailing
    // slash makes the method name a child of the path instead.
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Ok(url)
}

fn insert_if_some(body: &mut Value, key: &str, value: Option<Value>) {
    if let (Value::Object(fields), Some(value)) = (body, value) {
        fields.insert(key.to_owned(), value);
    }
}

#[derive(Deserialize)]
struct EphemeralPosted {
    message_ts: String,
}

#[derive(Deserialize)]
struct ViewEnvelope {
    view: ViewHandle,
}

#[derive(Deserialize)]
struct UserEnvelope {
    user: SlackUser,
}

#[derive(Deserialize)]
struct UsersPage {
    #[serde(default)]
    members: Vec<SlackUser>,
    #[serde(default)]
    response_metadata: Option<CursorMetadata>,
}

#[derive(Deserialize)]
struct ChannelEnvelope {
    channel: ChannelRef,
}

#[derive(Deserialize)]
struct ChannelRef {
    id: String,
}

#[derive(Deserialize)]
struct HistoryResponse {
    #[serde(default)]
    messages: Vec<HistoryMessage>,
    #[serde(default)]
    response_metadata: Option<CursorMetadata>,
}

#[derive(Deserialize)]
struct CursorMetadata {
    #[serde(default)]
    next_cursor: Option<String>,
}
