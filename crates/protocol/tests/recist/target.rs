//! Target lesion arithmetic through the engine: thresholds, nadir, nodes, missing
//! measurements, special measurement values, and new lesions (RECIST 1.1 §4.3).

use crate::support::{CaseBuilder, d, id, mm, overall};
use protocol::recist::{
    AssessmentData,
    NewLesions::{Equivocal, No, Yes},
    NonTargetStatus as S, OverallResponse as O, TargetMeasurement as M, TargetResponse as T,
    Tenths, evaluate,
};

fn target_responses(e: &protocol::recist::Evaluation) -> Vec<Option<T>> {
    e.time_points
        .iter()
        .map(|p| p.measured.as_ref().and_then(|m| m.target))
        .collect()
}

#[test]
fn exactly_thirty_percent_below_baseline_is_pr() {
    // Baseline 60 + 40 = 100 mm; 42 + 28 = 70 mm is exactly −30 %.
    let e = CaseBuilder::new()
        .target("T1", "liver", 60.0)
        .target("T2", "lung", 40.0)
        .visit("2025-03-01", &[("T1", mm(42.0)), ("T2", mm(28.0))], &[], No)
        .visit("2025-04-01", &[("T1", mm(42.1)), ("T2", mm(28.0))], &[], No)
        .evaluate();
    assert_eq!(
        target_responses(&e),
        [Some(T::PartialResponse), Some(T::StableDisease)]
    );
    let m = e.time_points[0].measured.as_ref().expect("measured");
    assert_eq!(m.sum, Some(Tenths::from_tenths(700)));
    assert_eq!(m.change_from_baseline_pct, Some(-30.0));
}

#[test]
fn thirty_percent_holds_where_floating_point_would_miss_it() {
    // 9.8 / 14.0, 9.8 <= 0.7 * 14.0 and (9.8 - 14.0) / 14.0 * 100 <= -30 are all false in
    // binary floating point, though 9.8 mm is exactly 30 % below 14 mm; likewise 23.1 / 33.
    for (base, now) in [(14.0, 9.8), (33.0, 23.1)] {
        let e = CaseBuilder::new()
            .target("T1", "liver", base)
            .visit("2025-03-01", &[("T1", mm(now))], &[], No)
            .evaluate();
        assert_eq!(
            target_responses(&e),
            [Some(T::PartialResponse)],
            "{base} -> {now}"
        );
        let pct = e.time_points[0]
            .measured
            .as_ref()
            .and_then(|m| m.change_from_baseline_pct);
        assert_eq!(pct, Some(-30.0));
    }
}

#[test]
fn twenty_percent_with_four_mm_is_not_progression_but_with_five_mm_is() {
    let four = CaseBuilder::new()
        .target("T1", "liver", 20.0)
        .visit("2025-03-01", &[("T1", mm(24.0))], &[], No)
        .evaluate();
    assert_eq!(target_responses(&four), [Some(T::StableDisease)]);
    assert_eq!(
        four.time_points[0]
            .measured
            .as_ref()
            .and_then(|m| m.change_from_nadir_pct),
        Some(20.0)
    );

    let five = CaseBuilder::new()
        .target("T1", "liver", 25.0)
        .visit("2025-03-01", &[("T1", mm(30.0))], &[], No)
        .evaluate();
    assert_eq!(target_responses(&five), [Some(T::ProgressiveDisease)]);
    assert_eq!(overall(&five), [O::ProgressiveDisease]);
}

#[test]
fn nadir_includes_the_baseline() {
    // Baseline 30; 34 is SD; 36 is +20 % and +6 mm over the baseline nadir of 30.
    let e = CaseBuilder::new()
        .target("T1", "liver", 30.0)
        .visit("2025-03-01", &[("T1", mm(34.0))], &[], No)
        .visit("2025-04-01", &[("T1", mm(36.0))], &[], No)
        .evaluate();
    assert_eq!(
        target_responses(&e),
        [Some(T::StableDisease), Some(T::ProgressiveDisease)]
    );
    let m = e.time_points[1].measured.as_ref().expect("measured");
    assert_eq!(m.nadir, Tenths::from_tenths(300));
}

