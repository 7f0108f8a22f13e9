//! HER2-PET in the trial (PROTOCOL §6–§7): the IMP administration, the quantified
//! PET exam, the reader's review of its lesions and the biopsy target proposal.
//!
//! The numbers come from the `pet` crate through the server, which turns a quantified
//! DICOM series into a [`crate::RecordPetQuantification`] command; this module holds
//! what the protocol keeps of it and the pure rules that act on it:
//! - [`form_discrepancies`]: where the IMP form and the DICOM header disagree
//!   (PROTOCOL §6: the series is the source of truth, any disagreement is shown);
//! - [`propose_biopsy_targets`]: PROTOCOL §7's ranked proposal with a reason per lesion.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::local_time::SiteTimeZone;

/// The HER2-PET time points (PROTOCOL §1, §9).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum PetTimepoint {
    /// Baseline HER2-PET, before the biopsy.
    Pet1,
    /// Arm 1 response PET after 3–4 T-DXd cycles.
    Pet2,
    /// Optional PET at progression (arm 1).
    Pet3,
}

impl PetTimepoint {
    /// Every time point, in order.
    pub const ALL: [PetTimepoint; 3] = [PetTimepoint::Pet1, PetTimepoint::Pet2, PetTimepoint::Pet3];

    /// The id as in URLs and JSON, e.g. `pet1`.
    pub fn id(self) -> &'static str {
        match self {
            PetTimepoint::Pet1 => "pet1",
            PetTimepoint::Pet2 => "pet2",
            PetTimepoint::Pet3 => "pet3",
        }
    }

    /// The label a site user reads, e.g. `PET1 (baseline)`.
    pub fn label(self) -> &'static str {
        match self {
            PetTimepoint::Pet1 => "PET1 (baseline)",
            PetTimepoint::Pet2 => "PET2 (response)",
            PetTimepoint::Pet3 => "PET3 (progression)",
        }
    }

    /// Parses an id such as `pet2`.
    pub fn parse(s: &str) -> Option<PetTimepoint> {
        PetTimepoint::ALL.into_iter().find(|t| t.id() == s)
    }

    /// Whether a biopsy is guided by this PET (PET1, and PET3 at progression).
    pub fn guides_biopsy(self) -> bool {
        self != PetTimepoint::Pet2
    }
}

/// An administration of the IMP, [68Ga]Ga-ABY-025 (PROTOCOL §6).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ImpAdministration {
    /// The PET it was given for.
    pub timepoint: PetTimepoint,
    /// Injected activity, MBq.
    pub activity_mbq: f64,
    /// Injection time.
    pub injected_at: DateTime<Utc>,
    /// Body weight on the day, kg.
    pub weight_kg: f64,
    /// Height, cm.
    pub height_cm: f64,
    /// Peptide mass, µg, if given.
    pub peptide_mass_ug: Option<f64>,
    /// Scan start, if known from the form.
    pub scan_start_at: Option<DateTime<Utc>>,
    /// The negative serum pregnancy test that cleared a woman of child-bearing
    /// potential for this administration (entry id), if she is one.
    pub pregnancy_test_entry: Option<String>,
}

/// What the DICOM header says about the administration (the SUV's source of truth).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PetHeaderFacts {
    /// Injected activity from the radiopharmaceutical sequence, MBq.
    #[serde(default)]
    pub injected_activity_mbq: Option<f64>,
    /// Injection time from the radiopharmaceutical sequence.
    #[serde(default)]
    pub injected_at: Option<DateTime<Utc>>,
    /// Patient weight (0010,1030), kg.
    #[serde(default)]
    pub weight_kg: Option<f64>,
    /// Patient size (0010,1020), cm.
    #[serde(default)]
    pub height_cm: Option<f64>,
    /// Scan time used for decay correction.
    #[serde(default)]
    pub scan_at: Option<DateTime<Utc>>,
    /// Which QIBA rule gave the scan time (`series_time`, `ge_private`, …).
    #[serde(default)]
    pub scan_datetime_rule: Option<String>,
    /// SUVbw scale factor of the first instance, g/mL per Bq/mL.
    #[serde(default)]
    pub suvbw_scale_factor: Option<f64>,
    /// Half-life of the radionuclide from the header, s.
    #[serde(default)]
    pub half_life_s: Option<f64>,
}

