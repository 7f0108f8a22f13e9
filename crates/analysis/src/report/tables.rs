//! The report's tables.

use std::fmt::Write as _;

use super::esc;
use crate::analyses::{Analyses, Summary};
use crate::dataset::Dataset;
use crate::stats::{Interval, NotEstimable, Proportion};

/// A number with `d` decimals.
fn num(v: f64, d: usize) -> String {
    if v.is_finite() {
        format!("{v:.d$}")
    } else {
        "–".to_string()
    }
}

fn opt(v: Option<f64>, d: usize) -> String {
    v.map_or_else(|| "–".to_string(), |v| num(v, d))
}

fn interval(i: &Interval, d: usize) -> String {
    format!("{}–{}", num(i.lower, d), num(i.upper, d))
}

fn not_estimable(e: &NotEstimable) -> String {
    format!(
        "<span class=\"ne\">not estimable: {}</span>",
        esc(&e.reason)
    )
}

/// "k/n (p %; Wilson a–b %; Clopper–Pearson c–d %)".
fn prop(p: &Result<Proportion, NotEstimable>) -> String {
    match p {
        Ok(p) => format!(
            "{}/{} = {} % (95 % CI Wilson {} %, Clopper–Pearson {} %)",
            p.successes,
            p.n,
            num(p.estimate * 100.0, 1),
            interval(
                &Interval {
                    lower: p.wilson.lower * 100.0,
                    upper: p.wilson.upper * 100.0
                },
                1
            ),
            interval(
                &Interval {
                    lower: p.clopper_pearson.lower * 100.0,
                    upper: p.clopper_pearson.upper * 100.0
                },
                1
            )
        ),
        Err(e) => not_estimable(e),
    }
}

fn row(out: &mut String, cells: &[String]) {
    out.push_str("<tr>");
    for c in cells {
        let _ = write!(out, "<td>{c}</td>");
    }
    out.push_str("</tr>");
}

fn head(out: &mut String, cells: &[&str]) {
    out.push_str("<table><thead><tr>");
    for c in cells {
        let _ = write!(out, "<th scope=\"col\">{}</th>", esc(c));
    }
    out.push_str("</tr></thead><tbody>");
}

fn end(out: &mut String) {
    out.push_str("</tbody></table>");
}

pub(super) fn provenance(out: &mut String, study: &crate::source::StudyInfo) {
    let c = &study.cut_off;
    out.push_str("<table class=\"meta\"><tbody>");
    for (k, v) in [
        ("Data cut-off", c.as_of.to_rfc3339()),
        (
            "Audit chain head",
            format!("event {} · <code>{}</code>", c.head_seq, esc(&c.head_hash)),
        ),
        ("Settings version", c.settings_version.to_string()),
        ("Protocol", esc(&c.protocol_version)),
        ("Computed by", esc(&c.software_version)),
        (
            "Sites",
            study
                .sites
                .iter()
                .map(|s| format!("{} ({})", esc(&s.name), esc(&s.code)))
                .collect::<Vec<_>>()
                .join(", "),
        ),
    ] {
        let _ = write!(out, "<tr><td>{k}</td><td>{v}</td></tr>");
    }
    out.push_str(
        "</tbody></table><p>Every number below is computed from the audit \
        trail up to the chain head above: the same cut-off gives the same report, byte for \
        byte.</p>",
    );
}

pub(super) fn counts(out: &mut String, a: &Analyses) {
    let c = &a.counts;
    head(out, &["Step", "Participants"]);
    for (k, v) in [
        ("Registered", c.registered),
        ("Screen failed", c.screen_failed),
        ("Enrolled", c.enrolled),
        ("Baseline HER2-PET read", c.baseline_pet),
        ("Biopsy HER2 category known", c.her2_known),
        ("Allocated to arm 1 (T-DXd)", c.arm1),
        ("Allocated to arm 2 (follow-up)", c.arm2),
        ("Given T-DXd", c.on_tdxd),
        ("Progressed", c.progressed),
        ("Died", c.died),
    ] {
        row(out, &[k.to_string(), v.to_string()]);
    }
    end(out);
}

