//! The PET exam endpoints of the JSON API (PROTOCOL §6–§7): the archived series of a
//! participant, quantification of one as her exam, the exam with its review and biopsy
//! target, the MIP picture, and the PET response read PET1 → PET2 (proposal and confirmed
//! read, PERCIST-style). The reader's review, the investigator's choice and the reader's
//! PET response are ordinary commands (`pet-review`, `biopsy-target`, `pet-response`)
//! under `/commands/`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use trial::imaging::{PetExam, SeriesView, timepoint};
use trial::jobs::ImagingJobView;
use trial::pet_response::PetResponseView;

use crate::AppState;
use crate::api::ApiJson;
use crate::auth::ApiUser;
use crate::error::ApiError;

/// The routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/participants/{id}/pet/series", get(series))
        .route("/api/v1/participants/{id}/pet-response", get(pet_response))
        .route("/api/v1/participants/{id}/pet/{timepoint}", get(exam))
        .route(
            "/api/v1/participants/{id}/pet/{timepoint}/quantify",
            post(quantify),
        )
        .route(
            "/api/v1/participants/{id}/pet/{timepoint}/mip.png",
            get(mip),
        )
        .route("/api/v1/participants/{id}/imaging-jobs", get(jobs))
        .route("/api/v1/participants/{id}/imaging-jobs/{job}", get(job))
}

async fn series(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(id): Path<String>,
) -> Result<Json<Vec<SeriesView>>, ApiError> {
    Ok(Json(state.trial.pet_series(&user, &id).await?))
}

async fn pet_response(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(id): Path<String>,
) -> Result<Json<PetResponseView>, ApiError> {
    Ok(Json(state.trial.pet_response(&user, &id).await?))
}

async fn exam(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path((id, tp)): Path<(String, String)>,
) -> Result<Json<PetExam>, ApiError> {
    let tp = timepoint(&tp)?;
    Ok(Json(state.trial.pet_exam(&user, &id, tp).await?))
}

/// Quantify an archived series as the participant's exam.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct QuantifyRequest {
    /// The participant's version you saw; a stale one gets 409.
    pub expected_version: i64,
    /// The series (see `/pet/series`): a series of the participant's site; one whose
    /// PatientID is not her study id needs `assignment_reason`.
    pub series_instance_uid: String,
    /// Why a series whose PatientID is not her study id is hers (kept in the audit trail).
    #[serde(default)]
    pub assignment_reason: Option<String>,
}

/// Queues the quantification: 202 with the job, which a worker does; follow it at the
/// job's `url` (or on the exam, whose `job` is the newest).
async fn quantify(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path((id, tp)): Path<(String, String)>,
    ApiJson(req): ApiJson<QuantifyRequest>,
) -> Result<(StatusCode, Json<ImagingJobView>), ApiError> {
    let tp = timepoint(&tp)?;
    let job = state
        .trial
        .request_quantification(
            &user,
            &id,
            tp,
            req.expected_version,
            &req.series_instance_uid,
            req.assignment_reason.as_deref(),
        )
        .await?;
    Ok((StatusCode::ACCEPTED, Json(job)))
}

async fn jobs(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(id): Path<String>,
) -> Result<Json<Vec<ImagingJobView>>, ApiError> {
    Ok(Json(state.trial.imaging_jobs(&user, &id).await?))
}

async fn job(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path((id, job)): Path<(String, String)>,
) -> Result<Json<ImagingJobView>, ApiError> {
    let number: i64 = job
        .parse()
        .map_err(|_| ApiError::NotFound(format!("no imaging job {job:?} of {id}")))?;
    Ok(Json(state.trial.imaging_job(&user, &id, number).await?))
}

async fn mip(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path((id, tp)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    crate::png::mip_response(&state, &user, &id, &tp).await
}
