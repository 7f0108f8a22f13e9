//! The user accounts: the list with role, site and status, a new account, and one
//! account's page with its lifecycle (deactivate, reactivate, unlock, role or site,
//! password reset), each through the trial layer's account commands and their rules.

use std::collections::BTreeMap;

use axum::Router;
use axum::extract::{Path, Query, RawForm, State};
use axum::response::Response;
use axum::routing::{get, post};
use maud::{Markup, html};
use store::UserRow;
use trial::admin::NewUser;
use trial::{Capability, Role};

use super::{Again, Done, Fields, field, reason_field, refused};
use crate::AppState;
use crate::auth::{CurrentUser, PageUser};
use crate::error::ApiError;
use crate::pages::{checked_form, done, page, page_try, saved_notice};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/users", get(list).post(create))
        .route("/admin/users/{username}", get(account))
        .route("/admin/users/{username}/{action}", post(act))
}

const NEW_FORM: &str = "new-user";
/// The new-account form's fields, with the words of a refusal about each (the password
/// first: its rules name the user name too).
const NEW_FIELDS: [(&str, &[&str]); 5] = [
    ("password", &["password"]),
    ("display_name", &["display name"]),
    ("username", &["user name", "exists"]),
    ("site", &["site"]),
    ("role", &["role", "study-wide"]),
];

/// The status of an account in words.
fn status(u: &UserRow) -> &'static str {
    match (u.active, u.locked) {
        (false, _) => "deactivated",
        (true, true) => "locked",
        (true, false) => "active",
    }
}

fn role_label(id: &str) -> String {
    Role::parse(id).map_or_else(|| id.to_string(), |r| r.label().to_string())
}

/// A choice of role, `chosen` selected.
fn role_select(id: &str, chosen: &str) -> Markup {
    html! {
        select id=(id) name="role" required {
            option value="" { "choose a role" }
            @for r in Role::ALL {
                option value=(r.id()) selected[r.id() == chosen] {
                    (r.label()) @if r.is_site_bound() { " (at a site)" } @else { " (study-wide)" }
                }
            }
        }
    }
}

/// A choice of site, or none (for study-wide roles), `chosen` selected.
fn site_select(id: &str, sites: &[store::SiteRow], chosen: &str, none: bool) -> Markup {
    html! {
        select id=(id) name="site" {
            @if none { option value="" { "none (study-wide role)" } }
            @for s in sites {
                option value=(s.code) selected[s.code == chosen] { (s.code) " · " (s.name) }
            }
        }
    }
}

async fn list(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Query(done): Query<Done>,
) -> Response {
    page_try!(user.require(Capability::Administer));
    let body = page_try!(list_body(&state, &user, done.done.as_deref(), &Again::default()).await);
    page("Users", &user, body)
}

async fn list_body(
    state: &AppState,
    user: &CurrentUser,
    done: Option<&str>,
    again: &Again,
) -> Result<Markup, ApiError> {
    let users = state.trial.users(user).await?;
    let sites = state.trial.sites(user).await?;
    let v = |k: &str| again.value(NEW_FORM, k);
    Ok(html! {
        h1 { "Users" }
        @if let Some(n) = saved_notice(done) { (n) }
        div.scroll {
            table {
                thead { tr { th { "User name" } th { "Name" } th { "Role" } th { "Site" } th { "Status" } } }
                tbody {
                    @for u in &users {
                        tr {
                            td { a href={ "/admin/users/" (u.username) } { (u.username) } }
                            td { (u.display_name) }
                            td { (role_label(&u.role)) }
                            td { (u.site.as_deref().unwrap_or("—")) }
                            td { span class={ "badge " (status(u)) } { (status(u)) } }
                        }
                    }
                }
            }
        }
        h2 { "Create a user" }
        form.card method="post" action="/admin/users" {
            input type="hidden" name="csrf" value=(user.csrf);
            (field(again, NEW_FORM, "username", "User name", html! {
                input type="text" id="new-user-username" name="username" value=(v("username")) maxlength="32" required autocomplete="off";
                small.help { "2 to 32 of a–z, 0–9, '.', '_', '-'." }
            }))
            (field(again, NEW_FORM, "display_name", "Name shown in the audit trail", html! {
                input type="text" id="new-user-display_name" name="display_name" value=(v("display_name")) maxlength="200";
            }))
            (field(again, NEW_FORM, "role", "Role", role_select("new-user-role", &v("role"))))
            (field(again, NEW_FORM, "site", "Site", site_select("new-user-site", &sites, &v("site"), true)))
            (field(again, NEW_FORM, "password", "Initial password", html! {
                input type="password" id="new-user-password" name="password" minlength="12" required autocomplete="new-password";
                small.help { "At least 12 characters; common passwords and the user name are refused." }
            }))
            button type="submit" { "Create user" }
        }
    })
}

