//! The DICOM archive: received files stored content-addressed under the data directory.
//!
//! Layout under `<data dir>/dicom/`:
//!
//! ```text
//! objects/ab/ab3f…e9.dcm          the bytes stored, named by their SHA-256 (256 shard
//!                                  folders, made when the archive is opened)
//! incoming/                        objects being received (see `incoming`)
//! ```
//!
//! The index, which versions of each SOP instance are held and what they are, is a table
//! of the study database (`catalog`, [`Archive::open_with_catalog`]); an archive opened
//! without a database keeps it in files under `index/` (`index`, [`Archive::open`]).
//!
//! - **Durability.** An object streams to a temporary file, which is renamed into its
//!   shard folder; then the file and the folder are flushed to disk at the same time (the
//!   folder's flush shared with the other stores in that folder at that moment,
//!   `dir_sync`), so a store waits for the disk once, not twice. Only when both are done
//!   does a store return, and only then does the receiver acknowledge. A crash before
//!   that can leave under its final name a file whose bytes are not all on disk; it was
//!   never acknowledged, and opening the archive checks the hash of every object without
//!   an index entry and moves such a file aside (`recovery`). A duplicate is never
//!   flushed: nothing of it is kept.
//! - **The index follows the objects.** The entry is added after the object is in
//!   place, without waiting for the disk (the database's rows are written in batches,
//!   `catalog`): every object carries its provenance in its file meta group, and opening
//!   the archive indexes any object that a crash left without an entry (`recovery`). So
//!   the index never names a missing file, and nothing acknowledged is ever missing from
//!   it. An object begun with [`Archive::begin`] by a caller that wrote its own file meta
//!   group carries no provenance; its entry is on disk before the store returns.
//! - **Duplicates.** A resend of a SOP instance whose data set has the same content as a
//!   version already stored is a [`StoreOutcome::Duplicate`], whatever its file meta or
//!   transfer syntax (the rule is in `content`): nothing is written. Identical bytes are
//!   recognised by their hash alone; other bytes by comparing data set contents.
//! - **Conflicts.** The same SOPInstanceUID with other content is kept beside the first
//!   and reported as a [`StoreOutcome::Conflict`]; nothing is ever overwritten. For
//!   quantification [`Archive::series_files`] chooses the first version received; the
//!   others wait for a person to decide.
//! - **Concurrency.** Stores of different SOP instances run in parallel; stores of one
//!   instance in this process one after the other (`instance_lock`). Separate processes
//!   (an import while the receiver runs) can at worst both classify the same new
//!   instance as `New`.
//! - The received time is read from the system clock unless given
//!   ([`Archive::store_bytes_at`]): the archive is the I/O edge of this crate.

use std::fs;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use store::SeriesQuery;
use tracing::warn;

use crate::catalog::Catalog;
use crate::content::data_set_digest;
use crate::dir_sync::DirSync;
use crate::entries::Entries;
use crate::error::{IngestError, IngestErrorKind};
use crate::folders::ensure_dir;
use crate::header::{DicomHeader, inspect, is_pet_sop_class};
use crate::index::{Index, make_shards};
use crate::instance_lock::InstanceLocks;
use crate::recovery::Provenance;

/// Where an object came from, recorded in its index entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Source {
    /// A file read by a folder import.
    Folder {
        /// The file imported.
        path: PathBuf,
    },
    /// A C-STORE received over the network.
    Network {
        /// The sender's (calling) AE title.
        calling_ae_title: String,
        /// The sender's network address.
        peer: String,
    },
}

/// What storing an object did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StoreOutcome {
    /// A SOP instance not seen before, now stored.
    New,
    /// A version of this SOP instance with the same data set content was already stored
    /// (see `content`): nothing was written.
    Duplicate,
    /// The SOP instance was already stored with other content; this version is kept
    /// beside the first, which is not replaced.
    Conflict,
}

/// The result of storing one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    /// SHA-256 of the stored bytes, lowercase hex: for a duplicate, of the version
    /// already stored.
    pub sha256: String,
    /// Where the bytes are (for a duplicate, the version already stored).
    pub path: PathBuf,
    /// SOPInstanceUID (0008,0018).
    pub sop_instance_uid: String,
    /// SOPClassUID (0008,0016).
    pub sop_class_uid: String,
    /// SeriesInstanceUID (0020,000E).
    pub series_instance_uid: String,
    /// StudyInstanceUID (0020,000D).
    pub study_instance_uid: String,
    /// Modality (0008,0060), when present.
    pub modality: Option<String>,
    /// A PET image that the quantification may read (see `PET_IMAGE_SOP_CLASSES`).
    pub is_pet_image: bool,
    /// The site the object was stored for.
    pub site: String,
    /// New, duplicate or conflicting.
    pub outcome: StoreOutcome,
}

