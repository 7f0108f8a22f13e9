//! Validation of settings and of settings changes (PROTOCOL §14).

use super::Settings;
use crate::rule::{Refusal, Rule};

pub(super) fn check(ok: bool, key: &str, why: &str) -> Result<(), Refusal> {
    if ok {
        Ok(())
    } else {
        Err(Refusal::new(
            Rule::SETTINGS,
            format!("Setting `{key}` is not sane: {why}."),
        ))
    }
}

pub(super) fn in_range(v: f64, lo: f64, hi: f64) -> bool {
    v.is_finite() && v >= lo && v <= hi
}

impl Settings {
    /// Checks that every value is sane (finite, within a clinically possible range).
    pub fn validate(&self) -> Result<(), Refusal> {
        let o = &self.organ_function;
        let b = &self.bleeding;
        let l = &self.lesions;
        let r = &self.recency;
        let p = &self.pregnancy;
        check(self.version >= 1, "version", "must be at least 1")?;
        check(
            (16..=30).contains(&self.min_age_years),
            "min_age_years",
            "must be 16–30",
        )?;
        check(self.ps_max <= 4, "ps_max", "WHO PS runs 0–4")?;
        check(
            (1..=104).contains(&self.min_life_expectancy_weeks),
            "min_life_expectancy_weeks",
            "must be 1–104",
        )?;
        check(
            (1..=36).contains(&self.prior_chemo.relapse_window_months),
            "prior_chemo.relapse_window_months",
            "must be 1–36",
        )?;
        check(
            in_range(l.biopsy_min_mm, 1.0, 100.0),
            "lesions.biopsy_min_mm",
            "must be 1–100 mm",
        )?;
        check(
            in_range(l.measurable_min_longest_mm, 1.0, 100.0),
            "lesions.measurable_min_longest_mm",
            "must be 1–100 mm",
        )?;
        check(
            in_range(l.node_min_short_axis_mm, 1.0, 100.0),
            "lesions.node_min_short_axis_mm",
            "must be 1–100 mm",
        )?;
        check(
            in_range(l.max_slice_for_fixed_minimum_mm, 0.5, 20.0),
            "lesions.max_slice_for_fixed_minimum_mm",
            "must be 0.5–20 mm",
        )?;
        check(
            (1..=24).contains(&self.archival_biopsy.max_age_months),
            "archival_biopsy.max_age_months",
            "must be 1–24 months",
        )?;
        check(
            in_range(o.lvef_min_pct, 10.0, 80.0),
            "organ_function.lvef_min_pct",
            "must be 10–80 %",
        )?;
        check(
            in_range(o.anc_min_e9, 0.0, 10.0),
            "organ_function.anc_min_e9",
            "must be 0–10",
        )?;
        check(
            in_range(o.plt_min_e9, 0.0, 500.0),
            "organ_function.plt_min_e9",
            "must be 0–500",
        )?;
        check(
            in_range(o.hb_min_g_l, 0.0, 200.0),
            "organ_function.hb_min_g_l",
            "must be 0–200 g/L",
        )?;
        check(
            in_range(o.crcl_min_ml_min, 0.0, 150.0),
            "organ_function.crcl_min_ml_min",
            "must be 0–150 mL/min",
        )?;
        check(
            in_range(o.bilirubin_max_x_uln, 1.0, 10.0),
            "organ_function.bilirubin_max_x_uln",
            "must be 1–10 × ULN",
        )?;
        check(
            in_range(o.ast_alt_max_x_uln, 1.0, 20.0),
            "organ_function.ast_alt_max_x_uln",
            "must be 1–20 × ULN",
        )?;
        check(
            in_range(o.ast_alt_max_x_uln_liver_mets, o.ast_alt_max_x_uln, 20.0),
            "organ_function.ast_alt_max_x_uln_liver_mets",
            "must be at least ast_alt_max_x_uln and at most 20",
        )?;
        check(
            in_range(b.inr_max, 0.8, 5.0),
            "bleeding.inr_max",
            "must be 0.8–5",
        )?;
        check(
            in_range(b.plt_min_e9, 0.0, 500.0),
            "bleeding.plt_min_e9",
            "must be 0–500",
        )?;
        for (key, days) in [
            ("recency.lab_max_age_days", r.lab_max_age_days),
            (
                "recency.bleeding_lab_max_age_days",
                r.bleeding_lab_max_age_days,
            ),
            ("recency.lvef_max_age_days", r.lvef_max_age_days),
            ("recency.ps_max_age_days", r.ps_max_age_days),
            ("recency.imaging_max_age_days", r.imaging_max_age_days),
            ("recency.weight_max_age_days", r.weight_max_age_days),
            (
                "pregnancy.screening_test_max_age_days",
                p.screening_test_max_age_days,
            ),
        ] {
            check((1..=365).contains(&days), key, "must be 1–365 days")?;
        }
        check(
            (1..=336).contains(&p.test_max_hours_before_imp),
            "pregnancy.test_max_hours_before_imp",
            "must be 1–336 hours",
        )?;
        check(
            p.contraception_months_after_last_imp <= 24
                && p.contraception_months_after_last_tdxd <= 24,
            "pregnancy.contraception_months_*",
            "must be at most 24 months",
        )?;
        check(
            in_range(self.avid_suvmax_threshold, 0.5, 50.0),
            "avid_suvmax_threshold",
            "must be 0.5–50",
        )?;
        let p2 = &self.pet2;
        check(
            (1..=p2.after_cycles_max).contains(&p2.after_cycles_min) && p2.after_cycles_max <= 12,
            "pet2.after_cycles_*",
            "must satisfy 1 ≤ min ≤ max ≤ 12",
        )?;
        check(
            (1..=p2.calendar_days_max).contains(&p2.calendar_days_min)
                && p2.calendar_days_max <= 365,
            "pet2.calendar_days_*",
            "must satisfy 1 ≤ min ≤ max ≤ 365",
        )?;
        check(
            (1..=90).contains(&self.arm2.ae_followup_days),
            "arm2.ae_followup_days",
            "must be 1–90 days",
        )?;
        self.validate_journey()
    }

