//! Cohen's kappa (1960) for two raters and two classes, e.g. PET status against biopsy.
//!
//! The standard error is the large-sample one of Fleiss, Cohen & Everitt (1969), the one
//! statsmodels' `cohens_kappa` reports as `std_kappa`; the interval is kappa ± z·SE as its
//! `kappa_low` / `kappa_upp` (not clipped to [−1, 1], so it matches the reference).

use super::{Interval, NotEstimable, z_two_sided};

/// Cohen's kappa with its 2×2 table, agreements, SE and interval.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Kappa {
    /// Number of participants rated by both.
    pub n: u64,
    /// `table[a][b]`: rater a said class `a`, rater b class `b` (0 negative, 1 positive).
    pub table: [[u64; 2]; 2],
    /// Fraction on the diagonal.
    pub observed_agreement: f64,
    /// Agreement expected by chance from the margins.
    pub expected_agreement: f64,
    /// (observed − expected) / (1 − expected).
    pub kappa: f64,
    /// Fleiss–Cohen–Everitt asymptotic standard error.
    pub se: f64,
    /// kappa ± z·se.
    pub ci: Interval,
}

/// Cohen's kappa of `table[rater_a][rater_b]` at `level`.
///
/// Not estimable when the table is empty, or when the expected agreement is 1 (both raters
/// used one and the same class for everybody: agreement beyond chance is undefined).
pub fn cohen_kappa(table: [[u64; 2]; 2], level: f64) -> Result<Kappa, NotEstimable> {
    let z = z_two_sided(level)?;
    let n = table.iter().flatten().sum::<u64>();
    if n == 0 {
        return Err(NotEstimable::new("no participants rated by both"));
    }
    let nf = n as f64;
    let p = table.map(|row| row.map(|c| c as f64 / nf));
    let row = [p[0][0] + p[0][1], p[1][0] + p[1][1]];
    let col = [p[0][0] + p[1][0], p[0][1] + p[1][1]];
    let observed = p[0][0] + p[1][1];
    let expected = row[0] * col[0] + row[1] * col[1];
    // With integer counts expected = 1 only when both raters used one class throughout;
    // compared with a margin because it is a sum of products of fractions.
    if expected >= 1.0 - 1e-12 {
        return Err(NotEstimable::new(
            "both raters gave everybody the same class: chance agreement is 1",
        ));
    }
    let kappa = (observed - expected) / (1.0 - expected);
    let se = fleiss_cohen_everitt_se(&p, row, col, kappa, expected, nf);
    Ok(Kappa {
        n,
        table,
        observed_agreement: observed,
        expected_agreement: expected,
        kappa,
        se,
        ci: Interval {
            lower: kappa - z * se,
            upper: kappa + z * se,
        },
    })
}

/// Fleiss, Cohen & Everitt (1969), eq. 13: with p_ij the cell fractions, p_i. the row and
/// p.j the column margins,
/// Var = [Σ_i p_ii (1 − (p_i. + p.i)(1 − κ))² + (1 − κ)² Σ_{i≠j} p_ij (p.i + p_j.)²
///        − (κ − p_e(1 − κ))²] / ((1 − p_e)² n).
fn fleiss_cohen_everitt_se(
    p: &[[f64; 2]; 2],
    row: [f64; 2],
    col: [f64; 2],
    kappa: f64,
    expected: f64,
    n: f64,
) -> f64 {
    let one_minus = 1.0 - kappa;
    let mut a = 0.0;
    let mut b = 0.0;
    for i in 0..2 {
        a += p[i][i] * (1.0 - (row[i] + col[i]) * one_minus).powi(2);
        for j in 0..2 {
            if i != j {
                b += p[i][j] * (col[i] + row[j]).powi(2);
            }
        }
    }
    let c = (kappa - expected * one_minus).powi(2);
    let var = (a + one_minus * one_minus * b - c) / ((1.0 - expected).powi(2) * n);
    // Perfect agreement gives 0 up to rounding; a tiny negative must not become NaN.
    var.max(0.0).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perfect_agreement_is_one_with_zero_se() {
        let k = cohen_kappa([[7, 0], [0, 5]], 0.95).unwrap();
        assert_eq!(k.kappa, 1.0);
        assert!(k.se.abs() < 1e-9);
        assert!(!k.se.is_nan());
    }

    #[test]
    fn one_class_throughout_is_not_estimable() {
        let e = cohen_kappa([[9, 0], [0, 0]], 0.95).unwrap_err();
        assert!(e.reason.contains("same class"), "{e}");
        assert!(cohen_kappa([[0, 0], [0, 0]], 0.95).is_err());
    }

    #[test]
    fn kappa_of_a_textbook_table() {
        // [[20, 5], [10, 15]]: po = 0.7, pe = 0.5·0.6 + 0.5·0.4 = 0.5, κ = 0.4.
        let k = cohen_kappa([[20, 5], [10, 15]], 0.95).unwrap();
        assert!((k.observed_agreement - 0.7).abs() < 1e-12);
        assert!((k.expected_agreement - 0.5).abs() < 1e-12);
        assert!((k.kappa - 0.4).abs() < 1e-12);
    }
}
