//! The protocol's order of events and the sites' calendar (issue 10, points 8 and 9),
//! through `decide`: PET1 after the enrolment signature, the biopsy after its target
//! choice, the pathology report after its biopsy and T-DXd after the allocation — refused
//! when entered as happening now, a major `CHRONOLOGY` deviation when documented
//! afterwards; "today" and every date of an instant are the Stockholm calendar.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use protocol::journey::tdxd::DoseLevel;
use protocol::local_time::SiteTimeZone;
use protocol::records::DeviationSeverity;
use protocol::testing::{
    baseline_pet_commands, enrol_command, fresh_biopsy_command, pathology_command, run_from,
    tdxd_command,
};
use protocol::{Command, IhcScore, Participant, Refusal, Rule, Settings};

fn consent_at() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap()
}

fn at(h: i64) -> DateTime<Utc> {
    consent_at() + Duration::hours(h)
}

fn day(n: i64) -> NaiveDate {
    at(24 * n).date_naive()
}

fn step(p: Participant, cmds: &[Command], now: DateTime<Utc>) -> Participant {
    match run_from(p, cmds, now, &Settings::default()) {
        Ok((p, _)) => p,
        Err((i, r)) => panic!("command {i} ({}) refused: {r}", cmds[i].name()),
    }
}

fn refused(p: &Participant, cmd: Command, now: DateTime<Utc>) -> Refusal {
    run_from(p.clone(), &[cmd], now, &Settings::default())
        .expect_err("expected a refusal")
        .1
}

fn screened() -> Participant {
    Participant::builder("KS", "KS-014", consent_at())
        .build(at(20), &Settings::default())
        .expect("screened")
}

/// Late entry of a past fact: the same command with `late_entry_of_fact` set.
fn late(cmd: Command) -> Command {
    match cmd {
        Command::RecordImpAdministration(mut c) => {
            c.late_entry_of_fact = true;
            Command::RecordImpAdministration(c)
        }
        Command::RecordFreshBiopsy(mut c) => {
            c.late_entry_of_fact = true;
            Command::RecordFreshBiopsy(c)
        }
        Command::RecordPathology(mut c) => {
            c.late_entry_of_fact = true;
            Command::RecordPathology(c)
        }
        Command::RecordTdxdAdministration(mut c) => {
            c.late_entry_of_fact = true;
            Command::RecordTdxdAdministration(c)
        }
        other => other,
    }
}

/// The last deviation, which must be a major `CHRONOLOGY` one.
fn chronology_deviation(p: &Participant) -> String {
    let d = p.deviations.last().expect("a deviation");
    assert_eq!(d.rule, Rule::CHRONOLOGY, "{d:?}");
    assert_eq!(d.severity, DeviationSeverity::Major);
    d.description.clone()
}

#[test]
fn pet1_before_the_enrolment_signature_is_refused_or_a_major_deviation() {
    // Enrolment signed on day 2 at 09:00; PET1 injected on day 1.
    let p = step(screened(), &[enrol_command(at(48))], at(49));
    let imp = baseline_pet_commands(at(24)).remove(0);
    let r = refused(&p, imp.clone(), at(50));
    assert_eq!(r.rule, Rule::CHRONOLOGY, "{r}");
    assert!(r.message.contains("enrolment signature"), "{r}");
    assert!(
        r.message.contains("2026-03-03 10:00 CET"),
        "local time: {r}"
    );
    let p = step(p, &[late(imp)], at(50));
    assert_eq!(p.imp_administrations.len(), 1);
    assert!(chronology_deviation(&p).contains("IMP injection"));
}

#[test]
fn a_biopsy_before_its_target_choice_is_refused_or_a_major_deviation() {
    // PET1 at day 1 09:00, the target chosen at 10:00 (by the fixture); biopsy at 09:30.
    let mut cmds = vec![enrol_command(at(23))];
    cmds.extend(baseline_pet_commands(at(24)));
    let p = step(screened(), &cmds, at(26));
    let biopsy = fresh_biopsy_command(at(24) + Duration::minutes(30));
    let r = refused(&p, biopsy.clone(), at(27));
    assert_eq!(r.rule, Rule::CHRONOLOGY, "{r}");
    assert!(r.message.contains("target lesion"), "{r}");
    let p = step(p, &[late(biopsy)], at(27));
    assert_eq!(p.biopsies.len(), 1);
    assert!(chronology_deviation(&p).contains("study biopsy"));
}

