//! What every data change entails for oversight: refused on held data, verification
//! reset, signatures voided, automatic queries raised and closed.

use chrono::{DateTime, Utc};

use super::apply::hold_rule;
use super::checks::auto_queries;
use super::model::{
    HoldLevel, Query, QueryMessage, QueryOrigin, QueryStatus, Scope, SdvState, SignScope,
    StudyOversight, Visit, Voided,
};
use super::{form_of, visit_of_entry, visit_of_new};
use crate::command::Command;
use crate::event::Event;
use crate::imaging::PetTimepoint;
use crate::participant::Participant;
use crate::rule::Refusal;
use crate::settings::Settings;

/// What a data event changes: the entries it records, corrects or retracts, their form,
/// and the visit.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Touch {
    /// Entries changed: a new entry, the entry it corrects, a retracted entry.
    pub entries: Vec<String>,
    /// The form of those entries.
    pub form: Option<String>,
    /// The visit.
    pub visit: Visit,
    /// The entry corrected or retracted, and its replacement.
    pub changed: Option<(String, Option<String>)>,
}

/// The visit of a data event that records no entry.
fn visit_of_fact(e: &Event) -> Visit {
    let of_tp = |tp: PetTimepoint| match tp {
        PetTimepoint::Pet1 => Visit::Baseline,
        PetTimepoint::Pet2 => Visit::Pet2,
        PetTimepoint::Pet3 => Visit::Pet3,
    };
    match e {
        Event::ParticipantRegistered { .. }
        | Event::ConsentRecorded { .. }
        | Event::Enrolled { .. }
        | Event::ScreenFailed { .. } => Visit::Screening,
        Event::PetQuantified { quantification } => of_tp(quantification.timepoint),
        Event::PetLesionsReviewed { review } => of_tp(review.timepoint),
        Event::BiopsyTargetChosen { choice, .. } => of_tp(choice.timepoint),
        Event::PetResponseConfirmed { .. } => Visit::Pet2,
        Event::BiopsyRecorded { .. }
        | Event::PathologyReported { .. }
        | Event::Allocated { .. }
        | Event::AllocationRefreshed { .. }
        | Event::ReallocationProposed { .. }
        | Event::AllocationCorrected { .. } => Visit::Baseline,
        Event::ConsentWithdrawn { .. }
        | Event::Died { .. }
        | Event::LostToFollowUp { .. }
        | Event::ParticipationEnded { .. } => Visit::End,
        _ => Visit::FollowUp,
    }
}

/// What the data events of one decision touch (on the participant before them).
pub(crate) fn touches(p: &Participant, events: &[Event]) -> Vec<Touch> {
    let mut out = Vec::new();
    for e in events.iter().filter(|e| !e.is_oversight()) {
        if let Event::DeviationRecorded { .. } = e {
            // A deviation comes with the fact it concerns; it changes no data of its own.
            continue;
        }
        if let Some(meta) = e.entry_meta() {
            let form = form_of(&meta.entry_id).to_string();
            let visit = match &meta.supersedes {
                Some(old) => visit_of_entry(p, old),
                None => {
                    let tp = match e {
                        Event::ImpAdministered { administration, .. } => {
                            Some(administration.timepoint)
                        }
                        _ => None,
                    };
                    visit_of_new(p, &form, Some(meta.recorded_at), tp)
                }
            };
            let mut entries = vec![meta.entry_id.clone()];
            entries.extend(meta.supersedes.clone());
            out.push(Touch {
                entries,
                form: Some(form),
                visit,
                changed: meta
                    .supersedes
                    .clone()
                    .map(|old| (old, Some(meta.entry_id.clone()))),
            });
        } else if let Event::EntryRetracted { entry_id, .. } = e {
            out.push(Touch {
                entries: vec![entry_id.clone()],
                form: Some(form_of(entry_id).to_string()),
                visit: visit_of_entry(p, entry_id),
                changed: Some((entry_id.clone(), None)),
            });
        } else {
            out.push(Touch {
                entries: Vec::new(),
                form: None,
                visit: visit_of_fact(e),
                changed: None,
            });
        }
    }
    out
}

/// Whether a hold's scope covers a touch.
pub(crate) fn covers(p: &Participant, scope: &Scope, t: &Touch) -> bool {
    match scope {
        Scope::Study | Scope::Participant => true,
        Scope::Visit { visit } => t.visit == *visit,
        Scope::Form { form } => t.form.as_deref() == Some(form.as_str()),
        Scope::Entry { entry_id } => t
            .entries
            .iter()
            .any(|id| id == entry_id || in_chain(p, id, entry_id)),
    }
}

/// Whether `ancestor` is in the correction chain behind `id`.
fn in_chain(p: &Participant, id: &str, ancestor: &str) -> bool {
    let mut cur = id.to_string();
    for _ in 0..=p.version {
        match p.entry_supersedes(&cur) {
            Some(prev) if prev == ancestor => return true,
            Some(prev) => cur = prev,
            None => return false,
        }
    }
    false
}

