//! The DICOM node of her2ex: how files from the scanners reach the archive, the first step
//! of the imaging flow (ARCHITECTURE.md). The `pet` crate under it reads what is stored.
//!
//! | piece | role |
//! |---|---|
//! | [`Archive`] | received bytes stored content-addressed (SHA-256) under `<data dir>/dicom/`, flushed to disk before they are acknowledged, indexed by SOPInstanceUID; stores of different instances run in parallel; a resend of the same content is a no-op, a conflicting version is kept |
//! | [`Catalog`] | the index in the study database (`dicom_instances`): a row per version, written in batches behind the objects; a participant's series summed up by SQL |
//! | [`recovery`] | every object carries its provenance, so the index is made whole again when the archive is opened after a crash |
//! | [`import_folder`] | `her2ex pet import DIR`: every DICOM file under a folder, in sorted order, DICOMDIR and non-DICOM files skipped with the reason |
//! | [`pull`] | `her2ex pull`: the participants' PET series fetched from a site's Orthanc through its REST API, resuming where the last pull stopped |
//! | [`scp`] | the C-STORE receiver of `her2ex serve` (dicom-ul), which acknowledges an object only once it is on disk and hands a [`Receipt`] of each association to the application's audit trail |
//! | [`Receipt`] | what one delivery brought (an association, a folder import, a pull round) and how it ended, for the audit trail; the import and the pull make theirs with [`Counts::file`] and [`pull::receipts`] |
//! | [`dimse`] | DIMSE command sets of C-STORE and C-ECHO (PS3.7) |
//! | [`header`] | the UIDs and modality that file an object; which SOP classes are PET images |
//! | [`deid`] | the de-identification profile (`docs/deidentification.md`), applied while an object streams to disk |
//!
//! Every object belongs to a site: the site of the allowed sender that sent it
//! ([`Sender`]), the site an import was run for, or the site of the participant whose
//! series a pull fetched; the index records it with the object.
//!
//! Every object received or imported is kept, PET or not (the attenuation CT, contours,
//! screen captures; a pull fetches PET images only); only
//! PET images ([`Stored::is_pet_image`], [`SeriesSummary::is_pet`]) are handed to the
//! quantification, by [`Archive::series_files`] and `pet::load_series_files`.
//!
//! Unlike the `pet` crate under it, the archive does I/O: it writes files, listens on the
//! network and reads the clock for the received time.

pub mod archive;
mod association;
pub mod catalog;
mod content;
pub mod deid;
pub mod dimse;
mod dir_sync;
mod entries;
pub mod error;
mod flusher;
mod folders;
pub mod header;
pub mod import;
mod incoming;
mod index;
mod instance_lock;
pub mod pull;
mod receipt;
pub mod recovery;
pub mod scp;

pub use archive::{Archive, ArchivedInstance, SeriesSummary, Source, StoreOutcome, Stored};
pub use catalog::Catalog;
pub use error::{IngestError, IngestErrorKind};
pub use header::{DicomHeader, PET_IMAGE_SOP_CLASSES, inspect, is_valid_uid};
pub use import::{
    FileOutcome, ImportProgress, ImportReport, SkipReason, SkippedFile, import_folder,
};
pub use incoming::Incoming;
pub use receipt::{Counts, Receipt, ReceiptSink, Via};
pub use scp::{DEFAULT_AE_TITLE, Scp, ScpConfig, Sender, Shutdown, run_scp};
