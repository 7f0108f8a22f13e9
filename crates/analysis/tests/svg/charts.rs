//! What each chart shows that a reader relies on: the numbers of its text alternative,
//! the order of its bars and lanes, its thresholds and the numbers at risk.

use analysis::svg::*;

use super::edges::desc;
use super::fixtures::*;

/// The text content of every `<text>` element, in document order.
fn texts(svg: &str) -> Vec<String> {
    let doc = roxmltree::Document::parse(svg).unwrap();
    doc.descendants()
        .filter(|n| n.has_tag_name("text"))
        .map(|n| n.text().unwrap_or("").to_string())
        .collect()
}

/// Tooltips of elements named `tag`, in document order.
fn tips(svg: &str, tag: &str) -> Vec<String> {
    let doc = roxmltree::Document::parse(svg).unwrap();
    doc.descendants()
        .filter(|n| n.has_tag_name(tag))
        .filter_map(|n| {
            n.children()
                .find(|c| c.has_tag_name("title"))
                .and_then(|t| t.text())
                .map(str::to_string)
        })
        .collect()
}

#[test]
fn strip_box_reports_median_and_tukey_quartiles() {
    let p = |v: f64| StripPoint {
        value: v,
        label: format!("p{v}"),
        highlighted: v == 4.0,
    };
    let g = StripGroup {
        label: "HER2-low".into(),
        points: [1.0, 2.0, 3.0, 4.0, 100.0].into_iter().map(p).collect(),
    };
    let svg = strip_box("s", "t", "SUVmax (g/mL)", &[g], Some((6.0, "SUVmax 6")));
    // Type-7 quartiles of 1, 2, 3, 4, 100 are 2 and 4; 100 lies beyond 4 + 1.5 × 2.
    assert_eq!(
        desc(&svg),
        "SUVmax (g/mL) by group. HER2-low: n = 5, median 3.0 (IQR 2.0–4.0). Reference line at 6.0 (SUVmax 6)."
    );
    // The highlighted point is labelled, and the outlier still drawn.
    assert!(texts(&svg).contains(&"p4".to_string()));
    assert!(tips(&svg, "circle").contains(&"p100: 100.00".to_string()));
    assert!(texts(&svg).contains(&"n = 5".to_string()));
}

#[test]
fn roc_marks_the_operating_point() {
    let svg = roc_curve("r", "t", &roc_series(), Some((0.24, 0.85, "SUVmax 6")));
    let text = desc(&svg);
    assert!(
        text.contains("Marked: SUVmax 6, sensitivity 0.85 and specificity 0.76."),
        "{text}"
    );
    assert!(texts(&svg).contains(&"SUVmax 6".to_string()));
    assert!(texts(&svg).contains(&"1 − specificity (false-positive rate)".to_string()));
}

#[test]
fn waterfall_sorts_descending_and_counts_recist_thresholds() {
    let bars = vec![
        WaterfallBar {
            label: "A".into(),
            value: -45.0,
            category: 0,
        },
        WaterfallBar {
            label: "B".into(),
            value: 35.0,
            category: 1,
        },
        WaterfallBar {
            label: "C".into(),
            value: -10.0,
            category: 1,
        },
        WaterfallBar {
            label: "D".into(),
            value: -130.0,
            category: 0,
        },
    ];
    let svg = waterfall("w", "t", &bars, &["HER2-zero", "HER2-low"]);
    let order: Vec<String> = tips(&svg, "rect")
        .into_iter()
        .map(|t| t.split(':').next().unwrap().to_string())
        .collect();
    assert_eq!(order, ["B", "C", "A", "D"]);
    assert_eq!(
        desc(&svg),
        "Best % change in sum of target-lesion diameters for 4 participants (2 HER2-zero, 2 HER2-low), from 35.0 % to -130.0 %. \
         2 at or below −30 % (partial response threshold), 1 at or above +20 % (progression threshold)."
    );
    let t = texts(&svg);
    assert!(t.contains(&"+20 % (PD)".to_string()) && t.contains(&"−30 % (PR)".to_string()));
    // The axis starts at −100 and a bar below it is cut there, not drawn off the plot.
    assert!(t.contains(&"-100".to_string()) && !t.contains(&"-120".to_string()));
}

