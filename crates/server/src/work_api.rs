//! The signed-in user's work list over the JSON API: what her role has to do now
//! ([`trial::Trial::work_list`]), the same list the `/work` page shows.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use trial::worklist::WorkList;

use crate::AppState;
use crate::auth::ApiUser;
use crate::error::ApiError;

/// The routes.
pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/work", get(work))
}

async fn work(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
) -> Result<Json<WorkList>, ApiError> {
    Ok(Json(state.trial.work_list(&user).await?))
}
