//! Screening facts, corrections and retractions, and the consent gate (PROTOCOL §4, §5, §12).

use chrono::{DateTime, Utc};

use super::{Dc, required};
use crate::command::{
    RecordArchivalBiopsy, RecordAttestation, RecordBodyWeight, RecordChildbearingPotential,
    RecordLab, RecordLesion, RecordMedicalHistory, RecordOtherMalignancy, RecordPerformanceStatus,
    RecordPregnancyTest, RecordPriorHer2Result, RecordTreatmentLine, RetractEntry,
};
use crate::event::Event;
use crate::labs::{SampleOrigin, lab_result};
use crate::participant::{EntryStatus, current};
use crate::records::{
    ArchivalBiopsy, Attestation, BodyWeight, ChildbearingStatus, Lesion, MedicalHistory,
    OtherMalignancy, PerformanceStatus, PregnancyTest, PriorHer2Result, TreatmentLine,
};
use crate::rule::{Refusal, Rule};

fn impossible(msg: String) -> Refusal {
    Refusal::new(Rule::VALUE_IMPOSSIBLE, msg)
}

/// Runs the consent gate and wraps a resulting deviation in its event.
fn consent_gate(
    ctx: &Dc,
    what: &str,
    at: DateTime<Utc>,
    late_entry_of_fact: bool,
    entry_id: &str,
) -> Result<Option<Event>, Refusal> {
    let deviation =
        crate::consent::consent_gate(ctx.p, ctx.s, what, at, late_entry_of_fact, Some(entry_id))?;
    Ok(deviation.map(|deviation| Event::DeviationRecorded {
        deviation,
        recorded_at: ctx.now,
        settings_version: ctx.s.version,
    }))
}

pub(super) fn treatment_line(ctx: &Dc, c: &RecordTreatmentLine) -> Result<Vec<Event>, Refusal> {
    required("The regimen", &c.regimen)?;
    ctx.not_future_date("The start date", c.start_date)?;
    for (name, d) in [
        ("The end date", c.end_date),
        ("The progression or relapse date", c.progression_date),
    ] {
        if let Some(d) = d {
            ctx.not_future_date(name, d)?;
            if d < c.start_date {
                return Err(impossible(format!(
                    "{name} ({d}) is before the start date ({}).",
                    c.start_date
                )));
            }
        }
    }
    let entry = ctx.entry("tx", &c.corrects, &c.correction_reason)?;
    let line = TreatmentLine {
        setting: c.setting,
        regimen: c.regimen.trim().to_owned(),
        is_chemotherapy: c.is_chemotherapy,
        is_her2_targeted: c.is_her2_targeted,
        start_date: c.start_date,
        end_date: c.end_date,
        progression_date: c.progression_date,
    };
    Ok(vec![Event::TreatmentLineRecorded { entry, line }])
}

pub(super) fn lesion(ctx: &Dc, c: &RecordLesion) -> Result<Vec<Event>, Refusal> {
    required("The lesion label", &c.lesion_id)?;
    required("The organ", &c.organ)?;
    ctx.not_future_date("The imaging date", c.imaging_date)?;
    let ld = c.longest_diameter_mm;
    if !ld.is_finite() || ld <= 0.0 || ld > 500.0 {
        return Err(impossible(format!(
            "Longest diameter {ld} mm is not possible (0–500 mm)."
        )));
    }
    if let Some(sa) = c.short_axis_mm
        && (!sa.is_finite() || sa <= 0.0 || sa > ld)
    {
        return Err(impossible(format!(
            "Short axis {sa} mm is not possible (above 0 and at most the longest diameter {ld} mm)."
        )));
    }
    if let Some(t) = c.slice_thickness_mm
        && (!t.is_finite() || t <= 0.0 || t > 20.0)
    {
        return Err(impossible(format!(
            "Slice thickness {t} mm is not possible (0–20 mm)."
        )));
    }
    let lesion_id = c.lesion_id.trim().to_owned();
    let clash = current(&ctx.p.lesions).any(|e| {
        e.value.lesion_id == lesion_id && c.corrects.as_deref() != Some(e.entry_id.as_str())
    });
    if clash {
        return Err(Refusal::new(
            Rule::DUPLICATE,
            format!("Lesion id {lesion_id} is already used."),
        )
        .with_hint("Use a new lesion id, or correct the existing lesion entry."));
    }
    let entry = ctx.entry("lesion", &c.corrects, &c.correction_reason)?;
    let lesion = Lesion {
        lesion_id,
        organ: c.organ.trim().to_owned(),
        lesion_type: c.lesion_type,
        metastatic: c.metastatic,
        longest_diameter_mm: ld,
        short_axis_mm: c.short_axis_mm,
        previously_irradiated: c.previously_irradiated,
        progressed_after_irradiation: c.progressed_after_irradiation,
        accessible_for_ultrasound_biopsy: c.accessible_for_ultrasound_biopsy,
        intended_for_biopsy: c.intended_for_biopsy,
        imaging_date: c.imaging_date,
        slice_thickness_mm: c.slice_thickness_mm,
    };
    Ok(vec![Event::LesionRecorded { entry, lesion }])
}

