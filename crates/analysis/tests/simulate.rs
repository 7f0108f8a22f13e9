//! The trial simulator: reproducible, faithful to its assumptions, and its operating
//! characteristics behave as statistics says they must.

use analysis::simulate::assumptions::LogNormal;
use analysis::simulate::generate::{Allocation, Screening};
use analysis::simulate::{
    Assumptions, AssumptionsError, DEFAULT_ASSUMPTIONS_TOML, OcReport, RawAssumptions, oc_chart,
    operating_characteristics, simulate_trial,
};
use protocol::journey::pathology::Her2Category;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use statrs::distribution::{ContinuousCDF, Normal};

fn defaults() -> RawAssumptions {
    Assumptions::default().raw().clone()
}

fn oc(raw: RawAssumptions, ns: &[usize], replicates: usize, seed: u64) -> OcReport {
    let a = Assumptions::new(raw).unwrap();
    operating_characteristics(&a, ns, replicates, seed, &|| {}).unwrap()
}

/// One lesion per woman, no heterogeneity, no measurement error: a woman's highest
/// SUVmax then has exactly her category's log-normal distribution.
fn one_lesion(mut raw: RawAssumptions) -> RawAssumptions {
    raw.lesions.extra_mean = 0.0;
    raw.lesions.max = 1;
    raw.heterogeneity.patient_share = 0.0;
    raw.suv.measurement_log_sd = 0.0;
    raw
}

#[test]
fn the_same_seed_gives_the_same_report_whatever_the_threads() {
    let a = Assumptions::default();
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| operating_characteristics(&a, &[30, 50], 24, 11, &|| {}).unwrap())
    };
    let one = serde_json::to_string(&run(1)).unwrap();
    assert_eq!(one, serde_json::to_string(&run(2)).unwrap());
    let other = operating_characteristics(&a, &[30, 50], 24, 12, &|| {}).unwrap();
    assert_ne!(
        one,
        serde_json::to_string(&other).unwrap(),
        "the seed matters"
    );
}

#[test]
fn progress_is_called_once_per_replicate() {
    let count = std::sync::atomic::AtomicUsize::new(0);
    let tick = || {
        count.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    };
    operating_characteristics(&Assumptions::default(), &[20, 30], 7, 1, &tick).unwrap();
    assert_eq!(count.into_inner(), 14);
}

#[test]
fn identical_suv_distributions_give_chance_auc_and_no_power() {
    let mut raw = defaults();
    let same = LogNormal {
        median: 6.0,
        log_sd: 0.4,
    };
    (
        raw.suv.null,
        raw.suv.ultralow,
        raw.suv.low,
        raw.suv.positive,
    ) = (same, same, same, same);
    raw.heterogeneity.patient_share = 0.0;
    let r = oc(raw, &[40], 400, 3);
    let row = &r.rows[0];
    let auc = row.auc.as_ref().unwrap();
    assert!((auc.mean - 0.5).abs() < 0.015, "mean AUC {}", auc.mean);
    // A two-sided 95 % interval above 0.5 by chance: 2.5 % expected.
    assert!(row.auc_power < 0.06, "power {}", row.auc_power);
}

#[test]
fn the_sorensen_anchors_separate_almost_perfectly() {
    // HER2-negative lesions at the negative anchor, HER2-expressing ones at the
    // positive anchor (5x, no overlap in Sörensen 2016).
    let mut raw = defaults();
    let a = raw.suv.clone();
    (raw.suv.ultralow, raw.suv.low) = (a.positive, a.positive);
    raw.heterogeneity.patient_share = 0.0;
    // HER2-positive biopsies count as not expressing yet take up like the positive
    // anchor: counted as HER2-null here so the classes are the two anchors.
    raw.her2.null += raw.her2.positive;
    raw.her2.positive = 0.0;
    let r = oc(raw, &[40], 100, 5);
    let row = &r.rows[0];
    assert!(row.auc.as_ref().unwrap().mean > 0.99);
    assert_eq!(row.auc_power, 1.0);
}

#[test]
fn the_mean_auc_is_the_auc_the_distributions_imply() {
    let raw = one_lesion(defaults());
    let s = &raw.suv;
    let h = &raw.her2;
    // P(X > Y) for X from the expressing mixture and Y from the non-expressing one.
    let pos = [(h.ultralow, s.ultralow), (h.low, s.low)];
    let neg = [(h.null, s.null), (h.positive, s.positive)];
    let phi = Normal::standard();
    let (mut implied, mut wp, mut wn) = (0.0, 0.0, 0.0);
    for (fp, dp) in pos {
        wp += fp;
        for (fn_, dn) in neg {
            let z = (dp.median / dn.median).ln() / (dp.log_sd.powi(2) + dn.log_sd.powi(2)).sqrt();
            implied += fp * fn_ * phi.cdf(z);
        }
    }
    for (f, _) in neg {
        wn += f;
    }
    implied /= wp * wn;
    let r = oc(raw, &[60], 300, 9);
    let mean = r.rows[0].auc.as_ref().unwrap().mean;
    assert!(
        (mean - implied).abs() < 0.01,
        "mean {mean} implied {implied}"
    );
}

