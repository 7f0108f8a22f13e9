//! `her2ex worker`: a process that does the imaging jobs (quantifications asked for in the
//! application) beside the server. `her2ex serve` runs one in its own process already;
//! more, on PostgreSQL, share the queue: each takes a different job.

use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use trial::jobs::{WorkerOptions, worker_name};

use crate::DataArgs;

/// Arguments of `her2ex worker`.
#[derive(Args, Clone)]
pub struct WorkerArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// Stop once no job is left, printing what was done (for scripts), instead of
    /// waiting for new ones until Ctrl-C.
    #[arg(long)]
    pub until_idle: bool,
    /// Seconds a job is held between renewals; a worker that dies loses its jobs to the
    /// others after this long.
    #[arg(long, env = "HER2EX_JOB_LEASE_SECONDS", default_value_t = 60, value_parser = clap::value_parser!(u64).range(3..=3600))]
    pub lease_seconds: u64,
    /// Milliseconds between looks for new work when idle.
    #[arg(long, env = "HER2EX_JOB_POLL_MS", default_value_t = 1000, value_parser = clap::value_parser!(u64).range(10..=60_000))]
    pub poll_ms: u64,
    /// The worker's name in the job table (default: worker@HOST:PID:RANDOM).
    #[arg(long)]
    pub name: Option<String>,
}

/// Runs the worker.
pub async fn run(a: WorkerArgs) -> anyhow::Result<u8> {
    let store = a.data.open().await?;
    let archive = Arc::new(a.data.open_archive(&store).await?);
    let trial = trial::Trial::new(store).with_archive(archive);
    let opts = WorkerOptions {
        name: a.name.clone().unwrap_or_else(|| worker_name("worker")),
        lease: Duration::from_secs(a.lease_seconds),
        poll: Duration::from_millis(a.poll_ms),
    };
    if !a.until_idle {
        println!(
            "imaging worker {} waiting for jobs (stop with Ctrl-C)",
            opts.name
        );
        let stop = crate::serve_cmd::shutdown_signal()?;
        trial.run_worker(opts, stop).await;
        return Ok(0);
    }
    let (mut recorded, mut failed, mut other) = (0usize, 0usize, 0usize);
    while let Some(done) = trial
        .run_next_job(&opts)
        .await
        .map_err(|e| anyhow::anyhow!(e.explain()))?
    {
        let j = &done.job;
        let outcome = j.outcome.as_deref().unwrap_or("");
        println!(
            "job {} {} {}: {} {outcome}",
            j.id, j.study_id, j.timepoint, j.state
        );
        match (done.recorded, j.state.as_str()) {
            (true, _) => recorded += 1,
            (false, "failed") => failed += 1,
            _ => other += 1,
        }
    }
    println!("no job left: {recorded} recorded, {failed} failed, {other} found done already");
    Ok(u8::from(failed > 0))
}
