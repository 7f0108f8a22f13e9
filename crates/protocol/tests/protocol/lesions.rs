//! IN4 and IN5: biopsy lesion, archival biopsy, RECIST 1.1 measurability boundaries.

use chrono::Duration;
use protocol::CriterionStatus::{Met, Missing, NotMet};
use protocol::settings::DisallowedIntervening;
use protocol::{Command, LesionType, RecordArchivalBiopsy, RecordLesion, Rule, Settings};

use crate::common::*;

fn lesion(
    id: &str,
    t: LesionType,
    ld: f64,
    sa: Option<f64>,
    accessible: bool,
    intended: bool,
) -> Command {
    Command::RecordLesion(RecordLesion {
        lesion_id: id.into(),
        organ: "soft tissue".into(),
        lesion_type: t,
        metastatic: true,
        longest_diameter_mm: ld,
        short_axis_mm: sa,
        previously_irradiated: false,
        progressed_after_irradiation: false,
        accessible_for_ultrasound_biopsy: accessible,
        intended_for_biopsy: intended,
        imaging_date: consent_at().date_naive() - Duration::days(3),
        slice_thickness_mm: Some(3.0),
        corrects: None,
        correction_reason: None,
    })
}

fn no_lesions() -> Vec<Command> {
    without(base(), |c| matches!(c, Command::RecordLesion(_)))
}

/// Biopsy lesion L1 (accessible node 25 × 18 mm, intended) plus an index candidate.
fn with_index(index: Command) -> Vec<Command> {
    plus(
        no_lesions(),
        [
            lesion("L1", LesionType::LymphNode, 25.0, Some(18.0), true, true),
            index,
        ],
    )
}

#[test]
fn in5_non_nodal_10_mm_is_measurable_and_9_9_is_not() {
    let ten = with_index(lesion("L2", LesionType::NonNodal, 10.0, None, false, false));
    assert_eq!(status(&ten, Rule::IN5), Met);
    let below = with_index(lesion("L2", LesionType::NonNodal, 9.9, None, false, false));
    let r = eval(&below);
    assert_eq!(r.get(Rule::IN5).unwrap().status, NotMet);
    assert!(evidence(&r, Rule::IN5).contains("longest diameter 9.9 mm < 10 mm"));
}

#[test]
fn in5_lymph_node_short_axis_15_mm_is_measurable_and_14_9_is_not() {
    let node = |sa| {
        with_index(lesion(
            "L2",
            LesionType::LymphNode,
            30.0,
            Some(sa),
            false,
            false,
        ))
    };
    assert_eq!(status(&node(15.0), Rule::IN5), Met);
    assert_eq!(status(&node(14.9), Rule::IN5), NotMet);
}

#[test]
fn in5_bone_needs_a_soft_tissue_component() {
    let bone = with_index(lesion("L2", LesionType::BoneOnly, 40.0, None, false, false));
    assert_eq!(status(&bone, Rule::IN5), NotMet);
    let soft = with_index(lesion(
        "L2",
        LesionType::BoneWithSoftTissue,
        12.0,
        None,
        false,
        false,
    ));
    assert_eq!(status(&soft, Rule::IN5), Met);
}

#[test]
fn in5_irradiated_lesion_counts_only_after_progression() {
    let mut cmd = lesion("L2", LesionType::NonNodal, 30.0, None, false, false);
    if let Command::RecordLesion(l) = &mut cmd {
        l.previously_irradiated = true;
    }
    assert_eq!(status(&with_index(cmd.clone()), Rule::IN5), NotMet);
    if let Command::RecordLesion(l) = &mut cmd {
        l.progressed_after_irradiation = true;
    }
    assert_eq!(status(&with_index(cmd), Rule::IN5), Met);
}

#[test]
fn in5_thick_slices_raise_the_minimum_to_twice_the_slice() {
    // RECIST 1.1 §3.1.1: with 8 mm slices the minimum is 16 mm.
    let mut cmd = lesion("L2", LesionType::NonNodal, 12.0, None, false, false);
    if let Command::RecordLesion(l) = &mut cmd {
        l.slice_thickness_mm = Some(8.0);
    }
    let r = eval(&with_index(cmd));
    assert_eq!(r.get(Rule::IN5).unwrap().status, NotMet);
    assert!(evidence(&r, Rule::IN5).contains("< 16 mm"));
}

