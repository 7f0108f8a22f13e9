//! RECIST details in the trial (PROTOCOL §10), through `decide`: the baseline qualifiers
//! RECIST needs (bone, cystic, irradiated) and the refusal of a non-measurable target; the
//! size minima from the settings; Table 3 note a only after a CR that was truly met; a
//! nodal target back at ≥ 10 mm after a confirmed CR is progression (EORTC RECIST FAQ).

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use protocol::recist::{BoneLesion, CysticLesion, NewLesions, OverallResponse, PdAfterCr, Role};
use protocol::response::{
    ResponseEvaluation, TargetFinding, TargetReading, TumourBaseline, TumourLesion,
};
use protocol::testing::{enrol_command, run_from};
use protocol::{
    Command, Event, Participant, RecordBaselineTumourAssessment, RecordTumourAssessment, Refusal,
    Rule, Settings, State,
};

use crate::common::{at, base, build_with};

fn day(m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, m, d).unwrap()
}

/// Assessments are entered in the autumn, after every scan.
fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 10, 1, 12, 0, 0).unwrap()
}

/// The eligible participant, enrolled and (as if arm 1 had started) on T-DXd.
fn on_treatment() -> Participant {
    let mut cmds = base();
    cmds.push(enrol_command(at(30)));
    let mut p = build_with(&cmds, at(24 * 5), &Settings::default()).0;
    p.state = State::OnTreatment;
    p
}

fn target(id: &str, organ: &str, mm: f64) -> TumourLesion {
    TumourLesion::new(id, organ, false, Role::Target, Some(mm))
}

fn liver() -> TumourLesion {
    target("T1", "liver", 30.0)
}

/// A baseline on 1 March (T-DXd from 10 March) with CT slices of `slice_mm`.
fn baseline_sliced(slice_mm: f64, lesions: Vec<TumourLesion>) -> Command {
    Command::RecordBaselineTumourAssessment(RecordBaselineTumourAssessment {
        scan_date: day(3, 1),
        slice_thickness_mm: slice_mm,
        treatment_start: Some(day(3, 10)),
        lesions,
        corrects: None,
        correction_reason: None,
    })
}

fn baseline(lesions: Vec<TumourLesion>) -> Command {
    baseline_sliced(3.0, lesions)
}

fn run_with(p: Participant, cmds: &[Command], s: &Settings) -> (Participant, Vec<Event>) {
    match run_from(p, cmds, now(), s) {
        Ok(r) => r,
        Err((i, r)) => panic!("command {i} ({}) refused: {r}", cmds[i].name()),
    }
}

fn refused_with(cmds: &[Command], s: &Settings) -> Refusal {
    run_from(on_treatment(), cmds, now(), s)
        .expect_err("expected a refusal")
        .1
}

fn refused(cmds: &[Command]) -> Refusal {
    refused_with(cmds, &Settings::default())
}

fn recorded_with(cmds: &[Command], s: &Settings) -> TumourBaseline {
    let (p, _) = run_with(on_treatment(), cmds, s);
    p.tumour_baseline()
        .expect("baseline recorded")
        .value
        .clone()
}

fn recorded(cmds: &[Command]) -> TumourBaseline {
    recorded_with(cmds, &Settings::default())
}

