//! Study oversight over the JSON API (PROTOCOL §12): a participant's data points with
//! their status, queries and their conversation, source data verification, freezes and
//! locks of a participant's data or of the whole study, the investigator's casebook
//! signatures, and deviations recorded and reviewed by hand.
//!
//! Every write is one act of oversight decided by the protocol with the member of staff
//! who asks ([`trial::Trial::oversee`] and its siblings), appended through the one write
//! path; a refusal is a 422 naming its rule (`ROLE`, `QUERY`, `FROZEN`, `LOCKED`,
//! `SIGNATURE`, `DEVIATION`…). Another site's participant is answered as one that does
//! not exist. Each write answers with the participant's oversight after it and the id of
//! the query or deviation it created.

use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use protocol::Event;
use protocol::oversight::{
    AssessDeviation, ChangeHold, DataPoint, DeviationCategory, DeviationStatus, Oversight,
    OversightCommand, RaiseQuery, ReportDeviation, ResolveQuery, Scope, StudyOversight,
    VerifyEntries,
};
use protocol::records::DeviationSeverity;
use serde::{Deserialize, Serialize};
use trial::Written;
use trial::oversight::{
    AnswerRequest, DataPointRow, OversightRequest, QueryFilter, QueryRow, SignRequest,
};

use crate::AppState;
use crate::api::{ApiJson, ApiQuery};
use crate::auth::ApiUser;
use crate::error::ApiError;

/// The routes.
pub fn router() -> Router<AppState> {
    let p = "/api/v1/participants/{id}";
    Router::new()
        .route(&format!("{p}/data-points"), get(data_points))
        .route("/api/v1/queries", get(queries))
        .route(
            &format!("{p}/queries"),
            get(participant_queries).post(raise),
        )
        .route(&format!("{p}/queries/{{query_id}}"), get(one_query))
        .route(&format!("{p}/queries/{{query_id}}/answer"), post(answer))
        .route(&format!("{p}/queries/{{query_id}}/close"), post(close))
        .route(&format!("{p}/queries/{{query_id}}/requery"), post(requery))
        .route(&format!("{p}/queries/{{query_id}}/cancel"), post(cancel))
        .route(&format!("{p}/verify"), post(verify))
        .route(&format!("{p}/freeze"), post(freeze))
        .route(&format!("{p}/lock"), post(lock))
        .route(&format!("{p}/unlock"), post(unlock))
        .route(&format!("{p}/unfreeze"), post(unfreeze))
        .route(&format!("{p}/signatures"), get(signatures).post(sign))
        .route(&format!("{p}/deviations"), post(report_deviation))
        .route(
            &format!("{p}/deviations/{{deviation_id}}/assess"),
            post(assess_deviation),
        )
        .route("/api/v1/study/oversight", get(study))
        .route("/api/v1/study/freeze", post(study_freeze))
        .route("/api/v1/study/lock", post(study_lock))
        .route("/api/v1/study/unlock", post(study_unlock))
        .route("/api/v1/study/unfreeze", post(study_unfreeze))
}

/// What an act of oversight recorded.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct OversightWritten {
    /// The participant's study id.
    pub study_id: String,
    /// Her version after the write (send it as `expected_version` next).
    pub version: i64,
    /// Kinds of the events recorded, in order.
    pub events: Vec<String>,
    /// The id of the query or deviation the act created, if it created one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    /// Her oversight after the write: queries, verification, holds, signatures and the
    /// review of deviations.
    pub oversight: Oversight,
}

impl From<Written> for OversightWritten {
    fn from(w: Written) -> Self {
        let created = w.appended.iter().find_map(|e| match e {
            Event::QueryRaised { query, .. } => Some(query.query_id.clone()),
            Event::DeviationReported { deviation, .. } => Some(deviation.deviation_id.clone()),
            _ => None,
        });
        OversightWritten {
            study_id: w.study_id,
            version: w.version,
            events: w.events,
            created,
            oversight: w.participant.oversight,
        }
    }
}

