//! Tumour response in the trial (PROTOCOL §10): baseline and follow-up CT assessments,
//! the RECIST 1.1 engine's result recorded with its version, progression from the
//! engine's first PD (§9), corrections re-evaluated.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use protocol::recist::{ENGINE_VERSION, NewLesions, NonTargetStatus, OverallResponse, Role};
use protocol::response::{
    NonTargetReading, ProgressionSource, TargetFinding, TargetReading, TumourLesion,
};
use protocol::testing::{enrol_command, imp_command, run_from};
use protocol::{
    Command, Event, Participant, PetTimepoint, RecordBaselineTumourAssessment,
    RecordTumourAssessment, Refusal, RetractEntry, Rule, Settings, State,
};

use crate::common::{at, base, build_with};

fn day(m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, m, d).unwrap()
}

/// Assessments are entered in the autumn, after every scan.
fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 10, 1, 12, 0, 0).unwrap()
}

/// The eligible participant, enrolled.
fn enrolled() -> Participant {
    let mut cmds = base();
    cmds.push(enrol_command(at(30)));
    build_with(&cmds, at(24 * 5), &Settings::default()).0
}

/// The same participant as if arm 1 had started T-DXd (the allocation and T-DXd commands
/// are wired elsewhere).
fn on_treatment() -> Participant {
    let mut p = enrolled();
    p.state = State::OnTreatment;
    p
}

fn lesion(id: &str, organ: &str, node: bool, role: Role, mm: Option<f64>) -> TumourLesion {
    TumourLesion::new(id, organ, node, role, mm)
}

/// Liver 30 mm + lung 20 mm + node 20 mm short axis = 70 mm; one bone non-target.
fn lesions() -> Vec<TumourLesion> {
    vec![
        lesion("T1", "liver", false, Role::Target, Some(30.0)),
        lesion("T2", "lung", false, Role::Target, Some(20.0)),
        lesion("T3", "axillary node", true, Role::Target, Some(20.0)),
        lesion("NT1", "bone", false, Role::NonTarget, None),
    ]
}

fn baseline_with(lesions: Vec<TumourLesion>) -> Command {
    Command::RecordBaselineTumourAssessment(RecordBaselineTumourAssessment {
        scan_date: day(3, 1),
        slice_thickness_mm: 3.0,
        treatment_start: Some(day(3, 10)),
        lesions,
        corrects: None,
        correction_reason: None,
    })
}

fn baseline() -> Command {
    baseline_with(lesions())
}

fn reading(id: &str, mm: f64) -> TargetReading {
    TargetReading {
        lesion: id.into(),
        finding: TargetFinding::Measured,
        diameter_mm: Some(mm),
    }
}

/// A follow-up with the three targets measured, the bone lesion present.
fn follow_up(date: NaiveDate, t: [f64; 3], new: NewLesions) -> RecordTumourAssessment {
    RecordTumourAssessment {
        scan_date: date,
        targets: vec![
            reading("T1", t[0]),
            reading("T2", t[1]),
            reading("T3", t[2]),
        ],
        non_targets: vec![NonTargetReading {
            lesion: "NT1".into(),
            status: NonTargetStatus::Present,
        }],
        new_lesions: new,
        corrects: None,
        correction_reason: None,
    }
}

fn fu(date: NaiveDate, t: [f64; 3], new: NewLesions) -> Command {
    Command::RecordTumourAssessment(follow_up(date, t, new))
}

fn run(p: Participant, cmds: &[Command]) -> (Participant, Vec<Event>) {
    run_with(p, cmds, &Settings::default())
}

fn run_with(p: Participant, cmds: &[Command], s: &Settings) -> (Participant, Vec<Event>) {
    match run_from(p, cmds, now(), s) {
        Ok(r) => r,
        Err((i, r)) => panic!("command {i} ({}) refused: {r}", cmds[i].name()),
    }
}

fn refused(p: Participant, cmds: &[Command]) -> Refusal {
    run_from(p, cmds, now(), &Settings::default())
        .expect_err("expected a refusal")
        .1
}

fn kinds(events: &[Event]) -> Vec<&'static str> {
    events.iter().map(Event::kind).collect()
}

