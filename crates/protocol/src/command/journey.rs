//! Commands of the journey after baseline PET (PROTOCOL §7–§9, §11): biopsy, pathology,
//! allocation correction, T-DXd administrations, adverse events and the end of
//! participation. Flat fields so each is one web form; the decision builds the journey
//! records of [`crate::journey`] from them.

use chrono::{DateTime, NaiveDate, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::journey::allocation::AllocationTarget;
use crate::journey::pathology::{ReadKind, StainingCompleteness, StainingIntensity};
use crate::journey::safety::{ActionTaken, AeOutcome, Causality};
use crate::journey::tdxd::DoseLevel;
use crate::records::{ESignature, IhcScore, IshResult};

/// Records the fresh, PET-guided study biopsy of the lesion the investigator chose.
///
/// Refused without valid bleeding-risk labs (INR, platelets, APTT) in the configured
/// window before the biopsy (`BIOPSY_LABS`), or with an anticoagulant not paused
/// (`BIOPSY_ANTICOAGULATION`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordFreshBiopsy {
    /// When the biopsy was taken.
    pub performed_at: DateTime<Utc>,
    /// Anticoagulant or antiplatelet drug she takes, if any (e.g. "apixaban").
    #[serde(default)]
    pub anticoagulant: Option<String>,
    /// Whether that drug was paused before the biopsy.
    #[serde(default)]
    pub anticoagulant_paused: bool,
    /// Last dose before the biopsy, when paused.
    #[serde(default)]
    pub anticoagulant_last_dose_at: Option<DateTime<Utc>>,
    /// A complication, if any (e.g. "haematoma at the puncture site").
    #[serde(default)]
    pub complication: Option<String>,
    /// The complication's CTCAE v5.0 MedDRA code, when coded.
    #[serde(default)]
    pub complication_meddra_code: Option<u32>,
    /// The complication's CTCAE grade (1–5), when coded.
    #[serde(default)]
    pub complication_grade: Option<u8>,
    /// The study procedure really happened before consent (raises a major deviation).
    #[serde(default)]
    pub late_entry_of_fact: bool,
}

/// Uses an earlier (archival) biopsy instead of a fresh study biopsy (PROTOCOL §7).
///
/// Refused when the biopsy does not precede PET1, is too old on the day of PET1, or
/// has intervening therapy under the settings (`ARCHIVAL_BIOPSY`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UseArchivalBiopsy {
    /// The earlier-biopsy entry recorded at screening, e.g. `archival-1`.
    pub archival_entry: String,
    /// Date the decision to use it is made (the age counts to PET1, not to this day).
    pub used_on: NaiveDate,
    /// The sample really was used although it does not qualify (raises a major deviation).
    #[serde(default)]
    pub late_entry_of_fact: bool,
}

/// Records the pathology report of one specimen (one read: local or central).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordPathology {
    /// The biopsy the specimen comes from (e.g. `biopsy-1`).
    pub biopsy_id: String,
    /// Specimen (block) label, e.g. "A1".
    pub specimen_id: String,
    /// Local or central read.
    pub read: ReadKind,
    /// The reporting pathologist.
    pub reader: String,
    /// Report date.
    pub reported_on: NaiveDate,
    /// Non-diagnostic: why (no tumour, too little tissue, …). Leave empty for a HER2 result.
    #[serde(default)]
    pub non_diagnostic_reason: Option<String>,
    /// HER2 IHC score (0 without staining, ultralow, 1+, 2+, 3+).
    #[serde(default)]
    pub ihc_score: Option<IhcScore>,
    /// Percentage of tumour cells with membrane staining.
    #[serde(default)]
    pub stained_pct: Option<f64>,
    /// Staining intensity.
    #[serde(default)]
    pub intensity: Option<StainingIntensity>,
    /// Staining completeness.
    #[serde(default)]
    pub completeness: Option<StainingCompleteness>,
    /// Antibody clone, e.g. "4B5".
    #[serde(default)]
    pub antibody_clone: Option<String>,
    /// ISH HER2/CEP17 ratio (for IHC 2+).
    #[serde(default)]
    pub ish_ratio: Option<f64>,
    /// ISH mean HER2 copy number per cell.
    #[serde(default)]
    pub ish_mean_copies: Option<f64>,
    /// ISH result as reported.
    #[serde(default)]
    pub ish_result: Option<IshResult>,
    /// Documented afterwards: a report really dated before its biopsy is then recorded with
    /// a major deviation instead of being refused (`CHRONOLOGY`).
    #[serde(default)]
    pub late_entry_of_fact: bool,
}

