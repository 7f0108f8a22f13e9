//! Operating characteristics: many virtual trials per planned size, each analysed with
//! the study's estimators ([`crate::stats`]) and definitions, summarised as the
//! distribution of each estimate and the power of each test.
//!
//! The definitions are those of [`crate::analyses`]: the ROC and the 2×2 table at the
//! threshold compare each woman's highest SUVmax with her biopsy's HER2-expressing status;
//! kappa compares the biopsied lesion's PET call with the biopsy; the log-rank test compares
//! PFS on T-DXd (arm 1) of PET-positive and PET-negative women.

use std::collections::BTreeMap;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::Serialize;

use super::assumptions::Assumptions;
use super::generate::{Allocation, SimTrial, simulate_trial};
use crate::stats::{NotEstimable, Observation, at_threshold, cohen_kappa, log_rank, roc};

/// The p-value below which the log-rank test counts as showing a PFS difference.
pub const LOG_RANK_ALPHA: f64 = 0.05;

/// Why the operating characteristics cannot be computed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum OcError {
    /// No trial size asked for.
    #[error("no trial size given: name at least one n")]
    NoSizes,
    /// A trial size of zero.
    #[error("a trial of 0 participants has no operating characteristics")]
    ZeroSize,
    /// No replicates asked for.
    #[error("at least one replicate is needed")]
    NoReplicates,
}

/// The spread of an estimate over the replicates where it was estimable.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Distribution {
    /// Replicates that gave a value.
    pub replicates: usize,
    /// Mean.
    pub mean: f64,
    /// 2.5th percentile.
    pub p2_5: f64,
    /// Median.
    pub median: f64,
    /// 97.5th percentile.
    pub p97_5: f64,
}

impl Distribution {
    /// The distribution of `values` (percentiles by linear interpolation between order
    /// statistics); not estimable when there are none.
    pub fn of(values: &[f64]) -> Result<Distribution, NotEstimable> {
        if values.is_empty() {
            return Err(NotEstimable::new("not estimable in any replicate"));
        }
        let mut v = values.to_vec();
        v.sort_by(f64::total_cmp);
        let q = |p: f64| {
            let h = (v.len() - 1) as f64 * p;
            let (lo, hi) = (h.floor() as usize, h.ceil() as usize);
            v[lo] + (h - lo as f64) * (v[hi] - v[lo])
        };
        Ok(Distribution {
            replicates: v.len(),
            mean: v.iter().sum::<f64>() / v.len() as f64,
            p2_5: q(0.025),
            median: q(0.5),
            p97_5: q(0.975),
        })
    }
}

/// The operating characteristics at one trial size.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OcRow {
    /// Women enrolled per trial.
    pub n: usize,
    /// ROC area of the highest SUVmax for HER2-expressing.
    #[serde(serialize_with = "crate::stats::serialize_estimate")]
    pub auc: Result<Distribution, NotEstimable>,
    /// Width of its DeLong confidence interval.
    #[serde(serialize_with = "crate::stats::serialize_estimate")]
    pub auc_ci_width: Result<Distribution, NotEstimable>,
    /// Share of replicates whose AUC lower confidence bound exceeds the null (or, under
    /// complete separation, whose exact Mann–Whitney test is significant).
    pub auc_power: f64,
    /// Sensitivity at the SUVmax threshold.
    #[serde(serialize_with = "crate::stats::serialize_estimate")]
    pub sensitivity: Result<Distribution, NotEstimable>,
    /// Width of its Wilson interval.
    #[serde(serialize_with = "crate::stats::serialize_estimate")]
    pub sensitivity_ci_width: Result<Distribution, NotEstimable>,
    /// Specificity at the SUVmax threshold.
    #[serde(serialize_with = "crate::stats::serialize_estimate")]
    pub specificity: Result<Distribution, NotEstimable>,
    /// Width of its Wilson interval.
    #[serde(serialize_with = "crate::stats::serialize_estimate")]
    pub specificity_ci_width: Result<Distribution, NotEstimable>,
    /// Cohen's kappa, biopsied lesion's PET call against the biopsy.
    #[serde(serialize_with = "crate::stats::serialize_estimate")]
    pub kappa: Result<Distribution, NotEstimable>,
    /// Share of replicates with complete separation (AUC = 1, no DeLong interval); they
    /// count towards `auc_power` when the exact Mann–Whitney test is significant.
    pub auc_separation: f64,
    /// Share of replicates where the log-rank test of PFS by PET status has p < 0.05.
    pub log_rank_power: f64,
    /// Women allocated to arm 1 (T-DXd).
    pub arm1: Distribution,
    /// Women allocated to arm 2.
    pub arm2: Distribution,
    /// Enrolled women off study after a HER2-positive biopsy.
    pub off_study: Distribution,
    /// Women screened to enrol n.
    pub screened: Distribution,
    /// Months from the first screening to the last enrolment.
    pub accrual_months: Distribution,
    /// Share of replicates where each estimate was not estimable, by estimate.
    pub not_estimable: BTreeMap<&'static str, f64>,
}

