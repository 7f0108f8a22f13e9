//! The study's answers over the JSON API: every analysis's numbers as of a data cut-off
//! (`GET /api/v1/analyses?as_of=…`), for the statistician and the study director; each
//! answer is recorded in the audit trail as an output. Keys: `docs/analysis.md`.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use protocol::outputs::OutputKind;

use crate::AppState;
use crate::api::ApiQuery;
use crate::auth::ApiUser;
use crate::error::ApiError;
use crate::pages::analyses::AsOfQuery;

/// The routes.
pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/analyses", get(analyses))
}

/// Every analysis as JSON.
async fn analyses(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiQuery(q): ApiQuery<AsOfQuery>,
) -> Result<Response, ApiError> {
    let as_of = q.moment(state.trial.zone())?;
    let r = state
        .trial
        .take_results(&user, OutputKind::Analysis, as_of, "api")
        .await?;
    Ok(Json(r.analyses).into_response())
}
