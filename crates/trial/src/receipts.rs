//! The receipts of the DICOM objects that arrived, in the audit trail: every association
//! of the receiver, every folder import and every round of the PACS pull that brought
//! (or refused) something is one event of the stream [`RECEIPTS_STREAM`], written by the
//! system that received it, for the site the objects were stored for; and the list of
//! them that the receipts page and API show.
//!
//! Each way has its own event kind and actor, so the audit trail says how the objects
//! came without reading the payload:
//!
//! | way | kind | actor |
//! |---|---|---|
//! | association of the receiver | [`ASSOCIATION_KIND`] | `system:dicom-receiver` |
//! | folder import (`her2ex pet import`) | [`IMPORT_KIND`] | `system:folder-import` (the OS account is in the payload) |
//! | PACS pull round | [`PULL_KIND`] | `system:pacs-pull` |
//!
//! The payload is `archive::Receipt` as JSON; receipts written before the other ways were
//! recorded lack its `via` and read as associations.

use std::collections::BTreeMap;

use archive::{Receipt, Via};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use store::{NewEvent, RecordedEvent};

use crate::Trial;
use crate::access::{Actor, User};
use crate::error::{Error, Result};
use crate::participants::{DEFAULT_PAGE_SIZE, Page};
use crate::roles::Capability;

/// The audit stream of the receipts.
pub const RECEIPTS_STREAM: &str = "dicom-receipts";

/// The kind of an association's receipt.
pub const ASSOCIATION_KIND: &str = "dicom_association_received";

/// The kind of a folder import's receipt.
pub const IMPORT_KIND: &str = "dicom_folder_imported";

/// The kind of a PACS pull round's receipt.
pub const PULL_KIND: &str = "dicom_pull_received";

/// The event kind and the system actor of a way of arrival.
fn kind_and_actor(via: &Via) -> (&'static str, &'static str) {
    match via {
        Via::Association { .. } => (ASSOCIATION_KIND, "system:dicom-receiver"),
        Via::FolderImport { .. } => (IMPORT_KIND, "system:folder-import"),
        Via::Pull { .. } => (PULL_KIND, "system:pacs-pull"),
    }
}

/// Filter and page of the receipts list.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
pub struct ReceiptQuery {
    /// Only this site (study-wide roles; a site's staff always see their own site).
    #[serde(default)]
    pub site: Option<String>,
    /// Rows per page (default 100, at most 1000).
    #[serde(default)]
    pub limit: Option<u32>,
    /// Rows to skip.
    #[serde(default)]
    pub offset: Option<u32>,
}

/// One receipt as the list shows it.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ReceiptRow {
    /// The receipt's place in the audit trail (its event's sequence number).
    pub seq: i64,
    /// When it was recorded (UTC).
    pub recorded_at: DateTime<Utc>,
    /// Who recorded it (`system:dicom-receiver`, `system:folder-import`,
    /// `system:pacs-pull`).
    pub actor: String,
    /// How the objects came: `association`, `folder_import` or `pull`.
    pub via: String,
    /// Where from: the sender's AE title and address, the folder and the OS account that
    /// imported it, or the PACS peer's name and address.
    pub from: String,
    /// The site the objects were stored for.
    pub site: String,
    /// When the delivery started (UTC).
    pub started_at: DateTime<Utc>,
    /// When it ended (UTC).
    pub ended_at: DateTime<Utc>,
    /// How it ended: `released`, `completed`, or why not.
    pub ended: String,
    /// Objects stored for the first time.
    pub new: u64,
    /// Objects already held.
    pub duplicate: u64,
    /// Objects held in another version, kept beside it.
    pub conflict: u64,
    /// Objects not stored.
    pub refused: u64,
    /// Objects stored per SeriesInstanceUID.
    pub series: BTreeMap<String, u64>,
    /// The way's own details as recorded (AE title and address; folder, OS account and
    /// files found; peer, change range, ignored and gone counts).
    pub details: serde_json::Value,
}

impl ReceiptRow {
    fn of(event: RecordedEvent) -> std::result::Result<ReceiptRow, (i64, serde_json::Error)> {
        let seq = event.seq;
        let receipt = Receipt::from_json(event.payload).map_err(|e| (seq, e))?;
        let details = serde_json::to_value(&receipt.via).unwrap_or_default();
        Ok(ReceiptRow {
            seq,
            recorded_at: event.meta.recorded_at,
            actor: event.meta.actor,
            via: receipt.via.name().to_string(),
            from: receipt.via.from(),
            site: receipt.site,
            started_at: receipt.started_at,
            ended_at: receipt.ended_at,
            ended: receipt.ended,
            new: receipt.counts.new,
            duplicate: receipt.counts.duplicate,
            conflict: receipt.counts.conflict,
            refused: receipt.counts.refused,
            series: receipt.counts.series,
            details,
        })
    }
}

impl Trial {
    /// Records one delivery's receipt (see `archive::Receipt`) in the audit trail, as the
    /// system that received it, for the receipt's site.
    pub async fn record_receipt(&self, receipt: &Receipt) -> Result<()> {
        let (kind, username) = kind_and_actor(&receipt.via);
        let actor = Actor {
            username: username.into(),
            role: "system".into(),
            site: Some(receipt.site.clone()),
        };
        let payload =
            serde_json::to_value(receipt).map_err(|e| Error::internal("encoding a receipt", e))?;
        let event = NewEvent {
            kind: kind.into(),
            payload,
        };
        self.store()
            .append_at_end(RECEIPTS_STREAM, &[event], &actor.meta(self.now(), None))
            .await?;
        Ok(())
    }

    /// A page of the receipts this user may see, newest first: a site's staff their own
    /// site's, everyone else every site's (or one site's, with `site`). Read a page at a
    /// time from the audit stream (each receipt's event is recorded for its site). A
    /// receipt that does not read is logged and left out of the page (it stays in the
    /// audit trail).
    pub async fn receipts(&self, user: &User, query: &ReceiptQuery) -> Result<Page<ReceiptRow>> {
        user.require(Capability::ReadReceipts)?;
        let site = user.site_scope().or_else(|| {
            query
                .site
                .as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        });
        let limit = query
            .limit
            .unwrap_or(DEFAULT_PAGE_SIZE)
            .clamp(1, store::MAX_PAGE_SIZE);
        let offset = query.offset.unwrap_or(0);
        let (events, total) = self
            .store()
            .read_stream_newest(
                RECEIPTS_STREAM,
                site.as_deref(),
                i64::from(limit),
                i64::from(offset),
            )
            .await?;
        let rows = events
            .into_iter()
            .filter_map(|event| match ReceiptRow::of(event) {
                Ok(row) => Some(row),
                Err((seq, e)) => {
                    tracing::warn!(seq, error = %e, "a receipt of the audit trail does not read");
                    None
                }
            })
            .collect();
        Ok(Page {
            rows,
            total,
            offset,
            limit,
        })
    }
}
