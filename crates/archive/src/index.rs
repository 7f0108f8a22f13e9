//! The index of the archive: which versions of each SOP instance it holds, and what they
//! are, so that listing series never has to read the objects.
//!
//! Layout: one file per SOP instance, `index/<ab>/<key>.jsonl`, where `<key>` is the
//! instance's folder-safe name (`header::index_key`) and `<ab>` the first two hex digits
//! of the SHA-256 of the key (256 folders, made when the archive opens). The file holds
//! one JSON line per version ([`ArchivedInstance`]), in the order the versions came.
//!
//! Why this shape: a new instance costs one new file, and a resend or another version
//! none. Making files and folders is the dearest part of storing an object on a busy file
//! system, and the earlier layout, `index/<SOPInstanceUID>/<sha256>.json`, made a folder
//! and a file for every instance. That layout is moved into this one when the archive
//! opens ([`Index::migrate_legacy`]).
//!
//! - A version is one line appended in one write. It is not flushed (see `recovery`,
//!   which indexes again any object whose line a crash lost), unless the object does not
//!   carry its provenance: then the line is flushed, and the folder with a new file.
//! - Readers take the lines that end in a newline. A last line without one is still
//!   being written, or was cut by a crash, and is not read; a line that does not parse
//!   (cut by a crash, then followed by others) is skipped with a warning: the object it
//!   named is indexed again when the archive opens. A writer that finds the file ending
//!   in a cut line starts its own on a new line.
//! - Lines are only ever added; nothing in the index is rewritten or removed. A version
//!   added twice (a recovery beside a store in progress) is read once.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use tracing::warn;

use crate::archive::ArchivedInstance;
use crate::error::{IngestError, IngestErrorKind};
use crate::folders::{is_abandoned_temporary, is_temporary, sync_dir};
use crate::header::index_key;

/// The index folder of an archive (`<data dir>/dicom/index`).
#[derive(Debug)]
pub(crate) struct Index {
    root: PathBuf,
}

impl Index {
    /// The index in `root`, its 256 folders made (and `root` flushed once if any was).
    pub(crate) fn open(root: PathBuf) -> Result<Self, IngestError> {
        make_shards(&root)?;
        Ok(Self { root })
    }

    /// The file of the versions of a SOP instance.
    pub(crate) fn file(&self, sop_instance_uid: &str) -> PathBuf {
        let key = index_key(sop_instance_uid);
        let shard = hex::encode(&Sha256::digest(key.as_bytes())[..1]);
        self.root.join(shard).join(format!("{key}.jsonl"))
    }

    /// The versions of a SOP instance held, in the order they came; none when unknown.
    pub(crate) fn versions(
        &self,
        sop_instance_uid: &str,
    ) -> Result<Vec<ArchivedInstance>, IngestError> {
        read_entries(&self.file(sop_instance_uid))
    }

    /// Adds a version (see the module documentation); `durable` flushes it to disk.
    pub(crate) fn append(
        &self,
        entry: &ArchivedInstance,
        durable: bool,
    ) -> Result<(), IngestError> {
        let path = self.file(&entry.sop_instance_uid);
        let mut line = serde_json::to_vec(entry)
            .map_err(|e| IngestError::at(&path, IngestErrorKind::Index(e.to_string())))?;
        line.push(b'\n');
        let (mut file, created) = match OpenOptions::new().append(true).create_new(true).open(&path)
        {
            Ok(file) => (file, true),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => (
                OpenOptions::new()
                    .read(true)
                    .append(true)
                    .open(&path)
                    .map_err(|e| IngestError::io(&path, "open index entry", &e))?,
                false,
            ),
            Err(e) => return Err(IngestError::io(&path, "create index entry", &e)),
        };
        if !created && !ends_in_newline(&mut file).unwrap_or(true) {
            line.insert(0, b'\n');
        }
        file.write_all(&line)
            .map_err(|e| IngestError::io(&path, "write index entry", &e))?;
        if durable {
            file.sync_data()
                .map_err(|e| IngestError::io(&path, "flush index entry", &e))?;
            if created && let Some(dir) = path.parent() {
                sync_dir(dir)?;
            }
        }
        Ok(())
    }

