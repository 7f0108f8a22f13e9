//! Runs the demo's plan through the write path: the clock moved to each step, every
//! entry decided by the protocol (`Trial::execute_all`, `Trial::oversee_by`,
//! `Trial::record_quantified`) as the user who made it. A refusal stops the demo with
//! the step, the participant and the rule: the plan is meant to be what a careful site
//! enters, so a refusal is a bug to fix, never something to skip.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::Trial;
use crate::participants::Registration;
use chrono::Duration;
use protocol::imaging::{PetTimepoint, ReaderDecision};
use protocol::oversight::{
    AnswerQuery, OversightCommand as O, QueryStatus, ResolveQuery, Scope, Staff, VerifyEntries,
};
use protocol::pet_response::{Pet2Decision, Pet2LesionDecision};
use protocol::{AddedLesion, CandidateDecision, Command};

use super::error::{Context, DemoError, Result};
use super::people::{self, actor};
use super::pets::{Exam, Pipeline};
use super::plan::{Action, Plan, Step};
use super::plan_journey::TARGET_MEANING;

/// How far a candidate's centroid may be from a phantom lesion's centre to be that lesion (mm).
const SAME_LESION_MM: f64 = 25.0;

/// Enters the whole plan; `progress` hears (steps done, steps, exams done, exams).
pub async fn execute(
    state: &Trial,
    clock: &crate::FixedClock,
    plan: &Plan,
    progress: &mut dyn FnMut(usize, usize, usize, usize),
) -> Result<()> {
    let archive = state
        .archive()
        .cloned()
        .context("the demo needs the DICOM archive")?;
    let settings = state.settings().await?;
    let used = plan.exams_read();
    let jobs = plan
        .pets
        .iter()
        .enumerate()
        .map(|(k, j)| {
            let site = plan.people[j.person].site.to_string();
            (j.clone(), site, used.contains(&k))
        })
        .collect();
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let pipeline = Arc::new(Pipeline::start(
        archive,
        jobs,
        settings,
        state.zone(),
        threads,
    ));
    let mut run = Run {
        state,
        plan,
        pipeline: pipeline.clone(),
        exams: BTreeMap::new(),
        versions: BTreeMap::new(),
    };
    let (total, all_pets, mut pets) = (plan.steps.len(), used.len(), 0);
    let mut result = Ok(());
    for (k, step) in plan.steps.iter().enumerate() {
        clock.set(step.at);
        let id = &plan.people[step.person].study_id;
        if let Err(e) = run.step(step).await {
            result = Err(DemoError(format!(
                "demo step {} of {total}: {} for {id} at {}: {}",
                k + 1,
                step.who,
                step.at,
                e.0
            )));
            break;
        }
        if matches!(step.action, Action::Pet { .. }) {
            pets += 1;
        }
        progress(k + 1, total, pets, all_pets);
    }
    drop(run);
    if let Ok(p) = Arc::try_unwrap(pipeline) {
        // On a blocking thread: a worker finishing its exam waits for the archive's
        // database, whose queries need this runtime's threads.
        let _ = tokio::task::spawn_blocking(move || p.stop()).await;
    }
    result
}

struct Run<'a> {
    state: &'a Trial,
    plan: &'a Plan,
    pipeline: Arc<Pipeline>,
    /// Exams recorded so far, by job (their ground truth for the reader).
    exams: BTreeMap<usize, pet::phantom::GroundTruth>,
    /// Each woman's version after the last write: an entry states the version it was
    /// made on without reading her whole history again.
    versions: BTreeMap<String, i64>,
}

