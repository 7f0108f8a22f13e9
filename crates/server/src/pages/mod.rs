//! Server-rendered web pages: plain HTML forms that work without JavaScript and with the
//! keyboard alone, for the sites' nurses and investigators and the sponsor's staff.

mod account;
mod admin;
pub(crate) mod analyses;
mod attest;
mod dashboard;
mod exports;
pub mod forms;
mod journey;
mod oversight;
mod participants;
mod pet;
mod pet_response;
mod pet_view;
mod planning;
mod queries;
mod receipts;
mod response;
mod response_chart;
mod signin;
mod submit;
mod work;

use std::collections::BTreeMap;

use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use maud::{DOCTYPE, Markup, html};

use crate::AppState;
use crate::auth::{CurrentUser, PageUser};
use crate::error::ApiError;
use trial::{Capability, Role};

/// The page routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route(STYLESHEET_PATH, get(stylesheet))
        .route(ICON_PATH, get(icon))
        .route("/favicon.ico", get(icon))
        .merge(signin::router())
        .merge(account::router())
        .merge(participants::router())
        .merge(attest::router())
        .merge(pet::router())
        .merge(journey::router())
        .merge(response::router())
        .merge(admin::router())
        .merge(dashboard::router())
        .merge(analyses::router())
        .merge(exports::router())
        .merge(planning::router())
        .merge(oversight::router())
        .merge(queries::router())
        .merge(receipts::router())
        .merge(work::router())
}

/// The page a role starts on: where `/` and signing in lead.
pub fn landing_path(role: Role) -> &'static str {
    match role {
        Role::Admin => "/admin",
        Role::Investigator
        | Role::ResearchNurse
        | Role::NuclearMedicineReader
        | Role::Pathologist
        | Role::Monitor
        | Role::DataManager => "/work",
        Role::Statistician | Role::StudyDirector => "/dashboard",
    }
}

/// `GET /`: each role to its own start page.
async fn home(PageUser(user): PageUser) -> Redirect {
    Redirect::to(landing_path(user.role))
}

/// The stylesheet of every page, served from [`STYLESHEET_PATH`] rather than inline so
/// the content security policy can refuse inline style.
const STYLESHEET: &str = include_str!("../../static/her2ex.css");

/// Where the pages' stylesheet is served.
pub const STYLESHEET_PATH: &str = "/static/her2ex.css";

/// The stylesheet with the rules drawn from code (the MIP marker highlights).
static FULL_STYLESHEET: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| format!("{STYLESHEET}{}", pet_view::marker_highlight_css()));

/// `GET /static/her2ex.css`: public (the sign-in page needs it) and cacheable for an hour.
async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        FULL_STYLESHEET.as_str(),
    )
        .into_response()
}

/// Where the pages' icon is served (browsers also ask `/favicon.ico`).
pub const ICON_PATH: &str = "/static/her2ex.svg";

/// The icon: a dark blue disc with a light ring, the study's colours.
const ICON: &str = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 32 32\">\
<circle cx=\"16\" cy=\"16\" r=\"15\" fill=\"#0b3d62\"/>\
<circle cx=\"16\" cy=\"16\" r=\"8\" fill=\"none\" stroke=\"#56B4E9\" stroke-width=\"4\"/></svg>";

/// `GET /static/her2ex.svg` and `GET /favicon.ico`: public and cacheable, so no page of
/// the application leaves a failed request in the browser's console.
async fn icon() -> Response {
    (
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        ICON,
    )
        .into_response()
}

/// Wraps a page body in the common layout.
pub fn layout(title: &str, user: Option<&CurrentUser>, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · HER2-Ex PET" }
                link rel="stylesheet" href=(STYLESHEET_PATH);
                link rel="icon" href=(ICON_PATH) type="image/svg+xml";
            }
            body {
                header {
                    strong { "HER2-Ex PET" }
                    @if let Some(u) = user {
                        @if u.role == Role::Admin {
                            nav { a href="/admin" { "Administration" } " " a href="/admin/users" { "Users" } " " a href="/admin/sites" { "Sites" } " " a href="/admin/settings" { "Settings" } " " a href="/receipts" { "DICOM receipts" } }
                        } @else {
                            nav { a href="/work" { "Work" } " " a href="/participants" { "Participants" } " " a href="/visits" { "Visits" } " " a href="/queries" { "Queries" } " " a href="/dashboard" { "Dashboard" } @if u.role.may(Capability::Analyse) { " " a href="/analyses" { "Analyses" } } @if u.role.may(Capability::Export) { " " a href="/exports" { "Exports" } } @if u.role.may(Capability::ReadReceipts) { " " a href="/receipts" { "DICOM receipts" } } }
                        }
                        span.who {
                            (u.display_name) " · " (u.role.label())
                            @if let Some(site) = &u.site { " · " (site) }
                        }
                        form method="post" action="/signout" {
                            input type="hidden" name="csrf" value=(u.csrf);
                            button type="submit" { "Sign out" }
                        }
                    }
                }
                main { (body) }
            }
        }
    }
}

/// A full page response.
pub fn page(title: &str, user: &CurrentUser, body: Markup) -> Response {
    Html(layout(title, Some(user), body).into_string()).into_response()
}

/// The page shown for an error.
pub fn error_page(err: impl Into<ApiError>) -> Response {
    let err = err.into();
    let status = err.status();
    let body = err.body();
    err.log();
    let markup = layout(
        "Error",
        None,
        html! {
            h1 { (status.canonical_reason().unwrap_or("Error")) }
            div.error role="alert" {
                (forms::plain(&body.message))
                @if let Some(rule) = &body.rule { " " small.rule.muted { "Rule " code { (rule) } } }
            }
            p { a href="/" { "Back to your start page" } }
        },
    );
    (status, Html(markup.into_string())).into_response()
}

