//! `her2ex pet …` through the binary: JSON fields, exit codes, reference SUVs.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// The IBSI SUV reference (`HER2EX_REFERENCE_DIR` overrides); the test fails without it.
fn reference_dir() -> PathBuf {
    let dir = std::env::var_os("HER2EX_REFERENCE_DIR").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/ibsi-suv-dro"),
        PathBuf::from,
    );
    assert!(
        dir.join("DRO_list.csv").is_file(),
        "IBSI SUV reference not found at {} (set HER2EX_REFERENCE_DIR)",
        dir.display()
    );
    dir
}

/// Runs the binary; returns exit code and parsed JSON stdout.
fn her2ex(args: &[&str]) -> (i32, Value) {
    let out = Command::new(env!("CARGO_BIN_EXE_her2ex"))
        .args(args)
        .output()
        .expect("run her2ex");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let json = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "{args:?}: stdout is not JSON ({e}): {stdout}\nstderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().expect("exit code"), json)
}

fn pt(case: &str) -> String {
    reference_dir().join(case).join("PT").display().to_string()
}

#[test]
fn inspect_json_reports_the_scan_time_rule_of_each_case() {
    for (case, rule, decay_time) in [
        ("DRO_0_0", "series_time", 3600.0),
        ("DRO_3_2", "frame_backcompute", 3600.0),
        ("DRO_3_3", "series_time", 3600.0),
        ("DRO_3_4", "series_time", 3900.0),
    ] {
        let (code, j) = her2ex(&["pet", "inspect", &pt(case), "--json"]);
        assert_eq!(code, 0, "{case}: {j}");
        assert_eq!(j["scan_datetime_rule"], rule, "{case}");
        let t = j["decay_time_s"].as_f64().unwrap();
        assert!((t - decay_time).abs() < 1.0, "{case}: {t}");
        assert_eq!(j["suv_type"], "bw");
        assert!(j["warnings"].is_array());
    }
}

#[test]
fn inspect_json_fields_of_dro_0_0_and_the_philips_case() {
    let (_, j) = her2ex(&["pet", "inspect", &pt("DRO_0_0"), "--json"]);
    assert_eq!(j["units"], "BQML");
    assert_eq!(j["decay_correction"], "START");
    // 70 kg / (368.08 MBq decayed over one F-18 hour) = 1/3600 g/mL per Bq/mL.
    let f = j["suvbw_scale_factor"].as_f64().unwrap();
    assert!((f * 3600.0 - 1.0).abs() < 1e-3, "{f}");
    let factors = j["suvbw_scale_factors"].as_object().unwrap();
    assert_eq!(factors.len(), 20);
    assert!(factors.values().all(|v| v.as_f64() == Some(f)));

    let (_, j) = her2ex(&["pet", "inspect", &pt("DRO_2_4"), "--json"]);
    assert_eq!(j["units"], "CNTS");
    assert_eq!(j["suvbw_scale_factor"].as_f64(), Some(0.0005));
    assert_eq!(j["scan_datetime_rule"], Value::Null);
}

#[test]
fn quantify_gives_the_reference_suv_in_mask_and_rtstruct() {
    let dir = reference_dir();
    for case in ["DRO_0_0", "DRO_2_1", "DRO_3_4", "DRO_4_2"] {
        let mask = dir.join(case).join("mask/DRO_mask.nii.gz");
        let (code, j) = her2ex(&[
            "pet",
            "quantify",
            &pt(case),
            "--mask",
            mask.to_str().unwrap(),
            "--json",
        ]);
        assert_eq!(code, 0, "{case}: {j}");
        let voi = &j["voi"];
        for (field, want) in [("suv_min", 0.2), ("suv_median", 1.0), ("suv_max", 4.0)] {
            let got = voi[field].as_f64().unwrap();
            assert!((got - want).abs() <= 0.005 * want, "{case} {field}: {got}");
        }
        assert!(j["volume"]["suv_max"].as_f64().unwrap() >= 3.98);
        assert!(j["lesions"].is_array());
    }
    let rs_dir = dir.join("DRO_3_2/RS");
    let rs = std::fs::read_dir(&rs_dir)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let (code, j) = her2ex(&[
        "pet",
        "quantify",
        &pt("DRO_3_2"),
        "--rtstruct",
        rs.to_str().unwrap(),
        "--roi",
        "region_1",
        "--json",
    ]);
    assert_eq!(code, 0, "{j}");
    let median = j["voi"]["suv_median"].as_f64().unwrap();
    assert!((median - 1.0).abs() < 0.005, "{median}");
}

#[test]
fn refusal_exits_1_and_unreadable_input_exits_2() {
    // A header without attenuation correction: copy DRO_0_0 and edit CorrectedImage.
    let tmp = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(pt("DRO_0_0")).unwrap() {
        let from = entry.unwrap().path();
        let to = tmp.path().join(from.file_name().unwrap());
        let mut obj = pet::series::open::open_dicom(&from).unwrap();
        let tag = dicom_object::Tag(0x0028, 0x0051);
        let vr = obj.element(tag).unwrap().header().vr;
        obj.put_str(tag, vr, "NORM\\DECY");
        obj.write_to_file(&to).unwrap();
    }
    let dir = tmp.path().to_str().unwrap();
    let (code, j) = her2ex(&["pet", "inspect", dir, "--json"]);
    assert_eq!(code, 1, "{j}");
    let reasons = j["refusal"].as_array().unwrap();
    assert!(reasons[0].as_str().unwrap().contains("ATTN"), "{j}");
    let (code, j) = her2ex(&["pet", "inspect", dir, "--allow", "missing-attn", "--json"]);
    assert_eq!(code, 0, "{j}");
    assert!(j["warnings"].to_string().contains("missing-attn"));

    let empty = tempfile::tempdir().unwrap();
    std::fs::write(empty.path().join("note.txt"), "not an image").unwrap();
    let (code, j) = her2ex(&["pet", "inspect", empty.path().to_str().unwrap(), "--json"]);
    assert_eq!(code, 2);
    assert!(
        j["error"].as_str().unwrap().contains("no PET images"),
        "{j}"
    );
}

/// `her2ex pet inspect DIR --json | head`: the reader stops early. The command ends
/// quietly (exit 0, nothing on standard error) instead of panicking on the broken pipe.
#[test]
fn a_reader_that_stops_early_ends_the_command_quietly() {
    use std::process::Stdio;
    let mut child = Command::new(env!("CARGO_BIN_EXE_her2ex"))
        .args(["pet", "inspect", &pt("DRO_0_0"), "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run her2ex");
    // Close the reading end before the command writes anything.
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("wait");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!stderr.contains("Broken pipe"), "{stderr}");
    assert_eq!(out.status.code(), Some(0), "{stderr}");
}
