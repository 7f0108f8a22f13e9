//! Waterfall plot of each participant's best % change in the sum of target-lesion
//! diameters: bars sorted from largest growth to deepest shrinkage, coloured by category,
//! with the RECIST 1.1 thresholds (§4.3.1: +20 % progression, −30 % partial response)
//! as dashed lines.

use super::axis::{self, nice_ticks};
use super::canvas::{Area, Canvas, TITLE_BAND};
use super::legend::{self, Item, Swatch};
use super::palette::{self, AXIS, MUTED};
use super::text::{num, truncate};
use super::{NO_PARTICIPANTS, dropped_note};

/// One participant's bar.
#[derive(Debug, Clone, PartialEq)]
pub struct WaterfallBar {
    /// Label under the bar (e.g. study id).
    pub label: String,
    /// Best % change from baseline.
    pub value: f64,
    /// Index into the chart's `categories`.
    pub category: usize,
}

const W: f64 = 720.0;
const H: f64 = 440.0;

/// Waterfall of best % change, bars sorted descending, coloured by category (names in
/// `categories`), dashed lines at +20 % and −30 % (RECIST PD/PR), y axis clamped to
/// [−100, max(+20, data)].
pub fn waterfall(id: &str, title: &str, bars: &[WaterfallBar], categories: &[&str]) -> String {
    let (mut kept, dropped) = super::finite_only(bars, |b| b.value.is_finite());
    // Descending, ties by label, so the order never depends on the input's.
    kept.sort_by(|a, b| {
        b.value
            .total_cmp(&a.value)
            .then_with(|| a.label.cmp(&b.label))
    });
    let items: Vec<Item> = categories
        .iter()
        .enumerate()
        .map(|(k, n)| Item {
            swatch: Swatch::Box(palette::colour(k)),
            label: n.to_string(),
        })
        .collect();
    let legend_h = legend::height(&items, 64.0, W - 12.0);
    let area = Area {
        left: 64.0,
        top: TITLE_BAND + legend_h + 16.0,
        right: W - 90.0,
        bottom: H - 64.0,
    };
    let desc = describe(&kept, categories, dropped);
    let mut cv = Canvas::new(id, W, H, title, &desc);
    legend::draw(&mut cv, &items, 64.0, TITLE_BAND + 8.0, W - 12.0);
    let hi = kept.iter().map(|b| b.value).fold(20.0, f64::max);
    let ticks = nice_ticks(-100.0, hi, 9);
    let ys = axis::y_scale(&ticks, &area);
    axis::draw_y(
        &mut cv,
        &area,
        &ys,
        &ticks,
        "Best change in sum of diameters (%)",
    );
    if kept.is_empty() {
        cv.empty_message(&area, NO_PARTICIPANTS);
        return cv.finish();
    }
    let slot = area.width() / kept.len() as f64;
    let bar_w = (slot * 0.8).min(28.0);
    let zero = ys.at(0.0);
    let label_size = slot.clamp(7.0, 11.0);
    for (i, b) in kept.iter().enumerate() {
        let x = area.left + slot * (i as f64 + 0.5);
        let colour = palette::colour(b.category);
        let cat = categories.get(b.category).copied().unwrap_or("other");
        let tip = format!("{}: {} % ({cat})", b.label, num(b.value, 1));
        cv.rect_titled(
            (x - bar_w / 2.0, zero),
            (bar_w, ys.at(b.value) - zero),
            colour,
            "",
            &tip,
        );
        cv.text_rotated(
            (x + label_size / 3.0, area.bottom + 6.0),
            -90.0,
            "end",
            label_size,
            &truncate(&b.label, 8),
        );
    }
    cv.line((area.left, zero), (area.right, zero), AXIS, 1.0, None);
    for (v, label) in [(20.0, "+20 % (PD)"), (-30.0, "−30 % (PR)")] {
        let y = ys.at(v);
        cv.line((area.left, y), (area.right, y), MUTED, 1.2, Some("6 4"));
        cv.text((area.right + 4.0, y + 4.0), "start", 11.0, MUTED, label);
    }
    cv.finish()
}

/// The text alternative: counts per category and how many passed each threshold.
fn describe(kept: &[WaterfallBar], categories: &[&str], dropped: usize) -> String {
    if kept.is_empty() {
        return format!("{NO_PARTICIPANTS}.{}", dropped_note(dropped));
    }
    let pr = kept.iter().filter(|b| b.value <= -30.0).count();
    let pd = kept.iter().filter(|b| b.value >= 20.0).count();
    let mut per = Vec::new();
    for (k, name) in categories.iter().enumerate() {
        let n = kept.iter().filter(|b| b.category == k).count();
        per.push(format!("{n} {name}"));
    }
    let best = kept.last().map_or(0.0, |b| b.value);
    let worst = kept.first().map_or(0.0, |b| b.value);
    let mut s = format!(
        "Best % change in sum of target-lesion diameters for {} participants ({}), from {} % to {} %. \
         {pr} at or below −30 % (partial response threshold), {pd} at or above +20 % (progression threshold).",
        kept.len(),
        per.join(", "),
        num(worst, 1),
        num(best, 1)
    );
    s.push_str(&dropped_note(dropped));
    s
}
