//! A participant: her state in the journey (PROTOCOL §2) and every recorded fact.
//!
//! The participant is only ever built by folding events ([`crate::fold`]), so
//! it holds exactly what the audit trail holds. Facts that can be corrected
//! are kept as [`Entry`] values: a correction marks the old entry superseded
//! and adds a new one, so nothing is ever erased (PROTOCOL §12).

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::imaging::{
    BiopsyTargetChoice, ImpAdministration, PetQuantification, PetReview, PetTimepoint,
};
use crate::journey::tdxd::TdxdCourse;
use crate::journey::trial::{
    AeRecord, AllocationRecord, BiopsyRecord, OffStudyRecord, PathologyRecord, TdxdRecord,
};
use crate::labs::LabResult;
use crate::records::{
    ArchivalBiopsy, Attestation, BodyWeight, ChildbearingStatus, Deviation, ESignature, Lesion,
    MedicalHistory, OtherMalignancy, PerformanceStatus, PregnancyTest, PriorHer2Result, Sex,
    TreatmentLine,
};
use crate::response::{Progression, ResponseEvaluation, TumourAssessment, TumourBaseline};

/// Allocation arm (PROTOCOL §1, §8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Arm {
    /// HER2-expressing: trastuzumab deruxtecan.
    Arm1,
    /// HER2-zero: safety follow-up.
    Arm2,
}

/// Where a participant is in the journey (PROTOCOL §2).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum State {
    /// Not yet registered.
    #[default]
    Unregistered,
    /// Registered with a study id.
    Registered,
    /// Informed consent signed.
    Consented,
    /// Screening data being collected.
    Screening,
    /// Not eligible; off study.
    ScreenFailed,
    /// Eligible and enrolled.
    Enrolled,
    /// Baseline HER2-PET done.
    BaselinePetDone,
    /// Study biopsy done.
    BiopsyDone,
    /// Biopsy HER2 result reported.
    PathologyReported,
    /// Allocated to an arm.
    Allocated {
        /// The arm.
        arm: Arm,
    },
    /// Arm 1 on T-DXd.
    OnTreatment,
    /// Arm 1 response PET (PET2) done.
    ResponsePetDone,
    /// Arm 1 disease progression.
    Progression,
    /// Arm 2 adverse-event follow-up.
    SafetyFollowUp,
    /// Off study, with the reason.
    OffStudy {
        /// Why.
        reason: String,
    },
    /// Consent withdrawn.
    Withdrawn,
    /// Died.
    Died,
    /// Lost to follow-up.
    LostToFollowUp,
}

/// A [`State`] without its data: the states the state machine (PROTOCOL §2) names
/// when it says which commands are allowed where. Serialized as the state's name.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum StateKind {
    /// See [`State::Unregistered`].
    Unregistered,
    /// See [`State::Registered`].
    Registered,
    /// See [`State::Consented`].
    Consented,
    /// See [`State::Screening`].
    Screening,
    /// See [`State::ScreenFailed`].
    ScreenFailed,
    /// See [`State::Enrolled`].
    Enrolled,
    /// See [`State::BaselinePetDone`].
    BaselinePetDone,
    /// See [`State::BiopsyDone`].
    BiopsyDone,
    /// See [`State::PathologyReported`].
    PathologyReported,
    /// See [`State::Allocated`].
    Allocated,
    /// See [`State::OnTreatment`].
    OnTreatment,
    /// See [`State::ResponsePetDone`].
    ResponsePetDone,
    /// See [`State::Progression`].
    Progression,
    /// See [`State::SafetyFollowUp`].
    SafetyFollowUp,
    /// See [`State::OffStudy`].
    OffStudy,
    /// See [`State::Withdrawn`].
    Withdrawn,
    /// See [`State::Died`].
    Died,
    /// See [`State::LostToFollowUp`].
    LostToFollowUp,
}