async fn create(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    RawForm(body): RawForm,
) -> Response {
    page_try!(user.require(Capability::Administer));
    let mut values = page_try!(checked_form(&user, &body));
    let result = async {
        let get = |k: &str| values.get(k).map(|v| v.trim().to_string());
        let role = get("role").unwrap_or_default();
        let role = Role::parse(&role)
            .ok_or_else(|| ApiError::BadRequest("choose the user's role".into()))?;
        let new = NewUser {
            username: get("username").unwrap_or_default(),
            display_name: get("display_name").unwrap_or_default(),
            role,
            site: get("site").filter(|s| !s.is_empty()),
            password: values.get("password").cloned().unwrap_or_default(),
        };
        Ok::<_, ApiError>(state.trial.add_user(&user.actor(), new).await?)
    }
    .await;
    let err = match result {
        Ok(()) => return done("/admin/users", "user-created"),
        Err(e) => e,
    };
    // A password is never sent back to the browser.
    values.remove("password");
    let again = Again::after(NEW_FORM, &NEW_FIELDS, values, &err);
    let body = page_try!(list_body(&state, &user, None, &again).await);
    refused(err, &user, "Users", body)
}

async fn account(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path(username): Path<String>,
    Query(done): Query<Done>,
) -> Response {
    page_try!(user.require(Capability::Administer));
    let body = page_try!(
        account_body(
            &state,
            &user,
            &username,
            done.done.as_deref(),
            &Again::default()
        )
        .await
    );
    page(&format!("User {username}"), &user, body)
}

/// One account's page: what it is, and a form for each change that applies to it.
async fn account_body(
    state: &AppState,
    user: &CurrentUser,
    username: &str,
    done: Option<&str>,
    again: &Again,
) -> Result<Markup, ApiError> {
    let u = state.trial.user_account(user, username).await?;
    let sites = state.trial.sites(user).await?;
    let site_bound = Role::parse(&u.role).is_some_and(Role::is_site_bound);
    let action = |a: &str| format!("/admin/users/{}/{a}", u.username);
    let csrf = html! { input type="hidden" name="csrf" value=(user.csrf); };
    Ok(html! {
        h1 { "User " (u.username) }
        @if let Some(n) = saved_notice(done) { (n) }
        div.card {
            p { (u.display_name) " · " (role_label(&u.role)) " · site " (u.site.as_deref().unwrap_or("none")) " · " span class={ "badge " (status(&u)) } { (status(&u)) } }
        }
        @if u.active {
            h2 { "Deactivate" }
            form.card method="post" action=(action("deactivate")) {
                (csrf) p.muted { "She can no longer sign in; her open sessions end." }
                (reason_field(again, "deactivate")) button type="submit" { "Deactivate" }
            }
        } @else {
            h2 { "Reactivate" }
            form.card method="post" action=(action("reactivate")) {
                (csrf) (reason_field(again, "reactivate")) button type="submit" { "Reactivate" }
            }
        }
        @if u.locked {
            h2 { "Unlock" }
            form.card method="post" action=(action("unlock")) {
                (csrf) p.muted { "Locked after too many wrong passwords." }
                (reason_field(again, "unlock")) button type="submit" { "Unlock" }
            }
        }
        h2 { "Change role" }
        form.card method="post" action=(action("role")) {
            (csrf)
            (field(again, "role", "role", "New role", role_select("role-role", &again.value("role", "role"))))
            (field(again, "role", "site", "Site of the new role", site_select("role-site", &sites, &again.value("role", "site"), true)))
            (reason_field(again, "role")) button type="submit" { "Change role" }
        }
        @if site_bound {
            h2 { "Move to another site" }
            form.card method="post" action=(action("site")) {
                (csrf)
                (field(again, "site", "site", "New site", site_select("site-site", &sites, &again.value("site", "site"), false)))
                (reason_field(again, "site")) button type="submit" { "Move" }
            }
        }
        h2 { "Reset the password" }
        form.card method="post" action=(action("password")) {
            (csrf)
            (field(again, "password", "new_password", "New password (she must change it at her next sign-in)", html! {
                input type="password" id="password-new_password" name="new_password" minlength="12" required autocomplete="new-password";
            }))
            (reason_field(again, "password")) button type="submit" { "Reset password" }
        }
    })
}

