//! Settings of the journey after baseline PET (PROTOCOL §7–§9, §11;
//! clinical-rules §7 A4, A5, A6, A9, A20 and §6.1). Every struct here has a
//! `Default` with the protocol's default, and every field of [`super::Settings`]
//! that holds one is `#[serde(default)]` so settings stored before these keys
//! existed still deserialize.

use chrono::NaiveDate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Fresh study biopsy (PROTOCOL §7, EX5; clinical-rules A9).
///
/// Default: `anticoagulant_min_pause_hours` 0.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct BiopsySettings {
    /// An anticoagulant/antiplatelet must have been paused at least this many hours
    /// before the biopsy. clinical-rules A9 asks for a drug-specific table that the
    /// protocol does not give; 0 (default) = a documented pause is enough.
    pub anticoagulant_min_pause_hours: u32,
}

/// What happens when no eligible specimen gives a HER2 result (clinical-rules A5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum NondiagnosticAction {
    /// Take a new study biopsy (default).
    Rebiopsy,
    /// Use an eligible archival sample instead.
    Archival,
    /// Screen failure.
    ScreenFail,
}

/// How several specimens with different HER2 categories allocate (clinical-rules A4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum MultiSpecimenRule {
    /// The highest HER2 category of all eligible specimens decides (default).
    MaxScore,
    /// Only specimens of the PET-guided target lesion of a fresh biopsy decide;
    /// the highest category among them if there are several.
    TargetedLesionOnly,
}

/// Allocation rules beyond the HER2-expressing definition (PROTOCOL §8).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct AllocationSettings {
    /// Non-diagnostic result (A5).
    pub nondiagnostic_action: NondiagnosticAction,
    /// Discordant specimens (A4).
    pub multi_specimen_rule: MultiSpecimenRule,
    /// A central read of a specimen replaces its local read (default true;
    /// clinical-rules §2.4: local vs central read). Also after a first allocation:
    /// a central read that changes the outcome waits for the investigator's signed
    /// confirmation. When false, the latest report of each specimen counts.
    pub central_read_supersedes_local: bool,
}

impl Default for AllocationSettings {
    fn default() -> Self {
        AllocationSettings {
            nondiagnostic_action: NondiagnosticAction::Rebiopsy,
            multi_specimen_rule: MultiSpecimenRule::MaxScore,
            central_read_supersedes_local: true,
        }
    }
}

/// T-DXd administration checks (PROTOCOL §9; clinical-rules §1.1–§1.3, §6.1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct TdxdSettings {
    /// Cycle length in days (SmPC 4.2: every 3 weeks).
    pub cycle_days: u32,
    /// A dose may be given this many days before the cycle is due (§6.1 placeholder ±3).
    pub dosing_window_days: u32,
    /// Dose in mg may differ from level × weight by at most this percentage (vial rounding).
    pub dose_tolerance_pct: f64,
    /// ILD grade 1 resolved within this many days of onset → same dose, else one level down.
    pub ild_resolution_same_dose_max_days: u32,
    /// LVEF must be repeated within this many days after an LVEF finding (label: 3 weeks).
    pub lvef_repeat_within_days: u32,
    /// The dose-modification table the T-DXd rules encode, shown on every T-DXd dose
    /// check and decision (clinical-rules A23: the label's grade 4 neutropenia, febrile
    /// neutropenia and grade 4 thrombocytopenia actions were not legible in the sources;
    /// verify before relying on them). Default: the table of clinical-rules §1.3.
    pub dose_mod_table_version: String,
    /// Date of the EU SmPC (Enhertu) the table was verified against (clinical-rules A23);
    /// null (default) = not yet verified against a dated SmPC, and every decision says so.
    pub smpc_date: Option<NaiveDate>,
}

impl TdxdSettings {
    /// The table and SmPC date in words, for evidence: `dose rules: clinical-rules §1.3
    /// (…); SmPC date not verified (clinical-rules A23)`.
    pub fn dose_rules(&self) -> String {
        format!(
            "dose rules: {}; {}",
            self.dose_mod_table_version,
            match self.smpc_date {
                Some(d) => format!("EU SmPC of {d}"),
                None => "SmPC date not verified (clinical-rules A23)".into(),
            }
        )
    }
}

impl Default for TdxdSettings {
    fn default() -> Self {
        TdxdSettings {
            cycle_days: 21,
            dosing_window_days: 3,
            dose_tolerance_pct: 5.0,
            ild_resolution_same_dose_max_days: 28,
            lvef_repeat_within_days: 21,
            dose_mod_table_version: "clinical-rules §1.3 (EU SmPC 4.2/4.4, enhertuhcp.com)".into(),
            smpc_date: None,
        }
    }
}