impl StateKind {
    /// Every state kind, in the order of [`State`].
    pub const ALL: [StateKind; 18] = [
        StateKind::Unregistered,
        StateKind::Registered,
        StateKind::Consented,
        StateKind::Screening,
        StateKind::ScreenFailed,
        StateKind::Enrolled,
        StateKind::BaselinePetDone,
        StateKind::BiopsyDone,
        StateKind::PathologyReported,
        StateKind::Allocated,
        StateKind::OnTreatment,
        StateKind::ResponsePetDone,
        StateKind::Progression,
        StateKind::SafetyFollowUp,
        StateKind::OffStudy,
        StateKind::Withdrawn,
        StateKind::Died,
        StateKind::LostToFollowUp,
    ];

    /// The state's name in snake_case, e.g. `"screening"` (as serialized).
    pub fn name(self) -> &'static str {
        match self {
            StateKind::Unregistered => "unregistered",
            StateKind::Registered => "registered",
            StateKind::Consented => "consented",
            StateKind::Screening => "screening",
            StateKind::ScreenFailed => "screen_failed",
            StateKind::Enrolled => "enrolled",
            StateKind::BaselinePetDone => "baseline_pet_done",
            StateKind::BiopsyDone => "biopsy_done",
            StateKind::PathologyReported => "pathology_reported",
            StateKind::Allocated => "allocated",
            StateKind::OnTreatment => "on_treatment",
            StateKind::ResponsePetDone => "response_pet_done",
            StateKind::Progression => "progression",
            StateKind::SafetyFollowUp => "safety_follow_up",
            StateKind::OffStudy => "off_study",
            StateKind::Withdrawn => "withdrawn",
            StateKind::Died => "died",
            StateKind::LostToFollowUp => "lost_to_follow_up",
        }
    }
}

impl std::fmt::Display for StateKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl State {
    /// The state without its data.
    pub fn kind(&self) -> StateKind {
        match self {
            State::Unregistered => StateKind::Unregistered,
            State::Registered => StateKind::Registered,
            State::Consented => StateKind::Consented,
            State::Screening => StateKind::Screening,
            State::ScreenFailed => StateKind::ScreenFailed,
            State::Enrolled => StateKind::Enrolled,
            State::BaselinePetDone => StateKind::BaselinePetDone,
            State::BiopsyDone => StateKind::BiopsyDone,
            State::PathologyReported => StateKind::PathologyReported,
            State::Allocated { .. } => StateKind::Allocated,
            State::OnTreatment => StateKind::OnTreatment,
            State::ResponsePetDone => StateKind::ResponsePetDone,
            State::Progression => StateKind::Progression,
            State::SafetyFollowUp => StateKind::SafetyFollowUp,
            State::OffStudy { .. } => StateKind::OffStudy,
            State::Withdrawn => StateKind::Withdrawn,
            State::Died => StateKind::Died,
            State::LostToFollowUp => StateKind::LostToFollowUp,
        }
    }

    /// The state's name in snake_case, e.g. `"screening"`.
    pub fn name(&self) -> &'static str {
        self.kind().name()
    }

    /// Whether the journey has ended (no state follows).
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            State::ScreenFailed
                | State::OffStudy { .. }
                | State::Withdrawn
                | State::Died
                | State::LostToFollowUp
        )
    }
}

/// Whether an entry is current or has been corrected.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum EntryStatus {
    /// The current value.
    Current,
    /// Replaced by a corrected entry.
    Superseded {
        /// The entry that replaced it.
        by: String,
        /// Why.
        reason: String,
    },
    /// Entered in error and withdrawn without replacement.
    Retracted {
        /// Why.
        reason: String,
        /// When.
        at: DateTime<Utc>,
    },
}

/// A recorded fact with its history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Entry<T> {
    /// Id assigned at recording, e.g. `lab-3` (kind prefix, sequence number).
    pub entry_id: String,
    /// When it was recorded.
    pub recorded_at: DateTime<Utc>,
    /// The entry this one corrects, if any.
    pub supersedes: Option<String>,
    /// Why the earlier entry was corrected.
    pub correction_reason: Option<String>,
    /// Current, superseded or retracted.
    pub status: EntryStatus,
    /// The fact.
    pub value: T,
}

impl<T> Entry<T> {
    /// Whether the entry is the current value.
    pub fn is_current(&self) -> bool {
        self.status == EntryStatus::Current
    }
}

