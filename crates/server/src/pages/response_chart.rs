//! The sum-of-diameters curve as an inline SVG picture: scan dates on x (a calendar axis
//! from `analysis::svg::date_ticks`, whose labels never overlap), mm on y, the
//! baseline and the nadir marked, reference lines at −30 % of baseline (partial response)
//! and +20 % over the nadir (progression, RECIST 1.1 §4.3.1), PD points in red. A `<title>`
//! and `<desc>` give the picture's text alternative; the result table beside it holds
//! every number.

use chrono::NaiveDate;
use maud::{Markup, html};
use protocol::recist::OverallResponse;
use protocol::response::ResponseEvaluation;

const W: f64 = 640.0;
const H: f64 = 300.0;
const LEFT: f64 = 56.0;
const RIGHT: f64 = 120.0;
const TOP: f64 = 16.0;
const BOTTOM: f64 = 40.0;

/// One point of the curve.
struct Point {
    date: NaiveDate,
    sum: f64,
    label: String,
    pd: bool,
}

fn points(e: &ResponseEvaluation) -> Vec<Point> {
    let mut v = vec![Point {
        date: e.baseline_date,
        sum: e.baseline_sum_mm,
        label: "baseline".into(),
        pd: false,
    }];
    for t in &e.time_points {
        if let Some(sum) = t.sum_mm {
            v.push(Point {
                date: t.scan_date,
                sum,
                label: t.overall.code().into(),
                pd: t.overall == OverallResponse::ProgressiveDisease,
            });
        }
    }
    v
}

fn f1(v: f64) -> String {
    format!("{v:.1}")
}

