//! The estimators the study report states, each with its uncertainty.
//!
//! | module | estimator | interval |
//! |---|---|---|
//! | [`proportion`] | a proportion (sensitivity, specificity, response rate) | Wilson 1927, Clopper–Pearson 1934 |
//! | [`roc`] | ROC curve, AUC (Mann–Whitney), Youden threshold, 2×2 table at a threshold | DeLong 1988 on the logit scale |
//! | [`kappa`] | Cohen's kappa for two raters, two classes | Fleiss, Cohen & Everitt 1969 asymptotic SE |
//! | [`survival`] | Kaplan–Meier survival and median | Greenwood 1926, log(−log) band, median CI where the band crosses 0.5 |
//! | [`logrank`] | log-rank test for 2 or more groups | χ² with k − 1 degrees of freedom |
//!
//! Every estimator is checked against an independent implementation (scikit-learn,
//! statsmodels, lifelines) through the fixtures `scripts/reference/stats_fixtures.py`
//! writes. Bad or degenerate input never panics and never yields NaN: the answer is then a
//! [`NotEstimable`] that says why, so a report can print the reason in place of a number.

pub mod kappa;
pub mod logrank;
pub mod proportion;
pub mod roc;
pub mod survival;

pub use kappa::{Kappa, cohen_kappa};
pub use logrank::{LogRank, log_rank};
pub use proportion::{Proportion, proportion};
pub use roc::{DiagnosticAt, Roc, RocPoint, at_threshold, roc};
pub use survival::{KaplanMeier, KmStep, Observation, kaplan_meier};

use statrs::distribution::{ContinuousCDF, Normal};

/// Why an estimate cannot be given (too few participants, one class only, no events...).
#[derive(Debug, Clone, PartialEq, serde::Serialize, thiserror::Error)]
#[error("not estimable: {reason}")]
pub struct NotEstimable {
    /// The reason in words a report can print, e.g. "no negative participants".
    pub reason: String,
}

impl NotEstimable {
    /// A refusal with its reason.
    pub fn new(reason: impl Into<String>) -> Self {
        Self {
            reason: reason.into(),
        }
    }
}

/// A two-sided confidence interval.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Interval {
    /// Lower bound.
    pub lower: f64,
    /// Upper bound.
    pub upper: f64,
}

/// The standard normal quantile `z` with `P(|Z| <= z) = level`, e.g. 1.959964 for 0.95.
///
/// A level outside (0, 1) has no interval, so it is refused rather than turned into an
/// infinite or NaN bound.
pub(crate) fn z_two_sided(level: f64) -> Result<f64, NotEstimable> {
    check_level(level)?;
    Ok(standard_normal().inverse_cdf(1.0 - (1.0 - level) / 2.0))
}

/// Refuses a confidence level that is not strictly between 0 and 1.
pub(crate) fn check_level(level: f64) -> Result<(), NotEstimable> {
    if level.is_finite() && level > 0.0 && level < 1.0 {
        Ok(())
    } else {
        Err(NotEstimable::new(format!(
            "confidence level {level} is not between 0 and 1"
        )))
    }
}

fn standard_normal() -> Normal {
    // Mean 0 and SD 1 are valid parameters, so construction cannot fail.
    Normal::standard()
}

/// Serialises an estimate as its value, or as `{"not_estimable": reason}` (for
/// `#[serde(serialize_with)]` on `Result<T, NotEstimable>` fields).
pub fn serialize_estimate<T: serde::Serialize, S: serde::Serializer>(
    v: &Result<T, NotEstimable>,
    s: S,
) -> Result<S::Ok, S::Error> {
    use serde::Serialize;
    #[derive(Serialize)]
    struct Ne<'a> {
        not_estimable: &'a str,
    }
    match v {
        Ok(v) => v.serialize(s),
        Err(e) => Ne {
            not_estimable: &e.reason,
        }
        .serialize(s),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn z_for_95_percent_is_1_96() {
        assert!((z_two_sided(0.95).unwrap() - 1.959_963_984_540_054).abs() < 1e-9);
        assert!((z_two_sided(0.90).unwrap() - 1.644_853_626_951_472).abs() < 1e-9);
    }

    #[test]
    fn levels_outside_the_unit_interval_are_refused() {
        for level in [0.0, 1.0, -0.5, 1.5, f64::NAN, f64::INFINITY] {
            let err = z_two_sided(level).unwrap_err();
            assert!(err.reason.contains("confidence level"), "{err}");
        }
    }

    #[test]
    fn not_estimable_displays_its_reason() {
        let e = NotEstimable::new("no events");
        assert_eq!(e.to_string(), "not estimable: no events");
    }
}
