//! The PET response read PET1 → PET2 (PROTOCOL §10, PERCIST-style, arm 1) for the PET2 page
//! and the API: the comparison the protocol proposes (matches by nearest centroid, to be
//! confirmed by the nuclear-medicine reader) and the reader's confirmed read with its
//! category. The reader confirms with the ordinary command `pet-response`.

use protocol::pet_response::{PetResponseProposal, PetResponseRead, propose};
use protocol::{Participant, Refusal, Settings};
use serde::Serialize;

use crate::Trial;
use crate::access::User;
use crate::error::Result;

/// A participant's PET response read, proposed and confirmed.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct PetResponseView {
    /// Participant version: send it as `expected_version`.
    pub version: i64,
    /// Journey state.
    pub state: String,
    /// The comparison offered to the reader, when the read is possible (arm 1, PET1 and
    /// PET2 quantified); offered again after a confirmation, for a new read.
    pub proposal: Option<PetResponseProposal>,
    /// Why no read is possible yet: the rule and what is missing.
    pub unavailable: Option<Refusal>,
    /// The current confirmed read (of the current PET1 and PET2 quantifications).
    pub confirmed: Option<PetResponseRead>,
    /// Every confirmed read in order, superseded ones included.
    pub history: Vec<PetResponseRead>,
}

/// The PET response view of a participant's state under these settings.
pub fn pet_response_from(p: &Participant, version: i64, settings: &Settings) -> PetResponseView {
    let (proposal, unavailable) = match propose(p, settings) {
        Ok(offer) => (Some(offer), None),
        Err(why) => (None, Some(why)),
    };
    PetResponseView {
        version,
        state: p.state.name().to_owned(),
        proposal,
        unavailable,
        confirmed: p.pet_response().cloned(),
        history: p.pet_responses.clone(),
    }
}

impl Trial {
    /// The PET response read of a participant this user may see (the same answer as for
    /// none otherwise).
    pub async fn pet_response(&self, user: &User, id: &str) -> Result<PetResponseView> {
        let v = self.visible(user, id).await?;
        let settings = self.settings().await?;
        Ok(pet_response_from(&v.participant, v.row.version, &settings))
    }
}
