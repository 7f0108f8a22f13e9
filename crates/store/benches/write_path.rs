//! What the audit trail costs: the audited write path against plain SQLite inserts.
//!
//! Each participant is registered, consented and screened: three commands, six events,
//! each command one transaction that also upserts the participant's read row (a ~2 KB
//! snapshot). The audited path is `Store::append` (version check, hash chain, chain head,
//! projection). The plain path writes the same rows with the same durability (WAL,
//! `synchronous=FULL`) and one transaction per command, but with no version check and no
//! hash. Both run on SQLite files in the system temporary directory (set `TMPDIR` to
//! measure another disk).
//!
//! Criterion measures both per participant; at the end a side-by-side run of
//! `HER2EX_BENCH_PARTICIPANTS` participants (default 500) through each path, interleaved
//! participant by participant, prints the rates and their ratio. The goal: the audited
//! path at ≥ 50 % of the plain rate.
//!
//! Last, the same commands from `HER2EX_BENCH_WRITERS` concurrent writers (default 32)
//! on a fresh store: the rate, and how group commit shared the transactions
//! ([`Store::commit_stats`]), against the one-writer rate above.

use std::str::FromStr;
use std::time::{Duration, Instant};

use chrono::Utc;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use serde_json::{Value, json};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqliteSynchronous};
use store::{EventMeta, NewEvent, ParticipantRow, Projection, Store};

/// Commands (transactions) per participant.
const COMMANDS: u64 = 3;

/// One command: the events it records and the participant row it leaves.
struct Command {
    events: Vec<NewEvent>,
    row: ParticipantRow,
}

/// The three commands that register, consent and screen participant `n`.
fn participant_commands(n: u64) -> (String, Vec<Command>) {
    let site = format!("SE{:02}", n % 7 + 1);
    let study_id = format!("{site}-{n:05}");
    let registered = json!({
        "study_id": study_id, "site": site, "birth_year": 1950 + n % 40, "sex": "female",
        "diagnosis": {"primary": "breast carcinoma", "her2_status_at_diagnosis": "1+",
                      "metastatic_since": "2025-06-01", "sites": ["liver", "bone", "lymph node"]},
        "prior_lines": n % 4, "referring_clinic": "Onkologkliniken, Akademiska sjukhuset",
        "registered_by": "nurse.anna", "notes": "Referred after multidisciplinary conference.",
    });
    let consent = json!({
        "study_id": study_id, "form_version": "2.1", "language": "sv", "signed_on": "2026-03-02",
        "signed_by_participant": true, "investigator": "dr.berg", "witness": null,
        "copy_given": true, "questions_answered": true,
        "notes": "Participant read the information sheet at home; no questions remained.",
        "information_sheet": {"version": "2.1", "date": "2026-01-15", "pages": 9},
    });
    let optional = json!({
        "study_id": study_id, "biobank": true, "future_research": !n.is_multiple_of(3),
        "recontact": true, "form_version": "2.1",
        "sample_types": ["archival tissue", "fresh biopsy", "plasma", "serum"],
        "notes": "Agreed to storage in the regional biobank for up to 15 years.",
    });
    let criteria: Vec<Value> = (1..=12)
        .map(|i| json!({"rule": format!("IN{i}"), "met": true, "source": "medical record"}))
        .collect();
    let eligibility = json!({"study_id": study_id, "criteria": criteria, "assessed_by": "dr.berg"});
    let labs = json!({
        "study_id": study_id, "sampled_on": "2026-03-05",
        "values": {
            "anc": {"value": 3.1, "unit": "10^9/L"}, "platelets": {"value": 212, "unit": "10^9/L"},
            "hb": {"value": 118, "unit": "g/L"}, "creatinine": {"value": 71, "unit": "umol/L"},
            "bilirubin": {"value": 9, "unit": "umol/L"}, "alt": {"value": 0.6, "unit": "ukat/L"},
            "aptt": {"value": 31, "unit": "s"}, "inr": {"value": 1.0, "unit": "1"},
        },
    });
    let screened = json!({
        "study_id": study_id, "outcome": "eligible", "completed_on": "2026-03-06",
        "reviewed_by": "dr.berg", "labs_within_window": true, "archival_biopsy_age_days": 212,
        "baseline_ct": {"performed_on": "2026-02-27", "target_lesions": 3, "sum_mm": 87},
        "ecog": 1, "lvef_percent": 61,
        "notes": "All inclusion criteria met; no exclusion criteria. Booked for HER2-PET.",
    });

    let plan: [(&str, Vec<(&str, Value)>); 3] = [
        ("Registered", vec![("ParticipantRegistered", registered)]),
        (
            "Consented",
            vec![
                ("ConsentRecorded", consent),
                ("OptionalConsentRecorded", optional),
            ],
        ),
        (
            "Screened",
            vec![
                ("EligibilityAssessed", eligibility),
                ("ScreeningLabsRecorded", labs),
                ("ScreeningCompleted", screened),
            ],
        ),
    ];
    let mut version = 0;
    let commands = plan
        .into_iter()
        .map(|(state, events)| {
            version += events.len() as i64;
            Command {
                row: ParticipantRow {
                    study_id: study_id.clone(),
                    site: site.clone(),
                    state: state.into(),
                    version,
                    snapshot: snapshot(&study_id, state, version),
                    updated_at: Utc::now(),
                },
                events: events
                    .into_iter()
                    .map(|(kind, payload)| NewEvent {
                        kind: kind.into(),
                        payload,
                    })
                    .collect(),
            }
        })
        .collect();
    (study_id, commands)
}

