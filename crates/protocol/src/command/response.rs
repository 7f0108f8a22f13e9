//! Tumour response commands (PROTOCOL §10): the reader's CT assessments.

use chrono::NaiveDate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::recist::NewLesions;
use crate::response::{NonTargetReading, TargetReading, TumourLesion};

/// Records the baseline CT: up to 5 target lesions (≤ 2 per organ, measurable) and the
/// non-target lesions, checked by the RECIST 1.1 engine's baseline rules (`RECIST`).
///
/// There is one current baseline; a later one is a correction (`corrects`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordBaselineTumourAssessment {
    /// Scan date.
    pub scan_date: NaiveDate,
    /// CT slice thickness, mm.
    pub slice_thickness_mm: f64,
    /// Start of T-DXd (cycle 1 day 1), if known; stable disease is timed from it.
    #[serde(default)]
    pub treatment_start: Option<NaiveDate>,
    /// Target and non-target lesions.
    pub lesions: Vec<TumourLesion>,
    /// Entry id this corrects, if any.
    #[serde(default)]
    pub corrects: Option<String>,
    /// Why the earlier entry is corrected.
    #[serde(default)]
    pub correction_reason: Option<String>,
}

/// Records a follow-up CT: every baseline target measured (or too small, disappeared,
/// not evaluated), every non-target's status, and whether there are new lesions. The
/// protocol runs the RECIST 1.1 engine and records its result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordTumourAssessment {
    /// Scan date.
    pub scan_date: NaiveDate,
    /// One reading per baseline target.
    pub targets: Vec<TargetReading>,
    /// One reading per baseline non-target.
    #[serde(default)]
    pub non_targets: Vec<NonTargetReading>,
    /// New lesions: `no`, `yes` or `equivocal`.
    pub new_lesions: NewLesions,
    /// Entry id this corrects, if any.
    #[serde(default)]
    pub corrects: Option<String>,
    /// Why the earlier entry is corrected.
    #[serde(default)]
    pub correction_reason: Option<String>,
}
