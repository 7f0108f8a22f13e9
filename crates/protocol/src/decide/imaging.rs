//! HER2-PET: IMP administration, quantification, reader review and biopsy target choice
//! (PROTOCOL §6–§7).

use chrono::{DateTime, Duration, Utc};

use super::{Dc, required, text};
use crate::command::{
    ChooseBiopsyTarget, RecordImpAdministration, RecordPetQuantification, ReviewPetLesions,
};
use crate::event::Event;
use crate::imaging::{
    BiopsyTargetChoice, ImpAdministration, PetQuantification, PetReview, PetTimepoint,
    ReaderDecision, ReviewedLesion, form_discrepancies, propose_biopsy_targets,
};
use crate::participant::{Arm, State, current};
use crate::records::{Specimen, TestResult};
use crate::rule::{Refusal, Rule};

fn impossible(msg: String) -> Refusal {
    Refusal::new(Rule::VALUE_IMPOSSIBLE, msg)
}

fn in_range(field: &str, v: f64, lo: f64, hi: f64, unit: &str) -> Result<(), Refusal> {
    if !v.is_finite() || v <= lo || v > hi {
        return Err(impossible(format!(
            "`{field}` {v} {unit} is not possible (above {lo} and at most {hi} {unit})."
        )));
    }
    Ok(())
}

/// Whether a PET time point can happen in this state: PET1 after enrolment, PET2 in
/// arm 1 on treatment, PET3 at progression.
fn timepoint_fits(state: &State, tp: PetTimepoint) -> bool {
    match tp {
        PetTimepoint::Pet1 => matches!(state, State::Enrolled | State::BaselinePetDone),
        PetTimepoint::Pet2 => matches!(
            state,
            State::Allocated { arm: Arm::Arm1 } | State::OnTreatment | State::ResponsePetDone
        ),
        PetTimepoint::Pet3 => *state == State::Progression,
    }
}

fn check_timepoint(ctx: &Dc, tp: PetTimepoint, what: &str) -> Result<(), Refusal> {
    if timepoint_fits(&ctx.p.state, tp) {
        return Ok(());
    }
    let when = match tp {
        PetTimepoint::Pet1 => "after enrolment and before the biopsy",
        PetTimepoint::Pet2 => "in arm 1 on T-DXd",
        PetTimepoint::Pet3 => "at progression",
    };
    Err(Refusal::new(
        Rule::STATE_TRANSITION,
        format!(
            "{what} for {} is not possible while the participant is {}: {} is done {when}.",
            tp.label(),
            ctx.p.state.name(),
            tp.label()
        ),
    ))
}

/// PROTOCOL §6: the negative serum test that clears a woman of child-bearing potential
/// for an injection at `at`, by entry id; `None` when she is not of child-bearing potential.
fn pregnancy_clearance(ctx: &Dc, at: DateTime<Utc>) -> Result<Option<String>, Refusal> {
    let window_h = ctx.s.pregnancy.test_max_hours_before_imp;
    let status = current(&ctx.p.childbearing)
        .max_by_key(|e| (e.value.assessed_on, e.recorded_at))
        .map(|e| e.value.childbearing_potential);
    match status {
        None => {
            return Err(Refusal::new(
                Rule::IMP_PREGNANCY,
                "Child-bearing potential is not recorded: the IMP cannot be given before it is known.",
            )
            .with_hint("Record child-bearing potential; if she is of child-bearing potential, also a serum pregnancy test."));
        }
        Some(false) => return Ok(None),
        Some(true) => {}
    }
    let earliest = at - Duration::hours(i64::from(window_h));
    let serum_in_window: Vec<_> = current(&ctx.p.pregnancy_tests)
        .filter(|e| e.value.specimen == Specimen::Serum)
        .filter(|e| e.value.sample_at <= at && e.value.sample_at >= earliest)
        .collect();
    if let Some(pos) = serum_in_window
        .iter()
        .find(|e| e.value.result != TestResult::Negative)
    {
        let result = match pos.value.result {
            TestResult::Positive => "positive",
            _ => "inconclusive",
        };
        return Err(Refusal::new(
            Rule::IMP_PREGNANCY,
            format!(
                "The serum pregnancy test {} taken {} is {result}: the IMP may not be given.",
                pos.entry_id,
                ctx.s.local_text(pos.value.sample_at),
            ),
        ));
    }
    if let Some(ok) = serum_in_window.iter().max_by_key(|e| e.value.sample_at) {
        return Ok(Some(ok.entry_id.clone()));
    }
    let latest = current(&ctx.p.pregnancy_tests)
        .filter(|e| e.value.specimen == Specimen::Serum && e.value.sample_at <= at)
        .max_by_key(|e| e.value.sample_at);
    let found = match latest {
        Some(e) => format!(
            " The latest serum test ({}) was taken {} h before the injection.",
            e.entry_id,
            (at - e.value.sample_at).num_minutes() as f64 / 60.0
        ),
        None => " No serum test is recorded before the injection.".to_string(),
    };
    Err(Refusal::new(
        Rule::IMP_PREGNANCY,
        format!(
            "A woman of child-bearing potential needs a negative serum pregnancy test taken at most {window_h} hours before the IMP injection ({}).{found}",
            ctx.s.local_text(at)
        ),
    )
    .with_hint(format!(
        "Record a negative serum test from the {window_h}-hour window (urine tests do not count)."
    )))
}

