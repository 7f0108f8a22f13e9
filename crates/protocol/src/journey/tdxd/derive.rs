//! The T-DXd course as a function of the participant's current facts, and the dose
//! decisions one adverse event calls for (PROTOCOL §9, §12: corrections never
//! erase, but a corrected fact no longer decides).

use chrono::NaiveDate;

use super::course::{DatedDecision, DecisionSource, TdxdCourse};
use super::{Administration, DoseAction, OnResolution, decision, ild_resolved};
use crate::journey::safety::{AdverseEvent, CodedAdverseEvent};
use crate::participant::{EntryStatus, Participant, current};
use crate::rule::{Refusal, Rule};
use crate::settings::Settings;

/// The dose decisions an adverse event calls for, from its current facts alone:
/// the rule's decision on the onset and, once the AE records its resolution, how
/// T-DXd resumes on that day (ILD grade 1: same dose within 28 days of onset, else
/// one level down; neutropenia: as the hold said). A follow-up or correction of
/// the AE replaces them all, so a corrected grade recomputes what it caused.
pub fn ae_dose_decisions(
    ae: &AdverseEvent,
    coded: &CodedAdverseEvent,
    s: &Settings,
) -> Result<Vec<DatedDecision>, Refusal> {
    let Some(d) = &coded.tdxd_decision else {
        return Ok(Vec::new());
    };
    let source = Some(DecisionSource::AdverseEvent {
        ae_id: ae.ae_id.clone(),
    });
    let dated = |on, d| DatedDecision::new(on, d, source.clone(), s);
    let mut decisions = vec![dated(ae.onset, d.clone())];
    if let (Some(resolved), DoseAction::Interrupt { then, .. }) = (ae.resolved, &d.action) {
        let resume = match (d.rule, then) {
            (Rule::TDXD_ILD, OnResolution::DecidedAtResolution) => {
                ild_resolved(ae.onset, resolved, s)?
            }
            _ => decision(
                d.rule,
                DoseAction::ResumeSameDose,
                format!(
                    "{} grade {} resolved {resolved}: T-DXd resumes as the hold said",
                    coded.term, ae.grade
                ),
            ),
        };
        decisions.push(dated(resolved, resume));
    }
    Ok(decisions)
}

/// The T-DXd course from the participant's current facts: her administrations,
/// the decisions of her current (not superseded, not retracted) adverse events and
/// the decisions of her current measurements. Called after every change to them.
pub fn course_of(p: &Participant) -> TdxdCourse {
    let administrations: Vec<Administration> = p
        .tdxd_records
        .iter()
        .map(|r| r.administration.clone())
        .collect();
    let measurements = p.tdxd.measurements.clone();
    let lab_is_current = |d: &&DatedDecision| match &d.source {
        Some(DecisionSource::Lab { entry_id }) => p
            .entry_status(entry_id)
            .is_none_or(|s| s == EntryStatus::Current),
        _ => true,
    };
    let decisions: Vec<DatedDecision> = current(&p.adverse_events)
        .flat_map(|e| e.value.tdxd_decisions.iter())
        .chain(measurements.iter().filter(lab_is_current))
        .cloned()
        .collect();
    TdxdCourse::from_facts(&administrations, &decisions, measurements)
}

impl TdxdCourse {
    /// The course derived from its facts: the administrations, the decisions of
    /// the current facts (in the order they were recorded), and the measurements'
    /// decisions as recorded (kept in [`TdxdCourse::measurements`]). Folded in date
    /// order; on one day the decisions come before a dose, so that a dose on the day
    /// a toxicity resolved one level down counts at the level the rule left.
    pub fn from_facts(
        administrations: &[Administration],
        decisions: &[DatedDecision],
        measurements: Vec<DatedDecision>,
    ) -> TdxdCourse {
        enum Fact<'a> {
            Dose(&'a Administration),
            Decision(&'a DatedDecision),
        }
        let mut facts: Vec<(NaiveDate, bool, Fact)> = decisions
            .iter()
            .map(|d| (d.on, false, Fact::Decision(d)))
            .chain(
                administrations
                    .iter()
                    .map(|a| (a.date, true, Fact::Dose(a))),
            )
            .collect();
        // Stable: decisions of one day keep their recorded order.
        facts.sort_by_key(|(on, dose, _)| (*on, *dose));
        let mut c = TdxdCourse {
            measurements,
            ..TdxdCourse::new()
        };
        for (_, _, fact) in facts {
            match fact {
                Fact::Dose(a) => {
                    c.level = c.level.lower(a.dose_level);
                    c.administrations.push(a.clone());
                }
                Fact::Decision(d) => c.apply_dated(d),
            }
        }
        c
    }
}
