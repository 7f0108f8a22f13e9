//! The versioned protocol settings (PROTOCOL.md §14).
//!
//! Every threshold and every choice marked *configurable* in PROTOCOL.md lives
//! here; keys and defaults follow `reference/clinical-rules.md` §7. Version 1 is
//! the protocol as registered. A protocol amendment changes these values, never
//! the code, and every decision event records the version it used.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::local_time::SiteTimeZone;
use crate::records::OtherMalignancyType;

mod ambiguities;
mod journey;
mod validate;

pub use ambiguities::{
    ApttLimit, Ex2Scope, Her2PositiveAction, ImpProduct, REGISTERED_PROTOCOL_VERSION,
    RegulatoryFramework, SusarDays,
};

pub use journey::{
    AllocationSettings, Arm1EndEvent, Arm1Settings, BiopsySettings, DayWindow, MultiSpecimenRule,
    NondiagnosticAction, RecistResponseSettings, SafetySettings, ScheduleSettings, TdxdSettings,
};
pub use validate::validate_settings_change;

/// All configurable protocol values, versioned.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Settings version; 1 = the protocol defaults. Increases by one per change.
    pub version: u32,
    /// The protocol version these settings implement, shown with the settings version on
    /// decisions (PROTOCOL §14). Default: the registration as last updated
    /// ([`REGISTERED_PROTOCOL_VERSION`]); an amendment names its version.
    #[serde(default = "ambiguities::default_protocol_version")]
    pub protocol_version: String,
    /// First day of the study (registration: study start 2025-10-03); consent before it is impossible.
    pub study_start: NaiveDate,
    /// IN1: minimum age in years at consent.
    pub min_age_years: u32,
    /// IN6: highest WHO performance status allowed.
    pub ps_max: u8,
    /// IN7 / clinical-rules A16: expected survival must exceed this many weeks.
    pub min_life_expectancy_weeks: u32,
    /// IN2 and clinical-rules A17.
    pub prior_chemo: PriorChemoSettings,
    /// IN4, IN5 and RECIST 1.1 measurability (clinical-rules A14).
    pub lesions: LesionSettings,
    /// IN4 exception and PROTOCOL §7 (clinical-rules A1).
    pub archival_biopsy: ArchivalBiopsySettings,
    /// EX4 thresholds (clinical-rules §1.5, A10).
    pub organ_function: OrganFunctionSettings,
    /// EX5 thresholds (trial registration; clinical-rules A8).
    pub bleeding: BleedingSettings,
    /// EX3 exceptions (clinical-rules A18). Registration: basal cell carcinoma of the skin only.
    pub other_malignancy_exceptions: Vec<OtherMalignancyType>,
    /// EX3 look-back (clinical-rules A18 `other_malignancy.lookback_years`): a malignancy
    /// diagnosed within this many years counts even when no longer manifest. `null`
    /// (default, the registration's "manifest"): no look-back window, only a manifest
    /// malignancy counts, however long ago it was diagnosed.
    #[serde(default)]
    pub other_malignancy_lookback_years: Option<u32>,
    /// HER2-positive (IHC 3+ or ISH amplified) on the trial biopsy (clinical-rules A3;
    /// default `OFF_STUDY_REFER`, PROTOCOL §8).
    #[serde(default)]
    pub her2_positive_on_trial_biopsy_action: Her2PositiveAction,
    /// EX2: which earlier HER2-positive biopsy excludes (clinical-rules A3 `exclusion_scope`;
    /// default `prior_metastatic_biopsy_only`, the registration's wording).
    #[serde(default)]
    pub exclusion_scope: Ex2Scope,
    /// The products that are IMPs (clinical-rules A12; default `["ABY-025"]`, the
    /// registration's IMP). Each administration of an IMP needs a negative serum pregnancy
    /// test within `pregnancy.test_max_hours_before_imp` for a woman of child-bearing
    /// potential; with `"T-DXd"` listed, every T-DXd dose needs one too.
    #[serde(default = "ambiguities::default_imp_products")]
    pub imp_products: Vec<ImpProduct>,
    /// The legal frame of safety reporting (clinical-rules A13; default `EU_CTR`): caps the
    /// SAE clock at 24 h and gives the SUSAR clocks (7 / 15 days).
    #[serde(default)]
    pub regulatory_framework: RegulatoryFramework,
    /// How old a screening value may be and still count (clinical-rules §6.1).
    pub recency: RecencySettings,
    /// Pregnancy testing and contraception (PROTOCOL §6, clinical-rules A11/A12).
    pub pregnancy: PregnancySettings,
    /// Allocation definition of HER2-expressing (PROTOCOL §8, clinical-rules A2).
    pub her2_expressing_definition: Her2ExpressingDefinition,
    /// Whether the PET result changes the allocation (PROTOCOL §8; default false).
    pub allocation_uses_pet: bool,
    /// A lesion is HER2-avid when SUVmax ≥ this (PROTOCOL §6; Alhuseinalkhudhur 2023 cut-off).
    pub avid_suvmax_threshold: f64,
    /// Timing of the arm-1 response PET (PROTOCOL §9, clinical-rules A6).
    pub pet2: Pet2Settings,
    /// Arm-2 adverse-event follow-up (PROTOCOL §11, clinical-rules A7).
    pub arm2: Arm2Settings,
    /// How PET lesion candidates are found and measured (PROTOCOL §6).
    #[serde(default)]
    pub pet_quantification: PetQuantSettings,
    /// Fresh study biopsy: anticoagulation pause (PROTOCOL §7, clinical-rules A9).
    #[serde(default)]
    pub biopsy: BiopsySettings,
    /// Non-diagnostic and discordant specimens (PROTOCOL §8, clinical-rules A4, A5).
    #[serde(default)]
    pub allocation: AllocationSettings,
    /// T-DXd administration and dose-modification checks (PROTOCOL §9).
    #[serde(default)]
    pub tdxd: TdxdSettings,
    /// Visit windows PROTOCOL.md leaves open (clinical-rules §6.1).
    #[serde(default)]
    pub schedule: ScheduleSettings,
    /// Serious adverse event reporting clock (PROTOCOL §11).
    #[serde(default)]
    pub safety: SafetySettings,
    /// Arm-1 end of participation (clinical-rules A20).
    #[serde(default)]
    pub arm1: Arm1Settings,
    /// RECIST 1.1 best overall response: confirmation and intervals (PROTOCOL §10).
    #[serde(default)]
    pub recist: RecistResponseSettings,
    /// The sites' time zone (IANA name; default Europe/Stockholm). Every "today", date
    /// window and date of an instant is counted in this zone's calendar, never in UTC.
    #[serde(default)]
    #[schemars(with = "String")]
    pub site_time_zone: SiteTimeZone,
    /// Source data verification required per form (entry prefix: `lab`, `ae`…; PROTOCOL
    /// §12). A form not named is verified in full.
    #[serde(default)]
    pub sdv: BTreeMap<String, SdvRequirement>,
}

