//! The journey after PET on the pages: the participant's journey card (arm, next visit,
//! visits, adverse events with the SAE clock, deviations), the adverse-event form with
//! the CTCAE v5.0 term search and the chosen term's own grade texts, and the sites' list
//! of upcoming and overdue visits.

use std::collections::BTreeMap;

use axum::Router;
use axum::extract::{Path, Query, RawForm, State};
use axum::response::Response;
use axum::routing::get;
use maud::{Markup, html};
use protocol::journey::ctcae::{CTCAE_VERSION, ctcae_v5};
use protocol::journey::safety::{SaeClock, SaeClockState};
use protocol::journey::schedule::{VisitState, VisitStatus};
use protocol::{Arm, Command};
use serde::Deserialize;
use serde_json::Value;

use trial::Capability;
use trial::commands;
use trial::journey::{JourneyView, VisitListQuery, ctcae_lookup};

use super::participants::problem_box;
use super::submit::command_request;
use super::{checked_form, done, error_page, forms, page, page_try, page_with_status, pager};
use crate::AppState;
use crate::auth::{CurrentUser, PageUser};
use crate::error::ApiError;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/visits", get(visits_page))
        .route("/participants/{id}/ae/new", get(ae_form).post(ae_submit))
}

fn arm_text(a: Option<Arm>) -> &'static str {
    match a {
        Some(Arm::Arm1) => "arm 1 · trastuzumab deruxtecan",
        Some(Arm::Arm2) => "arm 2 · safety follow-up",
        None => "not allocated",
    }
}

fn dose_level(l: protocol::journey::tdxd::DoseLevel) -> &'static str {
    use protocol::journey::tdxd::DoseLevel;
    match l {
        DoseLevel::Start => "5.4 mg/kg",
        DoseLevel::Reduced1 => "4.4 mg/kg",
        DoseLevel::Reduced2 => "3.2 mg/kg",
    }
}

fn visit_badge(s: &VisitState) -> Markup {
    let (class, text) = match s {
        VisitState::Upcoming => ("missing", "upcoming"),
        VisitState::Due => ("missing", "due now"),
        VisitState::Overdue => ("not_met", "overdue"),
        VisitState::Skipped => ("muted", "skipped"),
        VisitState::DoneInWindow => ("met", "done in window"),
        VisitState::DoneOutOfWindow => ("not_met", "done outside window"),
    };
    html! { span class={ "status " (class) } { (text) } }
}

fn visit_row(v: &VisitStatus) -> Markup {
    html! {
        td { (v.expected.kind.label()) }
        td { (v.expected.window.earliest) " – " (v.expected.window.latest) br; small.muted { (v.expected.derivation) } }
        td { (visit_badge(&v.state)) @if let Some(d) = v.done_on { " " (d) } }
    }
}

/// The SAE clock in words, flagged when late.
pub fn sae_badge(user: &CurrentUser, c: &SaeClock) -> Markup {
    let hm = |m: i64| format!("{} h {:02} min", m / 60, m % 60);
    let (class, text) = match &c.state {
        SaeClockState::Running { minutes_left } => {
            ("missing", format!("report due in {}", hm(*minutes_left)))
        }
        SaeClockState::Overdue { minutes_late } => (
            "not_met",
            format!("report overdue by {}", hm(*minutes_late)),
        ),
        SaeClockState::ReportedOnTime => ("met", "reported on time".to_string()),
        SaeClockState::ReportedLate { minutes_late } => {
            ("not_met", format!("reported late by {}", hm(*minutes_late)))
        }
    };
    html! { span class={ "status " (class) } data-sae-late=(c.late) title={ "due " (user.local_time(c.due_at)) } { "SAE: " (text) } }
}

