//! One participant's whole-body heterogeneity: every lesion's SUVmax by anatomical site,
//! avid and non-avid lesions told apart by colour and shape, the biopsied lesion ringed
//! and labelled (is the biopsy representative of the disease?), and the avidity
//! threshold as a dashed line.

use super::axis::{self, nice_ticks};
use super::canvas::{Area, Canvas, TITLE_BAND};
use super::dropped_note;
use super::legend::{self, Item, Swatch};
use super::palette::{self, AXIS, Shape};
use super::strip::jitter;
use super::text::{num, truncate, width};

/// One lesion of the picture.
#[derive(Debug, Clone, PartialEq)]
pub struct LesionDot {
    /// Anatomical site (x category), e.g. "liver".
    pub site: String,
    /// SUVmax of the lesion (g/mL).
    pub suv_max: f64,
    /// The lesion the biopsy was taken from.
    pub biopsied: bool,
    /// Judged avid (above the threshold, or as read).
    pub avid: bool,
}

const W: f64 = 640.0;
const H: f64 = 400.0;

/// Whole-body heterogeneity of one participant: lesions as dots, SUVmax (y) by anatomical
/// site (x categories in first-seen order), avid vs not avid by colour+shape, the
/// biopsied lesion ringed and labelled, dashed threshold line.
pub fn heterogeneity(id: &str, title: &str, lesions: &[LesionDot], threshold: f64) -> String {
    let (kept, dropped) = super::finite_only(lesions, |l| l.suv_max.is_finite());
    let threshold = threshold.is_finite().then_some(threshold);
    let mut sites: Vec<&str> = Vec::new();
    for l in &kept {
        if !sites.contains(&l.site.as_str()) {
            sites.push(&l.site);
        }
    }
    let (avid, not_avid) = (palette::colour(1), palette::colour(0));
    let items = vec![
        Item {
            swatch: Swatch::Marker(Shape::Circle, avid, avid),
            label: "avid".into(),
        },
        Item {
            swatch: Swatch::Marker(Shape::Square, "#ffffff", not_avid),
            label: "not avid".into(),
        },
        Item {
            swatch: Swatch::Marker(Shape::Circle, "none", AXIS),
            label: "biopsied lesion".into(),
        },
    ];
    let legend_h = legend::height(&items, 64.0, W - 12.0);
    let col_w = (W - 64.0 - 110.0) / sites.len().max(1) as f64;
    let labels: Vec<String> = sites.iter().map(|s| truncate(s, 18)).collect();
    let rotate = labels.iter().any(|l| width(l, 11.0) > col_w - 6.0);
    let bottom_room = if rotate {
        40.0 + labels.iter().map(|l| width(l, 11.0)).fold(0.0, f64::max) * 0.6
    } else {
        56.0
    };
    let area = Area {
        left: 64.0,
        top: TITLE_BAND + legend_h + 16.0,
        right: W - 110.0,
        bottom: H - bottom_room,
    };
    let desc = describe(&kept, &sites, threshold, dropped);
    let mut cv = Canvas::new(id, W, H, title, &desc);
    legend::draw(&mut cv, &items, 64.0, TITLE_BAND + 8.0, W - 12.0);
    let hi = kept
        .iter()
        .map(|l| l.suv_max)
        .chain(threshold)
        .fold(1.0, f64::max);
    let ticks = nice_ticks(0.0, hi, 8);
    let ys = axis::y_scale(&ticks, &area);
    axis::draw_y(&mut cv, &area, &ys, &ticks, "SUVmax (g/mL)");
    axis::draw_baseline(&mut cv, &area);
    if kept.is_empty() {
        cv.empty_message(&area, "No lesions recorded yet");
        return cv.finish();
    }
    for (k, site) in sites.iter().enumerate() {
        let cx = area.left + col_w * (k as f64 + 0.5);
        if rotate {
            cv.text_rotated(
                (cx + 4.0, area.bottom + 14.0),
                -35.0,
                "end",
                11.0,
                &labels[k],
            );
        } else {
            cv.text((cx, area.bottom + 17.0), "middle", 11.0, AXIS, &labels[k]);
        }
        let here = kept.iter().filter(|l| l.site == *site);
        for (i, l) in here.enumerate() {
            let x = cx + jitter(i) * (col_w * 0.5).min(60.0);
            draw_lesion(&mut cv, (x, ys.at(l.suv_max)), l);
        }
    }
    if let Some(t) = threshold {
        let y = ys.at(t);
        cv.line((area.left, y), (area.right, y), AXIS, 1.2, Some("6 4"));
        cv.text(
            (area.right + 4.0, y + 4.0),
            "start",
            11.0,
            AXIS,
            &format!("threshold {}", num(t, 1)),
        );
    }
    cv.finish()
}

/// One lesion: avid as a filled vermillion circle, not avid as an open blue square, the
/// biopsied one ringed and labelled.
fn draw_lesion(cv: &mut Canvas, (x, y): (f64, f64), l: &LesionDot) {
    let (avid, not_avid) = (palette::colour(1), palette::colour(0));
    let tip = format!(
        "{}: SUVmax {}{}",
        l.site,
        num(l.suv_max, 1),
        if l.biopsied { ", biopsied" } else { "" }
    );
    if l.avid {
        cv.marker(Shape::Circle, (x, y), 5.0, avid, avid, Some(&tip));
    } else {
        cv.marker(Shape::Square, (x, y), 5.0, "#ffffff", not_avid, Some(&tip));
    }
    if l.biopsied {
        cv.marker(Shape::Circle, (x, y), 10.0, "none", AXIS, None);
        cv.text((x + 13.0, y - 8.0), "start", 11.0, AXIS, "biopsy");
    }
}

/// The text alternative: lesion counts, avidity, the biopsied lesion's standing.
fn describe(kept: &[LesionDot], sites: &[&str], threshold: Option<f64>, dropped: usize) -> String {
    if kept.is_empty() {
        return format!("No lesions recorded yet.{}", dropped_note(dropped));
    }
    let avid = kept.iter().filter(|l| l.avid).count();
    let (lo, hi) = kept
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), l| {
            (a.min(l.suv_max), b.max(l.suv_max))
        });
    let mut s = format!(
        "SUVmax of {} lesions at {} sites ({}): {avid} avid, {} not avid; SUVmax {} to {} g/mL.",
        kept.len(),
        sites.len(),
        sites.join(", "),
        kept.len() - avid,
        num(lo, 1),
        num(hi, 1)
    );
    if let Some(t) = threshold {
        s.push_str(&format!(" Threshold {}.", num(t, 1)));
    }
    match kept.iter().find(|l| l.biopsied) {
        Some(b) => {
            let rank = kept.iter().filter(|l| l.suv_max > b.suv_max).count() + 1;
            s.push_str(&format!(
                " Biopsied lesion: {}, SUVmax {} (rank {rank} of {}).",
                b.site,
                num(b.suv_max, 1),
                kept.len()
            ));
        }
        None => s.push_str(" No biopsied lesion marked."),
    }
    s.push_str(&dropped_note(dropped));
    s
}