/// A folded participant state of about 2 KB.
fn snapshot(study_id: &str, state: &str, version: i64) -> Value {
    let visits: Vec<Value> = (1..=20)
        .map(|i| {
            json!({"visit": format!("V{i}"), "window_days": [-3, 3], "due": null,
                   "done": false, "forms": ["vitals", "ae", "conmed"]})
        })
        .collect();
    json!({"study_id": study_id, "state": state, "version": version, "schedule": visits,
           "flags": {"deviation_open": false, "query_open": false}})
}

fn meta() -> EventMeta {
    EventMeta {
        actor: "nurse.anna".into(),
        role: "site_nurse".into(),
        site: Some("SE01".into()),
        recorded_at: Utc::now(),
        reason: None,
    }
}

/// Registers, consents and screens participant `n` through the audited path.
async fn audited(store: &Store, n: u64) {
    let (study_id, commands) = participant_commands(n);
    let mut version = 0;
    for c in commands {
        let appended = store
            .append(
                &study_id,
                version,
                &c.events,
                &meta(),
                &[Projection::Participant(c.row)],
            )
            .await
            .expect("audited append");
        version = appended.stream_version;
    }
}

/// The same rows without the audit: no version check, no hash, no chain head.
async fn plain(pool: &SqlitePool, n: u64) {
    let (study_id, commands) = participant_commands(n);
    let m = meta();
    for c in commands {
        let mut tx = pool.begin().await.expect("begin");
        let first_version = c.row.version - c.events.len() as i64 + 1;
        for (i, e) in c.events.iter().enumerate() {
            sqlx::query(
                "INSERT INTO events (stream, version, kind, payload, actor, role, site, \
                 recorded_at, reason) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(&study_id)
            .bind(first_version + i as i64)
            .bind(&e.kind)
            .bind(e.payload.to_string())
            .bind(&m.actor)
            .bind(&m.role)
            .bind(&m.site)
            .bind(m.recorded_at.to_rfc3339())
            .bind(&m.reason)
            .execute(&mut *tx)
            .await
            .expect("insert event");
        }
        sqlx::query(
            "INSERT INTO participants (study_id, site, state, version, snapshot, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (study_id) DO UPDATE SET \
             site = excluded.site, state = excluded.state, version = excluded.version, \
             snapshot = excluded.snapshot, updated_at = excluded.updated_at",
        )
        .bind(&c.row.study_id)
        .bind(&c.row.site)
        .bind(&c.row.state)
        .bind(c.row.version)
        .bind(c.row.snapshot.to_string())
        .bind(c.row.updated_at.to_rfc3339())
        .execute(&mut *tx)
        .await
        .expect("upsert participant");
        tx.commit().await.expect("commit");
    }
}

async fn plain_pool(path: &std::path::Path) -> SqlitePool {
    let options = SqliteConnectOptions::from_str("sqlite:")
        .expect("options")
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .busy_timeout(Duration::from_secs(5));
    let pool = SqlitePool::connect_with(options)
        .await
        .expect("open plain db");
    sqlx::raw_sql(
        "CREATE TABLE events (seq INTEGER PRIMARY KEY, stream TEXT NOT NULL, \
         version INTEGER NOT NULL, kind TEXT NOT NULL, payload TEXT NOT NULL, \
         actor TEXT NOT NULL, role TEXT NOT NULL, site TEXT, recorded_at TEXT NOT NULL, \
         reason TEXT, UNIQUE (stream, version));
         CREATE TABLE participants (study_id TEXT PRIMARY KEY, site TEXT NOT NULL, \
         state TEXT NOT NULL, version INTEGER NOT NULL, snapshot TEXT NOT NULL, \
         updated_at TEXT NOT NULL);
         CREATE INDEX participants_by_site ON participants (site, study_id);",
    )
    .execute(&pool)
    .await
    .expect("plain schema");
    pool
}

fn bench_write_path(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let dir = tempfile::tempdir().expect("temporary directory");
    let store = rt
        .block_on(Store::open_data_dir(&dir.path().join("audited")))
        .expect("open store");
    let pool = rt.block_on(plain_pool(&dir.path().join("plain.sqlite")));

    let mut group = c.benchmark_group("write_path");
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(8));
    group.throughput(Throughput::Elements(COMMANDS));

    let mut next = 0u64;
    group.bench_function("audited_append_per_participant", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    next += 1;
                    audited(&store, next).await;
                }
                start.elapsed()
            })
        })
    });
    let mut next = 0u64;
    group.bench_function("plain_sqlite_per_participant", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    next += 1;
                    plain(&pool, next).await;
                }
                start.elapsed()
            })
        })
    });
    group.finish();
    rt.block_on(store.close());
    rt.block_on(pool.close());

    let one_writer = side_by_side(&rt);
    concurrent_writers(one_writer);
}

