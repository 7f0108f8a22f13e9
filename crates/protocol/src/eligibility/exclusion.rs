//! EX1, EX2, EX3 and EX5 (PROTOCOL §5). EX4 lives in `organ`.
//! For exclusions, `Met` means the exclusion applies.

use chrono::Months;

use super::CriterionStatus::{Met, Missing, NotMet};
use super::{Ctx, Finding, unit_suffix};
use crate::journey::biopsy::{BLEEDING_LABS, bleeding_verdict};
use crate::labs::Analyte;
use crate::participant::current;
use crate::records::{AttestedCriterion, OtherMalignancy};
use crate::settings::Ex2Scope;

/// EX1: contraindication to T-DXd, attested; structured checks shown beside it.
pub(super) fn ex1(ctx: &Ctx) -> Finding {
    let mut ev = Vec::new();
    // Structured checks for the investigator (clinical-rules §1.4–1.5): EU SmPC 4.3
    // contraindication is hypersensitivity; ILD history and LVEF < 50 % were not studied.
    match ctx.latest_lab(Analyte::Lvef) {
        Some(l) => ev.push(format!(
            "Check: {}{}",
            ctx.lab_evidence(l),
            if l.canonical_value < ctx.s.organ_function.lvef_min_pct {
                " — below 50 %: T-DXd not studied"
            } else {
                ""
            }
        )),
        None => ev.push("Check: no LVEF recorded".into()),
    }
    match ctx.history() {
        Some(h) if h.ild_history => {
            ev.push("Check: history of ILD/pneumonitis recorded (SmPC 4.4 risk)".into())
        }
        Some(_) => ev.push("Check: no ILD/pneumonitis history recorded".into()),
        None => ev.push("Check: medical history not recorded".into()),
    }
    match ctx.attestation(AttestedCriterion::Ex1) {
        None => Finding::new(Missing, "Investigator has not attested EX1", ev),
        Some(a) => {
            ev.push(ctx.attestation_evidence(a));
            if a.answer {
                Finding::new(
                    Met,
                    "Exclusion applies: contraindication to T-DXd (attested)",
                    ev,
                )
            } else {
                Finding::new(
                    NotMet,
                    "Exclusion does not apply: no contraindication (attested)",
                    ev,
                )
            }
        }
    }
}

/// EX2: an earlier metastatic biopsy was HER2-positive (IHC 3+ and/or ISH amplified).
/// With `exclusion_scope: any_prior_biopsy` (clinical-rules A3) any earlier biopsy counts,
/// the primary tumour included.
pub(super) fn ex2(ctx: &Ctx) -> Finding {
    let any_biopsy = ctx.s.exclusion_scope == Ex2Scope::AnyPriorBiopsy;
    let mut ev = Vec::new();
    let mut positive = false;
    let mut metastatic_results = 0;
    if any_biopsy {
        ev.push(format!(
            "exclusion_scope any_prior_biopsy ({}): a HER2-positive primary tumour counts too",
            ctx.s.provenance()
        ));
    }
    for r in current(&ctx.p.prior_her2).map(|e| &e.value) {
        let pos = r.her2_positive();
        ev.push(format!(
            "{} biopsy {} ({}): IHC {}, ISH {}{}",
            if r.metastatic {
                "Metastatic"
            } else {
                "Non-metastatic"
            },
            r.biopsy_date,
            r.site_description,
            r.ihc_score.map_or("not done", |s| s.label()),
            r.ish.map_or("not done", |s| s.label()),
            match (pos, r.metastatic || any_biopsy) {
                (true, true) => " — HER2-positive",
                (true, false) => " — HER2-positive, but not a metastasis (does not count)",
                _ => "",
            }
        ));
        if r.metastatic {
            metastatic_results += 1;
        }
        positive |= pos && (r.metastatic || any_biopsy);
    }
    if positive {
        return Finding::new(
            Met,
            if any_biopsy {
                "Exclusion applies: earlier biopsy HER2-positive"
            } else {
                "Exclusion applies: earlier metastatic biopsy HER2-positive"
            },
            ev,
        );
    }
    match ctx.history() {
        None => Finding::new(
            Missing,
            "Medical history (earlier metastatic biopsies) not recorded",
            ev,
        ),
        Some(h) if h.earlier_metastatic_biopsies && metastatic_results == 0 => {
            ev.push("History says earlier metastatic biopsies exist".into());
            Finding::new(
                Missing,
                "Earlier metastatic biopsies exist but their HER2 results are not recorded",
                ev,
            )
        }
        Some(h) => {
            if !h.earlier_metastatic_biopsies {
                ev.push(format!(
                    "History reviewed {}: no earlier metastatic biopsy",
                    h.reviewed_on
                ));
            }
            Finding::new(
                NotMet,
                "Exclusion does not apply: no HER2-positive metastatic biopsy",
                ev,
            )
        }
    }
}

