//! The one write path for participants (ARCHITECTURE.md, "How a change flows"): load the
//! participant's events once, fold them, let the protocol decide, and append the resulting
//! events with the read rows (participant snapshot, open visits) in one transaction. The
//! caller gets the new state and the appended events back, so nothing is loaded again.

use chrono::NaiveDate;
use protocol::journey::trial::visits;
use protocol::{Command, Event, Participant, Settings};
use store::{NewEvent, ParticipantRow, Projection, RecordedEvent, VisitRow};

use crate::Trial;
use crate::access::Actor;
use crate::error::{Error, Result};
use crate::folded::{Context, DECISION_TRIES};

/// The event stream of a participant.
pub fn participant_stream(study_id: &str) -> String {
    format!("participant/{study_id}")
}

/// Turns a stored event back into a protocol event.
pub fn decode_event(e: &RecordedEvent) -> Result<Event> {
    serde_json::from_value(e.payload.clone()).map_err(|err| {
        Error::internal(
            format!("decoding {} v{} ({})", e.stream, e.version, e.kind),
            err,
        )
    })
}

/// A participant as folded from the log, with the stored events behind it.
pub struct Loaded {
    /// The folded state.
    pub participant: Participant,
    /// The stream's version (number of stored events).
    pub version: i64,
    /// The stored events, oldest first.
    pub events: Vec<RecordedEvent>,
}

/// What a successful write produced.
#[derive(Debug, serde::Serialize, schemars::JsonSchema)]
pub struct Written {
    /// The participant's study id.
    pub study_id: String,
    /// The participant's version after the write (send it as `expected_version` next).
    pub version: i64,
    /// The participant's state after the write.
    pub state: String,
    /// Kinds of the events recorded, in order.
    pub events: Vec<String>,
    /// The participant after the write.
    #[serde(skip)]
    #[schemars(skip)]
    pub participant: Box<Participant>,
    /// The events appended, in order.
    #[serde(skip)]
    #[schemars(skip)]
    pub appended: Vec<Event>,
}

/// The visits still to be done of a participant, as the visits read table keeps them: the
/// window and whether it is required; the list judges due or overdue on the day it is read.
pub fn visit_rows(study_id: &str, site: &str, p: &Participant, s: &Settings) -> Vec<VisitRow> {
    // The state of an undone visit depends on the day only; any day gives the same windows.
    let any_day = NaiveDate::MIN;
    visits(p, any_day, s)
        .into_iter()
        .filter(|v| v.done_on.is_none())
        .map(|v| VisitRow {
            study_id: study_id.to_string(),
            site: site.to_string(),
            kind: format!("{:?}", v.expected.kind),
            earliest: v.expected.window.earliest,
            latest: v.expected.window.latest,
            required: !v.expected.kind.optional(),
            detail: serde_json::to_value(&v.expected).unwrap_or_default(),
        })
        .collect()
}

/// The read rows of a participant: her snapshot and her open visits.
pub(crate) fn projections(
    study_id: &str,
    p: &Participant,
    version: i64,
    settings: &Settings,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<Projection>> {
    let site = p.site.clone().unwrap_or_default();
    let snapshot = serde_json::to_value(p).map_err(|e| Error::internal("writing a snapshot", e))?;
    let rows = visit_rows(study_id, &site, p, settings);
    Ok(vec![
        Projection::Participant(ParticipantRow {
            study_id: study_id.to_string(),
            site,
            state: p.state.name().to_string(),
            version,
            snapshot,
            updated_at: now,
        }),
        Projection::Visits {
            study_id: study_id.to_string(),
            rows,
        },
    ])
}

/// Encodes protocol events for the store.
pub(crate) fn encode(events: &[Event]) -> Result<Vec<NewEvent>> {
    events
        .iter()
        .map(|e| {
            serde_json::to_value(e)
                .map(|payload| NewEvent {
                    kind: e.kind().to_string(),
                    payload,
                })
                .map_err(|err| Error::internal("encoding an event", err))
        })
        .collect()
}

impl Trial {
    /// Loads and folds a participant's events.
    pub async fn load(&self, study_id: &str) -> Result<Loaded> {
        let events = self
            .store()
            .read_stream(&participant_stream(study_id))
            .await?;
        let decoded = events
            .iter()
            .map(decode_event)
            .collect::<Result<Vec<_>>>()?;
        let participant = protocol::fold(decoded.iter());
        let version = events.last().map(|e| e.version).unwrap_or(0);
        Ok(Loaded {
            participant,
            version,
            events,
        })
    }

    /// Runs one command through the write path as `actor`. Access was checked by the
    /// caller (see [`Trial::run_command`]); the command line writes as the operator.
    ///
    /// `expected_version` is the version the user saw; a stale one is refused with a
    /// conflict, never merged.
    pub async fn execute(
        &self,
        actor: &Actor,
        study_id: &str,
        expected_version: i64,
        command: &Command,
        reason: Option<String>,
    ) -> Result<Written> {
        let loaded = self.load(study_id).await?;
        let context = self.kept_context().await?;
        self.execute_on(
            actor,
            study_id,
            loaded,
            expected_version,
            command,
            reason,
            context,
        )
        .await
    }

    /// [`Trial::execute`] on a participant already loaded by the caller, under `context`
    /// (usually [`Trial::kept_context`]; a registration, which decides before it takes a
    /// study number, passes the one it decided under). The context may be one kept from
    /// earlier commands: when its settings or study-wide oversight moved since, the store
    /// refuses the append and the command is decided again under the current ones; a
    /// refusal is confirmed the same way.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn execute_on(
        &self,
        actor: &Actor,
        study_id: &str,
        loaded: Loaded,
        expected_version: i64,
        command: &Command,
        reason: Option<String>,
        mut context: Context,
    ) -> Result<Written> {
        if loaded.version != expected_version {
            return Err(Error::Conflict {
                expected: expected_version,
                actual: loaded.version,
            });
        }
        let now = self.now();
        let meta = actor.meta(now, reason);
        // Another process changing the settings or the lock in the middle of every try
        // is not a case to wait out: after a few, the last conflict is reported.
        let mut tries = 0;
        let (participant, events, version) = loop {
            tries += 1;
            let events = self
                .decide_confirmed(&mut context, |c| {
                    self.follow_zone(crate::clock::SiteZone(c.settings.site_time_zone.0));
                    protocol::decide_in(&loaded.participant, &c.study, command, now, &c.settings)
                })
                .await?;
            let settings = &context.settings;
            let mut participant = loaded.participant.clone();
            for e in &events {
                protocol::evolve(&mut participant, e);
            }
            let new_events = encode(&events)?;
            let version = expected_version + new_events.len() as i64;
            let rows = projections(study_id, &participant, version, settings, now)?;
            let appended = self
                .store()
                .append_unless_moved(
                    &participant_stream(study_id),
                    expected_version,
                    &new_events,
                    &meta,
                    &rows,
                    &context.unchanged(),
                )
                .await;
            match appended {
                Ok(_) => break (participant, events, version),
                Err(store::StoreError::Conflict { stream, .. })
                    if Context::is_folded_from(&stream) && tries < DECISION_TRIES =>
                {
                    context = self.current_context().await?;
                }
                Err(e) => return Err(e.into()),
            }
        };
        Ok(Written {
            study_id: study_id.to_string(),
            version,
            state: participant.state.name().to_string(),
            events: events.iter().map(|e| e.kind().to_string()).collect(),
            participant: Box::new(participant),
            appended: events,
        })
    }
}
