//! The per-command facts in one typed registry: each [`Command`] has a [`CommandKind`],
//! which names the command (its JSON `type`); the command says which entry it
//! corrects ([`Command::corrects`]), and the kind which states it is allowed in
//! ([`CommandKind::allowed_in`], in `allowed.rs`).
//!
//! Every mapping is an exhaustive `match` without a wildcard arm: a new command does
//! not compile until its facts are stated, and a misspelt name cannot fall into a
//! default.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::Command;

/// A [`Command`] without its data. Serialized as the command's name, which is the
/// `type` tag of the command's JSON.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum CommandKind {
    /// See [`Command::RegisterParticipant`].
    RegisterParticipant,
    /// See [`Command::RecordConsent`].
    RecordConsent,
    /// See [`Command::WithdrawConsent`].
    WithdrawConsent,
    /// See [`Command::RecordTreatmentLine`].
    RecordTreatmentLine,
    /// See [`Command::RecordLesion`].
    RecordLesion,
    /// See [`Command::RecordLab`].
    RecordLab,
    /// See [`Command::RecordBodyWeight`].
    RecordBodyWeight,
    /// See [`Command::RecordPerformanceStatus`].
    RecordPerformanceStatus,
    /// See [`Command::RecordChildbearingPotential`].
    RecordChildbearingPotential,
    /// See [`Command::RecordPregnancyTest`].
    RecordPregnancyTest,
    /// See [`Command::RecordMedicalHistory`].
    RecordMedicalHistory,
    /// See [`Command::RecordPriorHer2Result`].
    RecordPriorHer2Result,
    /// See [`Command::RecordOtherMalignancy`].
    RecordOtherMalignancy,
    /// See [`Command::RecordArchivalBiopsy`].
    RecordArchivalBiopsy,
    /// See [`Command::RecordAttestation`].
    RecordAttestation,
    /// See [`Command::RetractEntry`].
    RetractEntry,
    /// See [`Command::Enrol`].
    Enrol,
    /// See [`Command::ScreenFail`].
    ScreenFail,
    /// See [`Command::RecordDeath`].
    RecordDeath,
    /// See [`Command::RecordLostToFollowUp`].
    RecordLostToFollowUp,
    /// See [`Command::RecordImpAdministration`].
    RecordImpAdministration,
    /// See [`Command::RecordPetQuantification`].
    RecordPetQuantification,
    /// See [`Command::ReviewPetLesions`].
    ReviewPetLesions,
    /// See [`Command::ChooseBiopsyTarget`].
    ChooseBiopsyTarget,
    /// See [`Command::ConfirmPetResponse`].
    ConfirmPetResponse,
    /// See [`Command::RecordFreshBiopsy`].
    RecordFreshBiopsy,
    /// See [`Command::UseArchivalBiopsy`].
    UseArchivalBiopsy,
    /// See [`Command::RecordPathology`].
    RecordPathology,
    /// See [`Command::CorrectAllocation`].
    CorrectAllocation,
    /// See [`Command::RecordTdxdAdministration`].
    RecordTdxdAdministration,
    /// See [`Command::RecordAdverseEvent`].
    RecordAdverseEvent,
    /// See [`Command::EndParticipation`].
    EndParticipation,
    /// See [`Command::RecordPregnancyReport`].
    RecordPregnancyReport,
    /// See [`Command::RecordBaselineTumourAssessment`].
    RecordBaselineTumourAssessment,
    /// See [`Command::RecordTumourAssessment`].
    RecordTumourAssessment,
}

use CommandKind as K;

