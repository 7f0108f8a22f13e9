//! The dashboard's pictures as SVG, written here without any drawing library: the
//! recruitment curve (cumulative enrolments by month per site and in total, with the
//! target line) and the CONSORT participant flow (boxes and arrows).
//!
//! Pure functions: figures in, SVG text out, the same bytes for the same figures. Colours
//! and lines are presentation attributes, not `style`, so a page may inline the picture
//! under a content security policy that refuses inline style.

use std::fmt::Write as _;

use crate::dashboard::{Flow, Recruitment};

/// Line colours of the sites' curves, in site order (repeated past the last).
const SITE_COLOURS: [&str; 6] = [
    "#1f77b4", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf",
];

/// Colour of the whole study's curve.
const TOTAL_COLOUR: &str = "#111111";

/// Colour of the target line.
const TARGET_COLOUR: &str = "#d62728";

use analysis::svg::esc;

/// The recruitment curve: cumulative enrolments at the end of each month, one thin line
/// per site and a thick one for the study, against the dashed target line.
pub fn recruitment_svg(r: &Recruitment) -> String {
    const W: i64 = 760;
    const H: i64 = 360;
    const LEFT: i64 = 50;
    const RIGHT: i64 = 150;
    const TOP: i64 = 20;
    const BOTTOM: i64 = 50;
    let plot_w = W - LEFT - RIGHT;
    let plot_h = H - TOP - BOTTOM;
    let highest = r
        .months
        .last()
        .map_or(0, |m| m.cumulative)
        .max(u64::from(r.target));
    // The axis ends at the next multiple of ten above everything drawn.
    let top = i64::try_from(highest / 10 * 10 + 10).unwrap_or(i64::MAX);
    let y = |v: u64| TOP + plot_h - i64::try_from(v).unwrap_or(top).min(top) * plot_h / top;
    let n = i64::try_from(r.months.len()).unwrap_or(1);
    let x = |i: usize| {
        let i = i64::try_from(i).unwrap_or(0);
        if n <= 1 {
            LEFT + plot_w / 2
        } else {
            LEFT + i * plot_w / (n - 1)
        }
    };

    let mut s = String::new();
    let _ = write!(
        s,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {W} {H}\" width=\"{W}\" \
         height=\"{H}\" role=\"img\" aria-labelledby=\"recruitment-title\" \
         font-family=\"sans-serif\" font-size=\"12\">\
         <title id=\"recruitment-title\">Cumulative enrolments by month: {} of {} enrolled</title>",
        r.enrolled, r.target
    );
    let _ = write!(
        s,
        "<rect x=\"0\" y=\"0\" width=\"{W}\" height=\"{H}\" fill=\"#ffffff\"/>"
    );
    // Horizontal grid and the y axis labels, every ten participants.
    let mut v = 0;
    while v <= top {
        let yy = y(u64::try_from(v).unwrap_or(0));
        let _ = write!(
            s,
            "<line x1=\"{LEFT}\" y1=\"{yy}\" x2=\"{}\" y2=\"{yy}\" stroke=\"#dddddd\"/>\
             <text x=\"{}\" y=\"{}\" text-anchor=\"end\">{v}</text>",
            LEFT + plot_w,
            LEFT - 6,
            yy + 4
        );
        v += 10;
    }
    let _ = write!(
        s,
        "<line x1=\"{LEFT}\" y1=\"{TOP}\" x2=\"{LEFT}\" y2=\"{}\" stroke=\"#333333\"/>\
         <line x1=\"{LEFT}\" y1=\"{0}\" x2=\"{1}\" y2=\"{0}\" stroke=\"#333333\"/>",
        TOP + plot_h,
        LEFT + plot_w
    );
    // Month labels: at most about twelve, evenly spaced.
    let every = r.months.len().div_ceil(12).max(1);
    for (i, m) in r.months.iter().enumerate() {
        if i % every == 0 || i + 1 == r.months.len() {
            let _ = write!(
                s,
                "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
                x(i),
                TOP + plot_h + 18,
                esc(&m.month)
            );
        }
    }
    let _ = write!(
        s,
        "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">month of enrolment</text>",
        LEFT + plot_w / 2,
        H - 8
    );
    // The target.
    let ty = y(u64::from(r.target));
    let _ = write!(
        s,
        "<line class=\"target\" x1=\"{LEFT}\" y1=\"{ty}\" x2=\"{}\" y2=\"{ty}\" \
         stroke=\"{TARGET_COLOUR}\" stroke-width=\"2\" stroke-dasharray=\"8 4\"/>\
         <text x=\"{}\" y=\"{}\" fill=\"{TARGET_COLOUR}\">target {}</text>",
        LEFT + plot_w,
        LEFT + plot_w + 6,
        ty + 4,
        r.target
    );
    if r.months.is_empty() {
        let _ = write!(
            s,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">No enrolments yet</text></svg>",
            LEFT + plot_w / 2,
            TOP + plot_h / 2
        );
        return s;
    }
    // One line per site, then the total on top.
    // The legend starts below the target's label.
    let mut legend_y = (TOP + 40).max(ty + 28);
    for (k, site) in r.enrolled_by_site.keys().enumerate() {
        let colour = SITE_COLOURS[k % SITE_COLOURS.len()];
        let points: Vec<String> = r
            .months
            .iter()
            .enumerate()
            .map(|(i, m)| {
                let v = m.cumulative_by_site.get(site).copied().unwrap_or(0);
                format!("{},{}", x(i), y(v))
            })
            .collect();
        let _ = write!(
            s,
            "<polyline class=\"site\" data-site=\"{0}\" points=\"{1}\" fill=\"none\" \
             stroke=\"{colour}\" stroke-width=\"1.5\"/>\
             <line x1=\"{2}\" y1=\"{3}\" x2=\"{4}\" y2=\"{3}\" stroke=\"{colour}\" stroke-width=\"1.5\"/>\
             <text x=\"{5}\" y=\"{6}\">{0} ({7})</text>",
            esc(site),
            points.join(" "),
            LEFT + plot_w + 6,
            legend_y,
            LEFT + plot_w + 26,
            LEFT + plot_w + 30,
            legend_y + 4,
            r.enrolled_by_site.get(site).copied().unwrap_or(0),
        );
        legend_y += 18;
    }
    let points: Vec<String> = r
        .months
        .iter()
        .enumerate()
        .map(|(i, m)| format!("{},{}", x(i), y(m.cumulative)))
        .collect();
    let _ = write!(
        s,
        "<polyline class=\"total\" points=\"{}\" fill=\"none\" stroke=\"{TOTAL_COLOUR}\" \
         stroke-width=\"3\"/>",
        points.join(" ")
    );
    for (i, m) in r.months.iter().enumerate() {
        let _ = write!(
            s,
            "<circle cx=\"{}\" cy=\"{}\" r=\"3\" fill=\"{TOTAL_COLOUR}\"><title>{}: {} enrolled</title></circle>",
            x(i),
            y(m.cumulative),
            esc(&m.month),
            m.cumulative
        );
    }
    let _ = write!(
        s,
        "<line x1=\"{0}\" y1=\"{1}\" x2=\"{2}\" y2=\"{1}\" stroke=\"{TOTAL_COLOUR}\" stroke-width=\"3\"/>\
         <text x=\"{3}\" y=\"{4}\">all sites ({5})</text></svg>",
        LEFT + plot_w + 6,
        legend_y,
        LEFT + plot_w + 26,
        LEFT + plot_w + 30,
        legend_y + 4,
        r.enrolled
    );
    s
}