/// How much of a form the monitor verifies against the source.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SdvRequirement {
    /// Not verified.
    None,
    /// The screening data (everything recorded before the enrolment decision): the
    /// eligibility evidence.
    Partial,
    /// Every entry.
    #[default]
    Full,
}

/// PET lesion candidates and their metabolic volume (PROTOCOL §6). The HER2-avid
/// threshold is [`Settings::avid_suvmax_threshold`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PetQuantSettings {
    /// Candidates are 26-connected regions at or above this SUV (default 3.0).
    pub candidate_threshold_suv: f64,
    /// Smallest candidate kept, mL (default 0.5).
    pub min_volume_ml: f64,
    /// Metabolic volume: voxels at or above this fraction of SUVmax (default 0.41).
    pub mtv_fraction: f64,
}

impl Default for PetQuantSettings {
    fn default() -> Self {
        PetQuantSettings {
            candidate_threshold_suv: 3.0,
            min_volume_ml: 0.5,
            mtv_fraction: 0.41,
        }
    }
}

/// What the PET2 window counts from (clinical-rules A6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Pet2Anchor {
    /// After a number of T-DXd cycles (default).
    Cycles,
    /// Calendar days after cycle 1 day 1.
    Calendar,
}

/// PET2 timing: after 3–4 cycles, day 63–84 after cycle 1 day 1 (PROTOCOL §9).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Pet2Settings {
    /// Which rule defines the window.
    pub anchor: Pet2Anchor,
    /// Fewest completed cycles before PET2.
    pub after_cycles_min: u32,
    /// Most completed cycles before PET2.
    pub after_cycles_max: u32,
    /// First day of the window after cycle 1 day 1 (9 weeks).
    pub calendar_days_min: u32,
    /// Last day of the window after cycle 1 day 1 (12 weeks).
    pub calendar_days_max: u32,
}

