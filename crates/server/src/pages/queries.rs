//! Query pages (PROTOCOL §12): the list of queries a user may see (a site user her site's
//! only), one query's conversation with the site's answer (optionally with a correction of
//! the queried entry, recorded with the answer) and the raiser's close, requery or cancel.

use std::collections::BTreeMap;

use axum::Router;
use axum::extract::{Path, Query, RawForm, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use maud::{Markup, html};
use protocol::oversight::{AnswerQuery, OversightCommand, QueryStatus, ResolveQuery, form_of};
use serde_json::Value;
use trial::Capability;
use trial::commands::CommandSpec;
use trial::oversight::{OversightRequest, QueryFilter, QueryRow, command_of_form, point_text};

use super::participants::problem_box;
use super::submit::expected_version;
use super::{checked_form, done, page, page_try, page_with_status};
use crate::AppState;
use crate::auth::{CurrentUser, PageUser};
use crate::error::ApiError;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/queries", get(list))
        .route("/participants/{id}/queries/{query_id}", get(show).post(act))
}

/// The list's filters as the form sends them (an empty choice is no filter).
#[derive(serde::Deserialize, Default)]
struct ListForm {
    status: Option<String>,
    site: Option<String>,
    study_id: Option<String>,
}

fn status_of(s: &str) -> Option<QueryStatus> {
    serde_json::from_value(Value::String(s.to_string())).ok()
}

async fn list(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Query(f): Query<ListForm>,
) -> Response {
    let status = f.status.as_deref().filter(|s| !s.is_empty());
    let filter = QueryFilter {
        status: status.and_then(status_of),
        site: f.site.clone().filter(|s| !s.trim().is_empty()),
        study_id: f.study_id.clone().filter(|s| !s.trim().is_empty()),
    };
    let rows = page_try!(state.trial.queries(&user, &filter).await);
    let title = match &user.site {
        Some(site) => format!("Queries at {site}"),
        None => "Queries".to_string(),
    };
    let body = html! {
        h1 { (title) }
        form.actions.search method="get" action="/queries" role="search" {
            label for="status" { "Status" }
            select id="status" name="status" {
                option value="" { "any" }
                @for s in [QueryStatus::Open, QueryStatus::Answered, QueryStatus::Closed, QueryStatus::Cancelled] {
                    option value=(s.label()) selected[Some(s.label()) == status] { (s.label()) }
                }
            }
            @if !user.role.is_site_bound() {
                label for="site" { "Site" }
                input type="text" id="site" name="site" value=(f.site.clone().unwrap_or_default()) maxlength="4" size="5";
            }
            @if let Some(s) = &filter.study_id { input type="hidden" name="study_id" value=(s); }
            button type="submit" { "Filter" }
        }
        (query_table(&rows))
    };
    page(&title, &user, body)
}

