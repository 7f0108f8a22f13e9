//! Point 10 of issue 10: an earlier (archival) biopsy used instead of the study biopsy,
//! through `decide` as the trial calls it. Its age counts in calendar months to the day
//! of PET1 (not to the back-datable `used_on`), it must precede PET1, and a recorded
//! treatment line given after it refuses it, or raises a major deviation when the use
//! is entered as a past fact.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use protocol::testing::{baseline_pet_commands, eligible_participant_commands, enrol_command, run};
use protocol::{
    Command, Event, RecordArchivalBiopsy, RecordTreatmentLine, Refusal, Rule, Settings, State,
    TreatmentSetting, UseArchivalBiopsy,
};

use crate::common::d;

/// Consent on 29 September 2026; PET1 (the IMP) on 1 October at 09:00.
fn consent_at() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 9, 29, 9, 0, 0).unwrap()
}

fn now() -> DateTime<Utc> {
    consent_at() + Duration::days(3)
}

fn archival_command(taken: NaiveDate) -> Command {
    Command::RecordArchivalBiopsy(RecordArchivalBiopsy {
        biopsy_date: taken,
        lesion_id: Some("L2".into()),
        site_description: "lung metastasis, core needle".into(),
        systemic_therapy_since: false,
        her2_targeted_therapy_since: false,
        radiotherapy_to_lesion_since: false,
        corrects: None,
        correction_reason: None,
    })
}

fn line(regimen: &str, start: NaiveDate, end: Option<NaiveDate>) -> Command {
    Command::RecordTreatmentLine(RecordTreatmentLine {
        setting: TreatmentSetting::Palliative,
        regimen: regimen.into(),
        is_chemotherapy: true,
        is_her2_targeted: false,
        start_date: start,
        end_date: end,
        progression_date: end,
        corrects: None,
        correction_reason: None,
    })
}

/// The eligible woman whose capecitabine ended on 1 June 2026, with an earlier biopsy of
/// `taken` (and `extra` screening facts), enrolled and through PET1 on 1 October.
fn after_pet1(taken: NaiveDate, extra: &[Command]) -> protocol::Participant {
    let mut cmds: Vec<Command> = eligible_participant_commands("KS", "KS-001", consent_at())
        .into_iter()
        .map(|c| match c {
            Command::RecordTreatmentLine(_) => {
                line("capecitabine", d(2025, 12, 1), Some(d(2026, 6, 1)))
            }
            other => other,
        })
        .collect();
    cmds.push(archival_command(taken));
    cmds.extend(extra.iter().cloned());
    cmds.push(enrol_command(consent_at() + Duration::hours(30)));
    cmds.extend(baseline_pet_commands(consent_at() + Duration::hours(48)));
    let (p, _) = run(&cmds, now(), &Settings::default()).expect("screened, enrolled, PET1");
    assert_eq!(p.state, State::BaselinePetDone);
    p
}

fn use_it(used_on: NaiveDate, late: bool) -> Command {
    Command::UseArchivalBiopsy(UseArchivalBiopsy {
        archival_entry: "archival-1".into(),
        used_on,
        late_entry_of_fact: late,
    })
}

fn refused(p: &protocol::Participant, cmd: &Command) -> Refusal {
    protocol::decide(p, cmd, now(), &Settings::default()).unwrap_err()
}

#[test]
fn three_calendar_months_count_to_pet1_not_to_a_back_dated_use() {
    // 1 July + 3 months = 1 October, the day of PET1: still usable (92 days).
    let p = after_pet1(d(2026, 7, 1), &[]);
    let events = protocol::decide(
        &p,
        &use_it(d(2026, 10, 2), false),
        now(),
        &Settings::default(),
    )
    .expect("a biopsy of 1 July is three calendar months old on 1 October");
    let Event::BiopsyRecorded { biopsy, .. } = &events[0] else {
        panic!("{events:?}")
    };
    assert!(
        biopsy.evidence[0].contains("92 days old at PET1 (2026-10-01; max 3 calendar months)"),
        "{:?}",
        biopsy.evidence
    );

    // One day older is refused, and back-dating `used_on` into July does not help.
    let p = after_pet1(d(2026, 6, 30), &[]);
    let r = refused(&p, &use_it(d(2026, 7, 2), false));
    assert_eq!(r.rule, Rule::ARCHIVAL_BIOPSY);
    assert!(
        r.message
            .contains("93 days old (max 92): more than 3 calendar months before PET1 (2026-10-01)"),
        "{}",
        r.message
    );
}

#[test]
fn the_earlier_biopsy_must_precede_pet1() {
    let p = after_pet1(d(2026, 10, 1), &[]);
    let r = refused(&p, &use_it(d(2026, 10, 2), false));
    assert_eq!(r.rule, Rule::ARCHIVAL_BIOPSY);
    assert!(r.message.contains("must precede PET1"), "{}", r.message);
}

#[test]
fn a_treatment_line_after_the_biopsy_refuses_it_or_is_a_major_deviation_as_a_past_fact() {
    // The form says "no systemic therapy since", but eribulin started after the biopsy.
    let p = after_pet1(
        d(2026, 7, 1),
        &[line("eribulin", d(2026, 7, 10), Some(d(2026, 9, 1)))],
    );
    let r = refused(&p, &use_it(d(2026, 10, 2), false));
    assert_eq!(r.rule, Rule::ARCHIVAL_BIOPSY);
    assert!(
        r.message
            .contains("systemic therapy since the biopsy: eribulin (palliative) given 2026-07-10"),
        "{}",
        r.message
    );
    assert!(r.hint.unwrap_or_default().contains("late_entry_of_fact"));

    // Entered afterwards as what really happened: kept, with a major deviation.
    let (p, events) = protocol::testing::run_from(
        p,
        &[use_it(d(2026, 10, 2), true)],
        now(),
        &Settings::default(),
    )
    .expect("a past fact is recorded");
    assert_eq!(p.state, State::BiopsyDone);
    assert_eq!(p.deviations.len(), 1);
    let dev = &p.deviations[0];
    assert_eq!(dev.rule, Rule::ARCHIVAL_BIOPSY);
    assert_eq!(dev.severity, protocol::DeviationSeverity::Major);
    assert_eq!(dev.entry_id.as_deref(), Some("biopsy-1"));
    assert!(dev.description.contains("eribulin"), "{}", dev.description);
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::DeviationRecorded { .. }))
    );
}
