//! `her2ex serve`: the web application, the JSON API and the DICOM receiver.

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
}

/// Serves until stopped.
pub async fn serve(a: ServeArgs) -> anyhow::Result<u8> {
    let store = a.data.open().await?;
    serve_store(store, &a).await
}

/// Starts the DICOM receiver on its own threads; stored files land in the data
/// directory's archive.
fn start_receiver(a: &ServeArgs, archive: Arc<Archive>) -> anyhow::Result<Shutdown> {
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
        .with_context(|| format!("starting the DICOM receiver on {}", a.dicom_listen))?;
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

/// Serves an opened store.
pub async fn serve_store(store: store::Store, a: &ServeArgs) -> anyhow::Result<u8> {
    let secure = a
        .public_url
        .as_deref()
        .is_some_and(|u| u.starts_with("https://"));
    let archive =
        Arc::new(Archive::open(&a.data.data_dir).with_context(|| {
            format!("opening the DICOM archive in {}", a.data.data_dir.display())
        })?);
    let trial = trial::Trial::new(store).with_archive(archive.clone());
    let state = server::AppState::from_trial(trial, secure);
    let listener = tokio::net::TcpListener::bind(a.listen)
        .await
        .with_context(|| format!("listening on {}", a.listen))?;
    let receiver = if a.no_dicom {
        None
    } else {
        Some(start_receiver(a, archive)?)
    };
    let url = a
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{}", a.listen));
    println!("her2ex serving at {url} (stop with Ctrl-C)");
    let result = server::serve_on(state, listener).await.context("serving");
    if let Some(r) = receiver {
        r.trigger();
    }
    result?;
    Ok(0)
}
