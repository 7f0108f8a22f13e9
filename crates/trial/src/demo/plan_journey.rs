//! One woman's journey in the demo, from consent to her end of participation, as the
//! sites would have entered it (see [`super::plan`]).

use chrono::{DateTime, Duration, NaiveDate, Utc};
use protocol::imaging::PetTimepoint;
use protocol::labs::Analyte;
use protocol::records::IhcScore;
use protocol::{Command, Rule, testing};
use rand::Rng;

use crate::Role;
use analysis::simulate::assumptions::LesionSite as SimSite;
use analysis::simulate::generate::{Allocation, Enrolled, Screening, SimParticipant};
use protocol::journey::pathology::Her2Category;

use super::people;
use super::plan::{Action, Builder, PetJob, failure_reason};
use super::plan_treatment;

/// What an investigator's attestation signature means.
pub const ATTEST_MEANING: &str =
    "I attest that the answers I give here are true for this participant.";
/// What the enrolment signature means.
pub const ENROL_MEANING: &str = "I confirm that this participant meets every eligibility criterion and enrol her in HER2-Ex PET.";
/// What the biopsy target signature means.
pub const TARGET_MEANING: &str = "I choose this lesion as the biopsy target for the reason given.";

/// Consent, screening and, when she is enrolled, the rest of her journey.
pub fn journey(b: &mut Builder, i: usize, sp: &SimParticipant, consent_at: DateTime<Utc>) {
    let nurse = b.staff(i, Role::ResearchNurse);
    let inv = b.staff(i, Role::Investigator);
    let site = b.plan.people[i].site;
    let mut screening = testing::eligible_screening_commands(site, "", consent_at);
    let weight = (b.rng.random_range(52.0..88.0_f64) * 10.0).round() / 10.0;
    for c in &mut screening {
        if let Command::RecordBodyWeight(w) = c {
            w.weight_kg = weight;
        }
    }
    if let Screening::Failed { criterion } = &sp.screening {
        make_fail(&mut screening, *criterion);
    }
    let (attestations, forms): (Vec<Command>, Vec<Command>) = screening
        .into_iter()
        .partition(|c| matches!(c, Command::RecordAttestation(_)));
    // Consented in the last days: the nurse has entered part of the screening so far.
    if b.cal.present - consent_at < Duration::days(4) {
        let part = forms.len() / 2;
        b.add(
            i,
            consent_at + Duration::hours(3),
            nurse,
            Action::Enter(forms[..part].to_vec()),
        );
        return;
    }
    if !b.add(
        i,
        consent_at + Duration::hours(3),
        nurse,
        Action::Enter(forms),
    ) {
        return;
    }
    let attest_at = consent_at + Duration::hours(4);
    let signed = attestations
        .into_iter()
        .map(|c| match c {
            Command::RecordAttestation(a) => {
                Command::RecordAttestation(protocol::RecordAttestation {
                    signature: people::sign(inv, ATTEST_MEANING, attest_at),
                    ..a
                })
            }
            other => other,
        })
        .collect();
    if !b.add(
        i,
        attest_at + Duration::minutes(5),
        inv,
        Action::Enter(signed),
    ) {
        return;
    }
    match &sp.screening {
        Screening::Failed { criterion } => {
            let day = b.cal.day(consent_at) + b.days(2, 6);
            let fail = Command::ScreenFail(protocol::ScreenFail {
                reason: failure_reason(*criterion),
            });
            b.add(i, b.cal.at(day, 10, 30), inv, Action::Enter(vec![fail]));
        }
        Screening::Enrolled(e) => enrolled(b, i, sp.number, e, consent_at, weight),
    }
}

/// Screening data that fail `rule`, where the data can show it (the other criteria are
/// the investigator's judgement, written in the screen failure's reason).
fn make_fail(commands: &mut [Command], rule: Rule) {
    for c in commands {
        match (rule.id(), c) {
            ("EX4", Command::RecordLab(l)) if l.analyte == Analyte::Lvef => l.value = 45.0,
            ("EX5", Command::RecordLab(l)) if l.analyte == Analyte::Inr => l.value = 1.6,
            ("IN6", Command::RecordPerformanceStatus(p)) => p.who_ps = 3,
            ("EX2", Command::RecordPriorHer2Result(h)) => h.ihc_score = Some(IhcScore::ThreePlus),
            _ => {}
        }
    }
}

