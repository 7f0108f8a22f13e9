//! PET response between PET1 (baseline) and PET2 (after 3–4 cycles), PERCIST-style
//! (Wahl et al., J Nucl Med 2009;50:122S–150S), an exploratory read in HER2-Ex
//! (trial protocol §10) with the HER2 tracer \[68Ga\]Ga-ABY-025 in place of FDG.
//!
//! 1. Lesions are paired across the two scans: by the reader's lesion identity where
//!    given; otherwise a match is *proposed* by nearest centroid after aligning the scans
//!    on a reference point (e.g. the body-outline centroid), for the reader to confirm
//!    ([`assess`]). Once the reader has decided every PET2 lesion, [`assess_read`] takes
//!    the reader's pairs and new lesions as they are: nothing is proposed, and a PET2
//!    lesion is new only when the reader says so.
//! 2. Each pair gets its % change of SUVmax and SUVpeak.
//! 3. The patient-level change follows PERCIST: SUVpeak of the hottest lesion at each scan,
//!    which need not be the same lesion.
//! 4. A category: progression (> 30 % and > 0.8 SUV increase, or a new lesion: in a
//!    proposal an unmatched HER2-avid one, in the reader's read one the reader calls new),
//!    complete metabolic response (no uptake left above background), partial metabolic
//!    response (≥ 30 % and ≥ 0.8 SUV decrease), else stable.
//!
//! SUVs are compared in whole thousandths so that thresholds hold exactly: a fall from 4.0
//! to 2.8 is exactly 30 %, as a reader computes it.
//!
//! In the trial, the PET2 page offers [`assess`]'s proposal and the nuclear-medicine
//! reader confirms it with the command `ConfirmPetResponse`; `decide` runs [`assess_read`]
//! over the recorded PET1 and PET2 quantifications and records the result with
//! [`ALGORITHM_VERSION`] and the settings version (see [`crate::pet_response`]).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

mod read;

pub use read::{ReaderRead, assess_read};

/// Version of this read, recorded with every confirmed PET response: PERCIST 1.0
/// thresholds on the hottest lesion's SUVpeak, one-to-one lesion pairs, new lesions by
/// the reader. Raise it whenever a rule here changes.
pub const ALGORITHM_VERSION: &str =
    "her2ex-percist 1.0 (PERCIST 1.0 thresholds, hottest-lesion SUVpeak)";
/// Default tolerance for proposing a match between centroids after alignment.
pub const MATCH_TOLERANCE_MM_DEFAULT: f64 = 20.0;
/// Relative change threshold, in tenths of a percent (PERCIST 1.0: 30 %).
const CHANGE_PER_MILLE: i64 = 300;
/// Absolute change threshold in thousandths of SUV (PERCIST 1.0: 0.8 SUV units).
const CHANGE_ABS_MILLI: i64 = 800;

/// A lesion measured on one PET scan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PetLesion {
    /// Identifier within this scan (e.g. the candidate number).
    pub id: String,
    /// The reader's lesion identity, the same on both scans for the same lesion.
    pub identity: Option<String>,
    /// Centroid in patient coordinates, mm.
    pub centroid_mm: [f64; 3],
    /// SUVmax.
    pub suv_max: f64,
    /// SUVpeak (1 cm³ sphere, trial protocol §6).
    pub suv_peak: f64,
}

/// The lesions of one PET scan and the reference point the two scans are aligned on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PetScan {
    /// Reference point for alignment, mm, patient coordinates: the centroid of the body
    /// outline, or of an organ seen on both scans (the trial uses the liver candidate).
    pub body_centroid_mm: [f64; 3],
    /// Lesions.
    pub lesions: Vec<PetLesion>,
}

/// Thresholds of the PET response read.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PercistSettings {
    /// Largest centroid distance for a proposed match after alignment, mm.
    pub match_tolerance_mm: f64,
    /// SUVmax from which a lesion is HER2-avid (trial protocol §6, configurable; 6).
    pub avid_suv_max: f64,
    /// Background SUV: complete metabolic response when no lesion's SUVmax exceeds it.
    pub background_suv: f64,
}

impl PercistSettings {
    /// Settings with the default match tolerance (20 mm).
    pub fn new(avid_suv_max: f64, background_suv: f64) -> Self {
        PercistSettings {
            match_tolerance_mm: MATCH_TOLERANCE_MM_DEFAULT,
            avid_suv_max,
            background_suv,
        }
    }
}

