//! The baseline CT form of the response page: target and non-target lesions with the
//! qualifiers RECIST 1.1 §3.1.3 needs (bone with or without a soft-tissue component,
//! cystic, previously irradiated), and its translation into the `tumour-baseline`
//! command. The protocol decides measurability; the form only says what it will check,
//! with the size minima of the current settings.

use std::collections::BTreeMap;

use maud::{Markup, html};
use protocol::Settings;
use protocol::recist::{BoneLesion, CysticLesion, Role as LesionRole};
use protocol::response::{TumourBaseline, TumourLesion};
use serde_json::{Value, json};

use super::{NON_TARGET_ROWS, TARGET_ROWS, number, text};
use crate::auth::CurrentUser;
use crate::error::ApiError;
use trial::response::ResponseView;

/// Bone choices: (form value, label).
const BONE: [(&str, &str); 4] = [
    ("", "not bone"),
    (
        "soft_tissue_component",
        "bone, with an identifiable soft-tissue component (measure that component)",
    ),
    (
        "without_soft_tissue",
        "bone, without a soft-tissue component (not measurable)",
    ),
    ("blastic", "bone, blastic (not measurable)"),
];

/// Cystic choices: (form value, label).
const CYSTIC: [(&str, &str); 3] = [
    ("", "not cystic"),
    (
        "cystic_metastasis",
        "cystic metastasis (measurable if large enough; solid lesions are preferred as targets)",
    ),
    (
        "simple_cyst",
        "simple cyst (not a tumour lesion: leave it out)",
    ),
];

/// Irradiation choices: (form value, label).
const IRRADIATED: [(&str, &str); 3] = [
    ("", "not irradiated"),
    (
        "irradiated",
        "previously irradiated, no progression since (not measurable)",
    ),
    ("progressed", "previously irradiated, progressed since"),
];

fn bone_code(b: Option<BoneLesion>) -> &'static str {
    match b {
        None => "",
        Some(BoneLesion::SoftTissueComponent) => "soft_tissue_component",
        Some(BoneLesion::WithoutSoftTissue) => "without_soft_tissue",
        Some(BoneLesion::Blastic) => "blastic",
    }
}

fn cystic_code(c: Option<CysticLesion>) -> &'static str {
    match c {
        None => "",
        Some(CysticLesion::CysticMetastasis) => "cystic_metastasis",
        Some(CysticLesion::SimpleCyst) => "simple_cyst",
    }
}

fn irradiated_code(l: &TumourLesion) -> &'static str {
    match (l.irradiated, l.progressed_after_irradiation) {
        (false, _) => "",
        (true, false) => "irradiated",
        (true, true) => "progressed",
    }
}

/// Baseline form values from the recorded baseline (so a correction starts from it).
pub(super) fn baseline_values(b: &TumourBaseline) -> BTreeMap<String, String> {
    let mut v = BTreeMap::new();
    v.insert("scan_date".into(), b.scan_date.to_string());
    v.insert(
        "slice_thickness_mm".into(),
        b.slice_thickness_mm.to_string(),
    );
    if let Some(t) = b.treatment_start {
        v.insert("treatment_start".into(), t.to_string());
    }
    let (mut t, mut n) = (0, 0);
    for l in &b.lesions {
        let prefix = match l.role {
            LesionRole::Target => {
                t += 1;
                format!("t{t}")
            }
            LesionRole::NonTarget => {
                n += 1;
                format!("n{n}")
            }
        };
        v.insert(format!("{prefix}_id"), l.id.clone());
        v.insert(format!("{prefix}_organ"), l.organ.clone());
        if l.node {
            v.insert(format!("{prefix}_node"), "yes".into());
        }
        if let Some(d) = l.diameter_mm {
            v.insert(format!("{prefix}_mm"), d.to_string());
        }
        v.insert(format!("{prefix}_bone"), bone_code(l.bone).into());
        v.insert(format!("{prefix}_cystic"), cystic_code(l.cystic).into());
        v.insert(format!("{prefix}_rt"), irradiated_code(l).into());
    }
    v
}

/// A select of `choices` named `name`, with `current` selected.
fn choice(name: String, label: String, choices: &[(&str, &str)], current: &str) -> Markup {
    html! {
        select name=(name) aria-label=(label) {
            @for (value, text) in choices {
                option value=(value) selected[*value == current] { (text) }
            }
        }
    }
}

