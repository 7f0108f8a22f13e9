//! The Okabe–Ito palette (Okabe & Ito 2008, "Color Universal Design"), distinguishable
//! with the common colour-vision deficiencies, and the marker shapes and dash patterns
//! that tell categories apart without colour.

/// The eight Okabe–Ito colours in their published order.
pub const OKABE_ITO: [&str; 8] = [
    "#000000", "#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7",
];

/// The order categories take colours in: the strongest contrasts on white first, the
/// yellow (hard to see on white) last.
const CATEGORY_ORDER: [usize; 8] = [5, 6, 3, 7, 1, 2, 0, 4];

/// Colour of category `k` (repeats after eight).
pub(crate) fn colour(k: usize) -> &'static str {
    OKABE_ITO[CATEGORY_ORDER[k % CATEGORY_ORDER.len()]]
}

/// Neutral colours for frames, grids and text.
pub(crate) const AXIS: &str = "#333333";
/// Grid lines: light enough not to compete with data.
pub(crate) const GRID: &str = "#e3e3e3";
/// Secondary text (notes, reference-line labels).
pub(crate) const MUTED: &str = "#555555";

/// A marker shape; category `k` takes shape `k` so print in grey still tells them apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shape {
    Circle,
    Square,
    TriangleUp,
    Diamond,
    TriangleDown,
    Cross,
    /// An arrowhead pointing right (ongoing treatment); not in the category cycle.
    TriangleRight,
}

/// Shape of category `k` (repeats after six).
pub(crate) fn shape(k: usize) -> Shape {
    const ALL: [Shape; 6] = [
        Shape::Circle,
        Shape::Square,
        Shape::TriangleUp,
        Shape::Diamond,
        Shape::TriangleDown,
        Shape::Cross,
    ];
    ALL[k % ALL.len()]
}

/// Dash pattern of category `k`: solid first, then distinct dashes.
pub(crate) fn dash(k: usize) -> Option<&'static str> {
    const ALL: [Option<&str>; 4] = [None, Some("6 3"), Some("2 2"), Some("8 3 2 3")];
    ALL[k % ALL.len()]
}
