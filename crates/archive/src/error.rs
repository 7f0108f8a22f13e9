//! Errors of DICOM ingest: the archive, the folder import and the C-STORE receiver.
//!
//! Like [`pet::PetError`], every error names the file (or folder) it concerns when there
//! is one, and the DICOM attribute when one is to blame.

use std::path::PathBuf;

use pet::ErrorKind;

/// What went wrong, without the file it happened in.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IngestErrorKind {
    /// A file-system operation failed (reading a source file, writing the archive).
    #[error("cannot {action}: {reason}")]
    Io {
        /// What was being done, e.g. `write object`.
        action: &'static str,
        /// The operating system's reason.
        reason: String,
    },
    /// The bytes are not a DICOM Part 10 file, or the parser gave up on them.
    #[error("not a readable DICOM file: {0}")]
    NotDicom(String),
    /// A DICOMDIR (Media Storage Directory): an index of other files, not an instance.
    #[error("a DICOMDIR (media storage directory) holds no image and is not stored")]
    DicomDir,
    /// An attribute the archive needs to file the object (a UID) is absent.
    #[error("missing {0}")]
    MissingAttribute(String),
    /// An attribute is present but its value cannot be used.
    #[error("bad {tag}: {problem}")]
    BadAttribute {
        /// Keyword and tag, e.g. `SOPInstanceUID (0008,0018)`.
        tag: String,
        /// What is wrong with the value.
        problem: String,
    },
    /// An archive index entry that cannot be read back.
    #[error("archive index entry unreadable: {0}")]
    Index(String),
    /// The study database holding the archive's index failed (see `catalog`).
    #[error("cannot {action} in the database: {reason}")]
    Database {
        /// What was being done, e.g. `read the versions of an instance`.
        action: &'static str,
        /// The database's reason.
        reason: String,
    },
    /// A DIMSE message that breaks PS3.7 (malformed command set, unexpected fragment).
    #[error("DIMSE protocol: {0}")]
    Protocol(String),
    /// A received data set is not the object its C-STORE command names.
    #[error("data set does not match its command: {0}")]
    Mismatch(String),
    /// Receiver settings that cannot work (an invalid AE title, a port already in use).
    #[error("receiver configuration: {0}")]
    Config(String),
}

/// An ingest error with the file it concerns.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{kind}", path.as_ref().map_or_else(String::new, |p| format!("{}: ", p.display())))]
pub struct IngestError {
    /// The file or folder concerned, when there is one.
    pub path: Option<PathBuf>,
    /// What went wrong.
    pub kind: IngestErrorKind,
}

impl IngestError {
    /// An error about `path`.
    pub fn at(path: impl Into<PathBuf>, kind: IngestErrorKind) -> Self {
        Self {
            path: Some(path.into()),
            kind,
        }
    }

    /// An error not tied to one file.
    pub fn new(kind: IngestErrorKind) -> Self {
        Self { path: None, kind }
    }

    /// A failed file-system operation on `path`.
    pub(crate) fn io(path: impl Into<PathBuf>, action: &'static str, e: &std::io::Error) -> Self {
        Self::at(
            path,
            IngestErrorKind::Io {
                action,
                reason: e.to_string(),
            },
        )
    }
}

impl From<ErrorKind> for IngestErrorKind {
    fn from(kind: ErrorKind) -> Self {
        match kind {
            ErrorKind::Io(reason) => IngestErrorKind::Io {
                action: "read file",
                reason,
            },
            ErrorKind::NotDicom(reason) => IngestErrorKind::NotDicom(reason),
            ErrorKind::MissingTag(tag) => IngestErrorKind::MissingAttribute(tag),
            ErrorKind::BadTag { tag, problem } => IngestErrorKind::BadAttribute { tag, problem },
            other => IngestErrorKind::NotDicom(other.to_string()),
        }
    }
}
