//! HER2-PET commands (PROTOCOL §6–§7).

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::imaging::{
    PetCandidate, PetHeaderFacts, PetQuantParameters, PetTimepoint, ReaderDecision,
};
use crate::records::ESignature;

/// Records an administration of the IMP, [68Ga]Ga-ABY-025, for a PET exam.
///
/// A woman of child-bearing potential needs a negative **serum** pregnancy test taken
/// within the configured window before the injection (default 72 hours); without it
/// the administration is refused (`IMP_PREGNANCY`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordImpAdministration {
    /// The PET this administration is for.
    pub timepoint: PetTimepoint,
    /// Injected activity, MBq (as measured: syringe before minus residual after).
    pub activity_mbq: f64,
    /// Injection time.
    pub injected_at: DateTime<Utc>,
    /// Body weight on the day, kg.
    pub weight_kg: f64,
    /// Height, cm.
    pub height_cm: f64,
    /// Peptide mass, µg, if given.
    #[serde(default)]
    pub peptide_mass_ug: Option<f64>,
    /// Scan start.
    #[serde(default)]
    pub scan_start_at: Option<DateTime<Utc>>,
    /// The injection really happened before consent and is documented afterwards (raises a major deviation).
    #[serde(default)]
    pub late_entry_of_fact: bool,
    /// Entry id this corrects, if any.
    #[serde(default)]
    pub corrects: Option<String>,
    /// Why the earlier entry is corrected.
    #[serde(default)]
    pub correction_reason: Option<String>,
}

/// Records the quantification of a PET exam's DICOM series.
///
/// Built by the server from the archived series (the numbers come from the `pet`
/// crate, never from a form); the protocol checks it belongs to a recorded IMP
/// administration and compares the header with the form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordPetQuantification {
    /// Time point.
    pub timepoint: PetTimepoint,
    /// The IMP administration (entry id) the series belongs to.
    pub administration_id: String,
    /// The quantified series.
    pub series_instance_uid: String,
    /// Number of images read.
    pub image_count: u32,
    /// The `pet` algorithm version.
    pub algorithm_version: String,
    /// Parameters used.
    pub parameters: PetQuantParameters,
    /// What the header says.
    pub header: PetHeaderFacts,
    /// Highest SUV in the volume.
    pub volume_suv_max: f64,
    /// Candidates, hottest first, numbered from 1.
    pub candidates: Vec<PetCandidate>,
    /// Assumptions and fallbacks.
    #[serde(default)]
    pub warnings: Vec<String>,
    /// PatientID of the series as archived (de-identified on ingest): the study id when
    /// the scanner sent it.
    #[serde(default)]
    pub series_patient_id: Option<String>,
    /// Why the series is hers although its PatientID is not her study id: the explicit
    /// assignment, by a user of her site ([`crate::Rule::IMAGING_PARTICIPANT`]).
    #[serde(default)]
    pub assignment_reason: Option<String>,
}

/// The reader's decision on one candidate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CandidateDecision {
    /// The candidate's number.
    pub candidate: u32,
    /// Confirm or reject.
    pub decision: ReaderDecision,
    /// Anatomical site (required for a confirmed lesion).
    #[serde(default)]
    pub anatomical_site: Option<String>,
    /// Reachable by ultrasound-guided biopsy (required for a confirmed lesion).
    #[serde(default)]
    pub ultrasound_accessible: Option<bool>,
    /// Note.
    #[serde(default)]
    pub note: Option<String>,
}

/// A lesion the reader sees that the quantification did not find.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AddedLesion {
    /// Anatomical site.
    pub anatomical_site: String,
    /// Reachable by ultrasound-guided biopsy.
    pub ultrasound_accessible: bool,
    /// SUVmax as the reader measured it, if measured.
    #[serde(default)]
    pub suv_max: Option<f64>,
    /// Note.
    #[serde(default)]
    pub note: Option<String>,
}

/// The nuclear-medicine reader confirms or rejects every candidate and adds lesions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewPetLesions {
    /// Time point.
    pub timepoint: PetTimepoint,
    /// The quantification reviewed (its id, e.g. `petq-1`).
    pub quantification_id: String,
    /// One decision per candidate.
    pub decisions: Vec<CandidateDecision>,
    /// Lesions the reader adds.
    #[serde(default)]
    pub added: Vec<AddedLesion>,
    /// Overall note.
    #[serde(default)]
    pub note: Option<String>,
}

/// The investigator chooses the biopsy target from the reviewed lesions, with a reason.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ChooseBiopsyTarget {
    /// Time point of the guiding PET (PET1, or PET3 at progression).
    pub timepoint: PetTimepoint,
    /// The chosen lesion's label, e.g. `L2` or `A1`.
    pub lesion: String,
    /// Why this lesion (required, also when it is the proposal's first choice).
    pub reason: String,
    /// The investigator's signature.
    pub signature: ESignature,
}

/// The nuclear-medicine reader confirms the PET response PET1 → PET2 (PROTOCOL §10,
/// PERCIST-style, arm 1): one decision per PET2 candidate — the same lesion as a PET1
/// lesion, a new lesion, or not a lesion. The protocol computes the comparison from the
/// recorded quantifications and records it with the algorithm version; an unmatched PET2
/// hot spot is new only when the reader says so. A later confirmation supersedes the
/// earlier one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfirmPetResponse {
    /// The PET2 quantification read (its id, e.g. `petq-2`).
    pub pet2_quantification_id: String,
    /// One decision per PET2 candidate.
    pub decisions: Vec<crate::pet_response::Pet2LesionDecision>,
    /// Background SUV measured on PET2 (e.g. blood-pool SUVmean) for complete metabolic
    /// response; PET2's candidate threshold when not given.
    #[serde(default)]
    pub background_suv: Option<f64>,
    /// The reader's note.
    #[serde(default)]
    pub note: Option<String>,
}