/// The journey card on the participant overview.
pub fn journey_card(id: &str, j: &JourneyView, user: &CurrentUser) -> Markup {
    let open_devs = j.deviations.len();
    html! {
        h2 { "Journey" }
        div.card #journey {
            p {
                "Allocation: " strong #arm { (arm_text(j.arm)) }
                @if let Some(a) = &j.allocation {
                    @if let Some(c) = &a.decision.deciding_category { " · HER2 category " (c.label()) }
                    @if !a.corrections.is_empty() { " · corrected (" (a.corrections.len()) ")" }
                }
            }
            @if let Some(p) = j.allocation.as_ref().and_then(|a| a.pending.as_ref()) {
                div.warning #pending-allocation role="status" {
                    "A later pathology report re-derives the allocation: "
                    strong { (p.proposed.map_or("no diagnostic specimen", |t| t.label())) }
                    " instead of " (p.in_force.map_or("none", |t| t.label())) " (" (user.local_time(p.proposed_at)) "). "
                    "Nothing changes until the investigator signs "
                    a href={ "/participants/" (id) "/do/correct-allocation" } { "Correct the allocation" }
                    " (confirm the new arm, or keep the current one with a reason)."
                    @if p.treatment_started { " T-DXd has been given: moving her off arm 1 records a major deviation." }
                }
            }
            @if let Some(v) = &j.next_visit {
                p #next-visit { "Next visit: " strong { (v.expected.kind.label()) } " between " (v.expected.window.earliest) " and " (v.expected.window.latest) " " (visit_badge(&v.state)) }
            }
            @if !j.tdxd.administrations.is_empty() || j.arm == Some(Arm::Arm1) {
                p #tdxd {
                    "T-DXd: " (j.tdxd.administrations.len()) " cycle(s)"
                    @if let Some(d) = &j.tdxd.discontinued { " · " span.status.not_met { "discontinued " (d.on) } " (" (d.reason) ")" }
                    @else { "; dose level allowed " (dose_level(j.tdxd.level)) }
                    @for i in &j.tdxd.interruptions { " · " span.status.missing { "interrupted since " (i.since) " (" (i.rule) ")" } }
                }
                @if let Some(r) = &j.tdxd.lvef_repeat {
                    p #lvef-repeat { span.status.missing { "Repeat the LVEF by " (r.due) } " · finding of " (r.since) ": " (r.reason) }
                }
            }
            @if let Some(c) = &j.contraception {
                p #contraception { "Contraception needed until " strong { (c.until) } " (" (c.basis) ")." }
            }
            @if let Some(o) = &j.off_study { p { span.status.met { "off study " (o.ended_on) } } }
            @if open_devs > 0 {
                p { span.status.not_met { (open_devs) " deviation(s)" } }
                ul #deviations { @for d in &j.deviations { li { strong { (d.rule) } " (" (format!("{:?}", d.severity).to_lowercase()) "): " (d.description) } } }
            }
        }
        @if !j.visits.is_empty() {
            table #visits {
                thead { tr { th { "Visit" } th { "Window" } th { "State" } } }
                tbody { @for v in &j.visits { tr { (visit_row(v)) } } }
            }
        }
        @if !j.pregnancy_reports.is_empty() {
            h3 { "Pregnancy reports" }
            ul #pregnancies {
                @for r in &j.pregnancy_reports {
                    li { (r.report.report_id) ": site aware " (user.local_time(r.report.site_aware_at)) " " @if let Some(c) = &r.clock { (sae_badge(user, c)) } @if let Some(n) = &r.report.note { " · " (n) } }
                }
            }
        }
        h3 { "Adverse events" }
        @if user.role.may(Capability::EnterData) {
            p { a.button href={ "/participants/" (id) "/ae/new" } { "Record an adverse event" } }
        }
        @if j.adverse_events.is_empty() {
            p.muted { "None recorded." }
        } @else {
            table #adverse-events {
                thead { tr { th { "Entry" } th { "Term" } th { "Grade" } th { "Onset – resolved" } th { "Serious" } th { "T-DXd" } th { "" } } }
                tbody {
                    @for a in j.adverse_events.iter().filter(|a| a.current) {
                        tr data-ae=(a.entry_id) {
                            td { (a.entry_id) }
                            td { (a.term) @for x in &a.aesi { " " span.status.missing { "AESI " (x) } } }
                            td { (a.grade) br; small.muted { (a.grade_text) } }
                            td { (a.onset) " – " (a.resolved.map(|d| d.to_string()).unwrap_or_default()) }
                            td {
                                @if a.serious { (a.seriousness_criteria.join(", ")) br; @if let Some(c) = &a.sae_clock { (sae_badge(user, c)) } }
                                @else { "no" }
                            }
                            td { @for d in &a.tdxd_decisions { small { (d) } br; } }
                            td { @if user.role.may(Capability::EnterData) { a href={ "/participants/" (id) "/ae/new?follow_up=" (a.entry_id) } { "follow up" } } }
                        }
                    }
                }
            }
        }
    }
}

