//! The invalidation rules of oversight hold on any path (PROTOCOL §12): random sequences
//! of data changes and acts of oversight, run as the trial runs them (`decide_in`,
//! `decide_oversight`), never leave a changed entry verified or a changed casebook
//! signed, and no change is accepted on frozen or locked data.

use chrono::{DateTime, Duration, Utc};
use proptest::prelude::*;
use protocol::oversight::{
    AnswerQuery, ChangeHold, DataPoint, HoldLevel, OversightCommand, QueryStatus, RaiseQuery,
    ResolveQuery, Scope, SignCasebook, SignScope, Staff, StudyOversight, VerifyEntries, Visit,
    query_transition_allowed,
};
use protocol::roles::Role;
use protocol::testing::{investigator_signature, lab};
use protocol::{
    Analyte, Command, EntryStatus, Event, Participant, RetractEntry, Rule, Settings, decide_in,
    decide_oversight, evolve,
};

use crate::common::*;

/// One step of a random path.
#[derive(Debug, Clone)]
enum Op {
    NewLab(f64),
    CorrectLab(usize, f64),
    Retract(usize),
    Verify(usize),
    VerifyAll,
    Sign,
    SignScreening,
    Freeze(usize),
    Lock(usize),
    Unlock(usize),
    Unfreeze(usize),
    Raise(usize),
    Answer(usize, Option<f64>),
    Close(usize),
    /// Any act of oversight by a random role.
    Anyone(usize, usize),
}

fn op() -> impl Strategy<Value = Op> {
    // Haemoglobin values from 40 to 200 g/L: some unusual (automatic queries), all possible.
    let hb = 40.0..200.0f64;
    prop_oneof![
        hb.clone().prop_map(Op::NewLab),
        (0..12usize, hb.clone()).prop_map(|(i, v)| Op::CorrectLab(i, v)),
        (0..12usize).prop_map(Op::Retract),
        (0..12usize).prop_map(Op::Verify),
        Just(Op::VerifyAll),
        Just(Op::Sign),
        Just(Op::SignScreening),
        (0..4usize).prop_map(Op::Freeze),
        (0..4usize).prop_map(Op::Lock),
        (0..4usize).prop_map(Op::Unlock),
        (0..4usize).prop_map(Op::Unfreeze),
        (0..12usize).prop_map(Op::Raise),
        (0..6usize, proptest::option::of(hb)).prop_map(|(i, v)| Op::Answer(i, v)),
        (0..6usize).prop_map(Op::Close),
        (0..9usize, 0..6usize).prop_map(|(r, i)| Op::Anyone(r, i)),
    ]
}

fn current_labs(p: &Participant) -> Vec<String> {
    p.labs
        .iter()
        .filter(|e| e.is_current())
        .map(|e| e.entry_id.clone())
        .collect()
}

fn pick(list: &[String], i: usize) -> String {
    if list.is_empty() {
        "lab-1".into()
    } else {
        list[i % list.len()].clone()
    }
}

fn scope(p: &Participant, i: usize) -> Scope {
    match i {
        0 => Scope::Participant,
        1 => Scope::Form { form: "lab".into() },
        2 => Scope::Visit {
            visit: Visit::Screening,
        },
        _ => Scope::Entry {
            entry_id: pick(&current_labs(p), 0),
        },
    }
}

fn hb(value: f64, corrects: Option<String>) -> Command {
    let mut c = lab(
        Analyte::Haemoglobin,
        (value * 10.0).round() / 10.0,
        "g/L",
        None,
        at(1),
    );
    if let Command::RecordLab(l) = &mut c {
        l.correction_reason = corrects.as_ref().map(|_| "source checked".into());
        l.corrects = corrects;
    }
    c
}

fn hold(scope: Scope, reason: bool) -> ChangeHold {
    ChangeHold {
        scope,
        reason: reason.then(|| "reviewed".into()),
    }
}

/// What a step asks, and of whom.
enum Ask {
    Data(Box<Command>),
    Oversee(Staff, OversightCommand),
}

