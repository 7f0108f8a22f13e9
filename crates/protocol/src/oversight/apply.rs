//! Applying oversight events to a participant (and study-wide holds to the study). Never
//! fails: an event names a query or hold that the decision checked exists.

use super::model::{
    DeviationReview, Hold, HoldLevel, Oversight, QueryStatus, Scope, SdvState, StudyOversight,
};
use crate::event::Event;
use crate::participant::Participant;
use crate::rule::Rule;

/// Applies an oversight event; data events are left to [`crate::evolve`].
pub(crate) fn apply(p: &mut Participant, e: &Event) {
    match e {
        Event::DeviationReported {
            deviation,
            category,
            by,
        } => {
            p.deviations.push(deviation.clone());
            p.oversight.deviation_reviews.insert(
                deviation.deviation_id.clone(),
                DeviationReview {
                    category: Some(*category),
                    reported_by: Some(by.clone()),
                    ..DeviationReview::default()
                },
            );
        }
        _ => apply_to(&mut p.oversight, e),
    }
}

fn apply_to(o: &mut Oversight, e: &Event) {
    match e {
        Event::QueryRaised { query } => o.queries.push(query.clone()),
        Event::QueryAnswered { query_id, message }
        | Event::QueryReopened { query_id, message }
        | Event::QueryClosed { query_id, message }
        | Event::QueryCancelled { query_id, message } => {
            if let Some(q) = o.queries.iter_mut().find(|q| &q.query_id == query_id) {
                q.status = message.status;
                q.messages.push(message.clone());
            }
        }
        Event::EntriesVerified { entry_ids, by, at } => {
            for id in entry_ids {
                o.sdv.insert(
                    id.clone(),
                    SdvState::Verified {
                        by: by.user.clone(),
                        at: *at,
                    },
                );
            }
        }
        Event::VerificationReset {
            entry_id,
            replaced_by,
            at,
        } => {
            let (verified_by, verified_at) = match o.sdv.get(entry_id) {
                Some(SdvState::Verified { by, at }) => (by.clone(), *at),
                Some(SdvState::ChangedSinceVerified {
                    verified_by,
                    verified_at,
                    ..
                }) => (verified_by.clone(), *verified_at),
                _ => return,
            };
            let changed = SdvState::ChangedSinceVerified {
                verified_by,
                verified_at,
                changed_at: *at,
            };
            if let Some(new) = replaced_by {
                o.sdv.insert(new.clone(), changed.clone());
            }
            o.sdv.insert(entry_id.clone(), changed);
        }
        Event::HoldPlaced { hold, .. } => place(&mut o.holds, hold),
        Event::HoldLifted { scope, level, .. } => lift(&mut o.holds, scope, *level),
        Event::CasebookSigned { signature } => o.signatures.push(signature.clone()),
        Event::SignaturesVoided { scopes, voided } => {
            for s in o.signatures.iter_mut().filter(|s| s.voided.is_none()) {
                if scopes.contains(&s.scope) {
                    s.voided = Some(voided.clone());
                }
            }
        }
        Event::DeviationAssessed { deviation_id, note } => {
            let review = o.deviation_reviews.entry(deviation_id.clone()).or_default();
            review.status = note.status;
            review.notes.push(note.clone());
        }
        _ => {}
    }
}

/// A freeze adds a hold; a lock raises the frozen hold of the same scope.
fn place(holds: &mut Vec<Hold>, hold: &Hold) {
    match holds.iter_mut().find(|h| h.scope == hold.scope) {
        Some(h) => *h = hold.clone(),
        None => holds.push(hold.clone()),
    }
}

/// An unlock takes a lock back to frozen; an unfreeze removes the freeze.
fn lift(holds: &mut Vec<Hold>, scope: &Scope, level: HoldLevel) {
    match level {
        HoldLevel::Locked => {
            if let Some(h) = holds.iter_mut().find(|h| &h.scope == scope) {
                h.level = HoldLevel::Frozen;
            }
        }
        HoldLevel::Frozen => holds.retain(|h| &h.scope != scope),
    }
}

/// Folds the study stream's events into the study-wide oversight.
pub fn fold_study<'a>(events: impl IntoIterator<Item = &'a Event>) -> StudyOversight {
    let mut holds = Vec::new();
    for e in events {
        match e {
            Event::HoldPlaced { hold, .. } => place(&mut holds, hold),
            Event::HoldLifted { scope, level, .. } => lift(&mut holds, scope, *level),
            _ => {}
        }
    }
    StudyOversight {
        hold: holds.into_iter().find(|h| h.scope == Scope::Study),
    }
}

/// Whether a query status change is one the rule allows (for the tests' invariants).
pub fn query_transition_allowed(from: QueryStatus, to: QueryStatus) -> bool {
    use QueryStatus::*;
    matches!(
        (from, to),
        (Open, Answered)
            | (Answered, Closed)
            | (Answered, Open)
            | (Open, Cancelled)
            | (Open, Closed)
    )
}

/// The rule a hold enforces.
pub fn hold_rule(level: HoldLevel) -> Rule {
    match level {
        HoldLevel::Frozen => Rule::FROZEN,
        HoldLevel::Locked => Rule::LOCKED,
    }
}
