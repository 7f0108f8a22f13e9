//! What the trial layer hands in: the participants' recorded events with their audit
//! facts, cut at a data cut-off, and the study's facts the report and exports name.
//!
//! Everything the analyses and exports compute is derived from these values, never from
//! pages or read tables, so a report can be reproduced from the same log prefix.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One recorded event of a participant's stream with the audit facts the store keeps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditedEvent {
    /// The protocol event.
    pub event: protocol::Event,
    /// Global sequence number in the audit log.
    pub seq: i64,
    /// The stream's version after this event (1 for the stream's first event).
    pub version: i64,
    /// Username of the author.
    pub actor: String,
    /// The role the author acted in.
    pub role: String,
    /// The site the author acted for, if any.
    pub site: Option<String>,
    /// When the event was recorded.
    pub recorded_at: DateTime<Utc>,
    /// Why (corrections, unlocks), if given.
    pub reason: Option<String>,
    /// The event's hash in the audit chain.
    pub hash: String,
}

/// A participant as of the data cut-off: her stream's events up to it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParticipantSource {
    /// Study id, e.g. `KS-001`.
    pub study_id: String,
    /// Site code, e.g. `KS`.
    pub site: String,
    /// Her events in stream order, none after the cut-off.
    pub events: Vec<AuditedEvent>,
}

impl ParticipantSource {
    /// The participant folded from her events.
    pub fn participant(&self) -> protocol::Participant {
        protocol::fold(self.events.iter().map(|e| &e.event))
    }
}

/// A site of the study.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteInfo {
    /// Site code, e.g. `KS`.
    pub code: String,
    /// Hospital name.
    pub name: String,
}

/// A user account, as the exports' administrative data name it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserInfo {
    /// Username (the author named in audit records).
    pub username: String,
    /// Name shown to people.
    pub display_name: String,
    /// Role id, e.g. `investigator`.
    pub role: String,
    /// Site code for site roles.
    pub site: Option<String>,
}

/// The facts that pin down what a report or an export was computed from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CutOff {
    /// Only events recorded at or before this time are included.
    pub as_of: DateTime<Utc>,
    /// Sequence number of the last event included (0 for an empty log).
    pub head_seq: i64,
    /// Hash of the last event included: the audit chain head the output rests on.
    pub head_hash: String,
    /// Settings version in force at the cut-off.
    pub settings_version: u32,
    /// Protocol version of the rules.
    pub protocol_version: String,
    /// her2ex version that computed the output.
    pub software_version: String,
}

/// The study's facts beside the participants.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StudyInfo {
    /// Study OID / short name, e.g. `HER2-EX`.
    pub study_oid: String,
    /// Full study name.
    pub name: String,
    /// Protocol name (registration id).
    pub protocol_name: String,
    /// The sites.
    pub sites: Vec<SiteInfo>,
    /// The users.
    pub users: Vec<UserInfo>,
    /// What the output rests on.
    pub cut_off: CutOff,
}
