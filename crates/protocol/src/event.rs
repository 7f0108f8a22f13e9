//! Events: the facts the protocol records. Applying an event never fails.
//!
//! Events are the audit trail's payload; the store keeps them in order and
//! folds them into a [`crate::Participant`]. Decision events (enrolment,
//! screen failure, deviations, every recorded entry) carry the settings
//! version they were decided under (PROTOCOL §14).

use chrono::{DateTime, NaiveDate, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::eligibility::EligibilityReport;
use crate::imaging::{BiopsyTargetChoice, ImpAdministration, PetQuantification, PetReview};
use crate::journey::allocation::{Allocation, PendingReallocation};
use crate::journey::trial::{
    AeRecord, AllocationCorrection, AllocationRecord, BiopsyRecord, OffStudyRecord,
    PathologyRecord, TdxdRecord,
};
use crate::labs::LabResult;
use crate::oversight::{
    CasebookSignature, DeviationCategory, DeviationNote, Hold, HoldLevel, Query, QueryMessage,
    Scope, SignScope, Staff, Voided,
};
use crate::participant::{Consent, Withdrawal};
use crate::records::{
    ArchivalBiopsy, Attestation, BodyWeight, ChildbearingStatus, Deviation, ESignature, Lesion,
    MedicalHistory, OtherMalignancy, PerformanceStatus, PregnancyTest, PriorHer2Result, Sex,
    TreatmentLine,
};
use crate::response::{Progression, ResponseEvaluation, TumourAssessment, TumourBaseline};

/// Bookkeeping shared by all recorded entries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct EntryMeta {
    /// The new entry's id, e.g. `lab-3`.
    pub entry_id: String,
    /// When recorded.
    pub recorded_at: DateTime<Utc>,
    /// The entry this corrects, if any.
    pub supersedes: Option<String>,
    /// Why the earlier entry is corrected.
    pub correction_reason: Option<String>,
    /// Settings version in force.
    pub settings_version: u32,
}

