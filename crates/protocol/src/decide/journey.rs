//! The journey after baseline PET: biopsy, pathology and allocation, T-DXd, adverse
//! events and the end of participation (PROTOCOL §7–§9, §11). The rules themselves live
//! in [`crate::journey`]; here they are applied to the participant's record, and facts
//! outside their visit window are kept with a deviation.

use chrono::NaiveDate;

use super::{Dc, required};
use crate::command::{
    CorrectAllocation, EndParticipation, OffStudyReason, RecordAdverseEvent, RecordFreshBiopsy,
    RecordPathology, RecordTdxdAdministration, UseArchivalBiopsy,
};
use crate::event::Event;
use crate::imaging::PetTimepoint;
use crate::journey::allocation::allocate;
use crate::journey::biopsy::{
    Anticoagulation, ArchivalSample, BiopsyComplication, BiopsySource, FreshBiopsy,
    check_archival_sample, clear_fresh_biopsy,
};
use crate::journey::end::{EndReason, PostEndRecord, may_record_after_end, off_study_due};
use crate::journey::pathology::{
    Her2Read, IshTest, SpecimenFinding, SpecimenReport, derive_category,
};
use crate::journey::safety::{AdverseEvent, Seriousness, code_adverse_event};
use crate::journey::schedule::{VisitKind, check_visit};
use crate::journey::tdxd::{Administration, DatedDecision, ild_resolved};
use crate::journey::trial::{
    AeRecord, AllocationRecord, BiopsyRecord, OffStudyRecord, PathologyRecord, TdxdRecord, anchors,
    end_facts,
};
use crate::participant::{Arm, State, current};
use crate::rule::{Refusal, Rule};

/// The deviation event for a fact outside its visit window, if it is.
pub(super) fn window_deviation(
    ctx: &Dc,
    kind: VisitKind,
    date: NaiveDate,
    entry_id: Option<String>,
) -> Result<Option<Event>, Refusal> {
    let a = anchors(ctx.p);
    let timing = check_visit(kind, date, &a, ctx.s)?;
    Ok(timing.deviation.map(|d| Event::DeviationRecorded {
        deviation: d.to_deviation(
            format!("dev-{}", ctx.p.deviations.len() + 1),
            date.and_hms_opt(12, 0, 0).map_or(ctx.now, |t| t.and_utc()),
            entry_id,
        ),
        recorded_at: ctx.now,
        settings_version: ctx.s.version,
    }))
}

fn guiding_pet(state: &State) -> PetTimepoint {
    if *state == State::Progression {
        PetTimepoint::Pet3
    } else {
        PetTimepoint::Pet1
    }
}

fn text(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

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
        "Study biopsy",
        c.performed_at,
        c.late_entry_of_fact,
        Some(&biopsy_id),
    )?;
    let mut events = Vec::new();
    let deviation = if tp == PetTimepoint::Pet1 {
        window_deviation(
            ctx,
            VisitKind::Biopsy,
            c.performed_at.date_naive(),
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
    Ok(events)
}

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
    let sample = ArchivalSample {
        biopsy_id: format!("biopsy-{}", ctx.p.biopsies.len() + 1),
        record: entry.value.clone(),
        used_on: c.used_on,
    };
    let evidence = check_archival_sample(&sample, ctx.s)?;
    Ok(vec![Event::BiopsyRecorded {
        biopsy: BiopsyRecord {
            source: BiopsySource::Archival(sample),
            clearance: None,
            evidence: vec![evidence],
            guided_by: None,
            recorded_at: ctx.now,
        },
        settings_version: ctx.s.version,
    }])
}

