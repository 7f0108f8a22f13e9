//! The JSON API under `/api/v1`. Errors are JSON with a rule id and a message
//! (422 refusal, 409 conflict, 401/403/404 access, 400 malformed); bad input never gives
//! a 500.

use axum::extract::{FromRequest, Path, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::Utc;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use store::ParticipantRow;

use crate::AppState;
use crate::auth::{self, ApiUser, CurrentUser};
use crate::commands;
use crate::error::ApiError;
use crate::roles::Capability;
use crate::write::{self, Actor, Registration};

/// JSON body extractor whose rejections are our JSON errors (400), not plain text.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(ApiJson(v)),
            Err(rejection) => Err(ApiError::BadRequest(rejection.body_text())),
        }
    }
}

/// The API routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/openapi.json", get(crate::openapi::document))
        .route("/api/v1/session", post(sign_in).delete(sign_out))
        .route("/api/v1/me", get(me))
        .route("/api/v1/participants", get(list).post(register))
        .route("/api/v1/participants/{id}", get(show))
        .route("/api/v1/participants/{id}/events", get(events))
        .route("/api/v1/participants/{id}/eligibility", get(eligibility))
        .route(
            "/api/v1/participants/{id}/commands/{command}",
            post(run_command),
        )
        .merge(crate::pet_api::router())
        .merge(crate::journey_api::router())
        .merge(crate::response_api::router())
        .route("/api/{*rest}", axum::routing::any(not_found))
}

async fn not_found() -> ApiError {
    ApiError::NotFound("no such API endpoint".into())
}

/// Sign-in request.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SignIn {
    /// User name.
    pub username: String,
    /// Password.
    pub password: String,
}

/// Who is signed in.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct Me {
    /// User name.
    pub username: String,
    /// Name shown.
    pub display_name: String,
    /// Role id.
    pub role: String,
    /// Site of a site-bound user.
    pub site: Option<String>,
    /// Send this in the `x-csrf-token` header of every write.
    pub csrf_token: String,
}

impl From<&CurrentUser> for Me {
    fn from(u: &CurrentUser) -> Self {
        Me {
            username: u.username.clone(),
            display_name: u.display_name.clone(),
            role: u.role.id().into(),
            site: u.site.clone(),
            csrf_token: u.csrf.clone(),
        }
    }
}

async fn sign_in(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<SignIn>,
) -> Result<Response, ApiError> {
    let (token, csrf) = auth::sign_in(&state, &body.username, &body.password, Utc::now()).await?;
    let user = state
        .store
        .user(&body.username)
        .await?
        .ok_or(ApiError::SignInFailed)?;
    let me = Me {
        username: user.username,
        display_name: user.display_name,
        role: user.role,
        site: user.site,
        csrf_token: csrf,
    };
    Ok((
        [(
            header::SET_COOKIE,
            auth::session_cookie(&token, state.secure_cookies),
        )],
        Json(me),
    )
        .into_response())
}

async fn sign_out(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
) -> Result<Response, ApiError> {
    state.store.delete_session(&user.session_hash).await?;
    Ok((
        StatusCode::NO_CONTENT,
        [(header::SET_COOKIE, auth::clear_cookie())],
    )
        .into_response())
}

async fn me(ApiUser(user): ApiUser) -> Json<Me> {
    Json(Me::from(&user))
}

/// A participant as the list shows it.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct ParticipantSummary {
    /// Pseudonymous study id.
    pub study_id: String,
    /// Site code.
    pub site: String,
    /// State in the journey (PROTOCOL.md §2).
    pub state: String,
    /// Version: send it as `expected_version` with the next command.
    pub version: i64,
    /// Last change (UTC).
    pub updated_at: chrono::DateTime<Utc>,
}

impl From<ParticipantRow> for ParticipantSummary {
    fn from(r: ParticipantRow) -> Self {
        ParticipantSummary {
            study_id: r.study_id,
            site: r.site,
            state: r.state,
            version: r.version,
            updated_at: r.updated_at,
        }
    }
}

/// The participants this user may see: their own site's, or all for study-wide roles.
pub async fn visible_participants(
    state: &AppState,
    user: &CurrentUser,
) -> Result<Vec<ParticipantRow>, ApiError> {
    user.require(Capability::ReadParticipants)?;
    let site = if user.role.is_site_bound() {
        Some(user.site.clone().unwrap_or_default())
    } else {
        None
    };
    Ok(state.store.participants(site.as_deref()).await?)
}

/// One participant, if this user may see her; otherwise the same 404 as for none.
pub async fn visible_participant(
    state: &AppState,
    user: &CurrentUser,
    study_id: &str,
) -> Result<ParticipantRow, ApiError> {
    user.require(Capability::ReadParticipants)?;
    match state.store.participant(study_id).await? {
        Some(row) if user.sees_site(&row.site) => Ok(row),
        _ => Err(ApiError::no_participant(study_id)),
    }
}

async fn list(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
) -> Result<Json<Vec<ParticipantSummary>>, ApiError> {
    let rows = visible_participants(&state, &user).await?;
    Ok(Json(rows.into_iter().map(Into::into).collect()))
}

/// Chooses the site of a new registration: a site-bound user's own, or the one given.
pub fn registration_site(user: &CurrentUser, asked: Option<&str>) -> Result<String, ApiError> {
    match (&user.site, asked) {
        (Some(own), Some(asked)) if own != asked => Err(ApiError::Forbidden(format!(
            "you register participants at {own} only"
        ))),
        (Some(own), _) => Ok(own.clone()),
        (None, Some(asked)) => Ok(asked.to_string()),
        (None, None) => Err(ApiError::BadRequest("give the site".into())),
    }
}