/// A lesion candidate found by the quantification.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PetCandidate {
    /// Its number on the picture and in the table (1 = hottest).
    pub number: u32,
    /// SUVmax.
    pub suv_max: f64,
    /// SUVpeak (1 cm³ sphere).
    pub suv_peak: f64,
    /// SUVmean inside the metabolic volume.
    pub suv_mean: f64,
    /// Metabolic tumour volume, mL.
    pub mtv_ml: f64,
    /// Total lesion uptake (SUVmean × MTV).
    pub tlu: f64,
    /// Centroid in patient coordinates, mm.
    pub centroid_mm: [f64; 3],
    /// SUVmax at or above the avid threshold.
    pub her2_avid: bool,
    /// The organ of likely physiological uptake it lies in, if any
    /// (never proposed without a reader's confirmation, PROTOCOL §6).
    #[serde(default)]
    pub physiological: Option<String>,
}

/// The quantification parameters, stored with the result so it can be explained later.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PetQuantParameters {
    /// SUV type, e.g. `SUVbw`.
    pub suv_type: String,
    /// Candidate threshold, SUV.
    pub candidate_threshold_suv: f64,
    /// Smallest candidate, mL.
    pub min_volume_ml: f64,
    /// Metabolic volume threshold as a fraction of SUVmax.
    pub mtv_fraction: f64,
    /// HER2-avid when SUVmax ≥ this.
    pub avid_suvmax_threshold: f64,
}

/// A difference between the IMP form and the DICOM header.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Discrepancy {
    /// The quantity, e.g. `injected activity`.
    pub field: String,
    /// The value on the form.
    pub form: String,
    /// The value in the DICOM header.
    pub header: String,
    /// How far apart, in words.
    pub difference: String,
}

/// A quantified PET exam as recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PetQuantification {
    /// Id, e.g. `petq-1`.
    pub quantification_id: String,
    /// Time point.
    pub timepoint: PetTimepoint,
    /// The IMP administration (entry id) this exam belongs to.
    pub administration_id: String,
    /// The quantified DICOM series.
    pub series_instance_uid: String,
    /// Number of images in the series.
    pub image_count: u32,
    /// The `pet` algorithm version that produced the numbers.
    pub algorithm_version: String,
    /// Parameters used.
    pub parameters: PetQuantParameters,
    /// The header's facts.
    pub header: PetHeaderFacts,
    /// Highest SUV in the volume.
    pub volume_suv_max: f64,
    /// Candidates, hottest first.
    pub candidates: Vec<PetCandidate>,
    /// Assumptions and fallbacks the SUV calculation took.
    pub warnings: Vec<String>,
    /// Where form and header disagree.
    pub discrepancies: Vec<Discrepancy>,
    /// When quantified.
    pub quantified_at: DateTime<Utc>,
    /// Settings version in force.
    pub settings_version: u32,
    /// The protocol version of those settings (empty when quantified before it was recorded).
    #[serde(default)]
    pub protocol_version: String,
    /// Why a series whose PatientID is not the study id was assigned to her (an explicit
    /// assignment); none when the PatientID is her study id.
    #[serde(default)]
    pub assignment_reason: Option<String>,
}

/// A reader's decision on a candidate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReaderDecision {
    /// A lesion.
    Confirm,
    /// Not a lesion (physiological uptake, artefact, …).
    Reject,
}

