//! Participant pages: the list of my site's participants, registration, the participant's
//! overview, one form per command, the eligibility table and the audit timeline.

use std::collections::BTreeMap;

use axum::Router;
use axum::extract::{Path, Query, RawForm, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use maud::{Markup, html};
use protocol::{CriterionKind, CriterionResult, CriterionStatus, EligibilityReport, Overall};
use serde_json::Value;

use trial::Capability;
use trial::commands::{self, CommandSpec, declared_fields};
use trial::participants::{ListQuery, ParticipantSummary, Registration, TimelineEntry};

use super::submit::command_request;
use super::{
    Redo, check_csrf, checked_form, done, error_page, form_values, forms, page, page_try,
    page_with_status, pager, search_form,
};
use crate::AppState;
use crate::auth::{CurrentUser, PageUser};
use crate::error::ApiError;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/participants", get(list))
        .route("/participants/new", get(new_form).post(new_submit))
        .route("/participants/{id}", get(overview))
        .route("/participants/{id}/eligibility", get(eligibility))
        .route("/participants/{id}/timeline", get(timeline))
        .route(
            "/participants/{id}/do/{command}",
            get(command_form).post(command_submit),
        )
}

fn or_error(r: Result<Response, ApiError>) -> Response {
    r.unwrap_or_else(error_page)
}

async fn list(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Query(q): Query<ListQuery>,
) -> Response {
    match state.trial.participant_list(&user, &q).await {
        Ok(list) => page("Participants", &user, list_body(&user, &q, &list)),
        Err(e) => error_page(e),
    }
}

fn list_body(
    user: &CurrentUser,
    q: &ListQuery,
    list: &trial::participants::Page<ParticipantSummary>,
) -> Markup {
    let scope = match &user.site {
        Some(site) => format!("Participants at {site}"),
        None => "Participants at every site".to_string(),
    };
    let filters = [
        ("site", q.site.clone()),
        ("state", q.state.clone()),
        ("q", q.q.clone()),
    ];
    html! {
        h1 { (scope) }
        @if user.role.may(Capability::EnterData) {
            p { a.button href="/participants/new" { "Register a participant" } }
        }
        (search_form("/participants", user, q.q.as_deref(), q.site.as_deref(), Some(q.state.as_deref().unwrap_or_default())))
        @if list.rows.is_empty() {
            p.muted { @if list.total == 0 && filters.iter().all(|(_, v)| v.is_none()) { "No participants yet." } @else { "No participant matches." } }
        } @else {
            table {
                thead { tr { th { "Study id" } th { "Site" } th { "State" } th { "Last change" } } }
                tbody {
                    @for r in &list.rows {
                        tr {
                            td { a href={ "/participants/" (r.study_id) } { (r.study_id) } }
                            td { (r.site) }
                            td { (r.state.replace('_', " ")) }
                            td { (user.local_time(r.updated_at)) }
                        }
                    }
                }
            }
            (pager("/participants", list.total, list.offset, list.limit, &filters))
        }
    }
}

fn registration_fields() -> Vec<forms::Field> {
    let schema = serde_json::to_value(schemars::schema_for!(Registration)).unwrap_or(Value::Null);
    forms::fields(&schema, declared_fields::<Registration>())
        .into_iter()
        .filter(|f| f.name != "site")
        .collect()
}

fn registration_page(
    user: &CurrentUser,
    values: &BTreeMap<String, String>,
    problem: Option<Markup>,
) -> Markup {
    html! {
        h1 { "Register a participant" }
        p.muted { "The study id is assigned from your site's sequence. Enter no name and no personal identity number: year of birth only." }
        @if let Some(p) = problem { (p) }
        form.card method="post" action="/participants/new" {
            input type="hidden" name="csrf" value=(user.csrf);
            (forms::render(&registration_fields(), values, user.zone))
            button type="submit" { "Register" }
        }
    }
}

async fn new_form(PageUser(user): PageUser) -> Response {
    if let Err(e) = user.require(Capability::EnterData) {
        return error_page(e);
    }
    page(
        "Register",
        &user,
        registration_page(&user, &BTreeMap::new(), None),
    )
}