#[derive(Deserialize)]
struct AeQuery {
    q: Option<String>,
    code: Option<u32>,
    follow_up: Option<String>,
}

fn ae_spec() -> &'static commands::CommandSpec {
    commands::find("adverse-event").expect("the adverse-event command is in the table")
}

/// The form's fields other than the term and the grade (chosen above them) and the
/// follow-up's entry and reason (one field of its own, on follow-ups only).
fn other_fields() -> Vec<forms::Field> {
    let spec = ae_spec();
    forms::fields(&(spec.schema)(), (spec.field_order)())
        .into_iter()
        .filter(|f| {
            !matches!(
                f.name.as_str(),
                "meddra_code" | "grade" | "corrects" | "correction_reason"
            )
        })
        .collect()
}

struct AeCtx<'a> {
    user: &'a CurrentUser,
    id: &'a str,
    version: i64,
}

fn term_search(ctx: &AeCtx, q: &str) -> Markup {
    let hits = ctcae_lookup(q);
    html! {
        form method="get" action={ "/participants/" (ctx.id) "/ae/new" } .card {
            div.field {
                label for="q" { "CTCAE v" (CTCAE_VERSION) " term (name or MedDRA code)" }
                input type="search" id="q" name="q" value=(q) autofocus;
            }
            button type="submit" { "Search" }
        }
        @if !q.trim().is_empty() {
            @if hits.is_empty() { p.muted { "No term matches " strong { (q) } "." } }
            @else {
                ul #terms {
                    @for t in &hits {
                        li { a href={ "/participants/" (ctx.id) "/ae/new?code=" (t.meddra_code) } { (t.term) } " · " span.muted { (t.soc) " · " (t.meddra_code) } }
                    }
                }
            }
        }
    }
}

fn ae_page(
    ctx: &AeCtx,
    code: u32,
    values: &BTreeMap<String, String>,
    problem: Option<Markup>,
) -> Markup {
    let Some(term) = ctcae_v5().by_meddra_code(code) else {
        return html! { div.error role="alert" { "MedDRA code " (code) " is not a CTCAE v" (CTCAE_VERSION) " term." } };
    };
    let grade = values.get("grade").cloned().unwrap_or_default();
    html! {
        @if let Some(p) = problem { (p) }
        form.card #ae method="post" action={ "/participants/" (ctx.id) "/ae/new" } {
            input type="hidden" name="csrf" value=(ctx.user.csrf);
            input type="hidden" name="expected_version" value=(ctx.version);
            input type="hidden" name="meddra_code" value=(code);
            @if let Some(c) = values.get("corrects") { input type="hidden" name="corrects" value=(c); }
            p { "Term: " strong #term { (term.term) } " · " span.muted { (term.soc) " · MedDRA " (code) } " · " a href={ "/participants/" (ctx.id) "/ae/new" } { "another term" } }
            @if let Some(d) = &term.definition { p.muted { (d) } }
            fieldset #grades {
                legend { "Grade (the term's own CTCAE texts)" }
                @for g in 1..=5u8 {
                    @if let Some(text) = term.grade_text(g) {
                        div {
                            input type="radio" name="grade" id={ "grade-" (g) } value=(g) required checked[grade == g.to_string()];
                            label for={ "grade-" (g) } { " " strong { "Grade " (g) } ": " (text) }
                        }
                    }
                }
            }
            (forms::render(&other_fields(), values, ctx.user.zone))
            @if values.contains_key("corrects") {
                div.field {
                    label for="f-correction_reason" { "Reason for the follow-up" span.req aria-hidden="true" { " *" } }
                    input type="text" id="f-correction_reason" name="correction_reason" required maxlength="500" aria-describedby="f-correction_reason-help" value=(values.get("correction_reason").cloned().unwrap_or_default());
                    small.help id="f-correction_reason-help" { "What changed since the earlier report (e.g. resolved, grade went down); kept with the entry and in the audit trail." }
                }
            }
            button type="submit" { "Save" }
            " " a href={ "/participants/" (ctx.id) } { "Cancel" }
        }
    }
}

