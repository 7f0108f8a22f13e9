//! `her2ex pull`: the participants' PET series fetched from a site's Orthanc (its REST
//! API) into the data directory's archive, the way the DICOM receiver of `her2ex serve`
//! would have stored them had the scanner sent them there (`archive::pull`).
//!
//! With `--once` it reads the peer's change log to its end, prints what it did and exits;
//! otherwise it polls every `--pull-every` seconds until Ctrl-C or SIGTERM. `her2ex serve
//! --pull-from URL` runs the same poll beside the web application.
//!
//! Every pass that fetched or refused something leaves a receipt per site in the audit
//! trail (`trial::receipts`, written as `system:pacs-pull`): the peer's name and address,
//! the range of its change log read, what became of the instances and what was passed
//! over. A pass that found nothing leaves none.
//!
//! Exit codes: 0 done, 1 some instance conflicts with a stored version or could not be
//! filed, 2 the pull could not run (peer unreachable, settings refused); the position is
//! then where the last fully handled change left it, so nothing is lost.

use std::time::{Duration, Instant};

use anyhow::Context as _;
use archive::pull::{OrthancPeer, Participants, PeerConfig, PullReport, pull};
use archive::{Archive, Receipt, Shutdown};
use protocol::{SiteCode, StudyId};

use crate::DataArgs;

/// How often a waiting poll looks at its stop flag.
const STOP_POLL: Duration = Duration::from_millis(100);

/// Arguments of `her2ex pull`.
#[derive(clap::Args)]
pub struct PullArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// Address of the Orthanc peer's REST API, e.g. http://127.0.0.1:8042.
    #[arg(long, env = "HER2EX_PEER_URL")]
    pub peer_url: String,
    #[command(flatten)]
    pub peer: PeerArgs,
    /// Read the peer's change log to its end once, print the summary and exit.
    #[arg(long)]
    pub once: bool,
    /// Print the summary as JSON.
    #[arg(long)]
    pub json: bool,
}

/// How to reach a peer and what to pull from it (shared by `pull` and `serve`).
#[derive(clap::Args, Clone, Debug)]
pub struct PeerArgs {
    /// Name the pull's position is kept under (`<data-dir>/dicom/pull/NAME.json`): one
    /// name per Orthanc.
    #[arg(long, env = "HER2EX_PEER_NAME", default_value = "orthanc")]
    pub peer_name: String,
    /// User for the peer's HTTP basic authentication; the password is read from the
    /// environment variable HER2EX_PEER_PASSWORD (never from the command line).
    #[arg(long, env = "HER2EX_PEER_USER")]
    pub peer_user: Option<String>,
    /// Pull only the participants of this site (a site's own Orthanc): a series whose
    /// PatientID is another site's participant is then ignored like an unknown patient.
    #[arg(long, env = "HER2EX_PEER_SITE")]
    pub peer_site: Option<String>,
    /// Seconds between two polls of the peer's change log (`pull` without --once, or
    /// `serve --pull-from`).
    #[arg(long = "pull-every", value_name = "SECONDS", env = "HER2EX_PULL_EVERY", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub every: u64,
    /// Allow a peer on another machine over plain HTTP: images and PatientIDs cross the
    /// network readable. Without it only a peer on this machine (a TLS tunnel's end) is
    /// accepted.
    #[arg(long)]
    pub allow_unencrypted: bool,
}

impl PeerArgs {
    /// The settings of the peer at `url` these arguments describe, checked.
    pub fn config(&self, url: &str) -> anyhow::Result<PeerConfig> {
        let credentials = match &self.peer_user {
            None => None,
            Some(user) => {
                let password = std::env::var("HER2EX_PEER_PASSWORD").map_err(|_| {
                    anyhow::anyhow!(
                        "refused: --peer-user {user:?} needs the password in the environment \
                         variable HER2EX_PEER_PASSWORD"
                    )
                })?;
                Some((user.clone(), password))
            }
        };
        let config = PeerConfig {
            credentials,
            allow_unencrypted: self.allow_unencrypted,
            ..PeerConfig::new(self.peer_name.clone(), url)
        };
        config.validate()?;
        Ok(config)
    }

