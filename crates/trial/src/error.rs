//! What a use case can end in other than success. A [`Error::Refused`] is the protocol's
//! expected "no" (with its rule); the access answers, a stale version and malformed input
//! are the user's to fix; [`Error::Internal`] is the machine failing, kept with its source
//! for the log and never shown to the user. The server maps these to HTTP statuses, the
//! command line to exit codes.

use std::error::Error as StdError;

/// A failure boxed with its cause chain.
pub type Source = Box<dyn StdError + Send + Sync + 'static>;

/// Everything a use case can end in other than success.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The protocol said no.
    #[error("{0}")]
    Refused(protocol::Refusal),
    /// The request was based on a stale version of the record.
    #[error("the record changed since you loaded it (your version {expected}, now {actual})")]
    Conflict {
        /// Version the client based its change on.
        expected: i64,
        /// Version the record has now.
        actual: i64,
    },
    /// Not signed in, or the session expired.
    #[error("sign in first")]
    Unauthenticated,
    /// Wrong user name or password.
    #[error("wrong user name or password")]
    SignInFailed,
    /// Too many failed sign-ins from this address or for this account: try again after
    /// `retry_after` seconds.
    #[error("too many failed sign-ins: try again in {retry_after} seconds")]
    Throttled {
        /// Seconds to wait.
        retry_after: u64,
    },
    /// Signed in, but the role may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// Nothing here, or nothing this user may know of.
    #[error("{0}")]
    NotFound(String),
    /// The request itself is malformed.
    #[error("{0}")]
    BadRequest(String),
    /// The machine failed: what it was doing, and why.
    #[error("internal error while {context}")]
    Internal {
        /// What was being done ("reading the archive").
        context: String,
        /// The cause, with its own chain.
        #[source]
        source: Source,
    },
}

/// The result of a use case.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// How the error reads to a person at a command line or in a log: a refusal with
    /// its rule and its words, an internal error with its causes, anything else as said.
    pub fn explain(&self) -> String {
        match self {
            Error::Refused(r) => format!("refused by rule {}: {}", r.rule.id(), r.message),
            Error::Internal { .. } => self.chain(),
            other => format!("refused: {other}"),
        }
    }

    /// A machine failure while doing `context`.
    pub fn internal(context: impl Into<String>, source: impl Into<Source>) -> Self {
        Error::Internal {
            context: context.into(),
            source: source.into(),
        }
    }

    /// The answer for a participant this user may not see: the same as for one that does
    /// not exist, so another site learns nothing.
    pub fn no_participant(study_id: &str) -> Self {
        Error::NotFound(format!("no participant {study_id} at your site"))
    }

    /// The whole cause chain of an internal error, for the log (`a: b: c`).
    pub fn chain(&self) -> String {
        let mut out = self.to_string();
        let mut cause = self.source();
        while let Some(c) = cause {
            out.push_str(": ");
            out.push_str(&c.to_string());
            cause = c.source();
        }
        out
    }
}

impl From<protocol::Refusal> for Error {
    fn from(r: protocol::Refusal) -> Self {
        Error::Refused(r)
    }
}

impl From<store::StoreError> for Error {
    fn from(e: store::StoreError) -> Self {
        match e {
            store::StoreError::Conflict {
                expected, actual, ..
            } => Error::Conflict { expected, actual },
            other => Error::internal("using the database", other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_errors_keep_their_cause_for_the_log() {
        let io = std::io::Error::other("disk full");
        let e = Error::internal("saving the MIP", io);
        assert_eq!(e.to_string(), "internal error while saving the MIP");
        assert_eq!(e.chain(), "internal error while saving the MIP: disk full");
    }
}
