//! The DICOM C-STORE receiver (Storage SCP, PS3.4 Annex B) started by `her2ex serve`.
//!
//! | aspect | behaviour |
//! |---|---|
//! | threads | blocking: [`Scp::run`] accepts on the calling thread, one thread per association |
//! | services | Storage of [`STORAGE_SOP_CLASSES`]; Verification (C-ECHO) |
//! | transfer syntaxes | [`TRANSFER_SYNTAXES`]: Explicit VR LE, Implicit VR LE, Explicit VR BE |
//! | AE title | called AE title must match [`ScpConfig::ae_title`] unless `require_called_ae_title` is off |
//! | senders | only the calling AE title + address pairs of [`ScpConfig::senders`], each bound to a site; others are refused (A-ASSOCIATE-RJ) and logged with address and both AE titles |
//! | bounds | at most [`ScpConfig::max_associations`] at once (the next is refused, transient, local limit exceeded); objects streamed to disk, never gathered in memory; [`ScpConfig::max_object_bytes`] per object; [`ScpConfig::idle_timeout`] of silence ends an association |
//! | privacy | every object is de-identified as it streams to disk (`deid`) |
//! | acknowledgement | the Part 10 file is in the archive (flushed to disk) before C-STORE-RSP Success |
//! | failures | 0xC000 data set unreadable, 0xA900 data set does not match the command, 0xA700 archive cannot write, 0x0122 SOP class differs from the presentation context |
//! | broken association | the unacknowledged data set is dropped; nothing half-written is stored |
//! | shutdown | [`Shutdown::trigger`] stops accepting within [`ACCEPT_POLL`]; open associations finish on their own |
//!
//! From async code (the web server) run it with `tokio::task::spawn_blocking`.

use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread;
use std::time::Duration;

use dicom_dictionary_std::uids;
use tracing::{error, info, warn};

use crate::archive::Archive;
use crate::association::{self, Limits};
use crate::error::{IngestError, IngestErrorKind};
use crate::receipt::ReceiptSink;

/// The AE title the receiver answers to unless configured otherwise.
pub const DEFAULT_AE_TITLE: &str = "HER2EX";

/// Our Implementation Class UID (PS3.7 D.3.3.2), written in the file meta group of every
/// received file: a UUID-derived UID (PS3.5 B.2) under root 2.25.
pub const IMPLEMENTATION_CLASS_UID: &str = "2.25.71887806508422276321925056913783563448";

/// Our Implementation Version Name (at most 16 characters).
pub const IMPLEMENTATION_VERSION_NAME: &str = concat!("HER2EX_", env!("CARGO_PKG_VERSION"));

/// How often the accept loop looks at the shutdown flag.
pub const ACCEPT_POLL: Duration = Duration::from_millis(100);

/// Storage SOP classes accepted: what PET/CT and PET/MR scanners and their workstations
/// send for a study (the PET images, the attenuation CT or MR, screen captures, contours
/// and segmentations).
pub const STORAGE_SOP_CLASSES: &[&str] = &[
    uids::POSITRON_EMISSION_TOMOGRAPHY_IMAGE_STORAGE,
    uids::ENHANCED_PET_IMAGE_STORAGE,
    uids::LEGACY_CONVERTED_ENHANCED_PET_IMAGE_STORAGE,
    uids::CT_IMAGE_STORAGE,
    uids::ENHANCED_CT_IMAGE_STORAGE,
    uids::MR_IMAGE_STORAGE,
    uids::ENHANCED_MR_IMAGE_STORAGE,
    uids::SECONDARY_CAPTURE_IMAGE_STORAGE,
    uids::RT_STRUCTURE_SET_STORAGE,
    uids::SEGMENTATION_STORAGE,
];

/// Transfer syntaxes accepted, in order of preference. Data sets are stored exactly as
/// received, so only uncompressed, non-deflated syntaxes are offered.
pub const TRANSFER_SYNTAXES: &[&str] = &[
    uids::EXPLICIT_VR_LITTLE_ENDIAN,
    uids::IMPLICIT_VR_LITTLE_ENDIAN,
    // Explicit VR Big Endian: retired from the standard, still sent by older equipment.
    "1.2.840.10008.1.2.2",
];