#[test]
fn a_bone_lesion_is_a_target_only_through_a_soft_tissue_component_of_the_minimum_size() {
    let mut bone = target("B1", "bone", 25.0);
    bone.bone = Some(BoneLesion::WithoutSoftTissue);
    let r = refused(&[baseline(vec![liver(), bone.clone()])]);
    assert_eq!(r.rule, Rule::RECIST);
    assert!(r.message.contains("lesion B1 (bone)"), "{}", r.message);
    assert!(r.message.contains("not measurable"), "{}", r.message);
    assert!(
        r.message
            .contains("without an identifiable soft-tissue component"),
        "{}",
        r.message
    );
    assert!(r.hint.unwrap().contains("non-target"));

    // A blastic bone lesion is not measurable either.
    bone.bone = Some(BoneLesion::Blastic);
    let r = refused(&[baseline(vec![liver(), bone.clone()])]);
    assert!(r.message.contains("blastic"), "{}", r.message);

    // The same lesion is a valid non-target, and the qualifier is kept.
    bone.bone = Some(BoneLesion::WithoutSoftTissue);
    bone.role = Role::NonTarget;
    bone.diameter_mm = None;
    let b = recorded(&[baseline(vec![liver(), bone])]);
    assert_eq!(b.lesions[1].bone, Some(BoneLesion::WithoutSoftTissue));
    assert_eq!(b.lesions[1].role, Role::NonTarget);

    // With a 25 mm soft-tissue component it is a target; with an 8 mm one it is not.
    let mut soft = target("B1", "bone", 25.0);
    soft.bone = Some(BoneLesion::SoftTissueComponent);
    let b = recorded(&[baseline(vec![liver(), soft.clone()])]);
    assert_eq!(b.lesions[1].bone, Some(BoneLesion::SoftTissueComponent));
    soft.diameter_mm = Some(8.0);
    let r = refused(&[baseline(vec![liver(), soft])]);
    assert_eq!(r.rule, Rule::RECIST);
    assert!(
        r.message.contains("8.0 mm is below the 10.0 mm minimum"),
        "{}",
        r.message
    );
    assert!(r.message.contains("soft-tissue component"), "{}", r.message);
}

#[test]
fn a_cystic_metastasis_may_be_a_target_and_a_simple_cyst_is_no_lesion() {
    let mut cyst = target("C1", "liver", 30.0);
    cyst.cystic = Some(CysticLesion::CysticMetastasis);
    let b = recorded(&[baseline(vec![cyst.clone(), target("T2", "lung", 20.0)])]);
    assert_eq!(b.lesions[0].cystic, Some(CysticLesion::CysticMetastasis));

    // A simple cyst is not measurable as a target, and RECIST 1.1 §3.1.3 does not count it
    // as a lesion at all, so it is not a non-target either.
    cyst.cystic = Some(CysticLesion::SimpleCyst);
    let r = refused(&[baseline(vec![cyst.clone(), target("T2", "lung", 20.0)])]);
    assert_eq!(r.rule, Rule::RECIST);
    assert!(r.message.contains("lesion C1 (liver)"), "{}", r.message);
    assert!(r.message.contains("simple cyst"), "{}", r.message);
    cyst.role = Role::NonTarget;
    let r = refused(&[baseline(vec![cyst, target("T2", "lung", 20.0)])]);
    assert_eq!(r.rule, Rule::RECIST);
    assert!(r.message.contains("leave it out"), "{}", r.message);
}

#[test]
fn an_irradiated_lesion_is_a_target_only_after_progression_and_as_the_settings_allow() {
    let mut rt = target("R1", "lung", 22.0);
    rt.irradiated = true;
    let r = refused(&[baseline(vec![liver(), rt.clone()])]);
    assert_eq!(r.rule, Rule::RECIST);
    assert!(r.message.contains("lesion R1 (lung)"), "{}", r.message);
    assert!(r.message.contains("irradiated field"), "{}", r.message);

    // It may be a non-target.
    let mut nt = rt.clone();
    nt.role = Role::NonTarget;
    assert!(recorded(&[baseline(vec![liver(), nt])]).lesions[1].irradiated);

    // Progressed since: measurable by default (recist.irradiated_measurable_if_progressed).
    rt.progressed_after_irradiation = true;
    let b = recorded(&[baseline(vec![liver(), rt.clone()])]);
    assert!(b.lesions[1].progressed_after_irradiation);

    // A protocol that never accepts irradiated targets refuses it even so.
    let mut s = Settings::default();
    s.recist.irradiated_measurable_if_progressed = false;
    let r = refused_with(&[baseline(vec![liver(), rt])], &s);
    assert_eq!(r.rule, Rule::RECIST);
    assert!(
        r.message.contains("even after progression"),
        "{}",
        r.message
    );
}

