//! Study oversight on the participant's pages (PROTOCOL §12): every entry as a readable
//! row with its status and the actions beside it (correct, query, verify), bulk
//! verification, freezes and locks of a participant and of the whole study, the
//! investigator's casebook signature, and deviations recorded and assessed by hand. Every
//! act goes through [`trial::Trial::oversee`], where the protocol decides it.

use std::collections::BTreeMap;

use axum::Router;
use axum::extract::{Path, RawForm, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use maud::{Markup, html};
use protocol::oversight::{
    AssessDeviation, ChangeHold, DataPoint, DeviationCategory, DeviationStatus, OversightCommand,
    RaiseQuery, ReportDeviation, Scope, SdvState, SignScope, VerifyEntries, Visit,
};
use protocol::records::DeviationSeverity;
use protocol::{EntryStatus, Participant};
use trial::Capability;
use trial::oversight::{CASEBOOK_MEANING, DataPointRow, OversightRequest, SignRequest};

use super::participants::{overview_again, problem_box};
use super::{Redo, checked_form, done, forms, page, page_try, page_with_status};
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
            get(holds_page).post(holds_submit),
        )
        .route(
            "/study/holds",
            get(study_holds_page).post(study_holds_submit),
        )
        .route("/participants/{id}/sign", get(sign_page).post(sign_submit))
        .route("/participants/{id}/deviations", post(deviation_submit))
}

/// The Redo form name of the data section's forms.
const DATA_FORM: &str = "data";
/// The Redo form name of the deviation forms.
const DEVIATION_FORM: &str = "deviation";

