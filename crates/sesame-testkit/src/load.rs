//! A load driver for whole request lifecycles through the HTTP API: submit (requester), approve
//! (manager), complete (fulfiller), then read the request back. Used by the lifecycle benchmark and,
//! with a small count, by a test that keeps the benchmark honest.

use serde_json::json;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

/// The tokens of the three people a lifecycle needs (see the `badge` fixture flow).
#[derive(Clone)]
pub struct LifecycleTokens {
    pub requester: String,
    pub approver: String,
    pub fulfiller: String,
}

#[derive(Debug, Default)]
pub struct LoadReport {
    pub lifecycles: usize,
    pub failures: usize,
    pub elapsed: Duration,
    /// Latency of every call, by call name.
    pub calls: BTreeMap<&'static str, Vec<Duration>>,
    /// Every request number the server acknowledged.
    pub numbers: Vec<i64>,
}

impl LoadReport {
    pub fn per_second(&self) -> f64 {
        self.lifecycles as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// The `q` quantile (0.0 to 1.0) of one call's latency.
    pub fn quantile(&self, call: &str, q: f64) -> Duration {
        let Some(samples) = self.calls.get(call) else {
            return Duration::ZERO;
        };
        let mut sorted = samples.clone();
        sorted.sort();
        let index = ((sorted.len() as f64 - 1.0) * q).round() as usize;
        sorted.get(index).copied().unwrap_or_default()
    }

    pub fn print(&self, label: &str) {
        println!(
            "{label}: {} lifecycles in {:.2} s = {:.0} lifecycles/s ({} failures)",
            self.lifecycles,
            self.elapsed.as_secs_f64(),
            self.per_second(),
            self.failures
        );
        for call in self.calls.keys() {
            println!(
                "  {call:<9} p50 {:>7.2} ms   p99 {:>7.2} ms   max {:>7.2} ms",
                self.quantile(call, 0.5).as_secs_f64() * 1000.0,
                self.quantile(call, 0.99).as_secs_f64() * 1000.0,
                self.quantile(call, 1.0).as_secs_f64() * 1000.0
            );
        }
    }
}

async fn timed(
    samples: &mut Vec<(&'static str, Duration)>,
    name: &'static str,
    request: reqwest::RequestBuilder,
) -> Result<serde_json::Value, String> {
    let started = Instant::now();
    let response = request.send().await.map_err(|e| format!("{name}: {e}"))?;
    let status = response.status();
    let body: serde_json::Value = response.json().await.map_err(|e| format!("{name}: {e}"))?;
    samples.push((name, started.elapsed()));
    if !status.is_success() {
        return Err(format!("{name}: {status} {body}"));
    }
    Ok(body)
}

/// Runs `count` lifecycles with `concurrency` in flight against `base_url`.
pub async fn run_lifecycles(
    base_url: &str,
    tokens: LifecycleTokens,
    count: usize,
    concurrency: usize,
) -> LoadReport {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .build()
        .unwrap_or_default();
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let report = Arc::new(Mutex::new(LoadReport::default()));
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let (client, next, report, tokens, base) = (
            client.clone(),
            next.clone(),
            report.clone(),
            tokens.clone(),
            base_url.to_owned(),
        );
        workers.push(tokio::spawn(async move {
            let mut samples = Vec::new();
            let mut numbers = Vec::new();
            let mut failures = 0;
            while next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) < count {
                match lifecycle(&client, &base, &tokens, &mut samples).await {
                    Ok(number) => numbers.push(number),
                    Err(e) => {
                        failures += 1;
                        eprintln!("lifecycle failed: {e}");
                    }
                }
            }
            let mut report = report.lock().await;
            report.lifecycles += numbers.len();
            report.failures += failures;
            report.numbers.extend(numbers);
            for (name, d) in samples {
                report.calls.entry(name).or_default().push(d);
            }
        }));
    }
    for w in workers {
        let _ = w.await;
    }
    let mut report = std::mem::take(&mut *report.lock().await);
    report.elapsed = started.elapsed();
    report
}

async fn lifecycle(
    client: &reqwest::Client,
    base: &str,
    tokens: &LifecycleTokens,
    samples: &mut Vec<(&'static str, Duration)>,
) -> Result<i64, String> {
    let created = timed(
        samples,
        "submit",
        client
            .post(format!("{base}/api/v1/requests"))
            .bearer_auth(&tokens.requester)
            .json(&json!({ "flow": "badge", "answers": { "floor": "2" } })),
    )
    .await?;
    let number = created["number"].as_i64().ok_or("submit: no number")?;
    timed(
        samples,
        "approve",
        client
            .post(format!("{base}/api/v1/requests/{number}/approve"))
            .bearer_auth(&tokens.approver),
    )
    .await?;
    timed(
        samples,
        "complete",
        client
            .post(format!("{base}/api/v1/requests/{number}/complete"))
            .bearer_auth(&tokens.fulfiller),
    )
    .await?;
    let read = timed(
        samples,
        "get",
        client
            .get(format!("{base}/api/v1/requests/{number}"))
            .bearer_auth(&tokens.requester),
    )
    .await?;
    if read["state"] != "fulfilled" {
        return Err(format!(
            "request {number} ended {} instead of fulfilled",
            read["state"]
        ));
    }
    Ok(number)
}