#[test]
fn baseline_is_refused_when_it_breaks_the_recist_selection_rules() {
    // Six targets: at most five (RECIST 1.1 §4.2).
    let six: Vec<_> = ["liver", "lung", "adrenal", "spleen", "kidney", "skin"]
        .iter()
        .enumerate()
        .map(|(i, o)| lesion(&format!("T{}", i + 1), o, false, Role::Target, Some(15.0)))
        .collect();
    let r = refused(enrolled(), &[baseline_with(six)]);
    assert_eq!(r.rule, Rule::RECIST);
    assert!(r.message.contains("at most 5"), "{}", r.message);

    // Three liver targets: at most two per organ.
    let liver: Vec<_> = (1..=3)
        .map(|i| lesion(&format!("T{i}"), "Liver", false, Role::Target, Some(15.0)))
        .collect();
    let r = refused(enrolled(), &[baseline_with(liver)]);
    assert_eq!(r.rule, Rule::RECIST);
    assert!(r.message.contains("per organ"), "{}", r.message);

    // A 9 mm lesion and a 12 mm node are not measurable, so not targets (§3.1.1).
    for (node, mm) in [(false, 9.0), (true, 12.0)] {
        let r = refused(
            enrolled(),
            &[baseline_with(vec![lesion(
                "T1",
                "liver",
                node,
                Role::Target,
                Some(mm),
            )])],
        );
        assert_eq!(r.rule, Rule::RECIST, "{node} {mm}");
        assert!(r.message.contains("not measurable"), "{}", r.message);
    }

    // Duplicate lesion ids.
    let r = refused(
        enrolled(),
        &[baseline_with(vec![
            lesion("T1", "liver", false, Role::Target, Some(20.0)),
            lesion("T1", "lung", false, Role::Target, Some(20.0)),
        ])],
    );
    assert_eq!(r.rule, Rule::RECIST);
    assert!(r.message.contains("used twice"), "{}", r.message);

    // One current baseline: a second one must be a correction.
    let r = refused(enrolled(), &[baseline(), baseline()]);
    assert_eq!(r.rule, Rule::DUPLICATE);
    assert!(r.hint.unwrap().contains("ctbaseline-1"));
}

#[test]
fn follow_ups_are_refused_without_a_baseline_or_when_incomplete() {
    let r = refused(
        enrolled(),
        &[fu(day(5, 1), [20.0, 15.0, 15.0], NewLesions::No)],
    );
    assert_eq!(r.rule, Rule::RECIST);
    assert!(r.message.contains("baseline"), "{}", r.message);

    // Every baseline target must be read (as not evaluated if it was not assessed).
    let mut missing = follow_up(day(5, 1), [20.0, 15.0, 15.0], NewLesions::No);
    missing.targets.pop();
    let r = refused(
        enrolled(),
        &[baseline(), Command::RecordTumourAssessment(missing)],
    );
    assert_eq!(r.rule, Rule::RECIST);
    assert!(r.message.contains("T3"), "{}", r.message);
    assert!(r.message.contains("CT 2026-05-01"), "{}", r.message);

    // A follow-up before treatment start is not a follow-up.
    let r = refused(
        enrolled(),
        &[
            baseline(),
            fu(day(3, 5), [20.0, 15.0, 15.0], NewLesions::No),
        ],
    );
    assert_eq!(r.rule, Rule::RECIST);

    // A measured target needs its diameter.
    let mut no_mm = follow_up(day(5, 1), [20.0, 15.0, 15.0], NewLesions::No);
    no_mm.targets[0].diameter_mm = None;
    let r = refused(
        enrolled(),
        &[baseline(), Command::RecordTumourAssessment(no_mm)],
    );
    assert_eq!(r.rule, Rule::VALUE_REQUIRED);

    // Not before enrolment.
    let screening = build_with(&base(), at(24 * 5), &Settings::default()).0;
    assert_eq!(
        refused(screening, &[baseline()]).rule,
        Rule::STATE_TRANSITION
    );
}

#[test]
fn the_engine_result_is_recorded_with_its_version() {
    let (p, events) = run(enrolled(), &[baseline()]);
    assert_eq!(kinds(&events), ["tumour_baseline_recorded"]);
    assert_eq!(p.tumour_baseline().unwrap().entry_id, "ctbaseline-1");

    // 70 → 45 mm: −35.7 %, PR (≥ 30 % below baseline).
    let (p, events) = run(p, &[fu(day(5, 12), [18.0, 12.0, 15.0], NewLesions::No)]);
    assert_eq!(
        kinds(&events),
        ["tumour_assessment_recorded", "response_evaluated"]
    );
    let Event::ResponseEvaluated {
        evaluation,
        settings_version,
        ..
    } = &events[1]
    else {
        panic!("not an evaluation")
    };
    assert_eq!(evaluation.engine_version, ENGINE_VERSION);
    assert_eq!(*settings_version, 1);
    assert_eq!(evaluation.baseline_sum_mm, 70.0);
    let t = &evaluation.time_points[0];
    assert_eq!(t.assessment_id, "ct-1");
    assert_eq!(t.sum_mm, Some(45.0));
    assert_eq!(t.change_from_baseline_pct, Some(-35.7));
    assert_eq!(t.overall, OverallResponse::PartialResponse);
    assert_eq!(
        evaluation.best_unconfirmed.response,
        OverallResponse::PartialResponse
    );
    // One PR is not confirmed: with confirmation it counts as SD (Table 3).
    assert_eq!(
        evaluation.best_confirmed.response,
        OverallResponse::StableDisease
    );
    assert_eq!(p.response_evaluation(), Some(evaluation));
    assert_eq!(p.progression, None);
    assert_eq!(p.state, State::Enrolled);
}

