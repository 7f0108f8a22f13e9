//! The study dashboard page (recruitment against the target, the CONSORT flow, overdue
//! visits, serious adverse events with their clock, deviations by site, open queries) and
//! the study-wide deviation list with its filters and CSV file.

use axum::Router;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::get;
use maud::{Markup, PreEscaped, html};
use trial::dashboard::{Dashboard, DashboardQuery, DeviationQuery, DeviationRow};
use trial::figures::{consort_svg, recruitment_svg};

use super::journey::sae_badge;
use super::{error_page, page};
use crate::AppState;
use crate::auth::{CurrentUser, PageUser};

/// The most overdue and due visits the page lists; the visit list pages through the rest.
const OPEN_WINDOW_ROWS: usize = 100;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/dashboard", get(dashboard_page))
        .route("/deviations", get(deviations_page))
}

async fn dashboard_page(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Query(q): Query<DashboardQuery>,
) -> Response {
    match state.trial.dashboard(&user, &q).await {
        Ok(d) => page("Study dashboard", &user, dashboard_body(&user, &d)),
        Err(e) => error_page(e),
    }
}

/// The site filter of a study-wide view; nothing for a site's staff.
fn site_filter(action: &str, user: &CurrentUser, site: Option<&str>, extra: Markup) -> Markup {
    html! {
        form.actions.search method="get" action=(action) role="search" {
            @if !user.role.is_site_bound() {
                label for="site" { "Site" }
                input type="text" id="site" name="site" value=(site.unwrap_or_default()) maxlength="4" size="5" placeholder="all";
            }
            (extra)
            button type="submit" { "Show" }
        }
    }
}

fn dashboard_body(user: &CurrentUser, d: &Dashboard) -> Markup {
    let scope = d.site.clone().unwrap_or_else(|| "all sites".into());
    let r = &d.recruitment;
    html! {
        h1 { "Study dashboard · " (scope) }
        p.muted { "Figures as of " (user.local_time(d.generated_at)) "; visits judged on " (d.today) " at the sites." }
        (site_filter("/dashboard", user, d.site.as_deref(), html! {}))

        section #recruitment {
            h2 { "Recruitment" }
            p { strong #enrolled-total { (r.enrolled) } " of the target of " (r.target) " enrolled." }
            div.figure { (PreEscaped(recruitment_svg(r))) }
            div.table-scroll {
                table #recruitment-by-site {
                    thead { tr { th { "Site" } th { "Enrolled" } th { "Target" } th { "Share of target" } } }
                    tbody {
                        @for (site, n) in &r.enrolled_by_site {
                            tr data-site=(site) {
                                td { (site) } td.count { (n) } td { (r.target) }
                                td { (percent(*n, r.target)) }
                            }
                        }
                    }
                }
            }
        }

        section #participant-flow {
            h2 { "Participant flow" }
            div.figure #consort { (PreEscaped(consort_svg(&d.flow))) }
        }

        section #open-visits {
            h2 { "Overdue visits and open windows" }
            p {
                strong #overdue-count { (d.visits.overdue) } " overdue, "
                strong #due-count { (d.visits.due) } " due today, "
                (d.visits.upcoming) " upcoming. "
                a href="/visits" { "The visit list" }
            }
            @if !d.visits.open_windows.is_empty() {
                div.table-scroll {
                    table #open-windows {
                        thead { tr { th { "Participant" } th { "Visit" } th { "Window" } th { "State" } } }
                        tbody {
                            @for v in d.visits.open_windows.iter().take(OPEN_WINDOW_ROWS) {
                                @let overdue = v.state == protocol::journey::schedule::VisitState::Overdue;
                                tr {
                                    td { a href={ "/participants/" (v.study_id) } { (v.study_id) } }
                                    td { (v.label) }
                                    td { (v.earliest) " – " (v.latest) }
                                    td {
                                        @if overdue { span.status.not_met { "overdue" } }
                                        @else { span.status.missing { "due" } }
                                    }
                                }
                            }
                        }
                    }
                }
                @if d.visits.open_windows.len() > OPEN_WINDOW_ROWS {
                    p.muted { (d.visits.open_windows.len() - OPEN_WINDOW_ROWS) " more in " a href="/visits" { "the visit list" } "." }
                }
            }
        }

        section #serious-adverse-events {
            h2 { "Serious adverse events" }
            @if d.serious_adverse_events.is_empty() { p.muted { "None reported." } }
            @else {
                div.table-scroll {
                    table #sae-list {
                        thead { tr { th { "Participant" } th { "Event" } th { "Site aware" } th { "Reported" } th { "24-hour clock" } } }
                        tbody {
                            @for s in &d.serious_adverse_events {
                                tr class=[s.clock.late.then_some("late")] data-late=(s.clock.late) {
                                    td { a href={ "/participants/" (s.study_id) } { (s.study_id) } }
                                    td { (s.term) " (grade " (s.grade) ")" }
                                    td { (user.local_time(s.clock.aware_at)) }
                                    td { @if let Some(t) = s.reported_at { (user.local_time(t)) } @else { "not yet" } }
                                    td { (sae_badge(user, &s.clock)) }
                                }
                            }
                        }
                    }
                }
            }
        }

        section #deviations-by-site {
            h2 { "Deviations by site" }
            div.table-scroll {
                table #deviation-counts {
                    thead { tr { th { "Site" } th { "Major" } th { "Minor" } } }
                    tbody {
                        @for s in &d.deviations_by_site {
                            tr data-site=(s.site) {
                                td { a href={ "/deviations?site=" (s.site) } { (s.site) } }
                                td.major { (s.major) } td.minor { (s.minor) }
                            }
                        }
                    }
                }
            }
            p { a href="/deviations" { "Every deviation" } }
        }

        section #open-queries {
            h2 { "Open queries by age and site" }
            @if d.open_queries.rows.is_empty() { p.muted { "No open queries." } }
            @else {
                table {
                    thead { tr { th { "Site" } th { "Open for" } th { "Awaiting the site" } th { "Answered, awaiting closing" } } }
                    tbody {
                        @for q in &d.open_queries.rows {
                            tr { td { (q.site) } td { (q.age) } td.num { (q.count) } td.num { (q.answered) } }
                        }
                    }
                }
            }
            p { a href="/queries" { "Every query" } }
        }
    }
}

