//! Pathology: the HER2 result of each specimen and its derived category
//! (PROTOCOL §8; ASCO/CAP 2018, affirmed 2023; ultralow split from DESTINY-Breast06).
//!
//! | IHC | staining | category |
//! |---|---|---|
//! | 0 | none | HER2-null |
//! | 0 (ultralow) | faint, incomplete, > 0 and ≤ 10 % of cells | HER2-ultralow |
//! | 1+ | faint, incomplete, > 10 % | HER2-low |
//! | 2+ | weak–moderate complete, > 10 %; reflex ISH | low if ISH negative, positive if amplified |
//! | 3+ | intense complete, > 10 % | HER2-positive |
//!
//! Dual-probe ISH groups (ASCO/CAP 2018, clinical-rules §2.2) are derived from the
//! HER2/CEP17 ratio and the mean HER2 copy number when both are given.

use chrono::NaiveDate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::records::{IhcScore, IshResult};
use crate::rule::{Refusal, Rule};

/// Membrane staining intensity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum StainingIntensity {
    /// No membrane staining.
    None,
    /// Faint / barely perceptible.
    Faint,
    /// Weak to moderate.
    WeakToModerate,
    /// Intense (strong).
    Intense,
}

/// Membrane staining completeness.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum StainingCompleteness {
    /// No staining.
    None,
    /// Incomplete membrane staining.
    Incomplete,
    /// Complete (circumferential) membrane staining.
    Complete,
}

/// Who read the specimen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReadKind {
    /// Local pathology at the site.
    Local,
    /// Central review.
    Central,
}

/// Dual-probe ISH values and/or the reported result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct IshTest {
    /// HER2/CEP17 ratio.
    pub ratio: Option<f64>,
    /// Mean HER2 copy number per cell.
    pub mean_her2_copies: Option<f64>,
    /// The result as reported (after any recount / workup).
    pub reported: Option<IshResult>,
}

/// An IHC (and ISH) HER2 read of one specimen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Her2Read {
    /// IHC score, 0 split into null and ultralow.
    pub ihc: IhcScore,
    /// Percentage of invasive tumour cells with membrane staining (0–100).
    pub stained_pct: f64,
    /// Staining intensity.
    pub intensity: StainingIntensity,
    /// Staining completeness.
    pub completeness: StainingCompleteness,
    /// Antibody clone, e.g. "VENTANA 4B5".
    pub antibody_clone: String,
    /// ISH (required for IHC 2+).
    pub ish: Option<IshTest>,
}

/// What the pathologist found in a specimen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "finding", rename_all = "snake_case")]
pub enum SpecimenFinding {
    /// A HER2 result.
    Her2(Her2Read),
    /// No result: no tumour, too little tissue, …
    NonDiagnostic {
        /// Why.
        reason: String,
    },
}

/// The pathology report of one specimen (one read of it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SpecimenReport {
    /// Specimen id (e.g. block id), unique per participant.
    pub specimen_id: String,
    /// The biopsy it came from.
    pub biopsy_id: String,
    /// Local or central read.
    pub read: ReadKind,
    /// The reader (pathologist's user name or code).
    pub reader: String,
    /// Date of the report.
    pub reported_on: NaiveDate,
    /// The finding.
    pub finding: SpecimenFinding,
}

/// Derived HER2 category, lowest first (the order allocation's `max_score` uses).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Her2Category {
    /// IHC 0 without membrane staining.
    Null,
    /// IHC 0 with faint incomplete staining in ≤ 10 % of cells.
    Ultralow,
    /// IHC 1+, or 2+ with ISH not amplified.
    Low,
    /// IHC 3+, or 2+ with ISH amplified.
    Positive,
}

impl Her2Category {
    /// The label a nurse reads.
    pub fn label(&self) -> &'static str {
        match self {
            Her2Category::Null => "HER2-null",
            Her2Category::Ultralow => "HER2-ultralow",
            Her2Category::Low => "HER2-low",
            Her2Category::Positive => "HER2-positive",
        }
    }
}

/// ASCO/CAP 2018 dual-probe ISH group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum IshGroup {
    /// Ratio ≥ 2.0, copies ≥ 4.0: positive.
    Group1,
    /// Ratio ≥ 2.0, copies < 4.0.
    Group2,
    /// Ratio < 2.0, copies ≥ 6.0.
    Group3,
    /// Ratio < 2.0, copies ≥ 4.0 and < 6.0.
    Group4,
    /// Ratio < 2.0, copies < 4.0: negative.
    Group5,
}

/// The ISH group of a ratio and a mean HER2 copy number (ASCO/CAP 2018).
pub fn ish_group(ratio: f64, mean_copies: f64) -> IshGroup {
    match (ratio >= 2.0, mean_copies) {
        (true, c) if c >= 4.0 => IshGroup::Group1,
        (true, _) => IshGroup::Group2,
        (false, c) if c >= 6.0 => IshGroup::Group3,
        (false, c) if c >= 4.0 => IshGroup::Group4,
        (false, _) => IshGroup::Group5,
    }
}

