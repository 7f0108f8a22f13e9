//! Proportions against statsmodels `proportion_confint` (wilson, beta).

use super::fixture::{cases, close, f, fs, name, refused};
use analysis::stats::proportion;

#[test]
fn wilson_and_clopper_pearson_match_statsmodels() {
    let mut checked = 0;
    for case in cases("proportion") {
        let (x, n) = (
            case["successes"].as_u64().unwrap(),
            case["n"].as_u64().unwrap(),
        );
        let got = proportion(x, n, f(&case["level"]));
        let what = name(&case);
        if refused(&case) {
            assert!(got.is_err(), "{what}: must be not estimable");
            continue;
        }
        let p = got.unwrap_or_else(|e| panic!("{what}: {e}"));
        close(p.estimate, f(&case["estimate"]), what);
        let (w, cp) = (fs(&case["wilson"]), fs(&case["clopper_pearson"]));
        close(p.wilson.lower, w[0], &format!("{what} wilson lower"));
        close(p.wilson.upper, w[1], &format!("{what} wilson upper"));
        close(p.clopper_pearson.lower, cp[0], &format!("{what} CP lower"));
        close(p.clopper_pearson.upper, cp[1], &format!("{what} CP upper"));
        checked += 1;
    }
    assert!(checked >= 8);
}

#[test]
fn none_and_all_keep_their_intervals_inside_zero_one() {
    let none = proportion(0, 12, 0.95).unwrap();
    assert_eq!(none.estimate, 0.0);
    assert_eq!(none.wilson.lower, 0.0);
    assert_eq!(none.clopper_pearson.lower, 0.0);
    // Rule of three: the exact upper bound for 0/12 is about 3/12.
    assert!((none.clopper_pearson.upper - 0.264_648).abs() < 1e-5);
    let all = proportion(12, 12, 0.95).unwrap();
    assert_eq!(all.wilson.upper, 1.0);
    assert_eq!(all.clopper_pearson.upper, 1.0);
}

#[test]
fn impossible_counts_say_why() {
    assert!(proportion(0, 0, 0.95).unwrap_err().reason.contains("n = 0"));
    assert!(
        proportion(3, 2, 0.95)
            .unwrap_err()
            .reason
            .contains("out of only 2")
    );
}
