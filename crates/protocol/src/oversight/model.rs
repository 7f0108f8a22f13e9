//! The oversight state of a participant: her queries, the verification of her entries,
//! the freezes and locks on her data and the investigator's signatures on her casebook.
//! Folded from the same events as everything else, so it is exactly what the audit trail
//! holds.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::command::DeviationCategory;
use crate::records::ESignature;
use crate::roles::Role;

/// Who did an oversight act: the user and the role they acted in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Staff {
    /// User name.
    pub user: String,
    /// The role they acted in.
    pub role: Role,
}

impl Staff {
    /// A member of staff.
    pub fn new(user: impl Into<String>, role: Role) -> Staff {
        Staff {
            user: user.into(),
            role,
        }
    }
}

/// The address of a recorded datum: an entry (the id corrections name) and, optionally,
/// one field of it (`value`, `unit`, `sample_at`…). The participant is the stream.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
pub struct DataPoint {
    /// Entry id, e.g. `lab-3`.
    pub entry_id: String,
    /// Field of the entry, when the query is about one field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

/// Where a query is in its life (PROTOCOL §12): Open → Answered → Closed, with requery
/// (Answered → Open) and cancel (Open → Cancelled). Closed and Cancelled are final.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum QueryStatus {
    /// Waiting for the site.
    Open,
    /// The site answered; waiting for the raiser to close or requery.
    Answered,
    /// Resolved.
    Closed,
    /// Withdrawn by the raiser before an answer.
    Cancelled,
}

impl QueryStatus {
    /// The status as people read it.
    pub fn label(self) -> &'static str {
        match self {
            QueryStatus::Open => "open",
            QueryStatus::Answered => "answered",
            QueryStatus::Closed => "closed",
            QueryStatus::Cancelled => "cancelled",
        }
    }

    /// Whether the query still needs someone's work.
    pub fn is_active(self) -> bool {
        matches!(self, QueryStatus::Open | QueryStatus::Answered)
    }
}

/// The edit checks the system runs on every change; each raises an automatic query that
/// closes itself when the data are corrected.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum EditCheck {
    /// A lab value possible but outside its plausibility range ([`crate::Analyte::plausibility`]).
    LabUnusual,
    /// A dated procedure recorded outside its visit window (a window deviation names it).
    VisitWindow,
    /// A datum the trial needs but the form let pass empty: the resolution date of a
    /// recovered adverse event, the scan start of a PET exam.
    MissingDatum,
}

impl EditCheck {
    /// The check's id, as shown beside the query.
    pub fn id(self) -> &'static str {
        match self {
            EditCheck::LabUnusual => "LAB_UNUSUAL",
            EditCheck::VisitWindow => "VISIT_WINDOW",
            EditCheck::MissingDatum => "MISSING_DATUM",
        }
    }
}

/// Who raised a query.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "origin", rename_all = "snake_case")]
pub enum QueryOrigin {
    /// A monitor or data manager.
    Manual {
        /// Who.
        by: Staff,
    },
    /// The system, from an edit check.
    Automatic {
        /// Which check.
        check: EditCheck,
    },
}

/// One step in a query's conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct QueryMessage {
    /// When.
    pub at: DateTime<Utc>,
    /// Who (none: the system).
    pub by: Option<Staff>,
    /// The status the step led to.
    pub status: QueryStatus,
    /// What they wrote.
    pub text: String,
    /// The entry that corrected the data point with this step, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correction: Option<String>,
}

/// A query on a data point.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Query {
    /// Id, e.g. `q-3`.
    pub query_id: String,
    /// The datum queried.
    pub point: DataPoint,
    /// Who raised it.
    pub origin: QueryOrigin,
    /// When raised.
    pub raised_at: DateTime<Utc>,
    /// Where it is now.
    pub status: QueryStatus,
    /// The conversation, oldest first; the first message is the question.
    pub messages: Vec<QueryMessage>,
}

impl Query {
    /// The role that raised it (none: the system).
    pub fn raiser_role(&self) -> Option<Role> {
        match &self.origin {
            QueryOrigin::Manual { by } => Some(by.role),
            QueryOrigin::Automatic { .. } => None,
        }
    }

    /// The question.
    pub fn text(&self) -> &str {
        self.messages.first().map(|m| m.text.as_str()).unwrap_or("")
    }

