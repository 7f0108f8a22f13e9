//! Properties every answer keeps on arbitrary input: numbers in range, never NaN.

use analysis::stats::{Observation, cohen_kappa, kaplan_meier, log_rank, proportion, roc};
use proptest::prelude::*;

fn in_unit(x: f64) -> bool {
    (0.0..=1.0).contains(&x)
}

/// SUV-like values on a coarse grid, so ties are frequent.
fn values(max_len: usize) -> impl Strategy<Value = Vec<f64>> {
    prop::collection::vec((0u32..40).prop_map(|v| f64::from(v) / 4.0), 0..max_len)
}

fn observations() -> impl Strategy<Value = Vec<Observation>> {
    prop::collection::vec(
        ((0u32..30).prop_map(f64::from), any::<bool>())
            .prop_map(|(time, event)| Observation { time, event }),
        0..25,
    )
}

proptest! {
    #[test]
    fn proportion_intervals_hold_the_estimate(n in 1u64..300, frac in 0.0..=1.0f64) {
        let x = (frac * n as f64).floor() as u64;
        let p = proportion(x, n, 0.95).unwrap();
        for i in [p.wilson, p.clopper_pearson] {
            prop_assert!(in_unit(i.lower) && in_unit(i.upper));
            prop_assert!(i.lower <= p.estimate + 1e-12 && p.estimate <= i.upper + 1e-12);
        }
    }

    #[test]
    fn roc_answers_are_in_range(pos in values(30), neg in values(30)) {
        match roc(&pos, &neg, 0.95) {
            Err(_) => prop_assert!(pos.is_empty() || neg.is_empty()),
            Ok(r) => {
                prop_assert!(in_unit(r.auc) && r.se.is_finite() && r.se >= 0.0);
                if let Ok(ci) = r.ci {
                    prop_assert!(0.0 < ci.lower && ci.lower <= r.auc && r.auc <= ci.upper && ci.upper < 1.0);
                }
                // The curve only climbs: sensitivity up, specificity down, thresholds down.
                for w in r.points.windows(2) {
                    prop_assert!(w[0].threshold > w[1].threshold);
                    prop_assert!(w[0].sensitivity <= w[1].sensitivity);
                    prop_assert!(w[0].specificity >= w[1].specificity);
                }
            }
        }
    }

    #[test]
    fn kappa_is_finite_when_estimable(a in 0u64..20, b in 0u64..20, c in 0u64..20, d in 0u64..20) {
        if let Ok(k) = cohen_kappa([[a, b], [c, d]], 0.95) {
            prop_assert!(k.kappa.is_finite() && k.kappa <= 1.0 + 1e-12);
            prop_assert!(k.se.is_finite() && k.ci.lower <= k.ci.upper);
        }
    }

    #[test]
    fn km_is_a_decreasing_step_function_inside_its_band(obs in observations()) {
        match kaplan_meier(&obs, 0.95) {
            Err(_) => prop_assert!(obs.is_empty()),
            Ok(km) => {
                let mut last = 1.0;
                for s in &km.steps {
                    prop_assert!(s.survival <= last && in_unit(s.survival));
                    prop_assert!(s.lower <= s.survival + 1e-12 && s.survival <= s.upper + 1e-12);
                    prop_assert!(in_unit(s.lower) && in_unit(s.upper));
                    last = s.survival;
                }
                if let (Some(m), (Some(lo), _)) = (km.median, km.median_ci) {
                    prop_assert!(lo <= m);
                }
            }
        }
    }

    #[test]
    fn log_rank_is_finite_or_refused(a in observations(), b in observations()) {
        if let Ok(r) = log_rank(&[&a, &b]) {
            prop_assert!(r.chi_squared.is_finite() && r.chi_squared >= 0.0);
            prop_assert!(in_unit(r.p_value));
            let observed: f64 = r.observed.iter().sum();
            let expected: f64 = r.expected.iter().sum();
            prop_assert!((observed - expected).abs() < 1e-9);
        }
    }
}
