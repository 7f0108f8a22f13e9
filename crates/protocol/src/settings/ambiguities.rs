//! Settings for the ambiguities of `reference/clinical-rules.md` §7 that the registration
//! leaves open and that had no setting before: A3 (HER2-positive on the trial biopsy, the
//! scope of EX2), A12 (which products are IMPs), A13 (the regulatory framework), A18 (the
//! look-back of EX3) and the protocol version the settings belong to. A8 (APTT), A17
//! (earlier anti-HER2 ADC) and A23 (T-DXd dose-modification table) extend the groups they
//! belong to ([`super::BleedingSettings`], [`super::PriorChemoSettings`],
//! [`super::TdxdSettings`]).
//!
//! Every key here has a `Default` with the documented default and is `#[serde(default)]`
//! in [`super::Settings`], so settings stored before these keys existed still load.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::Settings;
use super::validate::{check, in_range};
use crate::rule::Refusal;

/// The protocol the default settings implement: the public registration as last updated
/// (`trial-registration.txt`: NCT06830382, EU CT 2024-512721-89-00, last updated
/// 2025-11-20). An amendment names its protocol version here.
pub const REGISTERED_PROTOCOL_VERSION: &str =
    "HER2-Ex PET registration NCT06830382 / EU CT 2024-512721-89-00 (2025-11-20)";

/// The default of [`Settings::protocol_version`].
pub fn default_protocol_version() -> String {
    REGISTERED_PROTOCOL_VERSION.to_owned()
}

/// What a HER2-positive result (IHC 3+ or ISH amplified) on the trial biopsy does
/// (clinical-rules A3: no arm covers it).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Her2PositiveAction {
    /// Off study with the reason, referred for HER2-positive treatment (PROTOCOL §8:
    /// "not this trial's population"; default).
    #[default]
    OffStudyRefer,
    /// She has had the IMP: follow her like arm 2 (adverse events until the follow-up
    /// ends), then off study. The allocation records that the result was HER2-positive.
    Arm2FollowUp,
}

/// Which earlier HER2-positive biopsy excludes under EX2 (clinical-rules A3: a HER2-positive
/// primary with a non-HER2-positive metastasis).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Ex2Scope {
    /// Only an earlier biopsy of a metastasis (the registration's wording; default).
    #[default]
    PriorMetastaticBiopsyOnly,
    /// Any earlier biopsy, the primary tumour included.
    AnyPriorBiopsy,
}

/// A medicinal product of the trial (clinical-rules A12).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum ImpProduct {
    /// [68Ga]Ga-ABY-025, the PET tracer: the IMP by the registration.
    #[serde(rename = "ABY-025")]
    Aby025,
    /// Trastuzumab deruxtecan, given as standard of care in arm 1.
    #[serde(rename = "T-DXd")]
    Tdxd,
}

impl ImpProduct {
    /// The product as the sites name it.
    pub fn label(self) -> &'static str {
        match self {
            ImpProduct::Aby025 => "[68Ga]Ga-ABY-025",
            ImpProduct::Tdxd => "T-DXd",
        }
    }
}

/// The default of [`Settings::imp_products`]: the tracer only (clinical-rules A12).
pub fn default_imp_products() -> Vec<ImpProduct> {
    vec![ImpProduct::Aby025]
}

/// The legal frame of safety reporting (clinical-rules A13: the registry says
/// "observational", but the trial has an EU CT number, an IMP and a phase).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RegulatoryFramework {
    /// Clinical Trials Regulation (EU) 536/2014: SAE to the sponsor within 24 h
    /// (Art. 41(2)); SUSARs to EudraVigilance within 7 days when fatal or
    /// life-threatening, else 15 days (Art. 42, Annex III §2.4). Default.
    #[default]
    EuCtr,
    /// A non-interventional study as registered: no CTR clocks; the protocol's own SAE
    /// clock (`safety.sae_report_hours`) and no SUSAR clock.
    NonInterventional,
}

/// Days the sponsor has to report a SUSAR, from its awareness.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SusarDays {
    /// Fatal or life-threatening SUSAR (EU CTR Art. 42: 7 days).
    pub fatal_or_life_threatening: u32,
    /// Any other SUSAR (EU CTR Art. 42: 15 days).
    pub other: u32,
}