/// The operating characteristics at every asked size.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OcReport {
    /// The seed every replicate's generator derives from.
    pub seed: u64,
    /// Replicates per size.
    pub replicates: usize,
    /// The ROC area to exceed.
    pub null_auc: f64,
    /// The SUVmax threshold.
    pub suvmax_threshold: f64,
    /// Confidence level of the intervals.
    pub level: f64,
    /// One row per size, in the order asked.
    pub rows: Vec<OcRow>,
}

/// What one replicate's analyses gave; `None` where not estimable.
#[derive(Debug, Clone, Default)]
struct Replicate {
    auc: Option<f64>,
    auc_ci_width: Option<f64>,
    auc_shown: bool,
    sensitivity: Option<f64>,
    sensitivity_ci_width: Option<f64>,
    specificity: Option<f64>,
    specificity_ci_width: Option<f64>,
    kappa: Option<f64>,
    log_rank_p: Option<f64>,
    separated: bool,
    counts: [f64; 5],
}

/// The generator seed of one replicate: a SplitMix64 mix of the seed, the size and the
/// index, so a replicate's trial does not depend on which thread runs it or how many
/// replicates there are.
pub fn replicate_seed(seed: u64, n: usize, replicate: usize) -> u64 {
    let mut x = splitmix(seed);
    x = splitmix(x ^ n as u64);
    splitmix(x ^ replicate as u64)
}

fn splitmix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Simulates `replicates` trials at each size in `ns` and summarises their analyses.
///
/// Replicates run in parallel (rayon); each is seeded by [`replicate_seed`], so the
/// report is the same for any thread count. `progress` is called once per finished
/// replicate (from worker threads).
pub fn operating_characteristics(
    assumptions: &Assumptions,
    ns: &[usize],
    replicates: usize,
    seed: u64,
    progress: &(dyn Fn() + Sync),
) -> Result<OcReport, OcError> {
    if ns.is_empty() {
        return Err(OcError::NoSizes);
    }
    if ns.contains(&0) {
        return Err(OcError::ZeroSize);
    }
    if replicates == 0 {
        return Err(OcError::NoReplicates);
    }
    let rows = ns
        .iter()
        .map(|&n| {
            let reps: Vec<Replicate> = (0..replicates)
                .into_par_iter()
                .map(|r| {
                    let mut rng = ChaCha8Rng::seed_from_u64(replicate_seed(seed, n, r));
                    let trial = simulate_trial(assumptions, n, &mut rng);
                    let out = analyse(assumptions, &trial);
                    progress();
                    out
                })
                .collect();
            summarise(n, &reps)
        })
        .collect();
    let a = &assumptions.raw().analysis;
    Ok(OcReport {
        seed,
        replicates,
        null_auc: a.null_auc,
        suvmax_threshold: a.suvmax_threshold,
        level: a.level,
        rows,
    })
}

/// Whether complete separation (every positive above every negative) shows the ROC area
/// above `null_auc`. The DeLong interval does not exist there (its SE is 0), yet the data
/// are the strongest possible: the exact Mann–Whitney test's one-sided p-value is then
/// 1 / C(m + k, k), compared with the one-sided error of the two-sided `level`. That test
/// is of AUC = 0.5, so it answers only for a null of 0.5 or below.
fn separation_shown(m: usize, k: usize, null_auc: f64, level: f64) -> bool {
    if null_auc > 0.5 {
        return false;
    }
    // ln C(m + k, k) as a sum of logs: no overflow however large the trial.
    let ln_choose: f64 = (1..=k)
        .map(|i| ((m + i) as f64).ln() - (i as f64).ln())
        .sum();
    -ln_choose < ((1.0 - level) / 2.0).ln()
}

