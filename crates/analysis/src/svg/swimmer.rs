//! Swimmer plot: one horizontal bar per participant for the time on T-DXd, longest at
//! the top, coloured by category, with the events of each participant's course as
//! black-and-white markers (so they read on any bar colour) and an arrow for treatment
//! still ongoing at the data cut-off.

use super::axis::{self, nice_ticks};
use super::canvas::{Area, Canvas, TITLE_BAND};
use super::legend::{self, Item, Swatch};
use super::palette::{self, AXIS, Shape};
use super::text::{num, truncate, width};
use super::{NO_PARTICIPANTS, dropped_note};

/// An event on a swimmer lane.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SwimmerMarkerKind {
    /// First documented response (CR or PR).
    Response,
    /// Progressive disease.
    Progression,
    /// Death.
    Death,
    /// Follow-up censored (e.g. lost to follow-up, withdrawn).
    Censored,
}

impl SwimmerMarkerKind {
    const ALL: [SwimmerMarkerKind; 4] = [
        Self::Response,
        Self::Progression,
        Self::Death,
        Self::Censored,
    ];

    fn name(self) -> &'static str {
        match self {
            Self::Response => "response",
            Self::Progression => "progression",
            Self::Death => "death",
            Self::Censored => "censored",
        }
    }

    /// Shape, fill and stroke: distinct shapes, black or white, to read on any bar.
    fn look(self) -> (Shape, &'static str, &'static str) {
        match self {
            Self::Response => (Shape::TriangleUp, "#ffffff", "#000000"),
            Self::Progression => (Shape::Square, "#000000", "#ffffff"),
            Self::Death => (Shape::Cross, "#000000", "#ffffff"),
            Self::Censored => (Shape::Circle, "#ffffff", "#000000"),
        }
    }
}

/// One participant's lane.
#[derive(Debug, Clone, PartialEq)]
pub struct SwimmerLane {
    /// Label at the left of the lane (e.g. study id).
    pub label: String,
    /// Months on treatment (end of the bar).
    pub end: f64,
    /// Treatment ongoing at the cut-off: an arrow after the bar.
    pub ongoing: bool,
    /// Index into the chart's `categories` (bar colour).
    pub category: usize,
    /// Events on the lane, (months, kind).
    pub markers: Vec<(f64, SwimmerMarkerKind)>,
}

const W: f64 = 720.0;
const LANE: f64 = 18.0;

/// Swimmer plot: one horizontal bar per participant (time on T-DXd), sorted by length,
/// markers for response, progression, death; arrow when ongoing.
pub fn swimmer(id: &str, title: &str, lanes: &[SwimmerLane], categories: &[&str]) -> String {
    let (mut kept, mut dropped) = super::finite_only(lanes, |l| l.end.is_finite());
    for l in &mut kept {
        let before = l.markers.len();
        l.markers.retain(|m| m.0.is_finite());
        dropped += before - l.markers.len();
        l.end = l.end.max(0.0);
    }
    kept.sort_by(|a, b| b.end.total_cmp(&a.end).then_with(|| a.label.cmp(&b.label)));
    let items = legend_items(categories);
    let label_w = kept
        .iter()
        .map(|l| width(&truncate(&l.label, 14), 11.0))
        .fold(40.0, f64::max);
    let legend_h = legend::height(&items, 12.0, W - 12.0);
    let top = TITLE_BAND + legend_h + 14.0;
    let rows = kept.len().max(4) as f64;
    let area = Area {
        left: label_w + 20.0,
        top,
        right: W - 30.0,
        bottom: top + rows * LANE,
    };
    let h = area.bottom + 50.0;
    let desc = describe(&kept, categories, dropped);
    let mut cv = Canvas::new(id, W, h, title, &desc);
    legend::draw(&mut cv, &items, 12.0, TITLE_BAND + 8.0, W - 12.0);
    let hi = kept
        .iter()
        .flat_map(|l| l.markers.iter().map(|m| m.0).chain([l.end]))
        .fold(1.0, f64::max);
    let ticks = nice_ticks(0.0, hi, 10);
    let xs = axis::x_scale(&ticks, &area);
    axis::grid_x(&mut cv, &area, &xs, &ticks);
    axis::draw_x(
        &mut cv,
        &area,
        &xs,
        &ticks,
        "Time since start of T-DXd (months)",
    );
    cv.line(
        (area.left, area.top),
        (area.left, area.bottom),
        AXIS,
        1.0,
        None,
    );
    if kept.is_empty() {
        cv.empty_message(&area, NO_PARTICIPANTS);
        return cv.finish();
    }
    for (i, l) in kept.iter().enumerate() {
        draw_lane(&mut cv, &area, &xs, i, l, categories);
    }
    cv.finish()
}

