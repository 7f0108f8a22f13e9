//! What arrived, and how: the receipt of one delivery of DICOM objects (an association of
//! the receiver, a folder import, a round of the PACS pull), handed to the application so
//! that it is kept in the audit trail (who or what delivered, from where, for which site,
//! how much, and how it ended).
//!
//! The three ways share one shape: the counts ([`Counts`]) and the site, times and ending
//! of [`Receipt`], and what only one way knows in [`Via`]. As JSON the receipt is one flat
//! object whose `via` names the way (`association`, `folder_import`, `pull`); the
//! receiver's receipts written before `via` existed hold the association's fields and no
//! `via` (see `Receipt::from_json`).

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::archive::StoreOutcome;
use crate::import::FileOutcome;

/// How many objects one delivery brought, and what became of them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// Objects stored for the first time.
    pub new: u64,
    /// Objects already held (acknowledged, nothing written).
    pub duplicate: u64,
    /// Objects held in another version, kept beside it.
    pub conflict: u64,
    /// Objects not stored: C-STOREs answered with a failure status, files of a folder that
    /// are no storable DICOM object, pulled instances the archive could not file.
    pub refused: u64,
    /// Objects stored (new, duplicate or conflicting) per SeriesInstanceUID.
    pub series: BTreeMap<String, u64>,
}

impl Counts {
    /// Counts one stored object.
    pub fn stored(&mut self, outcome: StoreOutcome, series_uid: &str) {
        match outcome {
            StoreOutcome::New => self.new += 1,
            StoreOutcome::Duplicate => self.duplicate += 1,
            StoreOutcome::Conflict => self.conflict += 1,
        }
        *self.series.entry(series_uid.to_string()).or_default() += 1;
    }

    /// Counts one file of a folder import.
    pub fn file(&mut self, outcome: &FileOutcome) {
        match outcome {
            FileOutcome::Stored(stored) => self.stored(stored.outcome, &stored.series_instance_uid),
            FileOutcome::Skipped(_) => self.refused += 1,
        }
    }

    /// Adds another delivery's counts to these.
    pub fn add(&mut self, other: &Counts) {
        self.new += other.new;
        self.duplicate += other.duplicate;
        self.conflict += other.conflict;
        self.refused += other.refused;
        for (uid, n) in &other.series {
            *self.series.entry(uid.clone()).or_default() += n;
        }
    }

    /// Objects acknowledged, whatever became of them.
    pub fn acknowledged(&self) -> u64 {
        self.new + self.duplicate + self.conflict
    }

    /// Whether nothing was stored nor refused.
    pub fn is_empty(&self) -> bool {
        self.acknowledged() == 0 && self.refused == 0
    }
}

/// The way a delivery arrived, with what only that way knows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "via", rename_all = "snake_case")]
pub enum Via {
    /// An association of the DICOM receiver.
    Association {
        /// The sender's (calling) AE title.
        calling_ae_title: String,
        /// The sender's network address.
        peer: String,
    },
    /// A folder import at the command line (`her2ex pet import`).
    FolderImport {
        /// The folder imported, as given.
        folder: String,
        /// The account of the operating system that ran the import.
        os_user: String,
        /// Files found under the folder.
        files: u64,
    },
    /// One round of the pull from a PACS (an Orthanc's REST API).
    Pull {
        /// The peer's configured name.
        peer_name: String,
        /// The address of the peer's REST API (it never holds credentials).
        url: String,
        /// The last change of the peer's log handled before the round.
        from_seq: u64,
        /// The last change handled by the round.
        to_seq: u64,
        /// Changes of the peer's log read in the round.
        changes: u64,
        /// Series and instances the round passed over (not PET, no participant's, not a
        /// PET image), for every site together.
        ignored: u64,
        /// Series and instances deleted from the peer before they were fetched.
        gone: u64,
    },
}

