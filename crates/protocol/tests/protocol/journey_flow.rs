//! The journey after baseline PET through `decide`: biopsy (fresh and archival),
//! pathology and the automatic allocation, T-DXd with its dose rules, adverse events,
//! visit windows with deviations, and the end of participation (PROTOCOL §7–§9, §11).

use chrono::{DateTime, Duration, NaiveDate, Utc};
use protocol::journey::tdxd::DoseLevel;
use protocol::journey::trial::visits;
use protocol::labs::Analyte;
use protocol::records::IhcScore;
use protocol::testing::{
    adverse_event_command, baseline_pet_commands, enrol_command, fresh_biopsy_command,
    investigator_signature, lab, pathology_command, quantification_command, run_from, tdxd_command,
};
use protocol::{
    Arm, Command, CorrectAllocation, EndParticipation, OffStudyReason, Participant, PetTimepoint,
    Refusal, Rule, Settings, State,
};

use crate::common::{at, base};

/// Pneumonitis (CTCAE v5.0, MedDRA 10035742).
const PNEUMONITIS: u32 = 10035742;

fn day(h: i64) -> NaiveDate {
    at(h).date_naive()
}

/// Enrolled one day after consent, baseline PET on day 2 (IMP at hour 48).
fn enrolled_with_pet() -> Participant {
    let mut cmds = base();
    cmds.push(enrol_command(at(30)));
    let (p, _) = protocol::testing::run(&cmds, at(31), &Settings::default()).expect("enrolled");
    step(p, &baseline_pet_commands(at(48)), at(50))
}

fn step(p: Participant, cmds: &[Command], now: DateTime<Utc>) -> Participant {
    match run_from(p, cmds, now, &Settings::default()) {
        Ok((p, _)) => p,
        Err((i, r)) => panic!("command {i} ({}) refused: {r}", cmds[i].name()),
    }
}

fn refused(p: Participant, cmds: &[Command], now: DateTime<Utc>) -> Refusal {
    run_from(p, cmds, now, &Settings::default())
        .expect_err("expected a refusal")
        .1
}

/// Biopsy on day 3, pathology `ihc` reported on day 6.
fn allocated(ihc: IhcScore, ish_amplified: bool) -> Participant {
    let p = step(enrolled_with_pet(), &[fresh_biopsy_command(at(72))], at(73));
    step(
        p,
        &[pathology_command(
            "biopsy-1",
            "A",
            ihc,
            ish_amplified,
            day(24 * 6),
        )],
        at(24 * 6),
    )
}

#[test]
fn fresh_biopsy_keeps_the_chosen_lesion_and_its_lab_evidence() {
    let p = step(enrolled_with_pet(), &[fresh_biopsy_command(at(72))], at(73));
    assert_eq!(p.state, State::BiopsyDone);
    let b = &p.biopsies[0];
    assert_eq!(b.source.lesion_id(), Some("L1"));
    let clearance = b.clearance.as_ref().unwrap();
    assert_eq!(clearance.labs.len(), 3, "INR, platelets, APTT");
    assert!(p.deviations.is_empty(), "{:?}", p.deviations);
}

#[test]
fn fresh_biopsy_refused_without_recent_bleeding_labs_then_allowed_with_new_ones() {
    // Biopsy 20 days after the screening labs: outside the 14-day window.
    let p = enrolled_with_pet();
    let r = refused(
        p.clone(),
        &[fresh_biopsy_command(at(24 * 20))],
        at(24 * 20 + 1),
    );
    assert_eq!(r.rule, Rule::BIOPSY_LABS);
    // Fresh labs at the boundaries (INR 1.4, platelets 70, APTT 30 s) clear it.
    let labs = [
        lab(Analyte::Inr, 1.4, "", None, at(24 * 19)),
        lab(Analyte::Platelets, 70.0, "10^9/L", None, at(24 * 19)),
        lab(Analyte::Aptt, 30.0, "s", None, at(24 * 19)),
    ];
    let p2 = step(p.clone(), &labs, at(24 * 19 + 1));
    let p3 = step(
        p2.clone(),
        &[fresh_biopsy_command(at(24 * 20))],
        at(24 * 20 + 1),
    );
    assert_eq!(p3.state, State::BiopsyDone);
    // One step over a boundary refuses it again.
    let worse = step(
        p2,
        &[lab(
            Analyte::Platelets,
            69.0,
            "10^9/L",
            None,
            at(24 * 19 + 2),
        )],
        at(24 * 19 + 3),
    );
    let r = refused(worse, &[fresh_biopsy_command(at(24 * 20))], at(24 * 20 + 1));
    assert_eq!(r.rule, Rule::BIOPSY_LABS);
    assert!(r.message.contains("69"), "{}", r.message);
}

