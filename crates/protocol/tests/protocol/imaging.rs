//! HER2-PET in the trial: IMP administration (PROTOCOL §6), quantification, reader
//! review and the biopsy target proposal and choice (§7).

use chrono::{DateTime, Duration, Utc};
use protocol::imaging::{ReaderDecision, ReviewedLesion, form_discrepancies};
use protocol::records::{Specimen, TestResult};
use protocol::testing::{
    enrol_command, imp_command, investigator_signature, pet_candidate, quantification_command,
};
use protocol::{
    AddedLesion, CandidateDecision, ChooseBiopsyTarget, Command, Participant, PetTimepoint,
    RecordChildbearingPotential, RecordPregnancyTest, ReviewPetLesions, Rule, Settings, State,
    propose_biopsy_targets,
};

use crate::common::{at, base, build_with, plus};

const PET1: PetTimepoint = PetTimepoint::Pet1;

/// Injection time: two days after consent.
fn inj() -> DateTime<Utc> {
    at(48)
}

fn later() -> DateTime<Utc> {
    at(24 * 5)
}

fn enrolled(extra: Vec<Command>) -> Vec<Command> {
    let mut cmds = base();
    cmds.push(enrol_command(at(30)));
    cmds.extend(extra);
    cmds
}

fn run(
    cmds: &[Command],
) -> Result<(Participant, Vec<protocol::Event>), (usize, protocol::Refusal)> {
    protocol::testing::run(cmds, later(), &Settings::default())
}

fn refused(cmds: &[Command]) -> protocol::Refusal {
    run(cmds).expect_err("expected a refusal").1
}

fn ok(cmds: &[Command]) -> Participant {
    build_with(cmds, later(), &Settings::default()).0
}

fn wocbp() -> Command {
    Command::RecordChildbearingPotential(RecordChildbearingPotential {
        childbearing_potential: true,
        basis: None,
        contraception_agreed: Some(true),
        contraception_method: Some("copper IUD".into()),
        assessed_on: at(1).date_naive(),
        corrects: None,
        correction_reason: None,
    })
}

fn preg(specimen: Specimen, result: TestResult, sample_at: DateTime<Utc>) -> Command {
    Command::RecordPregnancyTest(RecordPregnancyTest {
        specimen,
        result,
        sample_at,
        for_study: true,
        late_entry_of_fact: false,
        corrects: None,
        correction_reason: None,
    })
}

/// A woman of child-bearing potential, eligible (negative serum test at screening), enrolled.
fn wocbp_enrolled(extra: Vec<Command>) -> Vec<Command> {
    let mut cmds = protocol::testing::eligible_participant_commands(
        "KS",
        "KS-014",
        crate::common::consent_at(),
    );
    for c in cmds.iter_mut() {
        if matches!(c, Command::RecordChildbearingPotential(_)) {
            *c = wocbp();
        }
    }
    cmds.push(preg(Specimen::Serum, TestResult::Negative, at(1)));
    cmds.push(enrol_command(at(30)));
    cmds.extend(extra);
    cmds
}

#[test]
fn imp_for_a_woman_without_childbearing_potential_needs_no_test() {
    let p = ok(&enrolled(vec![imp_command(PET1, inj())]));
    let a = p.imp_administration(PET1).unwrap();
    assert_eq!(a.entry_id, "imp-1");
    assert_eq!(a.value.pregnancy_test_entry, None);
    assert_eq!(p.state, State::Enrolled);
}

#[test]
fn imp_refused_for_wocbp_without_serum_test_in_72_hours() {
    // The screening test at hour 1 is 47 h before the injection at hour 48: inside.
    let p = ok(&wocbp_enrolled(vec![imp_command(PET1, inj())]));
    assert!(
        p.imp_administration(PET1)
            .unwrap()
            .value
            .pregnancy_test_entry
            .is_some()
    );
    // Injection at hour 73 + 1: the hour-1 test is 73 h old.
    let r = refused(&wocbp_enrolled(vec![imp_command(PET1, at(74))]));
    assert_eq!(r.rule, Rule::IMP_PREGNANCY);
    assert!(r.message.contains("72 hours"), "{}", r.message);
    assert!(r.message.contains("73 h before"), "{}", r.message);
    // Exactly 72 h old: accepted.
    let p = ok(&wocbp_enrolled(vec![imp_command(PET1, at(73))]));
    assert_eq!(p.imp_administrations.len(), 1);
}

