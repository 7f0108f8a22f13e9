//! The PET response read PET1 → PET2 on the PET2 page (PROTOCOL §10, PERCIST-style): the
//! proposed comparison with the reader's form (one decision per PET2 candidate, posted as
//! the `pet-response` command), the confirmed read, and the short summary the response
//! page shows beside RECIST. Pure: data in, HTML out (and form values in, command data out).

use std::collections::BTreeMap;

use maud::{Markup, html};
use protocol::pet_response::{
    HottestChange, LesionPair, Pet2Decision, PetResponseProposal, PetResponseRead, ProposalRow,
    label,
};
use serde_json::{Value, json};
use trial::Capability;
use trial::pet_response::PetResponseView;

use super::Redo;
use super::pet_view::Ctx;
use crate::error::ApiError;

/// The form's name (its URL segment and the `done` notice).
pub(super) const FORM: &str = "response";

fn suv(v: f64) -> String {
    format!("{v:.2}")
}

fn pct(v: Option<f64>) -> String {
    v.map(|x| format!("{x:+.1} %"))
        .unwrap_or_else(|| "—".into())
}

fn hottest_line(h: &HottestChange) -> Markup {
    html! {
        "Hottest lesion SUVpeak: PET1 " (h.pet1_lesion) " " (suv(h.pet1_suv_peak)) " → PET2 "
        @match (&h.pet2_lesion, h.pet2_suv_peak) {
            (Some(l), Some(p)) => { (l) " " (suv(p)) }
            _ => { "no lesion" }
        }
        " (" (pct(h.change_pct)) ", " (format!("{:+.2}", h.change_suv)) " SUV)"
    }
}

/// The form value of a decision: `same:L1`, `new` or `not`.
fn choice(decision: Pet2Decision, pet1: Option<&str>) -> String {
    match (decision, pet1) {
        (Pet2Decision::SameLesion, Some(l)) => format!("same:{l}"),
        (Pet2Decision::NewLesion, _) => "new".into(),
        (Pet2Decision::NotALesion, _) => "not".into(),
        (Pet2Decision::SameLesion, None) => String::new(),
    }
}

/// What the form starts with: the values typed into a refused form, else the confirmed
/// read's decisions, else the proposal.
fn prefill(
    o: &PetResponseProposal,
    view: &PetResponseView,
    redo: &Redo,
) -> BTreeMap<String, String> {
    let typed = redo.values(FORM);
    if !typed.is_empty() {
        return typed;
    }
    let mut v = BTreeMap::new();
    match view
        .confirmed
        .as_ref()
        .filter(|c| c.pet2_quantification_id == o.pet2_quantification_id)
    {
        Some(c) => {
            for d in &c.decisions {
                v.insert(
                    format!("decision_{}", d.candidate),
                    choice(d.decision, d.pet1_lesion.as_deref()),
                );
            }
            if c.background_measured {
                v.insert("background_suv".into(), c.background_suv.to_string());
            }
        }
        None => {
            for r in &o.rows {
                if let Some(d) = r.proposed {
                    let pet1 = r.pair.as_ref().map(|p| p.pet1_lesion.as_str());
                    v.insert(format!("decision_{}", r.candidate), choice(d, pet1));
                }
            }
        }
    }
    v
}

fn row(r: &ProposalRow, o: &PetResponseProposal, chosen: &str, may: bool) -> Markup {
    let n = r.candidate;
    html! {
        tr data-candidate=(n) {
            td { strong { (label(n)) } }
            td { (suv(r.lesion.suv_max)) }
            td {
                @if let Some(organ) = &r.physiological { span.status.missing { "physiological: " (organ) } }
                @else if r.her2_avid { span.status.met { "HER2-avid" } }
            }
            @match &r.pair {
                Some(p) => {
                    td { (p.pet1_lesion) @if let Some(d) = p.proposed_distance_mm { span.muted { " (" (d) " mm)" } } }
                    td { (suv(p.suv_peak[0])) " → " (suv(p.suv_peak[1])) }
                    td { (pct(p.suv_peak_change_pct)) }
                }
                None => {
                    td { @if r.proposed.is_none() { span.status.missing { "no match: new lesion or not?" } } @else { "—" } }
                    td { "— → " (suv(r.lesion.suv_peak)) }
                    td { "—" }
                }
            }
            @if may {
                td { select name={ "decision_" (n) } aria-label={ "decision on PET2 " (label(n)) } {
                    option value="" selected[chosen.is_empty()] { "— decide —" }
                    @for l in &o.pet1_lesions {
                        @let v = format!("same:{}", l.label);
                        option value=(v) selected[chosen == v] {
                            "same as PET1 " (l.label) " (SUVpeak " (suv(l.suv_peak)) @if let Some(s) = &l.anatomical_site { ", " (s) } ")"
                        }
                    }
                    option value="new" selected[chosen == "new"] { "new lesion" }
                    option value="not" selected[chosen == "not"] { "not a lesion" }
                } }
            }
        }
    }
}