pub(super) fn lab(ctx: &Dc, c: &RecordLab) -> Result<Vec<Event>, Refusal> {
    ctx.not_future("The sample time", c.sample_at)?;
    let lab = lab_result(
        c.analyte,
        c.value,
        &c.unit,
        c.uln,
        c.lln,
        c.sample_at,
        c.origin,
    )?;
    let entry = ctx.entry("lab", &c.corrects, &c.correction_reason)?;
    let mut events = Vec::new();
    let deviation = if c.origin == SampleOrigin::Study {
        let what = format!("Study lab sample ({})", c.analyte.label());
        consent_gate(
            ctx,
            &what,
            c.sample_at,
            c.late_entry_of_fact,
            &entry.entry_id,
        )?
    } else {
        None
    };
    let lvef = super::tdxd::lvef_on_tdxd(ctx, &lab)?;
    events.push(Event::LabRecorded { entry, lab });
    events.extend(deviation);
    events.extend(lvef);
    Ok(events)
}

pub(super) fn weight(ctx: &Dc, c: &RecordBodyWeight) -> Result<Vec<Event>, Refusal> {
    ctx.not_future_date("The date measured", c.measured_on)?;
    let w = c.weight_kg;
    // Adult body weights outside 20–350 kg are not possible.
    if !w.is_finite() || !(20.0..=350.0).contains(&w) {
        return Err(impossible(format!(
            "Body weight {w} kg is not possible (20–350 kg)."
        )));
    }
    let entry = ctx.entry("weight", &c.corrects, &c.correction_reason)?;
    let weight = BodyWeight {
        weight_kg: w,
        measured_on: c.measured_on,
    };
    Ok(vec![Event::BodyWeightRecorded { entry, weight }])
}

pub(super) fn performance_status(
    ctx: &Dc,
    c: &RecordPerformanceStatus,
) -> Result<Vec<Event>, Refusal> {
    ctx.not_future_date("The assessment date", c.assessed_on)?;
    if c.who_ps > 4 {
        return Err(impossible(format!(
            "WHO performance status {} is not possible (0–4).",
            c.who_ps
        ))
        .with_hint("WHO PS 5 means dead: record the death instead."));
    }
    let entry = ctx.entry("ps", &c.corrects, &c.correction_reason)?;
    let status = PerformanceStatus {
        who_ps: c.who_ps,
        assessed_on: c.assessed_on,
    };
    Ok(vec![Event::PerformanceStatusRecorded { entry, status }])
}

pub(super) fn childbearing(
    ctx: &Dc,
    c: &RecordChildbearingPotential,
) -> Result<Vec<Event>, Refusal> {
    ctx.not_future_date("The assessment date", c.assessed_on)?;
    let entry = ctx.entry("cbp", &c.corrects, &c.correction_reason)?;
    let status = ChildbearingStatus {
        childbearing_potential: c.childbearing_potential,
        basis: c.basis.clone(),
        contraception_agreed: c.contraception_agreed,
        contraception_method: c.contraception_method.clone(),
        assessed_on: c.assessed_on,
    };
    Ok(vec![Event::ChildbearingPotentialRecorded { entry, status }])
}

pub(super) fn pregnancy_test(ctx: &Dc, c: &RecordPregnancyTest) -> Result<Vec<Event>, Refusal> {
    ctx.not_future("The sample time", c.sample_at)?;
    let entry = ctx.entry("preg", &c.corrects, &c.correction_reason)?;
    let deviation = if c.for_study {
        consent_gate(
            ctx,
            "Study pregnancy test",
            c.sample_at,
            c.late_entry_of_fact,
            &entry.entry_id,
        )?
    } else {
        None
    };
    let test = PregnancyTest {
        specimen: c.specimen,
        result: c.result,
        sample_at: c.sample_at,
        for_study: c.for_study,
    };
    let mut events = vec![Event::PregnancyTestRecorded { entry, test }];
    events.extend(deviation);
    Ok(events)
}

pub(super) fn history(ctx: &Dc, c: &RecordMedicalHistory) -> Result<Vec<Event>, Refusal> {
    ctx.not_future_date("The review date", c.reviewed_on)?;
    let entry = ctx.entry("history", &c.corrects, &c.correction_reason)?;
    let history = MedicalHistory {
        disease_extent: c.disease_extent,
        earlier_metastatic_biopsies: c.earlier_metastatic_biopsies,
        other_malignancies_known: c.other_malignancies_known,
        known_bleeding_disorder: c.known_bleeding_disorder,
        anticoagulant_cannot_be_paused: c.anticoagulant_cannot_be_paused,
        liver_metastases: c.liver_metastases,
        ild_history: c.ild_history,
        details: c.details.clone(),
        reviewed_on: c.reviewed_on,
    };
    Ok(vec![Event::MedicalHistoryRecorded { entry, history }])
}

