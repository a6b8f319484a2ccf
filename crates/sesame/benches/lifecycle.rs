//! Complete request lifecycles through the HTTP API: submit, approve, complete (manual fulfilment),
//! read back. Runs a real server (with its dispatcher draining the outbox, as in production) on
//! SQLite, and on PostgreSQL when SESAME_TEST_POSTGRES_URL names a server, and prints lifecycles per
//! second and p50/p99 latency per call.
//!
//!     cargo bench -p sesame --bench lifecycle
//!     SESAME_BENCH_LIFECYCLES=20000 SESAME_BENCH_CONCURRENCY=64 cargo bench -p sesame --bench lifecycle

use sesame::config::Config;
use sesame::Application;
use sesame_app::SystemClock;
use sesame_core::{Actor, UserId};
use sesame_testkit::load::{run_lifecycles, LifecycleTokens};
use std::sync::Arc;

/// The same allocator as the `sesame` binary, so the figures are the binary's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    // `cargo test --benches` runs benchmarks once as a smoke test; keep that quick.
    let quick = std::env::args().any(|a| a == "--test");
    let lifecycles = if quick {
        50
    } else {
        env_number("SESAME_BENCH_LIFECYCLES", 10_000)
    };
    let concurrency = env_number("SESAME_BENCH_CONCURRENCY", 32);
    let dir = tempfile::tempdir().expect("temp dir");
    let sqlite = format!("sqlite://{}", dir.path().join("bench.db").display());
    bench("SQLite", &sqlite, lifecycles, concurrency);
    match std::env::var("SESAME_TEST_POSTGRES_URL") {
        Ok(admin) if !admin.is_empty() => {
            let runtime = tokio::runtime::Runtime::new().expect("runtime");
            let url = runtime.block_on(sesame_store::create_test_database(&admin)).expect("create a benchmark database");
            bench("PostgreSQL", &url, lifecycles, concurrency);
        }
        _ => println!("PostgreSQL: skipped (set SESAME_TEST_POSTGRES_URL to an admin URL, e.g. from scripts/postgres.sh)"),
    }
}

fn bench(label: &str, database_url: &str, lifecycles: usize, concurrency: usize) {
    let fixtures = sesame_testkit::fixtures();
    let key_dir = tempfile::tempdir().expect("temp dir");
    let config: Config = toml::from_str(&format!(
        "[database]\nurl = {database_url:?}\n[flows]\ndir = {:?}\n[directory]\nfile = {:?}\n[log]\nlevel = \"error\"\n[audit]\nsigning_key_file = {:?}\n",
        fixtures.join("flows").display().to_string(),
        fixtures.join("directory.yaml").display().to_string(),
        key_dir.path().join("audit-signing-key.pem").display().to_string(),
    ))
    .expect("config");
    // The server gets its own runtime and threads, like a separate process would.
    let server_runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("sesame-server")
        .enable_all()
        .build()
        .expect("runtime");
    let (application, tokens) = server_runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let application = Application::build(&config, listener, Arc::new(SystemClock))
            .await
            .expect("build");
        let token = |user: &'static str| {
            let app = application.app.clone();
            async move {
                app.create_token(
                    &UserId::new(user).expect("id"),
                    "bench",
                    None,
                    &Actor::System,
                )
                .await
                .expect("token")
                .secret
            }
        };
        let tokens = LifecycleTokens {
            requester: token("alice").await,
            approver: token("carol").await,
            fulfiller: token("fran").await,
        };
        (application, tokens)
    });
    let url = format!("http://{}", application.local_addr().expect("address"));
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let server = server_runtime.spawn(async move { application.run(stopped).await });

    let client_runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("load-client")
        .enable_all()
        .build()
        .expect("runtime");
    client_runtime.block_on(async {
        let warmup =
            run_lifecycles(&url, tokens.clone(), (lifecycles / 10).max(20), concurrency).await;
        assert_eq!(warmup.failures, 0, "warm-up lifecycles failed");
        let report = run_lifecycles(&url, tokens, lifecycles, concurrency).await;
        report.print(&format!("{label} (concurrency {concurrency})"));
        assert_eq!(report.failures, 0, "every lifecycle must complete");
    });
    let _ = stop.send(true);
    let _ = server_runtime.block_on(server);
}