#[test]
fn confirmation_setting_chooses_the_headline_best_response() {
    let mut s = Settings::default();
    s.recist.confirmation = true;
    let (p, _) = run_with(
        enrolled(),
        &[
            baseline(),
            fu(day(5, 12), [18.0, 12.0, 15.0], NewLesions::No),
        ],
        &s,
    );
    let e = p.response_evaluation().unwrap();
    assert!(e.confirmation_required);
    assert_eq!(e.best().response, OverallResponse::StableDisease);
    // A second PR 4 weeks later confirms it.
    let (p, _) = run_with(p, &[fu(day(6, 12), [18.0, 12.0, 14.0], NewLesions::No)], &s);
    assert_eq!(
        p.response_evaluation().unwrap().best().response,
        OverallResponse::PartialResponse
    );
}

#[test]
fn first_pd_records_progression_and_moves_arm1_to_progression() {
    // PR (45 mm, the nadir), then 56 mm: +24 % and +11 mm over the nadir → PD.
    let (p, events) = run(
        on_treatment(),
        &[
            baseline(),
            fu(day(5, 12), [18.0, 12.0, 15.0], NewLesions::No),
            fu(day(7, 14), [24.0, 16.0, 16.0], NewLesions::No),
        ],
    );
    let progression: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            Event::ProgressionRecorded { progression, .. } => Some(progression),
            _ => None,
        })
        .collect();
    assert_eq!(progression.len(), 1);
    assert_eq!(progression[0].date, day(7, 14));
    assert_eq!(progression[0].source, ProgressionSource::Recist);
    assert_eq!(progression[0].assessment_id, "ct-2");
    assert_eq!(progression[0].engine_version, ENGINE_VERSION);
    assert_eq!(p.state, State::Progression);
    let e = p.response_evaluation().unwrap();
    assert_eq!(
        e.time_points[1].overall,
        OverallResponse::ProgressiveDisease
    );
    assert_eq!(e.time_points[1].change_from_nadir_pct, Some(24.4));
    assert_eq!(e.best().response, OverallResponse::PartialResponse);

    // Progression allows the optional PET3 (PROTOCOL §9).
    let (p, _) = run(
        p,
        &[imp_command(
            PetTimepoint::Pet3,
            Utc.with_ymd_and_hms(2026, 7, 20, 9, 0, 0).unwrap(),
        )],
    );
    assert!(p.imp_administration(PetTimepoint::Pet3).is_some());

    // A further PD does not record progression again.
    let (_, events) = run(p, &[fu(day(8, 20), [30.0, 20.0, 20.0], NewLesions::Yes)]);
    assert!(!kinds(&events).contains(&"progression_recorded"));
}

#[test]
fn progression_from_a_confirmed_new_lesion_is_dated_to_the_first_scan() {
    let mut p = on_treatment();
    p.state = State::ResponsePetDone;
    // Equivocal new lesion on 12 May, confirmed on 14 July: PD dated 12 May (§4.3.5).
    let (p, events) = run(
        p,
        &[
            baseline(),
            fu(day(5, 12), [28.0, 19.0, 19.0], NewLesions::Equivocal),
        ],
    );
    assert!(!kinds(&events).contains(&"progression_recorded"));
    assert_eq!(p.state, State::ResponsePetDone);
    let (p, events) = run(p, &[fu(day(7, 14), [28.0, 19.0, 19.0], NewLesions::Yes)]);
    let Some(Event::ProgressionRecorded { progression, .. }) = events.last() else {
        panic!("no progression: {:?}", kinds(&events))
    };
    assert_eq!(progression.date, day(5, 12));
    assert_eq!(progression.assessment_id, "ct-1");
    assert_eq!(p.state, State::Progression);
}

