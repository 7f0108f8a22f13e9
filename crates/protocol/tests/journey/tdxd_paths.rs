//! The T-DXd course on the trial's untidy paths, through `decide` (PROTOCOL §9, §11,
//! §12; issue 10, points 1–4): reductions are remembered, holds end when their
//! resolution is recorded, corrections and retractions recompute the course, and the
//! LVEF findings ask for their repeat. The property test at the end runs random
//! sequences of doses, AEs, follow-ups, retractions and neutrophil counts.

use std::sync::OnceLock;

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use proptest::prelude::*;
use protocol::journey::safety::AeOutcome;
use protocol::journey::tdxd::{DecisionSource, DoseLevel};
use protocol::labs::Analyte;
use protocol::participant::{Participant, current};
use protocol::testing::{
    adverse_event_command, baseline_pet_commands, eligible_participant_commands, enrol_command,
    fresh_biopsy_command, lab, pathology_command, run, run_from, tdxd_command,
};
use protocol::{Command, IhcScore, Refusal, RetractEntry, Rule, Settings, State};

/// Pneumonitis (CTCAE v5.0).
const PNEUMONITIS: u32 = 10035742;
/// Neutrophil count decreased.
const NEUTROPENIA: u32 = 10029366;
/// Febrile neutropenia.
const FEBRILE_NEUTROPENIA: u32 = 10016288;
/// Heart failure.
const HEART_FAILURE: u32 = 10019279;
/// Nausea (no dose rule).
const NAUSEA: u32 = 10028813;

fn consent_at() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap()
}

fn at(h: i64) -> DateTime<Utc> {
    consent_at() + Duration::hours(h)
}

/// Long after everything the tests record: every fact is entered as a past fact.
fn later() -> DateTime<Utc> {
    at(24 * 400)
}

fn step(p: Participant, cmds: &[Command], now: DateTime<Utc>) -> Participant {
    match run_from(p, cmds, now, &Settings::default()) {
        Ok((p, _)) => p,
        Err((i, r)) => panic!("command {i} ({}) refused: {r}", cmds[i].name()),
    }
}

fn refused(p: &Participant, cmd: Command) -> Refusal {
    run_from(p.clone(), &[cmd], later(), &Settings::default())
        .expect_err("expected a refusal")
        .1
}

/// Arm 1 (IHC 1+ allocated on day 6), cycle 1 day 1 at 5.4 mg/kg on day 10, built
/// once through `decide`.
fn on_treatment() -> (Participant, NaiveDate) {
    static P: OnceLock<(Participant, NaiveDate)> = OnceLock::new();
    P.get_or_init(|| {
        let mut cmds = eligible_participant_commands("KS", "KS-014", consent_at());
        cmds.push(enrol_command(at(30)));
        let (p, _) = run(&cmds, at(31), &Settings::default()).expect("enrolled");
        let p = step(p, &baseline_pet_commands(at(48)), at(50));
        let p = step(p, &[fresh_biopsy_command(at(72))], at(73));
        let reported = at(24 * 6).date_naive();
        let p = step(
            p,
            &[pathology_command(
                "biopsy-1",
                "A",
                IhcScore::OnePlus,
                false,
                reported,
            )],
            at(24 * 6),
        );
        assert_eq!(
            p.state,
            State::Allocated {
                arm: protocol::Arm::Arm1
            }
        );
        let c1d1 = at(24 * 10).date_naive();
        let p = step(p, &[tdxd_command(c1d1, DoseLevel::Start)], at(24 * 10 + 8));
        (p, c1d1)
    })
    .clone()
}

fn dose(date: NaiveDate, level: DoseLevel, reduction_reason: Option<&str>) -> Command {
    let mut c = tdxd_command(date, level);
    if let Command::RecordTdxdAdministration(x) = &mut c {
        x.reduction_reason = reduction_reason.map(Into::into);
    }
    c
}

fn ae(code: u32, grade: u8, onset: NaiveDate) -> Command {
    adverse_event_command(
        code,
        grade,
        onset,
        onset.and_hms_opt(12, 0, 0).unwrap().and_utc(),
    )
}

