//! Roles and what each may do (PROTOCOL §3, §12).
//!
//! Site roles work with their own site's participants only; study-wide roles see every
//! site (PROTOCOL.md §3). Which role may do what is one table, [`Role::may`], so a
//! reviewer reads the whole policy in one place; the oversight rules
//! ([`crate::oversight`]) ask it too, so a query, a verification or a lock is refused
//! for the wrong role by the protocol itself, whatever shell asked.

use serde::{Deserialize, Serialize};

/// A user's role in the trial.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Site investigator: enters data, attests criteria, signs enrolment.
    Investigator,
    /// Site research nurse: registers, records consent and screening data.
    ResearchNurse,
    /// Nuclear-medicine reader at a site: reads PET scans.
    NuclearMedicineReader,
    /// Pathologist at a site: reports HER2.
    Pathologist,
    /// Sponsor monitor: reads every site, raises queries, verifies source data.
    Monitor,
    /// Sponsor data manager: reads every site, raises queries, freezes and locks.
    DataManager,
    /// Sponsor statistician: reads every site, exports.
    Statistician,
    /// Study director: reads every site.
    StudyDirector,
    /// System administrator: sites and users, no trial data.
    Admin,
}

/// Something a request wants to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Capability {
    /// See participants and their records.
    ReadParticipants,
    /// Register participants, record consent and screening data.
    EnterData,
    /// Sign as investigator: attestations, enrolment, screen failure, biopsy target.
    InvestigatorSign,
    /// Read a PET exam's series into the study: run the quantification.
    QuantifyImaging,
    /// The nuclear-medicine reader's review of PET lesions.
    ReviewImaging,
    /// The pathologist's HER2 report of a biopsy specimen.
    ReportPathology,
    /// Manage sites and users.
    Administer,
    /// Raise a manual query on a data point; requery, close or cancel it (PROTOCOL §12).
    RaiseQuery,
    /// Answer a query of one's own site, optionally with a correction.
    AnswerQuery,
    /// Verify entries against the source documents (SDV).
    VerifySource,
    /// Freeze data: no changes, queries and verification still allowed.
    Freeze,
    /// Lock frozen data, and unlock or unfreeze with a reason.
    Lock,
    /// Record a protocol deviation by hand.
    ReportDeviation,
    /// Assess and close deviations.
    AssessDeviation,
    /// Compute and read the study's analyses and its report.
    Analyse,
    /// Export the study's data (ODM, SDTM-like datasets).
    Export,
    /// See the receipts of the DICOM objects that arrived (receiver, folder import, PACS
    /// pull): site roles their own site's, the sponsor's staff and the administrator
    /// every site's. A receipt names senders, counts and series UIDs, no participant.
    ReadReceipts,
}

impl Role {
    /// Every role, in the order pages list them.
    pub const ALL: [Role; 9] = [
        Role::Investigator,
        Role::ResearchNurse,
        Role::NuclearMedicineReader,
        Role::Pathologist,
        Role::Monitor,
        Role::DataManager,
        Role::Statistician,
        Role::StudyDirector,
        Role::Admin,
    ];

    /// The role's id as stored and typed on the command line.
    pub fn id(self) -> &'static str {
        match self {
            Role::Investigator => "investigator",
            Role::ResearchNurse => "research_nurse",
            Role::NuclearMedicineReader => "nuclear_medicine_reader",
            Role::Pathologist => "pathologist",
            Role::Monitor => "monitor",
            Role::DataManager => "data_manager",
            Role::Statistician => "statistician",
            Role::StudyDirector => "study_director",
            Role::Admin => "admin",
        }
    }

    /// The role's name as people say it.
    pub fn label(self) -> &'static str {
        match self {
            Role::Investigator => "Investigator",
            Role::ResearchNurse => "Research nurse",
            Role::NuclearMedicineReader => "Nuclear-medicine reader",
            Role::Pathologist => "Pathologist",
            Role::Monitor => "Monitor",
            Role::DataManager => "Data manager",
            Role::Statistician => "Statistician",
            Role::StudyDirector => "Study director",
            Role::Admin => "Administrator",
        }
    }

    /// Parses a role id.
    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.id() == s)
    }

    /// Whether users of this role belong to one site (and see only it).
    pub fn is_site_bound(self) -> bool {
        matches!(
            self,
            Role::Investigator
                | Role::ResearchNurse
                | Role::NuclearMedicineReader
                | Role::Pathologist
        )
    }

    /// The whole access policy.
    pub fn may(self, cap: Capability) -> bool {
        use Capability::*;
        match cap {
            ReadParticipants => self != Role::Admin,
            EnterData => matches!(self, Role::Investigator | Role::ResearchNurse),
            InvestigatorSign => self == Role::Investigator,
            QuantifyImaging => matches!(
                self,
                Role::Investigator | Role::ResearchNurse | Role::NuclearMedicineReader
            ),
            ReviewImaging => self == Role::NuclearMedicineReader,
            ReportPathology => self == Role::Pathologist,
            Administer => self == Role::Admin,
            RaiseQuery => matches!(self, Role::Monitor | Role::DataManager),
            AnswerQuery => matches!(self, Role::Investigator | Role::ResearchNurse),
            VerifySource => self == Role::Monitor,
            Freeze => matches!(self, Role::Monitor | Role::DataManager),
            Lock => self == Role::DataManager,
            ReportDeviation => matches!(self, Role::Monitor | Role::Investigator),
            AssessDeviation => matches!(self, Role::Monitor | Role::DataManager),
            Analyse => matches!(self, Role::Statistician | Role::StudyDirector),
            Export => matches!(self, Role::Statistician | Role::DataManager),
            ReadReceipts => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.id()), Some(r));
        }
        assert_eq!(Role::parse("nurse"), None);
    }

    #[test]
    fn only_investigators_sign_and_admins_see_no_trial_data() {
        let signers: Vec<_> = Role::ALL
            .into_iter()
            .filter(|r| r.may(Capability::InvestigatorSign))
            .collect();
        assert_eq!(signers, vec![Role::Investigator]);
        assert!(!Role::Admin.may(Capability::ReadParticipants));
        assert!(Role::Monitor.may(Capability::ReadParticipants));
        assert!(!Role::Monitor.may(Capability::EnterData));
    }
}