fn query_table(rows: &[QueryRow]) -> Markup {
    html! {
        @if rows.is_empty() { p.muted { "No query matches." } } @else {
            div.table-scroll {
                table #queries {
                    thead { tr { th { "Query" } th { "Participant" } th { "Site" } th { "Data point" } th { "Status" } th { "Age (days)" } th { "Question" } } }
                    tbody {
                        @for r in rows {
                            tr data-query=(r.query.query_id) data-status=(r.query.status.label()) {
                                td { a href={ "/participants/" (r.study_id) "/queries/" (r.query.query_id) } { (r.query.query_id) } }
                                td { a href={ "/participants/" (r.study_id) } { (r.study_id) } }
                                td { (r.site) }
                                td.mono { (point_text(&r.query.point)) }
                                td { span class={ "status " (status_class(r.query.status)) } { (r.query.status.label()) } }
                                td { (r.age_days) }
                                td { (r.query.text()) }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn status_class(s: QueryStatus) -> &'static str {
    match s {
        QueryStatus::Open => "not_met",
        QueryStatus::Answered => "missing",
        QueryStatus::Closed | QueryStatus::Cancelled => "met",
    }
}

#[derive(serde::Deserialize)]
struct Done {
    done: Option<String>,
}

async fn show(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path((id, query_id)): Path<(String, String)>,
    Query(d): Query<Done>,
) -> Response {
    let notice = crate::pages::saved_notice(d.done.as_deref());
    again(
        &state,
        &user,
        (&id, &query_id),
        StatusCode::OK,
        notice,
        &BTreeMap::new(),
    )
    .await
}

/// Whether this user acts for the query's raiser: the raiser's role, or for an automatic
/// query a role that raises queries.
fn may_resolve(user: &CurrentUser, q: &protocol::oversight::Query) -> bool {
    user.role.may(Capability::RaiseQuery) && q.raiser_role().is_none_or(|r| r == user.role)
}

async fn again(
    state: &AppState,
    user: &CurrentUser,
    (id, query_id): (&str, &str),
    status: StatusCode,
    above: Option<Markup>,
    typed: &BTreeMap<String, String>,
) -> Response {
    let row = page_try!(state.trial.query(user, id, query_id).await);
    let version = page_try!(state.trial.visible_row(user, id).await).version;
    let q = &row.query;
    let action = format!("/participants/{id}/queries/{query_id}");
    let correct_with = command_of_form(form_of(&q.point.entry_id));
    let text = typed.get("text").cloned().unwrap_or_default();
    let body = html! {
        h1 { "Query " (q.query_id) " · " (id) }
        @if let Some(a) = above { (a) }
        div.card {
            p { "On " a href={ "/participants/" (id) "#data" } code { (point_text(&q.point)) } " · status " span #query-status class={ "status " (status_class(q.status)) } { (q.status.label()) } }
            p.muted { @match q.check() { Some(c) => { "Raised by the system (edit check " code { (c.id()) } ")" } None => { "Raised by a person" } } ", " (user.local_time(q.raised_at)) }
        }
        h2 { "Conversation" }
        ol #conversation {
            @for m in &q.messages {
                li {
                    strong { @match &m.by { Some(s) => { (s.user) " (" (s.role.label()) ")" } None => { "the system" } } }
                    " · " (user.local_time(m.at)) " · " (m.status.label())
                    p { (m.text) }
                    @if let Some(c) = &m.correction { p.muted { "Corrected with entry " code { (c) } } }
                }
            }
        }
        @if q.status == QueryStatus::Open && user.role.may(Capability::AnswerQuery) {
            h2 { "Answer" }
            form.card #answer-form method="post" action=(action) {
                input type="hidden" name="csrf" value=(user.csrf);
                input type="hidden" name="expected_version" value=(version);
                input type="hidden" name="act" value="answer";
                div.field {
                    label for="answer-text" { "Your answer" }
                    input type="text" id="answer-text" name="text" maxlength="2000" required value=(text);
                }
                button type="submit" { "Answer" }
            }
            @if let Some(cmd) = correct_with.filter(|c| trial::commands::find(c).is_some_and(|s| s.own_page.is_none())) {
                p { a.button #answer-with-correction href={ "/participants/" (id) "/do/" (cmd) "?corrects=" (q.point.entry_id) "&query=" (q.query_id) } { "Answer with a correction of " (q.point.entry_id) } }
            }
        }
        @if q.status.is_active() && may_resolve(user, q) {
            h2 { "Resolve" }
            form.card #resolve-form method="post" action=(action) {
                input type="hidden" name="csrf" value=(user.csrf);
                input type="hidden" name="expected_version" value=(version);
                div.field {
                    label for="resolve-text" { "Note" }
                    input type="text" id="resolve-text" name="text" maxlength="2000" value=(text);
                    small.help { "Required to requery and to cancel." }
                }
                div.actions {
                    @if q.status == QueryStatus::Answered {
                        button type="submit" name="act" value="close" { "Close" }
                        button type="submit" name="act" value="requery" { "Requery" }
                    }
                    @if q.status == QueryStatus::Open {
                        button type="submit" name="act" value="cancel" { "Cancel the query" }
                    }
                }
            }
        }
        p { a href={ "/participants/" (id) } { "Back to " (id) } " · " a href="/queries" { "Every query" } }
    };
    page_with_status(status, &format!("Query {query_id} · {id}"), user, body)
}

async fn act(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path((id, query_id)): Path<(String, String)>,
    RawForm(body): RawForm,
) -> Response {
    let values = page_try!(checked_form(&user, &body));
    page_try!(state.trial.query(&user, &id, &query_id).await);
    let result = async {
        let text = values
            .get("text")
            .map(|t| t.trim().to_string())
            .unwrap_or_default();
        let resolve = ResolveQuery {
            query_id: query_id.clone(),
            text: text.clone(),
        };
        let command = match values.get("act").map(String::as_str) {
            Some("answer") => OversightCommand::AnswerQuery(AnswerQuery {
                query_id: query_id.clone(),
                text,
                correction: None,
            }),
            Some("close") => OversightCommand::CloseQuery(resolve),
            Some("requery") => OversightCommand::Requery(resolve),
            Some("cancel") => OversightCommand::CancelQuery(resolve),
            _ => {
                return Err(ApiError::BadRequest(
                    "act: answer, close, requery or cancel".into(),
                ));
            }
        };
        let what = command.name().replace('_', "-");
        let req = OversightRequest {
            expected_version: Some(expected_version(&values)?),
            command,
            reason: None,
        };
        state.trial.oversee(&user, &id, req).await?;
        Ok::<_, ApiError>(what)
    }
    .await;
    match result {
        Ok(what) => done(&format!("/participants/{id}/queries/{query_id}"), &what),
        Err(e) => {
            again(
                &state,
                &user,
                (&id, &query_id),
                e.status(),
                Some(problem_box(&e)),
                &values,
            )
            .await
        }
    }
}

/// The answer field a correction form carries when it answers a query: the correction is
/// recorded with the answer, in one write.
pub(super) fn answer_fields(query_id: &str, values: &BTreeMap<String, String>) -> Markup {
    html! {
        fieldset.card #answers-query {
            legend { "Answers query " (query_id) }
            input type="hidden" name="answers_query" value=(query_id);
            div.field {
                label for="answer-text" { "Your answer to the query" }
                input type="text" id="answer-text" name="answer_text" maxlength="2000" required value=(values.get("answer_text").cloned().unwrap_or_default());
                small.help { "The correction below is recorded with this answer." }
            }
        }
    }
}

/// Records a correction as the answer to a query: the command built from the form's data
/// goes into the answer, so the protocol decides both in one write.
pub(super) async fn answer_with_correction(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
    spec: &CommandSpec,
    values: &BTreeMap<String, String>,
    data: Value,
) -> Result<String, ApiError> {
    let query_id = values.get("answers_query").cloned().unwrap_or_default();
    user.require(spec.capability)?;
    let correction = trial::commands::build(spec, data, None, state.trial.now())?;
    let req = OversightRequest {
        expected_version: Some(expected_version(values)?),
        command: OversightCommand::AnswerQuery(AnswerQuery {
            query_id: query_id.clone(),
            text: values
                .get("answer_text")
                .map(|t| t.trim().to_string())
                .unwrap_or_default(),
            correction: Some(Box::new(correction)),
        }),
        reason: None,
    };
    state.trial.oversee(user, id, req).await?;
    Ok(query_id)
}
