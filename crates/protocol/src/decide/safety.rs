//! Safety reports (PROTOCOL §11): adverse events, coded to CTCAE v5.0 with the T-DXd
//! dose decisions they call for, and pregnancy reports. Both are reported from
//! enrolment and after the end of participation too. The rules live in
//! [`crate::journey::safety`] and [`crate::journey::ctcae`].

use super::{Dc, text};
use crate::command::{OffStudyReason, RecordAdverseEvent, RecordPregnancyReport};
use crate::event::Event;
use crate::journey::end::{EndReason, PostEndRecord, may_record_after_end};
use crate::journey::safety::{AdverseEvent, Seriousness, code_adverse_event};
use crate::journey::tdxd::ae_dose_decisions;
use crate::journey::trial::{AeRecord, PregnancyReport};
use crate::participant::StateKind;
use crate::rule::{Refusal, Rule};

/// Records an adverse event or its follow-up (a correction of the earlier entry),
/// with the T-DXd dose decisions it calls for from its current facts (a resolution
/// recorded with the AE, at entry or in a follow-up, ends its hold).
pub(super) fn adverse_event(ctx: &Dc, c: &RecordAdverseEvent) -> Result<Vec<Event>, Refusal> {
    ae_dates(ctx, c)?;
    sae_clock_entry(ctx, c)?;
    after_the_end(ctx, c)?;
    let previous = c
        .corrects
        .as_deref()
        .and_then(|id| ctx.p.adverse_events.iter().find(|e| e.entry_id == id));
    let entry = ctx.entry("ae", &c.corrects, &c.correction_reason)?;
    // On T-DXd from cycle 1 day 1 (a retrospective entry of an earlier AE is not).
    let on_tdxd = ctx
        .p
        .tdxd
        .administrations
        .first()
        .is_some_and(|a| a.date <= c.onset);
    let ae = AdverseEvent {
        ae_id: previous.map_or_else(|| entry.entry_id.clone(), |p| p.value.ae.ae_id.clone()),
        meddra_code: c.meddra_code,
        verbatim: text(&c.verbatim),
        grade: c.grade,
        onset: c.onset,
        resolved: c.resolved,
        seriousness: Seriousness {
            death: c.serious_death,
            life_threatening: c.serious_life_threatening,
            hospitalisation: c.serious_hospitalisation,
            disability: c.serious_disability,
            congenital_anomaly: c.serious_congenital_anomaly,
            important_medical_event: c.serious_important_medical_event,
        },
        relation_imp: c.relation_imp,
        relation_tdxd: c.relation_tdxd,
        action_tdxd: c.action_tdxd,
        outcome: c.outcome,
        site_aware_at: c.site_aware_at,
        reported_to_sponsor_at: c.reported_to_sponsor_at,
        on_tdxd,
    };
    let coded = code_adverse_event(&ae, ctx.s)?;
    // The decisions of this AE from its current facts; the course is recomputed
    // from the current entries, so the entry it corrects no longer decides.
    let decisions = ae_dose_decisions(&ae, &coded, ctx.s)?;
    Ok(vec![Event::AdverseEventRecorded {
        entry,
        record: AeRecord {
            ae,
            coded,
            tdxd_decisions: decisions,
        },
    }])
}

/// The AE's own dates: none in the future, resolution not before onset, onset not
/// before consent (PROTOCOL §4: before it she was not in the trial; such an event is
/// medical history) and, for an AE related to T-DXd, not before its first dose.
fn ae_dates(ctx: &Dc, c: &RecordAdverseEvent) -> Result<(), Refusal> {
    ctx.not_future_date("onset", c.onset)?;
    if let Some(r) = c.resolved {
        ctx.not_future_date("resolved", r)?;
        if r < c.onset {
            return Err(Refusal::new(
                Rule::VALUE_IMPOSSIBLE,
                format!("Resolution {r} is before the onset {}.", c.onset),
            ));
        }
    }
    if let Some(consent) = ctx.p.first_consent()
        && c.onset < ctx.day(consent.signed_at)
    {
        return Err(Refusal::new(
            Rule::VALUE_IMPOSSIBLE,
            format!(
                "Onset {} is before the informed consent ({}): it is not an adverse event of the trial.",
                c.onset,
                ctx.day(consent.signed_at)
            ),
        )
        .with_hint("Record a condition that began before consent as medical history."));
    }
    if c.relation_tdxd.is_related() {
        let first_dose = ctx.p.tdxd.administrations.iter().map(|a| a.date).min();
        if first_dose.is_none_or(|d| c.onset < d) {
            let since = first_dose.map_or_else(
                || "no T-DXd dose is recorded".to_owned(),
                |d| format!("the first T-DXd dose was given {d}"),
            );
            return Err(Refusal::new(
                Rule::VALUE_IMPOSSIBLE,
                format!(
                    "An adverse event with onset {} cannot be related to T-DXd: {since}.",
                    c.onset
                ),
            )
            .with_hint("Set the relation to T-DXd to not related (or not applicable), or record the dose first."));
        }
    }
    Ok(())
}