/// `cmd` (an AE) resolved on `resolved`.
fn resolved(mut cmd: Command, resolved: NaiveDate) -> Command {
    if let Command::RecordAdverseEvent(a) = &mut cmd {
        a.resolved = Some(resolved);
        a.outcome = AeOutcome::Recovered;
    }
    cmd
}

/// `cmd` (an AE) as a follow-up of entry `of`, for `reason`.
fn follow_up(mut cmd: Command, of: &str, reason: &str) -> Command {
    if let Command::RecordAdverseEvent(a) = &mut cmd {
        a.corrects = Some(of.into());
        a.correction_reason = Some(reason.into());
    }
    cmd
}

fn retract(entry: &str, reason: &str) -> Command {
    Command::RetractEntry(RetractEntry {
        entry_id: entry.into(),
        reason: reason.into(),
    })
}

fn sample(analyte: Analyte, value: f64, unit: &str, on: NaiveDate, hour: u32) -> Command {
    lab(
        analyte,
        value,
        unit,
        None,
        on.and_hms_opt(hour, 0, 0).unwrap().and_utc(),
    )
}

// Point 1: never re-escalate.

#[test]
fn an_investigator_reduction_is_remembered_and_5_4_after_4_4_is_refused() {
    let (p, c1d1) = on_treatment();
    let day = |n| c1d1 + Duration::days(n);
    let p = step(
        p,
        &[dose(
            day(21),
            DoseLevel::Reduced1,
            Some("grade 2 fatigue, investigator decision"),
        )],
        later(),
    );
    assert_eq!(p.tdxd.level, DoseLevel::Reduced1, "the journey shows 4.4");
    let r = refused(&p, dose(day(42), DoseLevel::Start, None));
    assert_eq!(r.rule, Rule::TDXD_DOSE, "{r}");
    assert!(r.message.contains("re-escalation"), "{}", r.message);
    // Staying at 4.4 is no reduction: no reason needed.
    let p = step(p, &[dose(day(42), DoseLevel::Reduced1, None)], later());
    assert_eq!(p.tdxd.administrations.len(), 3);
    assert_eq!(p.tdxd.level, DoseLevel::Reduced1);
}

#[test]
fn a_level_given_stays_when_the_ae_that_lowered_it_is_corrected() {
    let (p, c1d1) = on_treatment();
    let day = |n| c1d1 + Duration::days(n);
    // Grade 4 neutropenia resolved: one level down, and 4.4 is given.
    let p = step(
        p,
        &[
            resolved(ae(NEUTROPENIA, 4, day(12)), day(19)),
            dose(day(21), DoseLevel::Reduced1, None),
        ],
        later(),
    );
    assert_eq!(p.tdxd.level, DoseLevel::Reduced1);
    // It was grade 3 after all: the hold would have kept the dose, but 4.4 was given.
    let p = step(
        p,
        &[follow_up(
            resolved(ae(NEUTROPENIA, 3, day(12)), day(19)),
            "ae-1",
            "grade mistyped: ANC was 0.7",
        )],
        later(),
    );
    assert_eq!(p.tdxd.level, DoseLevel::Reduced1);
    assert_eq!(
        refused(&p, dose(day(42), DoseLevel::Start, None)).rule,
        Rule::TDXD_DOSE
    );
}

// Point 2: holds end.

#[test]
fn a_neutropenia_hold_lifts_when_the_follow_up_records_its_resolution() {
    let (p, c1d1) = on_treatment();
    let day = |n| c1d1 + Duration::days(n);
    for (code, grade, level) in [
        (NEUTROPENIA, 3, DoseLevel::Start),
        (NEUTROPENIA, 4, DoseLevel::Reduced1),
        (FEBRILE_NEUTROPENIA, 3, DoseLevel::Reduced1),
    ] {
        let held = step(p.clone(), &[ae(code, grade, day(12))], later());
        assert_eq!(held.tdxd.interruptions.len(), 1, "{code} grade {grade}");
        let r = refused(&held, dose(day(21), DoseLevel::Start, None));
        assert_eq!(r.rule, Rule::TDXD_INTERRUPTED, "{r}");
        assert!(r.message.contains("TDXD_NEUTROPENIA"), "{}", r.message);
        let back = step(
            held,
            &[follow_up(
                resolved(ae(code, grade, day(12)), day(19)),
                "ae-1",
                "resolved to grade ≤ 2",
            )],
            later(),
        );
        assert!(back.tdxd.interruptions.is_empty(), "{code} grade {grade}");
        assert_eq!(back.tdxd.level, level, "{code} grade {grade}");
        assert!(back.tdxd.may_dose());
        let back = step(back, &[dose(day(21), level, None)], later());
        assert_eq!(back.tdxd.administrations.len(), 2);
    }
}

