//! A participant's response history (PROTOCOL §10): the reader enters the baseline CT and
//! the follow-ups here; the RECIST 1.1 engine's result is shown per time point with the
//! best overall response and the sum-of-diameters curve. The forms post through the same
//! commands as the API (`tumour-baseline`, `tumour-assessment`); the baseline form, with
//! the RECIST qualifiers of each lesion, is in [`baseline_form`].

use std::collections::BTreeMap;

use axum::Router;
use axum::extract::{Path, RawForm, State};
use axum::response::Response;
use axum::routing::{get, post};
use maud::{Markup, html};
use protocol::recist::Role as LesionRole;
use protocol::response::{ResponseEvaluation, TumourBaseline};
use serde_json::{Value, json};

use trial::Capability;
use trial::response::{ResponseView, response_from};

use self::baseline_form::{baseline_data, baseline_form, baseline_values};
use super::response_chart::sum_chart;
use super::submit::command_request;
use super::{Redo, checked_form, done, error_page, page, page_try, page_with_status};
use crate::AppState;
use crate::auth::{CurrentUser, PageUser};
use crate::error::ApiError;

mod baseline_form;

/// Rows for target lesions (RECIST 1.1 §4.2: at most five).
const TARGET_ROWS: usize = 5;
/// Rows for non-target lesions.
const NON_TARGET_ROWS: usize = 5;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/participants/{id}/response", get(show))
        .route("/participants/{id}/response/baseline", post(baseline))
        .route("/participants/{id}/response/assessment", post(assessment))
}

fn opt(v: Option<f64>) -> String {
    v.map(|x| format!("{x:.1}")).unwrap_or_else(|| "—".into())
}

fn pct(v: Option<f64>) -> String {
    v.map(|x| format!("{x:+.1} %"))
        .unwrap_or_else(|| "—".into())
}

fn assessment_form(
    user: &CurrentUser,
    id: &str,
    view: &ResponseView,
    b: &TumourBaseline,
    values: &BTreeMap<String, String>,
) -> Markup {
    let v = |k: String| values.get(&k).cloned().unwrap_or_default();
    let action = format!("/participants/{id}/response/assessment");
    html! {
        form.card #assessment-form method="post" action=(action) {
            input type="hidden" name="csrf" value=(user.csrf);
            input type="hidden" name="expected_version" value=(view.version);
            div.field {
                label for="a_scan_date" { "Scan date" }
                input type="date" id="a_scan_date" name="scan_date" required value=(v("scan_date".into()));
            }
            table #assessment-lesions {
                thead { tr { th { "Lesion" } th { "Baseline" } th { "Finding" } th { "Diameter, mm" } } }
                tbody {
                    @for l in &b.lesions {
                        @let key = format!("l_{}", l.id);
                        @let found = v(key.clone());
                        tr {
                            td { (l.id) " · " (l.organ) @if l.node { " (node)" } }
                            @match l.role {
                                LesionRole::Target => {
                                    td { (opt(l.diameter_mm)) " mm" }
                                    td { select name=(key) aria-label={ (l.id) " finding" } {
                                        option value="measured" selected[found.is_empty() || found == "measured"] { "measured" }
                                        option value="too_small" selected[found == "too_small"] { "too small to measure (5 mm)" }
                                        option value="disappeared" selected[found == "disappeared"] { "disappeared (0 mm)" }
                                        option value="not_evaluated" selected[found == "not_evaluated"] { "not evaluated" }
                                    } }
                                    td { input type="number" step="0.1" min="0" name={ "mm_" (l.id) } aria-label={ (l.id) " diameter in mm" } value=(v(format!("mm_{}", l.id))); }
                                }
                                LesionRole::NonTarget => {
                                    td { "non-target" }
                                    td { select name=(key) aria-label={ (l.id) " status" } {
                                        option value="present" selected[found.is_empty() || found == "present"] { "present" }
                                        option value="absent" selected[found == "absent"] { "absent" }
                                        option value="unequivocal_progression" selected[found == "unequivocal_progression"] { "unequivocal progression" }
                                        option value="not_evaluated" selected[found == "not_evaluated"] { "not evaluated" }
                                    } }
                                    td {}
                                }
                            }
                        }
                    }
                }
            }
            @let new = v("new_lesions".into());
            div.field {
                label for="a_new" { "New lesions" }
                select id="a_new" name="new_lesions" {
                    option value="no" selected[new.is_empty() || new == "no"] { "no" }
                    option value="yes" selected[new == "yes"] { "yes (unequivocal)" }
                    option value="equivocal" selected[new == "equivocal"] { "equivocal" }
                }
            }
            button type="submit" { "Save the follow-up" }
        }
    }
}