/// A refusal or error shown above a form: the message in the forms' words, the rule
/// that refused as a small code after it (the API answer carries it as `rule`).
pub(super) fn problem_box(err: &ApiError) -> Markup {
    let body = err.body();
    html! {
        div.error #problem role="alert" tabindex="-1" autofocus {
            (forms::plain(&body.message))
            @if let Some(hint) = &body.hint { br; span.muted { (forms::plain(hint)) } }
            @if let Some(rule) = &body.rule { " " small.rule.muted { "Refused by rule " code { (rule) } } }
        }
    }
}

/// A refused form's box, and the field it is about when the refusal names one.
pub(super) struct FormProblem {
    /// The refusal's box.
    pub markup: Markup,
    /// The field it names.
    pub field: Option<String>,
}

fn problems_box(problems: &[String]) -> Markup {
    html! {
        div.error #problem role="alert" tabindex="-1" autofocus {
            "Please check these fields:"
            ul { @for p in problems { li { (p) } } }
        }
    }
}

async fn new_submit(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    RawForm(body): RawForm,
) -> Response {
    let values = match form_values(&body) {
        Ok(v) => v,
        Err(e) => return error_page(e),
    };
    let result = async {
        check_csrf(&user, &values)?;
        let json = forms::to_json(&registration_fields(), &values, user.zone)
            .map_err(|p| ApiError::BadRequest(p.join("; ")))?;
        let reg: Registration =
            serde_json::from_value(json).map_err(|e| ApiError::BadRequest(e.to_string()))?;
        Ok::<_, ApiError>(state.trial.register(&user, &reg).await?)
    }
    .await;
    match result {
        Ok(w) => {
            Redirect::to(&format!("/participants/{}?done=registered", w.study_id)).into_response()
        }
        Err(e) => page_with_status(
            e.status(),
            "Register",
            &user,
            registration_page(&user, &values, Some(problem_box(&e))),
        ),
    }
}

#[derive(serde::Deserialize)]
struct Done {
    done: Option<String>,
}

async fn overview(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path(id): Path<String>,
    Query(done): Query<Done>,
) -> Response {
    let o = page_try!(state.trial.overview(&user, &id).await);
    let settings = page_try!(state.trial.settings().await);
    let rows = page_try!(state.trial.data_points(&user, &id).await);
    let body = overview_body(
        &user,
        &id,
        (&o, &settings, &rows),
        done.done,
        &Redo::default(),
    );
    page(&id, &user, body)
}

/// The participant page again after a form on it was refused, with the refusal above
/// that form and what was typed kept.
pub(super) async fn overview_again(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
    status: StatusCode,
    redo: Redo,
) -> Response {
    let o = page_try!(state.trial.overview(user, id).await);
    let settings = page_try!(state.trial.settings().await);
    let rows = page_try!(state.trial.data_points(user, id).await);
    let body = overview_body(user, id, (&o, &settings, &rows), None, &redo);
    page_with_status(status, id, user, body)
}