/// What the arm-2 follow-up counts from (clinical-rules A7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Arm2Anchor {
    /// The baseline HER2-PET (PROTOCOL §1, §11; default).
    Pet1,
    /// The last study procedure (usually the biopsy after the PET).
    LastStudyProcedure,
}

/// Arm-2 adverse-event follow-up.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Arm2Settings {
    /// Days of follow-up (registration: two weeks).
    pub ae_followup_days: u32,
    /// What the days count from.
    pub ae_followup_anchor: Arm2Anchor,
}

/// IN2 prior chemotherapy rules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PriorChemoSettings {
    /// Relapse within this many months after completing (neo)adjuvant chemotherapy (registration: 6).
    pub relapse_window_months: u32,
    /// Also count a relapse during (neo)adjuvant chemotherapy (clinical-rules A17; label wording).
    pub include_relapse_during_adjuvant: bool,
    /// Whether an earlier anti-HER2 antibody–drug conjugate (T-DXd, T-DM1, …) is allowed
    /// (clinical-rules A17, open in the registration). Default false: DESTINY-Breast04,
    /// the HER2-low evidence for T-DXd, excluded prior anti-HER2 therapy. When false, a
    /// recorded line of one makes IN2 not met.
    #[serde(default)]
    pub prior_her2_adc_allowed: bool,
}

/// Lesion size and measurability rules (RECIST 1.1, Eisenhauer 2009 §3.1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LesionSettings {
    /// IN4: minimum longest diameter of a lesion available for biopsy.
    pub biopsy_min_mm: f64,
    /// RECIST 1.1 §3.1.1: measurable non-nodal lesion ≥ 10 mm longest diameter.
    pub measurable_min_longest_mm: f64,
    /// RECIST 1.1 §3.1.1: measurable lymph node ≥ 15 mm short axis.
    pub node_min_short_axis_mm: f64,
    /// RECIST 1.1 §3.1.1: the 10 mm minimum assumes CT slices ≤ 5 mm; thicker slices need 2 × slice.
    pub max_slice_for_fixed_minimum_mm: f64,
    /// Whether the index lesion of IN5 may be the lesion intended for biopsy (default false).
    pub index_lesion_may_be_biopsied: bool,
}

/// Which intervening therapy disqualifies an archival biopsy (clinical-rules A1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DisallowedIntervening {
    /// Any systemic anti-cancer therapy since the biopsy (registration description; default).
    AnySystemic,
    /// Only HER2-targeted therapy since the biopsy (registration inclusion exception).
    Her2Targeted,
}

/// Rules for using an earlier biopsy instead of the study biopsy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(try_from = "ArchivalBiopsySettingsStored")]
pub struct ArchivalBiopsySettings {
    /// Maximum age of the biopsy on the day of PET1, in calendar months (registration:
    /// "no more than three months old", the default; alternative reading 12).
    pub max_age_months: u32,
    /// Which therapy since the biopsy disqualifies it.
    pub disallowed_intervening: DisallowedIntervening,
    /// Local radiotherapy to the biopsied lesion since the biopsy disqualifies it (both readings).
    pub local_rt_to_biopsied_lesion_disallowed: bool,
}

/// [`ArchivalBiopsySettings`] as stored: settings written before the age was counted in
/// calendar months hold `max_age_days`, read as the nearest whole number of months
/// (90 → 3, 365 → 12), so a trial's saved settings keep loading.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ArchivalBiopsySettingsStored {
    /// Maximum age of the biopsy on the day of PET1, in calendar months.
    #[serde(default)]
    pub max_age_months: Option<u32>,
    /// Earlier form of the maximum age, in days (read as whole months).
    #[serde(default)]
    pub max_age_days: Option<u32>,
    /// Which therapy since the biopsy disqualifies it.
    pub disallowed_intervening: DisallowedIntervening,
    /// Local radiotherapy to the biopsied lesion since the biopsy disqualifies it.
    pub local_rt_to_biopsied_lesion_disallowed: bool,
}

impl TryFrom<ArchivalBiopsySettingsStored> for ArchivalBiopsySettings {
    type Error = String;

