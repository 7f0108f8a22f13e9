//! ROC against scikit-learn (`roc_auc_score`, `roc_curve`) and a plain numpy DeLong.

use super::fixture::{cases, close, close_opt, f, fs, name, opt, refused};
use analysis::stats::{at_threshold, roc};
use serde_json::Value;

#[test]
fn auc_delong_and_curve_match_the_references() {
    let mut checked = 0;
    for case in cases("roc") {
        let what = name(&case);
        let (pos, neg) = (fs(&case["positives"]), fs(&case["negatives"]));
        let got = roc(&pos, &neg, f(&case["level"]));
        if refused(&case) {
            assert!(got.expect_err(what).reason.contains("no "), "{what}");
            continue;
        }
        let r = got.unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!((r.n_positive, r.n_negative), (pos.len(), neg.len()));
        close(r.auc, f(&case["auc"]), &format!("{what} auc"));
        // The reference has no SE for a group of one; the Rust code then reports 0.
        close(r.se, opt(&case["se"]).unwrap_or(0.0), &format!("{what} se"));
        let ci = case["ci"].as_array().map(|v| (f(&v[0]), f(&v[1])));
        match (&r.ci, ci) {
            (Ok(i), Some((lo, hi))) => {
                close(i.lower, lo, &format!("{what} ci lower"));
                close(i.upper, hi, &format!("{what} ci upper"));
            }
            (Err(e), None) => assert!(!e.reason.is_empty()),
            (got, want) => panic!("{what}: ci {got:?}, reference {want:?}"),
        }
        check_curve(&r, &case, what);
        check_youden(&r, &case, what);
        checked += 1;
    }
    assert!(checked >= 7);
}

fn check_curve(r: &analysis::stats::Roc, case: &Value, what: &str) {
    let thresholds = case["thresholds"].as_array().unwrap();
    let (fpr, tpr) = (fs(&case["fpr"]), fs(&case["tpr"]));
    assert_eq!(r.points.len(), thresholds.len(), "{what}: number of points");
    assert_eq!(r.points[0].threshold, f64::INFINITY, "{what}: the start");
    for (i, p) in r.points.iter().enumerate().skip(1) {
        close_opt(
            Some(p.threshold),
            opt(&thresholds[i]),
            &format!("{what} t{i}"),
        );
    }
    for (i, p) in r.points.iter().enumerate() {
        close(1.0 - p.specificity, fpr[i], &format!("{what} fpr {i}"));
        close(p.sensitivity, tpr[i], &format!("{what} tpr {i}"));
    }
    let last = r.points.last().unwrap();
    assert_eq!(
        (last.sensitivity, last.specificity),
        (1.0, 0.0),
        "{what}: ends at (1, 1)"
    );
}

fn check_youden(r: &analysis::stats::Roc, case: &Value, what: &str) {
    let y = &case["youden"];
    close(
        r.youden.threshold,
        f(&y["threshold"]),
        &format!("{what} youden"),
    );
    close(r.youden.sensitivity, f(&y["sensitivity"]), what);
    close(r.youden.specificity, f(&y["specificity"]), what);
    let at = &case["at_youden"];
    let (pos, neg) = (fs(&case["positives"]), fs(&case["negatives"]));
    let d = at_threshold(&pos, &neg, r.youden.threshold, f(&case["level"]));
    let counts = [
        d.true_positive,
        d.false_negative,
        d.true_negative,
        d.false_positive,
    ];
    let want = ["tp", "fn", "tn", "fp"].map(|k| at[k].as_u64().unwrap());
    assert_eq!(counts, want, "{what}: 2x2 table at the Youden threshold");
    for (got, key) in [
        (&d.sensitivity, "sensitivity"),
        (&d.specificity, "specificity"),
    ] {
        let p = got.as_ref().unwrap();
        let w = &at[key];
        close(p.estimate, f(&w["estimate"]), &format!("{what} {key}"));
        close(
            p.wilson.lower,
            fs(&w["wilson"])[0],
            &format!("{what} {key} wilson"),
        );
        close(
            p.clopper_pearson.upper,
            fs(&w["clopper_pearson"])[1],
            &format!("{what} {key} CP"),
        );
    }
}

#[test]
fn perfect_separation_has_auc_one_and_says_why_there_is_no_interval() {
    let r = roc(&[5.0, 6.0, 7.0], &[1.0, 2.0, 3.0], 0.95).unwrap();
    assert_eq!(r.auc, 1.0);
    assert_eq!(r.se, 0.0);
    assert!(r.ci.unwrap_err().reason.contains("complete separation"));
}

#[test]
fn bad_values_and_empty_groups_are_refused() {
    assert!(
        roc(&[1.0, f64::NAN], &[0.5], 0.95)
            .unwrap_err()
            .reason
            .contains("finite")
    );
    assert!(roc(&[1.0], &[f64::INFINITY], 0.95).is_err());
    assert!(
        roc(&[], &[1.0], 0.95)
            .unwrap_err()
            .reason
            .contains("no positive")
    );
    assert!(
        roc(&[1.0], &[], 0.95)
            .unwrap_err()
            .reason
            .contains("no negative")
    );
}

#[test]
fn a_group_of_one_has_an_auc_but_no_interval() {
    let r = roc(&[4.0], &[1.0, 5.0, 3.0], 0.95).unwrap();
    assert!((r.auc - 2.0 / 3.0).abs() < 1e-12);
    assert!(r.ci.unwrap_err().reason.contains("at least 2"));
}

#[test]
fn at_threshold_without_negatives_still_gives_sensitivity() {
    let d = at_threshold(&[3.0, 5.0, 1.0], &[], 2.0, 0.95);
    assert_eq!((d.true_positive, d.false_negative), (2, 1));
    assert!((d.sensitivity.unwrap().estimate - 2.0 / 3.0).abs() < 1e-12);
    assert!(d.specificity.is_err());
}
