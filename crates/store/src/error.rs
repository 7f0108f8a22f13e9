//! The store's error type.

/// Everything that can go wrong in the store. Each message says what happened and, where
/// there is one, what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Optimistic concurrency: someone else wrote to the stream first.
    #[error(
        "stream {stream:?} is at version {actual}, but the write expected version {expected}: \
         someone changed it meanwhile; reload and try again"
    )]
    Conflict {
        /// The stream written to.
        stream: String,
        /// The version the writer based its decision on.
        expected: i64,
        /// The stream's version in the database.
        actual: i64,
    },
    /// A row the caller named does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// The caller passed something the store cannot write (e.g. an empty append).
    #[error("invalid store input: {0}")]
    InvalidInput(String),
    /// The database URL or data directory cannot be used.
    #[error("cannot open the database: {0}")]
    Open(String),
    /// The database refused or failed an operation.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// The transaction this write shared with other writes (group commit) failed as a
    /// whole, at its start or its commit: none of the group's writes is acknowledged.
    #[error(
        "database error: the transaction this write shared with {others} other write(s) \
         failed, so it is not acknowledged: {source}"
    )]
    GroupFailed {
        /// How many other writes shared the transaction.
        others: usize,
        /// What the database said, shared by every write of the group.
        source: std::sync::Arc<sqlx::Error>,
    },
    /// The schema migrations could not be applied.
    #[error("database migration failed (is this database from a newer her2ex version?): {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    /// A stored value cannot be read back (bad JSON, bad timestamp): the data was changed
    /// outside the store. Run `verify_chain` to find the first altered event.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

/// The kind of a [`StoreError`], for callers that branch on it (e.g. HTTP status codes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StoreErrorKind {
    /// See [`StoreError::Conflict`].
    Conflict,
    /// See [`StoreError::NotFound`].
    NotFound,
    /// See [`StoreError::InvalidInput`].
    InvalidInput,
    /// See [`StoreError::Open`].
    Open,
    /// See [`StoreError::Database`] and [`StoreError::GroupFailed`].
    Database,
    /// See [`StoreError::Migration`].
    Migration,
    /// See [`StoreError::Corrupt`].
    Corrupt,
}

impl StoreError {
    /// The kind of this error.
    pub fn kind(&self) -> StoreErrorKind {
        match self {
            StoreError::Conflict { .. } => StoreErrorKind::Conflict,
            StoreError::NotFound(_) => StoreErrorKind::NotFound,
            StoreError::InvalidInput(_) => StoreErrorKind::InvalidInput,
            StoreError::Open(_) => StoreErrorKind::Open,
            StoreError::Database(_) | StoreError::GroupFailed { .. } => StoreErrorKind::Database,
            StoreError::Migration(_) => StoreErrorKind::Migration,
            StoreError::Corrupt(_) => StoreErrorKind::Corrupt,
        }
    }
}
