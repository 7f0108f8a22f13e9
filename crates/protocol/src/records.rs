//! The screening facts recorded about a participant (PROTOCOL §5).
//!
//! These are the values held in [`crate::Participant`] and carried by events.
//! Each list item is wrapped in [`crate::Entry`] so corrections keep history.

use chrono::{DateTime, NaiveDate, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::rule::Rule;

/// Sex as recorded at registration (IN1 needs female).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Sex {
    /// Female.
    Female,
    /// Male.
    Male,
    /// Other or not stated.
    Other,
}

/// The setting of a line of anti-cancer treatment (IN2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TreatmentSetting {
    /// Metastatic / locally advanced disease.
    Palliative,
    /// After curative surgery.
    Adjuvant,
    /// Before curative surgery.
    Neoadjuvant,
}

/// One line of earlier anti-cancer treatment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TreatmentLine {
    /// Palliative, adjuvant or neoadjuvant.
    pub setting: TreatmentSetting,
    /// Regimen name, e.g. "EC-paclitaxel".
    pub regimen: String,
    /// Whether the regimen is chemotherapy.
    pub is_chemotherapy: bool,
    /// Whether it contains HER2-targeted therapy.
    pub is_her2_targeted: bool,
    /// First day of treatment.
    pub start_date: NaiveDate,
    /// Last day of treatment, if completed.
    pub end_date: Option<NaiveDate>,
    /// Date of progression (palliative) or relapse ((neo)adjuvant), if any.
    pub progression_date: Option<NaiveDate>,
}

/// Lesion type for RECIST 1.1 measurability (Eisenhauer 2009 §3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum LesionType {
    /// Soft-tissue or visceral lesion that is not a lymph node.
    NonNodal,
    /// Lymph node (measured by short axis).
    LymphNode,
    /// Bone lesion with a soft-tissue component (measure the soft-tissue part).
    BoneWithSoftTissue,
    /// Bone lesion without a soft-tissue component (never measurable).
    BoneOnly,
    /// Other non-measurable disease (effusion, leptomeningeal, lymphangitic, …).
    OtherNonMeasurable,
}

/// A tumour lesion seen on screening imaging.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Lesion {
    /// Site-given lesion id, unique among current lesions (e.g. "L1").
    pub lesion_id: String,
    /// Organ, e.g. "liver", "axillary lymph node".
    pub organ: String,
    /// Lesion type.
    pub lesion_type: LesionType,
    /// Whether it is a metastasis (not the primary tumour).
    pub metastatic: bool,
    /// Longest diameter in mm (for bone, of the soft-tissue component).
    pub longest_diameter_mm: f64,
    /// Short axis in mm (lymph nodes).
    pub short_axis_mm: Option<f64>,
    /// In a previously irradiated field.
    pub previously_irradiated: bool,
    /// Progressed since irradiation (RECIST 1.1 §3.1.3: then it may count as measurable).
    pub progressed_after_irradiation: bool,
    /// Sonographically accessible for biopsy.
    pub accessible_for_ultrasound_biopsy: bool,
    /// Intended as the study biopsy target.
    pub intended_for_biopsy: bool,
    /// Date of the imaging.
    pub imaging_date: NaiveDate,
    /// CT slice thickness in mm, if known.
    pub slice_thickness_mm: Option<f64>,
}

/// A body-weight measurement (Cockcroft–Gault, later dosing).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct BodyWeight {
    /// Weight in kg.
    pub weight_kg: f64,
    /// Date measured.
    pub measured_on: NaiveDate,
}

/// A WHO performance-status assessment (IN6).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PerformanceStatus {
    /// WHO PS 0–4 (5 = dead is not a performance status a living participant has).
    pub who_ps: u8,
    /// Date assessed.
    pub assessed_on: NaiveDate,
}

/// Child-bearing potential and contraception (IN8).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ChildbearingStatus {
    /// Of child-bearing potential.
    pub childbearing_potential: bool,
    /// Why not, when not (e.g. "postmenopausal ≥ 1 year", "surgically sterile").
    pub basis: Option<String>,
    /// Adequate contraception agreed (needed when of child-bearing potential).
    pub contraception_agreed: Option<bool>,
    /// Method agreed.
    pub contraception_method: Option<String>,
    /// Date assessed.
    pub assessed_on: NaiveDate,
}

/// Pregnancy-test specimen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Specimen {
    /// Serum hCG (the one the protocol requires).
    Serum,
    /// Urine hCG.
    Urine,
}

/// Pregnancy-test result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TestResult {
    /// Negative.
    Negative,
    /// Positive.
    Positive,
    /// Inconclusive.
    Inconclusive,
}

