//! Cohen's kappa against statsmodels `cohens_kappa`.

use super::fixture::{cases, close, f, fs, name, refused};
use analysis::stats::cohen_kappa;

fn table(v: &serde_json::Value) -> [[u64; 2]; 2] {
    let cell = |i: usize, j: usize| v[i][j].as_u64().unwrap();
    [[cell(0, 0), cell(0, 1)], [cell(1, 0), cell(1, 1)]]
}

#[test]
fn kappa_se_and_interval_match_statsmodels() {
    let mut checked = 0;
    for case in cases("kappa") {
        let what = name(&case);
        let got = cohen_kappa(table(&case["table"]), f(&case["level"]));
        if refused(&case) {
            let e = got.expect_err(what);
            assert!(!e.reason.is_empty());
            continue;
        }
        let k = got.unwrap_or_else(|e| panic!("{what}: {e}"));
        close(k.kappa, f(&case["kappa"]), &format!("{what} kappa"));
        close(k.se, f(&case["se"]), &format!("{what} se"));
        let ci = fs(&case["ci"]);
        close(k.ci.lower, ci[0], &format!("{what} lower"));
        close(k.ci.upper, ci[1], &format!("{what} upper"));
        close(k.observed_agreement, f(&case["observed_agreement"]), what);
        close(k.expected_agreement, f(&case["expected_agreement"]), what);
        assert_eq!(k.table, table(&case["table"]));
        checked += 1;
    }
    assert!(checked >= 7);
}

#[test]
fn a_zero_margin_gives_kappa_zero_not_nan() {
    let k = cohen_kappa([[5, 0], [3, 0]], 0.95).unwrap();
    assert_eq!(k.kappa, 0.0);
    assert!(k.se.is_finite() && k.ci.lower.is_finite() && k.ci.upper.is_finite());
}
