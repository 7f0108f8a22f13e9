//! PROTOCOL §8: allocation, every branch, with its evidence.

use chrono::Duration;
use protocol::journey::*;
use protocol::participant::Arm;
use protocol::records::{IhcScore, IshResult};
use protocol::rule::Rule;
use protocol::settings::{Her2ExpressingDefinition, MultiSpecimenRule, NondiagnosticAction};
use protocol::{Refusal, Settings};

use crate::common::*;

fn fresh_b1() -> Vec<BiopsySource> {
    vec![BiopsySource::Fresh(fresh("B1", "L1"))]
}

fn alloc_one(r: Her2Read, s: &Settings) -> Result<Allocation, Refusal> {
    allocate(&fresh_b1(), &[her2("S1", "B1", r)], s)
}

fn arm_of(r: Her2Read, s: &Settings) -> AllocationOutcome {
    alloc_one(r, s).unwrap().outcome
}

const ARM1: AllocationOutcome = AllocationOutcome::Allocated { arm: Arm::Arm1 };
const ARM2: AllocationOutcome = AllocationOutcome::Allocated { arm: Arm::Arm2 };

#[test]
fn null_goes_to_arm_2() {
    assert_eq!(arm_of(read(IhcScore::Zero), &Settings::default()), ARM2);
}

#[test]
fn ultralow_goes_to_arm_1_by_default_and_arm_2_under_her2_low_only() {
    assert_eq!(arm_of(read(IhcScore::Ultralow), &Settings::default()), ARM1);
    let s = Settings {
        her2_expressing_definition: Her2ExpressingDefinition::Her2LowOnly,
        ..Settings::default()
    };
    let a = alloc_one(read(IhcScore::Ultralow), &s).unwrap();
    assert_eq!(a.outcome, ARM2);
    assert_eq!(
        a.her2_expressing_definition,
        Her2ExpressingDefinition::Her2LowOnly
    );
    // HER2-low stays arm 1 under both definitions.
    assert_eq!(arm_of(read(IhcScore::OnePlus), &s), ARM1);
}

#[test]
fn one_plus_and_two_plus_ish_negative_go_to_arm_1() {
    let s = Settings::default();
    assert_eq!(arm_of(read(IhcScore::OnePlus), &s), ARM1);
    assert_eq!(arm_of(two_plus(IshResult::NotAmplified), &s), ARM1);
}

#[test]
fn two_plus_ish_positive_and_three_plus_go_off_study_with_reason() {
    let s = Settings::default();
    for r in [two_plus(IshResult::Amplified), read(IhcScore::ThreePlus)] {
        match arm_of(r, &s) {
            AllocationOutcome::OffStudy { reason } => {
                assert!(
                    reason.contains("HER2-positive") && reason.contains("S1"),
                    "{reason}"
                )
            }
            other => panic!("expected off study, got {other:?}"),
        }
    }
}

#[test]
fn two_plus_without_ish_is_refused_not_allocated() {
    let r = alloc_one(read(IhcScore::TwoPlus), &Settings::default()).unwrap_err();
    assert_eq!(r.rule, Rule::HER2_CATEGORY);
    assert!(r.message.starts_with("Specimen S1:"));
}

#[test]
fn non_diagnostic_follows_the_configured_action() {
    let nd = || {
        vec![report(
            "S1",
            "B1",
            SpecimenFinding::NonDiagnostic {
                reason: "no tumour cells".into(),
            },
        )]
    };
    let a = allocate(&fresh_b1(), &nd(), &Settings::default()).unwrap();
    assert_eq!(
        a.outcome,
        AllocationOutcome::NonDiagnostic {
            action: NondiagnosticAction::Rebiopsy
        }
    );
    assert_eq!(a.deciding_specimen_id, None);
    assert!(a.specimens[0].note.contains("no tumour cells"));
    for action in [
        NondiagnosticAction::Archival,
        NondiagnosticAction::ScreenFail,
    ] {
        let mut s = Settings::default();
        s.allocation.nondiagnostic_action = action;
        assert_eq!(
            allocate(&fresh_b1(), &nd(), &s).unwrap().outcome,
            AllocationOutcome::NonDiagnostic { action }
        );
    }
}

#[test]
fn a_non_diagnostic_specimen_beside_a_diagnostic_one_is_left_out() {
    let reports = vec![
        report(
            "S1",
            "B1",
            SpecimenFinding::NonDiagnostic {
                reason: "necrosis".into(),
            },
        ),
        her2("S2", "B1", read(IhcScore::Zero)),
    ];
    let a = allocate(&fresh_b1(), &reports, &Settings::default()).unwrap();
    assert_eq!(a.outcome, ARM2);
    assert_eq!(a.deciding_specimen_id.as_deref(), Some("S2"));
    assert!(!a.discordant);
}

