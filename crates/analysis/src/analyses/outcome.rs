//! What happened after allocation: response to T-DXd, progression-free survival by
//! baseline PET status, and safety.

use chrono::NaiveDate;
use protocol::Arm;
use serde::Serialize;

use super::{LEVEL, estimate};
use crate::dataset::{DAYS_PER_MONTH, Dataset, ParticipantRow};
use crate::stats::{
    KaplanMeier, LogRank, NotEstimable, Observation, Proportion, Roc, kaplan_meier, log_rank,
    proportion, roc,
};

/// Response to T-DXd in arm 1 (RECIST 1.1).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Response {
    /// Participants in arm 1.
    pub arm1: usize,
    /// Of them with a best overall response.
    pub evaluable: usize,
    /// Objective response (CR or PR) among the evaluable.
    #[serde(serialize_with = "estimate")]
    pub objective_response: Result<Proportion, NotEstimable>,
    /// Among the PET-positive evaluable (highest SUVmax ≥ threshold).
    #[serde(serialize_with = "estimate")]
    pub objective_response_pet_positive: Result<Proportion, NotEstimable>,
    /// Among the PET-negative evaluable.
    #[serde(serialize_with = "estimate")]
    pub objective_response_pet_negative: Result<Proportion, NotEstimable>,
    /// ROC of baseline SUVmax for objective response.
    #[serde(serialize_with = "estimate")]
    pub roc_response: Result<Roc, NotEstimable>,
}

/// Kaplan–Meier of one group.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KmGroup {
    /// The group's name.
    pub label: String,
    /// Participants.
    pub n: usize,
    /// Events (progression or death).
    pub events: usize,
    /// The curve (times in days).
    #[serde(serialize_with = "estimate")]
    pub km: Result<KaplanMeier, NotEstimable>,
    /// Median in months, `None` when not reached or not estimable.
    pub median_months: Option<f64>,
}

/// Progression-free survival in arm 1 by baseline PET status.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Pfs {
    /// Participants with a PFS time and a PET status.
    pub n: usize,
    /// PET-positive then PET-negative.
    pub groups: Vec<KmGroup>,
    /// Log-rank test between the groups.
    #[serde(serialize_with = "estimate")]
    pub log_rank: Result<LogRank, NotEstimable>,
    /// The censoring rule.
    pub rule: &'static str,
}

/// One adverse-event term in one arm: participants by their worst grade.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TermRow {
    /// CTCAE term.
    pub term: String,
    /// System organ class.
    pub soc: String,
    /// Participants whose worst grade of the term was 1, 2, 3, 4, 5.
    pub by_worst_grade: [u64; 5],
    /// Participants with the term at any grade.
    pub any_grade: u64,
}

/// Adverse events of one arm (or of those not allocated).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ArmSafety {
    /// "Arm 1 (T-DXd)", "Arm 2 (follow-up)" or "Not allocated".
    pub label: String,
    /// Participants in the group.
    pub participants: usize,
    /// Participants with any adverse event.
    pub with_any: usize,
    /// With a grade ≥ 3 event.
    pub with_grade3_plus: usize,
    /// With interstitial lung disease / pneumonitis (AESI).
    pub with_ild: usize,
    /// With a decrease of LVEF (AESI).
    pub with_lvef_decrease: usize,
    /// Terms, most frequent first.
    pub terms: Vec<TermRow>,
}

/// A serious adverse event.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SaeRow {
    /// Study id.
    pub study_id: String,
    /// Arm, if allocated.
    pub arm: Option<Arm>,
    /// CTCAE term.
    pub term: String,
    /// Worst grade.
    pub grade: u8,
    /// Onset.
    pub onset: NaiveDate,
}

/// Adverse events by arm.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Safety {
    /// Per arm.
    pub arms: Vec<ArmSafety>,
    /// Serious adverse events.
    pub serious: Vec<SaeRow>,
}

fn is_responder(r: &ParticipantRow) -> Option<bool> {
    r.best_response.as_deref().map(|b| b == "CR" || b == "PR")
}

fn rate(rows: &[&ParticipantRow]) -> Result<Proportion, NotEstimable> {
    let k = rows
        .iter()
        .filter(|r| is_responder(r) == Some(true))
        .count();
    proportion(k as u64, rows.len() as u64, LEVEL)
}