#[test]
fn nadir_is_the_smallest_of_all_earlier_assessments() {
    // Baseline 50, then 40 (nadir), 45 (SD: +12.5 %), 48 (+20 % and +8 mm over 40: PD,
    // although 4 % below baseline).
    let e = CaseBuilder::new()
        .target("T1", "liver", 50.0)
        .visit("2025-03-01", &[("T1", mm(40.0))], &[], No)
        .visit("2025-04-01", &[("T1", mm(45.0))], &[], No)
        .visit("2025-05-01", &[("T1", mm(48.0))], &[], No)
        .evaluate();
    assert_eq!(
        target_responses(&e),
        [
            Some(T::StableDisease),
            Some(T::StableDisease),
            Some(T::ProgressiveDisease)
        ]
    );
    let m = e.time_points[2].measured.as_ref().expect("measured");
    assert_eq!(m.nadir, Tenths::from_tenths(400));
    assert_eq!(m.change_from_baseline_pct, Some(-4.0));
    assert_eq!(m.change_from_nadir_pct, Some(20.0));
}

#[test]
fn node_at_nine_mm_short_axis_allows_complete_response() {
    let e = CaseBuilder::new()
        .node_target("T1", 20.0)
        .target("T2", "liver", 30.0)
        .visit(
            "2025-03-01",
            &[("T1", mm(9.0)), ("T2", M::Disappeared)],
            &[],
            No,
        )
        .visit(
            "2025-04-01",
            &[("T1", mm(10.0)), ("T2", M::Disappeared)],
            &[],
            No,
        )
        .evaluate();
    // CR although the sum is 9 mm; at 10 mm the node is pathological again: PR.
    assert_eq!(
        target_responses(&e),
        [Some(T::CompleteResponse), Some(T::PartialResponse)]
    );
    assert_eq!(overall(&e), [O::CompleteResponse, O::PartialResponse]);
    let m = e.time_points[0].measured.as_ref().expect("measured");
    assert_eq!(m.sum, Some(Tenths::from_tenths(90)));
}

#[test]
fn a_target_not_evaluated_gives_ne_unless_the_others_show_progression() {
    let visit = |t1: f64| {
        CaseBuilder::new()
            .target("T1", "liver", 40.0)
            .target("T2", "lung", 20.0)
            .non_target("N1", "bone")
            .visit(
                "2025-03-01",
                &[("T1", mm(t1)), ("T2", M::NotEvaluated)],
                &[("N1", S::Present)],
                No,
            )
            .evaluate()
    };
    // 80 mm measured alone is already +33 % and +20 mm over 60: PD whatever T2 is.
    let pd = visit(80.0);
    assert_eq!(target_responses(&pd), [Some(T::ProgressiveDisease)]);
    assert_eq!(overall(&pd), [O::ProgressiveDisease]);
    assert_eq!(
        pd.time_points[0].measured.as_ref().and_then(|m| m.sum),
        None
    );
    // 60 mm measured could be anything with T2: NE.
    let ne = visit(60.0);
    assert_eq!(target_responses(&ne), [Some(T::NotEvaluable)]);
    assert_eq!(overall(&ne), [O::NotEvaluable]);
}

#[test]
fn incomplete_sums_do_not_set_the_nadir() {
    // The NE visit measured only T1 (10 mm); the nadir stays at the baseline 60 mm, so
    // 65 mm later is SD, not PD.
    let e = CaseBuilder::new()
        .target("T1", "liver", 40.0)
        .target("T2", "lung", 20.0)
        .visit(
            "2025-03-01",
            &[("T1", mm(10.0)), ("T2", M::NotEvaluated)],
            &[],
            No,
        )
        .visit("2025-04-01", &[("T1", mm(45.0)), ("T2", mm(20.0))], &[], No)
        .evaluate();
    assert_eq!(
        target_responses(&e),
        [Some(T::NotEvaluable), Some(T::StableDisease)]
    );
}

#[test]
fn too_small_counts_five_mm_and_a_measured_value_is_kept() {
    let e = CaseBuilder::new()
        .target("T1", "liver", 20.0)
        .target("T2", "lung", 20.0)
        .visit(
            "2025-03-01",
            &[("T1", M::TooSmall), ("T2", mm(3.0))],
            &[],
            No,
        )
        .evaluate();
    let m = e.time_points[0].measured.as_ref().expect("measured");
    assert_eq!(m.sum, Some(Tenths::from_tenths(80)));
    // Lesions still present: PR, not CR.
    assert_eq!(m.target, Some(T::PartialResponse));
}