#[test]
fn a_neutrophil_count_on_treatment_holds_and_a_recovered_count_lifts_the_hold() {
    let (p, c1d1) = on_treatment();
    let day = |n| c1d1 + Duration::days(n);
    let anc = |v, n| sample(Analyte::Anc, v, "10^9/L", day(n), 8);
    // A pre-dose count on C1D1 is not on treatment.
    let p = step(p, &[anc(0.8, 0)], later());
    assert!(p.tdxd.may_dose());
    // Grade 4 (< 0.5): hold, then one level down.
    let held = step(p.clone(), &[anc(0.4, 14)], later());
    let r = refused(&held, dose(day(21), DoseLevel::Start, None));
    assert_eq!(r.rule, Rule::TDXD_INTERRUPTED, "{r}");
    // Still grade 3: still held.
    let held = step(held, &[anc(0.8, 17)], later());
    assert!(!held.tdxd.may_dose());
    let back = step(held, &[anc(1.6, 20)], later());
    assert!(back.tdxd.interruptions.is_empty(), "{:?}", back.tdxd);
    assert_eq!(back.tdxd.level, DoseLevel::Reduced1);
    let last = back.tdxd.decisions.last().unwrap();
    assert!(matches!(last.source, Some(DecisionSource::Lab { .. })));
    assert_eq!(last.settings_version, Some(Settings::default().version));
    // Grade 3 (0.5–1.0): the same dose after recovery, here on the same day.
    let same = step(p, &[anc(0.7, 14), anc(1.2, 14)], later());
    assert_eq!(same.tdxd.level, DoseLevel::Start);
    assert!(same.tdxd.may_dose());
}

#[test]
fn a_grade_1_pneumonitis_entered_already_resolved_is_no_open_hold() {
    let (p, c1d1) = on_treatment();
    let day = |n| c1d1 + Duration::days(n);
    // Resolved 6 days after onset, entered afterwards: the same dose.
    let quick = step(
        p.clone(),
        &[resolved(ae(PNEUMONITIS, 1, day(8)), day(14))],
        later(),
    );
    assert!(quick.tdxd.interruptions.is_empty(), "{:?}", quick.tdxd);
    assert_eq!(quick.tdxd.level, DoseLevel::Start);
    let quick = step(quick, &[dose(day(21), DoseLevel::Start, None)], later());
    assert_eq!(quick.tdxd.administrations.len(), 2);
    // Resolved 30 days after onset (> 28): one level down.
    let slow = step(p, &[resolved(ae(PNEUMONITIS, 1, day(8)), day(38))], later());
    assert!(slow.tdxd.interruptions.is_empty());
    assert_eq!(slow.tdxd.level, DoseLevel::Reduced1);
    assert_eq!(
        refused(&slow, dose(day(42), DoseLevel::Start, None)).rule,
        Rule::TDXD_DOSE
    );
}

// Point 3: corrections and retractions recompute.

#[test]
fn a_mistyped_grade_2_pneumonitis_corrected_to_grade_1_does_not_discontinue() {
    let (p, c1d1) = on_treatment();
    let day = |n| c1d1 + Duration::days(n);
    let p = step(p, &[ae(PNEUMONITIS, 2, day(14))], later());
    assert_eq!(p.tdxd.discontinued.as_ref().unwrap().rule, Rule::TDXD_ILD);
    // A correction needs its reason.
    let r = refused(&p, follow_up(ae(PNEUMONITIS, 1, day(14)), "ae-1", " "));
    assert_eq!(r.rule, Rule::VALUE_REQUIRED);
    let p = step(
        p,
        &[follow_up(
            ae(PNEUMONITIS, 1, day(14)),
            "ae-1",
            "grade mistyped: asymptomatic, CT finding only",
        )],
        later(),
    );
    assert!(p.tdxd.discontinued.is_none(), "{:?}", p.tdxd.discontinued);
    assert_eq!(p.tdxd.interruptions.len(), 1);
    assert_eq!(p.tdxd.interruptions[0].rule, Rule::TDXD_ILD);
    assert_eq!(
        refused(&p, dose(day(21), DoseLevel::Start, None)).rule,
        Rule::TDXD_INTERRUPTED
    );
    let p = step(
        p,
        &[
            follow_up(
                resolved(ae(PNEUMONITIS, 1, day(14)), day(20)),
                "ae-2",
                "resolved on CT",
            ),
            dose(day(21), DoseLevel::Start, None),
        ],
        later(),
    );
    assert_eq!(p.tdxd.administrations.len(), 2);
    // The course keeps the decisions of the current facts with their settings version.
    assert!(
        p.tdxd
            .decisions
            .iter()
            .all(|d| d.settings_version == Some(Settings::default().version))
    );
}