impl Run<'_> {
    async fn step(&mut self, step: &Step) -> Result<()> {
        let person = &self.plan.people[step.person];
        let id = person.study_id.as_str();
        let who = actor(step.who);
        match &step.action {
            Action::Register { year_of_birth } => {
                let reg = Registration {
                    site: None,
                    year_of_birth: *year_of_birth,
                    sex: protocol::Sex::Female,
                };
                let w = self.state.register_as(&who, person.site, &reg).await?;
                if w.study_id != id {
                    return Err(DemoError(format!(
                        "registered as {} where the plan expected {id}",
                        w.study_id
                    )));
                }
                self.versions.insert(w.study_id, w.version);
            }
            Action::Enter(commands) => {
                self.enter(step, commands, None).await?;
            }
            Action::FollowUp { command, reason } => {
                let c = self.follow_up(id, command).await?;
                self.enter(step, &[c], Some(reason.to_string())).await?;
            }
            Action::Pet { job } => self.pet(step, *job).await?,
            Action::Review { job } => {
                let c = self.review(id, *job).await?;
                self.enter(step, &[c], None).await?;
            }
            Action::ChooseTarget { job } => {
                let c = self.choose(step, *job).await?;
                self.enter(step, &[c], None).await?;
            }
            Action::ReadResponse { job } => {
                if let Some(c) = self.read_response(id, *job).await? {
                    self.enter(step, &[c], None).await?;
                }
            }
            Action::Oversee(command) => self.oversee(step, command).await?,
            Action::VerifyRemaining => {
                let p = self.loaded(id).await?.participant;
                let unverified = p.entry_ids().into_iter().any(|(entry, status)| {
                    status == protocol::EntryStatus::Current
                        && !p.oversight.sdv_of(&entry).is_verified()
                });
                if unverified {
                    let verify = O::VerifyEntries(VerifyEntries {
                        entry_ids: vec![],
                        scope: Some(Scope::Participant),
                    });
                    self.oversee(step, &verify).await?;
                }
            }
            Action::AnswerQuery { entry, text } => {
                let query_id = self.query(id, entry, QueryStatus::Open).await?;
                let c = O::AnswerQuery(AnswerQuery {
                    query_id,
                    text: (*text).into(),
                    correction: None,
                });
                self.oversee(step, &c).await?;
            }
            Action::CloseQuery { entry, text } => {
                let query_id = self.query(id, entry, QueryStatus::Answered).await?;
                let c = O::CloseQuery(ResolveQuery {
                    query_id,
                    text: (*text).into(),
                });
                self.oversee(step, &c).await?;
            }
        }
        Ok(())
    }

    async fn loaded(&self, id: &str) -> Result<crate::write::Loaded> {
        Ok(self.state.load(id).await?)
    }

    async fn enter(
        &mut self,
        step: &Step,
        commands: &[Command],
        reason: Option<String>,
    ) -> Result<()> {
        if commands.is_empty() {
            return Ok(());
        }
        let id = &self.plan.people[step.person].study_id;
        let version = self.versions.get(id).copied().unwrap_or_default();
        let w = self
            .state
            .execute_all(&actor(step.who), id, version, commands, reason)
            .await
            .with_context(|| format!("entering {}", commands[0].name()))?;
        self.versions.insert(w.study_id, w.version);
        Ok(())
    }

    async fn oversee(&mut self, step: &Step, command: &O) -> Result<()> {
        let a = actor(step.who);
        let role = people::user(step.who).role;
        let id = &self.plan.people[step.person].study_id;
        let version = self.versions.get(id).copied();
        let w = self
            .state
            .oversee_by(&a, &Staff::new(step.who, role), id, version, command, None)
            .await
            .with_context(|| format!("oversight: {}", command.name()))?;
        self.versions.insert(w.study_id, w.version);
        Ok(())
    }

    /// The query on `entry` in `status`, the latest first.
    async fn query(&self, id: &str, entry: &str, status: QueryStatus) -> Result<String> {
        let p = self.loaded(id).await?.participant;
        p.oversight
            .queries
            .iter()
            .rev()
            .find(|q| q.point.entry_id == entry && q.status == status)
            .map(|q| q.query_id.clone())
            .with_context(|| format!("no {status:?} query on {entry}"))
    }

    /// The follow-up of her latest adverse event of the same term and onset.
    async fn follow_up(&self, id: &str, command: &Command) -> Result<Command> {
        let Command::RecordAdverseEvent(ae) = command else {
            return Err(DemoError(
                "a follow-up of something that is not an adverse event".into(),
            ));
        };
        let p = self.loaded(id).await?.participant;
        let entry = p
            .adverse_events
            .iter()
            .rev()
            .find(|e| e.value.ae.meddra_code == ae.meddra_code && e.value.ae.onset == ae.onset)
            .map(|e| e.entry_id.clone())
            .context("the adverse event to follow up")?;
        Ok(Command::RecordAdverseEvent(protocol::RecordAdverseEvent {
            corrects: Some(entry),
            correction_reason: Some("Follow-up: resolved".into()),
            ..ae.clone()
        }))
    }

    /// The nurse enters the injection; the reader records the exam's quantification.
    async fn pet(&mut self, step: &Step, job: usize) -> Result<()> {
        let j = &self.plan.pets[job];
        let person = &self.plan.people[step.person];
        let nurse = people::staff(person.site, crate::Role::ResearchNurse);
        let spec = &j.spec;
        let imp = Command::RecordImpAdministration(protocol::RecordImpAdministration {
            timepoint: j.timepoint,
            activity_mbq: spec.injected_mbq,
            injected_at: j.injected_at,
            weight_kg: spec.weight_kg,
            height_cm: (spec.height_m * 100.0).round(),
            peptide_mass_ug: Some(100.0),
            scan_start_at: Some(j.injected_at + Duration::minutes(spec.uptake_min as i64)),
            late_entry_of_fact: false,
            corrects: None,
            correction_reason: None,
        });
        let nurse_step = Step {
            who: nurse,
            ..step.clone()
        };
        self.enter(&nurse_step, &[imp], None).await?;
        let pipeline = self.pipeline.clone();
        let mut exam: Exam = tokio::task::spawn_blocking(move || pipeline.take(job)).await??;
        // Its slices arrived as a folder of the demo: the audit trail keeps the receipt,
        // as it does of every import, at the moment of the exam.
        exam.arrived.started_at = self.state.now();
        exam.arrived.ended_at = exam.arrived.started_at;
        self.state
            .record_receipt(&exam.arrived)
            .await
            .context("recording the PET's receipt")?;
        let loaded = self.loaded(&person.study_id).await?;
        let admin = loaded
            .participant
            .imp_administration(j.timepoint)
            .map(|a| a.entry_id.clone())
            .context("the IMP just entered")?;
        let mut q = exam.quantified;
        q.command.administration_id = admin;
        let version = loaded.version;
        let w = self
            .state
            .record_quantified(
                &actor(step.who),
                person.site,
                &person.study_id,
                loaded,
                version,
                q,
            )
            .await
            .context("recording the quantification")?;
        self.versions.insert(w.study_id, w.version);
        self.exams.insert(job, exam.truth);
        Ok(())
    }

    /// How the reader names phantom lesion `l` of exam `job` (the anatomical place the
    /// phantom put it), and whether ultrasound reaches it (not bone, not lung).
    fn lesion_label(&self, job: usize, l: usize) -> (String, bool) {
        use pet::phantom::anatomy::LesionSite;
        let truth = self.exams.get(&job).and_then(|t| t.lesions.get(l));
        let name = truth
            .and_then(|t| t.location.clone())
            .unwrap_or_else(|| format!("lesion {}", l + 1));
        let reachable =
            truth.is_none_or(|t| !matches!(t.organ, LesionSite::Bone | LesionSite::Lung));
        (name, reachable)
    }

    /// The phantom lesion (index) a candidate at `c` is, if any.
    fn lesion_at(&self, job: usize, c: [f64; 3]) -> Option<usize> {
        let truth = self.exams.get(&job)?;
        truth
            .lesions
            .iter()
            .enumerate()
            .map(|(k, l)| (k, distance(l.centre_mm, c)))
            .filter(|(_, d)| *d <= SAME_LESION_MM)
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(k, _)| k)
    }

    /// For each phantom lesion of exam `job` that some candidate is, the nearest such
    /// candidate (a lesion can show as two): lesion index → (candidate number, distance).
    fn nearest_candidates(
        &self,
        job: usize,
        candidates: &[protocol::imaging::PetCandidate],
    ) -> BTreeMap<usize, (u32, f64)> {
        let mut taken = BTreeMap::new();
        for k in candidates.iter().filter(|k| k.physiological.is_none()) {
            let Some(l) = self.lesion_at(job, k.centroid_mm) else {
                continue;
            };
            let d = self
                .exams
                .get(&job)
                .map_or(0.0, |t| distance(t.lesions[l].centre_mm, k.centroid_mm));
            if taken.get(&l).is_none_or(|&(_, best)| d < best) {
                taken.insert(l, (k.number, d));
            }
        }
        taken
    }

    /// The reader confirms each candidate that is one of her lesions (the nearest when a
    /// lesion shows as two), rejects physiological uptake and noise, and adds the
    /// biopsied lesion by hand when the detector missed it (PET1).
    async fn review(&self, id: &str, job: usize) -> Result<Command> {
        let j = &self.plan.pets[job];
        let p = self.loaded(id).await?.participant;
        let q = p
            .pet_quantification(j.timepoint)
            .context("the quantified exam to review")?;
        let taken = self.nearest_candidates(job, &q.candidates);
        let decisions = q
            .candidates
            .iter()
            .map(|k| {
                let lesion = taken
                    .iter()
                    .find(|(_, (n, _))| *n == k.number)
                    .map(|(l, _)| *l);
                match (lesion, &k.physiological) {
                    (Some(l), _) => {
                        let (name, reachable) = self.lesion_label(job, l);
                        CandidateDecision {
                            candidate: k.number,
                            decision: ReaderDecision::Confirm,
                            anatomical_site: Some(name),
                            ultrasound_accessible: Some(reachable),
                            note: None,
                        }
                    }
                    (None, organ) => CandidateDecision {
                        candidate: k.number,
                        decision: ReaderDecision::Reject,
                        anatomical_site: None,
                        ultrasound_accessible: None,
                        note: Some(match organ {
                            Some(o) => format!("physiological uptake ({o})"),
                            None => "not a lesion: noise or part of a neighbouring lesion".into(),
                        }),
                    },
                }
            })
            .collect();
        let mut added = Vec::new();
        if j.timepoint == PetTimepoint::Pet1 && !taken.contains_key(&0) {
            added.push(AddedLesion {
                anatomical_site: self.lesion_label(job, 0).0,
                ultrasound_accessible: true,
                suv_max: Some((j.biopsied_suv * 100.0).round() / 100.0),
                note: Some("Below the detector's threshold; outlined and measured by hand".into()),
            });
        }
        Ok(Command::ReviewPetLesions(protocol::ReviewPetLesions {
            timepoint: j.timepoint,
            quantification_id: q.quantification_id.clone(),
            decisions,
            added,
            note: None,
        }))
    }

    /// The investigator chooses her biopsied lesion (the first of the phantom).
    async fn choose(&self, step: &Step, job: usize) -> Result<Command> {
        let biopsied = self.lesion_label(job, 0).0;
        let id = &self.plan.people[step.person].study_id;
        let p = self.loaded(id).await?.participant;
        let review = p
            .pet_review(PetTimepoint::Pet1)
            .context("the PET1 review")?;
        let target = review
            .lesions
            .iter()
            .find(|l| l.confirmed() && l.anatomical_site.as_deref() == Some(biopsied.as_str()))
            .context("the lesion to biopsy in the review")?;
        let rank = review
            .proposal
            .iter()
            .find(|t| t.label == target.label)
            .and_then(|t| t.rank);
        let reason = match rank {
            Some(1) => "Hottest lesion reachable by ultrasound (proposal rank 1)".to_string(),
            Some(r) => format!("Reachable by ultrasound with the least risk (proposal rank {r})"),
            None => "The only lesion reachable by ultrasound".to_string(),
        };
        Ok(Command::ChooseBiopsyTarget(protocol::ChooseBiopsyTarget {
            timepoint: PetTimepoint::Pet1,
            lesion: target.label.clone(),
            reason,
            signature: people::sign(step.who, TARGET_MEANING, step.at),
        }))
    }

    /// The reader's PET1 → PET2 read: each PET2 candidate is the PET1 lesion at the same
    /// place, or not a lesion. None when PET1 has no measured lesion to follow (only one
    /// outlined by hand): there is no response to read.
    async fn read_response(&self, id: &str, job: usize) -> Result<Option<Command>> {
        let p = self.loaded(id).await?.participant;
        let q2 = p
            .pet_quantification(PetTimepoint::Pet2)
            .context("the PET2 quantification")?;
        let pet1: Vec<(String, [f64; 3])> = p
            .pet_review(PetTimepoint::Pet1)
            .map(|r| {
                r.lesions
                    .iter()
                    .filter(|l| l.confirmed())
                    .filter_map(|l| Some((l.label.clone(), l.centroid_mm?, l.suv_peak?)))
                    .map(|(label, centroid, _)| (label, centroid))
                    .collect()
            })
            .unwrap_or_default();
        if pet1.is_empty() {
            return Ok(None);
        }
        let mut used = std::collections::BTreeSet::new();
        let decisions = q2
            .candidates
            .iter()
            .map(|k| {
                let same = (k.physiological.is_none()
                    && self.lesion_at(job, k.centroid_mm).is_some())
                .then(|| {
                    pet1.iter()
                        .filter(|(label, c)| {
                            !used.contains(label) && distance(*c, k.centroid_mm) <= SAME_LESION_MM
                        })
                        .min_by(|a, b| {
                            distance(a.1, k.centroid_mm).total_cmp(&distance(b.1, k.centroid_mm))
                        })
                        .map(|(label, _)| label.clone())
                })
                .flatten();
                match same {
                    Some(label) => {
                        used.insert(label.clone());
                        Pet2LesionDecision {
                            candidate: k.number,
                            decision: Pet2Decision::SameLesion,
                            pet1_lesion: Some(label),
                        }
                    }
                    None => Pet2LesionDecision {
                        candidate: k.number,
                        decision: Pet2Decision::NotALesion,
                        pet1_lesion: None,
                    },
                }
            })
            .collect();
        Ok(Some(Command::ConfirmPetResponse(
            protocol::ConfirmPetResponse {
                pet2_quantification_id: q2.quantification_id.clone(),
                decisions,
                background_suv: None,
                note: None,
            },
        )))
    }
}

fn distance(a: [f64; 3], b: [f64; 3]) -> f64 {
    ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2) + (a[2] - b[2]).powi(2)).sqrt()
}
