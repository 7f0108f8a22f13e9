//! The receipts of the DICOM objects that arrived (receiver associations, folder imports,
//! PACS pull rounds) over the JSON API: a page of [`trial::receipts`], newest first.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use trial::receipts::ReceiptQuery;

use crate::AppState;
use crate::api::{ApiQuery, total_header};
use crate::auth::ApiUser;
use crate::error::ApiError;

/// The routes.
pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/receipts", get(receipts))
}

/// A page of the receipts this user may see (a site's staff: her site's; `site` narrows a
/// study-wide view), newest first; the `x-total-count` header says how many match in all.
async fn receipts(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiQuery(q): ApiQuery<ReceiptQuery>,
) -> Result<Response, ApiError> {
    let page = state.trial.receipts(&user, &q).await?;
    Ok((total_header(page.total), Json(page.rows)).into_response())
}
