//! What one association delivered: the receiver's receipt, handed to the application
//! when the association ends so that it is kept in the audit trail (who sent, from where,
//! for which site, how much, and how it ended).

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::archive::StoreOutcome;

/// The receipt of one association.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Receipt {
    /// The sender's (calling) AE title.
    pub calling_ae_title: String,
    /// The sender's network address.
    pub peer: String,
    /// The site its objects were stored for.
    pub site: String,
    /// When the association was established.
    pub started_at: DateTime<Utc>,
    /// When it ended.
    pub ended_at: DateTime<Utc>,
    /// How it ended: `released`, or why not.
    pub ended: String,
    /// Objects stored for the first time.
    pub new: u64,
    /// Objects already held (acknowledged, nothing written).
    pub duplicate: u64,
    /// Objects held in another version, kept beside it.
    pub conflict: u64,
    /// C-STOREs answered with a failure status.
    pub refused: u64,
    /// Objects acknowledged per SeriesInstanceUID.
    pub series: BTreeMap<String, u64>,
}

impl Receipt {
    /// Counts one stored object.
    pub(crate) fn stored(&mut self, outcome: StoreOutcome, series_uid: &str) {
        match outcome {
            StoreOutcome::New => self.new += 1,
            StoreOutcome::Duplicate => self.duplicate += 1,
            StoreOutcome::Conflict => self.conflict += 1,
        }
        *self.series.entry(series_uid.to_string()).or_default() += 1;
    }

    /// Objects acknowledged, whatever became of them.
    pub fn acknowledged(&self) -> u64 {
        self.new + self.duplicate + self.conflict
    }
}

/// Where the receiver hands its receipts (called on the association's thread, so it must
/// return at once: queue the receipt, do not write it here).
pub type ReceiptSink = Arc<dyn Fn(Receipt) + Send + Sync>;