/// Enrolment, baseline HER2-PET, biopsy, pathology, and the arm.
fn enrolled(
    b: &mut Builder,
    i: usize,
    number: usize,
    e: &Enrolled,
    consent_at: DateTime<Utc>,
    weight: f64,
) {
    let inv = b.staff(i, Role::Investigator);
    let enrol_day = b.cal.day(consent_at) + b.days(1, 3);
    let signed_at = b.cal.at(enrol_day, 10, 0);
    let enrol = Command::Enrol(protocol::Enrol {
        signature: people::sign(inv, ENROL_MEANING, signed_at),
    });
    if !b.add(
        i,
        signed_at + Duration::minutes(5),
        inv,
        Action::Enter(vec![enrol]),
    ) {
        return;
    }
    if b.specials.withdraws_early == Some(number) {
        b.withdraw(i, b.cal.at(enrol_day + Duration::days(1), 14, 0));
        return;
    }
    let pet1_day = enrol_day + b.days(1, 4);
    let Some(reported) = pet1_to_pathology(b, i, e, pet1_day, weight) else {
        return;
    };
    match &e.allocation {
        Allocation::Arm1(t) => {
            let ctx = plan_treatment::Arm1 {
                person: i,
                number,
                enrolled: e,
                treatment: t,
                allocated: reported,
                weight,
            };
            plan_treatment::arm1(b, &ctx);
        }
        Allocation::Arm2 => arm2(b, i, number, pet1_day),
        // IHC 3+: off study by the protocol's own rule; nothing more to enter.
        Allocation::OffStudyHer2Positive => {}
    }
}

/// PET1 on `pet1_day` (read, reviewed, the target chosen the next morning), the biopsy
/// two or three days later and its pathology report; the report's day, or `None` when
/// her journey reaches today before it.
fn pet1_to_pathology(
    b: &mut Builder,
    i: usize,
    e: &Enrolled,
    pet1_day: NaiveDate,
    weight: f64,
) -> Option<NaiveDate> {
    let reader = b.staff(i, Role::NuclearMedicineReader);
    let same = |_: usize| (1.0, 1.0);
    let job = pet_job(b, i, PetTimepoint::Pet1, pet1_day, e, weight, &same, None);
    let review = Action::Review { job };
    if !b.add_pet(i, job, reader) || !b.add(i, b.cal.at(pet1_day, 15, 0), reader, review) {
        return None;
    }
    let choose_at = b.cal.at(pet1_day + Duration::days(1), 9, 0);
    if !b.add(
        i,
        choose_at,
        b.staff(i, Role::Investigator),
        Action::ChooseTarget { job },
    ) {
        return None;
    }
    let biopsy_day = pet1_day + b.days(2, 3);
    let biopsy = testing::fresh_biopsy_command(b.cal.at(biopsy_day, 10, 0));
    let nurse = b.staff(i, Role::ResearchNurse);
    if !b.add(
        i,
        b.cal.at(biopsy_day, 11, 30),
        nurse,
        Action::Enter(vec![biopsy]),
    ) {
        return None;
    }
    let reported = biopsy_day + b.days(3, 6);
    let path = b.staff(i, Role::Pathologist);
    let (ihc, amplified) = ihc_of(b, e.her2);
    let report = match testing::pathology_command("biopsy-1", "A1", ihc, amplified, reported) {
        Command::RecordPathology(r) => Command::RecordPathology(protocol::RecordPathology {
            reader: people::display_name(path).into(),
            ..r
        }),
        other => other,
    };
    b.add(
        i,
        b.cal.at(reported, 14, 0),
        path,
        Action::Enter(vec![report]),
    )
    .then_some(reported)
}

/// The biopsy's IHC score for her HER2 category (HER2-low: 1+ or 2+ without amplification).
fn ihc_of(b: &mut Builder, her2: Her2Category) -> (IhcScore, bool) {
    match her2 {
        Her2Category::Null => (IhcScore::Zero, false),
        Her2Category::Ultralow => (IhcScore::Ultralow, false),
        Her2Category::Low if b.rng.random_bool(0.6) => (IhcScore::OnePlus, false),
        Her2Category::Low => (IhcScore::TwoPlus, false),
        Her2Category::Positive => (IhcScore::ThreePlus, false),
    }
}

