//! Persistence for her2ex: the event log and the read tables derived from it.
//!
//! Every change to trial data is an event appended through [`Store::append`], the one
//! audited write path. An append runs in a transaction that
//!
//! 1. checks the stream is at the version the caller decided on (optimistic concurrency;
//!    otherwise [`StoreError::Conflict`]),
//! 2. writes the events with who, when, where and why, their stream versions, their global
//!    sequence numbers and their links in one global SHA-256 hash chain ([`hash`]),
//! 3. updates the read rows (participants, sites, users, visits) through [`Projection`]s,
//!
//! and commits, so a reader sees all of it or none of it. [`Store::append_batch`] does the
//! same for many streams in one transaction, for bulk loads.
//!
//! Concurrent writes share a transaction (group commit): the process's one committer
//! takes every write waiting, up to 64, works them out in arrival order in memory (each
//! checked as if alone; one refused on its own terms fails alone), writes them with a
//! statement or two per table, commits once, and only then answers each caller. One
//! disk flush and a handful of statements serve the whole group, so under load the log
//! takes many more writes a second, and a write's wait stays near one group's commit.
//! [`Store::commit_stats`] shows the grouping.
//!
//! No code path updates or deletes an event; database triggers refuse it too.
//! [`Store::verify_chain`] re-hashes the whole log and names the first event that was
//! altered or removed.
//!
//! The store knows nothing of the protocol's types: an event is a `kind` and a JSON
//! payload, and callers convert.
//!
//! | Backend | Opened with | Writers serialised by |
//! |---|---|---|
//! | SQLite (default) | a path, `sqlite:…`, [`Store::open_data_dir`] | the committer in a process; `BEGIN IMMEDIATE` between processes |
//! | PostgreSQL | `postgres://…` | the committer in a process; `SELECT … FOR UPDATE` on the `chain_head` row between processes |
//!
//! Both run the same logical schema (`migrations/sqlite`, `migrations/postgres`), applied
//! on open. Timestamps are stored as text with exactly microsecond precision and JSON as
//! canonical text, so what is read back is what was hashed, on both backends.
//!
//! The read tables answer the pages' lists a page at a time ([`Store::participants_page`],
//! [`Store::open_visits`]; see [`ParticipantQuery`], [`VisitQuery`]): a page reads only its
//! own rows, and the total that comes with it is counted on index entries, never on the
//! snapshots (`benches/read_path.rs` measures both at 10 000 participants). The visits table is derived from the
//! participants' state *and* the study settings, so when the settings change it can be
//! rebuilt without events ([`Store::rebuild_visits`]).
//!
//! The chain is anchored outside the database by signed checkpoints ([`checkpoint`]): the
//! chain hash at a seq, signed with an Ed25519 key kept in a file, every N events
//! ([`Store::with_checkpoints`]), on demand and at shutdown ([`Store::checkpoint`]).
//! [`Store::verify_checkpoints`] checks each signature and that the log still holds the
//! signed hash at each seq, which a rewritten log with recomputed hashes does not.
//! [`Store::backup_sqlite`] writes a consistent copy of a live SQLite database.
//!
//! | Cargo feature | What it adds |
//! |---|---|
//! | `test-support` | `Store::execute_raw_for_tests`: raw SQL with the append-only triggers suspended, and `Store::rehash_chain_for_tests`: the chain and its head recomputed over whatever the log holds, for tests that tamper with the log as an insider would; `Store::hold_commits_for_tests`: writes queue up until the hold ends, then commit as one group. Never on in a production build. |
//!
//! Login sessions are kept here too ([`SessionRow`]): infrastructure, not trial data, so
//! they are not in the event log. So are the imaging jobs ([`ImagingJob`]) and the DICOM
//! archive's index ([`CatalogInstance`], [`CatalogSeries`]): the versions of each SOP
//! instance the archive holds, written in batches by the archive, the series of a
//! participant summed up by SQL.

mod catalog;
pub mod checkpoint;
mod committer;
mod error;
pub mod hash;
mod jobs;
mod lists;
mod model;
mod plan;
mod postgres;
mod queries;
mod request;
mod rows;
mod sqlite;
mod store;
pub mod verify;
mod visits;

pub use catalog::{CatalogInstance, CatalogSeries, SeriesQuery};
#[cfg(feature = "test-support")]
pub use committer::CommitHold;
pub use committer::CommitStats;
pub use error::{StoreError, StoreErrorKind};
pub use jobs::{ImagingJob, JobState, NewImagingJob};
pub use lists::{MAX_PAGE_SIZE, ParticipantListRow, ParticipantQuery, VisitQuery};
pub use model::{
    Appended, Backend, BadEvent, ChainReport, CredentialRow, EventMeta, NewEvent, ParticipantRow,
    Projection, RecordedEvent, SessionAccount, SessionRow, SiteRow, StreamAppend, UserRow,
    VisitRow, VisitSchedule,
};
pub use store::{SQLITE_FILE_NAME, Store};
pub use visits::VisitStatus;
