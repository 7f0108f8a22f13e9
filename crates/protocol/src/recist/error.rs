//! A broken rule in a RECIST case, located by its path in the input.

use serde::Serialize;
use std::fmt;

/// One rule the input breaks (or, as a warning, a recommendation it does not follow),
/// located by a path in the input format of `docs/recist-format.md`, for example
/// `baseline.lesions[2].diameter_mm` or `assessments[1].targets.T3`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleError {
    /// Where in the input the problem is.
    pub path: String,
    /// What is wrong, with the rule's source.
    pub message: String,
}

impl RuleError {
    /// A problem at `path`.
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        RuleError {
            path: path.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}
