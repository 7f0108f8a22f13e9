//! Reading the JSON fixtures and comparing numbers the way every module here does.

use serde_json::Value;

/// The cases of `tests/fixtures/stats/<name>.json`.
pub fn cases(name: &str) -> Vec<Value> {
    let path = format!(
        "{}/tests/fixtures/stats/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let doc: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
    let cases = doc["cases"].as_array().expect("cases").clone();
    assert!(!cases.is_empty(), "{path} has no cases");
    cases
}

/// The case's name, for failure messages.
pub fn name(case: &Value) -> &str {
    case["name"].as_str().expect("name")
}

/// Whether the reference says the input must be refused.
pub fn refused(case: &Value) -> bool {
    case["not_estimable"].as_bool().unwrap_or(false)
}

/// A number of the case.
pub fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

/// An array of numbers of the case.
pub fn fs(v: &Value) -> Vec<f64> {
    v.as_array().expect("array").iter().map(f).collect()
}

/// A number or `null` (not reached / not estimable).
pub fn opt(v: &Value) -> Option<f64> {
    if v.is_null() { None } else { Some(f(v)) }
}

/// Asserts `actual` equals the reference within 1e-6, absolute or relative for large values.
#[track_caller]
pub fn close(actual: f64, expected: f64, what: &str) {
    let tolerance = 1e-6 * expected.abs().max(1.0);
    assert!(
        (actual - expected).abs() <= tolerance,
        "{what}: got {actual}, reference {expected}"
    );
}

/// `close` for `None`-able values: both `None`, or both numbers and close.
#[track_caller]
pub fn close_opt(actual: Option<f64>, expected: Option<f64>, what: &str) {
    match (actual, expected) {
        (Some(a), Some(e)) => close(a, e, what),
        (None, None) => {}
        _ => panic!("{what}: got {actual:?}, reference {expected:?}"),
    }
}
