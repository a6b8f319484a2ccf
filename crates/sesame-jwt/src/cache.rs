//! The signing keys of one issuer, fetched over HTTP and cached. Bot Framework and OpenID
//! providers both rotate keys by publishing the new one before signing with it, so a token naming
//! an unknown `kid` is the signal to fetch again; forged tokens send unknown `kid`s too, so that
//! refetch is paced.

use crate::fetch::{get_json, FetchError};
use crate::jwks::{parse_key_set, Jwk};
use crate::JwtError;
use serde::Deserialize;
use serde_json::Value;
use tokio::sync::Mutex;

/// Where the keys are published.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeySource<'a> {
    /// A JWKS document's URL (an OpenID provider's `jwks_uri`, already discovered).
    Jwks(&'a str),
    /// An OpenID metadata document whose `jwks_uri` is read again on every fetch, so a moved key
    /// set is followed (Bot Framework's `openidconfiguration`).
    OpenIdMetadata(&'a str),
}

impl KeySource<'_> {
    fn identity(&self) -> String {
        match self {
            KeySource::Jwks(url) => format!("jwks {url}"),
            KeySource::OpenIdMetadata(url) => format!("metadata {url}"),
        }
    }
}

/// When keys are fetched again. Times are in the caller's Unix seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefreshPolicy {
    /// Keys older than this are fetched again even when every `kid` is known, so a withdrawn key
    /// stops being accepted.
    pub max_age_seconds: i64,
    /// The least time between two fetches (tried, whether they worked or not) for an unknown
    /// `kid` or old keys, so that forged tokens or a failing endpoint cannot make Sesame hammer
    /// the issuer.
    pub min_refetch_interval_seconds: i64,
}

/// The keys of one issuer. One per verifier and process: concurrent callers wait for one fetch
/// instead of each fetching.
#[derive(Debug)]
pub struct KeyCache {
    http: reqwest::Client,
    policy: RefreshPolicy,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// What the keys were fetched from; another source starts afresh.
    source: Option<String>,
    keys: Vec<Jwk>,
    /// When the keys were last fetched successfully.
    fetched_at: Option<i64>,
    /// When a fetch was last tried, successful or not.
    attempted_at: Option<i64>,
}

#[derive(Deserialize)]
struct Metadata {
    jwks_uri: String,
}

/// Seconds from `then` to `now`. A clock that stepped backwards counts as time passing, so it
/// cannot freeze the cache.
fn since(then: Option<i64>, now: i64) -> Option<i64> {
    then.map(|then| now.abs_diff(then).try_into().unwrap_or(i64::MAX))
}

impl KeyCache {
    pub fn new(http: reqwest::Client, policy: RefreshPolicy) -> KeyCache {
        KeyCache {
            http,
            policy,
            state: Mutex::new(State::default()),
        }
    }

    pub fn policy(&self) -> RefreshPolicy {
        self.policy
    }

