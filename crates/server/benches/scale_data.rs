//! The study the scale bench reads: twelve sites, two users who sign in, and participants
//! whose histories are written the way the application writes them.
//!
//! Each participant's history is a run of protocol commands, decided and applied in memory
//! (`protocol::decide`, `protocol::evolve`) at the moment a site would have entered them,
//! with the dates a real journey has: registration and consent, screening data, enrolment,
//! the baseline HER2-PET (IMP, quantification, review, biopsy target), the study biopsy and
//! its pathology report (which allocates), then by arm: in arm 1 a CT baseline and T-DXd
//! every 21 days with the labs and weight of the day before, an LVEF every fourth cycle, a
//! CT with its RECIST 1.1 result every second cycle, PET2 after cycle 4, adverse events
//! and their follow-ups, dose reductions and delays, and at progression an optional PET3
//! and the end of participation; in arm 2 the follow-up and its end. Some participants
//! fail screening, withdraw, are HER2-positive (off study), or are still screening.
//! Nothing is dated after [`today`]: a journey simply stops there.
//!
//! Consent dates run from the study start to today in each site's study id order, so the
//! oldest participants have the longest histories. Each command is one part of a
//! [`Store::append_batch`] with its own author and time; a participant's last part also
//! carries her read row and her open visits, as `trial::write` keeps them. A batch of
//! participants goes in one transaction; a second thread generates the next batch while
//! the store writes one. Everything is drawn from a fixed seed: the same study every run.
//!
//! Study ids have three digits, so a site holds at most 999 participants: a study of
//! 10 000 needs at least eleven sites. KS, UU and LI hold a tenth each (999), the nine
//! others share the rest.
//!
//! One file on purpose, although it is longer than our usual 600 lines: it is the story of
//! one participant's journey written out command by command, and it reads best in order.

use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use protocol::journey::safety::{ActionTaken, AeOutcome, Causality};
use protocol::journey::tdxd::DoseLevel;
use protocol::records::IhcScore;
use protocol::testing;
use protocol::{Analyte, Command, Participant, PetTimepoint, Settings};
use store::{EventMeta, NewEvent, ParticipantRow, Projection, Store, StreamAppend};
use trial::admin::NewUser;
use trial::write::{participant_stream, visit_rows};
use trial::{Actor, Role, Trial};

/// The bench's error: it is a binary that reports and stops.
pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// Sites: code and name. The first three are the large ones.
pub const SITES: [(&str, &str); 12] = [
    ("KS", "Karolinska University Hospital"),
    ("UU", "Uppsala University Hospital"),
    ("LI", "Linköping University Hospital"),
    ("SUS", "Skåne University Hospital"),
    ("SU", "Sahlgrenska University Hospital"),
    ("OR", "Örebro University Hospital"),
    ("NUS", "Norrland University Hospital"),
    ("VAS", "Västmanland Hospital Västerås"),
    ("JKP", "Ryhov County Hospital Jönköping"),
    ("KAL", "Kalmar County Hospital"),
    ("SUN", "Sundsvall Hospital"),
    ("GAV", "Gävle Hospital"),
];

/// The most participants a site can register: study ids have three digits (`KS-999`).
const SITE_CAPACITY: usize = 999;

/// The password of the bench's users.
pub const PASSWORD: &str = "bench-password-1";

/// The study-wide user: a monitor sees every site.
pub const MONITOR: &str = "monitor";

/// The site-bound user: a research nurse at KS.
pub const NURSE: &str = "nurse.ks";

/// The day the study is read on (the server's fixed clock): 12:00 in Stockholm.
pub fn today() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2027, 6, 1, 10, 0, 0)
        .single()
        .unwrap_or_default()
}

/// CTCAE v5.0 terms of the everyday adverse events on T-DXd (MedDRA codes): nausea,
/// fatigue, alopecia, vomiting, diarrhea, anemia, constipation, anorexia, headache.
const COMMON_AES: [u32; 9] = [
    10028813, 10016256, 10001760, 10047700, 10012727, 10002272, 10010774, 10002646, 10019211,
];

