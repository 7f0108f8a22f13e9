//! Deciding commands: `decide(participant, command, now, settings)` returns the
//! events to record, or a [`Refusal`]. Pure: time and settings come in as values.
//!
//! Order of checks: personal numbers in any text field (`PRIV_PNR`), consent
//! withdrawn (`WITHDRAWN`), state machine (`STATE_TRANSITION`), then the
//! command's own rules (values, units, consent gate, eligibility).

mod imaging;
mod journey;
mod lifecycle;
mod response;
mod screening;

use chrono::{DateTime, NaiveDate, Utc};

use crate::command::Command;
use crate::event::{EntryMeta, Event};
use crate::participant::{EntryStatus, Participant, State};
use crate::privacy::check_free_text;
use crate::records::ESignature;
use crate::rule::{Refusal, Rule};
use crate::settings::Settings;

/// Decides a command against a participant's current state.
pub fn decide(
    p: &Participant,
    cmd: &Command,
    now: DateTime<Utc>,
    settings: &Settings,
) -> Result<Vec<Event>, Refusal> {
    for (field, text) in cmd.text_fields() {
        check_free_text(field, text)?;
    }
    if p.state == State::Withdrawn {
        let when = p
            .withdrawal
            .as_ref()
            .map(|w| format!(" on {}", w.withdrawn_at.format("%Y-%m-%d")))
            .unwrap_or_default();
        return Err(Refusal::new(
            Rule::WITHDRAWN,
            format!(
                "Participant {} withdrew consent{when}: no further data may be entered.",
                p.study_id.as_deref().unwrap_or("?")
            ),
        )
        .with_hint("Data collected before the withdrawal stay in the record."));
    }
    check_state(p, cmd)?;
    let ctx = Dc {
        p,
        now,
        s: settings,
    };
    match cmd {
        Command::RegisterParticipant(c) => lifecycle::register(&ctx, c),
        Command::RecordConsent(c) => lifecycle::consent(&ctx, c),
        Command::WithdrawConsent(c) => lifecycle::withdraw(&ctx, c),
        Command::Enrol(c) => lifecycle::enrol(&ctx, c),
        Command::ScreenFail(c) => lifecycle::screen_fail(&ctx, c),
        Command::RecordDeath(c) => lifecycle::death(&ctx, c),
        Command::RecordLostToFollowUp(c) => lifecycle::lost(&ctx, c),
        Command::RetractEntry(c) => screening::retract(&ctx, c),
        Command::RecordTreatmentLine(c) => screening::treatment_line(&ctx, c),
        Command::RecordLesion(c) => screening::lesion(&ctx, c),
        Command::RecordLab(c) => screening::lab(&ctx, c),
        Command::RecordBodyWeight(c) => screening::weight(&ctx, c),
        Command::RecordPerformanceStatus(c) => screening::performance_status(&ctx, c),
        Command::RecordChildbearingPotential(c) => screening::childbearing(&ctx, c),
        Command::RecordPregnancyTest(c) => screening::pregnancy_test(&ctx, c),
        Command::RecordMedicalHistory(c) => screening::history(&ctx, c),
        Command::RecordPriorHer2Result(c) => screening::prior_her2(&ctx, c),
        Command::RecordOtherMalignancy(c) => screening::other_malignancy(&ctx, c),
        Command::RecordArchivalBiopsy(c) => screening::archival(&ctx, c),
        Command::RecordAttestation(c) => screening::attestation(&ctx, c),
        Command::RecordImpAdministration(c) => imaging::imp(&ctx, c),
        Command::RecordPetQuantification(c) => imaging::quantification(&ctx, c),
        Command::ReviewPetLesions(c) => imaging::review(&ctx, c),
        Command::ChooseBiopsyTarget(c) => imaging::choose_target(&ctx, c),
        Command::RecordFreshBiopsy(c) => journey::fresh_biopsy(&ctx, c),
        Command::UseArchivalBiopsy(c) => journey::archival_biopsy(&ctx, c),
        Command::RecordPathology(c) => journey::pathology(&ctx, c),
        Command::CorrectAllocation(c) => journey::correct_allocation(&ctx, c),
        Command::RecordTdxdAdministration(c) => journey::tdxd(&ctx, c),
        Command::RecordAdverseEvent(c) => journey::adverse_event(&ctx, c),
        Command::EndParticipation(c) => journey::end(&ctx, c),
        Command::RecordPregnancyReport(c) => journey::pregnancy_report(&ctx, c),
        Command::RecordBaselineTumourAssessment(c) => response::baseline(&ctx, c),
        Command::RecordTumourAssessment(c) => response::assessment(&ctx, c),
    }
}