    /// Every version held, in no particular order.
    pub(crate) fn all(&self) -> Result<Vec<ArchivedInstance>, IngestError> {
        let mut out = Vec::new();
        for shard in list(&self.root)? {
            if !is_shard(&shard) {
                continue;
            }
            for file in list(&shard)? {
                if file.extension().is_some_and(|e| e == "jsonl") {
                    out.extend(read_entries(&file)?);
                }
            }
        }
        Ok(out)
    }

    /// Moves entries of the earlier layout (`index/<SOPInstanceUID>/<sha256>.json`) into
    /// this one; returns how many. Each is flushed in its new place before its old file
    /// is removed (those objects carry no provenance to index them again from), and one
    /// already there is not added twice, so a crash half-way is finished at the next open.
    pub(crate) fn migrate_legacy(&self) -> Result<usize, IngestError> {
        let mut moved = 0;
        for dir in list(&self.root)? {
            if !dir.is_dir() {
                continue;
            }
            for file in list(&dir)? {
                let name = file.file_name().and_then(|n| n.to_str()).unwrap_or("");
                if is_temporary(name) {
                    if is_abandoned_temporary(name) {
                        // Best effort: left by a crash of the earlier layout's writer.
                        let _ = fs::remove_file(&file);
                    }
                    continue;
                }
                if !name.ends_with(".json") {
                    continue;
                }
                let bytes =
                    fs::read(&file).map_err(|e| IngestError::io(&file, "read index entry", &e))?;
                let Ok(entry) = serde_json::from_slice::<ArchivedInstance>(&bytes) else {
                    warn!(entry = %file.display(), "unreadable index entry of the earlier layout left in place");
                    continue;
                };
                let held = self.versions(&entry.sop_instance_uid)?;
                if !held.iter().any(|v| v.sha256 == entry.sha256) {
                    self.append(&entry, true)?;
                }
                fs::remove_file(&file)
                    .map_err(|e| IngestError::io(&file, "remove moved index entry", &e))?;
                moved += 1;
            }
            if !is_shard(&dir) {
                // Fails, and stays, if anything was left in it.
                let _ = fs::remove_dir(&dir);
            }
        }
        Ok(moved)
    }
}

/// The versions in one index file (see the module documentation for what is skipped).
fn read_entries(path: &Path) -> Result<Vec<ArchivedInstance>, IngestError> {
    let bytes = match fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(IngestError::io(path, "read index entry", &e)),
    };
    let complete = bytes
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(&bytes[..0], |end| &bytes[..end]);
    let mut out: Vec<ArchivedInstance> = Vec::new();
    for line in complete.split(|&b| b == b'\n') {
        if line.is_empty() {
            continue;
        }
        match serde_json::from_slice::<ArchivedInstance>(line) {
            // A version added twice (see `recovery`) is taken once.
            Ok(entry) if out.iter().any(|v| v.sha256 == entry.sha256) => {}
            Ok(entry) => out.push(entry),
            Err(e) => {
                warn!(file = %path.display(), error = %e, "index line cut by a crash skipped")
            }
        }
    }
    Ok(out)
}

/// Whether an index file ends in a newline (or is empty).
fn ends_in_newline(file: &mut File) -> std::io::Result<bool> {
    if file.metadata()?.len() == 0 {
        return Ok(true);
    }
    file.seek(SeekFrom::End(-1))?;
    let mut last = [0u8; 1];
    file.read_exact(&mut last)?;
    Ok(last[0] == b'\n')
}

/// Whether a path is one of the 256 index folders (`00` to `ff`).
fn is_shard(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.len() == 2 && n.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
        && path.is_dir()
}

/// Makes the 256 folders `00` to `ff` of `dir` that are missing, and flushes `dir` once
/// if any was made, so that no store has to make or flush one.
pub(crate) fn make_shards(dir: &Path) -> Result<(), IngestError> {
    let mut made = false;
    for shard in 0..=255u8 {
        let sub = dir.join(format!("{shard:02x}"));
        if sub.is_dir() {
            continue;
        }
        match fs::create_dir(&sub) {
            Ok(()) => made = true,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && sub.is_dir() => {}
            Err(e) => return Err(IngestError::io(&sub, "create folder", &e)),
        }
    }
    if made {
        sync_dir(dir)?;
    }
    Ok(())
}

