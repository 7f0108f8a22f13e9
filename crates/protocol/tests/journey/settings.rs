//! New journey settings: defaults, validation, and settings stored before them.

use protocol::Settings;
use protocol::rule::Rule;
use protocol::settings::{Arm1EndEvent, MultiSpecimenRule, NondiagnosticAction};

#[test]
fn settings_stored_before_the_journey_keys_still_deserialize_with_defaults() {
    let mut json = serde_json::to_value(Settings::default()).unwrap();
    let obj = json.as_object_mut().unwrap();
    for key in ["biopsy", "allocation", "tdxd", "schedule", "safety", "arm1"] {
        assert!(obj.remove(key).is_some(), "{key}");
    }
    let s: Settings = serde_json::from_value(json).unwrap();
    assert_eq!(s, Settings::default());
}

#[test]
fn journey_defaults_follow_the_protocol() {
    let s = Settings::default();
    assert_eq!(s.safety.sae_report_hours, 24);
    assert_eq!(s.tdxd.cycle_days, 21);
    assert_eq!(s.tdxd.ild_resolution_same_dose_max_days, 28);
    assert_eq!(
        s.allocation.nondiagnostic_action,
        NondiagnosticAction::Rebiopsy
    );
    assert_eq!(
        s.allocation.multi_specimen_rule,
        MultiSpecimenRule::MaxScore
    );
    assert_eq!(s.arm1.end_of_study_event, Arm1EndEvent::Progression);
    assert_eq!(s.schedule.biopsy_after_pet1.max_days, 14);
    let json = serde_json::to_value(&s).unwrap();
    assert_eq!(json["allocation"]["nondiagnostic_action"], "rebiopsy");
    assert_eq!(json["arm1"]["end_of_study_event"], "progression");
    assert_eq!(s.validate(), Ok(()));
}

#[test]
fn insane_journey_values_are_refused() {
    let mut s = Settings::default();
    s.safety.sae_report_hours = 0;
    let r = s.validate().unwrap_err();
    assert_eq!(r.rule, Rule::SETTINGS);
    assert!(r.message.contains("safety.sae_report_hours"));
    let mut s = Settings::default();
    s.schedule.pet3_after_progression.min_days = 40;
    assert!(
        s.validate()
            .unwrap_err()
            .message
            .contains("schedule.pet3_after_progression")
    );
    let mut s = Settings::default();
    s.tdxd.dosing_window_days = 21;
    assert!(s.validate().is_err());
}