/// A box of the flow diagram: its place and its lines (the first one bold).
struct FlowBox {
    id: &'static str,
    x: i64,
    y: i64,
    w: i64,
    lines: Vec<String>,
}

impl FlowBox {
    const LINE: i64 = 16;

    fn h(&self) -> i64 {
        12 + Self::LINE * i64::try_from(self.lines.len()).unwrap_or(0)
    }

    fn bottom(&self) -> i64 {
        self.y + self.h()
    }

    fn centre(&self) -> i64 {
        self.x + self.w / 2
    }

    fn draw(&self, s: &mut String) {
        let _ = write!(
            s,
            "<g class=\"box\" id=\"consort-{}\"><rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" \
             fill=\"#f7f7f7\" stroke=\"#333333\"/>",
            self.id,
            self.x,
            self.y,
            self.w,
            self.h()
        );
        for (i, line) in self.lines.iter().enumerate() {
            let weight = if i == 0 { " font-weight=\"bold\"" } else { "" };
            let _ = write!(
                s,
                "<text x=\"{}\" y=\"{}\"{weight}>{}</text>",
                self.x + 8,
                self.y + 18 + Self::LINE * i64::try_from(i).unwrap_or(0),
                esc(line)
            );
        }
        s.push_str("</g>");
    }
}

