//! Pull from a PACS: the PET series of the trial's participants fetched from a site's
//! Orthanc through its REST API, into the archive.
//!
//! | aspect | behaviour |
//! |---|---|
//! | what is read | the peer's change log (`/changes`), from the change after the last one handled |
//! | acted on | `StableSeries`: Orthanc has received no instance of the series for its `StableAge`; and a series that appeared (`NewSeries`) and is stable without that change (see below) |
//! | fetched | a series whose Modality is `PT` and whose study's PatientID is a participant's study id; each instance (`/instances/{id}/file`) that is a PET image |
//! | ignored, counted | other modalities, other patients, instances that are not PET images, resources deleted from the peer meanwhile |
//! | where it goes | [`Archive::store_bytes`], de-identified like every received object, as an object of the participant's site; its source is the peer's name and the instance's address (see `pacs_source`) |
//! | resume | the last change handled, and the series not settled yet, are kept per peer (`cursor`), written after each fetched series and at the end of the log, so a restart goes on where the last run stopped |
//! | failure | a peer that stops answering or an archive that cannot be written ends the pass; the position stays before the change being handled, which the next pass does again (instances already stored come back as duplicates) |
//!
//! `StableStudy` changes are read past: every series of the study has its own
//! `StableSeries` change, and fetching a study's series again when the study settles would
//! download each of them twice.
//!
//! Orthanc keeps its stability timers in memory: a series still arriving when Orthanc
//! stops is stable after its restart (`IsStable`) but never gets a `StableSeries` change.
//! So the pull remembers each series that appeared (`NewSeries`) until its `StableSeries`
//! is handled, and at the end of every pass fetches those Orthanc reports stable. (Should
//! the `StableSeries` of such a series be logged between the last page read and that
//! check, the next pass fetches it again, as duplicates.)
//!
//! The PatientID of a patient who is no participant is never logged or reported: at a
//! site's Orthanc it may be a personal identity number.

mod cursor;
mod error;
mod orthanc;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use protocol::{SiteCode, StudyId};
use serde::Serialize;
use tracing::{info, warn};

use crate::archive::{Archive, Source, StoreOutcome};
use crate::error::IngestErrorKind;
use crate::header::inspect;
use crate::receipt::{Counts, Receipt, Via};
use crate::scp::Shutdown;

pub use cursor::{PullState, read_state, state_path};
pub use error::{PullError, PullErrorKind};
pub use orthanc::{OrthancPeer, PeerConfig};

use cursor::Cursor;
use orthanc::{PeerApi, SeriesInfo};

/// Changes asked for at a time.
pub const CHANGES_PER_PAGE: u32 = 100;

/// The change type a pull acts on.
const STABLE_SERIES: &str = "StableSeries";

/// The change type of a series' first instance.
const NEW_SERIES: &str = "NewSeries";

/// The participants whose PET series are pulled: study id → site of her images.
pub type Participants = BTreeMap<StudyId, SiteCode>;

/// What pulls did (one pass, or every pass of a poll added up).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PullReport {
    /// Entries of the peer's change log read.
    pub changes: u64,
    /// PET series of participants fetched.
    pub series_fetched: u64,
    /// Instances stored for the first time.
    pub new: u64,
    /// Instances whose bytes were already in the archive.
    pub duplicate: u64,
    /// Instances held in the archive with other bytes (kept beside them).
    pub conflict: u64,
    /// Stable series whose modality is not PT.
    pub ignored_not_pet: u64,
    /// Stable PET series whose PatientID is no participant's study id.
    pub ignored_unknown_patient: u64,
    /// Instances of a fetched series that are not PET images (screen captures, reports).
    pub ignored_not_pet_image: u64,
    /// Series or instances deleted from the peer between its change and the fetch.
    pub gone: u64,
    /// Instances the archive refused to file (not DICOM, a UID missing, deflated), each
    /// logged with its reason.
    pub unfileable: u64,
    /// SeriesInstanceUIDs of the series fetched, in the order fetched.
    pub series: Vec<String>,
    /// The last change of the peer's log handled, as stored.
    pub last_seq: u64,
    /// The last change handled before the pass (before the first pass, for several).
    pub since: u64,
    /// What was fetched or refused per site of the participants (a peer shared by sites
    /// serves several), with the instances per series: each site's receipt.
    pub sites: BTreeMap<String, Counts>,
}

