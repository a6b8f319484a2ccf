//! Grants and revokes per second through the `ldap` and `postgres` connectors against the local
//! servers the tests use (scripts/ldap.sh and scripts/postgres.sh; the same variables as the
//! tests). For each: N people get a membership one after another, lose it again one after
//! another, then the same with several operations in flight at once. The people (LDAP entries,
//! login roles) are made before and removed after the timing.
//!
//!   eval "$(scripts/ldap.sh start /tmp/ldap 3890)"
//!   export SESAME_TEST_POSTGRES_URL=$(scripts/postgres.sh start /tmp/pg 55432)
//!   cargo bench -p sesame-connectors --bench throughput
//!
//! `SESAME_BENCH_N` (default 1000) and `SESAME_BENCH_CONCURRENCY` (default 8) change the load.

use ldap3::{LdapConnAsync, LdapResult};
use sesame_connectors::{Connector, ConnectorSettings, Grant, GrantPerson};
use sesame_core::{RequestNumber, UserId};
use sqlx::{Connection, Executor, PgConnection};
use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(default)
}

fn connector(settings: &str) -> Arc<dyn Connector> {
    let settings: ConnectorSettings = toml::from_str(settings).expect("connector settings");
    settings.build().expect("connector")
}

fn grants(ids: &[String], target: (&str, &str)) -> Vec<Grant> {
    ids.iter()
        .map(|id| Grant {
            request: RequestNumber(1),
            person: GrantPerson {
                id: UserId::new(id.as_str()).expect("user id"),
                email: format!("{id}@example.com"),
                display_name: id.clone(),
            },
            target: [(target.0.to_owned(), target.1.to_owned())].into(),
        })
        .collect()
}

#[derive(Clone, Copy)]
enum Operation {
    Grant,
    Revoke,
}

