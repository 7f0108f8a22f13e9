//! Accounts over the JSON API: a user changes her own password; an administrator resets
//! a password, deactivates, reactivates or unlocks an account, and changes a user's role
//! or site. Every administrative change carries a reason, which the audit trail keeps.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::post;
use serde::Deserialize;
use trial::Role;

use crate::AppState;
use crate::api::ApiJson;
use crate::auth::{ApiUser, SessionUser};
use crate::error::ApiError;

/// The account routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/account/password", post(change_own_password))
        .route(
            "/api/v1/admin/users/{username}/reset-password",
            post(reset_password),
        )
        .route(
            "/api/v1/admin/users/{username}/deactivate",
            post(deactivate),
        )
        .route(
            "/api/v1/admin/users/{username}/reactivate",
            post(reactivate),
        )
        .route("/api/v1/admin/users/{username}/unlock", post(unlock))
        .route("/api/v1/admin/users/{username}/role", post(change_role))
        .route("/api/v1/admin/users/{username}/site", post(change_site))
}

/// A user's change of her own password.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    /// The password she has now.
    pub current_password: String,
    /// The new one: at least 12 characters, not a common password, not the user name.
    pub new_password: String,
}

/// An administrator's new password for a user, to be changed at her next sign-in.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordReset {
    /// The new password (the same policy as any password).
    pub new_password: String,
    /// Why, for the audit trail.
    pub reason: String,
}

/// An administrative change that needs only a reason.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Reason {
    /// Why, for the audit trail.
    pub reason: String,
}

/// A user's new role.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleChange {
    /// The new role.
    pub role: Role,
    /// Its site: required for a site role, refused for a study-wide one.
    #[serde(default)]
    pub site: Option<String>,
    /// Why, for the audit trail.
    pub reason: String,
}

/// A user's new site, in the same site role.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SiteChange {
    /// The site code.
    pub site: String,
    /// Why, for the audit trail.
    pub reason: String,
}

async fn change_own_password(
    State(state): State<AppState>,
    SessionUser(user): SessionUser,
    ApiJson(body): ApiJson<PasswordChange>,
) -> Result<StatusCode, ApiError> {
    state
        .trial
        .change_own_password(&user, &body.current_password, &body.new_password)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn reset_password(
    State(state): State<AppState>,
    ApiUser(admin): ApiUser,
    Path(username): Path<String>,
    ApiJson(body): ApiJson<PasswordReset>,
) -> Result<StatusCode, ApiError> {
    state
        .trial
        .reset_password(&admin, &username, &body.new_password, &body.reason)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn deactivate(
    State(state): State<AppState>,
    ApiUser(admin): ApiUser,
    Path(username): Path<String>,
    ApiJson(body): ApiJson<Reason>,
) -> Result<StatusCode, ApiError> {
    state
        .trial
        .set_active(&admin, &username, false, &body.reason)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn reactivate(
    State(state): State<AppState>,
    ApiUser(admin): ApiUser,
    Path(username): Path<String>,
    ApiJson(body): ApiJson<Reason>,
) -> Result<StatusCode, ApiError> {
    state
        .trial
        .set_active(&admin, &username, true, &body.reason)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn unlock(
    State(state): State<AppState>,
    ApiUser(admin): ApiUser,
    Path(username): Path<String>,
    ApiJson(body): ApiJson<Reason>,
) -> Result<StatusCode, ApiError> {
    state.trial.unlock(&admin, &username, &body.reason).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn change_role(
    State(state): State<AppState>,
    ApiUser(admin): ApiUser,
    Path(username): Path<String>,
    ApiJson(body): ApiJson<RoleChange>,
) -> Result<StatusCode, ApiError> {
    state
        .trial
        .change_role(
            &admin,
            &username,
            body.role,
            body.site.as_deref(),
            &body.reason,
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn change_site(
    State(state): State<AppState>,
    ApiUser(admin): ApiUser,
    Path(username): Path<String>,
    ApiJson(body): ApiJson<SiteChange>,
) -> Result<StatusCode, ApiError> {
    state
        .trial
        .change_site(&admin, &username, &body.site, &body.reason)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
