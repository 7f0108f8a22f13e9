//! Strip plot with a box per group: every value as a dot (jittered sideways so ties stay
//! visible), the box from the first to the third quartile with the median, whiskers to
//! the furthest values within 1.5 IQR of the box (Tukey), and an optional dashed
//! reference line such as the SUVmax threshold.

use super::axis::{self, nice_ticks};
use super::canvas::{Area, Canvas, TITLE_BAND};
use super::palette::{self, AXIS, MUTED, Shape};
use super::text::{CHAR_WIDTH_PX, num, truncate};
use super::{NO_PARTICIPANTS, dropped_note};

/// One group of the strip plot (e.g. HER2-zero, HER2-low).
#[derive(Debug, Clone, PartialEq)]
pub struct StripGroup {
    /// Label under the group's column.
    pub label: String,
    /// The group's values.
    pub points: Vec<StripPoint>,
}

/// One value of a strip plot.
#[derive(Debug, Clone, PartialEq)]
pub struct StripPoint {
    /// The value (e.g. SUVmax).
    pub value: f64,
    /// Tooltip label (e.g. the participant's study id).
    pub label: String,
    /// Drawn larger, in a contrasting colour and labelled (e.g. the participant shown).
    pub highlighted: bool,
}

const W: f64 = 640.0;
const H: f64 = 400.0;