impl PullReport {
    /// Adds another pass's counts to these (the position becomes the other's; where
    /// the passes started stays this one's).
    pub fn add(&mut self, other: &PullReport) {
        self.changes += other.changes;
        self.series_fetched += other.series_fetched;
        self.new += other.new;
        self.duplicate += other.duplicate;
        self.conflict += other.conflict;
        self.ignored_not_pet += other.ignored_not_pet;
        self.ignored_unknown_patient += other.ignored_unknown_patient;
        self.ignored_not_pet_image += other.ignored_not_pet_image;
        self.gone += other.gone;
        self.unfileable += other.unfileable;
        self.series.extend(other.series.iter().cloned());
        self.last_seq = other.last_seq;
        for (site, counts) in &other.sites {
            self.sites.entry(site.clone()).or_default().add(counts);
        }
    }
}

/// The receipts of one pull pass for the audit trail: one per site whose participants'
/// instances it fetched or refused, none for a pass that found nothing to fetch. Each
/// carries the pass's peer, change range and ignored counts (those belong to no site).
pub fn receipts(
    peer_name: &str,
    url: &str,
    pass: &PullReport,
    started_at: DateTime<Utc>,
    ended_at: DateTime<Utc>,
    ended: &str,
) -> Vec<Receipt> {
    pass.sites
        .iter()
        .filter(|(_, counts)| !counts.is_empty())
        .map(|(site, counts)| Receipt {
            via: Via::Pull {
                peer_name: peer_name.to_string(),
                url: url.to_string(),
                from_seq: pass.since,
                to_seq: pass.last_seq,
                changes: pass.changes,
                ignored: pass.ignored_not_pet
                    + pass.ignored_unknown_patient
                    + pass.ignored_not_pet_image,
                gone: pass.gone,
            },
            site: site.clone(),
            started_at,
            ended_at,
            ended: ended.to_string(),
            counts: counts.clone(),
        })
        .collect()
}

/// One pass: reads the peer's change log from where the last pass stopped to its end,
/// fetching the participants' PET series into `archive`, and stores the new position.
///
/// `report` holds what was done even when the pass ends in an error: the position is
/// then stored before the change being handled, which the next pass does again. A raised
/// `shutdown` ends the pass after the change in hand.
pub fn pull(
    archive: &Archive,
    peer: &OrthancPeer,
    participants: &Participants,
    shutdown: &Shutdown,
    report: &mut PullReport,
) -> Result<(), PullError> {
    pull_from(archive, peer, participants, shutdown, report)
}

/// [`pull`] from any peer (the tests give one that fails on purpose).
pub(crate) fn pull_from(
    archive: &Archive,
    peer: &dyn PeerApi,
    participants: &Participants,
    shutdown: &Shutdown,
    report: &mut PullReport,
) -> Result<(), PullError> {
    let mut cursor = Cursor::load(archive, peer.name(), peer.url())?;
    report.since = cursor.seq;
    report.last_seq = cursor.seq;
    let result = read_log(archive, peer, participants, shutdown, &mut cursor, report);
    // What was handled stays handled, whatever ended the pass.
    let saved = cursor.save(archive);
    report.last_seq = cursor.seq;
    result.and(saved)
}

/// Reads the log page by page to its end, moving `cursor` past each change handled.
fn read_log(
    archive: &Archive,
    peer: &dyn PeerApi,
    participants: &Participants,
    shutdown: &Shutdown,
    cursor: &mut Cursor,
    report: &mut PullReport,
) -> Result<(), PullError> {
    loop {
        let since = cursor.seq;
        let page = peer.changes(since, CHANGES_PER_PAGE)?;
        if page.last < since {
            return Err(PullError::at(
                peer.url(),
                PullErrorKind::LogBehind {
                    stored: since,
                    last: page.last,
                },
            ));
        }
        for change in &page.changes {
            if shutdown.is_triggered() {
                return Ok(());
            }
            // Defensive: a change at or before the position was handled already.
            if change.seq <= cursor.seq {
                continue;
            }
            report.changes += 1;
            match change.change_type.as_str() {
                STABLE_SERIES => {
                    let fetched = match peer.series(&change.id)? {
                        Some(series) => fetch_series(archive, peer, &series, participants, report)?,
                        None => {
                            report.gone += 1;
                            false
                        }
                    };
                    cursor.unsettled.remove(&change.id);
                    cursor.seq = change.seq;
                    if fetched {
                        cursor.save(archive)?;
                    }
                }
                NEW_SERIES => {
                    cursor.unsettled.insert(change.id.clone());
                    cursor.seq = change.seq;
                }
                _ => cursor.seq = change.seq,
            }
        }
        if page.done {
            // Changes of deleted resources leave gaps: the end of the log is `Last`.
            cursor.seq = cursor.seq.max(page.last);
            return settle(archive, peer, participants, shutdown, cursor, report);
        }
        if cursor.seq == since {
            return Err(PullError::at(
                peer.url(),
                PullErrorKind::BadAnswer(format!(
                    "the change log is not done but lists nothing after change {since}"
                )),
            ));
        }
    }
}

