//! Issue 10, point 16 through `decide`: every setting of clinical-rules §7 changes what
//! the journey decides — A3 (HER2-positive on the trial biopsy), A8 (APTT by ULN before
//! the biopsy), A12 (T-DXd as an IMP), A13 (the SUSAR clock), A20 (arm-1 end event),
//! A23 (the dose-modification table on each T-DXd decision) — and the protocol version
//! shows beside the settings version.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use protocol::journey::allocation::AllocationTarget;
use protocol::journey::safety::{Causality, sae_clock_of};
use protocol::journey::tdxd::DoseLevel;
use protocol::labs::Analyte;
use protocol::participant::current;
use protocol::records::{IhcScore, Specimen, TestResult};
use protocol::settings::{Arm1EndEvent, Her2PositiveAction, ImpProduct, RegulatoryFramework};
use protocol::testing::{
    adverse_event_command, baseline_pet_commands, eligible_participant_commands, enrol_command,
    fresh_biopsy_command, investigator_signature, lab, pathology_command, run, run_from,
    tdxd_command,
};
use protocol::{
    Arm, Command, CorrectAllocation, EndParticipation, OffStudyReason, Participant,
    RecordPregnancyTest, Refusal, Rule, Settings, State,
};

/// `h` hours after consent (2 March 2026, 09:00 UTC).
fn at(h: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap() + Duration::hours(h)
}

fn day(n: i64) -> NaiveDate {
    at(24 * n).date_naive()
}

