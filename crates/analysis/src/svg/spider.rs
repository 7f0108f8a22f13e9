//! Spider plot: each participant's % change in the sum of target-lesion diameters over
//! time, one line per participant from baseline (0 months, 0 %), coloured and dashed by
//! category, with the RECIST 1.1 thresholds (+20 %, −30 %) as reference lines.

use super::axis::{self, nice_ticks};
use super::canvas::{Area, Canvas, TITLE_BAND};
use super::legend::{self, Item, Swatch};
use super::palette::{self, AXIS, MUTED};
use super::text::num;
use super::{NO_PARTICIPANTS, dropped_note};

/// One participant's line.
#[derive(Debug, Clone, PartialEq)]
pub struct SpiderSeries {
    /// Tooltip label (e.g. study id).
    pub label: String,
    /// Index into the chart's `categories`.
    pub category: usize,
    /// (months since start, % change from baseline), in time order.
    pub points: Vec<(f64, f64)>,
}

const W: f64 = 640.0;
const H: f64 = 420.0;

/// Spider plot of % change in sum of diameters over time, one line per participant,
/// coloured by category, reference lines at +20 and −30.
pub fn spider(id: &str, title: &str, series: &[SpiderSeries], categories: &[&str]) -> String {
    let mut dropped = 0;
    let kept: Vec<(&SpiderSeries, Vec<(f64, f64)>)> = series
        .iter()
        .map(|s| {
            let mut pts: Vec<(f64, f64)> = s
                .points
                .iter()
                .copied()
                .filter(|p| p.0.is_finite() && p.1.is_finite())
                .collect();
            dropped += s.points.len() - pts.len();
            pts.sort_by(|a, b| a.0.total_cmp(&b.0));
            (s, pts)
        })
        .filter(|(_, p)| !p.is_empty())
        .collect();
    let items: Vec<Item> = categories
        .iter()
        .enumerate()
        .map(|(k, n)| Item {
            swatch: Swatch::Line(
                palette::colour(k),
                palette::dash(k),
                Some(palette::shape(k)),
            ),
            label: n.to_string(),
        })
        .collect();
    let legend_h = legend::height(&items, 64.0, W - 12.0);
    let area = Area {
        left: 64.0,
        top: TITLE_BAND + legend_h + 16.0,
        right: W - 96.0,
        bottom: H - 52.0,
    };
    let desc = describe(&kept, dropped);
    let mut cv = Canvas::new(id, W, H, title, &desc);
    legend::draw(&mut cv, &items, 64.0, TITLE_BAND + 8.0, W - 12.0);
    let all = kept.iter().flat_map(|(_, p)| p.iter().copied());
    let (mut t_hi, mut lo, mut hi) = (1.0f64, -30.0f64, 20.0f64);
    for (t, v) in all {
        t_hi = t_hi.max(t);
        lo = lo.min(v.max(-100.0));
        hi = hi.max(v);
    }
    let (xt, yt) = (nice_ticks(0.0, t_hi, 10), nice_ticks(lo, hi, 9));
    let (xs, ys) = (axis::x_scale(&xt, &area), axis::y_scale(&yt, &area));
    axis::draw_y(&mut cv, &area, &ys, &yt, "Change in sum of diameters (%)");
    axis::draw_x(
        &mut cv,
        &area,
        &xs,
        &xt,
        "Time since start of T-DXd (months)",
    );
    if kept.is_empty() {
        cv.empty_message(&area, NO_PARTICIPANTS);
        return cv.finish();
    }
    cv.line(
        (area.left, ys.at(0.0)),
        (area.right, ys.at(0.0)),
        AXIS,
        1.0,
        None,
    );
    for (v, label) in [(20.0, "+20 % (PD)"), (-30.0, "−30 % (PR)")] {
        let y = ys.at(v);
        cv.line((area.left, y), (area.right, y), MUTED, 1.2, Some("6 4"));
        cv.text((area.right + 4.0, y + 4.0), "start", 11.0, MUTED, label);
    }
    for (s, pts) in &kept {
        let colour = palette::colour(s.category);
        let px: Vec<(f64, f64)> = pts.iter().map(|&(t, v)| (xs.at(t), ys.at(v))).collect();
        cv.path(&px, colour, 1.8, palette::dash(s.category), Some(&s.label));
        for &(t, v) in pts {
            let tip = format!("{}: {} % at {} months", s.label, num(v, 1), num(t, 1));
            cv.marker(
                palette::shape(s.category),
                (xs.at(t), ys.at(v)),
                3.5,
                colour,
                colour,
                Some(&tip),
            );
        }
    }
    cv.finish()
}

/// The text alternative: participants, deepest and largest change.
fn describe(kept: &[(&SpiderSeries, Vec<(f64, f64)>)], dropped: usize) -> String {
    if kept.is_empty() {
        return format!("{NO_PARTICIPANTS}.{}", dropped_note(dropped));
    }
    let vals = kept.iter().flat_map(|(_, p)| p.iter().map(|q| q.1));
    let (lo, hi) = vals.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
        (a.min(v), b.max(v))
    });
    let below = kept
        .iter()
        .filter(|(_, p)| p.iter().any(|q| q.1 <= -30.0))
        .count();
    let above = kept
        .iter()
        .filter(|(_, p)| p.iter().any(|q| q.1 >= 20.0))
        .count();
    format!(
        "Change in sum of target-lesion diameters over time for {} participants, from {} % to {} %. \
         {below} reached −30 % or less, {above} reached +20 % or more.{}",
        kept.len(),
        num(lo, 1),
        num(hi, 1),
        dropped_note(dropped)
    )
}