/// The account actions: (path segment, form, fields with the words of a refusal about
/// each, what the confirmation says).
const ACTIONS: [(&str, &Fields, &str); 6] = [
    ("deactivate", &[("reason", &[])], "user-deactivated"),
    ("reactivate", &[("reason", &[])], "user-reactivated"),
    ("unlock", &[("reason", &[])], "user-unlocked"),
    (
        "role",
        &[
            ("site", &["site"]),
            ("role", &["role", "own"]),
            ("reason", &[]),
        ],
        "role-changed",
    ),
    (
        "site",
        &[("site", &["site"]), ("reason", &[])],
        "site-changed",
    ),
    (
        "password",
        &[("new_password", &["password"]), ("reason", &[])],
        "password-reset",
    ),
];

/// Runs one account action through the trial layer.
async fn run(
    state: &AppState,
    user: &CurrentUser,
    username: &str,
    action: &str,
    values: &BTreeMap<String, String>,
) -> Result<(), ApiError> {
    let get = |k: &str| values.get(k).map(|v| v.trim()).unwrap_or_default();
    let reason = get("reason");
    let trial = &state.trial;
    match action {
        "deactivate" => trial.set_active(user, username, false, reason).await?,
        "reactivate" => trial.set_active(user, username, true, reason).await?,
        "unlock" => trial.unlock(user, username, reason).await?,
        "role" => {
            let role = Role::parse(get("role"))
                .ok_or_else(|| ApiError::BadRequest("choose the new role".into()))?;
            let site = Some(get("site")).filter(|s| !s.is_empty());
            trial
                .change_role(user, username, role, site, reason)
                .await?
        }
        "site" => {
            trial
                .change_site(user, username, get("site"), reason)
                .await?
        }
        _ => {
            let new = values.get("new_password").map_or("", String::as_str);
            trial.reset_password(user, username, new, reason).await?
        }
    }
    Ok(())
}

async fn act(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path((username, action)): Path<(String, String)>,
    RawForm(body): RawForm,
) -> Response {
    page_try!(user.require(Capability::Administer));
    let Some(&(form, fields, saved)) = ACTIONS.iter().find(|(a, _, _)| *a == action) else {
        return crate::pages::error_page(ApiError::NotFound(format!(
            "no account action {action:?}"
        )));
    };
    let mut values = page_try!(checked_form(&user, &body));
    let err = match run(&state, &user, &username, form, &values).await {
        Ok(()) => return done(&format!("/admin/users/{username}"), saved),
        Err(e) => e,
    };
    values.remove("new_password");
    let again = Again::after(form, fields, values, &err);
    let body = page_try!(account_body(&state, &user, &username, None, &again).await);
    refused(err, &user, &format!("User {username}"), body)
}
