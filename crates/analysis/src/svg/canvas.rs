//! The SVG document every picture is written into: the root element with its text
//! alternative, the visible title, and the few primitives (lines, text, markers) the
//! charts share. Presentation attributes only, no `style`, so a page under a strict
//! content security policy can inline the picture.

use std::fmt::Write as _;

use super::palette::{AXIS, MUTED, Shape};
use super::text::{c, clean_id, esc};

/// Height of the band at the top that holds the visible title.
pub(crate) const TITLE_BAND: f64 = 28.0;

/// The plot area in px: where data are drawn, inside the margins.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Area {
    pub left: f64,
    pub top: f64,
    pub right: f64,
    pub bottom: f64,
}

impl Area {
    pub(crate) fn width(&self) -> f64 {
        self.right - self.left
    }
    pub(crate) fn height(&self) -> f64 {
        self.bottom - self.top
    }
    pub(crate) fn mid_x(&self) -> f64 {
        (self.left + self.right) / 2.0
    }
    pub(crate) fn mid_y(&self) -> f64 {
        (self.top + self.bottom) / 2.0
    }
}

/// An SVG document being written.
pub(crate) struct Canvas {
    s: String,
}

impl Canvas {
    /// Opens the document: root element labelled by its title and description, a white
    /// background and the title drawn at the top left.
    pub(crate) fn new(id: &str, w: f64, h: f64, title: &str, desc: &str) -> Self {
        let id = clean_id(id);
        let (w, h) = (w.round(), h.round());
        let mut s = String::with_capacity(16 * 1024);
        let _ = write!(
            s,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {w} {h}\" width=\"{w}\" \
             height=\"{h}\" role=\"img\" aria-labelledby=\"{id}-title {id}-desc\" \
             font-family=\"system-ui, sans-serif\" font-size=\"12\">\
             <title id=\"{id}-title\">{}</title><desc id=\"{id}-desc\">{}</desc>\
             <rect x=\"0\" y=\"0\" width=\"{w}\" height=\"{h}\" fill=\"#ffffff\"/>\
             <text x=\"12\" y=\"20\" font-size=\"14\" font-weight=\"bold\" fill=\"{AXIS}\">{}</text>",
            esc(title),
            esc(desc),
            esc(title)
        );
        Canvas { s }
    }

    /// Raw access for chart-specific elements.
    pub(crate) fn raw(&mut self) -> &mut String {
        &mut self.s
    }

    /// A straight line; `dash` is a stroke-dasharray.
    pub(crate) fn line(
        &mut self,
        (x1, y1): (f64, f64),
        (x2, y2): (f64, f64),
        stroke: &str,
        width: f64,
        dash: Option<&str>,
    ) {
        let _ = write!(
            self.s,
            "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{stroke}\" stroke-width=\"{}\"",
            c(x1),
            c(y1),
            c(x2),
            c(y2),
            c(width)
        );
        if let Some(d) = dash {
            let _ = write!(self.s, " stroke-dasharray=\"{d}\"");
        }
        self.s.push_str("/>");
    }

    /// Text at (x, y); `anchor` is start, middle or end.
    pub(crate) fn text(
        &mut self,
        (x, y): (f64, f64),
        anchor: &str,
        size: f64,
        fill: &str,
        content: &str,
    ) {
        let _ = write!(
            self.s,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"{anchor}\" font-size=\"{}\" fill=\"{fill}\">{}</text>",
            c(x),
            c(y),
            c(size),
            esc(content)
        );
    }

    /// Text rotated by `deg` about its anchor point.
    pub(crate) fn text_rotated(
        &mut self,
        (x, y): (f64, f64),
        deg: f64,
        anchor: &str,
        size: f64,
        content: &str,
    ) {
        let _ = write!(
            self.s,
            "<text x=\"{0}\" y=\"{1}\" text-anchor=\"{anchor}\" font-size=\"{2}\" fill=\"{AXIS}\" \
             transform=\"rotate({3} {0} {1})\">{4}</text>",
            c(x),
            c(y),
            c(size),
            c(deg),
            esc(content)
        );
    }

    /// A rectangle, normalised so a negative height draws upwards.
    pub(crate) fn rect(&mut self, pos: (f64, f64), size: (f64, f64), fill: &str, extra: &str) {
        self.rect_open(pos, size, fill, extra);
        self.s.push_str("/>");
    }

    /// A rectangle with a tooltip.
    pub(crate) fn rect_titled(
        &mut self,
        pos: (f64, f64),
        size: (f64, f64),
        fill: &str,
        extra: &str,
        tip: &str,
    ) {
        self.rect_open(pos, size, fill, extra);
        let _ = write!(self.s, "><title>{}</title></rect>", esc(tip));
    }