/// A lesion as the reader left it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ReviewedLesion {
    /// Label: `L<n>` for candidate n, `A<n>` for a lesion the reader added.
    pub label: String,
    /// The candidate's number, for a candidate.
    pub candidate: Option<u32>,
    /// Confirmed or rejected.
    pub decision: ReaderDecision,
    /// Anatomical site, e.g. "liver segment 6", "left axillary node".
    pub anatomical_site: Option<String>,
    /// Reachable by an ultrasound-guided biopsy.
    pub ultrasound_accessible: Option<bool>,
    /// SUVmax (the candidate's, or the reader's measurement for an added lesion).
    pub suv_max: Option<f64>,
    /// SUVpeak, for a candidate.
    pub suv_peak: Option<f64>,
    /// Centroid, mm, when known.
    pub centroid_mm: Option<[f64; 3]>,
    /// The physiological organ the candidate lay in, if any.
    pub physiological: Option<String>,
    /// The reader's note.
    pub note: Option<String>,
}

impl ReviewedLesion {
    /// Whether the reader confirmed it as a lesion.
    pub fn confirmed(&self) -> bool {
        self.decision == ReaderDecision::Confirm
    }
}

/// Why a lesion is or is not proposed as the biopsy target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TargetProposal {
    /// The lesion's label.
    pub label: String,
    /// Rank among proposed targets (1 = first choice); `None` when not proposed.
    pub rank: Option<u32>,
    /// SUVmax, when measured.
    pub suv_max: Option<f64>,
    /// Anatomical site.
    pub anatomical_site: Option<String>,
    /// The reason, in words.
    pub reason: String,
}

/// The reader's review of a quantified PET exam, with the proposal it gives.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PetReview {
    /// Id, e.g. `petr-1`.
    pub review_id: String,
    /// Time point.
    pub timepoint: PetTimepoint,
    /// The quantification reviewed.
    pub quantification_id: String,
    /// Every candidate's decision and every added lesion.
    pub lesions: Vec<ReviewedLesion>,
    /// The reader's overall note.
    pub note: Option<String>,
    /// PROTOCOL §7 proposal at the time of the review, ranked first; then the lesions not proposed.
    pub proposal: Vec<TargetProposal>,
    /// When reviewed.
    pub reviewed_at: DateTime<Utc>,
    /// Settings version in force.
    pub settings_version: u32,
}

/// The investigator's choice of biopsy target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct BiopsyTargetChoice {
    /// Time point of the guiding PET.
    pub timepoint: PetTimepoint,
    /// The review the choice was made on.
    pub review_id: String,
    /// The chosen lesion's label (kept by the biopsy).
    pub label: String,
    /// The chosen lesion as reviewed.
    pub lesion: ReviewedLesion,
    /// Its rank in the proposal, if it was proposed.
    pub proposed_rank: Option<u32>,
    /// Whether the choice is the proposal's first choice.
    pub follows_proposal: bool,
    /// The investigator's reason.
    pub reason: String,
    /// The investigator's signature.
    pub signature: crate::records::ESignature,
}