/// The entries of a folder, unsorted; an absent folder has none.
pub(crate) fn list(dir: &Path) -> Result<Vec<PathBuf>, IngestError> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(IngestError::io(dir, "list folder", &e)),
    };
    entries
        .map(|e| {
            e.map(|e| e.path())
                .map_err(|e| IngestError::io(dir, "list folder", &e))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::archive::Source;
    use chrono::TimeZone;

    fn entry(uid: &str, sha256: &str) -> ArchivedInstance {
        ArchivedInstance {
            sop_instance_uid: uid.into(),
            sop_class_uid: "1.2.840.10008.5.1.4.1.1.128".into(),
            series_instance_uid: "1.2.3".into(),
            study_instance_uid: "1.2".into(),
            modality: Some("PT".into()),
            transfer_syntax_uid: "1.2.840.10008.1.2.1".into(),
            sha256: sha256.into(),
            size: 10,
            received_at: chrono::Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap(),
            source: Source::Folder { path: "x".into() },
            patient_id: None,
            series_date: None,
            series_description: None,
            site: Some("KS".into()),
        }
    }

    #[test]
    fn versions_are_appended_and_read_back_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let index = Index::open(dir.path().to_path_buf()).unwrap();
        index.append(&entry("1.2.3.4", "aa"), false).unwrap();
        index.append(&entry("1.2.3.5", "bb"), true).unwrap();
        index.append(&entry("1.2.3.4", "cc"), false).unwrap();
        let shas = |uid| -> Vec<String> {
            index
                .versions(uid)
                .unwrap()
                .into_iter()
                .map(|e| e.sha256)
                .collect()
        };
        assert_eq!(shas("1.2.3.4"), ["aa", "cc"]);
        assert_eq!(shas("1.2.3.5"), ["bb"]);
        assert!(shas("1.2.3.6").is_empty());
        assert_eq!(index.all().unwrap().len(), 3);
    }

    #[test]
    fn a_line_cut_by_a_crash_is_skipped_and_the_next_starts_anew() {
        let dir = tempfile::tempdir().unwrap();
        let index = Index::open(dir.path().to_path_buf()).unwrap();
        index.append(&entry("1.2.3.4", "aa"), false).unwrap();
        let path = index.file("1.2.3.4");
        let mut file = OpenOptions::new().append(true).open(&path).unwrap();
        file.write_all(br#"{"sop_instance_uid":"1.2.3.4","sha"#)
            .unwrap();
        assert_eq!(
            index.versions("1.2.3.4").unwrap().len(),
            1,
            "cut line not read"
        );
        index.append(&entry("1.2.3.4", "cc"), false).unwrap();
        let shas: Vec<_> = index
            .versions("1.2.3.4")
            .unwrap()
            .into_iter()
            .map(|e| e.sha256)
            .collect();
        assert_eq!(shas, ["aa", "cc"]);
    }

    #[test]
    fn entries_of_the_earlier_layout_are_moved_once() {
        let dir = tempfile::tempdir().unwrap();
        let old = dir.path().join("1.2.3.4");
        fs::create_dir_all(&old).unwrap();
        let json = serde_json::to_vec_pretty(&entry("1.2.3.4", "aa")).unwrap();
        fs::write(old.join("aa.json"), &json).unwrap();
        // A UID that is also the name of an index folder.
        fs::create_dir_all(dir.path().join("12")).unwrap();
        let json = serde_json::to_vec_pretty(&entry("12", "bb")).unwrap();
        fs::write(dir.path().join("12").join("bb.json"), &json).unwrap();

        let index = Index::open(dir.path().to_path_buf()).unwrap();
        assert_eq!(index.migrate_legacy().unwrap(), 2);
        assert!(!old.exists(), "the old folder is gone");
        assert_eq!(index.versions("1.2.3.4").unwrap()[0].sha256, "aa");
        assert_eq!(index.versions("12").unwrap()[0].sha256, "bb");
        assert_eq!(index.migrate_legacy().unwrap(), 0);
        assert_eq!(index.all().unwrap().len(), 2);
    }
}
