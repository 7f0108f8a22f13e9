//! The pregnancy test before a T-DXd dose when T-DXd is an IMP (PROTOCOL §6;
//! clinical-rules A12: `imp_products`). The tracer's own check, by the hour of the
//! injection, is in `imaging`.

use chrono::{Days, NaiveDate};

use super::Dc;
use crate::participant::current;
use crate::records::{Specimen, TestResult};
use crate::rule::{Refusal, Rule};
use crate::settings::ImpProduct;

/// The first local day whose serum test clears a T-DXd dose on `date`. A dose is recorded
/// by its day, not its hour, so only whole days surely inside the window count: with
/// 72 hours, a test from the dose day or the two days before (a test at 00:00 two days
/// before is at most 72 hours before any hour of the dose day).
fn first_day(date: NaiveDate, window_h: u32) -> NaiveDate {
    let days_back = (window_h / 24).max(1) - 1;
    date.checked_sub_days(Days::new(u64::from(days_back)))
        .unwrap_or(date)
}

/// When `imp_products` lists T-DXd, a woman of child-bearing potential needs a negative
/// serum pregnancy test within `pregnancy.test_max_hours_before_imp` before each dose
/// (`IMP_PREGNANCY`). Returns the evidence line of the test that clears the dose; `None`
/// when T-DXd is not an IMP or she is not of child-bearing potential.
pub(super) fn tdxd_clearance(ctx: &Dc, date: NaiveDate) -> Result<Option<String>, Refusal> {
    if !ctx.s.is_imp(ImpProduct::Tdxd) {
        return Ok(None);
    }
    let window_h = ctx.s.pregnancy.test_max_hours_before_imp;
    let childbearing = current(&ctx.p.childbearing)
        .max_by_key(|e| (e.value.assessed_on, e.recorded_at))
        .map(|e| e.value.childbearing_potential);
    match childbearing {
        Some(false) => return Ok(None),
        Some(true) => {}
        None => {
            return Err(Refusal::new(
                Rule::IMP_PREGNANCY,
                "T-DXd is an IMP (imp_products) and child-bearing potential is not recorded: the dose cannot be given before it is known.",
            ));
        }
    }
    let from = first_day(date, window_h);
    let in_window: Vec<_> = current(&ctx.p.pregnancy_tests)
        .filter(|e| e.value.specimen == Specimen::Serum)
        .filter(|e| (from..=date).contains(&ctx.day(e.value.sample_at)))
        .collect();
    if let Some(bad) = in_window
        .iter()
        .find(|e| e.value.result != TestResult::Negative)
    {
        return Err(Refusal::new(
            Rule::IMP_PREGNANCY,
            format!(
                "The serum pregnancy test {} taken {} is {}: T-DXd, an IMP here (imp_products), may not be given.",
                bad.entry_id,
                ctx.s.local_text(bad.value.sample_at),
                bad.value.result.label()
            ),
        ));
    }
    match in_window.iter().max_by_key(|e| e.value.sample_at) {
        Some(ok) => Ok(Some(format!(
            "Negative serum pregnancy test {} taken {}: T-DXd is an IMP (imp_products, {})",
            ok.entry_id,
            ctx.s.local_text(ok.value.sample_at),
            ctx.s.provenance()
        ))),
        None => Err(Refusal::new(
            Rule::IMP_PREGNANCY,
            format!(
                "T-DXd is an IMP here (imp_products): a woman of child-bearing potential needs a negative serum pregnancy test at most {window_h} hours before each dose; none from {from} to {date} is recorded.",
            ),
        )
        .with_hint(format!(
            "The dose is recorded by its day: record a negative serum test taken from {from} on (urine tests do not count)."
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_days_inside_the_window_count() {
        let d = |day| NaiveDate::from_ymd_opt(2026, 5, day).unwrap();
        assert_eq!(first_day(d(10), 72), d(8));
        assert_eq!(first_day(d(10), 24), d(10));
        assert_eq!(first_day(d(10), 12), d(10));
    }
}
