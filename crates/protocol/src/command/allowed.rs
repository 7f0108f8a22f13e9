//! The state machine (PROTOCOL §2) as data: for each [`CommandKind`], the states in
//! which it is allowed, for a new fact and for a correction (a command naming the
//! entry it `corrects`). `decide` refuses a command in any other state with
//! `STATE_TRANSITION`, and the forms offer a participant only the commands allowed in
//! her state.

use super::CommandKind;
use crate::participant::StateKind;

use CommandKind as K;
use StateKind as S;

/// Screening facts: recorded once consented, until enrolment.
const SCREENING: &[StateKind] = &[S::Consented, S::Screening];
/// Corrections and retractions (PROTOCOL §12): wherever the data can still be wrong,
/// from screening through the end of participation (off study, after a death, after loss
/// to follow-up). A correction after enrolment re-evaluates the eligibility as of the
/// enrolment and raises a deviation if she no longer qualifies.
const CORRECTIONS: &[StateKind] = &[
    S::Consented,
    S::Screening,
    S::Enrolled,
    S::BaselinePetDone,
    S::BiopsyDone,
    S::PathologyReported,
    S::Allocated,
    S::OnTreatment,
    S::ResponsePetDone,
    S::Progression,
    S::SafetyFollowUp,
    S::OffStudy,
    S::Died,
    S::LostToFollowUp,
];
/// From registration until the journey ends.
const ACTIVE: &[StateKind] = &[
    S::Registered,
    S::Consented,
    S::Screening,
    S::Enrolled,
    S::BaselinePetDone,
    S::BiopsyDone,
    S::PathologyReported,
    S::Allocated,
    S::OnTreatment,
    S::ResponsePetDone,
    S::Progression,
    S::SafetyFollowUp,
];
/// [`ACTIVE`] once there is a consent to withdraw.
const CONSENTED: &[StateKind] = &[
    S::Consented,
    S::Screening,
    S::Enrolled,
    S::BaselinePetDone,
    S::BiopsyDone,
    S::PathologyReported,
    S::Allocated,
    S::OnTreatment,
    S::ResponsePetDone,
    S::Progression,
    S::SafetyFollowUp,
];
/// Facts that recur after enrolment too (a serum test before each IMP dose, a weight).
const RECURRING: &[StateKind] = &[
    S::Consented,
    S::Screening,
    S::Enrolled,
    S::BaselinePetDone,
    S::BiopsyDone,
    S::PathologyReported,
    S::Allocated,
    S::OnTreatment,
    S::ResponsePetDone,
    S::Progression,
];
/// After enrolment, before the end: the PET exams and their review, and the reader's CT
/// assessments (the time point's own state rule is checked by the command).
const IMAGING: &[StateKind] = &[
    S::Enrolled,
    S::BaselinePetDone,
    S::BiopsyDone,
    S::PathologyReported,
    S::Allocated,
    S::OnTreatment,
    S::ResponsePetDone,
    S::Progression,
];
/// Adverse events and pregnancies are reported from enrolment, and after the end of
/// participation too (PROTOCOL §11): off study, after death (the fatal event and the
/// follow-up of open events) and after loss to follow-up (learnt later).
const SAFETY: &[StateKind] = &[
    S::Enrolled,
    S::BaselinePetDone,
    S::BiopsyDone,
    S::PathologyReported,
    S::Allocated,
    S::OnTreatment,
    S::ResponsePetDone,
    S::Progression,
    S::SafetyFollowUp,
    S::OffStudy,
    S::Died,
    S::LostToFollowUp,
];
/// A death is recorded while she takes part, and after she went off study or was lost
/// to follow-up too: survival is analysed (PROTOCOL §13).
const DEATH: &[StateKind] = &[
    S::Registered,
    S::Consented,
    S::Screening,
    S::Enrolled,
    S::BaselinePetDone,
    S::BiopsyDone,
    S::PathologyReported,
    S::Allocated,
    S::OnTreatment,
    S::ResponsePetDone,
    S::Progression,
    S::SafetyFollowUp,
    S::OffStudy,
    S::LostToFollowUp,
];
/// Where a pathology report can come in: after a biopsy, until the journey ends (a
/// non-diagnostic first specimen sends her back to `baseline_pet_done`, yet the other
/// specimens of that biopsy still count).
const PATHOLOGY: &[StateKind] = &[
    S::BaselinePetDone,
    S::BiopsyDone,
    S::PathologyReported,
    S::Allocated,
    S::OnTreatment,
    S::ResponsePetDone,
    S::Progression,
    S::SafetyFollowUp,
    S::OffStudy,
];
/// Every state an allocation outcome leads to, and the arm-1 states after it.
const ALLOCATED: &[StateKind] = &[
    S::Allocated,
    S::OnTreatment,
    S::ResponsePetDone,
    S::Progression,
    S::SafetyFollowUp,
    S::OffStudy,
];
/// Where participation can end other than by withdrawal, death or loss (PROTOCOL §2).
const ENDABLE: &[StateKind] = &[
    S::Allocated,
    S::SafetyFollowUp,
    S::OnTreatment,
    S::ResponsePetDone,
    S::Progression,
];

/// The states a command is allowed in.
struct Allowed {
    /// For a new fact.
    new: &'static [StateKind],
    /// For a command that names an entry in `corrects`.
    correcting: &'static [StateKind],
}

impl Allowed {
    /// The same states whether or not the command corrects an entry.
    const fn always(states: &'static [StateKind]) -> Allowed {
        Allowed {
            new: states,
            correcting: states,
        }
    }

