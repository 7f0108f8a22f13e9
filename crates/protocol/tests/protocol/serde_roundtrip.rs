//! JSON round trips of every event and command kind the standard journey produces.

use std::collections::BTreeSet;

use protocol::testing::enrol_command;
use protocol::{
    Command, Event, Participant, RecordArchivalBiopsy, RecordDeath, RecordLab,
    RecordLostToFollowUp, RecordOtherMalignancy, RetractEntry, ScreenFail, WithdrawConsent,
};

use crate::common::*;

fn extra_commands() -> Vec<Command> {
    vec![
        Command::RecordOtherMalignancy(RecordOtherMalignancy {
            malignancy_type: protocol::OtherMalignancyType::BasalCellCarcinomaSkin,
            description: "nose, excised".into(),
            diagnosed_on: None,
            manifest: false,
            corrects: None,
            correction_reason: None,
        }),
        Command::RecordArchivalBiopsy(RecordArchivalBiopsy {
            biopsy_date: now().date_naive(),
            lesion_id: Some("L1".into()),
            site_description: "axilla".into(),
            systemic_therapy_since: false,
            her2_targeted_therapy_since: false,
            radiotherapy_to_lesion_since: false,
            corrects: None,
            correction_reason: None,
        }),
        Command::RecordLab(RecordLab {
            analyte: protocol::Analyte::Inr,
            value: 1.0,
            unit: String::new(),
            uln: None,
            lln: None,
            sample_at: at(-3),
            origin: protocol::SampleOrigin::Study,
            late_entry_of_fact: true,
            corrects: None,
            correction_reason: None,
        }),
        Command::RecordPregnancyTest(protocol::RecordPregnancyTest {
            specimen: protocol::Specimen::Urine,
            result: protocol::TestResult::Negative,
            sample_at: at(-30),
            for_study: false,
            late_entry_of_fact: false,
            corrects: None,
            correction_reason: None,
        }),
        Command::RetractEntry(RetractEntry {
            entry_id: "malig-1".into(),
            reason: "duplicate".into(),
        }),
    ]
}

fn all_events() -> Vec<Event> {
    let mut events = build(&plus(
        plus(base(), extra_commands()),
        [enrol_command(now())],
    ))
    .1;
    let ends: [Command; 4] = [
        Command::ScreenFail(ScreenFail {
            reason: "declined biopsy".into(),
        }),
        Command::WithdrawConsent(WithdrawConsent {
            withdrawn_at: at(5),
            reason: "tired".into(),
        }),
        Command::RecordDeath(RecordDeath {
            died_on: now().date_naive(),
            cause: None,
        }),
        Command::RecordLostToFollowUp(RecordLostToFollowUp {
            last_contact_on: now().date_naive(),
            note: Some("moved abroad".into()),
        }),
    ];
    for end in ends {
        events.push(build(&plus(base(), [end])).1.pop().unwrap());
    }
    events
}

#[test]
fn every_event_round_trips_through_json_with_a_snake_case_type() {
    let events = all_events();
    let kinds: BTreeSet<&str> = events.iter().map(|e| e.kind()).collect();
    assert_eq!(kinds.len(), 21, "{kinds:?}");
    for e in &events {
        let json = serde_json::to_value(e).unwrap();
        assert_eq!(json["type"], e.kind());
        let back: Event = serde_json::from_value(json).unwrap();
        assert_eq!(&back, e);
    }
}

#[test]
fn every_command_round_trips_through_json() {
    let mut cmds = plus(base(), extra_commands());
    cmds.push(enrol_command(now()));
    cmds.push(Command::ScreenFail(ScreenFail { reason: "x".into() }));
    cmds.push(Command::WithdrawConsent(WithdrawConsent {
        withdrawn_at: at(5),
        reason: "tired".into(),
    }));
    cmds.push(Command::RecordDeath(RecordDeath {
        died_on: now().date_naive(),
        cause: Some("progressive disease".into()),
    }));
    cmds.push(Command::RecordLostToFollowUp(RecordLostToFollowUp {
        last_contact_on: now().date_naive(),
        note: None,
    }));
    let names: BTreeSet<&str> = cmds.iter().map(|c| c.name()).collect();
    assert_eq!(names.len(), 20, "{names:?}");
    for c in &cmds {
        let json = serde_json::to_string(c).unwrap();
        let back: Command = serde_json::from_str(&json).unwrap();
        assert_eq!(&back, c, "{json}");
    }
}

#[test]
fn inner_command_structs_deserialize_from_flat_bodies_and_reject_unknown_fields() {
    let body = r#"{"analyte":"platelets","value":245,"unit":"10^9/L","sample_at":"2026-03-02T10:00:00Z","origin":"study"}"#;
    let lab: RecordLab = serde_json::from_str(body).unwrap();
    assert!(!lab.late_entry_of_fact && lab.uln.is_none());
    let extra = r#"{"analyte":"platelets","value":245,"unit":"10^9/L","sample_at":"2026-03-02T10:00:00Z","origin":"study","name":"x"}"#;
    assert!(serde_json::from_str::<RecordLab>(extra).is_err());
    let tagged = r#"{"type":"screen_fail","reason":"declined"}"#;
    assert_eq!(
        serde_json::from_str::<Command>(tagged).unwrap(),
        Command::ScreenFail(ScreenFail {
            reason: "declined".into()
        })
    );
}

#[test]
fn participant_snapshot_round_trips() {
    let (p, _) = build(&plus(base(), [enrol_command(now())]));
    let json = serde_json::to_string(&p).unwrap();
    let back: Participant = serde_json::from_str(&json).unwrap();
    assert_eq!(back, p);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["state"]["state"], "enrolled");
}

#[test]
fn json_schemas_are_generated_for_api_types() {
    let s = schemars::schema_for!(protocol::RecordLab);
    let text = serde_json::to_string(&s).unwrap();
    assert!(text.contains("late_entry_of_fact"));
    let r = schemars::schema_for!(protocol::EligibilityReport);
    assert!(serde_json::to_string(&r).unwrap().contains("evidence"));
}
