//! IN4 (a lesion for biopsy, or a recent biopsy) and IN5 (an additional
//! measurable index lesion), with the small RECIST 1.1 measurability rule they
//! need (Eisenhauer et al., Eur J Cancer 2009;45:228–247, §3.1). The full
//! RECIST response engine is a separate module.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::CriterionStatus::{Met, Missing, NotMet};
use super::{Ctx, Finding};
use chrono::Months;

use crate::imaging::PetTimepoint;
use crate::journey::biopsy::archival_problems;
use crate::participant::current;
use crate::records::{ArchivalBiopsy, Lesion, LesionType, TreatmentLine};
use crate::settings::Settings;

/// Whether a lesion is measurable at baseline by RECIST 1.1, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Measurability {
    /// Measurable?
    pub measurable: bool,
    /// The reason, with the numbers used.
    pub reason: String,
}

/// RECIST 1.1 §3.1 baseline measurability of one lesion.
///
/// Non-nodal (and the soft-tissue part of bone) ≥ 10 mm longest diameter, or
/// twice the slice thickness when CT slices are thicker than 5 mm; lymph node
/// ≥ 15 mm short axis; bone without soft tissue and other non-measurable
/// disease never; a lesion in an irradiated field only if it progressed there
/// (§3.1.3).
pub fn measurability(l: &Lesion, s: &Settings) -> Measurability {
    let r = |measurable: bool, reason: String| Measurability { measurable, reason };
    let ls = &s.lesions;
    match l.lesion_type {
        LesionType::OtherNonMeasurable => return r(false, "non-measurable disease type".into()),
        LesionType::BoneOnly => {
            return r(false, "bone lesion without soft-tissue component".into());
        }
        _ => {}
    }
    if l.previously_irradiated && !l.progressed_after_irradiation {
        return r(
            false,
            "in a previously irradiated field without progression".into(),
        );
    }
    if l.lesion_type == LesionType::LymphNode {
        return match l.short_axis_mm {
            None => r(false, "lymph node short axis not recorded".into()),
            Some(sa) if sa >= ls.node_min_short_axis_mm => r(
                true,
                format!("node short axis {sa} mm ≥ {} mm", ls.node_min_short_axis_mm),
            ),
            Some(sa) => r(
                false,
                format!("node short axis {sa} mm < {} mm", ls.node_min_short_axis_mm),
            ),
        };
    }
    let min = match l.slice_thickness_mm {
        Some(t) if t > ls.max_slice_for_fixed_minimum_mm => {
            (2.0 * t).max(ls.measurable_min_longest_mm)
        }
        _ => ls.measurable_min_longest_mm,
    };
    if l.longest_diameter_mm >= min {
        r(
            true,
            format!("longest diameter {} mm ≥ {min} mm", l.longest_diameter_mm),
        )
    } else {
        r(
            false,
            format!("longest diameter {} mm < {min} mm", l.longest_diameter_mm),
        )
    }
}

/// Current lesions imaged no later than today, with whether the imaging is recent enough.
fn lesions<'a>(ctx: &'a Ctx) -> Vec<(&'a Lesion, bool)> {
    let window = i64::from(ctx.s.recency.imaging_max_age_days);
    current(&ctx.p.lesions)
        .map(|e| &e.value)
        .filter(|l| ctx.age_days(l.imaging_date) >= 0)
        .map(|l| (l, ctx.age_days(l.imaging_date) <= window))
        .collect()
}

fn biopsy_ok(l: &Lesion, s: &Settings) -> bool {
    l.metastatic
        && l.accessible_for_ultrasound_biopsy
        && l.longest_diameter_mm >= s.lesions.biopsy_min_mm
}

/// Archival biopsies that may replace the study biopsy (PROTOCOL §7), with evidence.
///
/// Counted to PET1 once it is recorded; before that to today, with the last day PET1
/// may take place for the biopsy to stay usable. Therapies come from the form's
/// answers and from the recorded treatment lines.
fn archival<'a>(ctx: &'a Ctx, ev: &mut Vec<String>) -> Option<&'a ArchivalBiopsy> {
    let a = &ctx.s.archival_biopsy;
    let (on, what) = match ctx.p.imp_administration(PetTimepoint::Pet1) {
        Some(pet1) => (ctx.day(pet1.value.injected_at), "PET1"),
        None => (ctx.today(), "today"),
    };
    let lines: Vec<TreatmentLine> = current(&ctx.p.treatment_lines)
        .map(|e| e.value.clone())
        .collect();
    let mut found = None;
    for b in current(&ctx.p.archival_biopsies).map(|e| &e.value) {
        let problems = archival_problems(b, on, what, &lines, a);
        let deadline = b
            .biopsy_date
            .checked_add_months(Months::new(a.max_age_months))
            .filter(|_| what == "today");
        ev.push(format!(
            "Archival biopsy {} ({}): {}",
            b.biopsy_date,
            b.site_description,
            if problems.is_empty() {
                match deadline {
                    Some(d) => format!(
                        "usable today; PET1 must take place by {d} ({} calendar months)",
                        a.max_age_months
                    ),
                    None => format!("usable at {what} ({on})"),
                }
            } else {
                format!("not usable: {}", problems.join(", "))
            }
        ));
        if problems.is_empty() && found.is_none() {
            found = Some(b);
        }
    }
    found
}

