//! Tumour response in the trial (PROTOCOL §10): the reader's CT assessments as recorded
//! facts, and the RECIST 1.1 engine's result over them.
//!
//! The baseline and each follow-up assessment are entries (corrected, never erased). After
//! every change the protocol runs [`crate::recist`] over the current baseline and all
//! current follow-ups and records the whole result with the engine's version
//! ([`ResponseEvaluation`]), so a response shown today can be explained later. The first
//! progressive disease the engine finds is recorded as [`Progression`]: in arm 1 it moves
//! the participant to progression, where the optional PET3 and biopsy are allowed (§9).

use chrono::NaiveDate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::recist::{BoneLesion, CysticLesion, PdAfterCr, TargetResponse, Tenths};
use crate::recist::{NewLesions, NonTargetResponse, NonTargetStatus, OverallResponse, Role};

/// One lesion of the baseline CT.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TumourLesion {
    /// The reader's identifier, e.g. `T1` or `NT1`, unique in the baseline.
    pub id: String,
    /// Organ, e.g. `liver` (lymph nodes count as one organ whatever is written).
    pub organ: String,
    /// A lymph node: its size is the short axis.
    #[serde(default)]
    pub node: bool,
    /// Target (measured at every assessment) or non-target (followed by observation).
    pub role: Role,
    /// Longest diameter, mm (short axis for a node; for a bone lesion, its soft-tissue
    /// component); required for a target.
    #[serde(default)]
    pub diameter_mm: Option<f64>,
    /// A bone lesion: with an identifiable soft-tissue component (measurable through that
    /// component), without one, or blastic (both not measurable) (RECIST 1.1 §3.1.3).
    #[serde(default)]
    pub bone: Option<BoneLesion>,
    /// A cystic lesion: a cystic metastasis (measurable when large enough; non-cystic
    /// targets are preferred) or a simple cyst (not a tumour lesion at all: left out)
    /// (RECIST 1.1 §3.1.3).
    #[serde(default)]
    pub cystic: Option<CysticLesion>,
    /// In a previously irradiated field (or treated loco-regionally): not measurable
    /// unless it has progressed since (RECIST 1.1 §3.1.3; `recist.irradiated_measurable_if_progressed`).
    #[serde(default)]
    pub irradiated: bool,
    /// An irradiated lesion that has progressed since the irradiation.
    #[serde(default)]
    pub progressed_after_irradiation: bool,
}

impl TumourLesion {
    /// A plain soft-tissue lesion or node, without bone, cyst or irradiation qualifiers.
    pub fn new(id: &str, organ: &str, node: bool, role: Role, diameter_mm: Option<f64>) -> Self {
        TumourLesion {
            id: id.to_owned(),
            organ: organ.to_owned(),
            node,
            role,
            diameter_mm,
            bone: None,
            cystic: None,
            irradiated: false,
            progressed_after_irradiation: false,
        }
    }

    /// The RECIST qualifiers in words, e.g. "bone, without soft-tissue component;
    /// irradiated"; empty for a plain lesion.
    pub fn qualifiers(&self) -> String {
        let mut out = Vec::new();
        match self.bone {
            Some(BoneLesion::SoftTissueComponent) => out.push("bone, with soft-tissue component"),
            Some(BoneLesion::WithoutSoftTissue) => out.push("bone, without soft-tissue component"),
            Some(BoneLesion::Blastic) => out.push("bone, blastic"),
            None => {}
        }
        match self.cystic {
            Some(CysticLesion::CysticMetastasis) => out.push("cystic metastasis"),
            Some(CysticLesion::SimpleCyst) => out.push("simple cyst"),
            None => {}
        }
        match (self.irradiated, self.progressed_after_irradiation) {
            (true, true) => out.push("irradiated, progressed since"),
            (true, false) => out.push("irradiated"),
            (false, _) => {}
        }
        out.join("; ")
    }
}

/// The baseline CT: the lesions every later assessment is compared with (RECIST 1.1 §4.2).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TumourBaseline {
    /// Scan date.
    pub scan_date: NaiveDate,
    /// CT slice thickness, mm (sets the smallest measurable size, RECIST 1.1 §3.1.1).
    pub slice_thickness_mm: f64,
    /// Start of T-DXd (cycle 1 day 1), from which stable disease is timed; the scan date
    /// when not given.
    pub treatment_start: Option<NaiveDate>,
    /// Target and non-target lesions.
    pub lesions: Vec<TumourLesion>,
}

impl TumourBaseline {
    /// The day stable disease is timed from.
    pub fn treatment_start(&self) -> NaiveDate {
        self.treatment_start.unwrap_or(self.scan_date)
    }
}

/// What the reader found of one target lesion at a follow-up (RECIST 1.1 §4.3.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TargetFinding {
    /// Measured: the diameter is given.
    Measured,
    /// Present but too small to measure: counts 5 mm.
    TooSmall,
    /// Gone: counts 0 mm.
    Disappeared,
    /// Not assessed or not assessable.
    NotEvaluated,
}