pub(super) fn prior_her2(ctx: &Dc, c: &RecordPriorHer2Result) -> Result<Vec<Event>, Refusal> {
    required("The biopsy site", &c.site_description)?;
    ctx.not_future_date("The biopsy date", c.biopsy_date)?;
    if c.ihc_score.is_none() && c.ish.is_none() {
        return Err(Refusal::new(
            Rule::VALUE_REQUIRED,
            "An earlier HER2 result needs an IHC score, an ISH result, or both.",
        ));
    }
    let entry = ctx.entry("her2", &c.corrects, &c.correction_reason)?;
    let result = PriorHer2Result {
        biopsy_date: c.biopsy_date,
        site_description: c.site_description.trim().to_owned(),
        metastatic: c.metastatic,
        ihc_score: c.ihc_score,
        ish: c.ish,
    };
    Ok(vec![Event::PriorHer2ResultRecorded { entry, result }])
}

pub(super) fn other_malignancy(ctx: &Dc, c: &RecordOtherMalignancy) -> Result<Vec<Event>, Refusal> {
    required("The description", &c.description)?;
    if let Some(d) = c.diagnosed_on {
        ctx.not_future_date("The date of diagnosis", d)?;
    }
    let entry = ctx.entry("malig", &c.corrects, &c.correction_reason)?;
    let malignancy = OtherMalignancy {
        malignancy_type: c.malignancy_type,
        description: c.description.trim().to_owned(),
        diagnosed_on: c.diagnosed_on,
        manifest: c.manifest,
    };
    Ok(vec![Event::OtherMalignancyRecorded { entry, malignancy }])
}

pub(super) fn archival(ctx: &Dc, c: &RecordArchivalBiopsy) -> Result<Vec<Event>, Refusal> {
    required("The biopsy site", &c.site_description)?;
    ctx.not_future_date("The biopsy date", c.biopsy_date)?;
    let entry = ctx.entry("archival", &c.corrects, &c.correction_reason)?;
    let biopsy = ArchivalBiopsy {
        biopsy_date: c.biopsy_date,
        lesion_id: c.lesion_id.clone(),
        site_description: c.site_description.trim().to_owned(),
        systemic_therapy_since: c.systemic_therapy_since,
        her2_targeted_therapy_since: c.her2_targeted_therapy_since,
        radiotherapy_to_lesion_since: c.radiotherapy_to_lesion_since,
    };
    Ok(vec![Event::ArchivalBiopsyRecorded { entry, biopsy }])
}

pub(super) fn attestation(ctx: &Dc, c: &RecordAttestation) -> Result<Vec<Event>, Refusal> {
    // No default answer: "not ticked" must never be read as No (PROTOCOL §5, attested).
    let Some(answer) = c.answer else {
        return Err(Refusal::new(
            Rule::VALUE_REQUIRED,
            format!(
                "This question is not answered: {}",
                c.criterion.question(ctx.s)
            ),
        )
        .with_hint("Answer Yes or No; an attestation has no default answer."));
    };
    ctx.signature(&c.signature)?;
    // A new attestation of the same criterion supersedes the current one (history kept).
    let previous = current(&ctx.p.attestations)
        .filter(|e| e.value.criterion == c.criterion)
        .max_by_key(|e| e.recorded_at)
        .map(|e| e.entry_id.clone());
    let reason = previous
        .as_ref()
        .map(|_| format!("re-attested by {}", c.signature.signer));
    let entry = ctx.entry("attest", &previous, &reason)?;
    let attestation = Attestation {
        criterion: c.criterion,
        answer,
        note: c.note.clone(),
        signature: c.signature.clone(),
    };
    Ok(vec![Event::AttestationRecorded { entry, attestation }])
}

pub(super) fn retract(ctx: &Dc, c: &RetractEntry) -> Result<Vec<Event>, Refusal> {
    required("The reason for the retraction", &c.reason)?;
    if ctx.p.entry_status(&c.entry_id) != Some(EntryStatus::Current) {
        return Err(Refusal::new(
            Rule::ENTRY_UNKNOWN,
            format!("Entry {} is not a current entry.", c.entry_id),
        ));
    }
    let mut events = vec![Event::EntryRetracted {
        entry_id: c.entry_id.clone(),
        reason: c.reason.trim().to_owned(),
        retracted_at: ctx.now,
    }];
    events.extend(super::response::after_retraction(ctx, &c.entry_id)?);
    Ok(events)
}
