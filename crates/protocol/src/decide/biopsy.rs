//! The study biopsy (PROTOCOL §7): a fresh, PET-guided biopsy of the lesion the
//! investigator chose, or an archival sample used instead. The rules live in
//! [`crate::journey::biopsy`]; here they are applied to the participant's record, and a
//! baseline biopsy outside its visit window is kept with a deviation.

use super::schedule::window_deviation;
use super::{Dc, text};
use crate::command::{RecordFreshBiopsy, UseArchivalBiopsy};
use crate::event::Event;
use crate::imaging::PetTimepoint;
use crate::journey::biopsy::{
    Anticoagulation, ArchivalSample, BiopsyComplication, BiopsySource, FreshBiopsy,
    archival_refusal, archival_sample_problems, check_archival_sample, clear_fresh_biopsy,
    lines_since,
};
use crate::journey::schedule::VisitKind;
use crate::journey::trial::BiopsyRecord;
use crate::participant::{State, current};
use crate::records::{Deviation, DeviationSeverity};
use crate::rule::{Refusal, Rule};

fn guiding_pet(state: &State) -> PetTimepoint {
    if *state == State::Progression {
        PetTimepoint::Pet3
    } else {
        PetTimepoint::Pet1
    }
}

/// Records the fresh biopsy of the chosen target, cleared by bleeding labs and
/// anticoagulation (`BIOPSY_LABS`, `BIOPSY_ANTICOAGULATION`) and gated by consent.
pub(super) fn fresh_biopsy(ctx: &Dc, c: &RecordFreshBiopsy) -> Result<Vec<Event>, Refusal> {
    ctx.not_future("performed_at", c.performed_at)?;
    let tp = guiding_pet(&ctx.p.state);
    let Some(target) = ctx.p.biopsy_target(tp) else {
        return Err(Refusal::new(
            Rule::BIOPSY_TARGET,
            format!(
                "No biopsy target is chosen on {}: the investigator chooses the lesion first.",
                tp.label()
            ),
        ));
    };
    let proposal = ctx
        .p
        .pet_review(tp)
        .map(|r| {
            let mut ranked: Vec<_> = r.proposal.iter().filter(|t| t.rank.is_some()).collect();
            ranked.sort_by_key(|t| t.rank);
            ranked.into_iter().map(|t| t.label.clone()).collect()
        })
        .unwrap_or_default();
    let anticoagulation = match (text(&c.anticoagulant), c.anticoagulant_paused) {
        (None, _) => Anticoagulation::None,
        (Some(agent), true) => Anticoagulation::Paused {
            agent,
            last_dose_at: c.anticoagulant_last_dose_at.ok_or_else(|| {
                Refusal::new(
                    Rule::VALUE_REQUIRED,
                    "A paused anticoagulant needs the time of its last dose.",
                )
            })?,
        },
        (Some(agent), false) => Anticoagulation::NotPaused { agent },
    };
    let complications = match text(&c.complication) {
        None => Vec::new(),
        Some(description) => vec![BiopsyComplication {
            description,
            ctcae_meddra_code: c.complication_meddra_code,
            grade: c.complication_grade,
            noted_at: c.performed_at,
        }],
    };
    let biopsy_id = format!("biopsy-{}", ctx.p.biopsies.len() + 1);
    let fresh = FreshBiopsy {
        biopsy_id: biopsy_id.clone(),
        lesion_id: target.label.clone(),
        proposed_lesion_ids: proposal,
        choice_reason: Some(target.reason.clone()),
        performed_at: c.performed_at,
        anticoagulation,
        complications,
    };
    let labs: Vec<_> = current(&ctx.p.labs).map(|e| e.value.clone()).collect();
    let clearance = clear_fresh_biopsy(&fresh, &labs, ctx.s)?;
    let gate = crate::consent::consent_gate(
        ctx.p,
        ctx.s,
        "Study biopsy",
        c.performed_at,
        c.late_entry_of_fact,
        Some(&biopsy_id),
    )?;
    let order = super::chronology::Order {
        what: "The study biopsy",
        when: ctx.s.local_text(c.performed_at),
        at: c.performed_at,
        after: "the signed choice of its target lesion",
        after_when: ctx.s.local_text(target.signature.signed_at),
        broken: c.performed_at < target.signature.signed_at,
        late_entry_of_fact: c.late_entry_of_fact,
        entry_id: Some(biopsy_id.clone()),
    }
    .check(ctx)?;
    let mut events = Vec::new();
    let deviation = if tp == PetTimepoint::Pet1 {
        window_deviation(
            ctx,
            VisitKind::Biopsy,
            ctx.day(c.performed_at),
            Some(biopsy_id.clone()),
        )?
    } else {
        None
    };
    events.push(Event::BiopsyRecorded {
        biopsy: BiopsyRecord {
            evidence: clearance.evidence.clone(),
            source: BiopsySource::Fresh(fresh),
            clearance: Some(clearance),
            guided_by: Some(tp),
            recorded_at: ctx.now,
        },
        settings_version: ctx.s.version,
    });
    events.extend(gate.map(|deviation| Event::DeviationRecorded {
        deviation,
        recorded_at: ctx.now,
        settings_version: ctx.s.version,
    }));
    events.extend(deviation);
    events.extend(order);
    Ok(events)
}