#[test]
fn imp_window_is_configurable() {
    let mut s = Settings::default();
    s.pregnancy.test_max_hours_before_imp = 24;
    let cmds = wocbp_enrolled(vec![imp_command(PET1, inj())]);
    let r = protocol::testing::run(&cmds, later(), &s).unwrap_err().1;
    assert_eq!(r.rule, Rule::IMP_PREGNANCY);
    assert!(r.message.contains("24 hours"));
    let fresh = wocbp_enrolled(vec![
        preg(
            Specimen::Serum,
            TestResult::Negative,
            inj() - Duration::hours(20),
        ),
        imp_command(PET1, inj()),
    ]);
    let (p, _) = protocol::testing::run(&fresh, later(), &s).unwrap();
    assert_eq!(
        p.imp_administration(PET1)
            .unwrap()
            .value
            .pregnancy_test_entry
            .as_deref(),
        Some("preg-2")
    );
}

#[test]
fn urine_or_positive_tests_do_not_clear_the_imp() {
    // Urine test fresh, serum too old (hour 1 vs injection at hour 100).
    let r = refused(&wocbp_enrolled(vec![
        preg(Specimen::Urine, TestResult::Negative, at(99)),
        imp_command(PET1, at(100)),
    ]));
    assert_eq!(r.rule, Rule::IMP_PREGNANCY);
    assert!(r.hint.unwrap().contains("urine tests do not count"));
    let r = refused(&wocbp_enrolled(vec![
        preg(Specimen::Serum, TestResult::Positive, at(40)),
        imp_command(PET1, inj()),
    ]));
    assert_eq!(r.rule, Rule::IMP_PREGNANCY);
    assert!(r.message.contains("positive"), "{}", r.message);
    // A test taken after the injection does not count.
    let r = refused(&wocbp_enrolled(vec![
        preg(Specimen::Serum, TestResult::Negative, at(101)),
        imp_command(PET1, at(100)),
    ]));
    assert_eq!(r.rule, Rule::IMP_PREGNANCY);
}

#[test]
fn imp_values_and_timepoint_are_checked() {
    let bad = |f: &dyn Fn(&mut protocol::RecordImpAdministration)| {
        let mut c = imp_command(PET1, inj());
        if let Command::RecordImpAdministration(x) = &mut c {
            f(x);
        }
        refused(&enrolled(vec![c]))
    };
    assert_eq!(bad(&|x| x.activity_mbq = 0.0).rule, Rule::VALUE_IMPOSSIBLE);
    assert_eq!(
        bad(&|x| x.activity_mbq = 1500.0).rule,
        Rule::VALUE_IMPOSSIBLE
    );
    assert_eq!(bad(&|x| x.weight_kg = -3.0).rule, Rule::VALUE_IMPOSSIBLE);
    assert_eq!(bad(&|x| x.height_cm = 16.8).rule, Rule::VALUE_IMPOSSIBLE);
    assert_eq!(
        bad(&|x| x.scan_start_at = Some(x.injected_at - Duration::minutes(5))).rule,
        Rule::VALUE_IMPOSSIBLE
    );
    assert_eq!(
        bad(&|x| x.injected_at = later() + Duration::hours(1)).rule,
        Rule::VALUE_IMPOSSIBLE
    );
    // PET2 is for arm 1 on treatment only; before enrolment nothing is given.
    let r = refused(&enrolled(vec![imp_command(PetTimepoint::Pet2, inj())]));
    assert_eq!(r.rule, Rule::STATE_TRANSITION);
    assert!(r.message.contains("arm 1"), "{}", r.message);
    let r = refused(&plus(base(), [imp_command(PET1, inj())]));
    assert_eq!(r.rule, Rule::STATE_TRANSITION);
}

fn quantified(cands: Vec<protocol::imaging::PetCandidate>) -> Vec<Command> {
    enrolled(vec![
        imp_command(PET1, inj()),
        quantification_command(PET1, "imp-1", inj(), cands),
    ])
}

#[test]
fn quantification_makes_the_baseline_pet_done_and_keeps_header_agreement() {
    let p = ok(&quantified(vec![pet_candidate(1, 9.0, None)]));
    assert_eq!(p.state, State::BaselinePetDone);
    let q = p.pet_quantification(PET1).unwrap();
    assert_eq!(q.quantification_id, "petq-1");
    assert_eq!(q.algorithm_version, "pet 0.1.0");
    assert!(q.discrepancies.is_empty(), "{:?}", q.discrepancies);
}

