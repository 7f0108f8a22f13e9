//! The journey after PET over the JSON API (PROTOCOL §7–§9, §11): a participant's
//! journey (arm, biopsies, pathology, T-DXd course, adverse events with the SAE clock,
//! visits and deviations), the site's upcoming and overdue visits, and the CTCAE v5.0
//! term list. The writes are ordinary commands under `/commands/`.

use axum::extract::{Path, Query, State};
use axum::routing::get;
use axum::{Json, Router};
use chrono::Utc;
use protocol::journey::ctcae::{CTCAE_VERSION, ctcae_v5};
use protocol::journey::safety::{SaeClock, sae_clock_of};
use protocol::journey::schedule::{VisitState, VisitStatus};
use protocol::journey::tdxd::TdxdCourse;
use protocol::journey::trial::{
    AllocationRecord, BiopsyRecord, OffStudyRecord, PathologyRecord, TdxdRecord, visits,
};
use protocol::records::Deviation;
use protocol::{Arm, Participant, Settings};
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::api::{visible_participant, visible_participants};
use crate::auth::{ApiUser, CurrentUser};
use crate::error::ApiError;
use crate::write;

/// The routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/participants/{id}/journey", get(journey))
        .route("/api/v1/visits", get(site_visits))
        .route("/api/v1/ctcae", get(ctcae_search))
        .route("/api/v1/ctcae/{code}", get(ctcae_term))
}

/// An adverse event as a site reads it.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct AeView {
    /// Entry id (a follow-up corrects it and gets a new one).
    pub entry_id: String,
    /// The event's id across follow-ups.
    pub ae_id: String,
    /// Whether this entry is the current one.
    pub current: bool,
    /// CTCAE term.
    pub term: String,
    /// MedDRA code.
    pub meddra_code: u32,
    /// Grade.
    pub grade: u8,
    /// The term's text for that grade.
    pub grade_text: String,
    /// Onset.
    pub onset: chrono::NaiveDate,
    /// Resolution.
    pub resolved: Option<chrono::NaiveDate>,
    /// Serious by ICH E2A.
    pub serious: bool,
    /// Seriousness criteria that hold.
    pub seriousness_criteria: Vec<String>,
    /// Adverse events of special interest it is.
    pub aesi: Vec<String>,
    /// The 24-hour reporting clock of a serious event.
    pub sae_clock: Option<SaeClock>,
    /// What it did to the T-DXd course.
    pub tdxd_decisions: Vec<String>,
}

/// The journey after PET.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct JourneyView {
    /// Study id.
    pub study_id: String,
    /// State.
    pub state: String,
    /// Version: send it as `expected_version`.
    pub version: i64,
    /// The arm in force.
    pub arm: Option<Arm>,
    /// The allocation with its evidence and corrections.
    pub allocation: Option<AllocationRecord>,
    /// Study biopsies.
    pub biopsies: Vec<BiopsyRecord>,
    /// Pathology reports.
    pub pathology: Vec<PathologyRecord>,
    /// T-DXd course: level allowed, interruptions, discontinuation.
    pub tdxd: TdxdCourse,
    /// T-DXd administrations with their checks.
    pub tdxd_records: Vec<TdxdRecord>,
    /// Adverse events, newest entry first.
    pub adverse_events: Vec<AeView>,
    /// Expected visits and their state today.
    pub visits: Vec<VisitStatus>,
    /// The next visit due (due or overdue first, then upcoming).
    pub next_visit: Option<VisitStatus>,
    /// Protocol deviations.
    pub deviations: Vec<Deviation>,
    /// Off study, once ended.
    pub off_study: Option<OffStudyRecord>,
    /// Pregnancy reports with their 24-hour reporting clock.
    pub pregnancy_reports: Vec<PregnancyView>,
}

/// A pregnancy report with its reporting clock.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct PregnancyView {
    /// The report.
    pub report: protocol::journey::trial::PregnancyReport,
    /// The 24-hour clock from site awareness.
    pub clock: Option<SaeClock>,
}

fn ae_views(p: &Participant, s: &Settings) -> Vec<AeView> {
    let now = Utc::now();
    p.adverse_events
        .iter()
        .rev()
        .map(|e| {
            let r = &e.value;
            AeView {
                entry_id: e.entry_id.clone(),
                ae_id: r.ae.ae_id.clone(),
                current: e.is_current(),
                term: r.coded.term.clone(),
                meddra_code: r.ae.meddra_code,
                grade: r.ae.grade,
                grade_text: r.coded.grade_text.clone(),
                onset: r.ae.onset,
                resolved: r.ae.resolved,
                serious: r.coded.serious,
                seriousness_criteria: r.coded.seriousness_criteria.clone(),
                aesi: r
                    .coded
                    .aesi
                    .iter()
                    .map(|a| match a {
                        protocol::journey::safety::Aesi::IldPneumonitis => {
                            "ILD/pneumonitis".to_string()
                        }
                        protocol::journey::safety::Aesi::LvefDecrease => {
                            "LVEF decrease".to_string()
                        }
                    })
                    .collect(),
                sae_clock: sae_clock_of(&r.ae, now, s).ok().flatten(),
                tdxd_decisions: r
                    .tdxd_decisions
                    .iter()
                    .map(|d| d.decision.reason.clone())
                    .collect(),
            }
        })
        .collect()
}

fn next_visit(v: &[VisitStatus]) -> Option<VisitStatus> {
    let open = |s: &VisitStatus| matches!(s.state, VisitState::Due | VisitState::Overdue);
    v.iter()
        .find(|s| open(s))
        .or_else(|| v.iter().find(|s| s.state == VisitState::Upcoming))
        .cloned()
}