/// Whether a malignancy that is no longer manifest falls inside the EX3 look-back
/// (`other_malignancy_lookback_years`, clinical-rules A18): `Some(false)` without a
/// look-back, `None` when the look-back needs a diagnosis date that is not recorded.
fn within_lookback(ctx: &Ctx, m: &OtherMalignancy) -> Option<bool> {
    let Some(years) = ctx.s.other_malignancy_lookback_years else {
        return Some(false);
    };
    let since = ctx
        .today()
        .checked_sub_months(Months::new(years.saturating_mul(12)))?;
    m.diagnosed_on.map(|d| d >= since)
}

/// EX3: another manifest malignancy, except the configured exceptions (basal cell
/// carcinoma of the skin); with a look-back (clinical-rules A18) also one diagnosed
/// within it that is no longer manifest.
pub(super) fn ex3(ctx: &Ctx) -> Finding {
    let exceptions = &ctx.s.other_malignancy_exceptions;
    let lookback = ctx.s.other_malignancy_lookback_years;
    let mut ev = Vec::new();
    let (mut applies, mut undecided, mut recorded) = (false, false, 0);
    if let Some(y) = lookback {
        ev.push(format!(
            "Look-back {y} years (other_malignancy_lookback_years, {}): a malignancy diagnosed within it counts even when no longer manifest",
            ctx.s.provenance()
        ));
    }
    for m in current(&ctx.p.other_malignancies).map(|e| &e.value) {
        recorded += 1;
        let excepted = exceptions.contains(&m.malignancy_type);
        let recent = if m.manifest || excepted {
            Some(false)
        } else {
            within_lookback(ctx, m)
        };
        let counts = !excepted && (m.manifest || recent == Some(true));
        ev.push(format!(
            "{} ({}){}, {}{}",
            m.malignancy_type.label(),
            m.description,
            m.diagnosed_on
                .map(|d| format!(" diagnosed {d}"))
                .unwrap_or_default(),
            if m.manifest {
                "manifest"
            } else {
                "not manifest"
            },
            match (excepted, counts, recent) {
                (true, _, _) => " — excepted by the protocol".to_owned(),
                (_, true, Some(true)) => {
                    format!(
                        " — counts: diagnosed within the {}-year look-back",
                        lookback.unwrap_or(0)
                    )
                }
                (_, true, _) => " — counts".to_owned(),
                (_, _, None) => format!(
                    " — diagnosis date needed for the {}-year look-back",
                    lookback.unwrap_or(0)
                ),
                _ => String::new(),
            }
        ));
        applies |= counts;
        undecided |= recent.is_none();
    }
    if applies {
        let what = if lookback.is_some() {
            "Exclusion applies: other malignancy, manifest or within the look-back"
        } else {
            "Exclusion applies: other manifest malignancy"
        };
        return Finding::new(Met, what, ev);
    }
    match ctx.history() {
        None => Finding::new(
            Missing,
            "Medical history (other malignancies) not recorded",
            ev,
        ),
        Some(h) if h.other_malignancies_known && recorded == 0 => Finding::new(
            Missing,
            "History says other malignancies are known, but none is recorded",
            ev,
        ),
        Some(_) if undecided => Finding::new(
            Missing,
            "Undecided: a malignancy without its diagnosis date cannot be placed in the look-back",
            ev,
        ),
        Some(h) => {
            ev.push(format!("History reviewed {}", h.reviewed_on));
            Finding::new(
                NotMet,
                "Exclusion does not apply: no other manifest malignancy",
                ev,
            )
        }
    }
}

