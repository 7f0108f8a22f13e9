//! PROTOCOL §9: T-DXd dose ladder, ILD, LVEF and neutropenia rules, no re-escalation.

use chrono::{Duration, NaiveDate};
use protocol::Settings;
use protocol::journey::*;
use protocol::rule::Rule;

use crate::common::*;

const WEIGHT: f64 = 60.0;

fn dose(date: NaiveDate, level: DoseLevel) -> Administration {
    Administration {
        date,
        weight_kg: WEIGHT,
        dose_level: level,
        dose_mg: ((level.mg_per_kg() * WEIGHT) * 10.0).round() / 10.0,
        reduction_reason: None,
        delay_reason: None,
    }
}

fn c1d1() -> NaiveDate {
    d(2026, 4, 1)
}

fn day(n: i64) -> NaiveDate {
    c1d1() + Duration::days(n)
}

fn started() -> TdxdCourse {
    TdxdCourse::new()
        .record(&dose(c1d1(), DoseLevel::Start), &Settings::default())
        .unwrap()
        .0
}

#[test]
fn first_dose_is_5_4_mg_per_kg_times_weight() {
    let (c, check) = TdxdCourse::new()
        .record(&dose(c1d1(), DoseLevel::Start), &Settings::default())
        .unwrap();
    assert_eq!(check.cycle, 1);
    assert_eq!(check.expected_dose_mg, 324.0);
    assert!((check.volume_ml - 16.2).abs() < 1e-9);
    assert_eq!(check.days_since_previous, None);
    assert_eq!(c.administrations.len(), 1);
}

#[test]
fn dose_in_mg_must_match_level_times_weight_within_tolerance() {
    let s = Settings::default();
    let mut a = dose(c1d1(), DoseLevel::Start);
    a.dose_mg = 340.0; // 4.9 % above 324
    assert!(TdxdCourse::new().check(&a, &s).is_ok());
    a.dose_mg = 345.0; // 6.5 %
    let r = TdxdCourse::new().check(&a, &s).unwrap_err();
    assert_eq!(r.rule, Rule::TDXD_DOSE);
    assert!(r.message.contains("324 mg"), "{}", r.message);
}

#[test]
fn dose_ladder_runs_to_discontinuation() {
    let s = Settings::default();
    let mut c = started();
    // Grade 4 neutropenia three times: each resolution takes one level down.
    let levels = [DoseLevel::Reduced1, DoseLevel::Reduced2];
    for (i, expected) in levels.iter().enumerate() {
        let on = day(10 + 21 * i as i64);
        c = c.apply(&neutropenia_decision(4, false).unwrap(), on);
        assert_eq!(
            c.check(&dose(day(21 * (i as i64 + 1)), c.level), &s)
                .unwrap_err()
                .rule,
            Rule::TDXD_INTERRUPTED
        );
        c = c
            .resolve(Rule::TDXD_NEUTROPENIA, on + Duration::days(5))
            .unwrap();
        assert_eq!(c.level, *expected);
        let mut a = dose(day(21 * (i as i64 + 1)), *expected);
        a.reduction_reason = Some("grade 4 neutropenia".into());
        c = c.record(&a, &s).unwrap().0;
    }
    assert_eq!(c.level.mg_per_kg(), 3.2);
    c = c.apply(&neutropenia_decision(4, false).unwrap(), day(50));
    c = c.resolve(Rule::TDXD_NEUTROPENIA, day(55)).unwrap();
    let disc = c
        .discontinued
        .as_ref()
        .expect("beyond 3.2 mg/kg discontinues");
    assert!(disc.reason.contains("below 3.2 mg/kg"), "{}", disc.reason);
    let r = c
        .check(&dose(day(63), DoseLevel::Reduced2), &s)
        .unwrap_err();
    assert_eq!(r.rule, Rule::TDXD_DISCONTINUED);
}

#[test]
fn investigator_reduction_below_3_2_discontinues() {
    let c = started()
        .reduce(day(5), "fatigue")
        .reduce(day(6), "fatigue")
        .reduce(day(7), "fatigue");
    assert!(c.discontinued.is_some());
    assert_eq!(c.discontinued.unwrap().rule, Rule::TDXD_DOSE);
}