/// Reads an `application/x-www-form-urlencoded` body; the last value of a name wins.
pub fn form_values(body: &[u8]) -> Result<BTreeMap<String, String>, ApiError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body)
        .map_err(|e| ApiError::BadRequest(format!("unreadable form: {e}")))?;
    Ok(pairs.into_iter().collect())
}

/// Reads a submitted form and checks its CSRF token: the opening of every form handler.
pub fn checked_form(user: &CurrentUser, body: &[u8]) -> Result<BTreeMap<String, String>, ApiError> {
    let values = form_values(body)?;
    check_csrf(user, &values)?;
    Ok(values)
}

/// The value of a result, or the error page in its place: `let v = page_try!(expr);`.
macro_rules! page_try {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(e) => return $crate::pages::error_page(e),
        }
    };
}
pub(crate) use page_try;

/// The title of a page about one participant: what it shows, then her study id, so a
/// browser tab or a printed page always says whose it is.
pub fn participant_title(what: &str, id: &str) -> String {
    format!("{what} · {id}")
}

/// The query of a page a saved form returns to: `?done=what`.
#[derive(Debug, Default, serde::Deserialize)]
pub struct Done {
    /// What was saved.
    pub done: Option<String>,
}

/// The confirmation a page shows after a form on it was saved (`?done=what`).
pub fn saved_notice(done: Option<&str>) -> Option<Markup> {
    done.map(|d| {
        html! { div.notice #saved role="status" { "Saved: " (d.replace('-', " ")) "." } }
    })
}

/// After a saved form: back to `path`, saying what was saved.
pub fn done(path: &str, what: &str) -> Response {
    Redirect::to(&format!("{path}?done={what}")).into_response()
}

/// A page with several forms shown again after one was refused: which form, what was
/// typed into it and why it was refused.
#[derive(Default)]
pub struct Redo {
    /// The refused form's name.
    pub form: &'static str,
    /// What was typed into it.
    pub values: BTreeMap<String, String>,
    /// The refusal.
    pub problem: Option<Markup>,
}

impl Redo {
    /// `form` refused with `err`, with what was typed into it.
    pub fn after(form: &'static str, values: BTreeMap<String, String>, err: &ApiError) -> Redo {
        Redo {
            form,
            values,
            problem: Some(participants::problem_box(err)),
        }
    }

    /// The refusal to show above `form`, if it is the refused one.
    pub fn problem(&self, form: &str) -> Option<Markup> {
        (self.form == form).then(|| self.problem.clone()).flatten()
    }

    /// The values to fill `form` with (empty unless it is the refused one).
    pub fn values(&self, form: &str) -> BTreeMap<String, String> {
        if self.form == form {
            self.values.clone()
        } else {
            BTreeMap::new()
        }
    }
}

/// Checks a form's CSRF token against the session's.
pub fn check_csrf(user: &CurrentUser, values: &BTreeMap<String, String>) -> Result<(), ApiError> {
    if values.get("csrf").map(String::as_str) == Some(user.csrf.as_str()) {
        Ok(())
    } else {
        Err(ApiError::Forbidden(
            "this form has expired (or came from elsewhere): reload the page and submit again"
                .into(),
        ))
    }
}

/// A page response with a status other than 200 (a refused form, shown again).
pub fn page_with_status(
    status: StatusCode,
    title: &str,
    user: &CurrentUser,
    body: Markup,
) -> Response {
    (status, Html(layout(title, Some(user), body).into_string())).into_response()
}

/// The search box of a list page: study id text, and for study-wide roles the site and,
/// where the list has one, the state.
pub fn search_form(
    action: &str,
    user: &CurrentUser,
    q: Option<&str>,
    site: Option<&str>,
    state: Option<&str>,
) -> Markup {
    html! {
        form.actions.search method="get" action=(action) role="search" {
            label for="q" { "Study id" }
            input type="text" id="q" name="q" value=(q.unwrap_or_default()) maxlength="20" placeholder="e.g. KS-00";
            @if !user.role.is_site_bound() {
                label for="site" { "Site" }
                input type="text" id="site" name="site" value=(site.unwrap_or_default()) maxlength="4" size="5";
            }
            @if let Some(state) = state {
                label for="state" { "State" }
                select id="state" name="state" {
                    option value="" { "any" }
                    @for k in protocol::StateKind::ALL {
                        option value=(k.name()) selected[k.name() == state] { (k.name().replace('_', " ")) }
                    }
                }
            }
            button type="submit" { "Filter" }
        }
    }
}

/// Links to the previous and next pages of a list, keeping its filters.
pub fn pager(
    base: &str,
    total: u64,
    offset: u32,
    limit: u32,
    filters: &[(&str, Option<String>)],
) -> Markup {
    let first = u64::from(offset) + 1;
    let last = (u64::from(offset) + u64::from(limit)).min(total);
    let link = |to: u32| {
        let mut pairs: Vec<(&str, String)> = filters
            .iter()
            .filter_map(|(k, v)| v.clone().filter(|v| !v.trim().is_empty()).map(|v| (*k, v)))
            .collect();
        pairs.push(("offset", to.to_string()));
        pairs.push(("limit", limit.to_string()));
        format!(
            "{base}?{}",
            serde_urlencoded::to_string(&pairs).unwrap_or_default()
        )
    };
    html! {
        nav.pager aria-label="pages" {
            span.muted { (first) "–" (last) " of " (total) }
            @if offset > 0 {
                " " a rel="prev" href=(link(offset.saturating_sub(limit))) { "← previous" }
            }
            @if u64::from(offset) + u64::from(limit) < total {
                " " a rel="next" href=(link(offset.saturating_add(limit))) { "next →" }
            }
        }
    }
}
