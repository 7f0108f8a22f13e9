//! Log-rank against lifelines `logrank_test` and `multivariate_logrank_test`.

use super::fixture::{cases, close, f, fs, name, refused};
use super::survival::observations;
use analysis::stats::log_rank;

#[test]
fn statistic_and_p_value_match_lifelines() {
    let mut checked = 0;
    for case in cases("logrank") {
        let what = name(&case);
        let groups: Vec<_> = case["groups"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| observations(&g["times"], &g["events"]))
            .collect();
        let refs: Vec<&[_]> = groups.iter().map(Vec::as_slice).collect();
        let got = log_rank(&refs);
        if refused(&case) {
            assert!(!got.expect_err(what).reason.is_empty());
            continue;
        }
        let r = got.unwrap_or_else(|e| panic!("{what}: {e}"));
        close(
            r.chi_squared,
            f(&case["chi_squared"]),
            &format!("{what} chi2"),
        );
        close(r.p_value, f(&case["p_value"]), &format!("{what} p"));
        assert_eq!(
            r.degrees_of_freedom as u64,
            case["degrees_of_freedom"].as_u64().unwrap()
        );
        assert_eq!(r.groups, groups.len());
        for (g, (o, e)) in fs(&case["observed"])
            .iter()
            .zip(fs(&case["expected"]))
            .enumerate()
        {
            close(r.observed[g], *o, &format!("{what} observed {g}"));
            close(r.expected[g], e, &format!("{what} expected {g}"));
        }
        checked += 1;
    }
    assert!(checked >= 6);
}

#[test]
fn degenerate_comparisons_say_why() {
    use analysis::stats::Observation;
    let o = |time, event| Observation { time, event };
    let censored = [o(1.0, false), o(2.0, false)];
    let e = log_rank(&[&censored, &[o(3.0, false)]]).unwrap_err();
    assert!(e.reason.contains("no events"), "{e}");
    let e = log_rank(&[&[o(1.0, true)], &[]]).unwrap_err();
    assert!(e.reason.contains("fewer than 2"), "{e}");
    // lifelines reports chi2 = 0, p = 1 here (its pseudo-inverse of a zero variance).
    let e = log_rank(&[&[o(1.0, true), o(2.0, true)], &[o(0.5, false)]]).unwrap_err();
    assert!(e.reason.contains("cannot be compared"), "{e}");
}

#[test]
fn an_empty_third_group_is_left_out_of_the_comparison() {
    use analysis::stats::Observation;
    let o = |time, event| Observation { time, event };
    let a = [o(1.0, true), o(4.0, true), o(6.0, false), o(9.0, true)];
    let b = [o(3.0, false), o(5.0, false), o(8.0, false)];
    let two = log_rank(&[&a, &b]).unwrap();
    let three = log_rank(&[&a, &[], &b]).unwrap();
    assert_eq!(three.groups, 2);
    assert_eq!(three.degrees_of_freedom, 1);
    assert_eq!(three.chi_squared, two.chi_squared);
    assert_eq!(three.observed, vec![3.0, 0.0, 0.0]);
}