#[test]
fn quantification_needs_its_administration() {
    let r = refused(&enrolled(vec![quantification_command(
        PET1,
        "imp-1",
        inj(),
        vec![],
    )]));
    assert_eq!(r.rule, Rule::PET_EXAM);
    let r = refused(&enrolled(vec![
        imp_command(PET1, inj()),
        quantification_command(PET1, "imp-7", inj(), vec![]),
    ]));
    assert_eq!(r.rule, Rule::PET_EXAM);
    assert!(r.message.contains("imp-1"));
}

#[test]
fn discrepancies_between_form_and_header_are_listed_beyond_rounding() {
    let p = ok(&enrolled(vec![imp_command(PET1, inj())]));
    let form = &p.imp_administration(PET1).unwrap().value;
    let mut h = protocol::imaging::PetHeaderFacts {
        injected_activity_mbq: Some(204.0), // +2.0 %: agrees
        injected_at: Some(inj() + Duration::seconds(60)),
        weight_kg: Some(68.5),
        height_cm: Some(169.0),
        ..Default::default()
    };
    assert!(form_discrepancies(form, &h, Default::default()).is_empty());
    h.injected_activity_mbq = Some(204.2); // +2.1 %
    h.injected_at = Some(inj() + Duration::seconds(61));
    h.weight_kg = Some(68.6);
    h.height_cm = None; // no height in the header: not a discrepancy (SUVbw does not need it)
    let d = form_discrepancies(form, &h, Default::default());
    let fields: Vec<&str> = d.iter().map(|d| d.field.as_str()).collect();
    assert_eq!(fields, ["injected activity", "injection time", "weight"]);
    assert_eq!(d[0].difference, "+2.1 %");
    assert_eq!(d[1].difference, "+1 min 01 s");
    assert_eq!(d[2].difference, "+0.6 kg");
    h.weight_kg = None;
    let d = form_discrepancies(form, &h, Default::default());
    assert_eq!(d[2].header, "not in the header");
}

fn decision(n: u32, d: ReaderDecision, site: &str, us: bool) -> CandidateDecision {
    CandidateDecision {
        candidate: n,
        decision: d,
        anatomical_site: Some(site.into()),
        ultrasound_accessible: Some(us),
        note: None,
    }
}

fn review(decisions: Vec<CandidateDecision>, added: Vec<AddedLesion>) -> Command {
    Command::ReviewPetLesions(ReviewPetLesions {
        timepoint: PET1,
        quantification_id: "petq-1".into(),
        decisions,
        added,
        note: None,
    })
}

fn choose(lesion: &str, reason: &str) -> Command {
    Command::ChooseBiopsyTarget(ChooseBiopsyTarget {
        timepoint: PET1,
        lesion: lesion.into(),
        reason: reason.into(),
        signature: investigator_signature(at(60)),
    })
}

/// Candidates: 1 kidney 40 (physiological), 2 liver met 12 (not accessible), 3 axillary
/// node 8.5 (accessible), 4 bone 6.0 (accessible), 5 node 4.0 (accessible).
fn five() -> Vec<Command> {
    quantified(vec![
        pet_candidate(1, 40.0, Some("kidney")),
        pet_candidate(2, 12.0, None),
        pet_candidate(3, 8.5, None),
        pet_candidate(4, 6.0, None),
        pet_candidate(5, 4.0, None),
    ])
}

fn five_reviewed() -> Command {
    review(
        vec![
            decision(1, ReaderDecision::Reject, "", false),
            decision(2, ReaderDecision::Confirm, "liver segment 7", false),
            decision(3, ReaderDecision::Confirm, "left axillary node", true),
            decision(4, ReaderDecision::Confirm, "iliac crest", true),
            decision(5, ReaderDecision::Confirm, "right axillary node", true),
        ],
        vec![],
    )
}

#[test]
fn proposal_ranks_accessible_avid_lesions_by_suvmax() {
    let p = ok(&plus(five(), [five_reviewed()]));
    let r = p.pet_review(PET1).unwrap();
    let ranked: Vec<(&str, Option<u32>)> = r
        .proposal
        .iter()
        .map(|t| (t.label.as_str(), t.rank))
        .collect();
    // SUVmax exactly 6.0 counts as avid (≥); the inaccessible liver lesion and the
    // non-avid node are listed but not proposed; the rejected kidney is last.
    assert_eq!(
        ranked,
        [
            ("L3", Some(1)),
            ("L4", Some(2)),
            ("L2", None),
            ("L5", None),
            ("L1", None)
        ]
    );
    assert!(
        r.proposal[0].reason.contains("8.5 ≥ 6"),
        "{}",
        r.proposal[0].reason
    );
    assert_eq!(r.proposal[2].reason, "Not accessible by ultrasound.");
    assert!(
        r.proposal[4]
            .reason
            .contains("physiological uptake: kidney")
    );
}