/// Refuses data changes that touch frozen or locked data.
fn guard(p: &Participant, study: &StudyOversight, touched: &[Touch]) -> Result<(), Refusal> {
    if touched.is_empty() {
        return Ok(());
    }
    if let Some(h) = &study.hold {
        return Err(Refusal::new(
            hold_rule(h.level),
            format!(
                "The whole study is {} (by {}): no data may be changed.",
                h.level.label(),
                h.by.user
            ),
        )
        .with_hint("A data manager can unlock or unfreeze it, giving a reason."));
    }
    // The strongest hold that covers any touched datum decides the message.
    let mut worst = None;
    for h in &p.oversight.holds {
        if touched.iter().any(|t| covers(p, &h.scope, t))
            && worst.is_none_or(|w: &super::model::Hold| h.level > w.level)
        {
            worst = Some(h);
        }
    }
    match worst {
        None => Ok(()),
        Some(h) => Err(Refusal::new(
            hold_rule(h.level),
            format!(
                "{} of {} is {} (by {}): no data may be changed there.",
                capitalise(&h.scope.describe()),
                p.study_id.as_deref().unwrap_or("?"),
                h.level.label(),
                h.by.user
            ),
        )
        .with_hint(match h.level {
            HoldLevel::Frozen => {
                "Queries and verification are still possible; a data manager can unfreeze it, giving a reason."
            }
            HoldLevel::Locked => "A data manager can unlock it, giving a reason.",
        })),
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// Decides a data command with the oversight rules applied: the command's own rules
/// ([`crate::decide`]'s checks), then the holds of the participant and of the whole
/// study, then the verification resets, voided signatures and automatic queries the
/// change entails. The trial's one write path calls this.
pub fn decide_in(
    p: &Participant,
    study: &StudyOversight,
    cmd: &Command,
    now: DateTime<Utc>,
    settings: &Settings,
) -> Result<Vec<Event>, Refusal> {
    let events = crate::decide::decide_command(p, cmd, now, settings)?;
    let touched = touches(p, &events);
    guard(p, study, &touched)?;
    let mut out = events;
    let consequences = consequences(p, &out, &touched, now);
    out.extend(consequences);
    Ok(out)
}

/// The oversight events a set of data events entails on `p`.
pub(crate) fn consequences(
    p: &Participant,
    events: &[Event],
    touched: &[Touch],
    now: DateTime<Utc>,
) -> Vec<Event> {
    let mut out = Vec::new();
    if touched.is_empty() {
        return out;
    }
    // 1. Verification: a verified entry that changed must be verified again.
    for t in touched {
        if let Some((old, new)) = &t.changed
            && !matches!(p.oversight.sdv_of(old), SdvState::NotVerified)
        {
            out.push(Event::VerificationReset {
                entry_id: old.clone(),
                replaced_by: new.clone(),
                at: now,
            });
        }
    }
    // 2. Signatures: any change voids the casebook's; a visit's when it touches the visit.
    let mut scopes: Vec<SignScope> = Vec::new();
    for s in p.oversight.valid_signatures() {
        let hit = match &s.scope {
            SignScope::Casebook => true,
            SignScope::Visit { visit } => touched.iter().any(|t| t.visit == *visit),
        };
        if hit && !scopes.contains(&s.scope) {
            scopes.push(s.scope.clone());
        }
    }
    if !scopes.is_empty() {
        let what: Vec<String> = events
            .iter()
            .filter(|e| !e.is_oversight())
            .map(|e| e.kind().replace('_', " "))
            .collect();
        out.push(Event::SignaturesVoided {
            scopes,
            voided: Voided {
                at: now,
                because: format!("data changed after signing: {}", what.join(", ")),
            },
        });
    }
    // 3. Edit checks, on the participant as the change leaves her.
    let mut after = p.clone();
    for e in events {
        crate::evolve(&mut after, e);
    }
    out.extend(auto_query_changes(&after, now));
    out
}

/// Automatic queries to raise (a check newly firing on a datum never queried by it) and
/// to close (an active automatic query whose check no longer fires).
fn auto_query_changes(after: &Participant, now: DateTime<Utc>) -> Vec<Event> {
    let wanted = auto_queries(after);
    let mut out = Vec::new();
    for q in after
        .oversight
        .queries
        .iter()
        .filter(|q| q.status.is_active())
    {
        let Some(check) = q.check() else { continue };
        let still = wanted
            .iter()
            .any(|w| w.check == check && w.point == q.point);
        if !still {
            let now_is = match after.entry_status(&q.point.entry_id) {
                Some(crate::participant::EntryStatus::Superseded { by, .. }) => {
                    format!("{} was corrected by {by}", q.point.entry_id)
                }
                Some(crate::participant::EntryStatus::Retracted { .. }) => {
                    format!("{} was retracted", q.point.entry_id)
                }
                _ => format!("{} was completed", q.point.entry_id),
            };
            out.push(Event::QueryClosed {
                query_id: q.query_id.clone(),
                message: QueryMessage {
                    at: now,
                    by: None,
                    status: QueryStatus::Closed,
                    text: format!("Closed by the system: {now_is}."),
                    correction: None,
                },
            });
        }
    }
    let mut next = after.oversight.queries.len();
    for w in wanted {
        let asked = after
            .oversight
            .queries
            .iter()
            .any(|q| q.check() == Some(w.check) && q.point == w.point);
        if asked {
            continue;
        }
        next += 1;
        out.push(Event::QueryRaised {
            query: Query {
                query_id: format!("q-{next}"),
                point: w.point,
                origin: QueryOrigin::Automatic { check: w.check },
                raised_at: now,
                status: QueryStatus::Open,
                messages: vec![QueryMessage {
                    at: now,
                    by: None,
                    status: QueryStatus::Open,
                    text: w.text,
                    correction: None,
                }],
            },
        });
    }
    out
}
