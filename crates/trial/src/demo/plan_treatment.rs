//! Arm 1 in the demo: T-DXd every 21 days with the labs and weight of the day before,
//! adverse events with their follow-ups and the dose rules they trigger (neutropenia
//! holds, ILD holds and discontinuation, reductions after grade 3), CTs with RECIST 1.1
//! every six weeks following the woman's simulated best response and progression, PET2
//! after 3–4 cycles, PET3 and the end at progression, a withdrawal, a loss to follow-up
//! and a death.

use chrono::{Duration, NaiveDate};
use protocol::imaging::PetTimepoint;
use protocol::journey::safety::{ActionTaken, AeOutcome, Causality};
use protocol::journey::tdxd::DoseLevel;
use protocol::labs::Analyte;
use protocol::{Command, testing};
use rand::Rng;

use crate::Role;
use analysis::simulate::assumptions::LesionSite as SimSite;
use analysis::simulate::generate::{Enrolled, Treatment};

use super::plan::{Action, Builder};
use super::plan_journey::pet_job;

/// Days in a month of the simulator's PFS.
const DAYS_PER_MONTH: f64 = 30.44;

/// An arm-1 woman as the plan needs her.
pub struct Arm1<'a> {
    /// Index in the plan's people.
    pub person: usize,
    /// Screening number in the simulated trial.
    pub number: usize,
    /// Her simulated data.
    pub enrolled: &'a Enrolled,
    /// What T-DXd does for her.
    pub treatment: &'a Treatment,
    /// The day the pathology report allocated her.
    pub allocated: NaiveDate,
    /// Body weight at screening, kg.
    pub weight: f64,
}

/// An adverse event planned for a cycle, and what it does to the next dose.
struct PlannedAe {
    cycle: u32,
    code: u32,
    term: String,
    grade: u8,
}

/// What the next dose has to respect.
#[derive(Default)]
struct Course {
    level: Option<DoseLevel>,
    delay: Option<String>,
    reduction: Option<String>,
    /// Adverse events to follow up (resolved) before the next dose: command, resolution day.
    open: Vec<(Command, NaiveDate)>,
    stopped: bool,
}

/// T-DXd from cycle 1 day 1 until progression, the end of her participation or today.
pub fn arm1(b: &mut Builder, a: &Arm1) {
    let Some(mut imaging) = Imaging::start(b, a) else {
        return;
    };
    let aes = plan_aes(b, a);
    let mut course = Course {
        level: Some(DoseLevel::Start),
        ..Course::default()
    };
    let mut day = imaging.c1d1;
    for cycle in 1..=40u32 {
        if !dose(b, a, &mut course, cycle, day) {
            return;
        }
        for ae in aes.iter().filter(|x| x.cycle == cycle) {
            if !adverse_event(b, a, &mut course, ae, day) {
                return;
            }
        }
        if course.stopped || leaves(b, a, cycle, day) {
            return;
        }
        let mut next = day + Duration::days(21);
        if let Some(extra) = course.delay.as_ref().map(|_| b.days(5, 8)) {
            next += extra;
        }
        if !imaging.before(b, a, next) {
            return;
        }
        day = next;
    }
}

/// A withdrawal after cycle 3 or a loss to follow-up after cycle 5, for the women the
/// plan gave those paths; `true` when her journey ends there.
fn leaves(b: &mut Builder, a: &Arm1, cycle: u32, day: NaiveDate) -> bool {
    let i = a.person;
    if b.specials.withdraws_on_treatment == Some(a.number) && cycle == 3 {
        b.withdraw(i, b.cal.at(day + Duration::days(10), 11, 0));
        return true;
    }
    if b.specials.lost == Some(a.number) && cycle == 5 {
        let lost = Command::RecordLostToFollowUp(protocol::RecordLostToFollowUp {
            last_contact_on: day,
            note: Some("No answer to calls or letters since her fifth cycle".into()),
        });
        let at = b.cal.at(day + Duration::days(45), 10, 0);
        let inv = b.staff(i, Role::Investigator);
        b.add(i, at, inv, Action::Enter(vec![lost]));
        return true;
    }
    false
}

/// Her imaging on T-DXd: a CT every six weeks from cycle 1 day 1, PET2 once, and where
/// her simulated progression shows.
struct Imaging {
    c1d1: NaiveDate,
    pet2_day: Option<NaiveDate>,
    progression_day: Option<NaiveDate>,
    next_ct: i64,
    tumour: Tumour,
}