fn overview_body(
    user: &CurrentUser,
    id: &str,
    (o, settings, rows): (
        &trial::overview::Overview,
        &protocol::Settings,
        &[trial::oversight::DataPointRow],
    ),
    done: Option<String>,
    redo: &Redo,
) -> Markup {
    let p = &o.participant;
    let exams: Vec<_> = o
        .exams
        .iter()
        .map(|&tp| (tp, super::pet_view::exam_status(p, tp)))
        .collect();
    let show_pet = p.enrolment.is_some();
    html! {
        h1 { "Participant " (o.row.study_id) }
        @if let Some(n) = super::saved_notice(done.as_deref()) { (n) }
        div.card {
            p { "Site " strong { (o.row.site) } " · state " strong { (o.row.state.replace('_', " ")) } " · version " (o.row.version) }
            p { "Eligibility: " (overall_badge(&o.eligibility)) " " a href={ "/participants/" (id) "/eligibility" } { "see every criterion with its evidence" } }
        }
        @if let Some(card) = super::attest::card(user, id, o, settings, redo) { (card) }
        @if !o.commands.is_empty() {
            h2 { "Record" }
            div.actions {
                @for s in &o.commands {
                    a.button href={ "/participants/" (id) "/do/" (s.name) } title=(s.summary) { (s.title) }
                }
            }
        }
        (super::oversight::data_section(user, id, o.row.version, rows, redo))
        (super::oversight::signatures_section(user, id, p))
        (super::oversight::deviations_section(user, id, o.row.version, p, redo))
        @if show_pet { (super::pet_view::overview_card(id, &exams)) }
        @if let Some(j) = &o.journey { (super::journey::journey_card(id, j, user)) }
        @if show_pet { p #response-link { a href={ "/participants/" (id) "/response" } { "Tumour response (RECIST 1.1 CT assessments)" } } }
        h2 { "Recent history" }
        (timeline_table(user, o.timeline.iter().rev().take(8)))
        p { a href={ "/participants/" (id) "/timeline" } { "The whole audit trail" } }
        details {
            summary { "Every recorded fact" }
            pre.mono { (serde_json::to_string_pretty(&o.row.snapshot).unwrap_or_default()) }
        }
    }
}

fn overall_badge(report: &EligibilityReport) -> Markup {
    let (class, text) = match report.overall {
        Overall::Eligible => ("met", "eligible"),
        Overall::NotEligible => ("not_met", "not eligible"),
        Overall::Incomplete => ("missing", "incomplete: data missing"),
    };
    html! { span class={ "status " (class) } { (text) } }
}

/// A criterion's status in words, the right way round for inclusions and exclusions.
fn criterion_status(c: &CriterionResult) -> (&'static str, &'static str) {
    match (c.kind, c.status) {
        (_, CriterionStatus::Missing) => ("missing", "missing"),
        (CriterionKind::Inclusion, CriterionStatus::Met) => ("met", "met"),
        (CriterionKind::Inclusion, CriterionStatus::NotMet) => ("not_met", "not met"),
        (CriterionKind::Exclusion, CriterionStatus::Met) => ("not_met", "applies: excluded"),
        (CriterionKind::Exclusion, CriterionStatus::NotMet) => ("met", "does not apply"),
    }
}

/// The eligibility table: every criterion with its status and evidence.
fn eligibility_table(user: &CurrentUser, report: &EligibilityReport) -> Markup {
    html! {
        p { "Overall: " (overall_badge(report)) span.muted { " · settings version " (report.settings_version) @if !report.protocol_version.is_empty() { " (protocol: " (report.protocol_version) ")" } ", evaluated " (user.local_time(report.evaluated_at)) } }
        table #eligibility {
            thead { tr { th { "Criterion" } th { "Text" } th { "Decided by" } th { "Status" } th { "Evidence" } } }
            tbody {
                @for c in &report.criteria {
                    @let (class, status) = criterion_status(c);
                    tr data-criterion=(c.id.id()) data-status=(class) {
                        td { strong { (c.id.id()) } }
                        td { (c.text) }
                        td { (serde_json::to_value(c.decided_by).ok().and_then(|v| v.as_str().map(|s| s.replace('_', " "))).unwrap_or_default()) }
                        td { span class={ "status " (class) } { (status) } }
                        td {
                            (c.summary)
                            @if !c.evidence.is_empty() { ul { @for e in &c.evidence { li { (e) } } } }
                        }
                    }
                }
            }
        }
    }
}

async fn eligibility(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path(id): Path<String>,
) -> Response {
    or_error(
        async {
            let report = state.trial.eligibility(&user, &id).await?;
            Ok(page(
                &super::participant_title("Eligibility", &id),
                &user,
                html! {
                    h1 { "Eligibility of " (id) }
                    (eligibility_table(&user, &report))
                    p { a href={ "/participants/" (id) } { "Back to " (id) } }
                },
            ))
        }
        .await,
    )
}

fn timeline_table<'a>(
    user: &CurrentUser,
    events: impl Iterator<Item = &'a TimelineEntry>,
) -> Markup {
    html! {
        table.timeline {
            thead { tr { th { "#" } th { "When" } th { "Who" } th { "What" } th { "Why" } th { "Details" } } }
            tbody {
                @for e in events {
                    tr {
                        td { (e.version) }
                        td { (user.local_time(e.recorded_at)) }
                        td { (e.actor) br; span.muted { (e.role.replace('_', " ")) } }
                        td { (e.kind.replace('_', " ")) }
                        td { (e.reason.clone().unwrap_or_default()) }
                        td { details { summary { "data" } pre.mono { (serde_json::to_string_pretty(&e.data).unwrap_or_default()) } span.muted.mono { "hash " (e.hash.get(..16).unwrap_or("")) "…" } } }
                    }
                }
            }
        }
    }
}

