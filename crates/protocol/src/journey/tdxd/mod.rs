//! Arm 1 treatment: T-DXd administrations and the label's dose rules
//! (PROTOCOL §9; clinical-rules §1.1–§1.3; EU SmPC 4.2/4.4, enhertuhcp.com).
//!
//! A [`TdxdCourse`] is the course so far: the highest dose level still allowed,
//! the open interruptions, a pending LVEF repeat and whether T-DXd is discontinued.
//! Toxicity findings become [`DoseDecision`]s through the rule functions
//! ([`ild_decision`], [`ild_resolved`], [`lvef_decision`], [`lvef_repeat_decision`],
//! [`neutropenia_decision`], [`anc_decision`], [`symptomatic_chf_decision`]).
//!
//! The course is a function of the current facts ([`course_of`]): the
//! administrations, the decisions each current adverse event calls for (from its
//! grade, onset and resolution, [`ae_dose_decisions`]) and the decisions recorded
//! from measurements (LVEF, ANC). It is recomputed on every change, so correcting
//! or retracting an AE recomputes what it caused. The allowed level never rises
//! above a level already given (label: "do not re-escalate"). Only the rules the
//! label states unambiguously are enforced.

mod check;
mod course;
mod derive;
mod rules;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::rule::{Refusal, Rule};

pub use check::{Administration, AdministrationCheck, check_dose_mg};
pub use course::{
    DatedDecision, DecisionSource, Discontinuation, Interruption, LvefRepeat, TdxdCourse,
};
pub use derive::{ae_dose_decisions, course_of};
pub use rules::{
    LvefBand, anc_decision, ild_decision, ild_resolved, lvef_band, lvef_decision,
    lvef_repeat_decision, neutropenia_decision, symptomatic_chf_decision,
};

/// T-DXd dose level (label reduction schedule, breast cancer).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum DoseLevel {
    /// 5.4 mg/kg, the starting dose.
    #[serde(rename = "5.4")]
    Start,
    /// 4.4 mg/kg, first reduction.
    #[serde(rename = "4.4")]
    Reduced1,
    /// 3.2 mg/kg, second reduction; a further reduction means discontinuation.
    #[serde(rename = "3.2")]
    Reduced2,
}

impl DoseLevel {
    /// mg per kg body weight.
    pub fn mg_per_kg(self) -> f64 {
        match self {
            DoseLevel::Start => 5.4,
            DoseLevel::Reduced1 => 4.4,
            DoseLevel::Reduced2 => 3.2,
        }
    }

    /// One level down, or `None` below 3.2 mg/kg (then: discontinue).
    pub fn one_lower(self) -> Option<DoseLevel> {
        match self {
            DoseLevel::Start => Some(DoseLevel::Reduced1),
            DoseLevel::Reduced1 => Some(DoseLevel::Reduced2),
            DoseLevel::Reduced2 => None,
        }
    }

    /// The lower of two levels (the allowed level only ever goes down).
    pub fn lower(self, other: DoseLevel) -> DoseLevel {
        if other.rank() > self.rank() {
            other
        } else {
            self
        }
    }

    /// Steps below the start (0, 1, 2).
    fn rank(self) -> u8 {
        match self {
            DoseLevel::Start => 0,
            DoseLevel::Reduced1 => 1,
            DoseLevel::Reduced2 => 2,
        }
    }
}

/// What to do when an interruption ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OnResolution {
    /// Resume at the same dose level.
    SameDose,
    /// Resume one level down (discontinue below 3.2 mg/kg).
    OneLevelDown,
    /// Decided when it resolves (ILD grade 1: by the days to resolution; LVEF: by the repeat).
    DecidedAtResolution,
}

/// What a dose rule says to do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum DoseAction {
    /// Keep dosing as planned.
    Continue,
    /// Hold T-DXd until a condition is met.
    Interrupt {
        /// The condition, in words.
        until: String,
        /// What happens then.
        then: OnResolution,
    },
    /// End the interruption of this rule at the same level.
    ResumeSameDose,
    /// End the interruption of this rule one level down.
    ResumeOneLevelDown,
    /// Stop T-DXd permanently.
    Discontinue,
}

/// A dose rule's decision with its reason.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DoseDecision {
    /// The rule (`TDXD_ILD`, `TDXD_LVEF`, `TDXD_NEUTROPENIA`).
    pub rule: Rule,
    /// What to do.
    pub action: DoseAction,
    /// Repeat the LVEF within this many days, when the LVEF rule asks for it.
    pub repeat_lvef_within_days: Option<u32>,
    /// Why, with the values and thresholds.
    pub reason: String,
}

/// A decision of `rule` without an LVEF repeat.
fn decision(rule: Rule, action: DoseAction, reason: String) -> DoseDecision {
    DoseDecision {
        rule,
        action,
        repeat_lvef_within_days: None,
        reason,
    }
}

/// A CTCAE grade 1–5, else `CTCAE_GRADE`.
fn check_grade(grade: u8) -> Result<(), Refusal> {
    if (1..=5).contains(&grade) {
        Ok(())
    } else {
        Err(Refusal::new(
            Rule::CTCAE_GRADE,
            format!("CTCAE grade {grade} does not exist; grades run 1–5."),
        ))
    }
}
