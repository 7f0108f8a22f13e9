//! A group's writes worked out in memory: which requests stand, the events they append
//! with their seqs, versions and hash links, and the read rows they leave.
//!
//! What decides a request's fate in the log (its stream's version, its place in the chain)
//! is known once the group's transaction holds the chain head and has read the versions of
//! the streams the group names ([`Start`]). So the committer plans the whole group here, in
//! arrival order, exactly as if the requests were applied one after the other, and then
//! writes the outcome with a statement or two per table instead of several per request
//! (see `queries::write`). A request refused here (a conflict) leaves no trace in the
//! plan. Only a refusal by the database itself (a constraint) is not foreseen here; the
//! committer then writes the group again one request at a time.

use std::collections::{BTreeMap, HashMap};

use crate::error::StoreError;
use crate::hash::{self, HashInput};
use crate::model::{
    Appended, CredentialRow, EventMeta, ParticipantRow, Projection, SiteRow, UserRow, VisitRow,
    VisitSchedule,
};
use crate::request::{Expected, Part, Request};

/// What the database holds when a group starts, as far as the group's requests need it.
pub(crate) struct Start {
    /// The chain head: seq and hash of the last event.
    pub seq: i64,
    pub hash: String,
    /// The version of each stream the group appends to (none here: no events yet).
    pub versions: HashMap<String, i64>,
    /// The participant row version of each participant whose visits the group rebuilds
    /// (none here: no row).
    pub participant_versions: HashMap<String, i64>,
}

/// One event row as it is stored.
pub(crate) struct EventRow {
    pub seq: i64,
    pub stream: String,
    pub version: i64,
    pub kind: String,
    /// Canonical JSON.
    pub payload: String,
    /// Who, where, why; `recorded_at` truncated to microseconds.
    pub meta: EventMeta,
    pub recorded_at: String,
    pub prev_hash: String,
    pub hash: String,
}

/// What a group writes: its events in seq order, the read rows it leaves (the last
/// write of each row wins, as it would one after the other), and the new chain head.
pub(crate) struct Plan {
    pub events: Vec<EventRow>,
    pub sites: BTreeMap<String, SiteRow>,
    pub users: BTreeMap<String, UserRow>,
    pub credentials: BTreeMap<String, CredentialRow>,
    pub participants: BTreeMap<String, ParticipantRow>,
    /// Each participant's visit rows, replacing all stored ones.
    pub visits: BTreeMap<String, Vec<VisitRow>>,
    /// The chain head after the group.
    pub seq: i64,
    pub hash: String,
    versions: HashMap<String, i64>,
    participant_versions: HashMap<String, i64>,
}

impl Plan {
    /// Plans `requests` in order from `start`, and keeps each request's own result in
    /// its answer: what it appended, or why it was refused.
    pub(crate) fn new(start: Start, requests: &mut [Request]) -> Plan {
        let mut plan = Plan {
            events: Vec::new(),
            sites: BTreeMap::new(),
            users: BTreeMap::new(),
            credentials: BTreeMap::new(),
            participants: BTreeMap::new(),
            visits: BTreeMap::new(),
            seq: start.seq,
            hash: start.hash,
            versions: start.versions,
            participant_versions: start.participant_versions,
        };
        for request in requests {
            match request {
                Request::Append(part, answer) => answer.keep(plan.atomically(|plan, own| {
                    let appended = plan.append(part, own)?;
                    plan.project(&part.projections);
                    Ok(appended)
                })),
                Request::Batch(parts, answer) => answer.keep(plan.atomically(|plan, own| {
                    let appended = parts
                        .iter()
                        .map(|part| plan.append(part, own))
                        .collect::<Result<Vec<_>, _>>()?;
                    for part in parts.iter() {
                        plan.project(&part.projections);
                    }
                    Ok(appended)
                })),
                Request::RebuildVisits(schedules, answer) => answer.keep(plan.rebuild(schedules)),
            }
        }
        plan
    }