/// One participant's place in the study: her site and study id number, and when she
/// consented.
#[derive(Debug, Clone)]
struct Slot {
    site: &'static str,
    number: usize,
    consent_at: DateTime<Utc>,
    seed: u64,
}

impl Slot {
    fn study_id(&self) -> String {
        format!("{}-{:03}", self.site, self.number)
    }
}

/// The whole study: every participant's slot, in the order they are loaded.
pub struct Plan {
    slots: Vec<Slot>,
    settings: Settings,
    today: DateTime<Utc>,
}

impl Plan {
    /// The study with `total` participants (at most 999 per site), read on [`today`].
    pub fn new(total: usize) -> Result<Plan, Error> {
        let sizes = site_sizes(total);
        if sizes.iter().any(|&n| n > SITE_CAPACITY) {
            return Err(format!("{total} participants do not fit in {} sites", SITES.len()).into());
        }
        let settings = Settings::default();
        let today = today();
        let start = settings
            .study_start
            .and_hms_opt(8, 0, 0)
            .map(|t| t.and_utc())
            .ok_or("study start")?;
        let span_minutes = (today - Duration::days(2) - start).num_minutes();
        let mut slots = Vec::with_capacity(total);
        for (s, (&(site, _), &size)) in SITES.iter().zip(&sizes).enumerate() {
            for number in 1..=size {
                let seed = (s as u64) << 32 | number as u64;
                let mut rng = Rng::new(seed);
                // Registration order is consent order: study ids grow with time at a site.
                let share = (number as f64 - 1.0 + rng.unit()) / size as f64;
                let minutes = (share * span_minutes as f64) as i64;
                let consent_at = start + Duration::minutes(minutes);
                slots.push(Slot {
                    site,
                    number,
                    consent_at,
                    seed,
                });
            }
        }
        // Loaded roughly in consent order, so the log reads as the study went.
        slots.sort_by_key(|s| (s.consent_at, s.site, s.number));
        Ok(Plan {
            slots,
            settings,
            today,
        })
    }

    /// How many participants the study has.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// The study ids of one site's participants (every site's with `None`), in id order.
    pub fn study_ids(&self, site: Option<&str>) -> Vec<String> {
        let mut ids: Vec<String> = self
            .slots
            .iter()
            .filter(|s| site.is_none_or(|x| x == s.site))
            .map(Slot::study_id)
            .collect();
        ids.sort();
        ids
    }

    /// The histories of the participants `range` (in load order), ready to append.
    pub fn generate(&self, range: Range<usize>) -> Result<Batch, Error> {
        let mut batch = Batch::default();
        for slot in &self.slots[range] {
            let mut h = History::new(slot, &self.settings, self.today);
            let mut rng = Rng::new(slot.seed.wrapping_mul(0x2545_F491_4F6C_DD1D));
            match journey(&mut h, &mut rng, slot.consent_at) {
                Ok(()) | Err(Stop::Today) => {}
                Err(Stop::Failed(why)) => return Err(why.into()),
            }
            let state = h.participant.state.name();
            batch.events += h.version as u64;
            batch.participants += 1;
            *batch.states.entry(state).or_default() += 1;
            batch.parts.extend(h.finish()?);
        }
        Ok(batch)
    }
}

/// Participants per site: the three large sites a tenth of the study each (at most 999),
/// the others the rest, evenly.
fn site_sizes(total: usize) -> Vec<usize> {
    let big = total.div_ceil(10).min(SITE_CAPACITY);
    let rest = total.saturating_sub(3 * big);
    let others = SITES.len() - 3;
    (0..SITES.len())
        .map(|i| match i.checked_sub(3) {
            None => big.min(total),
            Some(k) => rest / others + usize::from(k < rest % others),
        })
        .collect()
}

/// Histories of some participants, as parts of one batch append.
#[derive(Default)]
pub struct Batch {
    /// One part per command, in order.
    pub parts: Vec<StreamAppend>,
    /// Participants in the batch.
    pub participants: usize,
    /// Events in the batch.
    pub events: u64,
    /// Participants by state.
    pub states: BTreeMap<&'static str, usize>,
}

