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
    /// Consent withdrawn: no further data entry (PROTOCOL §2, §4).
    WITHDRAWN,
    /// The command is not allowed in the participant's current state (PROTOCOL §2).
    STATE_TRANSITION,
    /// A Swedish personal identity number in input (PROTOCOL §3).
    PRIV_PNR,
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
    /// The biopsy target must be a lesion the reader confirmed (PROTOCOL §7).
    BIOPSY_TARGET,
    /// A settings value or settings change that is not allowed (PROTOCOL §14).
    SETTINGS,
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
            Rule::WITHDRAWN => "WITHDRAWN",
            Rule::STATE_TRANSITION => "STATE_TRANSITION",
            Rule::PRIV_PNR => "PRIV_PNR",
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
            Rule::BIOPSY_TARGET => "BIOPSY_TARGET",
            Rule::SETTINGS => "SETTINGS",
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
