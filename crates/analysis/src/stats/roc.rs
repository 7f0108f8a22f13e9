//! The ROC analysis of a continuous test (SUVmax) against a binary truth (biopsy HER2).
//!
//! A higher value means "more likely positive" and a value `>= threshold` tests positive.
//! The AUC is the Mann–Whitney probability that a positive outscores a negative, ties
//! counting one half, which is what scikit-learn's `roc_auc_score` computes from the
//! empirical curve. Its standard error is DeLong, DeLong & Clarke-Pearson (1988), built
//! from each participant's placement value (structural component). The interval is formed
//! on the logit scale and transformed back, so it stays inside (0, 1) even for AUCs near 1,
//! where a symmetric Wald interval would cross 1 and have to be clipped.

use super::{Interval, NotEstimable, Proportion, check_level, proportion, z_two_sided};

/// One point of the empirical ROC curve: the operating characteristics of calling every
/// value `>= threshold` positive.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RocPoint {
    /// The threshold; `+inf` for the curve's start (nobody tests positive).
    pub threshold: f64,
    /// Fraction of positives with value `>= threshold`.
    pub sensitivity: f64,
    /// Fraction of negatives with value `< threshold`.
    pub specificity: f64,
}

/// The ROC analysis: AUC with DeLong SE and interval, the curve and the Youden threshold.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Roc {
    /// Number of truly positive participants.
    pub n_positive: usize,
    /// Number of truly negative participants.
    pub n_negative: usize,
    /// Mann–Whitney AUC, ties counting 1/2 (= scikit-learn `roc_auc_score`).
    pub auc: f64,
    /// DeLong (1988) standard error of the AUC. It is 0 when it cannot be estimated (a
    /// group of one has no variance estimate); `ci` then says why.
    pub se: f64,
    /// The logit-transformed DeLong interval, back-transformed; not estimable when the SE
    /// is 0 (AUC exactly 0 or 1, no spread) or a group has a single member.
    #[serde(serialize_with = "crate::stats::serialize_estimate")]
    pub ci: Result<Interval, NotEstimable>,
    /// The method of `ci` in words, for the report.
    pub ci_method: &'static str,
    /// The empirical curve from (0, 0) (threshold `+inf`) to (1, 1), one point per
    /// distinct observed value, thresholds decreasing.
    pub points: Vec<RocPoint>,
    /// The point maximising sensitivity + specificity − 1 (ties: the highest threshold);
    /// its threshold is an observed value.
    pub youden: RocPoint,
}

/// The text `Roc::ci_method` carries.
pub const ROC_CI_METHOD: &str = "DeLong (1988) standard error, logit-transformed interval";

/// The ROC analysis of `positives` (truth positive) against `negatives` at `level`.
///
/// Not estimable when either group is empty, a value is not finite, or `level` is not in
/// (0, 1).
pub fn roc(positives: &[f64], negatives: &[f64], level: f64) -> Result<Roc, NotEstimable> {
    check_level(level)?;
    if positives.is_empty() {
        return Err(NotEstimable::new("no positive participants"));
    }
    if negatives.is_empty() {
        return Err(NotEstimable::new("no negative participants"));
    }
    if positives.iter().chain(negatives).any(|v| !v.is_finite()) {
        return Err(NotEstimable::new("a value is missing or not finite"));
    }
    let pos = sorted(positives);
    let neg = sorted(negatives);
    let (auc, se) = delong(&pos, &neg);
    let ci = logit_interval(auc, se, pos.len(), neg.len(), z_two_sided(level)?);
    let points = curve(&pos, &neg);
    let youden = youden(&points, pos.len(), neg.len());
    Ok(Roc {
        n_positive: pos.len(),
        n_negative: neg.len(),
        auc,
        se,
        ci,
        ci_method: ROC_CI_METHOD,
        points,
        youden,
    })
}

/// The 2×2 table of a threshold with sensitivity and specificity as proportions.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct DiagnosticAt {
    /// The threshold; values `>= threshold` test positive.
    pub threshold: f64,
    /// Positives testing positive.
    pub true_positive: u64,
    /// Positives testing negative.
    pub false_negative: u64,
    /// Negatives testing negative.
    pub true_negative: u64,
    /// Negatives testing positive.
    pub false_positive: u64,
    /// TP / (TP + FN); not estimable without positives.
    #[serde(serialize_with = "crate::stats::serialize_estimate")]
    pub sensitivity: Result<Proportion, NotEstimable>,
    /// TN / (TN + FP); not estimable without negatives.
    #[serde(serialize_with = "crate::stats::serialize_estimate")]
    pub specificity: Result<Proportion, NotEstimable>,
}

/// Sensitivity and specificity of calling `value >= threshold` positive.
///
/// A NaN value never compares `>=` nor `<`, so it counts as a false negative among the
/// positives and a false positive among the negatives: a missing value is a failure of the
/// test, never a success.
pub fn at_threshold(
    positives: &[f64],
    negatives: &[f64],
    threshold: f64,
    level: f64,
) -> DiagnosticAt {
    let tp = positives.iter().filter(|&&v| v >= threshold).count() as u64;
    let tn = negatives.iter().filter(|&&v| v < threshold).count() as u64;
    let fn_ = positives.len() as u64 - tp;
    let fp = negatives.len() as u64 - tn;
    DiagnosticAt {
        threshold,
        true_positive: tp,
        false_negative: fn_,
        true_negative: tn,
        false_positive: fp,
        sensitivity: proportion(tp, tp + fn_, level),
        specificity: proportion(tn, tn + fp, level),
    }
}

fn sorted(values: &[f64]) -> Vec<f64> {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    v
}

