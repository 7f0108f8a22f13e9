//! Applying events to a participant. Never fails; every event raises the version.

use crate::command::OffStudyReason;
use crate::event::{EntryMeta, Event};
use crate::imaging::PetTimepoint;
use crate::journey::allocation::{AllocationOutcome, AllocationTarget};
use crate::journey::tdxd::course_of;
use crate::journey::trial::AllocationCorrection;
use crate::participant::Arm;
use crate::participant::{Enrolment, Entry, EntryStatus, Participant, ScreenFailure, State};
use crate::settings::NondiagnosticAction;

/// Applies one event to the participant and increments its version.
pub fn evolve(p: &mut Participant, e: &Event) {
    p.version += 1;
    match e {
        Event::ParticipantRegistered {
            site,
            study_id,
            year_of_birth,
            sex,
            registered_at,
        } => {
            p.site = Some(site.clone());
            p.study_id = Some(study_id.clone());
            p.year_of_birth = Some(*year_of_birth);
            p.sex = Some(*sex);
            p.registered_at = Some(*registered_at);
            p.state = State::Registered;
        }
        Event::ConsentRecorded { consent, .. } => {
            p.consents.push(consent.clone());
            if p.state == State::Registered {
                p.state = State::Consented;
            }
        }
        Event::ConsentWithdrawn { withdrawal, .. } => {
            p.withdrawal = Some(withdrawal.clone());
            p.state = State::Withdrawn;
        }
        Event::TreatmentLineRecorded { entry, line } => {
            add(p, entry, line, |p| &mut p.treatment_lines)
        }
        Event::LesionRecorded { entry, lesion } => add(p, entry, lesion, |p| &mut p.lesions),
        Event::LabRecorded { entry, lab } => {
            add(p, entry, lab, |p| &mut p.labs);
            recompute_tdxd(p);
        }
        Event::BodyWeightRecorded { entry, weight } => add(p, entry, weight, |p| &mut p.weights),
        Event::PerformanceStatusRecorded { entry, status } => {
            add(p, entry, status, |p| &mut p.performance_status)
        }
        Event::ChildbearingPotentialRecorded { entry, status } => {
            add(p, entry, status, |p| &mut p.childbearing)
        }
        Event::PregnancyTestRecorded { entry, test } => {
            add(p, entry, test, |p| &mut p.pregnancy_tests)
        }
        Event::MedicalHistoryRecorded { entry, history } => {
            add(p, entry, history, |p| &mut p.medical_history)
        }
        Event::PriorHer2ResultRecorded { entry, result } => {
            add(p, entry, result, |p| &mut p.prior_her2)
        }
        Event::OtherMalignancyRecorded { entry, malignancy } => {
            add(p, entry, malignancy, |p| &mut p.other_malignancies)
        }
        Event::ArchivalBiopsyRecorded { entry, biopsy } => {
            add(p, entry, biopsy, |p| &mut p.archival_biopsies)
        }
        Event::AttestationRecorded { entry, attestation } => {
            add(p, entry, attestation, |p| &mut p.attestations)
        }
        Event::EntryRetracted {
            entry_id,
            reason,
            retracted_at,
        } => {
            if let Some(status) = p.entry_status_mut(entry_id) {
                *status = EntryStatus::Retracted {
                    reason: reason.clone(),
                    at: *retracted_at,
                };
            }
            recompute_tdxd(p);
        }
        Event::DeviationRecorded { deviation, .. } => p.deviations.push(deviation.clone()),
        Event::Enrolled {
            enrolled_at,
            signature,
            settings_version,
            ..
        } => {
            p.enrolment = Some(Enrolment {
                enrolled_at: *enrolled_at,
                signature: signature.clone(),
                settings_version: *settings_version,
            });
            p.state = State::Enrolled;
        }
        Event::ScreenFailed {
            recorded_at,
            reason,
            failed_criteria,
            ..
        } => {
            p.screen_failure = Some(ScreenFailure {
                recorded_at: *recorded_at,
                reason: reason.clone(),
                failed_criteria: failed_criteria.clone(),
            });
            p.state = State::ScreenFailed;
        }
        Event::Died { died_on, .. } => {
            p.died_on = Some(*died_on);
            p.state = State::Died;
        }
        Event::LostToFollowUp {
            last_contact_on, ..
        } => {
            p.last_contact_on = Some(*last_contact_on);
            p.state = State::LostToFollowUp;
        }
        Event::ImpAdministered {
            entry,
            administration,
        } => add(p, entry, administration, |p| &mut p.imp_administrations),
        Event::PetQuantified { quantification } => {
            p.pet_quantifications.push(quantification.clone());
            p.state = match (&p.state, quantification.timepoint) {
                (State::Enrolled, PetTimepoint::Pet1) => State::BaselinePetDone,
                (State::OnTreatment, PetTimepoint::Pet2) => State::ResponsePetDone,
                (s, _) => s.clone(),
            };
        }
        Event::PetLesionsReviewed { review } => p.pet_reviews.push(review.clone()),
        Event::BiopsyTargetChosen { choice, .. } => p.biopsy_targets.push(choice.clone()),
        Event::PetResponseConfirmed { response } => p.pet_responses.push(response.clone()),
        Event::BiopsyRecorded { biopsy, .. } => {
            p.biopsies.push(biopsy.clone());
            if p.state == State::BaselinePetDone {
                p.state = State::BiopsyDone;
            }
        }
        Event::PathologyReported { pathology } => {
            p.pathology.push(pathology.clone());
            if p.state == State::BiopsyDone {
                p.state = State::PathologyReported;
            }
        }
        Event::Allocated { allocation } => {
            p.state = match &allocation.decision.outcome {
                AllocationOutcome::Allocated { arm: Arm::Arm1 } => {
                    State::Allocated { arm: Arm::Arm1 }
                }
                AllocationOutcome::Allocated { arm: Arm::Arm2 } => State::SafetyFollowUp,
                AllocationOutcome::OffStudy { reason } => State::OffStudy {
                    reason: reason.clone(),
                },
                AllocationOutcome::NonDiagnostic { action } => match action {
                    NondiagnosticAction::ScreenFail => State::OffStudy {
                        reason: "no diagnostic biopsy specimen".into(),
                    },
                    _ => State::BaselinePetDone,
                },
            };
            // Off study (HER2-positive) is kept too: a central read or a signed
            // correction can still supersede it (PROTOCOL §8).
            if allocation.decision.outcome.target().is_some() {
                p.allocation = Some(allocation.clone());
            }
        }
        Event::AllocationRefreshed { decision, .. } => {
            if let Some(a) = &mut p.allocation {
                a.decision = decision.clone();
                a.pending = None;
            }
        }
        Event::ReallocationProposed { pending, .. } => {
            if let Some(a) = &mut p.allocation {
                a.pending = Some(pending.clone());
            }
        }
        Event::AllocationCorrected { correction, .. } => correct_allocation(p, correction),
        Event::TdxdAdministered { record, .. } => {
            p.tdxd_records.push(record.clone());
            recompute_tdxd(p);
            if p.state == (State::Allocated { arm: Arm::Arm1 }) {
                p.state = State::OnTreatment;
            }
        }
        Event::AdverseEventRecorded { entry, record } => {
            add(p, entry, record, |p| &mut p.adverse_events);
            recompute_tdxd(p);
        }
        Event::PregnancyReported { report, .. } => p.pregnancy_reports.push(report.clone()),
        Event::TdxdDecisionRecorded { decision, .. } => {
            p.tdxd.measurements.push(decision.clone());
            recompute_tdxd(p);
        }
        Event::ParticipationEnded { off_study, .. } => {
            p.off_study = Some(off_study.clone());
            p.state = State::OffStudy {
                reason: match off_study.reason {
                    OffStudyReason::Arm2FollowUpComplete => {
                        "arm 2 safety follow-up complete".into()
                    }
                    OffStudyReason::Arm1EndEvent => "arm 1 end event".into(),
                    OffStudyReason::InvestigatorDecision => format!(
                        "investigator decision: {}",
                        off_study.note.clone().unwrap_or_default()
                    ),
                },
            };
        }
        Event::TumourBaselineRecorded { entry, baseline } => {
            add(p, entry, baseline, |p| &mut p.tumour_baselines)
        }
        Event::TumourAssessmentRecorded { entry, assessment } => {
            add(p, entry, assessment, |p| &mut p.tumour_assessments)
        }
        Event::ResponseEvaluated { evaluation, .. } => {
            p.response_evaluations.push(evaluation.clone())
        }
        Event::ProgressionRecorded { progression, .. } => {
            p.progression = Some(progression.clone());
            // Arm 1 on T-DXd (before or after PET2) moves to progression (PROTOCOL §2).
            if matches!(p.state, State::OnTreatment | State::ResponsePetDone) {
                p.state = State::Progression;
            }
        }
        e if e.is_oversight() => crate::oversight::apply(p, e),
        _ => {}
    }
}