#[test]
fn swimmer_puts_the_longest_lane_on_top() {
    let lanes = swimmer_lanes();
    let svg = swimmer("s", "t", &lanes, &CATEGORIES);
    let mut by_len: Vec<&SwimmerLane> = lanes.iter().collect();
    by_len.sort_by(|a, b| b.end.total_cmp(&a.end));
    let drawn: Vec<String> = tips(&svg, "rect")
        .into_iter()
        .filter(|t| t.contains(" months ("))
        .map(|t| t.split(':').next().unwrap().to_string())
        .collect();
    let expect: Vec<String> = by_len.iter().map(|l| l.label.clone()).collect();
    assert_eq!(drawn, expect);
    let ongoing = lanes.iter().filter(|l| l.ongoing).count();
    assert_eq!(ongoing, 3);
    assert!(desc(&svg).contains(", 3 ongoing."), "{}", desc(&svg));
    assert_eq!(
        tips(&svg, "polygon")
            .iter()
            .filter(|t| *t == "ongoing")
            .count(),
        3
    );
}

#[test]
fn kaplan_meier_counts_numbers_at_risk_at_each_tick() {
    let s = km(
        "Arm A",
        &[1.0, 2.0, 3.0, 5.0, 8.0, 13.0],
        &[true, false, true, true, false, true],
    );
    let svg = kaplan_meier("k", "t", "Time since start of T-DXd (months)", &[s]);
    let t = texts(&svg);
    let at = t.iter().position(|x| x == "Number at risk").unwrap();
    // Ticks 0, 2, …, 14; still followed (exit ≥ tick): 6 5 3 2 2 1 1 0.
    assert_eq!(
        t[at + 1..].to_vec(),
        ["Arm A", "6", "5", "3", "2", "2", "1", "1", "0"]
    );
    // S = 5/6 · 3/4 · 2/3 = 0.42 after the event at 5 months: the median is 5 months.
    assert!(
        desc(&svg).contains("Arm A: 6 participants, median 5.0 months, 0.00 at 13.0 months"),
        "{}",
        desc(&svg)
    );
    assert!(svg.contains("fill-opacity=\"0.15\""));
}

#[test]
fn heterogeneity_ranks_the_biopsied_lesion() {
    let svg = heterogeneity("h", "t", &lesions(), 6.0);
    let text = desc(&svg);
    assert!(text.starts_with("SUVmax of 9 lesions at 4 sites (liver, bone, lymph node, lung): 5 avid, 4 not avid; SUVmax 2.4 to 15.6 g/mL."), "{text}");
    assert!(
        text.contains("Biopsied lesion: liver, SUVmax 9.4 (rank 3 of 9)."),
        "{text}"
    );
    let t = texts(&svg);
    let sites: Vec<&String> = t
        .iter()
        .filter(|x| ["liver", "bone", "lymph node", "lung"].contains(&x.as_str()))
        .collect();
    assert_eq!(sites, ["liver", "bone", "lymph node", "lung"]);
    assert!(t.contains(&"biopsy".to_string()) && t.contains(&"threshold 6.0".to_string()));
}

#[test]
fn stacked_bars_show_totals_and_split() {
    let svg = stacked_bars("a", "t", "Participants", &ae_groups(), &GRADES);
    let text = desc(&svg);
    assert!(
        text.starts_with("Nausea: 29 (18 Grade 1, 9 Grade 2, 2 Grade 3); Fatigue: 25"),
        "{text}"
    );
    let t = texts(&svg);
    assert!(t.contains(&"29".to_string()) && t.contains(&"19".to_string()));
    assert!(
        tips(&svg, "rect")
            .contains(&"Interstitial lung disease / pneumonitis, Grade 5: 1".to_string())
    );
}