/// Arm 2: now and then an adverse event after the PET, and the end of the follow-up 14
/// days after it (forgotten for one in eight, whose end visit turns overdue).
fn arm2(b: &mut Builder, i: usize, number: usize, pet1_day: NaiveDate) {
    let nurse = b.staff(i, Role::ResearchNurse);
    let inv = b.staff(i, Role::Investigator);
    if b.rng.random_bool(0.3) {
        let onset = pet1_day + b.days(1, 4);
        let aware = b.cal.at(onset + Duration::days(1), 13, 0);
        let mut ae = testing::adverse_event_command(10019211, 1, onset, aware);
        if let Command::RecordAdverseEvent(a) = &mut ae {
            a.relation_imp = protocol::journey::safety::Causality::PossiblyRelated;
            a.relation_tdxd = protocol::journey::safety::Causality::NotApplicable;
            a.action_tdxd = protocol::journey::safety::ActionTaken::NotApplicable;
            a.verbatim = Some("mild headache the day after the PET".into());
        }
        if !b.add(i, aware, nurse, Action::Enter(vec![ae])) {
            return;
        }
    }
    if number % 8 == 3 {
        return;
    }
    let ended_on = pet1_day + Duration::days(14);
    let end = Command::EndParticipation(protocol::EndParticipation {
        reason: protocol::OffStudyReason::Arm2FollowUpComplete,
        ended_on,
        note: None,
    });
    b.add(i, b.cal.at(ended_on, 14, 0), inv, Action::Enter(vec![end]));
}

/// The phantom lesion site of a simulated lesion.
fn phantom_site(site: SimSite) -> pet::phantom::anatomy::LesionSite {
    use pet::phantom::anatomy::LesionSite as P;
    match site {
        SimSite::Bone => P::Bone,
        SimSite::LymphNode => P::LymphNode,
        SimSite::Liver => P::Liver,
        SimSite::Lung => P::Lung,
        SimSite::SoftTissue => P::SoftTissue,
        SimSite::Breast => P::Breast,
    }
}

/// A HER2-PET of woman `i` on `day` (injection 09:30): her PET1 lesions with each SUVmax
/// and diameter scaled by `change` (1, 1 at PET1), and an `extra` new lesion.
///
/// Adjustments the phantom needs, kept small and stated: the biopsied lesion (the first)
/// sits where ultrasound reaches (a lymph node when the simulator put it in bone or lung);
/// a liver lesion not brighter than the liver (invisible on this tracer's PET) is drawn in
/// a lymph node; no lesion is fainter than SUV 2 (the tissue around it).
#[allow(clippy::too_many_arguments)]
pub fn pet_job(
    b: &mut Builder,
    i: usize,
    tp: PetTimepoint,
    day: NaiveDate,
    e: &Enrolled,
    weight: f64,
    change: &dyn Fn(usize) -> (f64, f64),
    extra: Option<(SimSite, f64)>,
) -> usize {
    use pet::phantom::anatomy::LesionSite as P;
    let liver = e.liver_background_suv;
    let mut lesions = Vec::new();
    let mut places = Vec::new();
    let all = e
        .lesions
        .iter()
        .map(|l| (l.site, l.suv_max, l.mtv_ml))
        .chain(extra.map(|(s, suv)| (s, suv, 3.0)));
    for (k, (site, suv, mtv)) in all.enumerate().take(12) {
        let mut p = phantom_site(site);
        if (k == 0 && matches!(p, P::Bone | P::Lung)) || (p == P::Liver && suv < 1.3 * liver) {
            p = P::LymphNode;
        }
        let (f_suv, f_size) = if k < e.lesions.len() {
            change(k)
        } else {
            (1.0, 1.0)
        };
        let diameter = (10.0 * (6.0 * mtv / std::f64::consts::PI).cbrt()).clamp(12.0, 35.0);
        let floor = if p == P::Liver { 1.3 * liver } else { 2.0 };
        let request = |f_suv: f64, f_size: f64| pet::phantom::LesionRequest {
            site: p,
            suv_max: (suv * f_suv).max(floor),
            diameter_mm: (diameter * f_size).clamp(8.0, 45.0),
        };
        lesions.push(request(f_suv, f_size));
        if k < e.lesions.len() {
            places.push(request(1.0, 1.0));
        }
    }
    // Her anatomy and lesion places follow her; each exam has its own noise and UIDs.
    let seed = b.seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (i as u64 + 1);
    let injected_local = day.and_hms_opt(9, 30, 0).unwrap_or_default();
    let spec = pet::phantom::PhantomSpec {
        patient_id: None,
        injected_at: injected_local,
        weight_kg: weight,
        height_m: 1.55 + (i % 24) as f64 / 100.0,
        injected_mbq: b.rng.random_range(140.0..210.0_f64).round(),
        lesions: Some(lesions),
        liver_suv: Some(liver),
        exam: tp as u64,
        // Later exams show her PET1 lesions where PET1 had them.
        places: (tp != PetTimepoint::Pet1).then_some(places),
        ..pet::phantom::PhantomSpec::demo(seed)
    };
    b.plan.pets.push(PetJob {
        person: i,
        timepoint: tp,
        spec,
        injected_at: b.cal.at(day, 9, 30),
        biopsied_suv: e.biopsied_lesion().suv_max,
    });
    b.plan.pets.len() - 1
}
