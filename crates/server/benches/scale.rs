//! Reads that scale: what the sites' lists and the participant page cost over HTTP in a
//! study of 10 000 participants with about a million events.
//!
//! The study ([`scale_data`]) is loaded into SQLite in `HER2EX_BENCH_DIR` (a temporary
//! directory when unset; a directory that already holds the study is reused; cargo runs
//! benches in `crates/server`, so give an absolute path), and into PostgreSQL at
//! `HER2EX_BENCH_POSTGRES_URL` when set (an empty database is filled, one holding the
//! study is reused). The server runs on 127.0.0.1 on a fixed clock, and two
//! users read it one request at a time: a monitor, who sees every site, and a research
//! nurse at KS (a tenth of the study). Each request below is sent 5 times to warm up and
//! then 200 times, timed from sending to the last byte of the answer:
//!
//! | request | what it shows |
//! |---|---|
//! | `GET /participants` | the participant list page (first page, 100 rows) |
//! | `GET /api/v1/participants` | the same as JSON |
//! | `GET /api/v1/participants?offset=…` | pages all over the list |
//! | `GET /participants/{id}` | one participant's page, a different one each time |
//! | `GET /visits` | the visit list page (overdue, due, upcoming) |
//! | `GET /api/v1/visits` | the same as JSON |
//!
//! The goal is p99 < 50 ms for each; the bench reports p50, p99 and the maximum and never
//! fails on a time. On the SQLite study it then times, in process, what the lists cost
//! before the read tables: the visit list folded from every visible participant's events,
//! and the participant list from every participant row with its snapshot.
//!
//! `cargo bench -p server --bench scale` runs it (bench/scale/run.sh runs it on both
//! databases). Without `--bench` (as `cargo test --all-targets` runs benches) it checks
//! itself on a study of 40 in a temporary directory, three requests each.

mod scale_data;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use protocol::journey::schedule::VisitState;
use protocol::journey::trial::visits;
use scale_data::{Error, MONITOR, NURSE, PASSWORD, Plan};
use serde_json::json;
use server::AppState;
use store::{ParticipantQuery, Store};
use trial::journey::SiteVisit;
use trial::participants::ParticipantSummary;
use trial::write::{decode_event, participant_stream};
use trial::{FixedClock, Trial};

/// How big a run is.
struct Config {
    participants: usize,
    warm_up: usize,
    requests: usize,
    old_path_runs: usize,
    data_dir: Option<PathBuf>,
    postgres: Option<String>,
}

impl Config {
    /// The benchmark under `cargo bench`; a quick self-check otherwise.
    fn from_env() -> Config {
        if std::env::args().any(|a| a == "--bench") {
            Config {
                participants: 10_000,
                warm_up: 5,
                requests: 200,
                old_path_runs: 10,
                data_dir: std::env::var_os("HER2EX_BENCH_DIR").map(PathBuf::from),
                postgres: std::env::var("HER2EX_BENCH_POSTGRES_URL").ok(),
            }
        } else {
            Config {
                participants: 40,
                warm_up: 1,
                requests: 3,
                old_path_runs: 1,
                data_dir: None,
                postgres: None,
            }
        }
    }
}

/// Participants per transaction while loading.
const BATCH: usize = 150;

fn main() -> Result<(), Error> {
    let config = Config::from_env();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(run(config))
}

async fn run(config: Config) -> Result<(), Error> {
    let plan = Arc::new(Plan::new(config.participants)?);
    let temp = tempfile::tempdir()?;
    let dir = config
        .data_dir
        .clone()
        .unwrap_or_else(|| temp.path().to_path_buf());
    let sqlite = Store::open_data_dir(&dir).await.map_err(|e| {
        format!(
            "{e} (a study cached by an older schema? remove {} and run again)",
            dir.display()
        )
    })?;
    println!("SQLite: data directory {}", dir.display());
    let mut timings = Vec::new();
    let trial = ready("SQLite", sqlite, &plan).await?;
    timings.extend(measure("SQLite", &trial, &plan, &config).await?);
    let old = old_paths(&trial, &config).await?;
    if let Some(url) = &config.postgres {
        let trial = ready("PostgreSQL", Store::open(url).await?, &plan).await?;
        timings.extend(measure("PostgreSQL", &trial, &plan, &config).await?);
    }
    print_timings(&timings);
    print_old_paths(&old);
    Ok(())
}