/// The legend: categories as bar colours, then the marker kinds and the arrow.
fn legend_items(categories: &[&str]) -> Vec<Item> {
    let mut items: Vec<Item> = categories
        .iter()
        .enumerate()
        .map(|(k, n)| Item {
            swatch: Swatch::Box(palette::colour(k)),
            label: n.to_string(),
        })
        .collect();
    for kind in SwimmerMarkerKind::ALL {
        let (sh, fill, stroke) = kind.look();
        items.push(Item {
            swatch: Swatch::Marker(sh, fill, stroke),
            label: kind.name().into(),
        });
    }
    items.push(Item {
        swatch: Swatch::Marker(Shape::TriangleRight, AXIS, AXIS),
        label: "ongoing".into(),
    });
    items
}

/// Lane `i`: the bar, its label, the arrow when ongoing, the event markers.
fn draw_lane(
    cv: &mut Canvas,
    area: &Area,
    xs: &axis::Scale,
    i: usize,
    l: &SwimmerLane,
    categories: &[&str],
) {
    let y = area.top + LANE * (i as f64 + 0.5);
    let cat = categories.get(l.category).copied().unwrap_or("other");
    let tip = format!(
        "{}: {} months ({cat}){}",
        l.label,
        num(l.end, 1),
        if l.ongoing { ", ongoing" } else { "" }
    );
    cv.rect_titled(
        (area.left, y - 5.0),
        (xs.at(l.end) - area.left, 10.0),
        palette::colour(l.category),
        "",
        &tip,
    );
    cv.text(
        (area.left - 6.0, y + 4.0),
        "end",
        11.0,
        AXIS,
        &truncate(&l.label, 14),
    );
    if l.ongoing {
        cv.marker(
            Shape::TriangleRight,
            (xs.at(l.end) + 7.0, y),
            5.0,
            AXIS,
            AXIS,
            Some("ongoing"),
        );
    }
    for &(t, kind) in &l.markers {
        let (sh, fill, stroke) = kind.look();
        let tip = format!("{} at {} months", kind.name(), num(t, 1));
        cv.marker(sh, (xs.at(t), y), 4.5, fill, stroke, Some(&tip));
    }
}

/// The text alternative: lanes, median time on treatment, events.
fn describe(kept: &[SwimmerLane], categories: &[&str], dropped: usize) -> String {
    if kept.is_empty() {
        return format!("{NO_PARTICIPANTS}.{}", dropped_note(dropped));
    }
    let mut ends: Vec<f64> = kept.iter().map(|l| l.end).collect();
    ends.sort_by(f64::total_cmp);
    let median = super::strip::quantile(&ends, 0.5);
    let ongoing = kept.iter().filter(|l| l.ongoing).count();
    let count = |k: SwimmerMarkerKind| {
        kept.iter()
            .flat_map(|l| &l.markers)
            .filter(|m| m.1 == k)
            .count()
    };
    let per: Vec<String> = categories
        .iter()
        .enumerate()
        .map(|(k, n)| format!("{} {n}", kept.iter().filter(|l| l.category == k).count()))
        .collect();
    format!(
        "Time on T-DXd for {} participants ({}): median {} months, longest {} months, {ongoing} ongoing. \
         Events: {} responses, {} progressions, {} deaths, {} censored.{}",
        kept.len(),
        per.join(", "),
        num(median, 1),
        num(ends[ends.len() - 1], 1),
        count(SwimmerMarkerKind::Response),
        count(SwimmerMarkerKind::Progression),
        count(SwimmerMarkerKind::Death),
        count(SwimmerMarkerKind::Censored),
        dropped_note(dropped)
    )
}
