//! The end of participation (PROTOCOL §2, §11): by the investigator's decision, at the end
//! of arm-2 follow-up, or at the arm-1 end event. The rules live in
//! [`crate::journey::end`].

use super::schedule::window_deviation;
use super::{Dc, text};
use crate::command::{EndParticipation, OffStudyReason};
use crate::event::Event;
use crate::journey::end::{EndReason, off_study_due};
use crate::journey::schedule::VisitKind;
use crate::journey::trial::{AllocationRecord, OffStudyRecord, anchors, end_facts};
use crate::participant::Arm;
use crate::rule::{Refusal, Rule};

/// Ends participation for one of the reasons the protocol allows (`OFF_STUDY`).
pub(super) fn end(ctx: &Dc, c: &EndParticipation) -> Result<Vec<Event>, Refusal> {
    ctx.not_future_date("ended_on", c.ended_on)?;
    let note = text(&c.note);
    let arm = ctx.p.allocation.as_ref().and_then(AllocationRecord::arm);
    let mut events = Vec::new();
    match c.reason {
        OffStudyReason::InvestigatorDecision => {
            if note.is_none() {
                return Err(Refusal::new(
                    Rule::VALUE_REQUIRED,
                    "Ending participation by the investigator's decision needs a note saying why.",
                ));
            }
        }
        OffStudyReason::Arm2FollowUpComplete => {
            if arm != Some(Arm::Arm2) {
                return Err(Refusal::new(Rule::OFF_STUDY, "She is not in arm 2."));
            }
            // The end contact is kept; too early a contact raises a deviation.
            if let Some(d) = window_deviation(ctx, VisitKind::Arm2FollowUpEnd, c.ended_on, None)? {
                events.push(d);
            }
        }
        OffStudyReason::Arm1EndEvent => {
            if arm != Some(Arm::Arm1) {
                return Err(Refusal::new(Rule::OFF_STUDY, "She is not in arm 1."));
            }
            let due = off_study_due(
                &anchors(ctx.p, ctx.s),
                &end_facts(ctx.p, ctx.s),
                c.ended_on,
                ctx.s,
            );
            if due.is_none_or(|d| d.reason != EndReason::Arm1EndEvent) {
                return Err(Refusal::new(
                    Rule::OFF_STUDY,
                    format!(
                        "The arm-1 end event ({:?}) has not happened by {}.",
                        ctx.s.arm1.end_of_study_event, c.ended_on
                    )
                    .replace('"', ""),
                )
                .with_hint("Use an investigator decision with a note to end earlier."));
            }
        }
    }
    events.insert(
        0,
        Event::ParticipationEnded {
            off_study: OffStudyRecord {
                reason: c.reason,
                ended_on: c.ended_on,
                note,
            },
            recorded_at: ctx.now,
            settings_version: ctx.s.version,
        },
    );
    Ok(events)
}
