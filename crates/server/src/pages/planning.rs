//! Study planning for the study director and the statistician: the simulator's
//! assumptions in force and the operating characteristics they give at the planned 70
//! participants and around it (`analysis::simulate`; `her2ex simulate` for other
//! assumptions, seeds and sizes).

use std::sync::OnceLock;

use analysis::simulate::{
    Assumptions, DEFAULT_ASSUMPTIONS_TOML, Distribution, OcReport, oc_chart,
    operating_characteristics,
};
use analysis::stats::NotEstimable;
use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use maud::{Markup, PreEscaped, html};

use super::{error_page, page};
use crate::AppState;
use crate::auth::PageUser;

/// Virtual trials per size on the page (the command line defaults to 1 000).
const REPLICATES: usize = 400;

/// The sizes shown: the planned 70 and around it.
const SIZES: [usize; 4] = [50, 70, 100, 150];

/// The seed: the study start, as `her2ex simulate` uses by default.
const SEED: u64 = 20251003;

/// The report at the default assumptions, computed once per process.
static REPORT: OnceLock<Result<OcReport, String>> = OnceLock::new();

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/planning", get(planning_page))
}

fn compute() -> Result<OcReport, String> {
    let a = Assumptions::default();
    operating_characteristics(&a, &SIZES, REPLICATES, SEED, &|| {}).map_err(|e| e.to_string())
}

async fn planning_page(State(state): State<AppState>, PageUser(user): PageUser) -> Response {
    if let Err(e) = state
        .trial
        .require_output(&user, protocol::outputs::OutputKind::Analysis)
    {
        return error_page(e);
    }
    let report = match REPORT.get() {
        Some(r) => r.clone(),
        None => {
            let r = tokio::task::spawn_blocking(compute)
                .await
                .unwrap_or_else(|e| Err(format!("the simulation stopped: {e}")));
            REPORT.get_or_init(|| r).clone()
        }
    };
    match report {
        Ok(r) => page("Study planning", &user, body(&r)),
        Err(e) => error_page(trial::Error::internal("simulating the study", e)),
    }
}

fn dist(d: &Result<Distribution, NotEstimable>, digits: usize) -> String {
    super::analyses::estimate(d, |d| {
        format!(
            "{:.digits$} ({:.digits$}–{:.digits$})",
            d.mean, d.p2_5, d.p97_5
        )
    })
}

fn body(r: &OcReport) -> Markup {
    html! {
        h1 { "Study planning" }
        p {
            "What " (REPLICATES) " virtual HER2-Ex trials per size give under the assumptions below, analysed with the study's own estimators (seed " (r.seed) ", SUVmax threshold " (r.suvmax_threshold) ", null ROC area " (r.null_auc) "). Means with the 2.5th–97.5th percentiles over the trials. Other assumptions, sizes and more trials: "
            code { "her2ex simulate" } " (docs/simulation.md)."
        }
        div.table-scroll {
            table #operating-characteristics {
                thead { tr {
                    th { "Enrolled" } th { "Screened" } th { "Arm 1" } th { "Arm 2" }
                    th { "ROC area" } th { "AUC 95 % CI width" } th { "Power: AUC > " (r.null_auc) }
                    th { "Sensitivity at SUVmax " (r.suvmax_threshold) } th { "Specificity" } th { "Kappa" }
                    th { "Log-rank power, PFS by PET" }
                } }
                tbody {
                    @for row in &r.rows {
                        tr data-n=(row.n) {
                            td { (row.n) }
                            td { (format!("{:.0}", row.screened.mean)) }
                            td { (format!("{:.0}", row.arm1.mean)) }
                            td { (format!("{:.0}", row.arm2.mean)) }
                            td { (dist(&row.auc, 2)) }
                            td { (dist(&row.auc_ci_width, 2)) }
                            td.power { (format!("{:.0} %", row.auc_power * 100.0)) }
                            td { (dist(&row.sensitivity, 2)) }
                            td { (dist(&row.specificity, 2)) }
                            td { (dist(&row.kappa, 2)) }
                            td { (format!("{:.0} %", row.log_rank_power * 100.0)) }
                        }
                    }
                }
            }
        }
        div.figure { (PreEscaped(oc_chart("planning-oc", r))) }
        details {
            summary { "The assumptions in force (each with its source; guesses are marked ASSUMPTION)" }
            pre { (DEFAULT_ASSUMPTIONS_TOML) }
        }
    }
}
