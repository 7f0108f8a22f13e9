//! The administrator's pages: the trial sites, the user accounts and their lifecycle, and
//! the versioned protocol settings. Every page and form is for the administrator only (the
//! same access check as the JSON API: anyone else gets the 403 page); every change goes
//! through the trial layer's audited administrative commands, with the account rules
//! they already hold, and every save is confirmed on the page it returns to. A refused
//! form comes back with what was typed and the refusal at the field it concerns.

mod settings;
mod users;

use std::collections::BTreeMap;

use axum::Router;
use axum::extract::{Query, RawForm, State};
use axum::response::Response;
use axum::routing::get;
use maud::{Markup, html};
use trial::Capability;

use super::{Done, checked_form, done, error_page, page, page_try, page_with_status, saved_notice};
use crate::AppState;
use crate::auth::{CurrentUser, PageUser};
use crate::error::ApiError;

/// The administration routes.
pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/admin", get(overview))
        .route("/admin/sites", get(sites).post(add_site))
        .merge(users::router())
        .merge(settings::router())
}

/// The fields of a form: each field's name, and the words of a refusal that concern it.
type Fields = [(&'static str, &'static [&'static str])];

/// A refused form shown again: which form, at which of its fields the refusal belongs,
/// and what was typed.
#[derive(Default)]
struct Again {
    form: &'static str,
    field: &'static str,
    values: BTreeMap<String, String>,
    problem: Option<Markup>,
}

impl Again {
    /// `form` refused with `err`. The refusal is placed at the first of `fields` (name,
    /// words of a refusal about it) whose words its message contains, else at the last.
    fn after(
        form: &'static str,
        fields: &Fields,
        values: BTreeMap<String, String>,
        err: &ApiError,
    ) -> Again {
        let message = err.body().message.to_lowercase();
        let field = fields
            .iter()
            .find(|(_, words)| words.iter().any(|w| message.contains(w)))
            .or(fields.last())
            .map_or("", |(name, _)| *name);
        Again {
            form,
            field,
            values,
            problem: Some(super::participants::problem_box(err)),
        }
    }

    /// The refusal to show at `form`'s `field`, if it belongs there.
    fn at(&self, form: &str, field: &str) -> Option<Markup> {
        (self.form == form && self.field == field)
            .then(|| self.problem.clone())
            .flatten()
    }

    /// What was typed into `form`'s `field` (empty unless the form was refused).
    fn value(&self, form: &str, field: &str) -> String {
        if self.form == form {
            self.values.get(field).cloned().unwrap_or_default()
        } else {
            String::new()
        }
    }
}

/// One labelled field of a form, with the refusal that concerns it.
fn field(again: &Again, form: &str, name: &str, label: &str, input: Markup) -> Markup {
    html! {
        div.field {
            label for={ (form) "-" (name) } { (label) }
            (input)
            @if let Some(p) = again.at(form, name) { (p) }
        }
    }
}

/// The reason field every administrative change carries.
fn reason_field(again: &Again, form: &str) -> Markup {
    let input = html! {
        input type="text" id={ (form) "-reason" } name="reason" value=(again.value(form, "reason")) maxlength="500" required;
    };
    field(
        again,
        form,
        "reason",
        "Reason (kept in the audit trail)",
        input,
    )
}

/// A refused administrative form: the page again with the refusal at its field, or the
/// error page when the machine failed or the user may not be here at all.
fn refused(err: ApiError, user: &CurrentUser, title: &str, body: Markup) -> Response {
    match err {
        ApiError::Internal(_) | ApiError::Forbidden(_) | ApiError::Unauthenticated => {
            error_page(err)
        }
        e => page_with_status(e.status(), title, user, body),
    }
}

async fn overview(State(state): State<AppState>, PageUser(user): PageUser) -> Response {
    page_try!(user.require(Capability::Administer));
    let users = page_try!(state.trial.users(&user).await);
    let sites = page_try!(state.trial.sites(&user).await);
    let settings = page_try!(state.trial.settings().await);
    let inactive = users.iter().filter(|u| !u.active).count();
    let locked = users.iter().filter(|u| u.locked).count();
    page(
        "Administration",
        &user,
        html! {
            h1 { "Administration" }
            div.card {
                h2 { a href="/admin/users" { "Users" } }
                p { (users.len()) " accounts · " (inactive) " deactivated · " (locked) " locked" }
            }
            div.card {
                h2 { a href="/admin/sites" { "Sites" } }
                p { @for (i, s) in sites.iter().enumerate() { @if i > 0 { ", " } (s.code) } @if sites.is_empty() { "No site yet." } }
            }
            div.card {
                h2 { a href="/admin/settings" { "Protocol settings" } }
                p { "Version " (settings.version) " in force." }
            }
        },
    )
}

const SITE_FORM: &str = "site";
const SITE_FIELDS: [(&str, &[&str]); 2] = [("code", &["code", "exists"]), ("name", &["name"])];

async fn sites(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Query(done): Query<Done>,
) -> Response {
    page_try!(user.require(Capability::Administer));
    let body = page_try!(sites_body(&state, &user, done.done.as_deref(), &Again::default()).await);
    page("Sites", &user, body)
}

async fn sites_body(
    state: &AppState,
    user: &CurrentUser,
    done: Option<&str>,
    again: &Again,
) -> Result<Markup, ApiError> {
    let sites = state.trial.sites(user).await?;
    let code = html! {
        input type="text" id="site-code" name="code" value=(again.value(SITE_FORM, "code")) maxlength="4" size="5" required;
        small.help { "2 to 4 capital letters, used in the study ids (KS-001)." }
    };
    let name = html! {
        input type="text" id="site-name" name="name" value=(again.value(SITE_FORM, "name")) maxlength="200" required;
    };
    Ok(html! {
        h1 { "Sites" }
        @if let Some(n) = saved_notice(done) { (n) }
        div.scroll {
            table {
                thead { tr { th { "Code" } th { "Name" } } }
                tbody { @for s in &sites { tr { td { code { (s.code) } } td { (s.name) } } } }
            }
        }
        h2 { "Add a site" }
        form.card method="post" action="/admin/sites" {
            input type="hidden" name="csrf" value=(user.csrf);
            (field(again, SITE_FORM, "code", "Site code", code))
            (field(again, SITE_FORM, "name", "Name", name))
            button type="submit" { "Add site" }
        }
    })
}

async fn add_site(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    RawForm(body): RawForm,
) -> Response {
    page_try!(user.require(Capability::Administer));
    let values = page_try!(checked_form(&user, &body));
    let get = |k: &str| values.get(k).cloned().unwrap_or_default();
    let result = state
        .trial
        .add_site(&user.actor(), get("code").trim(), &get("name"))
        .await;
    let err = match result {
        Ok(()) => return done("/admin/sites", "site-added"),
        Err(e) => ApiError::from(e),
    };
    let again = Again::after(SITE_FORM, &SITE_FIELDS, values, &err);
    let body = page_try!(sites_body(&state, &user, None, &again).await);
    refused(err, &user, "Sites", body)
}