#[test]
fn retracting_an_ae_takes_back_the_hold_it_caused() {
    let (p, c1d1) = on_treatment();
    let day = |n| c1d1 + Duration::days(n);
    let p = step(
        p,
        &[ae(NAUSEA, 1, day(3)), ae(FEBRILE_NEUTROPENIA, 3, day(12))],
        later(),
    );
    assert!(!p.tdxd.may_dose());
    let r = refused(&p, retract("ae-2", " "));
    assert_eq!(r.rule, Rule::VALUE_REQUIRED);
    let p = step(
        p,
        &[retract("ae-2", "entered for the wrong participant")],
        later(),
    );
    assert!(p.tdxd.may_dose(), "{:?}", p.tdxd);
    assert_eq!(p.tdxd.level, DoseLevel::Start);
    let p = step(p, &[dose(day(21), DoseLevel::Start, None)], later());
    assert_eq!(p.tdxd.administrations.len(), 2);
}

// Point 4: LVEF and heart failure.

#[test]
fn symptomatic_heart_failure_on_tdxd_discontinues() {
    let (p, c1d1) = on_treatment();
    let day = |n| c1d1 + Duration::days(n);
    // Grade 1 is asymptomatic: the LVEF rule needs the values.
    let quiet = step(p.clone(), &[ae(HEART_FAILURE, 1, day(14))], later());
    assert!(quiet.tdxd.discontinued.is_none() && quiet.tdxd.may_dose());
    let p = step(p, &[ae(HEART_FAILURE, 3, day(14))], later());
    let d = p.tdxd.discontinued.as_ref().expect("discontinued");
    assert_eq!(d.rule, Rule::TDXD_LVEF);
    assert!(d.reason.contains("symptomatic"), "{}", d.reason);
    assert_eq!(
        refused(
            &p,
            dose(day(21), DoseLevel::Reduced1, Some("heart failure"))
        )
        .rule,
        Rule::TDXD_DISCONTINUED
    );
}

#[test]
fn lvef_40_to_45_with_a_drop_under_10_asks_for_a_repeat_within_3_weeks() {
    let (p, c1d1) = on_treatment();
    let day = |n| c1d1 + Duration::days(n);
    let lvef = |v, n| sample(Analyte::Lvef, v, "%", day(n), 9);
    let p = step(p, &[lvef(52.0, 0), lvef(44.0, 14)], later());
    assert!(p.tdxd.may_dose(), "continue: {:?}", p.tdxd.interruptions);
    let repeat = p.tdxd.lvef_repeat.as_ref().expect("a repeat is asked for");
    assert_eq!(repeat.since, day(14));
    assert_eq!(repeat.due, day(35));
    assert!(
        repeat.reason.contains("repeat within 3 weeks"),
        "{}",
        repeat.reason
    );
    // The repeat is on her visit list, due from the finding until the due date, and
    // overdue after it.
    let s = Settings::default();
    let on_list = |p: &Participant, today| {
        protocol::journey::trial::visits(p, today, &s)
            .into_iter()
            .find(|v| v.expected.kind == protocol::journey::VisitKind::LvefRepeat)
    };
    let v = on_list(&p, day(20)).expect("the repeat LVEF is a visit");
    assert_eq!(v.expected.window.latest, day(35));
    assert_eq!(v.state, protocol::journey::VisitState::Due);
    assert_eq!(
        on_list(&p, day(36)).map(|v| v.state),
        Some(protocol::journey::VisitState::Overdue)
    );
    // The next LVEF answers it, and it leaves the list.
    let p = step(p, &[lvef(50.0, 30)], later());
    assert_eq!(p.tdxd.lvef_repeat, None);
    assert!(p.tdxd.may_dose());
    assert!(on_list(&p, day(31)).is_none());
}