impl CommandKind {
    /// Every command kind, in the order of [`Command`].
    pub const ALL: [CommandKind; 35] = [
        K::RegisterParticipant,
        K::RecordConsent,
        K::WithdrawConsent,
        K::RecordTreatmentLine,
        K::RecordLesion,
        K::RecordLab,
        K::RecordBodyWeight,
        K::RecordPerformanceStatus,
        K::RecordChildbearingPotential,
        K::RecordPregnancyTest,
        K::RecordMedicalHistory,
        K::RecordPriorHer2Result,
        K::RecordOtherMalignancy,
        K::RecordArchivalBiopsy,
        K::RecordAttestation,
        K::RetractEntry,
        K::Enrol,
        K::ScreenFail,
        K::RecordDeath,
        K::RecordLostToFollowUp,
        K::RecordImpAdministration,
        K::RecordPetQuantification,
        K::ReviewPetLesions,
        K::ChooseBiopsyTarget,
        K::ConfirmPetResponse,
        K::RecordFreshBiopsy,
        K::UseArchivalBiopsy,
        K::RecordPathology,
        K::CorrectAllocation,
        K::RecordTdxdAdministration,
        K::RecordAdverseEvent,
        K::EndParticipation,
        K::RecordPregnancyReport,
        K::RecordBaselineTumourAssessment,
        K::RecordTumourAssessment,
    ];

    /// The command's name in snake_case, as in its JSON `type`.
    pub fn name(self) -> &'static str {
        match self {
            K::RegisterParticipant => "register_participant",
            K::RecordConsent => "record_consent",
            K::WithdrawConsent => "withdraw_consent",
            K::RecordTreatmentLine => "record_treatment_line",
            K::RecordLesion => "record_lesion",
            K::RecordLab => "record_lab",
            K::RecordBodyWeight => "record_body_weight",
            K::RecordPerformanceStatus => "record_performance_status",
            K::RecordChildbearingPotential => "record_childbearing_potential",
            K::RecordPregnancyTest => "record_pregnancy_test",
            K::RecordMedicalHistory => "record_medical_history",
            K::RecordPriorHer2Result => "record_prior_her2_result",
            K::RecordOtherMalignancy => "record_other_malignancy",
            K::RecordArchivalBiopsy => "record_archival_biopsy",
            K::RecordAttestation => "record_attestation",
            K::RetractEntry => "retract_entry",
            K::Enrol => "enrol",
            K::ScreenFail => "screen_fail",
            K::RecordDeath => "record_death",
            K::RecordLostToFollowUp => "record_lost_to_follow_up",
            K::RecordImpAdministration => "record_imp_administration",
            K::RecordPetQuantification => "record_pet_quantification",
            K::ReviewPetLesions => "review_pet_lesions",
            K::ChooseBiopsyTarget => "choose_biopsy_target",
            K::ConfirmPetResponse => "confirm_pet_response",
            K::RecordFreshBiopsy => "record_fresh_biopsy",
            K::UseArchivalBiopsy => "use_archival_biopsy",
            K::RecordPathology => "record_pathology",
            K::CorrectAllocation => "correct_allocation",
            K::RecordTdxdAdministration => "record_tdxd_administration",
            K::RecordAdverseEvent => "record_adverse_event",
            K::EndParticipation => "end_participation",
            K::RecordPregnancyReport => "record_pregnancy_report",
            K::RecordBaselineTumourAssessment => "record_baseline_tumour_assessment",
            K::RecordTumourAssessment => "record_tumour_assessment",
        }
    }

    /// The kind named `name` (a command's JSON `type`), if there is one.
    pub fn from_name(name: &str) -> Option<CommandKind> {
        CommandKind::ALL.into_iter().find(|k| k.name() == name)
    }
}

