//! Exports from the web application, for the data manager and the statistician: the
//! casebook as a CDISC ODM 1.3.2 file as of a data cut-off, recorded in the audit trail as
//! an output. (The SDTM-like datasets are a folder of files: `her2ex export sdtm`.)

use axum::Router;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use maud::{Markup, html};

use super::analyses::AsOfQuery;
use super::{error_page, page};
use crate::AppState;
use crate::auth::PageUser;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/exports", get(exports_page))
        .route("/exports/odm.xml", get(odm_file))
}

async fn exports_page(State(state): State<AppState>, PageUser(user): PageUser) -> Response {
    match state
        .trial
        .require_output(&user, protocol::outputs::OutputKind::OdmExport)
    {
        Ok(()) => page("Exports", &user, body()),
        Err(e) => error_page(e),
    }
}

fn body() -> Markup {
    html! {
        h1 { "Exports" }
        p { "The casebook as of a data cut-off: every participant's current data with the audit record of the event that recorded it (who, where, when, why, the event's hash), signatures and queries. Each export is recorded in the audit trail with you, the cut-off and the chain head." }
        form.card method="get" action="/exports/odm.xml" {
            h2 { "CDISC ODM 1.3.2" }
            label for="as_of" { "Data cut-off (empty: now)" }
            input type="datetime-local" id="as_of" name="as_of";
            button type="submit" { "Download the ODM file" }
        }
        section.card {
            h2 { "SDTM-like datasets" }
            p { "DM, AE, TU, TR, RS, EC and DV as CSV files with their data dictionary, written into a folder on the server:" }
            pre { code { "her2ex export sdtm --as <your user name> --out <folder> [--as-of 2026-06-30]" } }
            p { "Formats and columns: docs/exports.md." }
        }
    }
}

/// `GET /exports/odm.xml`: the ODM file, built in memory and sent as a download.
async fn odm_file(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Query(q): Query<AsOfQuery>,
) -> Response {
    let made = async {
        let as_of = q.moment(state.trial.zone())?;
        state
            .trial
            .export_odm(&user, as_of, Vec::new(), "web", |_| {})
            .await
    }
    .await;
    match made {
        Ok((bytes, summary)) => {
            let name = format!(
                "her2ex-odm-{}.xml",
                summary.cut.as_of.format("%Y%m%dT%H%M%SZ")
            );
            (
                [
                    (header::CONTENT_TYPE, "application/xml".to_string()),
                    (
                        header::CONTENT_DISPOSITION,
                        format!("attachment; filename=\"{name}\""),
                    ),
                ],
                bytes,
            )
                .into_response()
        }
        Err(e) => error_page(e),
    }
}
