//! `her2ex`: the command-line entry point of the HER2-Ex PET trial system.
//!
//! Exit codes scripts can trust: 0 success, 1 a check failed or a rule refused,
//! 2 the command could not run (bad arguments, unreadable input, machine failure).

mod admin_cmd;
mod audit_cmd;
mod backup_cmd;
mod demo;
mod export_cmd;
mod import_cmd;
mod pet_cmd;
mod pull_cmd;
mod recist_cmd;
mod results_cmd;
mod serve_cmd;
mod settings_cmd;
mod simulate_cmd;
mod worker_cmd;

use std::path::{Path, PathBuf};

use clap::{Args, Parser, Subcommand};

/// The HER2-Ex PET trial: web application, DICOM receiver, PET quantification,
/// protocol rules, reports and exports.
#[derive(Parser)]
#[command(name = "her2ex", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Where the data lives; every command that touches the study's data takes these.
#[derive(Args, Clone, Debug)]
pub struct DataArgs {
    /// Data directory: the SQLite database and the stored files.
    #[arg(long, env = "HER2EX_DATA_DIR", default_value = "./her2ex-data")]
    pub data_dir: PathBuf,
    /// Database to use instead of the data directory's SQLite file: a SQLite path or
    /// `sqlite://…` URL, or a `postgres://…` URL.
    #[arg(long, env = "HER2EX_DATABASE")]
    pub database: Option<String>,
    /// The study's checkpoint signing key (Ed25519, created by `her2ex init`), kept
    /// outside the data directory so that write access to the database is not enough to
    /// rewrite the audit trail undetected. Default: `<data-dir>-keys/checkpoint.key`
    /// beside the data directory; its public half is `<key-file>.pub`.
    #[arg(long, env = "HER2EX_KEY_FILE")]
    pub key_file: Option<PathBuf>,
    /// Sign a checkpoint of the audit trail every this many events (when the key file is
    /// readable).
    #[arg(long, env = "HER2EX_CHECKPOINT_EVERY", default_value_t = 1000)]
    pub checkpoint_every: u64,
}

impl DataArgs {
    /// Opens the store these arguments name (creating and migrating it when new).
    pub async fn open(&self) -> anyhow::Result<store::Store> {
        use anyhow::Context;
        std::fs::create_dir_all(&self.data_dir)
            .with_context(|| format!("creating data directory {}", self.data_dir.display()))?;
        let store = match &self.database {
            Some(url) => store::Store::open(url).await,
            None => store::Store::open_data_dir(&self.data_dir).await,
        };
        let store = store.context("opening the database")?;
        let key_path = self.key_path();
        if !key_path.exists() {
            return Ok(store);
        }
        // A process that cannot read the key (an operator's account) still works; it
        // only leaves the signing to the server.
        match store::checkpoint::CheckpointKey::load_file(&key_path) {
            Ok(key) => Ok(store.with_checkpoints(key, self.checkpoint_every)),
            Err(e) => {
                tracing::warn!(error = %e, "checkpoints will not be signed by this process");
                Ok(store)
            }
        }
    }

    /// Opens the DICOM archive of the data directory with its index in `store` (see
    /// `archive::catalog`), from async code: the archive blocks on the database, so it is
    /// opened on a blocking thread.
    pub async fn open_archive(&self, store: &store::Store) -> anyhow::Result<archive::Archive> {
        let (data_dir, store) = (self.data_dir.clone(), store.clone());
        let runtime = tokio::runtime::Handle::current();
        tokio::task::spawn_blocking(move || open_archive(&data_dir, store, runtime))
            .await
            .map_err(|e| anyhow::anyhow!("opening the DICOM archive: {e}"))?
    }

