//! The values that go into and come out of the store.
//!
//! The store does not know the protocol's types: an event is a `kind` string and a JSON
//! payload, and the read rows are plain records the caller fills in.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// Which database engine a [`crate::Store`] runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Backend {
    /// Embedded SQLite (WAL, `synchronous=FULL`): the zero-set-up default.
    Sqlite,
    /// A PostgreSQL server, for multi-site production.
    Postgres,
}

/// An event to append: what happened, as a kind and its data.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NewEvent {
    /// The event's type name, e.g. `ConsentRecorded`.
    pub kind: String,
    /// The event's data. Stored and hashed in canonical form (sorted keys, no whitespace).
    pub payload: serde_json::Value,
}

/// Who wrote an append, when, where and why: stored with every event of the append.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventMeta {
    /// Username of the person (or system account) that issued the command.
    pub actor: String,
    /// The role the actor acted in.
    pub role: String,
    /// The site the actor acted for, if any (sponsor staff act for no single site).
    pub site: Option<String>,
    /// When the command was recorded. Stored with microsecond precision: finer parts are
    /// truncated on write, so the value read back is the value that was hashed.
    pub recorded_at: DateTime<Utc>,
    /// Why the change was made (required by the protocol for corrections).
    pub reason: Option<String>,
}

/// An event as stored: its place in the global log and in its stream, and its hash link.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RecordedEvent {
    /// Global sequence number: 1, 2, 3, … without gaps, in commit order.
    pub seq: i64,
    /// The stream (aggregate) the event belongs to, e.g. a participant's study id.
    pub stream: String,
    /// Version of the stream after this event: 1 for the stream's first event.
    pub version: i64,
    /// The event's type name.
    pub kind: String,
    /// The event's data.
    pub payload: serde_json::Value,
    /// Who, when, where, why.
    pub meta: EventMeta,
    /// Hash of the previous event in the global log (64 zeros for the first event).
    pub prev_hash: String,
    /// This event's hash (see [`crate::hash`] for the exact format).
    pub hash: String,
}

/// What a successful append wrote.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Appended {
    /// The stream's version after the append.
    pub stream_version: i64,
    /// Global sequence number of the first event written.
    pub first_seq: i64,
    /// Global sequence number of the last event written.
    pub last_seq: i64,
    /// Hash of the last event written: the new head of the chain.
    pub head_hash: String,
}

/// A read-row change applied in the same transaction as the events that caused it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Projection {
    /// Insert or replace the participant row with this `study_id`.
    Participant(ParticipantRow),
    /// Insert or replace the site row with this `code`.
    Site(SiteRow),
    /// Insert or replace the user row with this `username`.
    User(UserRow),
    /// Insert or replace the credentials of `username` (the password hash lives only
    /// there, never in an event).
    Credential(CredentialRow),
    /// Replace all visit rows of the participant `study_id` with `rows` (none: the
    /// participant has no open visits). Every row must carry the same `study_id`, and
    /// no two rows the same `kind`.
    Visits {
        /// The participant whose visits these are.
        study_id: String,
        /// The participant's visits still to be done, in any order.
        rows: Vec<VisitRow>,
    },
}

/// A participant's current state, derived from their events.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ParticipantRow {
    /// The participant's study id.
    pub study_id: String,
    /// Code of the site that enrolled the participant.
    pub site: String,
    /// Name of the participant's state, e.g. `Screening`.
    pub state: String,
    /// Stream version this row reflects (at least 1).
    pub version: i64,
    /// The full folded state, as JSON, for pages and reports.
    pub snapshot: serde_json::Value,
    /// When the row last changed (stored with microsecond precision).
    pub updated_at: DateTime<Utc>,
}

/// One visit of a participant's schedule that is still to be done, with its window.
///
/// The caller derives these from the participant's state and the study settings and
/// leaves out the visits that are done; [`crate::Store::open_visits`] sorts the rest
/// into overdue, due and upcoming.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VisitRow {
    /// The participant's study id.
    pub study_id: String,
    /// Code of the participant's site.
    pub site: String,
    /// Which visit of the schedule, e.g. `PET2`: unique within a participant.
    pub kind: String,
    /// First day of the visit window.
    pub earliest: NaiveDate,
    /// Last day of the visit window (not before `earliest`).
    pub latest: NaiveDate,
    /// Whether the protocol requires the visit: a required visit past its window is
    /// overdue, an optional one was skipped and is no longer listed.
    pub required: bool,
    /// What a page shows about the visit, as the caller chooses (stored as canonical JSON).
    pub detail: serde_json::Value,
}