/// What loading the study took.
pub struct LoadReport {
    /// Participants written.
    pub participants: usize,
    /// Events written.
    pub events: u64,
    /// Seconds from the first batch generated to the last one committed.
    pub seconds: f64,
    /// Participants by state.
    pub states: BTreeMap<&'static str, usize>,
}

/// Generates and appends the whole study, `batch_size` participants per transaction, the
/// next batch generated on another thread while the store writes one.
pub async fn load(store: &Store, plan: Arc<Plan>, batch_size: usize) -> Result<LoadReport, Error> {
    let started = Instant::now();
    let total = plan.len();
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Result<Batch, Error>>(2);
    let generator = std::thread::spawn(move || {
        for first in (0..total).step_by(batch_size) {
            let batch = plan.generate(first..(first + batch_size).min(total));
            let failed = batch.is_err();
            if tx.blocking_send(batch).is_err() || failed {
                break;
            }
        }
    });
    let mut report = LoadReport {
        participants: 0,
        events: 0,
        seconds: 0.0,
        states: BTreeMap::new(),
    };
    let mut next_note = total / 10;
    while let Some(batch) = rx.recv().await {
        let batch = batch?;
        store.append_batch(&batch.parts).await?;
        report.participants += batch.participants;
        report.events += batch.events;
        for (state, n) in batch.states {
            *report.states.entry(state).or_default() += n;
        }
        if report.participants >= next_note {
            eprintln!(
                "  {:>6} participants, {:>8} events, {:.0} s",
                report.participants,
                report.events,
                started.elapsed().as_secs_f64()
            );
            next_note += total / 10;
        }
    }
    generator
        .join()
        .map_err(|_| "the generator thread panicked")?;
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}

/// Adds the sites and the two users who sign in, unless they are there already.
pub async fn add_sites_and_users(trial: &Trial) -> Result<(), Error> {
    let cli = Actor::command_line();
    for (code, name) in SITES {
        if trial.store().site(code).await?.is_none() {
            trial.add_site(&cli, code, name).await?;
        }
    }
    for (username, role, site) in [
        (MONITOR, Role::Monitor, None),
        (NURSE, Role::ResearchNurse, Some("KS")),
    ] {
        if trial.store().user(username).await?.is_none() {
            let user = NewUser {
                username: username.into(),
                display_name: username.into(),
                role,
                site: site.map(Into::into),
                password: PASSWORD.into(),
            };
            trial.add_user(&cli, user).await?;
        }
    }
    Ok(())
}

/// A small random source (SplitMix64) with a fixed seed: the same study every run.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in `lo..hi` (whole numbers).
    fn between(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next() % (hi - lo).max(1) as u64) as i64
    }

    /// Uniform in [lo, hi), to one decimal.
    fn value(&mut self, lo: f64, hi: f64) -> f64 {
        ((lo + self.unit() * (hi - lo)) * 10.0).round() / 10.0
    }

    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[(self.next() % items.len() as u64) as usize]
    }
}

/// Why a journey stops: it reached today (the normal end), or the protocol refused a
/// command (a bug in this generator).
enum Stop {
    Today,
    Failed(String),
}

type Step = Result<(), Stop>;

/// A participant's history being written.
struct History<'s> {
    study_id: String,
    site: &'static str,
    settings: &'s Settings,
    today: DateTime<Utc>,
    participant: Participant,
    version: i64,
    parts: Vec<StreamAppend>,
    last_at: DateTime<Utc>,
}