#[test]
fn simulated_suvs_reproduce_their_parameters() {
    let mut raw = defaults();
    raw.her2.null = 0.0;
    raw.her2.ultralow = 0.0;
    raw.her2.low = 1.0;
    raw.her2.positive = 0.0;
    let a = Assumptions::new(raw.clone()).unwrap();
    let t = simulate_trial(&a, 3000, &mut ChaCha8Rng::seed_from_u64(2));
    // The biopsied lesion never takes the heterogeneity draw, so its log SUVmax is the
    // category's log-normal plus test–retest error.
    let logs: Vec<f64> = t
        .enrolled()
        .map(|e| e.biopsied_lesion().suv_max.ln())
        .collect();
    let n = logs.len() as f64;
    let mean = logs.iter().sum::<f64>() / n;
    let sd = (logs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
    let want_sd = (raw.suv.low.log_sd.powi(2) + raw.suv.measurement_log_sd.powi(2)).sqrt();
    assert!((mean - raw.suv.low.median.ln()).abs() < 0.03, "mean {mean}");
    assert!((sd - want_sd).abs() < 0.02, "sd {sd} want {want_sd}");
    assert!(
        t.enrolled()
            .all(|e| e.her2 == Her2Category::Low && e.her2_expressing)
    );
}

#[test]
fn power_does_not_fall_as_n_grows() {
    let r = oc(defaults(), &[30, 60, 120], 150, 4);
    let lr: Vec<f64> = r.rows.iter().map(|r| r.log_rank_power).collect();
    let width: Vec<f64> = r
        .rows
        .iter()
        .map(|r| r.auc_ci_width.as_ref().unwrap().mean)
        .collect();
    assert!(lr[0] < lr[1] && lr[1] < lr[2], "log-rank power {lr:?}");
    assert!(
        width[0] > width[1] && width[1] > width[2],
        "CI width {width:?}"
    );
    for w in r.rows.windows(2) {
        assert!(w[1].auc_power >= w[0].auc_power, "AUC power falls");
    }
    // Arms follow the HER2 frequencies: 83 % expressing by default.
    let arm1 = r.rows[2].arm1.mean / 120.0;
    assert!((arm1 - 0.83).abs() < 0.02, "arm 1 share {arm1}");
}

#[test]
fn screen_failures_and_arms_are_recorded() {
    let a = Assumptions::default();
    let t = simulate_trial(&a, 200, &mut ChaCha8Rng::seed_from_u64(8));
    let failed = t
        .participants
        .iter()
        .filter(|p| matches!(p.screening, Screening::Failed { .. }))
        .count() as f64;
    // 1 − Π(1 − p) over the default criteria = 0.24.
    let share = failed / t.participants.len() as f64;
    assert!((share - 0.24).abs() < 0.06, "screen-failure share {share}");
    let arm1: Vec<_> = t
        .enrolled()
        .filter_map(|e| match &e.allocation {
            Allocation::Arm1(tr) => Some(tr),
            _ => None,
        })
        .collect();
    let ild = arm1
        .iter()
        .filter(|t| t.adverse_events.iter().any(|ae| ae.term == "Pneumonitis"))
        .count();
    assert!(
        ild > 0 && ild < arm1.len() / 4,
        "ILD in {ild} of {}",
        arm1.len()
    );
}

fn refused(text: &str) -> String {
    match Assumptions::parse(text) {
        Ok(_) => panic!("accepted"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn a_bad_assumptions_file_is_refused_naming_the_key() {
    let negative =
        DEFAULT_ASSUMPTIONS_TOML.replace("screened_per_month = 1.5", "screened_per_month = -1.5");
    let e = refused(&negative);
    assert!(e.contains("accrual.sites[1].screened_per_month"), "{e}");
    let sd = DEFAULT_ASSUMPTIONS_TOML.replace("log_sd = 0.40", "log_sd = -0.4");
    assert!(refused(&sd).contains("suv.ultralow.log_sd"));
    let rule = DEFAULT_ASSUMPTIONS_TOML.replace("IN6 = 0.02", "IN6 = 1.5");
    assert!(refused(&rule).contains("screen_failure.IN6"));
    let typo = DEFAULT_ASSUMPTIONS_TOML.replace("[pfs]\nshape", "[pfs]\nshap");
    assert!(refused(&typo).contains("shap"));
}

#[test]
fn frequencies_must_sum_to_one() {
    let text = DEFAULT_ASSUMPTIONS_TOML.replace("low = 0.60", "low = 0.70");
    match Assumptions::parse(&text) {
        Err(AssumptionsError::Invalid { key, reason }) => {
            assert_eq!(key, "her2");
            assert!(reason.contains("1.1"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    let mut raw = defaults();
    raw.adverse_events[0].grades = [0.5, 0.5, 0.5, 0.0, 0.0];
    let e = Assumptions::new(raw).unwrap_err().to_string();
    assert!(e.contains("adverse_events[0].grades"), "{e}");
}

#[test]
fn the_chart_shows_every_size() {
    let r = oc(defaults(), &[20, 40], 10, 1);
    let svg = oc_chart("oc", &r);
    assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
    assert!(svg.contains("n = 20:") && svg.contains("n = 40:"));
    assert_eq!(svg.matches("<polyline").count(), 5);
    assert!(!svg.contains("NaN"));
}