    /// The journey keys (biopsy, T-DXd, schedule windows, safety clock).
    fn validate_journey(&self) -> Result<(), Refusal> {
        let t = &self.tdxd;
        check(
            self.biopsy.anticoagulant_min_pause_hours <= 24 * 14,
            "biopsy.anticoagulant_min_pause_hours",
            "must be at most 336 hours",
        )?;
        check(
            (7..=42).contains(&t.cycle_days),
            "tdxd.cycle_days",
            "must be 7–42 days",
        )?;
        check(
            t.dosing_window_days < t.cycle_days,
            "tdxd.dosing_window_days",
            "must be shorter than a cycle",
        )?;
        check(
            in_range(t.dose_tolerance_pct, 0.0, 20.0),
            "tdxd.dose_tolerance_pct",
            "must be 0–20 %",
        )?;
        check(
            (1..=90).contains(&t.ild_resolution_same_dose_max_days),
            "tdxd.ild_resolution_same_dose_max_days",
            "must be 1–90 days",
        )?;
        check(
            (1..=60).contains(&t.lvef_repeat_within_days),
            "tdxd.lvef_repeat_within_days",
            "must be 1–60 days",
        )?;
        let sc = &self.schedule;
        for (key, w) in [
            ("schedule.biopsy_after_pet1", sc.biopsy_after_pet1),
            ("schedule.c1d1_after_pet1", sc.c1d1_after_pet1),
            ("schedule.pet3_after_progression", sc.pet3_after_progression),
        ] {
            check(
                w.min_days <= w.max_days && w.max_days <= 365,
                key,
                "must satisfy min ≤ max ≤ 365 days",
            )?;
        }
        check(
            (1..=168).contains(&self.safety.sae_report_hours),
            "safety.sae_report_hours",
            "must be 1–168 hours",
        )?;
        check(
            (7..=84).contains(&self.recist.confirm_min_days),
            "recist.confirm_min_days",
            "must be 7–84 days (RECIST 1.1 §4.6.1: at least 4 weeks)",
        )?;
        check(
            self.recist.sd_min_days <= 365,
            "recist.sd_min_days",
            "must be at most 365 days",
        )?;
        self.validate_ambiguities()
    }
}

