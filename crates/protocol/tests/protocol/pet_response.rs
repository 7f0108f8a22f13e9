//! The reader's PET response read PET1 → PET2 through `decide` (PROTOCOL §10, PERCIST-style):
//! the proposal, the confirmation with its category and versions, an unmatched hot spot
//! that is new only when the reader says so, and the refusals.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use protocol::imaging::PetCandidate;
use protocol::journey::tdxd::DoseLevel;
use protocol::percist::{ALGORITHM_VERSION, MetabolicCategory};
use protocol::pet_response::{Pet2Decision, Pet2LesionDecision, propose};
use protocol::records::IhcScore;
use protocol::testing::{
    baseline_pet_commands, enrol_command, fresh_biopsy_command, imp_command, pathology_command,
    pet_candidate, quantification_command, run_from, tdxd_command,
};
use protocol::{
    Command, ConfirmPetResponse, Event, Participant, PetTimepoint, Refusal, Rule, Settings, State,
};

use crate::common::{at, base};

fn day(h: i64) -> NaiveDate {
    at(h).date_naive()
}

fn now() -> DateTime<Utc> {
    at(24 * 200)
}

fn step(p: Participant, cmds: &[Command]) -> (Participant, Vec<Event>) {
    step_at(p, cmds, now())
}

/// Runs commands as they were entered at `at` (the history in its order).
fn step_at(p: Participant, cmds: &[Command], at: DateTime<Utc>) -> (Participant, Vec<Event>) {
    match run_from(p, cmds, at, &Settings::default()) {
        Ok(r) => r,
        Err((i, r)) => panic!("command {i} ({}) refused: {r}", cmds[i].name()),
    }
}

fn refused(p: &Participant, cmd: Command) -> Refusal {
    run_from(p.clone(), &[cmd], now(), &Settings::default())
        .expect_err("expected a refusal")
        .1
}

/// Enrolled, PET1 on day 2 (L1 SUVmax 9 / SUVpeak 7.2, L2 4.5 / 3.6, both confirmed), biopsy
/// on day 3.
fn after_pet1() -> Participant {
    let mut cmds = base();
    cmds.push(enrol_command(at(30)));
    let (p, _) = protocol::testing::run(&cmds, at(31), &Settings::default()).expect("enrolled");
    let (p, _) = step_at(p, &baseline_pet_commands(at(48)), at(50));
    step_at(p, &[fresh_biopsy_command(at(72))], at(73)).0
}

/// Arm 1 (HER2 1+), four cycles from day 10, PET2 on day 63 after cycle 1 day 1 with
/// these candidates.
fn with_pet2(candidates: Vec<PetCandidate>) -> Participant {
    let p = after_pet1();
    let path = pathology_command("biopsy-1", "A", IhcScore::OnePlus, false, day(24 * 6));
    let (mut p, _) = step_at(p, &[path], at(24 * 6));
    let c1d1 = day(24 * 10);
    for k in 0..4 {
        let cycle = tdxd_command(c1d1 + Duration::days(21 * k), DoseLevel::Start);
        p = step_at(p, &[cycle], at(24 * (10 + 21 * k) + 1)).0;
    }
    let inj = (c1d1 + Duration::days(63))
        .and_hms_opt(9, 0, 0)
        .unwrap()
        .and_utc();
    let pet2 = [
        imp_command(PetTimepoint::Pet2, inj),
        quantification_command(PetTimepoint::Pet2, "imp-2", inj, candidates),
    ];
    step_at(p, &pet2, inj + Duration::hours(2)).0
}

fn candidate(n: u32, x: f64, suv_max: f64, suv_peak: f64) -> PetCandidate {
    PetCandidate {
        suv_peak,
        centroid_mm: [x, 0.0, -100.0],
        ..pet_candidate(n, suv_max, None)
    }
}

/// PET2: 1 the kidney (physiological), 2 on PET1 L1 with SUVpeak 7.2 → 4.68 (−35 %),
/// 3 on PET1 L2 with 3.6 → 3.0, and the extra candidates given.
fn pet2_candidates(extra: Vec<PetCandidate>) -> Vec<PetCandidate> {
    let mut v = vec![
        PetCandidate {
            centroid_mm: [-80.0, 40.0, -150.0],
            ..pet_candidate(1, 40.0, Some("kidney"))
        },
        candidate(2, 10.0, 5.85, 4.68),
        candidate(3, 20.0, 3.75, 3.0),
    ];
    v.extend(extra);
    v
}

fn decision(candidate: u32, decision: Pet2Decision, pet1: Option<&str>) -> Pet2LesionDecision {
    Pet2LesionDecision {
        candidate,
        decision,
        pet1_lesion: pet1.map(str::to_owned),
    }
}

fn confirm(decisions: Vec<Pet2LesionDecision>) -> Command {
    Command::ConfirmPetResponse(ConfirmPetResponse {
        pet2_quantification_id: "petq-2".into(),
        decisions,
        background_suv: None,
        note: None,
    })
}

