//! One follow-up assessment: sum of diameters, target and non-target response
//! (RECIST 1.1 §4.3).

use super::baseline::{Baseline, LesionId, NORMAL_NODE_BELOW};
use super::measure::{Tenths, is_partial_response, is_progression};
use super::response::{NonTargetResponse, TargetResponse};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Default size of a target that is present but too small to measure (RECIST 1.1 §4.3.2).
pub const TOO_SMALL_DEFAULT: Tenths = Tenths::from_tenths(50);

/// A target lesion at a follow-up assessment.
#[derive(Debug, Clone, PartialEq)]
pub enum TargetMeasurement {
    /// Measured: longest diameter, or short axis for a node. A measured value below
    /// 5 mm is kept as measured (RECIST 1.1 §4.3.2).
    Measured(Tenths),
    /// Present but too small to measure: counts as the default (5 mm) in the sum
    /// (RECIST 1.1 §4.3.2).
    TooSmall,
    /// Gone: 0 mm (RECIST 1.1 §4.3.2).
    Disappeared,
    /// Not assessed or not assessable at this time point.
    NotEvaluated,
    /// A non-nodal lesion that fragmented: the fragments' longest diameters are added
    /// (RECIST 1.1 §4.3.2, "Lesions that split or coalesce").
    Fragments(Vec<Tenths>),
    /// Coalesced with another target lesion so they can no longer be told apart: the
    /// other lesion's measurement covers both and this one counts 0 mm
    /// (RECIST 1.1 §4.3.2).
    CoalescedInto(LesionId),
}

impl TargetMeasurement {
    /// Contribution to the sum of diameters; `None` when not evaluated.
    pub fn contribution(&self, too_small: Tenths) -> Option<Tenths> {
        match self {
            TargetMeasurement::Measured(d) => Some(*d),
            TargetMeasurement::TooSmall => Some(too_small),
            TargetMeasurement::Disappeared | TargetMeasurement::CoalescedInto(_) => {
                Some(Tenths::ZERO)
            }
            TargetMeasurement::NotEvaluated => None,
            TargetMeasurement::Fragments(parts) => Some(parts.iter().copied().sum()),
        }
    }
}

/// A non-target lesion at a follow-up assessment (RECIST 1.1 §4.3.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum NonTargetStatus {
    /// Gone (a node: back to normal size, < 10 mm short axis).
    Absent,
    /// Still there, not unequivocally progressing.
    Present,
    /// Unequivocal progression of this lesion (RECIST 1.1 §4.3.4).
    UnequivocalProgression,
    /// Not assessed at this time point.
    NotEvaluated,
}

/// Whether new lesions were found (RECIST 1.1 §4.3.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum NewLesions {
    /// None.
    No,
    /// Unequivocal new lesion: progression.
    Yes,
    /// Possibly new: not progression unless a later scan confirms it, in which case
    /// progression is dated to this scan.
    Equivocal,
}

impl NewLesions {
    /// The word used in the input/output format.
    pub fn code(self) -> &'static str {
        match self {
            NewLesions::No => "no",
            NewLesions::Yes => "yes",
            NewLesions::Equivocal => "equivocal",
        }
    }
}

/// The reader's findings at one follow-up assessment.
#[derive(Debug, Clone, PartialEq)]
pub struct Measurements {
    /// Every baseline target lesion, by id.
    pub targets: BTreeMap<LesionId, TargetMeasurement>,
    /// Every baseline non-target lesion, by id.
    pub non_targets: BTreeMap<LesionId, NonTargetStatus>,
    /// New lesions.
    pub new_lesions: NewLesions,
}

/// The sum of diameters of the evaluated target lesions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TargetSum {
    /// Sum over the evaluated targets (all of them when `complete`).
    pub sum: Tenths,
    /// Whether every baseline target was evaluated.
    pub complete: bool,
}

/// Sum of diameters at a follow-up (RECIST 1.1 §4.2, §4.3.2); a target missing from the
/// measurements counts as not evaluated.
pub fn target_sum(baseline: &Baseline, m: &Measurements, too_small: Tenths) -> TargetSum {
    let mut sum = Tenths::ZERO;
    let mut complete = true;
    for lesion in baseline.targets() {
        match m
            .targets
            .get(&lesion.id)
            .and_then(|t| t.contribution(too_small))
        {
            Some(d) => sum = sum.plus(d),
            None => complete = false,
        }
    }
    TargetSum { sum, complete }
}

/// Complete response of the targets: every non-nodal target gone and every nodal target
/// below 10 mm short axis, so the sum may be above 0 (RECIST 1.1 §4.3.1, §4.3.2).
/// A coalesced lesion is judged through the lesion it merged into.
fn targets_in_complete_response(baseline: &Baseline, m: &Measurements, too_small: Tenths) -> bool {
    baseline.targets().all(|lesion| {
        let Some(t) = m.targets.get(&lesion.id) else {
            return false;
        };
        if matches!(t, TargetMeasurement::CoalescedInto(_)) {
            return true;
        }
        match t.contribution(too_small) {
            Some(d) if lesion.node => d < NORMAL_NODE_BELOW,
            Some(d) => d == Tenths::ZERO,
            None => false,
        }
    })
}

/// Target response at a follow-up, `None` when there are no target lesions
/// (RECIST 1.1 §4.3.1).
///
/// `nadir` is the smallest complete sum over baseline and all earlier assessments. PD is
/// judged first, on the evaluated targets alone: missing lesions could only add to the sum,
/// so when the evaluated ones already show PD the response is PD; otherwise a missing
/// target makes the response NE (RECIST 1.1 §4.4.2).
pub fn target_response(
    baseline: &Baseline,
    m: &Measurements,
    nadir: Tenths,
    too_small: Tenths,
) -> Option<TargetResponse> {
    if !baseline.has_targets() {
        return None;
    }
    let TargetSum { sum, complete } = target_sum(baseline, m, too_small);
    let response = if is_progression(sum, nadir) {
        TargetResponse::ProgressiveDisease
    } else if !complete {
        TargetResponse::NotEvaluable
    } else if targets_in_complete_response(baseline, m, too_small) {
        TargetResponse::CompleteResponse
    } else if is_partial_response(sum, baseline.sum()) {
        TargetResponse::PartialResponse
    } else {
        TargetResponse::StableDisease
    };
    Some(response)
}

/// Non-target response, `None` when there are no non-target lesions (RECIST 1.1 §4.3.3):
/// unequivocal progression of any lesion is PD; otherwise any lesion not evaluated makes
/// NE; all absent is CR; else non-CR/non-PD. A lesion missing from the statuses counts as
/// not evaluated.
pub fn non_target_response(
    baseline: &Baseline,
    statuses: &BTreeMap<LesionId, NonTargetStatus>,
) -> Option<NonTargetResponse> {
    let all: Vec<NonTargetStatus> = baseline
        .non_targets()
        .map(|l| {
            statuses
                .get(&l.id)
                .copied()
                .unwrap_or(NonTargetStatus::NotEvaluated)
        })
        .collect();
    if all.is_empty() {
        return None;
    }
    let any = |s: NonTargetStatus| all.contains(&s);
    Some(if any(NonTargetStatus::UnequivocalProgression) {
        NonTargetResponse::ProgressiveDisease
    } else if any(NonTargetStatus::NotEvaluated) {
        NonTargetResponse::NotEvaluable
    } else if all.iter().all(|s| *s == NonTargetStatus::Absent) {
        NonTargetResponse::CompleteResponse
    } else {
        NonTargetResponse::NonCrNonPd
    })
}