/// A participant's journey, if this user may see her.
pub async fn journey_of(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
) -> Result<JourneyView, ApiError> {
    visible_participant(state, user, id).await?;
    let loaded = write::load(&state.store, id).await?;
    let settings = crate::admin::load_settings(&state.store).await?;
    let p = loaded.participant;
    let today = crate::pages::forms::today();
    let v = visits(&p, today, &settings);
    Ok(JourneyView {
        study_id: id.to_string(),
        state: p.state.name().to_string(),
        version: loaded.version,
        arm: p.allocation.as_ref().and_then(AllocationRecord::arm),
        adverse_events: ae_views(&p, &settings),
        next_visit: next_visit(&v),
        visits: v,
        allocation: p.allocation,
        biopsies: p.biopsies,
        pathology: p.pathology,
        tdxd: p.tdxd,
        tdxd_records: p.tdxd_records,
        deviations: p.deviations,
        off_study: p.off_study,
        pregnancy_reports: p
            .pregnancy_reports
            .into_iter()
            .map(|r| PregnancyView {
                clock: protocol::journey::safety::sae_clock(
                    r.site_aware_at,
                    r.reported_to_sponsor_at,
                    Utc::now(),
                    &settings,
                )
                .ok(),
                report: r,
            })
            .collect(),
    })
}

async fn journey(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(id): Path<String>,
) -> Result<Json<JourneyView>, ApiError> {
    Ok(Json(journey_of(&state, &user, &id).await?))
}

/// A visit a site has to plan.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct SiteVisit {
    /// Study id.
    pub study_id: String,
    /// Site.
    pub site: String,
    /// The visit and its window.
    pub visit: VisitStatus,
}

/// Upcoming, due and overdue visits of the participants this user may see, overdue first.
pub async fn site_visits_of(
    state: &AppState,
    user: &CurrentUser,
) -> Result<Vec<SiteVisit>, ApiError> {
    let rows = visible_participants(state, user).await?;
    let settings = crate::admin::load_settings(&state.store).await?;
    let today = crate::pages::forms::today();
    let mut out = Vec::new();
    for row in rows {
        let loaded = write::load(&state.store, &row.study_id).await?;
        for v in visits(&loaded.participant, today, &settings) {
            if matches!(
                v.state,
                VisitState::Upcoming | VisitState::Due | VisitState::Overdue
            ) {
                out.push(SiteVisit {
                    study_id: row.study_id.clone(),
                    site: row.site.clone(),
                    visit: v,
                });
            }
        }
    }
    let rank = |s: &VisitState| match s {
        VisitState::Overdue => 0,
        VisitState::Due => 1,
        _ => 2,
    };
    out.sort_by(|a, b| {
        rank(&a.visit.state)
            .cmp(&rank(&b.visit.state))
            .then(
                a.visit
                    .expected
                    .window
                    .latest
                    .cmp(&b.visit.expected.window.latest),
            )
            .then(a.study_id.cmp(&b.study_id))
    });
    Ok(out)
}

async fn site_visits(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
) -> Result<Json<Vec<SiteVisit>>, ApiError> {
    Ok(Json(site_visits_of(&state, &user).await?))
}

/// A CTCAE v5.0 term with its grade texts.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct CtcaeView {
    /// CTCAE version.
    pub version: String,
    /// MedDRA code.
    pub meddra_code: u32,
    /// System organ class.
    pub soc: String,
    /// Term.
    pub term: String,
    /// Grade 1–5 texts; `null` where the grade does not exist for the term.
    pub grades: [Option<String>; 5],
    /// Definition.
    pub definition: Option<String>,
}

fn view(t: &protocol::journey::ctcae::CtcaeTerm) -> CtcaeView {
    CtcaeView {
        version: CTCAE_VERSION.to_string(),
        meddra_code: t.meddra_code,
        soc: t.soc.clone(),
        term: t.term.clone(),
        grades: t.grades.clone(),
        definition: t.definition.clone(),
    }
}

/// Search text.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct CtcaeQuery {
    /// Part of a term's name, or a MedDRA code.
    pub q: Option<String>,
}

/// Terms whose name contains the text (or whose code is the number), at most 50.
pub fn ctcae_lookup(q: &str) -> Vec<CtcaeView> {
    let q = q.trim();
    if q.is_empty() {
        return Vec::new();
    }
    let list = ctcae_v5();
    if let Ok(code) = q.parse::<u32>() {
        return list.by_meddra_code(code).map(view).into_iter().collect();
    }
    list.search(q).into_iter().take(50).map(view).collect()
}

async fn ctcae_search(
    ApiUser(_user): ApiUser,
    Query(q): Query<CtcaeQuery>,
) -> Json<Vec<CtcaeView>> {
    Json(ctcae_lookup(q.q.as_deref().unwrap_or_default()))
}

async fn ctcae_term(
    ApiUser(_user): ApiUser,
    Path(code): Path<String>,
) -> Result<Json<CtcaeView>, ApiError> {
    let code: u32 = code
        .parse()
        .map_err(|_| ApiError::NotFound(format!("{code:?} is not a MedDRA code")))?;
    ctcae_v5()
        .by_meddra_code(code)
        .map(|t| Json(view(t)))
        .ok_or_else(|| {
            ApiError::NotFound(format!(
                "MedDRA code {code} is not a CTCAE v{CTCAE_VERSION} term"
            ))
        })
}
