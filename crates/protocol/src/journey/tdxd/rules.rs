//! The label's dose-modification rules as decisions (clinical-rules §1.3):
//! ILD/pneumonitis, LVEF, heart failure and neutropenia (from an AE or an ANC).

use chrono::NaiveDate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{DoseAction, DoseDecision, OnResolution, check_grade, decision};
use crate::rule::{Refusal, Rule};
use crate::settings::Settings;

/// ILD/pneumonitis (SmPC 4.4): grade 1 → interrupt until grade 0 (the dose on
/// resumption depends on the days to resolution, see [`ild_resolved`]);
/// grade ≥ 2 → discontinue permanently.
pub fn ild_decision(grade: u8) -> Result<DoseDecision, Refusal> {
    check_grade(grade)?;
    Ok(if grade == 1 {
        decision(
            Rule::TDXD_ILD,
            DoseAction::Interrupt {
                until: "ILD/pneumonitis resolved to grade 0".into(),
                then: OnResolution::DecidedAtResolution,
            },
            "ILD/pneumonitis grade 1: interrupt T-DXd until resolved to grade 0".into(),
        )
    } else {
        decision(
            Rule::TDXD_ILD,
            DoseAction::Discontinue,
            format!("ILD/pneumonitis grade {grade} (≥ 2): permanently discontinue T-DXd"),
        )
    })
}

/// Grade 1 ILD resolved to grade 0: resolved ≤ 28 days (configurable) from onset →
/// same dose; later → one level down.
pub fn ild_resolved(
    onset: NaiveDate,
    resolved_on: NaiveDate,
    s: &Settings,
) -> Result<DoseDecision, Refusal> {
    let days = (resolved_on - onset).num_days();
    if days < 0 {
        return Err(Refusal::new(
            Rule::VALUE_IMPOSSIBLE,
            format!("ILD resolved {resolved_on}, before its onset {onset}."),
        ));
    }
    let max = s.tdxd.ild_resolution_same_dose_max_days;
    Ok(if days <= i64::from(max) {
        decision(
            Rule::TDXD_ILD,
            DoseAction::ResumeSameDose,
            format!(
                "ILD grade 1 resolved {days} days after onset (≤ {max}): resume at the same dose"
            ),
        )
    } else {
        decision(
            Rule::TDXD_ILD,
            DoseAction::ResumeOneLevelDown,
            format!(
                "ILD grade 1 resolved {days} days after onset (> {max}): resume one dose level down"
            ),
        )
    })
}

/// The LVEF band of a first finding (which the repeat is judged against).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum LvefBand {
    /// LVEF > 45 % and a drop ≤ 20 points: continue.
    Continue,
    /// LVEF 40–45 % and a drop < 10: continue, repeat within 3 weeks.
    ContinueRepeat,
    /// LVEF 40–45 % and a drop of 10–20: interrupt; discontinue unless back within 10 points of baseline.
    InterruptUntilRecovered,
    /// LVEF < 40 % or a drop > 20: interrupt; discontinue if confirmed.
    InterruptConfirm,
    /// Symptomatic congestive heart failure: discontinue.
    SymptomaticChf,
}

/// The LVEF band of a value (percent) against the baseline (label table, clinical-rules §1.3).
pub fn lvef_band(baseline_pct: f64, current_pct: f64, symptomatic_chf: bool) -> LvefBand {
    let drop = baseline_pct - current_pct;
    if symptomatic_chf {
        LvefBand::SymptomaticChf
    } else if current_pct < 40.0 || drop > 20.0 {
        LvefBand::InterruptConfirm
    } else if current_pct <= 45.0 {
        if drop < 10.0 {
            LvefBand::ContinueRepeat
        } else {
            LvefBand::InterruptUntilRecovered
        }
    } else {
        LvefBand::Continue
    }
}

/// The LVEF rule for a new LVEF value.
pub fn lvef_decision(
    baseline_pct: f64,
    current_pct: f64,
    symptomatic_chf: bool,
    s: &Settings,
) -> DoseDecision {
    let drop = baseline_pct - current_pct;
    let repeat = s.tdxd.lvef_repeat_within_days;
    let values = format!("LVEF {current_pct} % (baseline {baseline_pct} %, drop {drop} points)");
    let (action, repeat_days, why) = match lvef_band(baseline_pct, current_pct, symptomatic_chf) {
        LvefBand::SymptomaticChf => (
            DoseAction::Discontinue,
            None,
            "symptomatic congestive heart failure: permanently discontinue".to_owned(),
        ),
        LvefBand::InterruptConfirm => (
            DoseAction::Interrupt {
                until: format!(
                    "a repeat LVEF within {repeat} days does not confirm < 40 % or a drop > 20 points"
                ),
                then: OnResolution::DecidedAtResolution,
            },
            Some(repeat),
            "< 40 % or a drop > 20 points: interrupt, repeat; discontinue if confirmed".to_owned(),
        ),
        LvefBand::InterruptUntilRecovered => (
            DoseAction::Interrupt {
                until: format!("a repeat LVEF within {repeat} days within 10 points of baseline"),
                then: OnResolution::DecidedAtResolution,
            },
            Some(repeat),
            "40–45 % with a drop of 10–20 points: interrupt, repeat; discontinue if not recovered"
                .to_owned(),
        ),
        LvefBand::ContinueRepeat => (
            DoseAction::Continue,
            Some(repeat),
            "40–45 % with a drop < 10 points: continue, repeat within 3 weeks".to_owned(),
        ),
        LvefBand::Continue => (
            DoseAction::Continue,
            None,
            "> 45 %, drop ≤ 20 points: continue".to_owned(),
        ),
    };
    DoseDecision {
        rule: Rule::TDXD_LVEF,
        action,
        repeat_lvef_within_days: repeat_days,
        reason: format!("{values}: {why}"),
    }
}

