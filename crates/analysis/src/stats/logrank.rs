//! The log-rank test (Mantel 1966) of equal survival in k >= 2 groups, as lifelines'
//! `logrank_test` (two groups) and `multivariate_logrank_test` (k groups) compute it.
//!
//! At each distinct event time t with n at risk and d events (n_g, d_g in group g), the
//! group's expected events are n_g·d/n and the covariance of the observed-minus-expected
//! vector is d(n−d)/(n−1) · (n_g/n)(δ_gh − n_h/n) summed over t (the factor is taken as 1
//! when n = 1, where the term is 0 anyway). The statistic is Zᵀ V⁻¹ Z over the first
//! k − 1 groups, χ² with k − 1 degrees of freedom.

use statrs::distribution::{ChiSquared, ContinuousCDF};

use super::survival::check_times;
use super::{NotEstimable, Observation};

/// The log-rank test's result.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct LogRank {
    /// Number of groups compared (the non-empty ones).
    pub groups: usize,
    /// Observed events per input group, in input order (0 for an empty group).
    pub observed: Vec<f64>,
    /// Expected events per input group under equal survival, in input order.
    pub expected: Vec<f64>,
    /// The χ² statistic.
    pub chi_squared: f64,
    /// `groups − 1`.
    pub degrees_of_freedom: usize,
    /// P(χ²_df >= chi_squared).
    pub p_value: f64,
}

/// The log-rank test of `groups`.
///
/// Not estimable with fewer than 2 non-empty groups, without any event, with a negative
/// or non-finite time, or when no event time has two groups at risk (the covariance is
/// singular: the data cannot tell the groups' hazards apart).
pub fn log_rank(groups: &[&[Observation]]) -> Result<LogRank, NotEstimable> {
    let present: Vec<usize> = (0..groups.len())
        .filter(|&g| !groups[g].is_empty())
        .collect();
    if present.len() < 2 {
        return Err(NotEstimable::new("fewer than 2 groups with participants"));
    }
    for g in &present {
        check_times(groups[*g])?;
    }
    let k = present.len();
    let sums = accumulate(&present.iter().map(|&g| groups[g]).collect::<Vec<_>>());
    if sums.observed.iter().sum::<f64>() == 0.0 {
        return Err(NotEstimable::new("no events in any group"));
    }
    let z: Vec<f64> = (0..k - 1)
        .map(|g| sums.observed[g] - sums.expected[g])
        .collect();
    let v: Vec<Vec<f64>> = (0..k - 1)
        .map(|g| sums.covariance[g][..k - 1].to_vec())
        .collect();
    let chi_squared = quadratic_form(&v, &z).ok_or_else(|| {
        NotEstimable::new("no event time with two groups at risk: the groups cannot be compared")
    })?;
    let df = k - 1;
    let p_value = ChiSquared::new(df as f64)
        .map(|d| d.sf(chi_squared))
        .map_err(|e| NotEstimable::new(format!("chi-squared distribution: {e}")))?;
    let mut observed = vec![0.0; groups.len()];
    let mut expected = vec![0.0; groups.len()];
    for (i, &g) in present.iter().enumerate() {
        observed[g] = sums.observed[i];
        expected[g] = sums.expected[i];
    }
    Ok(LogRank {
        groups: k,
        observed,
        expected,
        chi_squared,
        degrees_of_freedom: df,
        p_value,
    })
}

/// Observed and expected events and the covariance matrix over all event times.
struct Sums {
    observed: Vec<f64>,
    expected: Vec<f64>,
    covariance: Vec<Vec<f64>>,
}

fn accumulate(groups: &[&[Observation]]) -> Sums {
    let k = groups.len();
    let mut times: Vec<f64> = groups
        .iter()
        .flat_map(|g| g.iter().filter(|o| o.event).map(|o| o.time))
        .collect();
    times.sort_by(f64::total_cmp);
    times.dedup();
    let mut sums = Sums {
        observed: vec![0.0; k],
        expected: vec![0.0; k],
        covariance: vec![vec![0.0; k]; k],
    };
    for t in times {
        let at_risk: Vec<f64> = groups
            .iter()
            .map(|g| g.iter().filter(|o| o.time >= t).count() as f64)
            .collect();
        let events: Vec<f64> = groups
            .iter()
            .map(|g| g.iter().filter(|o| o.event && o.time == t).count() as f64)
            .collect();
        let n: f64 = at_risk.iter().sum();
        let d: f64 = events.iter().sum();
        let factor = if n > 1.0 { (n - d) / (n - 1.0) } else { 1.0 } * d / (n * n);
        for g in 0..k {
            sums.observed[g] += events[g];
            sums.expected[g] += at_risk[g] * d / n;
            for h in 0..k {
                let diagonal = if g == h { n * at_risk[g] } else { 0.0 };
                sums.covariance[g][h] += factor * (diagonal - at_risk[g] * at_risk[h]);
            }
        }
    }
    sums
}

/// zᵀ V⁻¹ z by Gaussian elimination with partial pivoting; `None` when V is singular.
///
/// V is a covariance matrix of at most a handful of groups, so elimination is plenty; a
/// pivot that is tiny relative to V's largest entry counts as singular rather than
/// producing an enormous statistic from rounding noise.
fn quadratic_form(v: &[Vec<f64>], z: &[f64]) -> Option<f64> {
    let k = z.len();
    let scale = v.iter().flatten().fold(0.0_f64, |m, x| m.max(x.abs()));
    if scale == 0.0 {
        return None;
    }
    let mut a: Vec<Vec<f64>> = v
        .iter()
        .zip(z)
        .map(|(row, &zi)| {
            let mut r = row.clone();
            r.push(zi);
            r
        })
        .collect();
    for col in 0..k {
        let pivot = (col..k).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))?;
        if a[pivot][col].abs() <= scale * 1e-10 {
            return None;
        }
        a.swap(col, pivot);
        let (done, below) = a.split_at_mut(col + 1);
        let pivot_row = &done[col];
        for row in below {
            let factor = row[col] / pivot_row[col];
            for (x, p) in row[col..].iter_mut().zip(&pivot_row[col..]) {
                *x -= factor * p;
            }
        }
    }
    // Back substitution gives x = V⁻¹ z; the statistic is z·x.
    let mut x = vec![0.0; k];
    for r in (0..k).rev() {
        let s: f64 = (r + 1..k).map(|c| a[r][c] * x[c]).sum();
        x[r] = (a[r][k] - s) / a[r][r];
    }
    Some(
        z.iter()
            .zip(&x)
            .map(|(zi, xi)| zi * xi)
            .sum::<f64>()
            .max(0.0),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quadratic_form_of_a_diagonal_matrix() {
        let q = quadratic_form(&[vec![2.0, 0.0], vec![0.0, 4.0]], &[2.0, 4.0]).unwrap();
        assert!((q - (4.0 / 2.0 + 16.0 / 4.0)).abs() < 1e-12);
    }

    #[test]
    fn a_singular_covariance_is_refused() {
        assert!(quadratic_form(&[vec![1.0, 1.0], vec![1.0, 1.0]], &[1.0, 1.0]).is_none());
        assert!(quadratic_form(&[vec![0.0]], &[0.0]).is_none());
    }
}