/// "a–b", or one dash when either end is missing.
fn range(a: Option<f64>, b: Option<f64>, d: usize) -> String {
    match (a, b) {
        (Some(a), Some(b)) => format!("{}–{}", num(a, d), num(b, d)),
        _ => "–".to_string(),
    }
}

fn summary(s: &Summary) -> Vec<String> {
    vec![
        s.n.to_string(),
        opt(s.median, 2),
        range(s.q1, s.q3, 2),
        range(s.min, s.max, 2),
    ]
}

pub(super) fn by_category(out: &mut String, a: &Analyses) {
    head(
        out,
        &[
            "HER2 category",
            "SUVmax of",
            "n",
            "Median",
            "Quartiles",
            "Range",
        ],
    );
    for c in &a.diagnostic.by_category {
        for (what, s) in [
            ("patient (highest)", &c.patient_suv_max),
            ("biopsied lesion", &c.biopsied_suv_max),
        ] {
            let mut cells = vec![esc(c.label), what.to_string()];
            cells.extend(summary(s));
            row(out, &cells);
        }
    }
    end(out);
}

fn roc_cells(r: &Result<crate::stats::Roc, NotEstimable>) -> Vec<String> {
    match r {
        Ok(r) => vec![
            format!("{} vs {}", r.n_positive, r.n_negative),
            num(r.auc, 3),
            num(r.se, 3),
            match &r.ci {
                Ok(i) => interval(i, 3),
                Err(e) => not_estimable(e),
            },
            format!(
                "{} (sens. {}, spec. {})",
                num(r.youden.threshold, 2),
                num(r.youden.sensitivity, 2),
                num(r.youden.specificity, 2)
            ),
        ],
        Err(e) => vec![
            not_estimable(e),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
        ],
    }
}

pub(super) fn diagnostic(out: &mut String, a: &Analyses) {
    let d = &a.diagnostic;
    head(
        out,
        &[
            "ROC of",
            "Expressing vs zero",
            "AUC",
            "SE (DeLong)",
            "95 % CI",
            "Youden threshold",
        ],
    );
    let mut cells = vec!["Per-patient highest SUVmax".to_string()];
    cells.extend(roc_cells(&d.roc_patient));
    row(out, &cells);
    let mut cells = vec!["Biopsied lesion SUVmax".to_string()];
    cells.extend(roc_cells(&d.roc_biopsied));
    row(out, &cells);
    end(out);
    head(
        out,
        &["At the protocol threshold", "Sensitivity", "Specificity"],
    );
    for (what, t) in [
        ("Per-patient highest SUVmax", &d.at_threshold_patient),
        ("Biopsied lesion SUVmax", &d.at_threshold_biopsied),
    ] {
        row(
            out,
            &[
                format!("{what} ≥ {}", num(t.threshold, 1)),
                prop(&t.sensitivity),
                prop(&t.specificity),
            ],
        );
    }
    end(out);
    let t = d.agreement.table;
    out.push_str("<p>Agreement of the biopsied lesion's PET status with its pathology:</p>");
    head(out, &["", "Biopsy HER2-zero", "Biopsy HER2-expressing"]);
    row(
        out,
        &[
            "PET not avid".into(),
            t[0][0].to_string(),
            t[0][1].to_string(),
        ],
    );
    row(
        out,
        &["PET avid".into(), t[1][0].to_string(), t[1][1].to_string()],
    );
    end(out);
    let _ = write!(
        out,
        "<p>Cohen's kappa: {}</p>",
        match &d.agreement.kappa {
            Ok(k) => format!(
                "{} (SE {}, 95 % CI {}), observed agreement {} %, n = {}",
                num(k.kappa, 3),
                num(k.se, 3),
                interval(&k.ci, 3),
                num(k.observed_agreement * 100.0, 1),
                k.n
            ),
            Err(e) => not_estimable(e),
        }
    );
}

