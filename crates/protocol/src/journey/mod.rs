//! The participant's journey after baseline PET (PROTOCOL §7–§9, §11, §2 end):
//! pure decision rules to be wired into commands, events and pages.
//!
//! | step | module | main functions | rule ids |
//! |---|---|---|---|
//! | biopsy (fresh / archival) | [`biopsy`] | [`clear_fresh_biopsy`], [`check_archival_sample`] | `BIOPSY_LABS`, `BIOPSY_ANTICOAGULATION`, `ARCHIVAL_BIOPSY` |
//! | pathology, HER2 category | [`pathology`] | [`derive_category`], [`ish_group`] | `HER2_CATEGORY` |
//! | allocation | [`allocation`] | [`allocate`] | `ALLOCATION` |
//! | T-DXd (arm 1) | [`tdxd`] | [`TdxdCourse`], [`ild_decision`], [`lvef_decision`], [`neutropenia_decision`] | `TDXD_*` |
//! | visit windows | [`schedule`] | [`expected_visits`], [`check_visit`], [`visit_statuses`] | `BIOPSY_WINDOW`, `C1D1_WINDOW`, `PET2_WINDOW`, `PET3_WINDOW`, `ARM2_FOLLOWUP` |
//! | CTCAE v5.0 | [`ctcae`] | [`ctcae_v5`] | `CTCAE_TERM`, `CTCAE_GRADE` |
//! | adverse events, SAE clock | [`safety`] | [`code_adverse_event`], [`sae_clock`] | `AE_SERIOUSNESS`, `SAE_CLOCK` |
//! | contraception period | [`contraception`] | [`contraception::contraception_period`] | settings `pregnancy` |
//! | end of participation | [`end`] | [`off_study_due`], [`may_record_after_end`] | `OFF_STUDY`, `WITHDRAWN` |
//!
//! Every function takes time, settings and inputs as values; every decision
//! carries its evidence and the settings version it used.

pub mod allocation;
pub mod biopsy;
pub mod contraception;
pub mod ctcae;
pub mod end;
pub mod pathology;
pub mod safety;
pub mod schedule;
pub mod tdxd;
pub mod trial;

pub use allocation::{
    Allocation, AllocationOutcome, SpecimenEvidence, allocate, is_her2_expressing,
};
pub use biopsy::{
    Anticoagulation, ArchivalSample, BiopsyClearance, BiopsyComplication, BiopsySource,
    BleedingLabCheck, FreshBiopsy, check_archival_sample, check_bleeding_labs, check_complication,
    clear_fresh_biopsy,
};
pub use ctcae::{CTCAE_VERSION, Ctcae, CtcaeTerm, ctcae_v5};
pub use end::{
    EndFacts, EndReason, OffStudyDue, PostEndRecord, may_record_after_end, off_study_due,
};
pub use pathology::{
    CategoryDerivation, Her2Category, Her2Read, IshGroup, IshTest, ReadKind, SpecimenFinding,
    SpecimenReport, StainingCompleteness, StainingIntensity, derive_category, ish_group,
};
pub use safety::{
    ActionTaken, AdverseEvent, AeOutcome, Aesi, Causality, CodedAdverseEvent, SaeClock,
    SaeClockState, Seriousness, SusarClock, code_adverse_event, sae_clock, sae_clock_of,
};
pub use schedule::{
    Anchors, ExpectedVisit, VisitKind, VisitState, VisitStatus, VisitTiming, Window,
    WindowDeviation, check_visit, expected_visits, visit_statuses,
};
pub use tdxd::{
    Administration, AdministrationCheck, DoseAction, DoseDecision, DoseLevel, LvefBand,
    OnResolution, TdxdCourse, ild_decision, ild_resolved, lvef_band, lvef_decision,
    lvef_repeat_decision, neutropenia_decision,
};
