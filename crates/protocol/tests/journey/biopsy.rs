//! PROTOCOL §7: fresh biopsy bleeding labs and anticoagulation; archival validity.

use chrono::Duration;
use protocol::Settings;
use protocol::journey::*;
use protocol::labs::Analyte;
use protocol::rule::Rule;
use protocol::settings::DisallowedIntervening;

use crate::common::*;

fn clear(inr: f64, plt: f64, aptt: f64) -> Result<BiopsyClearance, protocol::Refusal> {
    clear_fresh_biopsy(
        &fresh("B1", "L1"),
        &bleeding_labs(inr, plt, aptt),
        &Settings::default(),
    )
}

#[test]
fn inr_1_4_is_allowed_and_1_41_refused() {
    assert!(clear(1.4, 150.0, 28.0).is_ok());
    let r = clear(1.41, 150.0, 28.0).unwrap_err();
    assert_eq!(r.rule, Rule::BIOPSY_LABS);
    assert!(r.message.contains("INR 1.41 > 1.4"), "{}", r.message);
    assert!(r.message.contains("BIOPSY_LABS"), "{}", r.message);
}

#[test]
fn platelets_70_are_allowed_and_69_refused() {
    assert!(clear(1.1, 70.0, 28.0).is_ok());
    let r = clear(1.1, 69.0, 28.0).unwrap_err();
    assert_eq!(r.rule, Rule::BIOPSY_LABS);
    assert!(r.message.contains("platelets 69 < 70"), "{}", r.message);
    assert!(r.hint.unwrap().contains("platelets ≥ 70"));
}

#[test]
fn aptt_30_s_is_allowed_and_30_1_refused() {
    assert!(clear(1.1, 150.0, 30.0).is_ok());
    let r = clear(1.1, 150.0, 30.1).unwrap_err();
    assert_eq!(r.rule, Rule::BIOPSY_LABS);
    assert!(r.message.contains("APTT 30.1 > 30 s"), "{}", r.message);
}

#[test]
fn every_failing_lab_is_named_at_once() {
    let r = clear(1.6, 50.0, 35.0).unwrap_err();
    for part in ["INR 1.6", "platelets 50", "APTT 35"] {
        assert!(r.message.contains(part), "{part} missing in {}", r.message);
    }
}

#[test]
fn platelets_in_per_mm3_are_converted_before_the_limit() {
    let mut labs = bleeding_labs(1.1, 150.0, 28.0);
    labs[1] = lab(Analyte::Platelets, 69_000.0, "/mm3", t(2026, 3, 9, 8, 0));
    assert_eq!(
        clear_fresh_biopsy(&fresh("B1", "L1"), &labs, &Settings::default())
            .unwrap_err()
            .rule,
        Rule::BIOPSY_LABS
    );
}

#[test]
fn missing_lab_is_refused_by_name() {
    let mut labs = bleeding_labs(1.1, 150.0, 28.0);
    labs.retain(|l| l.analyte != Analyte::Aptt);
    let r = clear_fresh_biopsy(&fresh("B1", "L1"), &labs, &Settings::default()).unwrap_err();
    assert_eq!(r.rule, Rule::BIOPSY_LABS);
    assert!(r.message.contains("APTT: no result"), "{}", r.message);
}

#[test]
fn labs_must_be_within_the_window_before_the_biopsy() {
    let s = Settings::default();
    let b = fresh("B1", "L1");
    let at = |days_before: i64| b.performed_at - Duration::days(days_before);
    let labs_at = |when| {
        vec![
            lab(Analyte::Inr, 1.0, "", when),
            lab(Analyte::Platelets, 200.0, "10^9/L", when),
            lab(Analyte::Aptt, 25.0, "s", when),
        ]
    };
    // 14 days (the default window) still counts; 15 does not.
    assert!(clear_fresh_biopsy(&b, &labs_at(at(14)), &s).is_ok());
    let r = clear_fresh_biopsy(&b, &labs_at(at(15)), &s).unwrap_err();
    assert!(r.message.contains("15 days old (max 14)"), "{}", r.message);
    // A sample taken after the biopsy does not clear it.
    let r = clear_fresh_biopsy(&b, &labs_at(b.performed_at + Duration::hours(1)), &s).unwrap_err();
    assert!(r.message.contains("INR: no result before the biopsy"));
}

#[test]
fn latest_lab_counts_even_if_an_earlier_one_was_bad() {
    let mut labs = bleeding_labs(1.1, 150.0, 28.0);
    labs.push(lab(Analyte::Inr, 1.8, "", t(2026, 3, 1, 8, 0)));
    assert!(clear_fresh_biopsy(&fresh("B1", "L1"), &labs, &Settings::default()).is_ok());
    labs.push(lab(Analyte::Inr, 1.5, "", t(2026, 3, 9, 18, 0)));
    assert!(clear_fresh_biopsy(&fresh("B1", "L1"), &labs, &Settings::default()).is_err());
}

#[test]
fn anticoagulant_not_paused_is_refused() {
    let mut b = fresh("B1", "L1");
    b.anticoagulation = Anticoagulation::NotPaused {
        agent: "apixaban".into(),
    };
    let r =
        clear_fresh_biopsy(&b, &bleeding_labs(1.1, 150.0, 28.0), &Settings::default()).unwrap_err();
    assert_eq!(r.rule, Rule::BIOPSY_ANTICOAGULATION);
    assert!(r.message.contains("apixaban"));
}

