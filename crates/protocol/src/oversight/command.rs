//! Oversight commands: what monitors, data managers and investigators ask of a
//! participant's record (PROTOCOL §12). Each is decided by [`crate::decide_oversight`] with
//! the member of staff who asks, so the role rules are the protocol's.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::model::{DataPoint, DeviationStatus, Scope, SignScope};
use crate::command::Command;
use crate::records::{DeviationSeverity, ESignature};

/// Raises a manual query on a data point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RaiseQuery {
    /// The datum queried.
    pub point: DataPoint,
    /// The question for the site.
    pub text: String,
}

/// The site's answer to a query, optionally with a correction of the data point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AnswerQuery {
    /// The query.
    pub query_id: String,
    /// The answer.
    pub text: String,
    /// A correction recorded with the answer, through the normal rules of its command
    /// (its `corrects` names the entry); the answer links the new entry.
    #[serde(default)]
    pub correction: Option<Box<Command>>,
}

/// Moves a query on: close, requery or cancel (the raiser's roles only).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ResolveQuery {
    /// The query.
    pub query_id: String,
    /// Why, in words (required to requery and to cancel).
    #[serde(default)]
    pub text: String,
}

/// Verifies entries against the source documents.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyEntries {
    /// The entries (current ones); empty with `scope` set verifies every current entry of it.
    #[serde(default)]
    pub entry_ids: Vec<String>,
    /// A form or visit to verify in bulk.
    #[serde(default)]
    pub scope: Option<Scope>,
}

/// Sets or lifts a freeze or lock.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeHold {
    /// What it covers.
    pub scope: Scope,
    /// Why (required to unlock and to unfreeze).
    #[serde(default)]
    pub reason: Option<String>,
}

/// The investigator's signature on the casebook or a visit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SignCasebook {
    /// What is signed.
    pub scope: SignScope,
    /// The signature (the password is checked by the application before).
    pub signature: ESignature,
}

/// The kinds of deviation a person records by hand.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum DeviationCategory {
    /// Informed consent.
    Consent,
    /// Eligibility.
    Eligibility,
    /// Visit schedule and windows.
    Schedule,
    /// The investigational product (tracer) or T-DXd.
    Treatment,
    /// A study procedure (imaging, biopsy, labs).
    Procedure,
    /// Safety reporting.
    Safety,
    /// Data handling and confidentiality.
    Data,
    /// Anything else.
    Other,
}

impl DeviationCategory {
    /// The category as people read it.
    pub fn label(self) -> &'static str {
        match self {
            DeviationCategory::Consent => "consent",
            DeviationCategory::Eligibility => "eligibility",
            DeviationCategory::Schedule => "visit schedule",
            DeviationCategory::Treatment => "treatment",
            DeviationCategory::Procedure => "procedure",
            DeviationCategory::Safety => "safety reporting",
            DeviationCategory::Data => "data",
            DeviationCategory::Other => "other",
        }
    }
}

/// A deviation recorded by hand.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportDeviation {
    /// Category.
    pub category: DeviationCategory,
    /// Major or minor.
    pub severity: DeviationSeverity,
    /// What happened.
    pub description: String,
    /// When it happened.
    pub occurred_at: DateTime<Utc>,
    /// The entry it concerns, if any.
    #[serde(default)]
    pub entry_id: Option<String>,
}

/// Assesses or closes a deviation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AssessDeviation {
    /// The deviation.
    pub deviation_id: String,
    /// `assessed` or `closed`.
    pub status: DeviationStatus,
    /// The assessment.
    pub note: String,
}

/// Everything the study's oversight can ask of a participant's record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum OversightCommand {
    /// See [`RaiseQuery`].
    RaiseQuery(RaiseQuery),
    /// See [`AnswerQuery`].
    AnswerQuery(AnswerQuery),
    /// Closes an answered query.
    CloseQuery(ResolveQuery),
    /// Sends an answered query back to the site.
    Requery(ResolveQuery),
    /// Withdraws an open query.
    CancelQuery(ResolveQuery),
    /// See [`VerifyEntries`].
    VerifyEntries(VerifyEntries),
    /// Freezes data.
    Freeze(ChangeHold),
    /// Locks frozen data.
    Lock(ChangeHold),
    /// Unlocks locked data (back to frozen).
    Unlock(ChangeHold),
    /// Unfreezes frozen data.
    Unfreeze(ChangeHold),
    /// See [`SignCasebook`].
    SignCasebook(SignCasebook),
    /// See [`ReportDeviation`].
    ReportDeviation(ReportDeviation),
    /// See [`AssessDeviation`].
    AssessDeviation(AssessDeviation),
}

impl OversightCommand {
    /// The command's name, as in its JSON `type`.
    pub fn name(&self) -> &'static str {
        match self {
            OversightCommand::RaiseQuery(_) => "raise_query",
            OversightCommand::AnswerQuery(_) => "answer_query",
            OversightCommand::CloseQuery(_) => "close_query",
            OversightCommand::Requery(_) => "requery",
            OversightCommand::CancelQuery(_) => "cancel_query",
            OversightCommand::VerifyEntries(_) => "verify_entries",
            OversightCommand::Freeze(_) => "freeze",
            OversightCommand::Lock(_) => "lock",
            OversightCommand::Unlock(_) => "unlock",
            OversightCommand::Unfreeze(_) => "unfreeze",
            OversightCommand::SignCasebook(_) => "sign_casebook",
            OversightCommand::ReportDeviation(_) => "report_deviation",
            OversightCommand::AssessDeviation(_) => "assess_deviation",
        }
    }

    /// The free-text fields, for the privacy check.
    pub fn text_fields(&self) -> Vec<(&'static str, &str)> {
        match self {
            OversightCommand::RaiseQuery(c) => vec![("text", c.text.as_str())],
            OversightCommand::AnswerQuery(c) => vec![("text", c.text.as_str())],
            OversightCommand::CloseQuery(c)
            | OversightCommand::Requery(c)
            | OversightCommand::CancelQuery(c) => vec![("text", c.text.as_str())],
            OversightCommand::Freeze(c)
            | OversightCommand::Lock(c)
            | OversightCommand::Unlock(c)
            | OversightCommand::Unfreeze(c) => c
                .reason
                .as_deref()
                .map(|r| vec![("reason", r)])
                .unwrap_or_default(),
            OversightCommand::SignCasebook(c) => vec![
                ("signature.signer", c.signature.signer.as_str()),
                ("signature.meaning", c.signature.meaning.as_str()),
            ],
            OversightCommand::ReportDeviation(c) => vec![("description", c.description.as_str())],
            OversightCommand::AssessDeviation(c) => vec![("note", c.note.as_str())],
            OversightCommand::VerifyEntries(_) => Vec::new(),
        }
    }
}
