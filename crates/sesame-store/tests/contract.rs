//! The store contract: every story is written once as `async fn(Store)` and runs against SQLite (a
//! fresh file each) and against PostgreSQL (a fresh database each) when `SESAME_TEST_POSTGRES_URL`
//! names an admin URL such as `postgres://postgres@127.0.0.1:5433/postgres`. Without it the
//! PostgreSQL runs print a note and pass, except in CI (env `CI` set), where they fail.

#[path = "contract/chain.rs"]
mod chain;
#[path = "contract/fixtures.rs"]
mod fixtures;
#[path = "contract/inbound.rs"]
mod inbound;
#[path = "contract/jobs.rs"]
mod jobs;
#[path = "contract/provisioning.rs"]
mod provisioning;
#[path = "contract/records.rs"]
mod records;
#[path = "contract/requests.rs"]
mod requests;
#[path = "contract/scim.rs"]
mod scim;

use sesame_store::{create_test_database, Backend, Store, StoreError};
use std::future::Future;

async fn on_sqlite<F, Fut>(story: F)
where
    F: FnOnce(Store) -> Fut,
    Fut: Future<Output = ()>,
{
    let dir = tempfile::tempdir().expect("a temporary directory");
    // A directory that does not exist yet: the store creates it.
    let url = format!(
        "sqlite://{}",
        dir.path().join("data").join("sesame.db").display()
    );
    let store = Store::connect(&url).await.expect("connect to SQLite");
    assert_eq!(store.backend(), Backend::Sqlite);
    store.migrate().await.expect("migrate SQLite");
    story(store.clone()).await;
    store.close().await;
}

async fn on_postgres<F, Fut>(story: F)
where
    F: FnOnce(Store) -> Fut,
    Fut: Future<Output = ()>,
{
    let admin_url = match std::env::var("SESAME_TEST_POSTGRES_URL") {
        Ok(url) if !url.trim().is_empty() => url,
        _ if std::env::var_os("CI").is_some() => {
            panic!(
                "SESAME_TEST_POSTGRES_URL is not set, and in CI the PostgreSQL contract must run"
            )
        }
        _ => {
            eprintln!("note: SESAME_TEST_POSTGRES_URL is not set; the PostgreSQL run of this story is skipped");
            return;
        }
    };
    let url = create_test_database(&admin_url)
        .await
        .expect("create a test database");
    let store = Store::connect(&url).await.expect("connect to PostgreSQL");
    assert_eq!(store.backend(), Backend::Postgres);
    store.migrate().await.expect("migrate PostgreSQL");
    story(store.clone()).await;
    store.close().await;
}

/// One test module per story, with a test per database.
macro_rules! contract {
    ($($module:ident :: $story:ident),* $(,)?) => {
        $(
            mod $story {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    crate::on_sqlite(crate::$module::$story).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    crate::on_postgres(crate::$module::$story).await;
                }
            }
        )*
    };
}

contract!(
    requests::a_created_request_reads_back_equal,
    requests::request_numbers_are_sequential,
    requests::a_reused_client_key_names_the_first_request_and_writes_nothing,
    requests::a_stale_version_is_refused_and_writes_nothing,
    requests::a_whole_lifecycle_moves_duties_along,
    requests::lists_filter_and_page,
    requests::a_comment_is_stored_with_its_audit_row_and_a_job,
    requests::concurrent_writers_of_one_version_get_one_winner,
    requests::concurrent_creates_with_one_client_key_make_one_request,
    records::the_audit_trail_is_append_only,
    records::directory_upserts_load_and_bump_the_version,
    records::tokens_are_found_by_hash_and_revoked_once,
    records::tokens_die_with_their_person,
    records::a_schema_from_a_newer_build_is_refused,
    records::inbound_keys_are_remembered_once,
    records::the_store_answers_pings,
    records::chat_messages_are_recorded_once_per_purpose_and_replaced,
    records::match_choices_are_kept_newest_first,
    jobs::claims_respect_run_at_and_per_request_order,
    jobs::notices_of_different_requests_do_not_wait_for_each_other,
    jobs::a_leased_job_is_not_claimed_again_until_its_lease_ends,
    jobs::retry_bury_and_requeue,
    jobs::a_fired_timer_is_deleted_with_the_change_it_caused,
    jobs::completed_jobs_are_deleted_in_one_batch,
    jobs::concurrent_claims_never_share_a_job,
    inbound::an_event_is_taken_in_once_with_its_job,
    inbound::failing_writes_among_many_do_not_fail_the_others,
    scim::a_directory_change_writes_entries_records_and_audit_together,
    provisioning::provisioning_work_is_ordered_per_request_beside_its_notices,
    chain::every_write_extends_one_chain,
    chain::concurrent_writers_keep_the_chain_linear,
    chain::the_append_only_guards_are_checked_and_restored,
    chain::rows_from_before_the_chain_are_chained_once,
    chain::checkpoints_and_stream_cursors,
);

#[tokio::test]
async fn an_in_memory_database_works_for_quick_checks() {
    let store = Store::connect("sqlite::memory:").await.expect("connect");
    store.migrate().await.expect("migrate");
    let request = fixtures::create(&store, "alice", fixtures::T0).await;
    assert_eq!(
        store.request(request.number).await.expect("read"),
        Some(request)
    );
}

/// When SQLite cannot commit (here: another process holds the write lock past the busy timeout),
/// every write waiting in the batch fails and nothing of it is kept: an event whose key and job
/// were not committed is not acknowledged, and Slack's retry of it is taken in afterwards.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_that_cannot_commit_takes_nothing_in() {
    use sqlx::Connection;
    let dir = tempfile::tempdir().expect("a temporary directory");
    let url = format!("sqlite://{}", dir.path().join("sesame.db").display());
    let store = Store::connect(&url).await.expect("connect");
    store.migrate().await.expect("migrate");
    let mut other = sqlx::SqliteConnection::connect(&url)
        .await
        .expect("another connection");
    sqlx::raw_sql("BEGIN IMMEDIATE")
        .execute(&mut other)
        .await
        .expect("hold the write lock");
    let job = sesame_store::ChatJob {
        platform: String::from("slack"),
        work: serde_json::json!({ "kind": "event" }),
    };
    let now = sesame_core::Timestamp(fixtures::T0);
    let writes: Vec<_> = (0..4)
        .map(|n| {
            let (store, job) = (store.clone(), job.clone());
            tokio::spawn(async move {
                let key = format!("Ev{n}");
                store
                    .enqueue_chat(&job, None, Some(("slack-event", &key)), None, now)
                    .await
            })
        })
        .collect();
    for write in writes {
        let failed = write.await.expect("the task ran");
        assert!(matches!(failed, Err(StoreError::Database(_))), "{failed:?}");
    }
    sqlx::raw_sql("ROLLBACK")
        .execute(&mut other)
        .await
        .expect("release the lock");
    assert!(store
        .jobs(sesame_store::JobStatus::Pending, 10)
        .await
        .expect("jobs")
        .is_empty());
    for n in 0..4 {
        let retried = store
            .enqueue_chat(
                &job,
                None,
                Some(("slack-event", &format!("Ev{n}"))),
                None,
                now,
            )
            .await
            .expect("the retry");
        assert!(retried.is_some(), "the key was not remembered");
    }
    store.close().await;
}

#[tokio::test]
async fn unknown_urls_are_refused() {
    let refused = Store::connect("mysql://root:hunter2@localhost/sesame").await;
    let message = refused.expect_err("mysql is not supported").to_string();
    assert!(
        message.contains("invalid database URL") && !message.contains("hunter2"),
        "{message}"
    );
}