/// Every command name, in the order of [`Command`].
const COMMAND_NAMES: [&str; 34] = [
    "register_participant",
    "record_consent",
    "withdraw_consent",
    "record_treatment_line",
    "record_lesion",
    "record_lab",
    "record_body_weight",
    "record_performance_status",
    "record_childbearing_potential",
    "record_pregnancy_test",
    "record_medical_history",
    "record_prior_her2_result",
    "record_other_malignancy",
    "record_archival_biopsy",
    "record_attestation",
    "retract_entry",
    "enrol",
    "screen_fail",
    "record_death",
    "record_lost_to_follow_up",
    "record_imp_administration",
    "record_pet_quantification",
    "review_pet_lesions",
    "choose_biopsy_target",
    "record_fresh_biopsy",
    "use_archival_biopsy",
    "record_pathology",
    "correct_allocation",
    "record_tdxd_administration",
    "record_adverse_event",
    "end_participation",
    "record_pregnancy_report",
    "record_baseline_tumour_assessment",
    "record_tumour_assessment",
];

/// States in which a command (by name; `correcting` for a correction) is allowed (PROTOCOL §2).
fn allowed_states(name: &str, correcting: bool) -> &'static [&'static str] {
    const FACTS: &[&str] = &["consented", "screening"];
    const CORRECTIONS: &[&str] = &["screening", "enrolled"];
    const ACTIVE: &[&str] = &[
        "registered",
        "consented",
        "screening",
        "enrolled",
        "baseline_pet_done",
        "biopsy_done",
        "pathology_reported",
        "allocated",
        "on_treatment",
        "response_pet_done",
        "progression",
        "safety_follow_up",
    ];
    /// Facts that recur after enrolment too (a serum test before each IMP dose, a weight).
    const RECURRING: &[&str] = &[
        "consented",
        "screening",
        "enrolled",
        "baseline_pet_done",
        "biopsy_done",
        "pathology_reported",
        "allocated",
        "on_treatment",
        "response_pet_done",
        "progression",
    ];
    /// After enrolment, before the end: the PET exams and their review (the time
    /// point's own state rule is checked by the command).
    const IMAGING: &[&str] = RECURRING.split_at(2).1;
    match name {
        "register_participant" => &["unregistered"],
        // The reader's CT assessments, and their corrections, from enrolment until the
        // journey ends (PROTOCOL §10).
        "record_baseline_tumour_assessment" | "record_tumour_assessment" => IMAGING,
        "record_imp_administration"
        | "record_pet_quantification"
        | "review_pet_lesions"
        | "choose_biopsy_target" => IMAGING,
        "record_pregnancy_test" | "record_body_weight" | "record_lab" if !correcting => RECURRING,
        "record_fresh_biopsy" => &["baseline_pet_done", "progression"],
        "use_archival_biopsy" => &["baseline_pet_done"],
        "record_pathology" => &["biopsy_done", "pathology_reported", "progression"],
        "correct_allocation" => &["allocated", "safety_follow_up", "on_treatment"],
        "record_tdxd_administration" => &["allocated", "on_treatment", "response_pet_done"],
        "record_adverse_event" | "record_pregnancy_report" => &[
            "enrolled",
            "baseline_pet_done",
            "biopsy_done",
            "pathology_reported",
            "allocated",
            "on_treatment",
            "response_pet_done",
            "progression",
            "safety_follow_up",
            "off_study",
        ],
        "end_participation" => &[
            "allocated",
            "safety_follow_up",
            "on_treatment",
            "response_pet_done",
            "progression",
        ],
        "record_consent" | "record_death" | "record_lost_to_follow_up" => ACTIVE,
        "withdraw_consent" => &ACTIVE[1..],
        "enrol" => &["screening"],
        "screen_fail" => FACTS,
        "retract_entry" => CORRECTIONS,
        _ if correcting => CORRECTIONS,
        _ => FACTS,
    }
}

/// The commands (by name, as in their JSON `type`) a participant in `state`
/// may be given, not counting corrections; empty once consent is withdrawn.
pub fn commands_allowed_in(state: &State) -> Vec<&'static str> {
    if *state == State::Withdrawn {
        return Vec::new();
    }
    COMMAND_NAMES
        .into_iter()
        .filter(|n| allowed_states(n, false).contains(&state.name()))
        .collect()
}

