//! Removal on time: 10,000 grants made by a connector, all ending within the same minute, and the
//! dispatcher (as `sesame serve` runs it) firing the expiries and removing the access through the
//! connector. Prints how far each removal lags behind its end time (p50, p99, max) and how long the
//! whole wave took. The target: every grant removed within 60 seconds of its end.
//!
//!     cargo bench -p sesame --bench expiry
//!     SESAME_BENCH_GRANTS=20000 SESAME_BENCH_LATENCY_MS=20 cargo bench -p sesame --bench expiry

use sesame_app::{App, AppParts, Catalog, Clock, ConnectorRegistry, Roles};
use sesame_core::directory::DirectoryFile;
use sesame_core::{RawSubmission, State, Timestamp, UserId};
use sesame_testkit::fake_connector::FakeConnector;
use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The same allocator as the `sesame` binary, so the figures are the binary's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const FLOW: &str = "
id: vpn
name: VPN access
requesters: everyone
duration: { default: 10m, max: 2h, requester_chooses: true }
fulfillment: { connector: bench, group: vpn-users }
";

/// Held still while the grants are made (so that they all end in the same minute), then running
/// at the wall clock's pace from a chosen moment.
struct BenchClock {
    /// Milliseconds added to the wall clock while running.
    offset: AtomicI64,
    /// The time while held; negative once running.
    held: AtomicI64,
}

fn wall_millis(at: SystemTime) -> i64 {
    at.duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

impl Clock for BenchClock {
    fn now(&self) -> Timestamp {
        let held = self.held.load(Ordering::SeqCst);
        if held >= 0 {
            Timestamp(held)
        } else {
            Timestamp(wall_millis(SystemTime::now()) + self.offset.load(Ordering::SeqCst))
        }
    }
}

impl BenchClock {
    /// Runs from `at` on, at the wall clock's pace.
    fn run_from(&self, at: Timestamp) {
        self.offset
            .store(at.0 - wall_millis(SystemTime::now()), Ordering::SeqCst);
        self.held.store(-1, Ordering::SeqCst);
    }
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    // `cargo test --benches` runs benchmarks once as a smoke test; keep that quick.
    let quick = std::env::args().any(|a| a == "--test");
    let grants = if quick {
        200
    } else {
        env_number("SESAME_BENCH_GRANTS", 10_000)
    };
    let latency = Duration::from_millis(env_number("SESAME_BENCH_LATENCY_MS", 5));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(bench(grants as usize, latency));
}

fn percentile(sorted: &[i64], p: f64) -> i64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((sorted.len() as f64) * p).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

async fn bench(grants: usize, latency: Duration) {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    let store = sesame_store::Store::connect(&url).await.expect("database");
    store.migrate().await.expect("migrate");
    let start = Timestamp(1_767_603_600_000);
    let clock = Arc::new(BenchClock {
        offset: AtomicI64::new(0),
        held: AtomicI64::new(start.0),
    });
    let flow = sesame_core::flow::parse_flow("vpn.yaml", FLOW).expect("flow");
    let connector = FakeConnector::new();
    let registry =
        |c: &FakeConnector| ConnectorRegistry::default().with("bench", Arc::new(c.clone()));
    let app = App::new(AppParts {
        store,
        catalog: Catalog::new([flow]),
        clock: clock.clone(),
        roles: Roles::default(),
        notifiers: Vec::new(),
        connectors: registry(&connector),
    })
    .await
    .expect("app");
    let mut people = String::from("users:\n");
    for i in 0..grants {
        people.push_str(&format!(
            "  - {{ id: p{i}, email: p{i}@example.com, display_name: Person {i} }}\n"
        ));
    }
    app.seed_directory(DirectoryFile::parse(&people).expect("directory"))
        .await
        .expect("seed");

    // Grants ending over one minute: ten minutes from the start plus 0 to 59 seconds.
    let setup = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    let per_task = grants.div_ceil(16);
    for task in 0..16 {
        let app = app.clone();
        tasks.spawn(async move {
            let mut filed = Vec::new();
            for i in (task * per_task)..((task + 1) * per_task).min(grants) {
                let who = app
                    .principal(&UserId::new(format!("p{i}")).expect("id"))
                    .expect("principal");
                let answers = RawSubmission {
                    duration: Some(format!("{}s", 600 + i % 60)),
                    ..RawSubmission::default()
                };
                let request = app
                    .submit(&who, "vpn", None, answers, None)
                    .await
                    .expect("submit");
                filed.push(request.number);
            }
            filed
        });
    }
    let mut numbers = Vec::new();
    while let Some(filed) = tasks.join_next().await {
        numbers.extend(filed.expect("task"));
    }
    loop {
        let outcome = app.run_jobs_once("setup").await.expect("grant");
        if outcome.claimed == 0 {
            break;
        }
    }
    let mut ends: HashMap<i64, i64> = HashMap::new();
    for number in &numbers {
        let request = app
            .store_for_tests()
            .request(*number)
            .await
            .expect("read")
            .expect("request");
        let State::Active { until } = request.state else {
            panic!("{} is {}", request.title(), request.state.name());
        };
        ends.insert(number.0, until.0);
    }
    let first_end = ends.values().min().copied().unwrap_or(start.0);
    let last_end = ends.values().max().copied().unwrap_or(start.0);
    println!(
        "setup: {grants} grants active in {:.1}s, ending within {}s of each other",
        setup.elapsed().as_secs_f64(),
        (last_end - first_end) / 1000
    );

    // From five seconds before the first end, at the wall clock's pace, with realistic latency.
    let latent = connector.clone().with_latency(latency);
    app.set_connectors(registry(&latent));
    clock.run_from(Timestamp(first_end - 5_000));
    let offset = clock.offset.load(Ordering::SeqCst);
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let dispatcher = {
        let app = app.clone();
        tokio::spawn(async move { app.run_dispatcher(String::from("bench"), stopped).await })
    };
    let wave = Instant::now();
    let deadline = wave + Duration::from_secs(60 + 5 + (last_end - first_end) as u64 / 1000 + 240);
    while connector.calls_of("revoke").len() < grants && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let _ = stop.send(true);
    let _ = dispatcher.await;

    let revokes = connector.calls_of("revoke");
    let mut lags: Vec<i64> = revokes
        .iter()
        .filter_map(|call| {
            let end = ends.get(&call.request.0)?;
            Some(wall_millis(call.at) + offset - end)
        })
        .collect();
    lags.sort_unstable();
    let removed = lags.len();
    let within = lags.iter().filter(|l| **l <= 60_000).count();
    println!(
        "removal lag behind the end time, {removed} of {grants} removed ({}ms connector latency per call):",
        latency.as_millis()
    );
    println!(
        "  p50 {:.2}s  p99 {:.2}s  max {:.2}s; {within} within 60s; still in effect: {}",
        percentile(&lags, 0.50) as f64 / 1000.0,
        percentile(&lags, 0.99) as f64 / 1000.0,
        lags.last().copied().unwrap_or(0) as f64 / 1000.0,
        connector.grants_in_effect()
    );
    println!(
        "  the whole wave took {:.1}s from five seconds before the first end",
        wave.elapsed().as_secs_f64()
    );
    if removed < grants || within < grants {
        println!("  TARGET MISSED: every grant should be removed within 60s of its end");
    }
}
