//! What can stop the demo: a refusal or failure of the write path (a bug in the plan to
//! fix, never something to skip), named with the step it happened at.

/// Why building the demo stopped.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct DemoError(pub String);

/// The demo's results.
pub type Result<T> = std::result::Result<T, DemoError>;

impl From<crate::Error> for DemoError {
    fn from(e: crate::Error) -> Self {
        DemoError(e.explain())
    }
}

impl From<tokio::task::JoinError> for DemoError {
    fn from(e: tokio::task::JoinError) -> Self {
        DemoError(format!("a demo task failed: {e}"))
    }
}

/// Says what was being done when something failed or was missing.
pub trait Context<T> {
    /// Prefixes the error (or names the missing thing) with `what`.
    fn context(self, what: impl std::fmt::Display) -> Result<T>;
    /// [`Context::context`] with the words made only when needed.
    fn with_context<S: std::fmt::Display>(self, what: impl FnOnce() -> S) -> Result<T>;
}

impl<T, E: Into<DemoError>> Context<T> for std::result::Result<T, E> {
    fn context(self, what: impl std::fmt::Display) -> Result<T> {
        self.map_err(|e| DemoError(format!("{what}: {}", e.into().0)))
    }
    fn with_context<S: std::fmt::Display>(self, what: impl FnOnce() -> S) -> Result<T> {
        self.map_err(|e| DemoError(format!("{}: {}", what(), e.into().0)))
    }
}

impl<T> Context<T> for Option<T> {
    fn context(self, what: impl std::fmt::Display) -> Result<T> {
        self.ok_or_else(|| DemoError(format!("missing: {what}")))
    }
    fn with_context<S: std::fmt::Display>(self, what: impl FnOnce() -> S) -> Result<T> {
        self.ok_or_else(|| DemoError(format!("missing: {}", what())))
    }
}
