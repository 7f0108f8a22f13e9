//! RECIST 1.1 Table 1 (target ± non-target) and Table 2 (non-target only), row by row:
//! once on the table functions and once through the engine from lesion findings.

use crate::support::{CaseBuilder, mm};
use protocol::recist::{
    NewLesions::{self, Equivocal, No, Yes},
    NonTargetResponse as N, NonTargetStatus as S, OverallResponse as O, TargetMeasurement as M,
    TargetResponse as T, table1, table2,
};

const ALL_T: [T; 5] = [
    T::CompleteResponse,
    T::PartialResponse,
    T::StableDisease,
    T::ProgressiveDisease,
    T::NotEvaluable,
];
const ALL_N: [Option<N>; 5] = [
    None,
    Some(N::CompleteResponse),
    Some(N::NonCrNonPd),
    Some(N::ProgressiveDisease),
    Some(N::NotEvaluable),
];

#[test]
fn table1_row_cr_cr_no_is_cr() {
    assert_eq!(
        table1(T::CompleteResponse, Some(N::CompleteResponse), false),
        O::CompleteResponse
    );
    // Without non-target lesions, CR of the targets is CR overall.
    assert_eq!(
        table1(T::CompleteResponse, None, false),
        O::CompleteResponse
    );
}

#[test]
fn table1_row_cr_non_cr_non_pd_no_is_pr() {
    assert_eq!(
        table1(T::CompleteResponse, Some(N::NonCrNonPd), false),
        O::PartialResponse
    );
}

#[test]
fn table1_row_cr_not_evaluated_no_is_pr() {
    assert_eq!(
        table1(T::CompleteResponse, Some(N::NotEvaluable), false),
        O::PartialResponse
    );
}

#[test]
fn table1_row_pr_non_pd_or_not_all_evaluated_no_is_pr() {
    for n in [
        None,
        Some(N::CompleteResponse),
        Some(N::NonCrNonPd),
        Some(N::NotEvaluable),
    ] {
        assert_eq!(
            table1(T::PartialResponse, n, false),
            O::PartialResponse,
            "{n:?}"
        );
    }
}

#[test]
fn table1_row_sd_non_pd_or_not_all_evaluated_no_is_sd() {
    for n in [
        None,
        Some(N::CompleteResponse),
        Some(N::NonCrNonPd),
        Some(N::NotEvaluable),
    ] {
        assert_eq!(
            table1(T::StableDisease, n, false),
            O::StableDisease,
            "{n:?}"
        );
    }
}

#[test]
fn table1_row_not_all_evaluated_non_pd_no_is_ne() {
    for n in [
        None,
        Some(N::CompleteResponse),
        Some(N::NonCrNonPd),
        Some(N::NotEvaluable),
    ] {
        assert_eq!(table1(T::NotEvaluable, n, false), O::NotEvaluable, "{n:?}");
    }
}

#[test]
fn table1_row_pd_any_any_is_pd() {
    for n in ALL_N {
        for new in [false, true] {
            assert_eq!(table1(T::ProgressiveDisease, n, new), O::ProgressiveDisease);
        }
    }
}

#[test]
fn table1_row_any_pd_any_is_pd() {
    for t in ALL_T {
        for new in [false, true] {
            assert_eq!(
                table1(t, Some(N::ProgressiveDisease), new),
                O::ProgressiveDisease
            );
        }
    }
}

#[test]
fn table1_row_any_any_yes_is_pd() {
    for t in ALL_T {
        for n in ALL_N {
            assert_eq!(table1(t, n, true), O::ProgressiveDisease, "{t:?} {n:?}");
        }
    }
}

#[test]
fn table2_rows() {
    assert_eq!(table2(N::CompleteResponse, false), O::CompleteResponse);
    assert_eq!(table2(N::NonCrNonPd, false), O::NonCrNonPd);
    assert_eq!(table2(N::NotEvaluable, false), O::NotEvaluable);
    assert_eq!(table2(N::ProgressiveDisease, false), O::ProgressiveDisease);
    assert_eq!(table2(N::ProgressiveDisease, true), O::ProgressiveDisease);
    for n in [
        N::CompleteResponse,
        N::NonCrNonPd,
        N::NotEvaluable,
        N::ProgressiveDisease,
    ] {
        assert_eq!(table2(n, true), O::ProgressiveDisease, "{n:?}");
    }
}