/// The application on `store` on the fixed clock, with the study loaded: reused when the
/// store holds it already, loaded when it is empty.
async fn ready(backend: &str, store: Store, plan: &Arc<Plan>) -> Result<Trial, Error> {
    let trial =
        Trial::new(store.clone()).with_clock(Arc::new(FixedClock::new(scale_data::today())));
    let count = ParticipantQuery {
        limit: 0,
        ..ParticipantQuery::default()
    };
    let (_, present) = store.participants_page(&count).await?;
    if present == plan.len() as u64 {
        let events = event_count(&store).await?;
        println!(
            "{backend}: reusing the study already loaded ({present} participants, {events} events)"
        );
        return Ok(trial);
    }
    if present != 0 {
        return Err(format!(
            "{backend}: the database holds {present} participants, not the {} of the study: \
             give an empty one",
            plan.len()
        )
        .into());
    }
    println!("{backend}: loading {} participants …", plan.len());
    scale_data::add_sites_and_users(&trial).await?;
    let report = scale_data::load(&store, plan.clone(), BATCH).await?;
    println!(
        "{backend}: loaded {} participants, {} events ({:.0} per participant) in {:.1} s: {:.0} events/s",
        report.participants,
        report.events,
        report.events as f64 / report.participants.max(1) as f64,
        report.seconds,
        report.events as f64 / report.seconds
    );
    let states: Vec<String> = report
        .states
        .iter()
        .map(|(state, n)| format!("{state} {n}"))
        .collect();
    println!("{backend}: participants by state: {}", states.join(", "));
    Ok(trial)
}

/// The number of events in the log: the last sequence number, found by bisection.
async fn event_count(store: &Store) -> Result<i64, Error> {
    let (mut known, mut beyond) = (0_i64, 1_i64);
    while !store.read_all(beyond - 1, 1).await?.is_empty() {
        known = beyond;
        beyond *= 2;
    }
    // Events exist up to `known` and none after `beyond - 1`.
    while beyond - known > 1 {
        let mid = known + (beyond - known) / 2;
        if store.read_all(mid - 1, 1).await?.is_empty() {
            beyond = mid;
        } else {
            known = mid;
        }
    }
    Ok(known)
}

/// The path of the `i`-th request of a kind.
type Path<'a> = Box<dyn Fn(usize) -> String + 'a>;

/// One request's times.
struct Timing {
    backend: &'static str,
    user: &'static str,
    request: &'static str,
    times: Vec<Duration>,
    bytes: usize,
}

/// Serves the application on 127.0.0.1 and times every request for both users.
async fn measure(
    backend: &'static str,
    trial: &Trial,
    plan: &Plan,
    config: &Config,
) -> Result<Vec<Timing>, Error> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let state = AppState::from_trial(trial.clone(), false);
    let server = tokio::spawn(server::serve_on(state, listener));
    let mut timings = Vec::new();
    for (user, username, site) in [
        ("monitor (all sites)", MONITOR, None),
        ("research nurse (KS)", NURSE, Some("KS")),
    ] {
        let client = sign_in(&base, username).await?;
        let ids = plan.study_ids(site);
        let pages = ids.len().div_ceil(100).max(1);
        let requests: [(&'static str, Path<'_>); 6] = [
            ("GET /participants", Box::new(|_| "/participants".into())),
            (
                "GET /api/v1/participants",
                Box::new(|_| "/api/v1/participants".into()),
            ),
            (
                "GET /api/v1/participants?offset=…",
                Box::new(move |i| format!("/api/v1/participants?offset={}", i * 37 % pages * 100)),
            ),
            (
                "GET /participants/{id}",
                Box::new(|i| format!("/participants/{}", ids[i * 7919 % ids.len()])),
            ),
            ("GET /visits", Box::new(|_| "/visits".into())),
            ("GET /api/v1/visits", Box::new(|_| "/api/v1/visits".into())),
        ];
        for (request, path) in requests {
            eprintln!("  {backend}, {user}: {request}");
            let mut timing = Timing {
                backend,
                user,
                request,
                times: Vec::with_capacity(config.requests),
                bytes: 0,
            };
            for i in 0..config.warm_up + config.requests {
                let (took, bytes) = get(&client, &base, &path(i)).await?;
                if i >= config.warm_up {
                    timing.times.push(took);
                    timing.bytes += bytes;
                }
            }
            timings.push(timing);
        }
    }
    server.abort();
    Ok(timings)
}

async fn sign_in(base: &str, username: &str) -> Result<reqwest::Client, Error> {
    let client = reqwest::Client::builder().cookie_store(true).build()?;
    let answer = client
        .post(format!("{base}/api/v1/session"))
        .json(&json!({"username": username, "password": PASSWORD}))
        .send()
        .await?;
    if !answer.status().is_success() {
        return Err(format!("signing in as {username}: {}", answer.status()).into());
    }
    Ok(client)
}

/// One GET: how long until the whole answer was read, and its size. Anything but 200 is
/// an error: a time of a failed request says nothing.
async fn get(client: &reqwest::Client, base: &str, path: &str) -> Result<(Duration, usize), Error> {
    let started = Instant::now();
    let answer = client.get(format!("{base}{path}")).send().await?;
    let status = answer.status();
    let body = answer.bytes().await?;
    let took = started.elapsed();
    if status != reqwest::StatusCode::OK {
        let text = String::from_utf8_lossy(&body[..body.len().min(300)]).into_owned();
        return Err(format!("GET {path}: {status}: {text}").into());
    }
    Ok((took, body.len()))
}

/// The `p`-th percentile (nearest rank) of sorted times, in ms.
fn percentile(sorted: &[Duration], p: usize) -> f64 {
    let rank = (sorted.len() * p).div_ceil(100).max(1);
    sorted[rank.min(sorted.len()) - 1].as_secs_f64() * 1000.0
}