/// A query raised by a monitor or data manager.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RaiseRequest {
    /// The participant's version you saw; a newer record gets 409.
    #[serde(default)]
    pub expected_version: Option<i64>,
    /// The datum queried: an entry id (as the data points list them) and optionally one
    /// of its fields.
    pub point: DataPoint,
    /// The question for the site.
    pub text: String,
}

/// Closes, requeries or cancels a query.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ResolveRequest {
    /// The participant's version you saw.
    #[serde(default)]
    pub expected_version: Option<i64>,
    /// Why, in words (required to requery and to cancel).
    #[serde(default)]
    pub text: String,
}

/// Verifies entries against the source: the entries named, or every current entry of a
/// form, a visit or the participant.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyRequest {
    /// The participant's version you saw.
    #[serde(default)]
    pub expected_version: Option<i64>,
    /// Entry ids (current entries).
    #[serde(default)]
    pub entry_ids: Vec<String>,
    /// A form, a visit or the participant, to verify in bulk.
    #[serde(default)]
    pub scope: Option<Scope>,
}

/// Freezes, locks, unlocks or unfreezes a participant's data.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HoldRequest {
    /// The participant's version you saw.
    #[serde(default)]
    pub expected_version: Option<i64>,
    /// What it covers: an entry, a form, a visit or the participant.
    pub scope: Scope,
    /// Why (required to unlock and to unfreeze).
    #[serde(default)]
    pub reason: Option<String>,
}

/// Freezes, locks, unlocks or unfreezes the whole study.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StudyHoldRequest {
    /// The study-wide version you saw (`GET /api/v1/study/oversight`); a newer one gets 409.
    #[serde(default)]
    pub expected_version: Option<i64>,
    /// Why (required to unlock and to unfreeze).
    #[serde(default)]
    pub reason: Option<String>,
}

/// A deviation recorded by hand (monitor or investigator).
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeviationRequest {
    /// The participant's version you saw.
    #[serde(default)]
    pub expected_version: Option<i64>,
    /// Category.
    pub category: DeviationCategory,
    /// `major` or `minor`.
    pub severity: DeviationSeverity,
    /// What happened.
    pub description: String,
    /// When it happened.
    pub occurred_at: DateTime<Utc>,
    /// The entry it concerns, if any.
    #[serde(default)]
    pub entry_id: Option<String>,
}

/// Assesses or closes a deviation (monitor or data manager).
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AssessRequest {
    /// The participant's version you saw.
    #[serde(default)]
    pub expected_version: Option<i64>,
    /// `assessed` or `closed`.
    pub status: DeviationStatus,
    /// The assessment.
    pub note: String,
}

/// The whole study's freeze or lock.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct StudyOversightView {
    /// The study-wide version (send it as `expected_version` with the next hold).
    pub version: i64,
    /// The hold in force, if any.
    #[serde(flatten)]
    pub oversight: StudyOversight,
}

async fn data_points(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(id): Path<String>,
) -> Result<Json<Vec<DataPointRow>>, ApiError> {
    Ok(Json(state.trial.data_points(&user, &id).await?))
}

/// The queries you may see (a site user: her site's), filtered by status, site and
/// participant; oldest first.
async fn queries(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiQuery(filter): ApiQuery<QueryFilter>,
) -> Result<Json<Vec<QueryRow>>, ApiError> {
    Ok(Json(state.trial.queries(&user, &filter).await?))
}

async fn participant_queries(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(id): Path<String>,
) -> Result<Json<Vec<QueryRow>>, ApiError> {
    Ok(Json(state.trial.participant_queries(&user, &id).await?))
}

async fn one_query(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path((id, query_id)): Path<(String, String)>,
) -> Result<Json<QueryRow>, ApiError> {
    Ok(Json(state.trial.query(&user, &id, &query_id).await?))
}

