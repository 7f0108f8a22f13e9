//! The participant commands the API and the pages offer: one table, so the JSON API, the
//! OpenAPI document and the web forms can never disagree about what exists, who may do
//! it and what it takes. Forms list a command's fields in declaration order
//! ([`declared_fields`]).

use chrono::{DateTime, Utc};
use protocol::{Command, CommandKind};
use serde_json::Value;

use crate::access::User;
use crate::error::{Error, Result};
use crate::roles::Capability;

mod labels;

pub use labels::{field_label, label};

/// One command as offered over HTTP.
pub struct CommandSpec {
    /// The protocol command it offers.
    pub kind: CommandKind,
    /// URL segment and id (`consent`).
    pub name: &'static str,
    /// Title on pages.
    pub title: &'static str,
    /// One sentence on what it records.
    pub summary: &'static str,
    /// Who may run it.
    pub capability: Capability,
    /// For signed commands, the meaning of the signature shown and recorded.
    pub signature_meaning: Option<&'static str>,
    /// JSON Schema of the command's data.
    pub schema: fn() -> Value,
    /// Builds the protocol command from its data.
    pub build: fn(Value) -> Result<Command, serde_json::Error>,
    /// The data's fields in declaration order (forms show them so).
    pub field_order: fn() -> &'static [&'static str],
    /// The page that offers it, when it is not the generic form (`pet`: the PET exam page).
    pub own_page: Option<&'static str>,
}

macro_rules! spec {
    ($name:literal, $title:literal, $summary:literal, $cap:ident, $meaning:expr, $ty:ident) => {
        CommandSpec {
            kind: CommandKind::$ty,
            name: $name,
            title: $title,
            summary: $summary,
            capability: Capability::$cap,
            signature_meaning: $meaning,
            schema: || {
                let schema = serde_json::to_value(schemars::schema_for!(protocol::$ty));
                labels::labelled($name, schema.unwrap_or(Value::Null))
            },
            build: |v| serde_json::from_value(v).map(Command::$ty),
            field_order: crate::commands::declared_fields::<protocol::$ty>,
            own_page: None,
        }
    };
}