#[test]
fn a_report_before_its_biopsy_and_tdxd_before_the_allocation_are_refused_or_deviations() {
    let mut cmds = vec![enrol_command(at(23))];
    cmds.extend(baseline_pet_commands(at(24)));
    cmds.push(fresh_biopsy_command(at(48)));
    let p = step(screened(), &cmds, at(49));
    // The biopsy is on day 2; a report dated day 1 cannot be its report.
    let early = pathology_command("biopsy-1", "A", IhcScore::OnePlus, false, day(1));
    let r = refused(&p, early.clone(), at(24 * 5));
    assert_eq!(r.rule, Rule::CHRONOLOGY, "{r}");
    assert!(r.message.contains("its biopsy"), "{r}");
    let with_deviation = step(p.clone(), &[late(early)], at(24 * 5));
    assert!(chronology_deviation(&with_deviation).contains("pathology report"));

    // Reported on day 4: allocated to arm 1 on day 4. C1D1 on day 3 is before it.
    let p = step(
        p,
        &[pathology_command(
            "biopsy-1",
            "A",
            IhcScore::OnePlus,
            false,
            day(4),
        )],
        at(24 * 5),
    );
    let dose = tdxd_command(day(3), DoseLevel::Start);
    let r = refused(&p, dose.clone(), at(24 * 5));
    assert_eq!(r.rule, Rule::CHRONOLOGY, "{r}");
    assert!(r.message.contains("allocation to arm 1"), "{r}");
    let p2 = step(p.clone(), &[late(dose)], at(24 * 5));
    assert_eq!(p2.tdxd.administrations.len(), 1);
    assert!(chronology_deviation(&p2).contains("T-DXd cycle 1 day 1"));
    // On the day of the report or after it, nothing is raised.
    let p3 = step(p, &[tdxd_command(day(5), DoseLevel::Start)], at(24 * 5));
    assert!(p3.deviations.is_empty(), "{:?}", p3.deviations);
}

#[test]
fn today_is_the_stockholm_date_so_a_dose_at_half_past_midnight_is_not_in_the_future() {
    let mut cmds = vec![enrol_command(at(23))];
    cmds.extend(baseline_pet_commands(at(24)));
    cmds.push(fresh_biopsy_command(at(48)));
    cmds.push(pathology_command(
        "biopsy-1",
        "A",
        IhcScore::OnePlus,
        false,
        day(3),
    ));
    let p = step(screened(), &cmds, at(24 * 4));
    // 23:30 UTC on 9 March is 00:30 on 10 March in Stockholm (CET).
    let now = Utc.with_ymd_and_hms(2026, 3, 9, 23, 30, 0).unwrap();
    let local_today = NaiveDate::from_ymd_opt(2026, 3, 10).unwrap();
    assert_eq!(SiteTimeZone::default().date_of(now), local_today);
    let dose = tdxd_command(local_today, DoseLevel::Start);
    let (p2, _) = run_from(
        p.clone(),
        std::slice::from_ref(&dose),
        now,
        &Settings::default(),
    )
    .expect("today's dose, entered at 00:30, is accepted");
    assert_eq!(p2.tdxd.administrations[0].date, local_today);
    // Tomorrow is still the future, and the message says so in the sites' words.
    let r = refused(
        &p,
        tdxd_command(local_today + Duration::days(1), DoseLevel::Start),
        now,
    );
    assert_eq!(r.rule, Rule::VALUE_IMPOSSIBLE, "{r}");
    // The calendar is a setting: counted in UTC, 10 March is not yet today.
    let utc = Settings {
        site_time_zone: SiteTimeZone::parse("UTC").unwrap(),
        ..Settings::default()
    };
    let r = run_from(p, &[dose], now, &utc)
        .expect_err("a UTC calendar")
        .1;
    assert_eq!(r.rule, Rule::VALUE_IMPOSSIBLE, "{r}");
}

