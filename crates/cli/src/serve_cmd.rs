//! `her2ex serve`: the web application, the JSON API, the DICOM receiver and, when asked,
//! the pull from a site's Orthanc.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use archive::{Archive, Scp, ScpConfig, Sender, Shutdown};
use clap::Args;

use crate::DataArgs;

/// Arguments of `her2ex serve`.
#[derive(Args, Clone)]
pub struct ServeArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// Address to listen on.
    #[arg(long, env = "HER2EX_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// The address people use, when it differs (e.g. behind a TLS proxy). An https
    /// address turns on Secure cookies.
    #[arg(long, env = "HER2EX_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Address of the DICOM receiver (C-STORE SCP) for the PET scanners; port 0 picks a
    /// free port.
    #[arg(long, env = "HER2EX_DICOM_LISTEN", default_value = "127.0.0.1:11112")]
    pub dicom_listen: SocketAddr,
    /// AE title of the DICOM receiver; scanners must call it by this title.
    #[arg(long, env = "HER2EX_AE_TITLE", default_value = archive::DEFAULT_AE_TITLE)]
    pub ae_title: String,
    /// Do not start the DICOM receiver.
    #[arg(long)]
    pub no_dicom: bool,
    /// Do not run an imaging worker in this process: quantifications asked for wait
    /// for a `her2ex worker` process.
    #[arg(long, env = "HER2EX_NO_WORKER")]
    pub no_worker: bool,
    /// Seconds a client may take to send a request's head; a slower one is disconnected.
    #[arg(long, env = "HER2EX_HTTP_HEADER_TIMEOUT", default_value_t = server::HttpLimits::DEFAULT_HEADER_READ_TIMEOUT.as_secs(), value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub http_header_timeout: u64,
    /// Seconds a client may take to send a request's body; a slower one gets 408.
    #[arg(long, env = "HER2EX_HTTP_BODY_TIMEOUT", default_value_t = server::HttpLimits::DEFAULT_BODY_READ_TIMEOUT.as_secs(), value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub http_body_timeout: u64,
    /// Largest request body in bytes; a larger one gets 413.
    #[arg(long, env = "HER2EX_HTTP_MAX_BODY", default_value_t = server::HttpLimits::DEFAULT_MAX_BODY_BYTES)]
    pub http_max_body: usize,
    /// A sender allowed to store, as AE@ADDRESS=SITE (e.g. KS_PETCT@10.1.2.3=KS):
    /// its objects belong to SITE. Repeat for each scanner or workstation; any other
    /// calling AE title or address is refused and logged.
    #[arg(
        long = "dicom-sender",
        env = "HER2EX_DICOM_SENDERS",
        value_delimiter = ','
    )]
    pub dicom_senders: Vec<String>,
    /// Associations the DICOM receiver serves at once; one more is refused (transient).
    #[arg(long, env = "HER2EX_DICOM_MAX_ASSOCIATIONS", default_value_t = 8)]
    pub dicom_max_associations: usize,
    /// Largest DICOM object accepted, in MiB.
    #[arg(long, env = "HER2EX_DICOM_MAX_OBJECT_MIB", default_value_t = 1024)]
    pub dicom_max_object_mib: usize,
    /// Seconds of silence after which a DICOM association is closed.
    #[arg(long, env = "HER2EX_DICOM_IDLE_TIMEOUT", default_value_t = 60)]
    pub dicom_idle_timeout_secs: u64,
    /// Failed password checks (sign-in or e-signature) after which an account locks
    /// until an administrator unlocks it.
    #[arg(long, env = "HER2EX_LOCKOUT_AFTER", default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub lockout_after: u32,
    /// Minutes without a request after which a session ends.
    #[arg(long, env = "HER2EX_SESSION_IDLE_MINUTES", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=1440))]
    pub session_idle_minutes: u64,
    /// Failed sign-ins per account name within 15 minutes before further attempts are
    /// answered 429.
    #[arg(long, env = "HER2EX_SIGNIN_LIMIT_PER_ACCOUNT", default_value_t = 10)]
    pub signin_limit_per_account: u32,
    /// Failed sign-ins per client address within 15 minutes before further attempts are
    /// answered 429.
    #[arg(long, env = "HER2EX_SIGNIN_LIMIT_PER_ADDRESS", default_value_t = 30)]
    pub signin_limit_per_address: u32,
    /// A reverse proxy whose X-Forwarded-For header names the client (repeat for each);
    /// from any other peer the header is ignored.
    #[arg(
        long = "trusted-proxy",
        env = "HER2EX_TRUSTED_PROXIES",
        value_delimiter = ','
    )]
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Also pull the participants' PET series from this Orthanc peer (its REST API, e.g.
    /// http://127.0.0.1:8042) while serving, as `her2ex pull` does, with the options below.
    #[arg(long, env = "HER2EX_PULL_FROM")]
    pub pull_from: Option<String>,
    #[command(flatten)]
    pub peer: crate::pull_cmd::PeerArgs,
}

