//! Safety and survival data after the end (PROTOCOL §2, §11, §13; issue 10, point 11),
//! through `decide`: after a recorded death the fatal serious event, follow-ups of open
//! events and pregnancy reports still come in; a death is recorded after she went off
//! study or was lost to follow-up; the SAE clock refuses impossible dates.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use protocol::journey::safety::{ActionTaken, AeOutcome, Causality};
use protocol::journey::tdxd::DoseLevel;
use protocol::participant::current;
use protocol::testing::{
    adverse_event_command, baseline_pet_commands, eligible_participant_commands, enrol_command,
    fresh_biopsy_command, pathology_command, run, run_from, tdxd_command,
};
use protocol::{
    Command, EndParticipation, IhcScore, OffStudyReason, Participant, RecordDeath,
    RecordLostToFollowUp, RecordPregnancyReport, Refusal, Rule, Settings, State,
};

/// Lung infection (CTCAE v5.0, grades 2–5), a term without a T-DXd dose rule.
const LUNG_INFECTION: u32 = 10061229;
/// Nausea.
const NAUSEA: u32 = 10028813;

fn consent_at() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap()
}

fn day(n: i64) -> NaiveDate {
    (consent_at() + Duration::days(n)).date_naive()
}

/// Long after everything the tests record: every fact is entered as a past fact.
fn later() -> DateTime<Utc> {
    consent_at() + Duration::days(400)
}

fn step(p: Participant, cmds: &[Command]) -> Participant {
    match run_from(p, cmds, later(), &Settings::default()) {
        Ok((p, _)) => p,
        Err((i, r)) => panic!("command {i} ({}) refused: {r}", cmds[i].name()),
    }
}

fn refused(p: &Participant, cmd: Command) -> Refusal {
    run_from(p.clone(), &[cmd], later(), &Settings::default())
        .expect_err("expected a refusal")
        .1
}

/// Enrolled on day 1, PET1 on day 2, biopsy on day 3, pathology `ihc` on day 6.
fn allocated(ihc: IhcScore) -> Participant {
    let at = |h: i64| consent_at() + Duration::hours(h);
    let mut cmds = eligible_participant_commands("KS", "KS-014", consent_at());
    cmds.push(enrol_command(at(30)));
    let (p, _) = run(&cmds, at(31), &Settings::default()).expect("enrolled");
    let p = step(p, &baseline_pet_commands(at(48)));
    let p = step(p, &[fresh_biopsy_command(at(72))]);
    step(p, &[pathology_command("biopsy-1", "A", ihc, false, day(6))])
}

/// An AE with onset `onset`, the site aware that day at noon, not related to T-DXd.
fn ae(code: u32, grade: u8, onset: NaiveDate) -> protocol::RecordAdverseEvent {
    let aware = onset.and_hms_opt(12, 0, 0).unwrap().and_utc();
    let Command::RecordAdverseEvent(mut c) = adverse_event_command(code, grade, onset, aware)
    else {
        unreachable!()
    };
    c.relation_tdxd = Causality::NotRelated;
    c.action_tdxd = ActionTaken::NotApplicable;
    c
}

fn fatal(mut c: protocol::RecordAdverseEvent) -> protocol::RecordAdverseEvent {
    c.grade = 5;
    c.serious_death = true;
    c.outcome = AeOutcome::Fatal;
    c.reported_to_sponsor_at = Some(c.site_aware_at + Duration::hours(3));
    c
}

fn death(died_on: NaiveDate) -> Command {
    Command::RecordDeath(RecordDeath {
        died_on,
        cause: Some("pneumonia".into()),
    })
}

fn pregnancy(aware: DateTime<Utc>) -> Command {
    Command::RecordPregnancyReport(RecordPregnancyReport {
        site_aware_at: aware,
        estimated_conception: None,
        exposed_to_tdxd: true,
        reported_to_sponsor_at: None,
        note: None,
    })
}

#[test]
fn after_death_the_fatal_sae_follow_ups_and_pregnancy_reports_are_recorded() {
    // Arm 1 on T-DXd from day 10; pneumonia grade 3 from day 30, still open.
    let p = step(
        allocated(IhcScore::OnePlus),
        &[tdxd_command(day(10), DoseLevel::Start)],
    );
    let open = ae(LUNG_INFECTION, 3, day(30));
    let p = step(p, &[Command::RecordAdverseEvent(open.clone())]);
    let p = step(p, &[death(day(34))]);
    assert_eq!(p.state, State::Died);
    assert_eq!(p.died_on, Some(day(34)));

    // The fatal SAE, entered after the death was recorded.
    let fatal_sae = fatal(ae(LUNG_INFECTION, 5, day(33)));
    let p = step(p, &[Command::RecordAdverseEvent(fatal_sae)]);
    // The open event's follow-up: it did not resolve before the death.
    let mut follow_up = open.clone();
    follow_up.corrects = Some("ae-1".into());
    follow_up.correction_reason = Some("follow-up: not recovered at death".into());
    follow_up.grade = 4;
    let p = step(p, &[Command::RecordAdverseEvent(follow_up)]);
    let p = step(p, &[pregnancy(consent_at() + Duration::days(40))]);
    assert_eq!(p.state, State::Died, "safety data do not change her state");
    let aes: Vec<_> = current(&p.adverse_events).collect();
    assert_eq!(aes.len(), 2, "{aes:?}");
    assert!(aes.iter().any(|e| e.value.ae.grade == 5
        && e.value.coded.serious
        && e.value.ae.outcome == AeOutcome::Fatal));
    assert!(
        aes.iter()
            .any(|e| e.value.ae.ae_id == "ae-1" && e.value.ae.grade == 4)
    );
    assert_eq!(p.pregnancy_reports.len(), 1);

    // Nothing begins or resolves after the death.
    let r = refused(&p, Command::RecordAdverseEvent(ae(NAUSEA, 1, day(35))));
    assert_eq!(r.rule, Rule::VALUE_IMPOSSIBLE, "{r}");
    assert!(r.message.contains(&day(34).to_string()), "{r}");
    let mut resolved_later = ae(NAUSEA, 1, day(31));
    resolved_later.resolved = Some(day(36));
    resolved_later.outcome = AeOutcome::Recovered;
    let r = refused(&p, Command::RecordAdverseEvent(resolved_later));
    assert_eq!(r.rule, Rule::VALUE_IMPOSSIBLE, "{r}");
    // The death is recorded once.
    assert_eq!(refused(&p, death(day(34))).rule, Rule::STATE_TRANSITION);
}

