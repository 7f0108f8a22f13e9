//! The study's pictures, written as SVG text by our own code (no drawing library).
//!
//! Every picture is a `String` holding one `<svg>` element that a page can inline or a
//! report can embed:
//!
//! - labelled for assistive technology: `role="img"` and `aria-labelledby` pointing at a
//!   `<title>` and a `<desc>` that says what is plotted and the key numbers; ids are
//!   derived from the caller's `id` so several pictures can share a page;
//! - self-contained: no script, no web font, no external reference, and presentation
//!   attributes rather than `style`, so a strict content security policy accepts it;
//! - byte-stable: coordinates have one decimal, jitter comes from a point's index, order
//!   comes from the input, so the same input gives the same bytes;
//! - readable without colour: the Okabe–Ito palette, and categories differing also by
//!   marker shape or dash; a legend;
//! - total: empty input draws an explanatory empty chart, non-finite values are left out
//!   and the text alternative says how many.
//!
//! | chart | function |
//! |---|---|
//! | strip plot with boxes and a threshold line | [`strip_box`] |
//! | ROC curves with an operating point | [`roc_curve`] |
//! | waterfall of best % change | [`waterfall`] |
//! | swimmer plot of time on treatment | [`swimmer`] |
//! | spider plot of % change over time | [`spider`] |
//! | Kaplan–Meier curves with numbers at risk | [`kaplan_meier`] |
//! | one participant's lesion heterogeneity | [`heterogeneity`] |
//! | horizontal stacked bars (adverse events by grade) | [`stacked_bars`] |
//!
//! The axis helpers [`nice_ticks`] and [`date_ticks`] are public for pages that draw
//! their own pictures.

mod axis;
mod bars;
mod canvas;
mod dates;
mod heterogeneity;
mod km;
mod legend;
mod palette;
mod roc;
mod spider;
mod strip;
mod swimmer;
mod text;
mod waterfall;

pub use axis::{Ticks, nice_ticks};
pub use bars::{BarGroup, stacked_bars};
pub use dates::{date_label_boxes, date_ticks};
pub use heterogeneity::{LesionDot, heterogeneity};
pub use km::{KmSeries, kaplan_meier};
pub use palette::OKABE_ITO;
pub use roc::{RocSeries, roc_curve};
pub use spider::{SpiderSeries, spider};
pub use strip::{StripGroup, StripPoint, strip_box};
pub use swimmer::{SwimmerLane, SwimmerMarkerKind, swimmer};
pub use text::CHAR_WIDTH_PX;
pub use waterfall::{WaterfallBar, waterfall};

/// The message an empty chart shows.
const NO_PARTICIPANTS: &str = "No participants yet";

/// Values of `it` that are finite, and how many were not.
fn finite_only<T: Clone>(it: &[T], ok: impl Fn(&T) -> bool) -> (Vec<T>, usize) {
    let kept: Vec<T> = it.iter().filter(|v| ok(v)).cloned().collect();
    let dropped = it.len() - kept.len();
    (kept, dropped)
}

/// The text-alternative note for values left out, or nothing when none were.
fn dropped_note(n: usize) -> String {
    if n == 0 {
        String::new()
    } else {
        format!(
            " {} not finite and not drawn.",
            text::plural(n, "value was", "values were")
        )
    }
}