/// Which scan a problem is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Scan {
    /// The baseline HER2-PET.
    Pet1,
    /// The response HER2-PET.
    Pet2,
}

/// Input that cannot be assessed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PercistError {
    /// A lesion id appears twice in one scan.
    #[error("{scan:?}: lesion id {id} is used twice")]
    DuplicateId {
        /// Scan.
        scan: Scan,
        /// Id.
        id: String,
    },
    /// A reader identity appears twice in one scan.
    #[error("{scan:?}: lesion identity {identity} is given to two lesions")]
    DuplicateIdentity {
        /// Scan.
        scan: Scan,
        /// Identity.
        identity: String,
    },
    /// A coordinate or SUV that is not finite, or an SUV below zero.
    #[error("{scan:?}: lesion {id}: {field} = {value} is not a valid value")]
    InvalidValue {
        /// Scan.
        scan: Scan,
        /// Lesion id (empty for the body centroid).
        id: String,
        /// Field name.
        field: &'static str,
        /// The value.
        value: f64,
    },
    /// A threshold that is not finite or not above zero.
    #[error("setting {0} must be a finite number above zero")]
    InvalidSetting(&'static str),
    /// PET1 has no lesion: there is nothing to compare against.
    #[error("PET1 has no lesions: no baseline to assess response against")]
    NoBaselineLesions,
    /// The reader's read names a lesion the scan does not have.
    #[error("{scan:?}: there is no lesion {id}")]
    UnknownLesion {
        /// Scan.
        scan: Scan,
        /// Id.
        id: String,
    },
    /// The reader's read uses a lesion twice (in two pairs, or paired and new).
    #[error("{scan:?}: lesion {id} is decided twice")]
    DecidedTwice {
        /// Scan.
        scan: Scan,
        /// Id.
        id: String,
    },
}

/// How a pair of lesions was matched.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "basis", rename_all = "snake_case")]
pub enum MatchBasis {
    /// The reader gave both the same identity.
    Reader,
    /// Proposed by nearest aligned centroid; the reader must confirm it.
    Proposed {
        /// Centroid distance after alignment, mm.
        distance_mm: f64,
    },
}

/// A lesion followed from PET1 to PET2.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LesionChange {
    /// Id on PET1.
    pub pet1_id: String,
    /// Id on PET2.
    pub pet2_id: String,
    /// How they were matched.
    #[serde(flatten)]
    pub basis: MatchBasis,
    /// % change of SUVmax (one decimal; `None` from zero).
    pub suv_max_change_pct: Option<f64>,
    /// % change of SUVpeak (one decimal; `None` from zero).
    pub suv_peak_change_pct: Option<f64>,
}

/// SUVpeak of the hottest lesion at each scan (PERCIST 1.0).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HottestLesion {
    /// Hottest lesion on PET1 and its SUVpeak.
    pub pet1: (String, f64),
    /// Hottest lesion on PET2 and its SUVpeak; `None` when PET2 has no lesions.
    pub pet2: Option<(String, f64)>,
    /// % change (one decimal).
    pub change_pct: Option<f64>,
    /// Change in SUV units (0 lesions at PET2 count as 0).
    pub change_suv: f64,
}

/// PERCIST-style category.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum MetabolicCategory {
    /// No lesion uptake left above background.
    #[serde(rename = "CMR")]
    CompleteMetabolicResponse,
    /// Hottest-lesion SUVpeak down by ≥ 30 % and ≥ 0.8.
    #[serde(rename = "PMR")]
    PartialMetabolicResponse,
    /// Neither response nor progression.
    #[serde(rename = "SMD")]
    StableMetabolicDisease,
    /// Hottest-lesion SUVpeak up by > 30 % and > 0.8, or a new HER2-avid lesion.
    #[serde(rename = "PMD")]
    ProgressiveMetabolicDisease,
}

