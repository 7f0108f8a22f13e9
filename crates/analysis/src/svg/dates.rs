//! The calendar axis: which dates to label and how, so labels never overlap.
//!
//! Candidate steps run from daily to decennial; the first (finest) step whose labels,
//! at their estimated widths (~7 px per character), leave a gap between neighbours on
//! the given plot width is taken. Ticks sit on calendar boundaries a reader expects:
//! Mondays for weeks, the first of the month for months, January/April/July/October for
//! quarters, 1 January for years.

use chrono::{Datelike, Months, NaiveDate};

use super::text::width;

/// Smallest clear space between two neighbouring labels, in px.
const LABEL_GAP: f64 = 8.0;

/// Font size of date labels, px.
const FONT: f64 = 11.0;

/// A spacing of calendar ticks.
#[derive(Debug, Clone, Copy)]
enum Step {
    Days(u32),
    Months(u32),
}

const STEPS: [Step; 12] = [
    Step::Days(1),
    Step::Days(2),
    Step::Days(7),
    Step::Days(14),
    Step::Months(1),
    Step::Months(2),
    Step::Months(3),
    Step::Months(6),
    Step::Months(12),
    Step::Months(24),
    Step::Months(60),
    Step::Months(120),
];

/// The dates of `step` from `first` to `last`, aligned to calendar boundaries.
fn dates(step: Step, first: NaiveDate, last: NaiveDate) -> Vec<NaiveDate> {
    let mut d = match step {
        Step::Days(n) if n % 7 == 0 => {
            let back = first.weekday().num_days_from_monday();
            let monday = first - chrono::Days::new(u64::from(back));
            if back == 0 {
                monday
            } else {
                monday + chrono::Days::new(7)
            }
        }
        Step::Days(_) => first,
        Step::Months(n) => {
            let mut m = first.with_day(1).unwrap_or(first);
            if m < first {
                m = m.checked_add_months(Months::new(1)).unwrap_or(m);
            }
            // Align to months counted from January of year 0, so quarters start in January.
            while (m.year() as i64 * 12 + i64::from(m.month0())) % i64::from(n) != 0 {
                m = match m.checked_add_months(Months::new(1)) {
                    Some(next) => next,
                    None => return Vec::new(),
                };
            }
            m
        }
    };
    let mut out = Vec::new();
    while d <= last {
        out.push(d);
        let next = match step {
            Step::Days(n) => d.checked_add_days(chrono::Days::new(u64::from(n))),
            Step::Months(n) => d.checked_add_months(Months::new(n)),
        };
        match next {
            Some(n) => d = n,
            None => break,
        }
    }
    out
}

/// The label of each date under `step`. Day and week labels name the year only on the
/// first label and where the year changes, to stay short but unambiguous.
fn labels(step: Step, ds: &[NaiveDate]) -> Vec<String> {
    let mut prev_year = None;
    ds.iter()
        .map(|d| {
            let s = match step {
                Step::Days(_) if prev_year == Some(d.year()) => d.format("%-d %b").to_string(),
                Step::Days(_) => d.format("%-d %b %Y").to_string(),
                Step::Months(n) if n >= 12 => d.format("%Y").to_string(),
                Step::Months(_) => d.format("%b %Y").to_string(),
            };
            prev_year = Some(d.year());
            s
        })
        .collect()
}

/// Offset in px of `d` on an axis from `first` to `last` that is `width_px` long.
fn offset(d: NaiveDate, first: NaiveDate, last: NaiveDate, width_px: f64) -> f64 {
    let span = (last - first).num_days();
    if span <= 0 {
        return width_px / 2.0;
    }
    (d - first).num_days() as f64 / span as f64 * width_px
}

/// Whether labels centred on their dates leave `LABEL_GAP` between neighbours.
fn fits(ticks: &[(NaiveDate, String)], first: NaiveDate, last: NaiveDate, width_px: f64) -> bool {
    let boxes = boxes(ticks, first, last, width_px);
    boxes.windows(2).all(|w| w[1].0 - w[0].1 >= LABEL_GAP)
}

fn boxes(
    ticks: &[(NaiveDate, String)],
    first: NaiveDate,
    last: NaiveDate,
    width_px: f64,
) -> Vec<(f64, f64)> {
    ticks
        .iter()
        .map(|(d, s)| {
            let x = offset(*d, first, last, width_px);
            let half = width(s, FONT) / 2.0;
            (x - half, x + half)
        })
        .collect()
}

/// Labelled ticks for a date axis from `first` to `last` drawn `width_px` wide: the finest
/// calendar step whose labels do not overlap. Each date lies in `[first, last]`; it sits
/// at `(date − first) / (last − first) × width_px` from the axis's left end. Bounds given
/// in the wrong order are swapped; a single day gets one label.
pub fn date_ticks(first: NaiveDate, last: NaiveDate, width_px: f64) -> Vec<(NaiveDate, String)> {
    let (first, last) = (first.min(last), first.max(last));
    let width_px = if width_px.is_finite() {
        width_px.max(0.0)
    } else {
        0.0
    };
    if first == last {
        return vec![(first, first.format("%-d %b %Y").to_string())];
    }
    for step in STEPS {
        let ds = dates(step, first, last);
        if ds.is_empty() {
            continue;
        }
        let ticks: Vec<(NaiveDate, String)> = ds.iter().copied().zip(labels(step, &ds)).collect();
        if fits(&ticks, first, last, width_px) && ticks.len() >= 2 {
            return ticks;
        }
    }
    // Nothing finer fits (a very narrow axis): the first date alone.
    vec![(first, first.format("%-d %b %Y").to_string())]
}

/// The estimated label boxes (left, right px from the axis's left end) of
/// [`date_ticks`]`(first, last, width_px)`, as the axis places them: for checking that
/// labels stay apart, and for a page that needs the room its labels take.
pub fn date_label_boxes(first: NaiveDate, last: NaiveDate, width_px: f64) -> Vec<(f64, f64)> {
    let (lo, hi) = (first.min(last), first.max(last));
    boxes(&date_ticks(first, last, width_px), lo, hi, width_px)
}