/// Quantile of sorted values by linear interpolation (Hyndman & Fan type 7, R's default).
pub(crate) fn quantile(sorted: &[f64], p: f64) -> f64 {
    let h = (sorted.len() - 1) as f64 * p;
    let (lo, hi) = (h.floor() as usize, h.ceil() as usize);
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

/// Box statistics of one group: (q1, median, q3, whisker low, whisker high).
fn box_stats(sorted: &[f64]) -> (f64, f64, f64, f64, f64) {
    let (q1, med, q3) = (
        quantile(sorted, 0.25),
        quantile(sorted, 0.5),
        quantile(sorted, 0.75),
    );
    let iqr = q3 - q1;
    let lo = sorted
        .iter()
        .copied()
        .find(|v| *v >= q1 - 1.5 * iqr)
        .unwrap_or(q1);
    let hi = sorted
        .iter()
        .rev()
        .copied()
        .find(|v| *v <= q3 + 1.5 * iqr)
        .unwrap_or(q3);
    (q1, med, q3, lo, hi)
}

/// Sideways offset in [-0.5, 0.5) of the point at `index`: the van der Corput sequence
/// (the index's bits mirrored: 0, ½, ¼, ¾, …), which puts consecutive points far apart
/// even when the caller hands them in sorted by value, and is the same on every run.
pub(crate) fn jitter(index: usize) -> f64 {
    let (mut i, mut f, mut out) = (index, 0.5, 0.0);
    while i > 0 {
        if i & 1 == 1 {
            out += f;
        }
        i >>= 1;
        f /= 2.0;
    }
    out - 0.5
}

/// Strip plot with a box (median, quartiles, whiskers to 1.5 IQR) per group,
/// deterministic jitter (from the point's index, not random), an optional horizontal
/// reference line (e.g. the SUVmax-6 threshold).
pub fn strip_box(
    id: &str,
    title: &str,
    y_label: &str,
    groups: &[StripGroup],
    reference: Option<(f64, &str)>,
) -> String {
    let mut dropped = 0;
    let kept: Vec<(&StripGroup, Vec<&StripPoint>)> = groups
        .iter()
        .map(|g| {
            let pts: Vec<&StripPoint> = g.points.iter().filter(|p| p.value.is_finite()).collect();
            dropped += g.points.len() - pts.len();
            (g, pts)
        })
        .collect();
    let reference = reference.filter(|r| r.0.is_finite());
    let mut desc = describe(&kept, y_label, reference);
    desc.push_str(&dropped_note(dropped));
    let area = Area {
        left: 64.0,
        top: TITLE_BAND + 12.0,
        right: W - 96.0,
        bottom: H - 56.0,
    };
    let mut cv = Canvas::new(id, W, H, title, &desc);
    let all: Vec<f64> = kept
        .iter()
        .flat_map(|(_, p)| p.iter().map(|p| p.value))
        .collect();
    if all.is_empty() {
        cv.empty_message(&area, NO_PARTICIPANTS);
        return cv.finish();
    }
    let mut lo = all.iter().copied().fold(f64::INFINITY, f64::min);
    let mut hi = all.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if let Some((r, _)) = reference {
        lo = lo.min(r);
        hi = hi.max(r);
    }
    let ticks = nice_ticks(lo.min(0.0), hi, 8);
    let ys = axis::y_scale(&ticks, &area);
    axis::draw_y(&mut cv, &area, &ys, &ticks, y_label);
    axis::draw_baseline(&mut cv, &area);
    let col_w = area.width() / kept.len() as f64;
    for (k, (g, pts)) in kept.iter().enumerate() {
        let cx = area.left + col_w * (k as f64 + 0.5);
        draw_group(&mut cv, cx, col_w, &ys, pts);
        let max_chars = ((col_w - 6.0) / 7.0).max(3.0) as usize;
        cv.text(
            (cx, area.bottom + 17.0),
            "middle",
            12.0,
            AXIS,
            &truncate(&g.label, max_chars),
        );
        cv.text(
            (cx, area.bottom + 33.0),
            "middle",
            11.0,
            MUTED,
            &format!("n = {}", pts.len()),
        );
    }
    if let Some((r, label)) = reference {
        let y = ys.at(r);
        cv.line(
            (area.left, y),
            (area.right, y),
            palette::colour(1),
            1.5,
            Some("6 4"),
        );
        cv.text(
            (area.right + 4.0, y + 4.0),
            "start",
            11.0,
            palette::colour(1),
            &truncate(label, 13),
        );
    }
    cv.finish()
}

/// The box, whiskers and dots of one group centred on `cx`.
fn draw_group(cv: &mut Canvas, cx: f64, col_w: f64, ys: &axis::Scale, pts: &[&StripPoint]) {
    let box_w = (col_w * 0.5).min(90.0);
    if !pts.is_empty() {
        let mut sorted: Vec<f64> = pts.iter().map(|p| p.value).collect();
        sorted.sort_by(f64::total_cmp);
        let (q1, med, q3, wlo, whi) = box_stats(&sorted);
        let half = box_w / 2.0;
        cv.line((cx, ys.at(wlo)), (cx, ys.at(q1)), AXIS, 1.0, None);
        cv.line((cx, ys.at(q3)), (cx, ys.at(whi)), AXIS, 1.0, None);
        for w in [wlo, whi] {
            cv.line(
                (cx - half / 2.0, ys.at(w)),
                (cx + half / 2.0, ys.at(w)),
                AXIS,
                1.0,
                None,
            );
        }
        cv.rect(
            (cx - half, ys.at(q3)),
            (box_w, ys.at(q1) - ys.at(q3)),
            "none",
            &format!(" stroke=\"{AXIS}\" stroke-width=\"1\""),
        );
        cv.line(
            (cx - half, ys.at(med)),
            (cx + half, ys.at(med)),
            AXIS,
            2.5,
            None,
        );
    }
    let blue = palette::colour(0);
    let orange = palette::colour(1);
    // Plain dots first, highlighted ones on top where they cannot be hidden.
    for (i, p) in pts.iter().enumerate().filter(|(_, p)| !p.highlighted) {
        let x = cx + jitter(i) * box_w * 0.9;
        let tip = format!("{}: {}", p.label, num(p.value, 2));
        cv.marker(
            Shape::Circle,
            (x, ys.at(p.value)),
            3.5,
            blue,
            "#ffffff",
            Some(&tip),
        );
    }
    for (i, p) in pts.iter().enumerate().filter(|(_, p)| p.highlighted) {
        let (x, y) = (cx + jitter(i) * box_w * 0.9, ys.at(p.value));
        let tip = format!("{}: {}", p.label, num(p.value, 2));
        cv.marker(Shape::Diamond, (x, y), 6.0, orange, AXIS, Some(&tip));
        // The label sits right of the box, joined by a leader, so box lines never cross
        // it; it is cut to the gap before the next group's box.
        let lx = cx + box_w / 2.0 + 8.0;
        let room = ((col_w - box_w - 12.0) / (CHAR_WIDTH_PX * 11.0 / 12.0)).max(3.0) as usize;
        cv.line((x + 7.0, y), (lx - 2.0, y), MUTED, 0.8, None);
        cv.text(
            (lx, y + 4.0),
            "start",
            11.0,
            AXIS,
            &truncate(&p.label, room),
        );
    }
}

/// The text alternative: per group its size, median and quartiles.
fn describe(
    kept: &[(&StripGroup, Vec<&StripPoint>)],
    y_label: &str,
    reference: Option<(f64, &str)>,
) -> String {
    if kept.iter().all(|(_, p)| p.is_empty()) {
        return format!("{NO_PARTICIPANTS}.");
    }
    let parts: Vec<String> = kept
        .iter()
        .map(|(g, pts)| {
            if pts.is_empty() {
                return format!("{}: no values", g.label);
            }
            let mut v: Vec<f64> = pts.iter().map(|p| p.value).collect();
            v.sort_by(f64::total_cmp);
            let (q1, med, q3, _, _) = box_stats(&v);
            format!(
                "{}: n = {}, median {} (IQR {}–{})",
                g.label,
                v.len(),
                num(med, 1),
                num(q1, 1),
                num(q3, 1)
            )
        })
        .collect();
    let mut s = format!("{y_label} by group. {}.", parts.join("; "));
    if let Some((r, label)) = reference {
        s.push_str(&format!(" Reference line at {} ({label}).", num(r, 1)));
    }
    s
}
