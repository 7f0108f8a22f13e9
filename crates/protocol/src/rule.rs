//! Rule ids and refusals.
//!
//! A [`Refusal`] is the protocol's answer "no" to a command: it names the rule
//! (as written in PROTOCOL.md, e.g. `IN4`, `GATE_CONSENT`), says why, and where
//! possible what would satisfy the rule. It is an expected outcome, not a
//! machine failure, so it deliberately does not implement `std::error::Error`.

use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A protocol rule that can refuse a command or decide a criterion.
///
/// Serialized as its id string exactly as written in PROTOCOL.md.
#[allow(non_camel_case_types, clippy::upper_case_acronyms)]
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
pub enum Rule {
    /// Female, age ≥ 18 at consent (PROTOCOL §5).
    IN1,
    /// Progression after palliative chemotherapy, or relapse soon after (neo)adjuvant chemotherapy.
    IN2,
    /// Written informed consent.
    IN3,
    /// A metastatic lesion ≥ 10 mm available for biopsy, or a recent biopsy.
    IN4,
    /// An additional RECIST 1.1 measurable index lesion.
    IN5,
    /// WHO performance status ≤ 2.
    IN6,
    /// Expected survival > 12 weeks.
    IN7,
    /// Contraception and negative serum pregnancy test for women of child-bearing potential.
    IN8,
    /// Contraindication to trastuzumab deruxtecan.
    EX1,
    /// Earlier metastatic biopsy HER2-positive.
    EX2,
    /// Other manifest malignancy except basal cell carcinoma of the skin.
    EX3,
    /// Inadequate cardiac, renal, marrow or liver function.
    EX4,
    /// Biopsy bleeding risk.
    EX5,
    /// No study procedure before signed consent (PROTOCOL §4).
    GATE_CONSENT,
    /// The protocol's order of events: PET1 after the enrolment signature, the biopsy after
    /// its target choice, the pathology report after its biopsy, T-DXd after the allocation
    /// (PROTOCOL §2, §4, §7–§9).
    CHRONOLOGY,
    /// Consent withdrawn: no further data entry (PROTOCOL §2, §4).
    WITHDRAWN,
    /// The command is not allowed in the participant's current state (PROTOCOL §2).
    STATE_TRANSITION,
    /// A Swedish personal identity number in input (PROTOCOL §3).
    PRIV_PNR,
    /// A free-text value longer than its field allows (PROTOCOL §3, [`crate::privacy`]).
    TEXT_LENGTH,
    /// A free-text value holding control characters (PROTOCOL §3, [`crate::privacy`]).
    TEXT_CONTROL,
    /// A unit the program does not know (PROTOCOL §5, last line).
    UNIT_UNKNOWN,
    /// A value that cannot be true (negative, out of physiological range, in the future).
    VALUE_IMPOSSIBLE,
    /// A value the rule needs was not given (e.g. the ULN of an AST result).
    VALUE_REQUIRED,
    /// An identifier in the wrong format (study id, site code, entry id).
    ID_FORMAT,
    /// An entry referred to by a correction does not exist or is no longer current.
    ENTRY_UNKNOWN,
    /// An identifier that must be unique is already used (e.g. a lesion id).
    DUPLICATE,
    /// Enrolment needs an eligible result (PROTOCOL §5).
    ELIGIBILITY,
    /// An electronic signature is incomplete or dated wrongly (PROTOCOL §12).
    SIGNATURE,
    /// A woman of child-bearing potential needs a negative serum pregnancy test
    /// within the configured window before every IMP administration (PROTOCOL §6).
    IMP_PREGNANCY,
    /// A PET exam's quantification or review that does not fit the recorded exam (PROTOCOL §6).
    PET_EXAM,
    /// A DICOM series is quantified only by a user of the site it belongs to (the site
    /// that sent or imported it); another site's series is as if it did not exist.
    IMAGING_SITE,
    /// A DICOM series belongs to the participant whose study id is its PatientID; another
    /// participant needs an explicit assignment with a reason, and a series is never the
    /// exam of two participants.
    IMAGING_PARTICIPANT,
    /// The biopsy target must be a lesion the reader confirmed (PROTOCOL §7).
    BIOPSY_TARGET,
    /// The PET response read PET1 → PET2 (PERCIST-style, PROTOCOL §10): arm 1, both exams
    /// quantified, and the reader's decision on every PET2 lesion.
    PET_RESPONSE,
    /// A settings value or settings change that is not allowed (PROTOCOL §14).
    SETTINGS,
    /// A fresh biopsy needs INR, platelets and APTT within the window and limits (PROTOCOL §7, EX5).
    BIOPSY_LABS,
    /// A fresh biopsy needs anticoagulants/antiplatelets paused (PROTOCOL §5 EX5, clinical-rules A9).
    BIOPSY_ANTICOAGULATION,
    /// An earlier biopsy replaces the study biopsy only if recent and without intervening therapy (PROTOCOL §7).
    ARCHIVAL_BIOPSY,
    /// A HER2 result must be complete and consistent to derive its category (ASCO/CAP 2018/2023, PROTOCOL §8).
    HER2_CATEGORY,
    /// Allocation from the eligible specimen's HER2 category (PROTOCOL §8).
    ALLOCATION,
    /// T-DXd dose level ladder 5.4 → 4.4 → 3.2 mg/kg, no re-escalation, dose = level × weight (PROTOCOL §9).
    TDXD_DOSE,
    /// T-DXd every 21 days; not before the cycle is due (SmPC 4.2).
    TDXD_INTERVAL,
    /// ILD/pneumonitis dose rule: grade 1 interrupt, grade ≥ 2 discontinue (PROTOCOL §9, SmPC 4.4).
    TDXD_ILD,
    /// LVEF dose rule (PROTOCOL §9, clinical-rules §1.3).
    TDXD_LVEF,
    /// Neutropenia / febrile neutropenia dose rule (PROTOCOL §9).
    TDXD_NEUTROPENIA,
    /// T-DXd is interrupted until the toxicity that interrupted it has resolved.
    TDXD_INTERRUPTED,
    /// T-DXd has been permanently discontinued.
    TDXD_DISCONTINUED,
    /// The study biopsy's window after PET1 (clinical-rules §6.1).
    BIOPSY_WINDOW,
    /// Cycle 1 day 1 of T-DXd's window after PET1 (clinical-rules §6.1).
    C1D1_WINDOW,
    /// PET2 after 3–4 cycles, day 63–84 after cycle 1 day 1 (PROTOCOL §9).
    PET2_WINDOW,
    /// Optional PET3 + biopsy at progression (PROTOCOL §9).
    PET3_WINDOW,
    /// Arm 2: adverse-event follow-up ends 14 days after the PET, then off study (PROTOCOL §11).
    ARM2_FOLLOWUP,
    /// Adverse events are coded with a CTCAE v5.0 term (PROTOCOL §11).
    CTCAE_TERM,
    /// The CTCAE grade must exist for the term (CTCAE v5.0; grade 1–5).
    CTCAE_GRADE,
    /// Seriousness by ICH E2A criteria, consistent with the grade and outcome (PROTOCOL §11).
    AE_SERIOUSNESS,
    /// A serious adverse event reaches the sponsor within 24 hours of site awareness (PROTOCOL §11).
    SAE_CLOCK,
    /// End of participation: off study, withdrawn, died or lost to follow-up (PROTOCOL §2).
    OFF_STUDY,
    /// Tumour assessments follow the RECIST 1.1 rules of the response engine (PROTOCOL §10).
    RECIST,
    /// The role may not do this (PROTOCOL §3, §12; [`crate::roles::Role::may`]).
    ROLE,
    /// Queries: who raises, answers, closes; Open → Answered → Closed (PROTOCOL §12).
    QUERY,
    /// Source data verification (PROTOCOL §12).
    SDV,
    /// Frozen data: no changes (PROTOCOL §12).
    FROZEN,
    /// Locked data: no changes, no queries, no verification (PROTOCOL §12).
    LOCKED,
    /// Protocol deviations recorded by hand and their review (PROTOCOL §12).
    DEVIATION,
}

