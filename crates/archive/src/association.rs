//! One association of the receiver: negotiation, then DIMSE messages until release.
//!
//! P-DATA fragments (PS3.8 §9.3.5) of a command are gathered until the last one, then
//! parsed; the data set that follows streams fragment by fragment, de-identified, into a
//! temporary file of the archive ([`Incoming`]), up to a size limit. Only when the whole
//! data set is on disk is it filed (flushed, moved into place, indexed) and only then is
//! C-STORE-RSP Success sent. A release, an abort, a timeout or a dropped connection in
//! the middle of a data set therefore loses only the unacknowledged object, whose
//! temporary file is removed.

use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;

use dicom_dictionary_std::uids;
use dicom_object::FileMetaTableBuilder;
use dicom_ul::association::Association;
use dicom_ul::association::server::{AccessControl, DefaultNegotiation};
use dicom_ul::pdu::{
    AssociationRJServiceUserReason, PDataValue, PDataValueType, PresentationContextNegotiated,
    PresentationContextResultReason, UserIdentity,
};
use dicom_ul::{Pdu, ServerAssociationOptions};
use tracing::{debug, error, info, info_span, warn};

use crate::archive::{Archive, Source, StoreOutcome};
use crate::dimse::{C_ECHO_RQ, C_STORE_RQ, Command, status};
use crate::error::IngestErrorKind;
use crate::incoming::Incoming;
use crate::receipt::{Receipt, ReceiptSink, Via};
use crate::recovery::{PROVENANCE_UID, Provenance};
use crate::scp::{
    IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION_NAME, STORAGE_SOP_CLASSES, ScpConfig, Sender,
    TRANSFER_SYNTAXES,
};

/// Command sets are a few hundred bytes; more is a broken or hostile sender.
const MAX_COMMAND_BYTES: usize = 64 * 1024;

/// Negotiation options of one association.
pub(crate) type Options = ServerAssociationOptions<'static, SenderCheck, DefaultNegotiation>;

/// Limits applied within an association.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// Largest data set accepted, in bytes.
    pub max_object_bytes: usize,
}

/// Accepts an association when the called AE title is ours (unless not required) and the
/// calling AE title and peer address are an allowed sender; refusals are logged.
#[derive(Debug, Clone)]
pub(crate) struct SenderCheck {
    required: bool,
    peer: SocketAddr,
    senders: Arc<Vec<Sender>>,
}

impl AccessControl for SenderCheck {
    fn check_access(
        &self,
        this_ae_title: &str,
        calling_ae_title: &str,
        called_ae_title: &str,
        _user_identity: Option<&UserIdentity>,
    ) -> Result<(), AssociationRJServiceUserReason> {
        if self.required && this_ae_title.trim() != called_ae_title.trim() {
            warn!(peer = %self.peer, calling_ae_title, called_ae_title, "association refused: called AE title is not ours");
            return Err(AssociationRJServiceUserReason::CalledAETitleNotRecognized);
        }
        if sender_site(&self.senders, calling_ae_title, self.peer).is_none() {
            warn!(peer = %self.peer, calling_ae_title, called_ae_title, "association refused: unknown sender (calling AE title and address not in the allow-list)");
            return Err(AssociationRJServiceUserReason::CallingAETitleNotRecognized);
        }
        Ok(())
    }
}

/// The site of the allowed sender with this calling AE title at this address.
pub(crate) fn sender_site<'a>(
    senders: &'a [Sender],
    calling_ae_title: &str,
    peer: SocketAddr,
) -> Option<&'a str> {
    senders
        .iter()
        .find(|s| s.ae_title == calling_ae_title.trim() && s.address == peer.ip())
        .map(|s| s.site.as_str())
}

/// The negotiation options for `config`, for a connection from `peer`.
pub(crate) fn options(config: &ScpConfig, senders: &Arc<Vec<Sender>>, peer: SocketAddr) -> Options {
    let mut options = ServerAssociationOptions::new()
        .ae_access_control(SenderCheck {
            required: config.require_called_ae_title,
            peer,
            senders: Arc::clone(senders),
        })
        .ae_title(config.ae_title.clone())
        .max_pdu_length(config.max_pdu)
        .read_timeout(config.idle_timeout)
        .write_timeout(config.idle_timeout)
        .with_abstract_syntax(uids::VERIFICATION);
    for sop_class in STORAGE_SOP_CLASSES {
        options = options.with_abstract_syntax(*sop_class);
    }
    for ts in TRANSFER_SYNTAXES {
        options = options.with_transfer_syntax(*ts);
    }
    options
}