/// Number of values in the ascending slice `sorted` below `x`, and equal to it.
fn below_and_equal(sorted: &[f64], x: f64) -> (usize, usize) {
    let below = sorted.partition_point(|&v| v < x);
    let not_above = sorted.partition_point(|&v| v <= x);
    (below, not_above - below)
}

/// The placement values of each member of `of` among `among` (both ascending): the
/// fraction of `among` it beats, ties counting one half (DeLong's V10 / V01).
fn placements(of: &[f64], among: &[f64], higher_wins: bool) -> Vec<f64> {
    let m = among.len() as f64;
    of.iter()
        .map(|&x| {
            let (below, equal) = below_and_equal(among, x);
            let beaten = if higher_wins {
                below
            } else {
                among.len() - below - equal
            };
            (beaten as f64 + 0.5 * equal as f64) / m
        })
        .collect()
}

/// The AUC and its DeLong standard error, from the ascending groups.
///
/// AUC = mean of the positives' placements; Var = S10/m + S01/n with S the sample
/// variances (denominator m − 1, n − 1) of the placements (DeLong 1988, eq. 4–5). A group
/// of one has no sample variance: the SE is then reported as 0 and the interval refused.
fn delong(pos: &[f64], neg: &[f64]) -> (f64, f64) {
    let v10 = placements(pos, neg, true);
    let v01 = placements(neg, pos, false);
    let auc = mean(&v10);
    if pos.len() < 2 || neg.len() < 2 {
        return (auc, 0.0);
    }
    let var = sample_variance(&v10) / pos.len() as f64 + sample_variance(&v01) / neg.len() as f64;
    (auc, var.max(0.0).sqrt())
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

/// Sample variance with denominator `len − 1`; callers ensure `len >= 2`.
fn sample_variance(v: &[f64]) -> f64 {
    let m = mean(v);
    v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (v.len() - 1) as f64
}

/// logit(AUC) ± z·SE/(AUC(1−AUC)) (delta method), back through the logistic function.
fn logit_interval(
    auc: f64,
    se: f64,
    n_pos: usize,
    n_neg: usize,
    z: f64,
) -> Result<Interval, NotEstimable> {
    if n_pos < 2 || n_neg < 2 {
        return Err(NotEstimable::new(
            "DeLong variance needs at least 2 positive and 2 negative participants",
        ));
    }
    if auc <= 0.0 || auc >= 1.0 {
        return Err(NotEstimable::new(format!(
            "AUC is exactly {auc} (complete separation): DeLong SE is 0 and the logit interval does not exist"
        )));
    }
    if se <= 0.0 {
        return Err(NotEstimable::new(
            "DeLong SE is 0 (every placement value equal): no interval",
        ));
    }
    let centre = (auc / (1.0 - auc)).ln();
    let half = z * se / (auc * (1.0 - auc));
    Ok(Interval {
        lower: logistic(centre - half),
        upper: logistic(centre + half),
    })
}

fn logistic(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// The empirical curve: the start (+inf) and one point per distinct value, descending.
fn curve(pos: &[f64], neg: &[f64]) -> Vec<RocPoint> {
    let mut thresholds: Vec<f64> = pos.iter().chain(neg).copied().collect();
    thresholds.sort_by(|a, b| b.total_cmp(a));
    thresholds.dedup();
    let mut points = vec![RocPoint {
        threshold: f64::INFINITY,
        sensitivity: 0.0,
        specificity: 1.0,
    }];
    points.extend(thresholds.into_iter().map(|t| {
        let tp = pos.len() - pos.partition_point(|&v| v < t);
        let tn = neg.partition_point(|&v| v < t);
        RocPoint {
            threshold: t,
            sensitivity: tp as f64 / pos.len() as f64,
            specificity: tn as f64 / neg.len() as f64,
        }
    }));
    points
}

/// The Youden point among the observed thresholds, comparing `TP·n + TN·m` as integers so a
/// tie is a tie and not a rounding accident; the first (highest) threshold wins a tie.
fn youden(points: &[RocPoint], m: usize, n: usize) -> RocPoint {
    let score = |p: &RocPoint| {
        let tp = (p.sensitivity * m as f64).round() as u64;
        let tn = (p.specificity * n as f64).round() as u64;
        tp * n as u64 + tn * m as u64
    };
    // points[0] is the +inf start; `roc` guarantees at least one observed threshold after it.
    let mut best = &points[1];
    for p in &points[1..] {
        if score(p) > score(best) {
            best = p;
        }
    }
    best.clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placements_count_ties_as_half() {
        // 2 beats 1, ties the other 2, loses to 3: (1 + 0.5) / 3.
        let v = placements(&[2.0], &[1.0, 2.0, 3.0], true);
        assert!((v[0] - 0.5).abs() < 1e-12);
        let v = placements(&[2.0], &[1.0, 2.0, 3.0], false);
        assert!((v[0] - 0.5).abs() < 1e-12);
        let v = placements(&[1.5], &[1.0, 2.0, 3.0], true);
        assert!((v[0] - 1.0 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn logit_interval_is_inside_the_unit_interval_near_one() {
        // A Wald interval 0.98 ± 1.96·0.02 would reach 1.019.
        let ci = logit_interval(0.98, 0.02, 30, 30, 1.959_963_984_540_054).unwrap();
        assert!(ci.lower > 0.0 && ci.upper < 1.0, "{ci:?}");
        assert!(ci.lower < 0.98 && ci.upper > 0.98);
    }

    #[test]
    fn youden_prefers_the_highest_threshold_on_a_tie() {
        // Thresholds 3 and 1 both give J = 0.5 (3: sens .5 spec 1; 1: sens 1 spec .5).
        let r = roc(&[3.0, 1.0], &[2.0, 0.0], 0.95).unwrap();
        assert_eq!(r.youden.threshold, 3.0);
    }
}