/// Runs one act of oversight on a participant.
async fn oversee(
    state: &AppState,
    user: &trial::User,
    id: &str,
    expected_version: Option<i64>,
    command: OversightCommand,
) -> Result<Json<OversightWritten>, ApiError> {
    let request = OversightRequest {
        expected_version,
        command,
        reason: None,
    };
    let written = state.trial.oversee(user, id, request).await?;
    Ok(Json(written.into()))
}

async fn raise(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<RaiseRequest>,
) -> Result<Json<OversightWritten>, ApiError> {
    let command = OversightCommand::RaiseQuery(RaiseQuery {
        point: req.point,
        text: req.text,
    });
    oversee(&state, &user, &id, req.expected_version, command).await
}

async fn answer(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path((id, query_id)): Path<(String, String)>,
    ApiJson(req): ApiJson<AnswerRequest>,
) -> Result<Json<OversightWritten>, ApiError> {
    let written = state.trial.answer_query(&user, &id, &query_id, req).await?;
    Ok(Json(written.into()))
}

/// The three ways a raiser moves a query on.
enum Resolve {
    Close,
    Requery,
    Cancel,
}

async fn resolve(
    state: AppState,
    user: &trial::User,
    (id, query_id): (String, String),
    req: ResolveRequest,
    how: Resolve,
) -> Result<Json<OversightWritten>, ApiError> {
    let c = ResolveQuery {
        query_id,
        text: req.text,
    };
    let command = match how {
        Resolve::Close => OversightCommand::CloseQuery(c),
        Resolve::Requery => OversightCommand::Requery(c),
        Resolve::Cancel => OversightCommand::CancelQuery(c),
    };
    oversee(&state, user, &id, req.expected_version, command).await
}

async fn close(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(ids): Path<(String, String)>,
    ApiJson(req): ApiJson<ResolveRequest>,
) -> Result<Json<OversightWritten>, ApiError> {
    resolve(state, &user, ids, req, Resolve::Close).await
}

async fn requery(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(ids): Path<(String, String)>,
    ApiJson(req): ApiJson<ResolveRequest>,
) -> Result<Json<OversightWritten>, ApiError> {
    resolve(state, &user, ids, req, Resolve::Requery).await
}

async fn cancel(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(ids): Path<(String, String)>,
    ApiJson(req): ApiJson<ResolveRequest>,
) -> Result<Json<OversightWritten>, ApiError> {
    resolve(state, &user, ids, req, Resolve::Cancel).await
}

async fn verify(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<VerifyRequest>,
) -> Result<Json<OversightWritten>, ApiError> {
    let command = OversightCommand::VerifyEntries(VerifyEntries {
        entry_ids: req.entry_ids,
        scope: req.scope,
    });
    oversee(&state, &user, &id, req.expected_version, command).await
}

/// The four changes of a freeze or lock.
#[derive(Clone, Copy)]
enum HoldAct {
    Freeze,
    Lock,
    Unlock,
    Unfreeze,
}

impl HoldAct {
    fn command(self, hold: ChangeHold) -> OversightCommand {
        match self {
            HoldAct::Freeze => OversightCommand::Freeze(hold),
            HoldAct::Lock => OversightCommand::Lock(hold),
            HoldAct::Unlock => OversightCommand::Unlock(hold),
            HoldAct::Unfreeze => OversightCommand::Unfreeze(hold),
        }
    }
}

async fn hold(
    state: AppState,
    user: &trial::User,
    id: &str,
    req: HoldRequest,
    act: HoldAct,
) -> Result<Json<OversightWritten>, ApiError> {
    if req.scope == Scope::Study {
        return Err(ApiError::BadRequest(
            "the whole study is held through /api/v1/study/freeze, lock, unlock and unfreeze"
                .into(),
        ));
    }
    let command = act.command(ChangeHold {
        scope: req.scope,
        reason: req.reason,
    });
    oversee(&state, user, id, req.expected_version, command).await
}

