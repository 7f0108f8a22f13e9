//! Errors of a pull: the peer that did not answer (named by the address asked), the
//! settings refused (with the rule they break), the archive that could not be written.

use crate::error::IngestError;

/// What went wrong, without the address it happened at.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PullErrorKind {
    /// Settings that break a rule of the pull (a peer name, an address, a password in the
    /// address); the message says the rule and how to satisfy it.
    #[error("refused: {0}")]
    Config(String),
    /// No answer: connection refused, unknown host, time-out.
    #[error("no answer from the Orthanc peer: {0}")]
    Unreachable(String),
    /// An answer with an HTTP error status.
    #[error("the Orthanc peer answered HTTP {status}{}", hint.map_or_else(String::new, |h| format!(" ({h})")))]
    Status {
        /// The HTTP status code.
        status: u16,
        /// What the status usually means here, when known.
        hint: Option<&'static str>,
    },
    /// An answer that is not what Orthanc's REST API gives (not JSON, a field missing, a
    /// malformed identifier, too large).
    #[error("not an answer of Orthanc's REST API: {0}")]
    BadAnswer(String),
    /// The peer's change log ends before the change this pull already handled: the peer's
    /// database was replaced, or the state file belongs to another Orthanc.
    #[error(
        "refused: the peer's change log ends at change {last}, but this pull already handled \
         changes up to {stored}; the peer's database was replaced or this is another Orthanc. \
         Pull it under another --peer-name, or remove the state file to start from its first change"
    )]
    LogBehind {
        /// The sequence number stored.
        stored: u64,
        /// The last sequence number the peer has.
        last: u64,
    },
    /// The state file (where the pull stopped) cannot be read or belongs to another peer.
    #[error("pull state: {0}")]
    State(String),
    /// The archive could not be written; the change is retried by the next pull.
    #[error("archive: {0}")]
    Archive(IngestError),
}

/// A pull error with the address (or file) it concerns.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{kind}", at.as_ref().map_or_else(String::new, |a| format!("{a}: ")))]
pub struct PullError {
    /// The address asked, or the file concerned, when there is one.
    pub at: Option<String>,
    /// What went wrong.
    pub kind: PullErrorKind,
}

impl PullError {
    /// An error about `at` (an address or a file).
    pub fn at(at: impl Into<String>, kind: PullErrorKind) -> Self {
        Self {
            at: Some(at.into()),
            kind,
        }
    }

    /// An error not tied to one address.
    pub fn new(kind: PullErrorKind) -> Self {
        Self { at: None, kind }
    }

    /// A refused setting.
    pub(crate) fn config(message: impl Into<String>) -> Self {
        Self::new(PullErrorKind::Config(message.into()))
    }
}

impl From<IngestError> for PullError {
    fn from(e: IngestError) -> Self {
        // The ingest error names its file itself.
        Self::new(PullErrorKind::Archive(e))
    }
}
