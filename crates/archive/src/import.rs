//! Folder import (`her2ex pet import DIR`): every DICOM file under a folder into the archive.
//!
//! Files are visited in sorted path order so that two imports of the same folder report the
//! same thing in the same order. A file that cannot be stored (not DICOM, a DICOMDIR, no
//! UIDs, unreadable) is skipped with its reason and the import goes on; a failure to write
//! the archive stops the import, since every following file would fail the same way.
//! Symbolic links to folders are not followed (they could loop), and only regular files
//! are read (a named pipe left in a folder would hold the import forever).

use std::fs;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::archive::{Archive, Source, StoreOutcome, Stored};
use crate::error::{IngestError, IngestErrorKind};
use crate::header::inspect;

/// Why a file was not stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "detail", rename_all = "snake_case")]
pub enum SkipReason {
    /// A DICOMDIR: an index of other files, which are imported themselves.
    DicomDir,
    /// Not a DICOM Part 10 file (no `DICM` prefix, or the parser gave up), with the reason.
    NotDicom(String),
    /// A DICOM object the archive cannot file (a UID missing or malformed), with the reason.
    Unfileable(String),
    /// The file could not be read, with the reason.
    Unreadable(String),
    /// A symbolic link to a folder, not followed.
    LinkedFolder,
    /// Not a regular file (a named pipe, a socket, a device): reading it could wait
    /// forever or never end.
    NotRegular,
}

impl std::fmt::Display for SkipReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SkipReason::DicomDir => f.write_str("DICOMDIR (media directory, not an instance)"),
            SkipReason::NotDicom(why) => write!(f, "not DICOM: {why}"),
            SkipReason::Unfileable(why) => write!(f, "DICOM object cannot be filed: {why}"),
            SkipReason::Unreadable(why) => write!(f, "cannot read: {why}"),
            SkipReason::LinkedFolder => f.write_str("symbolic link to a folder, not followed"),
            SkipReason::NotRegular => {
                f.write_str("not a regular file (a named pipe, socket or device), not read")
            }
        }
    }
}

/// A file that was not stored, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SkippedFile {
    /// The file.
    pub path: PathBuf,
    /// Why it was skipped.
    pub reason: SkipReason,
}

/// What happened to one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileOutcome {
    /// Stored (new, duplicate or conflicting).
    Stored(Box<Stored>),
    /// Not stored.
    Skipped(SkipReason),
}

/// Progress of an import, reported once per file after it is handled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportProgress {
    /// Files handled so far, this one included.
    pub done: usize,
    /// Files to handle in all.
    pub total: usize,
    /// The file just handled.
    pub path: PathBuf,
    /// What happened to it.
    pub outcome: FileOutcome,
}

/// The summary of an import.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    /// Files found under the folder.
    pub files: usize,
    /// SOP instances stored for the first time.
    pub new: usize,
    /// Files whose bytes were already in the archive.
    pub duplicate: usize,
    /// Files holding another version of an instance already stored (kept beside it).
    pub conflict: usize,
    /// Files not stored, in path order, with the reason.
    pub skipped: Vec<SkippedFile>,
    /// SeriesInstanceUIDs of the stored files, sorted, each once.
    pub series: Vec<String>,
}