/// A window of days after an anchor, both ends inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DayWindow {
    /// First day after the anchor (0 = the anchor day).
    pub min_days: u32,
    /// Last day after the anchor.
    pub max_days: u32,
}

/// Visit windows that PROTOCOL.md leaves open (clinical-rules §6.1 placeholders).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct ScheduleSettings {
    /// Study biopsy after PET1 (§6.1 placeholder 0–14 days).
    pub biopsy_after_pet1: DayWindow,
    /// Cycle 1 day 1 of T-DXd after PET1 (§6.1 placeholder 0–28 days).
    pub c1d1_after_pet1: DayWindow,
    /// Optional PET3 + biopsy after progression (no source; placeholder 0–28 days).
    pub pet3_after_progression: DayWindow,
}

impl Default for ScheduleSettings {
    fn default() -> Self {
        ScheduleSettings {
            biopsy_after_pet1: DayWindow {
                min_days: 0,
                max_days: 14,
            },
            c1d1_after_pet1: DayWindow {
                min_days: 0,
                max_days: 28,
            },
            pet3_after_progression: DayWindow {
                min_days: 0,
                max_days: 28,
            },
        }
    }
}

/// Safety reporting (PROTOCOL §11; CTR Art. 41(2)).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct SafetySettings {
    /// A serious adverse event must reach the sponsor within this many hours of site awareness.
    pub sae_report_hours: u32,
}

impl Default for SafetySettings {
    fn default() -> Self {
        SafetySettings {
            sae_report_hours: 24,
        }
    }
}

/// The event that ends arm-1 participation (clinical-rules A20: undefined in the registration).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Arm1EndEvent {
    /// After the response PET (PET2).
    Pet2Done,
    /// After progression, once the optional PET3 is done or its window has passed (default).
    Progression,
    /// When T-DXd is permanently discontinued (last dose + AE follow-up is not modelled).
    TreatmentDiscontinued,
}

/// Arm-1 end of participation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Arm1Settings {
    /// Which event ends participation.
    pub end_of_study_event: Arm1EndEvent,
}

impl Default for Arm1Settings {
    fn default() -> Self {
        Arm1Settings {
            end_of_study_event: Arm1EndEvent::Progression,
        }
    }
}

/// How the best overall response is derived from the time-point responses (RECIST 1.1
/// §4.4.3, Table 3; §4.6), and the RECIST choices the protocol makes. Both best results,
/// with and without confirmation, are recorded; `confirmation` says which one is the
/// trial's headline result. The size minima of measurability are under `lesions`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct RecistResponseSettings {
    /// Whether CR and PR need a confirming scan (default false: response at 9–12 weeks is
    /// a secondary, exploratory endpoint read at one scan; RECIST 1.1 §4.6.1).
    pub confirmation: bool,
    /// Minimum days from a response to the scan confirming it (RECIST 1.1 §4.6.1: 4 weeks).
    /// A CR followed by a CR this long after it is a confirmed CR, after which a target
    /// that reappears (a node ≥ 10 mm short axis) is progression (EORTC RECIST FAQ).
    pub confirm_min_days: u32,
    /// Minimum days from treatment start for stable disease to count as best response
    /// (RECIST 1.1 §4.4.3: "in general 6–8 weeks"; default 42).
    pub sd_min_days: u32,
    /// RECIST 1.1 Table 3 note a ("any disease after a CR is PD"), in the best response
    /// with confirmation: `after_confirmed_cr` (default) applies it only after a CR that a
    /// later CR confirmed, so an unconfirmed CR (perhaps a PR read as CR) does not make a
    /// later SD or PR into PD; `after_any_cr` applies it after any CR, as Table 3 is
    /// printed (the engine's reading before version 1.1).
    pub pd_after_cr: crate::recist::PdAfterCr,
    /// Whether a lesion in a previously irradiated field that has progressed since may be
    /// a target (RECIST 1.1 §3.1.3 leaves it to the protocol; default true). Without
    /// progression it never may.
    pub irradiated_measurable_if_progressed: bool,
}

impl Default for RecistResponseSettings {
    fn default() -> Self {
        let rules = crate::recist::BestResponseRules::default();
        RecistResponseSettings {
            confirmation: rules.confirmation,
            confirm_min_days: rules.confirm_min_days,
            sd_min_days: rules.sd_min_days,
            pd_after_cr: rules.pd_after_cr,
            irradiated_measurable_if_progressed: true,
        }
    }
}
