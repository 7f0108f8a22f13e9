//! Tumour response over the JSON API (PROTOCOL §10): the baseline CT, the follow-ups and
//! the RECIST 1.1 engine's result as recorded. The reader enters the assessments with the
//! ordinary commands `tumour-baseline` and `tumour-assessment` under `/commands/`.

use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use protocol::Entry;
use protocol::response::{Progression, ResponseEvaluation, TumourAssessment, TumourBaseline};
use serde::Serialize;

use crate::AppState;
use crate::api::visible_participant;
use crate::auth::{ApiUser, CurrentUser};
use crate::error::ApiError;
use crate::write;

/// The routes.
pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/participants/{id}/response", get(response))
}

/// A participant's tumour response as recorded.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct ResponseView {
    /// Participant version: send it as `expected_version`.
    pub version: i64,
    /// Journey state.
    pub state: String,
    /// The current baseline CT.
    pub baseline: Option<Entry<TumourBaseline>>,
    /// The current follow-up CTs, in scan-date order.
    pub assessments: Vec<Entry<TumourAssessment>>,
    /// The RECIST 1.1 engine's current result, with the engine version.
    pub evaluation: Option<ResponseEvaluation>,
    /// Progression, once recorded.
    pub progression: Option<Progression>,
}

/// The response of a participant this user may see (the same 404 as for none otherwise).
pub async fn response_of(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
) -> Result<ResponseView, ApiError> {
    visible_participant(state, user, id).await?;
    let loaded = write::load(&state.store, id).await?;
    let p = &loaded.participant;
    Ok(ResponseView {
        version: loaded.version,
        state: p.state.name().to_owned(),
        baseline: p.tumour_baseline().cloned(),
        assessments: p
            .current_tumour_assessments()
            .into_iter()
            .cloned()
            .collect(),
        evaluation: p.response_evaluation().cloned(),
        progression: p.progression.clone(),
    })
}

async fn response(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(id): Path<String>,
) -> Result<Json<ResponseView>, ApiError> {
    Ok(Json(response_of(&state, &user, &id).await?))
}