/// Changes the allocation: only as a signed correction with a reason (PROTOCOL §8).
/// It also confirms (or, naming the allocation in force, declines) a change that a
/// later pathology report re-derived; it works from every allocation outcome, off
/// study (HER2-positive) included. Moving her off arm 1 after T-DXd was given is
/// recorded with a major deviation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CorrectAllocation {
    /// The arm she belongs to, or off study (HER2-positive: not the trial population).
    pub arm: AllocationTarget,
    /// Why the allocation in force is wrong (or why a re-derived one is declined).
    pub reason: String,
    /// The investigator's signature.
    pub signature: ESignature,
}

/// Records one administration of trastuzumab deruxtecan (arm 1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordTdxdAdministration {
    /// Date given.
    pub date: NaiveDate,
    /// Body weight used for the dose, kg.
    pub weight_kg: f64,
    /// Dose level, mg/kg: 5.4, reduced to 4.4, then 3.2.
    pub dose_level: DoseLevel,
    /// Dose given, mg (dose level × weight).
    pub dose_mg: f64,
    /// Why the level is lower than before (required for a reduction the rules did not impose).
    #[serde(default)]
    pub reduction_reason: Option<String>,
    /// Why the dose is later than due, if it is.
    #[serde(default)]
    pub delay_reason: Option<String>,
    /// Documented afterwards: a first dose really given before the allocation is then
    /// recorded with a major deviation instead of being refused (`CHRONOLOGY`).
    #[serde(default)]
    pub late_entry_of_fact: bool,
}

/// Records an adverse event, coded with CTCAE v5.0 (or corrects one: new grade,
/// resolution, report to the sponsor).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordAdverseEvent {
    /// CTCAE v5.0 term by its MedDRA code (e.g. 10037765 Pneumonitis).
    pub meddra_code: u32,
    /// The reporter's words, required for an "Other, specify" term.
    #[serde(default)]
    pub verbatim: Option<String>,
    /// CTCAE grade 1–5.
    pub grade: u8,
    /// Onset date.
    pub onset: NaiveDate,
    /// Resolution date, once resolved.
    #[serde(default)]
    pub resolved: Option<NaiveDate>,
    /// Serious: results in death.
    #[serde(default)]
    pub serious_death: bool,
    /// Serious: life-threatening.
    #[serde(default)]
    pub serious_life_threatening: bool,
    /// Serious: requires or prolongs hospitalisation.
    #[serde(default)]
    pub serious_hospitalisation: bool,
    /// Serious: persistent or significant disability.
    #[serde(default)]
    pub serious_disability: bool,
    /// Serious: congenital anomaly or birth defect.
    #[serde(default)]
    pub serious_congenital_anomaly: bool,
    /// Serious: important medical event.
    #[serde(default)]
    pub serious_important_medical_event: bool,
    /// Relation to the IMP, [68Ga]Ga-ABY-025.
    pub relation_imp: Causality,
    /// Relation to trastuzumab deruxtecan.
    pub relation_tdxd: Causality,
    /// Action taken with T-DXd.
    pub action_tdxd: ActionTaken,
    /// Outcome.
    pub outcome: AeOutcome,
    /// When the site became aware of it (starts the 24-hour clock of a serious event).
    pub site_aware_at: DateTime<Utc>,
    /// When it was reported to the sponsor, once reported.
    #[serde(default)]
    pub reported_to_sponsor_at: Option<DateTime<Utc>>,
    /// Entry id this corrects (a follow-up of the same event), if any.
    #[serde(default)]
    pub corrects: Option<String>,
    /// Why the earlier entry is corrected.
    #[serde(default)]
    pub correction_reason: Option<String>,
}

/// Reports a pregnancy of a participant exposed to the IMP or to T-DXd (PROTOCOL §11);
/// the sponsor is told within the same 24 hours as a serious adverse event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordPregnancyReport {
    /// When the site learnt of the pregnancy.
    pub site_aware_at: DateTime<Utc>,
    /// Estimated date of conception, if known.
    #[serde(default)]
    pub estimated_conception: Option<NaiveDate>,
    /// Exposed to T-DXd (besides the IMP).
    #[serde(default)]
    pub exposed_to_tdxd: bool,
    /// When it was reported to the sponsor, once reported.
    #[serde(default)]
    pub reported_to_sponsor_at: Option<DateTime<Utc>>,
    /// Outcome or follow-up, when known.
    #[serde(default)]
    pub note: Option<String>,
}

/// Why participation ends (besides withdrawal, death and loss to follow-up).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OffStudyReason {
    /// Arm 2: the safety follow-up after the PET is complete.
    Arm2FollowUpComplete,
    /// Arm 1: the configured end event has happened.
    Arm1EndEvent,
    /// The investigator ends participation for another reason (stated).
    InvestigatorDecision,
}

/// Ends participation (off study).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EndParticipation {
    /// Why.
    pub reason: OffStudyReason,
    /// Date of the last study contact.
    pub ended_on: NaiveDate,
    /// Note (required for an investigator decision).
    #[serde(default)]
    pub note: Option<String>,
}
