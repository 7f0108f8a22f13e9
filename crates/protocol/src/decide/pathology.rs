//! Pathology and allocation (PROTOCOL §8): the HER2 read of a biopsy specimen, the
//! allocation to an arm that follows the baseline biopsy's pathology, and the
//! investigator's signed correction of an allocation. The rules live in
//! [`crate::journey::pathology`] and [`crate::journey::allocation`].

use super::{Dc, required, text};
use crate::command::{CorrectAllocation, RecordPathology};
use crate::event::Event;
use crate::imaging::PetTimepoint;
use crate::journey::allocation::{Allocation, AllocationTarget, PendingReallocation, allocate};
use crate::journey::biopsy::BiopsySource;
use crate::journey::pathology::{
    Her2Category, Her2Read, IshTest, ReadKind, SpecimenFinding, SpecimenReport, derive_category,
};
use crate::journey::trial::{AllocationCorrection, AllocationRecord, PathologyRecord};
use crate::records::{Deviation, DeviationSeverity};
use crate::rule::{Refusal, Rule};

/// The specimen report a pathology command describes (`HER2_CATEGORY`).
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

/// Records a specimen's HER2 read. A read of a baseline (not PET3-guided) biopsy
/// derives the allocation over every specimen of the baseline biopsies
/// (`ALLOCATION`): the first allocation is automatic; a later report that changes it
/// is kept pending until the investigator signs it ([`correct_allocation`]).
pub(super) fn pathology(ctx: &Dc, c: &RecordPathology) -> Result<Vec<Event>, Refusal> {
    required("specimen_id", &c.specimen_id)?;
    required("reader", &c.reader)?;
    ctx.not_future_date("reported_on", c.reported_on)?;
    if let Some(o) = &ctx.p.off_study {
        return Err(Refusal::new(
            Rule::STATE_TRANSITION,
            format!(
                "Participation ended on {}: no more pathology reports.",
                o.ended_on
            ),
        ));
    }
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
            ReadKind::Local => "local",
            ReadKind::Central => "central",
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
    let biopsy_day = biopsy.date(ctx.s);
    let order = super::chronology::Order {
        what: "The pathology report",
        when: c.reported_on.to_string(),
        at: ctx.s.site_time_zone.start_of(c.reported_on),
        after: "its biopsy",
        after_when: biopsy_day.to_string(),
        broken: c.reported_on < biopsy_day,
        late_entry_of_fact: c.late_entry_of_fact,
        entry_id: Some(format!("{}/{}", r.biopsy_id, r.specimen_id)),
    }
    .check(ctx)?;
    let mut events = vec![Event::PathologyReported {
        pathology: PathologyRecord {
            report: r.clone(),
            derivation,
            recorded_at: ctx.now,
        },
    }];
    // PROTOCOL §8: allocation follows the baseline biopsy's pathology (not a PET3 biopsy's).
    if biopsy.guided_by != Some(PetTimepoint::Pet3) {
        events.push(allocation_event(ctx, r)?);
    }
    events.extend(order);
    Ok(events)
}

/// The allocation derived over every baseline specimen with the new report `r`: the
/// first allocation, or against the one in force a refresh (same outcome) or a
/// pending change (`ALLOCATION` refusals of [`allocate`]).
fn allocation_event(ctx: &Dc, r: SpecimenReport) -> Result<Event, Refusal> {
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
    let mut decision = allocate(&sources, &reports, ctx.s)?.with_pet(&pet, ctx.s);
    let Some(current) = &ctx.p.allocation else {
        return Ok(Event::Allocated {
            allocation: AllocationRecord {
                decision,
                decided_at: ctx.now,
                corrections: Vec::new(),
                pending: None,
            },
        });
    };
    let in_force = current.in_force();
    let proposed = decision.outcome.target();
    if proposed == in_force {
        return Ok(Event::AllocationRefreshed {
            decision,
            settings_version: ctx.s.version,
        });
    }
    let treatment_started = !ctx.p.tdxd.administrations.is_empty();
    decision.evidence.push(format!(
        "Differs from the allocation in force ({}): {} once the investigator signs it (a signed correction of the allocation){}",
        target_label(in_force),
        target_label(proposed),
        if treatment_started {
            "; T-DXd has been given, so moving her off arm 1 records a major deviation"
        } else {
            ""
        }
    ));
    Ok(Event::ReallocationProposed {
        pending: PendingReallocation {
            decision,
            proposed,
            in_force,
            treatment_started,
            proposed_at: ctx.now,
        },
        settings_version: ctx.s.version,
    })
}