/// A pregnancy test.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PregnancyTest {
    /// Serum or urine.
    pub specimen: Specimen,
    /// Result.
    pub result: TestResult,
    /// When the sample was taken.
    pub sample_at: DateTime<Utc>,
    /// Taken for the study (falls under the consent gate).
    pub for_study: bool,
}

/// Disease extent (IN2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DiseaseExtent {
    /// Metastatic breast cancer.
    Metastatic,
    /// Locally advanced breast cancer.
    LocallyAdvanced,
    /// Neither (early breast cancer): not the trial population.
    Early,
}

/// Structured medical-history answers for IN2, EX2, EX3, EX4 and EX5.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct MedicalHistory {
    /// Extent of the breast cancer.
    pub disease_extent: DiseaseExtent,
    /// Whether any earlier biopsy of a metastasis exists (its HER2 results are recorded one by one).
    pub earlier_metastatic_biopsies: bool,
    /// Whether any other malignancy is known (recorded one by one).
    pub other_malignancies_known: bool,
    /// Known bleeding disorder (haemophilia, von Willebrand disease, platelet disorder).
    pub known_bleeding_disorder: bool,
    /// Anticoagulant or antiplatelet treatment that cannot be temporarily paused.
    pub anticoagulant_cannot_be_paused: bool,
    /// Liver metastases (EX4 AST/ALT limit).
    pub liver_metastases: bool,
    /// History of ILD/pneumonitis needing steroids (shown with EX1; SmPC 4.4).
    pub ild_history: bool,
    /// Free-text details.
    pub details: Option<String>,
    /// Date the history was reviewed.
    pub reviewed_on: NaiveDate,
}

/// HER2 IHC score (ASCO/CAP 2023 with the ultralow split, PROTOCOL §8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum IhcScore {
    /// IHC 0 without membrane staining.
    Zero,
    /// IHC 0 with faint incomplete staining in ≤ 10 % of cells.
    Ultralow,
    /// IHC 1+.
    OnePlus,
    /// IHC 2+.
    TwoPlus,
    /// IHC 3+.
    ThreePlus,
}

/// HER2 ISH result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum IshResult {
    /// Amplified.
    Amplified,
    /// Not amplified.
    NotAmplified,
}

/// HER2 result of an earlier biopsy (EX2).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PriorHer2Result {
    /// Date of the biopsy.
    pub biopsy_date: NaiveDate,
    /// Where the biopsy was taken.
    pub site_description: String,
    /// Whether the biopsy was of a metastasis.
    pub metastatic: bool,
    /// IHC score, if done.
    pub ihc_score: Option<IhcScore>,
    /// ISH result, if done.
    pub ish: Option<IshResult>,
}

impl PriorHer2Result {
    /// HER2-positive: IHC 3+ and/or ISH amplified (ASCO/CAP 2018/2023).
    pub fn her2_positive(&self) -> bool {
        self.ihc_score == Some(IhcScore::ThreePlus) || self.ish == Some(IshResult::Amplified)
    }
}

/// Type of another malignancy (EX3; exceptions are configurable).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OtherMalignancyType {
    /// Basal cell carcinoma of the skin (the registration's exception).
    BasalCellCarcinomaSkin,
    /// Squamous cell carcinoma of the skin.
    SquamousCellCarcinomaSkin,
    /// Carcinoma in situ of the cervix.
    CarcinomaInSituCervix,
    /// Melanoma.
    Melanoma,
    /// Any other malignancy.
    Other,
}

/// Another malignancy in the history (EX3).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct OtherMalignancy {
    /// Type.
    pub malignancy_type: OtherMalignancyType,
    /// Description.
    pub description: String,
    /// Date of diagnosis, if known.
    pub diagnosed_on: Option<NaiveDate>,
    /// Manifest (active) now.
    pub manifest: bool,
}

/// An earlier biopsy offered instead of the study biopsy (IN4 exception, PROTOCOL §7).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ArchivalBiopsy {
    /// Date of the biopsy.
    pub biopsy_date: NaiveDate,
    /// The biopsied lesion's id, when it is in the lesion list.
    pub lesion_id: Option<String>,
    /// Where the biopsy was taken.
    pub site_description: String,
    /// Any systemic anti-cancer therapy since the biopsy.
    pub systemic_therapy_since: bool,
    /// HER2-targeted therapy since the biopsy.
    pub her2_targeted_therapy_since: bool,
    /// Local radiotherapy to the biopsied lesion since the biopsy.
    pub radiotherapy_to_lesion_since: bool,
}