/// How a protocol command is offered to users: the one place that says it, for every
/// command (an exhaustive match: a new command does not compile until it is stated here).
fn offer(kind: CommandKind) -> Option<CommandSpec> {
    use CommandKind as K;
    #[rustfmt::skip]
    let spec = match kind {
        // Registration has its own endpoint: the study id is assigned, not typed.
        K::RegisterParticipant => return None,
        // Built by the trial from the archived series, never from a form.
        K::RecordPetQuantification => return None,
            K::RecordConsent => spec!("consent", "Record consent", "The signed informed consent: form version and date-time of signature.", EnterData, None, RecordConsent),
            K::RecordTreatmentLine => spec!("treatment-line", "Treatment history", "One line of earlier cancer treatment: setting, regimen, dates, progression.", EnterData, None, RecordTreatmentLine),
            K::RecordLesion => spec!("lesion", "Lesion", "One lesion from screening imaging: organ, size, measurability facts, biopsy access.", EnterData, None, RecordLesion),
            K::RecordLab => spec!("lab", "Lab value", "One laboratory value with its unit, reference limit and sample date.", EnterData, None, RecordLab),
            K::RecordBodyWeight => spec!("body-weight", "Body weight", "Body weight (for creatinine clearance and dosing).", EnterData, None, RecordBodyWeight),
            K::RecordPerformanceStatus => spec!("performance-status", "WHO performance status", "WHO performance status and when it was assessed.", EnterData, None, RecordPerformanceStatus),
            K::RecordChildbearingPotential => spec!("childbearing-potential", "Child-bearing potential", "Whether she can become pregnant, and the contraception agreed.", EnterData, None, RecordChildbearingPotential),
            K::RecordPregnancyTest => spec!("pregnancy-test", "Pregnancy test", "A pregnancy test: kind, result and time.", EnterData, None, RecordPregnancyTest),
            K::RecordMedicalHistory => spec!("medical-history", "Medical history", "Facts for the exclusion criteria: LVEF, liver metastases, bleeding disorder, anticoagulation.", EnterData, None, RecordMedicalHistory),
            K::RecordPriorHer2Result => spec!("prior-her2-result", "Earlier HER2 result", "A HER2 result of an earlier biopsy.", EnterData, None, RecordPriorHer2Result),
            K::RecordOtherMalignancy => spec!("other-malignancy", "Other malignancy", "Another cancer in her history.", EnterData, None, RecordOtherMalignancy),
            K::RecordArchivalBiopsy => spec!("archival-biopsy", "Earlier biopsy", "An earlier biopsy that may replace the study biopsy.", EnterData, None, RecordArchivalBiopsy),
            K::RecordAttestation => spec!("attestation", "Investigator attestation", "The investigator answers an eligibility question decided by judgement: expected survival, contraception, contraindication to T-DXd, bleeding risk.", InvestigatorSign, Some("I attest that the answers I give here are true for this participant."), RecordAttestation),
            K::RetractEntry => spec!("retract-entry", "Retract an entry", "Marks an entry as entered in error; it stays in the history.", EnterData, None, RetractEntry),
            K::Enrol => spec!("enrol", "Sign enrolment", "The investigator confirms the eligible result and enrols the participant.", InvestigatorSign, Some("I confirm that this participant meets every eligibility criterion and enrol her in HER2-Ex PET."), Enrol),
            K::ScreenFail => spec!("screen-fail", "Screen failure", "The participant does not enter the study; the reason is recorded.", InvestigatorSign, None, ScreenFail),
            K::WithdrawConsent => spec!("withdraw-consent", "Withdraw consent", "Consent withdrawn: no new data from then on; what was collected stays.", EnterData, None, WithdrawConsent),
            K::RecordLostToFollowUp => spec!("lost-to-follow-up", "Lost to follow-up", "She can no longer be reached.", EnterData, None, RecordLostToFollowUp),
            K::RecordDeath => spec!("death", "Death", "Date and cause of death.", EnterData, None, RecordDeath),
            K::RecordImpAdministration => spec!("imp-administration", "IMP administration", "[68Ga]Ga-ABY-025 given for a PET: activity, injection time, weight, height. A woman of child-bearing potential needs a recent negative serum test.", EnterData, None, RecordImpAdministration),
            K::ReviewPetLesions => CommandSpec { own_page: Some("pet"), ..spec!("pet-review", "PET lesion review", "The nuclear-medicine reader confirms or rejects every candidate lesion, adds missed ones, and labels site and ultrasound access.", ReviewImaging, None, ReviewPetLesions) },
            K::RecordFreshBiopsy => spec!("fresh-biopsy", "Study biopsy", "The PET-guided biopsy of the chosen lesion: time, anticoagulation pause, complications. Needs bleeding labs in the window before it.", EnterData, None, RecordFreshBiopsy),
            K::UseArchivalBiopsy => spec!("use-archival-biopsy", "Use an earlier biopsy", "Use an earlier biopsy recorded at screening instead of a fresh one, if it is recent enough and without intervening therapy.", EnterData, None, UseArchivalBiopsy),
            K::RecordPathology => spec!("pathology", "Pathology report", "HER2 IHC (0, ultralow, 1+, 2+, 3+), staining, ISH for 2+, or a non-diagnostic specimen. The baseline biopsy's report allocates her.", ReportPathology, None, RecordPathology),
            K::CorrectAllocation => spec!("correct-allocation", "Correct the allocation", "Changes the arm: only with a reason and your signature.", InvestigatorSign, Some("I correct this participant's allocation for the reason given."), CorrectAllocation),
            K::RecordTdxdAdministration => spec!("tdxd", "T-DXd administration", "One infusion of trastuzumab deruxtecan: date, weight, dose level and dose. Checked against the dose rules and the open interruptions.", EnterData, None, RecordTdxdAdministration),
            K::RecordAdverseEvent => CommandSpec { own_page: Some("ae"), ..spec!("adverse-event", "Adverse event", "An adverse event coded with CTCAE v5.0: term, grade, dates, seriousness, relation to the IMP and to T-DXd, action, outcome.", EnterData, None, RecordAdverseEvent) },
            K::RecordPregnancyReport => spec!("pregnancy-report", "Pregnancy report", "A pregnancy during the study or after exposure; the sponsor must hear of it within 24 hours.", EnterData, None, RecordPregnancyReport),
            K::EndParticipation => spec!("end-participation", "End participation", "Off study: arm 2 after its follow-up, arm 1 at the end event, or the investigator's decision with a note.", EnterData, None, EndParticipation),
            K::ConfirmPetResponse => CommandSpec { own_page: Some("pet"), ..spec!("pet-response", "PET response PET1 → PET2", "The nuclear-medicine reader decides every PET2 candidate (same lesion as a PET1 lesion, new lesion, or not a lesion); the PERCIST-style comparison is recorded with its category and algorithm version.", ReviewImaging, None, ConfirmPetResponse) },
            K::ChooseBiopsyTarget => CommandSpec { own_page: Some("pet"), ..spec!("biopsy-target", "Choose the biopsy target", "The investigator chooses the lesion to biopsy from the reviewed PET, with a reason.", InvestigatorSign, Some("I choose this lesion as the biopsy target for the reason given."), ChooseBiopsyTarget) },
            K::RecordBaselineTumourAssessment => CommandSpec { own_page: Some("response"), ..spec!("tumour-baseline", "Baseline CT (RECIST 1.1)", "The reader's baseline CT: up to 5 target lesions (at most 2 per organ, measurable) with their diameters, and the non-target lesions.", ReviewImaging, None, RecordBaselineTumourAssessment) },
            K::RecordTumourAssessment => CommandSpec { own_page: Some("response"), ..spec!("tumour-assessment", "Follow-up CT (RECIST 1.1)", "The reader's follow-up CT: every baseline target measured, every non-target's status, new lesions; the RECIST 1.1 result is recorded with it.", ReviewImaging, None, RecordTumourAssessment) },
    };
    Some(spec)
}