    /// For a command that blocks on its own thread (an import, the pull, like the DICOM
    /// receiver): a runtime of one worker for the database, the store, and the archive
    /// with its index in that store, whose queries the runtime answers.
    pub fn open_blocking(
        &self,
    ) -> anyhow::Result<(tokio::runtime::Runtime, store::Store, archive::Archive)> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()?;
        let store = rt.block_on(self.open())?;
        let archive = open_archive(&self.data_dir, store.clone(), rt.handle().clone())?;
        Ok((rt, store, archive))
    }

    /// Creates the checkpoint key at [`DataArgs::key_path`] unless one is there (a key is
    /// never replaced: that would orphan every checkpoint signed with it).
    pub fn create_key_if_missing(&self) -> anyhow::Result<()> {
        let key_path = self.key_path();
        if key_path.exists() {
            return Ok(());
        }
        use anyhow::Context as _;
        let key = store::checkpoint::CheckpointKey::create_file(&key_path)
            .context("creating the checkpoint key")?;
        println!(
            "checkpoint key {} created at {} (owner-only; keep it off the database server's \
             backups and give the sponsor its .pub)",
            key.public().key_id(),
            key_path.display()
        );
        Ok(())
    }

    /// The checkpoint key file these arguments name (see `key_file`).
    pub fn key_path(&self) -> PathBuf {
        match &self.key_file {
            Some(path) => path.clone(),
            None => default_key_path(&self.data_dir),
        }
    }

    /// The study's public checkpoint key: `<key-file>.pub`, or derived from the key file
    /// when only that is there. `None` when neither exists.
    pub fn public_key(&self) -> anyhow::Result<Option<store::checkpoint::PublicKey>> {
        use anyhow::Context;
        let key_path = self.key_path();
        let public_path = store::checkpoint::public_key_path(&key_path);
        if public_path.exists() {
            let key = store::checkpoint::PublicKey::load_file(&public_path)
                .context("reading the public checkpoint key")?;
            return Ok(Some(key));
        }
        if key_path.exists() {
            let key = store::checkpoint::CheckpointKey::load_file(&key_path)
                .context("reading the checkpoint key")?;
            return Ok(Some(key.public()));
        }
        Ok(None)
    }
}

/// `<parent>/<name>-keys/checkpoint.key` for the data directory `<parent>/<name>`: beside
/// the data directory, never in it, so a copy of the data directory (or access to it)
/// does not carry the key.
fn default_key_path(data_dir: &Path) -> PathBuf {
    let name = data_dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "her2ex".to_owned());
    data_dir
        .parent()
        .unwrap_or(Path::new("."))
        .join(format!("{name}-keys"))
        .join("checkpoint.key")
}

/// The exit code of a use case's failure: 1 when a rule or a check said no, 2 when the
/// command could not run.
pub fn exit_code(e: &trial::Error) -> u8 {
    match e {
        trial::Error::Internal { .. } => 2,
        _ => 1,
    }
}

#[derive(Subcommand)]
enum Command {
    /// Create the data directory and database, and the first administrator.
    Init(admin_cmd::InitArgs),
    /// Serve the web application and the JSON API.
    Serve(serve_cmd::ServeArgs),
    /// Do the imaging jobs (quantifications asked for in the application) beside the
    /// server; on PostgreSQL several workers share the queue.
    Worker(worker_cmd::WorkerArgs),
    /// Build demonstration data (sites, users, participants in several states), then serve it.
    Demo(demo::DemoArgs),
    /// Manage trial sites.
    #[command(subcommand)]
    Site(admin_cmd::SiteCommand),
    /// Manage user accounts.
    #[command(subcommand)]
    User(admin_cmd::UserCommand),
    /// Check the audit trail.
    #[command(subcommand)]
    Audit(audit_cmd::AuditCommand),
    /// Export the study's data for other tools (CDISC ODM 1.3.2, SDTM-like CSV), as of a
    /// data cut-off; every export is recorded in the audit trail.
    #[command(subcommand)]
    Export(export_cmd::ExportCommand),
    /// Make a consistent copy of the database, the DICOM archive and the latest signed
    /// checkpoint while the server runs.
    Backup(backup_cmd::BackupArgs),
    /// Restore a backup into a new data directory, after checking its audit trail.
    Restore(backup_cmd::RestoreArgs),
    /// Show or change the versioned protocol settings.
    #[command(subcommand)]
    Settings(settings_cmd::SettingsCommand),
    /// PET imaging: inspect, quantify, make phantoms.
    Pet(pet_cmd::PetArgs),
    /// Fetch the participants' PET series from a site's Orthanc (its REST API) into the
    /// archive: once to the end of its change log (--once), or polling until stopped;
    /// a restart resumes where the last pull stopped.
    Pull(pull_cmd::PullArgs),
    /// RECIST 1.1 calculator for readers and statisticians.
    Recist(recist_cmd::RecistArgs),
    /// The study's analyses as of a data cut-off: a summary, or every number with
    /// `--json` (statistician, study director).
    Analyse(results_cmd::AnalyseArgs),
    /// Write the self-contained HTML study report as of a data cut-off (statistician,
    /// study director).
    Report(results_cmd::ReportArgs),
    /// Operating characteristics of the study from virtual trials under stated
    /// assumptions: ROC area and its CI width, power, sensitivity/specificity, kappa,
    /// log-rank power and arm sizes against n (study director, statistician).
    Simulate(simulate_cmd::SimulateArgs),
}