    fn try_from(s: ArchivalBiopsySettingsStored) -> Result<Self, String> {
        let max_age_months = match (s.max_age_months, s.max_age_days) {
            (Some(m), _) => m,
            (None, Some(d)) => ((f64::from(d) / 30.44).round() as u32).max(1),
            (None, None) => return Err("archival_biopsy needs max_age_months".into()),
        };
        Ok(ArchivalBiopsySettings {
            max_age_months,
            disallowed_intervening: s.disallowed_intervening,
            local_rt_to_biopsied_lesion_disallowed: s.local_rt_to_biopsied_lesion_disallowed,
        })
    }
}

/// EX4 organ-function thresholds (defaults: SHAMROCK T-DXd protocol, clinical-rules §1.5).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OrganFunctionSettings {
    /// Minimum LVEF in percent.
    pub lvef_min_pct: f64,
    /// Minimum absolute neutrophil count, 10⁹/L.
    pub anc_min_e9: f64,
    /// Minimum platelet count, 10⁹/L.
    pub plt_min_e9: f64,
    /// Minimum haemoglobin, g/L.
    pub hb_min_g_l: f64,
    /// Minimum creatinine clearance (Cockcroft–Gault), mL/min.
    pub crcl_min_ml_min: f64,
    /// Maximum total bilirubin as a multiple of the ULN.
    pub bilirubin_max_x_uln: f64,
    /// Maximum AST/ALT as a multiple of the ULN.
    pub ast_alt_max_x_uln: f64,
    /// Maximum AST/ALT as a multiple of the ULN with liver metastases.
    pub ast_alt_max_x_uln_liver_mets: f64,
}

/// EX5 bleeding-risk thresholds (trial registration), also the study-biopsy lab check
/// (PROTOCOL §7).
///
/// The APTT limit is either in seconds (`aptt_max_s`, registration: 30 s; the default)
/// or a multiple of the result's ULN (`aptt_max_x_uln`): exactly one is set
/// (clinical-rules A8: many Swedish APTT reference ranges end above 30 s). With the
/// multiple, an APTT without a ULN cannot be judged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BleedingSettings {
    /// Excluded when INR is above this.
    pub inr_max: f64,
    /// Excluded when platelets are below this, 10⁹/L (registration: 70).
    pub plt_min_e9: f64,
    /// Excluded when APTT is above this, seconds (registration: 30; null when the limit is × ULN).
    #[serde(default)]
    pub aptt_max_s: Option<f64>,
    /// Excluded when APTT is above this multiple of its ULN (null by default; T-DXd
    /// trials used 1.5).
    #[serde(default)]
    pub aptt_max_x_uln: Option<f64>,
}

/// How old screening values may be, counted back from the evaluation time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecencySettings {
    /// EX4 marrow, renal and liver labs (SHAMROCK ≤ 14 days, clinical-rules §6.1).
    pub lab_max_age_days: u32,
    /// EX5 bleeding labs (PROTOCOL §7 default 14 days).
    pub bleeding_lab_max_age_days: u32,
    /// LVEF (DESTINY trials: 28 days, clinical-rules §6.1).
    pub lvef_max_age_days: u32,
    /// WHO performance status (placeholder, clinical-rules §6.1 screening window).
    pub ps_max_age_days: u32,
    /// Baseline imaging of lesions (RECIST 1.1 §3.2: ≤ 4 weeks before treatment).
    pub imaging_max_age_days: u32,
    /// Body weight used for Cockcroft–Gault.
    pub weight_max_age_days: u32,
}

/// Pregnancy testing and contraception.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PregnancySettings {
    /// IN8 at screening: the serum test counts if taken at most this many days before (placeholder).
    pub screening_test_max_age_days: u32,
    /// Before each IMP administration: serum test at most this many hours before (PROTOCOL §6).
    pub test_max_hours_before_imp: u32,
    /// Contraception until this many months after the last IMP dose (registration: 6).
    pub contraception_months_after_last_imp: u32,
    /// Contraception until this many months after the last T-DXd dose (SmPC 4.6: 7).
    pub contraception_months_after_last_tdxd: u32,
}

