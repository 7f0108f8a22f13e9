//! The PET response read in the trial (PROTOCOL §10: "change in SUVpeak/SUVmax of matched
//! lesions between PET1 and PET2"), PERCIST-style and exploratory, for arm 1.
//!
//! The comparison starts from the recorded facts: PET1's lesions are the reader's
//! confirmed lesions of the PET1 review (candidates with an SUVpeak; without a review, the
//! PET1 candidates not flagged as physiological uptake), PET2's are the candidates of the
//! current PET2 quantification. [`propose`] offers matches by nearest centroid
//! ([`crate::percist::assess`]); the nuclear-medicine reader then decides every PET2
//! candidate (the same lesion as a PET1 lesion, a new lesion, or not a lesion) with the
//! command `ConfirmPetResponse`, and `decide` records [`PetResponseRead`] computed by
//! [`crate::percist::assess_read`], with the algorithm and settings versions. A PET2 hot
//! spot is new only when the reader says so. A later confirmation supersedes the earlier
//! one, which stays in the history.
//!
//! Alignment: the quantification keeps no body outline, so a proposal aligns the scans on
//! the centroid of the liver candidate (the tracer's liver uptake is high and always seen)
//! when both exams have one, and on the scanner coordinates otherwise.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::imaging::{PetCandidate, PetQuantification, PetTimepoint, ReaderDecision};
use crate::participant::{Arm, Participant};
use crate::percist::{self, MatchBasis, MetabolicCategory, PercistSettings, PetLesion, PetScan};
use crate::rule::{Refusal, Rule};
use crate::settings::Settings;

/// The reader's decision on one PET2 candidate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Pet2Decision {
    /// The same lesion as a PET1 lesion (named in `pet1_lesion`).
    SameLesion,
    /// A new lesion: progressive metabolic disease (PERCIST 1.0).
    NewLesion,
    /// Not a lesion (physiological uptake, artefact, treatment effect): left out.
    NotALesion,
}

/// What the reader says of one PET2 candidate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Pet2LesionDecision {
    /// The PET2 candidate's number (lesion `L<n>` of PET2).
    pub candidate: u32,
    /// Same lesion, new lesion, or not a lesion.
    pub decision: Pet2Decision,
    /// For `same_lesion`: the PET1 lesion's label, e.g. `L1`.
    #[serde(default)]
    pub pet1_lesion: Option<String>,
}

/// A lesion of one scan as the comparison sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ScanLesion {
    /// Label: `L<n>` for candidate n of that scan.
    pub label: String,
    /// SUVmax.
    pub suv_max: f64,
    /// SUVpeak.
    pub suv_peak: f64,
    /// Centroid, mm, patient coordinates.
    pub centroid_mm: [f64; 3],
    /// Anatomical site, when the reader gave one.
    pub anatomical_site: Option<String>,
}

/// One lesion followed from PET1 to PET2.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct LesionPair {
    /// PET1 lesion.
    pub pet1_lesion: String,
    /// PET2 lesion.
    pub pet2_lesion: String,
    /// SUVpeak on PET1 and PET2.
    pub suv_peak: [f64; 2],
    /// SUVmax on PET1 and PET2.
    pub suv_max: [f64; 2],
    /// % change of SUVpeak (one decimal; none from zero).
    pub suv_peak_change_pct: Option<f64>,
    /// % change of SUVmax (one decimal; none from zero).
    pub suv_max_change_pct: Option<f64>,
    /// Centroid distance after alignment, mm, when the match was proposed.
    pub proposed_distance_mm: Option<f64>,
}

/// The patient-level change: SUVpeak of the hottest lesion at each scan (PERCIST 1.0).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct HottestChange {
    /// Hottest PET1 lesion.
    pub pet1_lesion: String,
    /// Its SUVpeak.
    pub pet1_suv_peak: f64,
    /// Hottest PET2 lesion; none when PET2 has no lesion left.
    pub pet2_lesion: Option<String>,
    /// Its SUVpeak.
    pub pet2_suv_peak: Option<f64>,
    /// % change (one decimal).
    pub change_pct: Option<f64>,
    /// Change in SUV units (no lesion at PET2 counts as 0).
    pub change_suv: f64,
}

