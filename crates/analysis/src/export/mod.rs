//! Exports other tools read: CDISC ODM 1.3.2 (the whole casebook with its audit facts)
//! and SDTM-like CSV datasets with their data dictionary.
//!
//! Both writers stream: `new` writes the header, `participant` writes one participant's
//! data and forgets it, `finish` closes the file and hands the writer back. Memory stays
//! bounded by one participant however large the study is.
//!
//! Output depends only on the inputs: times come from the data cut-off and the events,
//! never from the clock, and every list is written in a fixed order, so the same cut-off
//! gives the same bytes.
//!
//! | module | what |
//! |---|---|
//! | [`records`] | a participant's recorded facts as export records, each with the event that recorded it |
//! | [`metadata`] | the forms, items and code lists, derived from the protocol types' JSON schemas |
//! | [`odm`] | [`OdmWriter`]: one ODM 1.3.2 snapshot file |
//! | [`sdtm`] | [`SdtmWriter`]: DM, AE, TU, TR, RS, EC, DV datasets and `define.csv` |
//! | [`csv`] | RFC 4180 rows |

pub mod csv;
pub mod metadata;
pub mod odm;
mod odm_meta;
pub mod records;
mod schema;
pub mod sdtm;
mod sdtm_defs;

pub use odm::OdmWriter;
pub use sdtm::{SdtmFiles, SdtmWriter};
mod xml;

/// Why an export failed.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// Writing the output failed (disk full, closed pipe…).
    #[error("writing the export failed: {0}")]
    Io(#[from] std::io::Error),
    /// The input cannot be exported as it is; the message says which participant or fact.
    #[error("cannot export: {0}")]
    Invalid(String),
}

/// What a writer wrote: the numbers a reader of the file can check against.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExportCounts {
    /// Participants written.
    pub participants: usize,
    /// Data written: ODM `ItemData` elements, or SDTM rows over all datasets.
    pub data: usize,
}