async fn register(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiJson(body): ApiJson<Registration>,
) -> Result<Response, ApiError> {
    user.require(Capability::EnterData)?;
    let site = registration_site(&user, body.site.as_deref())?;
    let written = write::register(&state, &Actor::from(&user), &site, &body).await?;
    Ok((StatusCode::CREATED, Json(written)).into_response())
}

/// A participant in full.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct ParticipantDetail {
    /// Pseudonymous study id.
    pub study_id: String,
    /// Site code.
    pub site: String,
    /// State in the journey.
    pub state: String,
    /// Version: send it as `expected_version` with the next command.
    pub version: i64,
    /// Every recorded fact, as folded from the audit trail.
    pub participant: serde_json::Value,
}

async fn show(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(id): Path<String>,
) -> Result<Json<ParticipantDetail>, ApiError> {
    let row = visible_participant(&state, &user, &id).await?;
    Ok(Json(ParticipantDetail {
        study_id: row.study_id,
        site: row.site,
        state: row.state,
        version: row.version,
        participant: row.snapshot,
    }))
}

/// One entry of the audit trail.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct TimelineEntry {
    /// Position in the whole study's log.
    pub seq: i64,
    /// Version of the participant after this event.
    pub version: i64,
    /// What happened.
    pub kind: String,
    /// The event's data.
    pub data: serde_json::Value,
    /// Who.
    pub actor: String,
    /// In which role.
    pub role: String,
    /// When it was recorded (UTC).
    pub recorded_at: chrono::DateTime<Utc>,
    /// Why, for corrections.
    pub reason: Option<String>,
    /// The event's link in the hash chain.
    pub hash: String,
}

/// The audit trail of a participant this user may see.
pub async fn timeline(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
) -> Result<Vec<TimelineEntry>, ApiError> {
    visible_participant(state, user, id).await?;
    let events = state
        .store
        .read_stream(&write::participant_stream(id))
        .await?;
    Ok(events
        .into_iter()
        .map(|e| TimelineEntry {
            seq: e.seq,
            version: e.version,
            kind: e.kind,
            data: e.payload,
            actor: e.meta.actor,
            role: e.meta.role,
            recorded_at: e.meta.recorded_at,
            reason: e.meta.reason,
            hash: e.hash,
        })
        .collect())
}

async fn events(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(id): Path<String>,
) -> Result<Json<Vec<TimelineEntry>>, ApiError> {
    Ok(Json(timeline(&state, &user, &id).await?))
}

/// The eligibility result of a participant this user may see.
pub async fn eligibility_of(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
) -> Result<protocol::EligibilityReport, ApiError> {
    visible_participant(state, user, id).await?;
    let loaded = write::load(&state.store, id).await?;
    let settings = crate::admin::load_settings(&state.store).await?;
    Ok(protocol::evaluate_eligibility(
        &loaded.participant,
        Utc::now(),
        &settings,
    ))
}

async fn eligibility(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(id): Path<String>,
) -> Result<Json<protocol::EligibilityReport>, ApiError> {
    Ok(Json(eligibility_of(&state, &user, &id).await?))
}

/// Password re-entry for a signed command.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SignatureRequest {
    /// The signer's password, entered again.
    pub password: String,
}

/// A command for a participant.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CommandRequest {
    /// The participant's version you saw; a stale one gets 409.
    pub expected_version: i64,
    /// Why (required for corrections).
    #[serde(default)]
    pub reason: Option<String>,
    /// The command's data (see the command's schema).
    pub data: serde_json::Value,
    /// For signed commands: the password, entered again.
    #[serde(default)]
    pub signature: Option<SignatureRequest>,
}

/// Runs a command for a participant on behalf of a user: capability, then visibility,
/// then the signature, then the write path.
pub async fn command_for(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
    name: &str,
    req: CommandRequest,
) -> Result<write::Written, ApiError> {
    let spec =
        commands::find(name).ok_or_else(|| ApiError::NotFound(format!("no command {name}")))?;
    user.require(spec.capability)?;
    visible_participant(state, user, id).await?;
    if let Some(reason) = &req.reason {
        protocol::privacy::check_free_text("reason", reason)?;
    }
    let signer = match (spec.signature_meaning, &req.signature) {
        (None, _) => None,
        (Some(_), None) => {
            return Err(ApiError::BadRequest(
                "this command is signed: send signature.password".into(),
            ));
        }
        (Some(meaning), Some(sig)) => {
            let hash = state
                .store
                .user(&user.username)
                .await?
                .map(|u| u.password_hash);
            if !auth::verify_password(sig.password.clone(), hash).await {
                return Err(ApiError::Forbidden(
                    "signature refused: wrong password".into(),
                ));
            }
            Some((user, meaning))
        }
    };
    let command = commands::build(spec, req.data, signer, Utc::now())?;
    write::execute(
        state,
        &Actor::from(user),
        id,
        req.expected_version,
        &command,
        req.reason,
    )
    .await
}

async fn run_command(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path((id, name)): Path<(String, String)>,
    ApiJson(req): ApiJson<CommandRequest>,
) -> Result<Json<write::Written>, ApiError> {
    Ok(Json(command_for(&state, &user, &id, &name, req).await?))
}