impl<'s> History<'s> {
    fn new(slot: &Slot, settings: &'s Settings, today: DateTime<Utc>) -> History<'s> {
        History {
            study_id: slot.study_id(),
            site: slot.site,
            settings,
            today,
            participant: Participant::default(),
            version: 0,
            parts: Vec::new(),
            last_at: slot.consent_at,
        }
    }

    /// Records `command` as entered by `who` at `at`.
    fn enter(&mut self, who: Role, at: DateTime<Utc>, command: Command) -> Step {
        self.enter_with(who, at, command, None)
    }

    /// Records `command` as entered by `who` at `at`, with a reason (corrections).
    fn enter_with(
        &mut self,
        who: Role,
        at: DateTime<Utc>,
        command: Command,
        reason: Option<&str>,
    ) -> Step {
        if at > self.today {
            return Err(Stop::Today);
        }
        let events =
            protocol::decide(&self.participant, &command, at, self.settings).map_err(|r| {
                Stop::Failed(format!(
                    "{}: {} at {at} refused: {r}",
                    self.study_id,
                    command.name()
                ))
            })?;
        if events.is_empty() {
            return Ok(());
        }
        let mut new = Vec::with_capacity(events.len());
        for e in &events {
            protocol::evolve(&mut self.participant, e);
            let payload = serde_json::to_value(e).map_err(|e| Stop::Failed(e.to_string()))?;
            new.push(NewEvent {
                kind: e.kind().to_string(),
                payload,
            });
        }
        let site = self.site.to_lowercase();
        self.parts.push(StreamAppend {
            stream: participant_stream(&self.study_id),
            expected_version: self.version,
            meta: EventMeta {
                actor: format!("{}.{site}", username_prefix(who)),
                role: who.id().into(),
                site: Some(self.site.into()),
                recorded_at: at,
                reason: reason.map(Into::into),
            },
            events: new,
            projections: Vec::new(),
        });
        self.version += events.len() as i64;
        self.last_at = at;
        Ok(())
    }

    /// The parts to append; the last one carries her read row and open visits.
    fn finish(mut self) -> Result<Vec<StreamAppend>, Error> {
        let p = &self.participant;
        let snapshot = serde_json::to_value(p)?;
        let row = Projection::Participant(ParticipantRow {
            study_id: self.study_id.clone(),
            site: self.site.into(),
            state: p.state.name().into(),
            version: self.version,
            snapshot,
            updated_at: self.last_at,
        });
        let visits = Projection::Visits {
            study_id: self.study_id.clone(),
            rows: visit_rows(&self.study_id, self.site, p, self.settings),
        };
        let last = self.parts.last_mut().ok_or("a history without events")?;
        last.projections = vec![row, visits];
        Ok(self.parts)
    }
}

fn username_prefix(role: Role) -> &'static str {
    match role {
        Role::ResearchNurse => "nurse",
        Role::Investigator => "inv",
        Role::NuclearMedicineReader => "reader",
        Role::Pathologist => "path",
        _ => "staff",
    }
}

/// `day` at `hour`:00 UTC.
fn at(day: NaiveDate, hour: u32) -> DateTime<Utc> {
    day.and_hms_opt(hour, 0, 0)
        .map(|t| t.and_utc())
        .unwrap_or_default()
}

/// A participant's journey from registration, as far as today.
fn journey(h: &mut History, rng: &mut Rng, consent_at: DateTime<Utc>) -> Step {
    let (site, id) = (h.site, h.study_id.clone());
    let born = 1940 + rng.between(0, 46) as i32;
    let register = testing::register_command(site, &id, born);
    h.enter(
        Role::ResearchNurse,
        consent_at - Duration::minutes(30),
        register,
    )?;
    let screening = testing::eligible_screening_commands(site, &id, consent_at);
    // Consented in the last week: part of the screening entered so far.
    let recent = h.today - consent_at < Duration::days(7);
    let entered = if recent {
        rng.between(1, screening.len() as i64) as usize
    } else {
        screening.len()
    };
    for c in screening.into_iter().take(entered) {
        let who = match c {
            Command::RecordAttestation(_) => Role::Investigator,
            _ => Role::ResearchNurse,
        };
        h.enter(who, consent_at + Duration::hours(3), c)?;
    }
    if recent {
        return Ok(());
    }
    let fate = rng.between(0, 100);
    if fate < 10 {
        let reason = rng.pick(&[
            "LVEF below 50 % on the repeat echocardiography",
            "New brain metastases on the screening MRI",
            "She declined further participation before enrolment",
        ]);
        let fail = Command::ScreenFail(protocol::ScreenFail {
            reason: reason.into(),
        });
        let when = consent_at + Duration::days(rng.between(2, 9));
        return h.enter(Role::Investigator, when, fail);
    }
    let enrolled = consent_at + Duration::days(2);
    h.enter(
        Role::Investigator,
        enrolled + Duration::minutes(5),
        testing::enrol_command(enrolled),
    )?;
    if fate < 12 {
        return withdraw(h, consent_at + Duration::days(3));
    }
    let pet1 = consent_at + Duration::days(4);
    for c in testing::baseline_pet_commands(pet1) {
        let who = match c {
            Command::RecordImpAdministration(_) => Role::ResearchNurse,
            Command::ChooseBiopsyTarget(_) => Role::Investigator,
            _ => Role::NuclearMedicineReader,
        };
        h.enter(who, pet1 + Duration::hours(2), c)?;
    }
    let biopsy = pet1 + Duration::days(2);
    h.enter(
        Role::Investigator,
        biopsy + Duration::hours(1),
        testing::fresh_biopsy_command(biopsy),
    )?;
    let ihc = match fate {
        12..16 => IhcScore::ThreePlus,
        16..40 => IhcScore::Zero,
        _ => rng.pick(&[
            IhcScore::OnePlus,
            IhcScore::OnePlus,
            IhcScore::Ultralow,
            IhcScore::TwoPlus,
        ]),
    };
    let reported = biopsy.date_naive() + Duration::days(4);
    let report = testing::pathology_command("biopsy-1", "A1", ihc, false, reported);
    h.enter(Role::Pathologist, at(reported, 14), report)?;
    match ihc {
        IhcScore::ThreePlus => Ok(()),
        IhcScore::Zero => arm2(h, rng, pet1.date_naive()),
        _ => arm1(h, rng, pet1.date_naive(), reported),
    }
}

