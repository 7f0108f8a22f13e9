//! The consent gate (PROTOCOL §4) and consent withdrawal.

use protocol::testing::lab;
use protocol::{
    Analyte, Command, DeviationSeverity, Event, RecordConsent, RecordLab, RecordPregnancyTest,
    Rule, SampleOrigin, Specimen, State, TestResult, WithdrawConsent,
};

use crate::common::*;

fn study_lab(h: i64, late: bool) -> Command {
    Command::RecordLab(RecordLab {
        analyte: Analyte::Platelets,
        value: 210.0,
        unit: "10^9/L".into(),
        uln: None,
        lln: None,
        sample_at: at(h),
        origin: SampleOrigin::Study,
        late_entry_of_fact: late,
        corrects: None,
        correction_reason: None,
    })
}

#[test]
fn study_lab_before_consent_is_refused_with_gate_consent() {
    let r = refusal(&plus(base(), [study_lab(-2, false)]));
    assert_eq!(r.rule, Rule::GATE_CONSENT);
    assert_eq!(r.rule.id(), "GATE_CONSENT");
    assert!(
        r.message.contains("before the signed informed consent"),
        "{}",
        r.message
    );
    assert!(r.hint.unwrap().contains("late_entry_of_fact"));
}

#[test]
fn late_entry_of_a_real_pre_consent_sample_records_a_major_deviation() {
    let (p, events) = build(&plus(base(), [study_lab(-2, true)]));
    let last_two = &events[events.len() - 2..];
    assert_eq!(last_two[0].kind(), "lab_recorded");
    match &last_two[1] {
        Event::DeviationRecorded {
            deviation,
            settings_version,
            ..
        } => {
            assert_eq!(deviation.severity, DeviationSeverity::Major);
            assert_eq!(deviation.rule, Rule::GATE_CONSENT);
            assert_eq!(deviation.occurred_at, at(-2));
            assert_eq!(*settings_version, 1);
        }
        other => panic!("expected a deviation, got {other:?}"),
    }
    assert_eq!(p.deviations.len(), 1);
    assert_eq!(
        p.deviations[0].entry_id.as_deref(),
        p.labs.last().map(|e| e.entry_id.as_str())
    );
}

#[test]
fn routine_care_lab_before_consent_is_accepted() {
    let mut cmd = lab(Analyte::Platelets, 210.0, "10^9/L", None, at(-48));
    if let Command::RecordLab(l) = &mut cmd {
        l.origin = SampleOrigin::RoutineCare;
    }
    let (p, events) = build(&plus(base(), [cmd]));
    assert_eq!(events.last().unwrap().kind(), "lab_recorded");
    assert!(p.deviations.is_empty());
}

#[test]
fn study_pregnancy_test_before_consent_is_refused() {
    let cmd = Command::RecordPregnancyTest(RecordPregnancyTest {
        specimen: Specimen::Serum,
        result: TestResult::Negative,
        sample_at: at(-1),
        for_study: true,
        late_entry_of_fact: false,
        corrects: None,
        correction_reason: None,
    });
    assert_eq!(refusal(&plus(base(), [cmd])).rule, Rule::GATE_CONSENT);
}

#[test]
fn screening_data_cannot_be_entered_before_consent_is_recorded() {
    let registered = base()[..1].to_vec();
    let r = refusal(&plus(registered, [study_lab(1, false)]));
    assert_eq!(r.rule, Rule::STATE_TRANSITION);
    assert!(r.message.contains("registered"), "{}", r.message);
}

fn withdrawn() -> Vec<Command> {
    plus(
        base(),
        [Command::WithdrawConsent(WithdrawConsent {
            withdrawn_at: at(6),
            reason: "personal reasons".into(),
        })],
    )
}

#[test]
fn withdrawal_blocks_every_further_entry_but_keeps_the_data() {
    let (p, _) = build(&withdrawn());
    assert_eq!(p.state, State::Withdrawn);
    assert_eq!(p.labs.len(), 10, "data collected before withdrawal stay");
    for cmd in [
        study_lab(7, false),
        protocol::testing::enrol_command(at(7)),
        Command::RecordConsent(RecordConsent {
            form_version: "2.0".into(),
            signed_at: at(7),
            age_at_consent: None,
        }),
    ] {
        let r = refusal(&plus(withdrawn(), [cmd]));
        assert_eq!(r.rule, Rule::WITHDRAWN);
        assert!(r.message.contains("KS-014"));
    }
}

#[test]
fn withdrawal_cannot_predate_consent() {
    let cmds = plus(
        base(),
        [Command::WithdrawConsent(WithdrawConsent {
            withdrawn_at: at(-1),
            reason: String::new(),
        })],
    );
    assert_eq!(refusal(&cmds).rule, Rule::VALUE_IMPOSSIBLE);
}

#[test]
fn consent_before_study_start_or_in_the_future_is_impossible() {
    let mut cmds = base()[..2].to_vec();
    if let Command::RecordConsent(c) = &mut cmds[1] {
        c.signed_at =
            chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2025, 9, 1, 9, 0, 0).unwrap();
        c.age_at_consent = None;
    }
    assert_eq!(refusal(&cmds).rule, Rule::VALUE_IMPOSSIBLE);
    if let Command::RecordConsent(c) = &mut cmds[1] {
        c.signed_at = at(48);
    }
    assert_eq!(refusal(&cmds).rule, Rule::VALUE_IMPOSSIBLE);
}

#[test]
fn age_at_consent_must_fit_year_of_birth() {
    let cmds = edit(base()[..2].to_vec(), |c| {
        if let Command::RecordConsent(x) = c {
            x.age_at_consent = Some(40);
        }
    });
    let r = refusal(&cmds);
    assert_eq!(r.rule, Rule::VALUE_IMPOSSIBLE);
    assert!(r.message.contains("54 or 55"), "{}", r.message);
}

#[test]
fn re_consent_to_a_new_form_version_is_recorded() {
    let cmds = plus(
        base(),
        [Command::RecordConsent(RecordConsent {
            form_version: "2.0".into(),
            signed_at: at(5),
            age_at_consent: None,
        })],
    );
    let (p, _) = build(&cmds);
    assert_eq!(p.consents.len(), 2);
    assert_eq!(p.consent().unwrap().form_version, "2.0");
    assert_eq!(p.first_consent().unwrap().form_version, "1.0");
    assert_eq!(p.state, State::Screening);
}