/// A signed correction: the arm (or off study) it names is in force; a pending
/// re-derived allocation it confirms becomes the decision, any other is withdrawn.
/// Naming the allocation already in force (declining a pending change) keeps her state.
fn correct_allocation(p: &mut Participant, correction: &AllocationCorrection) {
    let Some(a) = &mut p.allocation else {
        return;
    };
    let before = a.in_force();
    if let Some(pending) = a.pending.take()
        && pending.proposed == Some(correction.to)
    {
        a.decision = pending.decision;
    }
    a.corrections.push(correction.clone());
    if before == Some(correction.to) {
        return;
    }
    let treated = !p.tdxd.administrations.is_empty();
    p.state = match (correction.to, treated) {
        (AllocationTarget::Arm2, _) => State::SafetyFollowUp,
        (AllocationTarget::Arm1, false) => State::Allocated { arm: Arm::Arm1 },
        (AllocationTarget::Arm1, true) => State::OnTreatment,
        (AllocationTarget::OffStudy, _) => State::OffStudy {
            reason: format!(
                "allocation corrected: HER2-positive, not the trial population ({})",
                correction.reason
            ),
        },
    };
}

/// The T-DXd course is a function of the current facts (administrations, current
/// AEs, current measurements): recomputed whenever one of them changes, so a
/// correction or retraction recomputes the decisions it caused (PROTOCOL §9, §12).
fn recompute_tdxd(p: &mut Participant) {
    p.tdxd = course_of(p);
}

/// Adds an entry, marks the one it corrects as superseded, and starts screening.
fn add<T: Clone>(
    p: &mut Participant,
    meta: &EntryMeta,
    value: &T,
    list: impl Fn(&mut Participant) -> &mut Vec<Entry<T>>,
) {
    if let Some(old) = &meta.supersedes
        && let Some(status) = p.entry_status_mut(old)
    {
        *status = EntryStatus::Superseded {
            by: meta.entry_id.clone(),
            reason: meta.correction_reason.clone().unwrap_or_default(),
        };
    }
    list(p).push(Entry {
        entry_id: meta.entry_id.clone(),
        recorded_at: meta.recorded_at,
        supersedes: meta.supersedes.clone(),
        correction_reason: meta.correction_reason.clone(),
        status: EntryStatus::Current,
        value: value.clone(),
    });
    if p.state == State::Consented {
        p.state = State::Screening;
    }
}

/// Builds a participant from her events, in order.
pub fn fold<'a>(events: impl IntoIterator<Item = &'a Event>) -> Participant {
    let mut p = Participant::default();
    for e in events {
        evolve(&mut p, e);
    }
    p
}