    /// The site these arguments restrict the pull to.
    pub fn site(&self) -> anyhow::Result<Option<SiteCode>> {
        self.peer_site
            .as_deref()
            .map(|s| SiteCode::parse(s).map_err(|r| anyhow::anyhow!("--peer-site {s:?}: {r}")))
            .transpose()
    }
}

/// The participants a pull looks for: every registered one, or those of `site`.
///
/// Refused when there is none: the pass would read past every series for good.
pub async fn participants(
    store: &store::Store,
    site: Option<&SiteCode>,
) -> anyhow::Result<Participants> {
    let mut out = Participants::new();
    for (study_id, participant_site) in store
        .participant_ids()
        .await
        .context("reading the participants")?
    {
        match (
            StudyId::parse(&study_id),
            SiteCode::parse(&participant_site),
        ) {
            (Ok(id), Ok(s)) if site.is_none_or(|only| *only == s) => {
                out.insert(id, s);
            }
            (Ok(_), Ok(_)) => {}
            _ => tracing::warn!(study_id, "participant with a malformed id or site skipped"),
        }
    }
    if out.is_empty() {
        anyhow::bail!(
            "refused: no participant is registered{}, so every series would be passed over \
             and not looked at again; register the participants first",
            site.map_or_else(String::new, |s| format!(" at site {}", s.as_str()))
        );
    }
    Ok(out)
}

/// Runs `her2ex pull`.
pub fn run(a: PullArgs) -> anyhow::Result<u8> {
    // Built before any runtime exists: the blocking HTTP client must not start inside one.
    let peer = a.peer.config(&a.peer_url)?.connect()?;
    let site = a.peer.site()?;
    // The pull itself blocks, on this thread, and asks the runtime for the database.
    let (rt, store, archive) = a.data.open_blocking()?;
    let trial = trial::Trial::new(store.clone());
    let load = || rt.block_on(participants(&store, site.as_ref()));
    let mut record = |receipts: &[Receipt]| rt.block_on(record_receipts(&trial, receipts));
    if a.once {
        let participants = load()?;
        let (report, result) = pass(
            &archive,
            &peer,
            &participants,
            &Shutdown::new(),
            &mut record,
        );
        print_report(&a.peer.peer_name, &a.peer_url, &report, a.json)?;
        archive
            .flush_index()
            .context("writing the DICOM archive's index")?;
        result.with_context(|| resume_note(&report))?;
        return Ok(exit_code(&report));
    }
    let stop = Shutdown::new();
    stop_on_signal(&rt, &stop)?;
    println!(
        "pulling from {} ({}) every {} s (stop with Ctrl-C)",
        a.peer.peer_name, a.peer_url, a.peer.every
    );
    let total = poll(
        &archive,
        &peer,
        &mut || load(),
        &mut record,
        Duration::from_secs(a.peer.every),
        &stop,
    );
    print_report(&a.peer.peer_name, &a.peer_url, &total, a.json)?;
    archive
        .flush_index()
        .context("writing the DICOM archive's index")?;
    Ok(exit_code(&total))
}

/// Where a pass's receipts go: recorded in the audit trail by the caller.
pub type RecordReceipts<'a> = dyn FnMut(&[Receipt]) -> anyhow::Result<()> + 'a;

/// Records a pass's receipts in the audit trail, one by one.
pub async fn record_receipts(trial: &trial::Trial, receipts: &[Receipt]) -> anyhow::Result<()> {
    for receipt in receipts {
        trial.record_receipt(receipt).await.map_err(|e| {
            anyhow::anyhow!(
                "a pull receipt for site {} was not recorded in the audit trail: {}",
                receipt.site,
                e.explain()
            )
        })?;
    }
    Ok(())
}

/// One pass over the peer's change log, its receipts handed to `record`; what it did,
/// and how it ended. A receipt that could not be recorded fails the pass (what was
/// stored stays stored).
fn pass(
    archive: &Archive,
    peer: &OrthancPeer,
    participants: &Participants,
    stop: &Shutdown,
    record: &mut RecordReceipts<'_>,
) -> (PullReport, anyhow::Result<()>) {
    let mut report = PullReport::default();
    let started_at = archive.now();
    let result = pull(archive, peer, participants, stop, &mut report);
    let ended = match &result {
        Ok(()) if stop.is_triggered() => "stopped".to_string(),
        Ok(()) => "completed".to_string(),
        Err(e) => format!("failed: {e}"),
    };
    let receipts = archive::pull::receipts(
        peer.name(),
        peer.url(),
        &report,
        started_at,
        archive.now(),
        &ended,
    );
    let recorded = record(&receipts);
    let result = result.map_err(anyhow::Error::from).and(recorded);
    (report, result)
}

