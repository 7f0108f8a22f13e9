//! The store's integration tests, written once and run against both backends.
//!
//! Every test is an `async fn(Store)`; [`store_tests!`] turns each into a
//! `sqlite::<name>` test (a fresh database file in a temporary directory) and a
//! `postgres::<name>` test (a fresh database created on the server named by
//! `HER2EX_TEST_POSTGRES_URL` and dropped afterwards). Without that variable the
//! PostgreSQL variants print a SKIPPED line and pass, unless `HER2EX_REQUIRE_POSTGRES=1`.
//!
//! Start a throwaway server with `scripts/start-postgres DIR PORT`.

mod support;

mod accounts;
mod batch;
mod catalog;
mod chain;
mod checkpoints;
mod concurrency;
mod group_commit;
mod jobs;
mod lists;
mod open;
mod projections;
mod roundtrip;
mod sessions;
mod visits;