pub(super) fn phenotypes(out: &mut String, a: &Analyses, ds: &Dataset) {
    let p = &a.diagnostic.phenotypes;
    let _ = write!(
        out,
        "<p>A lesion is HER2-avid when its SUVmax is at least {}. Of {} participants with \
         reader-confirmed lesions: all avid {}, mixed {}, none avid {}. Median fraction of \
         lesions avid {}; of metabolic tumour volume avid {}.</p>",
        num(ds.rules.avid_suvmax_threshold, 1),
        p.n,
        p.all_avid,
        p.mixed,
        p.none_avid,
        opt(p.avid_fraction_by_count.median, 2),
        opt(p.avid_fraction_by_mtv.median, 2),
    );
}

pub(super) fn response(out: &mut String, a: &Analyses) {
    let r = &a.response;
    head(
        out,
        &["Objective response (CR or PR, RECIST 1.1)", "Estimate"],
    );
    row(
        out,
        &[
            format!("All evaluable ({} of {} in arm 1)", r.evaluable, r.arm1),
            prop(&r.objective_response),
        ],
    );
    row(
        out,
        &[
            "Baseline PET-positive".into(),
            prop(&r.objective_response_pet_positive),
        ],
    );
    row(
        out,
        &[
            "Baseline PET-negative".into(),
            prop(&r.objective_response_pet_negative),
        ],
    );
    end(out);
    let mut cells = vec!["ROC of baseline SUVmax for objective response".to_string()];
    cells.extend(roc_cells(&r.roc_response));
    head(
        out,
        &[
            "",
            "Responders vs not",
            "AUC",
            "SE (DeLong)",
            "95 % CI",
            "Youden threshold",
        ],
    );
    row(out, &cells);
    end(out);
}

pub(super) fn pfs(out: &mut String, a: &Analyses) {
    head(
        out,
        &[
            "Group",
            "n",
            "Events",
            "Median (months)",
            "95 % CI (months)",
        ],
    );
    let m = |v: Option<f64>| {
        v.map_or_else(
            || "not reached".to_string(),
            |d| num(d / crate::dataset::DAYS_PER_MONTH, 1),
        )
    };
    for g in &a.pfs.groups {
        let (median, ci) = match &g.km {
            Ok(k) => (
                m(k.median),
                format!("{}–{}", m(k.median_ci.0), m(k.median_ci.1)),
            ),
            Err(e) => (not_estimable(e), String::new()),
        };
        row(
            out,
            &[
                esc(&g.label),
                g.n.to_string(),
                g.events.to_string(),
                median,
                ci,
            ],
        );
    }
    end(out);
    let _ = write!(
        out,
        "<p>Log-rank test: {}</p><p>{}</p>",
        match &a.pfs.log_rank {
            Ok(l) => format!(
                "χ² = {} with {} degree(s) of freedom, p = {}",
                num(l.chi_squared, 3),
                l.degrees_of_freedom,
                num(l.p_value, 4)
            ),
            Err(e) => not_estimable(e),
        },
        esc(a.pfs.rule)
    );
}