/// A signed informed consent (PROTOCOL §4).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Consent {
    /// Consent form version.
    pub form_version: String,
    /// When it was signed.
    pub signed_at: DateTime<Utc>,
    /// Age in whole years at consent, when known exactly.
    pub age_at_consent: Option<u32>,
    /// Lowest possible age at consent from the year of birth.
    pub age_min: u32,
    /// Highest possible age at consent from the year of birth.
    pub age_max: u32,
}

/// A consent withdrawal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Withdrawal {
    /// When consent was withdrawn.
    pub withdrawn_at: DateTime<Utc>,
    /// Reason given.
    pub reason: String,
}

/// Enrolment record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Enrolment {
    /// When enrolled.
    pub enrolled_at: DateTime<Utc>,
    /// The investigator's signature.
    pub signature: ESignature,
    /// Settings version of the eligibility decision.
    pub settings_version: u32,
}

/// Screen-failure record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ScreenFailure {
    /// When recorded.
    pub recorded_at: DateTime<Utc>,
    /// Reason.
    pub reason: String,
    /// Criteria that failed, by id.
    pub failed_criteria: Vec<String>,
}

/// A participant and everything recorded about her.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Participant {
    /// Pseudonymous study id, e.g. `KS-014`.
    pub study_id: Option<String>,
    /// Site code, e.g. `KS`.
    pub site: Option<String>,
    /// Current state.
    pub state: State,
    /// Number of events applied.
    pub version: u64,
    /// Year of birth (never the birth date, PROTOCOL §3).
    pub year_of_birth: Option<i32>,
    /// Sex.
    pub sex: Option<Sex>,
    /// When registered.
    pub registered_at: Option<DateTime<Utc>>,
    /// Consents in order; the last is the current one.
    pub consents: Vec<Consent>,
    /// Consent withdrawal, if any.
    pub withdrawal: Option<Withdrawal>,
    /// Earlier treatment lines.
    pub treatment_lines: Vec<Entry<TreatmentLine>>,
    /// Screening lesions.
    pub lesions: Vec<Entry<Lesion>>,
    /// Lab results.
    pub labs: Vec<Entry<LabResult>>,
    /// Body weights.
    pub weights: Vec<Entry<BodyWeight>>,
    /// Performance-status assessments.
    pub performance_status: Vec<Entry<PerformanceStatus>>,
    /// Child-bearing potential assessments.
    pub childbearing: Vec<Entry<ChildbearingStatus>>,
    /// Pregnancy tests.
    pub pregnancy_tests: Vec<Entry<PregnancyTest>>,
    /// Medical-history reviews.
    pub medical_history: Vec<Entry<MedicalHistory>>,
    /// Earlier HER2 results.
    pub prior_her2: Vec<Entry<PriorHer2Result>>,
    /// Other malignancies.
    pub other_malignancies: Vec<Entry<OtherMalignancy>>,
    /// Archival biopsies offered for IN4.
    pub archival_biopsies: Vec<Entry<ArchivalBiopsy>>,
    /// Investigator attestations.
    pub attestations: Vec<Entry<Attestation>>,
    /// Protocol deviations.
    pub deviations: Vec<Deviation>,
    /// Enrolment, once enrolled.
    pub enrolment: Option<Enrolment>,
    /// Screen failure, if screen-failed.
    pub screen_failure: Option<ScreenFailure>,
    /// Date of death, if died.
    pub died_on: Option<chrono::NaiveDate>,
    /// Date of last contact, if lost to follow-up.
    pub last_contact_on: Option<chrono::NaiveDate>,
    /// IMP administrations, one per PET exam.
    pub imp_administrations: Vec<Entry<ImpAdministration>>,
    /// PET quantifications in order; the last of a time point is its current one.
    pub pet_quantifications: Vec<PetQuantification>,
    /// Reader reviews in order; the last of a time point is its current one.
    pub pet_reviews: Vec<PetReview>,
    /// Biopsy target choices in order; the last of a time point is its current one.
    pub biopsy_targets: Vec<BiopsyTargetChoice>,
    /// The reader's PET response reads PET1 → PET2 in order; the last is current while it
    /// reads the current PET2 quantification.
    #[serde(default)]
    pub pet_responses: Vec<crate::pet_response::PetResponseRead>,
    /// Study biopsies in order.
    pub biopsies: Vec<BiopsyRecord>,
    /// Pathology reports in order.
    pub pathology: Vec<PathologyRecord>,
    /// The allocation, once decided.
    pub allocation: Option<AllocationRecord>,
    /// The T-DXd course (arm 1): level allowed, administrations, interruptions.
    pub tdxd: TdxdCourse,
    /// T-DXd administrations with their checks.
    pub tdxd_records: Vec<TdxdRecord>,
    /// Adverse events; a follow-up corrects the earlier entry.
    pub adverse_events: Vec<Entry<AeRecord>>,
    /// Off study (other than withdrawal, death, loss to follow-up).
    pub off_study: Option<OffStudyRecord>,
    /// Pregnancy reports.
    pub pregnancy_reports: Vec<crate::journey::trial::PregnancyReport>,
    /// Baseline CTs for RECIST 1.1; one is current.
    #[serde(default)]
    pub tumour_baselines: Vec<Entry<TumourBaseline>>,
    /// Follow-up CT assessments.
    #[serde(default)]
    pub tumour_assessments: Vec<Entry<TumourAssessment>>,
    /// The RECIST 1.1 engine's results in order; the last is current.
    #[serde(default)]
    pub response_evaluations: Vec<ResponseEvaluation>,
    /// Disease progression, once recorded.
    #[serde(default)]
    pub progression: Option<Progression>,
    /// Queries, verification, freezes and locks, signatures and deviation reviews
    /// (PROTOCOL §12, [`crate::oversight`]).
    #[serde(default)]
    pub oversight: crate::oversight::Oversight,
}