    /// The keys that may have signed a token naming `kid`: those with that `kid`, or every key
    /// when the token names none. Fetches when no keys were fetched yet or they are older than
    /// [`RefreshPolicy::max_age_seconds`], and once more for an unknown `kid`; either only when
    /// the last try is at least [`RefreshPolicy::min_refetch_interval_seconds`] old. A failed
    /// fetch keeps the keys held before.
    ///
    /// Errors: [`JwtError::KeysUnavailable`] when no keys could be had at all (answer "try
    /// later"), [`JwtError::UnknownKey`] when the keys are known and none matches.
    pub async fn keys_for(
        &self,
        source: KeySource<'_>,
        kid: Option<&str>,
        now: i64,
    ) -> Result<Vec<Jwk>, JwtError> {
        let mut state = self.state.lock().await;
        let identity = source.identity();
        if state.source.as_deref() != Some(identity.as_str()) {
            *state = State {
                source: Some(identity),
                ..State::default()
            };
        }
        let interval = self.policy.min_refetch_interval_seconds;
        let may_try =
            |state: &State| since(state.attempted_at, now).is_none_or(|age| age >= interval);
        let stale =
            since(state.fetched_at, now).is_none_or(|age| age >= self.policy.max_age_seconds);
        let mut failure = None;
        if stale && may_try(&state) {
            failure = self.refresh(&mut state, source, now).await.err();
        }
        let found = candidates(&state.keys, kid);
        if !found.is_empty() {
            return Ok(found);
        }
        if kid.is_some() && may_try(&state) {
            failure = self.refresh(&mut state, source, now).await.err();
            let found = candidates(&state.keys, kid);
            if !found.is_empty() {
                return Ok(found);
            }
        }
        match failure {
            Some(FetchError(reason)) if state.keys.is_empty() => {
                Err(JwtError::KeysUnavailable(reason))
            }
            _ if state.fetched_at.is_none() => Err(JwtError::KeysUnavailable(
                "the signing keys have not been fetched yet".to_owned(),
            )),
            _ => Err(JwtError::UnknownKey(kid.unwrap_or_default().to_owned())),
        }
    }

    async fn refresh(
        &self,
        state: &mut State,
        source: KeySource<'_>,
        now: i64,
    ) -> Result<(), FetchError> {
        state.attempted_at = Some(now);
        match self.fetch(source).await {
            Ok(keys) => {
                tracing::debug!(count = keys.len(), source = ?source, "fetched signing keys");
                state.keys = keys;
                state.fetched_at = Some(now);
                Ok(())
            }
            Err(error) => {
                tracing::warn!(reason = %error, source = ?source, "could not fetch signing keys");
                Err(error)
            }
        }
    }

    async fn fetch(&self, source: KeySource<'_>) -> Result<Vec<Jwk>, FetchError> {
        let jwks_uri = match source {
            KeySource::Jwks(url) => url.to_owned(),
            KeySource::OpenIdMetadata(url) => {
                let metadata: Metadata = get_json(&self.http, url, "OpenID metadata").await?;
                metadata.jwks_uri
            }
        };
        let document: Value = get_json(&self.http, &jwks_uri, "key set").await?;
        let keys = parse_key_set(&document);
        if keys.is_empty() {
            return Err(FetchError("key set: no usable RSA signing keys".to_owned()));
        }
        Ok(keys)
    }
}