/// One participant's visit rows for [`crate::Store::rebuild_visits`], and the version of
/// the participant row they were computed from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VisitSchedule {
    /// The participant whose visits these are.
    pub study_id: String,
    /// `version` of the participant row (see [`ParticipantRow::version`]) the rows were
    /// derived from: if the participant has moved on since, the rebuild is refused.
    pub version: i64,
    /// The participant's visits still to be done (they replace all stored ones).
    pub rows: Vec<VisitRow>,
}

/// One stream's share of [`crate::Store::append_batch`]: the arguments of one
/// [`crate::Store::append`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StreamAppend {
    /// The stream to append to.
    pub stream: String,
    /// The version the stream must be at when this part is applied (0: a new stream).
    /// A stream may appear more than once in a batch; each part sees the earlier ones.
    pub expected_version: i64,
    /// The events to record (at least one).
    pub events: Vec<NewEvent>,
    /// Who, when, where, why, for every event of this part.
    pub meta: EventMeta,
    /// Read-row changes applied with this part's events.
    pub projections: Vec<Projection>,
}

/// A trial site.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteRow {
    /// Short site code, e.g. `SE01`.
    pub code: String,
    /// The site's name, for people.
    pub name: String,
}

/// A user account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRow {
    /// Login name.
    pub username: String,
    /// Name shown on pages and in the audit trail.
    pub display_name: String,
    /// The user's role.
    pub role: String,
    /// The site the user belongs to, if any.
    pub site: Option<String>,
    /// Whether the account may sign in (an administrator deactivates and reactivates).
    pub active: bool,
    /// Whether the account is locked after failed password checks, until an
    /// administrator unlocks it.
    pub locked: bool,
}

/// A user's password, kept outside the event log: the log records only that a password
/// was set, by whom and when.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialRow {
    /// Login name.
    pub username: String,
    /// Password hash (PHC string); never the password.
    pub password_hash: String,
    /// Whether the password must be changed at the next sign-in (set by an administrator's
    /// reset, and on every password moved out of the log by migration 0005).
    pub must_change: bool,
    /// Failed password checks since the last success, unlock or new password.
    pub failures: i64,
}

impl std::fmt::Debug for CredentialRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The hash stays out of logs and panic messages.
        f.debug_struct("CredentialRow")
            .field("username", &self.username)
            .field("must_change", &self.must_change)
            .field("failures", &self.failures)
            .finish_non_exhaustive()
    }
}

/// A login session. Infrastructure, not trial data: kept outside the event log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionRow {
    /// Hash of the session token (the token itself is only in the browser's cookie).
    pub token_hash: String,
    /// The logged-in user (must exist in the users table).
    pub username: String,
    /// Token that forms must echo back.
    pub csrf_token: String,
    /// When the session started (stored with microsecond precision).
    pub created_at: DateTime<Utc>,
    /// When the session stops being valid (stored with microsecond precision).
    pub expires_at: DateTime<Utc>,
    /// When the session was last used: it ends after a stretch of inactivity.
    pub last_seen_at: DateTime<Utc>,
}

/// A login session with what a request needs to know of its user, read in one statement
/// ([`crate::Store::session_account`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionAccount {
    /// The session.
    pub session: SessionRow,
    /// Its user's read row; `None` if the user is gone from the users table.
    pub user: Option<UserRow>,
    /// Whether the user must change her password before anything else.
    pub must_change_password: bool,
}

/// The result of walking the whole hash chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainReport {
    /// How many events were read and re-hashed.
    pub events_checked: u64,
    /// The hash of the last event as stored (64 zeros for an empty log).
    pub head_hash: String,
    /// The first event whose stored values do not match the chain, if any.
    pub first_bad: Option<BadEvent>,
}

impl ChainReport {
    /// Whether every event re-hashed to its stored hash and every link held.
    pub fn is_intact(&self) -> bool {
        self.first_bad.is_none()
    }
}

/// Where the chain breaks, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BadEvent {
    /// Global sequence number of the first bad event.
    pub seq: i64,
    /// Its stream (empty if the event itself is missing from the log's end).
    pub stream: String,
    /// Its version in the stream (0 if the event itself is missing from the log's end).
    pub version: i64,
    /// What does not match, for a person to act on.
    pub reason: String,
}