/// Something that happened to a participant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// Registered under a study id.
    ParticipantRegistered {
        /// Site code.
        site: String,
        /// Study id.
        study_id: String,
        /// Year of birth.
        year_of_birth: i32,
        /// Sex.
        sex: Sex,
        /// When.
        registered_at: DateTime<Utc>,
    },
    /// Consent signed.
    ConsentRecorded {
        /// The consent.
        consent: Consent,
        /// When recorded.
        recorded_at: DateTime<Utc>,
    },
    /// Consent withdrawn.
    ConsentWithdrawn {
        /// The withdrawal.
        withdrawal: Withdrawal,
        /// When recorded.
        recorded_at: DateTime<Utc>,
    },
    /// Treatment line recorded.
    TreatmentLineRecorded {
        /// Entry bookkeeping.
        entry: EntryMeta,
        /// The line.
        line: TreatmentLine,
    },
    /// Lesion recorded.
    LesionRecorded {
        /// Entry bookkeeping.
        entry: EntryMeta,
        /// The lesion.
        lesion: Lesion,
    },
    /// Lab result recorded.
    LabRecorded {
        /// Entry bookkeeping.
        entry: EntryMeta,
        /// The result.
        lab: LabResult,
    },
    /// Body weight recorded.
    BodyWeightRecorded {
        /// Entry bookkeeping.
        entry: EntryMeta,
        /// The weight.
        weight: BodyWeight,
    },
    /// Performance status recorded.
    PerformanceStatusRecorded {
        /// Entry bookkeeping.
        entry: EntryMeta,
        /// The assessment.
        status: PerformanceStatus,
    },
    /// Child-bearing potential recorded.
    ChildbearingPotentialRecorded {
        /// Entry bookkeeping.
        entry: EntryMeta,
        /// The assessment.
        status: ChildbearingStatus,
    },
    /// Pregnancy test recorded.
    PregnancyTestRecorded {
        /// Entry bookkeeping.
        entry: EntryMeta,
        /// The test.
        test: PregnancyTest,
    },
    /// Medical history recorded.
    MedicalHistoryRecorded {
        /// Entry bookkeeping.
        entry: EntryMeta,
        /// The history.
        history: MedicalHistory,
    },
    /// Earlier HER2 result recorded.
    PriorHer2ResultRecorded {
        /// Entry bookkeeping.
        entry: EntryMeta,
        /// The result.
        result: PriorHer2Result,
    },
    /// Other malignancy recorded.
    OtherMalignancyRecorded {
        /// Entry bookkeeping.
        entry: EntryMeta,
        /// The malignancy.
        malignancy: OtherMalignancy,
    },
    /// Archival biopsy recorded.
    ArchivalBiopsyRecorded {
        /// Entry bookkeeping.
        entry: EntryMeta,
        /// The biopsy.
        biopsy: ArchivalBiopsy,
    },
    /// Attestation recorded.
    AttestationRecorded {
        /// Entry bookkeeping.
        entry: EntryMeta,
        /// The attestation.
        attestation: Attestation,
    },
    /// An entry was marked as entered in error (kept in history).
    EntryRetracted {
        /// The entry.
        entry_id: String,
        /// Why.
        reason: String,
        /// When.
        retracted_at: DateTime<Utc>,
    },
    /// A protocol deviation.
    DeviationRecorded {
        /// The deviation.
        deviation: Deviation,
        /// When recorded.
        recorded_at: DateTime<Utc>,
        /// Settings version in force.
        settings_version: u32,
    },
    /// Enrolled on an eligible result.
    Enrolled {
        /// When.
        enrolled_at: DateTime<Utc>,
        /// Investigator's signature.
        signature: ESignature,
        /// The eligibility result signed.
        eligibility: EligibilityReport,
        /// Settings version used.
        settings_version: u32,
    },
    /// Screen failure.
    ScreenFailed {
        /// When.
        recorded_at: DateTime<Utc>,
        /// Reason.
        reason: String,
        /// Criteria not satisfied at the time, by id.
        failed_criteria: Vec<String>,
        /// The eligibility result at the time.
        eligibility: EligibilityReport,
        /// Settings version used.
        settings_version: u32,
    },
    /// Died.
    Died {
        /// Date of death.
        died_on: NaiveDate,
        /// Cause.
        cause: Option<String>,
        /// When recorded.
        recorded_at: DateTime<Utc>,
    },
    /// Lost to follow-up.
    LostToFollowUp {
        /// Last contact.
        last_contact_on: NaiveDate,
        /// Note.
        note: Option<String>,
        /// When recorded.
        recorded_at: DateTime<Utc>,
    },
    /// The IMP was administered for a PET exam.
    ImpAdministered {
        /// Entry bookkeeping.
        entry: EntryMeta,
        /// The administration.
        administration: ImpAdministration,
    },
    /// A PET exam's series was quantified.
    PetQuantified {
        /// The result.
        quantification: PetQuantification,
    },
    /// The reader reviewed a quantified PET exam's lesions.
    PetLesionsReviewed {
        /// The review, with the biopsy target proposal it gives.
        review: PetReview,
    },
    /// The investigator chose the biopsy target.
    BiopsyTargetChosen {
        /// The choice.
        choice: BiopsyTargetChoice,
        /// When.
        chosen_at: DateTime<Utc>,
        /// Settings version in force.
        settings_version: u32,
    },
    /// The reader confirmed the PET response PET1 → PET2 (PROTOCOL §10, PERCIST-style).
    PetResponseConfirmed {
        /// The read with its result, algorithm and settings versions.
        response: crate::pet_response::PetResponseRead,
    },
    /// A study biopsy (fresh or archival) was recorded.
    BiopsyRecorded {
        /// The biopsy.
        biopsy: BiopsyRecord,
        /// Settings version in force.
        settings_version: u32,
    },
    /// A specimen's pathology report.
    PathologyReported {
        /// The report with its derived category.
        pathology: PathologyRecord,
    },
    /// The automatic allocation from the baseline biopsy's pathology (PROTOCOL §8).
    Allocated {
        /// The decision with its evidence.
        allocation: AllocationRecord,
    },
    /// A later pathology report of the baseline biopsy re-derived the allocation in
    /// force over all its specimens (PROTOCOL §8): the evidence is refreshed, and a
    /// pending change, if any, is withdrawn.
    AllocationRefreshed {
        /// The re-derived decision with its evidence.
        decision: Allocation,
        /// Settings version in force.
        settings_version: u32,
    },
    /// A later pathology report of the baseline biopsy re-derived a different
    /// allocation: it waits for the investigator's signed confirmation (PROTOCOL §8).
    ReallocationProposed {
        /// The change awaiting the signature.
        pending: PendingReallocation,
        /// Settings version in force.
        settings_version: u32,
    },
    /// A signed correction of the allocation.
    AllocationCorrected {
        /// The correction.
        correction: AllocationCorrection,
        /// When.
        corrected_at: DateTime<Utc>,
        /// Settings version in force.
        settings_version: u32,
    },
    /// A T-DXd administration.
    TdxdAdministered {
        /// What was given, with its check.
        record: TdxdRecord,
        /// Settings version in force.
        settings_version: u32,
    },
    /// An adverse event (or its follow-up, as a correction).
    AdverseEventRecorded {
        /// Entry bookkeeping.
        entry: EntryMeta,
        /// The event with its coding.
        record: AeRecord,
    },
    /// A T-DXd dose decision from a measurement (e.g. an LVEF on treatment).
    TdxdDecisionRecorded {
        /// The decision, dated.
        decision: crate::journey::tdxd::DatedDecision,
        /// What it was decided from.
        source: String,
        /// Settings version in force.
        settings_version: u32,
    },
    /// A pregnancy was reported.
    PregnancyReported {
        /// The report.
        report: crate::journey::trial::PregnancyReport,
        /// When recorded.
        recorded_at: DateTime<Utc>,
    },
    /// Participation ended (off study).
    ParticipationEnded {
        /// Why and when.
        off_study: OffStudyRecord,
        /// When recorded.
        recorded_at: DateTime<Utc>,
        /// Settings version in force.
        settings_version: u32,
    },
    /// The baseline CT's lesions recorded (PROTOCOL §10).
    TumourBaselineRecorded {
        /// Entry bookkeeping.
        entry: EntryMeta,
        /// The baseline.
        baseline: TumourBaseline,
    },
    /// A follow-up CT assessment recorded (PROTOCOL §10).
    TumourAssessmentRecorded {
        /// Entry bookkeeping.
        entry: EntryMeta,
        /// The assessment.
        assessment: TumourAssessment,
    },
    /// The RECIST 1.1 engine's result over the current baseline and assessments.
    ResponseEvaluated {
        /// The result, with the engine version.
        evaluation: ResponseEvaluation,
        /// When evaluated.
        evaluated_at: DateTime<Utc>,
        /// Settings version used.
        settings_version: u32,
    },
    /// Disease progression recorded from the engine's first PD (PROTOCOL §9).
    ProgressionRecorded {
        /// The progression.
        progression: Progression,
        /// When recorded.
        recorded_at: DateTime<Utc>,
        /// Settings version used.
        settings_version: u32,
    },
    /// A query was raised on a data point (by a person or an edit check).
    QueryRaised {
        /// The query as raised.
        query: Query,
    },
    /// The site answered a query.
    QueryAnswered {
        /// The query.
        query_id: String,
        /// The answer.
        message: QueryMessage,
    },
    /// An answered query was sent back to the site.
    QueryReopened {
        /// The query.
        query_id: String,
        /// Why.
        message: QueryMessage,
    },
    /// A query was closed (by its raiser's role, or by the system when the data changed).
    QueryClosed {
        /// The query.
        query_id: String,
        /// The closing note.
        message: QueryMessage,
    },
    /// An open query was withdrawn by its raiser's role.
    QueryCancelled {
        /// The query.
        query_id: String,
        /// Why.
        message: QueryMessage,
    },
    /// Entries were verified against the source.
    EntriesVerified {
        /// The entries.
        entry_ids: Vec<String>,
        /// Who verified.
        by: Staff,
        /// When.
        at: DateTime<Utc>,
    },
    /// A verified entry changed (corrected or retracted): it must be verified again.
    VerificationReset {
        /// The entry that was verified.
        entry_id: String,
        /// The entry that replaced it, if it was corrected.
        replaced_by: Option<String>,
        /// When it changed.
        at: DateTime<Utc>,
    },
    /// Data were frozen, or frozen data locked.
    HoldPlaced {
        /// The hold.
        hold: Hold,
        /// Why, if given.
        reason: Option<String>,
    },
    /// A lock was lifted (back to frozen) or a freeze lifted.
    HoldLifted {
        /// What it covered.
        scope: Scope,
        /// The level lifted.
        level: HoldLevel,
        /// Who.
        by: Staff,
        /// When.
        at: DateTime<Utc>,
        /// Why.
        reason: String,
    },
    /// The investigator signed the casebook or a visit.
    CasebookSigned {
        /// The signature.
        signature: CasebookSignature,
    },
    /// Signatures in force were voided by a later change or an unlock.
    SignaturesVoided {
        /// The scopes voided.
        scopes: Vec<SignScope>,
        /// When and why.
        voided: Voided,
    },
    /// A person recorded a protocol deviation.
    DeviationReported {
        /// The deviation.
        deviation: Deviation,
        /// Its category.
        category: DeviationCategory,
        /// Who recorded it.
        by: Staff,
    },
    /// A deviation was assessed or closed.
    DeviationAssessed {
        /// The deviation.
        deviation_id: String,
        /// The assessment.
        note: DeviationNote,
    },
    /// A report, an analysis or an export was handed out (study stream `study/outputs`).
    OutputProduced {
        /// What, as of when, resting on which chain head, taken by whom.
        output: crate::outputs::Output,
    },
}

