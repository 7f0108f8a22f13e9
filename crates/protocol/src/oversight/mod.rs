//! Study oversight (PROTOCOL §12): queries on data points, source data verification,
//! freeze and lock, the investigator's casebook signatures, and the review of deviations.
//!
//! The rules that keep oversight honest are applied to **every** data change, because
//! every change is decided here: [`crate::decide_in`] runs the command's own rules, then
//!
//! 1. refuses the change if it touches frozen or locked data (`FROZEN`, `LOCKED`),
//! 2. moves every verified entry it corrects or retracts to *changed since verified*
//!    ([`crate::Event::VerificationReset`]),
//! 3. voids every signature in force whose scope it touches
//!    ([`crate::Event::SignaturesVoided`]),
//! 4. runs the edit checks ([`EditCheck`]): a check that newly fires raises an automatic
//!    query; an automatic query whose check no longer fires (the data were corrected)
//!    closes itself.
//!
//! There is no other way to change a participant's data, so no side path can leave a
//! changed entry verified or a changed casebook signed. The acts of oversight themselves
//! ([`OversightCommand`]) are decided by [`decide_oversight`] with the member of staff who
//! asks; which role may do what is [`crate::roles::Role::may`].
//!
//! | act | who | refused when |
//! |---|---|---|
//! | raise a query | monitor, data manager | target locked, entry not current, no text |
//! | answer (± correction) | investigator, research nurse | query not open, target locked |
//! | close, requery, cancel | the raiser's role (automatic queries: monitor, data manager) | wrong status |
//! | verify entries | monitor | entry not current, target locked |
//! | freeze | monitor, data manager | already held |
//! | lock | data manager | not frozen first |
//! | unlock, unfreeze | data manager, with a reason | not held at that level |
//! | sign casebook or visit | investigator | signature incomplete, one already in force |
//! | record a deviation | monitor, investigator | no description, participant locked |
//! | assess, close a deviation | monitor, data manager | closed already |

mod apply;
mod checks;
mod command;
mod consequences;
mod decide;
mod model;

pub(crate) use apply::apply;
pub use apply::{fold_study, hold_rule, query_transition_allowed};
pub use checks::auto_queries;
pub use command::*;
pub use consequences::decide_in;
pub use decide::{decide_oversight, decide_study, void_on_study_unlock};
pub use model::*;

use crate::imaging::PetTimepoint;
use crate::participant::Participant;

/// The form of an entry: its id's prefix (`lab` of `lab-3`).
pub fn form_of(entry_id: &str) -> &str {
    entry_id
        .rsplit_once('-')
        .map(|(f, _)| f)
        .unwrap_or(entry_id)
}

/// The forms whose entries are screening data when recorded before the enrolment decision.
const SCREENING_FORMS: [&str; 12] = [
    "tx", "lesion", "lab", "weight", "ps", "cbp", "preg", "history", "her2", "malig", "archival",
    "attest",
];

/// The visit an entry belongs to: the visit of the first entry of its correction chain,
/// so a correction stays in the visit of what it corrects.
pub fn visit_of_entry(p: &Participant, entry_id: &str) -> Visit {
    let mut root = entry_id.to_string();
    // A chain is at most as long as the participant's entries; stop there.
    for _ in 0..=p.version {
        match p.entry_supersedes(&root) {
            Some(prev) => root = prev,
            None => break,
        }
    }
    let recorded = p.entry_recorded_at(&root);
    visit_of_new(p, form_of(&root), recorded, p.imp_timepoint(&root))
}

/// The visit a new entry of `form` falls in.
fn visit_of_new(
    p: &Participant,
    form: &str,
    recorded: Option<chrono::DateTime<chrono::Utc>>,
    timepoint: Option<PetTimepoint>,
) -> Visit {
    match form {
        "imp" => match timepoint {
            Some(PetTimepoint::Pet2) => Visit::Pet2,
            Some(PetTimepoint::Pet3) => Visit::Pet3,
            _ => Visit::Baseline,
        },
        "ctbaseline" => Visit::Baseline,
        "ct" | "ae" => Visit::FollowUp,
        f if SCREENING_FORMS.contains(&f) => {
            let decided = p
                .enrolment
                .as_ref()
                .map(|e| e.enrolled_at)
                .or(p.screen_failure.as_ref().map(|s| s.recorded_at));
            match (decided, recorded) {
                (Some(d), Some(r)) if r > d => Visit::FollowUp,
                (Some(_), None) => Visit::FollowUp,
                _ => Visit::Screening,
            }
        }
        _ => Visit::FollowUp,
    }
}
