//! The optional matching model: an OpenAI-compatible embeddings API (`POST {model_url}embeddings`,
//! as served by OpenAI, Ollama, vLLM and others) that scores how close a message is to each
//! candidate flow. Configured with `[matcher] model_url`; without it no text leaves the server.
//!
//! Flows are embedded once (by their name, description, category and keywords) and kept; each
//! message costs one call. Any failure is reported to the caller, which then answers with the
//! built-in matcher alone.

use anyhow::Context;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::json;
use sesame_core::ports::Reranker;
use sesame_core::{Flow, FlowId};
use std::collections::HashMap;
use std::sync::Mutex;

/// How many flow texts are kept embedded; a catalog is far smaller, so this only bounds a catalog
/// that keeps changing.
const CACHED_TEXTS: usize = 10_000;

pub struct EmbeddingReranker {
    http: reqwest::Client,
    endpoint: String,
    model: String,
    api_key: Option<SecretString>,
    /// Embeddings by the text they were made from, so a changed flow is embedded again.
    cache: Mutex<HashMap<String, Vec<f32>>>,
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

impl EmbeddingReranker {
    pub fn new(
        base_url: &str,
        model: &str,
        api_key: Option<SecretString>,
        timeout: std::time::Duration,
    ) -> anyhow::Result<EmbeddingReranker> {
        if !(base_url.starts_with("http://") || base_url.starts_with("https://")) {
            anyhow::bail!("[matcher] model_url must be an http or https URL");
        }
        let endpoint = format!("{}/embeddings", base_url.trim_end_matches('/'));
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .build()
            .context("cannot build the HTTP client for the matching model")?;
        Ok(EmbeddingReranker {
            http,
            endpoint,
            model: model.to_owned(),
            api_key,
            cache: Mutex::new(HashMap::new()),
        })
    }

    async fn embed(&self, inputs: &[String]) -> Result<Vec<Vec<f32>>, String> {
        let mut request = self
            .http
            .post(&self.endpoint)
            .json(&json!({ "model": self.model, "input": inputs }));
        if let Some(key) = &self.api_key {
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
        (dot / denominator).clamp(0.0, 1.0)
    }
}

#[async_trait::async_trait]
impl Reranker for EmbeddingReranker {
    async fn scores(&self, text: &str, candidates: &[Flow]) -> Result<Vec<(FlowId, f64)>, String> {
        let texts: Vec<String> = candidates.iter().map(flow_text).collect();
        let missing: Vec<String> = {
            let cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
            texts
                .iter()
                .filter(|t| !cache.contains_key(*t))
                .cloned()
                .collect()
        };
        let mut inputs = vec![text.to_owned()];
        inputs.extend(missing.iter().cloned());
        let mut vectors = self.embed(&inputs).await?.into_iter();
        let message = vectors.next().unwrap_or_default();
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if cache.len() + missing.len() > CACHED_TEXTS {
            cache.clear();
        }
        for (flow_text, vector) in missing.into_iter().zip(vectors) {
            cache.insert(flow_text, vector);
        }
        Ok(candidates
            .iter()
            .zip(&texts)
            .filter_map(|(flow, text)| {
                cache
                    .get(text)
                    .map(|v| (flow.id.clone(), cosine(&message, v)))
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::cosine;

    #[test]
    fn cosine_is_one_for_the_same_direction_and_never_negative() {
        assert!((cosine(&[1.0, 2.0], &[2.0, 4.0]) - 1.0).abs() < 1e-9);
        assert_eq!(cosine(&[1.0, 0.0], &[-1.0, 0.0]), 0.0);
        assert_eq!(cosine(&[1.0], &[1.0, 2.0]), 0.0);
        assert_eq!(cosine(&[0.0, 0.0], &[1.0, 2.0]), 0.0);
    }
}