fn target_label(t: Option<AllocationTarget>) -> &'static str {
    t.map_or("no diagnostic specimen", AllocationTarget::label)
}

/// The investigator's signed change of the allocation in force, from any outcome
/// (arm 1, arm 2, off study): to the other arm, back into the trial from off study,
/// or off study when a HER2-positive result says so. It confirms a pending
/// re-derived allocation, or declines it by naming the allocation in force. Moving
/// her off arm 1 after T-DXd was given is recorded with a major deviation.
pub(super) fn correct_allocation(ctx: &Dc, c: &CorrectAllocation) -> Result<Vec<Event>, Refusal> {
    ctx.signature(&c.signature)?;
    required("reason", &c.reason)?;
    if let Some(o) = &ctx.p.off_study {
        return Err(Refusal::new(
            Rule::STATE_TRANSITION,
            format!(
                "Participation ended on {}: the allocation can no longer change.",
                o.ended_on
            ),
        ));
    }
    let Some(a) = &ctx.p.allocation else {
        return Err(Refusal::new(
            Rule::ALLOCATION,
            "There is no allocation to correct: no specimen has given a HER2 result.",
        )
        .with_hint("Report another specimen, or take a new biopsy."));
    };
    let in_force = a.in_force();
    let pending = a.pending.as_ref().and_then(|p| p.proposed);
    if in_force == Some(c.arm) && a.pending.is_none() {
        return Err(Refusal::new(
            Rule::ALLOCATION,
            format!("She is already in {}.", c.arm.label()),
        ));
    }
    // HER2-positive: off study, or in arm 2 by `her2_positive_on_trial_biopsy_action`.
    let positive = |d: &Allocation| {
        d.outcome.target() == Some(AllocationTarget::OffStudy)
            || d.deciding_category == Some(Her2Category::Positive)
    };
    if c.arm == AllocationTarget::OffStudy
        && pending != Some(AllocationTarget::OffStudy)
        && !positive(&a.decision)
    {
        return Err(Refusal::new(
            Rule::ALLOCATION,
            "Off study by allocation needs a HER2-positive result (PROTOCOL §8); none is recorded.",
        )
        .with_hint("To end her participation for another reason, use end-participation."));
    }
    let mut events = vec![Event::AllocationCorrected {
        correction: AllocationCorrection {
            from: a.arm(),
            to: c.arm,
            reason: c.reason.trim().to_owned(),
            signature: c.signature.clone(),
        },
        corrected_at: ctx.now,
        settings_version: ctx.s.version,
    }];
    let given = &ctx.p.tdxd.administrations;
    if let Some(first) = given.first()
        && in_force != Some(c.arm)
        && c.arm != AllocationTarget::Arm1
    {
        events.push(Event::DeviationRecorded {
            deviation: Deviation {
                deviation_id: format!("dev-{}", ctx.p.deviations.len() + 1),
                severity: DeviationSeverity::Major,
                rule: Rule::ALLOCATION,
                description: format!(
                    "Allocation changed from {} to {} after {} T-DXd dose(s) (first on {}): {}",
                    target_label(in_force),
                    c.arm.label(),
                    given.len(),
                    first.date,
                    c.reason.trim()
                ),
                occurred_at: first
                    .date
                    .and_hms_opt(12, 0, 0)
                    .map_or(ctx.now, |t| t.and_utc()),
                entry_id: None,
            },
            recorded_at: ctx.now,
            settings_version: ctx.s.version,
        });
    }
    Ok(events)
}