/// The dates of the serious-event clock (PROTOCOL §11): the site cannot be aware of an
/// event before its onset day, and the report to the sponsor can be neither in the
/// future nor before the site knew (`SAE_CLOCK`).
fn sae_clock_entry(ctx: &Dc, c: &RecordAdverseEvent) -> Result<(), Refusal> {
    ctx.not_future("site_aware_at", c.site_aware_at)?;
    if ctx.day(c.site_aware_at) < c.onset {
        return Err(Refusal::new(
            Rule::SAE_CLOCK,
            format!(
                "The site cannot have been aware of the event ({}) before its onset {}.",
                ctx.s.local_text(c.site_aware_at),
                c.onset
            ),
        ));
    }
    if let Some(t) = c.reported_to_sponsor_at {
        if t > ctx.now {
            return Err(Refusal::new(
                Rule::SAE_CLOCK,
                format!(
                    "The report to the sponsor ({}) is in the future.",
                    ctx.s.local_text(t)
                ),
            ));
        }
        if t < c.site_aware_at {
            return Err(Refusal::new(
                Rule::VALUE_IMPOSSIBLE,
                "The report to the sponsor is dated before the site knew of the event.",
            ));
        }
    }
    Ok(())
}

/// After the end of participation (PROTOCOL §2, §11) safety data still come in: a new
/// AE with onset up to the end (the fatal event included) and follow-ups of earlier
/// AEs. After death nothing can begin or resolve later than the death
/// (`VALUE_IMPOSSIBLE`); after going off study or being lost to follow-up, a new AE
/// that began after the end is outside the trial (`OFF_STUDY`).
fn after_the_end(ctx: &Dc, c: &RecordAdverseEvent) -> Result<(), Refusal> {
    if let Some(died) = ctx.p.died_on {
        for (what, d) in [("onset", Some(c.onset)), ("resolution", c.resolved)] {
            if let Some(d) = d
                && d > died
            {
                return Err(Refusal::new(
                    Rule::VALUE_IMPOSSIBLE,
                    format!("The {what} {d} is after her death on {died}."),
                ));
            }
        }
    }
    if c.corrects.is_some() {
        return Ok(());
    }
    let end = match (&ctx.p.off_study, ctx.p.state.kind()) {
        (Some(end), _) => Some((
            match end.reason {
                OffStudyReason::Arm2FollowUpComplete => EndReason::Arm2FollowUpComplete,
                _ => EndReason::Arm1EndEvent,
            },
            end.ended_on,
        )),
        (None, StateKind::LostToFollowUp) => ctx
            .p
            .last_contact_on
            .map(|d| (EndReason::LostToFollowUp, d)),
        _ => None,
    };
    match end {
        Some((reason, ended_on)) => may_record_after_end(
            reason,
            ended_on,
            PostEndRecord::AdverseEvent { onset: c.onset },
        ),
        None => Ok(()),
    }
}

/// Records a pregnancy report.
pub(super) fn pregnancy_report(ctx: &Dc, c: &RecordPregnancyReport) -> Result<Vec<Event>, Refusal> {
    ctx.not_future("site_aware_at", c.site_aware_at)?;
    if let Some(d) = c.estimated_conception {
        ctx.not_future_date("estimated_conception", d)?;
    }
    if let Some(t) = c.reported_to_sponsor_at {
        ctx.not_future("reported_to_sponsor_at", t)?;
        if t < c.site_aware_at {
            return Err(Refusal::new(
                Rule::VALUE_IMPOSSIBLE,
                "The report to the sponsor is dated before the site knew of the pregnancy.",
            ));
        }
    }
    Ok(vec![Event::PregnancyReported {
        report: PregnancyReport {
            report_id: format!("pregnancy-{}", ctx.p.pregnancy_reports.len() + 1),
            site_aware_at: c.site_aware_at,
            estimated_conception: c.estimated_conception,
            exposed_to_tdxd: c.exposed_to_tdxd,
            reported_to_sponsor_at: c.reported_to_sponsor_at,
            note: text(&c.note),
        },
        recorded_at: ctx.now,
    }])
}
