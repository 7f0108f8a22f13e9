//! PROTOCOL §11: AE coding, seriousness, AESI, the T-DXd rule an AE triggers, SAE clock.

use chrono::Duration;
use protocol::Settings;
use protocol::journey::*;
use protocol::rule::Rule;

use crate::common::*;

const PNEUMONITIS: u32 = 10035742;

fn ae(code: u32, grade: u8) -> AdverseEvent {
    AdverseEvent {
        ae_id: "AE-1".into(),
        meddra_code: code,
        verbatim: None,
        grade,
        onset: d(2026, 5, 2),
        resolved: None,
        seriousness: Seriousness::default(),
        relation_imp: Causality::NotRelated,
        relation_tdxd: Causality::Related,
        action_tdxd: ActionTaken::DrugWithdrawn,
        outcome: AeOutcome::NotRecovered,
        site_aware_at: t(2026, 5, 3, 9, 0),
        reported_to_sponsor_at: None,
        on_tdxd: true,
    }
}

#[test]
fn pneumonitis_grade_2_on_tdxd_triggers_discontinuation() {
    let c = code_adverse_event(&ae(PNEUMONITIS, 2), &Settings::default()).unwrap();
    assert_eq!(c.term, "Pneumonitis");
    assert!(c.grade_text.starts_with("Symptomatic"));
    assert_eq!(c.aesi, vec![Aesi::IldPneumonitis]);
    let dec = c.tdxd_decision.unwrap();
    assert_eq!(dec.rule, Rule::TDXD_ILD);
    assert_eq!(dec.action, DoseAction::Discontinue);
    let course = TdxdCourse::new().apply(&dec, d(2026, 5, 3));
    assert_eq!(course.discontinued.unwrap().rule, Rule::TDXD_ILD);
}

#[test]
fn pneumonitis_grade_1_interrupts_and_off_tdxd_triggers_nothing() {
    let c = code_adverse_event(&ae(PNEUMONITIS, 1), &Settings::default()).unwrap();
    assert!(matches!(
        c.tdxd_decision.unwrap().action,
        DoseAction::Interrupt { .. }
    ));
    let mut arm2 = ae(PNEUMONITIS, 2);
    arm2.on_tdxd = false;
    arm2.relation_tdxd = Causality::NotApplicable;
    arm2.action_tdxd = ActionTaken::NotApplicable;
    let c = code_adverse_event(&arm2, &Settings::default()).unwrap();
    assert_eq!(c.tdxd_decision, None);
    assert_eq!(c.aesi, vec![Aesi::IldPneumonitis], "still an AESI");
}

#[test]
fn neutropenia_aes_trigger_the_neutropenia_rule() {
    let c = code_adverse_event(&ae(10029366, 3), &Settings::default()).unwrap();
    let dec = c.tdxd_decision.unwrap();
    assert_eq!(dec.rule, Rule::TDXD_NEUTROPENIA);
    assert!(matches!(
        dec.action,
        DoseAction::Interrupt {
            then: OnResolution::SameDose,
            ..
        }
    ));
    let fnp = code_adverse_event(&ae(10016288, 3), &Settings::default()).unwrap();
    assert!(matches!(
        fnp.tdxd_decision.unwrap().action,
        DoseAction::Interrupt {
            then: OnResolution::OneLevelDown,
            ..
        }
    ));
}

#[test]
fn lvef_terms_are_aesi_and_respiratory_failure_only_flagged() {
    let ef = code_adverse_event(&ae(10050528, 2), &Settings::default()).unwrap();
    assert_eq!(ef.aesi, vec![Aesi::LvefDecrease]);
    assert_eq!(ef.tdxd_decision, None, "the LVEF rule needs the values");
    let rf = code_adverse_event(&ae(10038695, 4), &Settings::default()).unwrap();
    assert_eq!(rf.aesi, vec![Aesi::IldPneumonitis]);
    assert_eq!(rf.tdxd_decision, None);
    let nausea = code_adverse_event(&ae(10028813, 1), &Settings::default()).unwrap();
    assert!(nausea.aesi.is_empty());
}

#[test]
fn grade_must_exist_for_the_term_and_term_must_exist() {
    let r = code_adverse_event(&ae(10050528, 1), &Settings::default()).unwrap_err();
    assert_eq!(r.rule, Rule::CTCAE_GRADE);
    assert_eq!(
        code_adverse_event(&ae(PNEUMONITIS, 6), &Settings::default())
            .unwrap_err()
            .rule,
        Rule::CTCAE_GRADE
    );
    assert_eq!(
        code_adverse_event(&ae(99, 1), &Settings::default())
            .unwrap_err()
            .rule,
        Rule::CTCAE_TERM
    );
}