impl Imaging {
    /// Cycle 1 day 1 a few days after allocation, with the baseline CT read before it;
    /// `None` when that is after today.
    fn start(b: &mut Builder, a: &Arm1) -> Option<Imaging> {
        let i = a.person;
        let reader = b.staff(i, Role::NuclearMedicineReader);
        let c1d1 = a.allocated + b.days(4, 9);
        let ct0 = c1d1 - b.days(2, 5);
        let baseline = Action::Enter(vec![testing::ct_baseline_command(ct0)]);
        let read_at = b.cal.at(ct0 + Duration::days(1), 16, 0);
        if !b.add(i, read_at, reader, baseline) {
            return None;
        }
        let late = b.specials.late_pet2.contains(&a.number);
        let pet2 = c1d1 + if late { b.days(90, 95) } else { b.days(63, 80) };
        let pfs = &a.treatment.pfs;
        let progression_day = pfs
            .event
            .then(|| c1d1 + Duration::days((pfs.months * DAYS_PER_MONTH) as i64));
        // PET2 only if it comes before the CT that shows progression.
        let progression_ct = progression_day.map(|p| {
            let k = ((p - c1d1).num_days() + 41).div_euclid(42).max(1);
            c1d1 + Duration::days(42 * k)
        });
        Some(Imaging {
            c1d1,
            pet2_day: progression_ct.is_none_or(|ct| pet2 <= ct).then_some(pet2),
            progression_day,
            next_ct: 1,
            tumour: Tumour::new(a.treatment.best_change_pct),
        })
    }

    /// The PET2 and CTs due before the dose of `next`; `false` when her journey ends
    /// (today, or progression and what follows it). PET2 is never planned past the next
    /// dose, so an adverse event of the next cycle that ends her participation comes
    /// after its read.
    fn before(&mut self, b: &mut Builder, a: &Arm1, next: NaiveDate) -> bool {
        if let Some(day) = self.pet2_day.filter(|d| *d < next) {
            self.pet2_day = None;
            if !pet2(b, a, day) {
                return false;
            }
        }
        let reader = b.staff(a.person, Role::NuclearMedicineReader);
        while self.c1d1 + Duration::days(42 * self.next_ct) < next {
            let scan = self.c1d1 + Duration::days(42 * self.next_ct);
            self.next_ct += 1;
            let progressed = self.progression_day.is_some_and(|p| p <= scan);
            let (t1, t2) = self.tumour.scan(progressed);
            let ct = Action::Enter(vec![testing::ct_follow_up_command(scan, t1, t2)]);
            if !b.add(
                a.person,
                b.cal.at(scan + Duration::days(1), 11, 0),
                reader,
                ct,
            ) {
                return false;
            }
            if progressed {
                after_progression(b, a, scan);
                return false;
            }
        }
        true
    }
}

/// The day before: follow-ups of open adverse events, ANC, platelets and weight (and
/// an LVEF every fourth cycle); on the day, the dose. `false` when the plan reached today.
fn dose(b: &mut Builder, a: &Arm1, c: &mut Course, cycle: u32, day: NaiveDate) -> bool {
    let i = a.person;
    let nurse = b.staff(i, Role::ResearchNurse);
    let eve = day - Duration::days(1);
    for (mut follow, resolved) in std::mem::take(&mut c.open) {
        if let Command::RecordAdverseEvent(x) = &mut follow {
            x.resolved = Some(resolved.min(eve));
            x.outcome = AeOutcome::Recovered;
        }
        let at = b.cal.at(eve, 11, 0);
        let action = Action::FollowUp {
            command: Box::new(follow),
            reason: "Follow-up: resolved",
        };
        if !b.add(i, at, nurse, action) {
            return false;
        }
    }
    let sampled = b.cal.at(eve, 8, 0);
    let anc = (b.rng.random_range(2.0..5.5_f64) * 10.0).round() / 10.0;
    let plt = b.rng.random_range(150.0..320.0_f64).round();
    let mut visit = vec![
        testing::lab(Analyte::Anc, anc, "10^9/L", None, sampled),
        testing::lab(Analyte::Platelets, plt, "10^9/L", None, sampled),
    ];
    if cycle.is_multiple_of(4) {
        let lvef = b.rng.random_range(55.0..62.0_f64).round();
        visit.push(testing::lab(Analyte::Lvef, lvef, "%", None, sampled));
    }
    let weight = (a.weight + b.rng.random_range(-1.5..1.5_f64)).max(40.0);
    let weight = (weight * 10.0).round() / 10.0;
    visit.push(Command::RecordBodyWeight(protocol::RecordBodyWeight {
        weight_kg: weight,
        measured_on: eve,
        corrects: None,
        correction_reason: None,
    }));
    if !b.add(i, b.cal.at(eve, 13, 0), nurse, Action::Enter(visit)) {
        return false;
    }
    let level = c.level.unwrap_or(DoseLevel::Start);
    let dose = Command::RecordTdxdAdministration(protocol::RecordTdxdAdministration {
        date: day,
        weight_kg: weight,
        dose_level: level,
        dose_mg: (level.mg_per_kg() * weight * 10.0).round() / 10.0,
        reduction_reason: c.reduction.take(),
        delay_reason: c.delay.take(),
        late_entry_of_fact: false,
    });
    b.add(i, b.cal.at(day, 15, 0), nurse, Action::Enter(vec![dose]))
}