fn withdraw(h: &mut History, when: DateTime<Utc>) -> Step {
    let c = Command::WithdrawConsent(protocol::WithdrawConsent {
        withdrawn_at: when,
        reason: "She no longer wishes to take part".into(),
    });
    h.enter(Role::ResearchNurse, when + Duration::hours(1), c)
}

/// Arm 2: now and then an adverse event, and the end of the follow-up (forgotten for one
/// in ten, whose end visit turns overdue).
fn arm2(h: &mut History, rng: &mut Rng, pet1: NaiveDate) -> Step {
    if rng.chance(0.25) {
        let onset = pet1 + Duration::days(rng.between(1, 5));
        let mut ae = adverse_event(rng, onset, 1);
        if let Command::RecordAdverseEvent(a) = &mut ae {
            a.relation_imp = Causality::PossiblyRelated;
            a.relation_tdxd = Causality::NotApplicable;
            a.action_tdxd = ActionTaken::NotApplicable;
        }
        h.enter(Role::ResearchNurse, at(onset + Duration::days(1), 13), ae)?;
    }
    if rng.chance(0.9) {
        let ended_on = pet1 + Duration::days(i64::from(h.settings.arm2.ae_followup_days));
        let end = Command::EndParticipation(protocol::EndParticipation {
            reason: protocol::OffStudyReason::Arm2FollowUpComplete,
            ended_on,
            note: None,
        });
        h.enter(Role::Investigator, at(ended_on, 14), end)?;
    }
    Ok(())
}

/// The labs of the day before a T-DXd cycle, sampled at 08:00 and entered at 13:00.
fn safety_labs(h: &mut History, rng: &mut Rng, day: NaiveDate) -> Step {
    let sampled = at(day, 8);
    let labs = [
        (Analyte::Anc, rng.value(2.0, 5.5), "10^9/L", None),
        (Analyte::Platelets, rng.value(150.0, 320.0), "10^9/L", None),
        (Analyte::Haemoglobin, rng.value(105.0, 135.0), "g/L", None),
        (Analyte::Creatinine, rng.value(55.0, 90.0), "µmol/L", None),
        (
            Analyte::Bilirubin,
            rng.value(5.0, 15.0),
            "µmol/L",
            Some(26.0),
        ),
        (Analyte::Ast, rng.value(0.3, 0.55), "µkat/L", Some(0.60)),
        (Analyte::Alt, rng.value(0.3, 0.6), "µkat/L", Some(0.75)),
    ];
    for (analyte, value, unit, uln) in labs {
        let c = testing::lab(analyte, value, unit, uln, sampled);
        h.enter(Role::ResearchNurse, at(day, 13), c)?;
    }
    Ok(())
}

