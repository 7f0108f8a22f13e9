//! The operating characteristics as one SVG picture: power (left) and mean 95 % CI width
//! (right) against the number enrolled. Drawn here because the shared charts plot
//! participants, not design quantities; it follows the [`crate::svg`] conventions
//! (title and desc for assistive technology, Okabe–Ito colours plus dashes, no script,
//! one decimal).

use std::fmt::Write;

use super::oc::OcReport;
use crate::svg::{OKABE_ITO, esc, nice_ticks};

const W: f64 = 760.0;
const H: f64 = 400.0;
const PANEL_W: f64 = 300.0;
const TOP: f64 = 56.0;
const PLOT_H: f64 = 220.0;

/// One line: label, colour index, dash pattern, and (n, value) points.
struct Line {
    label: &'static str,
    colour: usize,
    dash: &'static str,
    points: Vec<(f64, f64)>,
}

/// The picture of `report`: power and CI widths against n, `id` prefixing element ids.
pub fn oc_chart(id: &str, report: &OcReport) -> String {
    let id = esc(id);
    let ns: Vec<f64> = report.rows.iter().map(|r| r.n as f64).collect();
    let pick = |f: &dyn Fn(&super::oc::OcRow) -> Option<f64>| -> Vec<(f64, f64)> {
        report
            .rows
            .iter()
            .filter_map(|r| f(r).filter(|v| v.is_finite()).map(|v| (r.n as f64, v)))
            .collect()
    };
    let power = vec![
        line("ROC area > null", 0, "", pick(&|r| Some(r.auc_power))),
        line(
            "log-rank PFS by PET",
            1,
            "6 3",
            pick(&|r| Some(r.log_rank_power)),
        ),
    ];
    let width = vec![
        line(
            "AUC",
            0,
            "",
            pick(&|r| r.auc_ci_width.as_ref().ok().map(|d| d.mean)),
        ),
        line(
            "sensitivity",
            2,
            "6 3",
            pick(&|r| r.sensitivity_ci_width.as_ref().ok().map(|d| d.mean)),
        ),
        line(
            "specificity",
            3,
            "2 3",
            pick(&|r| r.specificity_ci_width.as_ref().ok().map(|d| d.mean)),
        ),
    ];
    let title = format!(
        "Operating characteristics over {} replicates per size",
        report.replicates
    );
    let desc = describe(report);
    let mut s = String::new();
    let _ = write!(
        s,
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" width="{W}" height="{H}" role="img" aria-labelledby="{id}-title {id}-desc" font-family="sans-serif" font-size="12"><title id="{id}-title">{}</title><desc id="{id}-desc">{}</desc><rect width="{W}" height="{H}" fill="#ffffff"/><text x="{}" y="22" text-anchor="middle" font-size="15" font-weight="bold">{}</text>"##,
        esc(&title),
        esc(&desc),
        W / 2.0,
        esc(&title)
    );
    let (lo, hi) = match (ns.first(), ns.last()) {
        (Some(&a), Some(&b)) => (a.min(b), a.max(b)),
        _ => (0.0, 1.0),
    };
    let (lo, hi) = if hi > lo {
        (lo, hi)
    } else {
        (lo - 1.0, hi + 1.0)
    };
    panel(&mut s, 60.0, "Power", &power, (lo, hi));
    panel(
        &mut s,
        60.0 + PANEL_W + 70.0,
        "Mean 95 % CI width",
        &width,
        (lo, hi),
    );
    s.push_str("</svg>");
    s
}

fn line(label: &'static str, colour: usize, dash: &'static str, points: Vec<(f64, f64)>) -> Line {
    Line {
        label,
        colour,
        dash,
        points,
    }
}