/// Opens the DICOM archive in `data_dir` with its index in `store`, whose queries run on
/// `runtime`. Blocks: call it from a plain thread or a blocking task.
pub(crate) fn open_archive(
    data_dir: &std::path::Path,
    store: store::Store,
    runtime: tokio::runtime::Handle,
) -> anyhow::Result<archive::Archive> {
    use anyhow::Context;
    let catalog = archive::Catalog::new(store, runtime).context("opening the DICOM archive")?;
    archive::Archive::open_with_catalog(data_dir, catalog)
        .with_context(|| format!("opening the DICOM archive in {}", data_dir.display()))
}

/// Runs an async command on a fresh runtime.
fn block_on(f: impl std::future::Future<Output = anyhow::Result<u8>>) -> anyhow::Result<u8> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(f)
}

/// Whether a panic is the standard library's "failed printing to stdout" for an output
/// whose reader has gone (`her2ex pet inspect DIR --json | head`).
fn is_closed_pipe(message: &str) -> bool {
    message.starts_with("failed printing to std") && message.contains("Broken pipe")
}

/// A reader that stops reading (`| head`) ends the command quietly, as other command-line
/// tools do, instead of a panic message: it has what it asked for. Every other panic is
/// reported as before.
fn quiet_on_closed_pipe() {
    let report = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if info.payload_as_str().is_some_and(is_closed_pipe) {
            std::process::exit(0);
        }
        report(info);
    }));
}

fn main() -> std::process::ExitCode {
    // Everything this process creates (database, WAL, DICOM files, keys, backups) is the
    // owner's alone: health data and the signing key are not for other local accounts.
    rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o077));
    quiet_on_closed_pipe();
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("HER2EX_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let result = match cli.command {
        Command::Pet(args) => pet_cmd::run(args),
        Command::Pull(a) => pull_cmd::run(a),
        Command::Recist(args) => recist_cmd::run(args),
        Command::Analyse(a) => block_on(results_cmd::analyse(a)),
        Command::Report(a) => block_on(results_cmd::report(a)),
        Command::Init(a) => block_on(admin_cmd::init(a)),
        Command::Serve(a) => block_on(serve_cmd::serve(a)),
        Command::Demo(a) => block_on(demo::run(a)),
        Command::Worker(a) => block_on(worker_cmd::run(a)),
        Command::Site(c) => block_on(admin_cmd::site(c)),
        Command::User(c) => block_on(admin_cmd::user(c)),
        Command::Audit(c) => block_on(audit_cmd::run(c)),
        Command::Export(c) => block_on(export_cmd::run(c)),
        Command::Backup(a) => block_on(backup_cmd::backup(a)),
        Command::Restore(a) => block_on(backup_cmd::restore(a)),
        Command::Settings(c) => block_on(settings_cmd::run(c)),
        Command::Simulate(a) => simulate_cmd::run(a),
    };
    match result {
        Ok(code) => std::process::ExitCode::from(code),
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::ExitCode::from(2)
        }
    }
}
