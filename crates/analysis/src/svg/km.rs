//! Kaplan–Meier curves: survival as steps over shaded confidence bands, censoring ticks,
//! and the "Number at risk" table under the plot at each time tick, one row per series
//! in its colour (the layout of most oncology reports, e.g. CONSORT/ICH E3 figures).

use std::fmt::Write as _;

use super::axis::{self, Scale, nice_ticks};
use super::canvas::{Area, Canvas, TITLE_BAND, polygon};
use super::legend::{self, Item, Swatch};
use super::palette::{self, AXIS};
use super::text::{c, num, truncate, width};
use super::{NO_PARTICIPANTS, dropped_note};

/// One Kaplan–Meier curve.
#[derive(Debug, Clone, PartialEq)]
pub struct KmSeries {
    /// Legend and risk-table label (e.g. "HER2-low").
    pub label: String,
    /// (time, survival, lower, upper) at each step, first at time 0.
    pub steps: Vec<(f64, f64, f64, f64)>,
    /// (time, survival) of each censored participant: tick marks.
    pub censored: Vec<(f64, f64)>,
    /// Each participant's end of follow-up (event or censoring), for the numbers at risk.
    pub exits: Vec<f64>,
}

const W: f64 = 680.0;
const RISK_ROW: f64 = 16.0;

/// A series made drawable: steps with finite time and survival, bands clamped to 0–1.
struct Clean<'a> {
    label: &'a str,
    steps: Vec<(f64, f64, f64, f64)>,
    censored: Vec<(f64, f64)>,
    exits: Vec<f64>,
    end: f64,
}

fn clean<'a>(s: &'a KmSeries, dropped: &mut usize) -> Clean<'a> {
    let mut steps = Vec::with_capacity(s.steps.len());
    for &(t, sv, lo, hi) in &s.steps {
        if !(t.is_finite() && sv.is_finite()) {
            *dropped += 1;
            continue;
        }
        let sv = sv.clamp(0.0, 1.0);
        // A missing bound collapses the band onto the curve there rather than inventing one.
        *dropped += usize::from(!lo.is_finite()) + usize::from(!hi.is_finite());
        let lo = if lo.is_finite() {
            lo.clamp(0.0, sv)
        } else {
            sv
        };
        let hi = if hi.is_finite() {
            hi.clamp(sv, 1.0)
        } else {
            sv
        };
        steps.push((t.max(0.0), sv, lo, hi));
    }
    steps.sort_by(|a, b| a.0.total_cmp(&b.0));
    let censored: Vec<(f64, f64)> = s
        .censored
        .iter()
        .copied()
        .filter(|p| p.0.is_finite() && p.1.is_finite())
        .collect();
    let exits: Vec<f64> = s.exits.iter().copied().filter(|t| t.is_finite()).collect();
    *dropped += s.censored.len() - censored.len() + s.exits.len() - exits.len();
    let end = steps
        .iter()
        .map(|p| p.0)
        .chain(censored.iter().map(|p| p.0))
        .chain(exits.iter().copied())
        .fold(0.0, f64::max);
    Clean {
        label: &s.label,
        steps,
        censored,
        exits,
        end,
    }
}

/// Kaplan–Meier curves as steps with shaded confidence bands (fill-opacity), censoring
/// ticks, y 0–1 "Progression-free survival", x in months, and a "Number at risk" table
/// under the plot at each x tick (count of exits ≥ tick), one row per series in its colour.
pub fn kaplan_meier(id: &str, title: &str, x_label: &str, series: &[KmSeries]) -> String {
    let mut dropped = 0;
    let kept: Vec<Clean> = series
        .iter()
        .map(|s| clean(s, &mut dropped))
        .filter(|s| !s.steps.is_empty())
        .collect();
    let items: Vec<Item> = kept
        .iter()
        .enumerate()
        .map(|(k, s)| Item {
            swatch: Swatch::Line(palette::colour(k), palette::dash(k), None),
            label: s.label.to_string(),
        })
        .collect();
    let label_w = kept
        .iter()
        .map(|s| width(&truncate(s.label, 16), 11.0))
        .fold(0.0, f64::max);
    // Room for the risk table's labels, clear of the counts centred on the first tick.
    let left = (label_w + 34.0).max(64.0);
    let legend_h = legend::height(&items, left, W - 12.0);
    let top = TITLE_BAND + legend_h + 14.0;
    let area = Area {
        left,
        top,
        right: W - 30.0,
        bottom: top + 280.0,
    };
    let h = area.bottom + 76.0 + RISK_ROW * kept.len() as f64;
    let desc = describe(&kept, dropped);
    let mut cv = Canvas::new(id, W, h, title, &desc);
    legend::draw(&mut cv, &items, left, TITLE_BAND + 8.0, W - 12.0);
    let yt = nice_ticks(0.0, 1.0, 6);
    let xt = nice_ticks(0.0, kept.iter().map(|s| s.end).fold(1.0, f64::max), 10);
    let (xs, ys) = (axis::x_scale(&xt, &area), axis::y_scale(&yt, &area));
    axis::draw_y(&mut cv, &area, &ys, &yt, "Progression-free survival");
    axis::draw_x(&mut cv, &area, &xs, &xt, x_label);
    if kept.is_empty() {
        cv.empty_message(&area, NO_PARTICIPANTS);
        return cv.finish();
    }
    for (k, s) in kept.iter().enumerate() {
        draw_series(&mut cv, k, s, &xs, &ys);
    }
    risk_table(&mut cv, &area, &xs, &xt.values, &kept);
    cv.finish()
}