/// Her simulated adverse events, each in one of the first four cycles.
fn plan_aes(b: &mut Builder, a: &Arm1) -> Vec<PlannedAe> {
    let ctcae = protocol::journey::ctcae::ctcae_v5();
    let mut out = Vec::new();
    for ae in &a.treatment.adverse_events {
        let Some(term) = ctcae.by_name(&ae.term) else {
            continue;
        };
        out.push(PlannedAe {
            cycle: b.rng.random_range(1..=4),
            code: term.meddra_code,
            term: ae.term.clone(),
            grade: ae.grade,
        });
    }
    out
}

/// Records an adverse event after the cycle given on `day`, and what it does to the course.
fn adverse_event(
    b: &mut Builder,
    a: &Arm1,
    c: &mut Course,
    ae: &PlannedAe,
    day: NaiveDate,
) -> bool {
    let i = a.person;
    let onset = day + b.days(2, 6);
    let aware = b.cal.at(onset + Duration::days(1), 14, 0);
    let cmd = testing::adverse_event_command(ae.code, ae.grade, onset, aware);
    let Command::RecordAdverseEvent(mut x) = cmd else {
        return true;
    };
    x.relation_tdxd = Causality::PossiblyRelated;
    let late_sae = b.specials.late_sae == Some(a.number) && ae.grade == 3;
    if late_sae {
        b.specials.late_sae = None;
    }
    if ae.grade >= 3 && (ae.term == "Pneumonitis" || late_sae) {
        x.serious_hospitalisation = true;
        let hours = if late_sae { 70 } else { 6 };
        x.reported_to_sponsor_at = Some(aware + Duration::hours(hours));
    }
    let (resolved, death) = dose_rule(b, c, ae, &mut x, onset);
    // A serious event is entered once the sponsor has it (the report time is not in the
    // future); for the late one that is three days after the site knew.
    let entered = x.reported_to_sponsor_at.map_or(aware, |r| r.max(aware));
    let cmd = Command::RecordAdverseEvent(x);
    if let Some(resolved) = resolved {
        c.open.push((cmd.clone(), resolved));
    }
    let nurse = b.staff(i, Role::ResearchNurse);
    if !b.add(i, entered, nurse, Action::Enter(vec![cmd])) {
        return false;
    }
    match death {
        Some(died) => {
            c.stopped = true;
            let d = Command::RecordDeath(protocol::RecordDeath {
                died_on: died,
                cause: Some("Pneumonitis (interstitial lung disease) grade 5".into()),
            });
            let at = b.cal.at(died + Duration::days(1), 10, 0);
            b.add(
                i,
                at,
                b.staff(i, Role::Investigator),
                Action::Enter(vec![d]),
            )
        }
        None if c.stopped => {
            let end = Command::EndParticipation(protocol::EndParticipation {
                reason: protocol::OffStudyReason::InvestigatorDecision,
                ended_on: onset + Duration::days(7),
                note: Some(format!(
                    "T-DXd permanently discontinued for pneumonitis grade {}",
                    ae.grade
                )),
            });
            let at = b.cal.at(onset + Duration::days(7), 14, 0);
            b.add(
                i,
                at,
                b.staff(i, Role::Investigator),
                Action::Enter(vec![end]),
            )
        }
        None => true,
    }
}

/// What the T-DXd label's rule for this event does (clinical-rules §1.3): the action
/// recorded with it, the hold or lower level of the next dose, and when its follow-up
/// resolves it; or, for a fatal ILD, the day she died.
fn dose_rule(
    b: &mut Builder,
    c: &mut Course,
    ae: &PlannedAe,
    x: &mut protocol::RecordAdverseEvent,
    onset: NaiveDate,
) -> (Option<NaiveDate>, Option<NaiveDate>) {
    let ild = ae.term == "Pneumonitis";
    let neutropenia = ae.term == "Neutrophil count decreased";
    match (ild, neutropenia, ae.grade) {
        (true, _, 1) => {
            x.action_tdxd = ActionTaken::DrugInterrupted;
            c.delay = Some("Held for pneumonitis grade 1 until resolved".into());
            (Some(onset + b.days(10, 16)), None)
        }
        (true, _, 5) => {
            x.serious_death = true;
            x.outcome = AeOutcome::Fatal;
            x.action_tdxd = ActionTaken::DrugWithdrawn;
            x.reported_to_sponsor_at = Some(x.site_aware_at + Duration::hours(5));
            (None, Some(onset + b.days(5, 12)))
        }
        (true, _, _) => {
            x.action_tdxd = ActionTaken::DrugWithdrawn;
            c.stopped = true;
            (None, None)
        }
        (_, true, g) if g >= 3 => {
            x.action_tdxd = ActionTaken::DrugInterrupted;
            c.delay = Some(format!(
                "Held for neutropenia grade {g} until grade 2 or better"
            ));
            if g == 4 {
                c.level = c.level.and_then(lower);
            }
            (Some(onset + b.days(5, 9)), None)
        }
        (_, _, 3) => {
            x.action_tdxd = ActionTaken::DoseReduced;
            if let Some(l) = c.level.and_then(lower) {
                c.level = Some(l);
                c.reduction = Some(format!("{} grade 3 in the previous cycle", ae.term));
            }
            (Some(onset + b.days(6, 12)), None)
        }
        _ => (Some(onset + b.days(3, 10)), None),
    }
}