/// Registers, consents and screens participants from many writers at once on a fresh
/// store (a multi-threaded runtime, as the server runs), and prints the rate and the
/// grouping beside `one_writer`'s rate (transactions a second).
fn concurrent_writers(one_writer: f64) {
    let writers: u64 = std::env::var("HER2EX_BENCH_WRITERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(32);
    let per_writer: u64 = std::env::var("HER2EX_BENCH_PARTICIPANTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(500u64)
        .div_ceil(writers)
        .max(1);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let dir = tempfile::tempdir().expect("temporary directory");
    let (elapsed, stats) = rt.block_on(async {
        let store = Store::open_data_dir(&dir.path().join("concurrent"))
            .await
            .expect("open store");
        let start = Instant::now();
        let tasks: Vec<_> = (0..writers)
            .map(|w| {
                let store = store.clone();
                tokio::spawn(async move {
                    for i in 0..per_writer {
                        audited(&store, w * per_writer + i + 1).await;
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.expect("writer");
        }
        let elapsed = start.elapsed();
        let report = store.verify_chain().await.expect("verify");
        assert!(report.is_intact() && report.events_checked == 6 * writers * per_writer);
        let stats = store.commit_stats();
        store.close().await;
        (elapsed, stats)
    });
    let rate = (writers * per_writer * COMMANDS) as f64 / elapsed.as_secs_f64();
    println!(
        "{writers} concurrent writers, {} participants ({} transactions asked for):\n  \
         audited Store::append: {rate:>8.1} tx/s ({elapsed:.2?}), {:.1} x one writer\n  \
         group commit: {} writes in {} transactions (largest group {})",
        writers * per_writer,
        writers * per_writer * COMMANDS,
        rate / one_writer,
        stats.writes,
        stats.transactions,
        stats.largest_group,
    );
}

/// Fresh databases, N participants through each path, rates and their ratio printed;
/// returns the audited rate (transactions a second).
fn side_by_side(rt: &tokio::runtime::Runtime) -> f64 {
    let n: u64 = std::env::var("HER2EX_BENCH_PARTICIPANTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(500);
    let dir = tempfile::tempdir().expect("temporary directory");
    let (audited_time, plain_time) = rt.block_on(async {
        let store = Store::open_data_dir(&dir.path().join("audited"))
            .await
            .expect("open store");
        let pool = plain_pool(&dir.path().join("plain.sqlite")).await;
        // Interleaved, so both paths see the same disk and the same neighbours.
        let (mut audited_time, mut plain_time) = (Duration::ZERO, Duration::ZERO);
        for i in 1..=n {
            let start = Instant::now();
            audited(&store, i).await;
            audited_time += start.elapsed();
            let start = Instant::now();
            plain(&pool, i).await;
            plain_time += start.elapsed();
        }
        let report = store.verify_chain().await.expect("verify");
        assert!(report.is_intact() && report.events_checked == 6 * n);
        store.close().await;
        pool.close().await;
        (audited_time, plain_time)
    });
    let sizes: Vec<String> = participant_commands(1)
        .1
        .into_iter()
        .flat_map(|c| c.events)
        .map(|e| format!("{} {} B", e.kind, e.payload.to_string().len()))
        .collect();
    let snapshot_bytes = snapshot("SE01-00001", "Screened", 6).to_string().len();
    println!(
        "payloads: {}; snapshot {snapshot_bytes} B",
        sizes.join(", ")
    );
    let rate = |t: Duration| (n * COMMANDS) as f64 / t.as_secs_f64();
    let (a, p) = (rate(audited_time), rate(plain_time));
    println!(
        "side by side, {n} participants ({} transactions, {} events) per path:\n  \
         audited Store::append: {:>8.1} tx/s ({:.2?})\n  \
         plain SQLite inserts:  {:>8.1} tx/s ({:.2?})\n  \
         audited / plain = {:.0} % (goal >= 50 %)",
        n * COMMANDS,
        n * 6,
        a,
        audited_time,
        p,
        plain_time,
        100.0 * a / p
    );
    a
}

criterion_group!(benches, bench_write_path);
criterion_main!(benches);