fn report(c: &RecordPathology) -> Result<SpecimenReport, Refusal> {
    let finding = match (text(&c.non_diagnostic_reason), c.ihc_score) {
        (Some(reason), None) => SpecimenFinding::NonDiagnostic { reason },
        (Some(_), Some(_)) => {
            return Err(Refusal::new(
                Rule::HER2_CATEGORY,
                "A specimen is either non-diagnostic or has an IHC score, not both.",
            ));
        }
        (None, None) => {
            return Err(Refusal::new(
                Rule::VALUE_REQUIRED,
                "Give the IHC score, or the reason the specimen is non-diagnostic.",
            ));
        }
        (None, Some(ihc)) => {
            let need = |name: &str| {
                Refusal::new(
                    Rule::VALUE_REQUIRED,
                    format!("`{name}` is required with an IHC score."),
                )
            };
            let has_ish =
                c.ish_ratio.is_some() || c.ish_mean_copies.is_some() || c.ish_result.is_some();
            let ish = has_ish.then_some(IshTest {
                ratio: c.ish_ratio,
                mean_her2_copies: c.ish_mean_copies,
                reported: c.ish_result,
            });
            SpecimenFinding::Her2(Her2Read {
                ihc,
                stained_pct: c.stained_pct.ok_or_else(|| need("stained_pct"))?,
                intensity: c.intensity.ok_or_else(|| need("intensity"))?,
                completeness: c.completeness.ok_or_else(|| need("completeness"))?,
                antibody_clone: text(&c.antibody_clone).ok_or_else(|| need("antibody_clone"))?,
                ish,
            })
        }
    };
    Ok(SpecimenReport {
        specimen_id: c.specimen_id.trim().to_owned(),
        biopsy_id: c.biopsy_id.trim().to_owned(),
        read: c.read,
        reader: c.reader.trim().to_owned(),
        reported_on: c.reported_on,
        finding,
    })
}

pub(super) fn pathology(ctx: &Dc, c: &RecordPathology) -> Result<Vec<Event>, Refusal> {
    required("specimen_id", &c.specimen_id)?;
    required("reader", &c.reader)?;
    ctx.not_future_date("reported_on", c.reported_on)?;
    let Some(biopsy) = ctx
        .p
        .biopsies
        .iter()
        .find(|b| b.source.biopsy_id() == c.biopsy_id.trim())
    else {
        let ids: Vec<&str> = ctx
            .p
            .biopsies
            .iter()
            .map(|b| b.source.biopsy_id())
            .collect();
        return Err(Refusal::new(
            Rule::ENTRY_UNKNOWN,
            format!(
                "No biopsy `{}`; recorded biopsies: {}.",
                c.biopsy_id.trim(),
                if ids.is_empty() {
                    "none".to_string()
                } else {
                    ids.join(", ")
                }
            ),
        ));
    };
    let r = report(c)?;
    if ctx.p.pathology.iter().any(|x| {
        x.report.specimen_id == r.specimen_id
            && x.report.biopsy_id == r.biopsy_id
            && x.report.read == r.read
    }) {
        let read = match r.read {
            crate::journey::pathology::ReadKind::Local => "local",
            crate::journey::pathology::ReadKind::Central => "central",
        };
        return Err(Refusal::new(
            Rule::DUPLICATE,
            format!(
                "Specimen {} of {} already has a {read} read.",
                r.specimen_id, r.biopsy_id
            ),
        )
        .with_hint("Correct the earlier report instead."));
    }
    let derivation = match &r.finding {
        SpecimenFinding::Her2(read) => Some(derive_category(read)?),
        SpecimenFinding::NonDiagnostic { .. } => None,
    };
    let mut events = vec![Event::PathologyReported {
        pathology: PathologyRecord {
            report: r.clone(),
            derivation,
            recorded_at: ctx.now,
        },
    }];
    // PROTOCOL §8: allocation follows the baseline biopsy's pathology (not a PET3 biopsy's).
    if biopsy.guided_by != Some(PetTimepoint::Pet3) && ctx.p.allocation.is_none() {
        let sources: Vec<BiopsySource> = ctx
            .p
            .biopsies
            .iter()
            .filter(|b| b.guided_by != Some(PetTimepoint::Pet3))
            .map(|b| b.source.clone())
            .collect();
        let mut reports: Vec<SpecimenReport> =
            ctx.p.pathology.iter().map(|x| x.report.clone()).collect();
        reports.push(r);
        let pet: Vec<(String, f64)> = ctx
            .p
            .pet_review(PetTimepoint::Pet1)
            .map(|rv| {
                rv.lesions
                    .iter()
                    .filter_map(|l| Some((l.label.clone(), l.suv_max?)))
                    .collect()
            })
            .unwrap_or_default();
        let allocation = allocate(&sources, &reports, ctx.s)?.with_pet(&pet, ctx.s);
        events.push(Event::Allocated {
            allocation: AllocationRecord {
                decision: allocation,
                decided_at: ctx.now,
                corrections: Vec::new(),
            },
        });
    }
    Ok(events)
}