pub(super) fn imp(ctx: &Dc, c: &RecordImpAdministration) -> Result<Vec<Event>, Refusal> {
    if c.corrects.is_none() {
        check_timepoint(ctx, c.timepoint, "An IMP administration")?;
    }
    ctx.not_future("injected_at", c.injected_at)?;
    in_range("activity_mbq", c.activity_mbq, 0.0, 1000.0, "MBq")?;
    in_range("weight_kg", c.weight_kg, 20.0, 300.0, "kg")?;
    in_range("height_cm", c.height_cm, 100.0, 230.0, "cm")?;
    if let Some(m) = c.peptide_mass_ug {
        in_range("peptide_mass_ug", m, 0.0, 1000.0, "µg")?;
    }
    if let Some(s) = c.scan_start_at {
        ctx.not_future("scan_start_at", s)?;
        if s < c.injected_at {
            return Err(impossible(format!(
                "The scan start ({}) is before the injection ({}).",
                s.format("%H:%M"),
                c.injected_at.format("%H:%M")
            )));
        }
        if s - c.injected_at > Duration::hours(8) {
            return Err(impossible(format!(
                "The scan start is {} h after the injection; with Ga-68 (half-life 68 min) no scan is possible that late.",
                (s - c.injected_at).num_minutes() / 60
            )));
        }
    }
    if let Some(old) = &c.corrects
        && let Some(prev) = ctx
            .p
            .imp_administrations
            .iter()
            .find(|e| &e.entry_id == old)
        && prev.value.timepoint != c.timepoint
    {
        return Err(Refusal::new(
            Rule::PET_EXAM,
            format!(
                "{old} is the administration for {}; a correction cannot move it to {}.",
                prev.value.timepoint.label(),
                c.timepoint.label()
            ),
        ));
    }
    let pregnancy_test_entry = pregnancy_clearance(ctx, c.injected_at)?;
    let entry = ctx.entry("imp", &c.corrects, &c.correction_reason)?;
    let gate = crate::consent::consent_gate(
        ctx.p,
        ctx.s,
        "IMP administration",
        c.injected_at,
        c.late_entry_of_fact,
        Some(&entry.entry_id),
    )?;
    let order = match ctx.p.enrolment.as_ref().map(|e| e.signature.signed_at) {
        Some(enrolled) if c.corrects.is_none() => super::chronology::Order {
            what: "The IMP injection",
            when: ctx.s.local_text(c.injected_at),
            at: c.injected_at,
            after: "the investigator's enrolment signature",
            after_when: ctx.s.local_text(enrolled),
            broken: c.injected_at < enrolled,
            late_entry_of_fact: c.late_entry_of_fact,
            entry_id: Some(entry.entry_id.clone()),
        }
        .check(ctx)?,
        _ => None,
    };
    let administration = ImpAdministration {
        timepoint: c.timepoint,
        activity_mbq: c.activity_mbq,
        injected_at: c.injected_at,
        weight_kg: c.weight_kg,
        height_cm: c.height_cm,
        peptide_mass_ug: c.peptide_mass_ug,
        scan_start_at: c.scan_start_at,
        pregnancy_test_entry,
    };
    let mut events = vec![Event::ImpAdministered {
        entry,
        administration,
    }];
    events.extend(gate.map(|deviation| Event::DeviationRecorded {
        deviation,
        recorded_at: ctx.now,
        settings_version: ctx.s.version,
    }));
    events.extend(order);
    Ok(events)
}