#[test]
fn reappearance_after_complete_response_is_progression_from_a_zero_nadir() {
    let e = CaseBuilder::new()
        .target("T1", "liver", 20.0)
        .visit("2025-03-01", &[("T1", M::Disappeared)], &[], No)
        .visit("2025-04-01", &[("T1", mm(4.9))], &[], No)
        .visit("2025-05-01", &[("T1", mm(5.0))], &[], No)
        .evaluate();
    assert_eq!(
        target_responses(&e),
        [
            Some(T::CompleteResponse),
            Some(T::PartialResponse),
            Some(T::ProgressiveDisease)
        ]
    );
    // No percentage from a zero nadir.
    assert_eq!(
        e.time_points[1]
            .measured
            .as_ref()
            .and_then(|m| m.change_from_nadir_pct),
        None
    );
}

#[test]
fn split_lesions_add_their_fragments() {
    let e = CaseBuilder::new()
        .target("T1", "liver", 40.0)
        .visit(
            "2025-03-01",
            &[(
                "T1",
                M::Fragments(vec![Tenths::from_tenths(150), Tenths::from_tenths(100)]),
            )],
            &[],
            No,
        )
        .evaluate();
    let m = e.time_points[0].measured.as_ref().expect("measured");
    assert_eq!(m.sum, Some(Tenths::from_tenths(250)));
    assert_eq!(m.target, Some(T::PartialResponse));
}

#[test]
fn coalesced_lesions_are_measured_as_one() {
    let e = CaseBuilder::new()
        .target("T1", "liver", 30.0)
        .target("T2", "liver", 20.0)
        .visit(
            "2025-03-01",
            &[("T1", M::CoalescedInto(id("T2"))), ("T2", mm(45.0))],
            &[],
            No,
        )
        .evaluate();
    let m = e.time_points[0].measured.as_ref().expect("measured");
    assert_eq!(m.sum, Some(Tenths::from_tenths(450)));
    assert_eq!(m.target, Some(T::StableDisease));
}

#[test]
fn coalescing_into_a_missing_or_vanished_lesion_is_an_error() {
    let case = CaseBuilder::new()
        .target("T1", "liver", 30.0)
        .target("T2", "liver", 20.0)
        .visit(
            "2025-03-01",
            &[("T1", M::CoalescedInto(id("T2"))), ("T2", M::Disappeared)],
            &[],
            No,
        )
        .build();
    let errors = evaluate(&case).expect_err("rule error");
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].path, "assessments[0].targets.T1");
}

#[test]
fn a_confirmed_equivocal_new_lesion_dates_progression_to_the_first_scan() {
    let e = CaseBuilder::new()
        .target("T1", "liver", 40.0)
        .visit("2025-03-01", &[("T1", mm(38.0))], &[], Equivocal)
        .visit("2025-04-01", &[("T1", mm(37.0))], &[], Yes)
        .evaluate();
    assert_eq!(overall(&e), [O::ProgressiveDisease, O::ProgressiveDisease]);
    assert_eq!(e.best.response, O::ProgressiveDisease);
    assert_eq!(e.best.date, Some(d("2025-03-01")));
    assert!(
        e.time_points[0].notes[0].contains("2025-04-01"),
        "{:?}",
        e.time_points[0].notes
    );
}

#[test]
fn an_equivocal_new_lesion_that_is_not_confirmed_is_not_progression() {
    let e = CaseBuilder::new()
        .target("T1", "liver", 40.0)
        .visit("2025-03-01", &[("T1", mm(38.0))], &[], Equivocal)
        .visit("2025-04-01", &[("T1", mm(37.0))], &[], No)
        .evaluate();
    assert_eq!(overall(&e), [O::StableDisease, O::StableDisease]);
}

#[test]
fn reported_and_measured_time_points_mix() {
    let e = CaseBuilder::new()
        .target("T1", "liver", 40.0)
        .reported("2025-03-01", O::PartialResponse)
        .visit("2025-04-01", &[("T1", mm(20.0))], &[], No)
        .evaluate();
    assert!(e.time_points[0].measured.is_none());
    assert_eq!(overall(&e), [O::PartialResponse, O::PartialResponse]);
    // A reported time point has no sum, so it does not move the nadir.
    let m = e.time_points[1].measured.as_ref().expect("measured");
    assert_eq!(m.nadir, Tenths::from_tenths(400));
}

