//! EX4: inadequate cardiac, renal, bone-marrow or liver function.
//!
//! Defaults (clinical-rules §1.5, SHAMROCK T-DXd protocol Table 1): LVEF ≥ 50 %,
//! ANC ≥ 1.5×10⁹/L, platelets ≥ 100×10⁹/L, Hb ≥ 90 g/L, creatinine clearance
//! (Cockcroft–Gault) ≥ 30 mL/min, bilirubin ≤ 1.5×ULN, AST/ALT ≤ 3×ULN
//! (≤ 5×ULN with liver metastases). The exclusion applies when any value
//! fails; it does not apply only when every value is present, recent and good.

use chrono::{Datelike, NaiveDate};

use super::CriterionStatus::{Met, Missing, NotMet};
use super::{Ctx, Finding};
use crate::labs::{Analyte, LabResult};
use crate::records::Sex;

/// Creatinine clearance in mL/min by Cockcroft–Gault (Cockcroft & Gault, Nephron 1976).
///
/// `CrCl = (140 − age) × weight / (72 × SCr[mg/dL])`, × 0.85 for women;
/// SCr in µmol/L is divided by 88.42 to give mg/dL. Not normalised to body surface.
pub fn cockcroft_gault_ml_min(
    age_years: u32,
    weight_kg: f64,
    creatinine_umol_l: f64,
    female: bool,
) -> f64 {
    let scr_mg_dl = creatinine_umol_l / 88.42;
    let crcl = (140.0 - f64::from(age_years)) * weight_kg / (72.0 * scr_mg_dl);
    if female { crcl * 0.85 } else { crcl }
}

#[derive(PartialEq)]
enum Part {
    Pass,
    Fail,
    Unknown,
}

/// Whole years from `from` to `to` (negative when `to` is earlier).
fn full_years(from: NaiveDate, to: NaiveDate) -> i32 {
    let mut y = to.year() - from.year();
    if (to.month(), to.day()) < (from.month(), from.day()) {
        y -= 1;
    }
    y
}

/// Age on `date`: the entered age at consent plus whole years since, else year difference
/// (the older of the two possible ages, which gives the lower, safer clearance).
fn age_on(ctx: &Ctx, date: NaiveDate) -> Option<u32> {
    let c = ctx.p.first_consent();
    if let Some((c, a)) = c.and_then(|c| c.age_at_consent.map(|a| (c, a))) {
        let age = i64::from(a) + i64::from(full_years(ctx.day(c.signed_at), date));
        return u32::try_from(age).ok();
    }
    ctx.p
        .year_of_birth
        .and_then(|y| u32::try_from(date.year() - y).ok())
}

fn recent_lab<'a>(
    ctx: &'a Ctx,
    a: Analyte,
    window: u32,
    ev: &mut Vec<String>,
) -> Option<&'a LabResult> {
    match ctx.latest_lab(a) {
        None => {
            ev.push(format!("{}: no result recorded", a.label()));
            None
        }
        Some(l) if ctx.age_days(ctx.day(l.sample_at)) > i64::from(window) => {
            ev.push(format!(
                "{} — older than {window} days, does not count",
                ctx.lab_evidence(l)
            ));
            None
        }
        Some(l) => Some(l),
    }
}

fn min_part(ctx: &Ctx, a: Analyte, min: f64, window: u32, ev: &mut Vec<String>) -> Part {
    let Some(l) = recent_lab(ctx, a, window, ev) else {
        return Part::Unknown;
    };
    let ok = l.canonical_value >= min;
    ev.push(format!(
        "{} — {} {} {min} {}",
        ctx.lab_evidence(l),
        if ok { "adequate:" } else { "INADEQUATE:" },
        if ok { "≥" } else { "<" },
        a.canonical_unit()
    ));
    if ok { Part::Pass } else { Part::Fail }
}

fn uln_part(ctx: &Ctx, a: Analyte, max: f64, max_liver: Option<f64>, ev: &mut Vec<String>) -> Part {
    let Some(l) = recent_lab(ctx, a, ctx.s.recency.lab_max_age_days, ev) else {
        return Part::Unknown;
    };
    let Some(x) = l.x_uln() else {
        ev.push(format!("{} — no ULN recorded", ctx.lab_evidence(l)));
        return Part::Unknown;
    };
    let liver = ctx.liver_metastases();
    let limit = match (max_liver, liver) {
        (Some(lim), Some(true)) => lim,
        (Some(lim), None) if x > max && x <= lim => {
            ev.push(format!(
                "{} — {x:.2} × ULN: above {max} × ULN but within {lim} × ULN; liver metastases not recorded",
                ctx.lab_evidence(l)
            ));
            return Part::Unknown;
        }
        _ => max,
    };
    let ok = x <= limit;
    ev.push(format!(
        "{} — {} {x:.2} × ULN {} {limit} × ULN{}",
        ctx.lab_evidence(l),
        if ok { "adequate:" } else { "INADEQUATE:" },
        if ok { "≤" } else { ">" },
        if limit != max {
            " (liver metastases)"
        } else {
            ""
        }
    ));
    if ok { Part::Pass } else { Part::Fail }
}