pub(super) fn quantification(ctx: &Dc, c: &RecordPetQuantification) -> Result<Vec<Event>, Refusal> {
    check_timepoint(ctx, c.timepoint, "A PET quantification")?;
    let Some(admin) = ctx.p.imp_administration(c.timepoint) else {
        return Err(Refusal::new(
            Rule::PET_EXAM,
            format!(
                "No IMP administration is recorded for {}: the series cannot be attached to an exam.",
                c.timepoint.label()
            ),
        )
        .with_hint("Record the IMP administration first."));
    };
    if admin.entry_id != c.administration_id {
        return Err(Refusal::new(
            Rule::PET_EXAM,
            format!(
                "`administration_id` {} is not the current IMP administration of {} ({}).",
                c.administration_id,
                c.timepoint.label(),
                admin.entry_id
            ),
        ));
    }
    required("series_instance_uid", &c.series_instance_uid)?;
    crate::imaging::check_series_assignment(
        &c.series_instance_uid,
        c.series_patient_id.as_deref(),
        ctx.p.study_id.as_deref(),
        text(&c.assignment_reason).as_deref(),
    )?;
    if let Some(other) = ctx
        .p
        .pet_quantifications
        .iter()
        .find(|q| q.series_instance_uid == c.series_instance_uid && q.timepoint != c.timepoint)
    {
        return Err(Refusal::new(
            Rule::PET_EXAM,
            format!(
                "Series {} is already the exam of {}.",
                c.series_instance_uid,
                other.timepoint.label()
            ),
        ));
    }
    if !c.volume_suv_max.is_finite() || c.candidates.iter().any(|k| !k.suv_max.is_finite()) {
        return Err(impossible(
            "The quantification holds a value that is not a number.".into(),
        ));
    }
    for (i, k) in c.candidates.iter().enumerate() {
        if k.number as usize != i + 1 {
            return Err(Refusal::new(
                Rule::PET_EXAM,
                "Candidates must be numbered 1, 2, 3, … in order.",
            ));
        }
    }
    let n = ctx.p.pet_quantifications.len() + 1;
    // PET2 and PET3 have visit windows (PROTOCOL §9): kept when outside, with a deviation.
    let first_of_timepoint = ctx.p.pet_quantification(c.timepoint).is_none();
    let window = match c.timepoint {
        PetTimepoint::Pet2 => Some(crate::journey::schedule::VisitKind::Pet2),
        PetTimepoint::Pet3 => Some(crate::journey::schedule::VisitKind::Pet3),
        PetTimepoint::Pet1 => None,
    };
    let deviation = match window {
        Some(kind) if first_of_timepoint => super::schedule::window_deviation(
            ctx,
            kind,
            ctx.day(admin.value.injected_at),
            Some(admin.entry_id.clone()),
        )?,
        _ => None,
    };
    let mut events = vec![Event::PetQuantified {
        quantification: PetQuantification {
            quantification_id: format!("petq-{n}"),
            timepoint: c.timepoint,
            administration_id: c.administration_id.clone(),
            series_instance_uid: c.series_instance_uid.clone(),
            image_count: c.image_count,
            algorithm_version: c.algorithm_version.clone(),
            parameters: c.parameters.clone(),
            header: c.header.clone(),
            volume_suv_max: c.volume_suv_max,
            candidates: c.candidates.clone(),
            warnings: c.warnings.clone(),
            discrepancies: form_discrepancies(&admin.value, &c.header, ctx.s.site_time_zone),
            quantified_at: ctx.now,
            settings_version: ctx.s.version,
            protocol_version: ctx.s.protocol_version.clone(),
            assignment_reason: text(&c.assignment_reason),
        },
    }];
    events.extend(deviation);
    Ok(events)
}