#[test]
fn without_an_accessible_avid_lesion_an_accessible_non_avid_one_is_proposed() {
    let l = |label: &str, suv: Option<f64>, us: bool| ReviewedLesion {
        label: label.into(),
        candidate: None,
        decision: ReaderDecision::Confirm,
        anatomical_site: Some("site".into()),
        ultrasound_accessible: Some(us),
        suv_max: suv,
        suv_peak: None,
        centroid_mm: None,
        physiological: None,
        note: None,
    };
    let lesions = vec![
        l("L1", Some(14.0), false),
        l("L2", Some(5.99), true),
        l("A1", None, true),
        l("L3", Some(3.2), true),
    ];
    let p = propose_biopsy_targets(&lesions, 6.0);
    let ranked: Vec<(&str, Option<u32>)> = p.iter().map(|t| (t.label.as_str(), t.rank)).collect();
    assert_eq!(
        ranked,
        [
            ("L2", Some(1)),
            ("L3", Some(2)),
            ("A1", Some(3)),
            ("L1", None)
        ]
    );
    assert!(p[0].reason.starts_with("No accessible HER2-avid lesion"));
    // The threshold is the setting's: at 5.5, L2 is avid and alone proposed.
    let p = propose_biopsy_targets(&lesions, 5.5);
    assert_eq!(p.iter().filter(|t| t.rank.is_some()).count(), 1);
    assert_eq!(p[0].label, "L2");
}

#[test]
fn physiological_uptake_is_proposed_only_after_the_reader_confirms_it() {
    let reject_kidney = plus(five(), [five_reviewed()]);
    let p = ok(&reject_kidney);
    assert!(
        p.pet_review(PET1)
            .unwrap()
            .proposal
            .iter()
            .all(|t| t.label != "L1" || t.rank.is_none())
    );
    let mut confirmed = five_reviewed();
    if let Command::ReviewPetLesions(r) = &mut confirmed {
        r.decisions[0] = decision(1, ReaderDecision::Confirm, "left kidney lower pole", true);
    }
    let p = ok(&plus(five(), [confirmed]));
    assert_eq!(p.pet_review(PET1).unwrap().proposal[0].label, "L1");
}

#[test]
fn review_must_decide_every_candidate_once_and_describe_confirmed_lesions() {
    let mut missing = five_reviewed();
    if let Command::ReviewPetLesions(r) = &mut missing {
        r.decisions.pop();
    }
    let r = refused(&plus(five(), [missing]));
    assert_eq!(r.rule, Rule::PET_EXAM);
    assert!(r.message.contains("Candidate 5 has no decision"));
    let mut twice = five_reviewed();
    if let Command::ReviewPetLesions(r) = &mut twice {
        r.decisions
            .push(decision(2, ReaderDecision::Reject, "", false));
    }
    assert!(
        refused(&plus(five(), [twice]))
            .message
            .contains("Candidate 2 has 2 decisions")
    );
    let mut unknown = five_reviewed();
    if let Command::ReviewPetLesions(r) = &mut unknown {
        r.decisions
            .push(decision(9, ReaderDecision::Reject, "", false));
    }
    assert_eq!(refused(&plus(five(), [unknown])).rule, Rule::ENTRY_UNKNOWN);
    let mut nosite = five_reviewed();
    if let Command::ReviewPetLesions(r) = &mut nosite {
        r.decisions[2].anatomical_site = Some("  ".into());
    }
    let r = refused(&plus(five(), [nosite]));
    assert_eq!(r.rule, Rule::VALUE_REQUIRED);
    assert!(r.message.contains("L3"));
}

#[test]
fn added_lesions_join_the_proposal() {
    let mut cmd = five_reviewed();
    if let Command::ReviewPetLesions(r) = &mut cmd {
        r.added.push(AddedLesion {
            anatomical_site: "supraclavicular node".into(),
            ultrasound_accessible: true,
            suv_max: Some(11.0),
            note: Some("below the candidate threshold on this reconstruction".into()),
        });
        r.added.push(AddedLesion {
            anatomical_site: "sternal node".into(),
            ultrasound_accessible: true,
            suv_max: None,
            note: None,
        });
    }
    let p = ok(&plus(five(), [cmd]));
    let first = &p.pet_review(PET1).unwrap().proposal[0];
    assert_eq!((first.label.as_str(), first.rank), ("A1", Some(1)));
    let a2 = p
        .pet_review(PET1)
        .unwrap()
        .proposal
        .iter()
        .find(|t| t.label == "A2")
        .unwrap();
    assert_eq!(a2.rank, None);
    assert_eq!(
        a2.reason,
        "Accessible, SUVmax not measured, while an accessible avid lesion exists."
    );
}

