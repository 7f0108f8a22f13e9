//! The PET exam page (PROTOCOL §6–§7): the IMP administration, the series read from the
//! archive, the MIP with numbered candidates and their table, the reader's review form,
//! the ranked biopsy target proposal and the investigator's choice; on the PET2 page, the
//! PET response read PET1 → PET2 (`pet_response.rs`).

use std::collections::BTreeMap;

use axum::Router;
use axum::extract::{Path, Query, RawForm, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use maud::Markup;
use protocol::imaging::ReaderDecision;
use protocol::{PetTimepoint, ReviewPetLesions};
use serde_json::{Value, json};

use trial::imaging::timepoint;
use trial::participants::SignatureRequest;
use trial::pet_response::pet_response_from;

use super::pet_view::{ADD_ROWS, Ctx, ExamPage, exam_body};
use super::submit::{command_request, expected_version};
use super::{
    Done, Redo, checked_form, done, error_page, page, page_try, page_with_status, participant_title,
};
use crate::AppState;
use crate::auth::{CurrentUser, PageUser};
use crate::error::ApiError;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/participants/{id}/pet/{tp}", get(exam_page))
        .route("/participants/{id}/pet/{tp}/mip.png", get(mip))
        .route("/participants/{id}/pet/{tp}/quantify", post(quantify))
        .route("/participants/{id}/pet/{tp}/review", post(review))
        .route("/participants/{id}/pet/{tp}/target", post(target))
        .route("/participants/{id}/pet/{tp}/response", post(pet_response))
}

async fn render(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
    tp: PetTimepoint,
    redo: Redo,
    done: Option<&str>,
    refused_candidate: Option<u32>,
) -> Result<Markup, ApiError> {
    let (v, exam, series) = state.trial.pet_page(user, id, tp).await?;
    let mip_layout = state.trial.mip_layout(user, id, tp).await?;
    let pet_response = match tp {
        PetTimepoint::Pet2 => {
            let settings = state.trial.settings().await?;
            Some(pet_response_from(&v.participant, v.row.version, &settings))
        }
        _ => None,
    };
    Ok(exam_body(&ExamPage {
        ctx: Ctx { user, id },
        tp,
        state: &v.participant.state,
        exam: &exam,
        series: &series,
        redo: &redo,
        pet_response: pet_response.as_ref(),
        done,
        mip_layout: mip_layout.as_ref(),
        refused_candidate,
    }))
}

async fn exam_page(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path((id, tp)): Path<(String, String)>,
    Query(done): Query<Done>,
) -> Response {
    let result = async {
        let tp = timepoint(&tp)?;
        let body = render(
            &state,
            &user,
            &id,
            tp,
            Redo::default(),
            done.done.as_deref(),
            None,
        )
        .await?;
        Ok::<_, ApiError>(page(&participant_title(tp.label(), &id), &user, body))
    }
    .await;
    result.unwrap_or_else(error_page)
}

async fn mip(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path((id, tp)): Path<(String, String)>,
) -> Response {
    crate::png::mip_response(&state, &user, &id, &tp)
        .await
        .unwrap_or_else(|e| e.into_response())
}

/// The forms of the exam page.
#[derive(Clone, Copy)]
enum PetForm {
    /// Read a series as the exam (nurse, investigator, reader).
    Quantify,
    /// The reader's review of the candidates.
    Review,
    /// The investigator's signed biopsy target.
    Target,
    /// The reader's PET response read (PET2).
    Response,
}

impl PetForm {
    fn name(self) -> &'static str {
        match self {
            PetForm::Quantify => "quantify",
            PetForm::Review => "review",
            PetForm::Target => "target",
            PetForm::Response => super::pet_response::FORM,
        }
    }

    /// Runs the form's action through the trial.
    async fn act(
        self,
        state: &AppState,
        user: &CurrentUser,
        id: &str,
        tp: PetTimepoint,
        values: &BTreeMap<String, String>,
    ) -> Result<(), ApiError> {
        let trial = &state.trial;
        match self {
            PetForm::Quantify => {
                let uid = chosen_series(values)?;
                trial
                    .request_quantification(
                        user,
                        id,
                        tp,
                        expected_version(values)?,
                        uid,
                        values.get("assignment_reason").map(String::as_str),
                    )
                    .await?;
            }
            PetForm::Review => {
                let req = command_request(values, review_data(tp, values)?)?;
                trial.run_command(user, id, "pet-review", req).await?;
            }
            PetForm::Target => {
                let req = target_request(tp, values)?;
                trial.run_command(user, id, "biopsy-target", req).await?;
            }
            PetForm::Response => {
                let req = command_request(values, super::pet_response::form_data(values)?)?;
                trial.run_command(user, id, "pet-response", req).await?;
            }
        }
        Ok(())
    }
}

/// The series a quantify form names: one typed in, or one chosen from the list.
fn chosen_series(values: &BTreeMap<String, String>) -> Result<&str, ApiError> {
    let other = values
        .get("other_uid")
        .map(|s| s.trim())
        .filter(|s| !s.is_empty());
    other
        .or_else(|| values.get("series_instance_uid").map(String::as_str))
        .ok_or_else(|| ApiError::BadRequest("choose a series, or give a SeriesInstanceUID".into()))
}