#[test]
fn no_re_escalation_after_a_reduction() {
    let s = Settings::default();
    let mut a = dose(day(21), DoseLevel::Reduced1);
    a.reduction_reason = Some("grade 2 diarrhoea, investigator decision".into());
    let (c, check) = started().record(&a, &s).unwrap();
    assert_eq!(check.reduced_from, Some(DoseLevel::Start));
    let r = c.check(&dose(day(42), DoseLevel::Start), &s).unwrap_err();
    assert_eq!(r.rule, Rule::TDXD_DOSE);
    assert!(r.message.contains("re-escalation"), "{}", r.message);
    assert!(c.check(&dose(day(42), DoseLevel::Reduced1), &s).is_ok());
}

#[test]
fn a_reduction_needs_a_reason() {
    let r = started()
        .check(&dose(day(21), DoseLevel::Reduced1), &Settings::default())
        .unwrap_err();
    assert_eq!(r.rule, Rule::TDXD_DOSE);
    assert!(r.message.contains("without a reason"));
}

#[test]
fn ild_grade_1_interrupts_and_resolution_within_28_days_keeps_the_dose() {
    let s = Settings::default();
    let onset = day(14);
    let c = started().apply(&ild_decision(1).unwrap(), onset);
    let r = c.check(&dose(day(21), DoseLevel::Start), &s).unwrap_err();
    assert_eq!(r.rule, Rule::TDXD_INTERRUPTED);
    assert!(r.message.contains("TDXD_ILD"), "{}", r.message);
    // The ILD interruption needs the resolution's dates, not a plain resolve.
    assert!(c.resolve(Rule::TDXD_ILD, day(30)).is_err());
    let within = ild_resolved(onset, onset + Duration::days(28), &s).unwrap();
    assert_eq!(within.action, DoseAction::ResumeSameDose);
    let c = c.apply(&within, onset + Duration::days(28));
    assert!(c.may_dose());
    assert!(c.check(&dose(day(42), DoseLevel::Start), &s).is_ok());
}

#[test]
fn ild_grade_1_resolved_after_28_days_goes_one_level_down() {
    let s = Settings::default();
    let onset = day(14);
    let late = ild_resolved(onset, onset + Duration::days(29), &s).unwrap();
    assert_eq!(late.action, DoseAction::ResumeOneLevelDown);
    assert!(late.reason.contains("29 days"));
    let c = started()
        .apply(&ild_decision(1).unwrap(), onset)
        .apply(&late, onset + Duration::days(29));
    assert_eq!(c.level, DoseLevel::Reduced1);
    assert_eq!(
        c.check(&dose(day(63), DoseLevel::Start), &s)
            .unwrap_err()
            .rule,
        Rule::TDXD_DOSE
    );
    let mut a = dose(day(63), DoseLevel::Reduced1);
    a.reduction_reason = Some("ILD grade 1 resolved after 28 days".into());
    assert!(c.check(&a, &s).is_ok());
}

#[test]
fn ild_grade_2_or_more_discontinues_permanently() {
    for grade in [2, 3, 4, 5] {
        let dec = ild_decision(grade).unwrap();
        assert_eq!(dec.action, DoseAction::Discontinue);
        assert_eq!(dec.rule, Rule::TDXD_ILD);
    }
    let c = started().apply(&ild_decision(2).unwrap(), day(14));
    let r = c
        .check(&dose(day(21), DoseLevel::Start), &Settings::default())
        .unwrap_err();
    assert_eq!(r.rule, Rule::TDXD_DISCONTINUED);
    assert!(r.message.contains("TDXD_ILD"));
    // Nothing brings it back.
    let c = c.apply(
        &ild_resolved(day(14), day(20), &Settings::default()).unwrap(),
        day(20),
    );
    assert!(c.discontinued.is_some());
    assert_eq!(ild_decision(0).unwrap_err().rule, Rule::CTCAE_GRADE);
}

#[test]
fn lvef_bands_follow_the_label_table() {
    use LvefBand::*;
    let cases = [
        (60.0, 50.0, Continue),
        (60.0, 46.0, Continue), // > 45 % with a 14-point drop
        (50.0, 44.0, ContinueRepeat),
        (54.9, 45.0, ContinueRepeat),          // drop 9.9
        (55.0, 45.0, InterruptUntilRecovered), // drop exactly 10
        (60.0, 40.0, InterruptUntilRecovered), // drop exactly 20
        (60.1, 40.0, InterruptConfirm),        // drop 20.1
        (55.0, 39.9, InterruptConfirm),
        (70.0, 49.0, InterruptConfirm), // > 45 % but a 21-point drop
    ];
    for (baseline, current, band) in cases {
        assert_eq!(
            lvef_band(baseline, current, false),
            band,
            "{baseline} → {current}"
        );
    }
    assert_eq!(lvef_band(60.0, 58.0, true), SymptomaticChf);
}