#[test]
fn paused_anticoagulant_passes_and_minimum_pause_is_configurable() {
    let mut b = fresh("B1", "L1");
    b.anticoagulation = Anticoagulation::Paused {
        agent: "apixaban".into(),
        last_dose_at: b.performed_at - Duration::hours(36),
    };
    let labs = bleeding_labs(1.1, 150.0, 28.0);
    let ok = clear_fresh_biopsy(&b, &labs, &Settings::default()).unwrap();
    assert!(
        ok.evidence
            .iter()
            .any(|e| e.contains("apixaban paused") && e.contains("36.0 h"))
    );
    let mut s = Settings::default();
    s.biopsy.anticoagulant_min_pause_hours = 48;
    let r = clear_fresh_biopsy(&b, &labs, &s).unwrap_err();
    assert_eq!(r.rule, Rule::BIOPSY_ANTICOAGULATION);
    assert!(
        r.message.contains("36.0 h") && r.message.contains("48 h"),
        "{}",
        r.message
    );
}

#[test]
fn other_than_the_first_proposed_lesion_needs_a_reason() {
    let mut b = fresh("B1", "L1");
    b.lesion_id = "L9".into();
    let labs = bleeding_labs(1.1, 150.0, 28.0);
    let r = clear_fresh_biopsy(&b, &labs, &Settings::default()).unwrap_err();
    assert_eq!(r.rule, Rule::VALUE_REQUIRED);
    b.choice_reason = Some("L1 next to a large vessel".into());
    let ok = clear_fresh_biopsy(&b, &labs, &Settings::default()).unwrap();
    assert_eq!(ok.lesion_id, "L9");
    assert!(ok.evidence[0].contains("L1 next to a large vessel"));
}

#[test]
fn clearance_carries_the_values_used_and_settings_version() {
    let s = Settings {
        version: 4,
        ..Settings::default()
    };
    let c = clear_fresh_biopsy(&fresh("B1", "L1"), &bleeding_labs(1.2, 71.0, 29.0), &s).unwrap();
    assert_eq!(c.settings_version, 4);
    assert_eq!(c.labs.len(), 3);
    assert_eq!(c.labs[1].value, 71.0);
    assert_eq!(c.labs[1].limit, 70.0);
    assert_eq!(c.labs[0].age_days, 2);
    assert!(c.evidence.iter().any(|e| e.starts_with("INR 1.2 ≤ 1.4")));
}

#[test]
fn archival_default_is_three_months_without_systemic_therapy() {
    let s = Settings::default();
    let used = d(2026, 3, 10);
    let ok = archival("A1", used - Duration::days(90), used);
    assert!(
        check_archival_sample(&ok, &s)
            .unwrap()
            .contains("90 days old")
    );
    let old = archival("A1", used - Duration::days(91), used);
    let r = check_archival_sample(&old, &s).unwrap_err();
    assert_eq!(r.rule, Rule::ARCHIVAL_BIOPSY);
    assert!(r.message.contains("91 days old (max 90)"), "{}", r.message);
    let mut chemo = ok.clone();
    chemo.record.systemic_therapy_since = true;
    let r = check_archival_sample(&chemo, &s).unwrap_err();
    assert!(r.message.contains("systemic therapy since the biopsy"));
}

#[test]
fn archival_alternative_is_twelve_months_without_her2_targeted_therapy() {
    let mut s = Settings::default();
    s.archival_biopsy.max_age_months = 12;
    s.archival_biopsy.disallowed_intervening = DisallowedIntervening::Her2Targeted;
    let used = d(2026, 3, 10);
    let mut a = archival("A1", used - Duration::days(300), used);
    a.record.systemic_therapy_since = true;
    assert!(
        check_archival_sample(&a, &s).is_ok(),
        "chemotherapy is allowed under this reading"
    );
    a.record.her2_targeted_therapy_since = true;
    assert!(
        check_archival_sample(&a, &s)
            .unwrap_err()
            .message
            .contains("HER2-targeted")
    );
    let mut rt = archival("A1", used - Duration::days(300), used);
    rt.record.radiotherapy_to_lesion_since = true;
    assert!(
        check_archival_sample(&rt, &s)
            .unwrap_err()
            .message
            .contains("radiotherapy")
    );
    let old = archival("A1", used - Duration::days(366), used);
    assert!(check_archival_sample(&old, &s).is_err());
}

#[test]
fn archival_biopsy_dated_after_its_use_is_refused() {
    let a = archival("A1", d(2026, 3, 11), d(2026, 3, 10));
    assert!(
        check_archival_sample(&a, &Settings::default())
            .unwrap_err()
            .message
            .contains("-1 days old")
    );
}

#[test]
fn complications_are_coded_with_ctcae_terms_and_grades() {
    let labs = bleeding_labs(1.1, 150.0, 28.0);
    let mut b = fresh("B1", "L1");
    b.complications.push(BiopsyComplication {
        description: "haematoma at the puncture site".into(),
        ctcae_meddra_code: Some(10019428),
        grade: Some(1),
        noted_at: biopsy_at() + Duration::hours(2),
    });
    let c = clear_fresh_biopsy(&b, &labs, &Settings::default()).unwrap();
    assert!(
        c.evidence
            .iter()
            .any(|e| e.contains("CTCAE Hematoma grade 1")),
        "{:?}",
        c.evidence
    );
    b.complications[0].grade = Some(5);
    b.complications[0].ctcae_meddra_code = Some(10006504); // Bruising: grades 1–2 only
    let r = clear_fresh_biopsy(&b, &labs, &Settings::default()).unwrap_err();
    assert_eq!(r.rule, Rule::CTCAE_GRADE);
    b.complications[0].ctcae_meddra_code = Some(1);
    assert_eq!(
        check_complication(&b.complications[0]).unwrap_err().rule,
        Rule::CTCAE_TERM
    );
}
