//! The one write path for participants (ARCHITECTURE.md, "How a change flows"):
//! load the participant's events, fold them, let the protocol decide, and append the
//! resulting events with the read-table update in one transaction.

use chrono::{DateTime, Utc};
use protocol::{Command, Event, Participant};
use store::{EventMeta, NewEvent, ParticipantRow, Projection, RecordedEvent, Store};

use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::ApiError;

/// Who writes: recorded with every event.
#[derive(Debug, Clone)]
pub struct Actor {
    /// User name (or `system:…` for the command line).
    pub username: String,
    /// Role id.
    pub role: String,
    /// Site of a site-bound user.
    pub site: Option<String>,
}

impl Actor {
    /// The operator at the command line of the server host.
    pub fn command_line() -> Actor {
        Actor {
            username: "system:command-line".into(),
            role: "admin".into(),
            site: None,
        }
    }

    /// The audit metadata of a write by this actor.
    pub fn meta(&self, at: DateTime<Utc>, reason: Option<String>) -> EventMeta {
        EventMeta {
            actor: self.username.clone(),
            role: self.role.clone(),
            site: self.site.clone(),
            recorded_at: at,
            reason: reason.filter(|r| !r.trim().is_empty()),
        }
    }
}

impl From<&CurrentUser> for Actor {
    fn from(u: &CurrentUser) -> Self {
        Actor {
            username: u.username.clone(),
            role: u.role.id().to_string(),
            site: u.site.clone(),
        }
    }
}

/// The event stream of a participant.
pub fn participant_stream(study_id: &str) -> String {
    format!("participant/{study_id}")
}

/// Turns a stored event back into a protocol event.
pub fn decode_event(e: &RecordedEvent) -> Result<Event, ApiError> {
    serde_json::from_value(e.payload.clone()).map_err(|err| {
        ApiError::internal(
            "decoding stored event",
            format!("{} v{} ({}): {err}", e.stream, e.version, e.kind),
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

/// Loads and folds a participant's events.
pub async fn load(store: &Store, study_id: &str) -> Result<Loaded, ApiError> {
    let events = store.read_stream(&participant_stream(study_id)).await?;
    let decoded = events
        .iter()
        .map(decode_event)
        .collect::<Result<Vec<_>, _>>()?;
    let participant = protocol::fold(decoded.iter());
    let version = events.last().map(|e| e.version).unwrap_or(0);
    Ok(Loaded {
        participant,
        version,
        events,
    })
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
}

/// Runs one command through the write path.
///
/// `expected_version` is the version the user saw; a stale one is refused with a
/// conflict (HTTP 409), never merged.
pub async fn execute(
    state: &AppState,
    actor: &Actor,
    study_id: &str,
    expected_version: i64,
    command: &Command,
    reason: Option<String>,
) -> Result<Written, ApiError> {
    let loaded = load(&state.store, study_id).await?;
    if loaded.version != expected_version {
        return Err(ApiError::Conflict {
            expected: expected_version,
            actual: loaded.version,
        });
    }
    let now = Utc::now();
    let settings = crate::admin::load_settings(&state.store).await?;
    let events = protocol::decide(&loaded.participant, command, now, &settings)?;
    let mut participant = loaded.participant;
    for e in &events {
        protocol::evolve(&mut participant, e);
    }
    let new_events = events
        .iter()
        .map(|e| {
            serde_json::to_value(e)
                .map(|payload| NewEvent {
                    kind: e.kind().to_string(),
                    payload,
                })
                .map_err(|err| ApiError::internal("encoding event", err))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let version = expected_version + new_events.len() as i64;
    let site = participant.site.clone().unwrap_or_default();
    let snapshot =
        serde_json::to_value(&participant).map_err(|e| ApiError::internal("snapshot", e))?;
    let row = ParticipantRow {
        study_id: study_id.to_string(),
        site,
        state: participant.state.name().to_string(),
        version,
        snapshot,
        updated_at: now,
    };
    state
        .store
        .append(
            &participant_stream(study_id),
            expected_version,
            &new_events,
            &actor.meta(now, reason),
            &[Projection::Participant(row)],
        )
        .await?;
    Ok(Written {
        study_id: study_id.to_string(),
        version,
        state: participant.state.name().to_string(),
        events: events.iter().map(|e| e.kind().to_string()).collect(),
    })
}

/// The body of a registration: the server assigns the study id.
#[derive(Debug, Clone, serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Registration {
    /// Site code; site-bound users may leave it out (their own site is used).
    #[serde(default)]
    pub site: Option<String>,
    /// Year of birth (never the birth date).
    pub year_of_birth: i32,
    /// Sex as recorded.
    pub sex: protocol::Sex,
}

/// Registers a participant under the next free study id of the site (`KS-014`).
pub async fn register(
    state: &AppState,
    actor: &Actor,
    site: &str,
    reg: &Registration,
) -> Result<Written, ApiError> {
    if state.store.site(site).await?.is_none() {
        return Err(ApiError::NotFound(format!("no site {site}")));
    }
    let mut number = state.store.count_participants(site).await? + 1;
    // Another registration may take the number first: the store refuses the second
    // (the stream exists), and we move past every number taken meanwhile.
    for _ in 0..100 {
        let study_id = format!("{site}-{number:03}");
        let command = Command::RegisterParticipant(protocol::RegisterParticipant {
            site: site.to_string(),
            study_id: study_id.clone(),
            year_of_birth: reg.year_of_birth,
            sex: reg.sex,
        });
        match execute(state, actor, &study_id, 0, &command, None).await {
            Err(ApiError::Conflict { .. }) => {
                let taken = state.store.count_participants(site).await?;
                number = (number + 1).max(taken + 1);
            }
            other => return other,
        }
    }
    Err(ApiError::internal(
        "registration",
        format!("no free study id at {site} after 100 tries"),
    ))
}