/// Whether ISH is amplified given the concurrent IHC score (ASCO/CAP 2018
/// groups 2–4 workup, final result after the recount): group 1 positive;
/// group 3 positive with IHC 2+/3+; groups 2 and 4 positive only with IHC 3+;
/// group 5 negative.
pub fn ish_amplified(group: IshGroup, ihc: IhcScore) -> bool {
    match group {
        IshGroup::Group1 => true,
        IshGroup::Group3 => matches!(ihc, IhcScore::TwoPlus | IhcScore::ThreePlus),
        IshGroup::Group2 | IshGroup::Group4 => ihc == IhcScore::ThreePlus,
        IshGroup::Group5 => false,
    }
}

/// A derived category with the reasoning.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CategoryDerivation {
    /// The category.
    pub category: Her2Category,
    /// ISH group, when ratio and copy number were given.
    pub ish_group: Option<IshGroup>,
    /// ISH amplified (as derived or reported), when ISH was done.
    pub ish_amplified: Option<bool>,
    /// One line: score, staining, ISH, category.
    pub reason: String,
}

fn refuse(msg: String) -> Refusal {
    Refusal::new(Rule::HER2_CATEGORY, msg)
}

/// Derives the HER2 category of one read, refusing (`HER2_CATEGORY`) an
/// incomplete or self-contradicting read: IHC 2+ without ISH, a null score with
/// stained cells, an ultralow score outside > 0–10 %, 1+/3+ with ≤ 10 %, or an
/// ISH result that contradicts its own ratio and copy number.
pub fn derive_category(r: &Her2Read) -> Result<CategoryDerivation, Refusal> {
    let pct = r.stained_pct;
    if !(0.0..=100.0).contains(&pct) {
        return Err(refuse(format!(
            "Stained cells {pct} % is not a percentage (0–100)."
        )));
    }
    let score = r.ihc.label();
    match r.ihc {
        IhcScore::Zero if pct > 0.0 || r.intensity != StainingIntensity::None => {
            return Err(refuse(format!(
                "IHC {score} means no membrane staining, but {pct} % of cells stain ({:?}).",
                r.intensity
            ))
            .with_hint("Score faint incomplete staining in ≤ 10 % of cells as ultralow."));
        }
        IhcScore::Ultralow if pct <= 0.0 || pct > 10.0 => {
            return Err(refuse(format!(
                "IHC {score} needs faint staining in > 0 and ≤ 10 % of cells; {pct} % given."
            )));
        }
        IhcScore::OnePlus | IhcScore::ThreePlus if pct <= 10.0 => {
            return Err(refuse(format!(
                "IHC {score} needs staining in > 10 % of cells; {pct} % given (≤ 10 % faint staining is 0/ultralow)."
            )));
        }
        _ => {}
    }
    let mut group = None;
    let mut amplified = None;
    if let Some(ish) = &r.ish {
        if let (Some(ratio), Some(copies)) = (ish.ratio, ish.mean_her2_copies) {
            if !(ratio.is_finite() && ratio >= 0.0 && copies.is_finite() && copies >= 0.0) {
                return Err(refuse(format!(
                    "ISH ratio {ratio} and copy number {copies} must be non-negative numbers."
                )));
            }
            let g = ish_group(ratio, copies);
            let amp = ish_amplified(g, r.ihc);
            if let Some(rep) = ish.reported
                && (rep == IshResult::Amplified) != amp
            {
                return Err(refuse(format!(
                    "ISH reported {} but ratio {ratio} with {copies} copies/cell is {g:?} with IHC {score}, which is {} (ASCO/CAP 2018).",
                    rep.label(),
                    if amp { "amplified" } else { "not amplified" }
                )));
            }
            group = Some(g);
            amplified = Some(amp);
        } else {
            amplified = ish.reported.map(|r| r == IshResult::Amplified);
        }
    }
    let ish_text = match (group, amplified) {
        (Some(g), Some(a)) => format!(
            ", ISH {g:?} ({})",
            if a { "amplified" } else { "not amplified" }
        ),
        (None, Some(a)) => format!(", ISH {}", if a { "amplified" } else { "not amplified" }),
        _ => String::new(),
    };
    let category = match (r.ihc, amplified) {
        (_, Some(true)) | (IhcScore::ThreePlus, _) => Her2Category::Positive,
        (IhcScore::TwoPlus, None) => {
            return Err(refuse(format!(
                "IHC 2+ is equivocal: the ISH result is required ({pct} % stained)."
            ))
            .with_hint("Enter the reflex ISH ratio and copy number or its reported result."));
        }
        (IhcScore::TwoPlus | IhcScore::OnePlus, _) => Her2Category::Low,
        (IhcScore::Ultralow, _) => Her2Category::Ultralow,
        (IhcScore::Zero, _) => Her2Category::Null,
    };
    Ok(CategoryDerivation {
        category,
        ish_group: group,
        ish_amplified: amplified,
        reason: format!(
            "IHC {score}, {pct} % stained {:?}/{:?} ({}){ish_text} → {}",
            r.intensity,
            r.completeness,
            r.antibody_clone,
            category.label()
        ),
    })
}
