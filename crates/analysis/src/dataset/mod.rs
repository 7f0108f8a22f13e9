//! The analysis data set: one row per participant and one per PET lesion, derived from
//! the participants' recorded facts as of the data cut-off (never from pages).
//!
//! Every derived value says how it was derived where a rule was chosen (the censoring
//! rule of a time to event, the definition of HER2-expressing, the SUVmax threshold), so
//! the report can print the rule beside the number.

mod derive;

use chrono::NaiveDate;
use protocol::Arm;
use protocol::journey::pathology::Her2Category;
use serde::Serialize;

pub use derive::{derive, derive_participant};

/// Average days per month, for times shown in months (365.25 / 12).
pub const DAYS_PER_MONTH: f64 = 30.4375;

/// The rules the derivation applies, taken from the settings in force at the cut-off.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rules {
    /// SUVmax from which a lesion is HER2-avid (settings `avid_suvmax_threshold`).
    pub avid_suvmax_threshold: f64,
    /// The lowest HER2 category that counts as HER2-expressing (settings
    /// `her2_expressing_definition`: ultralow by default, HER2-low when ultralow counts
    /// as zero).
    pub expressing_from: Her2Category,
    /// The data cut-off date: follow-up of those alive and without progression is
    /// censored no later than this.
    pub cut_off_date: NaiveDate,
}

impl Rules {
    /// The rules of the settings in force, as of a cut-off date.
    pub fn from_settings(s: &protocol::Settings, cut_off_date: NaiveDate) -> Rules {
        use protocol::settings::Her2ExpressingDefinition as D;
        Rules {
            avid_suvmax_threshold: s.avid_suvmax_threshold,
            expressing_from: match s.her2_expressing_definition {
                D::IhcGt0 => Her2Category::Ultralow,
                D::Her2LowOnly => Her2Category::Low,
            },
            cut_off_date,
        }
    }
}

/// The analysis data set.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Dataset {
    /// The rules used.
    pub rules: Rules,
    /// One row per participant, by study id.
    pub participants: Vec<ParticipantRow>,
    /// One row per reader-confirmed baseline PET lesion.
    pub lesions: Vec<LesionRow>,
}

/// A time to event in days, with the rule that ended it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TimeToEvent {
    /// Start date.
    pub start: NaiveDate,
    /// Days from the start to the event or the censoring.
    pub days: i64,
    /// The event happened (true) or follow-up was censored (false).
    pub event: bool,
    /// What ended it: "progression (RECIST)", "death", "censored at last CT assessment", …
    pub rule: String,
}

/// A HER2 result of one specimen.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SpecimenHer2 {
    /// Specimen id.
    pub specimen_id: String,
    /// The biopsy it came from.
    pub biopsy_id: String,
    /// Its category, `None` when non-diagnostic.
    pub category: Option<Her2Category>,
}

/// The biopsied lesion as the PET saw it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BiopsiedLesion {
    /// The reader's label, e.g. `L2`.
    pub label: String,
    /// Its anatomical site.
    pub site: Option<String>,
    /// Its baseline SUVmax.
    pub suv_max: Option<f64>,
    /// HER2-avid on PET (SUVmax ≥ threshold).
    pub avid: Option<bool>,
}

/// Whole-body HER2 phenotype class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PhenotypeClass {
    /// Every confirmed lesion is HER2-avid.
    AllAvid,
    /// Some are, some are not.
    Mixed,
    /// None is.
    NoneAvid,
}

impl PhenotypeClass {
    /// Label for tables.
    pub fn label(self) -> &'static str {
        match self {
            PhenotypeClass::AllAvid => "all avid",
            PhenotypeClass::Mixed => "mixed",
            PhenotypeClass::NoneAvid => "none avid",
        }
    }
}

/// The whole-body HER2 phenotype at baseline: how much of the tumour load is HER2-avid.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Phenotype {
    /// Confirmed lesions.
    pub lesions: usize,
    /// Of them HER2-avid.
    pub avid_lesions: usize,
    /// Fraction of lesions that are avid.
    pub avid_fraction_by_count: f64,
    /// Total metabolic tumour volume of lesions with a volume, mL.
    pub mtv_ml: f64,
    /// Fraction of that volume in avid lesions (`None` when no lesion has a volume).
    pub avid_fraction_by_mtv: Option<f64>,
    /// The class.
    pub class: PhenotypeClass,
}