#[test]
fn size_minima_come_from_the_settings() {
    // Longest diameter: 11 mm is measurable under RECIST's 10 mm, not under a 12 mm minimum.
    let eleven = || baseline(vec![target("T1", "liver", 11.0)]);
    recorded(&[eleven()]);
    let mut s = Settings::default();
    s.lesions.measurable_min_longest_mm = 12.0;
    let r = refused_with(&[eleven()], &s);
    assert_eq!(r.rule, Rule::RECIST);
    assert!(
        r.message.contains("11.0 mm is below the 12.0 mm minimum"),
        "{}",
        r.message
    );
    recorded_with(&[baseline(vec![target("T1", "liver", 12.0)])], &s);

    // Node short axis: 18 mm is measurable under 15 mm, not under 20 mm.
    let node = || {
        baseline(vec![TumourLesion::new(
            "N1",
            "axilla",
            true,
            Role::Target,
            Some(18.0),
        )])
    };
    recorded(&[node()]);
    let mut s = Settings::default();
    s.lesions.node_min_short_axis_mm = 20.0;
    let r = refused_with(&[node()], &s);
    assert!(
        r.message.contains("18.0 mm is below the 20.0 mm minimum"),
        "{}",
        r.message
    );

    // Twice the slice thickness above the fixed-minimum limit: 7 mm slices need 14 mm by
    // default (limit 5 mm); with the limit at 8 mm the 10 mm minimum holds.
    let thick = || baseline_sliced(7.0, vec![target("T1", "liver", 12.0)]);
    let r = refused(&[thick()]);
    assert!(
        r.message.contains("12.0 mm is below the 14.0 mm minimum"),
        "{}",
        r.message
    );
    let mut s = Settings::default();
    s.lesions.max_slice_for_fixed_minimum_mm = 8.0;
    recorded_with(&[thick()], &s);
}

/// One nodal target, 15 mm short axis at baseline: the response follows that node alone.
fn node_baseline() -> Command {
    baseline(vec![TumourLesion::new(
        "T1",
        "axillary node",
        true,
        Role::Target,
        Some(15.0),
    )])
}

fn node_at(date: NaiveDate, mm: f64) -> Command {
    Command::RecordTumourAssessment(RecordTumourAssessment {
        scan_date: date,
        targets: vec![TargetReading {
            lesion: "T1".into(),
            finding: TargetFinding::Measured,
            diameter_mm: Some(mm),
        }],
        non_targets: Vec::new(),
        new_lesions: NewLesions::No,
        corrects: None,
        correction_reason: None,
    })
}

fn evaluation(p: &Participant) -> &ResponseEvaluation {
    p.response_evaluation().expect("evaluated")
}

fn overall(e: &ResponseEvaluation) -> Vec<OverallResponse> {
    e.time_points.iter().map(|t| t.overall).collect()
}

