//! The checks an assumptions file passes before the generator may use it; each refusal
//! names the dotted key of the value at fault.

use super::assumptions::{AssumptionsError, LogNormal, RawAssumptions, SCREENING_ORDER};

/// How far from 1 a set of frequencies may sum (rounding in a hand-written file).
const SUM_TOLERANCE: f64 = 1e-6;

/// Lowest chance a screened woman passes every criterion: below it, enrolling n women
/// needs an absurd number of screenings and the file is almost surely a mistake.
const MIN_PASS_PROBABILITY: f64 = 0.01;

fn invalid(key: impl Into<String>, reason: impl Into<String>) -> AssumptionsError {
    AssumptionsError::Invalid {
        key: key.into(),
        reason: reason.into(),
    }
}

fn positive(key: &str, v: f64) -> Result<(), AssumptionsError> {
    if v.is_finite() && v > 0.0 {
        Ok(())
    } else {
        Err(invalid(key, format!("{v} must be a positive number")))
    }
}

fn non_negative(key: &str, v: f64) -> Result<(), AssumptionsError> {
    if v.is_finite() && v >= 0.0 {
        Ok(())
    } else {
        Err(invalid(key, format!("{v} must be zero or more")))
    }
}

fn probability(key: &str, v: f64) -> Result<(), AssumptionsError> {
    if v.is_finite() && (0.0..=1.0).contains(&v) {
        Ok(())
    } else {
        Err(invalid(
            key,
            format!("{v} is not a probability between 0 and 1"),
        ))
    }
}

fn finite(key: &str, v: f64) -> Result<(), AssumptionsError> {
    if v.is_finite() {
        Ok(())
    } else {
        Err(invalid(key, format!("{v} is not a finite number")))
    }
}

/// Frequencies each in [0, 1] and summing to 1.
fn frequencies(key: &str, named: &[(String, f64)]) -> Result<(), AssumptionsError> {
    for (name, v) in named {
        probability(&format!("{key}.{name}"), *v)?;
    }
    let sum: f64 = named.iter().map(|(_, v)| v).sum();
    if (sum - 1.0).abs() > SUM_TOLERANCE {
        return Err(invalid(key, format!("frequencies sum to {sum:.4}, not 1")));
    }
    Ok(())
}

fn log_normal(key: &str, d: &LogNormal) -> Result<(), AssumptionsError> {
    positive(&format!("{key}.median"), d.median)?;
    non_negative(&format!("{key}.log_sd"), d.log_sd)
}

/// Checks every value of `a`; the first problem found is returned.
pub(super) fn validate(a: &RawAssumptions) -> Result<(), AssumptionsError> {
    analysis(a)?;
    accrual(a)?;
    screening(a)?;
    let h = &a.her2;
    frequencies(
        "her2",
        &[
            ("null".into(), h.null),
            ("ultralow".into(), h.ultralow),
            ("low".into(), h.low),
            ("positive".into(), h.positive),
        ],
    )?;
    non_negative("suv.measurement_log_sd", a.suv.measurement_log_sd)?;
    log_normal("suv.null", &a.suv.null)?;
    log_normal("suv.ultralow", &a.suv.ultralow)?;
    log_normal("suv.low", &a.suv.low)?;
    log_normal("suv.positive", &a.suv.positive)?;
    probability("heterogeneity.patient_share", a.heterogeneity.patient_share)?;
    probability(
        "heterogeneity.negative_lesion_share",
        a.heterogeneity.negative_lesion_share,
    )?;
    non_negative(
        "heterogeneity.within_patient_log_sd",
        a.heterogeneity.within_patient_log_sd,
    )?;
    lesions(a)?;
    log_normal("liver_background", &a.liver_background)?;
    outcomes(a)?;
    adverse_events(a)
}

fn analysis(a: &RawAssumptions) -> Result<(), AssumptionsError> {
    positive("analysis.suvmax_threshold", a.analysis.suvmax_threshold)?;
    let null = a.analysis.null_auc;
    if !(null.is_finite() && (0.0..1.0).contains(&null)) {
        return Err(invalid(
            "analysis.null_auc",
            format!("{null} must be in [0, 1)"),
        ));
    }
    let level = a.analysis.level;
    if !(level.is_finite() && level > 0.0 && level < 1.0) {
        return Err(invalid(
            "analysis.level",
            format!("{level} must be in (0, 1)"),
        ));
    }
    Ok(())
}

