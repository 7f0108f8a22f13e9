//! Pathology and allocation (PROTOCOL §8): the HER2 read of a biopsy specimen, the
//! allocation to an arm that follows the baseline biopsy's pathology, and the
//! investigator's signed correction of an allocation. The rules live in
//! [`crate::journey::pathology`] and [`crate::journey::allocation`].

use super::{Dc, required, text};
use crate::command::{CorrectAllocation, RecordPathology};
use crate::event::Event;
use crate::imaging::PetTimepoint;
use crate::journey::allocation::allocate;
use crate::journey::biopsy::BiopsySource;
use crate::journey::pathology::{
    Her2Read, IshTest, ReadKind, SpecimenFinding, SpecimenReport, derive_category,
};
use crate::journey::trial::{AllocationCorrection, AllocationRecord, PathologyRecord};
use crate::participant::Arm;
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

/// Records a specimen's HER2 read; while she has no allocation, the read of a baseline
/// (not PET3-guided) biopsy also runs the allocation (`ALLOCATION`).
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

/// Moves her to the other arm on the investigator's signature, never to arm 2 once
/// T-DXd has been given.
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
        correction: AllocationCorrection {
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