/// Every participant command offered over HTTP, in the protocol's order.
pub fn all() -> &'static [CommandSpec] {
    static SPECS: std::sync::OnceLock<Vec<CommandSpec>> = std::sync::OnceLock::new();
    SPECS.get_or_init(|| CommandKind::ALL.into_iter().filter_map(offer).collect())
}

/// Finds a command by its id.
pub fn find(name: &str) -> Option<&'static CommandSpec> {
    all().iter().find(|s| s.name == name)
}

/// The spec offering a protocol command, if users are offered it.
pub fn of_kind(kind: CommandKind) -> Option<&'static CommandSpec> {
    all().iter().find(|s| s.kind == kind)
}

/// The spec offering a protocol command, with the command's data as the form and the API
/// take it (the inverse of [`build`]).
pub fn for_command(command: &Command) -> Option<(&'static CommandSpec, Value)> {
    let spec = of_kind(command.kind())?;
    let mut value = serde_json::to_value(command).ok()?;
    value.as_object_mut()?.remove("type")?;
    Some((spec, value))
}

/// Builds the protocol command from request data: refuses personal identity numbers in
/// any string, and for signed commands adds the signature of the (re-authenticated) user.
pub fn build(
    spec: &CommandSpec,
    mut data: Value,
    signer: Option<(&User, &str)>,
    now: DateTime<Utc>,
) -> Result<Command> {
    refuse_personal_numbers("", &data)?;
    if spec.signature_meaning.is_some() {
        let (user, meaning) = signer.ok_or_else(|| {
            Error::BadRequest("this command is signed: re-enter your password".into())
        })?;
        let signature = protocol::ESignature {
            signer: user.username.clone(),
            role: user.role.id().to_string(),
            meaning: meaning.to_string(),
            signed_at: now,
        };
        match &mut data {
            Value::Object(map) => {
                let value = serde_json::to_value(signature)
                    .map_err(|e| Error::internal("writing a signature", e))?;
                map.insert("signature".into(), value);
            }
            _ => return Err(Error::BadRequest("`data` must be a JSON object".into())),
        }
    }
    (spec.build)(data).map_err(|e| Error::BadRequest(format!("data for {}: {e}", spec.name)))
}