/// A sender allowed to store: its calling AE title, its address and the site whose
/// objects it sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sender {
    /// Calling AE title of the scanner or workstation.
    pub ae_title: String,
    /// Its IP address.
    pub address: IpAddr,
    /// The site code its objects belong to (e.g. `KS`).
    pub site: String,
}

impl Sender {
    /// Parses `AE@ADDRESS=SITE`, e.g. `KS_PETCT@10.1.2.3=KS`.
    pub fn parse(s: &str) -> Result<Sender, IngestError> {
        let bad = || {
            IngestError::new(IngestErrorKind::Config(format!(
                "sender {s:?} is not AE@ADDRESS=SITE (e.g. KS_PETCT@10.1.2.3=KS)"
            )))
        };
        let (who, site) = s.split_once('=').ok_or_else(bad)?;
        let (ae, address) = who.rsplit_once('@').ok_or_else(bad)?;
        let address: IpAddr = address.trim().parse().map_err(|_| bad())?;
        let site = site.trim();
        let ae = ae.trim();
        if ae.is_empty() || ae.len() > 16 || ae.contains('\\') {
            return Err(bad());
        }
        if !(2..=4).contains(&site.len()) || !site.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(bad());
        }
        Ok(Sender {
            ae_title: ae.to_string(),
            address,
            site: site.to_string(),
        })
    }
}

/// Settings of the receiver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScpConfig {
    /// Our AE title (1–16 characters of the default repertoire, no backslash).
    pub ae_title: String,
    /// Address and port to listen on (port 0: any free port, see [`Scp::local_addr`]).
    pub bind: SocketAddr,
    /// Largest PDU we accept (PS3.8 D.1), in bytes.
    pub max_pdu: u32,
    /// Refuse associations whose called AE title is not ours.
    pub require_called_ae_title: bool,
    /// An association silent for this long is closed.
    pub idle_timeout: Duration,
    /// Largest single object accepted; bigger ones are answered 0xA700.
    pub max_object_bytes: usize,
    /// The senders allowed, each bound to its site; no sender is allowed when empty.
    pub senders: Vec<Sender>,
    /// Associations served at once; one more is refused until one ends.
    pub max_associations: usize,
}

impl ScpConfig {
    /// Settings with our defaults: called AE title required, 64 KiB PDUs, 60 s idle
    /// timeout, objects up to 1 GiB, 8 associations at once, no sender allowed yet.
    pub fn new(ae_title: impl Into<String>, bind: SocketAddr) -> Self {
        Self {
            ae_title: ae_title.into(),
            bind,
            max_pdu: 65_536,
            require_called_ae_title: true,
            idle_timeout: Duration::from_secs(60),
            max_object_bytes: 1 << 30,
            senders: Vec::new(),
            max_associations: 8,
        }
    }

    /// The same settings allowing `sender` too.
    pub fn allow(mut self, sender: Sender) -> Self {
        self.senders.push(sender);
        self
    }

    /// Checks the settings: a valid AE title (PS3.5 Table 6.2-1) and sane limits.
    pub fn validate(&self) -> Result<(), IngestError> {
        let bad = |m: String| Err(IngestError::new(IngestErrorKind::Config(m)));
        let ae = &self.ae_title;
        if ae.trim().is_empty() || ae.len() > 16 {
            return bad(format!("AE title {ae:?} must have 1 to 16 characters"));
        }
        if ae.trim() != ae {
            return bad(format!("AE title {ae:?} has leading or trailing spaces"));
        }
        if !ae
            .chars()
            .all(|c| c.is_ascii() && !c.is_ascii_control() && c != '\\')
        {
            return bad(format!(
                "AE title {ae:?} may hold only printable ASCII without backslash"
            ));
        }
        if self.max_pdu < 4096 {
            return bad(format!("max PDU {} is below 4096 bytes", self.max_pdu));
        }
        if self.max_associations == 0 {
            return bad("at most 0 associations: the receiver would refuse everyone".into());
        }
        if self.idle_timeout.is_zero() {
            return bad("idle timeout must be positive".into());
        }
        Ok(())
    }
}