#[test]
fn an_lvef_sampled_on_c1d1_before_the_dose_is_the_baseline() {
    let (p, c1d1) = on_treatment();
    let day = |n| c1d1 + Duration::days(n);
    let lvef = |v, n, h| sample(Analyte::Lvef, v, "%", day(n), h);
    // Screening LVEF 60 %; on C1D1 morning 52 %: that is the baseline, and it
    // decides nothing itself.
    let p = step(p, &[lvef(52.0, 0, 7)], later());
    assert!(p.tdxd.decisions.is_empty(), "{:?}", p.tdxd.decisions);
    // 44 % is a drop of 8 from 52 (continue, repeat), not 16 from 60 (interrupt).
    let p = step(p, &[lvef(44.0, 14, 9)], later());
    assert!(
        p.tdxd.interruptions.is_empty(),
        "{:?}",
        p.tdxd.interruptions
    );
    let last = p.tdxd.decisions.last().unwrap();
    assert!(
        last.decision.reason.contains("baseline 52"),
        "{}",
        last.decision.reason
    );
}

// The property: random sequences of doses, AEs, follow-ups, retractions and counts.

#[derive(Debug, Clone)]
enum Op {
    /// A dose `gap` days after the cursor at the allowed level, or one level lower with a reason.
    Dose { lower: bool },
    /// An AE of a term with a dose rule (or none), optionally already resolved.
    Ae {
        code: u32,
        grade: u8,
        resolved_after: Option<i64>,
    },
    /// A follow-up of a current AE (by index): a new grade and/or its resolution.
    FollowUp {
        which: usize,
        grade: Option<u8>,
        resolved_after: Option<i64>,
    },
    /// A retraction of a current AE (by index).
    Retract { which: usize },
    /// An ANC on treatment, ×10⁹/L.
    Anc { value: f64 },
}

fn op() -> impl Strategy<Value = (i64, Op)> {
    let code = prop_oneof![
        Just(NEUTROPENIA),
        Just(FEBRILE_NEUTROPENIA),
        Just(PNEUMONITIS),
        Just(NAUSEA),
        Just(HEART_FAILURE),
    ];
    let op = prop_oneof![
        3 => any::<bool>().prop_map(|lower| Op::Dose { lower }),
        3 => (code, 1u8..=4, proptest::option::of(0i64..40)).prop_map(|(code, grade, resolved_after)| Op::Ae { code, grade, resolved_after }),
        3 => (0usize..4, proptest::option::of(1u8..=4), proptest::option::of(0i64..40)).prop_map(|(which, grade, resolved_after)| Op::FollowUp { which, grade, resolved_after }),
        1 => (0usize..4).prop_map(|which| Op::Retract { which }),
        2 => prop_oneof![Just(0.3), Just(0.8), Just(1.4), Just(2.5)].prop_map(|value| Op::Anc { value }),
    ];
    (1i64..12, op)
}

/// The command for `op` on `on`, or `None` when it names no current AE.
fn command_for(p: &Participant, op: &Op, on: NaiveDate) -> Option<Command> {
    let current_ae = |which: usize| {
        let v: Vec<_> = current(&p.adverse_events).collect();
        (!v.is_empty()).then(|| v[which % v.len()])
    };
    Some(match op {
        Op::Dose { lower } => {
            let level = p.tdxd.level;
            match (lower, level.one_lower()) {
                (true, Some(l)) => dose(on, l, Some("investigator decision")),
                _ => dose(on, level, None),
            }
        }
        Op::Ae {
            code,
            grade,
            resolved_after,
        } => {
            let grade = if *code == FEBRILE_NEUTROPENIA {
                (*grade).max(3)
            } else {
                *grade
            };
            let c = ae(*code, grade, on);
            match resolved_after {
                Some(n) => resolved(c, on + Duration::days(*n)),
                None => c,
            }
        }
        Op::FollowUp {
            which,
            grade,
            resolved_after,
        } => {
            let e = current_ae(*which)?;
            let a = &e.value.ae;
            let grade = grade.unwrap_or(a.grade);
            let grade = if a.meddra_code == FEBRILE_NEUTROPENIA {
                grade.max(3)
            } else {
                grade
            };
            let mut c = ae(a.meddra_code, grade, a.onset);
            if let Some(n) = resolved_after {
                c = resolved(c, a.onset + Duration::days(*n));
            }
            follow_up(c, &e.entry_id, "follow-up")
        }
        Op::Retract { which } => retract(&current_ae(*which)?.entry_id, "entered in error"),
        Op::Anc { value } => sample(Analyte::Anc, *value, "10^9/L", on, 8),
    })
}