fn corrects_field(cmd: &Command) -> Option<&str> {
    let c = match cmd {
        Command::RecordTreatmentLine(c) => &c.corrects,
        Command::RecordLesion(c) => &c.corrects,
        Command::RecordLab(c) => &c.corrects,
        Command::RecordBodyWeight(c) => &c.corrects,
        Command::RecordPerformanceStatus(c) => &c.corrects,
        Command::RecordChildbearingPotential(c) => &c.corrects,
        Command::RecordPregnancyTest(c) => &c.corrects,
        Command::RecordMedicalHistory(c) => &c.corrects,
        Command::RecordPriorHer2Result(c) => &c.corrects,
        Command::RecordOtherMalignancy(c) => &c.corrects,
        Command::RecordArchivalBiopsy(c) => &c.corrects,
        Command::RecordImpAdministration(c) => &c.corrects,
        Command::RecordAdverseEvent(c) => &c.corrects,
        Command::RecordBaselineTumourAssessment(c) => &c.corrects,
        Command::RecordTumourAssessment(c) => &c.corrects,
        _ => &None,
    };
    c.as_deref()
}

fn check_state(p: &Participant, cmd: &Command) -> Result<(), Refusal> {
    let allowed = allowed_states(cmd.name(), corrects_field(cmd).is_some());
    if allowed.contains(&p.state.name()) {
        return Ok(());
    }
    Err(Refusal::new(
        Rule::STATE_TRANSITION,
        format!(
            "`{}` is not allowed while the participant is {}; it is allowed in: {}.",
            cmd.name(),
            p.state.name(),
            allowed.join(", ")
        ),
    ))
}

/// Decision context.
pub(crate) struct Dc<'a> {
    pub p: &'a Participant,
    pub now: DateTime<Utc>,
    pub s: &'a Settings,
}

impl Dc<'_> {
    /// Refuses a date after today.
    pub fn not_future_date(&self, field: &str, d: NaiveDate) -> Result<(), Refusal> {
        if d > self.now.date_naive() {
            return Err(Refusal::new(
                Rule::VALUE_IMPOSSIBLE,
                format!("`{field}` ({d}) is in the future."),
            ));
        }
        Ok(())
    }

    /// Refuses a time after now.
    pub fn not_future(&self, field: &str, t: DateTime<Utc>) -> Result<(), Refusal> {
        if t > self.now {
            return Err(Refusal::new(
                Rule::VALUE_IMPOSSIBLE,
                format!(
                    "`{field}` ({}) is in the future.",
                    t.format("%Y-%m-%d %H:%M UTC")
                ),
            ));
        }
        Ok(())
    }

    /// Bookkeeping for a new entry of kind `prefix`, checking the correction it names.
    pub fn entry(
        &self,
        prefix: &str,
        corrects: &Option<String>,
        reason: &Option<String>,
    ) -> Result<EntryMeta, Refusal> {
        if let Some(old) = corrects {
            let same_kind = old.split_once('-').is_some_and(|(k, _)| k == prefix);
            if !same_kind || self.p.entry_status(old) != Some(EntryStatus::Current) {
                return Err(Refusal::new(
                    Rule::ENTRY_UNKNOWN,
                    format!("`corrects` names `{old}`, which is not a current {prefix} entry."),
                )
                .with_hint("Only the current value of an entry can be corrected."));
            }
            if reason.as_deref().is_none_or(|r| r.trim().is_empty()) {
                return Err(Refusal::new(
                    Rule::VALUE_REQUIRED,
                    "A correction needs a reason (`correction_reason`).",
                ));
            }
        }
        Ok(EntryMeta {
            entry_id: format!("{prefix}-{}", self.p.count_prefix(prefix) + 1),
            recorded_at: self.now,
            supersedes: corrects.clone(),
            correction_reason: if corrects.is_some() {
                reason.clone()
            } else {
                None
            },
            settings_version: self.s.version,
        })
    }

    /// Checks an electronic signature is complete and dated sensibly.
    pub fn signature(&self, sig: &ESignature) -> Result<(), Refusal> {
        for (name, v) in [
            ("signer", &sig.signer),
            ("role", &sig.role),
            ("meaning", &sig.meaning),
        ] {
            if v.trim().is_empty() {
                return Err(Refusal::new(
                    Rule::SIGNATURE,
                    format!("The electronic signature needs a {name}."),
                ));
            }
        }
        if sig.signed_at > self.now {
            return Err(Refusal::new(
                Rule::SIGNATURE,
                "The signature is dated in the future.",
            ));
        }
        if let Some(c) = self.p.first_consent()
            && sig.signed_at < c.signed_at
        {
            return Err(Refusal::new(
                Rule::SIGNATURE,
                "The signature is dated before the participant's consent.",
            ));
        }
        Ok(())
    }
}

/// Refuses an empty required text.
pub(crate) fn required(field: &str, v: &str) -> Result<(), Refusal> {
    if v.trim().is_empty() {
        return Err(Refusal::new(
            Rule::VALUE_REQUIRED,
            format!("`{field}` is required."),
        ));
    }
    Ok(())
}
