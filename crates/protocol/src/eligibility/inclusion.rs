//! IN1, IN2, IN3, IN6, IN7 and IN8 (PROTOCOL §5). IN4/IN5 live in `lesions`.

use chrono::Months;

use super::CriterionStatus::{Met, Missing, NotMet};
use super::{Ctx, Finding, days_ago};
use crate::participant::current;
use crate::records::{
    AttestedCriterion, DiseaseExtent, Sex, Specimen, TestResult, TreatmentSetting,
};

/// IN1: female, age ≥ 18 at consent.
pub(super) fn in1(ctx: &Ctx) -> Finding {
    let min = ctx.s.min_age_years;
    let mut ev = Vec::new();
    let Some(sex) = ctx.p.sex else {
        return Finding::new(Missing, "Sex not recorded", ev);
    };
    ev.push(format!("Sex recorded: {}", sex.label()));
    if sex != Sex::Female {
        return Finding::new(NotMet, "Not met: the trial includes women only", ev);
    }
    let Some(c) = ctx.p.first_consent() else {
        ev.push("Age at consent needs the consent date; no consent recorded".into());
        return Finding::new(Missing, "Age at consent unknown: no consent recorded", ev);
    };
    if let Some(yob) = ctx.p.year_of_birth {
        ev.push(format!(
            "Year of birth {yob}; consent signed {}",
            ctx.day(c.signed_at)
        ));
    }
    ev.push(format!("Threshold: age ≥ {min} at consent"));
    match c.age_at_consent {
        Some(age) => {
            ev.push(format!("Age at consent {age} (entered)"));
            if age >= min {
                Finding::new(Met, format!("Met: female, age {age} at consent"), ev)
            } else {
                Finding::new(
                    NotMet,
                    format!("Not met: age {age} at consent is below {min}"),
                    ev,
                )
            }
        }
        None if c.age_min >= min => {
            ev.push(format!(
                "Age at consent {}–{} from year of birth",
                c.age_min, c.age_max
            ));
            Finding::new(
                Met,
                format!("Met: female, age ≥ {} at consent", c.age_min),
                ev,
            )
        }
        None if c.age_max < min => {
            ev.push(format!(
                "Age at consent {}–{} from year of birth",
                c.age_min, c.age_max
            ));
            Finding::new(
                NotMet,
                format!("Not met: age at most {} at consent", c.age_max),
                ev,
            )
        }
        None => {
            ev.push(format!(
                "Age at consent {} or {} from year of birth alone",
                c.age_min, c.age_max
            ));
            Finding::new(
                Missing,
                "Age at consent undecided by year of birth: record the exact age at consent",
                ev,
            )
        }
    }
}