#[test]
fn in5_the_biopsy_lesion_is_not_the_index_lesion_by_default() {
    // Only one lesion: measurable, accessible and intended for biopsy.
    let one = plus(
        no_lesions(),
        [lesion("L1", LesionType::NonNodal, 30.0, None, true, true)],
    );
    assert_eq!(status(&one, Rule::IN4), Met);
    assert_eq!(status(&one, Rule::IN5), NotMet);
    let mut s = Settings::default();
    s.lesions.index_lesion_may_be_biopsied = true;
    assert_eq!(
        eval_with(&one, now(), &s).get(Rule::IN5).unwrap().status,
        Met
    );
}

#[test]
fn in5_two_accessible_measurable_lesions_without_marked_target_are_enough() {
    let two = plus(
        no_lesions(),
        [
            lesion("L1", LesionType::NonNodal, 30.0, None, true, false),
            lesion("L2", LesionType::NonNodal, 20.0, None, true, false),
        ],
    );
    assert_eq!(status(&two, Rule::IN4), Met);
    assert_eq!(status(&two, Rule::IN5), Met);
}

#[test]
fn in4_and_in5_missing_without_lesions() {
    assert_eq!(status(&no_lesions(), Rule::IN4), Missing);
    assert_eq!(status(&no_lesions(), Rule::IN5), Missing);
}

#[test]
fn in5_old_imaging_is_missing_not_failed() {
    // 40 days after consent the screening CT (consent − 5 days) is older than 28 days.
    let later = consent_at() + Duration::days(40);
    let r = eval_with(&base(), later, &Settings::default());
    assert_eq!(r.get(Rule::IN5).unwrap().status, Missing);
    assert_eq!(r.get(Rule::IN4).unwrap().status, Missing);
}

#[test]
fn in4_biopsy_lesion_boundary_10_mm() {
    let ten = plus(
        no_lesions(),
        [
            lesion("L1", LesionType::NonNodal, 10.0, None, true, true),
            lesion("L2", LesionType::NonNodal, 20.0, None, false, false),
        ],
    );
    assert_eq!(status(&ten, Rule::IN4), Met);
    let small = plus(
        no_lesions(),
        [
            lesion("L1", LesionType::NonNodal, 9.9, None, true, true),
            lesion("L2", LesionType::NonNodal, 20.0, None, false, false),
        ],
    );
    assert_eq!(status(&small, Rule::IN4), NotMet);
}

#[test]
fn in4_not_met_when_nothing_is_accessible() {
    let cmds = plus(
        no_lesions(),
        [lesion("L2", LesionType::NonNodal, 20.0, None, false, false)],
    );
    let r = eval(&cmds);
    assert_eq!(r.get(Rule::IN4).unwrap().status, NotMet);
    // The lung lesion is still a valid index lesion.
    assert_eq!(r.get(Rule::IN5).unwrap().status, Met);
}

fn archival(days_old: i64, systemic: bool, her2: bool) -> Command {
    Command::RecordArchivalBiopsy(RecordArchivalBiopsy {
        biopsy_date: consent_at().date_naive() - Duration::days(days_old),
        lesion_id: None,
        site_description: "liver metastasis, core needle".into(),
        systemic_therapy_since: systemic,
        her2_targeted_therapy_since: her2,
        radiotherapy_to_lesion_since: false,
        corrects: None,
        correction_reason: None,
    })
}