/// One visit of a patient with targets T1 (liver 40 mm) and T2 (lung 20 mm), baseline
/// sum 60 mm, and non-target N1 (bone).
fn table1_visit(t1: M, t2: M, n1: S, new: NewLesions) -> (Option<T>, Option<N>, O) {
    let e = CaseBuilder::new()
        .target("T1", "liver", 40.0)
        .target("T2", "lung", 20.0)
        .non_target("N1", "bone")
        .visit("2025-03-10", &[("T1", t1), ("T2", t2)], &[("N1", n1)], new)
        .evaluate();
    let p = &e.time_points[0];
    let m = p.measured.as_ref().expect("measured");
    (m.target, m.non_target, p.overall)
}

#[test]
fn engine_table1_rows_from_findings() {
    use M::{Disappeared, NotEvaluated};
    let cr = || (Disappeared, Disappeared);
    let cases = [
        // (T1, T2, N1, new) → (target, non-target, overall); sums vs baseline 60 mm.
        (
            cr(),
            S::Absent,
            No,
            T::CompleteResponse,
            N::CompleteResponse,
            O::CompleteResponse,
        ),
        (
            cr(),
            S::Present,
            No,
            T::CompleteResponse,
            N::NonCrNonPd,
            O::PartialResponse,
        ),
        (
            cr(),
            S::NotEvaluated,
            No,
            T::CompleteResponse,
            N::NotEvaluable,
            O::PartialResponse,
        ),
        (
            (mm(28.0), mm(14.0)),
            S::Present,
            No,
            T::PartialResponse,
            N::NonCrNonPd,
            O::PartialResponse,
        ),
        (
            (mm(28.0), mm(14.0)),
            S::NotEvaluated,
            No,
            T::PartialResponse,
            N::NotEvaluable,
            O::PartialResponse,
        ),
        (
            (mm(38.0), mm(20.0)),
            S::Present,
            No,
            T::StableDisease,
            N::NonCrNonPd,
            O::StableDisease,
        ),
        (
            (mm(38.0), mm(20.0)),
            S::NotEvaluated,
            No,
            T::StableDisease,
            N::NotEvaluable,
            O::StableDisease,
        ),
        (
            (mm(38.0), NotEvaluated),
            S::Present,
            No,
            T::NotEvaluable,
            N::NonCrNonPd,
            O::NotEvaluable,
        ),
        (
            (mm(52.0), mm(25.0)),
            S::Present,
            No,
            T::ProgressiveDisease,
            N::NonCrNonPd,
            O::ProgressiveDisease,
        ),
        (
            (mm(30.0), mm(15.0)),
            S::UnequivocalProgression,
            No,
            T::StableDisease,
            N::ProgressiveDisease,
            O::ProgressiveDisease,
        ),
        (
            (mm(20.0), mm(10.0)),
            S::Present,
            Yes,
            T::PartialResponse,
            N::NonCrNonPd,
            O::ProgressiveDisease,
        ),
        // An equivocal new lesion is not progression on its own (RECIST 1.1 §4.3.5).
        (
            (mm(20.0), mm(10.0)),
            S::Present,
            Equivocal,
            T::PartialResponse,
            N::NonCrNonPd,
            O::PartialResponse,
        ),
    ];
    for ((t1, t2), n1, new, target, non_target, overall) in cases {
        let got = table1_visit(t1.clone(), t2.clone(), n1, new);
        assert_eq!(
            got,
            (Some(target), Some(non_target), overall),
            "{t1:?} {t2:?} {n1:?} {new:?}"
        );
    }
}

#[test]
fn engine_table2_rows_from_findings() {
    let visit = |n1: S, n2: S, new: NewLesions| {
        let e = CaseBuilder::new()
            .non_target("N1", "bone")
            .non_target("N2", "pleura")
            .visit("2025-03-10", &[], &[("N1", n1), ("N2", n2)], new)
            .evaluate();
        let m = e.time_points[0].measured.clone().expect("measured");
        (m.target, m.non_target, e.time_points[0].overall)
    };
    assert_eq!(
        visit(S::Absent, S::Absent, No),
        (None, Some(N::CompleteResponse), O::CompleteResponse)
    );
    assert_eq!(
        visit(S::Absent, S::Present, No),
        (None, Some(N::NonCrNonPd), O::NonCrNonPd)
    );
    assert_eq!(
        visit(S::Present, S::NotEvaluated, No),
        (None, Some(N::NotEvaluable), O::NotEvaluable)
    );
    assert_eq!(
        visit(S::UnequivocalProgression, S::NotEvaluated, No),
        (None, Some(N::ProgressiveDisease), O::ProgressiveDisease)
    );
    assert_eq!(
        visit(S::Absent, S::Absent, Yes),
        (None, Some(N::CompleteResponse), O::ProgressiveDisease)
    );
}