/// Serves one connection to its end. Never panics on what the peer sends; every failure is
/// logged and ends (at most) this association.
pub(crate) fn serve(
    stream: TcpStream,
    peer: SocketAddr,
    options: &Options,
    senders: &[Sender],
    archive: &Archive,
    limits: Limits,
    receipts: Option<&ReceiptSink>,
) {
    let span = info_span!("dicom_association", %peer);
    let _entered = span.enter();
    let association = match options.establish(stream) {
        Ok(association) => association,
        Err(e) => {
            warn!(error = %e, "association not established");
            return;
        }
    };
    let calling = association.peer_ae_title().trim().to_string();
    let Some(site) = sender_site(senders, &calling, peer).map(str::to_string) else {
        // The access control let it in, so this cannot happen; refuse all the same.
        warn!(calling_ae_title = %calling, "unknown sender; association aborted");
        let _ = association.abort();
        return;
    };
    info!(calling_ae_title = %calling, %site, "association established");
    let now = archive.now();
    let mut session = Session {
        source: Source::Network {
            calling_ae_title: calling.clone(),
            peer: peer.to_string(),
        },
        receipt: Receipt::start(
            Via::Association {
                calling_ae_title: calling,
                peer: peer.to_string(),
            },
            &site,
            now,
        ),
        site,
        limits,
        command: Vec::new(),
        command_context: None,
        awaiting: None,
    };
    let ended = converse(association, &mut session, archive);
    let mut receipt = session.receipt;
    receipt.ended = ended.to_string();
    receipt.ended_at = archive.now();
    if let Some(sink) = receipts {
        sink(receipt);
    }
}

/// Serves an established association until it ends; how it ended.
fn converse(
    mut association: dicom_ul::association::ServerAssociation<TcpStream>,
    session: &mut Session,
    archive: &Archive,
) -> &'static str {
    loop {
        let pdu = match association.receive() {
            Ok(pdu) => pdu,
            Err(e) => {
                if session.awaiting.is_some() || session.command_context.is_some() {
                    warn!(error = %e, "association broken during a transfer; the unacknowledged object is discarded");
                    return "broken during a transfer";
                }
                warn!(error = %e, "association ended without release");
                return "ended without release";
            }
        };
        match pdu {
            Pdu::PData { data } => {
                for value in data {
                    let answer =
                        session.on_value(value, association.presentation_contexts(), archive);
                    match answer {
                        Ok(None) => {}
                        Ok(Some((context_id, response))) => {
                            let pdu = Pdu::PData {
                                data: vec![PDataValue {
                                    presentation_context_id: context_id,
                                    value_type: PDataValueType::Command,
                                    is_last: true,
                                    data: response.encode(),
                                }],
                            };
                            if let Err(e) = association.send(&pdu) {
                                warn!(error = %e, "cannot send the response; association closed");
                                return "closed: a response could not be sent";
                            }
                        }
                        Err(e) => {
                            warn!(error = %e, "protocol error; association aborted");
                            let _ = association.abort();
                            return "aborted: protocol error";
                        }
                    }
                }
            }
            Pdu::ReleaseRQ => {
                if let Err(e) = association.send(&Pdu::ReleaseRP) {
                    warn!(error = %e, "cannot confirm the release");
                }
                if session.awaiting.is_some() {
                    warn!("association released in the middle of a data set, which is discarded");
                }
                info!("association released");
                return "released";
            }
            Pdu::AbortRQ { source } => {
                warn!(?source, "association aborted by the peer");
                return "aborted by the sender";
            }
            other => {
                warn!(pdu = %other.short_description(), "unexpected PDU; association aborted");
                let _ = association.abort();
                return "aborted: unexpected PDU";
            }
        }
    }
}

/// A command whose data set is being received.
struct Awaiting {
    context_id: u8,
    command: Command,
    /// Bytes of the data set received so far.
    received: usize,
    /// Where the data set goes, until it fails.
    data: Result<Incoming, (u16, String)>,
}

/// The data set that came with a command.
enum DataSet {
    None,
    Received(Box<Incoming>),
    Failed(u16, String),
}

/// The DIMSE state of one association.
struct Session {
    source: Source,
    /// What this association delivered so far.
    receipt: Receipt,
    /// The site of the sender, recorded with every object.
    site: String,
    limits: Limits,
    /// Fragments of the command being received.
    command: Vec<u8>,
    /// Presentation context of the command being received.
    command_context: Option<u8>,
    /// A complete command waiting for its data set.
    awaiting: Option<Awaiting>,
}