/// One index entry: a version of a SOP instance held in the archive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArchivedInstance {
    /// SOPInstanceUID (0008,0018).
    pub sop_instance_uid: String,
    /// SOPClassUID (0008,0016).
    pub sop_class_uid: String,
    /// SeriesInstanceUID (0020,000E).
    pub series_instance_uid: String,
    /// StudyInstanceUID (0020,000D).
    pub study_instance_uid: String,
    /// Modality (0008,0060), when present.
    pub modality: Option<String>,
    /// TransferSyntaxUID (0002,0010) of the stored file.
    pub transfer_syntax_uid: String,
    /// SHA-256 of the stored bytes, lowercase hex.
    pub sha256: String,
    /// Size of the stored file in bytes.
    pub size: u64,
    /// When the archive received it.
    pub received_at: DateTime<Utc>,
    /// Where it came from.
    pub source: Source,
    /// PatientID (0010,0020), when present (the study id in HER2-Ex).
    #[serde(default)]
    pub patient_id: Option<String>,
    /// SeriesDate (0008,0021), YYYYMMDD, when present.
    #[serde(default)]
    pub series_date: Option<String>,
    /// SeriesDescription (0008,103E), when present.
    #[serde(default)]
    pub series_description: Option<String>,
    /// The site the object belongs to: the sender's site (receiver) or the importer's.
    /// Objects stored before sites were recorded have none and are shown to nobody.
    #[serde(default)]
    pub site: Option<String>,
}

impl ArchivedInstance {
    /// The entry of an object described by `header`.
    pub(crate) fn new(
        header: &DicomHeader,
        sha256: &str,
        size: u64,
        received_at: DateTime<Utc>,
        source: Source,
        site: Option<String>,
    ) -> Self {
        Self {
            sop_instance_uid: header.sop_instance_uid.clone(),
            sop_class_uid: header.sop_class_uid.clone(),
            series_instance_uid: header.series_instance_uid.clone(),
            study_instance_uid: header.study_instance_uid.clone(),
            modality: header.modality.clone(),
            transfer_syntax_uid: header.transfer_syntax_uid.clone(),
            sha256: sha256.to_string(),
            size,
            received_at,
            source,
            site,
            patient_id: header.patient_id.clone(),
            series_date: header.series_date.clone(),
            series_description: header.series_description.clone(),
        }
    }

    /// Whether this is a PET image (see `PET_IMAGE_SOP_CLASSES`).
    pub fn is_pet_image(&self) -> bool {
        is_pet_sop_class(&self.sop_class_uid)
    }
}

/// A series held in the archive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SeriesSummary {
    /// SeriesInstanceUID (0020,000E).
    pub series_instance_uid: String,
    /// StudyInstanceUID (0020,000D).
    pub study_instance_uid: String,
    /// Modality (0008,0060) of its first instance, when present.
    pub modality: Option<String>,
    /// Number of distinct SOP instances.
    pub instance_count: usize,
    /// Instances held in more than one version (see [`StoreOutcome::Conflict`]).
    pub conflicting_instances: usize,
    /// Whether every instance is a PET image, i.e. the series can be quantified.
    pub is_pet: bool,
    /// PatientID of its first instance, when present.
    pub patient_id: Option<String>,
    /// SeriesDate of its first instance (YYYYMMDD), when present.
    pub series_date: Option<String>,
    /// SeriesDescription of its first instance, when present.
    pub series_description: Option<String>,
    /// When the last of its instances was received.
    pub last_received_at: DateTime<Utc>,
    /// The site of its first instance (see [`ArchivedInstance::site`]).
    pub site: Option<String>,
}

/// A received object complete in the incoming folder, not yet filed.
pub(crate) struct Complete {
    /// Its temporary file.
    pub tmp: PathBuf,
    /// The temporary file, open, its bytes written but not flushed.
    pub file: fs::File,
    /// SHA-256 of its bytes, lowercase hex.
    pub sha256: String,
    /// Its size in bytes.
    pub size: u64,
    /// Its file meta group holds its provenance (see `recovery`), so its index entry
    /// needs no flush of its own.
    pub described: bool,
    /// It has been moved into place: there is no temporary file left to remove.
    pub moved: std::cell::Cell<bool>,
}