impl Rule {
    /// The id as written in PROTOCOL.md, e.g. `"IN4"` or `"GATE_CONSENT"`.
    pub fn id(&self) -> &'static str {
        match self {
            Rule::IN1 => "IN1",
            Rule::IN2 => "IN2",
            Rule::IN3 => "IN3",
            Rule::IN4 => "IN4",
            Rule::IN5 => "IN5",
            Rule::IN6 => "IN6",
            Rule::IN7 => "IN7",
            Rule::IN8 => "IN8",
            Rule::EX1 => "EX1",
            Rule::EX2 => "EX2",
            Rule::EX3 => "EX3",
            Rule::EX4 => "EX4",
            Rule::EX5 => "EX5",
            Rule::GATE_CONSENT => "GATE_CONSENT",
            Rule::CHRONOLOGY => "CHRONOLOGY",
            Rule::WITHDRAWN => "WITHDRAWN",
            Rule::STATE_TRANSITION => "STATE_TRANSITION",
            Rule::PRIV_PNR => "PRIV_PNR",
            Rule::TEXT_LENGTH => "TEXT_LENGTH",
            Rule::TEXT_CONTROL => "TEXT_CONTROL",
            Rule::UNIT_UNKNOWN => "UNIT_UNKNOWN",
            Rule::VALUE_IMPOSSIBLE => "VALUE_IMPOSSIBLE",
            Rule::VALUE_REQUIRED => "VALUE_REQUIRED",
            Rule::ID_FORMAT => "ID_FORMAT",
            Rule::ENTRY_UNKNOWN => "ENTRY_UNKNOWN",
            Rule::DUPLICATE => "DUPLICATE",
            Rule::ELIGIBILITY => "ELIGIBILITY",
            Rule::SIGNATURE => "SIGNATURE",
            Rule::IMP_PREGNANCY => "IMP_PREGNANCY",
            Rule::PET_EXAM => "PET_EXAM",
            Rule::IMAGING_SITE => "IMAGING_SITE",
            Rule::IMAGING_PARTICIPANT => "IMAGING_PARTICIPANT",
            Rule::BIOPSY_TARGET => "BIOPSY_TARGET",
            Rule::PET_RESPONSE => "PET_RESPONSE",
            Rule::SETTINGS => "SETTINGS",
            Rule::BIOPSY_LABS => "BIOPSY_LABS",
            Rule::BIOPSY_ANTICOAGULATION => "BIOPSY_ANTICOAGULATION",
            Rule::ARCHIVAL_BIOPSY => "ARCHIVAL_BIOPSY",
            Rule::HER2_CATEGORY => "HER2_CATEGORY",
            Rule::ALLOCATION => "ALLOCATION",
            Rule::TDXD_DOSE => "TDXD_DOSE",
            Rule::TDXD_INTERVAL => "TDXD_INTERVAL",
            Rule::TDXD_ILD => "TDXD_ILD",
            Rule::TDXD_LVEF => "TDXD_LVEF",
            Rule::TDXD_NEUTROPENIA => "TDXD_NEUTROPENIA",
            Rule::TDXD_INTERRUPTED => "TDXD_INTERRUPTED",
            Rule::TDXD_DISCONTINUED => "TDXD_DISCONTINUED",
            Rule::BIOPSY_WINDOW => "BIOPSY_WINDOW",
            Rule::C1D1_WINDOW => "C1D1_WINDOW",
            Rule::PET2_WINDOW => "PET2_WINDOW",
            Rule::PET3_WINDOW => "PET3_WINDOW",
            Rule::ARM2_FOLLOWUP => "ARM2_FOLLOWUP",
            Rule::CTCAE_TERM => "CTCAE_TERM",
            Rule::CTCAE_GRADE => "CTCAE_GRADE",
            Rule::AE_SERIOUSNESS => "AE_SERIOUSNESS",
            Rule::SAE_CLOCK => "SAE_CLOCK",
            Rule::OFF_STUDY => "OFF_STUDY",
            Rule::RECIST => "RECIST",
            Rule::ROLE => "ROLE",
            Rule::QUERY => "QUERY",
            Rule::SDV => "SDV",
            Rule::FROZEN => "FROZEN",
            Rule::LOCKED => "LOCKED",
            Rule::DEVIATION => "DEVIATION",
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// The protocol refused a command: which rule, why, and what would satisfy it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Refusal {
    /// The rule that refused.
    pub rule: Rule,
    /// What is wrong, in words a site nurse understands.
    pub message: String,
    /// What would satisfy the rule, when there is something to say.
    pub hint: Option<String>,
}

impl Refusal {
    /// A refusal without a hint.
    pub fn new(rule: Rule, message: impl Into<String>) -> Self {
        Refusal {
            rule,
            message: message.into(),
            hint: None,
        }
    }

    /// Adds a hint saying what would satisfy the rule.
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}] {}", self.rule.id(), self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, " ({hint})")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_serializes_as_protocol_id() {
        assert_eq!(
            serde_json::to_string(&Rule::GATE_CONSENT).unwrap(),
            "\"GATE_CONSENT\""
        );
        assert_eq!(serde_json::to_string(&Rule::IN4).unwrap(), "\"IN4\"");
        let back: Rule = serde_json::from_str("\"PRIV_PNR\"").unwrap();
        assert_eq!(back, Rule::PRIV_PNR);
        assert_eq!(Rule::UNIT_UNKNOWN.id(), "UNIT_UNKNOWN");
    }

    #[test]
    fn refusal_display_names_rule_and_hint() {
        let r = Refusal::new(Rule::IN6, "PS 3 is above 2").with_hint("record a new PS");
        assert_eq!(r.to_string(), "[IN6] PS 3 is above 2 (record a new PS)");
    }
}
