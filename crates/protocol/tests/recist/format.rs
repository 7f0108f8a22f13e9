//! The calculator's JSON format (docs/recist-format.md): input as written, output fields,
//! rule errors with paths, unreadable input.

use protocol::recist::{InputError, errors_json, evaluate_text, evaluation_json};
use serde_json::{Value, json};

fn example() -> Value {
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
            {"date": "2025-04-04", "targets": {"T1": "too_small", "T2": 9.0},
             "non_targets": {"N1": "present"}, "new_lesions": "no"},
            {"date": "2025-05-02", "overall_response": "PD"}
        ]
    })
}

fn run(input: &Value) -> Value {
    let (case, evaluation) = evaluate_text(&input.to_string()).expect("valid input");
    evaluation_json(&case, &evaluation)
}

fn rule_errors(input: &Value) -> Vec<(String, String)> {
    match evaluate_text(&input.to_string()) {
        Err(InputError::Rules(errors)) => errors.into_iter().map(|e| (e.path, e.message)).collect(),
        other => panic!("expected rule errors, got {other:?}"),
    }
}

#[test]
fn the_documented_example_evaluates() {
    let out = run(&example());
    let a = &out["assessments"];
    // Baseline 31 + 19 = 50 mm; 20 + 12 = 32 mm is −36 %.
    assert_eq!(a[0]["date"], "2025-03-07");
    assert_eq!(a[0]["sum_mm"], 32.0);
    assert_eq!(a[0]["change_from_baseline_pct"], -36.0);
    assert_eq!(a[0]["change_from_nadir_pct"], -36.0);
    assert_eq!(a[0]["target_response"], "PR");
    assert_eq!(a[0]["non_target_response"], "NON_CR_NON_PD");
    assert_eq!(a[0]["new_lesions"], "no");
    assert_eq!(a[0]["overall_response"], "PR");
    // 5 (too small) + 9 = 14 mm: −72 % from baseline, −56.3 % from the 32 mm nadir.
    assert_eq!(a[1]["sum_mm"], 14.0);
    assert_eq!(a[1]["nadir_mm"], 32.0);
    assert_eq!(a[1]["change_from_baseline_pct"], -72.0);
    assert_eq!(a[1]["change_from_nadir_pct"], -56.3);
    assert_eq!(a[1]["overall_response"], "PR");
    // A reported response: nothing derived.
    assert_eq!(a[2]["sum_mm"], Value::Null);
    assert_eq!(a[2]["target_response"], Value::Null);
    assert_eq!(a[2]["overall_response"], "PD");
    // PR confirmed 28 days later.
    assert_eq!(
        out["best_overall_response"],
        json!({"response": "PR", "date": "2025-03-07"})
    );
    assert_eq!(out["errors"], json!([]));
    assert_eq!(out["rules"]["confirmation"], true);
}

#[test]
fn optional_settings_take_their_defaults() {
    let mut input = example();
    let obj = input.as_object_mut().expect("object");
    obj.remove("confirmation");
    obj.remove("confirm_min_days");
    obj.remove("sd_min_days");
    let out = run(&input);
    assert_eq!(
        out["rules"],
        json!({"confirmation": false, "confirm_min_days": 28, "sd_min_days": 42, "too_small_mm": 5.0})
    );
}

#[test]
fn lesion_kinds_absent_are_na() {
    let input = json!({
        "treatment_start": "2025-01-10",
        "baseline": {"date": "2025-01-03", "slice_thickness_mm": 5,
            "lesions": [{"id": "T1", "organ": "liver", "role": "target", "diameter_mm": 20}]},
        "assessments": [
            {"date": "2025-03-01", "targets": {"T1": "disappeared"}, "new_lesions": "no"},
            {"date": "2025-04-01", "targets": {"T1": null}, "new_lesions": "equivocal"}
        ]
    });
    let out = run(&input);
    let a = &out["assessments"];
    assert_eq!(a[0]["target_response"], "CR");
    assert_eq!(a[0]["non_target_response"], "NA");
    assert_eq!(a[0]["change_from_baseline_pct"], -100.0);
    assert_eq!(a[1]["target_response"], "NE");
    assert_eq!(a[1]["sum_mm"], Value::Null);
    assert_eq!(a[1]["notes"].as_array().map(Vec::len), Some(1));
}

