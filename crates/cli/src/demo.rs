//! `her2ex demo`: the demo study (`trial::demo`: a whole simulated HER2-Ex trial entered
//! through the write path), built once in the data directory, then served.

use std::io::Write;
use std::time::Instant;

use chrono::{DateTime, Utc};
use clap::Args;
use trial::Trial;
use trial::demo::{DEFAULT_SEED, DEMO_PASSWORD, Progress, SITES, USERS};

use crate::serve_cmd::{self, ServeArgs};

/// Arguments of `her2ex demo`.
#[derive(Args)]
pub struct DemoArgs {
    #[command(flatten)]
    serve: ServeArgs,
    /// Only build the data; do not serve.
    #[arg(long)]
    no_serve: bool,
    /// Seed of the simulated trial: the same seed gives the same participants, entries
    /// and analysis numbers (all dates move with the day the demo is built).
    #[arg(long, default_value_t = DEFAULT_SEED)]
    seed: u64,
    /// Women enrolled (the screen failures come on top); 700 makes a good load test. At
    /// most 1000, so that no site needs more than the three digits of a study id.
    #[arg(long, default_value_t = 70, value_parser = clap::value_parser!(u32).range(1..=1000))]
    participants: u32,
    /// Build the demo as if now were this instant (RFC 3339), for data that are the same
    /// byte for byte whenever they are built.
    #[arg(long, hide = true)]
    built_at: Option<DateTime<Utc>>,
}

/// The DICOM sender the demo allows when none is configured: `storescu` on this machine,
/// storing for KS.
pub const DEMO_SENDER: &str = "STORESCU@127.0.0.1=KS";

/// Prints the demo's progress on one line, a tenth at a time.
fn printer() -> impl FnMut(Progress) {
    let started = Instant::now();
    let mut shown = 0;
    move |p| match p {
        Progress::Planned {
            people,
            steps,
            pets,
        } => println!(
            "  {people} women screened, {steps} entries to make, {pets} HER2-PET exams to simulate"
        ),
        Progress::Entered {
            done,
            steps,
            pets,
            all_pets,
        } => {
            let tenth = done * 10 / steps.max(1);
            if tenth > shown {
                shown = tenth;
                print!(
                    "\r  {:>3} % entered ({done}/{steps}), PET exams {pets}/{all_pets}, {:.0} s",
                    tenth * 10,
                    started.elapsed().as_secs_f64()
                );
                if tenth == 10 {
                    println!();
                }
                let _ = std::io::stdout().flush();
            }
        }
    }
}

/// Runs `her2ex demo`.
pub async fn run(mut a: DemoArgs) -> anyhow::Result<u8> {
    // The demo's audit trail is anchored like a real study's: a checkpoint key beside the
    // data directory, created once.
    a.serve.data.create_key_if_missing()?;
    // A scanner simulator on this machine (dcmtk's `storescu` calls as STORESCU) may send
    // to the demo's receiver as Karolinska's scanner, unless senders are given.
    if a.serve.dicom_senders.is_empty() {
        a.serve.dicom_senders.push(DEMO_SENDER.to_owned());
    }
    let store = a.serve.data.open().await?;
    let archive = std::sync::Arc::new(a.serve.data.open_archive(&store).await?);
    let present = a
        .built_at
        .unwrap_or_else(|| Trial::new(store.clone()).now());
    let clock = std::sync::Arc::new(trial::FixedClock::new(present));
    let state = Trial::open(store.clone())
        .await
        .map_err(|e| anyhow::anyhow!("{}", e.explain()))?
        .with_archive(archive.clone())
        .with_clock(clock.clone());
    if store.site("KS").await?.is_some() {
        println!(
            "demo data already present in {}; using it",
            a.serve.data.data_dir.display()
        );
    } else {
        println!(
            "building the demo trial (seed {}, {} enrolled) in {} …",
            a.seed,
            a.participants,
            a.serve.data.data_dir.display()
        );
        let started = Instant::now();
        trial::demo::build(&state, &clock, a.seed, a.participants, &mut printer()).await?;
        let participants = store.participants(None).await?;
        println!(
            "demo data built in {:.1} s: {} sites, {} users, {} participants",
            started.elapsed().as_secs_f64(),
            SITES.len(),
            USERS.len(),
            participants.len()
        );
    }
    // The demo's images are indexed before the server opens the archive again.
    let built = archive.clone();
    tokio::task::spawn_blocking(move || built.flush_index())
        .await
        .map_err(|e| anyhow::anyhow!("writing the DICOM archive's index: {e}"))??;
    println!("\nDemo sign-ins (password for all: {DEMO_PASSWORD}):");
    for (username, name, role, site) in USERS {
        println!(
            "  {username:<16} {:<24} {:<5} {name}",
            role.label(),
            site.unwrap_or("all")
        );
    }
    if a.no_serve {
        return Ok(0);
    }
    println!();
    serve_cmd::serve_store(store, &a.serve).await
}
