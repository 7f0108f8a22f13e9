//! T-DXd in arm 1 (PROTOCOL §9): each administration checked against the course, the
//! first one against its visit window, and the LVEF dose decisions taken from labs
//! sampled on T-DXd. The rules live in [`crate::journey::tdxd`].

use super::schedule::window_deviation;
use super::{Dc, text};
use crate::command::RecordTdxdAdministration;
use crate::event::Event;
use crate::journey::schedule::VisitKind;
use crate::journey::tdxd::{
    Administration, DatedDecision, DoseAction, lvef_band, lvef_decision, lvef_repeat_decision,
};
use crate::journey::trial::{AllocationRecord, TdxdRecord};
use crate::labs::{Analyte, LabResult};
use crate::participant::{Arm, current};
use crate::rule::{Refusal, Rule};

/// Records a T-DXd administration (arm 1 only), checked against the course; the
/// first one is checked against the C1D1 window.
pub(super) fn tdxd(ctx: &Dc, c: &RecordTdxdAdministration) -> Result<Vec<Event>, Refusal> {
    ctx.not_future_date("date", c.date)?;
    let arm = ctx.p.allocation.as_ref().and_then(AllocationRecord::arm);
    if arm != Some(Arm::Arm1) {
        return Err(Refusal::new(
            Rule::STATE_TRANSITION,
            "T-DXd is given in arm 1 only.",
        ));
    }
    let administration = Administration {
        date: c.date,
        weight_kg: c.weight_kg,
        dose_level: c.dose_level,
        dose_mg: c.dose_mg,
        reduction_reason: text(&c.reduction_reason),
        delay_reason: text(&c.delay_reason),
    };
    let check = ctx.p.tdxd.check(&administration, ctx.s)?;
    let first = ctx.p.tdxd.administrations.is_empty();
    let deviation = if first {
        window_deviation(ctx, VisitKind::C1d1, c.date, None)?
    } else {
        None
    };
    let mut events = vec![Event::TdxdAdministered {
        record: TdxdRecord {
            administration,
            check,
        },
        settings_version: ctx.s.version,
    }];
    events.extend(deviation);
    Ok(events)
}

/// PROTOCOL §9 / T-DXd label: an LVEF measured on T-DXd is compared with the last LVEF
/// before cycle 1 day 1; the dose decision (continue, interrupt, discontinue) is recorded
/// and applied to the course. A repeat LVEF after an LVEF interruption decides how T-DXd
/// resumes. Without a baseline LVEF nothing is decided.
pub(super) fn lvef_on_tdxd(ctx: &Dc, lab: &LabResult) -> Result<Option<Event>, Refusal> {
    let course = &ctx.p.tdxd;
    let Some(c1d1) = course.administrations.first().map(|a| a.date) else {
        return Ok(None);
    };
    if lab.analyte != Analyte::Lvef
        || course.discontinued.is_some()
        || lab.sample_at.date_naive() < c1d1
    {
        return Ok(None);
    }
    let lvefs: Vec<&LabResult> = current(&ctx.p.labs)
        .map(|e| &e.value)
        .filter(|l| l.analyte == Analyte::Lvef)
        .collect();
    let Some(baseline) = lvefs
        .iter()
        .filter(|l| l.sample_at.date_naive() < c1d1)
        .max_by_key(|l| l.sample_at)
    else {
        return Ok(None);
    };
    let open = course
        .interruptions
        .iter()
        .any(|i| i.rule == Rule::TDXD_LVEF);
    let decision = match lvefs
        .iter()
        .filter(|l| l.sample_at.date_naive() >= c1d1 && l.sample_at < lab.sample_at)
        .max_by_key(|l| l.sample_at)
    {
        Some(first) if open => {
            let band = lvef_band(baseline.canonical_value, first.canonical_value, false);
            lvef_repeat_decision(band, baseline.canonical_value, lab.canonical_value, false)
        }
        _ => lvef_decision(baseline.canonical_value, lab.canonical_value, false, ctx.s),
    };
    if decision.action == DoseAction::Continue && !open {
        return Ok(None);
    }
    Ok(Some(Event::TdxdDecisionRecorded {
        decision: DatedDecision {
            on: lab.sample_at.date_naive(),
            decision,
        },
        source: format!(
            "LVEF {} % sampled {}",
            lab.canonical_value,
            lab.sample_at.format("%Y-%m-%d")
        ),
        settings_version: ctx.s.version,
    }))
}