impl Drop for Complete {
    fn drop(&mut self) {
        // A duplicate (or an object already in place) leaves its temporary file behind.
        // Best effort: a leftover is removed when the archive is next opened.
        if !self.moved.get() {
            let _ = fs::remove_file(&self.tmp);
        }
    }
}

/// The content-addressed DICOM archive under a data directory.
#[derive(Debug)]
pub struct Archive {
    pub(crate) root: PathBuf,
    /// Which versions of each SOP instance are held.
    pub(crate) index: Entries,
    /// Serialises the check-then-write of index entries of one SOP instance.
    instances: InstanceLocks,
    /// Shares the flushes of the shard folders between concurrent stores.
    dir_sync: DirSync,
    /// Where the received time of an object comes from.
    clock: Clock,
    /// The key of PatientID pseudonyms (see `deid`), kept in `dicom/pseudonym.key`.
    pub(crate) key: Vec<u8>,
}

/// The archive's clock: the received time of an object.
pub type Clock = fn() -> DateTime<Utc>;

/// The machine's clock, the archive's default.
pub fn system_clock() -> DateTime<Utc> {
    Utc::now()
}

impl Archive {
    /// Opens (creating if needed) the archive at `data_dir/dicom/` with its index in index
    /// files beside the objects, for an archive without a database (the archive's own
    /// tests). Every program of her2ex opens it with [`Archive::open_with_catalog`].
    pub fn open(data_dir: &Path) -> Result<Self, IngestError> {
        let root = data_dir.join("dicom");
        ensure_dir(&root.join("index"))?;
        let index = Index::open(root.join("index"))?;
        Self::open_with(root, Entries::Files(index))
    }

    /// Opens (creating if needed) the archive at `data_dir/dicom/` with its index in the
    /// study database (see `catalog`). Index files of an earlier version in
    /// `dicom/index` are added to the database first and the folder is then renamed
    /// `dicom/index-moved-to-database` (see `recovery`).
    ///
    /// Blocks on the database: call it from a plain thread or `spawn_blocking`, like
    /// every method of the archive.
    pub fn open_with_catalog(data_dir: &Path, catalog: Catalog) -> Result<Self, IngestError> {
        let root = data_dir.join("dicom");
        let index = Entries::Database(catalog);
        crate::recovery::move_index_files(&root, &index)?;
        Self::open_with(root, index)
    }

    fn open_with(root: PathBuf, index: Entries) -> Result<Self, IngestError> {
        ensure_dir(&root.join("objects"))?;
        ensure_dir(&root.join("incoming"))?;
        make_shards(&root.join("objects"))?;
        crate::incoming::clear_incoming(&root.join("incoming"));
        let key = crate::incoming::pseudonym_key(&root)?;
        let archive = Self {
            root,
            index,
            instances: InstanceLocks::default(),
            dir_sync: DirSync::default(),
            clock: system_clock,
            key,
        };
        archive.recover()?;
        Ok(archive)
    }

    /// Waits until every index entry written so far is on disk: for a program about to
    /// end (an entry lost is indexed again at the next open, but later than it could be).
    pub fn flush_index(&self) -> Result<(), IngestError> {
        match &self.index {
            Entries::Files(_) => Ok(()),
            Entries::Database(catalog) => catalog.wait_written(),
        }
    }

    /// The same archive stamping received objects by `clock` (tests replay a day).
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// Now, by the archive's clock.
    pub fn now(&self) -> DateTime<Utc> {
        (self.clock)()
    }

    /// The archive folder (`<data dir>/dicom`).
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where the object with this SHA-256 (lowercase hex) is or would be stored.
    pub fn object_path(&self, sha256: &str) -> PathBuf {
        let shard = sha256.get(..2).unwrap_or("00");
        self.root
            .join("objects")
            .join(shard)
            .join(format!("{sha256}.dcm"))
    }

    /// Stores the bytes of a DICOM Part 10 file received now from `source` for `site`,
    /// de-identified (see `deid`).
    ///
    /// Refuses bytes that are not DICOM, a DICOMDIR, or an object without its UIDs.
    pub fn store_bytes(
        &self,
        bytes: &[u8],
        source: &Source,
        site: &str,
    ) -> Result<Stored, IngestError> {
        self.store_bytes_at(bytes, source, site, self.now())
    }