/// The values of an earlier entry, to follow it up.
fn follow_up_values(
    p: &protocol::Participant,
    entry: &str,
    zone: trial::SiteZone,
) -> Option<(u32, BTreeMap<String, String>)> {
    let e = p
        .adverse_events
        .iter()
        .find(|e| e.entry_id == entry && e.is_current())?;
    let cmd = Command::RecordAdverseEvent(protocol::RecordAdverseEvent {
        meddra_code: e.value.ae.meddra_code,
        verbatim: e.value.ae.verbatim.clone(),
        grade: e.value.ae.grade,
        onset: e.value.ae.onset,
        resolved: e.value.ae.resolved,
        serious_death: e.value.ae.seriousness.death,
        serious_life_threatening: e.value.ae.seriousness.life_threatening,
        serious_hospitalisation: e.value.ae.seriousness.hospitalisation,
        serious_disability: e.value.ae.seriousness.disability,
        serious_congenital_anomaly: e.value.ae.seriousness.congenital_anomaly,
        serious_important_medical_event: e.value.ae.seriousness.important_medical_event,
        relation_imp: e.value.ae.relation_imp,
        relation_tdxd: e.value.ae.relation_tdxd,
        action_tdxd: e.value.ae.action_tdxd,
        outcome: e.value.ae.outcome,
        site_aware_at: e.value.ae.site_aware_at,
        reported_to_sponsor_at: e.value.ae.reported_to_sponsor_at,
        corrects: Some(entry.to_string()),
        correction_reason: None,
    });
    let (_, data) = commands::for_command(&cmd)?;
    let mut values = BTreeMap::new();
    for (k, v) in data.as_object()? {
        let s = match v {
            Value::String(s) => match s.parse::<chrono::DateTime<chrono::Utc>>() {
                Ok(t) => t
                    .with_timezone(&zone.0)
                    .format("%Y-%m-%dT%H:%M")
                    .to_string(),
                Err(_) => s.clone(),
            },
            Value::Bool(b) => b.to_string(),
            Value::Number(n) => n.to_string(),
            _ => continue,
        };
        values.insert(k.clone(), s);
    }
    Some((e.value.ae.meddra_code, values))
}

async fn ae_context<'a>(
    state: &AppState,
    user: &'a CurrentUser,
    id: &'a str,
) -> Result<(AeCtx<'a>, protocol::Participant), ApiError> {
    user.require(Capability::EnterData)?;
    let v = state.trial.visible(user, id).await?;
    Ok((
        AeCtx {
            user,
            id,
            version: v.row.version,
        },
        v.participant,
    ))
}

async fn ae_form(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path(id): Path<String>,
    Query(q): Query<AeQuery>,
) -> Response {
    let (ctx, p) = page_try!(ae_context(&state, &user, &id).await);
    let body = page_try!(ae_form_body(&ctx, &p, &q));
    let markup = html! {
        h1 { "Adverse event · " (id) }
        p.muted { (ae_spec().summary) }
        (body)
    };
    page(
        &super::participant_title("Adverse event", &id),
        &user,
        markup,
    )
}

/// The term search, the form for a chosen term, or a follow-up of an earlier entry.
fn ae_form_body(ctx: &AeCtx, p: &protocol::Participant, q: &AeQuery) -> Result<Markup, ApiError> {
    Ok(match (&q.follow_up, q.code) {
        (Some(entry), _) => {
            let (code, values) = follow_up_values(p, entry, ctx.user.zone)
                .ok_or_else(|| ApiError::NotFound(format!("no current adverse event {entry}")))?;
            ae_page(ctx, code, &values, None)
        }
        (None, Some(code)) => ae_page(ctx, code, &BTreeMap::new(), None),
        (None, None) => term_search(ctx, q.q.as_deref().unwrap_or_default()),
    })
}

