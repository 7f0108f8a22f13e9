//! The reader's PET response read PET1 → PET2 (PROTOCOL §10, PERCIST-style, arm 1): every
//! PET2 candidate decided, the comparison computed by [`crate::percist::assess_read`] from
//! the recorded quantifications, recorded with the algorithm and settings versions.

use std::collections::BTreeMap;

use super::{Dc, text};
use crate::command::ConfirmPetResponse;
use crate::event::Event;
use crate::percist::{self, ReaderRead};
use crate::pet_response::{
    Inputs, Pet2Decision, Pet2LesionDecision, PetResponseRead, ScanLesion, hottest_of, inputs,
    label, pairs_of, percist_refusal, percist_settings, scans,
};
use crate::rule::{Refusal, Rule};

fn refuse(msg: String) -> Refusal {
    Refusal::new(Rule::PET_RESPONSE, msg)
}

/// Highest background SUV that can be true of blood pool or a reference organ.
const BACKGROUND_MAX_SUV: f64 = 50.0;

pub(super) fn confirm(ctx: &Dc, c: &ConfirmPetResponse) -> Result<Vec<Event>, Refusal> {
    let i = inputs(ctx.p)?;
    if c.pet2_quantification_id.trim() != i.pet2.quantification_id {
        return Err(refuse(format!(
            "{} is not the current PET2 quantification ({}): read the current one.",
            c.pet2_quantification_id.trim(),
            i.pet2.quantification_id
        )));
    }
    let background_suv = match c.background_suv {
        None => i.pet2.parameters.candidate_threshold_suv,
        Some(b) if b.is_finite() && b > 0.0 && b <= BACKGROUND_MAX_SUV => b,
        Some(b) => {
            return Err(Refusal::new(
                Rule::VALUE_IMPOSSIBLE,
                format!(
                    "A background SUV of {b} is not possible (above 0, at most {BACKGROUND_MAX_SUV})."
                ),
            ));
        }
    };
    let decisions = checked_decisions(&i, &c.decisions)?;
    let (read, kept) = reader_read(&i, &decisions);
    let (scan1, scan2, _) = scans(&i, &kept);
    let settings = percist_settings(ctx.s, background_suv);
    let r = percist::assess_read(&scan1, &scan2, &read, &settings).map_err(percist_refusal)?;
    let response = PetResponseRead {
        response_id: format!("petresp-{}", ctx.p.pet_responses.len() + 1),
        pet1_quantification_id: i.pet1.quantification_id.clone(),
        pet1_review_id: i.pet1_review_id.clone(),
        pet2_quantification_id: i.pet2.quantification_id.clone(),
        decisions: decisions.into_values().collect(),
        pairs: pairs_of(&r, &scan1, &scan2),
        new_lesions: r.new_lesions.clone(),
        not_seen_on_pet2: r.unmatched_pet1.clone(),
        hottest: hottest_of(&r),
        category: r.category,
        background_suv,
        background_measured: c.background_suv.is_some(),
        avid_suvmax_threshold: ctx.s.avid_suvmax_threshold,
        algorithm_version: percist::ALGORITHM_VERSION.to_owned(),
        note: text(&c.note),
        supersedes: ctx.p.pet_responses.last().map(|r| r.response_id.clone()),
        confirmed_at: ctx.now,
        settings_version: ctx.s.version,
    };
    Ok(vec![Event::PetResponseConfirmed { response }])
}

