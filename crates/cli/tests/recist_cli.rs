//! `her2ex recist evaluate`: the built binary with JSON on standard input.

use std::io::Write as _;
use std::process::{Command, Stdio};

use serde_json::{Value, json};

/// Runs `her2ex recist evaluate <args>` with `input` on stdin; returns (exit code, stdout).
fn her2ex(args: &[&str], input: &str) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_her2ex"))
        .args(["recist", "evaluate"])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start her2ex");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("write stdin");
    let out = child.wait_with_output().expect("run her2ex");
    (
        out.status.code().expect("exit code"),
        String::from_utf8(out.stdout).expect("utf-8"),
        String::from_utf8(out.stderr).expect("utf-8"),
    )
}

fn case() -> Value {
    json!({
        "treatment_start": "2025-01-10",
        "confirmation": true,
        "confirm_min_days": 28,
        "sd_min_days": 42,
        "baseline": {
            "date": "2025-01-03",
            "slice_thickness_mm": 5,
            "lesions": [
                {"id": "T1", "organ": "liver", "node": false, "role": "target", "diameter_mm": 31.0},
                {"id": "T2", "organ": "lymph node", "node": true, "role": "target", "diameter_mm": 19.0},
                {"id": "N1", "organ": "bone", "node": false, "role": "non_target"}
            ]
        },
        "assessments": [
            {"date": "2025-03-07", "targets": {"T1": 20.0, "T2": 12.0},
             "non_targets": {"N1": "present"}, "new_lesions": "no"},
            {"date": "2025-04-04", "targets": {"T1": "disappeared", "T2": 9.0},
             "non_targets": {"N1": "absent"}, "new_lesions": "no"},
            {"date": "2025-05-02", "targets": {"T1": null, "T2": 16.0},
             "non_targets": {"N1": "absent"}, "new_lesions": "no"},
            {"date": "2025-06-01", "overall_response": "PD"}
        ]
    })
}

#[test]
fn evaluates_json_from_stdin() {
    let (code, stdout, _) = her2ex(&["-", "--json"], &case().to_string());
    assert_eq!(code, 0, "{stdout}");
    let out: Value = serde_json::from_str(&stdout).expect("JSON output");
    let a = out["assessments"].as_array().expect("assessments");
    assert_eq!(a.len(), 4);
    let overall: Vec<&str> = a
        .iter()
        .map(|p| p["overall_response"].as_str().unwrap_or("?"))
        .collect();
    // 32 mm (−36 %): PR; T1 gone and the node at 9 mm: CR; T2 16 mm is +7 mm from the
    // 9 mm nadir (+77.8 %) with T1 not evaluated: PD; then the reported PD.
    assert_eq!(overall, ["PR", "CR", "PD", "PD"]);
    assert_eq!(a[0]["sum_mm"], 32.0);
    assert_eq!(a[0]["change_from_baseline_pct"], -36.0);
    assert_eq!(a[1]["sum_mm"], 9.0);
    assert_eq!(a[1]["target_response"], "CR");
    assert_eq!(a[1]["non_target_response"], "CR");
    assert_eq!(a[2]["target_response"], "PD");
    assert_eq!(a[2]["sum_mm"], Value::Null);
    assert_eq!(a[3]["target_response"], Value::Null);
    // PR on 2025-03-07 confirmed by the CR 28 days later; the CR itself is unconfirmed.
    assert_eq!(
        out["best_overall_response"],
        json!({"response": "PR", "date": "2025-03-07"})
    );
    assert_eq!(out["errors"], json!([]));
}

#[test]
fn reads_a_file_and_prints_a_table() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("case.json");
    std::fs::write(&path, case().to_string()).expect("write case");
    let (code, stdout, _) = her2ex(&[path.to_str().expect("path")], "");
    assert_eq!(code, 0, "{stdout}");
    assert!(stdout.contains("2025-03-07"), "{stdout}");
    assert!(stdout.contains("NON_CR_NON_PD"), "{stdout}");
    assert!(
        stdout.contains("Best overall response: PR (2025-03-07)"),
        "{stdout}"
    );
}

#[test]
fn rule_errors_exit_1_with_paths() {
    let mut input = case();
    input["baseline"]["lesions"] = json!([
        {"id": "T1", "organ": "liver", "role": "target", "diameter_mm": 31.0},
        {"id": "T2", "organ": "liver", "role": "target", "diameter_mm": 22.0},
        {"id": "T3", "organ": "liver", "role": "target", "diameter_mm": 15.0},
        {"id": "N1", "organ": "lymph node", "node": true, "role": "target", "diameter_mm": 12.0}
    ]);
    let (code, stdout, _) = her2ex(&["-", "--json"], &input.to_string());
    assert_eq!(code, 1, "{stdout}");
    let out: Value = serde_json::from_str(&stdout).expect("JSON errors");
    let errors = out["errors"].as_array().expect("errors");
    let paths: Vec<&str> = errors
        .iter()
        .map(|e| e["path"].as_str().unwrap_or("?"))
        .collect();
    assert_eq!(
        paths,
        ["baseline.lesions[3].diameter_mm", "baseline.lesions"]
    );
    assert!(
        errors[1]["message"]
            .as_str()
            .unwrap_or("")
            .contains("per organ")
    );
}

#[test]
fn assessment_errors_exit_1() {
    let mut input = case();
    input["assessments"] = json!([
        {"date": "2025-04-04", "targets": {"T1": 20.0, "T9": 3.0},
         "non_targets": {"N1": "present"}, "new_lesions": "no"},
        {"date": "2025-03-07", "targets": {"T1": 20.0, "T2": 12.0},
         "non_targets": {"N1": "present"}, "new_lesions": "no"}
    ]);
    let (code, stdout, _) = her2ex(&["-", "--json"], &input.to_string());
    assert_eq!(code, 1, "{stdout}");
    let out: Value = serde_json::from_str(&stdout).expect("JSON errors");
    let paths: Vec<&str> = out["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| e["path"].as_str().unwrap_or("?"))
        .collect();
    assert_eq!(
        paths,
        [
            "assessments[0].targets",
            "assessments[0].targets.T9",
            "assessments[1].date"
        ]
    );
}

#[test]
fn unreadable_input_exits_2() {
    let (code, stdout, _) = her2ex(&["-", "--json"], "{ not json");
    assert_eq!(code, 2);
    let out: Value = serde_json::from_str(&stdout).expect("JSON errors");
    assert_eq!(out["errors"].as_array().map(Vec::len), Some(1));
    // Without --json the message goes to standard error.
    let (code, stdout, stderr) = her2ex(&["/nonexistent/case.json"], "");
    assert_eq!(code, 2);
    assert!(stdout.is_empty());
    assert!(stderr.contains("unreadable input"), "{stderr}");
}