impl Event {
    /// The event's kind in snake_case, as in its JSON `type`.
    pub fn kind(&self) -> &'static str {
        match self {
            Event::ParticipantRegistered { .. } => "participant_registered",
            Event::ConsentRecorded { .. } => "consent_recorded",
            Event::ConsentWithdrawn { .. } => "consent_withdrawn",
            Event::TreatmentLineRecorded { .. } => "treatment_line_recorded",
            Event::LesionRecorded { .. } => "lesion_recorded",
            Event::LabRecorded { .. } => "lab_recorded",
            Event::BodyWeightRecorded { .. } => "body_weight_recorded",
            Event::PerformanceStatusRecorded { .. } => "performance_status_recorded",
            Event::ChildbearingPotentialRecorded { .. } => "childbearing_potential_recorded",
            Event::PregnancyTestRecorded { .. } => "pregnancy_test_recorded",
            Event::MedicalHistoryRecorded { .. } => "medical_history_recorded",
            Event::PriorHer2ResultRecorded { .. } => "prior_her2_result_recorded",
            Event::OtherMalignancyRecorded { .. } => "other_malignancy_recorded",
            Event::ArchivalBiopsyRecorded { .. } => "archival_biopsy_recorded",
            Event::AttestationRecorded { .. } => "attestation_recorded",
            Event::EntryRetracted { .. } => "entry_retracted",
            Event::DeviationRecorded { .. } => "deviation_recorded",
            Event::Enrolled { .. } => "enrolled",
            Event::ScreenFailed { .. } => "screen_failed",
            Event::Died { .. } => "died",
            Event::LostToFollowUp { .. } => "lost_to_follow_up",
            Event::ImpAdministered { .. } => "imp_administered",
            Event::PetQuantified { .. } => "pet_quantified",
            Event::PetLesionsReviewed { .. } => "pet_lesions_reviewed",
            Event::BiopsyTargetChosen { .. } => "biopsy_target_chosen",
            Event::PetResponseConfirmed { .. } => "pet_response_confirmed",
            Event::BiopsyRecorded { .. } => "biopsy_recorded",
            Event::PathologyReported { .. } => "pathology_reported",
            Event::Allocated { .. } => "allocated",
            Event::AllocationRefreshed { .. } => "allocation_refreshed",
            Event::ReallocationProposed { .. } => "reallocation_proposed",
            Event::AllocationCorrected { .. } => "allocation_corrected",
            Event::TdxdAdministered { .. } => "tdxd_administered",
            Event::AdverseEventRecorded { .. } => "adverse_event_recorded",
            Event::ParticipationEnded { .. } => "participation_ended",
            Event::TdxdDecisionRecorded { .. } => "tdxd_decision_recorded",
            Event::PregnancyReported { .. } => "pregnancy_reported",
            Event::TumourBaselineRecorded { .. } => "tumour_baseline_recorded",
            Event::TumourAssessmentRecorded { .. } => "tumour_assessment_recorded",
            Event::ResponseEvaluated { .. } => "response_evaluated",
            Event::ProgressionRecorded { .. } => "progression_recorded",
            Event::QueryRaised { .. } => "query_raised",
            Event::QueryAnswered { .. } => "query_answered",
            Event::QueryReopened { .. } => "query_reopened",
            Event::QueryClosed { .. } => "query_closed",
            Event::QueryCancelled { .. } => "query_cancelled",
            Event::EntriesVerified { .. } => "entries_verified",
            Event::VerificationReset { .. } => "verification_reset",
            Event::HoldPlaced { .. } => "hold_placed",
            Event::HoldLifted { .. } => "hold_lifted",
            Event::CasebookSigned { .. } => "casebook_signed",
            Event::SignaturesVoided { .. } => "signatures_voided",
            Event::DeviationReported { .. } => "deviation_reported",
            Event::DeviationAssessed { .. } => "deviation_assessed",
            Event::OutputProduced { .. } => "output_produced",
        }
    }

    /// Whether the event is an act of oversight (a query, a verification, a freeze or
    /// lock, a signature, a deviation's review) rather than a change of the participant's
    /// data. Only data changes reset verification and void signatures.
    pub fn is_oversight(&self) -> bool {
        matches!(
            self,
            Event::QueryRaised { .. }
                | Event::QueryAnswered { .. }
                | Event::QueryReopened { .. }
                | Event::QueryClosed { .. }
                | Event::QueryCancelled { .. }
                | Event::EntriesVerified { .. }
                | Event::VerificationReset { .. }
                | Event::HoldPlaced { .. }
                | Event::HoldLifted { .. }
                | Event::CasebookSigned { .. }
                | Event::SignaturesVoided { .. }
                | Event::DeviationReported { .. }
                | Event::DeviationAssessed { .. }
        )
    }

    /// The entry bookkeeping, for events that record an entry.
    pub fn entry_meta(&self) -> Option<&EntryMeta> {
        match self {
            Event::TreatmentLineRecorded { entry, .. }
            | Event::LesionRecorded { entry, .. }
            | Event::LabRecorded { entry, .. }
            | Event::BodyWeightRecorded { entry, .. }
            | Event::PerformanceStatusRecorded { entry, .. }
            | Event::ChildbearingPotentialRecorded { entry, .. }
            | Event::PregnancyTestRecorded { entry, .. }
            | Event::MedicalHistoryRecorded { entry, .. }
            | Event::PriorHer2ResultRecorded { entry, .. }
            | Event::OtherMalignancyRecorded { entry, .. }
            | Event::ArchivalBiopsyRecorded { entry, .. }
            | Event::AttestationRecorded { entry, .. }
            | Event::ImpAdministered { entry, .. }
            | Event::AdverseEventRecorded { entry, .. } => Some(entry),
            Event::TumourBaselineRecorded { entry, .. }
            | Event::TumourAssessmentRecorded { entry, .. } => Some(entry),
            _ => None,
        }
    }
}