fn proposal_form(
    ctx: &Ctx,
    view: &PetResponseView,
    o: &PetResponseProposal,
    redo: &Redo,
) -> Markup {
    let may = ctx.user.role.may(Capability::ReviewImaging);
    let values = prefill(o, view, redo);
    let action = format!("/participants/{}/pet/pet2/{FORM}", ctx.id);
    let table = html! {
        table #pet-response-proposal {
            thead { tr {
                th { "PET2" } th { "SUVmax" } th { "Flag" } th { "Proposed PET1 match" } th { "SUVpeak PET1 → PET2" } th { "% change" }
                @if may { th { "Reader's decision" } }
            } }
            tbody { @for r in &o.rows { (row(r, o, values.get(&format!("decision_{}", r.candidate)).map_or("", String::as_str), may)) } }
        }
    };
    html! {
        p.muted {
            "PET1 lesions: " @if let Some(r) = &o.pet1_review_id { "confirmed in " (r) } @else { "PET1 candidates not flagged physiological (PET1 was not reviewed)" }
            " · " (o.pet1_quantification_id) " → " (o.pet2_quantification_id) " · matches proposed by nearest centroid within 20 mm, "
            @match &o.aligned_on { Some(a) => { "aligned on the " (a) }, None => { "scanner coordinates (no liver candidate on both scans)" } }
            ". " (hottest_line(&o.hottest)) "; provisional category " strong { (o.provisional_category.code()) } " (no lesion counted as new until you say so)."
        }
        @if !o.not_seen_on_pet2.is_empty() { p.muted { "PET1 lesions without a proposed match: " (o.not_seen_on_pet2.join(", ")) "." } }
        @if may {
            @if let Some(p) = redo.problem(FORM) { (p) }
            form.card #pet-response method="post" action=(action) {
                input type="hidden" name="csrf" value=(ctx.user.csrf);
                input type="hidden" name="expected_version" value=(view.version);
                input type="hidden" name="pet2_quantification_id" value=(o.pet2_quantification_id);
                p { "Decide every PET2 candidate: the same lesion as a PET1 lesion, a new lesion (progressive metabolic disease), or not a lesion. An unmatched hot spot is new only when you say so." }
                (table)
                div.field {
                    label for="background_suv" { "Background SUV on PET2 (optional)" }
                    input type="number" step="0.01" min="0" id="background_suv" name="background_suv" value=(values.get("background_suv").cloned().unwrap_or_default());
                    small.help { "E.g. blood-pool SUVmean; complete metabolic response needs every lesion at or below it. Empty: PET2's candidate threshold." }
                }
                div.field {
                    label for="pet_response_note" { "Note" }
                    input type="text" id="pet_response_note" name="note" maxlength="500" value=(values.get("note").cloned().unwrap_or_default());
                }
                button type="submit" { @if view.confirmed.is_some() { "Confirm a new read" } @else { "Confirm the PET response" } }
            }
        } @else {
            (table)
        }
    }
}

fn pairs_table(pairs: &[LesionPair]) -> Markup {
    html! {
        table #pet-response-pairs {
            thead { tr { th { "PET1" } th { "PET2" } th { "SUVpeak PET1 → PET2" } th { "% change SUVpeak" } th { "SUVmax PET1 → PET2" } th { "% change SUVmax" } } }
            tbody {
                @for p in pairs {
                    tr {
                        td { (p.pet1_lesion) } td { (p.pet2_lesion) }
                        td { (suv(p.suv_peak[0])) " → " (suv(p.suv_peak[1])) } td { (pct(p.suv_peak_change_pct)) }
                        td { (suv(p.suv_max[0])) " → " (suv(p.suv_max[1])) } td { (pct(p.suv_max_change_pct)) }
                    }
                }
            }
        }
    }
}