impl std::fmt::Display for CommandKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl Command {
    /// The command without its data.
    pub fn kind(&self) -> CommandKind {
        match self {
            Command::RegisterParticipant(_) => K::RegisterParticipant,
            Command::RecordConsent(_) => K::RecordConsent,
            Command::WithdrawConsent(_) => K::WithdrawConsent,
            Command::RecordTreatmentLine(_) => K::RecordTreatmentLine,
            Command::RecordLesion(_) => K::RecordLesion,
            Command::RecordLab(_) => K::RecordLab,
            Command::RecordBodyWeight(_) => K::RecordBodyWeight,
            Command::RecordPerformanceStatus(_) => K::RecordPerformanceStatus,
            Command::RecordChildbearingPotential(_) => K::RecordChildbearingPotential,
            Command::RecordPregnancyTest(_) => K::RecordPregnancyTest,
            Command::RecordMedicalHistory(_) => K::RecordMedicalHistory,
            Command::RecordPriorHer2Result(_) => K::RecordPriorHer2Result,
            Command::RecordOtherMalignancy(_) => K::RecordOtherMalignancy,
            Command::RecordArchivalBiopsy(_) => K::RecordArchivalBiopsy,
            Command::RecordAttestation(_) => K::RecordAttestation,
            Command::RetractEntry(_) => K::RetractEntry,
            Command::Enrol(_) => K::Enrol,
            Command::ScreenFail(_) => K::ScreenFail,
            Command::RecordDeath(_) => K::RecordDeath,
            Command::RecordLostToFollowUp(_) => K::RecordLostToFollowUp,
            Command::RecordImpAdministration(_) => K::RecordImpAdministration,
            Command::RecordPetQuantification(_) => K::RecordPetQuantification,
            Command::ReviewPetLesions(_) => K::ReviewPetLesions,
            Command::ChooseBiopsyTarget(_) => K::ChooseBiopsyTarget,
            Command::ConfirmPetResponse(_) => K::ConfirmPetResponse,
            Command::RecordFreshBiopsy(_) => K::RecordFreshBiopsy,
            Command::UseArchivalBiopsy(_) => K::UseArchivalBiopsy,
            Command::RecordPathology(_) => K::RecordPathology,
            Command::CorrectAllocation(_) => K::CorrectAllocation,
            Command::RecordTdxdAdministration(_) => K::RecordTdxdAdministration,
            Command::RecordAdverseEvent(_) => K::RecordAdverseEvent,
            Command::EndParticipation(_) => K::EndParticipation,
            Command::RecordPregnancyReport(_) => K::RecordPregnancyReport,
            Command::RecordBaselineTumourAssessment(_) => K::RecordBaselineTumourAssessment,
            Command::RecordTumourAssessment(_) => K::RecordTumourAssessment,
        }
    }

    /// The command's name in snake_case, as in its JSON `type`.
    pub fn name(&self) -> &'static str {
        self.kind().name()
    }

    /// The entry this command corrects (its `corrects` field), if it is a correction;
    /// `None` for a new fact and for commands that cannot correct an entry.
    pub fn corrects(&self) -> Option<&str> {
        let corrects = match self {
            Command::RecordTreatmentLine(c) => &c.corrects,
            Command::RecordLesion(c) => &c.corrects,
            Command::RecordLab(c) => &c.corrects,
            Command::RecordBodyWeight(c) => &c.corrects,
            Command::RecordPerformanceStatus(c) => &c.corrects,
            Command::RecordChildbearingPotential(c) => &c.corrects,
            Command::RecordPregnancyTest(c) => &c.corrects,
            Command::RecordMedicalHistory(c) => &c.corrects,
            Command::RecordPriorHer2Result(c) => &c.corrects,
            Command::RecordOtherMalignancy(c) => &c.corrects,
            Command::RecordArchivalBiopsy(c) => &c.corrects,
            Command::RecordImpAdministration(c) => &c.corrects,
            Command::RecordAdverseEvent(c) => &c.corrects,
            Command::RecordBaselineTumourAssessment(c) => &c.corrects,
            Command::RecordTumourAssessment(c) => &c.corrects,
            Command::RegisterParticipant(_)
            | Command::RecordConsent(_)
            | Command::WithdrawConsent(_)
            | Command::RecordAttestation(_)
            | Command::RetractEntry(_)
            | Command::Enrol(_)
            | Command::ScreenFail(_)
            | Command::RecordDeath(_)
            | Command::RecordLostToFollowUp(_)
            | Command::RecordPetQuantification(_)
            | Command::ReviewPetLesions(_)
            | Command::ChooseBiopsyTarget(_)
            | Command::ConfirmPetResponse(_)
            | Command::RecordFreshBiopsy(_)
            | Command::UseArchivalBiopsy(_)
            | Command::RecordPathology(_)
            | Command::CorrectAllocation(_)
            | Command::RecordTdxdAdministration(_)
            | Command::EndParticipation(_)
            | Command::RecordPregnancyReport(_) => return None,
        };
        corrects.as_deref()
    }
}