impl ServeArgs {
    /// The sign-in and session rules these arguments ask for.
    fn account_policy(&self) -> trial::AccountPolicy {
        trial::AccountPolicy {
            lockout_after: self.lockout_after,
            idle_timeout: std::time::Duration::from_secs(self.session_idle_minutes * 60),
            per_account_limit: self.signin_limit_per_account,
            per_address_limit: self.signin_limit_per_address,
            trusted_proxies: self.trusted_proxies.clone(),
            ..trial::AccountPolicy::default()
        }
    }

    /// The HTTP limits these arguments ask for.
    fn http_limits(&self) -> server::HttpLimits {
        server::HttpLimits {
            header_read_timeout: std::time::Duration::from_secs(self.http_header_timeout),
            body_read_timeout: std::time::Duration::from_secs(self.http_body_timeout),
            max_body_bytes: self.http_max_body,
        }
    }
}

/// Serves until stopped.
pub async fn serve(a: ServeArgs) -> anyhow::Result<u8> {
    let store = a.data.open().await?;
    serve_store(store, &a).await
}

/// Starts the DICOM receiver on its own threads; stored files land in the data
/// directory's archive.
fn start_receiver(
    a: &ServeArgs,
    archive: Arc<Archive>,
    receipts: archive::ReceiptSink,
) -> anyhow::Result<Shutdown> {
    let mut config = ScpConfig::new(a.ae_title.clone(), a.dicom_listen);
    for sender in &a.dicom_senders {
        config = config.allow(Sender::parse(sender)?);
    }
    config.max_associations = a.dicom_max_associations;
    config.max_object_bytes = a.dicom_max_object_mib.saturating_mul(1 << 20);
    config.idle_timeout = std::time::Duration::from_secs(a.dicom_idle_timeout_secs);
    if config.senders.is_empty() {
        println!(
            "No DICOM sender allowed (--dicom-sender AE@ADDRESS=SITE): every association will be refused"
        );
    }
    let scp = Scp::bind(config, archive)
        .with_context(|| format!("starting the DICOM receiver on {}", a.dicom_listen))?
        .with_receipts(receipts);
    println!(
        "DICOM receiver (C-STORE) at {} with AE title {}",
        scp.local_addr(),
        a.ae_title
    );
    let shutdown = Shutdown::new();
    let stop = shutdown.clone();
    std::thread::Builder::new()
        .name("dicom-receiver".into())
        .spawn(move || {
            if let Err(e) = scp.run(&stop) {
                tracing::error!(error = %e, "DICOM receiver stopped");
            }
        })
        .context("starting the DICOM receiver thread")?;
    Ok(shutdown)
}

/// Starts polling the Orthanc peer `url` on its own thread (blocking, like the receiver).
fn start_puller(
    a: &ServeArgs,
    url: &str,
    archive: Arc<Archive>,
    trial: trial::Trial,
) -> anyhow::Result<(Shutdown, std::thread::JoinHandle<()>)> {
    let config = a.peer.config(url)?;
    let site = a.peer.site()?;
    let every = std::time::Duration::from_secs(a.peer.every);
    let runtime = tokio::runtime::Handle::current();
    let shutdown = Shutdown::new();
    let stop = shutdown.clone();
    println!(
        "pulling PET series from {} ({url}) every {} s",
        config.name, a.peer.every
    );
    let thread = std::thread::Builder::new()
        .name("pacs-pull".into())
        .spawn(move || {
            // The blocking HTTP client is built here, outside the async runtime.
            let peer = match config.connect() {
                Ok(peer) => peer,
                Err(e) => {
                    tracing::error!(error = %e, "no pull from the PACS");
                    return;
                }
            };
            let mut participants =
                || runtime.block_on(crate::pull_cmd::participants(trial.store(), site.as_ref()));
            // Each pass's receipts are recorded in the audit trail as it ends.
            let mut record = |receipts: &[archive::Receipt]| {
                runtime.block_on(crate::pull_cmd::record_receipts(&trial, receipts))
            };
            crate::pull_cmd::poll(
                &archive,
                &peer,
                &mut participants,
                &mut record,
                every,
                &stop,
            );
        })
        .context("starting the PACS pull thread")?;
    Ok((shutdown, thread))
}