fn crcl_part(ctx: &Ctx, ev: &mut Vec<String>) -> Part {
    let min = ctx.s.organ_function.crcl_min_ml_min;
    let Some(l) = recent_lab(ctx, Analyte::Creatinine, ctx.s.recency.lab_max_age_days, ev) else {
        return Part::Unknown;
    };
    let Some(w) = ctx.latest(&ctx.p.weights, |w| w.measured_on) else {
        ev.push("Creatinine clearance needs body weight: none recorded".into());
        return Part::Unknown;
    };
    if ctx.age_days(w.measured_on) > i64::from(ctx.s.recency.weight_max_age_days) {
        ev.push(format!(
            "Body weight {} kg from {} is older than {} days",
            w.weight_kg, w.measured_on, ctx.s.recency.weight_max_age_days
        ));
        return Part::Unknown;
    }
    let lab_date = ctx.day(l.sample_at);
    let Some(age) = age_on(ctx, lab_date) else {
        ev.push("Creatinine clearance needs the age at the lab date: unknown".into());
        return Part::Unknown;
    };
    let female = ctx.p.sex == Some(Sex::Female);
    let crcl = cockcroft_gault_ml_min(age, w.weight_kg, l.canonical_value, female);
    let ok = crcl >= min;
    ev.push(format!(
        "{} ; weight {} kg ({}); age {age} at the lab date → creatinine clearance (Cockcroft–Gault{}) {crcl:.1} mL/min — {} {min} mL/min",
        ctx.lab_evidence(l),
        w.weight_kg,
        w.measured_on,
        if female { ", × 0.85 female" } else { "" },
        if ok { "adequate: ≥" } else { "INADEQUATE: <" }
    ));
    if ok { Part::Pass } else { Part::Fail }
}

/// EX4: the exclusion applies when any organ-function value fails.
pub(super) fn ex4(ctx: &Ctx) -> Finding {
    let o = &ctx.s.organ_function;
    let r = &ctx.s.recency;
    let mut ev = Vec::new();
    let parts = [
        min_part(
            ctx,
            Analyte::Lvef,
            o.lvef_min_pct,
            r.lvef_max_age_days,
            &mut ev,
        ),
        min_part(ctx, Analyte::Anc, o.anc_min_e9, r.lab_max_age_days, &mut ev),
        min_part(
            ctx,
            Analyte::Platelets,
            o.plt_min_e9,
            r.lab_max_age_days,
            &mut ev,
        ),
        min_part(
            ctx,
            Analyte::Haemoglobin,
            o.hb_min_g_l,
            r.lab_max_age_days,
            &mut ev,
        ),
        crcl_part(ctx, &mut ev),
        uln_part(
            ctx,
            Analyte::Bilirubin,
            o.bilirubin_max_x_uln,
            None,
            &mut ev,
        ),
        uln_part(
            ctx,
            Analyte::Ast,
            o.ast_alt_max_x_uln,
            Some(o.ast_alt_max_x_uln_liver_mets),
            &mut ev,
        ),
        uln_part(
            ctx,
            Analyte::Alt,
            o.ast_alt_max_x_uln,
            Some(o.ast_alt_max_x_uln_liver_mets),
            &mut ev,
        ),
    ];
    if parts.contains(&Part::Fail) {
        Finding::new(
            Met,
            "Exclusion applies: inadequate organ function (see INADEQUATE)",
            ev,
        )
    } else if parts.contains(&Part::Unknown) {
        Finding::new(
            Missing,
            "Undecided: organ-function values missing or too old",
            ev,
        )
    } else {
        Finding::new(
            NotMet,
            "Exclusion does not apply: organ function adequate",
            ev,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cockcroft_gault_matches_hand_calculation() {
        // 60 y, 70 kg, creatinine 88.42 µmol/L = 1.0 mg/dL: (80 × 70)/72 = 77.78; × 0.85 = 66.11.
        let v = cockcroft_gault_ml_min(60, 70.0, 88.42, true);
        assert!((v - 66.111).abs() < 0.01, "{v}");
        let m = cockcroft_gault_ml_min(60, 70.0, 88.42, false);
        assert!((m - 77.778).abs() < 0.01, "{m}");
    }

    #[test]
    fn full_years_counts_birthdays() {
        let d = |y, m, dd| NaiveDate::from_ymd_opt(y, m, dd).unwrap();
        assert_eq!(full_years(d(2026, 3, 10), d(2027, 3, 9)), 0);
        assert_eq!(full_years(d(2026, 3, 10), d(2027, 3, 10)), 1);
    }
}