/// Runs one operation per grant with `concurrency` in flight; returns the time taken.
async fn run(
    connector: &Arc<dyn Connector>,
    grants: &[Grant],
    operation: Operation,
    concurrency: usize,
) -> Duration {
    let started = Instant::now();
    let chunk = grants.len().div_ceil(concurrency);
    let mut tasks = tokio::task::JoinSet::new();
    for part in grants.chunks(chunk.max(1)) {
        let connector = connector.clone();
        let part = part.to_vec();
        tasks.spawn(async move {
            for grant in &part {
                let result = match operation {
                    Operation::Grant => connector.grant(grant).await,
                    Operation::Revoke => connector.revoke(grant).await,
                };
                result.expect("the operation succeeds");
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.expect("task");
    }
    started.elapsed()
}

fn report(system: &str, operation: &str, mode: &str, n: usize, took: Duration) {
    println!(
        "{system:<8} {operation:<6} {mode:<14} {n:>6} ops {:>8.2} s {:>9.0} ops/s {:>8.2} ms/op",
        took.as_secs_f64(),
        n as f64 / took.as_secs_f64(),
        took.as_secs_f64() * 1000.0 / n as f64
    );
}

/// Sequential grants and revokes, then concurrent ones, with a check that the last grant holds.
async fn measure(
    system: &str,
    connector: Arc<dyn Connector>,
    grants: &[Grant],
    concurrency: usize,
) {
    let n = grants.len();
    for (mode, in_flight) in [
        (String::from("sequential"), 1),
        (format!("{concurrency} at once"), concurrency),
    ] {
        let took = run(&connector, grants, Operation::Grant, in_flight).await;
        report(system, "grant", &mode, n, took);
        let last = grants.last().expect("grants");
        assert_eq!(
            connector.check(last).await.expect("check"),
            sesame_connectors::Presence::Present
        );
        let took = run(&connector, grants, Operation::Revoke, in_flight).await;
        report(system, "revoke", &mode, n, took);
    }
}

async fn ldap(n: usize, concurrency: usize) {
    let (Ok(url), Ok(bind_dn), Ok(password)) = (
        std::env::var("SESAME_TEST_LDAP_URL"),
        std::env::var("SESAME_TEST_LDAP_BIND_DN"),
        std::env::var("SESAME_TEST_LDAP_BIND_PASSWORD"),
    ) else {
        println!("ldap: SESAME_TEST_LDAP_URL and its bind details are not set (scripts/ldap.sh); skipped");
        return;
    };
    let run_id = std::process::id();
    let (connection, mut admin) = LdapConnAsync::new(&url).await.expect("connect");
    ldap3::drive!(connection);
    admin
        .simple_bind(&bind_dn, &password)
        .await
        .and_then(LdapResult::success)
        .expect("bind");
    let ids: Vec<String> = (0..n).map(|i| format!("bench{run_id}-{i}")).collect();
    let dn = |id: &str| format!("uid={id},ou=people,dc=example,dc=com");
    for id in &ids {
        let attrs = vec![
            ("objectClass", HashSet::from(["inetOrgPerson"])),
            ("uid", HashSet::from([id.as_str()])),
            ("cn", HashSet::from([id.as_str()])),
            ("sn", HashSet::from(["Bench"])),
        ];
        admin
            .add(&dn(id), attrs)
            .await
            .and_then(LdapResult::success)
            .expect("add a person");
    }
    let group = format!("cn=bench{run_id},ou=groups,dc=example,dc=com");
    admin
        .add(
            &group,
            vec![
                ("objectClass", HashSet::from(["groupOfNames"])),
                ("cn", HashSet::from([format!("bench{run_id}").as_str()])),
                ("member", HashSet::from([bind_dn.as_str()])),
            ],
        )
        .await
        .and_then(LdapResult::success)
        .expect("add the group");

    let connector = connector(&format!(
        "kind = \"ldap\"\nurl = {url:?}\nbind_dn = {bind_dn:?}\nbind_password = {password:?}\n\
         person_dn = \"uid={{id}},ou=people,dc=example,dc=com\"\n"
    ));
    measure(
        "ldap",
        connector,
        &grants(&ids, ("group", &group)),
        concurrency,
    )
    .await;

    let _ = admin.delete(&group).await;
    for id in &ids {
        let _ = admin.delete(&dn(id)).await;
    }
}

async fn postgres(n: usize, concurrency: usize) {
    let Ok(url) = std::env::var("SESAME_TEST_POSTGRES_URL") else {
        println!("postgres: SESAME_TEST_POSTGRES_URL is not set (scripts/postgres.sh); skipped");
        return;
    };
    let run_id = std::process::id();
    let mut admin = PgConnection::connect(&url).await.expect("connect");
    let ids: Vec<String> = (0..n).map(|i| format!("bench{run_id}_{i}")).collect();
    let role = format!("bench_role_{run_id}");
    admin
        .execute(format!("CREATE ROLE \"{role}\" NOLOGIN").as_str())
        .await
        .expect("create the role");
    for id in &ids {
        admin
            .execute(format!("CREATE ROLE \"{id}\" LOGIN").as_str())
            .await
            .expect("create a login role");
    }
    let connector = connector(&format!(
        "kind = \"postgres\"\nurl = {url:?}\nmax_connections = {concurrency}\n"
    ));
    measure(
        "postgres",
        connector,
        &grants(&ids, ("role", &role)),
        concurrency,
    )
    .await;
    for id in &ids {
        let _ = admin.execute(format!("DROP ROLE \"{id}\"").as_str()).await;
    }
    let _ = admin
        .execute(format!("DROP ROLE \"{role}\"").as_str())
        .await;
}

fn main() {
    let n = env_number("SESAME_BENCH_N", 1000);
    let concurrency = env_number("SESAME_BENCH_CONCURRENCY", 8);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        println!("connector throughput: {n} grants and {n} revokes per mode");
        ldap(n, concurrency).await;
        postgres(n, concurrency).await;
    });
}
