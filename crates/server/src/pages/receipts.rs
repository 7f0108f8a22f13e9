//! The receipts page: every delivery of DICOM objects (an association of the receiver, a
//! folder import, a PACS pull round) as the audit trail recorded it, newest first, a page
//! at a time; a site's staff see their own site's.

use axum::Router;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::get;
use maud::{Markup, html};

use trial::participants::Page;
use trial::receipts::{ReceiptQuery, ReceiptRow};

use super::{error_page, page, pager};
use crate::AppState;
use crate::auth::{CurrentUser, PageUser};

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/receipts", get(list))
}

async fn list(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Query(q): Query<ReceiptQuery>,
) -> Response {
    match state.trial.receipts(&user, &q).await {
        Ok(list) => page("DICOM receipts", &user, body(&user, &q, &list)),
        Err(e) => error_page(e),
    }
}

/// How the objects came, as people say it.
fn via_label(via: &str) -> &str {
    match via {
        "association" => "DICOM receiver",
        "folder_import" => "Folder import",
        "pull" => "PACS pull",
        other => other,
    }
}

fn body(user: &CurrentUser, q: &ReceiptQuery, list: &Page<ReceiptRow>) -> Markup {
    let scope = match &user.site {
        Some(site) => format!("DICOM receipts at {site}"),
        None => match q.site.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            Some(site) => format!("DICOM receipts at {site}"),
            None => "DICOM receipts at every site".to_string(),
        },
    };
    let filters = [("site", q.site.clone())];
    html! {
        h1 { (scope) }
        p.muted { "Every delivery of DICOM objects as the audit trail recorded it: an association of the DICOM receiver, a folder import or a round of the PACS pull. New objects were stored for the first time; duplicates were already held; conflicts are other versions kept beside the stored ones; refused objects were not stored." }
        @if list.rows.is_empty() {
            p.muted { "No receipt yet." }
        } @else {
            table {
                thead { tr {
                    th { "When" } th { "Via" } th { "From" } th { "Site" }
                    th { "New" } th { "Duplicate" } th { "Conflict" } th { "Refused" }
                    th { "Ended" } th { "Series" }
                } }
                tbody {
                    @for r in &list.rows {
                        tr {
                            td { (user.local_time(r.ended_at)) }
                            td { (via_label(&r.via)) }
                            td { (r.from) }
                            td { (r.site) }
                            td { (r.new) }
                            td { (r.duplicate) }
                            td { (r.conflict) }
                            td { (r.refused) }
                            td { (r.ended) }
                            td { (r.series.len()) }
                        }
                    }
                }
            }
            (pager("/receipts", list.total, list.offset, list.limit, &filters))
        }
    }
}