/// Uses a current earlier-biopsy entry as the study biopsy (`ARCHIVAL_BIOPSY`): it must
/// precede PET1 and be recent enough on the day of PET1, with no disallowed therapy
/// since, on its form or in the recorded treatment lines. Used as a past fact
/// (`late_entry_of_fact`) although it does not qualify, it is recorded with a major
/// deviation, as the consent gate does.
pub(super) fn archival_biopsy(ctx: &Dc, c: &UseArchivalBiopsy) -> Result<Vec<Event>, Refusal> {
    ctx.not_future_date("used_on", c.used_on)?;
    let Some(entry) = ctx
        .p
        .archival_biopsies
        .iter()
        .find(|e| e.entry_id == c.archival_entry.trim() && e.is_current())
    else {
        return Err(Refusal::new(
            Rule::ENTRY_UNKNOWN,
            format!(
                "`{}` is not a current earlier-biopsy entry.",
                c.archival_entry.trim()
            ),
        ));
    };
    let Some(pet1) = ctx.p.imp_administration(PetTimepoint::Pet1) else {
        return Err(Refusal::new(
            Rule::ARCHIVAL_BIOPSY,
            "No PET1 is recorded: an earlier biopsy is judged against the day of PET1.",
        ));
    };
    let biopsy_id = format!("biopsy-{}", ctx.p.biopsies.len() + 1);
    let mut sample = ArchivalSample {
        biopsy_id: biopsy_id.clone(),
        lines_since: lines_since(
            &entry.value,
            current(&ctx.p.treatment_lines).map(|e| &e.value),
        ),
        record: entry.value.clone(),
        used_on: c.used_on,
        pet1_on: Some(ctx.day(pet1.value.injected_at)),
        deviation_id: None,
    };
    let problems = archival_sample_problems(&sample, ctx.s);
    let deviation = if problems.is_empty() {
        None
    } else if c.late_entry_of_fact {
        let id = format!("dev-{}", ctx.p.deviations.len() + 1);
        sample.deviation_id = Some(id.clone());
        Some(Deviation {
            deviation_id: id,
            severity: DeviationSeverity::Major,
            rule: Rule::ARCHIVAL_BIOPSY,
            description: format!(
                "Archival biopsy of {} used instead of the study biopsy although {}.",
                sample.record.biopsy_date,
                problems.join(", ")
            ),
            occurred_at: pet1.value.injected_at,
            entry_id: Some(biopsy_id),
        })
    } else {
        let refusal = archival_refusal(&sample, &problems, ctx.s);
        let hint = format!(
            "{} If the sample really was used already, record it with `late_entry_of_fact` \
             set: a major deviation will be raised.",
            refusal.hint.clone().unwrap_or_default()
        );
        return Err(refusal.with_hint(hint));
    };
    let evidence = check_archival_sample(&sample, ctx.s)?;
    let mut events = vec![Event::BiopsyRecorded {
        biopsy: BiopsyRecord {
            source: BiopsySource::Archival(sample),
            clearance: None,
            evidence: vec![evidence],
            guided_by: None,
            recorded_at: ctx.now,
        },
        settings_version: ctx.s.version,
    }];
    events.extend(deviation.map(|deviation| Event::DeviationRecorded {
        deviation,
        recorded_at: ctx.now,
        settings_version: ctx.s.version,
    }));
    Ok(events)
}