fn ask(p: &Participant, op: &Op) -> Ask {
    let who = |r: Role| Staff::new(r.id(), r);
    let labs = current_labs(p);
    let queries: Vec<String> = p
        .oversight
        .queries
        .iter()
        .map(|q| q.query_id.clone())
        .collect();
    let query = |i: usize| pick(&queries, i);
    match op {
        Op::NewLab(v) => Ask::Data(Box::new(hb(*v, None))),
        Op::CorrectLab(i, v) => Ask::Data(Box::new(hb(*v, Some(pick(&labs, *i))))),
        Op::Retract(i) => Ask::Data(Box::new(Command::RetractEntry(RetractEntry {
            entry_id: pick(&labs, *i),
            reason: "entered in error".into(),
        }))),
        Op::Verify(i) => Ask::Oversee(
            who(Role::Monitor),
            OversightCommand::VerifyEntries(VerifyEntries {
                entry_ids: vec![pick(&labs, *i)],
                scope: None,
            }),
        ),
        Op::VerifyAll => Ask::Oversee(
            who(Role::Monitor),
            OversightCommand::VerifyEntries(VerifyEntries {
                entry_ids: vec![],
                scope: Some(Scope::Participant),
            }),
        ),
        Op::Sign | Op::SignScreening => Ask::Oversee(
            who(Role::Investigator),
            OversightCommand::SignCasebook(SignCasebook {
                scope: if matches!(op, Op::Sign) {
                    SignScope::Casebook
                } else {
                    SignScope::Visit {
                        visit: Visit::Screening,
                    }
                },
                signature: investigator_signature(now()),
            }),
        ),
        Op::Freeze(s) => Ask::Oversee(
            who(Role::DataManager),
            OversightCommand::Freeze(hold(scope(p, *s), false)),
        ),
        Op::Lock(s) => Ask::Oversee(
            who(Role::DataManager),
            OversightCommand::Lock(hold(scope(p, *s), false)),
        ),
        Op::Unlock(s) => Ask::Oversee(
            who(Role::DataManager),
            OversightCommand::Unlock(hold(scope(p, *s), true)),
        ),
        Op::Unfreeze(s) => Ask::Oversee(
            who(Role::DataManager),
            OversightCommand::Unfreeze(hold(scope(p, *s), true)),
        ),
        Op::Raise(i) => Ask::Oversee(
            who(Role::Monitor),
            OversightCommand::RaiseQuery(RaiseQuery {
                point: DataPoint {
                    entry_id: pick(&labs, *i),
                    field: Some("value".into()),
                },
                text: "Please check against the source.".into(),
            }),
        ),
        Op::Answer(i, v) => {
            let id = query(*i);
            let entry = p.oversight.query(&id).map(|q| q.point.entry_id.clone());
            Ask::Oversee(
                who(Role::ResearchNurse),
                OversightCommand::AnswerQuery(AnswerQuery {
                    query_id: id,
                    text: "Checked.".into(),
                    correction: v.map(|v| Box::new(hb(v, entry))),
                }),
            )
        }
        Op::Close(i) => Ask::Oversee(
            who(Role::Monitor),
            OversightCommand::CloseQuery(ResolveQuery {
                query_id: query(*i),
                text: String::new(),
            }),
        ),
        Op::Anyone(r, i) => {
            let role = Role::ALL[*r % Role::ALL.len()];
            let cmd = match i % 3 {
                0 => OversightCommand::VerifyEntries(VerifyEntries {
                    entry_ids: vec![pick(&labs, *i)],
                    scope: None,
                }),
                1 => OversightCommand::Lock(hold(Scope::Participant, false)),
                _ => OversightCommand::CloseQuery(ResolveQuery {
                    query_id: query(*i),
                    text: String::new(),
                }),
            };
            Ask::Oversee(who(role), cmd)
        }
    }
}

