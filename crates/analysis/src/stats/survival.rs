//! Kaplan–Meier survival with Greenwood's variance and the log(−log) band, and the median
//! with its confidence interval, computed as lifelines' `KaplanMeierFitter` does.
//!
//! Conventions (all those of lifelines, which the fixtures check):
//! - at a time with both events and censorings, the events come first: the censored ones
//!   are still at risk at that time;
//! - the curve has a step at time 0 with survival 1 (or less, if events happen at 0);
//! - the band is exp(−exp(log(−log S) ± z·sqrt(G)/|log S|)) with G = Σ d/(n(n−d)) the
//!   Greenwood sum (Kalbfleisch & Prentice); it is 1/1 while S = 1 and 0/0 once S = 0
//!   (the step where n = d adds nothing to G, as lifelines has it);
//! - the median is the first time where S <= 0.5, so a curve lying at exactly 0.5 over a
//!   stretch has the stretch's start as its median; `None` when S never reaches 0.5;
//! - the median's interval is where the band's lower and upper curves first reach 0.5
//!   (lifelines `median_survival_times(kmf.confidence_interval_)`, after Brookmeyer &
//!   Crowley 1982); a bound is `None` when its curve never does.

use super::{NotEstimable, z_two_sided};

/// One participant's follow-up: the time of the event or of censoring.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Observation {
    /// Time from the origin (the integrator uses days), `>= 0`.
    pub time: f64,
    /// `true` for the event (progression or death), `false` for censoring.
    pub event: bool,
}

/// The curve at one distinct time.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct KmStep {
    /// The time.
    pub time: f64,
    /// Number with time `>= time`.
    pub at_risk: usize,
    /// Events at this time.
    pub events: usize,
    /// Censorings at this time.
    pub censored: usize,
    /// Survival just after this time (the step is right-continuous).
    pub survival: f64,
    /// Lower bound of the log(−log) band.
    pub lower: f64,
    /// Upper bound of the log(−log) band.
    pub upper: f64,
}

/// The Kaplan–Meier estimate of one group.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct KaplanMeier {
    /// Number of participants.
    pub n: usize,
    /// Number of events.
    pub events: usize,
    /// Time 0 and then one step per distinct time with an event or censoring, ascending.
    pub steps: Vec<KmStep>,
    /// Median survival; `None` = not reached.
    pub median: Option<f64>,
    /// Interval of the median; a `None` bound = not reached / not estimable.
    pub median_ci: (Option<f64>, Option<f64>),
    /// The method of the band and the median's interval in words, for the report.
    pub ci_method: &'static str,
}

/// The text `KaplanMeier::ci_method` carries.
pub const KM_CI_METHOD: &str = "Greenwood variance, log(-log) (exponential Greenwood) interval; median interval where the band crosses 0.5 (Brookmeyer-Crowley)";

/// The Kaplan–Meier estimate of `obs` with the band at `level`.
///
/// Not estimable when `obs` is empty, a time is negative or not finite, or `level` is not
/// in (0, 1).
pub fn kaplan_meier(obs: &[Observation], level: f64) -> Result<KaplanMeier, NotEstimable> {
    let z = z_two_sided(level)?;
    if obs.is_empty() {
        return Err(NotEstimable::new("no participants"));
    }
    check_times(obs)?;
    let table = risk_table(obs);
    let mut steps = Vec::with_capacity(table.len());
    let mut survival = 1.0;
    let mut greenwood = 0.0;
    for row in table {
        let (n, d) = (row.at_risk as f64, row.events as f64);
        if row.events > 0 {
            survival *= 1.0 - d / n;
            // At n = d the term is infinite; lifelines drops it, and S is 0 from here on.
            if row.events < row.at_risk {
                greenwood += d / (n * (n - d));
            }
        }
        let (lower, upper) = log_log_band(survival, greenwood, z);
        steps.push(KmStep {
            survival,
            lower,
            upper,
            ..row
        });
    }
    let median = first_at_or_below_half(&steps, |s| s.survival);
    let median_ci = (
        first_at_or_below_half(&steps, |s| s.lower),
        first_at_or_below_half(&steps, |s| s.upper),
    );
    Ok(KaplanMeier {
        n: obs.len(),
        events: obs.iter().filter(|o| o.event).count(),
        steps,
        median,
        median_ci,
        ci_method: KM_CI_METHOD,
    })
}

impl KaplanMeier {
    /// Survival at `t`: the curve is right-continuous, so at an event time it is the value
    /// after the drop. 1 before time 0 (and for a NaN `t`, which precedes nothing).
    pub fn survival_at(&self, t: f64) -> f64 {
        let after = self.steps.partition_point(|s| s.time <= t);
        match after {
            0 => 1.0,
            i => self.steps[i - 1].survival,
        }
    }

    /// Number at risk at `t`: those with a time `>= t` (all `n` at or before 0, and for a
    /// NaN `t`).
    pub fn at_risk_at(&self, t: f64) -> usize {
        let first = self.steps.partition_point(|s| s.time < t);
        self.steps.get(first).map_or(0, |s| s.at_risk)
    }
}

