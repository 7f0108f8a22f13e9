//! Lab units: conversions to canonical units, unknown units, impossible values.

use protocol::testing::lab;
use protocol::{Analyte, Command, Rule};

use crate::common::*;

/// The canonical value of the last lab after recording one more.
fn canonical(a: Analyte, v: f64, unit: &str, uln: Option<f64>) -> f64 {
    let (p, _) = build(&plus(base(), [lab(a, v, unit, uln, at(3))]));
    p.labs.last().unwrap().value.canonical_value
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-6
}

#[test]
fn known_units_convert_to_canonical() {
    assert!(close(
        canonical(Analyte::Haemoglobin, 12.4, "g/dL", None),
        124.0
    ));
    assert!(close(
        canonical(Analyte::Haemoglobin, 7.7, "mmol/L", None),
        124.047
    ));
    assert!(close(
        canonical(Analyte::Creatinine, 0.77, "mg/dL", None),
        68.0834
    ));
    assert!(close(
        canonical(Analyte::Bilirubin, 0.5, "mg/dL", Some(1.2)),
        8.55
    ));
    assert!(close(
        canonical(Analyte::Platelets, 245_000.0, "/mm³", None),
        245.0
    ));
    assert!(close(
        canonical(Analyte::Platelets, 245.0, "10^3/µL", None),
        245.0
    ));
    assert!(close(canonical(Analyte::Anc, 3.2, "×10⁹/L", None), 3.2));
    assert!(close(
        canonical(Analyte::Alt, 0.5, "µkat/L", Some(0.75)),
        30.0
    ));
    assert!(close(canonical(Analyte::Inr, 1.1, "", None), 1.1));
}

#[test]
fn bilirubin_uln_is_converted_with_the_value() {
    let (p, _) = build(&plus(
        base(),
        [lab(Analyte::Bilirubin, 1.8, "mg/dL", Some(1.2), at(3))],
    ));
    let l = &p.labs.last().unwrap().value;
    assert!(close(l.x_uln().unwrap(), 1.5));
    assert_eq!(l.canonical_unit, "µmol/L");
}

#[test]
fn unknown_unit_is_refused_naming_analyte_and_accepted_units() {
    let r = refusal(&plus(
        base(),
        [lab(Analyte::Platelets, 245.0, "mg/L", None, at(3))],
    ));
    assert_eq!(r.rule, Rule::UNIT_UNKNOWN);
    assert!(r.message.contains("platelets"), "{}", r.message);
    assert!(r.message.contains("10^9/L, 10^3/µL"), "{}", r.message);
    let r = refusal(&plus(
        base(),
        [lab(Analyte::Ast, 30.0, "mmol/L", Some(35.0), at(3))],
    ));
    assert_eq!(r.rule, Rule::UNIT_UNKNOWN);
    assert!(
        r.message.contains("AST") && r.message.contains("µkat/L"),
        "{}",
        r.message
    );
    let r = refusal(&plus(base(), [lab(Analyte::Inr, 1.1, "s", None, at(3))]));
    assert_eq!(r.rule, Rule::UNIT_UNKNOWN);
}

#[test]
fn impossible_values_are_refused() {
    let cases: [(Analyte, f64, &str, Option<f64>); 8] = [
        (Analyte::Platelets, 5001.0, "10^9/L", None),
        (Analyte::Platelets, -1.0, "10^9/L", None),
        (Analyte::Haemoglobin, 31.0, "g/dL", None),
        (Analyte::Haemoglobin, 0.0, "g/L", None),
        (Analyte::Inr, 21.0, "", None),
        (Analyte::Lvef, 101.0, "%", None),
        (Analyte::Aptt, f64::NAN, "s", None),
        (Analyte::Alt, 30.0, "U/L", Some(-5.0)),
    ];
    for (a, v, unit, uln) in cases {
        let r = refusal(&plus(base(), [lab(a, v, unit, uln, at(3))]));
        assert_eq!(r.rule, Rule::VALUE_IMPOSSIBLE, "{a:?} {v} {unit}");
    }
}

#[test]
fn transaminases_and_bilirubin_need_the_uln() {
    let r = refusal(&plus(base(), [lab(Analyte::Ast, 30.0, "U/L", None, at(3))]));
    assert_eq!(r.rule, Rule::VALUE_REQUIRED);
    assert!(r.message.contains("upper limit of normal"));
}

#[test]
fn lab_in_the_future_is_impossible() {
    let r = refusal(&plus(base(), [lab(Analyte::Inr, 1.0, "", None, at(30))]));
    assert_eq!(r.rule, Rule::VALUE_IMPOSSIBLE);
    assert!(r.message.contains("future"));
}

#[test]
fn other_impossible_screening_values() {
    let heavy = edit(base(), |c| {
        if let Command::RecordBodyWeight(w) = c {
            w.weight_kg = 400.0;
        }
    });
    assert_eq!(refusal(&heavy).rule, Rule::VALUE_IMPOSSIBLE);
    let ps5 = edit(base(), |c| {
        if let Command::RecordPerformanceStatus(p) = c {
            p.who_ps = 5;
        }
    });
    let r = refusal(&ps5);
    assert_eq!(r.rule, Rule::VALUE_IMPOSSIBLE);
    assert!(r.hint.unwrap().contains("death"));
    let node = edit(base(), |c| {
        if let Command::RecordLesion(l) = c {
            l.short_axis_mm = Some(l.longest_diameter_mm + 1.0);
        }
    });
    assert_eq!(refusal(&node).rule, Rule::VALUE_IMPOSSIBLE);
}