impl MetabolicCategory {
    /// The short code, as serialized: `CMR`, `PMR`, `SMD`, `PMD`.
    pub fn code(self) -> &'static str {
        match self {
            MetabolicCategory::CompleteMetabolicResponse => "CMR",
            MetabolicCategory::PartialMetabolicResponse => "PMR",
            MetabolicCategory::StableMetabolicDisease => "SMD",
            MetabolicCategory::ProgressiveMetabolicDisease => "PMD",
        }
    }

    /// The category in words.
    pub fn label(self) -> &'static str {
        match self {
            MetabolicCategory::CompleteMetabolicResponse => "complete metabolic response",
            MetabolicCategory::PartialMetabolicResponse => "partial metabolic response",
            MetabolicCategory::StableMetabolicDisease => "stable metabolic disease",
            MetabolicCategory::ProgressiveMetabolicDisease => "progressive metabolic disease",
        }
    }
}

/// The PET response PET1 → PET2.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PetResponse {
    /// Matched lesions, reader matches first, then proposals by distance.
    pub matches: Vec<LesionChange>,
    /// PET1 lesions without a match on PET2.
    pub unmatched_pet1: Vec<String>,
    /// PET2 lesions without a match on PET1.
    pub unmatched_pet2: Vec<String>,
    /// Unmatched PET2 lesions that are HER2-avid: new HER2-avid lesions.
    pub new_avid_lesions: Vec<String>,
    /// PET2 lesions counted as new: in a proposal, the unmatched HER2-avid ones; in the
    /// reader's read, those the reader calls new (avid or not).
    pub new_lesions: Vec<String>,
    /// Patient-level change of the hottest lesion.
    pub hottest: HottestLesion,
    /// Category.
    pub category: MetabolicCategory,
    /// Whether any match is a proposal that awaits the reader.
    pub needs_reader_confirmation: bool,
}

/// SUV in whole thousandths.
fn milli(suv: f64) -> i64 {
    (suv * 1000.0).round() as i64
}

/// % change rounded to one decimal, computed on thousandths; `None` from zero.
fn change_pct(from: f64, to: f64) -> Option<f64> {
    let (a, b) = (milli(from), milli(to));
    if a == 0 {
        return None;
    }
    let num = 1000 * (b - a);
    let per_mille = if num >= 0 {
        (2 * num + a) / (2 * a)
    } else {
        -((-2 * num + a) / (2 * a))
    };
    Some(per_mille as f64 / 10.0)
}

/// Partial metabolic response: SUVpeak down by ≥ 30 % **and** ≥ 0.8 (PERCIST 1.0).
pub fn is_metabolic_response(pet1_peak: f64, pet2_peak: f64) -> bool {
    let (a, b) = (milli(pet1_peak), milli(pet2_peak));
    let drop = a - b;
    1000 * drop >= CHANGE_PER_MILLE * a && drop >= CHANGE_ABS_MILLI
}

/// Metabolic progression by uptake: SUVpeak up by > 30 % **and** > 0.8 (PERCIST 1.0;
/// strictly above, unlike the response threshold).
pub fn is_metabolic_progression(pet1_peak: f64, pet2_peak: f64) -> bool {
    let (a, b) = (milli(pet1_peak), milli(pet2_peak));
    let rise = b - a;
    1000 * rise > CHANGE_PER_MILLE * a && rise > CHANGE_ABS_MILLI
}

fn check_scan(scan: &PetScan, which: Scan) -> Result<(), PercistError> {
    let invalid = |id: &str, field, value| PercistError::InvalidValue {
        scan: which,
        id: id.to_owned(),
        field,
        value,
    };
    if let Some(v) = scan.body_centroid_mm.iter().find(|v| !v.is_finite()) {
        return Err(invalid("", "body_centroid_mm", *v));
    }
    let mut ids = BTreeSet::new();
    let mut identities = BTreeSet::new();
    for l in &scan.lesions {
        if !ids.insert(l.id.as_str()) {
            return Err(PercistError::DuplicateId {
                scan: which,
                id: l.id.clone(),
            });
        }
        if let Some(identity) = &l.identity
            && !identities.insert(identity.as_str())
        {
            return Err(PercistError::DuplicateIdentity {
                scan: which,
                identity: identity.clone(),
            });
        }
        if let Some(v) = l.centroid_mm.iter().find(|v| !v.is_finite()) {
            return Err(invalid(&l.id, "centroid_mm", *v));
        }
        for (field, v) in [("suv_max", l.suv_max), ("suv_peak", l.suv_peak)] {
            if !v.is_finite() || v < 0.0 {
                return Err(invalid(&l.id, field, v));
            }
        }
    }
    Ok(())
}