/// Checks a settings change: the new version is the old one plus one and all values are sane.
pub fn validate_settings_change(old: &Settings, new: &Settings) -> Result<(), Refusal> {
    if new.version != old.version.saturating_add(1) {
        return Err(Refusal::new(
            Rule::SETTINGS,
            format!(
                "A settings change must raise the version by exactly one: {} → {} given.",
                old.version, new.version
            ),
        )
        .with_hint(format!("Use version {}.", old.version.saturating_add(1))));
    }
    if new.study_start != old.study_start {
        return Err(Refusal::new(
            Rule::SETTINGS,
            "The study start date cannot be changed by a settings change.",
        ));
    }
    new.validate()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_saved_with_the_age_in_days_still_load_as_calendar_months() {
        let mut v = serde_json::to_value(Settings::default()).unwrap();
        let a = v["archival_biopsy"].as_object_mut().unwrap();
        a.remove("max_age_months");
        a.insert("max_age_days".into(), 365.into());
        let s: Settings = serde_json::from_value(v).unwrap();
        assert_eq!(s.archival_biopsy.max_age_months, 12);
        let back = serde_json::to_value(&s).unwrap();
        assert_eq!(back["archival_biopsy"]["max_age_months"], 12);
        assert!(back["archival_biopsy"].get("max_age_days").is_none());
    }

    #[test]
    fn defaults_are_the_protocol_values_and_valid() {
        let s = Settings::default();
        assert_eq!(s.version, 1);
        assert_eq!(s.organ_function.lvef_min_pct, 50.0);
        assert_eq!(s.bleeding.inr_max, 1.4);
        assert_eq!(s.bleeding.aptt_max_s, Some(30.0));
        assert_eq!(s.archival_biopsy.max_age_months, 3);
        assert_eq!(s.pregnancy.test_max_hours_before_imp, 72);
        assert!(!s.lesions.index_lesion_may_be_biopsied);
        assert_eq!(s.validate(), Ok(()));
    }

    #[test]
    fn change_must_bump_version_by_one() {
        let old = Settings::default();
        let mut new = old.clone();
        assert_eq!(
            validate_settings_change(&old, &new).unwrap_err().rule,
            Rule::SETTINGS
        );
        new.version = 3;
        assert!(validate_settings_change(&old, &new).is_err());
        new.version = 2;
        new.bleeding.inr_max = 1.5;
        assert_eq!(validate_settings_change(&old, &new), Ok(()));
    }

    #[test]
    fn insane_values_are_refused() {
        let old = Settings::default();
        let mut new = old.clone();
        new.version = 2;
        new.bleeding.inr_max = f64::NAN;
        let r = validate_settings_change(&old, &new).unwrap_err();
        assert!(r.message.contains("bleeding.inr_max"), "{}", r.message);
        new.bleeding.inr_max = 1.4;
        new.organ_function.ast_alt_max_x_uln_liver_mets = 2.0;
        assert!(validate_settings_change(&old, &new).is_err());
    }

    #[test]
    fn pet2_and_arm2_defaults_follow_the_protocol() {
        let s = Settings::default();
        // PROTOCOL §9: after 3–4 cycles, day 63–84; §11: arm 2 ends 14 days after the PET.
        assert_eq!((s.pet2.after_cycles_min, s.pet2.after_cycles_max), (3, 4));
        assert_eq!(
            (s.pet2.calendar_days_min, s.pet2.calendar_days_max),
            (63, 84)
        );
        assert_eq!(s.arm2.ae_followup_days, 14);
        let mut bad = s.clone();
        bad.version = 2;
        bad.pet2.calendar_days_min = 90;
        let r = validate_settings_change(&s, &bad).unwrap_err();
        assert!(r.message.contains("pet2.calendar_days"), "{}", r.message);
    }

    #[test]
    fn json_round_trip_uses_documented_keys() {
        let s = Settings::default();
        let json = serde_json::to_value(&s).unwrap();
        assert_eq!(json["her2_expressing_definition"], "IHC_GT_0");
        assert_eq!(
            json["archival_biopsy"]["disallowed_intervening"],
            "any_systemic"
        );
        assert_eq!(
            json["other_malignancy_exceptions"][0],
            "basal_cell_carcinoma_skin"
        );
        assert_eq!(json["pet2"]["anchor"], "cycles");
        assert_eq!(json["arm2"]["ae_followup_anchor"], "pet1");
        let back: Settings = serde_json::from_value(json).unwrap();
        assert_eq!(back, s);
    }
}