/// EX5: biopsy bleeding risk (registration thresholds INR > 1.4, platelets < 70, APTT > 30 s;
/// APTT configurable as a multiple of the ULN, clinical-rules A8).
pub(super) fn ex5(ctx: &Ctx) -> Finding {
    let b = &ctx.s.bleeding;
    let window = ctx.s.recency.bleeding_lab_max_age_days;
    let mut ev = Vec::new();
    let mut applies = false;
    let mut unknown = false;
    for a in BLEEDING_LABS {
        match ctx.latest_lab(a) {
            None => {
                ev.push(format!("{}: no result recorded", a.label()));
                unknown = true;
            }
            Some(l) if ctx.age_days(ctx.day(l.sample_at)) > i64::from(window) => {
                ev.push(format!(
                    "{} — older than {window} days, does not count",
                    ctx.lab_evidence(l)
                ));
                unknown = true;
            }
            Some(l) => match bleeding_verdict(l, b) {
                None => {}
                Some(Err(why)) => {
                    ev.push(format!("{} — {why}", ctx.lab_evidence(l)));
                    unknown = true;
                }
                Some(Ok(v)) => {
                    let (bad, op, limit) = (!v.acceptable, v.op, v.limit);
                    ev.push(format!(
                        "{} — {} {} {op} {limit}{}{}",
                        ctx.lab_evidence(l),
                        if bad { "BLEEDING RISK:" } else { "acceptable:" },
                        l.canonical_value,
                        unit_suffix(a.canonical_unit()),
                        v.by_uln.map(|u| format!(" ({u})")).unwrap_or_default()
                    ));
                    applies |= bad;
                }
            },
        }
    }
    match ctx.history() {
        None => {
            ev.push("Medical history (bleeding disorder, anticoagulants) not recorded".into());
            unknown = true;
        }
        Some(h) => {
            if h.known_bleeding_disorder {
                ev.push("BLEEDING RISK: known bleeding disorder".into());
            }
            if h.anticoagulant_cannot_be_paused {
                ev.push("BLEEDING RISK: anticoagulant/antiplatelet that cannot be paused".into());
            }
            if !h.known_bleeding_disorder && !h.anticoagulant_cannot_be_paused {
                ev.push(format!(
                    "History reviewed {}: no bleeding disorder, no anticoagulant that cannot be paused",
                    h.reviewed_on
                ));
            }
            applies |= h.known_bleeding_disorder || h.anticoagulant_cannot_be_paused;
        }
    }
    match ctx.attestation(AttestedCriterion::Ex5) {
        None => {
            ev.push("Investigator attestation of EX5 missing".into());
            unknown = true;
        }
        Some(a) => {
            ev.push(ctx.attestation_evidence(a));
            applies |= a.answer;
        }
    }
    if applies {
        Finding::new(
            Met,
            "Exclusion applies: increased biopsy bleeding risk (see BLEEDING RISK)",
            ev,
        )
    } else if unknown {
        Finding::new(
            Missing,
            "Undecided: bleeding-risk data missing or too old",
            ev,
        )
    } else {
        Finding::new(
            NotMet,
            "Exclusion does not apply: no increased bleeding risk",
            ev,
        )
    }
}
