//! Commands: what a user asks the protocol to record (one web form each).
//!
//! Every inner struct is flat and uses plain types so the server can
//! deserialize it straight from a request body. Recording commands for list
//! items carry `corrects` / `correction_reason`: naming an earlier entry's id
//! there records a correction, which supersedes (never erases) the old entry.
//!
//! # Consent gate and late entries (PROTOCOL §4)
//! A study procedure (study lab sample, study pregnancy test) dated before the
//! signed consent is refused with `GATE_CONSENT`. If the procedure really did
//! happen before consent and is being documented afterwards, set
//! `late_entry_of_fact: true`: the fact is then recorded as it happened,
//! together with a **major deviation** event, so the record tells the truth and
//! the breach is visible to the monitor.

mod allowed;
mod imaging;
mod journey;
mod kind;
mod response;
mod screening;

pub use imaging::*;
pub use journey::*;
pub use kind::CommandKind;
pub use response::*;
pub use screening::*;

use chrono::{DateTime, NaiveDate, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::records::{ESignature, Sex};

/// Registers a participant under a server-assigned study id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterParticipant {
    /// Site code, e.g. `KS`.
    pub site: String,
    /// Study id, e.g. `KS-014` (site code, dash, three digits).
    pub study_id: String,
    /// Year of birth (never the birth date).
    pub year_of_birth: i32,
    /// Sex.
    pub sex: Sex,
}

/// Records signed informed consent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordConsent {
    /// Consent form version, e.g. "2.0 2025-09-01".
    pub form_version: String,
    /// Date and time of signature.
    pub signed_at: DateTime<Utc>,
    /// Age in whole years on the day of consent, read from the medical record.
    /// Optional; without it the age is known only to within a year from the year of birth.
    #[serde(default)]
    pub age_at_consent: Option<u32>,
}

/// Records withdrawal of consent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WithdrawConsent {
    /// When consent was withdrawn.
    pub withdrawn_at: DateTime<Utc>,
    /// Reason, if given.
    pub reason: String,
}

/// Marks an entry as entered in error without replacing it (kept in history).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RetractEntry {
    /// Entry id.
    pub entry_id: String,
    /// Why.
    pub reason: String,
}

/// Enrols an eligible participant; the investigator signs the eligibility result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Enrol {
    /// The investigator's signature.
    pub signature: ESignature,
}

/// Ends screening without enrolment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScreenFail {
    /// Reason.
    pub reason: String,
}

/// Records the participant's death.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordDeath {
    /// Date of death.
    pub died_on: NaiveDate,
    /// Cause, if known.
    #[serde(default)]
    pub cause: Option<String>,
}

/// Records that the participant is lost to follow-up.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordLostToFollowUp {
    /// Date of last contact.
    pub last_contact_on: NaiveDate,
    /// Note.
    #[serde(default)]
    pub note: Option<String>,
}

/// Everything a user can ask the protocol to do to a participant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Command {
    /// See [`RegisterParticipant`].
    RegisterParticipant(RegisterParticipant),
    /// See [`RecordConsent`].
    RecordConsent(RecordConsent),
    /// See [`WithdrawConsent`].
    WithdrawConsent(WithdrawConsent),
    /// See [`RecordTreatmentLine`].
    RecordTreatmentLine(RecordTreatmentLine),
    /// See [`RecordLesion`].
    RecordLesion(RecordLesion),
    /// See [`RecordLab`].
    RecordLab(RecordLab),
    /// See [`RecordBodyWeight`].
    RecordBodyWeight(RecordBodyWeight),
    /// See [`RecordPerformanceStatus`].
    RecordPerformanceStatus(RecordPerformanceStatus),
    /// See [`RecordChildbearingPotential`].
    RecordChildbearingPotential(RecordChildbearingPotential),
    /// See [`RecordPregnancyTest`].
    RecordPregnancyTest(RecordPregnancyTest),
    /// See [`RecordMedicalHistory`].
    RecordMedicalHistory(RecordMedicalHistory),
    /// See [`RecordPriorHer2Result`].
    RecordPriorHer2Result(RecordPriorHer2Result),
    /// See [`RecordOtherMalignancy`].
    RecordOtherMalignancy(RecordOtherMalignancy),
    /// See [`RecordArchivalBiopsy`].
    RecordArchivalBiopsy(RecordArchivalBiopsy),
    /// See [`RecordAttestation`].
    RecordAttestation(RecordAttestation),
    /// See [`RetractEntry`].
    RetractEntry(RetractEntry),
    /// See [`Enrol`].
    Enrol(Enrol),
    /// See [`ScreenFail`].
    ScreenFail(ScreenFail),
    /// See [`RecordDeath`].
    RecordDeath(RecordDeath),
    /// See [`RecordLostToFollowUp`].
    RecordLostToFollowUp(RecordLostToFollowUp),
    /// See [`RecordImpAdministration`].
    RecordImpAdministration(RecordImpAdministration),
    /// See [`RecordPetQuantification`].
    RecordPetQuantification(RecordPetQuantification),
    /// See [`ReviewPetLesions`].
    ReviewPetLesions(ReviewPetLesions),
    /// See [`ChooseBiopsyTarget`].
    ChooseBiopsyTarget(ChooseBiopsyTarget),
    /// See [`ConfirmPetResponse`].
    ConfirmPetResponse(ConfirmPetResponse),
    /// See [`RecordFreshBiopsy`].
    RecordFreshBiopsy(RecordFreshBiopsy),
    /// See [`UseArchivalBiopsy`].
    UseArchivalBiopsy(UseArchivalBiopsy),
    /// See [`RecordPathology`].
    RecordPathology(RecordPathology),
    /// See [`CorrectAllocation`].
    CorrectAllocation(CorrectAllocation),
    /// See [`RecordTdxdAdministration`].
    RecordTdxdAdministration(RecordTdxdAdministration),
    /// See [`RecordAdverseEvent`].
    RecordAdverseEvent(RecordAdverseEvent),
    /// See [`EndParticipation`].
    EndParticipation(EndParticipation),
    /// See [`RecordPregnancyReport`].
    RecordPregnancyReport(RecordPregnancyReport),
    /// See [`RecordBaselineTumourAssessment`].
    RecordBaselineTumourAssessment(RecordBaselineTumourAssessment),
    /// See [`RecordTumourAssessment`].
    RecordTumourAssessment(RecordTumourAssessment),
}

