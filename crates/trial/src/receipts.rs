//! The DICOM receiver's receipts in the audit trail: every association that delivered
//! objects (or tried to) is recorded with its sender's AE title and address, the site its
//! objects were stored for, what was stored and how it ended, as the receiver.

use store::NewEvent;

use crate::Trial;
use crate::access::Actor;
use crate::error::{Error, Result};

/// The audit stream of the receiver's receipts.
pub const RECEIPTS_STREAM: &str = "dicom-receipts";

/// The kind of a receipt's event.
pub const RECEIPT_KIND: &str = "dicom_association_received";

impl Trial {
    /// Records one association's receipt (see `archive::Receipt`) in the audit trail.
    pub async fn record_receipt(&self, receipt: &archive::Receipt) -> Result<()> {
        let actor = Actor {
            username: "system:dicom-receiver".into(),
            role: "system".into(),
            site: Some(receipt.site.clone()),
        };
        let payload =
            serde_json::to_value(receipt).map_err(|e| Error::internal("encoding a receipt", e))?;
        let event = NewEvent {
            kind: RECEIPT_KIND.into(),
            payload,
        };
        self.store()
            .append_at_end(RECEIPTS_STREAM, &[event], &actor.meta(self.now(), None))
            .await?;
        Ok(())
    }
}