pub(super) fn correct_allocation(ctx: &Dc, c: &CorrectAllocation) -> Result<Vec<Event>, Refusal> {
    ctx.signature(&c.signature)?;
    required("reason", &c.reason)?;
    let Some(a) = &ctx.p.allocation else {
        return Err(Refusal::new(
            Rule::ALLOCATION,
            "There is no allocation to correct.",
        ));
    };
    let from = a.arm();
    if from == Some(c.arm) {
        return Err(Refusal::new(
            Rule::ALLOCATION,
            format!("She is already in {}.", arm_label(c.arm)),
        ));
    }
    if c.arm == Arm::Arm2 && !ctx.p.tdxd.administrations.is_empty() {
        return Err(Refusal::new(
            Rule::ALLOCATION,
            "She has received T-DXd: the allocation can no longer move to arm 2.",
        )
        .with_hint("Record the facts as they are and raise a deviation with the sponsor."));
    }
    Ok(vec![Event::AllocationCorrected {
        correction: crate::journey::trial::AllocationCorrection {
            from,
            to: c.arm,
            reason: c.reason.trim().to_owned(),
            signature: c.signature.clone(),
        },
        corrected_at: ctx.now,
        settings_version: ctx.s.version,
    }])
}

fn arm_label(a: Arm) -> &'static str {
    match a {
        Arm::Arm1 => "arm 1 (T-DXd)",
        Arm::Arm2 => "arm 2 (safety follow-up)",
    }
}

pub(super) fn tdxd(ctx: &Dc, c: &RecordTdxdAdministration) -> Result<Vec<Event>, Refusal> {
    ctx.not_future_date("date", c.date)?;
    let arm = ctx.p.allocation.as_ref().and_then(AllocationRecord::arm);
    if arm != Some(Arm::Arm1) {
        return Err(Refusal::new(
            Rule::STATE_TRANSITION,
            "T-DXd is given in arm 1 only.",
        ));
    }
    let administration = Administration {
        date: c.date,
        weight_kg: c.weight_kg,
        dose_level: c.dose_level,
        dose_mg: c.dose_mg,
        reduction_reason: text(&c.reduction_reason),
        delay_reason: text(&c.delay_reason),
    };
    let check = ctx.p.tdxd.check(&administration, ctx.s)?;
    let first = ctx.p.tdxd.administrations.is_empty();
    let deviation = if first {
        window_deviation(ctx, VisitKind::C1d1, c.date, None)?
    } else {
        None
    };
    let mut events = vec![Event::TdxdAdministered {
        record: TdxdRecord {
            administration,
            check,
        },
        settings_version: ctx.s.version,
    }];
    events.extend(deviation);
    Ok(events)
}

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
    let on_tdxd = !ctx.p.tdxd.administrations.is_empty() && ctx.p.tdxd.discontinued.is_none();
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
    let mut decisions = Vec::new();
    let worse = previous.is_none_or(|p| ae.grade > p.value.ae.grade);
    if let Some(d) = &coded.tdxd_decision
        && worse
    {
        decisions.push(DatedDecision {
            on: ae.onset,
            decision: d.clone(),
        });
    }
    // An ILD that interrupted T-DXd and is now resolved decides how T-DXd resumes.
    if let (Some(resolved), Some(prev)) = (ae.resolved, previous)
        && prev.value.ae.resolved.is_none()
        && ctx
            .p
            .tdxd
            .interruptions
            .iter()
            .any(|i| i.rule == Rule::TDXD_ILD)
        && prev
            .value
            .tdxd_decisions
            .iter()
            .any(|d| d.decision.rule == Rule::TDXD_ILD)
    {
        decisions.push(DatedDecision {
            on: resolved,
            decision: ild_resolved(ae.onset, resolved, ctx.s)?,
        });
    }
    Ok(vec![Event::AdverseEventRecorded {
        entry,
        record: AeRecord {
            ae,
            coded,
            tdxd_decisions: decisions,
        },
    }])
}

