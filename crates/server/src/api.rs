//! The JSON API under `/api/v1`. Errors are JSON with a rule id and a message
//! (422 refusal, 409 conflict, 401/403/404 access, 400 malformed); bad input never gives
//! a 500.

use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderName, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use trial::Written;
use trial::participants::{
    CommandRequest, ListQuery, ParticipantDetail, Registration, TimelineEntry,
};

use crate::AppState;
use crate::auth::{self, ApiUser, ClientAddress, CurrentUser, SessionUser};
use crate::error::ApiError;

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

/// Query-string extractor whose rejections are our JSON errors (400), not plain text.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(v)) => Ok(ApiQuery(v)),
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
        .merge(crate::batch_api::router())
        .merge(crate::pet_api::router())
        .merge(crate::journey_api::router())
        .merge(crate::response_api::router())
        .merge(crate::account_api::router())
        .merge(crate::work_api::router())
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
    /// The password was reset by an administrator: change it
    /// (`POST /api/v1/account/password`) before anything else.
    pub must_change_password: bool,
}

impl From<&CurrentUser> for Me {
    fn from(u: &CurrentUser) -> Self {
        Me {
            username: u.username.clone(),
            display_name: u.display_name.clone(),
            role: u.role.id().into(),
            site: u.site.clone(),
            csrf_token: u.csrf.clone(),
            must_change_password: u.must_change_password,
        }
    }
}

async fn sign_in(
    State(state): State<AppState>,
    ClientAddress(client): ClientAddress,
    ApiJson(body): ApiJson<SignIn>,
) -> Result<Response, ApiError> {
    let (token, user) =
        auth::sign_in(&state, &body.username, &body.password, client.as_deref()).await?;
    let me = Me::from(&user);
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
    SessionUser(user): SessionUser,
) -> Result<Response, ApiError> {
    state.trial.sign_out(&user.session_hash).await?;
    Ok((
        StatusCode::NO_CONTENT,
        [(header::SET_COOKIE, auth::clear_cookie())],
    )
        .into_response())
}

async fn me(SessionUser(user): SessionUser) -> Json<Me> {
    Json(Me::from(&user))
}

/// The `x-total-count` header of a paged list.
pub fn total_header(total: u64) -> [(HeaderName, String); 1] {
    [(HeaderName::from_static("x-total-count"), total.to_string())]
}

/// A page of the participants this user may see (filter by `site`, `state`, `q`; page with
/// `limit`, `offset`); the `x-total-count` header says how many match in all.
async fn list(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Response, ApiError> {
    let page = state.trial.participant_list(&user, &q).await?;
    Ok((total_header(page.total), Json(page.rows)).into_response())
}

async fn register(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiJson(body): ApiJson<Registration>,
) -> Result<Response, ApiError> {
    let written = state.trial.register(&user, &body).await?;
    Ok((StatusCode::CREATED, Json(written)).into_response())
}

async fn show(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(id): Path<String>,
) -> Result<Json<ParticipantDetail>, ApiError> {
    Ok(Json(state.trial.participant_detail(&user, &id).await?))
}

async fn events(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(id): Path<String>,
) -> Result<Json<Vec<TimelineEntry>>, ApiError> {
    Ok(Json(state.trial.timeline(&user, &id).await?))
}

async fn eligibility(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(id): Path<String>,
) -> Result<Json<protocol::EligibilityReport>, ApiError> {
    Ok(Json(state.trial.eligibility(&user, &id).await?))
}

async fn run_command(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path((id, name)): Path<(String, String)>,
    ApiJson(req): ApiJson<CommandRequest>,
) -> Result<Json<Written>, ApiError> {
    Ok(Json(state.trial.run_command(&user, &id, &name, req).await?))
}