/// The decisions by candidate number, each checked: a known candidate, decided once; a
/// same-lesion decision names a comparable PET1 lesion used by no other; every candidate
/// decided.
fn checked_decisions(
    i: &Inputs,
    given: &[Pet2LesionDecision],
) -> Result<BTreeMap<u32, Pet2LesionDecision>, Refusal> {
    let q2 = i.pet2;
    let mut out: BTreeMap<u32, Pet2LesionDecision> = BTreeMap::new();
    let mut pet1_used: BTreeMap<String, u32> = BTreeMap::new();
    for d in given {
        if !q2.candidates.iter().any(|k| k.number == d.candidate) {
            return Err(Refusal::new(
                Rule::ENTRY_UNKNOWN,
                format!(
                    "PET2 ({}) has no candidate {} ({} candidates).",
                    q2.quantification_id,
                    d.candidate,
                    q2.candidates.len()
                ),
            ));
        }
        let pet1 = d
            .pet1_lesion
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty());
        let pet1 = match (d.decision, pet1) {
            (Pet2Decision::SameLesion, None) => {
                return Err(Refusal::new(
                    Rule::VALUE_REQUIRED,
                    format!(
                        "PET2 {} is the same lesion as which PET1 lesion? Name it in `pet1_lesion`.",
                        label(d.candidate)
                    ),
                ));
            }
            (Pet2Decision::SameLesion, Some(l)) => Some(pet1_lesion(i, l)?.label.clone()),
            (_, Some(l)) => {
                return Err(refuse(format!(
                    "PET2 {} is not called the same lesion, yet names PET1 {l}: only a same-lesion decision names a PET1 lesion.",
                    label(d.candidate)
                )));
            }
            (_, None) => None,
        };
        if let Some(l) = &pet1
            && let Some(other) = pet1_used.insert(l.clone(), d.candidate)
        {
            return Err(refuse(format!(
                "PET1 {l} is matched to both PET2 {} and PET2 {}: a lesion is followed one to one.",
                label(other),
                label(d.candidate)
            )));
        }
        let decision = Pet2LesionDecision {
            candidate: d.candidate,
            decision: d.decision,
            pet1_lesion: pet1,
        };
        if out.insert(d.candidate, decision).is_some() {
            return Err(refuse(format!(
                "PET2 {} has more than one decision; give one.",
                label(d.candidate)
            )));
        }
    }
    if let Some(k) = q2.candidates.iter().find(|k| !out.contains_key(&k.number)) {
        let hot = if k.suv_max >= i.pet2.parameters.avid_suvmax_threshold {
            ", HER2-avid"
        } else {
            ""
        };
        return Err(refuse(format!(
            "PET2 {} (SUVmax {:.1}{hot}) has no decision: say whether it is the same lesion as a PET1 lesion, a new lesion or not a lesion. A PET2 lesion is new only when the reader says so.",
            label(k.number),
            k.suv_max
        ))
        .with_hint("Decide every PET2 candidate; the proposal on the PET2 page fills in the matches it found."));
    }
    Ok(out)
}

/// The comparable PET1 lesion labelled `l`.
fn pet1_lesion<'a>(i: &'a Inputs, l: &str) -> Result<&'a ScanLesion, Refusal> {
    i.pet1_lesions.iter().find(|x| x.label == l).ok_or_else(|| {
        let known: Vec<&str> = i.pet1_lesions.iter().map(|x| x.label.as_str()).collect();
        Refusal::new(
            Rule::ENTRY_UNKNOWN,
            format!(
                "{l} is not a PET1 lesion that can be followed; PET1 lesions with an SUVpeak: {}.",
                known.join(", ")
            ),
        )
    })
}

/// The reader's pairs and new lesions, and the PET2 lesions kept (not set aside).
fn reader_read(
    i: &Inputs,
    decisions: &BTreeMap<u32, Pet2LesionDecision>,
) -> (ReaderRead, Vec<ScanLesion>) {
    let mut read = ReaderRead::default();
    let mut kept = Vec::new();
    for k in &i.pet2.candidates {
        let Some(d) = decisions.get(&k.number) else {
            continue;
        };
        let l = label(k.number);
        match (d.decision, &d.pet1_lesion) {
            (Pet2Decision::NewLesion, _) => read.new_lesions.push(l.clone()),
            (Pet2Decision::SameLesion, Some(p1)) => read.pairs.push((p1.clone(), l.clone())),
            // Checked before: a same-lesion decision always names its PET1 lesion.
            (Pet2Decision::NotALesion, _) | (Pet2Decision::SameLesion, None) => continue,
        }
        kept.push(ScanLesion {
            label: l,
            suv_max: k.suv_max,
            suv_peak: k.suv_peak,
            centroid_mm: k.centroid_mm,
            anatomical_site: None,
        });
    }
    (read, kept)
}
