//! What the list pages cost at study scale: the participant list and the open visits.
//!
//! Fills a database with `HER2EX_BENCH_READ_PARTICIPANTS` participants (default 10 000),
//! each with `HER2EX_BENCH_EVENTS` events (default 100: a million events in all), a
//! participant row with a ~2 KB snapshot, and 20 visit rows, loaded through
//! [`Store::append_batch`] a hundred participants per transaction. Enrolment is spread
//! over the 540 days before "today"; each participant's visits come every 20 days from
//! enrolment, and those whose window has closed are kept as skipped optional visits,
//! except every fiftieth, which is a required one now overdue. So the visits table holds
//! all three parts of the list and as many closed rows for the list to pass over.
//!
//! Criterion measures the first page (50 rows) of each list; then each request below runs
//! `HER2EX_BENCH_REQUESTS` times (default 1000) and its p50, p99 and maximum are printed.
//! The goal: p99 < 50 ms per request.
//!
//! The database is SQLite in a temporary directory, or `HER2EX_BENCH_DATABASE` (a SQLite
//! path or a `postgres://` URL): an empty database there is filled, one already filled
//! with the same number of participants is reused as it is.

use std::time::{Duration, Instant};

use chrono::{Days, NaiveDate, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::{Value, json};
use store::{
    EventMeta, NewEvent, ParticipantQuery, ParticipantRow, Projection, Store, StreamAppend,
    VisitQuery, VisitRow,
};

/// Sites of the study; participants are dealt to them in turn.
const SITES: [&str; 8] = ["KS", "SU", "SUS", "AS", "LIN", "NUS", "OUH", "HUS"];
/// States a participant row can be in, dealt in turn.
const STATES: [&str; 6] = [
    "Screening",
    "Consented",
    "Enrolled",
    "OnTreatment",
    "FollowUp",
    "Completed",
];
/// Visit rows per participant.
const VISITS: u64 = 20;
/// Participants per batch append.
const BATCH: u64 = 100;

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The day the lists are judged on.
fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 6, 1).expect("valid date")
}

fn study_id(n: u64) -> String {
    format!("{}-{n:05}", SITES[(n % SITES.len() as u64) as usize])
}

/// Participant `n`'s visits: every 20 days from enrolment, windows of ±3 days.
fn visits(n: u64) -> Vec<VisitRow> {
    let id = study_id(n);
    let enrolled = today() - Days::new(n * 7919 % 540);
    (0..VISITS)
        .map(|i| {
            let centre = enrolled + Days::new(i * 20);
            let (earliest, latest) = (centre - Days::new(3), centre + Days::new(3));
            // A closed window is a skipped optional visit, or (one in fifty) overdue.
            let required = latest >= today() || (n + i).is_multiple_of(50);
            VisitRow {
                study_id: id.clone(),
                site: SITES[(n % SITES.len() as u64) as usize].into(),
                kind: format!("V{i:02}"),
                earliest,
                latest,
                required,
                detail: json!({"label": format!("Visit {i}"), "forms": ["vitals", "ae", "conmed"],
                               "pet": i % 5 == 0}),
            }
        })
        .collect()
}

/// A folded participant state of about 2 KB.
fn snapshot(id: &str, state: &str) -> Value {
    let schedule: Vec<Value> = (1..=20)
        .map(|i| {
            json!({"visit": format!("V{i}"), "window_days": [-3, 3], "done": false,
                        "forms": ["vitals", "ae", "conmed"]})
        })
        .collect();
    json!({"study_id": id, "state": state, "schedule": schedule,
           "flags": {"deviation_open": false, "query_open": false}})
}

/// Participant `n`'s whole history as one batch part.
fn history(n: u64, events: u64) -> StreamAppend {
    let id = study_id(n);
    let state = STATES[(n % STATES.len() as u64) as usize];
    StreamAppend {
        stream: id.clone(),
        expected_version: 0,
        events: (1..=events)
            .map(|e| NewEvent {
                kind: "FormSaved".into(),
                payload: json!({"study_id": id, "form": format!("F{e}"), "n": e,
                                "values": {"weight_kg": 71.5, "ecog": 1, "note": "no change"}}),
            })
            .collect(),
        meta: EventMeta {
            actor: "import".into(),
            role: "system".into(),
            site: None,
            recorded_at: Utc::now(),
            reason: Some("bench load".into()),
        },
        projections: vec![
            Projection::Participant(ParticipantRow {
                study_id: id.clone(),
                site: SITES[(n % SITES.len() as u64) as usize].into(),
                state: state.into(),
                version: events as i64,
                snapshot: snapshot(&id, state),
                updated_at: Utc::now(),
            }),
            Projection::Visits {
                study_id: id,
                rows: visits(n),
            },
        ],
    }
}