/// IN2: metastatic / locally advanced disease with qualifying chemotherapy history.
pub(super) fn in2(ctx: &Ctx) -> Finding {
    let s = &ctx.s.prior_chemo;
    let today = ctx.today();
    let mut ev = Vec::new();
    let extent = ctx.history().map(|h| h.disease_extent);
    match extent {
        Some(e) => ev.push(format!("Disease extent: {}", e.label())),
        None => ev.push("Disease extent not recorded (medical history)".into()),
    }
    let mut qualifies = false;
    let mut any_line = false;
    for e in current(&ctx.p.treatment_lines) {
        any_line = true;
        let l = &e.value;
        let mut line = format!(
            "{} {} ({}chemotherapy) {} → {}",
            l.regimen,
            l.setting.label(),
            if l.is_chemotherapy { "" } else { "not " },
            l.start_date,
            l.end_date.map_or("ongoing".into(), |d| d.to_string()),
        );
        let progression = l.progression_date.filter(|d| *d <= today);
        match progression {
            Some(d) => line.push_str(&format!(", progression/relapse {d}")),
            None => line.push_str(", no progression/relapse recorded"),
        }
        let ok = l.is_chemotherapy
            && match (l.setting, progression) {
                (TreatmentSetting::Palliative, Some(_)) => true,
                (TreatmentSetting::Adjuvant | TreatmentSetting::Neoadjuvant, Some(rel)) => {
                    match l.end_date {
                        Some(end) if rel >= end => {
                            let limit =
                                end.checked_add_months(Months::new(s.relapse_window_months));
                            line.push_str(&format!(
                                "; relapse window ends {}",
                                limit.map_or("?".into(), |d| d.to_string())
                            ));
                            limit.is_some_and(|lim| rel <= lim)
                        }
                        _ => s.include_relapse_during_adjuvant && rel >= l.start_date,
                    }
                }
                _ => false,
            };
        line.push_str(if ok {
            " — qualifies"
        } else {
            " — does not qualify"
        });
        qualifies |= ok;
        ev.push(line);
    }
    ev.push(format!(
        "Rule: progression after palliative chemotherapy, or relapse ≤ {} months after (neo)adjuvant chemotherapy{}",
        s.relapse_window_months,
        if s.include_relapse_during_adjuvant { " (or during it)" } else { "" }
    ));
    if extent == Some(DiseaseExtent::Early) {
        return Finding::new(
            NotMet,
            "Not met: not metastatic or locally advanced disease",
            ev,
        );
    }
    if let Some(f) = super::prior_adc::judge(ctx, &mut ev) {
        return f;
    }
    if !any_line {
        return Finding::new(Missing, "No treatment history recorded", ev);
    }
    if !qualifies {
        return Finding::new(
            NotMet,
            "Not met: no qualifying chemotherapy line with progression/relapse",
            ev,
        );
    }
    match extent {
        None => Finding::new(
            Missing,
            "Chemotherapy history qualifies; disease extent not recorded",
            ev,
        ),
        Some(_) => Finding::new(Met, "Met: qualifying chemotherapy history", ev),
    }
}

/// IN3: written informed consent on record and not withdrawn.
pub(super) fn in3(ctx: &Ctx) -> Finding {
    if let Some(w) = &ctx.p.withdrawal {
        return Finding::new(
            NotMet,
            "Not met: consent withdrawn",
            vec![format!(
                "Consent withdrawn {}",
                ctx.s.local_text(w.withdrawn_at)
            )],
        );
    }
    match ctx.p.consent().filter(|c| c.signed_at <= ctx.now) {
        Some(c) => Finding::new(
            Met,
            "Met: signed informed consent on record",
            vec![format!(
                "Consent form version {} signed {}",
                c.form_version,
                ctx.s.local_text(c.signed_at)
            )],
        ),
        None => Finding::new(Missing, "No signed consent recorded", vec![]),
    }
}

/// IN6: WHO performance status ≤ ps_max, recent.
pub(super) fn in6(ctx: &Ctx) -> Finding {
    let max = ctx.s.ps_max;
    let window = ctx.s.recency.ps_max_age_days;
    let Some(ps) = ctx.latest(&ctx.p.performance_status, |v| v.assessed_on) else {
        return Finding::new(Missing, "No performance status recorded", vec![]);
    };
    let age = ctx.age_days(ps.assessed_on);
    let mut ev = vec![
        format!(
            "WHO PS {} assessed {} ({age} days ago)",
            ps.who_ps, ps.assessed_on
        ),
        format!("Threshold: PS ≤ {max}; must be at most {window} days old"),
    ];
    if age > i64::from(window) {
        ev.push("Assessment too old to count".into());
        return Finding::new(
            Missing,
            format!("Performance status older than {window} days"),
            ev,
        );
    }
    if ps.who_ps <= max {
        Finding::new(Met, format!("Met: PS {} ≤ {max}", ps.who_ps), ev)
    } else {
        Finding::new(NotMet, format!("Not met: PS {} > {max}", ps.who_ps), ev)
    }
}

