//! Sign-in and sign-out pages.

use axum::Router;
use axum::extract::{RawForm, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use maud::{Markup, html};

use super::{check_csrf, error_page, form_values, layout};
use crate::AppState;
use crate::auth::{self, PageUser};
use crate::error::ApiError;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/signin", get(show).post(submit))
        .route("/signout", post(sign_out))
}

fn form(username: &str, problem: Option<&str>) -> Markup {
    layout(
        "Sign in",
        None,
        html! {
            h1 { "Sign in" }
            @if let Some(p) = problem { div.error role="alert" { (p) } }
            form.card method="post" action="/signin" {
                div.field {
                    label for="username" { "User name" }
                    input type="text" id="username" name="username" value=(username) autocomplete="username" required autofocus;
                }
                div.field {
                    label for="password" { "Password" }
                    input type="password" id="password" name="password" autocomplete="current-password" required;
                }
                button type="submit" { "Sign in" }
            }
        },
    )
}

async fn show() -> Html<String> {
    Html(form("", None).into_string())
}

async fn submit(
    State(state): State<AppState>,
    auth::ClientAddress(client): auth::ClientAddress,
    RawForm(body): RawForm,
) -> Response {
    let values = match form_values(&body) {
        Ok(v) => v,
        Err(e) => return error_page(e),
    };
    let username = values.get("username").cloned().unwrap_or_default();
    let password = values.get("password").cloned().unwrap_or_default();
    match auth::sign_in(&state, &username, &password, client.as_deref()).await {
        Ok((token, user)) => (
            [(
                header::SET_COOKIE,
                auth::session_cookie(&token, state.secure_cookies),
            )],
            Redirect::to(if user.must_change_password {
                auth::PASSWORD_PAGE
            } else {
                super::landing_path(user.role)
            }),
        )
            .into_response(),
        Err(ApiError::SignInFailed) => (
            StatusCode::UNAUTHORIZED,
            Html(form(&username, Some("Wrong user name or password.")).into_string()),
        )
            .into_response(),
        Err(ApiError::Throttled { retry_after }) => (
            StatusCode::TOO_MANY_REQUESTS,
            [(header::RETRY_AFTER, retry_after.to_string())],
            Html(
                form(
                    &username,
                    Some(&format!(
                        "Too many failed sign-ins. Try again in {retry_after} seconds."
                    )),
                )
                .into_string(),
            ),
        )
            .into_response(),
        Err(e) => error_page(e),
    }
}

async fn sign_out(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    RawForm(body): RawForm,
) -> Response {
    let result = async {
        check_csrf(&user, &form_values(&body)?)?;
        state.trial.sign_out(&user.session_hash).await?;
        Ok::<_, ApiError>(())
    }
    .await;
    match result {
        Ok(()) => (
            [(header::SET_COOKIE, auth::clear_cookie())],
            Redirect::to("/signin"),
        )
            .into_response(),
        Err(e) => error_page(e),
    }
}
