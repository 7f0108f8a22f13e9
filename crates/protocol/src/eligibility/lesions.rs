//! IN4 (a lesion for biopsy, or a recent biopsy) and IN5 (an additional
//! measurable index lesion), with the small RECIST 1.1 measurability rule they
//! need (Eisenhauer et al., Eur J Cancer 2009;45:228–247, §3.1). The full
//! RECIST response engine is a separate module.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::CriterionStatus::{Met, Missing, NotMet};
use super::{Ctx, Finding};
use crate::journey::biopsy::archival_problems;
use crate::participant::current;
use crate::records::{ArchivalBiopsy, Lesion, LesionType};
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
fn archival<'a>(ctx: &'a Ctx, ev: &mut Vec<String>) -> Option<&'a ArchivalBiopsy> {
    let a = &ctx.s.archival_biopsy;
    let mut found = None;
    for b in current(&ctx.p.archival_biopsies).map(|e| &e.value) {
        let problems = archival_problems(b, ctx.today(), a);
        ev.push(format!(
            "Archival biopsy {} ({}): {}",
            b.biopsy_date,
            b.site_description,
            if problems.is_empty() {
                "usable".into()
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
    if let Some((l, _)) = all.iter().find(|(l, r)| *r && biopsy_ok(l, s)) {
        return Finding::new(
            Met,
            format!("Met: lesion {} available for biopsy", l.lesion_id),
            ev,
        );
    }
    if let Some(b) = archival {
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

/// IN5: an additional metastatic index lesion measurable by RECIST 1.1.
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
    let recent: Vec<&Lesion> = all.iter().filter(|(_, r)| *r).map(|(l, _)| *l).collect();
    let index: Vec<&Lesion> = recent.iter().copied().filter(|l| measurable(l)).collect();
    let intended: Vec<&Lesion> = recent
        .iter()
        .copied()
        .filter(|l| l.intended_for_biopsy)
        .collect();
    let candidates: Vec<&Lesion> = recent.iter().copied().filter(|l| biopsy_ok(l, s)).collect();
    let mut archival_ev = Vec::new();
    let archival = archival(ctx, &mut archival_ev);
    let chosen: Option<&Lesion> = if may_biopsy {
        index.first().copied()
    } else if !intended.is_empty() {
        ev.push("Biopsy lesion(s): those marked intended for biopsy".into());
        index.iter().copied().find(|m| !m.intended_for_biopsy)
    } else if candidates.is_empty() {
        let excluded = archival.and_then(|b| b.lesion_id.as_deref());
        index
            .iter()
            .copied()
            .find(|m| Some(m.lesion_id.as_str()) != excluded)
    } else {
        ev.push("No lesion marked for biopsy: one biopsy candidate must remain besides the index lesion".into());
        index
            .iter()
            .copied()
            .find(|m| candidates.iter().any(|b| b.lesion_id != m.lesion_id))
    };
    if let Some(m) = chosen {
        return Finding::new(
            Met,
            format!("Met: lesion {} is a measurable index lesion", m.lesion_id),
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
    Finding::new(NotMet, "Not met: no additional measurable index lesion", ev)
}
