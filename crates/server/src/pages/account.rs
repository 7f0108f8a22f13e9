//! The page where a user changes her own password: reached from the header, and the only
//! page a user may see after an administrator reset her password.

use axum::Router;
use axum::extract::{Query, RawForm, State};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use maud::{Markup, html};

use super::{check_csrf, error_page, form_values, layout};
use crate::AppState;
use crate::auth::{CurrentUser, PASSWORD_PAGE, PageUser};
use crate::error::ApiError;

pub(super) fn router() -> Router<AppState> {
    Router::new().route(PASSWORD_PAGE, get(show).post(submit))
}

fn form(user: &CurrentUser, problem: Option<&str>, done: Option<&str>) -> Markup {
    layout(
        "Change your password",
        Some(user),
        html! {
            h1 { "Change your password" }
            @if let Some(n) = super::saved_notice(done) {
                (n)
                p { a href=(super::landing_path(user.role)) { "Continue to your start page" } }
            }
            @if user.must_change_password {
                p { "An administrator set your password: choose your own before you go on." }
            }
            @if let Some(p) = problem { div.error role="alert" { (p) } }
            form.card method="post" action=(PASSWORD_PAGE) {
                input type="hidden" name="csrf" value=(user.csrf);
                div.field {
                    label for="current" { "Current password" }
                    input type="password" id="current" name="current" autocomplete="current-password" required autofocus;
                }
                div.field {
                    label for="new" { "New password" }
                    input type="password" id="new" name="new" autocomplete="new-password" minlength="12" required;
                    small.help { "At least 12 characters; common passwords and your user name are refused." }
                }
                button type="submit" { "Change password" }
            }
        },
    )
}

async fn show(PageUser(user): PageUser, Query(d): Query<super::Done>) -> Html<String> {
    Html(form(&user, None, d.done.as_deref()).into_string())
}

async fn submit(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    RawForm(body): RawForm,
) -> Response {
    let result = async {
        let values = form_values(&body)?;
        check_csrf(&user, &values)?;
        let get = |k: &str| values.get(k).cloned().unwrap_or_default();
        state
            .trial
            .change_own_password(&user, &get("current"), &get("new"))
            .await?;
        Ok::<_, ApiError>(())
    }
    .await;
    match result {
        // The change is confirmed on the page, with the way on to her start page.
        Ok(()) => super::done(PASSWORD_PAGE, "password"),
        Err(e @ (ApiError::BadRequest(_) | ApiError::Forbidden(_))) => {
            let status = e.status();
            (
                status,
                Html(form(&user, Some(&e.to_string()), None).into_string()),
            )
                .into_response()
        }
        Err(e) => error_page(e),
    }
}
