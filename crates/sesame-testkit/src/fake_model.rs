//! A fake OpenAI-compatible embeddings endpoint (`POST /v1/embeddings`) for the matcher's optional
//! model: it answers with deterministic vectors (each word hashed into one of 64 dimensions, so
//! texts sharing words point the same way), records every input it was sent, reads a message as
//! another text when told to (a paraphrase it "understands"), and fails or stalls on request.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const DIMENSIONS: usize = 64;

#[derive(Default)]
struct ModelState {
    inputs: Vec<String>,
    /// Inputs embedded as another text.
    read_as: Vec<(String, String)>,
    fail_next: usize,
    delay: Duration,
}

pub struct FakeModel {
    state: Arc<Mutex<ModelState>>,
    base_url: String,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for FakeModel {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl FakeModel {
    pub async fn start() -> FakeModel {
        let state = Arc::new(Mutex::new(ModelState::default()));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a free port");
        let port = listener.local_addr().expect("an address").port();
        let app = Router::new()
            .route("/v1/embeddings", post(embeddings))
            .with_state(state.clone());
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FakeModel {
            state,
            base_url: format!("http://127.0.0.1:{port}/v1/"),
            server,
        }
    }

    /// For `[matcher] model_url`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Every text the model was asked to embed, in order.
    pub fn inputs(&self) -> Vec<String> {
        self.lock().inputs.clone()
    }

    /// Embeds `input` (exactly as sent, prefix included) as if it were `like`.
    pub fn read_as(&self, input: &str, like: &str) {
        self.lock()
            .read_as
            .push((input.to_owned(), like.to_owned()));
    }

    /// The next `times` calls answer 500.
    pub fn fail_next(&self, times: usize) {
        self.lock().fail_next = times;
    }

    /// Every call waits this long before answering.
    pub fn set_delay(&self, delay: Duration) {
        self.lock().delay = delay;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, ModelState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn vector(text: &str) -> Vec<f32> {
    let mut v = vec![0.0f32; DIMENSIONS];
    for word in text
        .to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.len() > 2)
    {
        let bucket = word.bytes().fold(17usize, |h, b| {
            h.wrapping_mul(31).wrapping_add(usize::from(b))
        }) % DIMENSIONS;
        v[bucket] += 1.0;
    }
    v
}

async fn embeddings(
    State(state): State<Arc<Mutex<ModelState>>>,
    Json(body): Json<Value>,
) -> Result<Json<Value>, StatusCode> {
    let inputs: Vec<String> = match &body["input"] {
        Value::String(one) => vec![one.clone()],
        Value::Array(many) => many
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        _ => return Err(StatusCode::BAD_REQUEST),
    };
    if body["model"].as_str().unwrap_or_default().is_empty() {
        return Err(StatusCode::BAD_REQUEST);
    }
    let (delay, read) = {
        let mut state = state.lock().unwrap_or_else(|e| e.into_inner());
        state.inputs.extend(inputs.iter().cloned());
        if state.fail_next > 0 {
            state.fail_next -= 1;
            return Err(StatusCode::INTERNAL_SERVER_ERROR);
        }
        let read: Vec<String> = inputs
            .iter()
            .map(|text| {
                state
                    .read_as
                    .iter()
                    .find(|(input, _)| input == text)
                    .map_or_else(|| text.clone(), |(_, like)| like.clone())
            })
            .collect();
        (state.delay, read)
    };
    tokio::time::sleep(delay).await;
    let data: Vec<Value> = read
        .iter()
        .enumerate()
        .map(|(index, text)| json!({"object": "embedding", "index": index, "embedding": vector(text)}))
        .collect();
    Ok(Json(
        json!({"object": "list", "data": data, "model": body["model"]}),
    ))
}