#[test]
fn pd_before_treatment_is_recorded_but_does_not_move_the_state() {
    let (p, events) = run(
        enrolled(),
        &[
            baseline(),
            fu(day(5, 12), [30.0, 20.0, 20.0], NewLesions::Yes),
        ],
    );
    assert!(kinds(&events).contains(&"progression_recorded"));
    assert_eq!(p.progression.as_ref().unwrap().date, day(5, 12));
    assert_eq!(p.state, State::Enrolled);
}

#[test]
fn corrections_re_evaluate() {
    let (p, _) = run(
        on_treatment(),
        &[
            baseline(),
            fu(day(5, 12), [18.0, 12.0, 15.0], NewLesions::No),
        ],
    );
    // The follow-up's T1 was mis-typed: 18 → 28 mm. 55 mm is −21 %: SD, not PR.
    let mut fixed = follow_up(day(5, 12), [28.0, 12.0, 15.0], NewLesions::No);
    fixed.corrects = Some("ct-1".into());
    fixed.correction_reason = Some("T1 typed wrongly".into());
    let (p, events) = run(p, &[Command::RecordTumourAssessment(fixed.clone())]);
    assert_eq!(
        kinds(&events),
        ["tumour_assessment_recorded", "response_evaluated"]
    );
    let e = p.response_evaluation().unwrap();
    assert_eq!(
        e.time_points.len(),
        1,
        "the corrected entry no longer counts"
    );
    assert_eq!(e.time_points[0].assessment_id, "ct-2");
    assert_eq!(e.time_points[0].overall, OverallResponse::StableDisease);
    assert_eq!(p.current_tumour_assessments().len(), 1);
    assert_eq!(p.tumour_assessments.len(), 2, "the old entry is kept");

    // A correction needs a reason.
    let mut no_reason = fixed.clone();
    no_reason.corrects = Some("ct-2".into());
    no_reason.correction_reason = None;
    let r = refused(p.clone(), &[Command::RecordTumourAssessment(no_reason)]);
    assert_eq!(r.rule, Rule::VALUE_REQUIRED);

    // Correcting the baseline re-evaluates every follow-up against it: T1 was 40 mm, so
    // the sum 80 → 55 mm is −31 %: PR.
    let mut l = lesions();
    l[0].diameter_mm = Some(40.0);
    let Command::RecordBaselineTumourAssessment(mut b) = baseline_with(l) else {
        unreachable!()
    };
    b.corrects = Some("ctbaseline-1".into());
    b.correction_reason = Some("T1 remeasured".into());
    let (p, events) = run(p, &[Command::RecordBaselineTumourAssessment(b.clone())]);
    assert_eq!(
        kinds(&events),
        ["tumour_baseline_recorded", "response_evaluated"]
    );
    let e = p.response_evaluation().unwrap();
    assert_eq!(e.baseline_id, "ctbaseline-2");
    assert_eq!(e.baseline_sum_mm, 80.0);
    assert_eq!(e.time_points[0].overall, OverallResponse::PartialResponse);

    // A baseline correction the recorded follow-ups do not fit is refused.
    let mut gone = b;
    gone.corrects = Some("ctbaseline-2".into());
    gone.lesions.retain(|l| l.id != "NT1");
    let r = refused(p, &[Command::RecordBaselineTumourAssessment(gone)]);
    assert_eq!(r.rule, Rule::RECIST);
    assert!(r.message.contains("NT1"), "{}", r.message);
}

fn retract(id: &str) -> Command {
    Command::RetractEntry(RetractEntry {
        entry_id: id.into(),
        reason: "entered for the wrong participant".into(),
    })
}

#[test]
fn retracting_a_follow_up_re_evaluates_and_the_baseline_stays_while_compared() {
    let (p, _) = run(
        enrolled(),
        &[
            baseline(),
            fu(day(5, 12), [18.0, 12.0, 15.0], NewLesions::No),
            fu(day(7, 14), [18.0, 12.0, 14.0], NewLesions::No),
        ],
    );
    assert_eq!(p.response_evaluation().unwrap().time_points.len(), 2);
    let r = refused(p.clone(), &[retract("ctbaseline-1")]);
    assert_eq!(r.rule, Rule::RECIST);
    let (p, events) = run(p, &[retract("ct-1")]);
    assert_eq!(kinds(&events), ["entry_retracted", "response_evaluated"]);
    let e = p.response_evaluation().unwrap();
    assert_eq!(e.time_points.len(), 1);
    assert_eq!(e.time_points[0].assessment_id, "ct-2");
    // Without follow-ups the baseline may go.
    let (p, _) = run(p, &[retract("ct-2"), retract("ctbaseline-1")]);
    assert!(p.tumour_baseline().is_none());
}
