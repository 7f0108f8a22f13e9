//! Screening-data commands (PROTOCOL §5): one web form each, one list item per command.

use chrono::{DateTime, NaiveDate, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::labs::{Analyte, SampleOrigin};
use crate::records::{
    AttestedCriterion, DiseaseExtent, ESignature, IhcScore, IshResult, LesionType,
    OtherMalignancyType, Specimen, TestResult, TreatmentSetting,
};

/// Records one line of earlier treatment (IN2).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordTreatmentLine {
    /// Setting.
    pub setting: TreatmentSetting,
    /// Regimen.
    pub regimen: String,
    /// Chemotherapy?
    pub is_chemotherapy: bool,
    /// HER2-targeted?
    pub is_her2_targeted: bool,
    /// Start date.
    pub start_date: NaiveDate,
    /// End date, if completed.
    #[serde(default)]
    pub end_date: Option<NaiveDate>,
    /// Progression or relapse date, if any.
    #[serde(default)]
    pub progression_date: Option<NaiveDate>,
    /// Entry id this corrects.
    #[serde(default)]
    pub corrects: Option<String>,
    /// Why the earlier entry is corrected.
    #[serde(default)]
    pub correction_reason: Option<String>,
}

/// Records one lesion from screening imaging (IN4, IN5).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordLesion {
    /// Lesion id, e.g. "L1".
    pub lesion_id: String,
    /// Organ.
    pub organ: String,
    /// Type.
    pub lesion_type: LesionType,
    /// Metastasis (not the primary tumour)?
    pub metastatic: bool,
    /// Longest diameter, mm.
    pub longest_diameter_mm: f64,
    /// Short axis, mm (lymph nodes).
    #[serde(default)]
    pub short_axis_mm: Option<f64>,
    /// In an irradiated field?
    #[serde(default)]
    pub previously_irradiated: bool,
    /// Progressed since irradiation?
    #[serde(default)]
    pub progressed_after_irradiation: bool,
    /// Accessible for ultrasound-guided biopsy?
    pub accessible_for_ultrasound_biopsy: bool,
    /// Intended study biopsy target?
    #[serde(default)]
    pub intended_for_biopsy: bool,
    /// Imaging date.
    pub imaging_date: NaiveDate,
    /// CT slice thickness, mm.
    #[serde(default)]
    pub slice_thickness_mm: Option<f64>,
    /// Entry id this corrects.
    #[serde(default)]
    pub corrects: Option<String>,
    /// Why the earlier entry is corrected.
    #[serde(default)]
    pub correction_reason: Option<String>,
}

/// Records one lab result (EX4, EX5).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordLab {
    /// Analyte.
    pub analyte: Analyte,
    /// Value.
    pub value: f64,
    /// Unit as reported by the lab ("" for INR).
    pub unit: String,
    /// Upper limit of normal, same unit (required for AST, ALT, bilirubin).
    #[serde(default)]
    pub uln: Option<f64>,
    /// Lower limit of normal, same unit.
    #[serde(default)]
    pub lln: Option<f64>,
    /// Sample date and time.
    pub sample_at: DateTime<Utc>,
    /// Study sample or routine care.
    pub origin: SampleOrigin,
    /// The sample really was taken before consent and is documented late (see module docs).
    #[serde(default)]
    pub late_entry_of_fact: bool,
    /// Entry id this corrects.
    #[serde(default)]
    pub corrects: Option<String>,
    /// Why the earlier entry is corrected.
    #[serde(default)]
    pub correction_reason: Option<String>,
}

/// Records body weight.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordBodyWeight {
    /// Weight, kg.
    pub weight_kg: f64,
    /// Date measured.
    pub measured_on: NaiveDate,
    /// Entry id this corrects.
    #[serde(default)]
    pub corrects: Option<String>,
    /// Why the earlier entry is corrected.
    #[serde(default)]
    pub correction_reason: Option<String>,
}

/// Records WHO performance status (IN6).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordPerformanceStatus {
    /// WHO PS 0–4.
    pub who_ps: u8,
    /// Date assessed.
    pub assessed_on: NaiveDate,
    /// Entry id this corrects.
    #[serde(default)]
    pub corrects: Option<String>,
    /// Why the earlier entry is corrected.
    #[serde(default)]
    pub correction_reason: Option<String>,
}

