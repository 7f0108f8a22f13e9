//! The legend: swatches with their labels laid out in rows under the title, wrapping
//! before the picture's right edge. Layout is computed first so a chart knows how much
//! room the legend takes before it places its plot area.

use super::canvas::Canvas;
use super::palette::{AXIS, Shape};
use super::text::width;

/// What a legend entry shows beside its label.
#[derive(Debug, Clone)]
pub(crate) enum Swatch {
    /// A filled box (bars, stacks).
    Box(&'static str),
    /// A line sample with an optional dash and an optional marker on it.
    Line(&'static str, Option<&'static str>, Option<Shape>),
    /// A marker alone.
    Marker(Shape, &'static str, &'static str),
}

/// One legend entry.
#[derive(Debug, Clone)]
pub(crate) struct Item {
    pub swatch: Swatch,
    pub label: String,
}

const ROW: f64 = 18.0;
const SWATCH_W: f64 = 22.0;
const GAP: f64 = 16.0;

/// Positions (x, baseline y) of each item, and the total height, for a legend starting
/// at (x0, y0) that must end before `x_max`.
fn layout(items: &[Item], x0: f64, y0: f64, x_max: f64) -> (Vec<(f64, f64)>, f64) {
    let mut out = Vec::with_capacity(items.len());
    let (mut x, mut y) = (x0, y0);
    for it in items {
        let w = SWATCH_W + 4.0 + width(&it.label, 12.0);
        if x > x0 && x + w > x_max {
            x = x0;
            y += ROW;
        }
        out.push((x, y));
        x += w + GAP;
    }
    let h = if items.is_empty() { 0.0 } else { y - y0 + ROW };
    (out, h)
}

/// Height the legend will take.
pub(crate) fn height(items: &[Item], x0: f64, x_max: f64) -> f64 {
    layout(items, x0, 0.0, x_max).1
}

/// Draws the legend with its first row's centre line at `y0`; returns its height.
pub(crate) fn draw(cv: &mut Canvas, items: &[Item], x0: f64, y0: f64, x_max: f64) -> f64 {
    let (pos, h) = layout(items, x0, y0, x_max);
    for (it, &(x, y)) in items.iter().zip(&pos) {
        match &it.swatch {
            Swatch::Box(fill) => cv.rect((x, y - 6.0), (SWATCH_W, 12.0), fill, ""),
            Swatch::Line(stroke, dash, shape) => {
                cv.line((x, y), (x + SWATCH_W, y), stroke, 2.0, *dash);
                if let Some(sh) = shape {
                    cv.marker(*sh, (x + SWATCH_W / 2.0, y), 4.0, stroke, stroke, None);
                }
            }
            Swatch::Marker(sh, fill, stroke) => {
                cv.marker(*sh, (x + SWATCH_W / 2.0, y), 5.0, fill, stroke, None)
            }
        }
        cv.text(
            (x + SWATCH_W + 4.0, y + 4.0),
            "start",
            12.0,
            AXIS,
            &it.label,
        );
    }
    h
}