fn print_timings(timings: &[Timing]) {
    println!();
    println!(
        "{:<10} {:<20} {:<34} {:>5} {:>8} {:>8} {:>8} {:>8}  p99<50ms",
        "backend", "user", "request", "n", "p50 ms", "p99 ms", "max ms", "KiB"
    );
    for t in timings {
        let mut sorted = t.times.clone();
        sorted.sort();
        let p99 = percentile(&sorted, 99);
        println!(
            "{:<10} {:<20} {:<34} {:>5} {:>8.2} {:>8.2} {:>8.2} {:>8.1}  {}",
            t.backend,
            t.user,
            t.request,
            sorted.len(),
            percentile(&sorted, 50),
            p99,
            percentile(&sorted, 100),
            t.bytes as f64 / sorted.len().max(1) as f64 / 1024.0,
            if p99 < 50.0 { "yes" } else { "NO" }
        );
    }
}

/// What one old code path cost.
struct OldPath {
    path: &'static str,
    scope: &'static str,
    rows: usize,
    times: Vec<Duration>,
}

/// Times, in process on the SQLite study, the lists as they were computed before the read
/// tables: (a) the visit list by folding every visible participant's events, (b) the
/// participant list from every visible participant row with its snapshot; each answer
/// serialised to JSON as the handler did.
async fn old_paths(trial: &Trial, config: &Config) -> Result<Vec<OldPath>, Error> {
    let mut out = Vec::new();
    for (scope, site) in [("all sites", None), ("KS", Some("KS"))] {
        let mut visits = OldPath {
            path: "visit list by folding every stream",
            scope,
            rows: 0,
            times: Vec::new(),
        };
        let mut list = OldPath {
            path: "participant list of all rows",
            scope,
            rows: 0,
            times: Vec::new(),
        };
        for run in 0..config.old_path_runs {
            eprintln!("  old paths, {scope}: run {}", run + 1);
            let started = Instant::now();
            visits.rows = visits_by_folding(trial, site).await?;
            visits.times.push(started.elapsed());
            let started = Instant::now();
            list.rows = list_of_all_rows(trial.store(), site).await?;
            list.times.push(started.elapsed());
        }
        out.extend([visits, list]);
    }
    Ok(out)
}

/// The visit list as it was computed per request before the visits table: every visible
/// participant's stream read and folded, her visits judged today, the open ones sorted.
async fn visits_by_folding(trial: &Trial, site: Option<&str>) -> Result<usize, Error> {
    let settings = trial.settings().await?;
    let today = trial.today();
    let mut out = Vec::new();
    for row in trial.store().participants(site).await? {
        let events = trial
            .store()
            .read_stream(&participant_stream(&row.study_id))
            .await?;
        let decoded = events
            .iter()
            .map(decode_event)
            .collect::<Result<Vec<_>, _>>()?;
        let p = protocol::fold(decoded.iter());
        for v in visits(&p, today, &settings) {
            if matches!(
                v.state,
                VisitState::Upcoming | VisitState::Due | VisitState::Overdue
            ) {
                out.push(SiteVisit {
                    study_id: row.study_id.clone(),
                    site: row.site.clone(),
                    visit: v,
                });
            }
        }
    }
    let rank = |s: &VisitState| match s {
        VisitState::Overdue => 0,
        VisitState::Due => 1,
        _ => 2,
    };
    out.sort_by(|a, b| {
        rank(&a.visit.state)
            .cmp(&rank(&b.visit.state))
            .then(
                a.visit
                    .expected
                    .window
                    .latest
                    .cmp(&b.visit.expected.window.latest),
            )
            .then(a.study_id.cmp(&b.study_id))
    });
    serde_json::to_vec(&out)?;
    Ok(out.len())
}

/// The participant list as it was before the paged list: every visible row with its
/// snapshot read, then summarised.
async fn list_of_all_rows(store: &Store, site: Option<&str>) -> Result<usize, Error> {
    let rows: Vec<ParticipantSummary> = store
        .participants(site)
        .await?
        .into_iter()
        .map(|r| ParticipantSummary {
            study_id: r.study_id,
            site: r.site,
            state: r.state,
            version: r.version,
            updated_at: r.updated_at,
        })
        .collect();
    serde_json::to_vec(&rows)?;
    Ok(rows.len())
}

fn print_old_paths(old: &[OldPath]) {
    println!();
    println!(
        "{:<44} {:<10} {:>6} {:>5} {:>9} {:>9}",
        "before the read tables (SQLite, in process)", "scope", "rows", "runs", "p50 ms", "max ms"
    );
    for o in old {
        let mut sorted = o.times.clone();
        sorted.sort();
        println!(
            "{:<44} {:<10} {:>6} {:>5} {:>9.1} {:>9.1}",
            o.path,
            o.scope,
            o.rows,
            sorted.len(),
            percentile(&sorted, 50),
            percentile(&sorted, 100)
        );
    }
}