/// One adverse-event term with its worst grade.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AeWorst {
    /// CTCAE term.
    pub term: String,
    /// System organ class.
    pub soc: String,
    /// Worst CTCAE grade recorded.
    pub worst_grade: u8,
    /// Any report of it was serious.
    pub serious: bool,
    /// Adverse events of special interest it counts as ("ild_pneumonitis", "lvef_decrease").
    pub aesi: Vec<String>,
    /// Onset of the first report.
    pub first_onset: NaiveDate,
}

/// One point of a participant's tumour-size course.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SizePoint {
    /// Scan date.
    pub date: NaiveDate,
    /// Days since the start of T-DXd (or since the baseline CT without T-DXd).
    pub day: i64,
    /// Change in the sum of diameters from baseline, %.
    pub change_pct: f64,
}

/// One participant.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ParticipantRow {
    /// Study id.
    pub study_id: String,
    /// Site code.
    pub site: String,
    /// Journey state at the cut-off.
    pub state: String,
    /// Age at consent in whole years, when known exactly (else the middle of the range).
    pub age_at_consent: Option<u32>,
    /// Enrolment date.
    pub enrolled_on: Option<NaiveDate>,
    /// Screen failed.
    pub screen_failed: bool,
    /// HER2 of every specimen reported.
    pub her2_by_specimen: Vec<SpecimenHer2>,
    /// The deciding category (the allocation's).
    pub her2_category: Option<Her2Category>,
    /// HER2-expressing by the rules (`None` without a diagnostic result).
    pub her2_expressing: Option<bool>,
    /// Allocated arm.
    pub arm: Option<Arm>,
    /// Highest SUVmax of the reader-confirmed baseline lesions.
    pub baseline_suv_max: Option<f64>,
    /// Baseline HER2-PET status of the patient: highest SUVmax ≥ threshold.
    pub pet_positive: Option<bool>,
    /// The biopsied lesion on the baseline PET.
    pub biopsied: Option<BiopsiedLesion>,
    /// Whole-body phenotype.
    pub phenotype: Option<Phenotype>,
    /// PERCIST-style change of the hottest lesion's SUVpeak PET1 → PET2, %.
    pub pet2_change_pct: Option<f64>,
    /// The PET response category read.
    pub pet2_category: Option<String>,
    /// RECIST 1.1 best overall response (the settings' headline: confirmed or not).
    pub best_response: Option<String>,
    /// Best (lowest) % change in the sum of target diameters.
    pub best_change_pct: Option<f64>,
    /// Course of the sum of diameters.
    pub size_course: Vec<SizePoint>,
    /// First T-DXd administration.
    pub tdxd_start: Option<NaiveDate>,
    /// Last T-DXd administration.
    pub tdxd_last: Option<NaiveDate>,
    /// T-DXd administrations.
    pub tdxd_cycles: usize,
    /// Progression date (RECIST).
    pub progression_on: Option<NaiveDate>,
    /// Death date.
    pub died_on: Option<NaiveDate>,
    /// Progression-free survival from the start of T-DXd (arm 1).
    pub pfs: Option<TimeToEvent>,
    /// Overall survival from enrolment.
    pub os: Option<TimeToEvent>,
    /// Adverse events, worst grade per term.
    pub adverse_events: Vec<AeWorst>,
    /// Protocol deviations recorded.
    pub deviations: usize,
    /// Of them major.
    pub major_deviations: usize,
}

/// One reader-confirmed lesion of the baseline PET.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LesionRow {
    /// Study id.
    pub study_id: String,
    /// The reader's label.
    pub label: String,
    /// Anatomical site as the reader named it ("unspecified" when not named).
    pub site: String,
    /// SUVmax.
    pub suv_max: Option<f64>,
    /// SUVpeak.
    pub suv_peak: Option<f64>,
    /// Metabolic tumour volume, mL (candidates only).
    pub mtv_ml: Option<f64>,
    /// Total lesion uptake (SUVmean × MTV), candidates only.
    pub tlu: Option<f64>,
    /// SUVmax ≥ threshold.
    pub avid: bool,
    /// The study biopsy's target.
    pub biopsied: bool,
}