    fn rect_open(&mut self, (x, y): (f64, f64), (w, h): (f64, f64), fill: &str, extra: &str) {
        let (x, w) = if w < 0.0 { (x + w, -w) } else { (x, w) };
        let (y, h) = if h < 0.0 { (y + h, -h) } else { (y, h) };
        let _ = write!(
            self.s,
            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{fill}\"{extra}",
            c(x),
            c(y),
            c(w),
            c(h)
        );
    }

    /// A marker of `shape` centred on (x, y) with radius `r`; `tip` becomes its tooltip.
    pub(crate) fn marker(
        &mut self,
        shape: Shape,
        (x, y): (f64, f64),
        r: f64,
        fill: &str,
        stroke: &str,
        tip: Option<&str>,
    ) {
        let body = match shape {
            Shape::Circle => format!("<circle cx=\"{}\" cy=\"{}\" r=\"{}\"", c(x), c(y), c(r)),
            Shape::Square => {
                let a = r * 0.9;
                format!(
                    "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"",
                    c(x - a),
                    c(y - a),
                    c(2.0 * a),
                    c(2.0 * a)
                )
            }
            Shape::TriangleUp => polygon(&[
                (x, y - r * 1.15),
                (x + r, y + r * 0.85),
                (x - r, y + r * 0.85),
            ]),
            Shape::TriangleDown => polygon(&[
                (x, y + r * 1.15),
                (x + r, y - r * 0.85),
                (x - r, y - r * 0.85),
            ]),
            Shape::TriangleRight => polygon(&[
                (x + r * 1.15, y),
                (x - r * 0.85, y - r),
                (x - r * 0.85, y + r),
            ]),
            Shape::Diamond => {
                polygon(&[(x, y - r * 1.2), (x + r, y), (x, y + r * 1.2), (x - r, y)])
            }
            Shape::Cross => {
                let a = r * 0.35;
                polygon(&[
                    (x - a, y - r),
                    (x + a, y - r),
                    (x + a, y - a),
                    (x + r, y - a),
                    (x + r, y + a),
                    (x + a, y + a),
                    (x + a, y + r),
                    (x - a, y + r),
                    (x - a, y + a),
                    (x - r, y + a),
                    (x - r, y - a),
                    (x - a, y - a),
                ])
            }
        };
        let tag = if matches!(shape, Shape::Circle) {
            "circle"
        } else if matches!(shape, Shape::Square) {
            "rect"
        } else {
            "polygon"
        };
        let _ = write!(
            self.s,
            "{body} fill=\"{fill}\" stroke=\"{stroke}\" stroke-width=\"1\""
        );
        match tip {
            Some(t) => {
                let _ = write!(self.s, "><title>{}</title></{tag}>", esc(t));
            }
            None => self.s.push_str("/>"),
        }
    }

    /// A line through `pts` (px), optionally dashed, with an optional tooltip.
    pub(crate) fn path(
        &mut self,
        pts: &[(f64, f64)],
        stroke: &str,
        width: f64,
        dash: Option<&str>,
        tip: Option<&str>,
    ) {
        let mut d = String::new();
        for (i, &(x, y)) in pts.iter().enumerate() {
            let _ = write!(d, "{}{},{}", if i == 0 { "M" } else { " L" }, c(x), c(y));
        }
        let _ = write!(
            self.s,
            "<path d=\"{d}\" fill=\"none\" stroke=\"{stroke}\" stroke-width=\"{}\"",
            c(width)
        );
        if let Some(dash) = dash {
            let _ = write!(self.s, " stroke-dasharray=\"{dash}\"");
        }
        match tip {
            Some(t) => {
                let _ = write!(self.s, "><title>{}</title></path>", esc(t));
            }
            None => self.s.push_str("/>"),
        }
    }

    /// The explanatory message of an empty chart, centred on the plot area.
    pub(crate) fn empty_message(&mut self, area: &Area, message: &str) {
        self.rect(
            (area.left, area.top),
            (area.width(), area.height()),
            "#fafafa",
            " stroke=\"#cccccc\"",
        );
        self.text((area.mid_x(), area.mid_y()), "middle", 14.0, MUTED, message);
    }

    /// Closes the document.
    pub(crate) fn finish(mut self) -> String {
        self.s.push_str("</svg>");
        self.s
    }
}

/// The opening of a `<polygon>` through `pts`.
pub(crate) fn polygon(pts: &[(f64, f64)]) -> String {
    let p: Vec<String> = pts
        .iter()
        .map(|(x, y)| format!("{},{}", c(*x), c(*y)))
        .collect();
    format!("<polygon points=\"{}\"", p.join(" "))
}