/// The reader's confirmed PET response PET1 → PET2, as recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PetResponseRead {
    /// Id, e.g. `petresp-1`.
    pub response_id: String,
    /// The PET1 quantification compared.
    pub pet1_quantification_id: String,
    /// The PET1 review whose confirmed lesions are the baseline; none when PET1 was not
    /// reviewed (its non-physiological candidates are the baseline).
    pub pet1_review_id: Option<String>,
    /// The PET2 quantification compared.
    pub pet2_quantification_id: String,
    /// The reader's decision on every PET2 candidate, by candidate number.
    pub decisions: Vec<Pet2LesionDecision>,
    /// Lesions followed from PET1 to PET2.
    pub pairs: Vec<LesionPair>,
    /// PET2 lesions the reader calls new.
    pub new_lesions: Vec<String>,
    /// PET1 lesions not seen on PET2.
    pub not_seen_on_pet2: Vec<String>,
    /// The hottest-lesion change.
    pub hottest: HottestChange,
    /// The category.
    pub category: MetabolicCategory,
    /// Background SUV for complete metabolic response.
    pub background_suv: f64,
    /// Whether the reader measured the background (else PET2's candidate threshold).
    pub background_measured: bool,
    /// SUVmax from which a lesion is HER2-avid.
    pub avid_suvmax_threshold: f64,
    /// [`percist::ALGORITHM_VERSION`] at the time.
    pub algorithm_version: String,
    /// The reader's note.
    pub note: Option<String>,
    /// The earlier read this one replaces (kept in the history).
    pub supersedes: Option<String>,
    /// When confirmed.
    pub confirmed_at: DateTime<Utc>,
    /// Settings version in force.
    pub settings_version: u32,
}

/// One PET2 candidate in the proposal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ProposalRow {
    /// The candidate's number.
    pub candidate: u32,
    /// The candidate on PET2.
    pub lesion: ScanLesion,
    /// The physiological organ it lies in, if flagged.
    pub physiological: Option<String>,
    /// HER2-avid (SUVmax at or above the threshold).
    pub her2_avid: bool,
    /// The proposed decision; none when the reader must decide (an unmatched lesion).
    pub proposed: Option<Pet2Decision>,
    /// The proposed pair with its changes, for a proposed match.
    pub pair: Option<LesionPair>,
}

/// The comparison offered to the reader before confirmation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PetResponseProposal {
    /// The PET1 quantification.
    pub pet1_quantification_id: String,
    /// The PET1 review the baseline lesions come from.
    pub pet1_review_id: Option<String>,
    /// The PET2 quantification.
    pub pet2_quantification_id: String,
    /// What the scans were aligned on, e.g. `liver candidate`; none when not aligned.
    pub aligned_on: Option<String>,
    /// The PET1 lesions a PET2 lesion can be matched to.
    pub pet1_lesions: Vec<ScanLesion>,
    /// Every PET2 candidate with its proposal.
    pub rows: Vec<ProposalRow>,
    /// PET1 lesions without a proposed match.
    pub not_seen_on_pet2: Vec<String>,
    /// Hottest-lesion change over the lesions not set aside.
    pub hottest: HottestChange,
    /// The category if the proposal were confirmed as it is (no lesion new).
    pub provisional_category: MetabolicCategory,
    /// PET2 lesions without a proposed match: the reader says whether each is new.
    pub awaiting_decision: Vec<String>,
    /// The algorithm version that would be recorded.
    pub algorithm_version: String,
}

fn refuse(msg: String) -> Refusal {
    Refusal::new(Rule::PET_RESPONSE, msg)
}

/// The label of PET2 candidate `n`.
pub fn label(n: u32) -> String {
    format!("L{n}")
}

/// What a PET response read compares, once the protocol allows it.
pub(crate) struct Inputs<'a> {
    pub pet1: &'a PetQuantification,
    pub pet2: &'a PetQuantification,
    pub pet1_review_id: Option<String>,
    pub pet1_lesions: Vec<ScanLesion>,
}