impl Session {
    /// Takes one presentation data value; returns a response to send once a message is
    /// complete. An error is a protocol violation that ends the association.
    fn on_value(
        &mut self,
        value: PDataValue,
        contexts: &[PresentationContextNegotiated],
        archive: &Archive,
    ) -> Result<Option<(u8, Command)>, IngestErrorKind> {
        let id = value.presentation_context_id;
        let context = contexts
            .iter()
            .find(|c| c.id == id && c.reason == PresentationContextResultReason::Acceptance)
            .ok_or_else(|| {
                protocol(format!("P-DATA on presentation context {id}, not accepted"))
            })?;
        match value.value_type {
            PDataValueType::Command => {
                if self.awaiting.is_some() {
                    return Err(protocol(
                        "a command came before the data set of the previous one",
                    ));
                }
                if self.command_context.is_some_and(|c| c != id) {
                    return Err(protocol("command fragments on two presentation contexts"));
                }
                self.command_context = Some(id);
                self.command.extend_from_slice(&value.data);
                if self.command.len() > MAX_COMMAND_BYTES {
                    return Err(protocol("command set larger than 64 KiB"));
                }
                if !value.is_last {
                    return Ok(None);
                }
                let command = Command::parse(&std::mem::take(&mut self.command))?;
                self.command_context = None;
                if command.has_data_set() {
                    let data = begin(&command, context, &self.source, &self.site, archive);
                    self.awaiting = Some(Awaiting {
                        context_id: id,
                        command,
                        received: 0,
                        data,
                    });
                    return Ok(None);
                }
                Ok(Some((id, self.answer(&command, DataSet::None, archive))))
            }
            PDataValueType::Data => {
                let mut awaiting = self
                    .awaiting
                    .take()
                    .ok_or_else(|| protocol("a data set fragment without its command"))?;
                if awaiting.context_id != id {
                    return Err(protocol(
                        "data set on another presentation context than its command",
                    ));
                }
                awaiting.received = awaiting.received.saturating_add(value.data.len());
                let limit = self.limits.max_object_bytes;
                if awaiting.data.is_ok() && awaiting.received > limit {
                    // Dropping the object removes what was written of it.
                    awaiting.data = Err((
                        status::OUT_OF_RESOURCES,
                        format!("object over {limit} bytes"),
                    ));
                }
                if let Ok(incoming) = &mut awaiting.data
                    && let Err(e) = incoming.push(&value.data)
                {
                    let code = match e {
                        IngestErrorKind::Io { .. } => status::OUT_OF_RESOURCES,
                        _ => status::CANNOT_UNDERSTAND,
                    };
                    awaiting.data = Err((code, e.to_string()));
                }
                if !value.is_last {
                    self.awaiting = Some(awaiting);
                    return Ok(None);
                }
                let data = match awaiting.data {
                    Ok(incoming) => DataSet::Received(Box::new(incoming)),
                    Err((code, reason)) => DataSet::Failed(code, reason),
                };
                Ok(Some((id, self.answer(&awaiting.command, data, archive))))
            }
        }
    }

    /// The response to a complete request.
    fn answer(&mut self, command: &Command, data: DataSet, archive: &Archive) -> Command {
        match command.command_field {
            C_ECHO_RQ => {
                debug!("C-ECHO answered");
                command.response(status::SUCCESS, None)
            }
            C_STORE_RQ => {
                let (code, comment) = self.store(command, data, archive);
                command.response(code, comment)
            }
            other => {
                warn!(command_field = other, "unsupported DIMSE operation");
                command.response(
                    status::UNRECOGNIZED_OPERATION,
                    Some(format!("operation 0x{other:04X} not supported")),
                )
            }
        }
    }

    /// Stores a C-STORE data set; returns the status and, for failures, a comment.
    fn store(
        &mut self,
        command: &Command,
        data: DataSet,
        archive: &Archive,
    ) -> (u16, Option<String>) {
        let answer = self.store_data_set(command, data, archive);
        if answer.0 != status::SUCCESS {
            self.receipt.counts.refused += 1;
        }
        answer
    }

