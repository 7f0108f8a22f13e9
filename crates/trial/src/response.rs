//! Tumour response (PROTOCOL §10) as recorded: the baseline CT, the follow-ups and the
//! RECIST 1.1 engine's result. The reader enters the assessments with the ordinary
//! commands `tumour-baseline` and `tumour-assessment`.

use protocol::Entry;
use protocol::response::{Progression, ResponseEvaluation, TumourAssessment, TumourBaseline};
use serde::Serialize;

use crate::Trial;
use crate::access::User;
use crate::error::Result;

/// A participant's tumour response as recorded.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct ResponseView {
    /// Participant version: send it as `expected_version`.
    pub version: i64,
    /// Journey state.
    pub state: String,
    /// The current baseline CT.
    pub baseline: Option<Entry<TumourBaseline>>,
    /// The current follow-up CTs, in scan-date order.
    pub assessments: Vec<Entry<TumourAssessment>>,
    /// The RECIST 1.1 engine's current result, with the engine version.
    pub evaluation: Option<ResponseEvaluation>,
    /// Progression, once recorded.
    pub progression: Option<Progression>,
    /// The reader's confirmed PET response PET1 → PET2 (PERCIST-style, exploratory), shown
    /// beside RECIST; see `/pet-response` for the proposal and the history.
    pub pet_response: Option<protocol::pet_response::PetResponseRead>,
}

/// The response view of a participant's state.
pub fn response_from(p: &protocol::Participant, version: i64) -> ResponseView {
    ResponseView {
        version,
        state: p.state.name().to_owned(),
        baseline: p.tumour_baseline().cloned(),
        assessments: p
            .current_tumour_assessments()
            .into_iter()
            .cloned()
            .collect(),
        evaluation: p.response_evaluation().cloned(),
        progression: p.progression.clone(),
        pet_response: p.pet_response().cloned(),
    }
}

impl Trial {
    /// The response of a participant this user may see (the same answer as for none
    /// otherwise).
    pub async fn response(&self, user: &User, id: &str) -> Result<ResponseView> {
        let v = self.visible(user, id).await?;
        Ok(response_from(&v.participant, v.row.version))
    }
}