/// PROTOCOL §7: accessible (ultrasound) lesions with SUVmax ≥ the avid threshold,
/// highest first; if there is none, accessible non-avid lesions (highest measured
/// SUVmax first, unmeasured last). Rejected candidates are never proposed; an
/// inaccessible lesion is listed with its reason. Every confirmed lesion appears once.
pub fn propose_biopsy_targets(
    lesions: &[ReviewedLesion],
    avid_threshold: f64,
) -> Vec<TargetProposal> {
    let confirmed: Vec<&ReviewedLesion> = lesions.iter().filter(|l| l.confirmed()).collect();
    let accessible = |l: &&ReviewedLesion| l.ultrasound_accessible == Some(true);
    let avid = |l: &&ReviewedLesion| l.suv_max.is_some_and(|s| s >= avid_threshold);
    let mut avid_ok: Vec<&ReviewedLesion> = confirmed
        .iter()
        .copied()
        .filter(|l| accessible(l) && avid(l))
        .collect();
    let mut fallback: Vec<&ReviewedLesion> = if avid_ok.is_empty() {
        confirmed
            .iter()
            .copied()
            .filter(|l| accessible(l))
            .collect()
    } else {
        Vec::new()
    };
    let by_suv = |a: &&ReviewedLesion, b: &&ReviewedLesion| {
        let key = |l: &&ReviewedLesion| l.suv_max.unwrap_or(f64::NEG_INFINITY);
        key(b)
            .total_cmp(&key(a))
            .then_with(|| a.label.cmp(&b.label))
    };
    avid_ok.sort_by(by_suv);
    fallback.sort_by(by_suv);
    let mut out = Vec::new();
    let mut rank = 0;
    for l in &avid_ok {
        rank += 1;
        out.push(proposal(l, Some(rank), format!(
            "Accessible by ultrasound and HER2-avid (SUVmax {} ≥ {avid_threshold}); rank {rank} by SUVmax.",
            fmt_suv(l.suv_max)
        )));
    }
    for l in &fallback {
        rank += 1;
        let why = match l.suv_max {
            Some(_) => format!(
                "No accessible HER2-avid lesion: accessible non-avid lesion (SUVmax {} < {avid_threshold}); rank {rank}.",
                fmt_suv(l.suv_max)
            ),
            None => format!(
                "No accessible HER2-avid lesion: accessible lesion, SUVmax not measured; rank {rank}."
            ),
        };
        out.push(proposal(l, Some(rank), why));
    }
    for l in &confirmed {
        if out.iter().any(|p| p.label == l.label) {
            continue;
        }
        let why = if !accessible(l) {
            match l.ultrasound_accessible {
                Some(false) => "Not accessible by ultrasound.".to_string(),
                _ => "Ultrasound accessibility not stated.".to_string(),
            }
        } else {
            match l.suv_max {
                Some(s) => format!(
                    "Accessible but not avid (SUVmax {s:.1} < {avid_threshold}) while an accessible avid lesion exists."
                ),
                None => "Accessible, SUVmax not measured, while an accessible avid lesion exists."
                    .to_string(),
            }
        };
        out.push(proposal(l, None, why));
    }
    for l in lesions.iter().filter(|l| !l.confirmed()) {
        let why = match &l.physiological {
            Some(organ) => {
                format!("Rejected by the reader (likely physiological uptake: {organ}).")
            }
            None => "Rejected by the reader.".to_string(),
        };
        out.push(proposal(l, None, why));
    }
    out
}

fn proposal(l: &ReviewedLesion, rank: Option<u32>, reason: String) -> TargetProposal {
    TargetProposal {
        label: l.label.clone(),
        rank,
        suv_max: l.suv_max,
        anatomical_site: l.anatomical_site.clone(),
        reason,
    }
}

fn fmt_suv(s: Option<f64>) -> String {
    s.map(|v| format!("{v:.1}"))
        .unwrap_or_else(|| "not measured".into())
}

/// A signed time difference in words: `+1 min 01 s`, `-2 h 05 min`, `-268 d 01 h 52 min`.
fn time_difference(seconds: i64) -> String {
    let sign = if seconds < 0 { '-' } else { '+' };
    let s = seconds.unsigned_abs();
    let (d, h, m, sec) = (s / 86_400, s / 3600 % 24, s / 60 % 60, s % 60);
    match (d, h) {
        (0, 0) => format!("{sign}{m} min {sec:02} s"),
        (0, _) => format!("{sign}{h} h {m:02} min"),
        _ => format!("{sign}{d} d {h:02} h {m:02} min"),
    }
}

/// Tolerances within which form and header are taken to agree.
const ACTIVITY_TOLERANCE: f64 = 0.02;
const TIME_TOLERANCE_S: i64 = 60;
const WEIGHT_TOLERANCE_KG: f64 = 0.5;
const HEIGHT_TOLERANCE_CM: f64 = 1.0;