/// A flag that asks a running receiver to stop; clones share the flag.
#[derive(Debug, Clone, Default)]
pub struct Shutdown(Arc<AtomicBool>);

impl Shutdown {
    /// A flag not yet raised.
    pub fn new() -> Self {
        Self::default()
    }

    /// Asks the receiver to stop accepting associations.
    pub fn trigger(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    /// Whether [`Shutdown::trigger`] was called.
    pub fn is_triggered(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// A receiver bound to its port, not yet accepting.
pub struct Scp {
    listener: TcpListener,
    local_addr: SocketAddr,
    config: ScpConfig,
    archive: Arc<Archive>,
    /// Where each association's receipt goes when it ends.
    receipts: Option<ReceiptSink>,
}

impl std::fmt::Debug for Scp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scp")
            .field("local_addr", &self.local_addr)
            .field("config", &self.config)
            .field("receipts", &self.receipts.is_some())
            .finish()
    }
}

impl Scp {
    /// Validates `config` and binds its address.
    pub fn bind(config: ScpConfig, archive: Arc<Archive>) -> Result<Self, IngestError> {
        config.validate()?;
        let config_error = |action: &str, e: std::io::Error| {
            IngestError::new(IngestErrorKind::Config(format!(
                "cannot {action} {}: {e}",
                config.bind
            )))
        };
        let listener = TcpListener::bind(config.bind).map_err(|e| config_error("listen on", e))?;
        let local_addr = listener
            .local_addr()
            .map_err(|e| config_error("read the address bound for", e))?;
        listener
            .set_nonblocking(true)
            .map_err(|e| config_error("configure the socket of", e))?;
        Ok(Self {
            listener,
            local_addr,
            config,
            archive,
            receipts: None,
        })
    }

    /// The same receiver, handing the receipt of every established association to `sink`
    /// when it ends (the application records it in the audit trail).
    pub fn with_receipts(mut self, sink: ReceiptSink) -> Self {
        self.receipts = Some(sink);
        self
    }