impl RegulatoryFramework {
    /// The framework as written in the settings and in evidence.
    pub fn label(self) -> &'static str {
        match self {
            RegulatoryFramework::EuCtr => "EU CTR 536/2014",
            RegulatoryFramework::NonInterventional => "non-interventional",
        }
    }

    /// The longest SAE clock (investigator → sponsor) the framework allows, in hours.
    pub fn sae_max_hours(self) -> Option<u32> {
        match self {
            RegulatoryFramework::EuCtr => Some(24),
            RegulatoryFramework::NonInterventional => None,
        }
    }

    /// The SUSAR clocks of the framework, if it has them.
    pub fn susar_days(self) -> Option<SusarDays> {
        match self {
            RegulatoryFramework::EuCtr => Some(SusarDays {
                fatal_or_life_threatening: 7,
                other: 15,
            }),
            RegulatoryFramework::NonInterventional => None,
        }
    }
}

/// The APTT limit for one result (clinical-rules A8).
#[derive(Debug, Clone, PartialEq)]
pub struct ApttLimit {
    /// The limit in seconds.
    pub max_s: f64,
    /// How it was set when by ULN, e.g. `1.5 × ULN 36 s`.
    pub by_uln: Option<String>,
}

impl super::BleedingSettings {
    /// The APTT limit in seconds for a result whose ULN is `uln_s` (seconds): the limit
    /// in seconds, or the multiple of the ULN. Refuses, in words, an APTT without a ULN
    /// when the limit is a multiple of it. Without either limit (settings that were never
    /// validated) the registration's 30 s holds.
    pub fn aptt_limit(&self, uln_s: Option<f64>) -> Result<ApttLimit, String> {
        match (self.aptt_max_s, self.aptt_max_x_uln) {
            (Some(max_s), _) => Ok(ApttLimit {
                max_s,
                by_uln: None,
            }),
            (None, Some(x)) => match uln_s.filter(|u| u.is_finite() && *u > 0.0) {
                Some(u) => Ok(ApttLimit {
                    max_s: ((x * u) * 100.0).round() / 100.0,
                    by_uln: Some(format!("{x} × ULN {u} s")),
                }),
                None => Err(format!(
                    "no ULN recorded: the APTT limit is {x} × ULN (bleeding.aptt_max_x_uln), so the result cannot be judged; enter it with its laboratory's ULN"
                )),
            },
            (None, None) => Ok(ApttLimit {
                max_s: 30.0,
                by_uln: None,
            }),
        }
    }

    /// The APTT rule in words: `APTT ≤ 30 s` or `APTT ≤ 1.5 × ULN`.
    pub fn aptt_rule(&self) -> String {
        match (self.aptt_max_s, self.aptt_max_x_uln) {
            (Some(s), _) => format!("APTT ≤ {s} s"),
            (None, Some(x)) => format!("APTT ≤ {x} × ULN"),
            (None, None) => "APTT ≤ 30 s".into(),
        }
    }
}

impl Settings {
    /// The settings version and the protocol version it belongs to, for evidence lines:
    /// `settings v2 (protocol: HER2-Ex PET registration …)`.
    pub fn provenance(&self) -> String {
        format!(
            "settings v{} (protocol: {})",
            self.version, self.protocol_version
        )
    }

    /// Whether a product is an IMP under these settings (clinical-rules A12).
    pub fn is_imp(&self, p: ImpProduct) -> bool {
        self.imp_products.contains(&p)
    }

