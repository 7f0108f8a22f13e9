//! Edges: empty input draws an explanatory chart; non-finite values are left out and the
//! text alternative says how many.

use analysis::svg::*;

use super::fixtures::*;

/// The `<desc>` text of a picture.
pub fn desc(svg: &str) -> String {
    let doc = roxmltree::Document::parse(svg).unwrap();
    doc.descendants()
        .find(|n| n.has_tag_name("desc"))
        .and_then(|n| n.text())
        .unwrap_or("")
        .to_string()
}

#[test]
fn empty_input_says_no_participants_yet() {
    let cases = [
        strip_box("a", "t", "SUVmax (g/mL)", &[], Some((6.0, "SUVmax 6"))),
        strip_box(
            "a",
            "t",
            "SUVmax (g/mL)",
            &[StripGroup {
                label: "HER2-zero".into(),
                points: vec![],
            }],
            None,
        ),
        roc_curve("a", "t", &[], None),
        waterfall("a", "t", &[], &CATEGORIES),
        swimmer("a", "t", &[], &CATEGORIES),
        spider("a", "t", &[], &CATEGORIES),
        kaplan_meier("a", "t", "months", &[]),
        stacked_bars("a", "t", "Participants", &[], &GRADES),
    ];
    for svg in cases {
        assert!(svg.contains(">No participants yet</text>"), "{svg}");
        assert_eq!(desc(&svg), "No participants yet.");
    }
    let het = heterogeneity("a", "t", &[], 6.0);
    assert!(het.contains(">No lesions recorded yet</text>"));
}

#[test]
fn non_finite_values_are_left_out_and_counted() {
    let mut groups = strip_groups();
    groups[0].points[0].value = f64::NAN;
    groups[1].points[3].value = f64::INFINITY;
    let svg = strip_box("a", "t", "SUVmax (g/mL)", &groups, Some((6.0, "SUVmax 6")));
    let text = desc(&svg);
    assert!(text.contains("HER2-zero: n = 24,"), "{text}");
    assert!(
        text.contains("2 values were not finite and not drawn."),
        "{text}"
    );
    // Their tooltips are gone, the others are there.
    assert!(
        !svg.contains("<title>HX-001:")
            && !svg.contains("<title>HX-029:")
            && svg.contains("<title>HX-002:")
    );

    let mut bars = waterfall_bars();
    bars[4].value = f64::NEG_INFINITY;
    let text = desc(&waterfall("a", "t", &bars, &CATEGORIES));
    assert!(
        text.starts_with("Best % change in sum of target-lesion diameters for 29 participants"),
        "{text}"
    );
    assert!(
        text.ends_with("1 value was not finite and not drawn."),
        "{text}"
    );

    let mut lanes = swimmer_lanes();
    lanes[0].markers.push((f64::NAN, SwimmerMarkerKind::Death));
    assert!(desc(&swimmer("a", "t", &lanes, &CATEGORIES)).contains("1 value was not finite"));

    let mut km = km_series();
    km[0].steps[2].2 = f64::NAN;
    assert!(desc(&kaplan_meier("a", "t", "months", &km)).contains("1 value was not finite"));
}