/// The qualifier cells of one lesion row (`t1`, `n2`, …).
fn qualifier_cells(prefix: &str, what: &str, v: &dyn Fn(String) -> String) -> Markup {
    html! {
        td { (choice(format!("{prefix}_bone"), format!("{what} bone lesion"), &BONE, &v(format!("{prefix}_bone")))) }
        td { (choice(format!("{prefix}_cystic"), format!("{what} cystic lesion"), &CYSTIC, &v(format!("{prefix}_cystic")))) }
        td { (choice(format!("{prefix}_rt"), format!("{what} previously irradiated"), &IRRADIATED, &v(format!("{prefix}_rt")))) }
    }
}

/// What the protocol will check, with the current settings' minima.
fn measurable_help(s: &Settings) -> Markup {
    let l = &s.lesions;
    html! {
        p.help #measurable-help {
            "A target must be measurable (RECIST 1.1 §3.1): a longest diameter of at least "
            (l.measurable_min_longest_mm) " mm (twice the slice thickness when slices are thicker than "
            (l.max_slice_for_fixed_minimum_mm) " mm), a lymph node at least "
            (l.node_min_short_axis_mm) " mm short axis; a bone lesion only through an identifiable soft-tissue component of that size; a lesion in a previously irradiated field only if it has progressed since"
            @if !s.recist.irradiated_measurable_if_progressed { " — not at all under this protocol" }
            ". Lesions that are not measurable are non-targets. A simple cyst is not a tumour lesion: leave it out."
        }
    }
}

/// The baseline form; `values` fill it (the recorded baseline or what was typed).
pub(super) fn baseline_form(
    user: &CurrentUser,
    id: &str,
    view: &ResponseView,
    values: &BTreeMap<String, String>,
    settings: &Settings,
) -> Markup {
    let v = |k: String| values.get(&k).cloned().unwrap_or_default();
    let action = format!("/participants/{id}/response/baseline");
    let correcting = view.baseline.as_ref();
    html! {
        form.card #baseline-form method="post" action=(action) {
            input type="hidden" name="csrf" value=(user.csrf);
            input type="hidden" name="expected_version" value=(view.version);
            @if let Some(b) = correcting {
                input type="hidden" name="corrects" value=(b.entry_id);
            }
            div.field {
                label for="b_scan_date" { "Scan date" }
                input type="date" id="b_scan_date" name="scan_date" required value=(v("scan_date".into()));
            }
            div.field {
                label for="b_slice" { "CT slice thickness, mm" }
                input type="number" step="0.1" min="0.1" id="b_slice" name="slice_thickness_mm" required value=(v("slice_thickness_mm".into()));
            }
            div.field {
                label for="b_start" { "T-DXd start (cycle 1 day 1), if known" }
                input type="date" id="b_start" name="treatment_start" value=(v("treatment_start".into()));
                small.help { "Stable disease is timed from it; the scan date when empty." }
            }
            (measurable_help(settings))
            table #baseline-targets {
                caption { "Target lesions (at most 5, at most 2 per organ; measurable)" }
                thead { tr { th { "Id" } th { "Organ" } th { "Lymph node" } th { "Bone lesion" } th { "Cystic lesion" } th { "Previously irradiated" } th { "Diameter, mm (node: short axis)" } } }
                tbody {
                    @for k in 1..=TARGET_ROWS {
                        @let id = v(format!("t{k}_id"));
                        @let what = format!("target {k}");
                        tr {
                            td { input type="text" name={ "t" (k) "_id" } aria-label={ (what) " id" } size="5" value=(if id.is_empty() { format!("T{k}") } else { id }); }
                            td { input type="text" name={ "t" (k) "_organ" } aria-label={ (what) " organ" } maxlength="80" value=(v(format!("t{k}_organ"))); }
                            td { input type="checkbox" name={ "t" (k) "_node" } value="yes" aria-label={ (what) " is a lymph node" } checked[v(format!("t{k}_node")) == "yes"]; }
                            (qualifier_cells(&format!("t{k}"), &what, &v))
                            td { input type="number" step="0.1" min="0" name={ "t" (k) "_mm" } aria-label={ (what) " diameter in mm" } value=(v(format!("t{k}_mm"))); }
                        }
                    }
                }
            }
            table #baseline-non-targets {
                caption { "Non-target lesions" }
                thead { tr { th { "Id" } th { "Organ" } th { "Lymph node" } th { "Bone lesion" } th { "Cystic lesion" } th { "Previously irradiated" } } }
                tbody {
                    @for k in 1..=NON_TARGET_ROWS {
                        @let id = v(format!("n{k}_id"));
                        @let what = format!("non-target {k}");
                        tr {
                            td { input type="text" name={ "n" (k) "_id" } aria-label={ (what) " id" } size="5" value=(if id.is_empty() { format!("NT{k}") } else { id }); }
                            td { input type="text" name={ "n" (k) "_organ" } aria-label={ (what) " organ" } maxlength="80" value=(v(format!("n{k}_organ"))); }
                            td { input type="checkbox" name={ "n" (k) "_node" } value="yes" aria-label={ (what) " is a lymph node" } checked[v(format!("n{k}_node")) == "yes"]; }
                            (qualifier_cells(&format!("n{k}"), &what, &v))
                        }
                    }
                }
            }
            p.muted { "Rows without an organ are left out." }
            @if correcting.is_some() {
                div.field {
                    label for="b_reason" { "Reason for the correction" }
                    input type="text" id="b_reason" name="correction_reason" required maxlength="300" value=(v("correction_reason".into()));
                }
                button type="submit" { "Save the corrected baseline" }
            } @else {
                button type="submit" { "Save the baseline" }
            }
        }
    }
}