async fn timeline(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path(id): Path<String>,
) -> Response {
    or_error(async {
        let events = state.trial.timeline(&user, &id).await?;
        Ok(page(&super::participant_title("Audit trail", &id), &user, html! {
            h1 { "Audit trail of " (id) }
            p.muted { "Every change, oldest first: who, when (Stockholm time), what and why. Nothing is ever erased." }
            (timeline_table(&user, events.iter()))
            p { a href={ "/participants/" (id) } { "Back to " (id) } }
        }))
    }.await)
}

struct FormContext<'a> {
    user: &'a CurrentUser,
    id: &'a str,
    spec: &'a CommandSpec,
    version: i64,
    eligibility: Option<EligibilityReport>,
    /// The participant's current entries this form may name (id, description).
    entries: Vec<(String, String)>,
    /// The query this form answers with its correction, if it does.
    answers_query: Option<String>,
    /// The participant, for the values of the entry a correction starts from.
    participant: protocol::Participant,
}

/// The query parameters of a command form: the entry it corrects and the query it answers.
#[derive(serde::Deserialize, Default)]
struct FormQuery {
    corrects: Option<String>,
    query: Option<String>,
}

fn command_page(
    ctx: &FormContext,
    values: &BTreeMap<String, String>,
    problem: Option<FormProblem>,
) -> Markup {
    let fields = forms::fields(&(ctx.spec.schema)(), (ctx.spec.field_order)());
    let (entry_fields, rest): (Vec<_>, Vec<_>) = fields
        .iter()
        .cloned()
        .partition(|f| forms::ENTRY_FIELDS.contains(&f.name.as_str()));
    // A refusal that names one of the fields below is shown in that field; any other
    // above the form.
    let at_field = problem
        .as_ref()
        .and_then(|p| p.field.as_deref().map(|f| (f, &p.markup)))
        .filter(|(f, _)| rest.iter().any(|r| r.name == *f));
    html! {
        h1 { (ctx.spec.title) " · " (ctx.id) }
        p.muted { (ctx.spec.summary) }
        @if let Some(report) = &ctx.eligibility { (eligibility_table(ctx.user, report)) }
        @if let (Some(p), None) = (&problem, at_field) { (p.markup) }
        form.card method="post" action={ "/participants/" (ctx.id) "/do/" (ctx.spec.name) } {
            input type="hidden" name="csrf" value=(ctx.user.csrf);
            input type="hidden" name="expected_version" value=(ctx.version);
            @if let Some(q) = &ctx.answers_query { (super::queries::answer_fields(q, values)) }
            @for f in &entry_fields {
                (forms::entry_select(f, &ctx.entries, values.get(&f.name).map(String::as_str).unwrap_or_default()))
            }
            (forms::render_with_problem(&rest, values, ctx.user.zone, at_field))
            // One reason field: a form that can correct an entry asks for its reason.
            @if !fields.iter().any(|f| f.name == "correction_reason") {
                div.field {
                    label for="change_reason" { "Reason for the change" }
                    input type="text" id="change_reason" name="change_reason" value=(values.get("change_reason").cloned().unwrap_or_default()) maxlength="500";
                    small.help { "Optional: kept in the audit trail." }
                }
            }
            @if let Some(meaning) = ctx.spec.signature_meaning {
                fieldset.card {
                    legend { "Electronic signature" }
                    p { "By signing you state: " strong { (meaning) } }
                    div.field {
                        label for="signature_password" { "Your password" }
                        input type="password" id="signature_password" name="signature_password" autocomplete="current-password" required;
                    }
                }
            }
            button type="submit" { @if ctx.spec.signature_meaning.is_some() { "Sign" } @else { "Save" } }
            " " a href={ "/participants/" (ctx.id) } { "Cancel" }
        }
    }
}

async fn form_context<'a>(
    state: &AppState,
    user: &'a CurrentUser,
    id: &'a str,
    name: &str,
) -> Result<FormContext<'a>, ApiError> {
    let spec = commands::find(name).ok_or_else(|| ApiError::NotFound(format!("no form {name}")))?;
    user.require(spec.capability)?;
    let visible = state.trial.visible(user, id).await?;
    let eligibility = if spec.name == "enrol" {
        Some(state.trial.eligibility(user, id).await?)
    } else {
        None
    };
    let entries = if (spec.field_order)()
        .iter()
        .any(|f| forms::ENTRY_FIELDS.contains(f))
    {
        entry_choices(user, spec, &state.trial.data_points(user, id).await?)
    } else {
        Vec::new()
    };
    Ok(FormContext {
        user,
        id,
        spec,
        version: visible.row.version,
        eligibility,
        entries,
        answers_query: None,
        participant: visible.participant,
    })
}

