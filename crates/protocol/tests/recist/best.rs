//! Best overall response: RECIST 1.1 Table 3 (with confirmation) row by row, and the
//! unconfirmed best response with its SD duration rule (§4.4.3, §4.6).

use crate::support::{CaseBuilder, START, d};
use protocol::recist::{
    BestOverallResponse, BestResponseRules, OverallResponse as O, PdAfterCr, best_overall_response,
};

/// Best response of a patient with target disease, time points given as (date, response).
fn best(confirmation: bool, points: &[(&str, O)]) -> BestOverallResponse {
    let mut b = CaseBuilder::new()
        .target("T1", "liver", 40.0)
        .confirmation(confirmation);
    for (date, r) in points {
        b = b.reported(date, *r);
    }
    b.evaluate().best
}

fn is(response: O, date: &str) -> BestOverallResponse {
    BestOverallResponse {
        response,
        date: Some(d(date)),
    }
}

const NE: BestOverallResponse = BestOverallResponse {
    response: O::NotEvaluable,
    date: None,
};

// Day 56 and day 84 after treatment start (2025-01-10): SD duration (42 days) met at the
// first time point, confirmation interval (28 days) met at the second.
const LATE: &str = "2025-03-07";
const LATE2: &str = "2025-04-04";
// Day 30 and day 58: the first time point is too early for SD.
const EARLY: &str = "2025-02-09";
const EARLY2: &str = "2025-03-09";

#[test]
fn table3_cr_then_cr_is_cr() {
    let b = best(
        true,
        &[(LATE, O::CompleteResponse), (LATE2, O::CompleteResponse)],
    );
    assert_eq!(b, is(O::CompleteResponse, LATE));
}

/// Best response with confirmation under a reading of Table 3 note a.
fn best_reading(pd_after_cr: PdAfterCr, points: &[(&str, O)]) -> BestOverallResponse {
    let rules = BestResponseRules {
        confirmation: true,
        pd_after_cr,
        ..BestResponseRules::default()
    };
    let points: Vec<_> = points.iter().map(|(date, r)| (d(date), *r)).collect();
    best_overall_response(d(START), &points, &rules, true)
}

// The rows "CR then PR" and "CR then SD" of Table 3 as printed read note a after any CR:
// `PdAfterCr::AfterAnyCr`. The engine's default since version 1.1 applies note a only after
// a confirmed CR (an unconfirmed CR may have been a PR, EORTC RECIST FAQ), so the later PR
// or SD stays what it is and counts as SD once the SD duration is met; that changes the
// early variants only (PD → SD), asserted beside the printed table.

#[test]
fn table3_cr_then_pr_is_sd_or_pd() {
    // Disease seen after a true CR is progression (Table 3 footnote a).
    let late = [(LATE, O::CompleteResponse), (LATE2, O::PartialResponse)];
    let early = [(EARLY, O::CompleteResponse), (EARLY2, O::PartialResponse)];
    assert_eq!(
        best_reading(PdAfterCr::AfterAnyCr, &late),
        is(O::StableDisease, LATE)
    );
    assert_eq!(
        best_reading(PdAfterCr::AfterAnyCr, &early),
        is(O::ProgressiveDisease, EARLY2)
    );
    // Default: the CR was never confirmed, so the PR on day 58 is not PD.
    assert_eq!(best(true, &late), is(O::StableDisease, LATE));
    assert_eq!(best(true, &early), is(O::StableDisease, EARLY2));
}

#[test]
fn table3_cr_then_sd_is_sd_if_duration_met_else_pd() {
    let late = [(LATE, O::CompleteResponse), (LATE2, O::StableDisease)];
    let early = [(EARLY, O::CompleteResponse), (EARLY2, O::StableDisease)];
    assert_eq!(
        best_reading(PdAfterCr::AfterAnyCr, &late),
        is(O::StableDisease, LATE)
    );
    assert_eq!(
        best_reading(PdAfterCr::AfterAnyCr, &early),
        is(O::ProgressiveDisease, EARLY2)
    );
    // Default: the unconfirmed CR does not make the SD on day 58 into PD.
    assert_eq!(best(true, &late), is(O::StableDisease, LATE));
    assert_eq!(best(true, &early), is(O::StableDisease, EARLY2));
}