fn accrual(a: &RawAssumptions) -> Result<(), AssumptionsError> {
    let c = &a.accrual;
    non_negative("accrual.months_to_treatment", c.months_to_treatment)?;
    non_negative("accrual.min_follow_up_months", c.min_follow_up_months)?;
    non_negative(
        "accrual.loss_to_follow_up_per_year",
        c.loss_to_follow_up_per_year,
    )?;
    if c.sites.is_empty() {
        return Err(invalid("accrual.sites", "at least one site is needed"));
    }
    for (i, s) in c.sites.iter().enumerate() {
        if s.name.trim().is_empty() {
            return Err(invalid(
                format!("accrual.sites[{i}].name"),
                "a site needs a name",
            ));
        }
        positive(
            &format!("accrual.sites[{i}].screened_per_month"),
            s.screened_per_month,
        )?;
    }
    Ok(())
}

fn screening(a: &RawAssumptions) -> Result<(), AssumptionsError> {
    let mut pass = 1.0;
    for (rule, p) in &a.screen_failure {
        let key = format!("screen_failure.{}", rule.id());
        if !SCREENING_ORDER.contains(rule) {
            return Err(invalid(
                key,
                "not an eligibility criterion (IN1–IN8, EX1–EX5)",
            ));
        }
        probability(&key, *p)?;
        pass *= 1.0 - p;
    }
    if pass < MIN_PASS_PROBABILITY {
        return Err(invalid(
            "screen_failure",
            format!("only {pass:.4} of screened women would pass every criterion"),
        ));
    }
    Ok(())
}

fn lesions(a: &RawAssumptions) -> Result<(), AssumptionsError> {
    let l = &a.lesions;
    // Knuth's Poisson draw multiplies uniforms down to exp(-mean); past ~30 that
    // underflows towards the limits of f64 and a woman with 30 extra lesions is not
    // this trial's population anyway.
    if !(l.extra_mean.is_finite() && (0.0..=30.0).contains(&l.extra_mean)) {
        return Err(invalid(
            "lesions.extra_mean",
            format!("{} must be in [0, 30]", l.extra_mean),
        ));
    }
    if l.max == 0 {
        return Err(invalid(
            "lesions.max",
            "a woman has at least the biopsied lesion",
        ));
    }
    positive("lesions.mtv_median_ml", l.mtv_median_ml)?;
    non_negative("lesions.mtv_log_sd", l.mtv_log_sd)?;
    let named: Vec<(String, f64)> = l
        .sites
        .iter()
        .map(|(s, v)| (s.key().to_string(), *v))
        .collect();
    if named.is_empty() {
        return Err(invalid("lesions.sites", "at least one site is needed"));
    }
    frequencies("lesions.sites", &named)
}

fn outcomes(a: &RawAssumptions) -> Result<(), AssumptionsError> {
    let r = &a.response;
    finite(
        "response.mean_change_pet_positive",
        r.mean_change_pet_positive,
    )?;
    finite(
        "response.mean_change_pet_negative",
        r.mean_change_pet_negative,
    )?;
    non_negative("response.sd", r.sd)?;
    finite("response.offset_ultralow", r.offset_ultralow)?;
    finite("response.offset_low", r.offset_low)?;
    positive("pfs.shape", a.pfs.shape)?;
    positive(
        "pfs.median_months_pet_positive",
        a.pfs.median_months_pet_positive,
    )?;
    positive(
        "pfs.median_months_pet_negative",
        a.pfs.median_months_pet_negative,
    )
}

fn adverse_events(a: &RawAssumptions) -> Result<(), AssumptionsError> {
    for (i, ae) in a.adverse_events.iter().enumerate() {
        let key = format!("adverse_events[{i}]");
        if ae.term.trim().is_empty() {
            return Err(invalid(
                format!("{key}.term"),
                "an adverse event needs its CTCAE term",
            ));
        }
        probability(&format!("{key}.rate"), ae.rate)?;
        let grades: Vec<(String, f64)> = ae
            .grades
            .iter()
            .enumerate()
            .map(|(g, v)| (format!("grade{}", g + 1), *v))
            .collect();
        frequencies(&format!("{key}.grades"), &grades)?;
    }
    Ok(())
}