#[test]
fn fragments_and_coalesced_lesions_are_written_as_objects() {
    let input = json!({
        "treatment_start": "2025-01-10",
        "baseline": {"date": "2025-01-03", "slice_thickness_mm": 5, "lesions": [
            {"id": "T1", "organ": "liver", "role": "target", "diameter_mm": 30},
            {"id": "T2", "organ": "liver", "role": "target", "diameter_mm": 20},
            {"id": "T3", "organ": "lung", "role": "target", "diameter_mm": 20}]},
        "assessments": [{"date": "2025-03-01", "targets": {
            "T1": {"coalesced_into": "T2"}, "T2": 40.0, "T3": {"fragments": [6.0, 4.5]}},
            "new_lesions": "no"}]
    });
    assert_eq!(run(&input)["assessments"][0]["sum_mm"], 50.5);
}

#[test]
fn broken_rules_are_listed_with_paths() {
    let input = json!({
        "treatment_start": "2025-01-10",
        "baseline": {"date": "2025-01-03", "slice_thickness_mm": 5, "lesions": [
            {"id": "T1", "organ": "liver", "role": "target", "diameter_mm": 30},
            {"id": "T2", "organ": "liver", "role": "target", "diameter_mm": 20},
            {"id": "T3", "organ": "liver", "role": "target", "diameter_mm": 9.5},
            {"id": "T4", "organ": "lymph node", "node": true, "role": "target", "diameter_mm": 14},
            {"id": "T5", "organ": "lung", "role": "target", "diameter_mm": 20},
            {"id": "T6", "organ": "skin", "role": "target", "diameter_mm": 20}]},
        "assessments": []
    });
    let errors = rule_errors(&input);
    let paths: Vec<&str> = errors.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        paths,
        [
            "baseline.lesions[2].diameter_mm",
            "baseline.lesions[3].diameter_mm",
            "baseline.lesions",
            "baseline.lesions",
        ]
    );
    assert!(errors[2].1.contains("6 target lesions"), "{errors:?}");
    assert!(
        errors[3].1.contains("3 target lesions in liver"),
        "{errors:?}"
    );
    let json = errors_json(&[protocol::recist::RuleError::new("a", "b")]);
    assert_eq!(json, json!({"errors": [{"path": "a", "message": "b"}]}));
}

#[test]
fn assessments_must_cover_the_baseline_and_stay_in_order() {
    let mut input = example();
    input["assessments"] = json!([
        {"date": "2025-03-07", "targets": {"T1": 20.0}, "non_targets": {"N1": "present", "X": "absent"},
         "new_lesions": "no"},
        {"date": "2025-03-01", "targets": {"T1": "gone", "T2": -3}, "non_targets": {"N1": "present"},
         "new_lesions": "no"},
        {"date": "2025-04-01", "overall_response": "SD", "new_lesions": "no"}
    ]);
    let errors = rule_errors(&input);
    let paths: Vec<&str> = errors.iter().map(|(p, _)| p.as_str()).collect();
    // Value errors are found while reading, before order and coverage are checked.
    assert_eq!(
        paths,
        [
            "assessments[1].targets.T1",
            "assessments[1].targets.T2",
            "assessments[2]"
        ]
    );
    input["assessments"] = json!([
        {"date": "2025-03-07", "targets": {"T1": 20.0}, "non_targets": {"N1": "present", "X": "absent"},
         "new_lesions": "no"},
        {"date": "2025-03-01", "targets": {"T1": 20.0, "T2": 12.0}, "non_targets": {"N1": "present"},
         "new_lesions": "no"}
    ]);
    let errors = rule_errors(&input);
    let paths: Vec<&str> = errors.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        paths,
        [
            "assessments[0].targets",
            "assessments[0].non_targets.X",
            "assessments[1].date"
        ]
    );
    assert!(errors[0].1.contains("lesion T2 is missing"), "{errors:?}");
}

#[test]
fn unreadable_input_is_not_a_rule_error() {
    for text in ["{", "[]", r#"{"treatment_start": "2025-01-10"}"#] {
        assert!(
            matches!(evaluate_text(text), Err(InputError::Unreadable(_))),
            "{text}"
        );
    }
    // A misspelt key is caught rather than ignored.
    let mut input = example();
    input["confirmaton"] = json!(true);
    assert!(matches!(
        evaluate_text(&input.to_string()),
        Err(InputError::Unreadable(_))
    ));
    // A bad date says what a date looks like.
    input = example();
    input["assessments"][0]["date"] = json!("2025-02-30");
    match evaluate_text(&input.to_string()) {
        Err(InputError::Unreadable(m)) => {
            assert!(m.contains("\"2025-02-30\" is not a date"), "{m}")
        }
        other => panic!("expected unreadable input, got {other:?}"),
    }
    // So is an unknown response word.
    input = example();
    input["assessments"][2]["overall_response"] = json!("MR");
    assert!(matches!(
        evaluate_text(&input.to_string()),
        Err(InputError::Unreadable(_))
    ));
}