/// The text alternative: the numbers at each size.
fn describe(report: &OcReport) -> String {
    let mut d = String::from("Power and confidence-interval width against the number enrolled.");
    for r in &report.rows {
        let w = r.auc_ci_width.as_ref().map(|d| format!("{:.3}", d.mean));
        let _ = write!(
            d,
            " n = {}: power for ROC area {:.0} %, log-rank power {:.0} %, mean AUC CI width {}.",
            r.n,
            100.0 * r.auc_power,
            100.0 * r.log_rank_power,
            w.unwrap_or_else(|e| e.reason.clone())
        );
    }
    d
}

/// One panel at `left`: axes from 0 to 1, x over `span`, the lines and their legend.
fn panel(s: &mut String, left: f64, heading: &str, lines: &[Line], span: (f64, f64)) {
    let xt = nice_ticks(span.0, span.1, 6);
    let yt = nice_ticks(0.0, 1.0, 5);
    let (x0, x1) = (xt.lo(), xt.hi());
    let x = |v: f64| left + (v - x0) / (x1 - x0) * PANEL_W;
    let y = |v: f64| TOP + PLOT_H - v.clamp(0.0, 1.0) * PLOT_H;
    let bottom = TOP + PLOT_H;
    let _ = write!(
        s,
        r#"<text x="{:.1}" y="{:.1}" text-anchor="middle" font-weight="bold">{}</text>"#,
        left + PANEL_W / 2.0,
        TOP - 12.0,
        esc(heading)
    );
    for &v in &yt.values {
        let _ = write!(
            s,
            "<line x1=\"{left:.1}\" y1=\"{0:.1}\" x2=\"{1:.1}\" y2=\"{0:.1}\" stroke=\"#dddddd\"/><text x=\"{2:.1}\" y=\"{3:.1}\" text-anchor=\"end\">{4}</text>",
            y(v),
            left + PANEL_W,
            left - 6.0,
            y(v) + 4.0,
            yt.label(v)
        );
    }
    for &v in &xt.values {
        let _ = write!(
            s,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
            x(v),
            bottom + 16.0,
            xt.label(v)
        );
    }
    let _ = write!(
        s,
        "<line x1=\"{left:.1}\" y1=\"{bottom:.1}\" x2=\"{:.1}\" y2=\"{bottom:.1}\" stroke=\"#333333\"/><line x1=\"{left:.1}\" y1=\"{TOP:.1}\" x2=\"{left:.1}\" y2=\"{bottom:.1}\" stroke=\"#333333\"/><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">women enrolled (n)</text>",
        left + PANEL_W,
        left + PANEL_W / 2.0,
        bottom + 34.0
    );
    for (k, l) in lines.iter().enumerate() {
        let colour = OKABE_ITO[l.colour % OKABE_ITO.len()];
        let pts: Vec<String> = l
            .points
            .iter()
            .map(|&(n, v)| format!("{:.1},{:.1}", x(n), y(v)))
            .collect();
        let dash = if l.dash.is_empty() {
            String::new()
        } else {
            format!(" stroke-dasharray=\"{}\"", l.dash)
        };
        let _ = write!(
            s,
            r#"<polyline points="{}" fill="none" stroke="{colour}" stroke-width="2"{dash}/>"#,
            pts.join(" ")
        );
        for p in &l.points {
            let _ = write!(
                s,
                r#"<circle cx="{:.1}" cy="{:.1}" r="3" fill="{colour}"><title>{}: n = {}, {:.3}</title></circle>"#,
                x(p.0),
                y(p.1),
                esc(l.label),
                p.0,
                p.1
            );
        }
        let ly = bottom + 56.0 + 18.0 * k as f64;
        let _ = write!(
            s,
            r#"<line x1="{left:.1}" y1="{ly:.1}" x2="{:.1}" y2="{ly:.1}" stroke="{colour}" stroke-width="2"{dash}/><text x="{:.1}" y="{:.1}">{}</text>"#,
            left + 28.0,
            left + 34.0,
            ly + 4.0,
            esc(l.label)
        );
    }
}
