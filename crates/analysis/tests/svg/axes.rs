//! The axis helpers: nice numeric ticks and non-overlapping date labels.

use analysis::svg::{CHAR_WIDTH_PX, date_label_boxes, date_ticks, nice_ticks};
use chrono::NaiveDate;

fn mantissa(step: f64) -> f64 {
    let m = step / 10f64.powf(step.log10().floor());
    (m * 1000.0).round() / 1000.0
}

#[test]
fn ticks_are_nice_and_cover_the_data() {
    let cases = [
        (0.0, 13.7, 8),
        (-100.0, 47.3, 9),
        (0.0, 1.0, 6),
        (2.31, 2.38, 5),
        (-0.004, 0.009, 7),
        (0.0, 123_456.0, 10),
        (17.0, 17.0, 5),
        (-3.0, -2.0, 4),
    ];
    for (lo, hi, max) in cases {
        let t = nice_ticks(lo, hi, max);
        assert!(
            [1.0, 2.0, 2.5, 5.0].contains(&mantissa(t.step)),
            "{lo}..{hi}: step {}",
            t.step
        );
        assert!(
            t.values.len() <= max && t.values.len() >= 2,
            "{lo}..{hi}: {:?}",
            t.values
        );
        assert!(
            t.lo() <= lo && t.hi() >= hi,
            "{lo}..{hi} not covered by {:?}",
            t.values
        );
        // Labels are distinct and exact: a reader never sees "2.3" twice.
        let labels: Vec<String> = t.values.iter().map(|v| t.label(*v)).collect();
        let mut dedup = labels.clone();
        dedup.dedup();
        assert_eq!(labels, dedup, "{lo}..{hi}");
    }
}

#[test]
fn ticks_for_the_studys_axes() {
    // SUVmax 0–13.7: 0, 2, …, 14.
    let t = nice_ticks(0.0, 13.7, 8);
    assert_eq!(t.values, vec![0.0, 2.0, 4.0, 6.0, 8.0, 10.0, 12.0, 14.0]);
    // Waterfall −100 to +47: steps of 20 from −100 to 60.
    let t = nice_ticks(-100.0, 47.3, 9);
    assert_eq!((t.step, t.lo(), t.hi()), (20.0, -100.0, 60.0));
    // 2.5 steps print with one decimal.
    let t = nice_ticks(0.0, 9.0, 5);
    assert_eq!(t.step, 2.5);
    assert_eq!(
        t.values.iter().map(|v| t.label(*v)).collect::<Vec<_>>(),
        ["0.0", "2.5", "5.0", "7.5", "10.0"]
    );
    // Nonsense bounds still give an axis.
    let t = nice_ticks(f64::NAN, 3.0, 6);
    assert_eq!((t.lo(), t.hi()), (0.0, 1.0));
    let t = nice_ticks(-f64::MAX, f64::MAX, 6);
    assert_eq!((t.lo(), t.hi()), (0.0, 1.0));
}

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

#[test]
fn date_labels_never_overlap() {
    let spans = [
        ("2026-03-05", "2026-03-08"),
        ("2026-03-05", "2026-05-05"),
        ("2025-11-20", "2027-11-20"),
    ];
    for (a, b) in spans {
        for width in [400.0, 800.0] {
            let ticks = date_ticks(d(a), d(b), width);
            let boxes = date_label_boxes(d(a), d(b), width);
            assert!(ticks.len() >= 2, "{a}..{b} at {width}: {ticks:?}");
            assert_eq!(ticks.len(), boxes.len());
            for w in boxes.windows(2) {
                assert!(
                    w[1].0 > w[0].1,
                    "{a}..{b} at {width}: labels overlap {boxes:?} {ticks:?}"
                );
            }
            for ((date, label), (l, r)) in ticks.iter().zip(&boxes) {
                assert!(*date >= d(a) && *date <= d(b));
                // A box is as wide as its label at ~7 px a character (11 px font).
                let expect = label.chars().count() as f64 * CHAR_WIDTH_PX * 11.0 / 12.0;
                assert!((r - l - expect).abs() < 1e-9);
            }
        }
    }
}

#[test]
fn date_steps_follow_the_span() {
    let labels = |a: &str, b: &str, w: f64| {
        date_ticks(d(a), d(b), w)
            .into_iter()
            .map(|t| t.1)
            .collect::<Vec<_>>()
    };
    // Three days: every day, the year on the first label only.
    assert_eq!(
        labels("2026-03-05", "2026-03-08", 400.0),
        ["5 Mar 2026", "6 Mar", "7 Mar", "8 Mar"]
    );
    // Two months at 400 px: Mondays, every other week.
    let two_months = date_ticks(d("2026-03-05"), d("2026-05-05"), 400.0);
    assert!(
        two_months
            .iter()
            .all(|t| t.0.format("%a").to_string() == "Mon"),
        "{two_months:?}"
    );
    // Two years: every other month on the wide axis, half-years on the narrow one.
    let wide = labels("2025-11-20", "2027-11-20", 800.0);
    assert_eq!(wide.len(), 12);
    assert_eq!(wide[..3], ["Jan 2026", "Mar 2026", "May 2026"]);
    let narrow = labels("2025-11-20", "2027-11-20", 400.0);
    assert_eq!(narrow, ["Jan 2026", "Jul 2026", "Jan 2027", "Jul 2027"]);
    // One day, or reversed bounds, still label.
    assert_eq!(labels("2026-03-05", "2026-03-05", 400.0), ["5 Mar 2026"]);
    assert_eq!(date_ticks(d("2026-03-08"), d("2026-03-05"), 400.0).len(), 4);
}