/// The definition of HER2-expressing for allocation to arm 1 (clinical-rules §2.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum Her2ExpressingDefinition {
    /// Ultralow, 1+, or 2+ with ISH not amplified (default).
    #[serde(rename = "IHC_GT_0")]
    IhcGt0,
    /// 1+ or 2+ with ISH not amplified; ultralow counts as zero.
    #[serde(rename = "HER2_LOW_ONLY")]
    Her2LowOnly,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            version: 1,
            protocol_version: ambiguities::default_protocol_version(),
            // Trial registration: study start 2025-10-03.
            study_start: NaiveDate::from_ymd_opt(2025, 10, 3).unwrap_or_default(),
            min_age_years: 18,
            ps_max: 2,
            min_life_expectancy_weeks: 12,
            prior_chemo: PriorChemoSettings {
                relapse_window_months: 6,
                include_relapse_during_adjuvant: true,
                prior_her2_adc_allowed: false,
            },
            lesions: LesionSettings {
                biopsy_min_mm: 10.0,
                measurable_min_longest_mm: 10.0,
                node_min_short_axis_mm: 15.0,
                max_slice_for_fixed_minimum_mm: 5.0,
                index_lesion_may_be_biopsied: false,
            },
            archival_biopsy: ArchivalBiopsySettings {
                max_age_months: 3,
                disallowed_intervening: DisallowedIntervening::AnySystemic,
                local_rt_to_biopsied_lesion_disallowed: true,
            },
            organ_function: OrganFunctionSettings {
                lvef_min_pct: 50.0,
                anc_min_e9: 1.5,
                plt_min_e9: 100.0,
                hb_min_g_l: 90.0,
                crcl_min_ml_min: 30.0,
                bilirubin_max_x_uln: 1.5,
                ast_alt_max_x_uln: 3.0,
                ast_alt_max_x_uln_liver_mets: 5.0,
            },
            bleeding: BleedingSettings {
                inr_max: 1.4,
                plt_min_e9: 70.0,
                aptt_max_s: Some(30.0),
                aptt_max_x_uln: None,
            },
            other_malignancy_exceptions: vec![OtherMalignancyType::BasalCellCarcinomaSkin],
            other_malignancy_lookback_years: None,
            her2_positive_on_trial_biopsy_action: Her2PositiveAction::OffStudyRefer,
            exclusion_scope: Ex2Scope::PriorMetastaticBiopsyOnly,
            imp_products: ambiguities::default_imp_products(),
            regulatory_framework: RegulatoryFramework::EuCtr,
            recency: RecencySettings {
                lab_max_age_days: 14,
                bleeding_lab_max_age_days: 14,
                lvef_max_age_days: 28,
                ps_max_age_days: 28,
                imaging_max_age_days: 28,
                weight_max_age_days: 28,
            },
            pregnancy: PregnancySettings {
                screening_test_max_age_days: 7,
                test_max_hours_before_imp: 72,
                contraception_months_after_last_imp: 6,
                contraception_months_after_last_tdxd: 7,
            },
            her2_expressing_definition: Her2ExpressingDefinition::IhcGt0,
            allocation_uses_pet: false,
            avid_suvmax_threshold: 6.0,
            pet2: Pet2Settings {
                anchor: Pet2Anchor::Cycles,
                after_cycles_min: 3,
                after_cycles_max: 4,
                calendar_days_min: 63,
                calendar_days_max: 84,
            },
            arm2: Arm2Settings {
                ae_followup_days: 14,
                ae_followup_anchor: Arm2Anchor::Pet1,
            },
            pet_quantification: PetQuantSettings::default(),
            biopsy: BiopsySettings::default(),
            allocation: AllocationSettings::default(),
            tdxd: TdxdSettings::default(),
            schedule: ScheduleSettings::default(),
            safety: SafetySettings::default(),
            arm1: Arm1Settings::default(),
            recist: RecistResponseSettings::default(),
            site_time_zone: SiteTimeZone::default(),
            sdv: BTreeMap::new(),
        }
    }
}

impl Settings {
    /// How much of a form's entries the monitor verifies (full unless the settings say
    /// otherwise).
    pub fn sdv_requirement(&self, form: &str) -> SdvRequirement {
        self.sdv.get(form).copied().unwrap_or_default()
    }

    /// The sites' calendar date of an instant (see [`crate::local_time`]).
    pub fn local_date(&self, t: chrono::DateTime<chrono::Utc>) -> NaiveDate {
        self.site_time_zone.date_of(t)
    }

    /// An instant as the sites read it, for messages: `2026-07-01 10:30 CEST`.
    pub fn local_text(&self, t: chrono::DateTime<chrono::Utc>) -> String {
        self.site_time_zone.format(t)
    }
}
