//! Horizontal stacked bars: one bar per group (e.g. an adverse-event term), split into
//! stacks (e.g. worst CTCAE grade 1–5) in palette order, the total at the bar's end.

use super::NO_PARTICIPANTS;
use super::axis::{self, nice_ticks};
use super::canvas::{Area, Canvas, TITLE_BAND};
use super::legend::{self, Item, Swatch};
use super::palette::{self, AXIS};
use super::text::{truncate, width};

/// One bar.
#[derive(Debug, Clone, PartialEq)]
pub struct BarGroup {
    /// Label at the left of the bar.
    pub label: String,
    /// Count of each stack, in the order of the chart's `stack_labels`.
    pub values: Vec<u64>,
}

const W: f64 = 680.0;
const ROW: f64 = 22.0;

/// Colour of stack `k`: grades rise from sky blue through orange to black (Okabe–Ito),
/// so severity reads as growing darkness/warmth.
fn stack_colour(k: usize) -> &'static str {
    const ORDER: [usize; 8] = [2, 5, 1, 6, 0, 3, 7, 4];
    palette::OKABE_ITO[ORDER[k % ORDER.len()]]
}

/// Horizontal stacked bars (e.g. adverse events by term, stacked by worst CTCAE grade
/// 1–5), with a legend of `stack_labels`.
pub fn stacked_bars(
    id: &str,
    title: &str,
    x_label: &str,
    groups: &[BarGroup],
    stack_labels: &[&str],
) -> String {
    let items: Vec<Item> = stack_labels
        .iter()
        .enumerate()
        .map(|(k, n)| Item {
            swatch: Swatch::Box(stack_colour(k)),
            label: n.to_string(),
        })
        .collect();
    let label_w = groups
        .iter()
        .map(|g| width(&truncate(&g.label, 28), 11.0))
        .fold(40.0, f64::max);
    let legend_h = legend::height(&items, 12.0, W - 12.0);
    let top = TITLE_BAND + legend_h + 14.0;
    let rows = groups.len().max(3) as f64;
    let area = Area {
        left: label_w + 20.0,
        top,
        right: W - 40.0,
        bottom: top + rows * ROW,
    };
    let h = area.bottom + 50.0;
    let total = |g: &BarGroup| g.values.iter().sum::<u64>();
    let desc = describe(groups, stack_labels);
    let mut cv = Canvas::new(id, W, h, title, &desc);
    legend::draw(&mut cv, &items, 12.0, TITLE_BAND + 8.0, W - 12.0);
    let hi = groups.iter().map(total).max().unwrap_or(0).max(1);
    let ticks = nice_ticks(0.0, hi as f64, 8);
    // Counts are whole: a step below 1 would print fractions of a participant.
    let ticks = if ticks.step < 1.0 {
        nice_ticks(0.0, hi.max(2) as f64, hi.max(2) as usize + 1)
    } else {
        ticks
    };
    let xs = axis::x_scale(&ticks, &area);
    axis::grid_x(&mut cv, &area, &xs, &ticks);
    axis::draw_x(&mut cv, &area, &xs, &ticks, x_label);
    cv.line(
        (area.left, area.top),
        (area.left, area.bottom),
        AXIS,
        1.0,
        None,
    );
    if groups.is_empty() {
        cv.empty_message(&area, NO_PARTICIPANTS);
        return cv.finish();
    }
    for (i, g) in groups.iter().enumerate() {
        let y = area.top + ROW * (i as f64 + 0.5);
        cv.text(
            (area.left - 6.0, y + 4.0),
            "end",
            11.0,
            AXIS,
            &truncate(&g.label, 28),
        );
        let mut acc = 0u64;
        for (k, &v) in g.values.iter().enumerate().filter(|(_, v)| **v > 0) {
            let (x0, x1) = (xs.at(acc as f64), xs.at((acc + v) as f64));
            let name = stack_labels.get(k).copied().unwrap_or("other");
            let tip = format!("{}, {name}: {v}", g.label);
            cv.rect_titled(
                (x0, y - 7.0),
                (x1 - x0, 14.0),
                stack_colour(k),
                " stroke=\"#ffffff\" stroke-width=\"0.5\"",
                &tip,
            );
            acc += v;
        }
        cv.text(
            (xs.at(acc as f64) + 4.0, y + 4.0),
            "start",
            11.0,
            AXIS,
            &acc.to_string(),
        );
    }
    cv.finish()
}

/// The text alternative: every bar's total and split.
fn describe(groups: &[BarGroup], stack_labels: &[&str]) -> String {
    if groups.is_empty() {
        return format!("{NO_PARTICIPANTS}.");
    }
    let parts: Vec<String> = groups
        .iter()
        .map(|g| {
            let split: Vec<String> = g
                .values
                .iter()
                .enumerate()
                .filter(|(_, v)| **v > 0)
                .map(|(k, v)| format!("{v} {}", stack_labels.get(k).copied().unwrap_or("other")))
                .collect();
            let total: u64 = g.values.iter().sum();
            if split.is_empty() {
                format!("{}: 0", g.label)
            } else {
                format!("{}: {total} ({})", g.label, split.join(", "))
            }
        })
        .collect();
    format!("{}.", parts.join("; "))
}