#[test]
fn death_after_off_study_or_loss_to_follow_up_is_recorded_for_survival() {
    // Arm 2: PET1 on day 2, follow-up complete on day 16, off study.
    let p = allocated(IhcScore::Zero);
    assert_eq!(p.state, State::SafetyFollowUp);
    let p = step(
        p,
        &[Command::EndParticipation(EndParticipation {
            reason: OffStudyReason::Arm2FollowUpComplete,
            ended_on: day(16),
            note: None,
        })],
    );
    assert!(matches!(p.state, State::OffStudy { .. }));
    // A death before her last study contact cannot be.
    let r = refused(&p, death(day(15)));
    assert_eq!(r.rule, Rule::VALUE_IMPOSSIBLE, "{r}");
    // An AE that began within the trial and its fatal follow-up are still recorded; a
    // new one that began after the end is outside the trial.
    let p = step(
        p,
        &[Command::RecordAdverseEvent(ae(LUNG_INFECTION, 3, day(14)))],
    );
    let r = refused(&p, Command::RecordAdverseEvent(ae(NAUSEA, 1, day(20))));
    assert_eq!(r.rule, Rule::OFF_STUDY, "{r}");
    let died = step(p.clone(), &[death(day(200))]);
    assert_eq!(died.state, State::Died);
    assert_eq!(died.died_on, Some(day(200)));
    assert_eq!(
        died.off_study.as_ref().map(|o| o.ended_on),
        Some(day(16)),
        "the end of participation is kept"
    );
    let mut fatal_follow_up = fatal(ae(LUNG_INFECTION, 5, day(14)));
    fatal_follow_up.corrects = Some("ae-1".into());
    fatal_follow_up.correction_reason = Some("died of the pneumonia".into());
    let died = step(died, &[Command::RecordAdverseEvent(fatal_follow_up)]);
    assert_eq!(
        current(&died.adverse_events).next().unwrap().value.ae.grade,
        5
    );

    // Lost to follow-up on day 60: a death learnt later is recorded, not before the
    // last contact.
    let lost = step(
        allocated(IhcScore::OnePlus),
        &[Command::RecordLostToFollowUp(RecordLostToFollowUp {
            last_contact_on: day(60),
            note: None,
        })],
    );
    assert_eq!(lost.state, State::LostToFollowUp);
    assert_eq!(refused(&lost, death(day(59))).rule, Rule::VALUE_IMPOSSIBLE);
    let lost = step(lost, &[pregnancy(consent_at() + Duration::days(90))]);
    let died = step(lost, &[death(day(120))]);
    assert_eq!(died.state, State::Died);
    assert_eq!(died.last_contact_on, Some(day(60)));
}

#[test]
fn the_sae_clock_refuses_a_report_in_the_future_and_awareness_before_onset() {
    let p = allocated(IhcScore::Zero);
    let mut sae = ae(LUNG_INFECTION, 3, day(8));
    sae.serious_hospitalisation = true;
    sae.reported_to_sponsor_at = Some(later() + Duration::hours(2));
    let r = refused(&p, Command::RecordAdverseEvent(sae.clone()));
    assert_eq!(r.rule, Rule::SAE_CLOCK, "{r}");
    assert!(r.message.contains("future"), "{r}");

    let mut before_onset = sae.clone();
    before_onset.reported_to_sponsor_at = None;
    before_onset.site_aware_at = day(7).and_hms_opt(15, 0, 0).unwrap().and_utc();
    let r = refused(&p, Command::RecordAdverseEvent(before_onset));
    assert_eq!(r.rule, Rule::SAE_CLOCK, "{r}");
    assert!(r.message.contains("before its onset"), "{r}");

    sae.reported_to_sponsor_at = Some(sae.site_aware_at + Duration::hours(20));
    let p = step(p, &[Command::RecordAdverseEvent(sae)]);
    assert!(
        current(&p.adverse_events)
            .next()
            .unwrap()
            .value
            .coded
            .serious
    );
}
