//! Deciding commands: `decide(participant, command, now, settings)` returns the
//! events to record, or a [`Refusal`]. Pure: time and settings come in as values.
//!
//! Order of checks: personal numbers in any text field (`PRIV_PNR`), consent
//! withdrawn (`WITHDRAWN`), state machine (`STATE_TRANSITION`), then the
//! command's own rules (values, units, consent gate, eligibility).
//!
//! The state machine is the table [`CommandKind::allowed_in`]; each command's own rules
//! sit in the submodule of its step (`screening`, `imaging`, `biopsy`, `pathology`,
//! `tdxd`, `safety`, `end`, `response`, `pet_response`, `lifecycle`), named after
//! [`crate::journey`].

mod biopsy;
mod chronology;
mod end;
mod imaging;
mod lifecycle;
mod pathology;
mod pet_response;
mod pregnancy;
mod recheck;
mod response;
mod safety;
mod schedule;
mod screening;
mod tdxd;

use chrono::{DateTime, NaiveDate, Utc};

use crate::command::{Command, CommandKind};
use crate::event::{EntryMeta, Event};
use crate::participant::{EntryStatus, Participant, State};
use crate::privacy::check_free_text;
use crate::records::ESignature;
use crate::rule::{Refusal, Rule};
use crate::settings::Settings;

/// Decides a command against a participant's current state, with the oversight rules of
/// her own record applied (her freezes and locks, verification, signatures, automatic
/// queries; [`crate::oversight`]). The trial's write path uses [`crate::decide_in`], which
/// adds the study-wide freeze or lock.
pub fn decide(
    p: &Participant,
    cmd: &Command,
    now: DateTime<Utc>,
    settings: &Settings,
) -> Result<Vec<Event>, Refusal> {
    crate::oversight::decide_in(
        p,
        &crate::oversight::StudyOversight::default(),
        cmd,
        now,
        settings,
    )
}

/// The command's own rules: the events it records, before oversight.
pub(crate) fn decide_command(
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
            .map(|w| format!(" on {}", settings.local_date(w.withdrawn_at)))
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
    let mut events = match cmd {
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
        Command::ConfirmPetResponse(c) => pet_response::confirm(&ctx, c),
        Command::RecordFreshBiopsy(c) => biopsy::fresh_biopsy(&ctx, c),
        Command::UseArchivalBiopsy(c) => biopsy::archival_biopsy(&ctx, c),
        Command::RecordPathology(c) => pathology::pathology(&ctx, c),
        Command::CorrectAllocation(c) => pathology::correct_allocation(&ctx, c),
        Command::RecordTdxdAdministration(c) => tdxd::tdxd(&ctx, c),
        Command::RecordAdverseEvent(c) => safety::adverse_event(&ctx, c),
        Command::EndParticipation(c) => end::end(&ctx, c),
        Command::RecordPregnancyReport(c) => safety::pregnancy_report(&ctx, c),
        Command::RecordBaselineTumourAssessment(c) => response::baseline(&ctx, c),
        Command::RecordTumourAssessment(c) => response::assessment(&ctx, c),
    }?;
    events.extend(recheck::eligibility_after_correction(&ctx, cmd, &events));
    number_deviations(p, &mut events);
    Ok(events)
}

/// One command may raise several deviations (consent gate, visit window, order of
/// events), each built as if it were the only one: the first keeps its id (an entry may
/// name it), the others get the next free ones.
fn number_deviations(p: &Participant, events: &mut [Event]) {
    let mut next = p.deviations.len() + 1;
    let mut seen = std::collections::BTreeSet::new();
    for e in events {
        if let Event::DeviationRecorded { deviation, .. } = e {
            while !seen.insert(deviation.deviation_id.clone()) {
                next += 1;
                deviation.deviation_id = format!("dev-{next}");
            }
        }
    }
}

/// The commands (by name, as in their JSON `type`) a participant in `state`
/// may be given, not counting corrections; empty once consent is withdrawn.
pub fn commands_allowed_in(state: &State) -> Vec<&'static str> {
    command_kinds_allowed_in(state)
        .into_iter()
        .map(CommandKind::name)
        .collect()
}

/// The kinds of command a participant in `state` may be given, not counting
/// corrections, in the order of [`CommandKind::ALL`]; empty once consent is withdrawn.
pub fn command_kinds_allowed_in(state: &State) -> Vec<CommandKind> {
    if *state == State::Withdrawn {
        return Vec::new();
    }
    let state = state.kind();
    CommandKind::ALL
        .into_iter()
        .filter(|k| k.allowed_in(false).contains(&state))
        .collect()
}

fn check_state(p: &Participant, cmd: &Command) -> Result<(), Refusal> {
    let allowed = cmd.kind().allowed_in(cmd.corrects().is_some());
    if allowed.contains(&p.state.kind()) {
        return Ok(());
    }
    let names: Vec<&str> = allowed.iter().map(|s| s.name()).collect();
    Err(Refusal::new(
        Rule::STATE_TRANSITION,
        format!(
            "`{}` is not allowed while the participant is {}; it is allowed in: {}.",
            cmd.name(),
            p.state.name(),
            names.join(", ")
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
    /// Today at the sites (the local calendar of [`Settings::site_time_zone`]).
    pub fn today(&self) -> NaiveDate {
        self.s.local_date(self.now)
    }

    /// The sites' calendar date of an instant.
    pub fn day(&self, t: DateTime<Utc>) -> NaiveDate {
        self.s.local_date(t)
    }

    /// Refuses a date after today (local calendar: 00:30 in Stockholm is already tomorrow's date).
    pub fn not_future_date(&self, field: &str, d: NaiveDate) -> Result<(), Refusal> {
        if d > self.today() {
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
                format!("`{field}` ({}) is in the future.", self.s.local_text(t)),
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

/// A trimmed optional text; blank is none.
pub(crate) fn text(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}