fn result_table(e: &ResponseEvaluation) -> Markup {
    html! {
        table #response-table {
            caption { "RECIST 1.1 response per time point" }
            thead { tr {
                th { "Scan" } th { "Sum, mm" } th { "vs baseline" } th { "vs nadir" }
                th { "Target" } th { "Non-target" } th { "New lesions" } th { "Overall" }
            } }
            tbody {
                tr.baseline {
                    td { (e.baseline_date) " (baseline)" } td { (format!("{:.1}", e.baseline_sum_mm)) }
                    td { "—" } td { "—" } td { "—" } td { "—" } td { "—" } td { "—" }
                }
                @for t in &e.time_points {
                    tr.timepoint data-overall=(t.overall.code()) {
                        td { (t.scan_date) }
                        td.sum { (opt(t.sum_mm)) }
                        td { (pct(t.change_from_baseline_pct)) }
                        td { (pct(t.change_from_nadir_pct)) }
                        td { (t.target.map_or("NA", |x| x.code())) }
                        td { (t.non_target.map_or("NA", |x| x.code())) }
                        td { (t.new_lesions.code()) }
                        td.overall { strong { (t.overall.code()) } }
                    }
                    @for n in &t.notes { tr { td colspan="8" { span.muted { (n) } } } }
                }
            }
        }
    }
}

fn best_line(e: &ResponseEvaluation) -> Markup {
    let date = |d: Option<chrono::NaiveDate>| d.map(|d| format!(" ({d})")).unwrap_or_default();
    html! {
        p #best {
            "Best overall response: " strong { (e.best().response.code()) (date(e.best().date)) }
            " · without confirmation " (e.best_unconfirmed.response.code()) (date(e.best_unconfirmed.date))
            " · with confirmation " (e.best_confirmed.response.code()) (date(e.best_confirmed.date))
            " · RECIST engine " (e.engine_version)
        }
        @for w in &e.warnings { div.warning { (w) } }
    }
}

async fn render(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
    redo: Redo,
) -> Result<Markup, ApiError> {
    let v = state.trial.visible(user, id).await?;
    let view = response_from(&v.participant, v.row.version);
    let allowed = protocol::commands_allowed_in(&v.participant.state);
    let may_enter =
        user.role.may(Capability::ReviewImaging) && allowed.contains(&"record_tumour_assessment");
    let settings = state.trial.settings().await?;
    Ok(response_body(user, id, &view, may_enter, &redo, &settings))
}

/// The response page's body: progression, baseline, follow-ups, the reader's forms.
fn response_body(
    user: &CurrentUser,
    id: &str,
    view: &ResponseView,
    may_enter: bool,
    redo: &Redo,
    settings: &protocol::Settings,
) -> Markup {
    html! {
        h1 { "Response · " (id) }
        p { a href={ "/participants/" (id) } { "Back to " (id) } " · state " strong { (view.state.replace('_', " ")) } }
        @if let Some(pr) = &view.progression {
            div.warning #progression role="status" {
                "Progression recorded: " strong { (pr.date) } " (RECIST 1.1 PD, " (pr.assessment_id) ", engine " (pr.engine_version) "). The optional PET3 and biopsy are allowed."
                @if view.evaluation.as_ref().is_some_and(|e| e.first_progression().is_none()) {
                    " After later corrections the current result shows no PD: the progression stays recorded; the investigator should review it."
                }
            }
        }
        (super::pet_response::summary(id, view.pet_response.as_ref()))
        h2 { "Baseline CT" }
        @match &view.baseline {
            Some(b) => {
                p.muted { (b.entry_id) " · scan " (b.value.scan_date) " · slices " (b.value.slice_thickness_mm) " mm · T-DXd start " (b.value.treatment_start()) }
                table #baseline {
                    thead { tr { th { "Lesion" } th { "Organ" } th { "Role" } th { "Diameter, mm" } th { "RECIST qualifiers" } } }
                    tbody {
                        @for l in &b.value.lesions {
                            @let q = l.qualifiers();
                            tr {
                                td { (l.id) } td { (l.organ) @if l.node { " (node)" } }
                                td { @match l.role { LesionRole::Target => "target", LesionRole::NonTarget => "non-target" } }
                                td { (opt(l.diameter_mm)) }
                                td.qualifiers { @if q.is_empty() { "—" } @else { (q) } }
                            }
                        }
                    }
                }
                @if may_enter {
                    details open[redo.form == "baseline"] {
                        summary { "Correct the baseline" }
                        @if let Some(p) = redo.problem("baseline") { (p) }
                        @let prefilled = if redo.form == "baseline" { redo.values.clone() } else { baseline_values(&b.value) };
                        (baseline_form(user, id, view, &prefilled, settings))
                    }
                }
            }
            None => {
                @if may_enter {
                    @if let Some(p) = redo.problem("baseline") { (p) }
                    (baseline_form(user, id, view, &redo.values("baseline"), settings))
                } @else {
                    p.muted { "No baseline CT yet; the reader enters it." }
                }
            }
        }
        @if let Some(b) = &view.baseline {
            h2 { "Follow-up CTs" }
            @match &view.evaluation {
                Some(e) => {
                    (result_table(e))
                    (best_line(e))
                    @if let Some(chart) = sum_chart(e) { (chart) }
                }
                None => { p.muted { "No follow-up yet." } }
            }
            @if may_enter {
                h3 { "Enter a follow-up" }
                @if let Some(p) = redo.problem("assessment") { (p) }
                (assessment_form(user, id, view, &b.value, &redo.values("assessment")))
            }
        }
    }
}

