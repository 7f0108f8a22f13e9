//! What an object says of itself, and the recovery that makes the index whole again
//! after a crash.
//!
//! A received object is flushed to disk, with its folder, before it is acknowledged; its
//! index entry is written after that without waiting for the disk (a row queued for the
//! database's next batch, see `catalog`; a line not flushed in index files, see `index`).
//! A crash can therefore leave an object without its entry, but never an entry without
//! its object. It can also leave, under its final name, an object whose flush had not
//! finished, never acknowledged: its bytes do not hash to its name, and it is moved aside
//! to `damaged/` rather than indexed. So that such an object is never missing from what
//! the archive lists, every object carries its provenance (the site it belongs to and
//! where it came from) in its file meta group, as PS3.10 private information
//! (0002,0100)/(0002,0102) under [`PROVENANCE_UID`], and opening the archive indexes
//! every object that has no entry: its identifiers from its data set, its site and
//! source from its provenance, its received time from the file's modification time.
//!
//! The scan reads the indexed hashes once and lists the object folders; it runs when the
//! archive is opened (the receiver's start, an import), not on every store. A second
//! process opening the archive while the receiver stores can index an object whose store
//! is still under way: the store then adds the same version again, which the database
//! ignores and readers of index files take once.
//!
//! Before that, an archive opened with the database adds the index files an earlier
//! version kept in `dicom/index` to the database and renames the folder
//! [`MOVED_INDEX_FOLDER`] ([`move_index_files`]).

use std::fs::{self, File};
use std::io::Read;
use std::path::Path;

use chrono::{DateTime, Utc};
use dicom_object::FileMetaTable;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tracing::{info, warn};

use crate::archive::{Archive, ArchivedInstance, Source};
use crate::entries::Entries;
use crate::error::{IngestError, IngestErrorKind};
use crate::folders::ensure_dir;
use crate::header::{open_header, read_header};
use crate::index::{Index, list};

/// PrivateInformationCreatorUID (0002,0100) of the provenance written in every stored
/// object: under our Implementation Class UID, which we own.
pub const PROVENANCE_UID: &str = "2.25.71887806508422276321925056913783563448.1";

/// The provenance of an object: what its index entry holds that its data set does not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Provenance {
    /// The site the object belongs to.
    pub site: String,
    /// Where it came from.
    pub source: Source,
}

impl Provenance {
    /// The value of PrivateInformation (0002,0102): JSON, padded to an even length with a
    /// space (which JSON ignores).
    pub(crate) fn to_private_information(&self) -> Result<Vec<u8>, IngestErrorKind> {
        let mut bytes = serde_json::to_vec(self)
            .map_err(|e| IngestErrorKind::Index(format!("provenance: {e}")))?;
        if bytes.len() % 2 == 1 {
            bytes.push(b' ');
        }
        Ok(bytes)
    }

    /// The provenance in a file meta group, when it holds ours.
    pub(crate) fn of(meta: &FileMetaTable) -> Option<Provenance> {
        if meta.private_information_creator_uid()? != PROVENANCE_UID {
            return None;
        }
        serde_json::from_slice(meta.private_information.as_deref()?).ok()
    }
}

impl Archive {
    /// Moves entries of the earlier index file layout (an archive without a database),
    /// then indexes every object without an index entry (see the module documentation);
    /// returns how many were indexed.
    pub(crate) fn recover(&self) -> Result<usize, IngestError> {
        if let Entries::Files(index) = &self.index {
            let moved = index.migrate_legacy()?;
            if moved > 0 {
                info!(moved, "index entries moved to the index's current layout");
            }
        }
        let indexed = self.index.indexed_hashes()?;
        let mut found = Vec::new();
        for shard in list(&self.root.join("objects"))? {
            if !shard.is_dir() {
                continue;
            }
            for file in list(&shard)? {
                let Some(sha256) = file
                    .file_name()
                    .and_then(|n| n.to_str())
                    .and_then(|n| n.strip_suffix(".dcm"))
                else {
                    continue;
                };
                if indexed.contains(sha256) {
                    continue;
                }
                match self.entry_of_found_object(&file, sha256) {
                    Ok(entry) => found.push(entry),
                    Err(e) => warn!(error = %e, "object left unindexed"),
                }
            }
        }
        self.index.add_found(&found)?;
        if !found.is_empty() {
            info!(
                recovered = found.len(),
                "objects without an index entry indexed again"
            );
        }
        Ok(found.len())
    }