/// A not serious adverse event of an everyday term, the site aware the day after onset.
fn adverse_event(rng: &mut Rng, onset: NaiveDate, grade: u8) -> Command {
    let aware = at(onset + Duration::days(1), 10);
    testing::adverse_event_command(rng.pick(&COMMON_AES), grade, onset, aware)
}

/// Arm 1 from allocation: the CT baseline, then T-DXd cycles until progression,
/// withdrawal or today.
fn arm1(h: &mut History, rng: &mut Rng, pet1: NaiveDate, reported: NaiveDate) -> Step {
    let ct_day = pet1 + Duration::days(3);
    h.enter(
        Role::NuclearMedicineReader,
        at(reported, 16),
        testing::ct_baseline_command(ct_day),
    )?;
    let mut tumour = Tumour::new(rng);
    let mut course = Course {
        day: reported + Duration::days(4),
        level: DoseLevel::Start,
        weight: rng.value(55.0, 85.0),
        delay_reason: None,
        reduction_reason: None,
        open_ae: None,
    };
    for cycle in 1.. {
        cycle_of(h, rng, &mut course, cycle)?;
        if cycle == 4 && rng.chance(0.9) {
            pet(h, rng, PetTimepoint::Pet2, course.day + Duration::days(7))?;
        }
        if cycle.is_multiple_of(2) {
            let scan = course.day + Duration::days(14);
            let (t1, t2, progression) = tumour.next_scan(rng);
            h.enter(
                Role::NuclearMedicineReader,
                at(scan + Duration::days(1), 11),
                testing::ct_follow_up_command(scan, t1, t2),
            )?;
            if progression {
                return after_progression(h, rng, scan);
            }
        }
        if rng.chance(0.005) {
            return withdraw(h, at(course.day + Duration::days(17), 9));
        }
        course.day += Duration::days(21);
        if rng.chance(0.08) {
            course.day += Duration::days(rng.between(3, 8));
            course.delay_reason = Some("Postponed at her request (travel)");
        }
    }
    Ok(())
}

/// Where a T-DXd course stands between cycles.
struct Course {
    /// The day the next dose is due.
    day: NaiveDate,
    level: DoseLevel,
    weight: f64,
    delay_reason: Option<&'static str>,
    reduction_reason: Option<&'static str>,
    /// The adverse event awaiting its follow-up: its entry id and the command that
    /// recorded it.
    open_ae: Option<(String, Command)>,
}

/// One T-DXd cycle: the day before, the follow-up of an open adverse event, the labs
/// (with an LVEF every fourth cycle) and the weight; on the day, the dose; now and then
/// an adverse event a few days later.
fn cycle_of(h: &mut History, rng: &mut Rng, c: &mut Course, cycle: u32) -> Step {
    let eve = c.day - Duration::days(1);
    if let Some((entry, mut follow)) = c.open_ae.take() {
        if let Command::RecordAdverseEvent(a) = &mut follow {
            a.resolved = Some(a.onset + Duration::days(rng.between(2, 9)));
            a.outcome = AeOutcome::Recovered;
            a.corrects = Some(entry);
            a.correction_reason = Some("Follow-up: resolved".into());
        }
        let why = Some("Follow-up: resolved");
        h.enter_with(Role::ResearchNurse, at(eve, 12), follow, why)?;
    }
    safety_labs(h, rng, eve)?;
    if cycle.is_multiple_of(4) {
        // Baseline LVEF 60 %: 55–62 % stays within the label's "continue" band.
        let lvef = testing::lab(Analyte::Lvef, rng.value(55.0, 62.0), "%", None, at(eve, 9));
        h.enter(Role::ResearchNurse, at(eve, 13), lvef)?;
    }
    c.weight = (c.weight + rng.value(-1.0, 1.0)).clamp(45.0, 120.0);
    let weight = Command::RecordBodyWeight(protocol::RecordBodyWeight {
        weight_kg: c.weight,
        measured_on: eve,
        corrects: None,
        correction_reason: None,
    });
    h.enter(Role::ResearchNurse, at(eve, 13), weight)?;
    let dose = Command::RecordTdxdAdministration(protocol::RecordTdxdAdministration {
        date: c.day,
        weight_kg: c.weight,
        dose_level: c.level,
        dose_mg: (c.level.mg_per_kg() * c.weight * 10.0).round() / 10.0,
        reduction_reason: c.reduction_reason.take().map(Into::into),
        delay_reason: c.delay_reason.take().map(Into::into),
        late_entry_of_fact: false,
    });
    h.enter(Role::ResearchNurse, at(c.day, 15), dose)?;
    if rng.chance(0.4) {
        let onset = c.day + Duration::days(rng.between(2, 5));
        let grade = if rng.chance(0.3) { 2 } else { 1 };
        let ae = adverse_event(rng, onset, grade);
        h.enter(
            Role::ResearchNurse,
            at(onset + Duration::days(1), 14),
            ae.clone(),
        )?;
        let entry = h.participant.adverse_events.last();
        c.open_ae = entry.map(|e| (e.entry_id.clone(), ae));
        let lower = match c.level {
            DoseLevel::Start => Some(DoseLevel::Reduced1),
            DoseLevel::Reduced1 => Some(DoseLevel::Reduced2),
            DoseLevel::Reduced2 => None,
        };
        if let Some(lower) = lower.filter(|_| grade == 2 && rng.chance(0.4)) {
            c.level = lower;
            c.reduction_reason = Some("Grade 2 adverse event in the previous cycle");
        }
    }
    Ok(())
}

