//! The HER2-Ex PET protocol as code.
//!
//! This crate is the functional core of the trial system: it holds the
//! participant's journey (PROTOCOL §2), identity and privacy rules (§3), the
//! consent gate (§4), eligibility (§5), data-integrity rules for corrections
//! (§12) and the versioned settings (§14). It is pure: no I/O, no async, no
//! clock. Time, settings and inputs come in as values; results go out as values.
//!
//! A change flows as `decide(&participant, &command, now, &settings)` →
//! `Vec<Event>` (or a [`Refusal`] naming the rule), then `evolve` applies the
//! events. The store appends the events; [`fold`] rebuilds a participant.
//!
//! | rule id | module |
//! |---|---|
//! | `IN1`, `IN2`, `IN3`, `IN6`, `IN7`, `IN8` | [`eligibility`] (`inclusion.rs`) |
//! | `IN4`, `IN5` (RECIST 1.1 measurability) | [`eligibility`] (`lesions.rs`) |
//! | `EX1`, `EX2`, `EX3`, `EX5` | [`eligibility`] (`exclusion.rs`) |
//! | `EX4` (Cockcroft–Gault) | [`eligibility`] (`organ.rs`) |
//! | `GATE_CONSENT` | [`consent`] |
//! | `WITHDRAWN`, `STATE_TRANSITION`, `ELIGIBILITY`, `SIGNATURE`, `ENTRY_UNKNOWN`, `DUPLICATE` | `decide` |
//! | `PRIV_PNR` | [`privacy`] |
//! | `UNIT_UNKNOWN`, `VALUE_IMPOSSIBLE`, `VALUE_REQUIRED` | [`labs`], `decide` |
//! | `ID_FORMAT` | [`ids`] |
//! | `SETTINGS` | [`settings`] |
//! | `IMP_PREGNANCY`, `PET_EXAM`, `BIOPSY_TARGET` (PROTOCOL §6–§7) | [`imaging`], `decide` |
//! | RECIST 1.1 response, PERCIST | [`recist`], [`percist`] |
//! | `PET_RESPONSE` (the reader's PET response read PET1 → PET2) | [`pet_response`], `decide` |
//! | `RECIST` (tumour assessments in the trial, progression) | [`response`], `decide` |
//! | `BIOPSY_LABS`, `BIOPSY_ANTICOAGULATION`, `ARCHIVAL_BIOPSY` | [`journey::biopsy`] |
//! | `HER2_CATEGORY`, `ALLOCATION` | [`journey::pathology`], [`journey::allocation`] |
//! | `TDXD_DOSE`, `TDXD_INTERVAL`, `TDXD_ILD`, `TDXD_LVEF`, `TDXD_NEUTROPENIA`, `TDXD_INTERRUPTED`, `TDXD_DISCONTINUED` | [`journey::tdxd`] |
//! | `BIOPSY_WINDOW`, `C1D1_WINDOW`, `PET2_WINDOW`, `PET3_WINDOW`, `ARM2_FOLLOWUP` | [`journey::schedule`] |
//! | `CTCAE_TERM`, `CTCAE_GRADE`, `AE_SERIOUSNESS`, `SAE_CLOCK` | [`journey::ctcae`], [`journey::safety`] |
//! | `OFF_STUDY` | [`journey::end`] |

pub mod command;
pub mod consent;
mod decide;
pub mod eligibility;
pub mod event;
mod evolve;
pub mod ids;
pub mod imaging;
pub mod journey;
pub mod labs;
pub mod local_time;
pub mod outputs;
pub mod oversight;
pub mod participant;
pub mod percist;
pub mod pet_response;
pub mod privacy;
pub mod recist;
pub mod records;
pub mod response;
pub mod roles;
pub mod rule;
pub mod settings;
pub mod testing;

pub use command::*;
pub use consent::consent_gate;
pub use decide::{command_kinds_allowed_in, commands_allowed_in, decide};
pub use eligibility::{
    CriterionKind, CriterionResult, CriterionStatus, DecidedBy, EligibilityReport, Overall,
    evaluate_eligibility,
};
pub use event::{EntryMeta, Event};
pub use evolve::{evolve, fold};
pub use ids::{SiteCode, StudyId};
pub use imaging::{PetTimepoint, propose_biopsy_targets};
pub use labs::{Analyte, LabResult, SampleOrigin};
pub use oversight::{decide_in, decide_oversight, decide_study};
pub use participant::{
    Arm, Consent, Enrolment, Entry, EntryStatus, Participant, ScreenFailure, State, StateKind,
    Withdrawal,
};
pub use records::*;
pub use rule::{Refusal, Rule};
pub use settings::{Settings, validate_settings_change};