pub(super) fn review(ctx: &Dc, c: &ReviewPetLesions) -> Result<Vec<Event>, Refusal> {
    check_timepoint(ctx, c.timepoint, "A PET review")?;
    let Some(q) = ctx.p.pet_quantification(c.timepoint) else {
        return Err(Refusal::new(
            Rule::PET_EXAM,
            format!("{} has not been quantified yet.", c.timepoint.label()),
        ));
    };
    if q.quantification_id != c.quantification_id {
        return Err(Refusal::new(
            Rule::PET_EXAM,
            format!(
                "{} is not the current quantification of {} ({}): review the current one.",
                c.quantification_id,
                c.timepoint.label(),
                q.quantification_id
            ),
        ));
    }
    let mut lesions = Vec::new();
    for k in &q.candidates {
        let mut ds = c.decisions.iter().filter(|d| d.candidate == k.number);
        let (Some(d), None) = (ds.next(), ds.next()) else {
            let n = c
                .decisions
                .iter()
                .filter(|d| d.candidate == k.number)
                .count();
            let msg = if n == 0 {
                format!(
                    "Candidate {} has no decision: every candidate is confirmed or rejected.",
                    k.number
                )
            } else {
                format!("Candidate {} has {n} decisions; give one.", k.number)
            };
            return Err(Refusal::new(Rule::PET_EXAM, msg));
        };
        let site = text(&d.anatomical_site);
        if d.decision == ReaderDecision::Confirm
            && (site.is_none() || d.ultrasound_accessible.is_none())
        {
            return Err(Refusal::new(
                Rule::VALUE_REQUIRED,
                format!(
                    "Confirmed lesion L{} needs its anatomical site and whether it is accessible by ultrasound.",
                    k.number
                ),
            ));
        }
        lesions.push(ReviewedLesion {
            label: format!("L{}", k.number),
            candidate: Some(k.number),
            decision: d.decision,
            anatomical_site: site,
            ultrasound_accessible: d.ultrasound_accessible,
            suv_max: Some(k.suv_max),
            suv_peak: Some(k.suv_peak),
            centroid_mm: Some(k.centroid_mm),
            physiological: k.physiological.clone(),
            note: text(&d.note),
        });
    }
    if let Some(d) = c
        .decisions
        .iter()
        .find(|d| !q.candidates.iter().any(|k| k.number == d.candidate))
    {
        return Err(Refusal::new(
            Rule::ENTRY_UNKNOWN,
            format!(
                "There is no candidate {} in {} ({} candidates).",
                d.candidate,
                q.quantification_id,
                q.candidates.len()
            ),
        ));
    }
    for (i, a) in c.added.iter().enumerate() {
        required("added.anatomical_site", &a.anatomical_site)?;
        if let Some(s) = a.suv_max {
            in_range("added.suv_max", s, 0.0, 500.0, "")?;
        }
        lesions.push(ReviewedLesion {
            label: format!("A{}", i + 1),
            candidate: None,
            decision: ReaderDecision::Confirm,
            anatomical_site: Some(a.anatomical_site.trim().to_owned()),
            ultrasound_accessible: Some(a.ultrasound_accessible),
            suv_max: a.suv_max,
            suv_peak: None,
            centroid_mm: None,
            physiological: None,
            note: text(&a.note),
        });
    }
    let proposal = propose_biopsy_targets(&lesions, ctx.s.avid_suvmax_threshold);
    Ok(vec![Event::PetLesionsReviewed {
        review: PetReview {
            review_id: format!("petr-{}", ctx.p.pet_reviews.len() + 1),
            timepoint: c.timepoint,
            quantification_id: q.quantification_id.clone(),
            lesions,
            note: text(&c.note),
            proposal,
            reviewed_at: ctx.now,
            settings_version: ctx.s.version,
        },
    }])
}

pub(super) fn choose_target(ctx: &Dc, c: &ChooseBiopsyTarget) -> Result<Vec<Event>, Refusal> {
    if !c.timepoint.guides_biopsy() {
        return Err(Refusal::new(
            Rule::BIOPSY_TARGET,
            "PET2 does not guide a biopsy; biopsies follow PET1 or, at progression, PET3.",
        ));
    }
    let state_ok = match c.timepoint {
        PetTimepoint::Pet1 => ctx.p.state == State::BaselinePetDone,
        _ => ctx.p.state == State::Progression,
    };
    if !state_ok {
        return Err(Refusal::new(
            Rule::STATE_TRANSITION,
            format!(
                "A biopsy target for {} cannot be chosen while the participant is {}.",
                c.timepoint.label(),
                ctx.p.state.name()
            ),
        ));
    }
    ctx.signature(&c.signature)?;
    required("reason", &c.reason)?;
    let Some(review) = ctx.p.pet_review(c.timepoint) else {
        return Err(Refusal::new(
            Rule::BIOPSY_TARGET,
            format!(
                "The reader has not reviewed the current {} quantification: the target is chosen from reviewed lesions.",
                c.timepoint.label()
            ),
        ));
    };
    let label = c.lesion.trim();
    let Some(lesion) = review.lesions.iter().find(|l| l.label == label) else {
        let labels: Vec<&str> = review
            .lesions
            .iter()
            .filter(|l| l.confirmed())
            .map(|l| l.label.as_str())
            .collect();
        return Err(Refusal::new(
            Rule::BIOPSY_TARGET,
            format!(
                "{label} is not a lesion of review {}; confirmed lesions: {}.",
                review.review_id,
                if labels.is_empty() {
                    "none".to_string()
                } else {
                    labels.join(", ")
                }
            ),
        ));
    };
    if !lesion.confirmed() {
        return Err(Refusal::new(
            Rule::BIOPSY_TARGET,
            format!("{label} was rejected by the reader and cannot be the biopsy target."),
        )
        .with_hint("Ask the reader to review the lesion again if it should be a target."));
    }
    let proposed_rank = review
        .proposal
        .iter()
        .find(|p| p.label == label)
        .and_then(|p| p.rank);
    Ok(vec![Event::BiopsyTargetChosen {
        choice: BiopsyTargetChoice {
            timepoint: c.timepoint,
            review_id: review.review_id.clone(),
            label: label.to_owned(),
            lesion: lesion.clone(),
            proposed_rank,
            follows_proposal: proposed_rank == Some(1),
            reason: c.reason.trim().to_owned(),
            signature: c.signature.clone(),
        },
        chosen_at: ctx.now,
        settings_version: ctx.s.version,
    }])
}
