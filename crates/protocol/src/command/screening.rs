//! Screening-data commands (PROTOCOL §5): one web form each, one list item per command.

use chrono::{DateTime, NaiveDate, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::labs::{Analyte, SampleOrigin};
use crate::participant::{Participant, current};
use crate::records::{
    AttestedCriterion, DiseaseExtent, ESignature, IhcScore, IshResult, LesionType,
    OtherMalignancyType, Specimen, TestResult, TreatmentSetting,
};
use crate::settings::Settings;

/// Records one line of earlier treatment (IN2).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordTreatmentLine {
    /// Palliative (metastatic or locally advanced disease), adjuvant or neoadjuvant.
    pub setting: TreatmentSetting,
    /// The drugs given, e.g. "paclitaxel" or "EC → docetaxel".
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
    /// To correct an earlier entry: its id (e.g. lab-2); empty for a new entry.
    #[serde(default)]
    pub corrects: Option<String>,
    /// Why the earlier entry is corrected (required for a correction).
    #[serde(default)]
    pub correction_reason: Option<String>,
}

/// Records one lesion from screening imaging (IN4, IN5).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordLesion {
    /// A short label for the lesion, unique for this participant, e.g. L1.
    pub lesion_id: String,
    /// Organ or region, e.g. liver, lung, axillary lymph node.
    pub organ: String,
    /// Nodal, non-nodal or bone: decides how it is measured (RECIST 1.1).
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
    /// To correct an earlier entry: its id (e.g. lab-2); empty for a new entry.
    #[serde(default)]
    pub corrects: Option<String>,
    /// Why the earlier entry is corrected (required for a correction).
    #[serde(default)]
    pub correction_reason: Option<String>,
}

/// Records one lab result (EX4, EX5).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordLab {
    /// The laboratory test.
    pub analyte: Analyte,
    /// Value.
    pub value: f64,
    /// The unit as printed on the lab report; leave empty for INR.
    pub unit: String,
    /// Upper limit of normal, same unit (required for AST, ALT, bilirubin).
    #[serde(default)]
    pub uln: Option<f64>,
    /// Lower limit of normal, same unit.
    #[serde(default)]
    pub lln: Option<f64>,
    /// Sample date and time.
    pub sample_at: DateTime<Utc>,
    /// A study sample, or one from routine care transcribed.
    pub origin: SampleOrigin,
    /// Tick only when the sample really was taken before consent and is entered now: it is
    /// recorded with a major deviation instead of being refused.
    #[serde(default)]
    pub late_entry_of_fact: bool,
    /// To correct an earlier entry: its id (e.g. lab-2); empty for a new entry.
    #[serde(default)]
    pub corrects: Option<String>,
    /// Why the earlier entry is corrected (required for a correction).
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
    /// To correct an earlier entry: its id (e.g. lab-2); empty for a new entry.
    #[serde(default)]
    pub corrects: Option<String>,
    /// Why the earlier entry is corrected (required for a correction).
    #[serde(default)]
    pub correction_reason: Option<String>,
}

/// Records WHO performance status (IN6).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordPerformanceStatus {
    /// WHO (ECOG) performance status, 0 (fully active) to 4 (completely disabled).
    pub who_ps: u8,
    /// Date assessed.
    pub assessed_on: NaiveDate,
    /// To correct an earlier entry: its id (e.g. lab-2); empty for a new entry.
    #[serde(default)]
    pub corrects: Option<String>,
    /// Why the earlier entry is corrected (required for a correction).
    #[serde(default)]
    pub correction_reason: Option<String>,
}

/// Records child-bearing potential and contraception (IN8).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordChildbearingPotential {
    /// Of child-bearing potential?
    pub childbearing_potential: bool,
    /// When she is not of child-bearing potential: why (postmenopausal ≥ 1 year, surgically sterile).
    #[serde(default)]
    pub basis: Option<String>,
    /// Adequate contraception agreed?
    #[serde(default)]
    pub contraception_agreed: Option<bool>,
    /// The contraception method agreed.
    #[serde(default)]
    pub contraception_method: Option<String>,
    /// Date assessed.
    pub assessed_on: NaiveDate,
    /// To correct an earlier entry: its id (e.g. lab-2); empty for a new entry.
    #[serde(default)]
    pub corrects: Option<String>,
    /// Why the earlier entry is corrected (required for a correction).
    #[serde(default)]
    pub correction_reason: Option<String>,
}

/// Records a pregnancy test (IN8).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordPregnancyTest {
    /// Serum or urine; the protocol requires serum.
    pub specimen: Specimen,
    /// Result.
    pub result: TestResult,
    /// Sample date and time.
    pub sample_at: DateTime<Utc>,
    /// Taken for the study?
    pub for_study: bool,
    /// Tick only when the test really was taken before consent and is entered now: it is
    /// recorded with a major deviation instead of being refused.
    #[serde(default)]
    pub late_entry_of_fact: bool,
    /// To correct an earlier entry: its id (e.g. lab-2); empty for a new entry.
    #[serde(default)]
    pub corrects: Option<String>,
    /// Why the earlier entry is corrected (required for a correction).
    #[serde(default)]
    pub correction_reason: Option<String>,
}

