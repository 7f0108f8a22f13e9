//! The study's analyses, each with its uncertainty and the number of participants it
//! rests on, computed from the [`crate::dataset`].
//!
//! Every estimate that cannot be given says why ([`crate::stats::NotEstimable`]), in the
//! JSON as `{"not_estimable": "reason"}`, so a reader never meets a NaN or a blank.

mod diagnostic;
mod outcome;

use serde::Serialize;

use crate::dataset::{Dataset, Rules};
use crate::source::CutOff;
pub(crate) use crate::stats::serialize_estimate as estimate;

pub use diagnostic::{Agreement, CategorySummary, Diagnostic, Phenotypes, Summary};
pub use outcome::{ArmSafety, KmGroup, Pfs, Response, SaeRow, Safety, TermRow};

/// The confidence level of every interval.
pub const LEVEL: f64 = 0.95;

/// How many participants reached each step of the study.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Counts {
    /// Registered (in the data set).
    pub registered: usize,
    /// Screen failed.
    pub screen_failed: usize,
    /// Enrolled.
    pub enrolled: usize,
    /// With a reader-confirmed baseline PET.
    pub baseline_pet: usize,
    /// With a diagnostic biopsy HER2 category.
    pub her2_known: usize,
    /// Allocated to arm 1.
    pub arm1: usize,
    /// Allocated to arm 2.
    pub arm2: usize,
    /// Given T-DXd at least once.
    pub on_tdxd: usize,
    /// With progression.
    pub progressed: usize,
    /// Died.
    pub died: usize,
}

/// Every analysis of the study report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Analyses {
    /// What the numbers rest on.
    pub cut_off: CutOff,
    /// The rules applied.
    pub rules: Rules,
    /// Participants at each step.
    pub counts: Counts,
    /// Baseline PET against biopsy HER2.
    pub diagnostic: Diagnostic,
    /// Response to T-DXd (arm 1).
    pub response: Response,
    /// Progression-free survival by baseline PET status.
    pub pfs: Pfs,
    /// Adverse events.
    pub safety: Safety,
}

/// Computes every analysis.
pub fn analyse(cut_off: &CutOff, ds: &Dataset) -> Analyses {
    Analyses {
        cut_off: cut_off.clone(),
        rules: ds.rules.clone(),
        counts: counts(ds),
        diagnostic: diagnostic::diagnostic(ds),
        response: outcome::response(ds),
        pfs: outcome::pfs(ds),
        safety: outcome::safety(ds),
    }
}

fn counts(ds: &Dataset) -> Counts {
    use protocol::Arm;
    let p = &ds.participants;
    let n = |f: &dyn Fn(&crate::dataset::ParticipantRow) -> bool| p.iter().filter(|r| f(r)).count();
    Counts {
        registered: p.len(),
        screen_failed: n(&|r| r.screen_failed),
        enrolled: n(&|r| r.enrolled_on.is_some()),
        baseline_pet: n(&|r| r.baseline_suv_max.is_some()),
        her2_known: n(&|r| r.her2_category.is_some()),
        arm1: n(&|r| r.arm == Some(Arm::Arm1)),
        arm2: n(&|r| r.arm == Some(Arm::Arm2)),
        on_tdxd: n(&|r| r.tdxd_cycles > 0),
        progressed: n(&|r| r.progression_on.is_some()),
        died: n(&|r| r.died_on.is_some()),
    }
}
