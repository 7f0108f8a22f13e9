//! PROTOCOL §8 through `decide`, on the untidy paths of a real trial: several
//! specimens of one biopsy, central reads after a first allocation, a non-diagnostic
//! first specimen, a local HER2-positive result that is superseded or corrected, and
//! `allocation_uses_pet` both ways (issue 10, points 5–7).

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use protocol::journey::allocation::AllocationTarget;
use protocol::journey::tdxd::DoseLevel;
use protocol::journey::{AllocationOutcome, Her2Category, ReadKind};
use protocol::records::{DeviationSeverity, IhcScore};
use protocol::testing::{
    baseline_pet_commands, eligible_participant_commands, enrol_command, fresh_biopsy_command,
    investigator_signature, pathology_command, run, run_from, tdxd_command,
};
use protocol::{
    Arm, Command, CorrectAllocation, EndParticipation, OffStudyReason, Participant, Refusal, Rule,
    Settings, State,
};

/// `h` hours after consent (2 March 2026, 09:00 UTC).
fn at(h: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap() + Duration::hours(h)
}

fn day(n: i64) -> NaiveDate {
    at(24 * n).date_naive()
}

fn step(p: Participant, cmds: &[Command], now: DateTime<Utc>, s: &Settings) -> Participant {
    match run_from(p, cmds, now, s) {
        Ok((p, _)) => p,
        Err((i, r)) => panic!("command {i} ({}) refused: {r}", cmds[i].name()),
    }
}

fn refused(p: Participant, cmd: Command, now: DateTime<Utc>, s: &Settings) -> Refusal {
    run_from(p, &[cmd], now, s)
        .expect_err("expected a refusal")
        .1
}

/// Enrolled, baseline PET on day 2 (L1 SUVmax 9, avid, chosen), biopsy-1 of L1 on day 3.
fn biopsied(s: &Settings) -> Participant {
    let mut cmds = eligible_participant_commands("KS", "KS-014", at(0));
    cmds.push(enrol_command(at(30)));
    let (p, _) = run(&cmds, at(31), s).expect("enrolled");
    let p = step(p, &baseline_pet_commands(at(48)), at(50), s);
    step(p, &[fresh_biopsy_command(at(72))], at(73), s)
}

/// A local report of `specimen` of biopsy-1 on `on`.
fn local(specimen: &str, ihc: IhcScore, on: i64) -> Command {
    pathology_command("biopsy-1", specimen, ihc, false, day(on))
}

/// A central read of `specimen` of biopsy-1 on `on`.
fn central(specimen: &str, ihc: IhcScore, on: i64) -> Command {
    let mut c = local(specimen, ihc, on);
    if let Command::RecordPathology(r) = &mut c {
        r.read = ReadKind::Central;
        r.reader = "central.pathology".into();
    }
    c
}

fn non_diagnostic(specimen: &str, on: i64) -> Command {
    let mut c = local(specimen, IhcScore::OnePlus, on);
    if let Command::RecordPathology(r) = &mut c {
        r.ihc_score = None;
        r.non_diagnostic_reason = Some("no tumour cells in the core".into());
    }
    c
}

fn correct(to: AllocationTarget, reason: &str, on: i64) -> Command {
    Command::CorrectAllocation(CorrectAllocation {
        arm: to,
        reason: reason.into(),
        signature: investigator_signature(at(24 * on)),
    })
}

fn in_force(p: &Participant) -> Option<AllocationTarget> {
    p.allocation.as_ref().and_then(|a| a.in_force())
}

// --- Point 5: several specimens, central reads, non-diagnostic first specimen ---