fn candidates(keys: &[Jwk], kid: Option<&str>) -> Vec<Jwk> {
    keys.iter()
        .filter(|key| kid.is_none_or(|kid| key.kid.as_deref() == Some(kid)))
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::jwk_json;
    use axum::extract::State as Shared;
    use axum::http::StatusCode;
    use axum::response::{IntoResponse, Response};
    use axum::routing::get;
    use axum::{Json, Router};
    use serde_json::json;
    use std::sync::{Arc, Mutex as StdMutex};

    const POLICY: RefreshPolicy = RefreshPolicy {
        max_age_seconds: 3600,
        min_refetch_interval_seconds: 60,
    };
    const T0: i64 = 1_800_000_000;

    /// A key server: its key set can change and fail, and it counts what it served.
    #[derive(Default)]
    struct Served {
        keys: Vec<Value>,
        failing: bool,
        key_fetches: usize,
        metadata_fetches: usize,
    }

    #[derive(Clone)]
    struct Server {
        base: String,
        served: Arc<StdMutex<Served>>,
    }

    impl Server {
        async fn start(kids: &[&str]) -> Server {
            let served = Arc::new(StdMutex::new(Served::default()));
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let base = format!("http://{}", listener.local_addr().unwrap());
            let server = Server { base, served };
            server.serve(kids);
            let router = Router::new()
                .route("/jwks", get(jwks))
                .route("/metadata", get(metadata))
                .with_state(server.clone());
            tokio::spawn(async move { axum::serve(listener, router).await });
            server
        }

        fn serve(&self, kids: &[&str]) {
            self.served.lock().unwrap().keys = kids.iter().map(|kid| jwk_json(kid, true)).collect();
        }

        fn fail(&self, failing: bool) {
            self.served.lock().unwrap().failing = failing;
        }

        fn key_fetches(&self) -> usize {
            self.served.lock().unwrap().key_fetches
        }

        fn metadata_fetches(&self) -> usize {
            self.served.lock().unwrap().metadata_fetches
        }

        fn jwks_url(&self) -> String {
            format!("{}/jwks", self.base)
        }
    }

    async fn jwks(Shared(server): Shared<Server>) -> Response {
        let mut served = server.served.lock().unwrap();
        served.key_fetches += 1;
        if served.failing {
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
        Json(json!({ "keys": served.keys })).into_response()
    }

    async fn metadata(Shared(server): Shared<Server>) -> Json<Value> {
        server.served.lock().unwrap().metadata_fetches += 1;
        Json(json!({ "issuer": server.base, "jwks_uri": server.jwks_url() }))
    }

    fn kids(keys: &[Jwk]) -> Vec<&str> {
        keys.iter().filter_map(|key| key.kid.as_deref()).collect()
    }

    #[tokio::test]
    async fn keys_are_fetched_once_and_served_from_the_cache() {
        let server = Server::start(&["k1", "k2"]).await;
        let cache = KeyCache::new(reqwest::Client::new(), POLICY);
        let url = server.jwks_url();
        let source = KeySource::Jwks(&url);
        for at in [T0, T0 + 1, T0 + 3599] {
            let keys = cache.keys_for(source, Some("k2"), at).await.unwrap();
            assert_eq!(kids(&keys), ["k2"]);
        }
        // Without a kid, every key is a candidate.
        let all = cache.keys_for(source, None, T0 + 10).await.unwrap();
        assert_eq!(kids(&all), ["k1", "k2"]);
        assert_eq!(server.key_fetches(), 1);
        // Old keys are fetched again even when the kid is known.
        cache.keys_for(source, Some("k1"), T0 + 3600).await.unwrap();
        assert_eq!(server.key_fetches(), 2);
    }

    #[tokio::test]
    async fn an_unknown_kid_refetches_at_most_once_per_interval() {
        let server = Server::start(&["k1"]).await;
        let cache = KeyCache::new(reqwest::Client::new(), POLICY);
        let url = server.jwks_url();
        let source = KeySource::Jwks(&url);
        cache.keys_for(source, Some("k1"), T0).await.unwrap();
        assert_eq!(server.key_fetches(), 1);

        // A forged kid within the interval: refused without asking the server, however often.
        for _ in 0..5 {
            assert_eq!(
                cache.keys_for(source, Some("forged"), T0 + 59).await,
                Err(JwtError::UnknownKey("forged".into()))
            );
        }
        assert_eq!(server.key_fetches(), 1);
        // After the interval, one refetch, then quiet again.
        for at in [T0 + 60, T0 + 61, T0 + 119] {
            assert_eq!(
                cache.keys_for(source, Some("forged"), at).await,
                Err(JwtError::UnknownKey("forged".into()))
            );
        }
        assert_eq!(server.key_fetches(), 2);

        // A rotation: the new kid is found by the next allowed refetch, and known keys still work
        // in between.
        server.serve(&["k1", "k2"]);
        assert!(cache.keys_for(source, Some("k2"), T0 + 100).await.is_err());
        cache.keys_for(source, Some("k1"), T0 + 100).await.unwrap();
        assert_eq!(server.key_fetches(), 2);
        let keys = cache.keys_for(source, Some("k2"), T0 + 120).await.unwrap();
        assert_eq!(kids(&keys), ["k2"]);
        assert_eq!(server.key_fetches(), 3);
    }

    #[tokio::test]
    async fn concurrent_callers_share_one_fetch() {
        let server = Server::start(&["k1"]).await;
        let cache = Arc::new(KeyCache::new(reqwest::Client::new(), POLICY));
        let url = server.jwks_url();
        let calls: Vec<_> = (0..8)
            .map(|_| {
                let cache = cache.clone();
                let url = url.clone();
                tokio::spawn(
                    async move { cache.keys_for(KeySource::Jwks(&url), Some("k1"), T0).await },
                )
            })
            .collect();
        for call in calls {
            call.await.unwrap().unwrap();
        }
        assert_eq!(server.key_fetches(), 1);
    }

    #[tokio::test]
    async fn failures_keep_the_keys_held_and_are_paced_too() {
        let server = Server::start(&["k1"]).await;
        let cache = KeyCache::new(reqwest::Client::new(), POLICY);
        let url = server.jwks_url();
        let source = KeySource::Jwks(&url);

        server.fail(true);
        let error = cache.keys_for(source, Some("k1"), T0).await.unwrap_err();
        assert_eq!(error, JwtError::KeysUnavailable("key set: HTTP 503".into()));
        // Within the interval a failing endpoint is not asked again.
        assert!(matches!(
            cache.keys_for(source, Some("k1"), T0 + 30).await,
            Err(JwtError::KeysUnavailable(_))
        ));
        assert_eq!(server.key_fetches(), 1);

        server.fail(false);
        cache.keys_for(source, Some("k1"), T0 + 60).await.unwrap();
        assert_eq!(server.key_fetches(), 2);
        // The keys are old and the endpoint fails: the keys held keep working.
        server.fail(true);
        cache
            .keys_for(source, Some("k1"), T0 + 60 + 3600)
            .await
            .unwrap();
        assert_eq!(server.key_fetches(), 3);
        assert_eq!(
            cache.keys_for(source, Some("k9"), T0 + 60 + 3700).await,
            Err(JwtError::UnknownKey("k9".into()))
        );
    }

    #[tokio::test]
    async fn an_empty_or_unreachable_key_set_is_unavailable() {
        let server = Server::start(&[]).await;
        let cache = KeyCache::new(reqwest::Client::new(), POLICY);
        let url = server.jwks_url();
        assert_eq!(
            cache.keys_for(KeySource::Jwks(&url), None, T0).await,
            Err(JwtError::KeysUnavailable(
                "key set: no usable RSA signing keys".into()
            ))
        );
        let nowhere = KeyCache::new(reqwest::Client::new(), POLICY);
        let error = nowhere
            .keys_for(KeySource::Jwks("http://127.0.0.1:1/jwks"), Some("k1"), T0)
            .await
            .unwrap_err();
        assert!(
            matches!(&error, JwtError::KeysUnavailable(reason) if reason.starts_with("key set: ")),
            "{error:?}"
        );
    }

    #[tokio::test]
    async fn openid_metadata_is_read_on_every_fetch_and_a_new_source_starts_afresh() {
        let server = Server::start(&["k1"]).await;
        let cache = KeyCache::new(reqwest::Client::new(), POLICY);
        let metadata = format!("{}/metadata", server.base);
        let source = KeySource::OpenIdMetadata(&metadata);
        cache.keys_for(source, Some("k1"), T0).await.unwrap();
        cache.keys_for(source, Some("k1"), T0 + 1).await.unwrap();
        cache
            .keys_for(source, Some("k2"), T0 + 61)
            .await
            .unwrap_err();
        assert_eq!(server.metadata_fetches(), 2);
        assert_eq!(server.key_fetches(), 2);
        // Pointed elsewhere, the cache forgets what it held and fetches at once.
        let url = server.jwks_url();
        cache
            .keys_for(KeySource::Jwks(&url), Some("k1"), T0 + 62)
            .await
            .unwrap();
        assert_eq!(server.key_fetches(), 3);
    }

    #[test]
    fn a_clock_stepping_back_still_counts_as_time_passing() {
        assert_eq!(since(None, 100), None);
        assert_eq!(since(Some(40), 100), Some(60));
        assert_eq!(since(Some(160), 100), Some(60));
    }
}