/// The study's analyses of one simulated trial.
fn analyse(assumptions: &Assumptions, trial: &SimTrial) -> Replicate {
    let a = &assumptions.raw().analysis;
    let (mut pos, mut neg) = (Vec::new(), Vec::new());
    let mut table = [[0u64; 2]; 2];
    let (mut pfs_pos, mut pfs_neg) = (Vec::new(), Vec::new());
    let mut counts = [0.0; 5];
    for e in trial.enrolled() {
        if e.her2_expressing {
            &mut pos
        } else {
            &mut neg
        }
        .push(e.highest_suv_max);
        let biopsied_avid = e.biopsied_lesion().suv_max >= a.suvmax_threshold;
        table[usize::from(biopsied_avid)][usize::from(e.her2_expressing)] += 1;
        match &e.allocation {
            Allocation::Arm1(t) => {
                counts[0] += 1.0;
                let o = Observation {
                    time: t.pfs.months,
                    event: t.pfs.event,
                };
                if e.pet_positive {
                    &mut pfs_pos
                } else {
                    &mut pfs_neg
                }
                .push(o);
            }
            Allocation::Arm2 => counts[1] += 1.0,
            Allocation::OffStudyHer2Positive => counts[2] += 1.0,
        }
    }
    counts[3] = trial.participants.len() as f64;
    counts[4] = trial.last_enrolment_months;
    let mut r = Replicate {
        counts,
        ..Replicate::default()
    };
    if let Ok(roc) = roc(&pos, &neg, a.level) {
        r.auc = Some(roc.auc);
        if let Ok(ci) = roc.ci {
            r.auc_ci_width = Some(ci.upper - ci.lower);
            r.auc_shown = ci.lower > a.null_auc;
        } else if roc.auc >= 1.0 {
            r.separated = true;
            r.auc_shown = separation_shown(pos.len(), neg.len(), a.null_auc, a.level);
        }
    }
    let d = at_threshold(&pos, &neg, a.suvmax_threshold, a.level);
    if let Ok(p) = d.sensitivity {
        r.sensitivity = Some(p.estimate);
        r.sensitivity_ci_width = Some(p.wilson.upper - p.wilson.lower);
    }
    if let Ok(p) = d.specificity {
        r.specificity = Some(p.estimate);
        r.specificity_ci_width = Some(p.wilson.upper - p.wilson.lower);
    }
    r.kappa = cohen_kappa(table, a.level).ok().map(|k| k.kappa);
    r.log_rank_p = log_rank(&[&pfs_pos, &pfs_neg]).ok().map(|l| l.p_value);
    r
}

fn summarise(n: usize, reps: &[Replicate]) -> OcRow {
    let total = reps.len() as f64;
    let mut not_estimable = BTreeMap::new();
    let mut dist = |name: &'static str, f: fn(&Replicate) -> Option<f64>| {
        let v: Vec<f64> = reps.iter().filter_map(f).collect();
        not_estimable.insert(name, (reps.len() - v.len()) as f64 / total);
        Distribution::of(&v)
    };
    let auc = dist("auc", |r| r.auc);
    let auc_ci_width = dist("auc_ci", |r| r.auc_ci_width);
    let sensitivity = dist("sensitivity", |r| r.sensitivity);
    let sensitivity_ci_width = dist("sensitivity_ci", |r| r.sensitivity_ci_width);
    let specificity = dist("specificity", |r| r.specificity);
    let specificity_ci_width = dist("specificity_ci", |r| r.specificity_ci_width);
    let kappa = dist("kappa", |r| r.kappa);
    let untested = reps.iter().filter(|r| r.log_rank_p.is_none()).count();
    not_estimable.insert("log_rank", untested as f64 / total);
    let count = |i: usize| {
        let v: Vec<f64> = reps.iter().map(|r| r.counts[i]).collect();
        // At least one replicate exists (checked by the caller), so this is a value.
        Distribution::of(&v).unwrap_or(Distribution {
            replicates: 0,
            mean: 0.0,
            p2_5: 0.0,
            median: 0.0,
            p97_5: 0.0,
        })
    };
    let share = |f: fn(&Replicate) -> bool| reps.iter().filter(|r| f(r)).count() as f64 / total;
    OcRow {
        n,
        auc,
        auc_ci_width,
        auc_power: share(|r| r.auc_shown),
        auc_separation: share(|r| r.separated),
        sensitivity,
        sensitivity_ci_width,
        specificity,
        specificity_ci_width,
        kappa,
        log_rank_power: share(|r| r.log_rank_p.is_some_and(|p| p < LOG_RANK_ALPHA)),
        arm1: count(0),
        arm2: count(1),
        off_study: count(2),
        screened: count(3),
        accrual_months: count(4),
        not_estimable,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_interpolate_between_order_statistics() {
        let d = Distribution::of(&[4.0, 1.0, 3.0, 2.0, 5.0]).unwrap();
        assert_eq!((d.mean, d.median), (3.0, 3.0));
        assert!((d.p2_5 - 1.1).abs() < 1e-12 && (d.p97_5 - 4.9).abs() < 1e-12);
        assert!(Distribution::of(&[]).is_err());
    }

    #[test]
    fn separation_needs_enough_women_to_be_significant() {
        // 2 + 2 perfectly separated: p = 1/6, not below 0.025; 4 + 4: p = 1/70.
        assert!(!separation_shown(2, 2, 0.5, 0.95));
        assert!(separation_shown(4, 4, 0.5, 0.95));
        assert!(!separation_shown(40, 10, 0.7, 0.95));
    }

    #[test]
    fn replicate_seeds_differ_by_size_and_index() {
        let s = replicate_seed(1, 70, 0);
        assert_ne!(s, replicate_seed(1, 70, 1));
        assert_ne!(s, replicate_seed(1, 50, 0));
        assert_ne!(s, replicate_seed(2, 70, 0));
        assert_eq!(s, replicate_seed(1, 70, 0));
    }
}
