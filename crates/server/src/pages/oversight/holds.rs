//! Freeze and lock pages: a participant's (her casebook, a visit, a form or an entry) and
//! the whole study's. Frozen data take no changes; locked data take nothing.

use std::collections::BTreeMap;

use axum::extract::{Path, RawForm, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::{Markup, html};
use trial::Capability;

use super::super::participants::problem_box;
use super::super::{checked_form, done, page_try, page_with_status};
use crate::AppState;
use crate::auth::{CurrentUser, PageUser};
use crate::error::ApiError;
use protocol::EntryStatus;
use protocol::oversight::{ChangeHold, OversightCommand, Scope, Visit};
use trial::oversight::DataPointRow;

use super::{Done, oversee, parse_scope, required, value};

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

pub(super) async fn holds_page(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path(id): Path<String>,
    axum::extract::Query(d): axum::extract::Query<Done>,
) -> Response {
    let notice = crate::pages::saved_notice(d.done.as_deref());
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

pub(super) async fn holds_submit(
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

pub(super) async fn study_holds_page(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    axum::extract::Query(d): axum::extract::Query<Done>,
) -> Response {
    let notice = crate::pages::saved_notice(d.done.as_deref());
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

pub(super) async fn study_holds_submit(
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
