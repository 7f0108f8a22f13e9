//! The demo trial as a plan: every act of every user, dated, from one simulated trial.
//!
//! The trial simulator (`analysis::simulate`) gives each screened woman her site, her
//! screening outcome, and when enrolled her biopsy's HER2 category, her lesions' SUVmax,
//! her arm, her best response, her progression-free survival and her adverse events. This
//! module turns that into what the sites would have entered, day by day: registration,
//! consent and screening by the nurse, attestations and enrolment by the investigator, the
//! baseline HER2-PET (a phantom whose lesions have her SUVs, sent by the scanner), the
//! reader's review, the target, the biopsy, the pathologist's report, then T-DXd cycles
//! with their labs, dose holds and reductions, adverse events and their follow-ups, CTs
//! with RECIST, PET2, progression and PET3, and the ends of participation.
//!
//! Pure and deterministic: the same simulated trial, seed and present give the same plan.
//! The history is laid over [`SPAN_DAYS`] before the present, so a demo built on
//! 2026-12-05 screens its first woman on 2025-10-03 (the study start); every date moves
//! with the day the demo is built, except that no screening is older than the study start
//! in the settings (a demo built earlier has a shorter history). Nothing is dated after the present: a journey simply
//! stops there, which leaves the last women mid-way.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use protocol::imaging::PetTimepoint;
use protocol::{Command, Rule};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::{Role, SiteZone};
use analysis::simulate::SimTrial;
use analysis::simulate::generate::{Allocation, Enrolled, Screening, SimParticipant};

use super::people::{self, SITES};

/// Days from the first screening to the present, when the study started long enough ago.
pub const SPAN_DAYS: i64 = 428;

/// Days before the present of the last screening.
const LAST_SCREENING_DAYS_AGO: i64 = 6;

/// What a user enters at one moment.
#[derive(Debug, Clone)]
pub enum Action {
    /// The nurse registers the woman (her study id comes from the site's next number).
    Register {
        /// Year of birth.
        year_of_birth: i32,
    },
    /// Commands saved together (a form, a visit's entries), in order.
    Enter(Vec<Command>),
    /// A correction of her latest adverse event of `command`'s term (the follow-up that
    /// resolves it), with the reason the audit trail keeps.
    FollowUp {
        /// The adverse event as first recorded, with its resolution filled in.
        command: Box<Command>,
        /// Why it is corrected.
        reason: &'static str,
    },
    /// The IMP injection entered by the nurse and the scan's series quantified by the
    /// reader: PET job `job`.
    Pet {
        /// Index in [`Plan::pets`].
        job: usize,
    },
    /// The reader's lesion review of a quantified exam (PET job `job`).
    Review {
        /// Index in [`Plan::pets`].
        job: usize,
    },
    /// The investigator's choice of the lesion to biopsy (the biopsied lesion of job `job`).
    ChooseTarget {
        /// Index in [`Plan::pets`].
        job: usize,
    },
    /// The reader's PET1 → PET2 response read (PET2 job `job`).
    ReadResponse {
        /// Index in [`Plan::pets`].
        job: usize,
    },
    /// An act of oversight.
    Oversee(Box<protocol::oversight::OversightCommand>),
    /// The monitor verifies every current entry not verified yet, if there is one (what
    /// is left to verify depends on what was entered and verified before).
    VerifyRemaining,
    /// The site answers the open query on a screening lab entry.
    AnswerQuery {
        /// The entry the query is on.
        entry: &'static str,
        /// The answer.
        text: &'static str,
    },
    /// The monitor closes the answered query on a screening lab entry.
    CloseQuery {
        /// The entry the query is on.
        entry: &'static str,
        /// Why it is closed.
        text: &'static str,
    },
}

/// One act: when, by whom, for which woman.
#[derive(Debug, Clone)]
pub struct Step {
    /// When it is entered.
    pub at: DateTime<Utc>,
    /// The demo username.
    pub who: &'static str,
    /// Index in [`Plan::people`].
    pub person: usize,
    /// What is entered.
    pub action: Action,
}