/// Fetches the series that appeared without a `StableSeries` yet and that Orthanc reports
/// stable: their change was lost to a restart of Orthanc (see the module documentation).
fn settle(
    archive: &Archive,
    peer: &dyn PeerApi,
    participants: &Participants,
    shutdown: &Shutdown,
    cursor: &mut Cursor,
    report: &mut PullReport,
) -> Result<(), PullError> {
    for id in cursor.unsettled.clone() {
        if shutdown.is_triggered() {
            return Ok(());
        }
        let Some(series) = peer.series(&id)? else {
            report.gone += 1;
            cursor.unsettled.remove(&id);
            continue;
        };
        if !series.is_stable {
            continue;
        }
        info!(peer = peer.name(), series = %id, "series stable without its StableSeries change");
        let fetched = fetch_series(archive, peer, &series, participants, report)?;
        cursor.unsettled.remove(&id);
        if fetched {
            cursor.save(archive)?;
        }
    }
    Ok(())
}

/// Handles one stable series; `true` when instances were fetched (the position is then
/// worth storing at once).
fn fetch_series(
    archive: &Archive,
    peer: &dyn PeerApi,
    series: &SeriesInfo,
    participants: &Participants,
    report: &mut PullReport,
) -> Result<bool, PullError> {
    if series.modality.as_deref() != Some("PT") {
        report.ignored_not_pet += 1;
        return Ok(false);
    }
    let Some(patient_id) = peer.study_patient_id(&series.parent_study)? else {
        report.gone += 1;
        return Ok(false);
    };
    let participant = patient_id
        .as_deref()
        .and_then(|p| StudyId::parse(p).ok())
        .and_then(|id| participants.get_key_value(&id));
    let Some((study_id, site)) = participant else {
        report.ignored_unknown_patient += 1;
        return Ok(false);
    };
    let mut series_uid = None;
    for instance in &series.instances {
        let Some(bytes) = peer.instance_file(instance)? else {
            report.gone += 1;
            continue;
        };
        let source = pacs_source(peer, instance);
        match inspect(&bytes) {
            Ok(header) if !header.is_pet_image() => {
                report.ignored_not_pet_image += 1;
                continue;
            }
            Ok(_) => {}
            Err(reason) => {
                report.unfileable += 1;
                report
                    .sites
                    .entry(site.as_str().to_string())
                    .or_default()
                    .refused += 1;
                warn!(peer = peer.name(), instance = %instance, %reason, "instance not filed");
                continue;
            }
        }
        let stored = match archive.store_bytes(&bytes, &source, site.as_str()) {
            Ok(stored) => stored,
            Err(e)
                if matches!(
                    e.kind,
                    IngestErrorKind::Io { .. } | IngestErrorKind::Index(_)
                ) =>
            {
                return Err(e.into());
            }
            Err(e) => {
                report.unfileable += 1;
                report
                    .sites
                    .entry(site.as_str().to_string())
                    .or_default()
                    .refused += 1;
                warn!(peer = peer.name(), instance = %instance, reason = %e, "instance not filed");
                continue;
            }
        };
        match stored.outcome {
            StoreOutcome::New => report.new += 1,
            StoreOutcome::Duplicate => report.duplicate += 1,
            StoreOutcome::Conflict => report.conflict += 1,
        }
        report
            .sites
            .entry(site.as_str().to_string())
            .or_default()
            .stored(stored.outcome, &stored.series_instance_uid);
        series_uid.get_or_insert(stored.series_instance_uid);
    }
    let Some(uid) = series_uid else {
        return Ok(false);
    };
    info!(peer = peer.name(), participant = %study_id, series = %uid, "PET series pulled");
    report.series_fetched += 1;
    report.series.push(uid);
    Ok(true)
}

/// Where a pulled instance came from, for its index entry: over the network, "sent" by
/// the peer (its configured name where a C-STORE records the calling AE title) from the
/// instance's address, which names both the Orthanc and the instance.
fn pacs_source(peer: &dyn PeerApi, instance: &str) -> Source {
    Source::Network {
        calling_ae_title: peer.name().to_string(),
        peer: format!("{}/instances/{instance}", peer.url()),
    }
}

#[cfg(test)]
mod tests;
