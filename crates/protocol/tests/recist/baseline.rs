//! Baseline rules: measurability (RECIST 1.1 §3.1) and target selection (§4.2).

use crate::support::{d, id};
use protocol::recist::baseline::{Measurability, measurability, minimum_measurable};
use protocol::recist::{
    Baseline, BaselineLesion, BoneLesion, CysticLesion, Role, RuleError, Tenths,
};

fn t(mm: f64) -> Option<Tenths> {
    Some(Tenths::from_mm(mm).expect("test length"))
}

fn target(name: &str, organ: &str, mm: f64) -> BaselineLesion {
    BaselineLesion::new(id(name), organ, false, Role::Target, t(mm))
}

fn node(name: &str, role: Role, mm: f64) -> BaselineLesion {
    BaselineLesion::new(id(name), "lymph node", true, role, t(mm))
}

fn check(slice_mm: f64, lesions: Vec<BaselineLesion>) -> Result<Baseline, Vec<RuleError>> {
    Baseline::new(
        d("2025-01-03"),
        Tenths::from_mm(slice_mm).expect("slice"),
        lesions,
    )
}

fn messages(r: Result<Baseline, Vec<RuleError>>) -> Vec<String> {
    r.expect_err("rule errors")
        .iter()
        .map(|e| e.to_string())
        .collect()
}

#[test]
fn ten_mm_is_measurable_and_nine_point_nine_is_not() {
    assert!(check(5.0, vec![target("T1", "liver", 10.0)]).is_ok());
    let m = messages(check(5.0, vec![target("T1", "liver", 9.9)]));
    assert_eq!(m.len(), 1);
    assert!(
        m[0].starts_with("baseline.lesions[0].diameter_mm: not measurable"),
        "{m:?}"
    );
}

#[test]
fn thick_slices_raise_the_minimum_to_twice_the_slice_thickness() {
    let slice = Tenths::from_tenths(80);
    assert_eq!(minimum_measurable(false, slice), Tenths::from_tenths(160));
    assert_eq!(
        minimum_measurable(false, Tenths::from_tenths(50)),
        Tenths::from_tenths(100)
    );
    assert!(check(8.0, vec![target("T1", "liver", 16.0)]).is_ok());
    assert!(check(8.0, vec![target("T1", "liver", 15.9)]).is_err());
}

#[test]
fn lymph_nodes_by_short_axis() {
    // ≥ 15 mm: measurable target.
    assert!(check(5.0, vec![node("T1", Role::Target, 15.0)]).is_ok());
    // 10–15 mm: pathological but non-measurable, so non-target only.
    assert!(check(5.0, vec![node("T1", Role::Target, 14.9)]).is_err());
    assert!(check(5.0, vec![node("N1", Role::NonTarget, 12.0)]).is_ok());
    // < 10 mm: normal, not a lesion at all.
    let m = messages(check(5.0, vec![node("N1", Role::NonTarget, 9.9)]));
    assert!(m[0].contains("normal"), "{m:?}");
}

#[test]
fn bone_cystic_and_irradiated_lesions() {
    let slice = Tenths::from_tenths(50);
    let mut bone = target("T1", "bone", 25.0);
    bone.bone = Some(BoneLesion::SoftTissueComponent);
    assert_eq!(measurability(&bone, slice), Measurability::Measurable);
    bone.bone = Some(BoneLesion::Blastic);
    assert!(matches!(
        measurability(&bone, slice),
        Measurability::NonMeasurable(_)
    ));
    bone.bone = Some(BoneLesion::WithoutSoftTissue);
    assert!(check(5.0, vec![bone]).is_err());

    let mut cyst = target("T1", "liver", 30.0);
    cyst.cystic = Some(CysticLesion::SimpleCyst);
    assert!(matches!(
        measurability(&cyst, slice),
        Measurability::NotALesion(_)
    ));
    cyst.cystic = Some(CysticLesion::CysticMetastasis);
    assert_eq!(measurability(&cyst, slice), Measurability::Measurable);

    let mut irradiated = target("T1", "lung", 30.0);
    irradiated.irradiated = true;
    assert!(check(5.0, vec![irradiated.clone()]).is_err());
    irradiated.progressed_after_irradiation = true;
    assert!(check(5.0, vec![irradiated]).is_ok());
}

#[test]
fn at_most_two_targets_per_organ() {
    let lesions = vec![
        target("T1", "liver", 30.0),
        target("T2", "Liver", 20.0),
        target("T3", " liver ", 15.0),
    ];
    let m = messages(check(5.0, lesions));
    assert_eq!(m.len(), 1);
    assert!(
        m[0].contains("3 target lesions in liver (T1, T2, T3)"),
        "{m:?}"
    );
}

#[test]
fn lymph_nodes_count_as_one_organ() {
    let mut lesions = vec![
        node("T1", Role::Target, 20.0),
        node("T2", Role::Target, 18.0),
    ];
    let mut third = node("T3", Role::Target, 16.0);
    third.organ = "axilla".into();
    lesions.push(third);
    let m = messages(check(5.0, lesions));
    assert!(m[0].contains("in lymph node"), "{m:?}");
}

#[test]
fn at_most_five_targets_in_total() {
    let five: Vec<BaselineLesion> = ["liver", "lung", "adrenal", "skin", "spleen"]
        .iter()
        .enumerate()
        .map(|(i, organ)| target(&format!("T{i}"), organ, 20.0))
        .collect();
    let b = check(5.0, five.clone()).expect("five targets are allowed");
    assert_eq!(b.sum(), Tenths::from_tenths(1000));
    let mut six = five;
    six.push(target("T9", "pancreas", 20.0));
    let m = messages(check(5.0, six));
    assert_eq!(
        m,
        ["baseline.lesions: 6 target lesions: at most 5 in total (RECIST 1.1 §4.2)"]
    );
}

#[test]
fn baseline_sum_uses_node_short_axis() {
    let b = check(
        5.0,
        vec![target("T1", "liver", 31.0), node("T2", Role::Target, 17.0)],
    )
    .expect("valid");
    assert_eq!(b.sum(), Tenths::from_tenths(480));
}

#[test]
fn ids_are_unique_and_a_baseline_is_not_empty() {
    let m = messages(check(
        5.0,
        vec![target("T1", "liver", 30.0), target("T1", "lung", 30.0)],
    ));
    assert!(m[0].contains("used twice"), "{m:?}");
    assert_eq!(messages(check(5.0, vec![])).len(), 1);
}
