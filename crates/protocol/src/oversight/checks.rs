//! The edit checks: data that are possible but doubtful, or incomplete, and so get an
//! automatic query that closes itself once the data are corrected.

use super::model::{DataPoint, EditCheck};
use crate::journey::safety::AeOutcome;
use crate::participant::{EntryStatus, Participant, current};
use crate::rule::Rule;

/// An automatic query the participant's data call for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AutoQuery {
    /// The check that fires.
    pub check: EditCheck,
    /// The datum.
    pub point: DataPoint,
    /// The question for the site.
    pub text: String,
}

/// The window rules whose deviations name a visit's date.
const WINDOW_RULES: [Rule; 5] = [
    Rule::BIOPSY_WINDOW,
    Rule::C1D1_WINDOW,
    Rule::PET2_WINDOW,
    Rule::PET3_WINDOW,
    Rule::ARM2_FOLLOWUP,
];

/// Every automatic query the current data call for, in the order of the record.
pub fn auto_queries(p: &Participant) -> Vec<AutoQuery> {
    let mut out = Vec::new();
    let point = |id: &str, field: Option<&str>| DataPoint {
        entry_id: id.to_string(),
        field: field.map(str::to_owned),
    };
    for lab in current(&p.labs) {
        if let Some(w) = lab.value.warnings.first() {
            out.push(AutoQuery {
                check: EditCheck::LabUnusual,
                point: point(&lab.entry_id, Some("value")),
                text: format!(
                    "{} {} {} is unusual ({w}). Please check the value and its unit against the source.",
                    lab.value.analyte.label(),
                    lab.value.value,
                    lab.value.unit
                ),
            });
        }
    }
    for d in &p.deviations {
        let Some(id) = &d.entry_id else { continue };
        if WINDOW_RULES.contains(&d.rule) && p.entry_status(id) == Some(EntryStatus::Current) {
            out.push(AutoQuery {
                check: EditCheck::VisitWindow,
                point: point(id, None),
                text: format!(
                    "{} Please confirm the date against the source, or correct it.",
                    d.description
                ),
            });
        }
    }
    for ae in current(&p.adverse_events) {
        let a = &ae.value.ae;
        let recovered = matches!(
            a.outcome,
            AeOutcome::Recovered | AeOutcome::RecoveredWithSequelae
        );
        if recovered && a.resolved.is_none() {
            out.push(AutoQuery {
                check: EditCheck::MissingDatum,
                point: point(&ae.entry_id, Some("resolved")),
                text: format!(
                    "Adverse event {} is recorded as recovered but has no resolution date.",
                    a.ae_id
                ),
            });
        }
    }
    for imp in current(&p.imp_administrations) {
        if imp.value.scan_start_at.is_none() {
            out.push(AutoQuery {
                check: EditCheck::MissingDatum,
                point: point(&imp.entry_id, Some("scan_start_at")),
                text: format!(
                    "The {} administration has no scan start time (needed for the decay correction).",
                    imp.value.timepoint.label()
                ),
            });
        }
    }
    out
}
