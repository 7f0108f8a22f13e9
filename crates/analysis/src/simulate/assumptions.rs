//! The simulator's assumptions: read from TOML, checked once, then carried as a valid
//! [`Assumptions`] so the generator never meets a negative rate or a broken distribution.

use std::collections::BTreeMap;

use protocol::Rule;
use serde::{Deserialize, Serialize};

/// The default assumptions file, with each number's source in a comment.
pub const DEFAULT_ASSUMPTIONS_TOML: &str = include_str!("assumptions.toml");

/// The eligibility criteria a screened woman can fail, in the order they are checked
/// (PROTOCOL §5).
pub const SCREENING_ORDER: [Rule; 13] = [
    Rule::IN1,
    Rule::IN2,
    Rule::IN3,
    Rule::IN4,
    Rule::IN5,
    Rule::IN6,
    Rule::IN7,
    Rule::IN8,
    Rule::EX1,
    Rule::EX2,
    Rule::EX3,
    Rule::EX4,
    Rule::EX5,
];

/// Why an assumptions file was refused.
#[derive(Debug, thiserror::Error)]
pub enum AssumptionsError {
    /// The text is not TOML of the expected shape (unknown key, wrong type...).
    /// (The TOML error is in the message, not a source, so a chain of causes prints it
    /// once.)
    #[error("assumptions file is not valid: {0}")]
    Toml(toml::de::Error),
    /// A value is out of its range; `key` is its dotted path in the file.
    #[error("assumption `{key}`: {reason}")]
    Invalid {
        /// Dotted key, e.g. `her2` or `suv.low.log_sd`.
        key: String,
        /// What is wrong with it.
        reason: String,
    },
}

impl From<toml::de::Error> for AssumptionsError {
    fn from(e: toml::de::Error) -> Self {
        AssumptionsError::Toml(e)
    }
}

/// The assumptions as written in the file, not yet checked. Build an [`Assumptions`]
/// from it with [`Assumptions::new`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAssumptions {
    /// How the study analyses the data.
    pub analysis: AnalysisRules,
    /// Sites, accrual and follow-up.
    pub accrual: Accrual,
    /// Probability of failing each eligibility criterion, by rule id.
    pub screen_failure: BTreeMap<Rule, f64>,
    /// HER2 category frequencies at biopsy.
    pub her2: Her2Frequencies,
    /// Per-lesion SUVmax by HER2 category.
    pub suv: Suv,
    /// Intra-patient heterogeneity.
    pub heterogeneity: Heterogeneity,
    /// Lesions per woman, their sites and volumes.
    pub lesions: Lesions,
    /// Liver background SUVmean.
    pub liver_background: LogNormal,
    /// Best % change in the sum of diameters on T-DXd.
    pub response: Response,
    /// Progression-free survival on T-DXd.
    pub pfs: Pfs,
    /// Adverse events on T-DXd.
    pub adverse_events: Vec<AdverseEventRate>,
}

/// The analysis definitions the simulated trial is judged by.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnalysisRules {
    /// SUVmax from which a lesion (and a woman, by her highest lesion) is PET-positive.
    pub suvmax_threshold: f64,
    /// The ROC area the lower confidence bound must exceed.
    pub null_auc: f64,
    /// Two-sided confidence level.
    pub level: f64,
    /// Whether HER2-ultralow counts as HER2-expressing.
    pub ultralow_is_expressing: bool,
}

/// Sites and the timing of the trial.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Accrual {
    /// Months from enrolment to the first T-DXd dose.
    pub months_to_treatment: f64,
    /// Follow-up after the last enrolment, in months.
    pub min_follow_up_months: f64,
    /// Yearly rate of loss to follow-up (exponential).
    pub loss_to_follow_up_per_year: f64,
    /// The sites with their screening rates.
    pub sites: Vec<Site>,
}

/// One site.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Site {
    /// Site name.
    pub name: String,
    /// Women screened per month (Poisson process).
    pub screened_per_month: f64,
}

/// HER2 category frequencies; they sum to 1.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Her2Frequencies {
    /// IHC 0 without staining.
    pub null: f64,
    /// IHC 0 with faint staining in ≤ 10 % of cells.
    pub ultralow: f64,
    /// IHC 1+ or 2+/ISH−.
    pub low: f64,
    /// IHC 3+ or 2+/ISH+.
    pub positive: f64,
}

/// A log-normal distribution by its median and the SD of its logarithm.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogNormal {
    /// Median (the exponential of the log mean).
    pub median: f64,
    /// Standard deviation of the natural logarithm.
    pub log_sd: f64,
}

/// Per-lesion SUVmax distributions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Suv {
    /// Test–retest error on the log scale.
    pub measurement_log_sd: f64,
    /// HER2-null lesions.
    pub null: LogNormal,
    /// HER2-ultralow lesions.
    pub ultralow: LogNormal,
    /// HER2-low lesions.
    pub low: LogNormal,
    /// HER2-positive lesions.
    pub positive: LogNormal,
}