/// Refuses a negative or non-finite time, naming it (shared with the log-rank test).
pub(crate) fn check_times(obs: &[Observation]) -> Result<(), NotEstimable> {
    match obs.iter().find(|o| !o.time.is_finite() || o.time < 0.0) {
        Some(o) => Err(NotEstimable::new(format!(
            "time {} is negative or not finite",
            o.time
        ))),
        None => Ok(()),
    }
}

/// Time 0 and each distinct time with its counts; survival and band left at 1 for the
/// caller to fill.
fn risk_table(obs: &[Observation]) -> Vec<KmStep> {
    let mut sorted = obs.to_vec();
    sorted.sort_by(|a, b| a.time.total_cmp(&b.time));
    let mut steps = vec![blank_step(0.0, obs.len())];
    let mut remaining = obs.len();
    for o in sorted {
        let last = steps.len() - 1;
        if steps[last].time != o.time {
            steps.push(blank_step(o.time, remaining));
        }
        let step = steps.len() - 1;
        if o.event {
            steps[step].events += 1;
        } else {
            steps[step].censored += 1;
        }
        remaining -= 1;
    }
    steps
}

fn blank_step(time: f64, at_risk: usize) -> KmStep {
    KmStep {
        time,
        at_risk,
        events: 0,
        censored: 0,
        survival: 1.0,
        lower: 1.0,
        upper: 1.0,
    }
}

/// The log(−log) band around `survival` with Greenwood sum `greenwood`.
fn log_log_band(survival: f64, greenwood: f64, z: f64) -> (f64, f64) {
    if survival >= 1.0 {
        return (1.0, 1.0);
    }
    if survival <= 0.0 {
        return (0.0, 0.0);
    }
    let log_s = survival.ln();
    let centre = (-log_s).ln();
    let half = z * greenwood.sqrt() / log_s.abs();
    (
        (-(centre + half).exp()).exp(),
        (-(centre - half).exp()).exp(),
    )
}

/// The first step time where `value(step) <= 0.5`.
///
/// A product of fractions that is 0.5 in exact arithmetic may come out a hair above it in
/// floating point; the small allowance keeps "exactly 0.5" counting as reached.
fn first_at_or_below_half(steps: &[KmStep], value: impl Fn(&KmStep) -> f64) -> Option<f64> {
    steps
        .iter()
        .find(|s| value(s) <= 0.5 + 1e-12)
        .map(|s| s.time)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obs(time: f64, event: bool) -> Observation {
        Observation { time, event }
    }

    #[test]
    fn risk_table_counts_events_and_censorings_per_time() {
        let t = risk_table(&[
            obs(2.0, true),
            obs(1.0, false),
            obs(2.0, false),
            obs(3.0, true),
        ]);
        let rows: Vec<_> = t
            .iter()
            .map(|s| (s.time, s.at_risk, s.events, s.censored))
            .collect();
        assert_eq!(
            rows,
            vec![
                (0.0, 4, 0, 0),
                (1.0, 4, 0, 1),
                (2.0, 3, 1, 1),
                (3.0, 1, 1, 0)
            ]
        );
    }

    #[test]
    fn band_is_degenerate_at_one_and_zero() {
        assert_eq!(log_log_band(1.0, 0.0, 1.96), (1.0, 1.0));
        assert_eq!(log_log_band(0.0, 0.3, 1.96), (0.0, 0.0));
        let (lo, hi) = log_log_band(0.5, 0.05, 1.96);
        assert!(lo < 0.5 && hi > 0.5 && lo > 0.0 && hi < 1.0);
    }

    #[test]
    fn a_curve_at_exactly_one_half_has_its_median_at_the_stretch_start() {
        // 4 events at 1..4: S = 0.75, 0.5, 0.25, 0; the median is 2, not 2.5.
        let km = kaplan_meier(
            &[
                obs(1.0, true),
                obs(2.0, true),
                obs(3.0, true),
                obs(4.0, true),
            ],
            0.95,
        )
        .unwrap();
        assert_eq!(km.median, Some(2.0));
    }

    #[test]
    fn step_function_lookups() {
        let km = kaplan_meier(&[obs(1.0, true), obs(2.0, false), obs(3.0, true)], 0.95).unwrap();
        assert_eq!(km.survival_at(-1.0), 1.0);
        assert_eq!(km.survival_at(0.5), 1.0);
        assert!((km.survival_at(1.0) - 2.0 / 3.0).abs() < 1e-12);
        assert!((km.survival_at(2.5) - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(km.survival_at(3.0), 0.0);
        assert_eq!(km.at_risk_at(0.0), 3);
        assert_eq!(km.at_risk_at(1.0), 3);
        assert_eq!(km.at_risk_at(1.5), 2);
        assert_eq!(km.at_risk_at(3.0), 1);
        assert_eq!(km.at_risk_at(3.5), 0);
        assert_eq!(km.survival_at(f64::NAN), 1.0);
        assert_eq!(km.at_risk_at(f64::NAN), 3);
    }
}