    /// True if the plan writes nothing: every request was refused.
    pub(crate) fn is_empty(&self) -> bool {
        self.events.is_empty()
            && self.sites.is_empty()
            && self.users.is_empty()
            && self.credentials.is_empty()
            && self.participants.is_empty()
            && self.visits.is_empty()
    }

    /// Runs `plan_request` with its own stream versions; if it refuses, takes back the
    /// events it planned, so the next request continues from the head before it. (It
    /// changes the read rows only once nothing can refuse any more.)
    fn atomically<T>(
        &mut self,
        plan_request: impl FnOnce(&mut Plan, &mut HashMap<String, i64>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let (events, seq, hash) = (self.events.len(), self.seq, self.hash.clone());
        let mut own = HashMap::new();
        let result = plan_request(self, &mut own);
        match &result {
            Ok(_) => self.versions.extend(own),
            Err(_) => {
                self.events.truncate(events);
                self.seq = seq;
                self.hash = hash;
            }
        }
        result
    }

    /// Checks `part`'s stream version and plans its events after the head. `own` holds
    /// the versions the request's earlier parts left, which the group has not yet taken.
    fn append(
        &mut self,
        part: &Part,
        own: &mut HashMap<String, i64>,
    ) -> Result<Appended, StoreError> {
        let version_of = |stream: &String| {
            own.get(stream)
                .or_else(|| self.versions.get(stream))
                .copied()
                .unwrap_or(0)
        };
        for (stream, expected) in &part.unchanged {
            let actual = version_of(stream);
            if actual != *expected {
                return Err(StoreError::Conflict {
                    stream: stream.clone(),
                    expected: *expected,
                    actual,
                });
            }
        }
        let actual = version_of(&part.stream);
        if let Expected::Version(expected) = part.expected
            && expected != actual
        {
            return Err(StoreError::Conflict {
                stream: part.stream.clone(),
                expected,
                actual,
            });
        }
        let first_seq = self.seq + 1;
        let mut version = actual;
        for (kind, payload) in &part.events {
            version += 1;
            let seq = self.seq + 1;
            let hash = hash::event_hash(&HashInput {
                prev_hash: &self.hash,
                seq,
                stream: &part.stream,
                version,
                kind,
                payload_json: payload,
                meta: &part.meta,
            });
            let prev_hash = std::mem::replace(&mut self.hash, hash.clone());
            self.events.push(EventRow {
                seq,
                stream: part.stream.clone(),
                version,
                kind: kind.clone(),
                payload: payload.clone(),
                meta: part.meta.clone(),
                recorded_at: part.recorded_at.clone(),
                prev_hash,
                hash,
            });
            self.seq = seq;
        }
        own.insert(part.stream.clone(), version);
        Ok(Appended {
            stream_version: version,
            first_seq,
            last_seq: self.seq,
            head_hash: self.hash.clone(),
        })
    }

    /// Takes a request's read-row changes; a later change of the same row replaces it.
    fn project(&mut self, projections: &[Projection]) {
        for projection in projections {
            match projection {
                Projection::Participant(p) => {
                    self.participant_versions
                        .insert(p.study_id.clone(), p.version);
                    self.participants.insert(p.study_id.clone(), p.clone());
                }
                Projection::Site(s) => {
                    self.sites.insert(s.code.clone(), s.clone());
                }
                Projection::User(u) => {
                    self.users.insert(u.username.clone(), u.clone());
                }
                Projection::Credential(c) => {
                    self.credentials.insert(c.username.clone(), c.clone());
                }
                Projection::Visits { study_id, rows } => {
                    self.visits.insert(study_id.clone(), rows.clone());
                }
            }
        }
    }

    /// Replaces the visit rows of each participant in `schedules` if every participant
    /// row is at its schedule's version (as the group has left it so far); otherwise
    /// none, and a conflict names the first participant that moved on.
    fn rebuild(&mut self, schedules: &[VisitSchedule]) -> Result<(), StoreError> {
        for schedule in schedules {
            let actual = self
                .participant_versions
                .get(&schedule.study_id)
                .copied()
                .unwrap_or(0);
            if actual != schedule.version {
                return Err(StoreError::Conflict {
                    stream: schedule.study_id.clone(),
                    expected: schedule.version,
                    actual,
                });
            }
        }
        for schedule in schedules {
            self.visits
                .insert(schedule.study_id.clone(), schedule.rows.clone());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use serde_json::json;
    use tokio::sync::oneshot;

    use super::*;
    use crate::model::NewEvent;
    use crate::request::Answer;

    fn meta() -> EventMeta {
        EventMeta {
            actor: "nurse.anna".into(),
            role: "site_nurse".into(),
            site: Some("SE01".into()),
            recorded_at: Utc.with_ymd_and_hms(2026, 3, 14, 9, 26, 53).unwrap(),
            reason: None,
        }
    }

    fn part(stream: &str, expected: Expected, events: i64, projections: &[Projection]) -> Part {
        let events: Vec<NewEvent> = (1..=events)
            .map(|n| NewEvent {
                kind: "Noted".into(),
                payload: json!({"n": n}),
            })
            .collect();
        Part::new(stream, expected, &events, &meta(), projections)
    }

    type Reply<T> = oneshot::Receiver<Result<T, StoreError>>;

    fn append(part: Part) -> (Request, Reply<Appended>) {
        let (tx, rx) = oneshot::channel();
        (Request::Append(Box::new(part), Answer::new(tx)), rx)
    }

    fn batch(parts: Vec<Part>) -> (Request, Reply<Vec<Appended>>) {
        let (tx, rx) = oneshot::channel();
        (Request::Batch(parts, Answer::new(tx)), rx)
    }

    fn rebuild(study_id: &str, version: i64) -> (Request, Reply<()>) {
        let (tx, rx) = oneshot::channel();
        let schedule = VisitSchedule {
            study_id: study_id.into(),
            version,
            rows: Vec::new(),
        };
        (Request::RebuildVisits(vec![schedule], Answer::new(tx)), rx)
    }

    fn start(versions: &[(&str, i64)]) -> Start {
        Start {
            seq: 5,
            hash: "a".repeat(64),
            versions: versions.iter().map(|(s, v)| (s.to_string(), *v)).collect(),
            participant_versions: HashMap::new(),
        }
    }

    /// Plans `requests` and sends each its result.
    fn plan(start: Start, mut requests: Vec<Request>) -> Plan {
        let plan = Plan::new(start, &mut requests);
        requests.into_iter().for_each(Request::send);
        plan
    }

    fn result<T>(mut reply: Reply<T>) -> Result<T, StoreError> {
        reply.try_recv().expect("every request is answered")
    }

    fn participant(study_id: &str, version: i64) -> Projection {
        Projection::Participant(ParticipantRow {
            study_id: study_id.into(),
            site: "SE01".into(),
            state: "Screening".into(),
            version,
            snapshot: json!({"version": version}),
            updated_at: meta().recorded_at,
        })
    }

    #[test]
    fn a_group_continues_one_chain_and_each_stream_its_versions() {
        let (a1, r1) = append(part("SE01-001", Expected::Version(2), 2, &[]));
        let (b, r2) = append(part("SE01-002", Expected::Version(0), 1, &[]));
        let (a2, r3) = append(part("SE01-001", Expected::Version(4), 1, &[]));
        let (end, r4) = append(part("access", Expected::End, 1, &[]));
        let plan = plan(
            start(&[("SE01-001", 2), ("access", 7)]),
            vec![a1, b, a2, end],
        );

        let got = |r| {
            let a: Appended = result(r).unwrap();
            (a.stream_version, a.first_seq, a.last_seq)
        };
        assert_eq!(got(r1), (4, 6, 7));
        assert_eq!(got(r2), (1, 8, 8));
        assert_eq!(got(r3), (5, 9, 9));
        assert_eq!(got(r4), (8, 10, 10));
        let mut prev = "a".repeat(64);
        for (e, seq) in plan.events.iter().zip(6..) {
            assert_eq!(e.seq, seq);
            assert_eq!(e.prev_hash, prev);
            let again = hash::event_hash(&HashInput {
                prev_hash: &prev,
                seq,
                stream: &e.stream,
                version: e.version,
                kind: &e.kind,
                payload_json: &e.payload,
                meta: &e.meta,
            });
            assert_eq!(e.hash, again, "event #{seq}");
            prev = again;
        }
        assert_eq!((plan.seq, &plan.hash), (10, &prev));
    }

    #[test]
    fn a_refused_request_leaves_no_trace_and_the_next_continues_the_chain() {
        let (first, r1) = append(part("SE01-001", Expected::Version(0), 1, &[]));
        // Its first part is fine, its second is not: none of it stands.
        let (refused, r2) = batch(vec![
            part(
                "SE01-002",
                Expected::Version(0),
                2,
                &[participant("SE01-002", 2)],
            ),
            part("SE01-003", Expected::Version(5), 1, &[]),
        ]);
        // Based on a version the batch would have left, had it stood.
        let (stale, r3) = append(part("SE01-002", Expected::Version(2), 1, &[]));
        let (last, r4) = append(part("SE01-002", Expected::Version(0), 1, &[]));
        let plan = plan(start(&[]), vec![first, refused, stale, last]);

        assert_eq!(result(r1).unwrap().last_seq, 6);
        assert!(matches!(
            result(r2),
            Err(StoreError::Conflict {
                expected: 5,
                actual: 0,
                ..
            })
        ));
        assert!(matches!(
            result(r3),
            Err(StoreError::Conflict {
                expected: 2,
                actual: 0,
                ..
            })
        ));
        let last = result(r4).unwrap();
        assert_eq!((last.first_seq, last.stream_version), (7, 1));
        assert_eq!(plan.events.len(), 2);
        assert_eq!(plan.events[1].prev_hash, plan.events[0].hash);
        assert!(
            plan.participants.is_empty(),
            "the refused batch's row is not written"
        );
    }

    #[test]
    fn the_last_write_of_a_row_wins_and_a_rebuild_sees_the_groups_own_rows() {
        let visits = |n: usize| Projection::Visits {
            study_id: "SE01-001".into(),
            rows: vec![
                VisitRow {
                    study_id: "SE01-001".into(),
                    site: "SE01".into(),
                    kind: "baseline".into(),
                    earliest: chrono::NaiveDate::from_ymd_opt(2026, 5, 1).unwrap(),
                    latest: chrono::NaiveDate::from_ymd_opt(2026, 5, 9).unwrap(),
                    required: true,
                    detail: json!({}),
                };
                n
            ],
        };
        let (register, _) = append(part(
            "SE01-001",
            Expected::Version(0),
            1,
            &[participant("SE01-001", 1), visits(1)],
        ));
        let (consent, _) = append(part(
            "SE01-001",
            Expected::Version(1),
            1,
            &[participant("SE01-001", 2)],
        ));
        let (too_old, r_old) = rebuild("SE01-001", 1);
        let (current, r_current) = rebuild("SE01-001", 2);
        let plan = plan(start(&[]), vec![register, consent, too_old, current]);

        assert_eq!(plan.participants["SE01-001"].version, 2);
        assert!(matches!(
            result(r_old),
            Err(StoreError::Conflict {
                expected: 1,
                actual: 2,
                ..
            })
        ));
        result(r_current).unwrap();
        assert!(plan.visits["SE01-001"].is_empty(), "the rebuild came last");
    }

    #[test]
    fn a_group_of_refusals_writes_nothing() {
        let (stale, r) = append(part("SE01-001", Expected::Version(3), 1, &[]));
        let plan = plan(start(&[("SE01-001", 4)]), vec![stale]);
        assert!(plan.is_empty());
        assert!(matches!(
            result(r),
            Err(StoreError::Conflict { actual: 4, .. })
        ));
        assert_eq!((plan.seq, plan.hash), (5, "a".repeat(64)));
    }
}
