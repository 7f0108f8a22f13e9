//! The journey's values are ready for commands and events: JSON round trips,
//! JSON schemas, and rule ids that serialize as written.

use chrono::Duration;
use protocol::Settings;
use protocol::journey::*;
use protocol::records::IhcScore;
use protocol::rule::Rule;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::common::*;

fn round_trip<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(v: &T) {
    let json = serde_json::to_string(v).unwrap();
    let back: T = serde_json::from_str(&json).unwrap();
    assert_eq!(&back, v, "{json}");
}

#[test]
fn journey_values_round_trip_through_json() {
    let s = Settings::default();
    let b = fresh("B1", "L1");
    round_trip(&b);
    round_trip(&BiopsySource::Archival(archival(
        "A1",
        d(2026, 1, 1),
        d(2026, 3, 1),
    )));
    round_trip(&clear_fresh_biopsy(&b, &bleeding_labs(1.1, 150.0, 28.0), &s).unwrap());
    let reports = vec![her2("S1", "B1", read(IhcScore::Ultralow))];
    round_trip(&reports[0]);
    let a = allocate(&[BiopsySource::Fresh(b)], &reports, &s)
        .unwrap()
        .with_pet(&[("L1".into(), 4.0)], &s);
    round_trip(&a);
    let course = TdxdCourse::new().apply(&ild_decision(1).unwrap(), d(2026, 4, 1));
    round_trip(&course);
    let anchors = Anchors {
        pet1: Some(d(2026, 3, 5)),
        ..Anchors::default()
    };
    round_trip(&check_visit(VisitKind::Biopsy, d(2026, 3, 25), &anchors, &s).unwrap());
    let aware = t(2026, 5, 3, 9, 0);
    round_trip(&sae_clock(aware, Some(aware + Duration::hours(30)), aware, &s).unwrap());
}

#[test]
fn dose_levels_and_outcomes_serialize_readably() {
    assert_eq!(
        serde_json::to_string(&DoseLevel::Reduced1).unwrap(),
        "\"4.4\""
    );
    let v = serde_json::to_value(DoseAction::Interrupt {
        until: "grade 0".into(),
        then: OnResolution::SameDose,
    })
    .unwrap();
    assert_eq!(v["action"], "interrupt");
    assert_eq!(v["then"], "same_dose");
    let v = serde_json::to_value(Anticoagulation::NotPaused {
        agent: "warfarin".into(),
    })
    .unwrap();
    assert_eq!(v["status"], "not_paused");
}

#[test]
fn journey_types_have_json_schemas() {
    let schemas = [
        serde_json::to_value(schemars::schema_for!(FreshBiopsy)).unwrap(),
        serde_json::to_value(schemars::schema_for!(SpecimenReport)).unwrap(),
        serde_json::to_value(schemars::schema_for!(Allocation)).unwrap(),
        serde_json::to_value(schemars::schema_for!(Administration)).unwrap(),
        serde_json::to_value(schemars::schema_for!(AdverseEvent)).unwrap(),
        serde_json::to_value(schemars::schema_for!(EndFacts)).unwrap(),
    ];
    for s in &schemas {
        assert!(s.get("title").is_some(), "{s}");
    }
    assert!(schemas[3].to_string().contains("\"3.2\""));
}

#[test]
fn new_rule_ids_serialize_as_written() {
    for r in [
        Rule::BIOPSY_LABS,
        Rule::BIOPSY_ANTICOAGULATION,
        Rule::ARCHIVAL_BIOPSY,
        Rule::HER2_CATEGORY,
        Rule::ALLOCATION,
        Rule::TDXD_DOSE,
        Rule::TDXD_INTERVAL,
        Rule::TDXD_ILD,
        Rule::TDXD_LVEF,
        Rule::TDXD_NEUTROPENIA,
        Rule::TDXD_INTERRUPTED,
        Rule::TDXD_DISCONTINUED,
        Rule::BIOPSY_WINDOW,
        Rule::C1D1_WINDOW,
        Rule::PET2_WINDOW,
        Rule::PET3_WINDOW,
        Rule::ARM2_FOLLOWUP,
        Rule::CTCAE_TERM,
        Rule::CTCAE_GRADE,
        Rule::AE_SERIOUSNESS,
        Rule::SAE_CLOCK,
        Rule::OFF_STUDY,
    ] {
        assert_eq!(
            serde_json::to_string(&r).unwrap(),
            format!("\"{}\"", r.id())
        );
        assert_eq!(format!("{r:?}"), r.id());
    }
}
