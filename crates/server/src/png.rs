//! The MIP picture answer, the same for API and page users.

use axum::http::header;
use axum::response::{IntoResponse, Response};

use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::ApiError;

/// `GET …/pet/{timepoint}/mip.png`: the coronal MIP of the exam's current quantification.
pub async fn mip_response(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
    tp: &str,
) -> Result<Response, ApiError> {
    let tp = trial::imaging::timepoint(tp)?;
    let png = state.trial.mip_png(user, id, tp).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "image/png"),
            (header::CACHE_CONTROL, "private, max-age=300"),
        ],
        png,
    )
        .into_response())
}
