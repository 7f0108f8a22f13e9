//! Administration over the JSON API: the sites and adding one, the user accounts and
//! creating one, and the versioned protocol settings (every version with who, when and
//! why, the count of decisions made under each) and a change with its reason. The
//! administrator only; the writes go through the same audited trial commands as the
//! administration pages and the command line.

use std::collections::BTreeMap;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use serde::{Deserialize, Serialize};
use trial::admin::{NewUser, SettingsVersion};
use trial::{Capability, Role};

use crate::AppState;
use crate::api::ApiJson;
use crate::auth::ApiUser;
use crate::error::ApiError;

/// The administration routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/admin/users", get(users).post(add_user))
        .route("/api/v1/admin/sites", get(sites).post(add_site))
        .route(
            "/api/v1/admin/settings",
            get(settings).post(change_settings),
        )
}

/// A user account as the administrator sees it.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct Account {
    /// Sign-in name.
    pub username: String,
    /// Name shown in the audit trail.
    pub display_name: String,
    /// Role id.
    pub role: String,
    /// Site of a site-bound role.
    pub site: Option<String>,
    /// Whether the account may sign in (not deactivated).
    pub active: bool,
    /// Whether it is locked after too many wrong passwords.
    pub locked: bool,
}

/// A new user account.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAccount {
    /// Sign-in name: 2–32 of a–z, 0–9, `.`, `_`, `-`.
    pub username: String,
    /// Name shown in the audit trail (the user name when left empty).
    #[serde(default)]
    pub display_name: String,
    /// Role.
    pub role: Role,
    /// Site: required for a site role, refused for a study-wide one.
    #[serde(default)]
    pub site: Option<String>,
    /// Initial password: at least 12 characters, not a common one, not the user name.
    pub password: String,
}

/// A trial site.
#[derive(Debug, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Site {
    /// Short code used in study ids (`KS`): 2–4 capital letters.
    pub code: String,
    /// Full name.
    pub name: String,
}

/// The protocol settings' history.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct SettingsHistory {
    /// The version in force.
    pub in_force: u32,
    /// Every version, oldest first, with who put it in force, when and why.
    pub versions: Vec<SettingsVersion>,
    /// How many recorded decisions name each settings version (counted from the audit
    /// log), by version.
    pub decisions_by_version: BTreeMap<u32, u64>,
}

/// A change of the protocol settings.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SettingsProposal {
    /// The complete new settings; the version must be the one in force plus one.
    pub settings: Box<protocol::Settings>,
    /// Why, for the audit trail.
    pub reason: String,
}

async fn users(
    State(state): State<AppState>,
    ApiUser(admin): ApiUser,
) -> Result<axum::Json<Vec<Account>>, ApiError> {
    let rows = state.trial.users(&admin).await?;
    Ok(axum::Json(
        rows.into_iter()
            .map(|u| Account {
                username: u.username,
                display_name: u.display_name,
                role: u.role,
                site: u.site,
                active: u.active,
                locked: u.locked,
            })
            .collect(),
    ))
}

async fn add_user(
    State(state): State<AppState>,
    ApiUser(admin): ApiUser,
    ApiJson(body): ApiJson<NewAccount>,
) -> Result<StatusCode, ApiError> {
    admin.require(Capability::Administer)?;
    let user = NewUser {
        username: body.username,
        display_name: body.display_name,
        role: body.role,
        site: body.site,
        password: body.password,
    };
    state.trial.add_user(&admin.actor(), user).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn sites(
    State(state): State<AppState>,
    ApiUser(admin): ApiUser,
) -> Result<axum::Json<Vec<Site>>, ApiError> {
    let rows = state.trial.sites(&admin).await?;
    Ok(axum::Json(
        rows.into_iter()
            .map(|s| Site {
                code: s.code,
                name: s.name,
            })
            .collect(),
    ))
}

async fn add_site(
    State(state): State<AppState>,
    ApiUser(admin): ApiUser,
    ApiJson(body): ApiJson<Site>,
) -> Result<StatusCode, ApiError> {
    admin.require(Capability::Administer)?;
    state
        .trial
        .add_site(&admin.actor(), &body.code, &body.name)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn settings(
    State(state): State<AppState>,
    ApiUser(admin): ApiUser,
) -> Result<axum::Json<SettingsHistory>, ApiError> {
    let versions = state.trial.settings_history(&admin).await?;
    let decisions_by_version = state.trial.decisions_by_settings_version(&admin).await?;
    let in_force = state.trial.settings().await?.version;
    Ok(axum::Json(SettingsHistory {
        in_force,
        versions,
        decisions_by_version,
    }))
}

async fn change_settings(
    State(state): State<AppState>,
    ApiUser(admin): ApiUser,
    ApiJson(body): ApiJson<SettingsProposal>,
) -> Result<StatusCode, ApiError> {
    admin.require(Capability::Administer)?;
    state
        .trial
        .change_settings(&admin.actor(), *body.settings, &body.reason)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