/// A screened woman of the demo.
#[derive(Debug, Clone)]
pub struct Person {
    /// Site code.
    pub site: &'static str,
    /// Study id (`KS-014`), numbered by registration order at her site.
    pub study_id: String,
    /// When she was registered.
    pub registered_at: DateTime<Utc>,
}

/// A HER2-PET exam to simulate: the phantom and what the demo's users need of it.
#[derive(Debug, Clone)]
pub struct PetJob {
    /// Index in [`Plan::people`].
    pub person: usize,
    /// Time point.
    pub timepoint: PetTimepoint,
    /// The phantom (PatientID set once study ids are known).
    pub spec: pet::phantom::PhantomSpec,
    /// Injection instant.
    pub injected_at: DateTime<Utc>,
    /// SUVmax of the biopsied lesion as the reader would measure it by hand when the
    /// detector misses it (PET1 only).
    pub biopsied_suv: f64,
}

/// The whole demo.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// Everyone screened.
    pub people: Vec<Person>,
    /// Every act, in the order entered.
    pub steps: Vec<Step>,
    /// The PET exams, in planning order (the steps name them by index).
    pub pets: Vec<PetJob>,
}

impl Plan {
    /// The PET exams some step reads, by index (a journey left mid-way drops its later
    /// ones: those are not made).
    pub fn exams_read(&self) -> std::collections::BTreeSet<usize> {
        self.steps
            .iter()
            .filter_map(|s| match s.action {
                Action::Pet { job } => Some(job),
                _ => None,
            })
            .collect()
    }
}

/// Dates and times in the sites' calendar.
#[derive(Debug, Clone, Copy)]
pub struct Calendar {
    /// The sites' time zone.
    pub zone: SiteZone,
    /// The present: nothing is planned later.
    pub present: DateTime<Utc>,
    /// The first screening day.
    pub start: NaiveDate,
}

impl Calendar {
    /// The calendar of a demo built at `present`: [`SPAN_DAYS`] of history, not starting
    /// before the study did (`study_start`, no consent can be older).
    pub fn new(zone: SiteZone, present: DateTime<Utc>, study_start: NaiveDate) -> Self {
        Calendar {
            zone,
            present,
            start: (zone.date_of(present) - Duration::days(SPAN_DAYS)).max(study_start),
        }
    }

    /// Days from the first screening to the present.
    pub fn span_days(&self) -> i64 {
        (self.zone.date_of(self.present) - self.start).num_days()
    }

    /// Local `day` at `h:m` as an instant (a spring-forward gap moves an hour on).
    pub fn at(&self, day: NaiveDate, h: u32, m: u32) -> DateTime<Utc> {
        let local = day.and_hms_opt(h, m, 0).unwrap_or_default();
        self.zone
            .to_utc(local)
            .or_else(|| self.zone.to_utc(local + Duration::hours(1)))
            .unwrap_or_else(|| local.and_utc())
    }

    /// The local date of an instant.
    pub fn day(&self, t: DateTime<Utc>) -> NaiveDate {
        self.zone.date_of(t)
    }
}

/// Builds the plan of a simulated trial.
pub fn plan(sim: &SimTrial, seed: u64, cal: Calendar) -> Plan {
    let mut b = Builder {
        seed,
        cal,
        rng: <ChaCha8Rng as rand::SeedableRng>::seed_from_u64(seed ^ 0xDE70_DE70),
        plan: Plan::default(),
        specials: Specials::choose(sim),
    };
    let last = sim.last_enrolment_months.max(1e-9);
    let span = (cal.span_days() - LAST_SCREENING_DAYS_AGO).max(1) as f64;
    for sp in &sim.participants {
        let day = cal.start + Duration::days((sp.screened_months / last * span).round() as i64);
        b.person(sp, day);
    }
    super::plan_oversight::oversight(&mut b);
    // A stable sort keeps each woman's steps in the order they were planned.
    b.plan.steps.sort_by_key(|s| s.at);
    for site in SITES.map(|s| s.0) {
        // At each site the latest PET still waits for its reader's review, and the
        // latest study biopsy for its report.
        b.leave_mid_way(site, |a| matches!(a, Action::Review { .. }));
        b.leave_mid_way(site, |a| {
            matches!(a, Action::Enter(cmds)
                if cmds.iter().any(|c| matches!(c, Command::RecordPathology(_))))
        });
    }
    b.finish()
}