#[test]
fn note_a_after_a_confirmed_cr_reads_later_disease_as_pd_under_both_readings() {
    // CR confirmed 28 days later, then SD: the best response stays the confirmed CR, and
    // nothing after the SD (read as PD) counts.
    let points = [
        (EARLY, O::CompleteResponse),
        (EARLY2, O::CompleteResponse),
        ("2025-04-06", O::StableDisease),
        ("2025-05-04", O::PartialResponse),
    ];
    for reading in [PdAfterCr::AfterConfirmedCr, PdAfterCr::AfterAnyCr] {
        assert_eq!(
            best_reading(reading, &points),
            is(O::CompleteResponse, EARLY),
            "{reading:?}"
        );
    }
}

#[test]
fn table3_cr_then_pd_is_sd_if_duration_met_else_pd() {
    let b = best(
        true,
        &[(LATE, O::CompleteResponse), (LATE2, O::ProgressiveDisease)],
    );
    assert_eq!(b, is(O::StableDisease, LATE));
    let b = best(
        true,
        &[
            (EARLY, O::CompleteResponse),
            (EARLY2, O::ProgressiveDisease),
        ],
    );
    assert_eq!(b, is(O::ProgressiveDisease, EARLY2));
}

#[test]
fn table3_cr_then_ne_is_sd_if_duration_met_else_ne() {
    let b = best(
        true,
        &[(LATE, O::CompleteResponse), (LATE2, O::NotEvaluable)],
    );
    assert_eq!(b, is(O::StableDisease, LATE));
    let b = best(
        true,
        &[(EARLY, O::CompleteResponse), (EARLY2, O::NotEvaluable)],
    );
    assert_eq!(b, NE);
}

#[test]
fn table3_pr_then_cr_is_pr() {
    let b = best(
        true,
        &[(LATE, O::PartialResponse), (LATE2, O::CompleteResponse)],
    );
    assert_eq!(b, is(O::PartialResponse, LATE));
}

#[test]
fn table3_pr_then_pr_is_pr() {
    let b = best(
        true,
        &[(LATE, O::PartialResponse), (LATE2, O::PartialResponse)],
    );
    assert_eq!(b, is(O::PartialResponse, LATE));
}

#[test]
fn table3_pr_then_sd_is_sd() {
    let b = best(
        true,
        &[(LATE, O::PartialResponse), (LATE2, O::StableDisease)],
    );
    assert_eq!(b, is(O::StableDisease, LATE));
}

#[test]
fn table3_pr_then_pd_is_sd_if_duration_met_else_pd() {
    let b = best(
        true,
        &[(LATE, O::PartialResponse), (LATE2, O::ProgressiveDisease)],
    );
    assert_eq!(b, is(O::StableDisease, LATE));
    let b = best(
        true,
        &[(EARLY, O::PartialResponse), (EARLY2, O::ProgressiveDisease)],
    );
    assert_eq!(b, is(O::ProgressiveDisease, EARLY2));
}

#[test]
fn table3_pr_then_ne_is_sd_if_duration_met_else_ne() {
    let b = best(
        true,
        &[(LATE, O::PartialResponse), (LATE2, O::NotEvaluable)],
    );
    assert_eq!(b, is(O::StableDisease, LATE));
    let b = best(
        true,
        &[(EARLY, O::PartialResponse), (EARLY2, O::NotEvaluable)],
    );
    assert_eq!(b, NE);
}

#[test]
fn table3_ne_then_ne_is_ne() {
    assert_eq!(
        best(true, &[(LATE, O::NotEvaluable), (LATE2, O::NotEvaluable)]),
        NE
    );
}