fn rank(l: DoseLevel) -> u8 {
    match l {
        DoseLevel::Start => 0,
        DoseLevel::Reduced1 => 1,
        DoseLevel::Reduced2 => 2,
    }
}

/// The allowed level is never above a level already given.
fn never_above_a_dose_given(p: &Participant) -> Result<(), TestCaseError> {
    for a in &p.tdxd.administrations {
        prop_assert!(
            rank(p.tdxd.level) >= rank(a.dose_level),
            "allowed {:?} above {:?} given on {}",
            p.tdxd.level,
            a.dose_level,
            a.date
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    /// After any sequence the allowed level never rises while T-DXd may be given (a
    /// correction or retraction may take back a rule's reduction that no dose has
    /// used yet, never above a level given), and once every hold has its resolution recorded the next valid
    /// dose at the allowed level is accepted unless T-DXd is discontinued.
    #[test]
    fn the_level_never_rises_and_resolved_holds_never_block(ops in proptest::collection::vec(op(), 1..25)) {
        let (mut p, c1d1) = on_treatment();
        let mut on = c1d1;
        for (gap, op) in &ops {
            on += Duration::days(*gap);
            let Some(cmd) = command_for(&p, op, on) else { continue };
            let takes_back = matches!(op, Op::FollowUp { .. } | Op::Retract { .. });
            let before = p.tdxd.level;
            if let Ok((next, _)) = run_from(p.clone(), &[cmd], later(), &Settings::default()) {
                p = next;
            }
            never_above_a_dose_given(&p)?;
            // Once discontinued no level is allowed: the level stops mattering.
            if !takes_back && p.tdxd.discontinued.is_none() {
                prop_assert!(rank(p.tdxd.level) >= rank(before), "{op:?}: {before:?} → {:?}", p.tdxd.level);
            }
        }
        // Record every resolution: each open AE resolves (by its follow-up) and the
        // neutrophils recover.
        let open: Vec<_> = current(&p.adverse_events)
            .filter(|e| e.value.ae.resolved.is_none())
            .map(|e| (e.entry_id.clone(), e.value.ae.clone()))
            .collect();
        let end = on + Duration::days(1);
        for (id, a) in open {
            let before = p.tdxd.level;
            let c = follow_up(resolved(ae(a.meddra_code, a.grade, a.onset), end), &id, "resolved");
            p = step(p, &[c], later());
            prop_assert!(rank(p.tdxd.level) >= rank(before) || p.tdxd.discontinued.is_some());
        }
        let before = p.tdxd.level;
        p = step(p, &[sample(Analyte::Anc, 2.5, "10^9/L", end, 8)], later());
        prop_assert!(rank(p.tdxd.level) >= rank(before));
        never_above_a_dose_given(&p)?;
        let last = p.tdxd.administrations.iter().map(|a| a.date).max().unwrap_or(c1d1);
        let next = end.max(last + Duration::days(21)) + Duration::days(1);
        let r = run_from(p.clone(), &[dose(next, p.tdxd.level, None)], later(), &Settings::default());
        match (&p.tdxd.discontinued, r) {
            (None, Ok(_)) => {}
            (Some(_), Err((_, r))) => prop_assert_eq!(r.rule, Rule::TDXD_DISCONTINUED),
            (d, r) => prop_assert!(false, "discontinued {d:?}, dose: {:?}; course {:?}", r.map(|_| ()), p.tdxd),
        }
    }
}
