//! Visit windows (PROTOCOL §7, §9, §11) applied to recorded facts: a fact outside its
//! window is kept, with a deviation event. The windows live in
//! [`crate::journey::schedule`].

use chrono::NaiveDate;

use super::Dc;
use crate::event::Event;
use crate::journey::schedule::{VisitKind, check_visit};
use crate::journey::trial::anchors;
use crate::rule::Refusal;

/// The deviation event for a fact outside its visit window, if it is.
pub(super) fn window_deviation(
    ctx: &Dc,
    kind: VisitKind,
    date: NaiveDate,
    entry_id: Option<String>,
) -> Result<Option<Event>, Refusal> {
    let a = anchors(ctx.p, ctx.s);
    let timing = check_visit(kind, date, &a, ctx.s)?;
    Ok(timing.deviation.map(|d| Event::DeviationRecorded {
        deviation: d.to_deviation(
            format!("dev-{}", ctx.p.deviations.len() + 1),
            date.and_hms_opt(12, 0, 0).map_or(ctx.now, |t| t.and_utc()),
            entry_id,
        ),
        recorded_at: ctx.now,
        settings_version: ctx.s.version,
    }))
}