#[test]
fn confirmation_needs_the_minimum_interval() {
    // 27 days apart: not confirmed, so SD (day 56 meets the SD duration).
    let b = best(
        true,
        &[
            (LATE, O::PartialResponse),
            ("2025-04-03", O::PartialResponse),
        ],
    );
    assert_eq!(b, is(O::StableDisease, LATE));
    // The interval is a setting: 21 days confirms the same pair.
    let rules = BestResponseRules {
        confirmation: true,
        confirm_min_days: 21,
        sd_min_days: 42,
        ..BestResponseRules::default()
    };
    let points = [
        (d(LATE), O::PartialResponse),
        (d("2025-04-03"), O::PartialResponse),
    ];
    assert_eq!(
        best_overall_response(d(START), &points, &rules, true),
        is(O::PartialResponse, LATE)
    );
}

#[test]
fn confirmation_may_skip_an_inevaluable_scan_but_not_stable_disease() {
    let b = best(
        true,
        &[
            (LATE, O::PartialResponse),
            ("2025-03-21", O::NotEvaluable),
            (LATE2, O::PartialResponse),
        ],
    );
    assert_eq!(b, is(O::PartialResponse, LATE));
    let b = best(
        true,
        &[
            (LATE, O::PartialResponse),
            ("2025-03-21", O::StableDisease),
            (LATE2, O::PartialResponse),
        ],
    );
    assert_eq!(b, is(O::StableDisease, LATE));
}

#[test]
fn unconfirmed_best_is_the_best_time_point_before_progression() {
    let b = best(
        false,
        &[
            (LATE, O::StableDisease),
            (LATE2, O::PartialResponse),
            ("2025-05-02", O::ProgressiveDisease),
        ],
    );
    assert_eq!(b, is(O::PartialResponse, LATE2));
    // A single CR counts without confirmation.
    assert_eq!(
        best(false, &[(EARLY, O::CompleteResponse)]),
        is(O::CompleteResponse, EARLY)
    );
    // Responses after the first PD do not count.
    let b = best(
        false,
        &[(LATE, O::ProgressiveDisease), (LATE2, O::PartialResponse)],
    );
    assert_eq!(b, is(O::ProgressiveDisease, LATE));
}

#[test]
fn stable_disease_needs_42_days_from_treatment_start() {
    // Day 42 exactly counts, day 41 does not.
    assert_eq!(
        best(false, &[("2025-02-21", O::StableDisease)]),
        is(O::StableDisease, "2025-02-21")
    );
    assert_eq!(best(false, &[("2025-02-20", O::StableDisease)]), NE);
    // Too-early SD followed by PD is PD; followed by nothing it is NE (§4.4.3).
    let b = best(
        false,
        &[(EARLY, O::StableDisease), (EARLY2, O::ProgressiveDisease)],
    );
    assert_eq!(b, is(O::ProgressiveDisease, EARLY2));
    // The minimum is a setting.
    let rules = BestResponseRules {
        confirmation: false,
        confirm_min_days: 28,
        sd_min_days: 56,
        ..BestResponseRules::default()
    };
    let points = [
        (d("2025-03-06"), O::StableDisease),
        (d(LATE), O::StableDisease),
    ];
    assert_eq!(
        best_overall_response(d(START), &points, &rules, true),
        is(O::StableDisease, LATE)
    );
}

#[test]
fn non_target_only_disease_is_best_non_cr_non_pd() {
    let e = CaseBuilder::new()
        .non_target("N1", "bone")
        .reported(EARLY, O::NonCrNonPd)
        .reported(LATE2, O::NonCrNonPd)
        .evaluate();
    assert_eq!(e.best, is(O::NonCrNonPd, LATE2));
    // An unconfirmed CR of non-target disease falls back to NON_CR_NON_PD, not SD.
    let e = CaseBuilder::new()
        .non_target("N1", "bone")
        .confirmation(true)
        .reported(LATE, O::CompleteResponse)
        .reported(LATE2, O::NotEvaluable)
        .evaluate();
    assert_eq!(e.best, is(O::NonCrNonPd, LATE));
}