/// Participants the demo gives a rarer path, chosen from the simulated trial so that
/// every path shows whatever the seed: by screening number.
#[derive(Debug, Default)]
pub struct Specials {
    /// Withdraws her consent before PET1.
    pub withdraws_early: Option<usize>,
    /// Withdraws her consent on T-DXd after the third cycle.
    pub withdraws_on_treatment: Option<usize>,
    /// Lost to follow-up after the fifth cycle.
    pub lost: Option<usize>,
    /// Dies of her disease after progression.
    pub dies: Option<usize>,
    /// PET2 out of its window.
    pub late_pet2: Vec<usize>,
    /// Her first grade 3 adverse event is serious and reported to the sponsor late.
    pub late_sae: Option<usize>,
}

impl Specials {
    fn choose(sim: &SimTrial) -> Specials {
        let arm1: Vec<(usize, &Enrolled)> = sim
            .participants
            .iter()
            .filter_map(|p| match &p.screening {
                Screening::Enrolled(e) if matches!(e.allocation, Allocation::Arm1(_)) => {
                    Some((p.number, e.as_ref()))
                }
                _ => None,
            })
            .collect();
        let enrolled: Vec<usize> = sim
            .participants
            .iter()
            .filter(|p| matches!(p.screening, Screening::Enrolled(_)))
            .map(|p| p.number)
            .collect();
        let progressed = |(_, e): &&(usize, &Enrolled)| match &e.allocation {
            Allocation::Arm1(t) => t.pfs.event && t.pfs.months < 6.0,
            _ => false,
        };
        let grade3 = |(_, e): &&(usize, &Enrolled)| match &e.allocation {
            Allocation::Arm1(t) => t.adverse_events.iter().any(|a| a.grade == 3),
            _ => false,
        };
        let at = |share: f64| arm1.get((arm1.len() as f64 * share) as usize).map(|x| x.0);
        Specials {
            withdraws_early: enrolled.get(enrolled.len() / 5).copied(),
            withdraws_on_treatment: at(0.3),
            lost: at(0.45),
            dies: arm1.iter().find(progressed).map(|x| x.0),
            late_pet2: [at(0.15), at(0.6)].into_iter().flatten().collect(),
            late_sae: arm1.iter().find(grade3).map(|x| x.0),
        }
    }
}

/// The plan being built.
pub struct Builder {
    /// The demo's seed.
    pub seed: u64,
    /// The calendar.
    pub cal: Calendar,
    /// The demo's own draws (days between visits, lab values).
    pub rng: ChaCha8Rng,
    /// The plan so far.
    pub plan: Plan,
    /// Who takes the rarer paths.
    pub specials: Specials,
}

impl Builder {
    /// Adds a step unless it is after the present; `false` when the journey stops there.
    pub fn add(
        &mut self,
        person: usize,
        at: DateTime<Utc>,
        who: &'static str,
        action: Action,
    ) -> bool {
        if at > self.cal.present {
            return false;
        }
        self.plan.steps.push(Step {
            at,
            who,
            person,
            action,
        });
        true
    }

    /// The PET step of exam `job` (the IMP and the series read 2 h 45 min after the
    /// injection); an exam whose step would come after the present is not made.
    pub fn add_pet(&mut self, person: usize, job: usize, who: &'static str) -> bool {
        let at = self.plan.pets[job].injected_at + Duration::minutes(165);
        if self.add(person, at, who, Action::Pet { job }) {
            return true;
        }
        self.plan.pets.truncate(job);
        false
    }