/// The entries a set of events changes (corrects or retracts) and records.
fn changed_entries(events: &[Event]) -> Vec<String> {
    let mut out = Vec::new();
    for e in events {
        if let Some(m) = e.entry_meta() {
            if let Some(old) = &m.supersedes {
                out.push(old.clone());
                out.push(m.entry_id.clone());
            }
        } else if let Event::EntryRetracted { entry_id, .. } = e {
            out.push(entry_id.clone());
        }
    }
    out
}

fn changes_data(events: &[Event]) -> bool {
    events.iter().any(|e| !e.is_oversight())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn no_changed_entry_stays_verified_no_changed_casebook_stays_signed_and_holds_hold(
        ops in proptest::collection::vec(op(), 1..40)
    ) {
        let settings = Settings::default();
        let mut p = build(&base()).0;
        let mut t: DateTime<Utc> = now();
        for op in &ops {
            t += Duration::minutes(7);
            let before = p.clone();
            let (asked_data, result) = match ask(&p, op) {
                Ask::Data(cmd) => (true, decide_in(&p, &StudyOversight::default(), &cmd, t, &settings)),
                Ask::Oversee(who, cmd) => (false, decide_oversight(&p, &StudyOversight::default(), &who, &cmd, t, &settings)),
            };
            let holds: Vec<HoldLevel> = before.oversight.holds.iter().map(|h| h.level).collect();
            let participant_hold = before
                .oversight
                .holds
                .iter()
                .find(|h| matches!(h.scope, Scope::Participant | Scope::Form { .. } | Scope::Visit { .. }))
                .map(|h| h.level);
            match result {
                Err(r) => {
                    // A refused step changes nothing; a data change on a participant
                    // held as a whole (her casebook, the lab form, the screening visit
                    // all cover every lab) is refused by the hold's rule.
                    if asked_data && participant_hold.is_some() {
                        prop_assert!(
                            matches!(r.rule, Rule::FROZEN | Rule::LOCKED | Rule::ENTRY_UNKNOWN),
                            "{op:?}: {r}"
                        );
                    }
                    continue;
                }
                Ok(events) => {
                    for e in &events {
                        evolve(&mut p, e);
                    }
                    if changes_data(&events) {
                        // No change is accepted on frozen or locked data.
                        prop_assert!(participant_hold.is_none(), "{op:?} accepted under a hold");
                        // Every changed entry is no longer verified.
                        for id in changed_entries(&events) {
                            prop_assert!(!p.oversight.sdv_of(&id).is_verified(), "{op:?}: {id} stays verified");
                        }
                        // A casebook signed before the change is signed no longer.
                        prop_assert!(
                            !p.oversight.valid_signatures().any(|s| s.scope == SignScope::Casebook
                                && before.oversight.valid_signatures().any(|b| b == s)),
                            "{op:?}: casebook stays signed after a change"
                        );
                    }
                    // A locked participant takes no query and no verification.
                    if holds.contains(&HoldLevel::Locked)
                        && before.oversight.holds.iter().any(|h| h.scope == Scope::Participant && h.level == HoldLevel::Locked)
                    {
                        let acted = events.iter().any(|e| matches!(
                            e,
                            Event::QueryRaised { .. } | Event::EntriesVerified { .. } | Event::QueryAnswered { .. }
                        ));
                        prop_assert!(!acted, "{op:?} acted on a locked participant");
                    }
                }
            }
            // Always: only current entries can be verified; queries move only along
            // the allowed transitions.
            for (id, status) in p.entry_ids() {
                if status != EntryStatus::Current {
                    prop_assert!(!p.oversight.sdv_of(&id).is_verified(), "{id} ({status:?}) is verified");
                }
            }
            for q in &p.oversight.queries {
                for w in q.messages.windows(2) {
                    prop_assert!(
                        query_transition_allowed(w[0].status, w[1].status),
                        "{}: {:?} → {:?}", q.query_id, w[0].status, w[1].status
                    );
                }
                if q.messages.len() > 1 {
                    prop_assert_eq!(q.messages[0].status, QueryStatus::Open);
                }
            }
        }
    }
}