#[test]
fn fresh_biopsy_refused_with_an_anticoagulant_not_paused_and_without_a_target() {
    let mut c = fresh_biopsy_command(at(72));
    if let Command::RecordFreshBiopsy(b) = &mut c {
        b.anticoagulant = Some("apixaban".into());
    }
    let r = refused(enrolled_with_pet(), &[c], at(73));
    assert_eq!(r.rule, Rule::BIOPSY_ANTICOAGULATION);
    // Without the investigator's choice there is no lesion to biopsy.
    let mut cmds = base();
    cmds.push(enrol_command(at(30)));
    let (p, _) = protocol::testing::run(&cmds, at(31), &Settings::default()).unwrap();
    let mut pet = baseline_pet_commands(at(48));
    pet.pop();
    let p = step(p, &pet, at(50));
    let r = refused(p, &[fresh_biopsy_command(at(72))], at(73));
    assert_eq!(r.rule, Rule::BIOPSY_TARGET);
}

#[test]
fn her2_low_goes_to_arm_1_and_her2_zero_to_arm_2_follow_up() {
    let p = allocated(IhcScore::OnePlus, false);
    assert_eq!(p.state, State::Allocated { arm: Arm::Arm1 });
    let a = p.allocation.as_ref().unwrap();
    assert_eq!(a.arm(), Some(Arm::Arm1));
    assert!(!a.decision.evidence.is_empty());
    assert_eq!(
        a.decision.pet_beside.as_ref().map(|b| b.lesion_id.as_str()),
        Some("L1")
    );
    let p = allocated(IhcScore::Zero, false);
    assert_eq!(p.state, State::SafetyFollowUp);
    assert_eq!(p.allocation.as_ref().unwrap().arm(), Some(Arm::Arm2));
}

#[test]
fn her2_positive_goes_off_study_and_non_diagnostic_asks_for_a_new_biopsy() {
    let p = allocated(IhcScore::ThreePlus, false);
    assert!(matches!(p.state, State::OffStudy { .. }), "{:?}", p.state);
    let p = allocated(IhcScore::TwoPlus, true);
    assert!(matches!(p.state, State::OffStudy { .. }), "{:?}", p.state);
    // Non-diagnostic: back to the biopsy step (default action: re-biopsy).
    let p = step(enrolled_with_pet(), &[fresh_biopsy_command(at(72))], at(73));
    let mut nd = pathology_command("biopsy-1", "A", IhcScore::OnePlus, false, day(24 * 5));
    if let Command::RecordPathology(r) = &mut nd {
        r.ihc_score = None;
        r.non_diagnostic_reason = Some("no tumour cells in the cores".into());
    }
    let p = step(p, &[nd], at(24 * 5));
    assert_eq!(p.state, State::BaselinePetDone);
    assert!(p.allocation.is_none());
    let p = step(p, &[fresh_biopsy_command(at(24 * 6))], at(24 * 6 + 1));
    assert_eq!(p.biopsies.len(), 2);
    let p = step(
        p,
        &[pathology_command(
            "biopsy-2",
            "A",
            IhcScore::Ultralow,
            false,
            day(24 * 8),
        )],
        at(24 * 8),
    );
    assert_eq!(p.state, State::Allocated { arm: Arm::Arm1 });
}

#[test]
fn allocation_changes_only_by_a_signed_correction_with_a_reason() {
    let p = allocated(IhcScore::OnePlus, false);
    let correct = |reason: &str| {
        Command::CorrectAllocation(CorrectAllocation {
            arm: Arm::Arm2.into(),
            reason: reason.into(),
            signature: investigator_signature(at(24 * 7)),
        })
    };
    assert_eq!(
        refused(p.clone(), &[correct(" ")], at(24 * 7)).rule,
        Rule::VALUE_REQUIRED
    );
    let p = step(
        p,
        &[correct("central review: IHC 0 without staining")],
        at(24 * 7),
    );
    assert_eq!(p.state, State::SafetyFollowUp);
    let a = p.allocation.unwrap();
    assert_eq!(a.arm(), Some(Arm::Arm2));
    assert_eq!(a.corrections[0].from, Some(Arm::Arm1));
}