/// Arm 1 with PET1 and PET2 quantified and at least one comparable PET1 lesion.
pub(crate) fn inputs(p: &Participant) -> Result<Inputs<'_>, Refusal> {
    if p.allocation.as_ref().and_then(|a| a.arm()) != Some(Arm::Arm1) {
        return Err(refuse(format!(
            "The PET response read compares PET1 with PET2, which only arm 1 has; the participant is {}.",
            p.state.name().replace('_', " ")
        )));
    }
    let Some(pet1) = p.pet_quantification(PetTimepoint::Pet1) else {
        return Err(refuse(
            "PET1 is not quantified: there is no baseline to compare with.".into(),
        ));
    };
    let Some(pet2) = p.pet_quantification(PetTimepoint::Pet2) else {
        return Err(
            refuse("PET2 is not quantified yet: read its series first.".into())
                .with_hint("Quantify the PET2 series on the PET2 page."),
        );
    };
    let review = p.pet_review(PetTimepoint::Pet1);
    let pet1_lesions: Vec<ScanLesion> = match review {
        Some(r) => r
            .lesions
            .iter()
            .filter(|l| l.decision == ReaderDecision::Confirm)
            .filter_map(|l| {
                Some(ScanLesion {
                    label: l.label.clone(),
                    suv_max: l.suv_max?,
                    suv_peak: l.suv_peak?,
                    centroid_mm: l.centroid_mm?,
                    anatomical_site: l.anatomical_site.clone(),
                })
            })
            .collect(),
        None => pet1
            .candidates
            .iter()
            .filter(|k| k.physiological.is_none())
            .map(|k| scan_lesion(k, None))
            .collect(),
    };
    if pet1_lesions.is_empty() {
        return Err(refuse(format!(
            "PET1 ({}) has no lesion with a measured SUVpeak: there is nothing to follow to PET2.",
            pet1.quantification_id
        )));
    }
    Ok(Inputs {
        pet1,
        pet2,
        pet1_review_id: review.map(|r| r.review_id.clone()),
        pet1_lesions,
    })
}

fn scan_lesion(k: &PetCandidate, site: Option<String>) -> ScanLesion {
    ScanLesion {
        label: label(k.number),
        suv_max: k.suv_max,
        suv_peak: k.suv_peak,
        centroid_mm: k.centroid_mm,
        anatomical_site: site,
    }
}

fn liver(q: &PetQuantification) -> Option<[f64; 3]> {
    q.candidates
        .iter()
        .find(|k| k.physiological.as_deref() == Some("liver"))
        .map(|k| k.centroid_mm)
}

/// The two scans for [`percist`], aligned on the liver when both have it; PET2 holds
/// `pet2` (the lesions not set aside).
pub(crate) fn scans(i: &Inputs, pet2: &[ScanLesion]) -> (PetScan, PetScan, Option<String>) {
    let (r1, r2, aligned) = match (liver(i.pet1), liver(i.pet2)) {
        (Some(a), Some(b)) => (a, b, Some("liver candidate".to_string())),
        _ => ([0.0; 3], [0.0; 3], None),
    };
    let lesions = |ls: &[ScanLesion]| {
        ls.iter()
            .map(|l| PetLesion {
                id: l.label.clone(),
                identity: None,
                centroid_mm: l.centroid_mm,
                suv_max: l.suv_max,
                suv_peak: l.suv_peak,
            })
            .collect()
    };
    let scan1 = PetScan {
        body_centroid_mm: r1,
        lesions: lesions(&i.pet1_lesions),
    };
    let scan2 = PetScan {
        body_centroid_mm: r2,
        lesions: lesions(pet2),
    };
    (scan1, scan2, aligned)
}

/// The thresholds of a read: the avid threshold of the settings and the background.
pub(crate) fn percist_settings(s: &Settings, background_suv: f64) -> PercistSettings {
    PercistSettings::new(s.avid_suvmax_threshold, background_suv)
}

/// The pairs of a result with their SUVs, in the order given.
pub(crate) fn pairs_of(
    r: &percist::PetResponse,
    pet1: &PetScan,
    pet2: &PetScan,
) -> Vec<LesionPair> {
    let find = |scan: &PetScan, id: &str| scan.lesions.iter().find(|l| l.id == id).cloned();
    r.matches
        .iter()
        .filter_map(|m| {
            let (a, b) = (find(pet1, &m.pet1_id)?, find(pet2, &m.pet2_id)?);
            Some(LesionPair {
                pet1_lesion: a.id,
                pet2_lesion: b.id,
                suv_peak: [a.suv_peak, b.suv_peak],
                suv_max: [a.suv_max, b.suv_max],
                suv_peak_change_pct: m.suv_peak_change_pct,
                suv_max_change_pct: m.suv_max_change_pct,
                proposed_distance_mm: match m.basis {
                    MatchBasis::Proposed { distance_mm } => Some(distance_mm),
                    MatchBasis::Reader => None,
                },
            })
        })
        .collect()
}