fn confirmed_card(ctx: &Ctx, r: &PetResponseRead, reads: usize) -> Markup {
    html! {
        div.notice #pet-response-confirmed data-category=(r.category.code()) {
            "PET response " (r.response_id) ": " strong { (r.category.code()) " — " (r.category.label()) } ". "
            (hottest_line(&r.hottest)) "."
            @if !r.new_lesions.is_empty() { " New lesions: " (r.new_lesions.join(", ")) "." }
            @if !r.not_seen_on_pet2.is_empty() { " Not seen on PET2: " (r.not_seen_on_pet2.join(", ")) "." }
        }
        (pairs_table(&r.pairs))
        p.muted {
            "Background SUV " (suv(r.background_suv)) @if !r.background_measured { " (PET2 candidate threshold)" }
            " · " (r.algorithm_version) " · settings v" (r.settings_version) " · " (ctx.user.local_time(r.confirmed_at))
            @if let Some(s) = &r.supersedes { " · replaces " (s) }
            @if reads > 1 { " · " (reads) " reads in the history" }
            @if let Some(n) = &r.note { " · " (n) }
        }
    }
}

/// The PET2 page's PET response section: the confirmed read, then the proposal (with the
/// reader's form), or why no read is possible yet.
pub(super) fn section(ctx: &Ctx, view: &PetResponseView, redo: &Redo) -> Markup {
    html! {
        h2 #pet-response-heading { "PET response PET1 → PET2 (PERCIST-style, exploratory)" }
        @if let Some(r) = &view.confirmed { (confirmed_card(ctx, r, view.history.len())) }
        @match (&view.proposal, &view.unavailable) {
            (Some(o), _) => {
                @if view.confirmed.is_some() {
                    details open[redo.form == FORM] { summary { "Read again" } (proposal_form(ctx, view, o, redo)) }
                } @else {
                    (proposal_form(ctx, view, o, redo))
                }
            }
            (None, Some(why)) => { p.muted { (why.message) } }
            (None, None) => {}
        }
    }
}

/// The response page's summary beside RECIST: the confirmed PET response's category.
pub(super) fn summary(id: &str, read: Option<&PetResponseRead>) -> Markup {
    html! {
        section #pet-response-summary {
            h2 { "PET response (PERCIST-style, exploratory)" }
            @match read {
                Some(r) => {
                    p {
                        strong { (r.category.code()) } " — " (r.category.label()) ". " (hottest_line(&r.hottest)) ". "
                        span.muted { (r.response_id) " · " (r.algorithm_version) } " · "
                        a href={ "/participants/" (id) "/pet/pet2" } { "PET2 page" }
                    }
                }
                None => {
                    p.muted { "Not read yet: the reader confirms it on the " a href={ "/participants/" (id) "/pet/pet2" } { "PET2 page" } "." }
                }
            }
        }
    }
}

/// The reader's form as the `pet-response` command's data; an undecided candidate is left
/// out, so the protocol names it.
pub(super) fn form_data(values: &BTreeMap<String, String>) -> Result<Value, ApiError> {
    let get = |k: &str| values.get(k).map(|s| s.trim()).filter(|s| !s.is_empty());
    let mut numbers: Vec<u32> = values
        .keys()
        .filter_map(|k| k.strip_prefix("decision_")?.parse().ok())
        .collect();
    numbers.sort_unstable();
    let mut decisions = Vec::new();
    for n in numbers {
        let (decision, pet1) = match get(&format!("decision_{n}")) {
            None => continue,
            Some("new") => (Pet2Decision::NewLesion, None),
            Some("not") => (Pet2Decision::NotALesion, None),
            Some(other) => match other.strip_prefix("same:") {
                Some(l) => (Pet2Decision::SameLesion, Some(l)),
                None => {
                    return Err(ApiError::BadRequest(format!(
                        "PET2 {}: choose a PET1 lesion, new lesion or not a lesion",
                        label(n)
                    )));
                }
            },
        };
        decisions.push(json!({"candidate": n, "decision": decision, "pet1_lesion": pet1}));
    }
    let background =
        match get("background_suv") {
            None => None,
            Some(s) => Some(s.replace(',', ".").parse::<f64>().map_err(|_| {
                ApiError::BadRequest(format!("background SUV {s:?} is not a number"))
            })?),
        };
    Ok(json!({
        "pet2_quantification_id": get("pet2_quantification_id").unwrap_or_default(),
        "decisions": decisions,
        "background_suv": background,
        "note": get("note"),
    }))
}
