//! The SQL both backends share, written once.
//!
//! SQLite and PostgreSQL accept the same statements here (`$1` placeholders, `ON CONFLICT
//! … DO UPDATE`), but sqlx gives each its own pool and row types. [`shared_queries!`]
//! expands these functions inside a backend module, which must define:
//!
//! - `type Db` — the sqlx database type;
//! - `async fn begin_append(pool: &Pool<Db>) -> Result<Transaction<'static, Db>, sqlx::Error>`
//!   — start a transaction that may write the log (SQLite: `BEGIN IMMEDIATE`);
//! - `const LOCK_HEAD_SQL: &str` — read `(seq, hash)` of the chain head, locking it until
//!   the transaction ends (PostgreSQL: `FOR UPDATE`);
//! - `async fn begin_read(pool: &Pool<Db>) -> Result<Transaction<'static, Db>, sqlx::Error>`
//!   — start a read-only transaction whose statements all see one snapshot (PostgreSQL:
//!   `REPEATABLE READ`), so a list's page and its count agree;
//! - `const CASE_INSENSITIVE_LIKE: &str` — the `LIKE` operator that ignores ASCII case.
//!
//! The functions fall into seven groups, one file each: the audited write path and the
//! derived-table writes ([`write`]), single-row and log reads ([`read`]), the paged
//! lists ([`lists`]), the accounts' credentials, failure counts and sessions
//! ([`accounts`]), the signed checkpoints ([`checkpoints`]), the imaging jobs
//! ([`jobs`]), and the DICOM archive's index ([`catalog`]).

pub(crate) mod accounts;
pub(crate) mod catalog;
pub(crate) mod checkpoints;
pub(crate) mod jobs;
pub(crate) mod lists;
pub(crate) mod read;
pub(crate) mod write;

/// Expands the shared query functions in the calling backend module (see the module docs).
macro_rules! shared_queries {
    () => {
        use chrono::{DateTime, Utc};
        use sqlx::{AssertSqlSafe, Pool, Transaction};

        use $crate::error::StoreError;
        use $crate::hash::{self, canonical_json, format_timestamp};
        use $crate::lists::{Filter, ParticipantListRow, ParticipantQuery, VisitQuery};
        use $crate::model::{
            CredentialRow, ParticipantRow, RecordedEvent, SessionAccount, SessionRow, SiteRow,
            UserRow, VisitRow,
        };
        use $crate::plan::{Plan, Start};
        use $crate::queries::write::{Placeholders, ROWS_PER_STATEMENT, placeholders, value_rows};
        use $crate::request::Request;
        use $crate::rows::{
            self, CredentialTuple, EventTuple, ParticipantListTuple, ParticipantTuple, RawEvent,
            SessionAccountTuple, SessionTuple, SiteTuple, UserTuple, VisitTuple,
            credential_columns, event_columns, participant_columns, participant_list_columns,
            session_columns, user_columns, visit_columns,
        };
        use $crate::visits;

        $crate::queries::write::write_queries!();
        $crate::queries::read::read_queries!();
        $crate::queries::lists::list_queries!();
        $crate::queries::checkpoints::checkpoint_queries!();
        $crate::queries::accounts::account_queries!();
        $crate::queries::jobs::job_queries!();
        $crate::queries::catalog::catalog_queries!();
    };
}

pub(crate) use shared_queries;