    /// The edit check behind an automatic query.
    pub fn check(&self) -> Option<EditCheck> {
        match &self.origin {
            QueryOrigin::Automatic { check } => Some(*check),
            QueryOrigin::Manual { .. } => None,
        }
    }
}

/// Source data verification of one entry (PROTOCOL §12).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "sdv", rename_all = "snake_case")]
pub enum SdvState {
    /// Not verified yet (entries without a mark are in this state).
    NotVerified,
    /// Verified against the source.
    Verified {
        /// By whom.
        by: String,
        /// When.
        at: DateTime<Utc>,
    },
    /// Verified once, then changed (corrected or retracted): verify again.
    ChangedSinceVerified {
        /// Who verified the earlier value.
        verified_by: String,
        /// When.
        verified_at: DateTime<Utc>,
        /// When it changed.
        changed_at: DateTime<Utc>,
    },
}

impl SdvState {
    /// The state as people read it.
    pub fn label(&self) -> &'static str {
        match self {
            SdvState::NotVerified => "not verified",
            SdvState::Verified { .. } => "verified",
            SdvState::ChangedSinceVerified { .. } => "changed since verified",
        }
    }

    /// Whether it is verified now.
    pub fn is_verified(&self) -> bool {
        matches!(self, SdvState::Verified { .. })
    }
}

/// The visits the oversight acts address: each entry and each fact belongs to one
/// ([`crate::oversight::visit_of_entry`]).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Visit {
    /// Consent and everything recorded before the enrolment decision.
    Screening,
    /// PET1, the study biopsy, its pathology report and the allocation.
    Baseline,
    /// The response PET (arm 1).
    Pet2,
    /// The optional PET at progression (arm 1).
    Pet3,
    /// Treatment and follow-up: T-DXd, adverse events, labs, tumour assessments.
    FollowUp,
    /// End of participation.
    End,
}

impl Visit {
    /// Every visit in the order of the journey.
    pub const ALL: [Visit; 6] = [
        Visit::Screening,
        Visit::Baseline,
        Visit::Pet2,
        Visit::Pet3,
        Visit::FollowUp,
        Visit::End,
    ];

    /// The visit's id (`screening`, `baseline`…).
    pub fn id(self) -> &'static str {
        match self {
            Visit::Screening => "screening",
            Visit::Baseline => "baseline",
            Visit::Pet2 => "pet2",
            Visit::Pet3 => "pet3",
            Visit::FollowUp => "follow_up",
            Visit::End => "end",
        }
    }

    /// The visit as people name it.
    pub fn label(self) -> &'static str {
        match self {
            Visit::Screening => "Screening",
            Visit::Baseline => "Baseline (PET1, biopsy, allocation)",
            Visit::Pet2 => "PET2",
            Visit::Pet3 => "PET3",
            Visit::FollowUp => "Treatment and follow-up",
            Visit::End => "End of participation",
        }
    }

    /// Parses a visit id.
    pub fn parse(s: &str) -> Option<Visit> {
        Visit::ALL.into_iter().find(|v| v.id() == s)
    }
}

/// What a freeze, a lock or a signature covers.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "scope", rename_all = "snake_case")]
pub enum Scope {
    /// One entry (and its corrections).
    Entry {
        /// Entry id.
        entry_id: String,
    },
    /// Every entry of one form (entry kind: `lab`, `lesion`…).
    Form {
        /// The form's entry prefix.
        form: String,
    },
    /// Everything of one visit.
    Visit {
        /// The visit.
        visit: Visit,
    },
    /// The participant's whole casebook.
    Participant,
    /// Every participant of the study.
    Study,
}

impl Scope {
    /// The scope in words.
    pub fn describe(&self) -> String {
        match self {
            Scope::Entry { entry_id } => format!("entry {entry_id}"),
            Scope::Form { form } => format!("form {form}"),
            Scope::Visit { visit } => format!("visit {}", visit.label()),
            Scope::Participant => "the participant's casebook".into(),
            Scope::Study => "the whole study".into(),
        }
    }
}

/// How far data are held.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum HoldLevel {
    /// No data changes; queries and verification still allowed.
    Frozen,
    /// No changes, no queries, no verification.
    Locked,
}