    /// The index entry of an object found on disk without one.
    fn entry_of_found_object(
        &self,
        path: &Path,
        sha256: &str,
    ) -> Result<ArchivedInstance, IngestError> {
        let actual = sha256_of_file(path)?;
        if actual != sha256 {
            let aside = self.set_aside(path)?;
            return Err(IngestError::at(
                path,
                IngestErrorKind::Index(format!(
                    "content hash is {actual}, not its name: cut by a crash before it was acknowledged, or damaged; moved to {}",
                    aside.display()
                )),
            ));
        }
        let obj = open_header(path).map_err(|k| IngestError::at(path, k))?;
        let header = read_header(&obj).map_err(|k| IngestError::at(path, k))?;
        let provenance = Provenance::of(obj.meta());
        if provenance.is_none() {
            warn!(object = %path.display(), "object without provenance: indexed without a site");
        }
        let meta = fs::metadata(path).map_err(|e| IngestError::io(path, "inspect object", &e))?;
        let received_at: DateTime<Utc> = meta
            .modified()
            .map_err(|e| IngestError::io(path, "read modification time", &e))?
            .into();
        let (site, source) = match provenance {
            Some(p) => (Some(p.site), p.source),
            None => (
                None,
                Source::Folder {
                    path: path.to_path_buf(),
                },
            ),
        };
        Ok(ArchivedInstance::new(
            &header,
            sha256,
            meta.len(),
            received_at,
            source,
            site,
        ))
    }
}

/// The folder the index files of an earlier version are renamed to once they are in the
/// database (kept, not removed: they hold nothing the database lacks, and nothing reads
/// them any more).
pub const MOVED_INDEX_FOLDER: &str = "index-moved-to-database";

/// Adds the index files of an earlier version (`<archive>/index`, either layout) to a
/// database index, then renames their folder [`MOVED_INDEX_FOLDER`] (or that name with
/// `.1`, `.2`, … when taken). A crash before the rename adds them again at the next open,
/// which adds nothing twice.
pub(crate) fn move_index_files(root: &Path, index: &Entries) -> Result<usize, IngestError> {
    let folder = root.join("index");
    if !folder.is_dir() || matches!(index, Entries::Files(_)) {
        return Ok(0);
    }
    let files = Index::open(folder.clone())?;
    files.migrate_legacy()?;
    let entries = files.all()?;
    index.add_found(&entries)?;
    let mut target = root.join(MOVED_INDEX_FOLDER);
    let mut n = 1;
    while target.exists() {
        target = root.join(format!("{MOVED_INDEX_FOLDER}.{n}"));
        n += 1;
    }
    fs::rename(&folder, &target)
        .map_err(|e| IngestError::io(&folder, "rename the moved index", &e))?;
    info!(entries = entries.len(), folder = %target.display(), "index files moved into the database");
    Ok(entries.len())
}

impl Archive {
    /// Moves a file out of the objects to `damaged/`, under a name not taken there.
    fn set_aside(&self, path: &Path) -> Result<std::path::PathBuf, IngestError> {
        let damaged = self.root.join("damaged");
        ensure_dir(&damaged)?;
        let name = path
            .file_name()
            .map_or_else(|| "object".into(), |n| n.to_string_lossy().to_string());
        let mut target = damaged.join(&name);
        let mut n = 1;
        while target.exists() {
            target = damaged.join(format!("{name}.{n}"));
            n += 1;
        }
        fs::rename(path, &target).map_err(|e| IngestError::io(path, "move aside", &e))?;
        Ok(target)
    }
}

/// SHA-256 of a file, lowercase hex, read in blocks.
fn sha256_of_file(path: &Path) -> Result<String, IngestError> {
    let mut file = File::open(path).map_err(|e| IngestError::io(path, "open object", &e))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = file
            .read(&mut buf)
            .map_err(|e| IngestError::io(path, "read object", &e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex::encode(hasher.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scp::IMPLEMENTATION_CLASS_UID;

    #[test]
    fn the_provenance_uid_is_ours_and_valid() {
        assert!(PROVENANCE_UID.starts_with(&format!("{IMPLEMENTATION_CLASS_UID}.")));
        assert!(crate::header::is_valid_uid(PROVENANCE_UID));
    }

    #[test]
    fn provenance_round_trips_through_a_file_meta_group() {
        let provenance = Provenance {
            site: "KS".into(),
            source: Source::Network {
                calling_ae_title: "KS_PETCT".into(),
                peer: "10.1.2.3:1040".into(),
            },
        };
        let info = provenance.to_private_information().unwrap();
        assert_eq!(info.len() % 2, 0, "DICOM values have an even length");
        let meta = dicom_object::FileMetaTableBuilder::new()
            .media_storage_sop_class_uid("1.2.840.10008.5.1.4.1.1.128")
            .media_storage_sop_instance_uid("1.2.3")
            .transfer_syntax("1.2.840.10008.1.2.1")
            .private_information_creator_uid(PROVENANCE_UID)
            .private_information(info)
            .build()
            .unwrap();
        assert_eq!(Provenance::of(&meta), Some(provenance));
        let foreign = dicom_object::FileMetaTableBuilder::new()
            .media_storage_sop_class_uid("1.2.840.10008.5.1.4.1.1.128")
            .media_storage_sop_instance_uid("1.2.3")
            .transfer_syntax("1.2.840.10008.1.2.1")
            .private_information_creator_uid("1.2.3.4")
            .private_information(b"{}".to_vec())
            .build()
            .unwrap();
        assert_eq!(
            Provenance::of(&foreign),
            None,
            "another creator's information"
        );
    }
}