#[test]
fn a_second_specimen_after_allocation_re_derives_it_by_the_rule_pending_a_signature() {
    let s = Settings::default();
    let p = step(
        biopsied(&s),
        &[local("A", IhcScore::Zero, 6)],
        at(24 * 6),
        &s,
    );
    assert_eq!(p.state, State::SafetyFollowUp);
    // Specimen B of the same biopsy is reported after the allocation: allowed, and the
    // highest category (max_score, the default) now says arm 1 …
    let p = step(p, &[local("B", IhcScore::OnePlus, 7)], at(24 * 7), &s);
    let a = p.allocation.as_ref().unwrap();
    let pending = a.pending.as_ref().expect("a pending change");
    assert_eq!(pending.proposed, Some(AllocationTarget::Arm1));
    assert_eq!(pending.in_force, Some(AllocationTarget::Arm2));
    assert_eq!(pending.decision.deciding_specimen_id.as_deref(), Some("B"));
    assert!(pending.decision.discordant);
    assert_eq!(pending.decision.specimens.len(), 2);
    // … but nothing changes before the investigator signs.
    assert_eq!(p.state, State::SafetyFollowUp);
    assert_eq!(a.arm(), Some(Arm::Arm2));
    let r = refused(
        p.clone(),
        correct(AllocationTarget::Arm1, " ", 8),
        at(24 * 8),
        &s,
    );
    assert_eq!(r.rule, Rule::VALUE_REQUIRED);
    let p = step(
        p,
        &[correct(
            AllocationTarget::Arm1,
            "specimen B is HER2-low: max-score rule",
            8,
        )],
        at(24 * 8),
        &s,
    );
    assert_eq!(p.state, State::Allocated { arm: Arm::Arm1 });
    let a = p.allocation.as_ref().unwrap();
    assert_eq!(a.arm(), Some(Arm::Arm1));
    assert!(a.pending.is_none());
    assert_eq!(a.decision.deciding_category, Some(Her2Category::Low));
    assert_eq!(a.corrections[0].from, Some(Arm::Arm2));
    assert!(p.deviations.is_empty(), "no treatment yet: no deviation");
}

#[test]
fn a_pending_change_can_be_declined_by_naming_the_allocation_in_force() {
    let s = Settings::default();
    let p = step(
        biopsied(&s),
        &[
            local("A", IhcScore::Zero, 6),
            local("B", IhcScore::OnePlus, 7),
        ],
        at(24 * 7),
        &s,
    );
    assert!(p.allocation.as_ref().unwrap().pending.is_some());
    let p = step(
        p,
        &[correct(
            AllocationTarget::Arm2,
            "specimen B is normal breast tissue, not the metastasis",
            8,
        )],
        at(24 * 8),
        &s,
    );
    assert_eq!(p.state, State::SafetyFollowUp);
    let a = p.allocation.as_ref().unwrap();
    assert!(a.pending.is_none());
    assert_eq!(a.arm(), Some(Arm::Arm2));
    assert_eq!(a.decision.deciding_specimen_id.as_deref(), Some("A"));
    // Without a pending change, naming the arm in force is refused.
    let r = refused(
        p,
        correct(AllocationTarget::Arm2, "again", 9),
        at(24 * 9),
        &s,
    );
    assert_eq!(r.rule, Rule::ALLOCATION);
}

#[test]
fn a_concordant_second_specimen_refreshes_the_evidence_without_a_change() {
    let s = Settings::default();
    let p = step(
        biopsied(&s),
        &[
            local("A", IhcScore::OnePlus, 6),
            local("B", IhcScore::Zero, 7),
        ],
        at(24 * 7),
        &s,
    );
    assert_eq!(p.state, State::Allocated { arm: Arm::Arm1 });
    let a = p.allocation.as_ref().unwrap();
    assert!(a.pending.is_none());
    assert!(a.decision.discordant);
    assert_eq!(a.decision.specimens.len(), 2);
    assert!(
        a.decision
            .evidence
            .iter()
            .any(|e| e.contains("Discordant") && e.contains("B HER2-null")),
        "{:?}",
        a.decision.evidence
    );
}

#[test]
fn a_central_read_after_treatment_started_changes_the_arm_on_signature_with_a_deviation() {
    let s = Settings::default();
    let p = step(
        biopsied(&s),
        &[
            local("A", IhcScore::OnePlus, 6),
            tdxd_command(day(10), DoseLevel::Start),
        ],
        at(24 * 10 + 1),
        &s,
    );
    assert_eq!(p.state, State::OnTreatment);
    // The central read (IHC 0) supersedes the local one (central_read_supersedes_local).
    let p = step(p, &[central("A", IhcScore::Zero, 12)], at(24 * 12), &s);
    let pending = p.allocation.as_ref().unwrap().pending.clone().unwrap();
    assert_eq!(pending.proposed, Some(AllocationTarget::Arm2));
    assert!(pending.treatment_started);
    assert_eq!(pending.decision.specimens[0].read, ReadKind::Central);
    assert!(
        pending
            .decision
            .evidence
            .last()
            .unwrap()
            .contains("major deviation")
    );
    assert_eq!(p.state, State::OnTreatment, "pending: still on T-DXd");
    let p = step(
        p,
        &[correct(
            AllocationTarget::Arm2,
            "central read IHC 0 supersedes the local 1+",
            12,
        )],
        at(24 * 12 + 1),
        &s,
    );
    assert_eq!(p.state, State::SafetyFollowUp);
    assert_eq!(in_force(&p), Some(AllocationTarget::Arm2));
    let dev = &p.deviations[0];
    assert_eq!(
        (dev.rule, dev.severity),
        (Rule::ALLOCATION, DeviationSeverity::Major)
    );
    assert!(
        dev.description.contains("1 T-DXd dose"),
        "{}",
        dev.description
    );
}

