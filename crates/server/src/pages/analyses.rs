//! The study's answers for the statistician and the study director: the key numbers and
//! every picture as of a data cut-off, and the self-contained HTML study report to
//! download (recorded in the audit trail as an output).

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, NaiveDateTime, Utc};
use maud::{Markup, PreEscaped, html};
use protocol::outputs::OutputKind;
use serde::Deserialize;
use trial::analyses::StudyResults;

use super::{error_page, page};
use crate::AppState;
use crate::auth::{CurrentUser, PageUser};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/analyses", get(analyses_page))
        .route("/analyses/report", get(report_file))
}

/// The cut-off the user asked for (`as_of`, from a `datetime-local` field in the sites'
/// time zone, or RFC 3339).
#[derive(Debug, Default, Deserialize)]
pub(crate) struct AsOfQuery {
    /// Empty or missing: now.
    #[serde(default)]
    pub as_of: Option<String>,
}

impl AsOfQuery {
    /// The cut-off as a moment, `Ok(None)` for now.
    pub(crate) fn moment(
        &self,
        zone: trial::SiteZone,
    ) -> Result<Option<DateTime<Utc>>, trial::Error> {
        let Some(s) = self
            .as_of
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        else {
            return Ok(None);
        };
        if let Ok(t) = DateTime::parse_from_rfc3339(s) {
            return Ok(Some(t.with_timezone(&Utc)));
        }
        for f in ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"] {
            if let Ok(t) = NaiveDateTime::parse_from_str(s, f) {
                return zone.to_utc(t).map(Some).ok_or_else(|| {
                    trial::Error::BadRequest(format!(
                        "The data cut-off {s:?} does not exist in the sites' time zone (a clock change)."
                    ))
                });
            }
        }
        Err(trial::Error::BadRequest(format!(
            "The data cut-off {s:?} is not a date and time (e.g. 2026-06-30T23:59)."
        )))
    }
}

async fn analyses_page(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Query(q): Query<AsOfQuery>,
) -> Response {
    let found = async {
        let as_of = q.moment(state.trial.zone())?;
        state.trial.study_results(&user, as_of).await
    }
    .await;
    match found {
        Ok(r) => page("Study analyses", &user, body(&user, &q, &r)),
        Err(e) => error_page(e),
    }
}

/// `GET /analyses/report`: the HTML study report, recorded as an output; the browser
/// shows it, and the page's link saves it as a file. Its own style sheet is inline, so
/// the answer's policy allows exactly that sheet (by its hash) and nothing else.
async fn report_file(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Query(q): Query<AsOfQuery>,
) -> Response {
    let taken = async {
        let as_of = q.moment(state.trial.zone())?;
        state
            .trial
            .take_results(&user, OutputKind::Report, as_of, "web")
            .await
    }
    .await;
    match taken {
        Ok(r) => report_response(&r),
        Err(e) => error_page(e),
    }
}

/// The report (named for saving) under a content security policy that admits only its
/// own style.
pub(crate) fn report_response(r: &StudyResults) -> Response {
    let html = analysis::report::html(&r.study, &r.dataset, &r.analyses);
    let name = format!(
        "her2ex-report-{}.html",
        r.analyses.cut_off.as_of.format("%Y%m%dT%H%M%SZ")
    );
    let mut response = (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("inline; filename=\"{name}\""),
            ),
        ],
        html,
    )
        .into_response();
    if let Ok(v) = HeaderValue::from_str(&analysis::report::content_security_policy()) {
        response
            .headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, v);
    }
    response
}

/// An estimate as text, or why it cannot be given.
pub(super) fn estimate<T>(
    r: &Result<T, analysis::stats::NotEstimable>,
    f: impl Fn(&T) -> String,
) -> String {
    match r {
        Ok(v) => f(v),
        Err(e) => format!("not estimable: {}", e.reason),
    }
}

