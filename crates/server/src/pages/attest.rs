//! The investigator's attestations on the participant page: every open question (IN7,
//! IN8, EX1, EX5 without a current answer) asked in words with Yes and No and neither
//! chosen, all signed with one password. They are recorded all or nothing: one refused
//! answer (an unanswered question, say) records none of them.

use std::collections::BTreeMap;

use axum::Router;
use axum::extract::{Path, RawForm, State};
use axum::response::Response;
use axum::routing::post;
use maud::{Markup, html};
use protocol::{AttestedCriterion, CommandKind, Settings};
use serde_json::{Map, Value};

use trial::overview::Overview;

use super::submit::batch_request;
use super::{Redo, checked_form, done, forms, page_try};
use crate::AppState;
use crate::auth::{CurrentUser, PageUser};
use crate::error::ApiError;

/// The form's name in a [`Redo`].
pub(super) const FORM: &str = "attestations";

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/participants/{id}/attestations", post(submit))
}

/// The criterion's id as the API spells it (`IN7`).
fn code(c: AttestedCriterion) -> &'static str {
    c.rule().id()
}

/// What Yes and No mean for the criterion, so nobody has to know which way round an
/// exclusion reads.
fn meaning(c: AttestedCriterion) -> &'static str {
    if c.eligible_answer() {
        "Yes: the criterion is met. No: she is not eligible."
    } else {
        "Yes: the exclusion applies, she is not eligible. No: it does not apply."
    }
}

/// The attestations card, when this user may sign attestations for her now and some are
/// open.
pub(super) fn card(
    user: &CurrentUser,
    id: &str,
    o: &Overview,
    settings: &Settings,
    redo: &Redo,
) -> Option<Markup> {
    let spec = o
        .commands
        .iter()
        .find(|s| s.kind == CommandKind::RecordAttestation)?;
    let open = AttestedCriterion::open_in(&o.participant);
    if open.is_empty() {
        return None;
    }
    let values = redo.values(FORM);
    let value = |k: String| values.get(&k).cloned().unwrap_or_default();
    Some(html! {
        section.card #attestations {
            h2 { "Investigator attestations" }
            p.muted { "Answer each question Yes or No: nothing is chosen for you. One signature covers every answer; if one is refused, none is recorded." }
            @if let Some(p) = redo.problem(FORM) { (p) }
            form method="post" action={ "/participants/" (id) "/attestations" } {
                input type="hidden" name="csrf" value=(user.csrf);
                input type="hidden" name="expected_version" value=(o.row.version);
                @for c in &open {
                    @let k = code(*c);
                    input type="hidden" name={ "ask_" (k) } value="1";
                    div.field.question data-criterion=(k) {
                        (forms::yes_no(&format!("q-{k}"), &format!("answer_{k}"), &c.question(settings), &value(format!("answer_{k}")), true, Some(&format!("q-{k}-help"))))
                        small.help id={ "q-" (k) "-help" } { (meaning(*c)) " " code.rule title="Eligibility criterion" { (k) } }
                        label for={ "note_" (k) } { "Note (optional)" }
                        input type="text" id={ "note_" (k) } name={ "note_" (k) } value=(value(format!("note_{k}"))) maxlength="2000";
                    }
                }
                fieldset.card {
                    legend { "Electronic signature" }
                    p { "By signing you state: " strong { (spec.signature_meaning.unwrap_or_default()) } }
                    div.field {
                        label for="attest_password" { "Your password" }
                        input type="password" id="attest_password" name="signature_password" autocomplete="current-password" required;
                    }
                }
                button type="submit" { "Sign all answers" }
            }
        }
    })
}

/// The attestation commands' data from the form: one per question asked, with the answer
/// only when one was chosen (the protocol refuses an unanswered question).
fn items(values: &BTreeMap<String, String>) -> Vec<Value> {
    AttestedCriterion::ALL
        .into_iter()
        .filter(|c| values.contains_key(&format!("ask_{}", code(*c))))
        .map(|c| {
            let k = code(c);
            let mut item = Map::new();
            item.insert("criterion".into(), Value::from(k));
            let answer = values.get(&format!("answer_{k}"));
            if let Some(a) = answer.and_then(|a| forms::yes_no_value(a)) {
                item.insert("answer".into(), Value::Bool(a));
            }
            if let Some(n) = values
                .get(&format!("note_{k}"))
                .filter(|n| !n.trim().is_empty())
            {
                item.insert("note".into(), Value::from(n.trim()));
            }
            Value::Object(item)
        })
        .collect()
}

async fn submit(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path(id): Path<String>,
    RawForm(body): RawForm,
) -> Response {
    let values = page_try!(checked_form(&user, &body));
    let written = async {
        let req = batch_request(&values, items(&values))?;
        Ok::<_, ApiError>(
            state
                .trial
                .run_batch(&user, &id, "attestation", req)
                .await?,
        )
    }
    .await;
    match written {
        Ok(_) => done(&format!("/participants/{id}"), FORM),
        Err(e) => {
            let redo = Redo::after(FORM, values, &e);
            super::participants::overview_again(&state, &user, &id, e.status(), redo).await
        }
    }
}