    /// [`Session::store`] before the receipt counts it.
    fn store_data_set(
        &mut self,
        command: &Command,
        data: DataSet,
        archive: &Archive,
    ) -> (u16, Option<String>) {
        let fail = |code: u16, reason: String| {
            warn!(status = format!("0x{code:04X}"), %reason, "C-STORE refused");
            (code, Some(reason))
        };
        let incoming = match data {
            DataSet::Received(incoming) => *incoming,
            DataSet::None => return fail(status::CANNOT_UNDERSTAND, "no data set".into()),
            DataSet::Failed(code, reason) => return fail(code, reason),
        };
        let (Some(sop_class), Some(sop_instance)) = (
            command.affected_sop_class_uid.as_deref(),
            command.affected_sop_instance_uid.as_deref(),
        ) else {
            return fail(
                status::CANNOT_UNDERSTAND,
                "affected SOP class or instance missing".into(),
            );
        };
        let stored = archive.commit_expecting(
            incoming,
            Some((sop_instance, sop_class)),
            &self.source,
            &self.site,
            archive.now(),
        );
        match stored {
            Ok(stored) => {
                self.receipt
                    .counts
                    .stored(stored.outcome, &stored.series_instance_uid);
                match stored.outcome {
                    StoreOutcome::New => {
                        info!(sop_instance_uid = %stored.sop_instance_uid, series = %stored.series_instance_uid, "stored")
                    }
                    StoreOutcome::Duplicate => {
                        info!(sop_instance_uid = %stored.sop_instance_uid, "already stored; resend ignored")
                    }
                    StoreOutcome::Conflict => {
                        warn!(sop_instance_uid = %stored.sop_instance_uid, sha256 = %stored.sha256, "SOP instance already stored with other content; this version kept beside it")
                    }
                }
                (status::SUCCESS, None)
            }
            Err(e) => match e.kind {
                IngestErrorKind::Io { .. }
                | IngestErrorKind::Index(_)
                | IngestErrorKind::Database { .. } => {
                    error!(error = %e, "cannot write the archive; answering out of resources");
                    (status::OUT_OF_RESOURCES, Some(e.kind.to_string()))
                }
                IngestErrorKind::Mismatch(reason) => fail(status::DATA_SET_DOES_NOT_MATCH, reason),
                other => fail(status::CANNOT_UNDERSTAND, other.to_string()),
            },
        }
    }
}

/// Opens the temporary file of a C-STORE's data set, or the failure to answer with.
fn begin(
    command: &Command,
    context: &PresentationContextNegotiated,
    source: &Source,
    site: &str,
    archive: &Archive,
) -> Result<Incoming, (u16, String)> {
    let (Some(sop_class), Some(sop_instance)) = (
        command.affected_sop_class_uid.as_deref(),
        command.affected_sop_instance_uid.as_deref(),
    ) else {
        return Err((
            status::CANNOT_UNDERSTAND,
            "affected SOP class or instance missing".into(),
        ));
    };
    if sop_class != trim_uid(&context.abstract_syntax) {
        return Err((
            status::SOP_CLASS_NOT_SUPPORTED,
            format!(
                "SOP class {sop_class} sent on a context for {}",
                context.abstract_syntax
            ),
        ));
    }
    let transfer_syntax = trim_uid(&context.transfer_syntax);
    let calling = match source {
        Source::Network {
            calling_ae_title, ..
        } => calling_ae_title.as_str(),
        Source::Folder { .. } => "",
    };
    let provenance = Provenance {
        site: site.to_string(),
        source: source.clone(),
    };
    let meta = part10_file(
        sop_class,
        sop_instance,
        transfer_syntax,
        calling,
        Some(&provenance),
    )
    .map_err(|e| (status::CANNOT_UNDERSTAND, e.to_string()))?;
    archive
        .begin_described(&meta, transfer_syntax, provenance)
        .map_err(|e| {
            error!(error = %e, "cannot start writing a received object");
            (status::OUT_OF_RESOURCES, e.kind.to_string())
        })
}

fn protocol(message: impl Into<String>) -> IngestErrorKind {
    IngestErrorKind::Protocol(message.into())
}

fn trim_uid(uid: &str) -> &str {
    uid.trim_end_matches(['\0', ' '])
}

/// The start of a Part 10 file (PS3.10 §7.1) for a received data set: preamble, `DICM`
/// and a file meta group naming the SOP class and instance of the command, the transfer
/// syntax of the presentation context, our implementation and, when given, the object's
/// provenance (see `recovery`). The data set follows it unchanged.
pub(crate) fn part10_file(
    sop_class: &str,
    sop_instance: &str,
    transfer_syntax: &str,
    source_ae_title: &str,
    provenance: Option<&Provenance>,
) -> Result<Vec<u8>, IngestErrorKind> {
    let mut builder = FileMetaTableBuilder::new()
        .media_storage_sop_class_uid(sop_class)
        .media_storage_sop_instance_uid(sop_instance)
        .transfer_syntax(transfer_syntax)
        .implementation_class_uid(IMPLEMENTATION_CLASS_UID)
        .implementation_version_name(IMPLEMENTATION_VERSION_NAME);
    if !source_ae_title.is_empty() {
        builder = builder.source_application_entity_title(source_ae_title);
    }
    if let Some(provenance) = provenance {
        builder = builder
            .private_information_creator_uid(PROVENANCE_UID)
            .private_information(provenance.to_private_information()?);
    }
    let meta = builder
        .build()
        .map_err(|e| protocol(format!("file meta group: {e}")))?;
    let mut out = Vec::with_capacity(1024);
    out.resize(128, 0);
    out.extend_from_slice(b"DICM");
    meta.write(&mut out)
        .map_err(|e| protocol(format!("file meta group: {e}")))?;
    Ok(out)
}
