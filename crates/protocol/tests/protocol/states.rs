//! The participant journey (PROTOCOL §2): allowed transitions and refusals.

use chrono::NaiveDate;
use protocol::testing::{enrol_command, investigator_signature};
use protocol::{
    Command, Enrol, Event, Overall, Participant, RecordDeath, RecordLostToFollowUp, Rule,
    ScreenFail, Settings, State, decide, fold,
};

use crate::common::*;

#[test]
fn journey_registered_consented_screening_enrolled() {
    let cmds = base();
    let (p1, _) = build(&cmds[..1]);
    assert_eq!(p1.state, State::Registered);
    assert_eq!(p1.study_id.as_deref(), Some("KS-014"));
    let (p2, _) = build(&cmds[..2]);
    assert_eq!(p2.state, State::Consented);
    let c = p2.consent().unwrap();
    assert_eq!((c.age_at_consent, c.age_min, c.age_max), (None, 54, 55));
    let (p3, _) = build(&cmds[..3]);
    assert_eq!(p3.state, State::Screening);
    let (p4, events) = build(&plus(cmds, [enrol_command(now())]));
    assert_eq!(p4.state, State::Enrolled);
    match events.last().unwrap() {
        Event::Enrolled {
            eligibility,
            settings_version,
            signature,
            ..
        } => {
            assert_eq!(eligibility.overall, Overall::Eligible);
            assert_eq!(*settings_version, 1);
            assert_eq!(signature.role, "investigator");
        }
        e => panic!("{e:?}"),
    }
    assert_eq!(p4.enrolment.as_ref().unwrap().settings_version, 1);
}

#[test]
fn enrolment_without_eligibility_names_failed_and_missing_criteria() {
    let cmds = edit(base(), |c| {
        if let Command::RecordPerformanceStatus(p) = c {
            p.who_ps = 3;
        }
    });
    let cmds = without(cmds, |c| matches!(c, Command::RecordBodyWeight(_)));
    let r = refusal(&plus(cmds, [enrol_command(now())]));
    assert_eq!(r.rule, Rule::ELIGIBILITY);
    assert!(r.message.contains("Not satisfied: IN6"), "{}", r.message);
    assert!(r.message.contains("Missing data: EX4"), "{}", r.message);
}

#[test]
fn enrolment_needs_a_complete_signature() {
    let mut sig = investigator_signature(now());
    sig.meaning = " ".into();
    let r = refusal(&plus(base(), [Command::Enrol(Enrol { signature: sig })]));
    assert_eq!(r.rule, Rule::SIGNATURE);
    let late = investigator_signature(now() + chrono::Duration::hours(1));
    let r = refusal(&plus(base(), [Command::Enrol(Enrol { signature: late })]));
    assert_eq!(r.rule, Rule::SIGNATURE);
}

#[test]
fn screen_failure_records_failed_criteria_and_ends_screening() {
    let cmds = edit(base(), |c| {
        if let Command::RecordPerformanceStatus(p) = c {
            p.who_ps = 4;
        }
    });
    let cmds = plus(
        cmds,
        [Command::ScreenFail(ScreenFail {
            reason: "PS 4".into(),
        })],
    );
    let (p, events) = build(&cmds);
    assert_eq!(p.state, State::ScreenFailed);
    assert_eq!(
        p.screen_failure.as_ref().unwrap().failed_criteria,
        vec!["IN6".to_string()]
    );
    assert!(matches!(
        events.last().unwrap(),
        Event::ScreenFailed {
            settings_version: 1,
            ..
        }
    ));
    let r = refusal(&plus(cmds, [enrol_command(now())]));
    assert_eq!(r.rule, Rule::STATE_TRANSITION);
    assert!(
        r.message.contains("screen_failed") && r.message.contains("screening"),
        "{}",
        r.message
    );
}

#[test]
fn commands_out_of_order_are_state_transition_refusals() {
    let p = Participant::default();
    let s = Settings::default();
    let consent = base()[1].clone();
    let r = decide(&p, &consent, now(), &s).unwrap_err();
    assert_eq!(r.rule, Rule::STATE_TRANSITION);
    assert!(r.message.contains("unregistered"));
    let (registered, _) = build(&base()[..1]);
    let again = decide(&registered, &base()[0], now(), &s).unwrap_err();
    assert_eq!(again.rule, Rule::STATE_TRANSITION);
    let enrol_early = decide(&registered, &enrol_command(now()), now(), &s).unwrap_err();
    assert_eq!(enrol_early.rule, Rule::STATE_TRANSITION);
    let (enrolled, _) = build(&plus(base(), [enrol_command(now())]));
    let ps_after = decide(&enrolled, &base()[8], now(), &s).unwrap_err();
    assert_eq!(ps_after.rule, Rule::STATE_TRANSITION);
    assert!(ps_after.message.contains("enrolled"));
}