#[test]
fn discordant_specimens_take_the_highest_category_by_default() {
    let reports = vec![
        her2("S1", "B1", read(IhcScore::Zero)),
        her2("S2", "B1", read(IhcScore::OnePlus)),
        her2("S3", "B1", read(IhcScore::Ultralow)),
    ];
    let a = allocate(&fresh_b1(), &reports, &Settings::default()).unwrap();
    assert_eq!(a.outcome, ARM1);
    assert!(a.discordant);
    assert_eq!(a.deciding_specimen_id.as_deref(), Some("S2"));
    assert_eq!(a.deciding_category, Some(Her2Category::Low));
    assert!(
        a.evidence
            .iter()
            .any(|e| e.contains("Discordant") && e.contains("S1 HER2-null"))
    );
    // One positive specimen among them takes her off study.
    let mut with_pos = reports.clone();
    with_pos.push(her2("S4", "B1", read(IhcScore::ThreePlus)));
    assert!(matches!(
        allocate(&fresh_b1(), &with_pos, &Settings::default())
            .unwrap()
            .outcome,
        AllocationOutcome::OffStudy { .. }
    ));
}

#[test]
fn targeted_lesion_rule_lets_the_pet_guided_biopsy_decide() {
    let used = d(2026, 3, 10);
    let biopsies = vec![
        BiopsySource::Fresh(fresh("B1", "L1")),
        BiopsySource::Archival(archival("A1", used - Duration::days(30), used)),
    ];
    let reports = vec![
        her2("S1", "B1", read(IhcScore::Zero)),
        her2("S2", "A1", read(IhcScore::OnePlus)),
    ];
    assert_eq!(
        allocate(&biopsies, &reports, &Settings::default())
            .unwrap()
            .outcome,
        ARM1
    );
    let mut s = Settings::default();
    s.allocation.multi_specimen_rule = MultiSpecimenRule::TargetedLesionOnly;
    let a = allocate(&biopsies, &reports, &s).unwrap();
    assert_eq!(a.outcome, ARM2);
    assert!(a.discordant);
    assert_eq!(a.multi_specimen_rule, MultiSpecimenRule::TargetedLesionOnly);
    assert_eq!(a.specimens.iter().filter(|x| x.counted).count(), 1);
}

#[test]
fn archival_biopsy_too_old_is_refused() {
    let used = d(2026, 3, 10);
    let biopsies = vec![BiopsySource::Archival(archival(
        "A1",
        used - Duration::days(120),
        used,
    ))];
    let r = allocate(
        &biopsies,
        &[her2("S1", "A1", read(IhcScore::OnePlus))],
        &Settings::default(),
    )
    .unwrap_err();
    assert_eq!(r.rule, Rule::ARCHIVAL_BIOPSY);
    assert!(r.message.contains("120 days old (max 90)"), "{}", r.message);
}

#[test]
fn archival_biopsy_with_intervening_therapy_is_refused() {
    let used = d(2026, 3, 10);
    let mut a = archival("A1", used - Duration::days(20), used);
    a.record.systemic_therapy_since = true;
    let r = allocate(
        &[BiopsySource::Archival(a)],
        &[her2("S1", "A1", read(IhcScore::OnePlus))],
        &Settings::default(),
    )
    .unwrap_err();
    assert_eq!(r.rule, Rule::ARCHIVAL_BIOPSY);
    assert!(r.message.contains("systemic therapy"));
}

#[test]
fn an_unusable_archival_specimen_beside_a_fresh_one_is_left_out_with_the_reason() {
    let used = d(2026, 3, 10);
    let biopsies = vec![
        BiopsySource::Fresh(fresh("B1", "L1")),
        BiopsySource::Archival(archival("A1", used - Duration::days(200), used)),
    ];
    let reports = vec![
        her2("S1", "B1", read(IhcScore::Zero)),
        her2("S2", "A1", read(IhcScore::ThreePlus)),
    ];
    let a = allocate(&biopsies, &reports, &Settings::default()).unwrap();
    assert_eq!(a.outcome, ARM2);
    let s2 = a.specimens.iter().find(|x| x.specimen_id == "S2").unwrap();
    assert!(!s2.counted && s2.note.contains("not eligible"));
}