/// Amendment 2 of the defaults, changed by `f`.
fn amended(f: impl FnOnce(&mut Settings)) -> Settings {
    let mut s = Settings {
        version: 2,
        protocol_version: "HER2-Ex PET protocol v2.0 (amendment 1)".into(),
        ..Settings::default()
    };
    f(&mut s);
    assert_eq!(s.validate(), Ok(()));
    s
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

fn serum(result: TestResult, sample_at: DateTime<Utc>) -> Command {
    Command::RecordPregnancyTest(RecordPregnancyTest {
        specimen: Specimen::Serum,
        result,
        sample_at,
        for_study: true,
        late_entry_of_fact: false,
        corrects: None,
        correction_reason: None,
    })
}

/// Enrolled (a woman of child-bearing potential when `wocbp`, with a negative serum test
/// an hour after consent), baseline PET on day 2, biopsy-1 of L1 on day 3.
fn biopsied(wocbp: bool, s: &Settings) -> Participant {
    let mut cmds = eligible_participant_commands("KS", "KS-014", at(0));
    if wocbp {
        for c in cmds.iter_mut() {
            if let Command::RecordChildbearingPotential(x) = c {
                x.childbearing_potential = true;
                x.basis = None;
                x.contraception_agreed = Some(true);
                x.contraception_method = Some("copper IUD".into());
            }
        }
        cmds.push(serum(TestResult::Negative, at(1)));
    }
    cmds.push(enrol_command(at(30)));
    let (p, _) = run(&cmds, at(31), s).expect("enrolled");
    let p = step(p, &baseline_pet_commands(at(48)), at(50), s);
    step(p, &[fresh_biopsy_command(at(72))], at(73), s)
}

fn report(ihc: IhcScore) -> Command {
    pathology_command("biopsy-1", "A", ihc, false, day(6))
}

/// Arm 1 (IHC 1+ on day 6).
fn arm1(wocbp: bool, s: &Settings) -> Participant {
    let p = step(
        biopsied(wocbp, s),
        &[report(IhcScore::OnePlus)],
        at(24 * 6),
        s,
    );
    assert_eq!(p.state, State::Allocated { arm: Arm::Arm1 });
    p
}

#[test]
fn a3_her2_positive_on_the_trial_biopsy_goes_off_study_by_default_or_to_arm_2_follow_up() {
    let s = Settings::default();
    let p = step(
        biopsied(false, &s),
        &[report(IhcScore::ThreePlus)],
        at(24 * 6),
        &s,
    );
    assert!(matches!(p.state, State::OffStudy { .. }), "{:?}", p.state);
    let a = &p.allocation.as_ref().unwrap().decision;
    assert!(
        a.evidence.iter().any(|e| e.contains("OFF_STUDY_REFER")),
        "{:?}",
        a.evidence
    );

    let s = amended(|s| s.her2_positive_on_trial_biopsy_action = Her2PositiveAction::Arm2FollowUp);
    let p = step(
        biopsied(false, &s),
        &[report(IhcScore::ThreePlus)],
        at(24 * 6),
        &s,
    );
    assert_eq!(p.state, State::SafetyFollowUp);
    let a = &p.allocation.as_ref().unwrap().decision;
    assert!(
        a.evidence.iter().any(|e| e.contains("ARM2_FOLLOW_UP")
            && e.contains("settings v2 (protocol: HER2-Ex PET protocol v2.0 (amendment 1))")),
        "{:?}",
        a.evidence
    );
    // The result was HER2-positive, so a signed move off study is still allowed.
    let off = Command::CorrectAllocation(CorrectAllocation {
        arm: AllocationTarget::OffStudy,
        reason: "Refer for HER2-positive treatment after all".into(),
        signature: investigator_signature(at(24 * 7)),
    });
    let p = step(p, &[off], at(24 * 7), &s);
    assert!(matches!(p.state, State::OffStudy { .. }), "{:?}", p.state);
}

#[test]
fn a8_an_aptt_limit_by_uln_needs_the_uln_before_the_biopsy() {
    // Enrolled and PET-scanned under the registration's 30 s; the amendment (APTT ≤ 1.2 ×
    // ULN) is in force for the biopsy.
    let s1 = Settings::default();
    let mut cmds = eligible_participant_commands("KS", "KS-014", at(0));
    cmds.push(enrol_command(at(30)));
    let (p, _) = run(&cmds, at(31), &s1).expect("enrolled");
    let p = step(p, &baseline_pet_commands(at(48)), at(50), &s1);
    let s = amended(|s| {
        s.bleeding.aptt_max_s = None;
        s.bleeding.aptt_max_x_uln = Some(1.2);
    });
    // The screening APTT (28 s) carries no ULN: it cannot be judged by a multiple of it.
    let r = refused(p.clone(), fresh_biopsy_command(at(72)), at(73), &s);
    assert_eq!(r.rule, Rule::BIOPSY_LABS);
    assert!(
        r.message.contains("APTT 28 s: no ULN recorded"),
        "{}",
        r.message
    );
    assert!(
        r.hint.as_deref().unwrap_or("").contains("APTT ≤ 1.2 × ULN"),
        "{:?}",
        r.hint
    );
    // 34 s exceeds the registration's 30 s but not 1.2 × a ULN of 35 s (42 s).
    let p = step(
        p,
        &[lab(Analyte::Aptt, 34.0, "s", Some(35.0), at(70))],
        at(70),
        &s,
    );
    let r = refused(p.clone(), fresh_biopsy_command(at(72)), at(73), &s1);
    assert!(r.message.contains("APTT 34 > 30 s"), "{}", r.message);
    let p = step(p, &[fresh_biopsy_command(at(72))], at(73), &s);
    let ev = p.biopsies[0]
        .clearance
        .as_ref()
        .unwrap()
        .evidence
        .join(" | ");
    assert!(ev.contains("APTT 34 ≤ 42 s"), "{ev}");
    assert!(ev.contains("APTT ≤ 1.2 × ULN (settings v2"), "{ev}");
}

#[test]
fn a12_t_dxd_as_an_imp_needs_a_negative_serum_test_before_each_dose() {
    let s = Settings::default();
    assert!(!s.is_imp(ImpProduct::Tdxd));
    let p = arm1(true, &s);
    // By default T-DXd is standard of care: no test is asked for before it.
    let given = step(
        p.clone(),
        &[tdxd_command(day(10), DoseLevel::Start)],
        at(24 * 10 + 8),
        &s,
    );
    assert_eq!(given.tdxd_records.len(), 1);

    let s = amended(|s| s.imp_products = vec![ImpProduct::Aby025, ImpProduct::Tdxd]);
    let r = refused(
        p.clone(),
        tdxd_command(day(10), DoseLevel::Start),
        at(24 * 10 + 8),
        &s,
    );
    assert_eq!(r.rule, Rule::IMP_PREGNANCY);
    assert!(r.message.contains("at most 72 hours"), "{}", r.message);
    // A test three days before is outside the 72 hours; two days before counts.
    let p2 = step(
        p.clone(),
        &[serum(TestResult::Negative, at(24 * 7))],
        at(24 * 7),
        &s,
    );
    let r = refused(
        p2,
        tdxd_command(day(10), DoseLevel::Start),
        at(24 * 10 + 8),
        &s,
    );
    assert_eq!(r.rule, Rule::IMP_PREGNANCY);
    let p = step(
        p,
        &[serum(TestResult::Negative, at(24 * 8))],
        at(24 * 8),
        &s,
    );
    let p = step(
        p,
        &[tdxd_command(day(10), DoseLevel::Start)],
        at(24 * 10 + 8),
        &s,
    );
    let ev = p.tdxd_records[0].check.evidence.join(" | ");
    assert!(
        ev.contains("Negative serum pregnancy test preg-2") && ev.contains("T-DXd is an IMP"),
        "{ev}"
    );
}

/// A serious AE (hospitalisation) with onset on day 12, the site aware that noon and
/// reporting to the sponsor two hours later.
fn serious_ae(relation_imp: Causality, relation_tdxd: Causality) -> Command {
    let mut c = adverse_event_command(10028813, 3, day(12), at(24 * 12 + 3));
    if let Command::RecordAdverseEvent(a) = &mut c {
        a.serious_hospitalisation = true;
        a.relation_imp = relation_imp;
        a.relation_tdxd = relation_tdxd;
        a.reported_to_sponsor_at = Some(at(24 * 12 + 5));
    }
    c
}

#[test]
fn a13_the_regulatory_framework_gives_the_susar_clock_and_caps_the_sae_clock() {
    let s = Settings::default();
    let p = step(
        arm1(false, &s),
        &[tdxd_command(day(10), DoseLevel::Start)],
        at(24 * 10 + 8),
        &s,
    );
    let now = at(24 * 13);
    let clock = |p: &Participant, s: &Settings| {
        let ae = &current(&p.adverse_events).last().unwrap().value.ae;
        sae_clock_of(ae, now, s).unwrap().unwrap()
    };
    let related = step(
        p.clone(),
        &[serious_ae(Causality::Related, Causality::NotRelated)],
        now,
        &s,
    );
    let c = clock(&related, &s);
    assert_eq!(c.hours, 24);
    assert_eq!(c.regulatory_framework, RegulatoryFramework::EuCtr);
    let susar = c.susar.expect("EU CTR: a SUSAR clock");
    assert_eq!(susar.days, 15);
    assert_eq!(susar.due_at, Some(at(24 * 12 + 5) + Duration::days(15)));

    let observational =
        amended(|s| s.regulatory_framework = RegulatoryFramework::NonInterventional);
    assert_eq!(clock(&related, &observational).susar, None);
    // Under the CTR the protocol cannot give the site 48 hours; outside it, it can.
    let mut slow = observational.clone();
    slow.safety.sae_report_hours = 48;
    assert_eq!(slow.validate(), Ok(()));
    assert_eq!(clock(&related, &slow).hours, 48);
    slow.regulatory_framework = RegulatoryFramework::EuCtr;
    let r = slow.validate().unwrap_err();
    assert_eq!(r.rule, Rule::SETTINGS);
    assert!(
        r.message.contains("at most 24 hours under EU CTR"),
        "{}",
        r.message
    );

    // Related to T-DXd only: a SUSAR candidate only when T-DXd is an IMP.
    let tdxd_only = step(
        p,
        &[serious_ae(Causality::NotRelated, Causality::Related)],
        now,
        &s,
    );
    assert_eq!(clock(&tdxd_only, &s).susar, None);
    let as_imp = amended(|s| s.imp_products = vec![ImpProduct::Aby025, ImpProduct::Tdxd]);
    assert_eq!(clock(&tdxd_only, &as_imp).susar.map(|c| c.days), Some(15));
}

#[test]
fn a20_arm_1_ends_at_the_configured_event() {
    let s = Settings::default();
    let p = step(
        arm1(false, &s),
        &[tdxd_command(day(10), DoseLevel::Start)],
        at(24 * 10 + 8),
        &s,
    );
    // Pneumonitis grade 2 on day 14: T-DXd is discontinued permanently.
    let p = step(
        p,
        &[adverse_event_command(10035742, 2, day(14), at(24 * 14 + 3))],
        at(24 * 15),
        &s,
    );
    assert!(p.tdxd.discontinued.is_some());
    let end = Command::EndParticipation(EndParticipation {
        reason: OffStudyReason::Arm1EndEvent,
        ended_on: day(15),
        note: None,
    });
    let r = refused(p.clone(), end.clone(), at(24 * 15), &s);
    assert_eq!(r.rule, Rule::OFF_STUDY);
    assert!(r.message.contains("Progression"), "{}", r.message);
    let s = amended(|s| s.arm1.end_of_study_event = Arm1EndEvent::TreatmentDiscontinued);
    let p = step(p, &[end], at(24 * 15), &s);
    assert!(matches!(p.state, State::OffStudy { .. }), "{:?}", p.state);
}

#[test]
fn a23_every_t_dxd_decision_names_its_dose_modification_table_and_protocol() {
    let s = Settings::default();
    let p = step(
        arm1(false, &s),
        &[tdxd_command(day(10), DoseLevel::Start)],
        at(24 * 10 + 8),
        &s,
    );
    let ev = p.tdxd_records[0].check.evidence.join(" | ");
    assert!(
        ev.contains("dose rules: clinical-rules §1.3")
            && ev.contains("SmPC date not verified (clinical-rules A23)")
            && ev.contains("settings v1 (protocol: HER2-Ex PET registration NCT06830382"),
        "{ev}"
    );
    let s = amended(|s| {
        s.tdxd.dose_mod_table_version = "EU SmPC Table 2, checked by the sponsor".into();
        s.tdxd.smpc_date = NaiveDate::from_ymd_opt(2025, 4, 4);
    });
    // Neutrophils grade 3 on day 13: an interruption decided under the amendment.
    let p = step(
        p,
        &[lab(Analyte::Anc, 0.8, "10^9/L", None, at(24 * 13))],
        at(24 * 13 + 1),
        &s,
    );
    let d = p.tdxd.measurements.last().expect("an ANC decision");
    assert_eq!(d.settings_version, Some(2));
    let rules = d.dose_rules.as_deref().unwrap_or("");
    assert!(
        rules.contains("EU SmPC Table 2, checked by the sponsor")
            && rules.contains("EU SmPC of 2025-04-04")
            && rules.contains("HER2-Ex PET protocol v2.0 (amendment 1)"),
        "{rules}"
    );
}