/// The current entries a form may name: those it corrects (its own form's), or every
/// current entry for a retraction.
fn entry_choices(
    user: &CurrentUser,
    spec: &CommandSpec,
    rows: &[trial::oversight::DataPointRow],
) -> Vec<(String, String)> {
    rows.iter()
        .filter(|r| r.status == protocol::EntryStatus::Current)
        .filter(|r| {
            spec.kind == protocol::CommandKind::RetractEntry
                || r.correct_with.as_deref() == Some(spec.name)
        })
        .map(|r| {
            let label = format!(
                "{} · {}: {} ({})",
                r.entry_id,
                r.what,
                r.value,
                user.local_time(r.recorded_at)
            );
            (r.entry_id.clone(), label)
        })
        .collect()
}

async fn command_form(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path((id, name)): Path<(String, String)>,
    Query(fq): Query<FormQuery>,
) -> Response {
    let mut ctx = page_try!(form_context(&state, &user, &id, &name).await);
    ctx.answers_query = fq.query.filter(|q| !q.trim().is_empty());
    // A correction starts from the entry's stored values, with the entry chosen.
    let mut values = BTreeMap::new();
    if let Some(entry) = fq
        .corrects
        .filter(|c| ctx.entries.iter().any(|(id, _)| id == c))
    {
        let fields = forms::fields(&(ctx.spec.schema)(), (ctx.spec.field_order)());
        if let Some(json) = ctx.participant.entry_json(&entry) {
            values = forms::values_of_entry(&fields, &json, user.zone);
        }
        let field = if fields.iter().any(|f| f.name == "corrects") {
            "corrects"
        } else {
            "entry_id"
        };
        values.insert(field.to_string(), entry);
    }
    page(
        &super::participant_title(ctx.spec.title, &id),
        &user,
        command_page(&ctx, &values, None),
    )
}

async fn command_submit(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path((id, name)): Path<(String, String)>,
    RawForm(body): RawForm,
) -> Response {
    let values = page_try!(checked_form(&user, &body));
    let mut ctx = page_try!(form_context(&state, &user, &id, &name).await);
    ctx.answers_query = values
        .get("answers_query")
        .filter(|q| !q.trim().is_empty())
        .cloned();
    let Err((status, problem)) = run_form(&state, &mut ctx, &values).await else {
        return match &ctx.answers_query {
            Some(q) => done(&format!("/participants/{id}/queries/{q}"), "answered"),
            None => done(&format!("/participants/{id}"), &name),
        };
    };
    let body = command_page(&ctx, &values, Some(problem));
    page_with_status(
        status,
        &super::participant_title(ctx.spec.title, &id),
        &user,
        body,
    )
}

/// Reads a generic command form and runs it; a refusal comes back as the box to show
/// above the form (and a conflict moves the form to the version now stored).
async fn run_form(
    state: &AppState,
    ctx: &mut FormContext<'_>,
    values: &BTreeMap<String, String>,
) -> Result<(), (StatusCode, FormProblem)> {
    let fields = forms::fields(&(ctx.spec.schema)(), (ctx.spec.field_order)());
    let data = forms::to_json(&fields, values, ctx.user.zone).map_err(|p| {
        let problem = FormProblem {
            markup: problems_box(&p),
            field: None,
        };
        (StatusCode::BAD_REQUEST, problem)
    })?;
    let refused = |e: ApiError| {
        let problem = FormProblem {
            field: forms::refused_field(&e.body().message, &fields),
            markup: problem_box(&e),
        };
        (e.status(), problem)
    };
    let written = if ctx.answers_query.is_some() {
        // The correction is recorded as part of the answer, in one write.
        super::queries::answer_with_correction(state, ctx.user, ctx.id, ctx.spec, values, data)
            .await
            .map(|_| ())
    } else {
        let request = command_request(values, data).map_err(refused)?;
        state
            .trial
            .run_spec(ctx.user, ctx.id, ctx.spec, request)
            .await
            .map(|_| ())
            .map_err(ApiError::from)
    };
    match written {
        Ok(_) => Ok(()),
        Err(e) => {
            if let ApiError::Conflict { actual, .. } = e {
                ctx.version = actual;
            }
            Err(refused(e))
        }
    }
}