pub(super) fn response(ds: &Dataset) -> Response {
    let arm1: Vec<&ParticipantRow> = ds
        .participants
        .iter()
        .filter(|r| r.arm == Some(Arm::Arm1))
        .collect();
    let evaluable: Vec<&ParticipantRow> = arm1
        .iter()
        .copied()
        .filter(|r| is_responder(r).is_some())
        .collect();
    let with_pet = |positive: bool| -> Vec<&ParticipantRow> {
        evaluable
            .iter()
            .copied()
            .filter(|r| r.pet_positive == Some(positive))
            .collect()
    };
    let (mut yes, mut no) = (Vec::new(), Vec::new());
    for r in &evaluable {
        if let Some(v) = r.baseline_suv_max {
            if is_responder(r) == Some(true) {
                yes.push(v)
            } else {
                no.push(v)
            }
        }
    }
    Response {
        arm1: arm1.len(),
        evaluable: evaluable.len(),
        objective_response: rate(&evaluable),
        objective_response_pet_positive: rate(&with_pet(true)),
        objective_response_pet_negative: rate(&with_pet(false)),
        roc_response: roc(&yes, &no, LEVEL),
    }
}

/// The PFS censoring rule, as the report states it.
pub const PFS_RULE: &str = "From the first T-DXd administration to RECIST 1.1 progression or \
death, whichever first; otherwise censored at the last CT assessment without progression (at \
day 0 when there is none).";

pub(super) fn pfs(ds: &Dataset) -> Pfs {
    let mut groups = Vec::new();
    let mut obs: Vec<Vec<Observation>> = Vec::new();
    for (positive, label) in [(true, "PET-positive"), (false, "PET-negative")] {
        let o: Vec<Observation> = ds
            .participants
            .iter()
            .filter(|r| r.arm == Some(Arm::Arm1) && r.pet_positive == Some(positive))
            .filter_map(|r| r.pfs.as_ref())
            .map(|t| Observation {
                time: t.days as f64,
                event: t.event,
            })
            .collect();
        let km = kaplan_meier(&o, LEVEL);
        groups.push(KmGroup {
            label: format!(
                "{label} (SUVmax {} {})",
                if positive { "≥" } else { "<" },
                ds.rules.avid_suvmax_threshold
            ),
            n: o.len(),
            events: o.iter().filter(|x| x.event).count(),
            median_months: km
                .as_ref()
                .ok()
                .and_then(|k| k.median)
                .map(|d| d / DAYS_PER_MONTH),
            km,
        });
        obs.push(o);
    }
    let refs: Vec<&[Observation]> = obs.iter().map(Vec::as_slice).collect();
    Pfs {
        n: obs.iter().map(Vec::len).sum(),
        groups,
        log_rank: log_rank(&refs),
        rule: PFS_RULE,
    }
}

pub(super) fn safety(ds: &Dataset) -> Safety {
    let groups: [(Option<Arm>, &str); 3] = [
        (Some(Arm::Arm1), "Arm 1 (T-DXd)"),
        (Some(Arm::Arm2), "Arm 2 (follow-up)"),
        (None, "Not allocated"),
    ];
    let arms = groups
        .iter()
        .map(|(arm, label)| arm_safety(ds, *arm, label))
        .collect();
    let mut serious = Vec::new();
    for r in &ds.participants {
        for ae in r.adverse_events.iter().filter(|a| a.serious) {
            serious.push(SaeRow {
                study_id: r.study_id.clone(),
                arm: r.arm,
                term: ae.term.clone(),
                grade: ae.worst_grade,
                onset: ae.first_onset,
            });
        }
    }
    Safety { arms, serious }
}

fn arm_safety(ds: &Dataset, arm: Option<Arm>, label: &str) -> ArmSafety {
    let rows: Vec<&ParticipantRow> = ds
        .participants
        .iter()
        .filter(|r| r.arm == arm && (arm.is_some() || r.enrolled_on.is_some()))
        .collect();
    let mut terms: Vec<TermRow> = Vec::new();
    for r in &rows {
        for ae in &r.adverse_events {
            let i = match terms.iter().position(|t| t.term == ae.term) {
                Some(i) => i,
                None => {
                    terms.push(TermRow {
                        term: ae.term.clone(),
                        soc: ae.soc.clone(),
                        by_worst_grade: [0; 5],
                        any_grade: 0,
                    });
                    terms.len() - 1
                }
            };
            let g = usize::from(ae.worst_grade.clamp(1, 5)) - 1;
            terms[i].by_worst_grade[g] += 1;
            terms[i].any_grade += 1;
        }
    }
    terms.sort_by(|a, b| b.any_grade.cmp(&a.any_grade).then(a.term.cmp(&b.term)));
    let with = |f: &dyn Fn(&crate::dataset::AeWorst) -> bool| {
        rows.iter()
            .filter(|r| r.adverse_events.iter().any(f))
            .count()
    };
    ArmSafety {
        label: label.to_string(),
        participants: rows.len(),
        with_any: with(&|_| true),
        with_grade3_plus: with(&|a| a.worst_grade >= 3),
        with_ild: with(&|a| a.aesi.iter().any(|s| s == "ild_pneumonitis")),
        with_lvef_decrease: with(&|a| a.aesi.iter().any(|s| s == "lvef_decrease")),
        terms,
    }
}
