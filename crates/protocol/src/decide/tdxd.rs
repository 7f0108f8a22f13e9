//! T-DXd in arm 1 (PROTOCOL §9): each administration checked against the course, the
//! first one against its visit window, and the LVEF and ANC dose decisions taken from
//! labs sampled on T-DXd. The rules live in [`crate::journey::tdxd`].

use chrono::NaiveDate;

use super::schedule::window_deviation;
use super::{Dc, text};
use crate::command::RecordTdxdAdministration;
use crate::event::Event;
use crate::journey::schedule::VisitKind;
use crate::journey::tdxd::{
    Administration, DatedDecision, DecisionSource, DoseAction, DoseDecision, anc_decision,
    lvef_band, lvef_decision, lvef_repeat_decision,
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
    let mut check = ctx.p.tdxd.check(&administration, ctx.s)?;
    if let Some(test) = super::pregnancy::tdxd_clearance(ctx, c.date)? {
        check.evidence.push(test);
    }
    let first = ctx.p.tdxd.administrations.is_empty();
    let deviation = if first {
        window_deviation(ctx, VisitKind::C1d1, c.date, None)?
    } else {
        None
    };
    let allocated_on = ctx
        .p
        .allocation
        .as_ref()
        .map(|a| super::chronology::allocation_date(ctx, a));
    let order = match allocated_on {
        Some(on) if first => super::chronology::Order {
            what: "T-DXd cycle 1 day 1",
            when: c.date.to_string(),
            at: ctx.s.site_time_zone.start_of(c.date),
            after: "the allocation to arm 1",
            after_when: on.to_string(),
            broken: c.date < on,
            late_entry_of_fact: c.late_entry_of_fact,
            entry_id: None,
        }
        .check(ctx)?,
        _ => None,
    };
    let mut events = vec![Event::TdxdAdministered {
        record: TdxdRecord {
            administration,
            check,
        },
        settings_version: ctx.s.version,
    }];
    events.extend(deviation);
    events.extend(order);
    Ok(events)
}

/// PROTOCOL §9 / T-DXd label: a measurement on T-DXd feeds its dose rule, and the
/// decision is recorded with its lab entry and applied to the course (the name
/// stays for the lab command that calls it; it handles the ANC too).
///
/// - LVEF: compared with the baseline, the last LVEF sampled on or before cycle 1
///   day 1 (a sample on the C1D1 date is taken before the infusion); a repeat after
///   an LVEF interruption decides how T-DXd resumes; a finding that asks for a repeat
///   (40–45 % with a drop < 10 points: continue, repeat within 3 weeks) is recorded
///   with its due date, and the next LVEF answers it. Without a baseline nothing is decided.
/// - ANC: grade 3 / grade 4 interrupts as the neutropenia rule says; a count back to
///   grade ≤ 2 ends the neutropenia holds waiting for it.
///
/// Samples on or before C1D1, and after a discontinuation, decide nothing.
pub(super) fn lvef_on_tdxd(ctx: &Dc, lab: &LabResult) -> Result<Option<Event>, Refusal> {
    let course = &ctx.p.tdxd;
    let Some(c1d1) = course.administrations.first().map(|a| a.date) else {
        return Ok(None);
    };
    if course.discontinued.is_some() || ctx.day(lab.sample_at) <= c1d1 {
        return Ok(None);
    }
    let decision = match lab.analyte {
        Analyte::Lvef => lvef_rule(ctx, lab, c1d1),
        Analyte::Anc => {
            let hold_open = course.interruptions.iter().any(|i| i.lifted_by_anc());
            anc_decision(lab.canonical_value, hold_open)
        }
        _ => None,
    };
    let Some(decision) = decision else {
        return Ok(None);
    };
    // The lab entry this command records (the id `Dc::entry` gives it), so that a
    // correction or retraction of the sample takes its decision back.
    let entry_id = format!("lab-{}", ctx.p.count_prefix("lab") + 1);
    Ok(Some(Event::TdxdDecisionRecorded {
        decision: DatedDecision::new(
            ctx.day(lab.sample_at),
            decision,
            Some(DecisionSource::Lab { entry_id }),
            ctx.s,
        ),
        source: format!(
            "{} {} {} sampled {}",
            lab.analyte.label(),
            lab.canonical_value,
            lab.canonical_unit,
            ctx.day(lab.sample_at)
        ),
        settings_version: ctx.s.version,
    }))
}

/// The LVEF rule for an LVEF sampled after C1D1; `None` when it decides nothing
/// (a continue with no interruption or repeat open and no repeat asked for).
fn lvef_rule(ctx: &Dc, lab: &LabResult, c1d1: NaiveDate) -> Option<DoseDecision> {
    let course = &ctx.p.tdxd;
    let lvefs: Vec<&LabResult> = current(&ctx.p.labs)
        .map(|e| &e.value)
        .filter(|l| l.analyte == Analyte::Lvef)
        .collect();
    let baseline = lvefs
        .iter()
        .filter(|l| ctx.day(l.sample_at) <= c1d1)
        .max_by_key(|l| l.sample_at)?;
    let open = course
        .interruptions
        .iter()
        .any(|i| i.rule == Rule::TDXD_LVEF);
    let decision = match lvefs
        .iter()
        .filter(|l| ctx.day(l.sample_at) > c1d1 && l.sample_at < lab.sample_at)
        .max_by_key(|l| l.sample_at)
    {
        Some(first) if open => {
            let band = lvef_band(baseline.canonical_value, first.canonical_value, false);
            lvef_repeat_decision(band, baseline.canonical_value, lab.canonical_value, false)
        }
        _ => lvef_decision(baseline.canonical_value, lab.canonical_value, false, ctx.s),
    };
    let decides = decision.action != DoseAction::Continue
        || decision.repeat_lvef_within_days.is_some()
        || open
        || course.lvef_repeat.is_some();
    decides.then_some(decision)
}
