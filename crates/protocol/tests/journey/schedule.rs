//! PROTOCOL §9, §11: visit windows from anchors, deviations, upcoming and overdue visits.

use chrono::{Duration, NaiveDate};
use protocol::Settings;
use protocol::journey::*;
use protocol::participant::Arm;
use protocol::records::DeviationSeverity;
use protocol::rule::Rule;
use protocol::settings::{Arm2Anchor, Pet2Anchor};

use crate::common::*;

fn c1d1() -> NaiveDate {
    d(2026, 4, 1)
}

fn day(n: i64) -> NaiveDate {
    c1d1() + Duration::days(n)
}

/// Arm 1 with doses every 21 days on days 0, 21, 42, 63.
fn arm1() -> Anchors {
    Anchors {
        consent: Some(d(2026, 2, 20)),
        pet1: Some(d(2026, 3, 5)),
        biopsy: Some(d(2026, 3, 10)),
        allocation: Some((d(2026, 3, 18), Arm::Arm1)),
        tdxd_dates: vec![day(0), day(21), day(42), day(63)],
        progression: None,
        lvef_repeat: None,
    }
}

fn arm2() -> Anchors {
    Anchors {
        allocation: Some((d(2026, 3, 18), Arm::Arm2)),
        tdxd_dates: vec![],
        ..arm1()
    }
}

fn calendar() -> Settings {
    let mut s = Settings::default();
    s.pet2.anchor = Pet2Anchor::Calendar;
    s
}

fn pet2_deviation(n: i64, s: &Settings) -> Option<WindowDeviation> {
    check_visit(VisitKind::Pet2, day(n), &arm1(), s)
        .unwrap()
        .deviation
}

#[test]
fn pet2_on_day_62_63_84_85_after_c1d1_calendar_anchor() {
    let s = calendar();
    let early = pet2_deviation(62, &s).expect("day 62 is before the window");
    assert_eq!(early.rule, Rule::PET2_WINDOW);
    assert_eq!(early.severity, DeviationSeverity::Minor);
    assert_eq!(early.days_outside, -1);
    assert!(pet2_deviation(63, &s).is_none());
    assert!(pet2_deviation(84, &s).is_none());
    let late = pet2_deviation(85, &s).expect("day 85 is after the window");
    assert_eq!(late.days_outside, 1);
    assert!(late.description.contains("day 85"), "{}", late.description);
}

#[test]
fn pet2_on_day_62_63_84_85_after_c1d1_cycles_anchor_on_time_doses() {
    let s = Settings::default();
    assert_eq!(s.pet2.anchor, Pet2Anchor::Cycles);
    assert!(pet2_deviation(62, &s).is_some());
    assert!(pet2_deviation(63, &s).is_none());
    assert!(pet2_deviation(84, &s).is_none());
    assert!(pet2_deviation(85, &s).is_some());
}

#[test]
fn cycles_anchor_follows_dose_delays_calendar_does_not() {
    let mut a = arm1();
    a.tdxd_dates = vec![day(0), day(28), day(49), day(70)]; // cycle 2 delayed a week
    let w = |s: &Settings| {
        let v = expected_visits(&a, s);
        v.into_iter()
            .find(|e| e.kind == VisitKind::Pet2)
            .unwrap()
            .window
    };
    let cyc = w(&Settings::default());
    assert_eq!((cyc.earliest, cyc.latest), (day(70), day(91)));
    let cal = w(&calendar());
    assert_eq!((cal.earliest, cal.latest), (day(63), day(84)));
}

#[test]
fn cycles_window_is_projected_before_the_doses_are_given() {
    let mut a = arm1();
    a.tdxd_dates = vec![day(0)];
    let t = check_visit(VisitKind::Pet2, day(63), &a, &Settings::default()).unwrap();
    assert_eq!(
        (t.expected.window.earliest, t.expected.window.latest),
        (day(63), day(84))
    );
    assert_eq!(t.day, 63);
}

#[test]
fn a_fact_before_its_anchor_is_a_major_deviation() {
    let a = arm1();
    let before_pet = check_visit(VisitKind::Biopsy, d(2026, 3, 4), &a, &Settings::default())
        .unwrap()
        .deviation
        .unwrap();
    assert_eq!(before_pet.severity, DeviationSeverity::Major);
    assert_eq!(before_pet.rule, Rule::BIOPSY_WINDOW);
    let late = check_visit(VisitKind::Biopsy, d(2026, 3, 20), &a, &Settings::default())
        .unwrap()
        .deviation
        .unwrap();
    assert_eq!(late.severity, DeviationSeverity::Minor);
    assert_eq!(late.days_outside, 1); // PET1 5 March + 14 = 19 March
}