async fn freeze(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<HoldRequest>,
) -> Result<Json<OversightWritten>, ApiError> {
    hold(state, &user, &id, req, HoldAct::Freeze).await
}

async fn lock(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<HoldRequest>,
) -> Result<Json<OversightWritten>, ApiError> {
    hold(state, &user, &id, req, HoldAct::Lock).await
}

async fn unlock(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<HoldRequest>,
) -> Result<Json<OversightWritten>, ApiError> {
    hold(state, &user, &id, req, HoldAct::Unlock).await
}

async fn unfreeze(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<HoldRequest>,
) -> Result<Json<OversightWritten>, ApiError> {
    hold(state, &user, &id, req, HoldAct::Unfreeze).await
}

/// The casebook and visit signatures, those in force and those voided (with why).
async fn signatures(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(id): Path<String>,
) -> Result<Json<Vec<protocol::oversight::CasebookSignature>>, ApiError> {
    let visible = state.trial.visible(&user, &id).await?;
    Ok(Json(visible.participant.oversight.signatures))
}

async fn sign(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<SignRequest>,
) -> Result<Json<OversightWritten>, ApiError> {
    let written = state.trial.sign_casebook(&user, &id, req).await?;
    Ok(Json(written.into()))
}

async fn report_deviation(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<DeviationRequest>,
) -> Result<Json<OversightWritten>, ApiError> {
    let command = OversightCommand::ReportDeviation(ReportDeviation {
        category: req.category,
        severity: req.severity,
        description: req.description,
        occurred_at: req.occurred_at,
        entry_id: req.entry_id,
    });
    oversee(&state, &user, &id, req.expected_version, command).await
}

async fn assess_deviation(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path((id, deviation_id)): Path<(String, String)>,
    ApiJson(req): ApiJson<AssessRequest>,
) -> Result<Json<OversightWritten>, ApiError> {
    let command = OversightCommand::AssessDeviation(AssessDeviation {
        deviation_id,
        status: req.status,
        note: req.note,
    });
    oversee(&state, &user, &id, req.expected_version, command).await
}

async fn study(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
) -> Result<Json<StudyOversightView>, ApiError> {
    user.require(trial::Capability::ReadParticipants)?;
    let (oversight, version) = state.trial.study_oversight_versioned().await?;
    Ok(Json(StudyOversightView { version, oversight }))
}

async fn study_hold(
    state: AppState,
    user: &trial::User,
    req: StudyHoldRequest,
    act: HoldAct,
) -> Result<Json<StudyOversightView>, ApiError> {
    let command = act.command(ChangeHold {
        scope: Scope::Study,
        reason: req.reason,
    });
    state
        .trial
        .hold_study_seen(user, &command, req.expected_version)
        .await?;
    let (oversight, version) = state.trial.study_oversight_versioned().await?;
    Ok(Json(StudyOversightView { version, oversight }))
}

async fn study_freeze(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiJson(req): ApiJson<StudyHoldRequest>,
) -> Result<Json<StudyOversightView>, ApiError> {
    study_hold(state, &user, req, HoldAct::Freeze).await
}

async fn study_lock(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiJson(req): ApiJson<StudyHoldRequest>,
) -> Result<Json<StudyOversightView>, ApiError> {
    study_hold(state, &user, req, HoldAct::Lock).await
}

async fn study_unlock(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiJson(req): ApiJson<StudyHoldRequest>,
) -> Result<Json<StudyOversightView>, ApiError> {
    study_hold(state, &user, req, HoldAct::Unlock).await
}

async fn study_unfreeze(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiJson(req): ApiJson<StudyHoldRequest>,
) -> Result<Json<StudyOversightView>, ApiError> {
    study_hold(state, &user, req, HoldAct::Unfreeze).await
}