/// One curve: band, steps, censoring ticks.
fn draw_series(cv: &mut Canvas, k: usize, s: &Clean, xs: &Scale, ys: &Scale) {
    let colour = palette::colour(k);
    let (mut upper, mut lower) = (Vec::new(), Vec::new());
    let mut d = String::new();
    for (i, &(t, sv, lo, hi)) in s.steps.iter().enumerate() {
        let next = s.steps.get(i + 1).map_or(s.end, |n| n.0);
        upper.extend([(xs.at(t), ys.at(hi)), (xs.at(next), ys.at(hi))]);
        lower.extend([(xs.at(t), ys.at(lo)), (xs.at(next), ys.at(lo))]);
        if i == 0 {
            let _ = write!(d, "M{},{}", c(xs.at(t)), c(ys.at(sv)));
        } else {
            let _ = write!(d, " V{}", c(ys.at(sv)));
        }
        let _ = write!(d, " H{}", c(xs.at(next)));
    }
    lower.reverse();
    upper.extend(lower);
    let _ = write!(
        cv.raw(),
        "{} fill=\"{colour}\" fill-opacity=\"0.15\" stroke=\"none\"/>",
        polygon(&upper)
    );
    let out = cv.raw();
    let _ = write!(
        out,
        "<path d=\"{d}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\""
    );
    if let Some(dash) = palette::dash(k) {
        let _ = write!(out, " stroke-dasharray=\"{dash}\"");
    }
    out.push_str("/>");
    for &(t, sv) in &s.censored {
        let (x, y) = (xs.at(t), ys.at(sv));
        cv.line((x, y - 5.0), (x, y + 5.0), colour, 1.5, None);
    }
}

/// "Number at risk": participants still followed (exit ≥ tick) at each x tick.
fn risk_table(cv: &mut Canvas, area: &Area, xs: &Scale, ticks: &[f64], kept: &[Clean]) {
    let y0 = area.bottom + 58.0;
    cv.text((12.0, y0), "start", 12.0, AXIS, "Number at risk");
    for (k, s) in kept.iter().enumerate() {
        let y = y0 + RISK_ROW * (k as f64 + 1.0);
        let colour = palette::colour(k);
        cv.text(
            (area.left - 22.0, y),
            "end",
            11.0,
            colour,
            &truncate(s.label, 16),
        );
        for &t in ticks {
            let n = s.exits.iter().filter(|e| **e >= t).count();
            cv.text((xs.at(t), y), "middle", 11.0, colour, &n.to_string());
        }
    }
}

/// The text alternative: each curve's size, events and median.
fn describe(kept: &[Clean], dropped: usize) -> String {
    if kept.is_empty() {
        return format!("{NO_PARTICIPANTS}.{}", dropped_note(dropped));
    }
    let parts: Vec<String> = kept
        .iter()
        .map(|s| {
            let median = s
                .steps
                .iter()
                .find(|p| p.1 <= 0.5)
                .map_or("median not reached".to_string(), |p| {
                    format!("median {} months", num(p.0, 1))
                });
            let last = s.steps.last().map_or(1.0, |p| p.1);
            format!(
                "{}: {} participants, {median}, {} at {} months",
                s.label,
                s.exits.len(),
                num(last, 2),
                num(s.end, 1)
            )
        })
        .collect();
    format!(
        "Kaplan–Meier estimates with 95 % confidence bands. {}.{}",
        parts.join("; "),
        dropped_note(dropped)
    )
}