/// Fills the store with `participants` participants, unless it already holds them.
async fn fill(store: &Store, participants: u64, events: u64) {
    let have = store
        .participants_page(&ParticipantQuery::default())
        .await
        .expect("count")
        .1;
    if have == participants {
        println!("reusing the {have} participants already in the database");
        return;
    }
    assert_eq!(have, 0, "the bench database holds {have} participants");
    let start = Instant::now();
    for first in (0..participants).step_by(BATCH as usize) {
        let batch: Vec<StreamAppend> = (first..participants.min(first + BATCH))
            .map(|n| history(n, events))
            .collect();
        store.append_batch(&batch).await.expect("batch append");
    }
    println!(
        "filled {participants} participants, {} events, {} visit rows in {:.1?}",
        participants * events,
        participants * VISITS,
        start.elapsed()
    );
}

/// One list request the pages make.
enum Request {
    Participants(ParticipantQuery),
    Visits(VisitQuery),
}

impl Request {
    async fn run(&self, store: &Store) -> usize {
        match self {
            Request::Participants(q) => store.participants_page(q).await.expect("page").0.len(),
            Request::Visits(q) => store.open_visits(q).await.expect("visits").0.len(),
        }
    }
}

fn participants(
    site: Option<&str>,
    state: Option<&str>,
    search: Option<&str>,
    offset: u32,
) -> Request {
    Request::Participants(ParticipantQuery {
        site: site.map(String::from),
        state: state.map(String::from),
        search: search.map(String::from),
        limit: 50,
        offset,
    })
}

fn open_visits(site: Option<&str>, search: Option<&str>, offset: u32) -> Request {
    Request::Visits(VisitQuery {
        site: site.map(String::from),
        search: search.map(String::from),
        today: today(),
        limit: 50,
        offset,
    })
}

fn requests() -> Vec<(&'static str, Request)> {
    vec![
        ("participants, first 50", participants(None, None, None, 0)),
        (
            "participants, site",
            participants(Some("SUS"), None, None, 0),
        ),
        (
            "participants, site + state",
            participants(Some("SUS"), Some("Enrolled"), None, 0),
        ),
        (
            "participants, search \"12\"",
            participants(None, None, Some("12"), 0),
        ),
        (
            "participants, offset 5000",
            participants(None, None, None, 5000),
        ),
        ("open visits, first 50", open_visits(None, None, 0)),
        ("open visits, site", open_visits(Some("SUS"), None, 0)),
        (
            "open visits, search \"12\"",
            open_visits(None, Some("12"), 0),
        ),
        ("open visits, offset 2000", open_visits(None, None, 2000)),
    ]
}

fn bench_read_path(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let dir = tempfile::tempdir().expect("temporary directory");
    let url = std::env::var("HER2EX_BENCH_DATABASE")
        .unwrap_or_else(|_| dir.path().join("read.sqlite").display().to_string());
    let n = env_number("HER2EX_BENCH_READ_PARTICIPANTS", 10_000);
    let events = env_number("HER2EX_BENCH_EVENTS", 100).max(1);
    let store = rt.block_on(async {
        let store = Store::open(&url).await.expect("open store");
        fill(&store, n, events).await;
        store
    });
    let requests = requests();

    let mut group = c.benchmark_group("read_path");
    group.sample_size(50);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(3));
    for (name, request) in requests
        .iter()
        .filter(|(name, _)| name.ends_with("first 50"))
    {
        group.bench_function(*name, |b| {
            b.iter_custom(|iters| {
                rt.block_on(async {
                    let start = Instant::now();
                    for _ in 0..iters {
                        request.run(&store).await;
                    }
                    start.elapsed()
                })
            })
        });
    }
    group.finish();

    let runs = env_number("HER2EX_BENCH_REQUESTS", 1000).max(1) as usize;
    println!("{runs} requests each, {n} participants, today {}:", today());
    for (name, request) in &requests {
        let (times, rows) = rt.block_on(async {
            let rows = request.run(&store).await;
            let mut times = Vec::with_capacity(runs);
            for _ in 0..runs {
                let start = Instant::now();
                request.run(&store).await;
                times.push(start.elapsed());
            }
            (times, rows)
        });
        let (p50, p99, max) = percentiles(times);
        println!(
            "  {name:<28} {rows:>3} rows  p50 {:>7.2} ms  p99 {:>7.2} ms  max {:>7.2} ms",
            ms(p50),
            ms(p99),
            ms(max)
        );
    }
    rt.block_on(store.close());
}

/// p50, p99 and the maximum (nearest-rank percentiles).
fn percentiles(mut times: Vec<Duration>) -> (Duration, Duration, Duration) {
    times.sort();
    let rank = |p: usize| times[(times.len() * p).div_ceil(100).max(1) - 1];
    (rank(50), rank(99), times[times.len() - 1])
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

criterion_group!(benches, bench_read_path);
criterion_main!(benches);
