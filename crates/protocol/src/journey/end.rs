//! End of participation (PROTOCOL §2, §11; clinical-rules A7, A20): when it is
//! time to go off study, and what may still be recorded afterwards.

use chrono::{DateTime, Days, NaiveDate, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::schedule::{Anchors, arm2_anchor};
use crate::participant::Arm;
use crate::rule::{Refusal, Rule};
use crate::settings::{Arm1EndEvent, Settings};

/// Why participation ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum EndReason {
    /// Arm 2: adverse-event follow-up complete.
    Arm2FollowUpComplete,
    /// Arm 1: the configured end event happened.
    Arm1EndEvent,
    /// Consent withdrawn.
    Withdrawn,
    /// Died.
    Died,
    /// Lost to follow-up.
    LostToFollowUp,
}

/// Facts that can end participation.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct EndFacts {
    /// Consent withdrawn.
    pub withdrawn_at: Option<DateTime<Utc>>,
    /// Date of death.
    pub died_on: Option<NaiveDate>,
    /// Declared lost to follow-up.
    pub lost_to_follow_up_on: Option<NaiveDate>,
    /// PET2 done.
    pub pet2_on: Option<NaiveDate>,
    /// PET3 done.
    pub pet3_on: Option<NaiveDate>,
    /// T-DXd permanently discontinued.
    pub tdxd_discontinued_on: Option<NaiveDate>,
    /// Arm-2 end-of-follow-up contact done.
    pub arm2_followup_done_on: Option<NaiveDate>,
}

/// It is time to go off study.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct OffStudyDue {
    /// Why.
    pub reason: EndReason,
    /// From which day.
    pub since: NaiveDate,
    /// The reason to record, with dates and settings.
    pub text: String,
    /// Settings version used.
    pub settings_version: u32,
}

fn next_day(d: NaiveDate) -> NaiveDate {
    d.checked_add_days(Days::new(1)).unwrap_or(d)
}

/// Whether participation should end on `today`, and why. Death, withdrawal and
/// loss to follow-up come first; then arm 2 after its follow-up (the day after
/// its last day, or when the end contact is done), and arm 1 at the configured
/// end event (`arm1.end_of_study_event`).
pub fn off_study_due(
    a: &Anchors,
    f: &EndFacts,
    today: NaiveDate,
    s: &Settings,
) -> Option<OffStudyDue> {
    let due = |reason, since: NaiveDate, text: String| {
        (since <= today).then_some(OffStudyDue {
            reason,
            since,
            text,
            settings_version: s.version,
        })
    };
    if let Some(d) = f.died_on {
        return due(EndReason::Died, d, format!("Died {d}"));
    }
    if let Some(w) = f.withdrawn_at {
        let d = s.local_date(w);
        return due(
            EndReason::Withdrawn,
            d,
            format!("Consent withdrawn {}", s.local_text(w)),
        );
    }
    if let Some(d) = f.lost_to_follow_up_on {
        return due(
            EndReason::LostToFollowUp,
            d,
            format!("Lost to follow-up {d}"),
        );
    }
    match a.arm()? {
        Arm::Arm2 => {
            let days = s.arm2.ae_followup_days;
            let (anchor, what) = arm2_anchor(a, s)?;
            let last = anchor.checked_add_days(Days::new(u64::from(days)))?;
            let since = match f.arm2_followup_done_on {
                Some(d) if d >= last => d,
                _ => next_day(last),
            };
            due(
                EndReason::Arm2FollowUpComplete,
                since,
                format!(
                    "Arm 2 follow-up complete: {what} {anchor} + {days} days = {last} (settings v{})",
                    s.version
                ),
            )
        }
        Arm::Arm1 => {
            let event = s.arm1.end_of_study_event;
            let (since, text) = match event {
                Arm1EndEvent::Pet2Done => {
                    let d = f.pet2_on?;
                    (d, format!("Arm 1 end event: PET2 done {d}"))
                }
                Arm1EndEvent::TreatmentDiscontinued => {
                    let d = f.tdxd_discontinued_on?;
                    (d, format!("Arm 1 end event: T-DXd discontinued {d}"))
                }
                Arm1EndEvent::Progression => {
                    let p = a.progression?;
                    match f.pet3_on {
                        Some(d) if d >= p => (
                            d,
                            format!("Arm 1 end event: progression {p}, PET3 done {d}"),
                        ),
                        _ => {
                            let max = s.schedule.pet3_after_progression.max_days;
                            let closes = p.checked_add_days(Days::new(u64::from(max)))?;
                            (
                                next_day(closes),
                                format!(
                                    "Arm 1 end event: progression {p}; optional PET3 window closed {closes}"
                                ),
                            )
                        }
                    }
                }
            };
            due(
                EndReason::Arm1EndEvent,
                since,
                format!(
                    "{text} (arm1.end_of_study_event = {event:?}, settings v{})",
                    s.version
                ),
            )
        }
    }
}

/// Something to be recorded after participation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "record", rename_all = "snake_case")]
pub enum PostEndRecord {
    /// A study procedure (PET, biopsy, study labs, T-DXd administration) on `date`.
    StudyProcedure {
        /// Its date.
        date: NaiveDate,
    },
    /// An adverse event (new or a follow-up) with its onset.
    AdverseEvent {
        /// Onset date.
        onset: NaiveDate,
    },
    /// The participant's death, learnt later.
    DeathReport,
}

/// Whether `what` may still be recorded after participation ended for `reason`
/// on `ended_on`: after withdrawal nothing new (`WITHDRAWN`; what was collected
/// stays); otherwise no study procedure after the end and no AE with onset after
/// it (`OFF_STUDY`), while follow-up of earlier AEs and a later death report are allowed.
pub fn may_record_after_end(
    reason: EndReason,
    ended_on: NaiveDate,
    what: PostEndRecord,
) -> Result<(), Refusal> {
    if reason == EndReason::Withdrawn {
        return Err(Refusal::new(
            Rule::WITHDRAWN,
            format!("Consent was withdrawn on {ended_on}: no new data may be recorded."),
        ));
    }
    let refuse = |msg: String| Err(Refusal::new(Rule::OFF_STUDY, msg));
    match what {
        PostEndRecord::DeathReport if reason == EndReason::Died => {
            refuse(format!("The death on {ended_on} is already recorded."))
        }
        PostEndRecord::DeathReport => Ok(()),
        PostEndRecord::StudyProcedure { date } if date > ended_on => refuse(format!(
            "Participation ended {ended_on} ({reason:?}): no study procedure on {date}."
        )),
        PostEndRecord::AdverseEvent { onset } if onset > ended_on => refuse(format!(
            "Participation ended {ended_on} ({reason:?}): an adverse event with onset {onset} is outside the trial."
        )),
        PostEndRecord::StudyProcedure { .. } | PostEndRecord::AdverseEvent { .. } => Ok(()),
    }
}