/// IN7: expected survival > 12 weeks, attested.
pub(super) fn in7(ctx: &Ctx) -> Finding {
    let weeks = ctx.s.min_life_expectancy_weeks;
    match ctx.attestation(AttestedCriterion::In7) {
        None => Finding::new(
            Missing,
            format!("Investigator has not attested expected survival > {weeks} weeks"),
            vec![],
        ),
        Some(a) if a.answer => Finding::new(
            Met,
            format!("Met: expected survival > {weeks} weeks (attested)"),
            vec![ctx.attestation_evidence(a)],
        ),
        Some(a) => Finding::new(
            NotMet,
            format!("Not met: expected survival not > {weeks} weeks (attested)"),
            vec![ctx.attestation_evidence(a)],
        ),
    }
}

/// IN8: child-bearing potential, contraception, negative serum pregnancy test.
pub(super) fn in8(ctx: &Ctx) -> Finding {
    let Some(cb) = ctx.latest(&ctx.p.childbearing, |v| v.assessed_on) else {
        return Finding::new(Missing, "Child-bearing potential not recorded", vec![]);
    };
    let mut ev = Vec::new();
    let mut statuses = Vec::new();
    if !cb.childbearing_potential {
        ev.push(format!(
            "Not of child-bearing potential ({}), assessed {}",
            cb.basis.as_deref().unwrap_or("basis not given"),
            cb.assessed_on
        ));
    } else {
        ev.push(format!(
            "Of child-bearing potential, assessed {}",
            cb.assessed_on
        ));
        match cb.contraception_agreed {
            Some(true) => ev.push(format!(
                "Contraception agreed ({})",
                cb.contraception_method
                    .as_deref()
                    .unwrap_or("method not given")
            )),
            Some(false) => {
                ev.push("Contraception not agreed".into());
                statuses.push(NotMet);
            }
            None => {
                ev.push("Contraception agreement not recorded".into());
                statuses.push(Missing);
            }
        }
        statuses.push(pregnancy_test_status(ctx, &mut ev));
    }
    match ctx.attestation(AttestedCriterion::In8) {
        None => {
            ev.push("Investigator attestation of IN8 missing".into());
            statuses.push(Missing);
        }
        Some(a) => {
            ev.push(ctx.attestation_evidence(a));
            statuses.push(if a.answer { Met } else { NotMet });
        }
    }
    if statuses.contains(&NotMet) {
        Finding::new(NotMet, "Not met: see evidence", ev)
    } else if statuses.contains(&Missing) {
        Finding::new(Missing, "Incomplete: see evidence", ev)
    } else if cb.childbearing_potential {
        Finding::new(
            Met,
            "Met: contraception agreed, serum pregnancy test negative",
            ev,
        )
    } else {
        Finding::new(Met, "Met: not of child-bearing potential", ev)
    }
}

fn pregnancy_test_status(ctx: &Ctx, ev: &mut Vec<String>) -> super::CriterionStatus {
    let window = ctx.s.pregnancy.screening_test_max_age_days;
    let tests: Vec<_> = current(&ctx.p.pregnancy_tests)
        .map(|e| &e.value)
        .filter(|t| t.sample_at <= ctx.now)
        .collect();
    for t in tests.iter().filter(|t| t.specimen == Specimen::Urine) {
        ev.push(format!(
            "Urine test {} {} (does not count: serum required)",
            t.result.label(),
            ctx.s.local_text(t.sample_at)
        ));
    }
    let Some(t) = tests
        .iter()
        .filter(|t| t.specimen == Specimen::Serum)
        .max_by_key(|t| t.sample_at)
    else {
        ev.push("No serum pregnancy test recorded".into());
        return Missing;
    };
    let age = ctx.age_days(ctx.day(t.sample_at));
    ev.push(format!(
        "Serum pregnancy test {} {} ({}; must be ≤ {window} days old)",
        t.result.label(),
        ctx.s.local_text(t.sample_at),
        days_ago(age)
    ));
    match t.result {
        TestResult::Positive => NotMet,
        _ if age > i64::from(window) => Missing,
        TestResult::Negative => Met,
        TestResult::Inconclusive => Missing,
    }
}