#[test]
fn lvef_decisions_interrupt_repeat_and_discontinue() {
    let s = Settings::default();
    let cont = lvef_decision(50.0, 44.0, false, &s);
    assert_eq!(cont.action, DoseAction::Continue);
    assert_eq!(cont.repeat_lvef_within_days, Some(21));
    let int = lvef_decision(58.0, 44.0, false, &s);
    assert!(matches!(int.action, DoseAction::Interrupt { .. }));
    assert!(int.reason.contains("drop 14 points"), "{}", int.reason);
    assert_eq!(
        lvef_decision(60.0, 55.0, true, &s).action,
        DoseAction::Discontinue
    );
    // Repeat after 40–45 % with a 10–20 drop: recovered within 10 points resumes the same dose.
    let back = lvef_repeat_decision(LvefBand::InterruptUntilRecovered, 58.0, 49.0, false);
    assert_eq!(back.action, DoseAction::ResumeSameDose);
    let not_back = lvef_repeat_decision(LvefBand::InterruptUntilRecovered, 58.0, 48.0, false);
    assert_eq!(not_back.action, DoseAction::Discontinue);
    // Repeat after < 40 %: confirmed discontinues, not confirmed resumes.
    assert_eq!(
        lvef_repeat_decision(LvefBand::InterruptConfirm, 55.0, 38.0, false).action,
        DoseAction::Discontinue
    );
    assert_eq!(
        lvef_repeat_decision(LvefBand::InterruptConfirm, 55.0, 47.0, false).action,
        DoseAction::ResumeSameDose
    );
    let c = started().apply(&int, day(15)).apply(&back, day(30));
    assert!(c.may_dose());
    assert_eq!(c.level, DoseLevel::Start);
    let c = started().apply(&int, day(15)).apply(&not_back, day(30));
    assert_eq!(c.discontinued.unwrap().rule, Rule::TDXD_LVEF);
}

#[test]
fn neutropenia_grade_3_holds_then_same_dose_grade_4_and_febrile_reduce() {
    assert_eq!(
        neutropenia_decision(2, false).unwrap().action,
        DoseAction::Continue
    );
    let g3 = started().apply(&neutropenia_decision(3, false).unwrap(), day(12));
    assert!(!g3.may_dose());
    let g3 = g3.resolve(Rule::TDXD_NEUTROPENIA, day(19)).unwrap();
    assert_eq!(g3.level, DoseLevel::Start);
    assert!(g3.may_dose());
    let fn_ = started()
        .apply(&neutropenia_decision(3, true).unwrap(), day(12))
        .resolve(Rule::TDXD_NEUTROPENIA, day(19))
        .unwrap();
    assert_eq!(fn_.level, DoseLevel::Reduced1);
}

#[test]
fn two_interruptions_both_have_to_resolve() {
    let c = started()
        .apply(&neutropenia_decision(3, false).unwrap(), day(12))
        .apply(&ild_decision(1).unwrap(), day(13))
        .resolve(Rule::TDXD_NEUTROPENIA, day(19))
        .unwrap();
    assert!(!c.may_dose(), "ILD still open");
    assert_eq!(c.interruptions.len(), 1);
    assert_eq!(c.interruptions[0].rule, Rule::TDXD_ILD);
}

#[test]
fn doses_are_21_days_apart_with_a_3_day_window_and_delays_counted() {
    let s = Settings::default();
    let c = started();
    let r = c.check(&dose(day(17), DoseLevel::Start), &s).unwrap_err();
    assert_eq!(r.rule, Rule::TDXD_INTERVAL);
    assert!(
        r.message.contains("17 days") && r.message.contains("day 18"),
        "{}",
        r.message
    );
    assert_eq!(
        c.check(&dose(day(18), DoseLevel::Start), &s)
            .unwrap()
            .delay_days,
        0
    );
    let late = c.check(&dose(day(28), DoseLevel::Start), &s).unwrap();
    assert_eq!(late.delay_days, 7);
    assert_eq!(late.cycle, 2);
    assert_eq!(late.days_since_previous, Some(28));
}

#[test]
fn impossible_weight_is_refused() {
    let mut a = dose(c1d1(), DoseLevel::Start);
    a.weight_kg = 0.0;
    assert_eq!(
        TdxdCourse::new()
            .check(&a, &Settings::default())
            .unwrap_err()
            .rule,
        Rule::VALUE_IMPOSSIBLE
    );
}
