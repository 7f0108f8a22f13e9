//! Deviations on the participant page: every deviation, automatic or recorded by hand,
//! with its review; the monitor or investigator records one, the monitor or data manager
//! assesses and closes it.

use std::collections::BTreeMap;

use axum::extract::{Path, RawForm, State};
use axum::response::Response;
use maud::{Markup, html};
use trial::Capability;

use crate::AppState;
use crate::auth::{CurrentUser, PageUser};
use crate::error::ApiError;
use protocol::Participant;
use protocol::oversight::{
    AssessDeviation, DeviationCategory, DeviationStatus, OversightCommand, ReportDeviation,
};
use protocol::records::DeviationSeverity;

use super::super::{Redo, forms};
use super::{OverviewAct, required, value};

/// The Redo form name of the deviation forms.
const DEVIATION_FORM: &str = "deviation";

/// The participant page's deviations: automatic and recorded by hand, with their review,
/// the form to record one and the form to assess one.
pub(in crate::pages) fn deviations_section(
    user: &CurrentUser,
    id: &str,
    version: i64,
    p: &Participant,
    redo: &Redo,
) -> Markup {
    let typed = redo.values(DEVIATION_FORM);
    let t = |k: &str| typed.get(k).cloned().unwrap_or_default();
    let may_assess = user.role.may(Capability::AssessDeviation);
    html! {
        h2 #deviations { "Deviations" }
        @if let Some(pr) = redo.problem(DEVIATION_FORM) { (pr) }
        @if p.deviations.is_empty() { p.muted { "No deviation recorded." } } @else {
            div.table-scroll { table #deviation-list {
                thead { tr { th { "Id" } th { "Severity" } th { "Rule / category" } th { "What" } th { "When" } th { "Review" } } }
                tbody { @for d in &p.deviations {
                    @let review = p.oversight.deviation_reviews.get(&d.deviation_id);
                    @let status = p.oversight.deviation_status(&d.deviation_id);
                    tr data-deviation=(d.deviation_id) data-status=(status.label()) {
                        td { (d.deviation_id) }
                        td { (format!("{:?}", d.severity).to_lowercase()) }
                        td { (d.rule.id()) @if let Some(c) = review.and_then(|r| r.category) { br; span.muted { (c.label()) } } }
                        td { (d.description) }
                        td { (user.local_time(d.occurred_at)) }
                        td {
                            span.status { (status.label()) }
                            @if let Some(r) = review { @for n in &r.notes { br; small { (n.by.user) ": " (n.note) } } }
                            @if may_assess && status != DeviationStatus::Closed {
                                form method="post" action={ "/participants/" (id) "/deviations" } {
                                    input type="hidden" name="csrf" value=(user.csrf);
                                    input type="hidden" name="expected_version" value=(version);
                                    input type="hidden" name="act" value="assess";
                                    input type="hidden" name="deviation_id" value=(d.deviation_id);
                                    input type="text" name="note" aria-label="Assessment" placeholder="assessment" maxlength="2000" required;
                                    select name="status" aria-label="New status" {
                                        option value="assessed" { "assessed" }
                                        option value="closed" { "closed" }
                                    }
                                    button type="submit" { "Save" }
                                }
                            }
                        }
                    }
                } }
            } }
        }
        @if user.role.may(Capability::ReportDeviation) {
            details #record-deviation open[redo.problem(DEVIATION_FORM).is_some()] {
                summary { "Record a deviation" }
                form.card method="post" action={ "/participants/" (id) "/deviations" } {
                    input type="hidden" name="csrf" value=(user.csrf);
                    input type="hidden" name="expected_version" value=(version);
                    input type="hidden" name="act" value="report";
                    div.field { label for="dev-category" { "Category" }
                        select id="dev-category" name="category" required {
                            @for c in CATEGORIES { option value=(serde_json::to_value(c).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()) { (c.label()) } }
                        }
                    }
                    div.field { label for="dev-severity" { "Severity" }
                        select id="dev-severity" name="severity" required { option value="minor" { "minor" } option value="major" { "major" } }
                    }
                    div.field { label for="dev-description" { "What happened" }
                        input type="text" id="dev-description" name="description" maxlength="2000" required value=(t("description"));
                    }
                    div.field { label for="dev-occurred" { "When it happened" }
                        input type="datetime-local" id="dev-occurred" name="occurred_at" required value=(t("occurred_at"));
                        small.help { "Local time, " (user.zone.name()) }
                    }
                    button type="submit" { "Record deviation" }
                }
            }
        }
    }
}

const CATEGORIES: [DeviationCategory; 8] = [
    DeviationCategory::Consent,
    DeviationCategory::Eligibility,
    DeviationCategory::Schedule,
    DeviationCategory::Treatment,
    DeviationCategory::Procedure,
    DeviationCategory::Safety,
    DeviationCategory::Data,
    DeviationCategory::Other,
];

fn deviation_command(
    values: &BTreeMap<String, String>,
    user: &CurrentUser,
) -> Result<OversightCommand, ApiError> {
    let json = |k: &str| -> Result<serde_json::Value, ApiError> {
        Ok(serde_json::Value::String(required(values, k)?))
    };
    let parse_err = |k: &str| ApiError::BadRequest(format!("{k}: not one of the choices"));
    match value(values, "act").as_deref() {
        Some("report") => {
            let at = required(values, "occurred_at")?;
            let occurred_at = forms::local_to_utc(&at, user.zone)
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| ApiError::BadRequest("occurred_at: a date and time".into()))?;
            Ok(OversightCommand::ReportDeviation(ReportDeviation {
                category: serde_json::from_value(json("category")?)
                    .map_err(|_| parse_err("category"))?,
                severity: serde_json::from_value::<DeviationSeverity>(json("severity")?)
                    .map_err(|_| parse_err("severity"))?,
                description: value(values, "description").unwrap_or_default(),
                occurred_at,
                entry_id: value(values, "entry_id"),
            }))
        }
        Some("assess") => Ok(OversightCommand::AssessDeviation(AssessDeviation {
            deviation_id: required(values, "deviation_id")?,
            status: serde_json::from_value(json("status")?).map_err(|_| parse_err("status"))?,
            note: value(values, "note").unwrap_or_default(),
        })),
        _ => Err(ApiError::BadRequest("act: report or assess".into())),
    }
}

pub(super) async fn deviation_submit(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path(id): Path<String>,
    RawForm(body): RawForm,
) -> Response {
    let act = OverviewAct {
        capability: Capability::ReadParticipants,
        form: DEVIATION_FORM,
        saved: "deviation-saved",
    };
    act.run(&state, &user, &id, &body, |values| {
        deviation_command(values, &user)
    })
    .await
}
