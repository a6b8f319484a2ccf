//! The two backends.
//!
//! Why `include!`: sqlx's query functions are generic over the database, but writing the store
//! generically (`async fn f<DB: Database>(..) where for<'c> &'c mut DB::Connection: Executor<'c, ..>,
//! i64: Encode<DB> + Type<DB>, ...`) buries every query under trait bounds, and a trait object over the
//! two pools would box every future. Instead each backend module defines its concrete types (`DB`, the
//! `Pools` struct, `begin_write`, the `claim_lock!` macro) and then `include!`s the same files from
//! `shared/`, so every query is written once and compiled twice, each time against concrete types.
//! The shared files hold only items (no `use`, no inner attributes); the imports live here in each
//! backend module. sqlx's SQLite driver accepts PostgreSQL's `$1` placeholders, so the SQL text is
//! shared as well; what differs between the dialects is in the backend files themselves.

pub(crate) mod postgres;
pub(crate) mod sqlite;
