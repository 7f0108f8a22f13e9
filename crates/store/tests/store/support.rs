//! Fresh databases for each test, and fixture builders.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use serde_json::json;
use store::{
    Backend, EventMeta, NewEvent, ParticipantRow, Projection, SiteRow, Store, UserRow, VisitRow,
};

/// Environment variable naming a PostgreSQL server URL for the PostgreSQL variants.
pub const POSTGRES_URL_VAR: &str = "HER2EX_TEST_POSTGRES_URL";
/// Environment variable that turns a missing PostgreSQL URL into a failure.
pub const REQUIRE_POSTGRES_VAR: &str = "HER2EX_REQUIRE_POSTGRES";

/// Generates a SQLite and a PostgreSQL test for each named `async fn(Store)` of the
/// calling module.
macro_rules! store_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let db = $crate::support::TestDb::sqlite().await;
                    super::$name(db.store.clone()).await;
                    db.finish().await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some(db) = $crate::support::TestDb::postgres().await else {
                        return;
                    };
                    super::$name(db.store.clone()).await;
                    db.finish().await;
                }
            )*
        }
    };
}
pub(crate) use store_tests;

/// A store on a database of its own, and what to clean up afterwards.
pub struct TestDb {
    pub store: Store,
    url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    Sqlite(tempfile::TempDir),
    Postgres { admin_url: String, database: String },
}

impl TestDb {
    /// A new SQLite database in a temporary directory.
    pub async fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().expect("temporary directory");
        let store = Store::open_data_dir(dir.path())
            .await
            .expect("open SQLite store");
        assert_eq!(store.backend(), Backend::Sqlite);
        let url = dir
            .path()
            .join(store::SQLITE_FILE_NAME)
            .display()
            .to_string();
        TestDb {
            store,
            url,
            cleanup: Cleanup::Sqlite(dir),
        }
    }

    /// A new database on the PostgreSQL server from the environment, or `None` (after a
    /// loud SKIPPED line) when no server is configured and none is required.
    pub async fn postgres() -> Option<TestDb> {
        let Ok(admin_url) = std::env::var(POSTGRES_URL_VAR) else {
            if std::env::var(REQUIRE_POSTGRES_VAR).as_deref() == Ok("1") {
                panic!("{REQUIRE_POSTGRES_VAR}=1 but {POSTGRES_URL_VAR} is not set");
            }
            eprintln!(
                "SKIPPED: set {POSTGRES_URL_VAR} to run the PostgreSQL store tests \
                 (scripts/start-postgres DIR PORT prints one)"
            );
            return None;
        };
        let database = format!("her2ex_t_{}", uuid::Uuid::new_v4().simple());
        admin(&admin_url, &format!("CREATE DATABASE {database}")).await;
        let url = with_database(&admin_url, &database);
        let store = Store::open(&url).await.expect("open PostgreSQL store");
        assert_eq!(store.backend(), Backend::Postgres);
        Some(TestDb {
            store,
            url,
            cleanup: Cleanup::Postgres {
                admin_url,
                database,
            },
        })
    }

    /// The URL the store was opened with.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Closes the store and removes its database.
    pub async fn finish(self) {
        self.store.close().await;
        match self.cleanup {
            Cleanup::Sqlite(dir) => drop(dir),
            Cleanup::Postgres {
                admin_url,
                database,
            } => {
                admin(
                    &admin_url,
                    &format!("DROP DATABASE {database} WITH (FORCE)"),
                )
                .await
            }
        }
    }
}

