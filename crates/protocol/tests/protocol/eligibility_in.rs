//! IN1–IN3 and IN6–IN8: met, not met and missing, with boundaries.

use chrono::NaiveDate;
use protocol::CriterionStatus::{Met, Missing, NotMet};
use protocol::testing::attest;
use protocol::{
    AttestedCriterion, Command, DiseaseExtent, Overall, RecordPregnancyTest, RecordTreatmentLine,
    Rule, Sex, Specimen, TestResult, TreatmentSetting, WithdrawConsent, evaluate_eligibility,
};

use crate::common::*;

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

#[test]
fn standard_participant_is_eligible_with_every_criterion_decided() {
    let r = eval(&base());
    assert_eq!(r.overall, Overall::Eligible, "{r:#?}");
    assert_eq!(r.criteria.len(), 13);
    assert!(r.failed().is_empty() && r.missing().is_empty());
    assert_eq!(r.settings_version, 1);
}

fn born(yob: i32, age: Option<u32>) -> Vec<Command> {
    edit(base(), move |c| match c {
        Command::RegisterParticipant(r) => r.year_of_birth = yob,
        Command::RecordConsent(r) => r.age_at_consent = age,
        _ => {}
    })
}

#[test]
fn in1_age_exactly_18_at_consent_is_met_and_17_is_not() {
    assert_eq!(status(&born(2008, Some(18)), Rule::IN1), Met);
    assert_eq!(status(&born(2008, Some(17)), Rule::IN1), NotMet);
}

#[test]
fn in1_year_of_birth_alone_decides_only_when_unambiguous() {
    // Consent in 2026: born 2008 → 17 or 18, undecided; born 2009 → at most 17.
    let r = eval(&born(2008, None));
    assert_eq!(r.get(Rule::IN1).unwrap().status, Missing);
    assert!(r.get(Rule::IN1).unwrap().summary.contains("exact age"));
    assert_eq!(status(&born(2009, None), Rule::IN1), NotMet);
    assert_eq!(status(&born(1990, None), Rule::IN1), Met);
}

#[test]
fn in1_requires_female() {
    let cmds = edit(base(), |c| {
        if let Command::RegisterParticipant(r) = c {
            r.sex = Sex::Male;
        }
    });
    assert_eq!(status(&cmds, Rule::IN1), NotMet);
    assert_eq!(eval(&cmds).overall, Overall::NotEligible);
}

fn one_line(
    setting: TreatmentSetting,
    chemo: bool,
    end: Option<NaiveDate>,
    prog: Option<NaiveDate>,
) -> Vec<Command> {
    let cmds = without(base(), |c| matches!(c, Command::RecordTreatmentLine(_)));
    plus(
        cmds,
        [Command::RecordTreatmentLine(RecordTreatmentLine {
            setting,
            regimen: "EC → docetaxel".into(),
            is_chemotherapy: chemo,
            is_her2_targeted: false,
            start_date: d(2025, 1, 10),
            end_date: end,
            progression_date: prog,
            corrects: None,
            correction_reason: None,
        })],
    )
}

#[test]
fn in2_palliative_chemotherapy_with_progression_is_met() {
    let cmds = one_line(
        TreatmentSetting::Palliative,
        true,
        None,
        Some(d(2026, 2, 1)),
    );
    assert_eq!(status(&cmds, Rule::IN2), Met);
}

#[test]
fn in2_endocrine_therapy_alone_is_not_met() {
    let cmds = one_line(
        TreatmentSetting::Palliative,
        false,
        None,
        Some(d(2026, 2, 1)),
    );
    let r = eval(&cmds);
    assert_eq!(r.get(Rule::IN2).unwrap().status, NotMet);
    assert!(evidence(&r, Rule::IN2).contains("not chemotherapy"));
}

#[test]
fn in2_adjuvant_relapse_window_is_six_calendar_months() {
    // Adjuvant chemotherapy completed 2025-06-01: window ends 2025-12-01.
    let inside = one_line(
        TreatmentSetting::Adjuvant,
        true,
        Some(d(2025, 6, 1)),
        Some(d(2025, 12, 1)),
    );
    assert_eq!(status(&inside, Rule::IN2), Met);
    let outside = one_line(
        TreatmentSetting::Adjuvant,
        true,
        Some(d(2025, 6, 1)),
        Some(d(2025, 12, 2)),
    );
    assert_eq!(status(&outside, Rule::IN2), NotMet);
    let neo = one_line(
        TreatmentSetting::Neoadjuvant,
        true,
        Some(d(2025, 6, 1)),
        Some(d(2025, 9, 1)),
    );
    assert_eq!(status(&neo, Rule::IN2), Met);
}

#[test]
fn in2_missing_without_treatment_history_and_not_met_for_early_disease() {
    let none = without(base(), |c| matches!(c, Command::RecordTreatmentLine(_)));
    assert_eq!(status(&none, Rule::IN2), Missing);
    let early = edit(base(), |c| {
        if let Command::RecordMedicalHistory(h) = c {
            h.disease_extent = DiseaseExtent::Early;
        }
    });
    assert_eq!(status(&early, Rule::IN2), NotMet);
}

