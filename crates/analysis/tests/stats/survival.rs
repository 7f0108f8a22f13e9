//! Kaplan–Meier against lifelines `KaplanMeierFitter` and `median_survival_times`.

use super::fixture::{cases, close, close_opt, f, fs, name, opt, refused};
use analysis::stats::{Observation, kaplan_meier};
use serde_json::Value;

pub fn observations(times: &Value, events: &Value) -> Vec<Observation> {
    fs(times)
        .into_iter()
        .zip(events.as_array().unwrap())
        .map(|(time, e)| Observation {
            time,
            event: e.as_bool().unwrap(),
        })
        .collect()
}

#[test]
fn curve_band_and_median_match_lifelines() {
    let mut checked = 0;
    for case in cases("kaplan_meier") {
        let what = name(&case);
        let obs = observations(&case["times"], &case["events"]);
        let got = kaplan_meier(&obs, f(&case["level"]));
        if refused(&case) {
            assert!(got.is_err(), "{what}: must be not estimable");
            continue;
        }
        let km = got.unwrap_or_else(|e| panic!("{what}: {e}"));
        let timeline = fs(&case["timeline"]);
        assert_eq!(km.steps.len(), timeline.len(), "{what}: number of steps");
        let (s, lo, hi) = (
            fs(&case["survival"]),
            fs(&case["lower"]),
            fs(&case["upper"]),
        );
        for (i, step) in km.steps.iter().enumerate() {
            let at = format!("{what} at t = {}", timeline[i]);
            close(step.time, timeline[i], &at);
            close(step.survival, s[i], &format!("{at} survival"));
            close(step.lower, lo[i], &format!("{at} lower"));
            close(step.upper, hi[i], &format!("{at} upper"));
            assert_eq!(
                step.at_risk as u64,
                case["at_risk"][i].as_u64().unwrap(),
                "{at}"
            );
            assert_eq!(
                step.events as u64,
                case["observed"][i].as_u64().unwrap(),
                "{at}"
            );
            assert_eq!(
                step.censored as u64,
                case["censored"][i].as_u64().unwrap(),
                "{at}"
            );
            assert_eq!(km.survival_at(step.time), step.survival, "{at}");
            assert_eq!(km.at_risk_at(step.time), step.at_risk, "{at}");
        }
        close_opt(km.median, opt(&case["median"]), &format!("{what} median"));
        let ci = &case["median_ci"];
        close_opt(km.median_ci.0, opt(&ci[0]), &format!("{what} median lower"));
        close_opt(km.median_ci.1, opt(&ci[1]), &format!("{what} median upper"));
        assert_eq!(km.n, obs.len());
        assert_eq!(km.events, obs.iter().filter(|o| o.event).count());
        checked += 1;
    }
    assert!(checked >= 9);
}

#[test]
fn the_trial_sized_curve_reads_like_a_report() {
    let case = cases("kaplan_meier")
        .into_iter()
        .find(|c| name(c) == "trial-sized PFS 35")
        .unwrap();
    let km = kaplan_meier(&observations(&case["times"], &case["events"]), 0.95).unwrap();
    // Median PFS 215 days (95% CI 145 to 528) in lifelines.
    assert_eq!(km.median, Some(215.0));
    assert_eq!(km.median_ci, (Some(145.0), Some(528.0)));
    assert!(km.ci_method.contains("log(-log)"));
}

#[test]
fn bad_times_are_refused() {
    let bad = |time| kaplan_meier(&[Observation { time, event: true }], 0.95);
    assert!(bad(-1.0).unwrap_err().reason.contains("negative"));
    assert!(bad(f64::NAN).is_err());
    assert!(bad(f64::INFINITY).is_err());
    assert!(
        kaplan_meier(&[], 0.95)
            .unwrap_err()
            .reason
            .contains("no participants")
    );
}