async fn admin(url: &str, sql: &str) {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(url)
        .await
        .expect("connect to the PostgreSQL test server");
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
        .execute(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    conn.close().await.expect("close admin connection");
}

/// `url` with its database name replaced by `database`.
fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let after_scheme = base.find("://").map_or(0, |i| i + 3);
    let host_end = base[after_scheme..]
        .find('/')
        .map_or(base.len(), |i| after_scheme + i);
    let mut out = format!("{}/{database}", &base[..host_end]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

/// Runs `sql` on a connection of its own, as any other database client would: the
/// store's guards (triggers) apply.
pub async fn client_sql(db: &TestDb, sql: &str) -> Result<u64, sqlx::Error> {
    use sqlx::Connection;
    let sql = sqlx::AssertSqlSafe(sql.to_owned());
    match db.store.backend() {
        Backend::Sqlite => {
            let options = sqlx::sqlite::SqliteConnectOptions::new().filename(&db.url);
            let mut conn = sqlx::SqliteConnection::connect_with(&options).await?;
            let done = sqlx::raw_sql(sql).execute(&mut conn).await;
            conn.close().await?;
            Ok(done?.rows_affected())
        }
        Backend::Postgres => {
            let mut conn = sqlx::PgConnection::connect(&db.url).await?;
            let done = sqlx::raw_sql(sql).execute(&mut conn).await;
            conn.close().await?;
            Ok(done?.rows_affected())
        }
    }
}

/// A fixed time with sub-microsecond digits, to catch rounding.
pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 14, 9, 26, 53)
        .single()
        .expect("valid time")
        + chrono::Duration::nanoseconds(589_793_238)
}

/// Metadata of a site nurse at SE01.
pub fn meta() -> EventMeta {
    EventMeta {
        actor: "nurse.anna".into(),
        role: "site_nurse".into(),
        site: Some("SE01".into()),
        recorded_at: t0(),
        reason: None,
    }
}

/// An event with a small realistic payload.
pub fn event(kind: &str, n: i64) -> NewEvent {
    NewEvent {
        kind: kind.into(),
        payload: json!({"n": n, "kind": kind, "weight_kg": 71.5, "notes": ["a", "b"]}),
    }
}

/// A participant read row, timed to the microsecond (as the store keeps it) so it
/// compares equal to the row read back.
pub fn participant(study_id: &str, site: &str, version: i64) -> ParticipantRow {
    ParticipantRow {
        study_id: study_id.into(),
        site: site.into(),
        state: "Screening".into(),
        version,
        snapshot: json!({"study_id": study_id, "state": "Screening", "version": version}),
        updated_at: store::hash::truncate_to_micros(t0()),
    }
}

/// A site projection.
pub fn site(code: &str, name: &str) -> Projection {
    Projection::Site(SiteRow {
        code: code.into(),
        name: name.into(),
    })
}

/// A user projection.
pub fn user(username: &str, site: Option<&str>) -> Projection {
    Projection::User(UserRow {
        username: username.into(),
        display_name: format!("User {username}"),
        role: "site_nurse".into(),
        site: site.map(str::to_owned),
        active: true,
        locked: false,
    })
}

/// Appends `count` single-event commands to `stream`, starting from its current version.
pub async fn append_n(store: &Store, stream: &str, count: i64) {
    for _ in 0..count {
        let version = store.stream_version(stream).await.expect("stream version");
        store
            .append(
                stream,
                version,
                &[event("Noted", version + 1)],
                &meta(),
                &[],
            )
            .await
            .expect("append");
    }
}

/// A day of May 2026, the month the visit tests are set in.
pub fn may(day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 5, day).expect("valid day")
}

/// A visit of `study_id` (site: the study id's prefix) with its window in May 2026.
pub fn visit(study_id: &str, kind: &str, window: (u32, u32), required: bool) -> VisitRow {
    VisitRow {
        study_id: study_id.into(),
        site: study_id.split('-').next().unwrap_or_default().into(),
        kind: kind.into(),
        earliest: may(window.0),
        latest: may(window.1),
        required,
        detail: json!({"kind": kind, "forms": ["vitals", "ae"], "note": "fasting ≥ 6 h"}),
    }
}

/// Registers `study_id` at `site` with one event and its participant row (version 1).
pub async fn register(store: &Store, study_id: &str, site: &str) {
    store
        .append(
            study_id,
            0,
            &[event("Registered", 1)],
            &meta(),
            &[Projection::Participant(participant(study_id, site, 1))],
        )
        .await
        .expect("register");
}
