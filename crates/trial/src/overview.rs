//! The participant page in one load: her read row and state, eligibility, the audit trail,
//! the journey once enrolled, and the commands this user may run on her now.

use protocol::{EligibilityReport, Participant, PetTimepoint};
use store::ParticipantRow;

use crate::Trial;
use crate::access::User;
use crate::commands::CommandSpec;
use crate::error::Result;
use crate::journey::{JourneyView, journey_from};
use crate::participants::TimelineEntry;

/// Everything the participant page shows.
pub struct Overview {
    /// Her read row (site, state, version, snapshot).
    pub row: ParticipantRow,
    /// Her state.
    pub participant: Participant,
    /// Eligibility evaluated now.
    pub eligibility: EligibilityReport,
    /// The audit trail, oldest first.
    pub timeline: Vec<TimelineEntry>,
    /// The journey after PET, once she is enrolled.
    pub journey: Option<JourneyView>,
    /// Commands with a generic form this user may run on her now.
    pub commands: Vec<&'static CommandSpec>,
    /// The PET time points to show: PET1 always, later ones once their IMP is given.
    pub exams: Vec<PetTimepoint>,
}

impl Trial {
    /// The participant page's data, if this user may see her.
    pub async fn overview(&self, user: &User, id: &str) -> Result<Overview> {
        let v = self.visible(user, id).await?;
        let settings = self.settings().await?;
        let now = self.now();
        let eligibility = protocol::evaluate_eligibility(&v.participant, now, &settings);
        let timeline = self.timeline_of(id).await?;
        let p = v.participant;
        let journey = p
            .enrolment
            .is_some()
            .then(|| journey_from(id, p.clone(), v.row.version, &settings, now, self.today()));
        let commands = self.offered_commands(user, &p);
        let exams = PetTimepoint::ALL
            .into_iter()
            .filter(|&tp| tp == PetTimepoint::Pet1 || p.imp_administration(tp).is_some())
            .collect();
        Ok(Overview {
            row: v.row,
            participant: p,
            eligibility,
            timeline,
            journey,
            commands,
            exams,
        })
    }
}