/// The hottest-lesion change of a result.
pub(crate) fn hottest_of(r: &percist::PetResponse) -> HottestChange {
    let h = &r.hottest;
    HottestChange {
        pet1_lesion: h.pet1.0.clone(),
        pet1_suv_peak: h.pet1.1,
        pet2_lesion: h.pet2.as_ref().map(|p| p.0.clone()),
        pet2_suv_peak: h.pet2.as_ref().map(|p| p.1),
        change_pct: h.change_pct,
        change_suv: h.change_suv,
    }
}

pub(crate) fn percist_refusal(e: percist::PercistError) -> Refusal {
    match e {
        percist::PercistError::InvalidValue { .. } => Refusal::new(
            Rule::VALUE_IMPOSSIBLE,
            format!("The PET values cannot be compared: {e}."),
        ),
        other => refuse(format!("The PET response cannot be assessed: {other}.")),
    }
}

/// The comparison offered to the reader: proposed matches by nearest centroid, physiological
/// candidates (and candidates the PET2 review rejected) proposed as not a lesion, unmatched
/// lesions awaiting the reader. Refused as the command would be when the read is not possible.
pub fn propose(p: &Participant, s: &Settings) -> Result<PetResponseProposal, Refusal> {
    let i = inputs(p)?;
    let rejected: Vec<u32> = p
        .pet_review(PetTimepoint::Pet2)
        .map(|r| {
            r.lesions
                .iter()
                .filter(|l| l.decision == ReaderDecision::Reject)
                .filter_map(|l| l.candidate)
                .collect()
        })
        .unwrap_or_default();
    let set_aside = |k: &PetCandidate| k.physiological.is_some() || rejected.contains(&k.number);
    let kept: Vec<ScanLesion> = i
        .pet2
        .candidates
        .iter()
        .filter(|k| !set_aside(k))
        .map(|k| scan_lesion(k, None))
        .collect();
    let (scan1, scan2, aligned_on) = scans(&i, &kept);
    let settings = percist_settings(s, i.pet2.parameters.candidate_threshold_suv);
    let proposal = percist::assess(&scan1, &scan2, &settings).map_err(percist_refusal)?;
    let read = percist::ReaderRead {
        pairs: proposal
            .matches
            .iter()
            .map(|m| (m.pet1_id.clone(), m.pet2_id.clone()))
            .collect(),
        new_lesions: Vec::new(),
    };
    let provisional =
        percist::assess_read(&scan1, &scan2, &read, &settings).map_err(percist_refusal)?;
    let pairs = pairs_of(&proposal, &scan1, &scan2);
    let rows = i
        .pet2
        .candidates
        .iter()
        .map(|k| {
            let pair = pairs
                .iter()
                .find(|x| x.pet2_lesion == label(k.number))
                .cloned();
            let proposed = if set_aside(k) {
                Some(Pet2Decision::NotALesion)
            } else {
                pair.as_ref().map(|_| Pet2Decision::SameLesion)
            };
            ProposalRow {
                candidate: k.number,
                lesion: scan_lesion(k, None),
                physiological: k.physiological.clone(),
                her2_avid: k.suv_max >= s.avid_suvmax_threshold,
                proposed,
                pair,
            }
        })
        .collect();
    Ok(PetResponseProposal {
        pet1_quantification_id: i.pet1.quantification_id.clone(),
        pet1_review_id: i.pet1_review_id.clone(),
        pet2_quantification_id: i.pet2.quantification_id.clone(),
        aligned_on,
        pet1_lesions: i.pet1_lesions.clone(),
        rows,
        not_seen_on_pet2: proposal.unmatched_pet1.clone(),
        hottest: hottest_of(&provisional),
        provisional_category: provisional.category,
        awaiting_decision: proposal.unmatched_pet2.clone(),
        algorithm_version: percist::ALGORITHM_VERSION.to_owned(),
    })
}