/// Polls the peer every `every` until `stop` is raised; returns what all passes did. A
/// failed pass is logged and the next poll tries again from where it stopped.
pub fn poll(
    archive: &Archive,
    peer: &OrthancPeer,
    participants: &mut dyn FnMut() -> anyhow::Result<Participants>,
    record: &mut RecordReceipts<'_>,
    every: Duration,
    stop: &Shutdown,
) -> PullReport {
    let mut total: Option<PullReport> = None;
    while !stop.is_triggered() {
        let (pass, result) = match participants() {
            Ok(p) => pass(archive, peer, &p, stop, record),
            Err(e) => (PullReport::default(), Err(e)),
        };
        match &mut total {
            Some(total) => total.add(&pass),
            None => total = Some(pass.clone()),
        }
        if pass.series_fetched > 0 {
            tracing::info!(
                series = pass.series_fetched,
                new = pass.new,
                position = pass.last_seq,
                "PET series pulled"
            );
        }
        if let Err(e) = result {
            tracing::error!(
                error = format!("{e:#}"),
                "pull failed; trying again at the next poll"
            );
        }
        let until = Instant::now() + every;
        while !stop.is_triggered() && Instant::now() < until {
            std::thread::sleep(STOP_POLL);
        }
    }
    total.unwrap_or_default()
}

/// What the operator needs to know after a failed pass.
fn resume_note(report: &PullReport) -> String {
    format!(
        "pulling stopped; what was stored is kept and the next pull resumes after change {}",
        report.last_seq
    )
}

/// 1 when some instance needs a person's look (a conflicting version, an object that
/// could not be filed), else 0.
fn exit_code(report: &PullReport) -> u8 {
    u8::from(report.conflict > 0 || report.unfileable > 0)
}

fn print_report(name: &str, url: &str, r: &PullReport, json: bool) -> anyhow::Result<()> {
    if json {
        let mut value = serde_json::to_value(r)?;
        value["peer"] = name.into();
        value["url"] = url.into();
        println!("{}", serde_json::to_string_pretty(&value)?);
        return Ok(());
    }
    println!(
        "pulled from {name} ({url}): {} changes read, {} PET series fetched ({} instances new, \
         {} already stored, {} conflicting)",
        r.changes, r.series_fetched, r.new, r.duplicate, r.conflict
    );
    println!(
        "  ignored: {} series not PET, {} PET series of no participant, {} instances not a PET \
         image, {} deleted from the peer meanwhile",
        r.ignored_not_pet, r.ignored_unknown_patient, r.ignored_not_pet_image, r.gone
    );
    if r.unfileable > 0 {
        println!(
            "  {} instances could not be filed (see the log for why)",
            r.unfileable
        );
    }
    if r.conflict > 0 {
        println!(
            "  conflicting versions are kept beside the stored ones; check them before quantifying"
        );
    }
    println!("  position: change {} of the peer's log", r.last_seq);
    Ok(())
}

/// Raises `stop` on Ctrl-C or SIGTERM. The handlers are in place when this returns, so a
/// stop sent as soon as the poll starts is not lost to the default action (which would
/// lose nothing either: every handled change is stored as it is handled).
fn stop_on_signal(rt: &tokio::runtime::Runtime, stop: &Shutdown) -> anyhow::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let _context = rt.enter();
    let mut terminate = signal(SignalKind::terminate()).context("listening for SIGTERM")?;
    let mut interrupt = signal(SignalKind::interrupt()).context("listening for Ctrl-C")?;
    let stop = stop.clone();
    rt.spawn(async move {
        tokio::select! {
            _ = terminate.recv() => {}
            _ = interrupt.recv() => {}
        }
        stop.trigger();
    });
    Ok(())
}