/// Walks every string of a request and refuses one that holds a Swedish personal identity
/// number (PROTOCOL.md §3), naming the field but never echoing the number.
pub fn refuse_personal_numbers(path: &str, value: &Value) -> Result<()> {
    match value {
        Value::String(s) => {
            let field = if path.is_empty() { "value" } else { path };
            protocol::privacy::check_free_text(field, s).map_err(Error::Refused)
        }
        Value::Array(items) => items
            .iter()
            .enumerate()
            .try_for_each(|(i, v)| refuse_personal_numbers(&format!("{path}[{i}]"), v)),
        Value::Object(map) => map.iter().try_for_each(|(k, v)| {
            let p = if path.is_empty() {
                k.clone()
            } else {
                format!("{path}.{k}")
            };
            refuse_personal_numbers(&p, v)
        }),
        _ => Ok(()),
    }
}

/// The fields a type declares, in declaration order (JSON Schema objects lose the order).
///
/// Serde's derived `Deserialize` names a struct's fields, in order, when it asks a
/// deserializer for a struct; this probe is a deserializer that only listens for that.
pub fn declared_fields<T: serde::de::DeserializeOwned>() -> &'static [&'static str] {
    use serde::de::{Error, Visitor};
    struct Probe(Option<&'static [&'static str]>);
    impl<'de> serde::Deserializer<'de> for &mut Probe {
        type Error = serde::de::value::Error;
        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
            Err(Self::Error::custom("field probe"))
        }
        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Self::Error> {
            self.0 = Some(fields);
            Err(Self::Error::custom("field probe"))
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes
            byte_buf option unit unit_struct newtype_struct seq tuple tuple_struct map enum
            identifier ignored_any
        }
    }
    let mut probe = Probe(None);
    let _ = T::deserialize(&mut probe);
    probe.0.unwrap_or(&[])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize)]
    #[allow(dead_code)]
    struct Example {
        zeta: u8,
        alpha: Option<String>,
        mid: bool,
    }

    #[test]
    fn declared_order_is_recovered_from_serde() {
        assert_eq!(declared_fields::<Example>(), ["zeta", "alpha", "mid"]);
    }

    #[test]
    fn every_offered_command_has_one_spec_a_form_and_the_right_kind() {
        assert_eq!(
            all().len(),
            CommandKind::ALL.len() - 2,
            "all but registration and quantification"
        );
        for spec in all() {
            assert_eq!(
                find(spec.name).map(|s| s.kind),
                Some(spec.kind),
                "{}",
                spec.name
            );
            assert!(!(spec.field_order)().is_empty() || spec.name == "enrol");
            let schema = (spec.schema)();
            assert!(
                schema.get("properties").is_some(),
                "{} has a schema",
                spec.name
            );
        }
        let consent = protocol::testing::attest(
            protocol::AttestedCriterion::In7,
            true,
            chrono::DateTime::UNIX_EPOCH,
        );
        let (spec, data) = for_command(&consent).expect("offered");
        assert_eq!(spec.name, "attestation");
        assert!(data.get("type").is_none());
    }

    /// Every field a form can show has a clinician's label, never its code name.
    #[test]
    fn every_field_has_a_label_in_words() {
        for spec in all() {
            let schema = (spec.schema)();
            let props = schema["properties"].as_object().expect("properties");
            for (name, prop) in props.iter().filter(|(n, _)| n.as_str() != "signature") {
                let title = prop.get("title").and_then(Value::as_str);
                let title = title.unwrap_or_else(|| panic!("{}: {name} has no label", spec.name));
                assert!(
                    !title.contains('_') && title != name,
                    "{}: {name} is labelled {title:?}",
                    spec.name
                );
            }
        }
        assert_eq!(
            label("performance-status", "who_ps"),
            Some("WHO performance status")
        );
        assert_eq!(
            label("pathology", "ish_ratio"),
            Some("ISH HER2/CEP17 ratio")
        );
        assert_eq!(
            label("prior-her2-result", "metastatic"),
            Some("Biopsy of a metastasis")
        );
        assert_eq!(label("lesion", "metastatic"), field_label("metastatic"));
    }
}