#[cfg(test)]
pub(super) mod tests {
    use std::collections::BTreeSet;

    use chrono::{TimeZone, Utc};

    use super::*;
    use crate::records::IhcScore;
    use crate::testing;

    /// Every string a JSON schema allows (its `enum` and `const` values, at any depth).
    pub(in crate::command) fn schema_strings(v: &serde_json::Value, out: &mut BTreeSet<String>) {
        match v {
            serde_json::Value::Object(m) => {
                for (k, v) in m {
                    match (k.as_str(), v) {
                        ("const", serde_json::Value::String(s)) => {
                            out.insert(s.clone());
                        }
                        ("enum", serde_json::Value::Array(a)) => {
                            out.extend(a.iter().filter_map(|s| s.as_str().map(str::to_owned)));
                        }
                        _ => schema_strings(v, out),
                    }
                }
            }
            serde_json::Value::Array(a) => a.iter().for_each(|v| schema_strings(v, out)),
            _ => {}
        }
    }

    #[test]
    fn every_kind_round_trips_through_its_name() {
        for k in CommandKind::ALL {
            assert_eq!(CommandKind::from_name(k.name()), Some(k));
            assert_eq!(k.to_string(), k.name());
            let json = serde_json::to_value(k).unwrap();
            assert_eq!(json, k.name(), "{k:?} serializes as its name");
            assert_eq!(serde_json::from_value::<CommandKind>(json).unwrap(), k);
        }
        assert_eq!(CommandKind::from_name("record_labs"), None);
    }

    #[test]
    fn all_lists_every_kind_once_in_command_order() {
        assert!(CommandKind::ALL.windows(2).all(|w| w[0] < w[1]));
        // The schema is derived from the enum itself, so it names every variant.
        let schema = serde_json::to_value(schemars::schema_for!(CommandKind)).unwrap();
        let mut in_schema = BTreeSet::new();
        schema_strings(&schema, &mut in_schema);
        let listed: BTreeSet<String> = CommandKind::ALL.iter().map(|k| k.to_string()).collect();
        assert_eq!(in_schema, listed);
    }

    #[test]
    fn a_commands_kind_is_its_json_type() {
        let at = Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap();
        let day = at.date_naive();
        let mut sample = testing::eligible_participant_commands("KS", "KS-014", at);
        sample.push(testing::enrol_command(at));
        sample.extend(testing::baseline_pet_commands(at));
        sample.push(testing::fresh_biopsy_command(at));
        sample.push(testing::pathology_command(
            "biopsy-1",
            "A",
            IhcScore::TwoPlus,
            false,
            day,
        ));
        sample.push(testing::tdxd_command(
            day,
            crate::journey::tdxd::DoseLevel::Start,
        ));
        sample.push(testing::adverse_event_command(10_028_813, 2, day, at));
        let mut kinds = BTreeSet::new();
        for c in &sample {
            let json = serde_json::to_value(c).unwrap();
            assert_eq!(json["type"], c.kind().name());
            assert_eq!(c.name(), c.kind().name());
            kinds.insert(c.kind());
        }
        assert!(kinds.len() >= 15, "a broad sample: {kinds:?}");
    }

    #[test]
    fn corrects_names_the_corrected_entry() {
        let at = Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap();
        let mut cmd = testing::lab(crate::labs::Analyte::Platelets, 245.0, "10^9/L", None, at);
        assert_eq!(cmd.corrects(), None);
        if let Command::RecordLab(c) = &mut cmd {
            c.corrects = Some("lab-1".into());
        }
        assert_eq!(cmd.corrects(), Some("lab-1"));
        assert_eq!(testing::enrol_command(at).corrects(), None);
    }
}
