//! Rows as they come out of the database, and their conversion into the model types.
//!
//! Both backends select the same columns into the same tuples, so the conversion lives
//! here once.

use chrono::NaiveDate;

use crate::error::StoreError;
use crate::hash::parse_timestamp;
use crate::lists::ParticipantListRow;
use crate::model::{
    CredentialRow, EventMeta, ParticipantRow, RecordedEvent, SessionAccount, SessionRow, SiteRow,
    UserRow, VisitRow,
};

/// Columns of `events`, in the order of [`EventTuple`].
macro_rules! event_columns {
    () => {
        "seq, stream, version, kind, payload, actor, role, site, recorded_at, reason, \
         prev_hash, hash"
    };
}
pub(crate) use event_columns;

/// One `events` row, undecoded: `(seq, stream, version, kind, payload, actor, role, site,
/// recorded_at, reason, prev_hash, hash)`.
pub(crate) type EventTuple = (
    i64,
    String,
    i64,
    String,
    String,
    String,
    String,
    Option<String>,
    String,
    Option<String>,
    String,
    String,
);

/// One `events` row with its stored text, before JSON and time are parsed.
#[derive(Clone, Debug)]
pub(crate) struct RawEvent {
    pub seq: i64,
    pub stream: String,
    pub version: i64,
    pub kind: String,
    pub payload: String,
    pub actor: String,
    pub role: String,
    pub site: Option<String>,
    pub recorded_at: String,
    pub reason: Option<String>,
    pub prev_hash: String,
    pub hash: String,
}

impl From<EventTuple> for RawEvent {
    fn from(t: EventTuple) -> Self {
        let (
            seq,
            stream,
            version,
            kind,
            payload,
            actor,
            role,
            site,
            recorded_at,
            reason,
            prev_hash,
            hash,
        ) = t;
        RawEvent {
            seq,
            stream,
            version,
            kind,
            payload,
            actor,
            role,
            site,
            recorded_at,
            reason,
            prev_hash,
            hash,
        }
    }
}

impl RawEvent {
    /// Parses the stored payload and timestamp.
    pub(crate) fn decode(self) -> Result<RecordedEvent, StoreError> {
        let payload = parse_json(&self.payload, || {
            format!("payload of event seq {}", self.seq)
        })?;
        let recorded_at = time(&self.recorded_at, || {
            format!("recorded_at of event seq {}", self.seq)
        })?;
        Ok(RecordedEvent {
            seq: self.seq,
            stream: self.stream,
            version: self.version,
            kind: self.kind,
            payload,
            meta: EventMeta {
                actor: self.actor,
                role: self.role,
                site: self.site,
                recorded_at,
                reason: self.reason,
            },
            prev_hash: self.prev_hash,
            hash: self.hash,
        })
    }
}

/// Columns of `participants`, in the order of [`ParticipantTuple`].
macro_rules! participant_columns {
    () => {
        "study_id, site, state, version, snapshot, updated_at"
    };
}
pub(crate) use participant_columns;

/// One `participants` row, undecoded.
pub(crate) type ParticipantTuple = (String, String, String, i64, String, String);

pub(crate) fn participant(t: ParticipantTuple) -> Result<ParticipantRow, StoreError> {
    let (study_id, site, state, version, snapshot, updated_at) = t;
    let snapshot = parse_json(&snapshot, || format!("snapshot of participant {study_id}"))?;
    let updated_at = time(&updated_at, || {
        format!("updated_at of participant {study_id}")
    })?;
    Ok(ParticipantRow {
        study_id,
        site,
        state,
        version,
        snapshot,
        updated_at,
    })
}

/// Columns of `participants` the list shows (no snapshot), in the order of
/// [`ParticipantListTuple`].
macro_rules! participant_list_columns {
    () => {
        "study_id, site, state, version, updated_at"
    };
}
pub(crate) use participant_list_columns;

/// One participant list row, undecoded.
pub(crate) type ParticipantListTuple = (String, String, String, i64, String);

pub(crate) fn participant_list_row(
    t: ParticipantListTuple,
) -> Result<ParticipantListRow, StoreError> {
    let (study_id, site, state, version, updated_at) = t;
    let updated_at = time(&updated_at, || {
        format!("updated_at of participant {study_id}")
    })?;
    Ok(ParticipantListRow {
        study_id,
        site,
        state,
        version,
        updated_at,
    })
}