async fn show(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path(id): Path<String>,
    axum::extract::Query(done): axum::extract::Query<super::Done>,
) -> Response {
    match render(&state, &user, &id, Redo::default()).await {
        Ok(body) => {
            let body = html! { @if let Some(n) = super::saved_notice(done.done.as_deref()) { (n) } (body) };
            page(&super::participant_title("Response", &id), &user, body)
        }
        Err(e) => error_page(e),
    }
}

fn number(
    values: &BTreeMap<String, String>,
    key: &str,
    what: &str,
) -> Result<Option<f64>, ApiError> {
    match values.get(key).map(|s| s.trim()).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => s
            .replace(',', ".")
            .parse::<f64>()
            .map(Some)
            .map_err(|_| ApiError::BadRequest(format!("{what}: {s:?} is not a number"))),
    }
}

fn text<'a>(values: &'a BTreeMap<String, String>, key: &str) -> Option<&'a str> {
    values.get(key).map(|s| s.trim()).filter(|s| !s.is_empty())
}

/// The follow-up form as the `tumour-assessment` command's data.
fn assessment_data(
    b: &TumourBaseline,
    values: &BTreeMap<String, String>,
) -> Result<Value, ApiError> {
    let mut targets = Vec::new();
    let mut non_targets = Vec::new();
    for l in &b.lesions {
        let found = text(values, &format!("l_{}", l.id));
        match l.role {
            LesionRole::Target => {
                let finding = found.unwrap_or("measured");
                let mm = number(values, &format!("mm_{}", l.id), &format!("lesion {}", l.id))?;
                targets.push(json!({
                    "lesion": l.id,
                    "finding": finding,
                    "diameter_mm": if finding == "measured" { mm } else { None },
                }));
            }
            LesionRole::NonTarget => non_targets.push(json!({
                "lesion": l.id,
                "status": found.unwrap_or("present"),
            })),
        }
    }
    Ok(json!({
        "scan_date": text(values, "scan_date"),
        "targets": targets,
        "non_targets": non_targets,
        "new_lesions": text(values, "new_lesions").unwrap_or("no"),
    }))
}

/// The command and data of a submitted CT form.
async fn form_request(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
    form: &str,
    values: &BTreeMap<String, String>,
) -> Result<(&'static str, Value), ApiError> {
    if form == "baseline" {
        return Ok(("tumour-baseline", baseline_data(values)?));
    }
    let view = state.trial.response(user, id).await?;
    let b = view
        .baseline
        .ok_or_else(|| ApiError::BadRequest("record the baseline CT first".into()))?;
    Ok(("tumour-assessment", assessment_data(&b.value, values)?))
}

/// Runs a CT form through the trial.
async fn act(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
    form: &str,
    values: &BTreeMap<String, String>,
) -> Result<(), ApiError> {
    let (name, data) = form_request(state, user, id, form, values).await?;
    let req = command_request(values, data)?;
    state.trial.run_command(user, id, name, req).await?;
    Ok(())
}

/// Runs a form: on success back to the page, else the page again with the problem.
async fn submit(
    state: AppState,
    user: CurrentUser,
    id: String,
    body: axum::body::Bytes,
    form: &'static str,
) -> Response {
    let values = page_try!(checked_form(&user, &body));
    let Err(e) = act(&state, &user, &id, form, &values).await else {
        return done(&format!("/participants/{id}/response"), form);
    };
    let status = e.status();
    let body = page_try!(render(&state, &user, &id, Redo::after(form, values, &e)).await);
    page_with_status(
        status,
        &super::participant_title("Response", &id),
        &user,
        body,
    )
}

async fn baseline(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path(id): Path<String>,
    RawForm(body): RawForm,
) -> Response {
    submit(state, user, id, body, "baseline").await
}

async fn assessment(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path(id): Path<String>,
    RawForm(body): RawForm,
) -> Response {
    submit(state, user, id, body, "assessment").await
}
