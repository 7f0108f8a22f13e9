//! Several commands of one kind for a participant as one write, all or nothing:
//! `POST /api/v1/participants/{id}/commands/{command}/batch` with the data of each in
//! `items` (the investigator's open attestations under one signature, say). Each command
//! is decided by the protocol in turn; one refusal (422, its rule and which item) stores
//! none of them.

use axum::extract::{Path, State};
use axum::routing::post;
use axum::{Json, Router};
use trial::Written;
use trial::batch::BatchRequest;

use crate::AppState;
use crate::api::ApiJson;
use crate::auth::ApiUser;
use crate::error::ApiError;

/// The route.
pub fn router() -> Router<AppState> {
    Router::new().route(
        "/api/v1/participants/{id}/commands/{command}/batch",
        post(run_batch),
    )
}

async fn run_batch(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path((id, name)): Path<(String, String)>,
    ApiJson(req): ApiJson<BatchRequest>,
) -> Result<Json<Written>, ApiError> {
    Ok(Json(state.trial.run_batch(&user, &id, &name, req).await?))
}