fn matched() -> Vec<Pet2LesionDecision> {
    vec![
        decision(1, Pet2Decision::NotALesion, None),
        decision(2, Pet2Decision::SameLesion, Some("L1")),
        decision(3, Pet2Decision::SameLesion, Some("L2")),
    ]
}

#[test]
fn a_35_percent_suvpeak_fall_at_pet2_is_a_partial_metabolic_response() {
    let p = with_pet2(pet2_candidates(vec![]));
    assert_eq!(p.state, State::ResponsePetDone);

    // The proposal pairs by centroid and sets the kidney aside; nothing awaits the reader.
    let offer = propose(&p, &Settings::default()).expect("proposal");
    assert_eq!(offer.pet2_quantification_id, "petq-2");
    let proposed: Vec<_> = offer
        .rows
        .iter()
        .map(|r| {
            (
                r.candidate,
                r.proposed,
                r.pair.as_ref().map(|x| x.pet1_lesion.as_str()),
            )
        })
        .collect();
    assert_eq!(
        proposed,
        [
            (1, Some(Pet2Decision::NotALesion), None),
            (2, Some(Pet2Decision::SameLesion), Some("L1")),
            (3, Some(Pet2Decision::SameLesion), Some("L2")),
        ]
    );
    assert_eq!(
        offer.rows[1].pair.as_ref().unwrap().suv_peak_change_pct,
        Some(-35.0)
    );
    assert!(offer.awaiting_decision.is_empty());
    assert_eq!(
        offer.provisional_category,
        MetabolicCategory::PartialMetabolicResponse
    );

    let (p, events) = step(p, &[confirm(matched())]);
    let [Event::PetResponseConfirmed { response: r }] = events.as_slice() else {
        panic!("one pet_response_confirmed event: {events:?}");
    };
    assert_eq!(r.response_id, "petresp-1");
    assert_eq!(r.category, MetabolicCategory::PartialMetabolicResponse);
    assert_eq!(r.hottest.pet1_lesion, "L1");
    assert_eq!(r.hottest.pet2_lesion.as_deref(), Some("L2"));
    assert_eq!(r.hottest.change_pct, Some(-35.0));
    assert_eq!(r.hottest.change_suv, -2.52);
    assert_eq!(r.pairs.len(), 2);
    assert_eq!(
        (
            r.pairs[0].pet1_lesion.as_str(),
            r.pairs[0].pet2_lesion.as_str()
        ),
        ("L1", "L2")
    );
    assert_eq!(r.pairs[0].suv_peak, [7.2, 4.68]);
    assert_eq!(r.pairs[1].suv_peak_change_pct, Some(-16.7));
    assert_eq!(r.algorithm_version, ALGORITHM_VERSION);
    assert_eq!(r.settings_version, 1);
    assert_eq!(r.pet1_review_id.as_deref(), Some("petr-1"));
    assert_eq!((r.background_suv, r.background_measured), (3.0, false));
    assert_eq!(r.supersedes, None);
    assert_eq!(p.pet_response().map(|x| x.category), Some(r.category));
    assert_eq!(
        p.state,
        State::ResponsePetDone,
        "the read does not move the journey"
    );
}

#[test]
fn an_unmatched_hot_spot_is_refused_until_the_reader_decides_and_new_is_progression() {
    // Candidate 4: a hot spot far from every PET1 lesion (SUVmax 8, SUVpeak 6).
    let p = with_pet2(pet2_candidates(vec![candidate(4, 250.0, 8.0, 6.0)]));
    let offer = propose(&p, &Settings::default()).expect("proposal");
    assert_eq!(offer.awaiting_decision, ["L4"]);
    assert_eq!(offer.rows[3].proposed, None);
    // Not new until the reader says so: 7.2 → 6.0 is −16.7 %, stable.
    assert_eq!(
        offer.provisional_category,
        MetabolicCategory::StableMetabolicDisease
    );

    let r = refused(&p, confirm(matched()));
    assert_eq!(r.rule, Rule::PET_RESPONSE, "{r}");
    assert!(
        r.message
            .contains("PET2 L4 (SUVmax 8.0, HER2-avid) has no decision"),
        "{r}"
    );

    // Not a lesion (e.g. inflammation): the other lesions decide, PMR.
    let mut set_aside = matched();
    set_aside.push(decision(4, Pet2Decision::NotALesion, None));
    let (p, _) = step(p, &[confirm(set_aside)]);
    assert_eq!(
        p.pet_response().unwrap().category,
        MetabolicCategory::PartialMetabolicResponse
    );

    // The reader reads again and calls it new: progression; the first read stays in history.
    let mut new = matched();
    new.push(decision(4, Pet2Decision::NewLesion, None));
    let (p, _) = step(p, &[confirm(new)]);
    let current = p.pet_response().unwrap();
    assert_eq!(
        current.category,
        MetabolicCategory::ProgressiveMetabolicDisease
    );
    assert_eq!(current.new_lesions, ["L4"]);
    assert_eq!(current.supersedes.as_deref(), Some("petresp-1"));
    assert_eq!(current.response_id, "petresp-2");
    assert_eq!(p.pet_responses.len(), 2);
    assert_eq!(
        p.pet_responses[0].category,
        MetabolicCategory::PartialMetabolicResponse
    );
}