fn on_treatment() -> (Participant, NaiveDate) {
    let p = allocated(IhcScore::OnePlus, false);
    let c1d1 = day(24 * 10);
    (
        step(p, &[tdxd_command(c1d1, DoseLevel::Start)], at(24 * 10 + 1)),
        c1d1,
    )
}

#[test]
fn tdxd_starts_treatment_and_follows_the_dose_ladder_without_re_escalation() {
    let (p, c1d1) = on_treatment();
    assert_eq!(p.state, State::OnTreatment);
    assert_eq!(p.tdxd_records[0].check.cycle, 1);
    assert!(p.deviations.is_empty(), "{:?}", p.deviations);
    let d = |n: i64| c1d1 + Duration::days(n);
    let now = at(24 * 200);
    // Reduce to 4.4 with a reason, then 3.2; going back up to 4.4 is refused.
    let mut c2 = tdxd_command(d(21), DoseLevel::Reduced1);
    if let Command::RecordTdxdAdministration(x) = &mut c2 {
        x.reduction_reason = Some("grade 3 fatigue".into());
    }
    let p = step(p, &[c2], now);
    let mut c3 = tdxd_command(d(42), DoseLevel::Reduced2);
    if let Command::RecordTdxdAdministration(x) = &mut c3 {
        x.reduction_reason = Some("grade 3 fatigue again".into());
    }
    let p = step(p, &[c3], now);
    let r = refused(p, &[tdxd_command(d(63), DoseLevel::Reduced1)], now);
    assert_eq!(r.rule, Rule::TDXD_DOSE, "{r}");
}

#[test]
fn pneumonitis_grade_1_interrupts_and_grade_2_discontinues() {
    let (p, c1d1) = on_treatment();
    let now = at(24 * 200);
    let onset = c1d1 + Duration::days(14);
    let p1 = step(
        p.clone(),
        &[adverse_event_command(
            PNEUMONITIS,
            1,
            onset,
            onset.and_hms_opt(10, 0, 0).unwrap().and_utc(),
        )],
        now,
    );
    assert_eq!(p1.tdxd.interruptions.len(), 1);
    let r = refused(
        p1.clone(),
        &[tdxd_command(c1d1 + Duration::days(21), DoseLevel::Start)],
        now,
    );
    assert_eq!(r.rule, Rule::TDXD_INTERRUPTED);
    // Resolved within 28 days: the same dose resumes.
    let mut follow = adverse_event_command(
        PNEUMONITIS,
        1,
        onset,
        onset.and_hms_opt(10, 0, 0).unwrap().and_utc(),
    );
    if let Command::RecordAdverseEvent(a) = &mut follow {
        a.resolved = Some(onset + Duration::days(10));
        a.outcome = protocol::journey::safety::AeOutcome::Recovered;
        a.corrects = Some("ae-1".into());
        a.correction_reason = Some("resolved".into());
    }
    let p2 = step(p1, &[follow], now);
    assert!(p2.tdxd.interruptions.is_empty());
    let p2 = step(
        p2,
        &[tdxd_command(c1d1 + Duration::days(28), DoseLevel::Start)],
        now,
    );
    assert_eq!(p2.tdxd.administrations.len(), 2);
    // Grade 2: permanent discontinuation.
    let p3 = step(
        p,
        &[adverse_event_command(
            PNEUMONITIS,
            2,
            onset,
            onset.and_hms_opt(10, 0, 0).unwrap().and_utc(),
        )],
        now,
    );
    assert!(p3.tdxd.discontinued.is_some());
    let r = refused(
        p3,
        &[tdxd_command(c1d1 + Duration::days(21), DoseLevel::Reduced1)],
        now,
    );
    assert_eq!(r.rule, Rule::TDXD_DISCONTINUED);
}