#[test]
fn an_unconfirmed_cr_does_not_turn_a_later_sd_into_pd() {
    // 15 → 9 mm on 10 April (day 31: CR, too early to count as SD) → 11 mm on 12 May
    // (day 63: not PR from 15 mm, +2 mm over the 9 mm nadir is not PD: SD).
    let cmds = [
        node_baseline(),
        node_at(day(4, 10), 9.0),
        node_at(day(5, 12), 11.0),
    ];
    let mut s = Settings::default();
    s.recist.confirmation = true;
    let (p, events) = run_with(on_treatment(), &cmds, &s);
    let e = evaluation(&p);
    assert_eq!(
        overall(e),
        [
            OverallResponse::CompleteResponse,
            OverallResponse::StableDisease
        ]
    );
    assert_eq!(e.pd_after_cr, Some(PdAfterCr::AfterConfirmedCr));
    // The CR was never confirmed: the SD of 12 May stays SD (default reading).
    assert_eq!(e.best().response, OverallResponse::StableDisease);
    assert_eq!(e.best().date, Some(day(5, 12)));
    assert!(p.progression.is_none());
    assert!(!events.iter().any(|e| e.kind() == "progression_recorded"));
    assert_eq!(p.state, State::OnTreatment);

    // Table 3 as printed (after any CR) reads the SD as PD: kept as a setting.
    s.recist.pd_after_cr = PdAfterCr::AfterAnyCr;
    let (p, _) = run_with(on_treatment(), &cmds, &s);
    let e = evaluation(&p);
    assert_eq!(e.pd_after_cr, Some(PdAfterCr::AfterAnyCr));
    assert_eq!(e.best().response, OverallResponse::ProgressiveDisease);
    assert_eq!(e.best().date, Some(day(5, 12)));
    // Either way the time point itself is SD and no progression is recorded.
    assert_eq!(e.time_points[1].overall, OverallResponse::StableDisease);
    assert!(p.progression.is_none());
}

#[test]
fn a_nodal_target_back_at_10_mm_after_a_confirmed_cr_is_progression() {
    // CR on 10 April (9 mm), confirmed on 12 May (8 mm, 32 days later), then 10.0 mm on
    // 15 June: +2 mm over the nadir, no PD by the sum, but the node has reappeared.
    let (p, events) = run_with(
        on_treatment(),
        &[
            node_baseline(),
            node_at(day(4, 10), 9.0),
            node_at(day(5, 12), 8.0),
            node_at(day(6, 15), 10.0),
        ],
        &Settings::default(),
    );
    let e = evaluation(&p);
    assert_eq!(
        overall(e),
        [
            OverallResponse::CompleteResponse,
            OverallResponse::CompleteResponse,
            OverallResponse::ProgressiveDisease
        ]
    );
    let t = &e.time_points[2];
    assert_eq!(t.sum_mm, Some(10.0));
    assert_eq!(
        t.target,
        Some(protocol::recist::TargetResponse::ProgressiveDisease)
    );
    assert!(
        t.notes
            .iter()
            .any(|n| n.contains("node T1 is 10.0 mm short axis")
                && n.contains("confirmed since 2026-04-10")
                && n.contains("EORTC RECIST FAQ")),
        "{:?}",
        t.notes
    );
    let Some(Event::ProgressionRecorded { progression, .. }) = events.last() else {
        panic!("no progression recorded")
    };
    assert_eq!(progression.date, day(6, 15));
    assert_eq!(p.state, State::Progression);
    // The confirmed CR is the best response, with or without confirmation.
    assert_eq!(
        e.best_unconfirmed.response,
        OverallResponse::CompleteResponse
    );
    assert_eq!(e.best_confirmed.response, OverallResponse::CompleteResponse);
}

#[test]
fn a_node_back_above_10_mm_after_an_unconfirmed_cr_follows_the_ordinary_rules() {
    // One CR only (9 mm), then 11 mm: SD, no progression. 9.9 mm after a confirmed CR
    // is still normal: CR continues.
    let (p, _) = run_with(
        on_treatment(),
        &[
            node_baseline(),
            node_at(day(4, 10), 9.0),
            node_at(day(5, 12), 11.0),
        ],
        &Settings::default(),
    );
    assert_eq!(
        overall(evaluation(&p)),
        [
            OverallResponse::CompleteResponse,
            OverallResponse::StableDisease
        ]
    );
    assert!(p.progression.is_none());
    let (p, _) = run_with(
        on_treatment(),
        &[
            node_baseline(),
            node_at(day(4, 10), 9.0),
            node_at(day(5, 12), 8.0),
            node_at(day(6, 15), 9.9),
        ],
        &Settings::default(),
    );
    assert_eq!(
        evaluation(&p).time_points[2].overall,
        OverallResponse::CompleteResponse
    );
    assert!(p.progression.is_none());
}