fn check_settings(s: &PercistSettings) -> Result<(), PercistError> {
    for (name, v) in [
        ("match_tolerance_mm", s.match_tolerance_mm),
        ("avid_suv_max", s.avid_suv_max),
        ("background_suv", s.background_suv),
    ] {
        if !v.is_finite() || v <= 0.0 {
            return Err(PercistError::InvalidSetting(name));
        }
    }
    Ok(())
}

/// Pairs lesions: first by reader identity; then, among the rest, proposals by nearest
/// centroid after translating PET2 by (body centroid PET1 − body centroid PET2), greedily
/// by increasing distance, one-to-one, within the tolerance. Two lesions that both carry
/// (different) reader identities are never proposed as a pair: the reader has already
/// said they differ. Returns (PET1 index, PET2 index, basis).
fn match_lesions(
    pet1: &PetScan,
    pet2: &PetScan,
    tolerance_mm: f64,
) -> Vec<(usize, usize, MatchBasis)> {
    let mut pairs = Vec::new();
    let by_identity: BTreeMap<&str, usize> = pet2
        .lesions
        .iter()
        .enumerate()
        .filter_map(|(j, l)| l.identity.as_deref().map(|id| (id, j)))
        .collect();
    let (mut used1, mut used2) = (BTreeSet::new(), BTreeSet::new());
    for (i, l) in pet1.lesions.iter().enumerate() {
        if let Some(&j) = l.identity.as_deref().and_then(|id| by_identity.get(id)) {
            pairs.push((i, j, MatchBasis::Reader));
            used1.insert(i);
            used2.insert(j);
        }
    }
    let shift: Vec<f64> = (0..3)
        .map(|k| pet1.body_centroid_mm[k] - pet2.body_centroid_mm[k])
        .collect();
    let mut candidates = Vec::new();
    for (i, a) in pet1.lesions.iter().enumerate() {
        for (j, b) in pet2.lesions.iter().enumerate() {
            if used1.contains(&i)
                || used2.contains(&j)
                || (a.identity.is_some() && b.identity.is_some())
            {
                continue;
            }
            let d = (0..3)
                .map(|k| (b.centroid_mm[k] + shift[k] - a.centroid_mm[k]).powi(2))
                .sum::<f64>()
                .sqrt();
            if d <= tolerance_mm {
                candidates.push((d, i, j));
            }
        }
    }
    candidates.sort_by(|x, y| x.0.total_cmp(&y.0).then(x.1.cmp(&y.1)).then(x.2.cmp(&y.2)));
    for (d, i, j) in candidates {
        if used1.contains(&i) || used2.contains(&j) {
            continue;
        }
        used1.insert(i);
        used2.insert(j);
        let distance_mm = (d * 10.0).round() / 10.0;
        pairs.push((i, j, MatchBasis::Proposed { distance_mm }));
    }
    pairs
}

/// The hottest lesion by SUVpeak (ties: the first in id order).
fn hottest(scan: &PetScan) -> Option<&PetLesion> {
    scan.lesions.iter().min_by(|a, b| {
        milli(b.suv_peak)
            .cmp(&milli(a.suv_peak))
            .then(a.id.cmp(&b.id))
    })
}

/// Assesses the PET response from PET1 to PET2, proposing the matches the reader has not
/// made (by identity) from the aligned centroids. Unmatched HER2-avid PET2 lesions count
/// as new until the reader decides ([`assess_read`]).
pub fn assess(
    pet1: &PetScan,
    pet2: &PetScan,
    settings: &PercistSettings,
) -> Result<PetResponse, PercistError> {
    check_settings(settings)?;
    check_scan(pet1, Scan::Pet1)?;
    check_scan(pet2, Scan::Pet2)?;
    let pairs = match_lesions(pet1, pet2, settings.match_tolerance_mm);
    let matched2: BTreeSet<usize> = pairs.iter().map(|p| p.1).collect();
    let avid = milli(settings.avid_suv_max);
    let new: BTreeSet<usize> = (0..pet2.lesions.len())
        .filter(|j| !matched2.contains(j) && milli(pet2.lesions[*j].suv_max) >= avid)
        .collect();
    evaluate(pet1, pet2, &pairs, &new, settings)
}