impl HoldLevel {
    /// The level as people read it.
    pub fn label(self) -> &'static str {
        match self {
            HoldLevel::Frozen => "frozen",
            HoldLevel::Locked => "locked",
        }
    }
}

/// A freeze or lock in force.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Hold {
    /// What it covers.
    pub scope: Scope,
    /// Frozen or locked.
    pub level: HoldLevel,
    /// Who set it at this level.
    pub by: Staff,
    /// When.
    pub at: DateTime<Utc>,
}

/// What an investigator signs.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "signs", rename_all = "snake_case")]
pub enum SignScope {
    /// The participant's whole casebook.
    Casebook,
    /// One visit.
    Visit {
        /// The visit.
        visit: Visit,
    },
}

impl SignScope {
    /// The scope in words.
    pub fn describe(&self) -> String {
        match self {
            SignScope::Casebook => "casebook".into(),
            SignScope::Visit { visit } => format!("visit {}", visit.label()),
        }
    }
}

/// An investigator's signature on a casebook or a visit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CasebookSignature {
    /// What was signed.
    pub scope: SignScope,
    /// The signature.
    pub signature: ESignature,
    /// When it was recorded.
    pub recorded_at: DateTime<Utc>,
    /// Set when a later change or unlock voided it: the page asks for a new signature.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voided: Option<Voided>,
}

/// Why and when a signature was voided.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Voided {
    /// When.
    pub at: DateTime<Utc>,
    /// What voided it, in words.
    pub because: String,
}

/// Where a deviation is in its review.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum DeviationStatus {
    /// Recorded, not yet assessed.
    #[default]
    Open,
    /// Assessed (impact judged); still to close.
    Assessed,
    /// Closed.
    Closed,
}

impl DeviationStatus {
    /// The status as people read it.
    pub fn label(self) -> &'static str {
        match self {
            DeviationStatus::Open => "open",
            DeviationStatus::Assessed => "assessed",
            DeviationStatus::Closed => "closed",
        }
    }
}

/// A deviation's review: its status and the notes that moved it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct DeviationReview {
    /// Where it is.
    pub status: DeviationStatus,
    /// The category, for a deviation recorded by hand.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<DeviationCategory>,
    /// Who recorded it by hand (none: the system raised it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reported_by: Option<Staff>,
    /// The assessments, oldest first.
    pub notes: Vec<DeviationNote>,
}

/// One assessment of a deviation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct DeviationNote {
    /// When.
    pub at: DateTime<Utc>,
    /// Who.
    pub by: Staff,
    /// The status it set.
    pub status: DeviationStatus,
    /// The assessment.
    pub note: String,
}

/// Everything the study's oversight recorded about a participant.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Oversight {
    /// Queries in the order raised.
    pub queries: Vec<Query>,
    /// Verification marks by entry id; an entry without one is not verified.
    pub sdv: BTreeMap<String, SdvState>,
    /// Freezes and locks in force on this participant's data.
    pub holds: Vec<Hold>,
    /// Casebook and visit signatures, oldest first (voided ones stay, marked).
    pub signatures: Vec<CasebookSignature>,
    /// The review of deviations by deviation id; a deviation without one is open.
    pub deviation_reviews: BTreeMap<String, DeviationReview>,
}

impl Oversight {
    /// The verification state of an entry.
    pub fn sdv_of(&self, entry_id: &str) -> SdvState {
        self.sdv
            .get(entry_id)
            .cloned()
            .unwrap_or(SdvState::NotVerified)
    }

    /// A query by id.
    pub fn query(&self, id: &str) -> Option<&Query> {
        self.queries.iter().find(|q| q.query_id == id)
    }

    /// The signatures in force (not voided).
    pub fn valid_signatures(&self) -> impl Iterator<Item = &CasebookSignature> {
        self.signatures.iter().filter(|s| s.voided.is_none())
    }

    /// The status of a deviation.
    pub fn deviation_status(&self, id: &str) -> DeviationStatus {
        self.deviation_reviews
            .get(id)
            .map(|r| r.status)
            .unwrap_or_default()
    }
}

/// The study-wide oversight: freezes and locks of the whole study, folded from the study's
/// own stream.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct StudyOversight {
    /// The study-wide hold in force, if any.
    pub hold: Option<Hold>,
}