/// Columns of `visits`, in the order of [`VisitTuple`].
macro_rules! visit_columns {
    () => {
        "study_id, site, kind, earliest, latest, required, detail"
    };
}
pub(crate) use visit_columns;

/// One `visits` row, undecoded.
pub(crate) type VisitTuple = (String, String, String, NaiveDate, NaiveDate, bool, String);

pub(crate) fn visit(t: VisitTuple) -> Result<VisitRow, StoreError> {
    let (study_id, site, kind, earliest, latest, required, detail) = t;
    let detail = parse_json(&detail, || {
        format!("detail of visit {kind} of participant {study_id}")
    })?;
    Ok(VisitRow {
        study_id,
        site,
        kind,
        earliest,
        latest,
        required,
        detail,
    })
}

/// One `sites` row.
pub(crate) type SiteTuple = (String, String);

pub(crate) fn site((code, name): SiteTuple) -> SiteRow {
    SiteRow { code, name }
}

/// Columns of `users`, in the order of [`UserTuple`].
macro_rules! user_columns {
    () => {
        "username, display_name, role, site, active, locked"
    };
}
pub(crate) use user_columns;

/// One `users` row.
pub(crate) type UserTuple = (String, String, String, Option<String>, bool, bool);

pub(crate) fn user(t: UserTuple) -> UserRow {
    let (username, display_name, role, site, active, locked) = t;
    UserRow {
        username,
        display_name,
        role,
        site,
        active,
        locked,
    }
}

/// Columns of `credentials`, in the order of [`CredentialTuple`].
macro_rules! credential_columns {
    () => {
        "username, password_hash, must_change, failures"
    };
}
pub(crate) use credential_columns;

/// One `credentials` row.
pub(crate) type CredentialTuple = (String, String, bool, i64);

pub(crate) fn credential(t: CredentialTuple) -> CredentialRow {
    let (username, password_hash, must_change, failures) = t;
    CredentialRow {
        username,
        password_hash,
        must_change,
        failures,
    }
}

/// Columns of `sessions`, in the order of [`SessionTuple`].
macro_rules! session_columns {
    () => {
        "token_hash, username, csrf_token, created_at, expires_at, last_seen_at"
    };
}
pub(crate) use session_columns;

/// One `sessions` row, undecoded.
pub(crate) type SessionTuple = (String, String, String, String, String, String);

pub(crate) fn session(t: SessionTuple) -> Result<SessionRow, StoreError> {
    let (token_hash, username, csrf_token, created_at, expires_at, last_seen_at) = t;
    let created_at = time(&created_at, || "created_at of a session".to_owned())?;
    let expires_at = time(&expires_at, || "expires_at of a session".to_owned())?;
    let last_seen_at = time(&last_seen_at, || "last_seen_at of a session".to_owned())?;
    Ok(SessionRow {
        token_hash,
        username,
        csrf_token,
        created_at,
        expires_at,
        last_seen_at,
    })
}

/// One session joined with its user and credential (see `session_account`), undecoded.
pub(crate) type SessionAccountTuple = (
    String,
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<bool>,
    Option<bool>,
    Option<bool>,
);

pub(crate) fn session_account(t: SessionAccountTuple) -> Result<SessionAccount, StoreError> {
    let (hash, username, csrf, created, expires, seen, name, role, site, active, locked, must) = t;
    let session = session((hash, username.clone(), csrf, created, expires, seen))?;
    let user = match (name, role, active, locked) {
        (Some(display_name), Some(role), Some(active), Some(locked)) => Some(UserRow {
            username,
            display_name,
            role,
            site,
            active,
            locked,
        }),
        _ => None,
    };
    Ok(SessionAccount {
        session,
        user,
        must_change_password: must.unwrap_or(false),
    })
}

fn parse_json(text: &str, what: impl FnOnce() -> String) -> Result<serde_json::Value, StoreError> {
    serde_json::from_str(text)
        .map_err(|e| StoreError::Corrupt(format!("{} is not valid JSON: {e}", what())))
}

fn time(
    text: &str,
    what: impl FnOnce() -> String,
) -> Result<chrono::DateTime<chrono::Utc>, StoreError> {
    parse_timestamp(text).map_err(|e| {
        StoreError::Corrupt(format!(
            "{} is not an RFC 3339 time ({text:?}): {e}",
            what()
        ))
    })
}