fn describe(l: &Lesion, s: &Settings, recent: bool) -> String {
    let m = measurability(l, s);
    format!(
        "{} {} {} {} mm{}{}{}{}, imaged {}{}; RECIST: {} ({})",
        l.lesion_id,
        l.organ,
        l.lesion_type.label(),
        l.longest_diameter_mm,
        l.short_axis_mm
            .map(|s| format!(" (short axis {s} mm)"))
            .unwrap_or_default(),
        if l.metastatic {
            ", metastatic"
        } else {
            ", not metastatic"
        },
        if l.accessible_for_ultrasound_biopsy {
            ", US-accessible"
        } else {
            ""
        },
        if l.intended_for_biopsy {
            ", intended for biopsy"
        } else {
            ""
        },
        l.imaging_date,
        if recent { "" } else { " (imaging too old)" },
        if m.measurable {
            "measurable"
        } else {
            "not measurable"
        },
        m.reason
    )
}

/// The lesions IN4 and IN5 rest on together (PROTOCOL §5): the lesion available for
/// biopsy and the *additional* index lesion, different lesions unless
/// `lesions.index_lesion_may_be_biopsied` (clinical-rules A14; default false). A
/// lesion marked for biopsy is never the index lesion by default either.
struct Pairing<'a> {
    /// The lesion that meets IN4, if a lesion does (else an archival biopsy may).
    biopsy: Option<&'a Lesion>,
    /// The lesion that meets IN5.
    index: Option<&'a Lesion>,
}

fn pairing<'a>(ctx: &'a Ctx, archival: Option<&ArchivalBiopsy>) -> Pairing<'a> {
    let s = ctx.s;
    let recent: Vec<&Lesion> = lesions(ctx)
        .into_iter()
        .filter(|(_, r)| *r)
        .map(|(l, _)| l)
        .collect();
    let index: Vec<&Lesion> = recent
        .iter()
        .copied()
        .filter(|l| l.metastatic && measurability(l, s).measurable)
        .collect();
    // The lesions marked for biopsy first: they are the ones the investigator means.
    let mut candidates: Vec<&Lesion> = recent.iter().copied().filter(|l| biopsy_ok(l, s)).collect();
    candidates.sort_by_key(|l| !l.intended_for_biopsy);
    if s.lesions.index_lesion_may_be_biopsied {
        return Pairing {
            biopsy: candidates.first().copied(),
            index: index.first().copied(),
        };
    }
    let index_besides = |taken: Option<&str>| {
        index
            .iter()
            .copied()
            .find(|m| !m.intended_for_biopsy && Some(m.lesion_id.as_str()) != taken)
    };
    for b in &candidates {
        if let Some(m) = index_besides(Some(&b.lesion_id)) {
            return Pairing {
                biopsy: Some(b),
                index: Some(m),
            };
        }
    }
    // No pair among the lesions: a usable earlier biopsy may stand for IN4.
    if let Some(m) = archival.and_then(|a| index_besides(a.lesion_id.as_deref())) {
        return Pairing {
            biopsy: None,
            index: Some(m),
        };
    }
    Pairing {
        biopsy: candidates.first().copied(),
        index: if candidates.is_empty() && archival.is_none() {
            index_besides(None)
        } else {
            None
        },
    }
}