/// Records the structured medical-history review (IN2, EX2–EX5).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordMedicalHistory {
    /// Metastatic, locally advanced or early breast cancer.
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
    /// Anything else the review found worth noting.
    #[serde(default)]
    pub details: Option<String>,
    /// Date reviewed.
    pub reviewed_on: NaiveDate,
    /// To correct an earlier entry: its id (e.g. lab-2); empty for a new entry.
    #[serde(default)]
    pub corrects: Option<String>,
    /// Why the earlier entry is corrected (required for a correction).
    #[serde(default)]
    pub correction_reason: Option<String>,
}

/// Records the HER2 result of one earlier biopsy (EX2).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordPriorHer2Result {
    /// Biopsy date.
    pub biopsy_date: NaiveDate,
    /// Where the biopsy was taken (organ and site).
    pub site_description: String,
    /// Of a metastasis?
    pub metastatic: bool,
    /// The HER2 immunohistochemistry score of that biopsy.
    #[serde(default)]
    pub ihc_score: Option<IhcScore>,
    /// In situ hybridisation: amplified or not, when done.
    #[serde(default)]
    pub ish: Option<IshResult>,
    /// To correct an earlier entry: its id (e.g. lab-2); empty for a new entry.
    #[serde(default)]
    pub corrects: Option<String>,
    /// Why the earlier entry is corrected (required for a correction).
    #[serde(default)]
    pub correction_reason: Option<String>,
}

/// Records one other malignancy (EX3).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordOtherMalignancy {
    /// Basal cell carcinoma of the skin is the registration's one exception.
    pub malignancy_type: OtherMalignancyType,
    /// Which cancer, in words.
    pub description: String,
    /// Diagnosis date.
    #[serde(default)]
    pub diagnosed_on: Option<NaiveDate>,
    /// Manifest now?
    pub manifest: bool,
    /// To correct an earlier entry: its id (e.g. lab-2); empty for a new entry.
    #[serde(default)]
    pub corrects: Option<String>,
    /// Why the earlier entry is corrected (required for a correction).
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
    /// Where the biopsy was taken (organ and site).
    pub site_description: String,
    /// Systemic anti-cancer therapy since?
    pub systemic_therapy_since: bool,
    /// HER2-targeted therapy since?
    pub her2_targeted_therapy_since: bool,
    /// Radiotherapy to the lesion since?
    pub radiotherapy_to_lesion_since: bool,
    /// To correct an earlier entry: its id (e.g. lab-2); empty for a new entry.
    #[serde(default)]
    pub corrects: Option<String>,
    /// Why the earlier entry is corrected (required for a correction).
    #[serde(default)]
    pub correction_reason: Option<String>,
}

/// Records an investigator's signed attestation (IN7, IN8, EX1, EX5): her answer to the
/// criterion's question ([`AttestedCriterion::question`]). A later attestation of the
/// same criterion supersedes the earlier one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordAttestation {
    /// The criterion the question is about.
    pub criterion: AttestedCriterion,
    /// Your answer to the criterion's question: Yes or No. There is no default: a question
    /// left unanswered is refused.
    #[serde(default)]
    pub answer: Option<bool>,
    /// What the answer rests on, if worth noting.
    #[serde(default)]
    pub note: Option<String>,
    /// Signature.
    pub signature: ESignature,
}

impl AttestedCriterion {
    /// Every attested criterion, in the protocol's order.
    pub const ALL: [AttestedCriterion; 4] = [
        AttestedCriterion::In7,
        AttestedCriterion::In8,
        AttestedCriterion::Ex1,
        AttestedCriterion::Ex5,
    ];

    /// The question the investigator answers, phrased so that Yes states the criterion
    /// (PROTOCOL §5): Yes to an inclusion means met, Yes to an exclusion means it applies.
    pub fn question(self, settings: &Settings) -> String {
        match self {
            AttestedCriterion::In7 => format!(
                "Is the participant's expected survival more than {} weeks?",
                settings.min_life_expectancy_weeks
            ),
            AttestedCriterion::In8 => "If the participant is of child-bearing potential, has she agreed to                  adequate contraception? (Answer Yes when she is not of child-bearing potential.)"
                .to_string(),
            AttestedCriterion::Ex1 => {
                "Does the participant have a contraindication to trastuzumab deruxtecan (T-DXd)?"
                    .to_string()
            }
            AttestedCriterion::Ex5 => "Does the participant have an increased bleeding risk at                  biopsy for a reason other than the recorded labs and history?"
                .to_string(),
        }
    }

    /// The answer that keeps the participant eligible: Yes (`true`) for the inclusions
    /// IN7 and IN8, No (`false`) for the exclusions EX1 and EX5.
    pub fn eligible_answer(self) -> bool {
        matches!(self, AttestedCriterion::In7 | AttestedCriterion::In8)
    }

    /// The criteria still to be attested for a participant: those without a current
    /// attestation (never answered, or the answer retracted).
    pub fn open_in(p: &Participant) -> Vec<AttestedCriterion> {
        AttestedCriterion::ALL
            .into_iter()
            .filter(|c| !current(&p.attestations).any(|e| e.value.criterion == *c))
            .collect()
    }
}