    /// [`Archive::store_bytes`] with the received time given.
    pub fn store_bytes_at(
        &self,
        bytes: &[u8],
        source: &Source,
        site: &str,
        received_at: DateTime<Utc>,
    ) -> Result<Stored, IngestError> {
        let header = inspect(bytes).map_err(IngestError::new)?;
        self.store_inspected(bytes, &header, source, site, received_at)
    }

    /// Stores bytes already parsed into `header` (which must describe them).
    pub(crate) fn store_inspected(
        &self,
        bytes: &[u8],
        header: &DicomHeader,
        source: &Source,
        site: &str,
        received_at: DateTime<Utc>,
    ) -> Result<Stored, IngestError> {
        let data_set = crate::incoming::data_set_offset(bytes).map_err(IngestError::new)?;
        let provenance = Provenance {
            site: site.to_string(),
            source: source.clone(),
        };
        let meta = crate::association::part10_file(
            &header.sop_class_uid,
            &header.sop_instance_uid,
            &header.transfer_syntax_uid,
            "",
            Some(&provenance),
        )
        .map_err(IngestError::new)?;
        let mut incoming = self.begin_described(&meta, &header.transfer_syntax_uid, provenance)?;
        incoming
            .push(&bytes[data_set..])
            .map_err(IngestError::new)?;
        self.commit(incoming, source, site, received_at)
    }

    /// Files a complete object (in the incoming folder) described by `header`: moves it
    /// into place and writes its index entry, unless it duplicates a stored version.
    pub(crate) fn file_object(
        &self,
        object: &Complete,
        header: &DicomHeader,
        source: &Source,
        site: &str,
        received_at: DateTime<Utc>,
    ) -> Result<Stored, IngestError> {
        let _held = self.instances.lock(&header.sop_instance_uid);
        let (outcome, sha256) = self.classify(&header.sop_instance_uid, object)?;
        if outcome != StoreOutcome::Duplicate {
            self.place_object(object, &self.object_path(&sha256))?;
            let entry = ArchivedInstance::new(
                header,
                &sha256,
                object.size,
                received_at,
                source.clone(),
                Some(site.to_string()),
            );
            self.index.add(&entry, !object.described)?;
        }
        Ok(Stored {
            path: self.object_path(&sha256),
            sha256,
            sop_instance_uid: header.sop_instance_uid.clone(),
            sop_class_uid: header.sop_class_uid.clone(),
            series_instance_uid: header.series_instance_uid.clone(),
            study_instance_uid: header.study_instance_uid.clone(),
            modality: header.modality.clone(),
            is_pet_image: header.is_pet_image(),
            site: site.to_string(),
            outcome,
        })
    }

    /// Whether a complete object is a new instance, a duplicate of a stored version (see
    /// `content`) or a conflicting version; with the hash of the version that stays: the
    /// stored one for a duplicate, the object's own otherwise.
    fn classify(
        &self,
        sop_instance_uid: &str,
        object: &Complete,
    ) -> Result<(StoreOutcome, String), IngestError> {
        let versions: Vec<String> = self
            .index
            .versions(sop_instance_uid)?
            .into_iter()
            .map(|v| v.sha256)
            .collect();
        if versions.is_empty() {
            return Ok((StoreOutcome::New, object.sha256.clone()));
        }
        if versions.contains(&object.sha256) {
            return Ok((StoreOutcome::Duplicate, object.sha256.clone()));
        }
        // Other bytes: compare contents. Whatever cannot be compared is kept, as a conflict.
        let conflict = Ok((StoreOutcome::Conflict, object.sha256.clone()));
        let mine = match data_set_digest(&object.tmp) {
            Ok(digest) => digest,
            Err(e) => {
                warn!(error = %e, "received data set cannot be compared with the stored versions");
                return conflict;
            }
        };
        for version in versions {
            match data_set_digest(&self.object_path(&version)) {
                Ok(digest) if digest == mine => return Ok((StoreOutcome::Duplicate, version)),
                Ok(_) => {}
                Err(e) => {
                    warn!(sha256 = %version, error = %e, "stored version cannot be compared")
                }
            }
        }
        conflict
    }