/// A HER2-PET at `day` 09:00: the IMP, and the quantification of the scan an hour later.
fn pet(h: &mut History, rng: &mut Rng, tp: PetTimepoint, day: NaiveDate) -> Step {
    let injected = at(day, 9);
    let imp = testing::imp_command(tp, injected);
    h.enter(Role::ResearchNurse, injected + Duration::hours(2), imp)?;
    let Some(administration) = h.participant.imp_administrations.last() else {
        return Err(Stop::Failed(format!("{}: no IMP for {tp:?}", h.study_id)));
    };
    let candidates = vec![testing::pet_candidate(1, rng.value(4.0, 9.0), None)];
    let id = administration.entry_id.clone();
    let quantified = testing::quantification_command(tp, &id, injected, candidates);
    h.enter(
        Role::NuclearMedicineReader,
        injected + Duration::hours(3),
        quantified,
    )
}

/// At progression: PET3 for half of them, then the end of participation once the PET3 is
/// done or its window has passed (forgotten for one in ten).
fn after_progression(h: &mut History, rng: &mut Rng, progression: NaiveDate) -> Step {
    let mut end = progression + Duration::days(29);
    if rng.chance(0.5) {
        let day = progression + Duration::days(rng.between(7, 21));
        pet(h, rng, PetTimepoint::Pet3, day)?;
        end = day + Duration::days(1);
    }
    if rng.chance(0.9) {
        let c = Command::EndParticipation(protocol::EndParticipation {
            reason: protocol::OffStudyReason::Arm1EndEvent,
            ended_on: end,
            note: None,
        });
        h.enter(Role::Investigator, at(end, 14), c)?;
    }
    Ok(())
}

/// The targets' course on T-DXd: they shrink to a depth of response and stay there, until
/// (at each CT with some chance) they grow by 30 % over the nadir, which RECIST 1.1 calls
/// progression (≥ 20 % and ≥ 5 mm over the smallest sum, §4.3.1).
struct Tumour {
    size: f64,
    nadir: f64,
    depth: f64,
    progression_chance: f64,
}

impl Tumour {
    fn new(rng: &mut Rng) -> Tumour {
        Tumour {
            size: 1.0,
            nadir: 1.0,
            depth: rng.value(0.55, 1.0),
            progression_chance: rng.value(0.03, 0.1),
        }
    }

    /// The next CT's target diameters (mm), and whether it shows progression.
    fn next_scan(&mut self, rng: &mut Rng) -> (f64, f64, bool) {
        let progression = rng.chance(self.progression_chance);
        self.size = if progression {
            self.nadir * 1.3
        } else {
            (self.size - 0.1).max(self.depth)
        };
        self.nadir = self.nadir.min(self.size);
        let mm = |base: f64| (base * self.size * 10.0).round() / 10.0;
        (mm(30.0), mm(20.0), progression)
    }
}
