//! The study dashboard and the study-wide deviation list over the JSON API: the figures
//! of [`trial::dashboard`] as JSON, and the deviation list as JSON or as a CSV file
//! (`?format=csv` or `/api/v1/deviations.csv`).

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use trial::dashboard::{Dashboard, DashboardQuery, DeviationQuery, deviations_csv};

use crate::AppState;
use crate::api::{ApiQuery, total_header};
use crate::auth::ApiUser;
use crate::error::ApiError;

/// The routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/dashboard", get(dashboard))
        .route("/api/v1/deviations", get(deviations))
        .route("/api/v1/deviations.csv", get(deviations_csv_file))
}

/// The dashboard of the sites this user sees (`site` narrows a study-wide view).
async fn dashboard(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiQuery(q): ApiQuery<DashboardQuery>,
) -> Result<Json<Dashboard>, ApiError> {
    Ok(Json(state.trial.dashboard(&user, &q).await?))
}

/// Every deviation this user may see, filtered by `site`, `severity` and `status`; as CSV
/// with `format=csv`. The `x-total-count` header says how many are listed.
async fn deviations(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiQuery(q): ApiQuery<DeviationQuery>,
) -> Result<Response, ApiError> {
    let csv = match q.format.as_deref().map(str::trim) {
        None | Some("") | Some("json") => false,
        Some("csv") => true,
        Some(other) => {
            return Err(ApiError::BadRequest(format!(
                "format {other:?} is not offered: give csv or json"
            )));
        }
    };
    let rows = state.trial.deviation_list(&user, &q).await?;
    let total = total_header(u64::try_from(rows.len()).unwrap_or(u64::MAX));
    if csv {
        Ok((total, csv_file(&deviations_csv(&rows))).into_response())
    } else {
        Ok((total, Json(rows)).into_response())
    }
}

/// The deviation list as a CSV file, filtered like [`deviations`].
async fn deviations_csv_file(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiQuery(q): ApiQuery<DeviationQuery>,
) -> Result<Response, ApiError> {
    let rows = state.trial.deviation_list(&user, &q).await?;
    Ok(csv_file(&deviations_csv(&rows)))
}

/// A CSV answer that browsers save as `deviations.csv`.
pub fn csv_file(body: &str) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"deviations.csv\"",
            ),
        ],
        body.to_owned(),
    )
        .into_response()
}