#[test]
fn a_deviation_becomes_a_deviation_record() {
    let dev = pet2_deviation(90, &Settings::default()).unwrap();
    let rec = dev.to_deviation("dev-7".into(), t(2026, 6, 30, 10, 0), Some("e-12".into()));
    assert_eq!(rec.rule, Rule::PET2_WINDOW);
    assert_eq!(rec.severity, DeviationSeverity::Minor);
    assert_eq!(rec.deviation_id, "dev-7");
    assert!(rec.description.contains("6 days after"));
}

#[test]
fn window_without_its_anchor_is_refused_with_the_rule() {
    let mut a = arm1();
    a.tdxd_dates.clear();
    let r = check_visit(VisitKind::Pet2, day(70), &a, &Settings::default()).unwrap_err();
    assert_eq!(r.rule, Rule::PET2_WINDOW);
    let r = check_visit(VisitKind::Pet2, day(70), &arm2(), &Settings::default()).unwrap_err();
    assert_eq!(r.rule, Rule::PET2_WINDOW, "arm 2 has no PET2");
}

#[test]
fn arm_2_expects_only_the_biopsy_and_the_end_of_follow_up() {
    let v = expected_visits(&arm2(), &Settings::default());
    let kinds: Vec<VisitKind> = v.iter().map(|e| e.kind).collect();
    assert_eq!(kinds, vec![VisitKind::Biopsy, VisitKind::Arm2FollowUpEnd]);
    assert_eq!(v[1].window.latest, d(2026, 3, 19)); // PET1 5 March + 14
}

#[test]
fn arm_2_follow_up_anchor_is_configurable() {
    let mut s = Settings::default();
    s.arm2.ae_followup_anchor = Arm2Anchor::LastStudyProcedure;
    let v = expected_visits(&arm2(), &s);
    let end = v
        .iter()
        .find(|e| e.kind == VisitKind::Arm2FollowUpEnd)
        .unwrap();
    assert_eq!(end.window.latest, d(2026, 3, 24)); // biopsy 10 March + 14
    assert!(end.derivation.contains("last study procedure"));
    // Ending the follow-up early is a deviation; later is not.
    assert!(
        check_visit(VisitKind::Arm2FollowUpEnd, d(2026, 3, 23), &arm2(), &s)
            .unwrap()
            .deviation
            .is_some()
    );
    assert!(
        check_visit(VisitKind::Arm2FollowUpEnd, d(2026, 3, 30), &arm2(), &s)
            .unwrap()
            .deviation
            .is_none()
    );
}

#[test]
fn upcoming_due_overdue_and_done() {
    let s = Settings::default();
    let a = arm1();
    let state = |done: &[(VisitKind, NaiveDate)], today: NaiveDate, k: VisitKind| {
        visit_statuses(&a, done, today, &s)
            .into_iter()
            .find(|v| v.expected.kind == k)
            .unwrap()
            .state
    };
    assert_eq!(state(&[], day(50), VisitKind::Pet2), VisitState::Upcoming);
    assert_eq!(state(&[], day(63), VisitKind::Pet2), VisitState::Due);
    assert_eq!(state(&[], day(84), VisitKind::Pet2), VisitState::Due);
    assert_eq!(state(&[], day(85), VisitKind::Pet2), VisitState::Overdue);
    assert_eq!(
        state(&[(VisitKind::Pet2, day(70))], day(100), VisitKind::Pet2),
        VisitState::DoneInWindow
    );
    assert_eq!(
        state(&[(VisitKind::Pet2, day(90))], day(100), VisitKind::Pet2),
        VisitState::DoneOutOfWindow
    );
}

#[test]
fn optional_pet3_appears_at_progression_and_is_skipped_not_overdue() {
    let s = Settings::default();
    let mut a = arm1();
    assert!(
        !expected_visits(&a, &s)
            .iter()
            .any(|e| e.kind == VisitKind::Pet3)
    );
    a.progression = Some(day(120));
    let st = visit_statuses(&a, &[], day(149), &s);
    let pet3 = st
        .iter()
        .find(|v| v.expected.kind == VisitKind::Pet3)
        .unwrap();
    assert_eq!(pet3.expected.window.latest, day(148));
    assert_eq!(pet3.state, VisitState::Skipped);
}

#[test]
fn a_visit_before_consent_is_a_major_consent_gate_deviation() {
    let mut a = arm1();
    a.consent = Some(d(2026, 3, 12));
    let dev = check_visit(VisitKind::Biopsy, d(2026, 3, 10), &a, &Settings::default())
        .unwrap()
        .deviation
        .unwrap();
    assert_eq!(dev.rule, Rule::GATE_CONSENT);
    assert_eq!(dev.severity, DeviationSeverity::Major);
    assert_eq!(dev.days_outside, -2);
}