    /// Her consent withdrawn at `at`, entered by her site's nurse a few minutes later.
    pub fn withdraw(&mut self, person: usize, at: DateTime<Utc>) {
        let nurse = self.staff(person, Role::ResearchNurse);
        let command = Command::WithdrawConsent(protocol::WithdrawConsent {
            withdrawn_at: at,
            reason: "She no longer wishes to take part".into(),
        });
        self.add(
            person,
            at + Duration::minutes(15),
            nurse,
            Action::Enter(vec![command]),
        );
    }

    /// Days drawn uniformly in `lo..=hi`.
    pub fn days(&mut self, lo: i64, hi: i64) -> Duration {
        Duration::days(self.rng.random_range(lo..=hi))
    }

    /// The site user of `role` for `person`.
    pub fn staff(&self, person: usize, role: Role) -> &'static str {
        people::staff(self.plan.people[person].site, role)
    }

    fn person(&mut self, sp: &SimParticipant, day: NaiveDate) {
        let site = SITES.iter().find(|s| s.2 == sp.site).map_or("KS", |s| s.0);
        let index = self.plan.people.len();
        // Several women of a site may come the same day: a quarter of an hour apart.
        let consent_at = self.cal.at(day, 9, (sp.number % 4) as u32 * 15);
        self.plan.people.push(Person {
            site,
            study_id: String::new(),
            registered_at: consent_at - Duration::minutes(30),
        });
        let nurse = self.staff(index, Role::ResearchNurse);
        let year_of_birth = day.format("%Y").to_string().parse::<i32>().unwrap_or(2026)
            - self.rng.random_range(32..=78);
        if !self.add(
            index,
            consent_at - Duration::minutes(30),
            nurse,
            Action::Register { year_of_birth },
        ) {
            return;
        }
        super::plan_journey::journey(self, index, sp, consent_at);
    }

    /// Leaves the woman of `site` whose entry matching `what` comes last without it and
    /// everything after it, so that a work list shows it still to do.
    fn leave_mid_way(&mut self, site: &str, what: impl Fn(&Action) -> bool) {
        let people = &self.plan.people;
        let Some(last) = self
            .plan
            .steps
            .iter()
            .rev()
            .find(|s| people[s.person].site == site && what(&s.action))
        else {
            return;
        };
        let (person, from) = (last.person, last.at);
        self.plan
            .steps
            .retain(|s| s.person != person || s.at < from);
    }

    /// Numbers the study ids by registration order at each site and puts them in the PET
    /// phantoms.
    fn finish(mut self) -> Plan {
        let mut order: Vec<usize> = (0..self.plan.people.len()).collect();
        order.sort_by_key(|&i| (self.plan.people[i].registered_at, i));
        let mut next = std::collections::BTreeMap::<&str, u32>::new();
        for i in order {
            let p = &mut self.plan.people[i];
            let n = next.entry(p.site).or_insert(0);
            *n += 1;
            p.study_id = format!("{}-{:03}", p.site, n);
        }
        for job in &mut self.plan.pets {
            job.spec.patient_id = Some(self.plan.people[job.person].study_id.clone());
        }
        self.plan
    }
}

/// The criterion a screen failure names, in words the investigator would write.
pub fn failure_reason(rule: Rule) -> String {
    let why = match rule.id() {
        "IN2" => "no progression after palliative chemotherapy",
        "IN4" => "no metastasis of 10 mm or more that can be biopsied",
        "IN5" => "no further lesion measurable by RECIST 1.1",
        "IN6" => "WHO performance status 3",
        "EX2" => "earlier metastatic biopsy HER2-positive (IHC 3+)",
        "EX4" => "LVEF 45 % on the screening echocardiography",
        "EX5" => "INR 1.6: bleeding risk at biopsy",
        _ => "not eligible",
    };
    format!("{}: {why}", rule.id())
}
