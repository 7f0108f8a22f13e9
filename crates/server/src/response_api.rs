//! Tumour response over the JSON API (PROTOCOL §10): the baseline CT, the follow-ups and
//! the RECIST 1.1 engine's result as recorded. The reader enters the assessments with the
//! ordinary commands `tumour-baseline` and `tumour-assessment` under `/commands/`.

use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use trial::response::ResponseView;

use crate::AppState;
use crate::auth::ApiUser;
use crate::error::ApiError;

/// The routes.
pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/participants/{id}/response", get(response))
}

async fn response(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(id): Path<String>,
) -> Result<Json<ResponseView>, ApiError> {
    Ok(Json(state.trial.response(&user, &id).await?))
}