/// The picture, or nothing when there are no target lesions to sum.
pub fn sum_chart(e: &ResponseEvaluation) -> Option<Markup> {
    if e.baseline_sum_mm <= 0.0 {
        return None;
    }
    let pts = points(e);
    let nadir = pts.iter().map(|p| p.sum).fold(f64::INFINITY, f64::min);
    let nadir_at = pts.iter().position(|p| p.sum == nadir).unwrap_or(0);
    let pr_line = e.baseline_sum_mm * 0.7;
    let pd_line = nadir * 1.2;
    let highest = pts
        .iter()
        .map(|p| p.sum)
        .fold(pd_line.max(e.baseline_sum_mm), f64::max);
    // Round tick steps, at most six of them; the axis ends on a tick above the data.
    let step = [5.0, 10.0, 20.0, 25.0, 50.0, 100.0, 200.0, 500.0]
        .into_iter()
        .find(|s| highest * 1.1 / s <= 6.0)
        .unwrap_or(1000.0);
    let top = (highest * 1.1 / step).ceil() * step;
    let first = pts[0].date;
    let span = pts
        .iter()
        .map(|p| (p.date - first).num_days())
        .max()
        .unwrap_or(0)
        .max(28) as f64;
    let x = |d: NaiveDate| LEFT + (d - first).num_days() as f64 / span * (W - LEFT - RIGHT);
    // Calendar labels chosen for the axis's width, so they never overlap (one label per
    // scan overlapped when scans were weeks apart); the scan dates stay in the table and
    // in each point's tooltip.
    let axis_end = first + chrono::Days::new(span as u64);
    let date_labels = analysis::svg::date_ticks(first, axis_end, W - LEFT - RIGHT);
    let y = |mm: f64| TOP + (1.0 - mm / top) * (H - TOP - BOTTOM);
    let path: Vec<String> = pts
        .iter()
        .map(|p| format!("{},{}", f1(x(p.date)), f1(y(p.sum))))
        .collect();
    let ticks: Vec<f64> = (0..=(top / step) as u32)
        .map(|k| f64::from(k) * step)
        .collect();
    // Keep the two reference labels apart when the lines are close.
    let (pr_label, pd_label) = {
        let (a, b) = (y(pr_line) + 4.0, y(pd_line) + 4.0);
        let gap = 12.0 - (a - b).abs();
        if gap > 0.0 {
            let half = gap / 2.0;
            if a >= b {
                (a + half, b - half)
            } else {
                (a - half, b + half)
            }
        } else {
            (a, b)
        }
    };
    let description = pts
        .iter()
        .map(|p| format!("{} {} mm ({})", p.date, f1(p.sum), p.label))
        .collect::<Vec<_>>()
        .join("; ");
    Some(html! {
        figure.chart {
            svg #sum-chart xmlns="http://www.w3.org/2000/svg" role="img" width=(W) height=(H)
                viewBox={ "0 0 " (W) " " (H) } aria-labelledby="sum-chart-title sum-chart-desc" {
                title #sum-chart-title { "Sum of target-lesion diameters over time" }
                desc #sum-chart-desc {
                    "Baseline " (f1(e.baseline_sum_mm)) " mm; nadir " (f1(nadir)) " mm. " (description) "."
                }
                rect x=(LEFT) y=(TOP) width=(W - LEFT - RIGHT) height=(H - TOP - BOTTOM) fill="#fff" stroke="#d5dbe3" {}
                @for t in &ticks {
                    line x1=(LEFT - 4.0) x2=(LEFT) y1=(f1(y(*t))) y2=(f1(y(*t))) stroke="#5b6677" {}
                    text x=(LEFT - 6.0) y=(f1(y(*t) + 4.0)) text-anchor="end" font-size="11" { (format!("{t:.0}")) }
                }
                text x="12" y=(f1(TOP + (H - TOP - BOTTOM) / 2.0)) font-size="11" transform={ "rotate(-90 12 " (f1(TOP + (H - TOP - BOTTOM) / 2.0)) ")" } text-anchor="middle" { "sum of diameters, mm" }
                line.ref-pr x1=(LEFT) x2=(W - RIGHT) y1=(f1(y(pr_line))) y2=(f1(y(pr_line))) stroke="#1f7a3a" stroke-dasharray="6 4" {}
                text x=(W - RIGHT + 4.0) y=(f1(pr_label)) font-size="11" fill="#1f7a3a" { "−30 % baseline (PR)" }
                line.ref-pd x1=(LEFT) x2=(W - RIGHT) y1=(f1(y(pd_line))) y2=(f1(y(pd_line))) stroke="#b3261e" stroke-dasharray="6 4" {}
                text x=(W - RIGHT + 4.0) y=(f1(pd_label)) font-size="11" fill="#b3261e" { "+20 % nadir (PD)" }
                polyline points=(path.join(" ")) fill="none" stroke="#0b5cad" stroke-width="2" {}
                @for (i, p) in pts.iter().enumerate() {
                    @let (cx, cy) = (f1(x(p.date)), f1(y(p.sum)));
                    @let class = if p.pd { "point pd" } else if i == 0 { "point baseline" } else { "point" };
                    @let colour = if p.pd { "#b3261e" } else { "#0b5cad" };
                    @if i == 0 {
                        rect class=(class) x=(f1(x(p.date) - 5.0)) y=(f1(y(p.sum) - 5.0)) width="10" height="10" fill=(colour) data-date=(p.date) data-sum=(f1(p.sum)) {
                            title { "baseline " (p.date) ": " (f1(p.sum)) " mm" }
                        }
                    } @else {
                        circle class=(class) cx=(cx) cy=(cy) r=(if p.pd { "6" } else { "5" }) fill=(colour) data-date=(p.date) data-sum=(f1(p.sum)) {
                            title { (p.date) ": " (f1(p.sum)) " mm, " (p.label) }
                        }
                    }
                    @if p.pd {
                        text x=(cx) y=(f1(y(p.sum) - 10.0)) text-anchor="middle" font-size="11" fill="#b3261e" font-weight="bold" { "PD" }
                    }
                }
                @for (d, label) in &date_labels {
                    line x1=(f1(x(*d))) x2=(f1(x(*d))) y1=(H - BOTTOM) y2=(H - BOTTOM + 4.0) stroke="#5b6677" {}
                    text.date x=(f1(x(*d))) y=(f1(H - BOTTOM + 16.0)) text-anchor="middle" font-size="11" { (label) }
                }
                @let nd = &pts[nadir_at];
                @if nadir_at > 0 {
                    text.nadir x=(f1(x(nd.date))) y=(f1(y(nd.sum) + 18.0)) text-anchor="middle" font-size="11" { "nadir" }
                }
            }
        }
    })
}