#[test]
fn a_central_read_counts_by_date_when_it_does_not_supersede_local() {
    // The central read is dated before the local one.
    let cmds = [
        local("A", IhcScore::OnePlus, 7),
        central("A", IhcScore::Zero, 6),
    ];
    let on = Settings::default();
    assert!(on.allocation.central_read_supersedes_local, "the default");
    let p = step(biopsied(&on), &cmds, at(24 * 8), &on);
    let pending = p.allocation.as_ref().unwrap().pending.as_ref().unwrap();
    assert_eq!(pending.proposed, Some(AllocationTarget::Arm2));
    let mut off = Settings::default();
    off.allocation.central_read_supersedes_local = false;
    let p = step(biopsied(&off), &cmds, at(24 * 8), &off);
    let a = p.allocation.as_ref().unwrap();
    assert!(a.pending.is_none(), "the later local read still counts");
    assert_eq!(a.arm(), Some(Arm::Arm1));
    assert_eq!(a.decision.specimens[0].read, ReadKind::Local);
}

#[test]
fn a_non_diagnostic_first_specimen_does_not_force_a_re_biopsy() {
    let s = Settings::default();
    let p = step(biopsied(&s), &[non_diagnostic("A", 5)], at(24 * 5), &s);
    assert_eq!(p.state, State::BaselinePetDone, "a re-biopsy is possible");
    assert!(p.allocation.is_none());
    // Specimen B of the same biopsy still allocates her, without a second biopsy.
    let p = step(p, &[local("B", IhcScore::Ultralow, 6)], at(24 * 6), &s);
    assert_eq!(p.state, State::Allocated { arm: Arm::Arm1 });
    assert_eq!(p.biopsies.len(), 1);
    let a = &p.allocation.as_ref().unwrap().decision;
    assert_eq!(a.deciding_specimen_id.as_deref(), Some("B"));
    let nd = a.specimens.iter().find(|x| x.specimen_id == "A").unwrap();
    assert!(nd.note.contains("non-diagnostic"), "{}", nd.note);
    // Under the screen-failure action she goes off study, and B still brings her back.
    let mut sf = Settings::default();
    sf.allocation.nondiagnostic_action = protocol::settings::NondiagnosticAction::ScreenFail;
    let p = step(biopsied(&sf), &[non_diagnostic("A", 5)], at(24 * 5), &sf);
    assert!(matches!(p.state, State::OffStudy { .. }), "{:?}", p.state);
    let p = step(p, &[local("B", IhcScore::Zero, 6)], at(24 * 6), &sf);
    assert_eq!(p.state, State::SafetyFollowUp);
}

// --- Point 6: a local HER2-positive result is not the last word ---

#[test]
fn a_local_her2_positive_off_study_is_superseded_by_a_central_read_on_signature() {
    let s = Settings::default();
    let p = step(
        biopsied(&s),
        &[local("A", IhcScore::ThreePlus, 6)],
        at(24 * 6),
        &s,
    );
    assert!(matches!(p.state, State::OffStudy { .. }), "{:?}", p.state);
    assert_eq!(in_force(&p), Some(AllocationTarget::OffStudy));
    let p = step(p, &[central("A", IhcScore::OnePlus, 8)], at(24 * 8), &s);
    let pending = p.allocation.as_ref().unwrap().pending.as_ref().unwrap();
    assert_eq!(pending.proposed, Some(AllocationTarget::Arm1));
    assert_eq!(pending.in_force, Some(AllocationTarget::OffStudy));
    let p = step(
        p,
        &[correct(
            AllocationTarget::Arm1,
            "central review: IHC 1+, not HER2-positive",
            9,
        )],
        at(24 * 9),
        &s,
    );
    assert_eq!(p.state, State::Allocated { arm: Arm::Arm1 });
    // She can now start T-DXd.
    let p = step(
        p,
        &[tdxd_command(day(10), DoseLevel::Start)],
        at(24 * 10 + 1),
        &s,
    );
    assert_eq!(p.state, State::OnTreatment);
}

