//! `her2ex analyse` and `her2ex report` on the demo, as the statistician runs them: every
//! number as JSON, the HTML report, the same bytes for the same cut-off, a refusal for a
//! role that may not take them, and each output recorded in an audit trail that still
//! verifies; and `her2ex simulate`, reproducible for its seed.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

mod common;
use common::{demo_participants, her2ex, text};

const BIN: &str = env!("CARGO_BIN_EXE_her2ex");

/// A small demo built at a fixed instant, so that two builds can be compared.
const SMALL_DEMO: [&str; 8] = [
    "demo",
    "--no-serve",
    "--participants",
    "20",
    "--seed",
    "11",
    "--built-at",
    "2026-11-18T11:00:00Z",
];

#[test]
fn the_statistician_analyses_the_demo_and_writes_a_reproducible_report() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let o = her2ex(&data, &SMALL_DEMO);
    assert!(o.status.success(), "{}", text(&o));
    let registered = demo_participants(&o);
    // The cut-off just after the demo's present: the outputs taken below come later.
    let cut = "2026-11-18T11:00:01Z".to_string();

    let json = |who: &str| her2ex(&data, &["analyse", "--json", "--as", who, "--as-of", &cut]);
    let first = json("sam.stat");
    assert!(first.status.success(), "{}", text(&first));
    let a: Value = serde_json::from_slice(&first.stdout).expect("JSON");
    assert_eq!(
        a["counts"]["registered"], registered,
        "the demo's participants"
    );
    assert_eq!(a["counts"]["enrolled"], 20, "{}", a["counts"]);
    assert_eq!(
        a["cut_off"]["as_of"].as_str().map(|s| &s[..19]),
        Some(&cut[..19])
    );
    for key in ["diagnostic", "response", "pfs", "safety"] {
        assert!(a[key].is_object(), "{key} in {a}");
    }
    let roc = &a["diagnostic"]["roc_patient"];
    assert!(
        roc["auc"].is_number() || roc["not_estimable"].is_string(),
        "a number or a reason: {roc}"
    );
    assert!(!String::from_utf8_lossy(&first.stdout).contains("NaN"));
    let again = json("stina.director");
    assert_eq!(first.stdout, again.stdout, "same cut-off, same numbers");

    let report = |out: &Path| {
        her2ex(
            &data,
            &[
                "report",
                "--as",
                "sam.stat",
                "--as-of",
                &cut,
                "--out",
                out.to_str().unwrap(),
            ],
        )
    };
    let (r1, r2) = (dir.path().join("r1.html"), dir.path().join("r2.html"));
    for r in [&r1, &r2] {
        let o = report(r);
        assert!(o.status.success(), "{}", text(&o));
    }
    let html = std::fs::read_to_string(&r1).expect("report");
    assert_eq!(
        html,
        std::fs::read_to_string(&r2).expect("report"),
        "same bytes"
    );
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains(a["cut_off"]["head_hash"].as_str().expect("head")));
    assert!(html.matches("<svg").count() >= 8, "every picture inline");
    assert!(!html.contains("<script"), "no script");

    // A nurse may not take the analyses; the refusal names why.
    let o = json("anna.nurse");
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("research nurse"), "{}", text(&o));
    // A cut-off in the future is refused.
    let o = her2ex(
        &data,
        &["analyse", "--as", "sam.stat", "--as-of", "2999-01-01"],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("future"), "{}", text(&o));

    // Four outputs were recorded, and the audit trail still verifies.
    let o = her2ex(&data, &["audit", "verify"]);
    assert!(o.status.success(), "{}", text(&o));

    // The same seed built again gives the same events (the chain head in the JSON hashes
    // every event, its payload, author and time) and so the same numbers.
    let twin = dir.path().join("twin");
    let o = her2ex(&twin, &SMALL_DEMO);
    assert!(o.status.success(), "{}", text(&o));
    let again = her2ex(
        &twin,
        &["analyse", "--json", "--as", "sam.stat", "--as-of", &cut],
    );
    assert_eq!(
        String::from_utf8_lossy(&first.stdout),
        String::from_utf8_lossy(&again.stdout),
        "same seed, same trial"
    );
    // Another seed is another trial.
    let other = dir.path().join("other");
    let mut args = SMALL_DEMO;
    args[5] = "12";
    let o = her2ex(&other, &args);
    assert!(o.status.success(), "{}", text(&o));
    let third = her2ex(
        &other,
        &["analyse", "--json", "--as", "sam.stat", "--as-of", &cut],
    );
    let b: Value = serde_json::from_slice(&third.stdout).expect("JSON");
    assert_ne!(a["cut_off"]["head_hash"], b["cut_off"]["head_hash"]);
}

#[test]
fn the_simulator_gives_the_same_operating_characteristics_for_the_same_seed() {
    let dir = tempfile::tempdir().expect("temp dir");
    let svg = dir.path().join("oc.svg");
    // The simulator needs no study: it reads no data directory.
    let run = |extra: &[&str]| {
        Command::new(BIN)
            .args([
                "simulate",
                "--replicates",
                "20",
                "--n",
                "30,60",
                "--seed",
                "7",
            ])
            .args(extra)
            .output()
            .expect("run her2ex")
    };
    let a = run(&["--json"]);
    assert!(a.status.success(), "{}", text(&a));
    let json: Value = serde_json::from_slice(&a.stdout).expect("JSON");
    assert!(
        json["assumptions"]["accrual"]["sites"].is_array(),
        "the assumptions in force"
    );
    assert_eq!(a.stdout, run(&["--json"]).stdout, "same seed, same numbers");
    let o = run(&["--svg", svg.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("power AUC > null"),
        "the table: {}",
        text(&o)
    );
    let picture = std::fs::read_to_string(&svg).expect("the picture");
    assert!(picture.starts_with("<svg") && picture.contains("<title"));

    // A bad assumptions file is refused, naming the key at fault.
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[accrual]\nstart = 1\n").expect("write");
    let o = run(&["--assumptions", bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("unknown field `start`"), "{}", text(&o));
}