fn pet2_on(days_after_c1d1: i64) -> Participant {
    let (mut p, c1d1) = on_treatment();
    let now = at(24 * 200);
    // Three more cycles on time keep the cycle-anchored window at day 63–84.
    for k in 1..=3 {
        p = step(
            p,
            &[tdxd_command(
                c1d1 + Duration::days(21 * k),
                DoseLevel::Start,
            )],
            now,
        );
    }
    let inj = (c1d1 + Duration::days(days_after_c1d1))
        .and_hms_opt(9, 0, 0)
        .unwrap()
        .and_utc();
    step(
        p,
        &[
            protocol::testing::imp_command(PetTimepoint::Pet2, inj),
            quantification_command(PetTimepoint::Pet2, "imp-2", inj, vec![]),
        ],
        now,
    )
}

#[test]
fn pet2_outside_day_63_to_84_after_c1d1_is_kept_with_a_deviation() {
    for (d, deviates) in [(62, true), (63, false), (84, false), (85, true)] {
        let p = pet2_on(d);
        assert_eq!(p.state, State::ResponsePetDone, "day {d}");
        let devs: Vec<_> = p
            .deviations
            .iter()
            .filter(|x| x.rule == Rule::PET2_WINDOW)
            .collect();
        assert_eq!(!devs.is_empty(), deviates, "PET2 on day {d}: {devs:?}");
    }
}

#[test]
fn arm_2_goes_off_study_after_its_follow_up_window() {
    let p = allocated(IhcScore::Zero, false);
    let pet1 = day(48);
    let end = |d: i64| {
        Command::EndParticipation(EndParticipation {
            reason: OffStudyReason::Arm2FollowUpComplete,
            ended_on: pet1 + Duration::days(d),
            note: None,
        })
    };
    let now = at(24 * 60);
    let done = step(p.clone(), &[end(14)], now);
    assert!(matches!(done.state, State::OffStudy { .. }));
    assert!(done.deviations.is_empty(), "{:?}", done.deviations);
    assert!(visits(&done, day(24 * 60), &Settings::default()).is_empty());
    // Ending the follow-up early is kept, with a deviation naming the rule.
    let early = step(p.clone(), &[end(10)], now);
    assert!(
        early
            .deviations
            .iter()
            .any(|d| d.rule == Rule::ARM2_FOLLOWUP),
        "{:?}",
        early.deviations
    );
    // The arm-1 end event does not apply to her.
    let wrong = Command::EndParticipation(EndParticipation {
        reason: OffStudyReason::Arm1EndEvent,
        ended_on: pet1 + Duration::days(14),
        note: None,
    });
    assert_eq!(refused(p, &[wrong], now).rule, Rule::OFF_STUDY);
}

#[test]
fn visits_list_what_is_due_next() {
    let p = allocated(IhcScore::OnePlus, false);
    let v = visits(&p, day(24 * 6), &Settings::default());
    let c1d1 = v
        .iter()
        .find(|x| x.expected.kind == protocol::journey::schedule::VisitKind::C1d1);
    assert!(c1d1.is_some(), "{v:?}");
}

#[test]
fn an_lvef_fall_on_tdxd_interrupts_and_a_recovered_repeat_lets_it_resume() {
    let (p, c1d1) = on_treatment();
    let now = at(24 * 200);
    let lvef = |v: f64, d: i64| {
        lab(
            Analyte::Lvef,
            v,
            "%",
            None,
            (c1d1 + Duration::days(d))
                .and_hms_opt(9, 0, 0)
                .unwrap()
                .and_utc(),
        )
    };
    // 58 % against a baseline of 60 %: no decision, nothing recorded for T-DXd.
    let ok = step(p.clone(), &[lvef(58.0, 14)], now);
    assert!(ok.tdxd.interruptions.is_empty());
    assert_eq!(ok.tdxd.decisions.len(), 0);
    // 38 %: interrupt; the next dose is refused naming the LVEF rule.
    let low = step(p, &[lvef(38.0, 14)], now);
    assert!(
        low.tdxd
            .interruptions
            .iter()
            .any(|i| i.rule == Rule::TDXD_LVEF),
        "{:?}",
        low.tdxd
    );
    let r = refused(
        low.clone(),
        &[tdxd_command(c1d1 + Duration::days(21), DoseLevel::Start)],
        now,
    );
    assert_eq!(r.rule, Rule::TDXD_INTERRUPTED, "{r}");
    assert!(r.message.contains("TDXD_LVEF"), "{}", r.message);
    // A repeat decides: recovered to 55 % lets T-DXd resume.
    let back = step(low, &[lvef(55.0, 20)], now);
    assert!(back.tdxd.interruptions.is_empty(), "{:?}", back.tdxd);
    let back = step(
        back,
        &[tdxd_command(c1d1 + Duration::days(24), DoseLevel::Start)],
        now,
    );
    assert_eq!(back.tdxd.administrations.len(), 2);
}