    /// The address actually listened on (the port chosen when 0 was asked).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Accepts associations until `shutdown` is triggered, serving each on its own thread.
    ///
    /// Returns once the flag is seen. Associations still open are not waited for: what
    /// they have acknowledged is already on disk, and what they have not the sender must
    /// send again, as DICOM requires of any unacknowledged C-STORE.
    pub fn run(self, shutdown: &Shutdown) -> Result<(), IngestError> {
        let limits = Limits {
            max_object_bytes: self.config.max_object_bytes,
        };
        let senders = Arc::new(self.config.senders.clone());
        let config = Arc::new(self.config.clone());
        let active = Arc::new(AtomicUsize::new(0));
        info!(
            ae_title = %self.config.ae_title,
            address = %self.local_addr,
            senders = senders.len(),
            max_associations = self.config.max_associations,
            "DICOM receiver listening"
        );
        if senders.is_empty() {
            warn!("no DICOM sender is allowed: every association will be refused");
        }
        let mut next_id: u64 = 0;
        while !shutdown.is_triggered() {
            match self.listener.accept() {
                Ok((stream, peer)) => {
                    if let Err(e) = stream.set_nonblocking(false) {
                        warn!(%peer, error = %e, "cannot configure the connection; closed");
                        continue;
                    }
                    // Each C-STORE-RSP is one small write that the sender waits for: with
                    // Nagle's algorithm it could wait for the sender's delayed ACK.
                    if let Err(e) = stream.set_nodelay(true) {
                        warn!(%peer, error = %e, "cannot turn off Nagle's algorithm");
                    }
                    if active.load(Ordering::SeqCst) >= self.config.max_associations {
                        warn!(%peer, limit = self.config.max_associations, "association refused: too many at once");
                        refuse_busy(stream);
                        continue;
                    }
                    next_id += 1;
                    let guard = Active::enter(&active);
                    let config = Arc::clone(&config);
                    let senders = Arc::clone(&senders);
                    let archive = Arc::clone(&self.archive);
                    let receipts = self.receipts.clone();
                    let spawned = thread::Builder::new()
                        .name(format!("dicom-association-{next_id}"))
                        .spawn(move || {
                            let _guard = guard;
                            let options = association::options(&config, &senders, peer);
                            association::serve(
                                stream,
                                peer,
                                &options,
                                &senders,
                                &archive,
                                limits,
                                receipts.as_ref(),
                            )
                        });
                    if let Err(e) = spawned {
                        error!(%peer, error = %e, "cannot start a thread for the association");
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => thread::sleep(ACCEPT_POLL),
                Err(e) => {
                    // E.g. out of file descriptors: wait instead of spinning.
                    warn!(error = %e, "accepting a connection failed");
                    thread::sleep(ACCEPT_POLL);
                }
            }
        }
        info!(address = %self.local_addr, "DICOM receiver stopped");
        Ok(())
    }
}

/// Counts an association being served; the count drops when it ends, however it ends.
struct Active(Arc<AtomicUsize>);

impl Active {
    fn enter(count: &Arc<AtomicUsize>) -> Active {
        count.fetch_add(1, Ordering::SeqCst);
        Active(Arc::clone(count))
    }
}

impl Drop for Active {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// How long a refused peer has to send its A-ASSOCIATE-RQ before the connection is closed.
const REFUSAL_WAIT: Duration = Duration::from_secs(2);

/// Answers an association request with A-ASSOCIATE-RJ (transient, service provider
/// presentation: local limit exceeded, PS3.8 §9.3.4) so the sender retries later.
fn refuse_busy(mut stream: TcpStream) {
    use dicom_ul::pdu::{
        AssociationRJ, AssociationRJResult, AssociationRJServiceProviderPresentationReason,
        AssociationRJSource, Pdu, write_pdu,
    };
    let _ = stream.set_read_timeout(Some(REFUSAL_WAIT));
    let _ = stream.set_write_timeout(Some(REFUSAL_WAIT));
    // Read the request's header and body (an A-ASSOCIATE-RQ is a few kilobytes).
    let mut header = [0u8; 6];
    if stream.read_exact(&mut header).is_err() {
        return;
    }
    let len = u32::from_be_bytes([header[2], header[3], header[4], header[5]]);
    if len > 64 * 1024
        || std::io::copy(
            &mut (&mut stream).take(u64::from(len)),
            &mut std::io::sink(),
        )
        .is_err()
    {
        return;
    }
    let pdu = Pdu::AssociationRJ(AssociationRJ {
        result: AssociationRJResult::Transient,
        source: AssociationRJSource::ServiceProviderPresentation(
            AssociationRJServiceProviderPresentationReason::LocalLimitExceeded,
        ),
    });
    let mut bytes = Vec::new();
    if write_pdu(&mut bytes, &pdu).is_ok() {
        let _ = stream.write_all(&bytes);
    }
}

/// Binds `config.bind` and runs the receiver until `shutdown` is triggered (see
/// [`Scp::run`]). Blocks the calling thread.
pub fn run_scp(
    config: ScpConfig,
    archive: Arc<Archive>,
    shutdown: Shutdown,
) -> Result<(), IngestError> {
    Scp::bind(config, archive)?.run(&shutdown)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(ae: &str) -> ScpConfig {
        ScpConfig::new(ae, "127.0.0.1:0".parse().unwrap())
    }

    #[test]
    fn ae_titles_are_validated() {
        assert!(config("HER2EX").validate().is_ok());
        assert!(config("").validate().is_err());
        assert!(config("   ").validate().is_err());
        assert!(
            config("ABCDEFGHIJKLMNOPQ").validate().is_err(),
            "17 characters"
        );
        assert!(config(" HER2EX").validate().is_err());
        assert!(config("HER\\2EX").validate().is_err());
    }

    #[test]
    fn implementation_identifiers_fit_their_value_representations() {
        assert!(IMPLEMENTATION_CLASS_UID.len() <= 64);
        assert!(crate::header::is_valid_uid(IMPLEMENTATION_CLASS_UID));
        assert!(IMPLEMENTATION_VERSION_NAME.len() <= 16);
    }

    #[test]
    fn shutdown_is_shared_between_clones() {
        let a = Shutdown::new();
        let b = a.clone();
        assert!(!b.is_triggered());
        a.trigger();
        assert!(b.is_triggered());
    }
}