fn lower(l: DoseLevel) -> Option<DoseLevel> {
    match l {
        DoseLevel::Start => Some(DoseLevel::Reduced1),
        DoseLevel::Reduced1 => Some(DoseLevel::Reduced2),
        DoseLevel::Reduced2 => None,
    }
}

/// PET2: her lesions changed with her response; the reader's read the next day.
fn pet2(b: &mut Builder, a: &Arm1, day: NaiveDate) -> bool {
    let i = a.person;
    let reader = b.staff(i, Role::NuclearMedicineReader);
    let r = a.treatment.best_change_pct / 100.0;
    let change = move |_: usize| ((1.0 + 0.8 * r).clamp(0.25, 1.6), (1.0 + r).clamp(0.45, 1.5));
    let job = pet_job(
        b,
        i,
        PetTimepoint::Pet2,
        day,
        a.enrolled,
        a.weight,
        &change,
        None,
    );
    if !b.add_pet(i, job, reader) {
        return false;
    }
    if !b.add(i, b.cal.at(day, 15, 30), reader, Action::Review { job }) {
        return false;
    }
    b.add(
        i,
        b.cal.at(day + Duration::days(1), 11, 0),
        reader,
        Action::ReadResponse { job },
    )
}

/// At progression: PET3 for half of them (a new bone lesion), a death for one, and the
/// end of participation once the PET3 is done or its window has passed.
fn after_progression(b: &mut Builder, a: &Arm1, progression: NaiveDate) {
    let i = a.person;
    let inv = b.staff(i, Role::Investigator);
    let reader = b.staff(i, Role::NuclearMedicineReader);
    let mut end = progression + Duration::days(29);
    if b.rng.random_bool(0.5) {
        let day = progression + b.days(7, 21);
        let level = a.enrolled.highest_suv_max;
        let change = |_: usize| (1.15, 1.1);
        let job = pet_job(
            b,
            i,
            PetTimepoint::Pet3,
            day,
            a.enrolled,
            a.weight,
            &change,
            Some((SimSite::Bone, level)),
        );
        if !b.add_pet(i, job, reader) {
            return;
        }
        if !b.add(i, b.cal.at(day, 15, 30), reader, Action::Review { job }) {
            return;
        }
        end = day + Duration::days(1);
    }
    if b.specials.dies == Some(a.number) {
        let died = progression + b.days(40, 70);
        let d = Command::RecordDeath(protocol::RecordDeath {
            died_on: died,
            cause: Some("Progressive metastatic breast cancer".into()),
        });
        b.add(
            i,
            b.cal.at(died + Duration::days(2), 10, 0),
            inv,
            Action::Enter(vec![d]),
        );
        return;
    }
    if a.number % 10 == 7 {
        return;
    }
    let c = Command::EndParticipation(protocol::EndParticipation {
        reason: protocol::OffStudyReason::Arm1EndEvent,
        ended_on: end,
        note: None,
    });
    b.add(i, b.cal.at(end, 14, 0), inv, Action::Enter(vec![c]));
}

/// The target lesions' course (testing's two targets, 30 + 20 mm): down to her best %
/// change by the second CT and there until progression, which RECIST 1.1 calls at 20 %
/// and 5 mm over the smallest sum (here 30 % over it).
struct Tumour {
    best: f64,
    k: u32,
    nadir: f64,
}

impl Tumour {
    fn new(best_change_pct: f64) -> Self {
        Tumour {
            best: 1.0 + best_change_pct.clamp(-95.0, 15.0) / 100.0,
            k: 0,
            nadir: 1.0,
        }
    }

    fn scan(&mut self, progressed: bool) -> (f64, f64) {
        self.k += 1;
        let size = if progressed {
            (self.nadir * 1.3).max(self.nadir + 0.2)
        } else {
            1.0 + (self.best - 1.0) * (f64::from(self.k) / 2.0).min(1.0)
        };
        self.nadir = self.nadir.min(size);
        let mm = |base: f64| (base * size * 10.0).round() / 10.0;
        (mm(30.0), mm(20.0))
    }
}
