//! The PET exam endpoints of the JSON API (PROTOCOL §6–§7): the archived series of a
//! participant, quantification of one as her exam, the exam with its review and biopsy
//! target, and the MIP picture. The reader's review and the investigator's choice are
//! ordinary commands (`pet-review`, `biopsy-target`) under `/commands/`.

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use protocol::imaging::{BiopsyTargetChoice, ImpAdministration, PetQuantification, PetReview};
use protocol::{Entry, PetTimepoint};
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::api::{ApiJson, visible_participant};
use crate::auth::{ApiUser, CurrentUser};
use crate::error::ApiError;
use crate::imaging;
use crate::write::{self, Written};

/// The routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/participants/{id}/pet/series", get(series))
        .route("/api/v1/participants/{id}/pet/{timepoint}", get(exam))
        .route(
            "/api/v1/participants/{id}/pet/{timepoint}/quantify",
            post(quantify),
        )
        .route(
            "/api/v1/participants/{id}/pet/{timepoint}/mip.png",
            get(mip),
        )
}

/// Parses a time point from a URL (`pet1`, `pet2`, `pet3`).
pub fn timepoint(s: &str) -> Result<PetTimepoint, ApiError> {
    PetTimepoint::parse(s).ok_or_else(|| {
        ApiError::NotFound(format!("no PET time point {s:?}: use pet1, pet2 or pet3"))
    })
}

/// An archived PET series of the participant.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct SeriesView {
    /// SeriesInstanceUID.
    pub series_instance_uid: String,
    /// Images held.
    pub instance_count: usize,
    /// SeriesDate, YYYYMMDD.
    pub series_date: Option<String>,
    /// SeriesDescription.
    pub series_description: Option<String>,
    /// When the last image arrived.
    pub last_received_at: DateTime<Utc>,
}

/// The PET series in the archive whose PatientID is the study id, newest first.
pub async fn series_views(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
) -> Result<Vec<SeriesView>, ApiError> {
    Ok(imaging::series_of(state, user, id)
        .await?
        .into_iter()
        .map(|s| SeriesView {
            series_instance_uid: s.series_instance_uid,
            instance_count: s.instance_count,
            series_date: s.series_date,
            series_description: s.series_description,
            last_received_at: s.last_received_at,
        })
        .collect())
}

async fn series(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(id): Path<String>,
) -> Result<Json<Vec<SeriesView>>, ApiError> {
    Ok(Json(series_views(&state, &user, &id).await?))
}

/// A PET exam as recorded: administration, quantification, review with the biopsy target
/// proposal, and the investigator's choice.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct PetExam {
    /// Time point.
    pub timepoint: PetTimepoint,
    /// Participant version: send it as `expected_version`.
    pub version: i64,
    /// The current IMP administration.
    pub administration: Option<Entry<ImpAdministration>>,
    /// The current quantification.
    pub quantification: Option<PetQuantification>,
    /// The reader's review of the current quantification.
    pub review: Option<PetReview>,
    /// The investigator's biopsy target chosen on that review.
    pub biopsy_target: Option<BiopsyTargetChoice>,
    /// The MIP picture, once quantified.
    pub mip_url: Option<String>,
}

/// The exam of a time point, if the user may see the participant.
pub async fn exam_of(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
    tp: PetTimepoint,
) -> Result<PetExam, ApiError> {
    visible_participant(state, user, id).await?;
    let loaded = write::load(&state.store, id).await?;
    let p = &loaded.participant;
    let quantification = p.pet_quantification(tp).cloned();
    Ok(PetExam {
        timepoint: tp,
        version: loaded.version,
        administration: p.imp_administration(tp).cloned(),
        mip_url: quantification
            .as_ref()
            .map(|_| format!("/api/v1/participants/{id}/pet/{}/mip.png", tp.id())),
        quantification,
        review: p.pet_review(tp).cloned(),
        biopsy_target: p.biopsy_target(tp).cloned(),
    })
}

async fn exam(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path((id, tp)): Path<(String, String)>,
) -> Result<Json<PetExam>, ApiError> {
    let tp = timepoint(&tp)?;
    Ok(Json(exam_of(&state, &user, &id, tp).await?))
}

/// Quantify an archived series as the participant's exam.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct QuantifyRequest {
    /// The participant's version you saw; a stale one gets 409.
    pub expected_version: i64,
    /// The series (see `/pet/series`; any archived PET series may be named).
    pub series_instance_uid: String,
}

async fn quantify(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path((id, tp)): Path<(String, String)>,
    ApiJson(req): ApiJson<QuantifyRequest>,
) -> Result<Json<Written>, ApiError> {
    let tp = timepoint(&tp)?;
    let w = imaging::quantify(
        &state,
        &user,
        &id,
        tp,
        req.expected_version,
        &req.series_instance_uid,
    )
    .await?;
    Ok(Json(w))
}

/// `GET …/mip.png` for API and page users alike.
pub async fn mip_response(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
    tp: &str,
) -> Result<Response, ApiError> {
    let tp = timepoint(tp)?;
    let png = imaging::mip_png(state, user, id, tp).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "image/png"),
            (header::CACHE_CONTROL, "private, max-age=300"),
        ],
        png,
    )
        .into_response())
}

async fn mip(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path((id, tp)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    mip_response(&state, &user, &id, &tp).await
}
