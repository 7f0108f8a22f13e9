//! Every chart is well-formed XML, labelled for assistive technology, self-contained, and
//! never carries a non-number.

use analysis::svg::*;

use super::fixtures::CATEGORIES;
use super::snapshots::all_charts;

/// The pictures of empty and of poisoned (non-finite) input, beside the realistic ones.
fn edge_charts() -> Vec<(&'static str, String)> {
    let nan = f64::NAN;
    let inf = f64::INFINITY;
    vec![
        (
            "strip empty",
            strip_box("a", "t", "SUVmax (g/mL)", &[], None),
        ),
        (
            "strip nan",
            strip_box(
                "a",
                "t",
                "SUVmax (g/mL)",
                &[StripGroup {
                    label: "g".into(),
                    points: vec![StripPoint {
                        value: nan,
                        label: "x".into(),
                        highlighted: true,
                    }],
                }],
                Some((nan, "r")),
            ),
        ),
        ("roc empty", roc_curve("a", "t", &[], None)),
        (
            "roc inf",
            roc_curve(
                "a",
                "t",
                &[RocSeries {
                    label: "s".into(),
                    points: vec![(0.0, 0.0), (inf, 0.5), (1.0, 1.0)],
                }],
                Some((nan, 0.5, "m")),
            ),
        ),
        (
            "waterfall nan",
            waterfall(
                "a",
                "t",
                &[WaterfallBar {
                    label: "x".into(),
                    value: nan,
                    category: 7,
                }],
                &[],
            ),
        ),
        ("swimmer empty", swimmer("a", "t", &[], &CATEGORIES)),
        (
            "swimmer inf",
            swimmer(
                "a",
                "t",
                &[SwimmerLane {
                    label: "x".into(),
                    end: 3.0,
                    ongoing: true,
                    category: 9,
                    markers: vec![(inf, SwimmerMarkerKind::Death)],
                }],
                &[],
            ),
        ),
        ("spider empty", spider("a", "t", &[], &CATEGORIES)),
        (
            "km nan",
            kaplan_meier(
                "a",
                "t",
                "months",
                &[KmSeries {
                    label: "k".into(),
                    steps: vec![(0.0, 1.0, nan, nan), (2.0, nan, 0.0, 1.0)],
                    censored: vec![(nan, 1.0)],
                    exits: vec![inf],
                }],
            ),
        ),
        ("het empty", heterogeneity("a", "t", &[], nan)),
        ("bars empty", stacked_bars("a", "t", "n", &[], &[])),
    ]
}

#[test]
fn every_chart_is_wellformed_labelled_and_self_contained() {
    for (name, svg) in all_charts().into_iter().chain(edge_charts()) {
        let doc = roxmltree::Document::parse(&svg).unwrap_or_else(|e| panic!("{name}: {e}"));
        let root = doc.root_element();
        assert_eq!(root.tag_name().name(), "svg", "{name}");
        assert_eq!(
            root.tag_name().namespace(),
            Some("http://www.w3.org/2000/svg"),
            "{name}"
        );
        assert_eq!(root.attribute("role"), Some("img"), "{name}");
        // aria-labelledby names the title and the desc, which exist and say something.
        let ids: Vec<&str> = root
            .attribute("aria-labelledby")
            .unwrap()
            .split(' ')
            .collect();
        assert_eq!(ids.len(), 2, "{name}");
        for (id, tag) in ids.iter().zip(["title", "desc"]) {
            let el = doc
                .descendants()
                .find(|n| n.attribute("id") == Some(id))
                .unwrap_or_else(|| panic!("{name}: no #{id}"));
            assert_eq!(el.tag_name().name(), tag, "{name}");
            assert!(
                el.text().is_some_and(|t| !t.trim().is_empty()),
                "{name}: empty {tag}"
            );
        }
        assert!(
            !svg.contains("NaN") && !svg.contains("inf"),
            "{name} carries a non-number"
        );
        for bad in [
            "<script",
            "style=",
            "href",
            "url(",
            "@font-face",
            "<foreignObject",
        ] {
            assert!(!svg.contains(bad), "{name} contains {bad}");
        }
        assert_eq!(
            root.attribute("font-family"),
            Some("system-ui, sans-serif"),
            "{name}"
        );
        // The size the page reserves is the size of the drawing.
        let vb: Vec<&str> = root.attribute("viewBox").unwrap().split(' ').collect();
        assert_eq!(
            (Some(vb[2]), Some(vb[3])),
            (root.attribute("width"), root.attribute("height")),
            "{name}"
        );
    }
}

#[test]
fn ids_come_from_the_callers_id_so_pictures_can_share_a_page() {
    let a = waterfall("site-a", "t", &[], &[]);
    let b = waterfall("site-b", "t", &[], &[]);
    assert!(a.contains("id=\"site-a-title\"") && a.contains("id=\"site-a-desc\""));
    assert!(b.contains("aria-labelledby=\"site-b-title site-b-desc\""));
    // An id that would break out of the attribute is made safe.
    let c = waterfall("x\" onload=\"alert(1)", "t", &[], &[]);
    assert!(!c.contains("onload=\""));
    roxmltree::Document::parse(&c).unwrap();
}