/// One target lesion at a follow-up.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TargetReading {
    /// The baseline lesion's id.
    pub lesion: String,
    /// What was found.
    pub finding: TargetFinding,
    /// The diameter, mm, when measured (short axis for a node).
    #[serde(default)]
    pub diameter_mm: Option<f64>,
}

/// One non-target lesion at a follow-up (RECIST 1.1 §4.3.3).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NonTargetReading {
    /// The baseline lesion's id.
    pub lesion: String,
    /// Absent, present, unequivocal progression or not evaluated.
    pub status: NonTargetStatus,
}

/// A follow-up CT assessment as the reader recorded it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TumourAssessment {
    /// Scan date.
    pub scan_date: NaiveDate,
    /// Every baseline target.
    pub targets: Vec<TargetReading>,
    /// Every baseline non-target.
    pub non_targets: Vec<NonTargetReading>,
    /// New lesions: no, yes or equivocal (RECIST 1.1 §4.3.5).
    pub new_lesions: NewLesions,
}

/// The engine's result at one follow-up.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ResponseTimePoint {
    /// The assessment's entry id.
    pub assessment_id: String,
    /// Scan date.
    pub scan_date: NaiveDate,
    /// Sum of diameters, mm; `None` when a target was not evaluated.
    pub sum_mm: Option<f64>,
    /// Nadir before this assessment, mm.
    pub nadir_mm: Option<f64>,
    /// % change of the sum from baseline.
    pub change_from_baseline_pct: Option<f64>,
    /// % change of the sum from the nadir.
    pub change_from_nadir_pct: Option<f64>,
    /// Target response (`None` without targets).
    pub target: Option<TargetResponse>,
    /// Non-target response (`None` without non-targets).
    pub non_target: Option<NonTargetResponse>,
    /// New lesions as read.
    pub new_lesions: NewLesions,
    /// Overall time-point response (RECIST 1.1 Table 1 or 2).
    pub overall: OverallResponse,
    /// Explanations, e.g. progression back-dated to an equivocal new lesion.
    pub notes: Vec<String>,
}

/// A best overall response and the date of the time point that gives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct BestResponse {
    /// The response.
    pub response: OverallResponse,
    /// When first met (`None` for NE when no time point qualifies).
    pub date: Option<NaiveDate>,
}

/// The RECIST 1.1 engine's result over the current baseline and follow-ups.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ResponseEvaluation {
    /// The baseline's entry id.
    pub baseline_id: String,
    /// Baseline scan date.
    pub baseline_date: NaiveDate,
    /// Baseline sum of diameters, mm.
    pub baseline_sum_mm: f64,
    /// One per current follow-up, in date order.
    pub time_points: Vec<ResponseTimePoint>,
    /// Best overall response without confirmation (RECIST 1.1 §4.4.3).
    pub best_unconfirmed: BestResponse,
    /// Best overall response with confirmation (RECIST 1.1 Table 3, §4.6.1).
    pub best_confirmed: BestResponse,
    /// Whether the trial's headline best response is the confirmed one (settings).
    pub confirmation_required: bool,
    /// Which CR Table 3 note a followed in `best_confirmed` (`recist.pd_after_cr`); `None`
    /// in results recorded by engine 1.0, which followed any CR.
    #[serde(default)]
    pub pd_after_cr: Option<PdAfterCr>,
    /// The engine's version, [`crate::recist::ENGINE_VERSION`].
    pub engine_version: String,
    /// Recommendations the assessments do not follow (not errors).
    pub warnings: Vec<String>,
}

impl ResponseEvaluation {
    /// The best overall response the settings make the headline.
    pub fn best(&self) -> BestResponse {
        if self.confirmation_required {
            self.best_confirmed
        } else {
            self.best_unconfirmed
        }
    }

    /// The first time point with progressive disease, after back-dating.
    pub fn first_progression(&self) -> Option<&ResponseTimePoint> {
        self.time_points
            .iter()
            .find(|t| t.overall == OverallResponse::ProgressiveDisease)
    }
}

/// What established progression.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProgressionSource {
    /// RECIST 1.1 progressive disease from the response engine.
    Recist,
}

/// Disease progression as recorded (PROTOCOL §9: it allows the optional PET3 + biopsy).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Progression {
    /// Date of progression: the scan where PD was first seen (for a new lesion confirmed
    /// later, the scan where it was first seen as equivocal, RECIST 1.1 §4.3.5).
    pub date: NaiveDate,
    /// What established it.
    pub source: ProgressionSource,
    /// The assessment entry of that scan.
    pub assessment_id: String,
    /// The engine's version.
    pub engine_version: String,
}

/// Rounds to one decimal for display and storage of derived values.
pub(crate) fn one_decimal(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// Millimetres of a length, to one decimal.
pub(crate) fn mm(t: Tenths) -> f64 {
    one_decimal(t.mm())
}