/// Current values of a list of entries.
pub fn current<T>(entries: &[Entry<T>]) -> impl Iterator<Item = &Entry<T>> {
    entries.iter().filter(|e| e.is_current())
}

/// Calls `$visit!(field)` for every list of entries (facts that can be corrected or
/// retracted): the one place a new kind of entry is added.
macro_rules! entry_lists {
    ($visit:ident) => {
        $visit!(treatment_lines);
        $visit!(lesions);
        $visit!(labs);
        $visit!(weights);
        $visit!(performance_status);
        $visit!(childbearing);
        $visit!(pregnancy_tests);
        $visit!(medical_history);
        $visit!(prior_her2);
        $visit!(other_malignancies);
        $visit!(archival_biopsies);
        $visit!(attestations);
        $visit!(imp_administrations);
        $visit!(adverse_events);
        $visit!(tumour_baselines);
        $visit!(tumour_assessments);
    };
}

impl Participant {
    /// The current consent (the latest signed), if any.
    pub fn consent(&self) -> Option<&Consent> {
        self.consents.last()
    }

    /// The first signed consent: the consent gate compares against it.
    pub fn first_consent(&self) -> Option<&Consent> {
        self.consents.first()
    }

    /// The status of the entry with this id, in whichever list it is.
    pub fn entry_status(&self, id: &str) -> Option<EntryStatus> {
        macro_rules! probe {
            ($field:ident) => {
                if let Some(e) = self.$field.iter().find(|e| e.entry_id == id) {
                    return Some(e.status.clone());
                }
            };
        }
        entry_lists!(probe);
        None
    }

    /// Mutable status of the entry with this id.
    pub(crate) fn entry_status_mut(&mut self, id: &str) -> Option<&mut EntryStatus> {
        macro_rules! probe {
            ($field:ident) => {
                if let Some(e) = self.$field.iter_mut().find(|e| e.entry_id == id) {
                    return Some(&mut e.status);
                }
            };
        }
        entry_lists!(probe);
        None
    }

    /// The entry an entry corrects, if it is a correction.
    pub fn entry_supersedes(&self, id: &str) -> Option<String> {
        macro_rules! probe {
            ($field:ident) => {
                if let Some(e) = self.$field.iter().find(|e| e.entry_id == id) {
                    return e.supersedes.clone();
                }
            };
        }
        entry_lists!(probe);
        None
    }

    /// When an entry was recorded.
    pub fn entry_recorded_at(&self, id: &str) -> Option<DateTime<Utc>> {
        macro_rules! probe {
            ($field:ident) => {
                if let Some(e) = self.$field.iter().find(|e| e.entry_id == id) {
                    return Some(e.recorded_at);
                }
            };
        }
        entry_lists!(probe);
        None
    }