impl Via {
    /// The way's name as in the JSON's `via`.
    pub fn name(&self) -> &'static str {
        match self {
            Via::Association { .. } => "association",
            Via::FolderImport { .. } => "folder_import",
            Via::Pull { .. } => "pull",
        }
    }

    /// Where the objects came from, in a line: the sender's AE title and address, the
    /// folder, or the peer's name and address.
    pub fn from(&self) -> String {
        match self {
            Via::Association {
                calling_ae_title,
                peer,
            } => format!("{calling_ae_title} at {peer}"),
            Via::FolderImport {
                folder, os_user, ..
            } => format!("{folder} (by {os_user})"),
            Via::Pull { peer_name, url, .. } => format!("{peer_name} at {url}"),
        }
    }
}

/// The receipt of one delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    /// The way it arrived.
    #[serde(flatten)]
    pub via: Via,
    /// The site its objects were stored for.
    pub site: String,
    /// When the delivery started.
    pub started_at: DateTime<Utc>,
    /// When it ended.
    pub ended_at: DateTime<Utc>,
    /// How it ended: `released` (an association), `completed` (an import or a pull), or
    /// why not.
    pub ended: String,
    /// What it brought.
    #[serde(flatten)]
    pub counts: Counts,
}

impl Receipt {
    /// A receipt of `via` for `site` started at `at`, nothing counted yet.
    pub fn start(via: Via, site: &str, at: DateTime<Utc>) -> Receipt {
        Receipt {
            via,
            site: site.to_string(),
            started_at: at,
            ended_at: at,
            ended: String::new(),
            counts: Counts::default(),
        }
    }

    /// Reads a receipt written as JSON by any version: the receiver's receipts from before
    /// the other ways were recorded have no `via` and are associations.
    pub fn from_json(mut value: serde_json::Value) -> Result<Receipt, serde_json::Error> {
        if let Some(object) = value.as_object_mut() {
            object
                .entry("via")
                .or_insert_with(|| serde_json::Value::from("association"));
        }
        serde_json::from_value(value)
    }
}

/// Where the receiver hands its receipts (called on the association's thread, so it must
/// return at once: queue the receipt, do not write it here).
pub type ReceiptSink = Arc<dyn Fn(Receipt) + Send + Sync>;

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn a_receivers_receipt_of_before_via_still_reads_as_an_association() {
        let old = serde_json::json!({
            "calling_ae_title": "SCANNER", "peer": "10.0.0.7:4100", "site": "KS",
            "started_at": "2026-03-01T10:00:00Z", "ended_at": "2026-03-01T10:00:05Z",
            "ended": "released", "new": 3, "duplicate": 1, "conflict": 0, "refused": 2,
            "series": {"1.2.3": 4}
        });
        let r = Receipt::from_json(old).unwrap();
        assert_eq!(
            r.via,
            Via::Association {
                calling_ae_title: "SCANNER".into(),
                peer: "10.0.0.7:4100".into()
            }
        );
        assert_eq!(
            (r.counts.new, r.counts.duplicate, r.counts.refused),
            (3, 1, 2)
        );
        assert_eq!(r.counts.series["1.2.3"], 4);
        assert_eq!(r.via.from(), "SCANNER at 10.0.0.7:4100");
    }

    #[test]
    fn every_way_writes_one_flat_object_that_reads_back_the_same() {
        let at = Utc.with_ymd_and_hms(2026, 3, 1, 10, 0, 0).unwrap();
        let mut r = Receipt::start(
            Via::Pull {
                peer_name: "ks-orthanc".into(),
                url: "http://127.0.0.1:8042".into(),
                from_seq: 10,
                to_seq: 42,
                changes: 32,
                ignored: 5,
                gone: 1,
            },
            "KS",
            at,
        );
        r.counts.stored(StoreOutcome::New, "1.2.3");
        r.counts.stored(StoreOutcome::Duplicate, "1.2.3");
        r.ended = "completed".into();
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["via"], "pull");
        assert_eq!(json["to_seq"], 42);
        assert_eq!(json["new"], 1);
        assert_eq!(json["series"]["1.2.3"], 2);
        assert_eq!(Receipt::from_json(json).unwrap(), r);
        let import = Receipt::start(
            Via::FolderImport {
                folder: "/media/cd".into(),
                os_user: "nurse".into(),
                files: 0,
            },
            "UU",
            at,
        );
        let json = serde_json::to_value(&import).unwrap();
        assert_eq!(json["via"], "folder_import");
        assert_eq!(Receipt::from_json(json).unwrap(), import);
    }
}