#[test]
fn in3_met_with_consent_missing_before_and_not_met_after_withdrawal() {
    let r = eval(&base());
    assert_eq!(r.get(Rule::IN3).unwrap().status, Met);
    assert!(evidence(&r, Rule::IN3).contains("form version 1.0"));
    let registered_only = base()[..1].to_vec();
    assert_eq!(status(&registered_only, Rule::IN3), Missing);
    let withdrawn = plus(
        base(),
        [Command::WithdrawConsent(WithdrawConsent {
            withdrawn_at: at(5),
            reason: "no longer wishes to take part".into(),
        })],
    );
    let (p, _) = build(&withdrawn);
    let r = evaluate_eligibility(&p, now(), &protocol::Settings::default());
    assert_eq!(r.get(Rule::IN3).unwrap().status, NotMet);
}

fn ps(value: u8) -> Vec<Command> {
    edit(base(), move |c| {
        if let Command::RecordPerformanceStatus(p) = c {
            p.who_ps = value;
        }
    })
}

#[test]
fn in6_ps_2_is_met_and_3_is_not() {
    assert_eq!(status(&ps(2), Rule::IN6), Met);
    let r = eval(&ps(3));
    assert_eq!(r.get(Rule::IN6).unwrap().status, NotMet);
    assert_eq!(r.get(Rule::IN6).unwrap().summary, "Not met: PS 3 > 2");
}

#[test]
fn in6_missing_without_assessment() {
    let cmds = without(base(), |c| matches!(c, Command::RecordPerformanceStatus(_)));
    assert_eq!(status(&cmds, Rule::IN6), Missing);
    assert_eq!(eval(&cmds).overall, Overall::Incomplete);
}

#[test]
fn in7_follows_the_attestation() {
    assert_eq!(status(&base(), Rule::IN7), Met);
    let no = plus(base(), [attest(AttestedCriterion::In7, false, at(3))]);
    assert_eq!(status(&no, Rule::IN7), NotMet);
    let none = without(
        base(),
        |c| matches!(c, Command::RecordAttestation(a) if a.criterion == AttestedCriterion::In7),
    );
    assert_eq!(status(&none, Rule::IN7), Missing);
}

fn childbearing(agreed: Option<bool>, tests: Vec<(Specimen, TestResult)>) -> Vec<Command> {
    let mut cmds = edit(base(), move |c| {
        if let Command::RecordChildbearingPotential(x) = c {
            x.childbearing_potential = true;
            x.basis = None;
            x.contraception_agreed = agreed;
            x.contraception_method = Some("copper IUD".into());
        }
    });
    for (specimen, result) in tests {
        cmds.push(Command::RecordPregnancyTest(RecordPregnancyTest {
            specimen,
            result,
            sample_at: at(1),
            for_study: true,
            late_entry_of_fact: false,
            corrects: None,
            correction_reason: None,
        }));
    }
    cmds
}

#[test]
fn in8_not_of_childbearing_potential_is_met() {
    let r = eval(&base());
    assert_eq!(r.get(Rule::IN8).unwrap().status, Met);
    assert!(evidence(&r, Rule::IN8).contains("postmenopausal"));
}

#[test]
fn in8_childbearing_potential_needs_contraception_and_negative_serum_test() {
    let ok = childbearing(Some(true), vec![(Specimen::Serum, TestResult::Negative)]);
    assert_eq!(status(&ok, Rule::IN8), Met);
    let positive = childbearing(Some(true), vec![(Specimen::Serum, TestResult::Positive)]);
    assert_eq!(status(&positive, Rule::IN8), NotMet);
    let no_contraception = childbearing(Some(false), vec![(Specimen::Serum, TestResult::Negative)]);
    assert_eq!(status(&no_contraception, Rule::IN8), NotMet);
}

#[test]
fn in8_urine_test_does_not_count() {
    let urine = childbearing(Some(true), vec![(Specimen::Urine, TestResult::Negative)]);
    let r = eval(&urine);
    assert_eq!(r.get(Rule::IN8).unwrap().status, Missing);
    assert!(evidence(&r, Rule::IN8).contains("serum required"));
}

#[test]
fn in8_serum_test_older_than_window_is_missing() {
    let ok = childbearing(Some(true), vec![(Specimen::Serum, TestResult::Negative)]);
    // Test at consent + 1 h; 8 days later it is older than the 7-day window.
    let later = at(24 * 8 + 2);
    let r = eval_with(&ok, later, &protocol::Settings::default());
    assert_eq!(r.get(Rule::IN8).unwrap().status, Missing);
}

#[test]
fn in8_missing_without_childbearing_record() {
    let cmds = without(base(), |c| {
        matches!(c, Command::RecordChildbearingPotential(_))
    });
    assert_eq!(status(&cmds, Rule::IN8), Missing);
    let unattested = without(
        base(),
        |c| matches!(c, Command::RecordAttestation(a) if a.criterion == AttestedCriterion::In8),
    );
    assert_eq!(status(&unattested, Rule::IN8), Missing);
}

#[test]
fn in8_contraception_not_recorded_is_missing() {
    let cmds = childbearing(None, vec![(Specimen::Serum, TestResult::Negative)]);
    assert_eq!(status(&cmds, Rule::IN8), Missing);
}