/// Imports every DICOM file under `dir` (recursively) into `archive` as objects of
/// `site`, de-identified like received ones, calling `progress` after each file.
///
/// Errors only when the folder cannot be listed or the archive cannot be written; problems
/// with single files are reported in [`ImportReport::skipped`].
pub fn import_folder(
    archive: &Archive,
    dir: &Path,
    site: &str,
    progress: &mut dyn FnMut(ImportProgress),
) -> Result<ImportReport, IngestError> {
    let mut report = ImportReport::default();
    let mut files = Vec::new();
    walk(dir, &mut files, &mut report.skipped)?;
    files.sort();
    report.files = files.len() + report.skipped.len();
    let total = report.files;
    let already_done = report.skipped.len();

    for (i, path) in files.into_iter().enumerate() {
        let outcome = match import_file(archive, &path, site)? {
            Ok(stored) => {
                match stored.outcome {
                    StoreOutcome::New => report.new += 1,
                    StoreOutcome::Duplicate => report.duplicate += 1,
                    StoreOutcome::Conflict => report.conflict += 1,
                }
                report.series.push(stored.series_instance_uid.clone());
                FileOutcome::Stored(Box::new(stored))
            }
            Err(reason) => {
                report.skipped.push(SkippedFile {
                    path: path.clone(),
                    reason: reason.clone(),
                });
                FileOutcome::Skipped(reason)
            }
        };
        progress(ImportProgress {
            done: already_done + i + 1,
            total,
            path,
            outcome,
        });
    }
    report.skipped.sort_by(|a, b| a.path.cmp(&b.path));
    report.series.sort();
    report.series.dedup();
    Ok(report)
}

/// Stores one file: the outer error is the archive failing, the inner one a skipped file.
fn import_file(
    archive: &Archive,
    path: &Path,
    site: &str,
) -> Result<Result<Stored, SkipReason>, IngestError> {
    if path
        .file_name()
        .is_some_and(|n| n.eq_ignore_ascii_case("DICOMDIR"))
    {
        return Ok(Err(SkipReason::DicomDir));
    }
    let bytes = match fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) => return Ok(Err(SkipReason::Unreadable(e.to_string()))),
    };
    let header = match inspect(&bytes) {
        Ok(header) => header,
        Err(IngestErrorKind::DicomDir) => return Ok(Err(SkipReason::DicomDir)),
        Err(IngestErrorKind::NotDicom(why)) => return Ok(Err(SkipReason::NotDicom(why))),
        Err(IngestErrorKind::Io { reason, .. }) => return Ok(Err(SkipReason::Unreadable(reason))),
        Err(other) => return Ok(Err(SkipReason::Unfileable(other.to_string()))),
    };
    let source = Source::Folder {
        path: path.to_path_buf(),
    };
    match archive.store_inspected(&bytes, &header, &source, site, archive.now()) {
        Ok(stored) => Ok(Ok(stored)),
        Err(e)
            if matches!(
                e.kind,
                IngestErrorKind::Io { .. } | IngestErrorKind::Index(_)
            ) =>
        {
            Err(e)
        }
        Err(e) => Ok(Err(SkipReason::Unfileable(e.kind.to_string()))),
    }
}

/// Collects the regular files under `dir`; linked folders are recorded as skipped.
fn walk(
    dir: &Path,
    files: &mut Vec<PathBuf>,
    skipped: &mut Vec<SkippedFile>,
) -> Result<(), IngestError> {
    let entries = fs::read_dir(dir).map_err(|e| IngestError::io(dir, "list folder", &e))?;
    for entry in entries {
        let entry = entry.map_err(|e| IngestError::io(dir, "list folder", &e))?;
        let path = entry.path();
        let file_type = entry
            .file_type()
            .map_err(|e| IngestError::io(&path, "inspect", &e))?;
        if file_type.is_dir() {
            walk(&path, files, skipped)?;
        } else if file_type.is_symlink() {
            // Follow links to files, never links to folders.
            match fs::metadata(&path) {
                Ok(meta) if meta.is_dir() => skipped.push(SkippedFile {
                    path,
                    reason: SkipReason::LinkedFolder,
                }),
                Ok(meta) if !meta.is_file() => skipped.push(SkippedFile {
                    path,
                    reason: SkipReason::NotRegular,
                }),
                Ok(_) => files.push(path),
                Err(e) => skipped.push(SkippedFile {
                    path,
                    reason: SkipReason::Unreadable(e.to_string()),
                }),
            }
        } else if file_type.is_file() {
            files.push(path);
        } else {
            skipped.push(SkippedFile {
                path,
                reason: SkipReason::NotRegular,
            });
        }
    }
    Ok(())
}
