//! The study's outputs: a report, an analysis or an export handed out of the system is
//! itself an audited fact (PROTOCOL §12): who took it, of what, as of which data cut-off
//! and which audit chain head, so the same output can be reproduced and traced later.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::event::Event;
use crate::oversight::Staff;
use crate::roles::Capability;
use crate::rule::{Refusal, Rule};

/// What was handed out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OutputKind {
    /// The HTML study report.
    Report,
    /// The analyses' numbers (JSON).
    Analysis,
    /// The CDISC ODM 1.3.2 export.
    OdmExport,
    /// The SDTM-like CSV datasets.
    SdtmExport,
}

impl OutputKind {
    /// The capability the output needs.
    pub fn capability(self) -> Capability {
        match self {
            OutputKind::Report | OutputKind::Analysis => Capability::Analyse,
            OutputKind::OdmExport | OutputKind::SdtmExport => Capability::Export,
        }
    }

    /// How people name it.
    pub fn label(self) -> &'static str {
        match self {
            OutputKind::Report => "study report",
            OutputKind::Analysis => "analyses",
            OutputKind::OdmExport => "ODM 1.3.2 export",
            OutputKind::SdtmExport => "SDTM-like datasets",
        }
    }
}

/// An output as recorded in the audit trail.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Output {
    /// What.
    pub kind: OutputKind,
    /// The data cut-off it was computed as of.
    pub as_of: DateTime<Utc>,
    /// Sequence number of the last audit event it rests on.
    pub head_seq: i64,
    /// Hash of that event: the audit chain head.
    pub head_hash: String,
    /// Number of participants included.
    pub participants: u64,
    /// Where it went (file name, or "web"), for the record.
    pub destination: String,
    /// Who took it.
    pub by: Staff,
    /// When.
    pub at: DateTime<Utc>,
}

/// Records an output, if the person's role may take it (rule ROLE).
pub fn decide_output(output: Output) -> Result<Vec<Event>, Refusal> {
    let cap = output.kind.capability();
    if !output.by.role.may(cap) {
        return Err(Refusal::new(
            Rule::ROLE,
            format!(
                "A {} may not take the {}; it needs the {:?} capability.",
                output.by.role.label().to_lowercase(),
                output.kind.label(),
                cap
            ),
        ));
    }
    if output.as_of > output.at {
        return Err(Refusal::new(
            Rule::ROLE,
            "The data cut-off lies in the future; an output is taken as of now or earlier.",
        ));
    }
    Ok(vec![Event::OutputProduced { output }])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::roles::Role;

    fn output(kind: OutputKind, role: Role) -> Output {
        let at = "2026-06-01T10:00:00Z".parse().unwrap();
        Output {
            kind,
            as_of: at,
            head_seq: 10,
            head_hash: "ab".repeat(32),
            participants: 3,
            destination: "web".into(),
            by: Staff::new("someone", role),
            at,
        }
    }

    #[test]
    fn the_statistician_takes_reports_and_exports_the_data_manager_only_exports() {
        assert!(decide_output(output(OutputKind::Report, Role::Statistician)).is_ok());
        assert!(decide_output(output(OutputKind::OdmExport, Role::Statistician)).is_ok());
        assert!(decide_output(output(OutputKind::SdtmExport, Role::DataManager)).is_ok());
        assert!(decide_output(output(OutputKind::Report, Role::StudyDirector)).is_ok());
        let r = decide_output(output(OutputKind::Report, Role::DataManager)).unwrap_err();
        assert_eq!(r.rule, Rule::ROLE);
        assert!(decide_output(output(OutputKind::OdmExport, Role::ResearchNurse)).is_err());
        assert!(decide_output(output(OutputKind::OdmExport, Role::StudyDirector)).is_err());
    }

    #[test]
    fn a_cut_off_in_the_future_is_refused() {
        let mut o = output(OutputKind::Report, Role::Statistician);
        o.as_of = "2026-06-02T10:00:00Z".parse().unwrap();
        assert!(decide_output(o).is_err());
    }
}
