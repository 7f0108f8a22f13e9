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
use crate::participant::State;
use crate::rule::{Refusal, Rule};

/// Records an adverse event or its follow-up (a correction of the earlier entry),
/// with the T-DXd dose decisions it calls for from its current facts (a resolution
/// recorded with the AE, at entry or in a follow-up, ends its hold).
pub(super) fn adverse_event(ctx: &Dc, c: &RecordAdverseEvent) -> Result<Vec<Event>, Refusal> {
    ctx.not_future_date("onset", c.onset)?;
    ctx.not_future("site_aware_at", c.site_aware_at)?;
    if let Some(r) = c.resolved {
        ctx.not_future_date("resolved", r)?;
        if r < c.onset {
            return Err(Refusal::new(
                Rule::VALUE_IMPOSSIBLE,
                format!("Resolution {r} is before the onset {}.", c.onset),
            ));
        }
    }
    if let Some(t) = c.reported_to_sponsor_at
        && t < c.site_aware_at
    {
        return Err(Refusal::new(
            Rule::VALUE_IMPOSSIBLE,
            "The report to the sponsor is dated before the site knew of the event.",
        ));
    }
    if let State::OffStudy { .. } = &ctx.p.state
        && c.corrects.is_none()
        && let Some(end) = &ctx.p.off_study
    {
        let reason = match end.reason {
            OffStudyReason::Arm2FollowUpComplete => EndReason::Arm2FollowUpComplete,
            _ => EndReason::Arm1EndEvent,
        };
        may_record_after_end(
            reason,
            end.ended_on,
            PostEndRecord::AdverseEvent { onset: c.onset },
        )?;
    }
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