    /// Screening facts, corrected in [`CORRECTIONS`].
    const SCREENING: Allowed = Allowed {
        new: SCREENING,
        correcting: CORRECTIONS,
    };
}

impl CommandKind {
    /// The states in which the command is allowed (PROTOCOL §2): for a new fact, or
    /// (`correcting`) for a command that names the entry it corrects.
    pub fn allowed_in(self, correcting: bool) -> &'static [StateKind] {
        let a = self.allowed();
        if correcting { a.correcting } else { a.new }
    }

    /// The state table, one row per command.
    fn allowed(self) -> Allowed {
        match self {
            K::RegisterParticipant => Allowed::always(&[S::Unregistered]),
            K::RecordConsent | K::RecordLostToFollowUp => Allowed::always(ACTIVE),
            K::RecordDeath => Allowed::always(DEATH),
            K::WithdrawConsent => Allowed::always(CONSENTED),
            K::RecordTreatmentLine
            | K::RecordLesion
            | K::RecordPerformanceStatus
            | K::RecordChildbearingPotential
            | K::RecordMedicalHistory
            | K::RecordPriorHer2Result
            | K::RecordOtherMalignancy
            | K::RecordArchivalBiopsy
            | K::RecordAttestation => Allowed::SCREENING,
            // Labs, weights and pregnancy tests recur after enrolment (bleeding labs
            // before the biopsy, LVEF on T-DXd, a test before each IMP dose); their
            // corrections are those of screening facts.
            K::RecordLab | K::RecordBodyWeight | K::RecordPregnancyTest => Allowed {
                new: RECURRING,
                correcting: CORRECTIONS,
            },
            // An entry made in error (an AE on T-DXd too) can be retracted, with a reason,
            // wherever a correction can be made (PROTOCOL §12).
            K::RetractEntry => Allowed::always(CORRECTIONS),
            K::Enrol => Allowed::always(&[S::Screening]),
            K::ScreenFail => Allowed::always(SCREENING),
            // An IMP administration is corrected wherever any entry can be.
            K::RecordImpAdministration => Allowed {
                new: IMAGING,
                correcting: CORRECTIONS,
            },
            K::RecordPetQuantification | K::ReviewPetLesions | K::ChooseBiopsyTarget => {
                Allowed::always(IMAGING)
            }
            // The PET response read PET1 → PET2: arm 1 and both exams are checked by the
            // command (PROTOCOL §10).
            K::ConfirmPetResponse => Allowed::always(IMAGING),
            K::RecordFreshBiopsy => Allowed::always(&[S::BaselinePetDone, S::Progression]),
            K::UseArchivalBiopsy => Allowed::always(&[S::BaselinePetDone]),
            // Every specimen of a biopsy can be reported, also after a first one allocated
            // her or came back non-diagnostic (PROTOCOL §8); `decide` refuses once
            // participation has ended.
            K::RecordPathology => Allowed::always(PATHOLOGY),
            // From every allocation outcome, off study (HER2-positive) included.
            K::CorrectAllocation => Allowed::always(ALLOCATED),
            K::RecordTdxdAdministration => {
                Allowed::always(&[S::Allocated, S::OnTreatment, S::ResponsePetDone])
            }
            K::RecordAdverseEvent | K::RecordPregnancyReport => Allowed::always(SAFETY),
            K::EndParticipation => Allowed::always(ENDABLE),
            // The reader's CT assessments from enrolment until the journey ends, and their
            // corrections wherever any entry can be corrected (PROTOCOL §10, §12).
            K::RecordBaselineTumourAssessment | K::RecordTumourAssessment => Allowed {
                new: IMAGING,
                correcting: CORRECTIONS,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::command::kind::tests::schema_strings;
    use crate::decide::commands_allowed_in;
    use crate::participant::State;

    #[test]
    fn every_kind_is_allowed_in_some_state() {
        for k in CommandKind::ALL {
            assert!(!k.allowed_in(false).is_empty(), "{k}");
            assert!(!k.allowed_in(true).is_empty(), "{k} (correcting)");
        }
    }

    #[test]
    fn registration_is_allowed_only_when_unregistered() {
        let register = CommandKind::RegisterParticipant;
        assert_eq!(register.allowed_in(false), &[StateKind::Unregistered]);
        assert_eq!(register.allowed_in(true), &[StateKind::Unregistered]);
        assert_eq!(
            commands_allowed_in(&State::Unregistered),
            vec!["register_participant"]
        );
        for s in StateKind::ALL {
            let allowed = register.allowed_in(false).contains(&s);
            assert_eq!(allowed, s == StateKind::Unregistered, "{s}");
        }
    }

    #[test]
    fn state_kinds_are_named_as_the_states_serialize() {
        assert!(StateKind::ALL.windows(2).all(|w| w[0] < w[1]));
        let schema = serde_json::to_value(schemars::schema_for!(StateKind)).unwrap();
        let mut in_schema = BTreeSet::new();
        schema_strings(&schema, &mut in_schema);
        assert_eq!(in_schema.len(), StateKind::ALL.len());
        for s in StateKind::ALL {
            assert_eq!(serde_json::to_value(s).unwrap(), s.name());
            assert!(in_schema.contains(s.name()), "{s}");
        }
        let allocated = State::Allocated {
            arm: crate::participant::Arm::Arm2,
        };
        assert_eq!(allocated.kind(), StateKind::Allocated);
        let json = serde_json::to_value(&allocated).unwrap();
        assert_eq!(json["state"], allocated.kind().name());
        assert_eq!(allocated.name(), "allocated");
    }
}
