//! Numeric axes: the "nice" tick chooser (steps of 1, 2, 2.5 or 5 × 10^k, so a reader
//! can interpolate between ticks in their head), the linear map from data to px, and
//! the drawing of ticks, tick labels, grid lines and axis titles.

use super::canvas::{Area, Canvas};
use super::palette::{AXIS, GRID};
use super::text::num;

/// Tick positions of a numeric axis.
#[derive(Debug, Clone, PartialEq)]
pub struct Ticks {
    /// Tick values, increasing; the first is at or below the data, the last at or above.
    pub values: Vec<f64>,
    /// Distance between ticks.
    pub step: f64,
    /// Decimals that show every tick label exactly (1 for a step of 2.5, 0 for 5).
    pub decimals: usize,
}

impl Ticks {
    /// The axis's lower end (the first tick).
    pub fn lo(&self) -> f64 {
        self.values.first().copied().unwrap_or(0.0)
    }
    /// The axis's upper end (the last tick).
    pub fn hi(&self) -> f64 {
        self.values.last().copied().unwrap_or(1.0)
    }
    /// The label of tick value `v`.
    pub fn label(&self, v: f64) -> String {
        num(v, self.decimals)
    }
}

/// Ticks at nice values covering `[lo, hi]`, at most `max_ticks` of them (at least 2).
///
/// The smallest step of the form 1, 2, 2.5 or 5 × 10^k whose ticks still fit is chosen, so
/// the axis uses its length well. Swapped bounds are put in order; a zero-width range is
/// widened; non-finite bounds give the axis 0–1.
pub fn nice_ticks(lo: f64, hi: f64, max_ticks: usize) -> Ticks {
    let max_ticks = max_ticks.max(2);
    let (mut lo, mut hi) = if lo.is_finite() && hi.is_finite() {
        (lo.min(hi), lo.max(hi))
    } else {
        (0.0, 1.0)
    };
    if hi - lo <= f64::EPSILON * hi.abs().max(1.0) {
        let pad = if lo == 0.0 { 1.0 } else { lo.abs() * 0.1 };
        lo -= if lo == 0.0 { 0.0 } else { pad };
        hi += pad;
    }
    // Bounds so far apart that their distance overflows get the unit axis too.
    if !(hi - lo).is_finite() {
        (lo, hi) = (0.0, 1.0);
    }
    let span = hi - lo;
    let mut k = (span / max_ticks as f64).log10().floor() as i32 - 1;
    loop {
        for m in [1.0, 2.0, 2.5, 5.0] {
            let step = m * 10f64.powi(k);
            // A small tolerance so 0.3/0.1 counts as 3, not 3.0000000000000004.
            let i0 = (lo / step + 1e-9).floor();
            let i1 = (hi / step - 1e-9).ceil();
            if ((i1 - i0) as usize) < max_ticks {
                let decimals = (-k).max(0) as usize + usize::from(m == 2.5 && k <= 0);
                let values = (0..=(i1 - i0) as i64)
                    .map(|i| (i0 + i as f64) * step)
                    .collect();
                return Ticks {
                    values,
                    step,
                    decimals,
                };
            }
        }
        k += 1;
    }
}

/// A linear map from a data interval onto a px interval (which may run backwards, as y does).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Scale {
    pub d0: f64,
    pub d1: f64,
    pub r0: f64,
    pub r1: f64,
}

impl Scale {
    /// Maps `v`, clamped to the data interval so nothing is drawn outside the plot.
    pub(crate) fn at(&self, v: f64) -> f64 {
        let (a, b) = (self.d0.min(self.d1), self.d0.max(self.d1));
        let v = if v.is_finite() { v.clamp(a, b) } else { a };
        let span = self.d1 - self.d0;
        if span == 0.0 {
            return (self.r0 + self.r1) / 2.0;
        }
        self.r0 + (v - self.d0) / span * (self.r1 - self.r0)
    }
}

/// The horizontal scale of `ticks` over the area.
pub(crate) fn x_scale(ticks: &Ticks, area: &Area) -> Scale {
    Scale {
        d0: ticks.lo(),
        d1: ticks.hi(),
        r0: area.left,
        r1: area.right,
    }
}

/// The vertical scale of `ticks` over the area (up is larger).
pub(crate) fn y_scale(ticks: &Ticks, area: &Area) -> Scale {
    Scale {
        d0: ticks.lo(),
        d1: ticks.hi(),
        r0: area.bottom,
        r1: area.top,
    }
}

/// The left axis: grid lines across the plot, tick labels and the rotated title.
pub(crate) fn draw_y(cv: &mut Canvas, area: &Area, ys: &Scale, ticks: &Ticks, title: &str) {
    for &v in &ticks.values {
        let y = ys.at(v);
        cv.line((area.left, y), (area.right, y), GRID, 1.0, None);
        cv.line((area.left - 4.0, y), (area.left, y), AXIS, 1.0, None);
        cv.text(
            (area.left - 7.0, y + 4.0),
            "end",
            11.0,
            AXIS,
            &ticks.label(v),
        );
    }
    cv.line(
        (area.left, area.top),
        (area.left, area.bottom),
        AXIS,
        1.0,
        None,
    );
    cv.text_rotated((16.0, area.mid_y()), -90.0, "middle", 12.0, title);
}

/// The plot's bottom line (the x axis line without ticks).
pub(crate) fn draw_baseline(cv: &mut Canvas, area: &Area) {
    cv.line(
        (area.left, area.bottom),
        (area.right, area.bottom),
        AXIS,
        1.0,
        None,
    );
}

/// The bottom axis: tick marks, labels and the title under them.
pub(crate) fn draw_x(cv: &mut Canvas, area: &Area, xs: &Scale, ticks: &Ticks, title: &str) {
    for &v in &ticks.values {
        let x = xs.at(v);
        cv.line((x, area.bottom), (x, area.bottom + 4.0), AXIS, 1.0, None);
        cv.text(
            (x, area.bottom + 17.0),
            "middle",
            11.0,
            AXIS,
            &ticks.label(v),
        );
    }
    draw_baseline(cv, area);
    cv.text(
        (area.mid_x(), area.bottom + 36.0),
        "middle",
        12.0,
        AXIS,
        title,
    );
}

/// Vertical grid lines at the x ticks (for charts where reading x matters).
pub(crate) fn grid_x(cv: &mut Canvas, area: &Area, xs: &Scale, ticks: &Ticks) {
    for &v in &ticks.values {
        let x = xs.at(v);
        cv.line((x, area.top), (x, area.bottom), GRID, 1.0, None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_are_nice_and_cover() {
        let t = nice_ticks(0.0, 13.7, 8);
        assert_eq!(t.step, 2.0);
        assert_eq!(t.values, vec![0.0, 2.0, 4.0, 6.0, 8.0, 10.0, 12.0, 14.0]);
        let t = nice_ticks(-100.0, 20.0, 8);
        assert_eq!(t.step, 20.0);
        assert_eq!((t.lo(), t.hi()), (-100.0, 20.0));
        let t = nice_ticks(0.0, 1.0, 6);
        assert_eq!(t.step, 0.2);
        assert_eq!(t.label(t.values[3]), "0.6");
    }
}
