//! The versioned protocol settings (PROTOCOL.md §14): every version with who put it in
//! force, when and why; one version in full; how many recorded decisions were made under
//! each; and a proposed change with its reason, through the trial layer's audited
//! settings command (which checks the new version and values).

use axum::Router;
use axum::extract::{Path, Query, RawForm, State};
use axum::response::Response;
use axum::routing::get;
use maud::{Markup, html};
use trial::Capability;

use super::{Again, Done, field, reason_field, refused};
use crate::AppState;
use crate::auth::{CurrentUser, PageUser};
use crate::error::ApiError;
use crate::pages::{checked_form, done, error_page, page, page_try, saved_notice};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/settings", get(history).post(propose))
        .route("/admin/settings/{version}", get(one_version))
}

const FORM: &str = "settings";
/// The change form's fields, with the words of a refusal about each.
const FIELDS: [(&str, &[&str]); 2] = [("reason", &["reason"]), ("settings", &[])];

async fn history(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Query(done): Query<Done>,
) -> Response {
    page_try!(user.require(Capability::Administer));
    let body =
        page_try!(history_body(&state, &user, done.done.as_deref(), &Again::default()).await);
    page("Protocol settings", &user, body)
}

/// The settings in force as the change form starts from them: the same values, the
/// version raised by one (a change must raise it by exactly one).
fn proposal_text(current: &protocol::Settings) -> Result<String, ApiError> {
    let mut next = current.clone();
    next.version = next.version.saturating_add(1);
    serde_json::to_string_pretty(&next)
        .map_err(|e| ApiError::Internal(trial::Error::internal("showing the settings", e)))
}

async fn history_body(
    state: &AppState,
    user: &CurrentUser,
    done: Option<&str>,
    again: &Again,
) -> Result<Markup, ApiError> {
    let versions = state.trial.settings_history(user).await?;
    let decisions = state.trial.decisions_by_settings_version(user).await?;
    let current = state.trial.settings().await?;
    let text = match again.value(FORM, "settings") {
        t if t.is_empty() => proposal_text(&current)?,
        t => t,
    };
    Ok(html! {
        h1 { "Protocol settings" }
        @if let Some(n) = saved_notice(done) { (n) }
        p { "Version " strong { (current.version) } " is in force." }
        h2 { "Versions" }
        div.scroll {
            table {
                thead { tr { th { "Version" } th { "In force since" } th { "Changed by" } th { "Reason" } th.num { "Decisions under it" } } }
                tbody {
                    @for v in versions.iter().rev() {
                        tr {
                            td { a href={ "/admin/settings/" (v.version) } { "v" (v.version) } }
                            td { (v.changed_at.map_or_else(|| "study start (protocol defaults)".to_string(), |t| user.local_time(t))) }
                            td { (v.changed_by.as_deref().unwrap_or("—")) }
                            td { (v.reason.as_deref().unwrap_or("—")) }
                            td.num { (decisions.get(&v.version).copied().unwrap_or(0)) }
                        }
                    }
                }
            }
        }
        p.muted {
            "Decisions are counted from the audit log: every recorded event that names the settings version it was decided under "
            "(eligibility evaluations, quantifications, reviews, assessments…)."
        }
        h2 { "Propose a change" }
        form.card method="post" action="/admin/settings" {
            input type="hidden" name="csrf" value=(user.csrf);
            (field(again, FORM, "settings", "The complete new settings (JSON)", html! {
                textarea id="settings-settings" name="settings" rows="24" cols="80" spellcheck="false" required { (text) }
                small.help { "Starts from the settings in force with the version raised by one; change the values you amend." }
            }))
            (reason_field(again, FORM))
            button type="submit" { "Put the change in force" }
        }
    })
}

async fn propose(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    RawForm(body): RawForm,
) -> Response {
    page_try!(user.require(Capability::Administer));
    let values = page_try!(checked_form(&user, &body));
    let result = async {
        let reason = values.get("reason").map_or("", |r| r.trim());
        if reason.is_empty() {
            return Err(ApiError::BadRequest(
                "a settings change needs a reason".into(),
            ));
        }
        let text = values.get("settings").map_or("", String::as_str);
        let new: protocol::Settings = serde_json::from_str(text)
            .map_err(|e| ApiError::BadRequest(format!("the settings cannot be read: {e}")))?;
        state
            .trial
            .change_settings(&user.actor(), new, reason)
            .await?;
        Ok(())
    }
    .await;
    let err = match result {
        Ok(()) => return done("/admin/settings", "settings-changed"),
        Err(e) => e,
    };
    let again = Again::after(FORM, &FIELDS, values, &err);
    let body = page_try!(history_body(&state, &user, None, &again).await);
    refused(err, &user, "Protocol settings", body)
}

async fn one_version(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path(version): Path<String>,
) -> Response {
    page_try!(user.require(Capability::Administer));
    let versions = page_try!(state.trial.settings_history(&user).await);
    let Some(v) = version
        .parse::<u32>()
        .ok()
        .and_then(|n| versions.into_iter().find(|v| v.version == n))
    else {
        return error_page(ApiError::NotFound(format!("no settings version {version}")));
    };
    let text = page_try!(
        serde_json::to_string_pretty(&v.settings)
            .map_err(|e| ApiError::Internal(trial::Error::internal("showing the settings", e)))
    );
    page(
        &format!("Settings v{}", v.version),
        &user,
        html! {
            h1 { "Protocol settings, version " (v.version) }
            div.card {
                @match (&v.changed_by, v.changed_at) {
                    (Some(by), Some(at)) => p { "Put in force by " strong { (by) } " on " (user.local_time(at)) ". Reason: " (v.reason.as_deref().unwrap_or("—")) }
                    _ => p { "The protocol's own values, in force from the study start." }
                }
            }
            pre.settings { (text) }
            p { a href="/admin/settings" { "All versions" } }
        },
    )
}