/// An investigator's electronic signature (PROTOCOL §12; 21 CFR 11.50).
///
/// The server fills it after the user re-enters the password.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ESignature {
    /// Printed name or user name of the signer.
    pub signer: String,
    /// The signer's role, e.g. "investigator".
    pub role: String,
    /// The meaning of the signature, e.g. "I confirm the eligibility assessment".
    pub meaning: String,
    /// When it was signed.
    pub signed_at: DateTime<Utc>,
}

/// The criteria an investigator attests (PROTOCOL §5). Each is asked as a Yes/No question
/// phrased so that Yes states the criterion (`AttestedCriterion::question`), and the
/// stored `answer` is that reply: `true` = Yes. So Yes keeps her eligible for the
/// inclusions IN7 and IN8 and excludes her for the exclusions EX1 and EX5
/// (`AttestedCriterion::eligible_answer`). There is no default answer.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
pub enum AttestedCriterion {
    /// Inclusion: expected survival more than 12 weeks (Yes = met).
    #[serde(rename = "IN7")]
    In7,
    /// Inclusion: adequate contraception agreed if of child-bearing potential (Yes = met).
    #[serde(rename = "IN8")]
    In8,
    /// Exclusion: contraindication to T-DXd (Yes = excluded).
    #[serde(rename = "EX1")]
    Ex1,
    /// Exclusion: increased biopsy bleeding risk for another reason (Yes = excluded).
    #[serde(rename = "EX5")]
    Ex5,
}

impl AttestedCriterion {
    /// The criterion's rule.
    pub fn rule(&self) -> Rule {
        match self {
            AttestedCriterion::In7 => Rule::IN7,
            AttestedCriterion::In8 => Rule::IN8,
            AttestedCriterion::Ex1 => Rule::EX1,
            AttestedCriterion::Ex5 => Rule::EX5,
        }
    }
}

/// An investigator's signed statement about an attested criterion.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Attestation {
    /// Which criterion.
    pub criterion: AttestedCriterion,
    /// Whether the criterion's statement is true (see [`AttestedCriterion`]).
    pub answer: bool,
    /// Optional note.
    pub note: Option<String>,
    /// The signature.
    pub signature: ESignature,
}

/// Severity of a protocol deviation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeviationSeverity {
    /// Minor deviation.
    Minor,
    /// Major deviation (e.g. a study procedure before consent).
    Major,
}

/// A recorded protocol deviation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Deviation {
    /// Id, e.g. "dev-1".
    pub deviation_id: String,
    /// Severity.
    pub severity: DeviationSeverity,
    /// The rule that was broken.
    pub rule: Rule,
    /// What happened.
    pub description: String,
    /// When the deviating fact happened.
    pub occurred_at: DateTime<Utc>,
    /// The entry the deviation concerns, if any.
    pub entry_id: Option<String>,
}

/// Human-readable labels for evidence strings.
macro_rules! labels {
    ($ty:ty { $($variant:ident => $text:expr),+ $(,)? }) => {
        impl $ty {
            /// The value as a site nurse reads it.
            pub fn label(&self) -> &'static str {
                match self {
                    $(<$ty>::$variant => $text,)+
                }
            }
        }
    };
}

labels!(Sex { Female => "female", Male => "male", Other => "other" });
labels!(TreatmentSetting {
    Palliative => "palliative",
    Adjuvant => "adjuvant",
    Neoadjuvant => "neoadjuvant",
});
labels!(LesionType {
    NonNodal => "non-nodal",
    LymphNode => "lymph node",
    BoneWithSoftTissue => "bone with soft-tissue component",
    BoneOnly => "bone without soft-tissue component",
    OtherNonMeasurable => "non-measurable disease",
});
labels!(TestResult {
    Negative => "negative",
    Positive => "positive",
    Inconclusive => "inconclusive",
});
labels!(DiseaseExtent {
    Metastatic => "metastatic",
    LocallyAdvanced => "locally advanced",
    Early => "early (neither metastatic nor locally advanced)",
});
labels!(IhcScore {
    Zero => "0 (null)",
    Ultralow => "0 with membrane staining (ultralow)",
    OnePlus => "1+",
    TwoPlus => "2+",
    ThreePlus => "3+",
});
labels!(IshResult { Amplified => "amplified", NotAmplified => "not amplified" });
labels!(OtherMalignancyType {
    BasalCellCarcinomaSkin => "basal cell carcinoma of the skin",
    SquamousCellCarcinomaSkin => "squamous cell carcinoma of the skin",
    CarcinomaInSituCervix => "carcinoma in situ of the cervix",
    Melanoma => "melanoma",
    Other => "other malignancy",
});
