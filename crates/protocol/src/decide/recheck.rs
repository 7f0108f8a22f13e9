//! Corrections after enrolment (PROTOCOL §12, issue 10 point 3): a corrected or
//! retracted entry can change what was true when the investigator signed the
//! enrolment. The eligibility is evaluated again as of the enrolment, with the corrected
//! facts; if she no longer qualifies (or her eligibility is no longer documented), a
//! major `ELIGIBILITY` deviation is recorded with the criteria concerned, for the
//! investigator and the monitor. The correction itself is always kept: the record says
//! what is true, the deviation says what it means.

use super::Dc;
use crate::command::Command;
use crate::eligibility::{Overall, evaluate_eligibility};
use crate::event::Event;
use crate::evolve::evolve;
use crate::records::{Deviation, DeviationSeverity};
use crate::rule::Rule;

/// The deviation a correction or retraction raises, if any.
pub(super) fn eligibility_after_correction(
    ctx: &Dc,
    cmd: &Command,
    events: &[Event],
) -> Option<Event> {
    let enrolment = ctx.p.enrolment.as_ref()?;
    let entry = match cmd {
        Command::RetractEntry(r) => r.entry_id.clone(),
        other => other.corrects()?.to_owned(),
    };
    let at = enrolment.enrolled_at;
    let before = evaluate_eligibility(ctx.p, at, ctx.s);
    let mut after_p = ctx.p.clone();
    for e in events {
        evolve(&mut after_p, e);
    }
    let after = evaluate_eligibility(&after_p, at, ctx.s);
    if after.overall == Overall::Eligible || after.overall == before.overall {
        return None;
    }
    let ids = |rules: Vec<Rule>| rules.iter().map(|r| r.id()).collect::<Vec<_>>().join(", ");
    let what = match after.overall {
        Overall::NotEligible => format!(
            "she did not meet the eligibility criteria when enrolled ({}): not satisfied {}",
            ctx.s.local_text(at),
            ids(after.failed())
        ),
        _ => format!(
            "her eligibility at enrolment ({}) is no longer documented: missing {}",
            ctx.s.local_text(at),
            ids(after.missing())
        ),
    };
    Some(Event::DeviationRecorded {
        deviation: Deviation {
            deviation_id: format!("dev-{}", ctx.p.deviations.len() + 1),
            severity: DeviationSeverity::Major,
            rule: Rule::ELIGIBILITY,
            description: format!(
                "With entry {entry} corrected, {what}. The investigator decides with the \
                 sponsor whether she continues."
            ),
            occurred_at: at,
            entry_id: Some(entry),
        },
        recorded_at: ctx.now,
        settings_version: ctx.s.version,
    })
}