fn value(values: &BTreeMap<String, String>, name: &str) -> Option<String> {
    values
        .get(name)
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

fn required(values: &BTreeMap<String, String>, name: &str) -> Result<String, ApiError> {
    value(values, name).ok_or_else(|| ApiError::BadRequest(format!("{name}: required")))
}

fn version(values: &BTreeMap<String, String>) -> Option<i64> {
    value(values, "expected_version").and_then(|v| v.parse().ok())
}

/// A scope as the forms send it: `participant`, `visit:screening`, `form:lab`,
/// `entry:lab-1`.
fn parse_scope(raw: &str) -> Result<Scope, ApiError> {
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

fn scope_value(scope: &Scope) -> String {
    match scope {
        Scope::Participant => "participant".into(),
        Scope::Study => "study".into(),
        Scope::Visit { visit } => format!("visit:{}", visit.id()),
        Scope::Form { form } => format!("form:{form}"),
        Scope::Entry { entry_id } => format!("entry:{entry_id}"),
    }
}

/// The status badges of a row: queries, verification, hold, signature.
fn badges(row: &DataPointRow) -> Markup {
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
                @if let Some(cmd) = &r.correct_with {
                    a.button.correct href={ "/participants/" (id) "/do/" (cmd) "?corrects=" (r.entry_id) } { "Correct" }
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

async fn raise_query(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path(id): Path<String>,
    RawForm(body): RawForm,
) -> Response {
    let values = page_try!(checked_form(&user, &body));
    page_try!(user.require(Capability::RaiseQuery));
    page_try!(state.trial.visible_row(&user, &id).await);
    let result = async {
        let command = OversightCommand::RaiseQuery(RaiseQuery {
            point: DataPoint {
                entry_id: required(&values, "entry_id")?,
                field: value(&values, "field"),
            },
            text: value(&values, "text").unwrap_or_default(),
        });
        oversee(&state, &user, &id, &values, command).await
    }
    .await;
    match result {
        Ok(()) => done(&format!("/participants/{id}"), "query-raised"),
        Err(e) => {
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
    }
}

async fn oversee(
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
    let notice = d
        .done
        .map(|d| html! { div.notice role="status" { "Saved: " (d.replace('-', " ")) "." } });
    verify_again(&state, &user, &id, StatusCode::OK, notice).await
}

/// `?done=` after a saved form.
#[derive(serde::Deserialize)]
pub(super) struct Done {
    done: Option<String>,
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

/// The scopes a participant's freeze, lock or signature may cover, for a select.
fn scope_options(rows: &[DataPointRow]) -> Vec<(String, String)> {
    let mut out = vec![("participant".to_string(), "The whole casebook".to_string())];
    for v in Visit::ALL {
        out.push((format!("visit:{}", v.id()), format!("Visit: {}", v.label())));
    }
    let mut forms_seen = BTreeMap::new();
    for r in rows {
        forms_seen.entry(r.form.clone()).or_insert(r.what.clone());
    }
    for (form, what) in forms_seen {
        out.push((format!("form:{form}"), format!("Form: {what}")));
    }
    for r in rows.iter().filter(|r| r.status == EntryStatus::Current) {
        out.push((
            format!("entry:{}", r.entry_id),
            format!("Entry {}: {} {}", r.entry_id, r.what, r.value),
        ));
    }
    out
}

fn hold_buttons(user: &CurrentUser) -> Markup {
    html! {
        div.actions {
            @if user.role.may(Capability::Freeze) { button type="submit" name="act" value="freeze" { "Freeze" } }
            @if user.role.may(Capability::Lock) {
                button type="submit" name="act" value="lock" { "Lock" }
                button type="submit" name="act" value="unlock" { "Unlock" }
                button type="submit" name="act" value="unfreeze" { "Unfreeze" }
            }
        }
    }
}

fn hold_command(
    values: &BTreeMap<String, String>,
    scope: Scope,
) -> Result<OversightCommand, ApiError> {
    let c = ChangeHold {
        scope,
        reason: value(values, "reason"),
    };
    Ok(match value(values, "act").as_deref() {
        Some("freeze") => OversightCommand::Freeze(c),
        Some("lock") => OversightCommand::Lock(c),
        Some("unlock") => OversightCommand::Unlock(c),
        Some("unfreeze") => OversightCommand::Unfreeze(c),
        _ => {
            return Err(ApiError::BadRequest(
                "act: freeze, lock, unlock or unfreeze".into(),
            ));
        }
    })
}

async fn holds_page(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path(id): Path<String>,
    axum::extract::Query(d): axum::extract::Query<Done>,
) -> Response {
    let notice = d
        .done
        .map(|d| html! { div.notice role="status" { "Saved: " (d.replace('-', " ")) "." } });
    holds_again(&state, &user, &id, StatusCode::OK, notice, &BTreeMap::new()).await
}

async fn holds_again(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
    status: StatusCode,
    above: Option<Markup>,
    typed: &BTreeMap<String, String>,
) -> Response {
    let v = page_try!(state.trial.visible(user, id).await);
    let rows = page_try!(state.trial.data_points(user, id).await);
    let study = page_try!(state.trial.study_oversight().await);
    let chosen = typed.get("scope").cloned().unwrap_or_default();
    let body = html! {
        h1 { "Freeze and lock · " (id) }
        @if let Some(a) = above { (a) }
        p.muted { "Frozen data take no changes; queries and verification go on. Locked data take nothing. Lock needs a freeze first; unlock and unfreeze need a reason." }
        @if let Some(h) = &study.hold { div.warning { "The whole study is " (h.level.label()) " (by " (h.by.user) ", " (user.local_time(h.at)) ")." } }
        h2 { "In force" }
        @if v.participant.oversight.holds.is_empty() { p.muted { "Nothing is frozen or locked." } } @else {
            div.table-scroll { table #holds {
                thead { tr { th { "What" } th { "Level" } th { "By" } th { "Since" } } }
                tbody { @for h in &v.participant.oversight.holds {
                    tr { td { (h.scope.describe()) } td { span.status.missing { (h.level.label()) } } td { (h.by.user) } td { (user.local_time(h.at)) } }
                } }
            } }
        }
        @if user.role.may(Capability::Freeze) {
            form.card #hold-form method="post" action={ "/participants/" (id) "/holds" } {
                input type="hidden" name="csrf" value=(user.csrf);
                input type="hidden" name="expected_version" value=(v.row.version);
                div.field {
                    label for="scope" { "What" }
                    select id="scope" name="scope" {
                        @for (val, label) in scope_options(&rows) { option value=(val) selected[val == chosen] { (label) } }
                    }
                }
                div.field {
                    label for="reason" { "Reason" }
                    input type="text" id="reason" name="reason" maxlength="500" value=(typed.get("reason").cloned().unwrap_or_default());
                    small.help { "Required to unlock and to unfreeze; kept in the audit trail." }
                }
                (hold_buttons(user))
            }
        }
        p { a href={ "/participants/" (id) } { "Back to " (id) } }
    };
    page_with_status(status, &format!("Freeze and lock · {id}"), user, body)
}

async fn holds_submit(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path(id): Path<String>,
    RawForm(body): RawForm,
) -> Response {
    let values = page_try!(checked_form(&user, &body));
    page_try!(user.require(Capability::Freeze));
    page_try!(state.trial.visible_row(&user, &id).await);
    let result = async {
        let scope = parse_scope(&required(&values, "scope")?)?;
        let command = hold_command(&values, scope)?;
        oversee(&state, &user, &id, &values, command).await
    }
    .await;
    match result {
        Ok(()) => done(&format!("/participants/{id}/holds"), "hold-changed"),
        Err(e) => {
            holds_again(
                &state,
                &user,
                &id,
                e.status(),
                Some(problem_box(&e)),
                &values,
            )
            .await
        }
    }
}

async fn study_holds_page(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    axum::extract::Query(d): axum::extract::Query<Done>,
) -> Response {
    let notice = d
        .done
        .map(|d| html! { div.notice role="status" { "Saved: " (d.replace('-', " ")) "." } });
    study_holds_again(&state, &user, StatusCode::OK, notice).await
}

async fn study_holds_again(
    state: &AppState,
    user: &CurrentUser,
    status: StatusCode,
    above: Option<Markup>,
) -> Response {
    page_try!(user.require(Capability::ReadParticipants));
    let study = page_try!(state.trial.study_oversight().await);
    let body = html! {
        h1 { "Freeze and lock the whole study" }
        @if let Some(a) = above { (a) }
        @match &study.hold {
            Some(h) => p #study-hold { "The whole study is " span.status.missing { (h.level.label()) } " since " (user.local_time(h.at)) " (by " (h.by.user) ")." },
            None => p #study-hold.muted { "The study is open: nothing is frozen or locked study-wide." },
        }
        @if user.role.may(Capability::Freeze) {
            form.card method="post" action="/study/holds" {
                input type="hidden" name="csrf" value=(user.csrf);
                div.field {
                    label for="reason" { "Reason" }
                    input type="text" id="reason" name="reason" maxlength="500";
                    small.help { "Required to unlock and to unfreeze. Unlocking voids every casebook signature in force." }
                }
                (hold_buttons(user))
            }
        }
    };
    page_with_status(status, "Study freeze and lock", user, body)
}

async fn study_holds_submit(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    RawForm(body): RawForm,
) -> Response {
    let values = page_try!(checked_form(&user, &body));
    page_try!(user.require(Capability::Freeze));
    let result = async {
        let command = hold_command(&values, Scope::Study)?;
        if let Some(r) = value(&values, "reason") {
            protocol::privacy::check_free_text("reason", &r)?;
        }
        state.trial.hold_study(&user, &command).await?;
        Ok::<_, ApiError>(())
    }
    .await;
    match result {
        Ok(()) => done("/study/holds", "study-hold-changed"),
        Err(e) => study_holds_again(&state, &user, e.status(), Some(problem_box(&e))).await,
    }
}

/// The participant page's signatures: those in force, the voided ones with why, and a
/// request for a new one when the last was voided.
pub(super) fn signatures_section(user: &CurrentUser, id: &str, p: &Participant) -> Markup {
    let sigs = &p.oversight.signatures;
    let in_force = p.oversight.valid_signatures().next().is_some();
    let voided = sigs.iter().any(|s| s.voided.is_some());
    html! {
        h2 #signatures { "Investigator signatures" }
        @if sigs.is_empty() { p.muted { "The casebook is not signed." } } @else {
            ul {
                @for s in sigs {
                    li data-voided=(s.voided.is_some()) {
                        (s.scope.describe()) " signed by " (s.signature.signer) ", " (user.local_time(s.signature.signed_at))
                        @match &s.voided {
                            Some(v) => { " — " span.status.not_met { "voided" } " " (user.local_time(v.at)) ": " (v.because) }
                            None => { " — " span.status.met { "in force" } }
                        }
                    }
                }
            }
        }
        @if voided && !in_force { div.warning role="status" { "A signature was voided by a later change: the casebook must be signed again." } }
        @if user.role.may(Capability::InvestigatorSign) {
            p { a.button href={ "/participants/" (id) "/sign" } { "Sign the casebook or a visit" } }
        }
    }
}

fn sign_body(
    user: &CurrentUser,
    id: &str,
    version: i64,
    p: &Participant,
    above: Option<Markup>,
) -> Markup {
    html! {
        h1 { "Sign · " (id) }
        @if let Some(a) = above { (a) }
        (signatures_section(user, id, p))
        form.card #sign-form method="post" action={ "/participants/" (id) "/sign" } {
            input type="hidden" name="csrf" value=(user.csrf);
            input type="hidden" name="expected_version" value=(version);
            div.field {
                label for="scope" { "What you sign" }
                select id="scope" name="scope" {
                    option value="casebook" { "The whole casebook" }
                    @for v in Visit::ALL { option value={ "visit:" (v.id()) } { "Visit: " (v.label()) } }
                }
            }
            fieldset.card {
                legend { "Electronic signature" }
                p { "By signing you state: " strong #meaning { (CASEBOOK_MEANING) } }
                div.field {
                    label for="signature_password" { "Your password" }
                    input type="password" id="signature_password" name="signature_password" autocomplete="current-password" required;
                }
            }
            button type="submit" { "Sign" }
            " " a href={ "/participants/" (id) } { "Cancel" }
        }
    }
}

async fn sign_page(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path(id): Path<String>,
) -> Response {
    page_try!(user.require(Capability::InvestigatorSign));
    let v = page_try!(state.trial.visible(&user, &id).await);
    page(
        &format!("Sign · {id}"),
        &user,
        sign_body(&user, &id, v.row.version, &v.participant, None),
    )
}

async fn sign_submit(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path(id): Path<String>,
    RawForm(body): RawForm,
) -> Response {
    let values = page_try!(checked_form(&user, &body));
    page_try!(user.require(Capability::InvestigatorSign));
    page_try!(state.trial.visible_row(&user, &id).await);
    let result = async {
        let scope = match required(&values, "scope")?.as_str() {
            "casebook" => SignScope::Casebook,
            other => match parse_scope(other)? {
                Scope::Visit { visit } => SignScope::Visit { visit },
                _ => {
                    return Err(ApiError::BadRequest(
                        "scope: the casebook or one visit".into(),
                    ));
                }
            },
        };
        let password = required(&values, "signature_password")?;
        let req = SignRequest {
            expected_version: version(&values),
            scope,
            password,
            meaning: None,
        };
        state.trial.sign_casebook(&user, &id, req).await?;
        Ok::<_, ApiError>(())
    }
    .await;
    match result {
        Ok(()) => done(&format!("/participants/{id}"), "casebook-signed"),
        Err(e) => {
            let v = page_try!(state.trial.visible(&user, &id).await);
            let body = sign_body(
                &user,
                &id,
                v.row.version,
                &v.participant,
                Some(problem_box(&e)),
            );
            page_with_status(e.status(), &format!("Sign · {id}"), &user, body)
        }
    }
}

/// The participant page's deviations: automatic and recorded by hand, with their review,
/// the form to record one and the form to assess one.
pub(super) fn deviations_section(
    user: &CurrentUser,
    id: &str,
    version: i64,
    p: &Participant,
    redo: &Redo,
) -> Markup {
    let typed = redo.values(DEVIATION_FORM);
    let t = |k: &str| typed.get(k).cloned().unwrap_or_default();
    let may_assess = user.role.may(Capability::AssessDeviation);
    html! {
        h2 #deviations { "Deviations" }
        @if let Some(pr) = redo.problem(DEVIATION_FORM) { (pr) }
        @if p.deviations.is_empty() { p.muted { "No deviation recorded." } } @else {
            div.table-scroll { table #deviation-list {
                thead { tr { th { "Id" } th { "Severity" } th { "Rule / category" } th { "What" } th { "When" } th { "Review" } } }
                tbody { @for d in &p.deviations {
                    @let review = p.oversight.deviation_reviews.get(&d.deviation_id);
                    @let status = p.oversight.deviation_status(&d.deviation_id);
                    tr data-deviation=(d.deviation_id) data-status=(status.label()) {
                        td { (d.deviation_id) }
                        td { (format!("{:?}", d.severity).to_lowercase()) }
                        td { (d.rule.id()) @if let Some(c) = review.and_then(|r| r.category) { br; span.muted { (c.label()) } } }
                        td { (d.description) }
                        td { (user.local_time(d.occurred_at)) }
                        td {
                            span.status { (status.label()) }
                            @if let Some(r) = review { @for n in &r.notes { br; small { (n.by.user) ": " (n.note) } } }
                            @if may_assess && status != DeviationStatus::Closed {
                                form method="post" action={ "/participants/" (id) "/deviations" } {
                                    input type="hidden" name="csrf" value=(user.csrf);
                                    input type="hidden" name="expected_version" value=(version);
                                    input type="hidden" name="act" value="assess";
                                    input type="hidden" name="deviation_id" value=(d.deviation_id);
                                    input type="text" name="note" aria-label="Assessment" placeholder="assessment" maxlength="2000" required;
                                    select name="status" aria-label="New status" {
                                        option value="assessed" { "assessed" }
                                        option value="closed" { "closed" }
                                    }
                                    button type="submit" { "Save" }
                                }
                            }
                        }
                    }
                } }
            } }
        }
        @if user.role.may(Capability::ReportDeviation) {
            details #record-deviation open[redo.problem(DEVIATION_FORM).is_some()] {
                summary { "Record a deviation" }
                form.card method="post" action={ "/participants/" (id) "/deviations" } {
                    input type="hidden" name="csrf" value=(user.csrf);
                    input type="hidden" name="expected_version" value=(version);
                    input type="hidden" name="act" value="report";
                    div.field { label for="dev-category" { "Category" }
                        select id="dev-category" name="category" required {
                            @for c in CATEGORIES { option value=(serde_json::to_value(c).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()) { (c.label()) } }
                        }
                    }
                    div.field { label for="dev-severity" { "Severity" }
                        select id="dev-severity" name="severity" required { option value="minor" { "minor" } option value="major" { "major" } }
                    }
                    div.field { label for="dev-description" { "What happened" }
                        input type="text" id="dev-description" name="description" maxlength="2000" required value=(t("description"));
                    }
                    div.field { label for="dev-occurred" { "When it happened" }
                        input type="datetime-local" id="dev-occurred" name="occurred_at" required value=(t("occurred_at"));
                        small.help { "Local time, " (user.zone.name()) }
                    }
                    button type="submit" { "Record deviation" }
                }
            }
        }
    }
}

const CATEGORIES: [DeviationCategory; 8] = [
    DeviationCategory::Consent,
    DeviationCategory::Eligibility,
    DeviationCategory::Schedule,
    DeviationCategory::Treatment,
    DeviationCategory::Procedure,
    DeviationCategory::Safety,
    DeviationCategory::Data,
    DeviationCategory::Other,
];

fn deviation_command(
    values: &BTreeMap<String, String>,
    user: &CurrentUser,
) -> Result<OversightCommand, ApiError> {
    let json = |k: &str| -> Result<serde_json::Value, ApiError> {
        Ok(serde_json::Value::String(required(values, k)?))
    };
    let parse_err = |k: &str| ApiError::BadRequest(format!("{k}: not one of the choices"));
    match value(values, "act").as_deref() {
        Some("report") => {
            let at = required(values, "occurred_at")?;
            let occurred_at = forms::local_to_utc(&at, user.zone)
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| ApiError::BadRequest("occurred_at: a date and time".into()))?;
            Ok(OversightCommand::ReportDeviation(ReportDeviation {
                category: serde_json::from_value(json("category")?)
                    .map_err(|_| parse_err("category"))?,
                severity: serde_json::from_value::<DeviationSeverity>(json("severity")?)
                    .map_err(|_| parse_err("severity"))?,
                description: value(values, "description").unwrap_or_default(),
                occurred_at,
                entry_id: value(values, "entry_id"),
            }))
        }
        Some("assess") => Ok(OversightCommand::AssessDeviation(AssessDeviation {
            deviation_id: required(values, "deviation_id")?,
            status: serde_json::from_value(json("status")?).map_err(|_| parse_err("status"))?,
            note: value(values, "note").unwrap_or_default(),
        })),
        _ => Err(ApiError::BadRequest("act: report or assess".into())),
    }
}

async fn deviation_submit(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path(id): Path<String>,
    RawForm(body): RawForm,
) -> Response {
    let values = page_try!(checked_form(&user, &body));
    page_try!(user.require(Capability::ReadParticipants));
    page_try!(state.trial.visible_row(&user, &id).await);
    let result = async {
        let command = deviation_command(&values, &user)?;
        oversee(&state, &user, &id, &values, command).await
    }
    .await;
    match result {
        Ok(()) => done(&format!("/participants/{id}"), "deviation-saved"),
        Err(e) => {
            let status = e.status();
            overview_again(
                &state,
                &user,
                &id,
                status,
                Redo::after(DEVIATION_FORM, values, &e),
            )
            .await
        }
    }
}