/// Records child-bearing potential and contraception (IN8).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordChildbearingPotential {
    /// Of child-bearing potential?
    pub childbearing_potential: bool,
    /// Basis when not (postmenopausal ≥ 1 year, surgically sterile).
    #[serde(default)]
    pub basis: Option<String>,
    /// Adequate contraception agreed?
    #[serde(default)]
    pub contraception_agreed: Option<bool>,
    /// Method.
    #[serde(default)]
    pub contraception_method: Option<String>,
    /// Date assessed.
    pub assessed_on: NaiveDate,
    /// Entry id this corrects.
    #[serde(default)]
    pub corrects: Option<String>,
    /// Why the earlier entry is corrected.
    #[serde(default)]
    pub correction_reason: Option<String>,
}

/// Records a pregnancy test (IN8).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordPregnancyTest {
    /// Serum or urine.
    pub specimen: Specimen,
    /// Result.
    pub result: TestResult,
    /// Sample date and time.
    pub sample_at: DateTime<Utc>,
    /// Taken for the study?
    pub for_study: bool,
    /// Really taken before consent, documented late (see module docs).
    #[serde(default)]
    pub late_entry_of_fact: bool,
    /// Entry id this corrects.
    #[serde(default)]
    pub corrects: Option<String>,
    /// Why the earlier entry is corrected.
    #[serde(default)]
    pub correction_reason: Option<String>,
}

/// Records the structured medical-history review (IN2, EX2–EX5).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordMedicalHistory {
    /// Disease extent.
    pub disease_extent: DiseaseExtent,
    /// Any earlier metastatic biopsy?
    pub earlier_metastatic_biopsies: bool,
    /// Any other malignancy known?
    pub other_malignancies_known: bool,
    /// Known bleeding disorder?
    pub known_bleeding_disorder: bool,
    /// Anticoagulant/antiplatelet that cannot be paused?
    pub anticoagulant_cannot_be_paused: bool,
    /// Liver metastases?
    pub liver_metastases: bool,
    /// History of ILD/pneumonitis?
    #[serde(default)]
    pub ild_history: bool,
    /// Details.
    #[serde(default)]
    pub details: Option<String>,
    /// Date reviewed.
    pub reviewed_on: NaiveDate,
    /// Entry id this corrects.
    #[serde(default)]
    pub corrects: Option<String>,
    /// Why the earlier entry is corrected.
    #[serde(default)]
    pub correction_reason: Option<String>,
}

/// Records the HER2 result of one earlier biopsy (EX2).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordPriorHer2Result {
    /// Biopsy date.
    pub biopsy_date: NaiveDate,
    /// Where.
    pub site_description: String,
    /// Of a metastasis?
    pub metastatic: bool,
    /// IHC score.
    #[serde(default)]
    pub ihc_score: Option<IhcScore>,
    /// ISH result.
    #[serde(default)]
    pub ish: Option<IshResult>,
    /// Entry id this corrects.
    #[serde(default)]
    pub corrects: Option<String>,
    /// Why the earlier entry is corrected.
    #[serde(default)]
    pub correction_reason: Option<String>,
}

/// Records one other malignancy (EX3).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordOtherMalignancy {
    /// Type.
    pub malignancy_type: OtherMalignancyType,
    /// Description.
    pub description: String,
    /// Diagnosis date.
    #[serde(default)]
    pub diagnosed_on: Option<NaiveDate>,
    /// Manifest now?
    pub manifest: bool,
    /// Entry id this corrects.
    #[serde(default)]
    pub corrects: Option<String>,
    /// Why the earlier entry is corrected.
    #[serde(default)]
    pub correction_reason: Option<String>,
}

/// Records an earlier biopsy offered instead of the study biopsy (IN4).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordArchivalBiopsy {
    /// Biopsy date.
    pub biopsy_date: NaiveDate,
    /// The biopsied lesion's id, if in the lesion list.
    #[serde(default)]
    pub lesion_id: Option<String>,
    /// Where.
    pub site_description: String,
    /// Systemic anti-cancer therapy since?
    pub systemic_therapy_since: bool,
    /// HER2-targeted therapy since?
    pub her2_targeted_therapy_since: bool,
    /// Radiotherapy to the lesion since?
    pub radiotherapy_to_lesion_since: bool,
    /// Entry id this corrects.
    #[serde(default)]
    pub corrects: Option<String>,
    /// Why the earlier entry is corrected.
    #[serde(default)]
    pub correction_reason: Option<String>,
}

/// Records an investigator's signed attestation (IN7, IN8, EX1, EX5).
/// A later attestation of the same criterion supersedes the earlier one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordAttestation {
    /// Criterion.
    pub criterion: AttestedCriterion,
    /// Whether the criterion's statement is true (see [`AttestedCriterion`]).
    pub answer: bool,
    /// Note.
    #[serde(default)]
    pub note: Option<String>,
    /// Signature.
    pub signature: ESignature,
}