pub(super) fn safety(out: &mut String, a: &Analyses) {
    head(
        out,
        &[
            "Group",
            "Participants",
            "Any AE",
            "Grade ≥ 3",
            "ILD/pneumonitis",
            "LVEF decrease",
        ],
    );
    for s in &a.safety.arms {
        row(
            out,
            &[
                esc(&s.label),
                s.participants.to_string(),
                s.with_any.to_string(),
                s.with_grade3_plus.to_string(),
                s.with_ild.to_string(),
                s.with_lvef_decrease.to_string(),
            ],
        );
    }
    end(out);
    for s in a.safety.arms.iter().filter(|s| !s.terms.is_empty()) {
        let _ = write!(
            out,
            "<h3>{}: adverse events by worst grade</h3>",
            esc(&s.label)
        );
        head(
            out,
            &[
                "CTCAE term",
                "System organ class",
                "G1",
                "G2",
                "G3",
                "G4",
                "G5",
                "Any",
            ],
        );
        for t in &s.terms {
            let mut cells = vec![esc(&t.term), esc(&t.soc)];
            cells.extend(t.by_worst_grade.iter().map(|n| n.to_string()));
            cells.push(t.any_grade.to_string());
            row(out, &cells);
        }
        end(out);
    }
    out.push_str("<h3>Serious adverse events</h3>");
    if a.safety.serious.is_empty() {
        out.push_str("<p>None recorded.</p>");
        return;
    }
    head(out, &["Participant", "Arm", "Term", "Worst grade", "Onset"]);
    for s in &a.safety.serious {
        row(
            out,
            &[
                esc(&s.study_id),
                s.arm
                    .map_or("–", |a| match a {
                        protocol::Arm::Arm1 => "1",
                        protocol::Arm::Arm2 => "2",
                    })
                    .to_string(),
                esc(&s.term),
                s.grade.to_string(),
                s.onset.to_string(),
            ],
        );
    }
    end(out);
}

pub(super) fn listing(out: &mut String, ds: &Dataset) {
    out.push_str("<div class=\"wide\">");
    head(
        out,
        &[
            "Participant",
            "Site",
            "State",
            "Age",
            "HER2 (biopsy)",
            "Arm",
            "SUVmax (patient)",
            "Biopsied lesion",
            "Phenotype",
            "PET2 change %",
            "Best response",
            "Best change %",
            "PFS (days)",
            "AEs",
            "Deviations",
        ],
    );
    for r in &ds.participants {
        row(
            out,
            &[
                esc(&r.study_id),
                esc(&r.site),
                esc(&r.state),
                r.age_at_consent.map_or("–".into(), |a| a.to_string()),
                r.her2_category.map_or("–", |c| c.label()).to_string(),
                r.arm
                    .map_or("–", |a| match a {
                        protocol::Arm::Arm1 => "1",
                        protocol::Arm::Arm2 => "2",
                    })
                    .to_string(),
                opt(r.baseline_suv_max, 2),
                r.biopsied.as_ref().map_or("–".into(), |b| {
                    format!("{} {}", esc(&b.label), opt(b.suv_max, 2))
                }),
                r.phenotype
                    .as_ref()
                    .map_or("–", |p| p.class.label())
                    .to_string(),
                opt(r.pet2_change_pct, 1),
                r.best_response.as_deref().map_or("–".into(), esc),
                opt(r.best_change_pct, 1),
                r.pfs.as_ref().map_or("–".into(), |t| {
                    format!("{}{}", t.days, if t.event { "" } else { "+" })
                }),
                r.adverse_events.len().to_string(),
                r.deviations.to_string(),
            ],
        );
    }
    end(out);
    out.push_str("</div><p>PFS days with + are censored.</p>");
}

pub(super) fn methods(out: &mut String, a: &Analyses) {
    let roc_method = match &a.diagnostic.roc_patient {
        Ok(r) => r.ci_method,
        Err(_) => crate::stats::roc::ROC_CI_METHOD,
    };
    let _ = write!(
        out,
        "<h2 id=\"methods\">Methods</h2><ul>\
         <li>HER2-expressing: biopsy category {} or higher; HER2-avid: SUVmax ≥ {}.</li>\
         <li>AUC: Mann–Whitney statistic; {}.</li>\
         <li>Proportions: Wilson score and Clopper–Pearson exact intervals.</li>\
         <li>Cohen's kappa with the asymptotic standard error of Fleiss, Cohen and Everitt (1969).</li>\
         <li>Kaplan–Meier: {}; log-rank test (Mantel).</li>\
         <li>All intervals are two-sided 95 %. An estimate that the data cannot support is \
         shown as “not estimable” with the reason.</li></ul>",
        esc(a.rules.expressing_from.label()),
        num(a.rules.avid_suvmax_threshold, 1),
        esc(roc_method),
        esc(crate::stats::survival::KM_CI_METHOD),
    );
}