fn sig_fields(s: &ESignature) -> [(&'static str, &str); 3] {
    [
        ("signature.signer", s.signer.as_str()),
        ("signature.role", s.role.as_str()),
        ("signature.meaning", s.meaning.as_str()),
    ]
}

fn push_opt<'a>(v: &mut Vec<(&'static str, &'a str)>, name: &'static str, s: &'a Option<String>) {
    if let Some(s) = s {
        v.push((name, s.as_str()));
    }
}

impl Command {
    /// Every text field of the command with its name (screened for personal numbers).
    pub fn text_fields(&self) -> Vec<(&'static str, &str)> {
        let mut v: Vec<(&'static str, &str)> = Vec::new();
        match self {
            Command::RegisterParticipant(c) => {
                v.push(("site", &c.site));
                v.push(("study_id", &c.study_id));
            }
            Command::RecordConsent(c) => v.push(("form_version", &c.form_version)),
            Command::WithdrawConsent(c) => v.push(("reason", &c.reason)),
            Command::RecordTreatmentLine(c) => {
                v.push(("regimen", &c.regimen));
                push_opt(&mut v, "corrects", &c.corrects);
                push_opt(&mut v, "correction_reason", &c.correction_reason);
            }
            Command::RecordLesion(c) => {
                v.push(("lesion_id", &c.lesion_id));
                v.push(("organ", &c.organ));
                push_opt(&mut v, "corrects", &c.corrects);
                push_opt(&mut v, "correction_reason", &c.correction_reason);
            }
            Command::RecordLab(c) => {
                v.push(("unit", &c.unit));
                push_opt(&mut v, "corrects", &c.corrects);
                push_opt(&mut v, "correction_reason", &c.correction_reason);
            }
            Command::RecordBodyWeight(c) => {
                push_opt(&mut v, "corrects", &c.corrects);
                push_opt(&mut v, "correction_reason", &c.correction_reason);
            }
            Command::RecordPerformanceStatus(c) => {
                push_opt(&mut v, "corrects", &c.corrects);
                push_opt(&mut v, "correction_reason", &c.correction_reason);
            }
            Command::RecordChildbearingPotential(c) => {
                push_opt(&mut v, "basis", &c.basis);
                push_opt(&mut v, "contraception_method", &c.contraception_method);
                push_opt(&mut v, "corrects", &c.corrects);
                push_opt(&mut v, "correction_reason", &c.correction_reason);
            }
            Command::RecordPregnancyTest(c) => {
                push_opt(&mut v, "corrects", &c.corrects);
                push_opt(&mut v, "correction_reason", &c.correction_reason);
            }
            Command::RecordMedicalHistory(c) => {
                push_opt(&mut v, "details", &c.details);
                push_opt(&mut v, "corrects", &c.corrects);
                push_opt(&mut v, "correction_reason", &c.correction_reason);
            }
            Command::RecordPriorHer2Result(c) => {
                v.push(("site_description", &c.site_description));
                push_opt(&mut v, "corrects", &c.corrects);
                push_opt(&mut v, "correction_reason", &c.correction_reason);
            }
            Command::RecordOtherMalignancy(c) => {
                v.push(("description", &c.description));
                push_opt(&mut v, "corrects", &c.corrects);
                push_opt(&mut v, "correction_reason", &c.correction_reason);
            }
            Command::RecordArchivalBiopsy(c) => {
                v.push(("site_description", &c.site_description));
                push_opt(&mut v, "lesion_id", &c.lesion_id);
                push_opt(&mut v, "corrects", &c.corrects);
                push_opt(&mut v, "correction_reason", &c.correction_reason);
            }
            Command::RecordAttestation(c) => {
                push_opt(&mut v, "note", &c.note);
                v.extend(sig_fields(&c.signature));
            }
            Command::RetractEntry(c) => {
                v.push(("entry_id", &c.entry_id));
                v.push(("reason", &c.reason));
            }
            Command::Enrol(c) => v.extend(sig_fields(&c.signature)),
            Command::ScreenFail(c) => v.push(("reason", &c.reason)),
            Command::RecordDeath(c) => push_opt(&mut v, "cause", &c.cause),
            Command::RecordLostToFollowUp(c) => push_opt(&mut v, "note", &c.note),
            Command::RecordImpAdministration(c) => {
                push_opt(&mut v, "corrects", &c.corrects);
                push_opt(&mut v, "correction_reason", &c.correction_reason);
            }
            Command::RecordPetQuantification(c) => {
                v.push(("administration_id", &c.administration_id));
                v.push(("series_instance_uid", &c.series_instance_uid));
                v.push(("algorithm_version", &c.algorithm_version));
                v.extend(c.warnings.iter().map(|w| ("warnings", w.as_str())));
                push_opt(&mut v, "assignment_reason", &c.assignment_reason);
                for cand in &c.candidates {
                    push_opt(&mut v, "candidates.physiological", &cand.physiological);
                }
            }
            Command::ReviewPetLesions(c) => {
                v.push(("quantification_id", &c.quantification_id));
                for d in &c.decisions {
                    push_opt(&mut v, "decisions.anatomical_site", &d.anatomical_site);
                    push_opt(&mut v, "decisions.note", &d.note);
                }
                for a in &c.added {
                    v.push(("added.anatomical_site", &a.anatomical_site));
                    push_opt(&mut v, "added.note", &a.note);
                }
                push_opt(&mut v, "note", &c.note);
            }
            Command::ChooseBiopsyTarget(c) => {
                v.push(("lesion", &c.lesion));
                v.push(("reason", &c.reason));
                v.extend(sig_fields(&c.signature));
            }
            Command::ConfirmPetResponse(c) => {
                v.push(("pet2_quantification_id", &c.pet2_quantification_id));
                for d in &c.decisions {
                    push_opt(&mut v, "decisions.pet1_lesion", &d.pet1_lesion);
                }
                push_opt(&mut v, "note", &c.note);
            }
            Command::RecordFreshBiopsy(c) => {
                push_opt(&mut v, "anticoagulant", &c.anticoagulant);
                push_opt(&mut v, "complication", &c.complication);
            }
            Command::UseArchivalBiopsy(c) => v.push(("archival_entry", &c.archival_entry)),
            Command::RecordPathology(c) => {
                v.push(("biopsy_id", &c.biopsy_id));
                v.push(("specimen_id", &c.specimen_id));
                v.push(("reader", &c.reader));
                push_opt(&mut v, "non_diagnostic_reason", &c.non_diagnostic_reason);
                push_opt(&mut v, "antibody_clone", &c.antibody_clone);
            }
            Command::CorrectAllocation(c) => {
                v.push(("reason", &c.reason));
                v.extend(sig_fields(&c.signature));
            }
            Command::RecordTdxdAdministration(c) => {
                push_opt(&mut v, "reduction_reason", &c.reduction_reason);
                push_opt(&mut v, "delay_reason", &c.delay_reason);
            }
            Command::RecordAdverseEvent(c) => {
                push_opt(&mut v, "verbatim", &c.verbatim);
                push_opt(&mut v, "corrects", &c.corrects);
                push_opt(&mut v, "correction_reason", &c.correction_reason);
            }
            Command::EndParticipation(c) => push_opt(&mut v, "note", &c.note),
            Command::RecordPregnancyReport(c) => push_opt(&mut v, "note", &c.note),
            Command::RecordBaselineTumourAssessment(c) => {
                for l in &c.lesions {
                    v.push(("lesions.id", &l.id));
                    v.push(("lesions.organ", &l.organ));
                }
                push_opt(&mut v, "corrects", &c.corrects);
                push_opt(&mut v, "correction_reason", &c.correction_reason);
            }
            Command::RecordTumourAssessment(c) => {
                v.extend(
                    c.targets
                        .iter()
                        .map(|t| ("targets.lesion", t.lesion.as_str())),
                );
                v.extend(
                    c.non_targets
                        .iter()
                        .map(|t| ("non_targets.lesion", t.lesion.as_str())),
                );
                push_opt(&mut v, "corrects", &c.corrects);
                push_opt(&mut v, "correction_reason", &c.correction_reason);
            }
        }
        v
    }
}