/// How a woman's lesions differ from one another.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Heterogeneity {
    /// Share of HER2-expressing women with HER2-negative lesions.
    pub patient_share: f64,
    /// In those women, the share of non-biopsied lesions that are HER2-negative.
    pub negative_lesion_share: f64,
    /// Spread of lesions around the woman's level, log scale.
    pub within_patient_log_sd: f64,
}

/// Lesion counts, sites and volumes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lesions {
    /// Mean of the Poisson number of lesions besides the biopsied one.
    pub extra_mean: f64,
    /// Most lesions a woman has.
    pub max: usize,
    /// Median metabolic tumour volume, ml.
    pub mtv_median_ml: f64,
    /// SD of log MTV.
    pub mtv_log_sd: f64,
    /// Frequencies of the anatomical sites, by site.
    pub sites: BTreeMap<LesionSite, f64>,
}

/// Anatomical site of a lesion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LesionSite {
    /// Skeleton.
    Bone,
    /// Lymph node.
    LymphNode,
    /// Liver.
    Liver,
    /// Lung.
    Lung,
    /// Soft tissue.
    SoftTissue,
    /// Breast or chest wall.
    Breast,
}

impl LesionSite {
    /// The site as the assumptions file writes it.
    pub fn key(&self) -> &'static str {
        match self {
            LesionSite::Bone => "bone",
            LesionSite::LymphNode => "lymph_node",
            LesionSite::Liver => "liver",
            LesionSite::Lung => "lung",
            LesionSite::SoftTissue => "soft_tissue",
            LesionSite::Breast => "breast",
        }
    }
}

/// Best % change in the sum of diameters on T-DXd.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Response {
    /// Mean for PET-positive women.
    pub mean_change_pet_positive: f64,
    /// Mean for PET-negative women.
    pub mean_change_pet_negative: f64,
    /// Standard deviation.
    pub sd: f64,
    /// Added to the mean for HER2-ultralow.
    pub offset_ultralow: f64,
    /// Added to the mean for HER2-low.
    pub offset_low: f64,
}

/// Progression-free survival on T-DXd (Weibull).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pfs {
    /// Weibull shape; 1 is exponential.
    pub shape: f64,
    /// Median months for PET-positive women.
    pub median_months_pet_positive: f64,
    /// Median months for PET-negative women.
    pub median_months_pet_negative: f64,
}

/// One adverse event's rate on T-DXd.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdverseEventRate {
    /// CTCAE v5 term.
    pub term: String,
    /// Probability of any grade.
    pub rate: f64,
    /// Share of grades 1..5 among those with the event; sums to 1.
    pub grades: [f64; 5],
}

/// Assumptions that passed every check; only [`Assumptions::new`] and
/// [`Assumptions::parse`] make one.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(transparent)]
pub struct Assumptions(RawAssumptions);

impl Assumptions {
    /// Checks `raw`, refusing the first value out of range with its key.
    pub fn new(raw: RawAssumptions) -> Result<Self, AssumptionsError> {
        super::validate::validate(&raw)?;
        Ok(Self(raw))
    }

    /// Parses and checks an assumptions file's text.
    pub fn parse(text: &str) -> Result<Self, AssumptionsError> {
        Self::new(toml::from_str(text)?)
    }

    /// The values, for reading and for making a changed copy.
    pub fn raw(&self) -> &RawAssumptions {
        &self.0
    }
}

impl Default for Assumptions {
    /// The shipped defaults ([`DEFAULT_ASSUMPTIONS_TOML`]).
    fn default() -> Self {
        // The shipped file is checked by a unit test; were it broken, every test using
        // the defaults would fail, so the expect here cannot hide a user's error.
        Self::parse(DEFAULT_ASSUMPTIONS_TOML).expect("the shipped assumptions are valid")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_file_parses_and_names_its_sources() {
        let a = Assumptions::parse(DEFAULT_ASSUMPTIONS_TOML).unwrap();
        assert_eq!(a.raw().analysis.suvmax_threshold, 6.0);
        assert_eq!(a.raw().accrual.sites.len(), 3);
        assert_eq!(a.raw().pfs.median_months_pet_positive, 11.0);
        for anchor in ["Sörensen", "Mileva", "DESTINY-Breast04", "ASSUMPTION"] {
            assert!(DEFAULT_ASSUMPTIONS_TOML.contains(anchor), "{anchor}");
        }
    }

    #[test]
    fn an_unknown_key_is_refused() {
        let text = DEFAULT_ASSUMPTIONS_TOML.replace("null_auc", "nul_auc");
        let err = Assumptions::parse(&text).unwrap_err().to_string();
        assert!(err.contains("nul_auc"), "{err}");
    }
}
