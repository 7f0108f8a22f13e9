//! PROTOCOL §2, §11: when participation ends and what may still be recorded.

use chrono::NaiveDate;
use protocol::Settings;
use protocol::journey::*;
use protocol::participant::Arm;
use protocol::rule::Rule;
use protocol::settings::Arm1EndEvent;

use crate::common::*;

fn anchors(arm: Arm) -> Anchors {
    Anchors {
        pet1: Some(d(2026, 3, 5)),
        biopsy: Some(d(2026, 3, 10)),
        allocation: Some((d(2026, 3, 18), arm)),
        ..Anchors::default()
    }
}

fn due(a: &Anchors, f: &EndFacts, today: NaiveDate, s: &Settings) -> Option<EndReason> {
    off_study_due(a, f, today, s).map(|o| o.reason)
}

#[test]
fn arm_2_goes_off_study_after_its_follow_up_window() {
    let s = Settings::default();
    let a = anchors(Arm::Arm2);
    let f = EndFacts::default();
    // PET1 5 March + 14 days = 19 March is the last follow-up day.
    assert_eq!(due(&a, &f, d(2026, 3, 19), &s), None);
    let o = off_study_due(&a, &f, d(2026, 3, 20), &s).unwrap();
    assert_eq!(o.reason, EndReason::Arm2FollowUpComplete);
    assert_eq!(o.since, d(2026, 3, 20));
    assert!(o.text.contains("2026-03-19"), "{}", o.text);
    // The end contact on day 14 ends it that day.
    let done = EndFacts {
        arm2_followup_done_on: Some(d(2026, 3, 19)),
        ..EndFacts::default()
    };
    assert_eq!(
        due(&a, &done, d(2026, 3, 19), &s),
        Some(EndReason::Arm2FollowUpComplete)
    );
}

#[test]
fn arm_1_ends_at_the_configured_event() {
    let mut s = Settings::default();
    let mut a = anchors(Arm::Arm1);
    let f = EndFacts {
        pet2_on: Some(d(2026, 6, 10)),
        ..EndFacts::default()
    };
    assert_eq!(s.arm1.end_of_study_event, Arm1EndEvent::Progression);
    assert_eq!(
        due(&a, &f, d(2026, 7, 1), &s),
        None,
        "default waits for progression"
    );
    a.progression = Some(d(2026, 9, 1));
    assert_eq!(
        due(&a, &f, d(2026, 9, 29), &s),
        None,
        "PET3 window still open"
    );
    assert_eq!(
        due(&a, &f, d(2026, 9, 30), &s),
        Some(EndReason::Arm1EndEvent)
    );
    let pet3 = EndFacts {
        pet3_on: Some(d(2026, 9, 8)),
        ..f.clone()
    };
    assert_eq!(
        due(&a, &pet3, d(2026, 9, 8), &s),
        Some(EndReason::Arm1EndEvent)
    );
    s.arm1.end_of_study_event = Arm1EndEvent::Pet2Done;
    assert_eq!(
        due(&anchors(Arm::Arm1), &f, d(2026, 6, 10), &s),
        Some(EndReason::Arm1EndEvent)
    );
    s.arm1.end_of_study_event = Arm1EndEvent::TreatmentDiscontinued;
    assert_eq!(due(&anchors(Arm::Arm1), &f, d(2026, 6, 10), &s), None);
}

#[test]
fn death_withdrawal_and_loss_come_first() {
    let s = Settings::default();
    let a = anchors(Arm::Arm1);
    let f = EndFacts {
        withdrawn_at: Some(t(2026, 4, 1, 10, 0)),
        lost_to_follow_up_on: Some(d(2026, 5, 1)),
        ..EndFacts::default()
    };
    assert_eq!(due(&a, &f, d(2026, 4, 1), &s), Some(EndReason::Withdrawn));
    let died = EndFacts {
        died_on: Some(d(2026, 3, 30)),
        ..f
    };
    assert_eq!(due(&a, &died, d(2026, 4, 1), &s), Some(EndReason::Died));
    assert_eq!(
        due(&a, &died, d(2026, 3, 29), &s),
        None,
        "not before the date"
    );
    let lost = EndFacts {
        lost_to_follow_up_on: Some(d(2026, 5, 1)),
        ..EndFacts::default()
    };
    assert_eq!(
        due(&a, &lost, d(2026, 5, 2), &s),
        Some(EndReason::LostToFollowUp)
    );
    assert_eq!(
        due(&Anchors::default(), &EndFacts::default(), d(2026, 5, 2), &s),
        None
    );
}

#[test]
fn what_may_be_recorded_after_the_end() {
    let end = d(2026, 3, 20);
    use PostEndRecord::*;
    let r = may_record_after_end(
        EndReason::Withdrawn,
        end,
        AdverseEvent {
            onset: d(2026, 3, 1),
        },
    )
    .unwrap_err();
    assert_eq!(r.rule, Rule::WITHDRAWN);
    let off = EndReason::Arm2FollowUpComplete;
    assert!(
        may_record_after_end(
            off,
            end,
            AdverseEvent {
                onset: d(2026, 3, 15)
            }
        )
        .is_ok()
    );
    assert_eq!(
        may_record_after_end(
            off,
            end,
            AdverseEvent {
                onset: d(2026, 3, 21)
            }
        )
        .unwrap_err()
        .rule,
        Rule::OFF_STUDY
    );
    assert_eq!(
        may_record_after_end(
            off,
            end,
            StudyProcedure {
                date: d(2026, 3, 21)
            }
        )
        .unwrap_err()
        .rule,
        Rule::OFF_STUDY
    );
    assert!(
        may_record_after_end(
            off,
            end,
            StudyProcedure {
                date: d(2026, 3, 19)
            }
        )
        .is_ok()
    );
    assert!(may_record_after_end(EndReason::LostToFollowUp, end, DeathReport).is_ok());
    assert!(may_record_after_end(EndReason::Died, end, DeathReport).is_err());
}
