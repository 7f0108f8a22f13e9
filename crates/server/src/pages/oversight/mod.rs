//! Study oversight on the participant's pages (PROTOCOL §12): every entry as a readable
//! row with its status and the actions beside it (correct, query, verify), bulk
//! verification, freezes and locks of a participant and of the whole study, the
//! investigator's casebook signature, and deviations recorded and assessed by hand. Every
//! act goes through [`trial::Trial::oversee`], where the protocol decides it.
//!
//! | module | what |
//! |---|---|
//! | this one | the data rows, raising a query from a row, verification one by one and in bulk |
//! | `holds` | freeze and lock of a participant and of the whole study |
//! | `signatures` | the investigator's casebook and visit signatures |
//! | `deviations` | deviations recorded, assessed and closed by hand |

mod deviations;
mod holds;
mod signatures;

use std::collections::BTreeMap;

use axum::Router;
use axum::extract::{Path, RawForm, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use maud::{Markup, html};
use protocol::EntryStatus;
use protocol::oversight::{
    DataPoint, OversightCommand, RaiseQuery, Scope, SdvState, VerifyEntries, Visit,
};
use trial::Capability;
use trial::oversight::{DataPointRow, OversightRequest};

pub(super) use deviations::deviations_section;
pub(super) use signatures::signatures_section;

use super::participants::{overview_again, problem_box};
use super::{Redo, checked_form, done, page_try, page_with_status};
use crate::AppState;
use crate::auth::{CurrentUser, PageUser};
use crate::error::ApiError;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/participants/{id}/queries", post(raise_query))
        .route(
            "/participants/{id}/verify",
            get(verify_page).post(verify_submit),
        )
        .route(
            "/participants/{id}/holds",
            get(holds::holds_page).post(holds::holds_submit),
        )
        .route(
            "/study/holds",
            get(holds::study_holds_page).post(holds::study_holds_submit),
        )
        .route(
            "/participants/{id}/sign",
            get(signatures::sign_page).post(signatures::sign_submit),
        )
        .route(
            "/participants/{id}/deviations",
            post(deviations::deviation_submit),
        )
}

/// The Redo form name of the data section's forms.
pub(super) const DATA_FORM: &str = "data";