/// PROTOCOL §9 / T-DXd label: an LVEF measured on T-DXd is compared with the last LVEF
/// before cycle 1 day 1; the dose decision (continue, interrupt, discontinue) is recorded
/// and applied to the course. A repeat LVEF after an LVEF interruption decides how T-DXd
/// resumes. Without a baseline LVEF nothing is decided.
pub(super) fn lvef_on_tdxd(
    ctx: &Dc,
    lab: &crate::labs::LabResult,
) -> Result<Option<Event>, Refusal> {
    use crate::journey::tdxd::{DoseAction, lvef_band, lvef_decision, lvef_repeat_decision};
    use crate::labs::Analyte;
    let course = &ctx.p.tdxd;
    let Some(c1d1) = course.administrations.first().map(|a| a.date) else {
        return Ok(None);
    };
    if lab.analyte != Analyte::Lvef
        || course.discontinued.is_some()
        || lab.sample_at.date_naive() < c1d1
    {
        return Ok(None);
    }
    let lvefs: Vec<&crate::labs::LabResult> = current(&ctx.p.labs)
        .map(|e| &e.value)
        .filter(|l| l.analyte == Analyte::Lvef)
        .collect();
    let Some(baseline) = lvefs
        .iter()
        .filter(|l| l.sample_at.date_naive() < c1d1)
        .max_by_key(|l| l.sample_at)
    else {
        return Ok(None);
    };
    let open = course
        .interruptions
        .iter()
        .any(|i| i.rule == Rule::TDXD_LVEF);
    let decision = match lvefs
        .iter()
        .filter(|l| l.sample_at.date_naive() >= c1d1 && l.sample_at < lab.sample_at)
        .max_by_key(|l| l.sample_at)
    {
        Some(first) if open => {
            let band = lvef_band(baseline.canonical_value, first.canonical_value, false);
            lvef_repeat_decision(band, baseline.canonical_value, lab.canonical_value, false)
        }
        _ => lvef_decision(baseline.canonical_value, lab.canonical_value, false, ctx.s),
    };
    if decision.action == DoseAction::Continue && !open {
        return Ok(None);
    }
    Ok(Some(Event::TdxdDecisionRecorded {
        decision: DatedDecision {
            on: lab.sample_at.date_naive(),
            decision,
        },
        source: format!(
            "LVEF {} % sampled {}",
            lab.canonical_value,
            lab.sample_at.format("%Y-%m-%d")
        ),
        settings_version: ctx.s.version,
    }))
}

pub(super) fn pregnancy_report(
    ctx: &Dc,
    c: &crate::command::RecordPregnancyReport,
) -> Result<Vec<Event>, Refusal> {
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
        report: crate::journey::trial::PregnancyReport {
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

pub(super) fn end(ctx: &Dc, c: &EndParticipation) -> Result<Vec<Event>, Refusal> {
    ctx.not_future_date("ended_on", c.ended_on)?;
    let note = text(&c.note);
    let arm = ctx.p.allocation.as_ref().and_then(AllocationRecord::arm);
    let mut events = Vec::new();
    match c.reason {
        OffStudyReason::InvestigatorDecision => {
            if note.is_none() {
                return Err(Refusal::new(
                    Rule::VALUE_REQUIRED,
                    "Ending participation by the investigator's decision needs a note saying why.",
                ));
            }
        }
        OffStudyReason::Arm2FollowUpComplete => {
            if arm != Some(Arm::Arm2) {
                return Err(Refusal::new(Rule::OFF_STUDY, "She is not in arm 2."));
            }
            // The end contact is kept; too early a contact raises a deviation.
            if let Some(d) = window_deviation(ctx, VisitKind::Arm2FollowUpEnd, c.ended_on, None)? {
                events.push(d);
            }
        }
        OffStudyReason::Arm1EndEvent => {
            if arm != Some(Arm::Arm1) {
                return Err(Refusal::new(Rule::OFF_STUDY, "She is not in arm 1."));
            }
            let due = off_study_due(&anchors(ctx.p), &end_facts(ctx.p), c.ended_on, ctx.s);
            if due.is_none_or(|d| d.reason != EndReason::Arm1EndEvent) {
                return Err(Refusal::new(
                    Rule::OFF_STUDY,
                    format!(
                        "The arm-1 end event ({:?}) has not happened by {}.",
                        ctx.s.arm1.end_of_study_event, c.ended_on
                    )
                    .replace('"', ""),
                )
                .with_hint("Use an investigator decision with a note to end earlier."));
            }
        }
    }
    events.insert(
        0,
        Event::ParticipationEnded {
            off_study: OffStudyRecord {
                reason: c.reason,
                ended_on: c.ended_on,
                note,
            },
            recorded_at: ctx.now,
            settings_version: ctx.s.version,
        },
    );
    Ok(events)
}
