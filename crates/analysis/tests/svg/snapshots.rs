//! Byte-for-byte snapshots of every chart with realistic data: a change in any byte of
//! a picture shows up here, to be looked at and accepted on purpose.

use std::path::PathBuf;

use analysis::svg::*;

use super::fixtures::*;

/// The operating point of SUVmax ≥ 6 on the fixture's SUVmax curve.
fn suvmax6() -> (f64, f64, &'static str) {
    let g = strip_groups();
    let share = |pts: &[&StripPoint]| {
        pts.iter().filter(|p| p.value >= 6.0).count() as f64 / pts.len() as f64
    };
    let neg: Vec<&StripPoint> = g[0].points.iter().collect();
    let pos: Vec<&StripPoint> = g[1].points.iter().chain(&g[2].points).collect();
    (share(&neg), share(&pos), "SUVmax 6")
}

/// Every chart drawn from the fixtures, by snapshot name.
pub fn all_charts() -> Vec<(&'static str, String)> {
    vec![
        (
            "strip_box",
            strip_box(
                "suv",
                "SUVmax by HER2 status",
                "SUVmax (g/mL)",
                &strip_groups(),
                Some((6.0, "SUVmax 6")),
            ),
        ),
        (
            "roc",
            roc_curve(
                "roc",
                "HER2 expression: ROC of the PET read",
                &roc_series(),
                Some(suvmax6()),
            ),
        ),
        (
            "waterfall",
            waterfall(
                "wf",
                "Best change in tumour size",
                &waterfall_bars(),
                &CATEGORIES,
            ),
        ),
        (
            "swimmer",
            swimmer("swim", "Time on T-DXd", &swimmer_lanes(), &CATEGORIES),
        ),
        (
            "spider",
            spider(
                "spider",
                "Change in tumour size over time",
                &spider_series(),
                &CATEGORIES,
            ),
        ),
        (
            "kaplan_meier",
            kaplan_meier(
                "pfs",
                "Progression-free survival by HER2 status",
                "Time since start of T-DXd (months)",
                &km_series(),
            ),
        ),
        (
            "heterogeneity",
            heterogeneity("het", "HX-017: SUVmax of every lesion", &lesions(), 6.0),
        ),
        (
            "stacked_bars",
            stacked_bars(
                "ae",
                "Adverse events by worst CTCAE grade",
                "Participants",
                &ae_groups(),
                &GRADES,
            ),
        ),
    ]
}

fn snapshot_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/snapshots")
        .join(format!("{name}.svg"))
}

/// Compares `svg` with the stored snapshot, or rewrites it when HER2EX_UPDATE_SNAPSHOTS=1.
fn check(name: &str, svg: &str) {
    let path = snapshot_path(name);
    if std::env::var("HER2EX_UPDATE_SNAPSHOTS").as_deref() == Ok("1") {
        std::fs::write(&path, svg).unwrap();
        return;
    }
    let stored = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; run with HER2EX_UPDATE_SNAPSHOTS=1 to create it",
            path.display()
        )
    });
    assert!(
        stored == svg,
        "{name}.svg differs from its snapshot; look, then rerun with HER2EX_UPDATE_SNAPSHOTS=1"
    );
}

#[test]
fn every_chart_matches_its_snapshot() {
    for (name, svg) in all_charts() {
        check(name, &svg);
    }
}

#[test]
fn empty_charts_match_their_snapshots() {
    check(
        "empty_km",
        &kaplan_meier(
            "e",
            "Progression-free survival",
            "Time since start of T-DXd (months)",
            &[],
        ),
    );
    check(
        "empty_waterfall",
        &waterfall("e", "Best change in tumour size", &[], &CATEGORIES),
    );
}

#[test]
fn same_input_gives_same_bytes() {
    let a = all_charts();
    let b = all_charts();
    assert_eq!(a, b);
}