#[test]
fn correct_allocation_works_from_every_outcome_with_signature_and_reason() {
    let s = Settings::default();
    // Off study (HER2-positive) → arm 1, without any new report.
    let off = step(
        biopsied(&s),
        &[local("A", IhcScore::ThreePlus, 6)],
        at(24 * 6),
        &s,
    );
    let r = refused(
        off.clone(),
        correct(AllocationTarget::Arm1, "", 7),
        at(24 * 7),
        &s,
    );
    assert_eq!(r.rule, Rule::VALUE_REQUIRED);
    let p = step(
        off,
        &[correct(
            AllocationTarget::Arm1,
            "pathologist's transcription error: 1+ not 3+",
            7,
        )],
        at(24 * 7),
        &s,
    );
    assert_eq!(p.state, State::Allocated { arm: Arm::Arm1 });
    assert_eq!(p.allocation.as_ref().unwrap().corrections[0].from, None);
    // Arm 1 → arm 2 → arm 1 → back off study (the HER2-positive result on record).
    let p = step(
        p,
        &[
            correct(AllocationTarget::Arm2, "second look: IHC 0", 8),
            correct(AllocationTarget::Arm1, "third look: 1+", 8),
            correct(AllocationTarget::OffStudy, "3+ after all", 8),
        ],
        at(24 * 8),
        &s,
    );
    assert!(matches!(p.state, State::OffStudy { .. }), "{:?}", p.state);
    assert_eq!(p.allocation.as_ref().unwrap().corrections.len(), 4);
    // Off study by correction needs a HER2-positive result.
    let arm2 = step(
        biopsied(&s),
        &[local("A", IhcScore::Zero, 6)],
        at(24 * 6),
        &s,
    );
    let r = refused(
        arm2.clone(),
        correct(AllocationTarget::OffStudy, "doubt", 7),
        at(24 * 7),
        &s,
    );
    assert_eq!(r.rule, Rule::ALLOCATION);
    // Once participation has ended, the allocation stays as it was.
    let ended = step(
        arm2,
        &[Command::EndParticipation(EndParticipation {
            reason: OffStudyReason::Arm2FollowUpComplete,
            ended_on: day(20),
            note: None,
        })],
        at(24 * 20),
        &s,
    );
    let r = refused(
        ended,
        correct(AllocationTarget::Arm1, "late central read", 21),
        at(24 * 21),
        &s,
    );
    assert_eq!(r.rule, Rule::STATE_TRANSITION);
}

// --- Point 7: allocation_uses_pet, both values ---

#[test]
fn allocation_uses_pet_false_keeps_pet_beside_and_true_lets_an_avid_lesion_count() {
    // Biopsy of L1, HER2-avid on PET1 (SUVmax 9), IHC 0 without staining.
    let beside = Settings::default();
    assert!(!beside.allocation_uses_pet, "the default");
    let p = step(
        biopsied(&beside),
        &[local("A", IhcScore::Zero, 6)],
        at(24 * 6),
        &beside,
    );
    assert_eq!(p.state, State::SafetyFollowUp);
    let a = &p.allocation.as_ref().unwrap().decision;
    let pet = a.pet_beside.as_ref().unwrap();
    assert!(pet.avid && !pet.changed_allocation);
    let uses = Settings {
        allocation_uses_pet: true,
        ..Settings::default()
    };
    let p = step(
        biopsied(&uses),
        &[local("A", IhcScore::Zero, 6)],
        at(24 * 6),
        &uses,
    );
    assert_eq!(p.state, State::Allocated { arm: Arm::Arm1 });
    let a = &p.allocation.as_ref().unwrap().decision;
    assert_eq!(a.outcome, AllocationOutcome::Allocated { arm: Arm::Arm1 });
    assert!(a.pet_beside.as_ref().unwrap().changed_allocation);
    assert!(
        a.evidence
            .iter()
            .any(|e| e.contains("HER2-expressing on PET")),
        "{:?}",
        a.evidence
    );
    // HER2-low stays arm 1 and HER2-positive stays off study whatever the PET.
    for (ihc, expect_arm1) in [(IhcScore::OnePlus, true), (IhcScore::ThreePlus, false)] {
        let p = step(biopsied(&uses), &[local("A", ihc, 6)], at(24 * 6), &uses);
        assert_eq!(
            p.state == (State::Allocated { arm: Arm::Arm1 }),
            expect_arm1,
            "{ihc:?}: {:?}",
            p.state
        );
    }
}