fn percent(n: u64, of: u32) -> String {
    if of == 0 {
        return "–".into();
    }
    format!("{} %", n * 100 / u64::from(of))
}

async fn deviations_page(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Query(q): Query<DeviationQuery>,
) -> Response {
    match state.trial.deviation_list(&user, &q).await {
        Ok(rows) => page("Deviations", &user, deviations_body(&user, &q, &rows)),
        Err(e) => error_page(e),
    }
}

fn deviations_body(user: &CurrentUser, q: &DeviationQuery, rows: &[DeviationRow]) -> Markup {
    let scope = user
        .site
        .clone()
        .or_else(|| q.site.clone().filter(|s| !s.trim().is_empty()))
        .unwrap_or_else(|| "all sites".into());
    let choice = |name: &'static str, current: Option<&str>, options: &[&'static str]| {
        html! {
            label for=(name) { (name) }
            select id=(name) name=(name) {
                option value="" { "any" }
                @for o in options {
                    option value=(o) selected[current == Some(*o)] { (o) }
                }
            }
        }
    };
    let extra = html! {
        (choice("severity", q.severity.as_deref(), &["major", "minor"]))
        (choice("status", q.status.as_deref(), &["open", "assessed", "closed"]))
    };
    let csv_query = serde_urlencoded::to_string([
        ("site", q.site.clone().unwrap_or_default()),
        ("severity", q.severity.clone().unwrap_or_default()),
        ("status", q.status.clone().unwrap_or_default()),
    ])
    .unwrap_or_default();
    html! {
        h1 { "Protocol deviations · " (scope) }
        (site_filter("/deviations", user, q.site.as_deref(), extra))
        p {
            strong #deviation-total { (rows.len()) } " deviation(s). "
            a #deviations-csv href={ "/api/v1/deviations.csv?" (csv_query) } download="deviations.csv" { "Download as CSV" }
        }
        @if rows.is_empty() { p.muted { "No deviation matches." } }
        @else {
            div.table-scroll {
                table #deviation-list {
                    thead { tr { th { "Participant" } th { "Id" } th { "Severity" } th { "Rule" } th { "What happened" } th { "When" } th { "Status" } } }
                    tbody {
                        @for d in rows {
                            tr {
                                td { a href={ "/participants/" (d.study_id) } { (d.study_id) } }
                                td { (d.deviation_id) }
                                td { span class={ "status " (if d.severity == "major" { "not_met" } else { "missing" }) } { (d.severity) } }
                                td { code { (d.rule) } }
                                td { (d.description) }
                                td { @if let Some(t) = d.occurred_at { (user.local_time(t)) } }
                                td { (d.status) }
                            }
                        }
                    }
                }
            }
        }
    }
}