#[test]
fn investigator_chooses_a_confirmed_lesion_with_a_reason() {
    let cmds = plus(
        five(),
        [
            five_reviewed(),
            choose("L4", "Bone lesion easier to reach than the node"),
        ],
    );
    let p = ok(&cmds);
    let c = p.biopsy_target(PET1).unwrap();
    assert_eq!(c.label, "L4");
    assert_eq!(c.proposed_rank, Some(2));
    assert!(!c.follows_proposal);
    assert_eq!(c.lesion.anatomical_site.as_deref(), Some("iliac crest"));
    let p = ok(&plus(
        five(),
        [five_reviewed(), choose("L3", "First choice")],
    ));
    assert!(p.biopsy_target(PET1).unwrap().follows_proposal);
}

#[test]
fn target_choice_refusals_name_the_rule() {
    let r = refused(&plus(five(), [five_reviewed(), choose("L1", "hot")]));
    assert_eq!(r.rule, Rule::BIOPSY_TARGET);
    assert!(r.message.contains("rejected"));
    let r = refused(&plus(five(), [five_reviewed(), choose("L9", "?")]));
    assert_eq!(r.rule, Rule::BIOPSY_TARGET);
    assert!(r.message.contains("L2, L3, L4, L5"), "{}", r.message);
    assert_eq!(
        refused(&plus(five(), [five_reviewed(), choose("L3", " ")])).rule,
        Rule::VALUE_REQUIRED
    );
    assert_eq!(
        refused(&plus(five(), [choose("L3", "no review yet")])).rule,
        Rule::BIOPSY_TARGET
    );
}

#[test]
fn requantification_needs_a_new_review() {
    let mut cmds = plus(five(), [five_reviewed()]);
    cmds.push(quantification_command(
        PET1,
        "imp-1",
        inj(),
        vec![pet_candidate(1, 7.0, None)],
    ));
    let p = ok(&cmds);
    assert_eq!(
        p.pet_quantification(PET1).unwrap().quantification_id,
        "petq-2"
    );
    assert!(p.pet_review(PET1).is_none());
    // Reviewing the old quantification is refused.
    let r = refused(&plus(cmds, [five_reviewed()]));
    assert_eq!(r.rule, Rule::PET_EXAM);
    assert!(r.message.contains("petq-2"));
}

#[test]
fn time_discrepancies_read_in_days_hours_and_minutes() {
    let p = ok(&enrolled(vec![imp_command(PET1, inj())]));
    let form = &p.imp_administration(PET1).unwrap().value;
    let diff = |secs: i64| {
        let h = protocol::imaging::PetHeaderFacts {
            injected_activity_mbq: Some(200.0),
            injected_at: Some(inj() + Duration::seconds(secs)),
            weight_kg: Some(68.0),
            ..Default::default()
        };
        form_discrepancies(form, &h, Default::default())[0]
            .difference
            .clone()
    };
    assert_eq!(diff(-61), "-1 min 01 s");
    assert_eq!(diff(2 * 3600 + 5 * 60), "+2 h 05 min");
    assert_eq!(diff(-(268 * 86_400 + 3600 + 52 * 60)), "-268 d 01 h 52 min");
}

#[test]
fn contraception_runs_six_calendar_months_from_the_last_imp_dose_for_a_wocbp_only() {
    use protocol::journey::contraception::contraception_period;
    let s = Settings::default();
    let p = ok(&wocbp_enrolled(vec![imp_command(PET1, inj())]));
    let period = contraception_period(&p, &s).expect("a woman of child-bearing potential");
    let dose = inj().date_naive();
    assert_eq!(
        period.until,
        dose.checked_add_months(chrono::Months::new(6)).unwrap()
    );
    assert!(
        period.basis.contains("6 months after the last IMP dose"),
        "{}",
        period.basis
    );
    assert_eq!(period.settings_version, s.version);
    // Another setting, another end; no period for a woman who cannot become pregnant.
    let mut longer = s.clone();
    longer.pregnancy.contraception_months_after_last_imp = 9;
    let p9 = contraception_period(&p, &longer).unwrap();
    assert_eq!(
        p9.until,
        dose.checked_add_months(chrono::Months::new(9)).unwrap()
    );
    let not = ok(&enrolled(vec![imp_command(PET1, inj())]));
    assert_eq!(contraception_period(&not, &s), None);
}
