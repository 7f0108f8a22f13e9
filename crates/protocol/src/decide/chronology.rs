//! The protocol's order of events (`CHRONOLOGY`, PROTOCOL §2, §4, §7–§9), beyond the
//! state machine: a state says what may come next, these dates say it really came next.
//!
//! | fact | must not be dated before |
//! |---|---|
//! | an IMP injection (PET1) | the investigator's enrolment signature |
//! | a fresh study biopsy | the signed choice of its target lesion |
//! | a pathology report | its biopsy |
//! | T-DXd cycle 1 day 1 | the allocation to arm 1 (the date the deciding HER2 result was reported, or the signed correction that moved her to arm 1) |
//!
//! As with the consent gate: recorded as happening now (`late_entry_of_fact` unset) an
//! out-of-order fact is refused; documented afterwards as a fact that really happened in
//! that order, it is recorded with a major deviation the monitor sees.

use chrono::{DateTime, NaiveDate, Utc};

use super::Dc;
use crate::event::Event;
use crate::journey::trial::AllocationRecord;
use crate::records::{Deviation, DeviationSeverity};
use crate::rule::{Refusal, Rule};

/// One fact checked against the fact it must follow.
pub(super) struct Order<'a> {
    /// The fact, e.g. "PET1 injection".
    pub what: &'a str,
    /// When it happened, as the sites read it.
    pub when: String,
    /// When it happened (the deviation's time).
    pub at: DateTime<Utc>,
    /// What it must follow, e.g. "the enrolment signature".
    pub after: &'a str,
    /// When that was, as the sites read it.
    pub after_when: String,
    /// Whether the order is broken.
    pub broken: bool,
    /// Recorded as a past fact (a major deviation) rather than in real time (a refusal).
    pub late_entry_of_fact: bool,
    /// The entry the deviation concerns.
    pub entry_id: Option<String>,
}

impl Order<'_> {
    /// `Ok(None)` in order; a `CHRONOLOGY` refusal, or for a past fact the deviation event.
    pub fn check(self, ctx: &Dc) -> Result<Option<Event>, Refusal> {
        if !self.broken {
            return Ok(None);
        }
        let description = format!(
            "{} ({}) is dated before {} ({}).",
            self.what, self.when, self.after, self.after_when
        );
        if !self.late_entry_of_fact {
            return Err(Refusal::new(
                Rule::CHRONOLOGY,
                format!("{description} The protocol's order does not allow this."),
            )
            .with_hint(
                "Check the date. If it really happened in this order and is documented \
                 afterwards, record it as a past fact (late entry): a major deviation will be \
                 raised for the monitor.",
            ));
        }
        Ok(Some(Event::DeviationRecorded {
            deviation: Deviation {
                deviation_id: format!("dev-{}", ctx.p.deviations.len() + 1),
                severity: DeviationSeverity::Major,
                rule: Rule::CHRONOLOGY,
                description,
                occurred_at: self.at,
                entry_id: self.entry_id,
            },
            recorded_at: ctx.now,
            settings_version: ctx.s.version,
        }))
    }
}

/// The date the allocation in force was made: the signed correction that set it, else
/// the report date of the deciding specimen's latest read, else the day it was derived.
pub(super) fn allocation_date(ctx: &Dc, a: &AllocationRecord) -> NaiveDate {
    if let Some(c) = a.corrections.last() {
        return ctx.day(c.signature.signed_at);
    }
    let deciding = a.decision.deciding_specimen_id.as_deref();
    ctx.p
        .pathology
        .iter()
        .filter(|r| Some(r.report.specimen_id.as_str()) == deciding)
        .map(|r| r.report.reported_on)
        .max()
        .unwrap_or_else(|| ctx.day(a.decided_at))
}