/// A CT baseline (liver 30 mm, lung 20 mm) 5 days before consent, read with a treatment
/// start the reader guessed at the scan date.
fn ct_baseline() -> Command {
    use protocol::recist::Role;
    use protocol::response::TumourLesion;
    let lesion = |id: &str, organ: &str, mm: f64| {
        TumourLesion::new(id, organ, false, Role::Target, Some(mm))
    };
    Command::RecordBaselineTumourAssessment(protocol::RecordBaselineTumourAssessment {
        scan_date: day(0) - Duration::days(5),
        slice_thickness_mm: 3.0,
        treatment_start: Some(day(0) - Duration::days(5)),
        lesions: vec![lesion("T1", "liver", 30.0), lesion("T2", "lung", 20.0)],
        corrects: None,
        correction_reason: None,
    })
}

fn ct(date: NaiveDate, t1: f64, t2: f64) -> Command {
    use protocol::recist::NewLesions;
    use protocol::response::{TargetFinding, TargetReading};
    let r = |id: &str, mm: f64| TargetReading {
        lesion: id.into(),
        finding: TargetFinding::Measured,
        diameter_mm: Some(mm),
    };
    Command::RecordTumourAssessment(protocol::RecordTumourAssessment {
        scan_date: date,
        targets: vec![r("T1", t1), r("T2", t2)],
        non_targets: Vec::new(),
        new_lesions: NewLesions::No,
        corrects: None,
        correction_reason: None,
    })
}

#[test]
fn stable_disease_counts_from_cycle_1_day_1_and_progression_opens_the_pet3_window() {
    use protocol::recist::OverallResponse;
    let (p, c1d1) = on_treatment();
    let now = at(24 * 200);
    // SD 30 days after C1D1 (but 45 after the reader's guessed start): too early for
    // the 42-day minimum, so the best response is not yet SD.
    let p = step(
        p,
        &[ct_baseline(), ct(c1d1 + Duration::days(30), 29.0, 19.0)],
        now,
    );
    let e = p.response_evaluations.last().unwrap();
    assert_ne!(
        e.best_unconfirmed.response,
        OverallResponse::StableDisease,
        "{e:?}"
    );
    let p2 = step(p.clone(), &[ct(c1d1 + Duration::days(43), 29.0, 19.0)], now);
    let e = p2.response_evaluations.last().unwrap();
    assert_eq!(e.best_unconfirmed.response, OverallResponse::StableDisease);
    // +20 % and +10 mm over the nadir: progression, dated to the scan; PET3 is now due.
    let pd = c1d1 + Duration::days(63);
    let p3 = step(p2, &[ct(pd, 36.0, 24.0)], now);
    assert_eq!(p3.state, State::Progression);
    assert_eq!(p3.progression.as_ref().map(|x| x.date), Some(pd));
    let v = visits(&p3, pd, &Settings::default());
    assert!(
        v.iter()
            .any(|x| x.expected.kind == protocol::journey::schedule::VisitKind::Pet3),
        "{v:?}"
    );
    let inj = (pd + Duration::days(7))
        .and_hms_opt(9, 0, 0)
        .unwrap()
        .and_utc();
    let p4 = step(
        p3,
        &[
            protocol::testing::imp_command(PetTimepoint::Pet3, inj),
            quantification_command(PetTimepoint::Pet3, "imp-2", inj, vec![]),
        ],
        now,
    );
    assert!(
        p4.deviations.iter().all(|d| d.rule != Rule::PET3_WINDOW),
        "{:?}",
        p4.deviations
    );
}