#[test]
fn in4_recent_archival_biopsy_replaces_a_biopsy_lesion() {
    let index_only = plus(
        no_lesions(),
        [lesion("L2", LesionType::NonNodal, 20.0, None, false, false)],
    );
    // After the last capecitabine dose (consent − 40 days): a biopsy taken while the
    // line still ran has had systemic therapy since, whatever its form says.
    let recent = plus(index_only.clone(), [archival(35, false, false)]);
    assert_eq!(status(&recent, Rule::IN4), Met);
    let old = plus(index_only.clone(), [archival(100, false, false)]);
    assert_eq!(status(&old, Rule::IN4), NotMet);
    let treated = plus(index_only.clone(), [archival(30, true, false)]);
    assert_eq!(status(&treated, Rule::IN4), NotMet);
}

#[test]
fn in4_archival_rule_is_configurable_to_the_12_month_reading() {
    let index_only = plus(
        no_lesions(),
        [lesion("L2", LesionType::NonNodal, 20.0, None, false, false)],
    );
    let mut s = Settings::default();
    s.archival_biopsy.max_age_months = 12;
    s.archival_biopsy.disallowed_intervening = DisallowedIntervening::Her2Targeted;
    let chemo_since = plus(index_only.clone(), [archival(200, true, false)]);
    assert_eq!(
        eval_with(&chemo_since, now(), &s)
            .get(Rule::IN4)
            .unwrap()
            .status,
        Met
    );
    let her2_since = plus(index_only, [archival(200, true, true)]);
    assert_eq!(
        eval_with(&her2_since, now(), &s)
            .get(Rule::IN4)
            .unwrap()
            .status,
        NotMet
    );
}

#[test]
fn measurability_is_exposed_for_other_modules() {
    let l = protocol::Lesion {
        lesion_id: "L9".into(),
        organ: "liver".into(),
        lesion_type: LesionType::NonNodal,
        metastatic: true,
        longest_diameter_mm: 10.0,
        short_axis_mm: None,
        previously_irradiated: false,
        progressed_after_irradiation: false,
        accessible_for_ultrasound_biopsy: false,
        intended_for_biopsy: false,
        imaging_date: now().date_naive(),
        slice_thickness_mm: None,
    };
    let m = protocol::eligibility::measurability(&l, &Settings::default());
    assert!(m.measurable, "{}", m.reason);
}

#[test]
fn in4_and_in5_are_met_by_different_lesions_when_the_marked_lesion_cannot_be_biopsied() {
    // L1 is marked for biopsy but not US-accessible; L2 is accessible and measurable.
    // L2 meets IN4, and it cannot also be the additional index lesion of IN5.
    let marked_unreachable = plus(
        no_lesions(),
        [
            lesion("L1", LesionType::NonNodal, 30.0, None, false, true),
            lesion("L2", LesionType::NonNodal, 25.0, None, true, false),
        ],
    );
    let r = eval(&marked_unreachable);
    let in4 = r.get(Rule::IN4).unwrap();
    assert_eq!(in4.status, Met);
    assert_eq!(in4.summary, "Met: lesion L2 available for biopsy");
    let in5 = r.get(Rule::IN5).unwrap();
    assert_eq!(in5.status, NotMet);
    assert!(
        evidence(&r, Rule::IN5).contains("IN4 (for biopsy): lesion L2; IN5 (index lesion): none"),
        "{}",
        evidence(&r, Rule::IN5)
    );
    assert_eq!(r.overall, protocol::Overall::NotEligible);

    // A third measurable lesion is the index lesion, and the evidence names both.
    let with_l3 = plus(
        marked_unreachable.clone(),
        [lesion("L3", LesionType::NonNodal, 15.0, None, false, false)],
    );
    let r = eval(&with_l3);
    assert_eq!(
        r.get(Rule::IN5).unwrap().summary,
        "Met: lesion L3 is a measurable index lesion, besides biopsy lesion L2"
    );
    assert!(
        evidence(&r, Rule::IN4)
            .contains("IN4 (for biopsy): lesion L2; IN5 (index lesion): lesion L3")
    );

    // The amendment reading (clinical-rules A14) lets one lesion serve both.
    let mut s = Settings::default();
    s.lesions.index_lesion_may_be_biopsied = true;
    let r = eval_with(&marked_unreachable, now(), &s);
    assert_eq!(r.get(Rule::IN5).unwrap().status, Met);
}
