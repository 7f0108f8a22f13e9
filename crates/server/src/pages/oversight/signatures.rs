//! The investigator's casebook and visit signatures: those in force and the voided ones
//! on the participant page, and the signing page (password entered again, the meaning
//! shown).

use axum::extract::{Path, RawForm, State};
use axum::response::Response;
use maud::{Markup, html};
use trial::Capability;

use super::super::participants::problem_box;
use super::super::{checked_form, done, page_try, page_with_status};
use crate::AppState;
use crate::auth::{CurrentUser, PageUser};
use crate::error::ApiError;
use protocol::Participant;
use protocol::oversight::{Scope, SignScope, Visit};
use trial::oversight::{CASEBOOK_MEANING, SignRequest};

use super::super::page;
use super::{parse_scope, required, version};

/// The participant page's signatures: those in force, the voided ones with why, and a
/// request for a new one when the last was voided.
pub(in crate::pages) fn signatures_section(
    user: &CurrentUser,
    id: &str,
    p: &Participant,
) -> Markup {
    let sigs = &p.oversight.signatures;
    let in_force = p.oversight.valid_signatures().next().is_some();
    let voided = sigs.iter().any(|s| s.voided.is_some());
    html! {
        h2 #signatures { "Investigator signatures" }
        @if sigs.is_empty() { p.muted { "The casebook is not signed." } } @else {
            ul {
                @for s in sigs {
                    li data-voided=(s.voided.is_some()) {
                        (s.scope.describe()) " signed by " (s.signature.signer) ", " (user.local_time(s.signature.signed_at))
                        @match &s.voided {
                            Some(v) => { " — " span.status.not_met { "voided" } " " (user.local_time(v.at)) ": " (v.because) }
                            None => { " — " span.status.met { "in force" } }
                        }
                    }
                }
            }
        }
        @if voided && !in_force { div.warning role="status" { "A signature was voided by a later change: the casebook must be signed again." } }
        @if user.role.may(Capability::InvestigatorSign) {
            p { a.button href={ "/participants/" (id) "/sign" } { "Sign the casebook or a visit" } }
        }
    }
}

fn sign_body(
    user: &CurrentUser,
    id: &str,
    version: i64,
    p: &Participant,
    above: Option<Markup>,
) -> Markup {
    html! {
        h1 { "Sign · " (id) }
        @if let Some(a) = above { (a) }
        (signatures_section(user, id, p))
        form.card #sign-form method="post" action={ "/participants/" (id) "/sign" } {
            input type="hidden" name="csrf" value=(user.csrf);
            input type="hidden" name="expected_version" value=(version);
            div.field {
                label for="scope" { "What you sign" }
                select id="scope" name="scope" {
                    option value="casebook" { "The whole casebook" }
                    @for v in Visit::ALL { option value={ "visit:" (v.id()) } { "Visit: " (v.label()) } }
                }
            }
            fieldset.card {
                legend { "Electronic signature" }
                p { "By signing you state: " strong #meaning { (CASEBOOK_MEANING) } }
                div.field {
                    label for="signature_password" { "Your password" }
                    input type="password" id="signature_password" name="signature_password" autocomplete="current-password" required;
                }
            }
            button type="submit" { "Sign" }
            " " a href={ "/participants/" (id) } { "Cancel" }
        }
    }
}

pub(in crate::pages) async fn sign_page(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path(id): Path<String>,
) -> Response {
    page_try!(user.require(Capability::InvestigatorSign));
    let v = page_try!(state.trial.visible(&user, &id).await);
    page(
        &format!("Sign · {id}"),
        &user,
        sign_body(&user, &id, v.row.version, &v.participant, None),
    )
}

pub(in crate::pages) async fn sign_submit(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path(id): Path<String>,
    RawForm(body): RawForm,
) -> Response {
    let values = page_try!(checked_form(&user, &body));
    page_try!(user.require(Capability::InvestigatorSign));
    page_try!(state.trial.visible_row(&user, &id).await);
    let result = async {
        let scope = match required(&values, "scope")?.as_str() {
            "casebook" => SignScope::Casebook,
            other => match parse_scope(other)? {
                Scope::Visit { visit } => SignScope::Visit { visit },
                _ => {
                    return Err(ApiError::BadRequest(
                        "scope: the casebook or one visit".into(),
                    ));
                }
            },
        };
        let password = required(&values, "signature_password")?;
        let req = SignRequest {
            expected_version: version(&values),
            scope,
            password,
            meaning: None,
        };
        state.trial.sign_casebook(&user, &id, req).await?;
        Ok::<_, ApiError>(())
    }
    .await;
    match result {
        Ok(()) => done(&format!("/participants/{id}"), "casebook-signed"),
        Err(e) => {
            let v = page_try!(state.trial.visible(&user, &id).await);
            let body = sign_body(
                &user,
                &id,
                v.row.version,
                &v.participant,
                Some(problem_box(&e)),
            );
            page_with_status(e.status(), &format!("Sign · {id}"), &user, body)
        }
    }
}