/// Per-pair changes, the hottest-lesion change and the category, from pairs (PET1 index,
/// PET2 index, basis) and the PET2 lesions counted as new (by index).
fn evaluate(
    pet1: &PetScan,
    pet2: &PetScan,
    pairs: &[(usize, usize, MatchBasis)],
    new: &BTreeSet<usize>,
    settings: &PercistSettings,
) -> Result<PetResponse, PercistError> {
    let Some(hot1) = hottest(pet1) else {
        return Err(PercistError::NoBaselineLesions);
    };
    let matched1: BTreeSet<usize> = pairs.iter().map(|p| p.0).collect();
    let matched2: BTreeSet<usize> = pairs.iter().map(|p| p.1).collect();
    let matches: Vec<LesionChange> = pairs
        .iter()
        .map(|&(i, j, basis)| {
            let (a, b) = (&pet1.lesions[i], &pet2.lesions[j]);
            LesionChange {
                pet1_id: a.id.clone(),
                pet2_id: b.id.clone(),
                basis,
                suv_max_change_pct: change_pct(a.suv_max, b.suv_max),
                suv_peak_change_pct: change_pct(a.suv_peak, b.suv_peak),
            }
        })
        .collect();
    let unmatched = |scan: &PetScan, matched: &BTreeSet<usize>| -> Vec<String> {
        (0..scan.lesions.len())
            .filter(|k| !matched.contains(k))
            .map(|k| scan.lesions[k].id.clone())
            .collect()
    };
    let unmatched_pet1 = unmatched(pet1, &matched1);
    let unmatched_pet2 = unmatched(pet2, &matched2);
    let avid = milli(settings.avid_suv_max);
    let new_lesions: Vec<String> = new.iter().map(|&j| pet2.lesions[j].id.clone()).collect();
    let new_avid_lesions: Vec<String> = new
        .iter()
        .map(|&j| &pet2.lesions[j])
        .filter(|l| milli(l.suv_max) >= avid)
        .map(|l| l.id.clone())
        .collect();

    let hot2 = hottest(pet2);
    let peak2 = hot2.map_or(0.0, |l| l.suv_peak);
    let hottest = HottestLesion {
        pet1: (hot1.id.clone(), hot1.suv_peak),
        pet2: hot2.map(|l| (l.id.clone(), l.suv_peak)),
        change_pct: hot2.and_then(|l| change_pct(hot1.suv_peak, l.suv_peak)),
        change_suv: (milli(peak2) - milli(hot1.suv_peak)) as f64 / 1000.0,
    };
    let background = milli(settings.background_suv);
    let category = if !new_lesions.is_empty() || is_metabolic_progression(hot1.suv_peak, peak2) {
        MetabolicCategory::ProgressiveMetabolicDisease
    } else if pet2.lesions.iter().all(|l| milli(l.suv_max) <= background) {
        MetabolicCategory::CompleteMetabolicResponse
    } else if is_metabolic_response(hot1.suv_peak, peak2) {
        MetabolicCategory::PartialMetabolicResponse
    } else {
        MetabolicCategory::StableMetabolicDisease
    };
    let needs_reader_confirmation = matches
        .iter()
        .any(|m| matches!(m.basis, MatchBasis::Proposed { .. }));
    Ok(PetResponse {
        matches,
        unmatched_pet1,
        unmatched_pet2,
        new_avid_lesions,
        new_lesions,
        hottest,
        category,
        needs_reader_confirmation,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_hold_exactly_in_thousandths() {
        // 4.0 → 2.8 is exactly −30 % (in f64, (2.8 − 4.0) / 4.0 is not −0.3).
        assert!(is_metabolic_response(4.0, 2.8));
        assert!(!is_metabolic_response(4.0, 2.801));
        // 4.0 → 5.2 is exactly +30 %: not progression (strict inequality).
        assert!(!is_metabolic_progression(4.0, 5.2));
        assert!(is_metabolic_progression(4.0, 5.201));
    }

    #[test]
    fn percent_change_is_rounded_and_undefined_from_zero() {
        assert_eq!(change_pct(2.691, 3.501), Some(30.1));
        assert_eq!(change_pct(3.0, 1.0), Some(-66.7));
        assert_eq!(change_pct(0.0, 1.0), None);
    }
}