/// The investigator's target form as a signed `biopsy-target` request.
fn target_request(
    tp: PetTimepoint,
    values: &BTreeMap<String, String>,
) -> Result<trial::participants::CommandRequest, ApiError> {
    let data = json!({
        "timepoint": tp,
        "lesion": values.get("lesion").cloned().unwrap_or_default(),
        "reason": values.get("reason").cloned().unwrap_or_default(),
    });
    let mut req = command_request(values, data)?;
    // A signed form: an empty password is a wrong one, not a missing signature.
    req.signature.get_or_insert(SignatureRequest {
        password: String::new(),
    });
    Ok(req)
}

/// Runs a form; on success back to the exam page, else the page again with the problem
/// and the values entered.
async fn submit(
    state: AppState,
    user: CurrentUser,
    id: String,
    tp: String,
    body: axum::body::Bytes,
    form: PetForm,
) -> Response {
    let values = page_try!(checked_form(&user, &body));
    let tp = page_try!(timepoint(&tp));
    let Err(e) = form.act(&state, &user, &id, tp, &values).await else {
        let what = match form {
            PetForm::Quantify => "quantification-queued",
            other => other.name(),
        };
        return done(&format!("/participants/{id}/pet/{}", tp.id()), what);
    };
    let refused_candidate = match form {
        PetForm::Review => candidate_named(&e.body().message),
        _ => None,
    };
    let redo = Redo::after(form.name(), values, &e);
    match render(&state, &user, &id, tp, redo, None, refused_candidate).await {
        Ok(body) => page_with_status(e.status(), &participant_title(tp.label(), &id), &user, body),
        Err(e) => error_page(e),
    }
}

/// The candidate a refusal of the review is about, if it names one (`lesion L3`,
/// `candidate 3`): the refusal is then shown in that candidate's row.
fn candidate_named(message: &str) -> Option<u32> {
    let words: Vec<&str> = message
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    words.iter().enumerate().find_map(|(i, w)| {
        let number = w.strip_prefix('L').and_then(|n| n.parse().ok());
        number.or_else(|| {
            (i > 0 && words[i - 1].eq_ignore_ascii_case("candidate"))
                .then(|| w.parse().ok())
                .flatten()
        })
    })
}

async fn quantify(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path((id, tp)): Path<(String, String)>,
    RawForm(body): RawForm,
) -> Response {
    submit(state, user, id, tp, body, PetForm::Quantify).await
}

/// The reader's form as the `pet-review` command's data.
fn review_data(tp: PetTimepoint, values: &BTreeMap<String, String>) -> Result<Value, ApiError> {
    let get = |k: &str| values.get(k).map(|s| s.trim()).filter(|s| !s.is_empty());
    let mut numbers: Vec<u32> = values
        .keys()
        .filter_map(|k| k.strip_prefix("decision_")?.parse().ok())
        .collect();
    numbers.sort_unstable();
    let mut decisions = Vec::new();
    for n in numbers {
        let decision = match get(&format!("decision_{n}")) {
            Some("confirm") => ReaderDecision::Confirm,
            Some("reject") => ReaderDecision::Reject,
            _ => {
                return Err(ApiError::BadRequest(format!(
                    "candidate {n}: choose lesion or not a lesion"
                )));
            }
        };
        let us = match get(&format!("us_{n}")) {
            Some("yes") => Some(true),
            Some("no") => Some(false),
            _ => None,
        };
        decisions.push(json!({
            "candidate": n,
            "decision": decision,
            "anatomical_site": get(&format!("site_{n}")),
            "ultrasound_accessible": us,
            "note": get(&format!("note_{n}")),
        }));
    }
    let mut added = Vec::new();
    for k in 1..=ADD_ROWS {
        let Some(site) = get(&format!("add_site_{k}")) else {
            continue;
        };
        let suv = match get(&format!("add_suv_{k}")) {
            None => None,
            Some(s) => Some(s.replace(',', ".").parse::<f64>().map_err(|_| {
                ApiError::BadRequest(format!("added lesion {k}: SUVmax {s:?} is not a number"))
            })?),
        };
        added.push(json!({
            "anatomical_site": site,
            "ultrasound_accessible": get(&format!("add_us_{k}")) == Some("yes"),
            "suv_max": suv,
            "note": get(&format!("add_note_{k}")),
        }));
    }
    let data = json!({
        "timepoint": tp,
        "quantification_id": get("quantification_id").unwrap_or_default(),
        "decisions": decisions,
        "added": added,
        "note": get("note"),
    });
    // The same shape the API takes: checked here so a form error reads as one.
    serde_json::from_value::<ReviewPetLesions>(data.clone())
        .map_err(|e| ApiError::BadRequest(format!("review: {e}")))?;
    Ok(data)
}

async fn review(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path((id, tp)): Path<(String, String)>,
    RawForm(body): RawForm,
) -> Response {
    submit(state, user, id, tp, body, PetForm::Review).await
}

async fn target(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path((id, tp)): Path<(String, String)>,
    RawForm(body): RawForm,
) -> Response {
    submit(state, user, id, tp, body, PetForm::Target).await
}

async fn pet_response(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path((id, tp)): Path<(String, String)>,
    RawForm(body): RawForm,
) -> Response {
    submit(state, user, id, tp, body, PetForm::Response).await
}

#[cfg(test)]
mod tests {
    use super::candidate_named;

    #[test]
    fn a_refusal_naming_a_candidate_is_placed_at_it() {
        assert_eq!(
            candidate_named("Confirmed lesion L12 needs its anatomical site."),
            Some(12)
        );
        assert_eq!(
            candidate_named("candidate 3: choose lesion or not a lesion"),
            Some(3)
        );
        assert_eq!(candidate_named("Lesion list is empty (3 given)."), None);
    }
}
