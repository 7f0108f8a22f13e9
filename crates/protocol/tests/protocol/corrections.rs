//! Corrections never erase (PROTOCOL §12): superseded and retracted entries stay.

use protocol::CriterionStatus::{Met, NotMet};
use protocol::testing::{attest, lab};
use protocol::{
    Analyte, AttestedCriterion, Command, EntryStatus, RecordPerformanceStatus, RetractEntry, Rule,
    evaluate_eligibility,
};

use crate::common::*;

fn correct_ps(entry: &str, value: u8, reason: Option<&str>) -> Command {
    Command::RecordPerformanceStatus(RecordPerformanceStatus {
        who_ps: value,
        assessed_on: now().date_naive(),
        corrects: Some(entry.into()),
        correction_reason: reason.map(Into::into),
    })
}

#[test]
fn a_correction_supersedes_and_keeps_the_old_value() {
    let cmds = edit(base(), |c| {
        if let Command::RecordPerformanceStatus(p) = c {
            p.who_ps = 3;
        }
    });
    assert_eq!(status(&cmds, Rule::IN6), NotMet);
    let corrected = plus(
        cmds,
        [correct_ps("ps-1", 1, Some("transcription error: PS was 1"))],
    );
    let (p, _) = build(&corrected);
    assert_eq!(p.performance_status.len(), 2);
    assert_eq!(p.performance_status[0].value.who_ps, 3);
    assert_eq!(
        p.performance_status[0].status,
        EntryStatus::Superseded {
            by: "ps-2".into(),
            reason: "transcription error: PS was 1".into()
        }
    );
    assert_eq!(p.performance_status[1].supersedes.as_deref(), Some("ps-1"));
    assert_eq!(
        evaluate_eligibility(&p, now(), &protocol::Settings::default())
            .get(Rule::IN6)
            .unwrap()
            .status,
        Met
    );
}

#[test]
fn a_correction_needs_a_reason_and_a_current_entry_of_the_same_kind() {
    assert_eq!(
        refusal(&plus(base(), [correct_ps("ps-1", 1, None)])).rule,
        Rule::VALUE_REQUIRED
    );
    assert_eq!(
        refusal(&plus(base(), [correct_ps("lab-1", 1, Some("x"))])).rule,
        Rule::ENTRY_UNKNOWN
    );
    assert_eq!(
        refusal(&plus(base(), [correct_ps("ps-9", 1, Some("x"))])).rule,
        Rule::ENTRY_UNKNOWN
    );
    let twice = plus(
        base(),
        [
            correct_ps("ps-1", 1, Some("first")),
            correct_ps("ps-1", 2, Some("second")),
        ],
    );
    assert_eq!(refusal(&twice).rule, Rule::ENTRY_UNKNOWN);
}

#[test]
fn a_wrong_lab_is_corrected_with_its_unit_checked_again() {
    let mut fix = lab(Analyte::Platelets, 2.45, "mg/L", None, at(1));
    if let Command::RecordLab(l) = &mut fix {
        l.corrects = Some("lab-3".into());
        l.correction_reason = Some("wrong unit".into());
    }
    assert_eq!(
        refusal(&plus(base(), [fix.clone()])).rule,
        Rule::UNIT_UNKNOWN
    );
    if let Command::RecordLab(l) = &mut fix {
        l.value = 245_000.0;
        l.unit = "/mm3".into();
    }
    let (p, _) = build(&plus(base(), [fix]));
    let old = p.labs.iter().find(|e| e.entry_id == "lab-3").unwrap();
    assert_eq!(old.value.analyte, Analyte::Platelets);
    assert!(matches!(old.status, EntryStatus::Superseded { .. }));
    assert_eq!(p.labs.last().unwrap().value.canonical_value, 245.0);
}

#[test]
fn retraction_keeps_the_entry_but_it_no_longer_counts() {
    let cmds = plus(
        base(),
        [Command::RetractEntry(RetractEntry {
            entry_id: "ps-1".into(),
            reason: "entered for the wrong participant".into(),
        })],
    );
    let (p, _) = build(&cmds);
    assert!(matches!(
        p.performance_status[0].status,
        EntryStatus::Retracted { .. }
    ));
    assert_eq!(status(&cmds, Rule::IN6), protocol::CriterionStatus::Missing);
}

#[test]
fn a_new_attestation_supersedes_the_previous_one() {
    let cmds = plus(base(), [attest(AttestedCriterion::In7, false, at(3))]);
    let (p, _) = build(&cmds);
    let in7: Vec<_> = p
        .attestations
        .iter()
        .filter(|e| e.value.criterion == AttestedCriterion::In7)
        .collect();
    assert_eq!(in7.len(), 2);
    assert!(!in7[0].is_current() && in7[1].is_current());
}

#[test]
fn lesion_ids_are_unique_among_current_lesions() {
    let dup = plus(base(), [base()[5].clone()]);
    assert_eq!(refusal(&dup).rule, Rule::DUPLICATE);
    // Correcting the lesion may keep its id.
    let mut fix = base()[5].clone();
    if let Command::RecordLesion(l) = &mut fix {
        l.longest_diameter_mm = 26.0;
        l.corrects = Some("lesion-1".into());
        l.correction_reason = Some("re-measured".into());
    }
    let (p, _) = build(&plus(base(), [fix]));
    assert_eq!(p.lesions.iter().filter(|e| e.is_current()).count(), 2);
}