pub(super) fn value(values: &BTreeMap<String, String>, name: &str) -> Option<String> {
    values
        .get(name)
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

pub(super) fn required(values: &BTreeMap<String, String>, name: &str) -> Result<String, ApiError> {
    value(values, name).ok_or_else(|| ApiError::BadRequest(format!("{name}: required")))
}

pub(super) fn version(values: &BTreeMap<String, String>) -> Option<i64> {
    value(values, "expected_version").and_then(|v| v.parse().ok())
}

/// A scope as the forms send it: `participant`, `visit:screening`, `form:lab`,
/// `entry:lab-1`.
pub(super) fn parse_scope(raw: &str) -> Result<Scope, ApiError> {
    let bad = || ApiError::BadRequest(format!("scope: {raw:?} is not a scope"));
    Ok(match raw.split_once(':') {
        None if raw == "participant" => Scope::Participant,
        None if raw == "study" => Scope::Study,
        Some(("visit", v)) => Scope::Visit {
            visit: Visit::parse(v).ok_or_else(bad)?,
        },
        Some(("form", f)) if !f.is_empty() => Scope::Form { form: f.into() },
        Some(("entry", e)) if !e.is_empty() => Scope::Entry { entry_id: e.into() },
        _ => return Err(bad()),
    })
}

pub(super) fn scope_value(scope: &Scope) -> String {
    match scope {
        Scope::Participant => "participant".into(),
        Scope::Study => "study".into(),
        Scope::Visit { visit } => format!("visit:{}", visit.id()),
        Scope::Form { form } => format!("form:{form}"),
        Scope::Entry { entry_id } => format!("entry:{entry_id}"),
    }
}

/// The status badges of a row: queries, verification, hold, signature.
pub(super) fn badges(row: &DataPointRow) -> Markup {
    let sdv_class = match row.sdv {
        SdvState::Verified { .. } => "met",
        SdvState::ChangedSinceVerified { .. } => "not_met",
        SdvState::NotVerified => "missing",
    };
    html! {
        @match &row.status {
            EntryStatus::Current => {}
            EntryStatus::Superseded { by, .. } => { span.status.muted data-badge="history" { "corrected by " (by) } " " }
            EntryStatus::Retracted { .. } => { span.status.muted data-badge="history" { "retracted" } " " }
        }
        @if !row.active_queries.is_empty() {
            span.status.not_met data-badge="query" { "query open" } " "
        }
        // A replaced entry keeps its verification state in view: "changed since verified".
        @if row.status == EntryStatus::Current || row.sdv != SdvState::NotVerified {
            span class={ "status " (sdv_class) } data-badge="sdv" { (row.sdv.label()) } " "
        }
        @if let Some(h) = row.hold { span.status.missing data-badge="hold" { (h.label()) } " " }
        @if row.signed { span.status.met data-badge="signed" { "signed" } }
    }
}

/// The participant page's "Data" section: every entry as a row with its status and the
/// actions this user may take beside it.
pub(super) fn data_section(
    user: &CurrentUser,
    id: &str,
    version: i64,
    rows: &[DataPointRow],
    redo: &Redo,
) -> Markup {
    let refused_entry = redo.values(DATA_FORM).get("entry_id").cloned();
    html! {
        h2 #data { "Data" }
        @if rows.is_empty() {
            p.muted { "No entries yet." }
        } @else {
            p.actions {
                @if user.role.may(Capability::VerifySource) {
                    a href={ "/participants/" (id) "/verify" } { "Verify a form or a visit at once" }
                }
                @if user.role.may(Capability::Freeze) {
                    a href={ "/participants/" (id) "/holds" } { "Freeze and lock" }
                }
                a href={ "/queries?study_id=" (id) } { "Her queries" }
            }
            @if let Some(p) = redo.problem(DATA_FORM) { (p) }
            div.table-scroll {
                table #data-points {
                    thead { tr { th { "What" } th { "Value" } th { "When" } th { "By" } th { "Visit" } th { "Status" } th { "Actions" } } }
                    tbody {
                        @for r in rows {
                            tr data-entry=(r.entry_id) data-sdv=(r.sdv.label()) {
                                td { (r.what) br; small.muted.mono { (r.entry_id) } }
                                td { (r.value) }
                                td { (user.local_time(r.recorded_at)) }
                                td { (r.recorded_by.clone().unwrap_or_default()) }
                                td { (r.visit.label()) }
                                td {
                                    (badges(r))
                                    @for q in &r.active_queries {
                                        br; a href={ "/participants/" (id) "/queries/" (q) } { "Query " (q) }
                                    }
                                }
                                td { (row_actions(user, id, version, r, refused_entry.as_deref() == Some(r.entry_id.as_str()), redo)) }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn row_actions(
    user: &CurrentUser,
    id: &str,
    version: i64,
    r: &DataPointRow,
    refused: bool,
    redo: &Redo,
) -> Markup {
    let current = r.status == EntryStatus::Current;
    let typed = if refused {
        redo.values(DATA_FORM)
    } else {
        BTreeMap::new()
    };
    html! {
        div.actions {
            @if current && user.role.may(Capability::EnterData) {
                @if let Some(href) = correct_link(id, r) {
                    a.button.correct href=(href) { "Correct" }
                }
            }
            @if current && user.role.may(Capability::VerifySource) && !r.sdv.is_verified() {
                form.verify method="post" action={ "/participants/" (id) "/verify" } {
                    input type="hidden" name="csrf" value=(user.csrf);
                    input type="hidden" name="expected_version" value=(version);
                    input type="hidden" name="entry_id" value=(r.entry_id);
                    input type="hidden" name="back" value="overview";
                    button type="submit" { "Verify" }
                }
            }
        }
        @if current && user.role.may(Capability::RaiseQuery) {
            details.raise-query open[refused] {
                summary { "Query" }
                form method="post" action={ "/participants/" (id) "/queries" } {
                    input type="hidden" name="csrf" value=(user.csrf);
                    input type="hidden" name="expected_version" value=(version);
                    input type="hidden" name="entry_id" value=(r.entry_id);
                    @let fid = format!("q-field-{}", r.entry_id);
                    @let tid = format!("q-text-{}", r.entry_id);
                    label for=(fid) { "Field" }
                    select id=(fid) name="field" {
                        option value="" { "the whole entry" }
                        @for f in &r.fields {
                            option value=(f) selected[typed.get("field") == Some(f)] { (trial::commands::field_label(f).map(str::to_string).unwrap_or_else(|| f.replace('_', " "))) }
                        }
                    }
                    label for=(tid) { "Question for the site" }
                    input type="text" id=(tid) name="text" maxlength="2000" required value=(typed.get("text").cloned().unwrap_or_default());
                    button type="submit" { "Raise query" }
                }
            }
        }
    }
}

/// Where an entry is corrected: its command's form with the entry chosen, or the page of
/// a command that has its own (an adverse event's follow-up, the CT assessments).
fn correct_link(id: &str, r: &DataPointRow) -> Option<String> {
    let cmd = r.correct_with.as_deref()?;
    let spec = trial::commands::find(cmd)?;
    Some(match spec.own_page {
        Some("ae") => format!("/participants/{id}/ae/new?follow_up={}", r.entry_id),
        Some(own) => format!("/participants/{id}/{own}"),
        None => format!("/participants/{id}/do/{cmd}?corrects={}", r.entry_id),
    })
}

async fn raise_query(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path(id): Path<String>,
    RawForm(body): RawForm,
) -> Response {
    let act = OverviewAct {
        capability: Capability::RaiseQuery,
        form: DATA_FORM,
        saved: "query-raised",
    };
    act.run(&state, &user, &id, &body, |values| {
        Ok(OversightCommand::RaiseQuery(RaiseQuery {
            point: DataPoint {
                entry_id: required(values, "entry_id")?,
                field: value(values, "field"),
            },
            text: value(values, "text").unwrap_or_default(),
        }))
    })
    .await
}

/// A form on the participant page that runs one act of oversight: the form checked, the
/// capability, the participant's visibility, then the act; back to the page with the
/// save confirmed, or the page again with the refusal at the form.
pub(super) struct OverviewAct {
    /// Who may submit the form at all.
    pub capability: Capability,
    /// The form's name on the page (where a refusal is shown).
    pub form: &'static str,
    /// What the confirmation says was saved.
    pub saved: &'static str,
}

impl OverviewAct {
    pub(super) async fn run(
        &self,
        state: &AppState,
        user: &CurrentUser,
        id: &str,
        body: &[u8],
        command: impl FnOnce(&BTreeMap<String, String>) -> Result<OversightCommand, ApiError>,
    ) -> Response {
        let values = page_try!(checked_form(user, body));
        page_try!(user.require(self.capability));
        page_try!(state.trial.visible_row(user, id).await);
        let result = match command(&values) {
            Ok(c) => oversee(state, user, id, &values, c).await,
            Err(e) => Err(e),
        };
        match result {
            Ok(()) => done(&format!("/participants/{id}"), self.saved),
            Err(e) => {
                let status = e.status();
                overview_again(state, user, id, status, Redo::after(self.form, values, &e)).await
            }
        }
    }
}

pub(super) async fn oversee(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
    values: &BTreeMap<String, String>,
    command: OversightCommand,
) -> Result<(), ApiError> {
    let req = OversightRequest {
        expected_version: version(values),
        command,
        reason: None,
    };
    state.trial.oversee(user, id, req).await?;
    Ok(())
}

fn verify_command(values: &BTreeMap<String, String>) -> Result<OversightCommand, ApiError> {
    Ok(OversightCommand::VerifyEntries(
        match (value(values, "entry_id"), value(values, "scope")) {
            (Some(e), _) => VerifyEntries {
                entry_ids: vec![e],
                scope: None,
            },
            (None, Some(s)) => VerifyEntries {
                entry_ids: Vec::new(),
                scope: Some(parse_scope(&s)?),
            },
            (None, None) => {
                return Err(ApiError::BadRequest(
                    "choose an entry, a form or a visit to verify".into(),
                ));
            }
        },
    ))
}

async fn verify_submit(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path(id): Path<String>,
    RawForm(body): RawForm,
) -> Response {
    let values = page_try!(checked_form(&user, &body));
    page_try!(user.require(Capability::VerifySource));
    page_try!(state.trial.visible_row(&user, &id).await);
    let from_overview = values.get("back").map(String::as_str) == Some("overview");
    let result = match verify_command(&values) {
        Ok(c) => oversee(&state, &user, &id, &values, c).await,
        Err(e) => Err(e),
    };
    match (result, from_overview) {
        (Ok(()), true) => done(&format!("/participants/{id}"), "verified"),
        (Ok(()), false) => done(&format!("/participants/{id}/verify"), "verified"),
        (Err(e), true) => {
            let status = e.status();
            overview_again(
                &state,
                &user,
                &id,
                status,
                Redo::after(DATA_FORM, values, &e),
            )
            .await
        }
        (Err(e), false) => {
            verify_again(&state, &user, &id, e.status(), Some(problem_box(&e))).await
        }
    }
}

async fn verify_page(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path(id): Path<String>,
    axum::extract::Query(d): axum::extract::Query<Done>,
) -> Response {
    let notice = crate::pages::saved_notice(d.done.as_deref());
    verify_again(&state, &user, &id, StatusCode::OK, notice).await
}

/// `?done=` after a saved form.
#[derive(serde::Deserialize)]
pub(super) struct Done {
    /// What was saved.
    pub done: Option<String>,
}

async fn verify_again(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
    status: StatusCode,
    above: Option<Markup>,
) -> Response {
    let rows = page_try!(state.trial.data_points(user, id).await);
    let version = page_try!(state.trial.visible_row(user, id).await).version;
    let current: Vec<&DataPointRow> = rows
        .iter()
        .filter(|r| r.status == EntryStatus::Current)
        .collect();
    let mut forms_seen: BTreeMap<String, String> = BTreeMap::new();
    let mut visits_seen = Vec::new();
    for r in &current {
        forms_seen.entry(r.form.clone()).or_insert(r.what.clone());
        if !visits_seen.contains(&r.visit) {
            visits_seen.push(r.visit);
        }
    }
    visits_seen.sort();
    let may = user.role.may(Capability::VerifySource);
    let scope_button = |scope: Scope, text: String| {
        html! {
            form.verify-scope method="post" action={ "/participants/" (id) "/verify" } {
                input type="hidden" name="csrf" value=(user.csrf);
                input type="hidden" name="expected_version" value=(version);
                input type="hidden" name="scope" value=(scope_value(&scope));
                button type="submit" { (text) }
            }
        }
    };
    let body = html! {
        h1 { "Source data verification · " (id) }
        @if let Some(a) = above { (a) }
        @if may {
            h2 { "Verify at once" }
            p.muted { "Every current entry of the form or visit is marked verified against the source." }
            div.actions {
                @for (form, what) in &forms_seen { (scope_button(Scope::Form { form: form.clone() }, format!("Every {what} entry"))) }
                @for v in &visits_seen { (scope_button(Scope::Visit { visit: *v }, format!("Visit: {}", v.label()))) }
            }
        }
        h2 { "Entries" }
        div.table-scroll {
            table #verify-entries {
                thead { tr { th { "What" } th { "Value" } th { "Visit" } th { "Required" } th { "Status" } } }
                tbody {
                    @for r in &current {
                        tr data-entry=(r.entry_id) data-sdv=(r.sdv.label()) {
                            td { (r.what) br; small.muted.mono { (r.entry_id) } }
                            td { (r.value) }
                            td { (r.visit.label()) }
                            td { @if r.sdv_required { "yes" } @else { "no" } }
                            td { (badges(r)) }
                        }
                    }
                }
            }
        }
        p { a href={ "/participants/" (id) } { "Back to " (id) } }
    };
    page_with_status(status, &format!("Verification · {id}"), user, body)
}
