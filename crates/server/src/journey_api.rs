//! The journey after PET over the JSON API (PROTOCOL §7–§9, §11): a participant's
//! journey (arm, biopsies, pathology, T-DXd course, adverse events with the SAE clock,
//! visits and deviations), the sites' upcoming and overdue visits a page at a time, and
//! the CTCAE v5.0 term list. The writes are ordinary commands under `/commands/`.

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use trial::journey::{CtcaeView, JourneyView, VisitListQuery, ctcae_lookup, ctcae_term};

use crate::AppState;
use crate::api::total_header;
use crate::auth::ApiUser;
use crate::error::ApiError;

/// The routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/participants/{id}/journey", get(journey))
        .route("/api/v1/visits", get(site_visits))
        .route("/api/v1/ctcae", get(ctcae_search))
        .route("/api/v1/ctcae/{code}", get(ctcae_one))
}

async fn journey(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(id): Path<String>,
) -> Result<Json<JourneyView>, ApiError> {
    Ok(Json(state.trial.journey(&user, &id).await?))
}

/// Upcoming, due and overdue visits, overdue first; the `x-total-count` header says how
/// many match in all.
async fn site_visits(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Query(q): Query<VisitListQuery>,
) -> Result<Response, ApiError> {
    let page = state.trial.visits(&user, &q).await?;
    Ok((total_header(page.total), Json(page.rows)).into_response())
}

/// Search text.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct CtcaeQuery {
    /// Part of a term's name, or a MedDRA code.
    pub q: Option<String>,
}

async fn ctcae_search(
    ApiUser(_user): ApiUser,
    Query(q): Query<CtcaeQuery>,
) -> Json<Vec<CtcaeView>> {
    Json(ctcae_lookup(q.q.as_deref().unwrap_or_default()))
}

async fn ctcae_one(
    ApiUser(_user): ApiUser,
    Path(code): Path<String>,
) -> Result<Json<CtcaeView>, ApiError> {
    Ok(Json(ctcae_term(&code)?))
}