    /// The keys of this module, the APTT limit (A8), the anti-HER2 ADC rule (A17) and
    /// the T-DXd dose-modification table (A23).
    pub(super) fn validate_ambiguities(&self) -> Result<(), Refusal> {
        let text_ok = |t: &str| !t.trim().is_empty() && t.chars().count() <= 200;
        check(
            text_ok(&self.protocol_version),
            "protocol_version",
            "must name the protocol version (1–200 characters)",
        )?;
        check(
            self.is_imp(ImpProduct::Aby025),
            "imp_products",
            "must include ABY-025, the trial's IMP by the registration",
        )?;
        check(
            self.imp_products
                .iter()
                .enumerate()
                .all(|(i, p)| !self.imp_products[..i].contains(p)),
            "imp_products",
            "must not name a product twice",
        )?;
        check(
            self.other_malignancy_lookback_years
                .is_none_or(|y| (1..=50).contains(&y)),
            "other_malignancy_lookback_years",
            "must be 1–50 years, or null for no look-back window",
        )?;
        if let Some(max) = self.regulatory_framework.sae_max_hours() {
            check(
                self.safety.sae_report_hours <= max,
                "safety.sae_report_hours",
                &format!(
                    "must be at most {max} hours under {} (Art. 41(2))",
                    self.regulatory_framework.label()
                ),
            )?;
        }
        let b = &self.bleeding;
        match (b.aptt_max_s, b.aptt_max_x_uln) {
            (Some(s), None) => check(
                in_range(s, 15.0, 120.0),
                "bleeding.aptt_max_s",
                "must be 15–120 s",
            )?,
            (None, Some(x)) => check(
                in_range(x, 1.0, 3.0),
                "bleeding.aptt_max_x_uln",
                "must be 1–3 × ULN",
            )?,
            _ => check(
                false,
                "bleeding.aptt_max_s / bleeding.aptt_max_x_uln",
                "exactly one of the two APTT limits must be set (clinical-rules A8)",
            )?,
        }
        check(
            text_ok(&self.tdxd.dose_mod_table_version),
            "tdxd.dose_mod_table_version",
            "must name the dose-modification table (1–200 characters)",
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_documented_ones() {
        let s = Settings::default();
        assert_eq!(s.protocol_version, REGISTERED_PROTOCOL_VERSION);
        assert_eq!(
            s.her2_positive_on_trial_biopsy_action,
            Her2PositiveAction::OffStudyRefer
        );
        assert_eq!(s.exclusion_scope, Ex2Scope::PriorMetastaticBiopsyOnly);
        assert_eq!(s.imp_products, vec![ImpProduct::Aby025]);
        assert_eq!(s.regulatory_framework, RegulatoryFramework::EuCtr);
        assert_eq!(s.other_malignancy_lookback_years, None);
        assert!(!s.prior_chemo.prior_her2_adc_allowed);
        assert_eq!(
            (s.bleeding.aptt_max_s, s.bleeding.aptt_max_x_uln),
            (Some(30.0), None)
        );
        let json = serde_json::to_value(&s).unwrap();
        assert_eq!(
            json["her2_positive_on_trial_biopsy_action"],
            "OFF_STUDY_REFER"
        );
        assert_eq!(json["exclusion_scope"], "prior_metastatic_biopsy_only");
        assert_eq!(json["imp_products"][0], "ABY-025");
        assert_eq!(json["regulatory_framework"], "EU_CTR");
        assert_eq!(s.validate(), Ok(()));
    }

    #[test]
    fn both_or_neither_aptt_limit_is_refused() {
        let mut s = Settings::default();
        s.bleeding.aptt_max_x_uln = Some(1.5);
        let r = s.validate().unwrap_err();
        assert!(r.message.contains("exactly one"), "{}", r.message);
        s.bleeding.aptt_max_s = None;
        assert_eq!(s.validate(), Ok(()));
        s.bleeding.aptt_max_x_uln = None;
        assert!(s.validate().is_err());
    }

    #[test]
    fn the_tracer_stays_an_imp_and_the_ctr_caps_the_sae_clock() {
        let mut s = Settings {
            imp_products: vec![ImpProduct::Tdxd],
            ..Settings::default()
        };
        assert!(s.validate().unwrap_err().message.contains("imp_products"));
        s.imp_products = vec![ImpProduct::Aby025, ImpProduct::Tdxd];
        assert_eq!(s.validate(), Ok(()));
        s.safety.sae_report_hours = 48;
        let r = s.validate().unwrap_err();
        assert!(r.message.contains("Art. 41(2)"), "{}", r.message);
        s.regulatory_framework = RegulatoryFramework::NonInterventional;
        assert_eq!(s.validate(), Ok(()));
    }
}