#[test]
fn central_read_replaces_the_local_read() {
    let mut central = her2("S1", "B1", read(IhcScore::Zero));
    central.read = ReadKind::Central;
    central.reader = "central-1".into();
    let reports = vec![her2("S1", "B1", read(IhcScore::OnePlus)), central];
    let a = allocate(&fresh_b1(), &reports, &Settings::default()).unwrap();
    assert_eq!(a.outcome, ARM2);
    assert_eq!(a.specimens.len(), 1);
    assert_eq!(a.specimens[0].reader, "central-1");
    assert!(
        !a.discordant,
        "two reads of one specimen are not two specimens"
    );
    let mut s = Settings::default();
    s.allocation.central_read_supersedes_local = false;
    // Without precedence the latest report counts: both are dated the same, the later in the list wins.
    assert_eq!(allocate(&fresh_b1(), &reports, &s).unwrap().outcome, ARM2);
}

#[test]
fn allocation_carries_its_evidence() {
    let s = Settings {
        version: 3,
        ..Settings::default()
    };
    let a = alloc_one(read(IhcScore::OnePlus), &s).unwrap();
    assert_eq!(a.settings_version, 3);
    assert_eq!(a.deciding_specimen_id.as_deref(), Some("S1"));
    assert_eq!(a.specimens[0].lesion_id.as_deref(), Some("L1"));
    assert_eq!(a.specimens[0].category, Some(Her2Category::Low));
    assert!(a.evidence[0].contains("Settings v3"));
    assert!(
        a.evidence.last().unwrap().contains("arm 1"),
        "{:?}",
        a.evidence
    );
    let json = serde_json::to_value(&a).unwrap();
    assert_eq!(json["outcome"]["outcome"], "allocated");
    assert_eq!(json["outcome"]["arm"], "arm1");
}

#[test]
fn nothing_to_allocate_on_is_refused() {
    let s = Settings::default();
    assert_eq!(
        allocate(&fresh_b1(), &[], &s).unwrap_err().rule,
        Rule::ALLOCATION
    );
    let r = allocate(&fresh_b1(), &[her2("S1", "B7", read(IhcScore::Zero))], &s).unwrap_err();
    assert_eq!(r.rule, Rule::ALLOCATION);
    assert!(r.message.contains("B7"));
}

#[test]
fn a_pet_based_allocation_setting_allocates_on_pet_and_biopsy() {
    let s = Settings {
        allocation_uses_pet: true,
        ..Settings::default()
    };
    // No longer refused: the biopsy allocates, the PET of the deciding lesion may move
    // a HER2-zero result to arm 1 (an avid lesion) and never moves anything else.
    let avid = vec![("L1".to_owned(), 7.2)];
    let calm = vec![("L1".to_owned(), 3.0)];
    assert_eq!(arm_of(read(IhcScore::OnePlus), &s), ARM1);
    let zero = || alloc_one(read(IhcScore::Zero), &s).unwrap();
    assert_eq!(
        zero().outcome,
        ARM2,
        "without PET values the biopsy decides"
    );
    assert!(zero().evidence[0].contains("allocation_uses_pet"));
    let moved = zero().with_pet(&avid, &s);
    assert_eq!(moved.outcome, ARM1);
    assert!(moved.pet_beside.as_ref().unwrap().changed_allocation);
    let kept = zero().with_pet(&calm, &s);
    assert_eq!(kept.outcome, ARM2);
    assert!(!kept.pet_beside.as_ref().unwrap().changed_allocation);
    let none = zero().with_pet(&[], &s);
    assert!(none.evidence.last().unwrap().contains("biopsy alone"));
    let positive = alloc_one(read(IhcScore::ThreePlus), &s)
        .unwrap()
        .with_pet(&avid, &s);
    assert!(matches!(
        positive.outcome,
        AllocationOutcome::OffStudy { .. }
    ));
}

#[test]
fn pet_uptake_of_the_deciding_lesion_is_recorded_beside_without_changing_the_arm() {
    let s = Settings::default();
    let pet = vec![("L1".to_owned(), 7.2), ("L2".to_owned(), 2.0)];
    let a = alloc_one(read(IhcScore::Zero), &s)
        .unwrap()
        .with_pet(&pet, &s);
    assert_eq!(
        a.outcome, ARM2,
        "an avid lesion does not move HER2-null to arm 1"
    );
    let p = a.pet_beside.as_ref().unwrap();
    assert_eq!((p.lesion_id.as_str(), p.suvmax, p.avid), ("L1", 7.2, true));
    assert!(a.evidence.last().unwrap().contains("SUVmax 7.2 ≥ 6"));
    let at_threshold = alloc_one(read(IhcScore::OnePlus), &s)
        .unwrap()
        .with_pet(&[("L1".to_owned(), 6.0)], &s);
    assert!(at_threshold.pet_beside.unwrap().avid);
    let no_value = alloc_one(read(IhcScore::OnePlus), &s)
        .unwrap()
        .with_pet(&pet[1..], &s);
    assert_eq!(no_value.pet_beside, None);
}