#[test]
fn registration_validates_the_study_id() {
    let bad = edit(base()[..1].to_vec(), |c| {
        if let Command::RegisterParticipant(r) = c {
            r.study_id = "UAS-014".into();
        }
    });
    assert_eq!(refusal(&bad).rule, Rule::ID_FORMAT);
    let malformed = edit(base()[..1].to_vec(), |c| {
        if let Command::RegisterParticipant(r) = c {
            r.study_id = "KS14".into();
        }
    });
    assert_eq!(refusal(&malformed).rule, Rule::ID_FORMAT);
}

#[test]
fn death_and_loss_to_follow_up_end_the_journey() {
    let died = plus(
        base(),
        [Command::RecordDeath(RecordDeath {
            died_on: now().date_naive(),
            cause: Some("progressive disease".into()),
        })],
    );
    let (p, _) = build(&died);
    assert_eq!(p.state, State::Died);
    assert_eq!(p.state.name(), "died");
    let lost = plus(
        base(),
        [Command::RecordLostToFollowUp(RecordLostToFollowUp {
            last_contact_on: NaiveDate::from_ymd_opt(2026, 3, 2).unwrap(),
            note: None,
        })],
    );
    let (p, _) = build(&lost);
    assert_eq!(p.state, State::LostToFollowUp);
    let r = refusal(&plus(died, [enrol_command(now())]));
    assert_eq!(r.rule, Rule::STATE_TRANSITION);
}

#[test]
fn fold_of_decided_events_equals_the_incrementally_built_participant() {
    let (p, events) = build(&plus(base(), [enrol_command(now())]));
    let folded = fold(&events);
    assert_eq!(folded, p);
    assert_eq!(folded.version, events.len() as u64);
}

#[test]
fn state_names_are_snake_case() {
    assert_eq!(State::Screening.name(), "screening");
    assert_eq!(State::ScreenFailed.name(), "screen_failed");
    assert_eq!(
        State::Allocated {
            arm: protocol::Arm::Arm1
        }
        .name(),
        "allocated"
    );
    assert_eq!(State::LostToFollowUp.name(), "lost_to_follow_up");
    assert_eq!(State::default(), State::Unregistered);
}

#[test]
fn allowed_commands_per_state_drive_the_forms() {
    use protocol::commands_allowed_in;
    assert_eq!(
        commands_allowed_in(&State::Unregistered),
        vec!["register_participant"]
    );
    let screening = commands_allowed_in(&State::Screening);
    assert!(screening.contains(&"record_lab") && screening.contains(&"enrol"));
    assert!(!screening.contains(&"register_participant"));
    let enrolled = commands_allowed_in(&State::Enrolled);
    assert!(enrolled.contains(&"withdraw_consent") && enrolled.contains(&"retract_entry"));
    // Labs recur after enrolment (bleeding labs before the biopsy, LVEF on T-DXd);
    // screening facts such as lesions do not.
    assert!(enrolled.contains(&"record_lab") && !enrolled.contains(&"record_lesion"));
    assert!(!enrolled.contains(&"enrol"));
    assert!(commands_allowed_in(&State::Withdrawn).is_empty());
    assert!(commands_allowed_in(&State::ScreenFailed).is_empty());
}

#[test]
fn every_command_name_is_known_to_the_state_table() {
    // The names listed for forms match the names commands report.
    for c in base() {
        let in_some_state = [
            State::Unregistered,
            State::Registered,
            State::Consented,
            State::Screening,
        ]
        .iter()
        .any(|s| protocol::commands_allowed_in(s).contains(&c.name()));
        assert!(in_some_state, "{}", c.name());
    }
}

mod shuffled {
    use proptest::prelude::*;
    use protocol::{Settings, decide, evolve, fold};

    use crate::common::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        /// In any order, decide either refuses or returns events; the participant
        /// built step by step always equals the fold of the accepted events.
        #[test]
        fn any_command_order_is_decided_without_panic(order in Just((0..base().len()).collect::<Vec<_>>()).prop_shuffle()) {
            let cmds = base();
            let s = Settings::default();
            let mut p = protocol::Participant::default();
            let mut log = Vec::new();
            for i in order {
                if let Ok(events) = decide(&p, &cmds[i], now(), &s) {
                    for e in &events {
                        evolve(&mut p, e);
                    }
                    log.extend(events);
                }
            }
            prop_assert_eq!(p.version, log.len() as u64);
            prop_assert_eq!(fold(&log), p);
        }
    }
}