/// Serves an opened store.
pub async fn serve_store(store: store::Store, a: &ServeArgs) -> anyhow::Result<u8> {
    let secure = a
        .public_url
        .as_deref()
        .is_some_and(|u| u.starts_with("https://"));
    let archive = Arc::new(a.data.open_archive(&store).await?);
    let anchor = store.clone();
    let stop = shutdown_signal()?;
    let trial = trial::Trial::new(store)
        .with_archive(archive.clone())
        .with_account_policy(a.account_policy());
    let state = server::AppState::from_trial(trial, secure).with_limits(a.http_limits());
    let listener = tokio::net::TcpListener::bind(a.listen)
        .await
        .with_context(|| format!("listening on {}", a.listen))?;
    let puller = match &a.pull_from {
        Some(url) => Some(start_puller(a, url, archive.clone(), state.trial.clone())?),
        None => None,
    };
    let receiver = if a.no_dicom {
        None
    } else {
        // Each association's receipt is recorded in the audit trail as it ends.
        let (sender, mut queued) = tokio::sync::mpsc::unbounded_channel::<archive::Receipt>();
        let trial = state.trial.clone();
        tokio::spawn(async move {
            while let Some(receipt) = queued.recv().await {
                if let Err(e) = trial.record_receipt(&receipt).await {
                    tracing::error!(error = %e.explain(), ?receipt, "a DICOM receipt was not recorded");
                }
            }
        });
        let sink: archive::ReceiptSink = Arc::new(move |receipt| {
            let _ = sender.send(receipt);
        });
        Some(start_receiver(a, archive.clone(), sink)?)
    };
    let worker = (!a.no_worker).then(|| {
        let trial = state.trial.clone();
        let opts = trial::jobs::WorkerOptions::new(trial::jobs::worker_name("serve"));
        tokio::spawn(async move { trial.run_worker(opts, std::future::pending()).await })
    });
    let url = a
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{}", a.listen));
    println!("her2ex serving at {url} (stop with Ctrl-C)");
    // Stopped by Ctrl-C or SIGTERM, the server still signs a last checkpoint below.
    let result = tokio::select! {
        served = server::serve_on(state, listener) => served.context("serving"),
        () = stop => Ok(()),
    };
    if let Some(r) = receiver {
        r.trigger();
    }
    // A job in hand is taken again by the next worker once its lease runs out.
    if let Some(w) = worker {
        w.abort();
    }
    // The pull ends after the change in hand, which is then stored as handled.
    if let Some((stop, thread)) = puller {
        stop.trigger();
        let _ = tokio::task::spawn_blocking(move || thread.join()).await;
    }
    // The index rows of the last objects received are written before the process goes
    // (those lost would be indexed again at the next start).
    let flushed = archive.clone();
    match tokio::task::spawn_blocking(move || flushed.flush_index()).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::error!(error = %e, "archive index not written at shutdown"),
        Err(e) => tracing::error!(error = %e, "archive index not written at shutdown"),
    }
    // The last writes of this run are signed before the process goes.
    match anchor.checkpoint_with_own_key().await {
        Ok(Some(c)) => println!("checkpoint signed at seq {}", c.seq),
        Ok(None) => {}
        Err(e) => tracing::error!(error = %e, "no checkpoint signed at shutdown"),
    }
    // Writes still queued for the committer are committed and answered before the
    // process goes.
    anchor.close().await;
    result?;
    Ok(0)
}

/// Completes on Ctrl-C or SIGTERM. Registered before the server starts, so a stop sent
/// as soon as it answers is not lost to the default action (which skips the shutdown
/// checkpoint).
pub(crate) fn shutdown_signal() -> anyhow::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut terminate = signal(SignalKind::terminate()).context("listening for SIGTERM")?;
    let mut interrupt = signal(SignalKind::interrupt()).context("listening for Ctrl-C")?;
    Ok(async move {
        tokio::select! {
            _ = terminate.recv() => {}
            _ = interrupt.recv() => {}
        }
    })
}