#[test]
fn other_specify_needs_the_verbatim_term() {
    let mut e = ae(10005329, 2);
    e.on_tdxd = false;
    assert_eq!(
        code_adverse_event(&e, &Settings::default())
            .unwrap_err()
            .rule,
        Rule::CTCAE_TERM
    );
    e.verbatim = Some("splenic infarct".into());
    assert!(code_adverse_event(&e, &Settings::default()).is_ok());
}

#[test]
fn seriousness_is_independent_of_grade() {
    let mut severe = ae(10028813, 3); // nausea grade 3, not serious
    severe.on_tdxd = false;
    assert!(
        !code_adverse_event(&severe, &Settings::default())
            .unwrap()
            .serious
    );
    let mut mild = ae(10028813, 1);
    mild.seriousness.hospitalisation = true;
    let c = code_adverse_event(&mild, &Settings::default()).unwrap();
    assert!(c.serious);
    assert_eq!(c.seriousness_criteria, vec!["hospitalisation"]);
}

#[test]
fn grade_5_death_and_fatal_outcome_must_agree() {
    let mut e = ae(PNEUMONITIS, 5);
    assert_eq!(
        code_adverse_event(&e, &Settings::default())
            .unwrap_err()
            .rule,
        Rule::AE_SERIOUSNESS
    );
    e.seriousness.death = true;
    e.outcome = AeOutcome::Fatal;
    assert!(
        code_adverse_event(&e, &Settings::default())
            .unwrap()
            .serious
    );
    let mut g3 = ae(PNEUMONITIS, 3);
    g3.outcome = AeOutcome::Fatal;
    assert_eq!(
        code_adverse_event(&g3, &Settings::default())
            .unwrap_err()
            .rule,
        Rule::AE_SERIOUSNESS
    );
}

#[test]
fn resolution_before_onset_is_impossible() {
    let mut e = ae(PNEUMONITIS, 1);
    e.resolved = Some(d(2026, 5, 1));
    assert_eq!(
        code_adverse_event(&e, &Settings::default())
            .unwrap_err()
            .rule,
        Rule::VALUE_IMPOSSIBLE
    );
}

#[test]
fn sae_reported_exactly_24_h_after_awareness_is_on_time_one_minute_later_is_late() {
    let s = Settings::default();
    let aware = t(2026, 5, 3, 9, 0);
    let now = t(2026, 5, 10, 0, 0);
    let on_time = sae_clock(aware, Some(aware + Duration::hours(24)), now, &s).unwrap();
    assert_eq!(on_time.state, SaeClockState::ReportedOnTime);
    assert!(!on_time.late);
    assert_eq!(on_time.due_at, t(2026, 5, 4, 9, 0));
    let late = sae_clock(
        aware,
        Some(aware + Duration::hours(24) + Duration::minutes(1)),
        now,
        &s,
    )
    .unwrap();
    assert_eq!(late.state, SaeClockState::ReportedLate { minutes_late: 1 });
    assert!(late.late);
}

#[test]
fn unreported_sae_runs_then_is_overdue() {
    let s = Settings::default();
    let aware = t(2026, 5, 3, 9, 0);
    let running = sae_clock(aware, None, t(2026, 5, 4, 8, 0), &s).unwrap();
    assert_eq!(running.state, SaeClockState::Running { minutes_left: 60 });
    let overdue = sae_clock(aware, None, t(2026, 5, 4, 11, 30), &s).unwrap();
    assert_eq!(overdue.state, SaeClockState::Overdue { minutes_late: 150 });
    assert!(overdue.late);
    let mut s48 = s.clone();
    s48.safety.sae_report_hours = 48;
    assert!(
        !sae_clock(aware, None, t(2026, 5, 4, 11, 30), &s48)
            .unwrap()
            .late
    );
    let r = sae_clock(
        aware,
        Some(aware - Duration::hours(1)),
        t(2026, 5, 4, 11, 30),
        &s,
    )
    .unwrap_err();
    assert_eq!(r.rule, Rule::SAE_CLOCK);
}

#[test]
fn only_serious_events_have_a_clock() {
    let s = Settings::default();
    let mut e = ae(10028813, 2);
    assert_eq!(sae_clock_of(&e, t(2026, 5, 5, 9, 0), &s).unwrap(), None);
    e.seriousness.important_medical_event = true;
    e.reported_to_sponsor_at = Some(t(2026, 5, 4, 9, 1));
    let c = sae_clock_of(&e, t(2026, 5, 5, 9, 0), &s).unwrap().unwrap();
    assert!(c.late);
}