/// The LVEF rule for the repeat after an interrupting finding of band `first`:
/// after < 40 % / drop > 20, confirmed → discontinue, else resume at the same dose;
/// after 40–45 % with drop 10–20, back within 10 points of baseline → resume at the
/// same dose, else discontinue. Symptomatic CHF always discontinues.
pub fn lvef_repeat_decision(
    first: LvefBand,
    baseline_pct: f64,
    repeat_pct: f64,
    symptomatic_chf: bool,
) -> DoseDecision {
    let drop = baseline_pct - repeat_pct;
    let values =
        format!("Repeat LVEF {repeat_pct} % (baseline {baseline_pct} %, drop {drop} points)");
    let (action, why) = if symptomatic_chf {
        (
            DoseAction::Discontinue,
            "symptomatic congestive heart failure: permanently discontinue",
        )
    } else {
        match first {
            LvefBand::InterruptConfirm if repeat_pct < 40.0 || drop > 20.0 => (
                DoseAction::Discontinue,
                "< 40 % or drop > 20 points confirmed: permanently discontinue",
            ),
            LvefBand::InterruptUntilRecovered if drop >= 10.0 => (
                DoseAction::Discontinue,
                "not recovered to within 10 points of baseline: permanently discontinue",
            ),
            LvefBand::InterruptConfirm | LvefBand::InterruptUntilRecovered => (
                DoseAction::ResumeSameDose,
                "recovered: resume at the same dose",
            ),
            LvefBand::Continue | LvefBand::ContinueRepeat | LvefBand::SymptomaticChf => {
                (DoseAction::Continue, "no interruption to resolve: continue")
            }
        }
    };
    decision(Rule::TDXD_LVEF, action, format!("{values}: {why}"))
}

/// Symptomatic congestive heart failure on T-DXd (clinical-rules §1.3, LVEF table:
/// "Symptomatic CHF → permanently discontinue"), reported as an AE of `grade`.
pub fn symptomatic_chf_decision(term: &str, grade: u8) -> DoseDecision {
    decision(
        Rule::TDXD_LVEF,
        DoseAction::Discontinue,
        format!(
            "{term} grade {grade} (symptomatic congestive heart failure): permanently discontinue T-DXd"
        ),
    )
}

/// The condition a neutropenia hold (grade 3 or 4, not febrile) waits for: an
/// absolute neutrophil count back to CTCAE grade ≤ 2 (≥ 1.0 ×10⁹/L). An ANC
/// measured at that level lifts these holds ([`super::Interruption::lifted_by_anc`]).
pub(super) const ANC_RECOVERED: &str = "neutrophils back to grade ≤ 2 (≥ 1.0 ×10⁹/L)";

/// CTCAE v5.0 "Neutrophil count decreased": grade 3 below 1.0 ×10⁹/L.
const ANC_GRADE_3_BELOW: f64 = 1.0;
/// CTCAE v5.0 "Neutrophil count decreased": grade 4 below 0.5 ×10⁹/L.
const ANC_GRADE_4_BELOW: f64 = 0.5;

/// The neutropenia rule fed by an absolute neutrophil count on T-DXd (×10⁹/L):
/// grade 3 (< 1.0) or grade 4 (< 0.5) interrupts as [`neutropenia_decision`] says;
/// a count ≥ 1.0 while a neutropenia hold waits for it ends the hold
/// (`hold_open`), at the level the hold said. Otherwise no decision.
pub fn anc_decision(anc: f64, hold_open: bool) -> Option<DoseDecision> {
    let values = format!("ANC {anc} ×10⁹/L");
    let grade = if anc < ANC_GRADE_4_BELOW {
        4
    } else if anc < ANC_GRADE_3_BELOW {
        3
    } else if hold_open {
        return Some(decision(
            Rule::TDXD_NEUTROPENIA,
            DoseAction::ResumeSameDose,
            format!("{values} (grade ≤ 2): the neutropenia hold ends as it said"),
        ));
    } else {
        return None;
    };
    let mut d = neutropenia_decision(grade, false).ok()?;
    d.reason = format!("{values}: {}", d.reason);
    Some(d)
}

/// Neutropenia (PROTOCOL §9): grade 3 → hold until ≤ grade 2, same dose;
/// grade 4 or febrile neutropenia → hold until resolved, then one level down;
/// grades 1–2 → continue.
pub fn neutropenia_decision(grade: u8, febrile: bool) -> Result<DoseDecision, Refusal> {
    check_grade(grade)?;
    Ok(if febrile {
        decision(
            Rule::TDXD_NEUTROPENIA,
            DoseAction::Interrupt {
                until: "febrile neutropenia resolved".into(),
                then: OnResolution::OneLevelDown,
            },
            format!(
                "Febrile neutropenia (neutropenia grade {grade}): interrupt until resolved, then one level down"
            ),
        )
    } else {
        match grade {
            1 | 2 => decision(
                Rule::TDXD_NEUTROPENIA,
                DoseAction::Continue,
                format!("Neutropenia grade {grade}: continue"),
            ),
            3 => decision(
                Rule::TDXD_NEUTROPENIA,
                DoseAction::Interrupt {
                    until: ANC_RECOVERED.into(),
                    then: OnResolution::SameDose,
                },
                "Neutropenia grade 3: interrupt until grade ≤ 2, then the same dose".into(),
            ),
            _ => decision(
                Rule::TDXD_NEUTROPENIA,
                DoseAction::Interrupt {
                    until: ANC_RECOVERED.into(),
                    then: OnResolution::OneLevelDown,
                },
                format!(
                    "Neutropenia grade {grade}: interrupt until grade ≤ 2, then one level down"
                ),
            ),
        }
    })
}