/// The evidence line naming which lesion meets which criterion.
fn pairing_evidence(p: &Pairing, archival: Option<&ArchivalBiopsy>, s: &Settings) -> String {
    let biopsy = match (p.biopsy, archival) {
        (Some(b), _) => format!("lesion {}", b.lesion_id),
        (None, Some(a)) => format!("the archival biopsy of {}", a.biopsy_date),
        (None, None) => "none".into(),
    };
    let index = p
        .index
        .map_or("none".into(), |m| format!("lesion {}", m.lesion_id));
    format!(
        "IN4 (for biopsy): {biopsy}; IN5 (index lesion): {index}; {}",
        if s.lesions.index_lesion_may_be_biopsied {
            "the index lesion may be the biopsy lesion (setting)"
        } else {
            "they must be different lesions, and a lesion marked for biopsy is not an index lesion"
        }
    )
}

/// IN4: a metastatic lesion ≥ 10 mm available for biopsy, or a usable recent biopsy.
pub(super) fn in4(ctx: &Ctx) -> Finding {
    let s = ctx.s;
    let all = lesions(ctx);
    let mut ev: Vec<String> = all.iter().map(|(l, r)| describe(l, s, *r)).collect();
    ev.push(format!(
        "Rule: metastatic, US-accessible, longest diameter ≥ {} mm, imaging ≤ {} days old",
        s.lesions.biopsy_min_mm, s.recency.imaging_max_age_days
    ));
    let archival = archival(ctx, &mut ev);
    let pair = pairing(ctx, archival);
    if let Some(b) = pair.biopsy {
        ev.push(pairing_evidence(&pair, archival, s));
        return Finding::new(
            Met,
            format!("Met: lesion {} available for biopsy", b.lesion_id),
            ev,
        );
    }
    if let Some(b) = archival {
        ev.push(pairing_evidence(&pair, archival, s));
        return Finding::new(
            Met,
            format!("Met: usable archival biopsy of {}", b.biopsy_date),
            ev,
        );
    }
    if all.iter().any(|(l, r)| !*r && biopsy_ok(l, s)) {
        return Finding::new(
            Missing,
            "A lesion qualifies but its imaging is too old: repeat imaging",
            ev,
        );
    }
    if all.is_empty() && ctx.p.archival_biopsies.iter().all(|e| !e.is_current()) {
        return Finding::new(Missing, "No lesions recorded", ev);
    }
    Finding::new(
        NotMet,
        "Not met: no lesion available for biopsy and no usable recent biopsy",
        ev,
    )
}

/// IN5: an additional metastatic index lesion measurable by RECIST 1.1, not the
/// lesion that meets IN4 (see [`Pairing`]).
pub(super) fn in5(ctx: &Ctx) -> Finding {
    let s = ctx.s;
    let all = lesions(ctx);
    let mut ev: Vec<String> = all.iter().map(|(l, r)| describe(l, s, *r)).collect();
    let may_biopsy = s.lesions.index_lesion_may_be_biopsied;
    ev.push(format!(
        "Rule: metastatic and RECIST 1.1 measurable, imaging ≤ {} days old; {}",
        s.recency.imaging_max_age_days,
        if may_biopsy {
            "may be the biopsy lesion"
        } else {
            "not the lesion to be biopsied"
        }
    ));
    let measurable = |l: &Lesion| l.metastatic && measurability(l, s).measurable;
    let mut archival_ev = Vec::new();
    let archival = archival(ctx, &mut archival_ev);
    let pair = pairing(ctx, archival);
    ev.push(pairing_evidence(&pair, archival, s));
    if let Some(m) = pair.index {
        let besides = match (pair.biopsy, archival) {
            (Some(b), _) if b.lesion_id != m.lesion_id => {
                format!(", besides biopsy lesion {}", b.lesion_id)
            }
            (None, Some(a)) => format!(", besides the archival biopsy of {}", a.biopsy_date),
            _ => String::new(),
        };
        return Finding::new(
            Met,
            format!(
                "Met: lesion {} is a measurable index lesion{besides}",
                m.lesion_id
            ),
            ev,
        );
    }
    if all.is_empty() {
        return Finding::new(Missing, "No lesions recorded", ev);
    }
    if all.iter().any(|(l, r)| !*r && measurable(l)) {
        return Finding::new(
            Missing,
            "A measurable lesion's imaging is too old: repeat imaging",
            ev,
        );
    }
    let taken: Vec<&str> = all
        .iter()
        .filter(|(l, r)| *r && measurable(l))
        .map(|(l, _)| l.lesion_id.as_str())
        .collect();
    if !taken.is_empty() {
        return Finding::new(
            NotMet,
            format!(
                "Not met: no additional measurable index lesion; {} is needed for the biopsy (IN4) or marked for biopsy",
                taken.join(", ")
            ),
            ev,
        );
    }
    Finding::new(NotMet, "Not met: no additional measurable index lesion", ev)
}
