//! ROC curves: each series' (1 − specificity, sensitivity) points joined in order (a
//! vertical or horizontal step per case, a diagonal where cases tie, as in the empirical
//! ROC), the dashed chance diagonal, and an optional marked operating point.

use super::axis::{self, nice_ticks};
use super::canvas::{Area, Canvas, TITLE_BAND};
use super::legend::{self, Item, Swatch};
use super::palette::{self, AXIS, GRID};
use super::text::num;
use super::{NO_PARTICIPANTS, dropped_note};

/// One ROC curve.
#[derive(Debug, Clone, PartialEq)]
pub struct RocSeries {
    /// Legend label (e.g. "SUVmax, AUC 0.87").
    pub label: String,
    /// (1 − specificity, sensitivity) points from (0, 0) to (1, 1).
    pub points: Vec<(f64, f64)>,
}

const W: f64 = 520.0;
const SIDE: f64 = 380.0;

/// ROC curves (steps), diagonal chance line, an optional marked operating point (fpr,
/// tpr, label) e.g. "SUVmax 6".
pub fn roc_curve(
    id: &str,
    title: &str,
    series: &[RocSeries],
    marker: Option<(f64, f64, &str)>,
) -> String {
    let ok = |p: &(f64, f64)| p.0.is_finite() && p.1.is_finite();
    let mut dropped = 0;
    let kept: Vec<(&str, Vec<(f64, f64)>)> = series
        .iter()
        .map(|s| {
            let pts: Vec<(f64, f64)> = s
                .points
                .iter()
                .filter(|p| ok(p))
                .map(|&(x, y)| (x.clamp(0.0, 1.0), y.clamp(0.0, 1.0)))
                .collect();
            dropped += s.points.len() - pts.len();
            (s.label.as_str(), pts)
        })
        .filter(|(_, p)| !p.is_empty())
        .collect();
    let marker = marker.filter(|m| m.0.is_finite() && m.1.is_finite());
    let items: Vec<Item> = kept
        .iter()
        .enumerate()
        .map(|(k, (label, _))| Item {
            swatch: Swatch::Line(palette::colour(k), palette::dash(k), None),
            label: label.to_string(),
        })
        .collect();
    let legend_h = legend::height(&items, 64.0, W - 12.0);
    let top = TITLE_BAND + legend_h + 12.0;
    let area = Area {
        left: 64.0,
        top,
        right: 64.0 + SIDE,
        bottom: top + SIDE,
    };
    let h = area.bottom + 52.0;
    let desc = describe(&kept, marker, dropped);
    let mut cv = Canvas::new(id, W, h, title, &desc);
    legend::draw(&mut cv, &items, 64.0, TITLE_BAND + 8.0, W - 12.0);
    let ticks = nice_ticks(0.0, 1.0, 6);
    let (xs, ys) = (axis::x_scale(&ticks, &area), axis::y_scale(&ticks, &area));
    axis::grid_x(&mut cv, &area, &xs, &ticks);
    axis::draw_y(
        &mut cv,
        &area,
        &ys,
        &ticks,
        "Sensitivity (true-positive rate)",
    );
    axis::draw_x(
        &mut cv,
        &area,
        &xs,
        &ticks,
        "1 − specificity (false-positive rate)",
    );
    cv.line(
        (area.right, area.top),
        (area.right, area.bottom),
        GRID,
        1.0,
        None,
    );
    if kept.is_empty() {
        cv.empty_message(&area, NO_PARTICIPANTS);
        return cv.finish();
    }
    cv.line(
        (xs.at(0.0), ys.at(0.0)),
        (xs.at(1.0), ys.at(1.0)),
        "#999999",
        1.0,
        Some("4 4"),
    );
    for (k, (_, pts)) in kept.iter().enumerate() {
        let px: Vec<(f64, f64)> = pts.iter().map(|&(x, y)| (xs.at(x), ys.at(y))).collect();
        cv.path(&px, palette::colour(k), 2.0, palette::dash(k), None);
    }
    if let Some(m) = marker {
        draw_marker(&mut cv, &area, (xs.at(m.0), ys.at(m.1)), m);
    }
    cv.finish()
}

/// The operating point: a ringed dot with its label placed off the curves.
fn draw_marker(
    cv: &mut Canvas,
    area: &Area,
    (x, y): (f64, f64),
    (fpr, tpr, label): (f64, f64, &str),
) {
    let tip = format!(
        "{label}: sensitivity {}, 1 − specificity {}",
        num(tpr, 2),
        num(fpr, 2)
    );
    cv.marker(
        palette::Shape::Circle,
        (x, y),
        6.0,
        "#ffffff",
        AXIS,
        Some(&tip),
    );
    cv.marker(palette::Shape::Circle, (x, y), 2.5, AXIS, AXIS, None);
    // Above and to the left of the point lies the region outside the curve, where
    // nothing else is drawn; near the top or the left edge, below and to the right.
    let w = super::text::width(label, 12.0);
    if y - 24.0 > area.top && x - 10.0 - w > area.left {
        cv.text((x - 10.0, y - 10.0), "end", 12.0, AXIS, label);
    } else {
        cv.text((x + 10.0, y + 18.0), "start", 12.0, AXIS, label);
    }
}

/// The text alternative: each curve's size and the operating point.
fn describe(
    kept: &[(&str, Vec<(f64, f64)>)],
    marker: Option<(f64, f64, &str)>,
    dropped: usize,
) -> String {
    if kept.is_empty() {
        return format!("{NO_PARTICIPANTS}.{}", dropped_note(dropped));
    }
    let names: Vec<String> = kept
        .iter()
        .map(|(l, p)| format!("{l} ({} points)", p.len()))
        .collect();
    let mut s = format!(
        "ROC curves, sensitivity against 1 − specificity: {}.",
        names.join("; ")
    );
    if let Some((fpr, tpr, label)) = marker {
        s.push_str(&format!(
            " Marked: {label}, sensitivity {} and specificity {}.",
            num(tpr, 2),
            num(1.0 - fpr, 2)
        ));
    }
    s.push_str(&dropped_note(dropped));
    s
}