#[test]
fn decisions_must_name_known_lesions_one_to_one() {
    let p = with_pet2(pet2_candidates(vec![]));
    let with = |f: &dyn Fn(&mut Vec<Pet2LesionDecision>)| {
        let mut d = matched();
        f(&mut d);
        confirm(d)
    };
    let cases: Vec<(Command, Rule, &str)> = vec![
        (
            with(&|d| d.push(decision(9, Pet2Decision::NewLesion, None))),
            Rule::ENTRY_UNKNOWN,
            "no candidate 9",
        ),
        (
            with(&|d| d[2].pet1_lesion = Some("L7".into())),
            Rule::ENTRY_UNKNOWN,
            "L7 is not a PET1 lesion",
        ),
        (
            with(&|d| d[2].pet1_lesion = Some("L1".into())),
            Rule::PET_RESPONSE,
            "PET1 L1 is matched to both",
        ),
        (
            with(&|d| d[1].pet1_lesion = None),
            Rule::VALUE_REQUIRED,
            "which PET1 lesion",
        ),
        (
            with(&|d| d[0].pet1_lesion = Some("L1".into())),
            Rule::PET_RESPONSE,
            "only a same-lesion decision",
        ),
        (
            with(&|d| d.push(decision(2, Pet2Decision::NewLesion, None))),
            Rule::PET_RESPONSE,
            "more than one decision",
        ),
    ];
    for (cmd, rule, says) in cases {
        let r = refused(&p, cmd);
        assert_eq!(r.rule, rule, "{r}");
        assert!(r.message.contains(says), "{says}: {r}");
    }
    let Command::ConfirmPetResponse(mut stale) = confirm(matched()) else {
        unreachable!()
    };
    stale.pet2_quantification_id = "petq-1".into();
    let r = refused(&p, Command::ConfirmPetResponse(stale.clone()));
    assert_eq!(r.rule, Rule::PET_RESPONSE, "{r}");
    stale.pet2_quantification_id = "petq-2".into();
    stale.background_suv = Some(-1.0);
    assert_eq!(
        refused(&p, Command::ConfirmPetResponse(stale)).rule,
        Rule::VALUE_IMPOSSIBLE
    );
}

#[test]
fn the_read_needs_arm_1_with_pet1_and_pet2_quantified() {
    // Before allocation: not arm 1.
    let p = after_pet1();
    let r = refused(&p, confirm(matched()));
    assert_eq!(r.rule, Rule::PET_RESPONSE, "{r}");
    assert!(r.message.contains("only arm 1"), "{r}");
    assert!(propose(&p, &Settings::default()).is_err());

    // Arm 1 on T-DXd without PET2.
    let path = pathology_command("biopsy-1", "A", IhcScore::OnePlus, false, day(24 * 6));
    let (p1, _) = step_at(p.clone(), &[path], at(24 * 6));
    let (p1, _) = step_at(
        p1,
        &[tdxd_command(day(24 * 10), DoseLevel::Start)],
        at(24 * 10 + 1),
    );
    assert_eq!(p1.state, State::OnTreatment);
    let r = refused(&p1, confirm(matched()));
    assert_eq!(r.rule, Rule::PET_RESPONSE, "{r}");
    assert!(r.message.contains("PET2 is not quantified"), "{r}");

    // Arm 2 (HER2 0) is in safety follow-up: the state machine refuses.
    let zero = pathology_command("biopsy-1", "A", IhcScore::Zero, false, day(24 * 6));
    let (p2, _) = step_at(p, &[zero], at(24 * 6));
    assert_eq!(p2.state, State::SafetyFollowUp);
    assert_eq!(
        refused(&p2, confirm(matched())).rule,
        Rule::STATE_TRANSITION
    );
}

#[test]
fn a_new_pet2_quantification_leaves_the_earlier_read_in_history_only() {
    let p = with_pet2(pet2_candidates(vec![]));
    let (p, _) = step(p, &[confirm(matched())]);
    assert!(p.pet_response().is_some());
    let inj = p
        .imp_administration(PetTimepoint::Pet2)
        .unwrap()
        .value
        .injected_at;
    let again = quantification_command(PetTimepoint::Pet2, "imp-2", inj, pet2_candidates(vec![]));
    let Command::RecordPetQuantification(mut q) = again else {
        unreachable!()
    };
    q.series_instance_uid.push_str(".9");
    let (p, _) = step(p, &[Command::RecordPetQuantification(q)]);
    assert_eq!(p.pet_response(), None, "the read was of petq-2");
    assert_eq!(p.pet_responses.len(), 1);
    let r = refused(&p, confirm(matched()));
    assert!(
        r.message
            .contains("not the current PET2 quantification (petq-3)"),
        "{r}"
    );
}