#[test]
fn a_future_instant_is_reported_in_local_time_with_the_zone() {
    let mut cmds = vec![enrol_command(at(23))];
    cmds.extend(baseline_pet_commands(at(24)));
    let p = step(screened(), &cmds, at(26));
    // Summer time: 30 June 22:30 UTC is 1 July 00:30 CEST.
    let now = Utc.with_ymd_and_hms(2026, 6, 30, 20, 0, 0).unwrap();
    let r = refused(
        &p,
        fresh_biopsy_command(Utc.with_ymd_and_hms(2026, 6, 30, 22, 30, 0).unwrap()),
        now,
    );
    assert_eq!(r.rule, Rule::VALUE_IMPOSSIBLE, "{r}");
    assert!(r.message.contains("2026-07-01 00:30 CEST"), "{r}");
}

/// A corrected platelet count (entry lab-3 of the screening fixture) of `value`.
fn platelets_corrected(value: f64, sample_at: DateTime<Utc>) -> Command {
    let Command::RecordLab(mut c) = protocol::testing::lab(
        protocol::labs::Analyte::Platelets,
        value,
        "10^9/L",
        None,
        sample_at,
    ) else {
        unreachable!()
    };
    c.corrects = Some("lab-3".into());
    c.correction_reason = Some("transcription error: the report reads 65".into());
    Command::RecordLab(c)
}

#[test]
fn a_correction_after_enrolment_re_evaluates_eligibility_and_raises_a_deviation() {
    // Enrolled, PET1 done, biopsied, reported and allocated to arm 1.
    let mut cmds = vec![enrol_command(at(23))];
    cmds.extend(baseline_pet_commands(at(24)));
    cmds.push(fresh_biopsy_command(at(48)));
    cmds.push(pathology_command(
        "biopsy-1",
        "A",
        IhcScore::OnePlus,
        false,
        day(3),
    ));
    let p = step(screened(), &cmds, at(24 * 4));
    assert_eq!(p.state.kind().name(), "allocated");
    assert_eq!(
        p.labs
            .iter()
            .find(|l| l.entry_id == "lab-3")
            .map(|l| l.value.canonical_value),
        Some(245.0)
    );
    // The screening platelet count was mistyped: 65, not 245. The correction is taken in
    // the allocated state, and she did not qualify (EX4 platelets ≥ 100): a deviation.
    let p = step(p, &[platelets_corrected(65.0, at(1))], at(24 * 5));
    let d = p.deviations.last().expect("a deviation");
    assert_eq!(d.rule, Rule::ELIGIBILITY, "{d:?}");
    assert_eq!(d.severity, DeviationSeverity::Major);
    assert!(d.description.contains("EX4"), "{}", d.description);
    assert_eq!(d.entry_id.as_deref(), Some("lab-3"));
    // A correction that keeps her eligible raises nothing.
    let mut cmds = vec![enrol_command(at(23))];
    cmds.extend(baseline_pet_commands(at(24)));
    let p = step(screened(), &cmds, at(26));
    let p = step(p, &[platelets_corrected(240.0, at(1))], at(27));
    assert!(p.deviations.is_empty(), "{:?}", p.deviations);
}

#[test]
fn corrections_and_retractions_are_possible_after_the_journey_moved_on_but_need_a_reason() {
    let mut cmds = vec![enrol_command(at(23))];
    cmds.extend(baseline_pet_commands(at(24)));
    cmds.push(fresh_biopsy_command(at(48)));
    let p = step(screened(), &cmds, at(49));
    assert_eq!(p.state.kind().name(), "biopsy_done");
    // Without a reason: refused.
    let Command::RecordLab(mut no_reason) = platelets_corrected(240.0, at(1)) else {
        unreachable!()
    };
    no_reason.correction_reason = None;
    let r = refused(&p, Command::RecordLab(no_reason), at(50));
    assert_eq!(r.rule, Rule::VALUE_REQUIRED, "{r}");
    // Retracting the weight entry, with a reason, in biopsy_done.
    let retract = Command::RetractEntry(protocol::RetractEntry {
        entry_id: "weight-1".into(),
        reason: "entered for the wrong participant".into(),
    });
    let p2 = step(p.clone(), &[retract], at(50));
    assert!(
        p2.deviations
            .iter()
            .any(|d| d.rule == Rule::ELIGIBILITY && d.description.contains("no longer documented")),
        "the weight was needed for IN/EX evaluation: {:?}",
        p2.deviations
    );
}