    /// The PET time point of an IMP administration entry.
    pub fn imp_timepoint(&self, id: &str) -> Option<PetTimepoint> {
        self.imp_administrations
            .iter()
            .find(|e| e.entry_id == id)
            .map(|e| e.value.timepoint)
    }

    /// An entry's fact as JSON (its fields are the data points' `field`s).
    pub fn entry_json(&self, id: &str) -> Option<serde_json::Value> {
        macro_rules! probe {
            ($field:ident) => {
                if let Some(e) = self.$field.iter().find(|e| e.entry_id == id) {
                    return serde_json::to_value(&e.value).ok();
                }
            };
        }
        entry_lists!(probe);
        None
    }

    /// Every entry's id with its status, list by list in the order of the record.
    pub fn entry_ids(&self) -> Vec<(String, EntryStatus)> {
        let mut out = Vec::new();
        macro_rules! collect {
            ($field:ident) => {
                out.extend(
                    self.$field
                        .iter()
                        .map(|e| (e.entry_id.clone(), e.status.clone())),
                );
            };
        }
        entry_lists!(collect);
        out
    }

    /// Total number of entries recorded with this id prefix (current or not).
    pub(crate) fn count_prefix(&self, prefix: &str) -> usize {
        let p = format!("{prefix}-");
        let mut n = 0;
        macro_rules! count {
            ($field:ident) => {
                n += self
                    .$field
                    .iter()
                    .filter(|e| e.entry_id.starts_with(&p))
                    .count();
            };
        }
        entry_lists!(count);
        n
    }

    /// The current IMP administration for a PET time point.
    pub fn imp_administration(&self, tp: PetTimepoint) -> Option<&Entry<ImpAdministration>> {
        current(&self.imp_administrations)
            .filter(|e| e.value.timepoint == tp)
            .last()
    }

    /// The current quantification of a PET time point.
    pub fn pet_quantification(&self, tp: PetTimepoint) -> Option<&PetQuantification> {
        self.pet_quantifications
            .iter()
            .rev()
            .find(|q| q.timepoint == tp)
    }

    /// The current review of a PET time point: the last one, if it reviews the current quantification.
    pub fn pet_review(&self, tp: PetTimepoint) -> Option<&PetReview> {
        let q = self.pet_quantification(tp)?;
        self.pet_reviews
            .iter()
            .rev()
            .find(|r| r.timepoint == tp)
            .filter(|r| r.quantification_id == q.quantification_id)
    }

    /// The current PET response read: the last one, if it reads the current PET1 and PET2
    /// quantifications.
    pub fn pet_response(&self) -> Option<&crate::pet_response::PetResponseRead> {
        let q1 = self.pet_quantification(PetTimepoint::Pet1)?;
        let q2 = self.pet_quantification(PetTimepoint::Pet2)?;
        self.pet_responses.last().filter(|r| {
            r.pet1_quantification_id == q1.quantification_id
                && r.pet2_quantification_id == q2.quantification_id
        })
    }

    /// The current baseline CT, if recorded.
    pub fn tumour_baseline(&self) -> Option<&Entry<TumourBaseline>> {
        current(&self.tumour_baselines).last()
    }

    /// The current follow-up CT assessments, in scan-date order.
    pub fn current_tumour_assessments(&self) -> Vec<&Entry<TumourAssessment>> {
        let mut v: Vec<_> = current(&self.tumour_assessments).collect();
        v.sort_by_key(|e| e.value.scan_date);
        v
    }

    /// The current RECIST 1.1 result, if any.
    pub fn response_evaluation(&self) -> Option<&ResponseEvaluation> {
        self.response_evaluations.last()
    }

    /// The current biopsy target of a PET time point: the last choice, if made on the current review.
    pub fn biopsy_target(&self, tp: PetTimepoint) -> Option<&BiopsyTargetChoice> {
        let r = self.pet_review(tp)?;
        self.biopsy_targets
            .iter()
            .rev()
            .find(|c| c.timepoint == tp)
            .filter(|c| c.review_id == r.review_id)
    }
}