    /// Moves a received object into place, then flushes it and its folder, unless a file
    /// of the right size is already there (the same object stored by another process, or
    /// an earlier store whose index entry was lost to a crash), which is flushed in its
    /// stead. A file of another size can only be damage from outside the archive and is
    /// replaced.
    fn place_object(&self, object: &Complete, path: &Path) -> Result<(), IngestError> {
        let dir = path
            .parent()
            .ok_or_else(|| IngestError::at(path, IngestErrorKind::Index("no folder".into())))?;
        match fs::metadata(path) {
            Ok(meta) if meta.is_file() && meta.len() == object.size => {
                let there =
                    fs::File::open(path).map_err(|e| IngestError::io(path, "open object", &e))?;
                return self.flush(&there, path, dir);
            }
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(IngestError::io(path, "inspect object", &e)),
        }
        let tmp = &object.tmp;
        if let Err(e) = fs::rename(tmp, path) {
            if e.kind() != std::io::ErrorKind::NotFound || !tmp.is_file() {
                return Err(IngestError::io(path, "rename into place", &e));
            }
            // The shard folder was removed since the archive was opened.
            ensure_dir(dir)?;
            fs::rename(tmp, path).map_err(|e| IngestError::io(path, "rename into place", &e))?;
        }
        object.moved.set(true);
        self.flush(&object.file, path, dir)
    }

    /// Flushes an object's bytes and its folder's entries to disk at the same time, the
    /// bytes on this thread's flush helper (see `flusher`), the folder on this one (shared
    /// with other stores, see `dir_sync`): one wait for the disk instead of two. Without a
    /// helper, one after the other.
    fn flush(&self, file: &fs::File, path: &Path, dir: &Path) -> Result<(), IngestError> {
        let flush_file = |file: &fs::File| {
            file.sync_data()
                .map_err(|e| IngestError::io(path, "flush object to disk", &e))
        };
        let helper = file.try_clone().ok().and_then(crate::flusher::sync_data);
        let folder = self.dir_sync.sync(dir);
        let bytes = match helper {
            Some(pending) => pending.wait().map_err(|e| match e {
                Some(e) => IngestError::io(path, "flush object to disk", &e),
                None => IngestError::at(
                    path,
                    IngestErrorKind::Io {
                        action: "flush object to disk",
                        reason: "the flushing thread failed".into(),
                    },
                ),
            }),
            None => flush_file(file),
        };
        bytes.and(folder)
    }

    /// Every index entry, sorted by SOPInstanceUID, then received time, then hash.
    pub fn instances(&self) -> Result<Vec<ArchivedInstance>, IngestError> {
        self.index.all()
    }

    /// The series held, sorted by SeriesInstanceUID.
    pub fn series(&self) -> Result<Vec<SeriesSummary>, IngestError> {
        self.index.series(SeriesQuery::default())
    }

    /// The series of a site whose PatientID is `patient_id` (of their first instance),
    /// sorted by SeriesInstanceUID.
    pub fn series_of(
        &self,
        site: &str,
        patient_id: &str,
    ) -> Result<Vec<SeriesSummary>, IngestError> {
        self.index.series(SeriesQuery {
            site: Some(site.to_string()),
            patient_id: Some(patient_id.to_string()),
            series_instance_uid: None,
        })
    }

    /// The series `series_uid`, if held.
    pub fn series_summary(&self, series_uid: &str) -> Result<Option<SeriesSummary>, IngestError> {
        let list = self.index.series(SeriesQuery {
            series_instance_uid: Some(series_uid.to_string()),
            ..SeriesQuery::default()
        })?;
        Ok(list.into_iter().next())
    }

    /// The stored files of a series, one per SOP instance (the first version received when
    /// there are conflicting versions), sorted by SOPInstanceUID. Empty when the series is
    /// unknown. An indexed file that is missing is an error.
    pub fn series_files(&self, series_uid: &str) -> Result<Vec<PathBuf>, IngestError> {
        let mut out: Vec<PathBuf> = Vec::new();
        for (sop_instance_uid, sha256) in self.index.series_objects(series_uid)? {
            let path = self.object_path(&sha256);
            if !path.is_file() {
                return Err(IngestError::at(
                    &path,
                    IngestErrorKind::Index(format!(
                        "indexed object of SOP instance {sop_instance_uid} is missing"
                    )),
                ));
            }
            out.push(path);
        }
        Ok(out)
    }
}