fn arrow(s: &mut String, (x1, y1): (i64, i64), (x2, y2): (i64, i64)) {
    let _ = write!(
        s,
        "<line x1=\"{x1}\" y1=\"{y1}\" x2=\"{x2}\" y2=\"{y2}\" stroke=\"#333333\" \
         stroke-width=\"1.5\" marker-end=\"url(#consort-arrow)\"/>"
    );
}

/// The CONSORT flow: screened, then screen failures (by criterion) and those still in
/// screening to the side; enrolled, with those awaiting allocation to the side; the two
/// arms with those on T-DXd and in the arm-2 follow-up; those who ended participation,
/// by reason.
pub fn consort_svg(f: &Flow) -> String {
    const W: i64 = 760;
    let arm = |a: &str| f.allocated.get(a).copied().unwrap_or(0);
    let mut failed = vec![format!("Screen-failed (n = {})", f.screen_failed)];
    failed.extend(
        f.screen_failed_by_criterion
            .iter()
            .map(|(c, n)| format!("{c}: {n}")),
    );
    let screened = FlowBox {
        id: "screened",
        x: 40,
        y: 20,
        w: 300,
        lines: vec![
            format!("Screened (n = {})", f.screened),
            "registered for screening".to_owned(),
        ],
    };
    let side = FlowBox {
        id: "screen-failed",
        x: 420,
        y: 20,
        w: 300,
        lines: failed,
    };
    let in_screening = FlowBox {
        id: "in-screening",
        x: 420,
        y: side.bottom() + 12,
        w: 300,
        lines: vec![format!("Still in screening (n = {})", f.in_screening)],
    };
    let enrolled = FlowBox {
        id: "enrolled",
        x: 40,
        y: in_screening.bottom() + 30,
        w: 300,
        lines: vec![format!("Enrolled (n = {})", f.enrolled)],
    };
    let waiting = FlowBox {
        id: "awaiting-allocation",
        x: 420,
        y: enrolled.y,
        w: 300,
        lines: vec![
            format!("Awaiting allocation (n = {})", f.awaiting_allocation),
            "PET, biopsy or pathology to come".to_owned(),
        ],
    };
    let arm_y = waiting.bottom().max(enrolled.bottom()) + 40;
    let arm1 = FlowBox {
        id: "arm1",
        x: 40,
        y: arm_y,
        w: 300,
        lines: vec![
            format!("Allocated to arm 1 (n = {})", arm("arm1")),
            "HER2-expressing: T-DXd".to_owned(),
        ],
    };
    let arm2 = FlowBox {
        id: "arm2",
        x: 420,
        y: arm_y,
        w: 300,
        lines: vec![
            format!("Allocated to arm 2 (n = {})", arm("arm2")),
            "HER2-zero: safety follow-up".to_owned(),
        ],
    };
    let on = FlowBox {
        id: "on-treatment",
        x: 40,
        y: arm1.bottom() + 30,
        w: 300,
        lines: vec![format!("On T-DXd (n = {})", f.on_treatment)],
    };
    let follow = FlowBox {
        id: "safety-follow-up",
        x: 420,
        y: arm2.bottom() + 30,
        w: 300,
        lines: vec![format!("In follow-up (n = {})", f.safety_follow_up)],
    };
    let mut ended_lines = vec![format!("Ended participation (n = {})", f.ended)];
    ended_lines.extend(
        f.ended_by_reason
            .iter()
            .map(|e| format!("{}: {}", e.label, e.count)),
    );
    let ended = FlowBox {
        id: "ended",
        x: 40,
        y: on.bottom().max(follow.bottom()) + 30,
        w: 680,
        lines: ended_lines,
    };
    let h = ended.bottom() + 20;

    let mut s = String::new();
    let _ = write!(
        s,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {W} {h}\" width=\"{W}\" \
         height=\"{h}\" role=\"img\" aria-labelledby=\"consort-title\" font-family=\"sans-serif\" \
         font-size=\"13\"><title id=\"consort-title\">Participant flow: {} screened, {} enrolled, \
         {} in arm 1, {} in arm 2</title>\
         <defs><marker id=\"consort-arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" \
         markerWidth=\"8\" markerHeight=\"8\" orient=\"auto\"><path d=\"M0,0 L10,5 L0,10 z\" \
         fill=\"#333333\"/></marker></defs>\
         <rect x=\"0\" y=\"0\" width=\"{W}\" height=\"{h}\" fill=\"#ffffff\"/>",
        f.screened,
        f.enrolled,
        arm("arm1"),
        arm("arm2")
    );
    let trunk = screened.centre();
    arrow(&mut s, (trunk, screened.bottom()), (trunk, enrolled.y));
    let side_y = screened.y + screened.h() / 2;
    arrow(&mut s, (screened.x + screened.w, side_y), (side.x, side_y));
    let in_y = in_screening.y + in_screening.h() / 2;
    let _ = write!(
        s,
        "<line x1=\"{trunk}\" y1=\"{in_y}\" x2=\"{}\" y2=\"{in_y}\" stroke=\"#333333\" \
         stroke-width=\"1.5\" marker-end=\"url(#consort-arrow)\"/>",
        in_screening.x
    );
    let wait_y = enrolled.y + enrolled.h() / 2;
    arrow(
        &mut s,
        (enrolled.x + enrolled.w, wait_y),
        (waiting.x, wait_y),
    );
    // Enrolled splits into the two arms.
    let split_y = arm_y - 20;
    let _ = write!(
        s,
        "<polyline points=\"{trunk},{} {trunk},{split_y} {},{split_y}\" fill=\"none\" \
         stroke=\"#333333\" stroke-width=\"1.5\"/>",
        enrolled.bottom(),
        arm2.centre()
    );
    arrow(&mut s, (trunk, split_y), (trunk, arm1.y));
    arrow(&mut s, (arm2.centre(), split_y), (arm2.centre(), arm2.y));
    arrow(
        &mut s,
        (arm1.centre(), arm1.bottom()),
        (arm1.centre(), on.y),
    );
    arrow(
        &mut s,
        (arm2.centre(), arm2.bottom()),
        (arm2.centre(), follow.y),
    );
    arrow(&mut s, (on.centre(), on.bottom()), (on.centre(), ended.y));
    arrow(
        &mut s,
        (follow.centre(), follow.bottom()),
        (follow.centre(), ended.y),
    );
    for b in [
        &screened,
        &side,
        &in_screening,
        &enrolled,
        &waiting,
        &arm1,
        &arm2,
        &on,
        &follow,
        &ended,
    ] {
        b.draw(&mut s);
    }
    s.push_str("</svg>");
    s
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::dashboard::{EndedCount, RecruitmentMonth};

    fn recruitment() -> Recruitment {
        let month = |m: &str, ks: u64, uu: u64| RecruitmentMonth {
            month: m.into(),
            enrolled: 0,
            cumulative_by_site: BTreeMap::from([("KS".into(), ks), ("UU".into(), uu)]),
            cumulative: ks + uu,
        };
        Recruitment {
            target: 70,
            enrolled_by_site: BTreeMap::from([("KS".into(), 5), ("UU".into(), 2)]),
            enrolled: 7,
            months: vec![
                month("2026-03", 1, 0),
                month("2026-04", 3, 1),
                month("2026-05", 5, 2),
            ],
        }
    }

    fn flow() -> Flow {
        Flow {
            screened: 9,
            in_screening: 1,
            screen_failed: 2,
            screen_failed_by_criterion: BTreeMap::from([("EX5".into(), 1), ("IN4".into(), 1)]),
            enrolled: 6,
            awaiting_allocation: 1,
            allocated: BTreeMap::from([("arm1".into(), 3), ("arm2".into(), 2)]),
            on_treatment: 2,
            safety_follow_up: 1,
            ended: 2,
            ended_by_reason: vec![EndedCount {
                reason: "arm2_follow_up_complete".into(),
                label: "arm 2 safety follow-up complete".into(),
                count: 1,
            }],
        }
    }

    /// The points of the polyline whose opening tag contains `marker`.
    fn points<'a>(svg: &'a str, marker: &str) -> Vec<&'a str> {
        let at = svg.find(marker).expect("the polyline");
        let rest = &svg[at..];
        let start = rest.find("points=\"").expect("points") + 8;
        let end = rest[start..].find('"').expect("end of points");
        rest[start..start + end].split(' ').collect()
    }

    #[test]
    fn the_recruitment_curve_climbs_with_the_totals_under_the_target_line() {
        let svg = recruitment_svg(&recruitment());
        assert!(svg.starts_with("<svg ") && svg.ends_with("</svg>"));
        // The axis runs to 80: 0 at y 310, 70 at y 310 - 70 * 290 / 80 = 57.
        assert!(
            svg.contains("class=\"target\" x1=\"50\" y1=\"57\""),
            "{svg}"
        );
        assert!(svg.contains(">target 70</text>"));
        // Totals 1, 4, 7 over three months spread over the plot's 560 px.
        assert_eq!(
            points(&svg, "class=\"total\""),
            ["50,307", "330,296", "610,285"]
        );
        assert_eq!(
            points(&svg, "data-site=\"UU\""),
            ["50,310", "330,307", "610,303"]
        );
        assert!(svg.contains(">KS (5)</text>") && svg.contains(">all sites (7)</text>"));
        assert_eq!(
            svg,
            recruitment_svg(&recruitment()),
            "the same bytes each time"
        );
    }

    #[test]
    fn an_empty_study_draws_the_target_and_says_so() {
        let svg = recruitment_svg(&Recruitment {
            target: 70,
            enrolled_by_site: BTreeMap::new(),
            enrolled: 0,
            months: Vec::new(),
        });
        assert!(svg.contains("No enrolments yet") && svg.contains("class=\"target\""));
    }

    #[test]
    fn the_consort_diagram_has_a_box_per_step_with_its_count_and_an_arrow_into_each() {
        let svg = consort_svg(&flow());
        for (id, text) in [
            ("screened", "Screened (n = 9)"),
            ("screen-failed", "Screen-failed (n = 2)"),
            ("screen-failed", "EX5: 1"),
            ("in-screening", "Still in screening (n = 1)"),
            ("enrolled", "Enrolled (n = 6)"),
            ("awaiting-allocation", "Awaiting allocation (n = 1)"),
            ("arm1", "Allocated to arm 1 (n = 3)"),
            ("arm2", "Allocated to arm 2 (n = 2)"),
            ("on-treatment", "On T-DXd (n = 2)"),
            ("safety-follow-up", "In follow-up (n = 1)"),
            ("ended", "arm 2 safety follow-up complete: 1"),
        ] {
            let at = svg
                .find(&format!("id=\"consort-{id}\""))
                .unwrap_or_else(|| panic!("box {id}"));
            let end = at + svg[at..].find("</g>").expect("end of box");
            assert!(svg[at..end].contains(text), "{id}: {text}");
        }
        assert_eq!(svg.matches("marker-end=").count(), 10);
        assert_eq!(svg, consort_svg(&flow()));
    }

    #[test]
    fn text_in_the_pictures_is_escaped() {
        let mut f = flow();
        f.screen_failed_by_criterion = BTreeMap::from([("<IN&1>".into(), 1)]);
        assert!(consort_svg(&f).contains("&lt;IN&amp;1&gt;: 1"));
    }
}
