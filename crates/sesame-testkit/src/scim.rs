//! SCIM helpers: a test app with provisioning on, and calls the way identity providers send them
//! (`application/scim+json`, the bearer token, optional headers such as `If-Match`).

use crate::{Reply, TestApp, TestDatabase};
use reqwest::Method;
use serde_json::Value;

/// The SCIM token of [`TestApp::spawn_with_scim`].
pub const SCIM_TOKEN: &str = "scim-test-token-0123456789abcdef";

/// A SCIM response: status, headers that matter, and the JSON body.
#[derive(Debug)]
pub struct ScimReply {
    pub status: reqwest::StatusCode,
    pub content_type: String,
    pub etag: Option<String>,
    pub location: Option<String>,
    pub body: Value,
}

impl ScimReply {
    pub fn scim_type(&self) -> &str {
        self.body["scimType"].as_str().unwrap_or_default()
    }
}

impl TestApp {
    /// Spawns on SQLite with `[scim] token = SCIM_TOKEN`.
    pub async fn spawn_with_scim() -> TestApp {
        Self::spawn_configured(
            TestDatabase::Sqlite,
            Vec::new(),
            &format!("[scim]\ntoken = {SCIM_TOKEN:?}\n"),
        )
        .await
        .expect("SQLite is always available")
    }

    /// A SCIM call with the test token.
    pub async fn scim(&self, method: Method, path: &str, body: Option<Value>) -> ScimReply {
        self.scim_with(
            method,
            path,
            Some(SCIM_TOKEN),
            &[],
            body.map(|b| b.to_string().into_bytes()),
        )
        .await
    }

    /// A SCIM call with any token (or none), extra headers and a raw body.
    pub async fn scim_with(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        headers: &[(&str, &str)],
        body: Option<Vec<u8>>,
    ) -> ScimReply {
        let mut request = self
            .client
            .request(method, format!("{}/scim/v2{path}", self.base_url));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        if let Some(body) = body {
            request = request
                .header("content-type", "application/scim+json")
                .body(body);
        }
        let response = request.send().await.expect("send request");
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let (content_type, etag, location) = (
            header("content-type").unwrap_or_default(),
            header("etag"),
            header("location"),
        );
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        ScimReply {
            status,
            content_type,
            etag,
            location,
            body: serde_json::from_str(&text).unwrap_or(Value::Null),
        }
    }

    /// The audit kinds recorded so far (as an administrator sees them).
    pub async fn audit_kinds(&self, admin: &str, filter: &str) -> Vec<String> {
        let token = self.token(admin).await;
        let reply: Reply = self
            .get(&format!("/api/v1/audit?limit=1000{filter}"), &token)
            .await;
        reply
            .body
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|e| e["kind"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }
}