fn proportion(p: &analysis::stats::Proportion) -> String {
    format!(
        "{}/{} = {:.0} % (95 % CI {:.0}–{:.0} %)",
        p.successes,
        p.n,
        p.estimate * 100.0,
        p.wilson.lower * 100.0,
        p.wilson.upper * 100.0
    )
}

fn key_numbers(r: &StudyResults) -> Markup {
    let a = &r.analyses;
    let d = &a.diagnostic;
    let roc = estimate(&d.roc_patient, |roc| {
        format!(
            "{:.2}{} ({} HER2-expressing vs {} HER2-zero)",
            roc.auc,
            roc.ci
                .as_ref()
                .map(|i| format!(" (95 % CI {:.2}–{:.2})", i.lower, i.upper))
                .unwrap_or_else(|e| format!(", interval not estimable: {}", e.reason)),
            roc.n_positive,
            roc.n_negative
        )
    });
    let t = &d.at_threshold_patient;
    html! {
        table #key-numbers {
            tbody {
                tr { th scope="row" { "Participants" } td { (a.counts.registered) " registered, " (a.counts.enrolled) " enrolled, " (a.counts.arm1) " in arm 1, " (a.counts.arm2) " in arm 2" } }
                tr { th scope="row" { "ROC AUC, per-patient SUVmax" } td #auc { (roc) } }
                tr { th scope="row" { "Sensitivity at SUVmax " (t.threshold) } td { (estimate(&t.sensitivity, proportion)) } }
                tr { th scope="row" { "Specificity at SUVmax " (t.threshold) } td { (estimate(&t.specificity, proportion)) } }
                tr { th scope="row" { "Cohen's kappa, biopsied lesion" } td { (estimate(&d.agreement.kappa, |k| format!("{:.2} (95 % CI {:.2}–{:.2}, n = {})", k.kappa, k.ci.lower, k.ci.upper, k.n))) } }
                tr { th scope="row" { "Objective response, arm 1" } td { (estimate(&a.response.objective_response, proportion)) } }
                tr { th scope="row" { "PFS log-rank by PET status" } td { (estimate(&a.pfs.log_rank, |l| format!("χ² {:.2}, p = {:.3}", l.chi_squared, l.p_value))) } }
            }
        }
    }
}

fn body(user: &CurrentUser, q: &AsOfQuery, r: &StudyResults) -> Markup {
    let c = &r.analyses.cut_off;
    let report_href = match q.as_of.as_deref().filter(|s| !s.trim().is_empty()) {
        Some(s) => format!(
            "/analyses/report?{}",
            serde_urlencoded::to_string([("as_of", s)]).unwrap_or_default()
        ),
        None => "/analyses/report".to_string(),
    };
    html! {
        h1 { "Study analyses" }
        p.muted {
            "As of " (user.local_time(c.as_of)) " · audit log up to event " (c.head_seq)
            " · chain head " code { (&c.head_hash[..c.head_hash.len().min(16)]) "…" }
            " · settings version " (c.settings_version)
        }
        form.actions method="get" action="/analyses" {
            label for="as_of" { "Data cut-off" }
            input type="datetime-local" id="as_of" name="as_of" value=(q.as_of.clone().unwrap_or_default());
            button type="submit" { "Compute" }
            " "
            a.button #open-report href=(report_href) { "Open the study report" }
            " "
            a.button #download-report href=(report_href) download { "Save it (HTML)" }
        }
        (key_numbers(r))
        @for f in analysis::pictures::figures(&r.dataset, &r.analyses) {
            figure.figure id=(format!("{}-figure", f.id)) {
                (PreEscaped(&f.svg))
                figcaption { strong { (f.title) "." } " " (f.caption) }
            }
        }
        p { "Every number with its interval, the per-participant heterogeneity pictures and the participant listing are in the study report. What the study can show at its planned size: " a href="/planning" { "study planning" } "." }
    }
}