/// The value of a select, refused when it is not one of `choices`.
fn chosen<'a>(
    values: &'a BTreeMap<String, String>,
    key: &str,
    choices: &[(&str, &str)],
    what: &str,
) -> Result<Option<&'a str>, ApiError> {
    match text(values, key) {
        None => Ok(None),
        Some(s) if choices.iter().any(|(v, _)| *v == s) => Ok(Some(s)),
        Some(s) => Err(ApiError::BadRequest(format!(
            "{what}: {s:?} is not one of the choices"
        ))),
    }
}

/// One form row as a lesion of the `tumour-baseline` command.
fn lesion(
    values: &BTreeMap<String, String>,
    prefix: &str,
    organ: &str,
    role: &str,
) -> Result<Value, ApiError> {
    let id = text(values, &format!("{prefix}_id")).unwrap_or_default();
    let what = format!("lesion {id}");
    let mm = if role == "target" {
        number(values, &format!("{prefix}_mm"), &what)?
    } else {
        None
    };
    let rt = chosen(values, &format!("{prefix}_rt"), &IRRADIATED, &what)?;
    Ok(json!({
        "id": id,
        "organ": organ,
        "node": values.get(&format!("{prefix}_node")).map(String::as_str) == Some("yes"),
        "role": role,
        "diameter_mm": mm,
        "bone": chosen(values, &format!("{prefix}_bone"), &BONE, &what)?,
        "cystic": chosen(values, &format!("{prefix}_cystic"), &CYSTIC, &what)?,
        "irradiated": rt.is_some(),
        "progressed_after_irradiation": rt == Some("progressed"),
    }))
}

/// The baseline form as the `tumour-baseline` command's data.
pub(super) fn baseline_data(values: &BTreeMap<String, String>) -> Result<Value, ApiError> {
    let mut lesions = Vec::new();
    for (prefix, rows, role) in [
        ("t", TARGET_ROWS, "target"),
        ("n", NON_TARGET_ROWS, "non_target"),
    ] {
        for k in 1..=rows {
            let prefix = format!("{prefix}{k}");
            let Some(organ) = text(values, &format!("{prefix}_organ")) else {
                continue;
            };
            lesions.push(lesion(values, &prefix, organ, role)?);
        }
    }
    Ok(json!({
        "scan_date": text(values, "scan_date"),
        "slice_thickness_mm": number(values, "slice_thickness_mm", "slice thickness")?,
        "treatment_start": text(values, "treatment_start"),
        "lesions": lesions,
        "corrects": text(values, "corrects"),
        "correction_reason": text(values, "correction_reason"),
    }))
}