/// The adverse-event form as the `adverse-event` command's request. A follow-up
/// corrects the earlier entry with the reason typed.
fn ae_request(
    values: &BTreeMap<String, String>,
    zone: trial::SiteZone,
) -> Result<trial::participants::CommandRequest, ApiError> {
    let mut data = forms::to_json(&other_fields(), values, zone)
        .map_err(|p| ApiError::BadRequest(p.join("; ")))?;
    let code: u32 = values
        .get("meddra_code")
        .and_then(|c| c.parse().ok())
        .unwrap_or_default();
    let grade: u8 = values
        .get("grade")
        .and_then(|g| g.parse().ok())
        .ok_or_else(|| ApiError::BadRequest("choose a grade".into()))?;
    let reason = values
        .get("correction_reason")
        .map(|r| r.trim().to_string())
        .filter(|r| !r.is_empty());
    if let Value::Object(map) = &mut data {
        map.insert("meddra_code".into(), Value::from(code));
        map.insert("grade".into(), Value::from(grade));
        if let Some(c) = values.get("corrects").filter(|c| !c.is_empty()) {
            map.insert("corrects".into(), Value::from(c.clone()));
            map.insert(
                "correction_reason".into(),
                Value::from(reason.clone().unwrap_or_default()),
            );
        }
    }
    let mut req = command_request(values, data)?;
    req.reason = reason;
    Ok(req)
}

async fn ae_submit(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path(id): Path<String>,
    RawForm(body): RawForm,
) -> Response {
    let values = page_try!(checked_form(&user, &body));
    let (ctx, _) = page_try!(ae_context(&state, &user, &id).await);
    let result = match ae_request(&values, user.zone) {
        Ok(req) => state
            .trial
            .run_command(&user, &id, "adverse-event", req)
            .await
            .map_err(ApiError::from),
        Err(e) => Err(e),
    };
    let Err(e) = result else {
        return done(&format!("/participants/{id}"), "adverse-event");
    };
    let code = values
        .get("meddra_code")
        .and_then(|c| c.parse().ok())
        .unwrap_or_default();
    let markup = html! {
        h1 { "Adverse event · " (id) }
        (ae_page(&ctx, code, &values, Some(problem_box(&e))))
    };
    page_with_status(
        e.status(),
        &super::participant_title("Adverse event", &id),
        &user,
        markup,
    )
}

async fn visits_page(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Query(q): Query<VisitListQuery>,
) -> Response {
    match state.trial.visits(&user, &q).await {
        Ok(list) => page("Visits", &user, visits_body(&user, &q, &list)),
        Err(e) => error_page(e),
    }
}

fn visits_body(
    user: &CurrentUser,
    q: &VisitListQuery,
    list: &trial::participants::Page<trial::journey::SiteVisit>,
) -> Markup {
    let scope = user.site.clone().unwrap_or_else(|| "every site".into());
    let filters = [("site", q.site.clone()), ("q", q.q.clone())];
    html! {
        h1 { "Visits to plan · " (scope) }
        p.muted { "Expected visits of participants in follow-up, with their windows from the protocol's anchors; overdue first." }
        (super::search_form("/visits", user, q.q.as_deref(), q.site.as_deref(), None))
        @if list.rows.is_empty() { p.muted { "Nothing due." } }
        @else {
            table #site-visits {
                thead { tr { th { "Participant" } th { "Visit" } th { "Window" } th { "State" } } }
                tbody {
                    @for v in &list.rows {
                        tr {
                            td { a href={ "/participants/" (v.study_id) } { (v.study_id) } }
                            (visit_row(&v.visit))
                        }
                    }
                }
            }
            (pager("/visits", list.total, list.offset, list.limit, &filters))
        }
    }
}