#[test]
fn assessment_rules_are_all_reported() {
    let mut case = CaseBuilder::new()
        .target("T1", "liver", 40.0)
        .non_target("N1", "bone")
        .visit("2025-04-01", &[("T9", mm(20.0))], &[("T1", S::Present)], No)
        .visit("2025-03-01", &[("T1", mm(20.0))], &[("N1", S::Present)], No)
        .reported("2025-05-01", O::NonCrNonPd)
        .build();
    let errors = evaluate(&case).expect_err("rule errors");
    let paths: Vec<&str> = errors.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "assessments[0].targets",
            "assessments[0].non_targets",
            "assessments[0].targets.T9",
            "assessments[0].non_targets.T1",
            "assessments[1].date",
            "assessments[2].overall_response",
        ]
    );
    // A visit before treatment start is out of order too.
    case.assessments.truncate(1);
    case.assessments[0].date = d("2025-01-05");
    if let AssessmentData::Measured(m) = &mut case.assessments[0].data {
        m.targets.clear();
        m.targets.insert(id("T1"), mm(20.0));
        m.non_targets.clear();
        m.non_targets.insert(id("N1"), S::Present);
    }
    let errors = evaluate(&case).expect_err("rule errors");
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].path, "assessments[0].date");
}

#[test]
fn a_target_that_reappears_after_a_confirmed_cr_is_progression() {
    // Node 15 → 9 mm (CR) → 8 mm 28 days later (confirmed) → 10 mm: +2 mm over the nadir,
    // but the node is back (EORTC RECIST FAQ). The liver target back at 3 mm likewise.
    let e = CaseBuilder::new()
        .node_target("N1", 15.0)
        .target("T1", "liver", 20.0)
        .visit(
            "2025-03-07",
            &[("N1", mm(9.0)), ("T1", M::Disappeared)],
            &[],
            No,
        )
        .visit(
            "2025-04-04",
            &[("N1", mm(8.0)), ("T1", M::Disappeared)],
            &[],
            No,
        )
        .visit(
            "2025-05-02",
            &[("N1", mm(10.0)), ("T1", M::Disappeared)],
            &[],
            No,
        )
        .evaluate();
    assert_eq!(
        overall(&e),
        [
            O::CompleteResponse,
            O::CompleteResponse,
            O::ProgressiveDisease
        ]
    );
    let m = e.time_points[2].measured.as_ref().expect("measured");
    assert_eq!(m.target, Some(T::ProgressiveDisease));
    assert!(e.time_points[2].notes[0].contains("node N1 is 10.0 mm"));
    let e = CaseBuilder::new()
        .node_target("N1", 15.0)
        .target("T1", "liver", 20.0)
        .visit(
            "2025-03-07",
            &[("N1", mm(9.0)), ("T1", M::Disappeared)],
            &[],
            No,
        )
        .visit(
            "2025-04-04",
            &[("N1", mm(8.0)), ("T1", M::Disappeared)],
            &[],
            No,
        )
        .visit("2025-05-02", &[("N1", mm(8.0)), ("T1", mm(3.0))], &[], No)
        .evaluate();
    assert_eq!(e.time_points[2].overall, O::ProgressiveDisease);
    assert!(e.time_points[2].notes[0].contains("T1 is visible again (3.0 mm)"));
    // 27 days between the CRs is no confirmation: 10 mm is then PR (10 of 35 mm).
    let e = CaseBuilder::new()
        .node_target("N1", 15.0)
        .target("T1", "liver", 20.0)
        .visit(
            "2025-03-07",
            &[("N1", mm(9.0)), ("T1", M::Disappeared)],
            &[],
            No,
        )
        .visit(
            "2025-04-03",
            &[("N1", mm(8.0)), ("T1", M::Disappeared)],
            &[],
            No,
        )
        .visit(
            "2025-05-02",
            &[("N1", mm(10.0)), ("T1", M::Disappeared)],
            &[],
            No,
        )
        .evaluate();
    assert_eq!(e.time_points[2].overall, O::PartialResponse);
    assert!(e.time_points[2].notes.is_empty());
}
