//! A proportion with its two usual confidence intervals.
//!
//! Wilson (1927) is the score interval: good coverage at the small n of a diagnostic study
//! and never outside [0, 1]. Clopper–Pearson (1934) inverts two one-sided binomial tests
//! through the beta distribution: it is "exact" (coverage at least the level) and the one
//! regulators often ask for. Both are given so a report can state either.

use statrs::distribution::{Beta, ContinuousCDF};

use super::{Interval, NotEstimable, z_two_sided};

/// `successes` out of `n` with the point estimate and both intervals.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Proportion {
    /// Number of successes (e.g. true positives).
    pub successes: u64,
    /// Number of trials (e.g. participants with a positive biopsy).
    pub n: u64,
    /// `successes / n`.
    pub estimate: f64,
    /// Wilson score interval.
    pub wilson: Interval,
    /// Clopper–Pearson interval (statsmodels `method="beta"`).
    pub clopper_pearson: Interval,
}

/// The proportion `successes / n` with Wilson and Clopper–Pearson intervals at `level`.
///
/// Not estimable when `n` is 0, when `successes > n`, or when `level` is not in (0, 1).
pub fn proportion(successes: u64, n: u64, level: f64) -> Result<Proportion, NotEstimable> {
    if n == 0 {
        return Err(NotEstimable::new("no participants (n = 0)"));
    }
    if successes > n {
        return Err(NotEstimable::new(format!(
            "{successes} successes out of only {n}"
        )));
    }
    let z = z_two_sided(level)?;
    Ok(Proportion {
        successes,
        n,
        estimate: successes as f64 / n as f64,
        wilson: wilson(successes, n, z),
        clopper_pearson: clopper_pearson(successes, n, level)?,
    })
}

/// Wilson's score interval: the p whose score test `|p̂ − p| / sqrt(p(1−p)/n) <= z`.
fn wilson(successes: u64, n: u64, z: f64) -> Interval {
    let n = n as f64;
    let p = successes as f64 / n;
    let z2 = z * z;
    let denom = 1.0 + z2 / n;
    let centre = (p + z2 / (2.0 * n)) / denom;
    let half = z * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt() / denom;
    // Mathematically within [0, 1]; the clamp only removes rounding at 0/n and n/n.
    Interval {
        lower: (centre - half).clamp(0.0, 1.0),
        upper: (centre + half).clamp(0.0, 1.0),
    }
}

/// Clopper–Pearson: the beta quantiles `B(α/2; x, n−x+1)` and `B(1−α/2; x+1, n−x)`, with the
/// bound at 0 (x = 0) or 1 (x = n) where the beta distribution does not exist.
fn clopper_pearson(successes: u64, n: u64, level: f64) -> Result<Interval, NotEstimable> {
    let tail = (1.0 - level) / 2.0;
    let x = successes as f64;
    let n_f = n as f64;
    let lower = if successes == 0 {
        0.0
    } else {
        beta_quantile(x, n_f - x + 1.0, tail)?
    };
    let upper = if successes == n {
        1.0
    } else {
        beta_quantile(x + 1.0, n_f - x, 1.0 - tail)?
    };
    Ok(Interval { lower, upper })
}

/// The `q` quantile of Beta(a, b). The 0/n and n/n cases keep a, b >= 1, so the error is
/// there for the type's sake, not expected.
fn beta_quantile(a: f64, b: f64, q: f64) -> Result<f64, NotEstimable> {
    Beta::new(a, b)
        .map(|beta| beta.inverse_cdf(q))
        .map_err(|e| NotEstimable::new(format!("beta distribution ({a}, {b}): {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wilson_for_8_of_10_matches_the_textbook() {
        // Worked by hand from the formula: centre 0.71674, half-width 0.22658.
        let w = wilson(8, 10, z_two_sided(0.95).unwrap());
        assert!((w.lower - 0.490_162).abs() < 1e-6, "{w:?}");
        assert!((w.upper - 0.943_318).abs() < 1e-6, "{w:?}");
    }

    #[test]
    fn clopper_pearson_at_the_edges_is_closed_form() {
        // For x = 0 the upper bound solves (1 - p)^n = α/2: 1 - 0.025^(1/n).
        let ci = clopper_pearson(0, 20, 0.95).unwrap();
        assert_eq!(ci.lower, 0.0);
        assert!((ci.upper - (1.0 - 0.025_f64.powf(1.0 / 20.0))).abs() < 1e-9);
        let ci = clopper_pearson(20, 20, 0.95).unwrap();
        assert_eq!(ci.upper, 1.0);
        assert!((ci.lower - 0.025_f64.powf(1.0 / 20.0)).abs() < 1e-9);
    }

    #[test]
    fn impossible_counts_are_not_estimable() {
        assert!(proportion(0, 0, 0.95).unwrap_err().reason.contains("n = 0"));
        assert!(proportion(5, 4, 0.95).is_err());
        assert!(proportion(1, 4, 1.0).is_err());
    }
}