/// Where the IMP form and the DICOM header disagree beyond rounding: activity by more
/// than 2 %, injection time by more than a minute, weight by more than 0.5 kg, height by
/// more than 1 cm. A value missing from the header is a discrepancy too (the SUV then
/// rests on the form or on an override).
pub fn form_discrepancies(
    form: &ImpAdministration,
    header: &PetHeaderFacts,
    zone: SiteTimeZone,
) -> Vec<Discrepancy> {
    let mut out = Vec::new();
    let mut missing = |field: &str, form: String| {
        out.push(Discrepancy {
            field: field.into(),
            form,
            header: "not in the header".into(),
            difference: "—".into(),
        })
    };
    match header.injected_activity_mbq {
        None => missing("injected activity", format!("{:.1} MBq", form.activity_mbq)),
        Some(h) => {
            let rel = (h - form.activity_mbq) / form.activity_mbq;
            if rel.abs() > ACTIVITY_TOLERANCE {
                out.push(Discrepancy {
                    field: "injected activity".into(),
                    form: format!("{:.1} MBq", form.activity_mbq),
                    header: format!("{h:.1} MBq"),
                    difference: format!("{:+.1} %", rel * 100.0),
                });
            }
        }
    }
    let mut others = Vec::new();
    match header.injected_at {
        None => others.push(("injection time", zone.format(form.injected_at), None)),
        Some(h) => {
            let d = (h - form.injected_at).num_seconds();
            if d.abs() > TIME_TOLERANCE_S {
                others.push((
                    "injection time",
                    form.injected_at.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
                    Some((
                        h.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
                        time_difference(d),
                    )),
                ));
            }
        }
    }
    match header.weight_kg {
        None => others.push(("weight", format!("{:.1} kg", form.weight_kg), None)),
        Some(h) if (h - form.weight_kg).abs() > WEIGHT_TOLERANCE_KG => others.push((
            "weight",
            format!("{:.1} kg", form.weight_kg),
            Some((
                format!("{h:.1} kg"),
                format!("{:+.1} kg", h - form.weight_kg),
            )),
        )),
        Some(_) => {}
    }
    if let Some(h) = header.height_cm
        && (h - form.height_cm).abs() > HEIGHT_TOLERANCE_CM
    {
        others.push((
            "height",
            format!("{:.0} cm", form.height_cm),
            Some((
                format!("{h:.0} cm"),
                format!("{:+.0} cm", h - form.height_cm),
            )),
        ));
    }
    for (field, form_v, header_v) in others {
        match header_v {
            None => out.push(Discrepancy {
                field: field.into(),
                form: form_v,
                header: "not in the header".into(),
                difference: "—".into(),
            }),
            Some((h, d)) => out.push(Discrepancy {
                field: field.into(),
                form: form_v,
                header: h,
                difference: d,
            }),
        }
    }
    out
}

/// IMAGING_PARTICIPANT: a series whose PatientID is not her study id is hers only by an
/// explicit assignment with a reason. Checked when the quantification is asked for (so
/// the refusal comes at once) and again when it is recorded.
pub fn check_series_assignment(
    series_uid: &str,
    series_patient_id: Option<&str>,
    study_id: Option<&str>,
    assignment_reason: Option<&str>,
) -> Result<(), crate::Refusal> {
    let reason = assignment_reason.map(str::trim).filter(|r| !r.is_empty());
    if series_patient_id.map(str::trim) != study_id && reason.is_none() {
        return Err(crate::Refusal::new(
            crate::Rule::IMAGING_PARTICIPANT,
            format!(
                "The PatientID of series {series_uid} is not the study id {}: assigning the series to her needs a reason (`assignment_reason`).",
                study_id.unwrap_or("of this participant")
            ),
        )
        .with_hint("Check that the series is hers, then give the reason it is (e.g. the scanner was sent the wrong id)."));
    }
    Ok(())
}
