//! PET response PET1 → PET2 (percist.rs): matching, per-lesion change, hottest-lesion
//! change and the PERCIST-style category at both sides of every threshold.

use protocol::percist::{
    MatchBasis, MetabolicCategory as C, PercistError, PercistSettings, PetLesion, PetScan, assess,
    is_metabolic_progression, is_metabolic_response,
};

fn lesion(id: &str, at: [f64; 3], suv_max: f64, suv_peak: f64) -> PetLesion {
    PetLesion {
        id: id.into(),
        identity: None,
        centroid_mm: at,
        suv_max,
        suv_peak,
    }
}

fn scan(lesions: Vec<PetLesion>) -> PetScan {
    PetScan {
        body_centroid_mm: [0.0, 0.0, 0.0],
        lesions,
    }
}

fn settings() -> PercistSettings {
    PercistSettings::new(6.0, 1.5)
}

/// Category for one lesion followed from SUVpeak `a` to `b` (SUVmax 1.0 above the peak).
fn category(a: f64, b: f64) -> C {
    let pet1 = scan(vec![lesion("1", [0.0; 3], a + 1.0, a)]);
    let pet2 = scan(vec![lesion("1", [0.0; 3], b + 1.0, b)]);
    // Keep the background below every tested value so CMR does not interfere.
    let s = PercistSettings::new(50.0, 0.5);
    assess(&pet1, &pet2, &s).expect("valid").category
}

#[test]
fn partial_metabolic_response_at_its_thresholds() {
    // Exactly −30 % (and −1.2): PMR.
    assert_eq!(category(4.0, 2.8), C::PartialMetabolicResponse);
    // Exactly −0.8 (and −40 %): PMR.
    assert_eq!(category(2.0, 1.2), C::PartialMetabolicResponse);
    // −29.9 %: stable.
    assert_eq!(category(10.0, 7.01), C::StableMetabolicDisease);
    // −30 % but only −0.75: stable.
    assert_eq!(category(2.5, 1.75), C::StableMetabolicDisease);
    // Large relative fall, small absolute: stable.
    assert_eq!(category(1.0, 0.6), C::StableMetabolicDisease);
}

#[test]
fn metabolic_progression_at_its_thresholds() {
    // Exactly +30 % (and +1.2): not progression.
    assert_eq!(category(4.0, 5.2), C::StableMetabolicDisease);
    // +30.1 % and +0.81: progression.
    assert_eq!(category(2.691, 3.501), C::ProgressiveMetabolicDisease);
    // Exactly +0.8 (and +40 %): not progression.
    assert_eq!(category(2.0, 2.8), C::StableMetabolicDisease);
    // Large relative rise, small absolute: stable.
    assert_eq!(category(1.0, 1.5), C::StableMetabolicDisease);
    assert!(is_metabolic_progression(10.0, 13.01));
    assert!(!is_metabolic_response(10.0, 7.01));
}

#[test]
fn complete_metabolic_response_when_nothing_is_above_background() {
    let pet1 = scan(vec![lesion("1", [0.0; 3], 12.0, 9.0)]);
    let pet2 = scan(vec![lesion("1", [0.0; 3], 1.5, 1.2)]);
    assert_eq!(
        assess(&pet1, &pet2, &settings()).expect("valid").category,
        C::CompleteMetabolicResponse
    );
    let pet2 = scan(vec![lesion("1", [0.0; 3], 1.51, 1.2)]);
    assert_eq!(
        assess(&pet1, &pet2, &settings()).expect("valid").category,
        C::PartialMetabolicResponse
    );
    let r = assess(&pet1, &scan(vec![]), &settings()).expect("valid");
    assert_eq!(r.category, C::CompleteMetabolicResponse);
    assert_eq!(r.unmatched_pet1, ["1"]);
}

#[test]
fn a_new_her2_avid_lesion_is_progression() {
    let pet1 = scan(vec![lesion("1", [0.0; 3], 12.0, 9.0)]);
    let avid = scan(vec![
        lesion("a", [0.0; 3], 6.0, 4.0),
        lesion("b", [200.0, 0.0, 0.0], 6.0, 4.0),
    ]);
    let r = assess(&pet1, &avid, &settings()).expect("valid");
    assert_eq!(r.new_avid_lesions, ["b"]);
    assert_eq!(r.category, C::ProgressiveMetabolicDisease);
    // Just below the avid threshold the new lesion is listed as unmatched only.
    let faint = scan(vec![
        lesion("a", [0.0; 3], 6.0, 4.0),
        lesion("b", [200.0, 0.0, 0.0], 5.99, 4.0),
    ]);
    let r = assess(&pet1, &faint, &settings()).expect("valid");
    assert!(r.new_avid_lesions.is_empty());
    assert_eq!(r.unmatched_pet2, ["b"]);
    assert_eq!(r.category, C::PartialMetabolicResponse);
}

#[test]
fn proposed_matches_align_the_body_centroids_and_respect_the_tolerance() {
    let pet1 = PetScan {
        body_centroid_mm: [0.0, 0.0, 0.0],
        lesions: vec![
            lesion("p1", [10.0, 0.0, 0.0], 10.0, 8.0),
            lesion("p2", [100.0, 0.0, 0.0], 8.0, 6.0),
        ],
    };
    // The patient lies 50 mm further along z on PET2.
    let pet2 = PetScan {
        body_centroid_mm: [0.0, 0.0, 50.0],
        lesions: vec![
            lesion("q1", [12.0, 0.0, 50.0], 5.0, 4.0),
            lesion("q2", [100.0, 20.0, 50.0], 8.0, 6.0),
            lesion("q3", [100.0, 20.1, 50.0], 8.0, 6.0),
        ],
    };
    let r = assess(&pet1, &pet2, &settings()).expect("valid");
    let pairs: Vec<(&str, &str, MatchBasis)> = r
        .matches
        .iter()
        .map(|m| (m.pet1_id.as_str(), m.pet2_id.as_str(), m.basis))
        .collect();
    assert_eq!(
        pairs,
        [
            ("p1", "q1", MatchBasis::Proposed { distance_mm: 2.0 }),
            ("p2", "q2", MatchBasis::Proposed { distance_mm: 20.0 }),
        ]
    );
    assert!(r.needs_reader_confirmation);
    assert_eq!(r.matches[0].suv_max_change_pct, Some(-50.0));
    assert_eq!(r.matches[0].suv_peak_change_pct, Some(-50.0));
    assert_eq!(r.unmatched_pet2, ["q3"]);
    // 20.1 mm away is beyond the tolerance.
    let mut beyond = pet2.clone();
    beyond.lesions.remove(1);
    let r = assess(&pet1, &beyond, &settings()).expect("valid");
    assert_eq!(r.matches.len(), 1);
    assert_eq!(r.unmatched_pet1, ["p2"]);
    // Without alignment nothing would be within 20 mm.
    let mut unaligned = pet2.clone();
    unaligned.body_centroid_mm = [0.0; 3];
    assert!(
        assess(&pet1, &unaligned, &settings())
            .expect("valid")
            .matches
            .is_empty()
    );
}

#[test]
fn greedy_matching_is_one_to_one_by_distance() {
    // q1 is 3 mm from p1 and 5 mm from p2; q2 is 9 mm from p2: p1–q1, p2–q2.
    let pet1 = scan(vec![
        lesion("p1", [0.0; 3], 7.0, 5.0),
        lesion("p2", [8.0, 0.0, 0.0], 7.0, 5.0),
    ]);
    let pet2 = scan(vec![
        lesion("q1", [3.0, 0.0, 0.0], 7.0, 5.0),
        lesion("q2", [17.0, 0.0, 0.0], 7.0, 5.0),
    ]);
    let r = assess(&pet1, &pet2, &settings()).expect("valid");
    let pairs: Vec<(&str, &str)> = r
        .matches
        .iter()
        .map(|m| (m.pet1_id.as_str(), m.pet2_id.as_str()))
        .collect();
    assert_eq!(pairs, [("p1", "q1"), ("p2", "q2")]);
}

#[test]
fn reader_identity_wins_over_distance() {
    let mut a = lesion("p1", [0.0; 3], 10.0, 8.0);
    a.identity = Some("liver-1".into());
    let mut far = lesion("q9", [300.0, 0.0, 0.0], 5.0, 4.0);
    far.identity = Some("liver-1".into());
    let mut other = lesion("q1", [0.0; 3], 10.0, 8.0);
    other.identity = Some("liver-2".into());
    let r = assess(&scan(vec![a]), &scan(vec![other, far]), &settings()).expect("valid");
    assert_eq!(r.matches.len(), 1);
    assert_eq!(
        (r.matches[0].pet2_id.as_str(), r.matches[0].basis),
        ("q9", MatchBasis::Reader)
    );
    assert!(!r.needs_reader_confirmation);
    // liver-2 is a new avid lesion by the reader's own labels, although it sits on p1.
    assert_eq!(r.new_avid_lesions, ["q1"]);
}

#[test]
fn patient_level_change_uses_the_hottest_lesion_at_each_scan() {
    let pet1 = scan(vec![
        lesion("a", [0.0; 3], 12.0, 10.0),
        lesion("b", [100.0, 0.0, 0.0], 6.0, 5.0),
    ]);
    // a falls to 3, b rises to 6.5: the hottest is now b, 10 → 6.5 is −35 %.
    let pet2 = scan(vec![
        lesion("a", [0.0; 3], 4.0, 3.0),
        lesion("b", [100.0, 0.0, 0.0], 8.0, 6.5),
    ]);
    let r = assess(&pet1, &pet2, &settings()).expect("valid");
    assert_eq!(r.hottest.pet1, ("a".to_owned(), 10.0));
    assert_eq!(r.hottest.pet2, Some(("b".to_owned(), 6.5)));
    assert_eq!(r.hottest.change_pct, Some(-35.0));
    assert_eq!(r.hottest.change_suv, -3.5);
    assert_eq!(r.category, C::PartialMetabolicResponse);
}

#[test]
fn bad_input_is_an_error_not_a_panic() {
    let ok = scan(vec![lesion("1", [0.0; 3], 5.0, 4.0)]);
    assert_eq!(
        assess(&scan(vec![]), &ok, &settings()),
        Err(PercistError::NoBaselineLesions)
    );
    let nan = scan(vec![lesion("1", [f64::NAN, 0.0, 0.0], 5.0, 4.0)]);
    assert!(matches!(
        assess(&ok, &nan, &settings()),
        Err(PercistError::InvalidValue { .. })
    ));
    let negative = scan(vec![lesion("1", [0.0; 3], -1.0, 4.0)]);
    assert!(matches!(
        assess(&negative, &ok, &settings()),
        Err(PercistError::InvalidValue { .. })
    ));
    let twice = scan(vec![
        lesion("1", [0.0; 3], 5.0, 4.0),
        lesion("1", [9.0; 3], 5.0, 4.0),
    ]);
    assert!(matches!(
        assess(&twice, &ok, &settings()),
        Err(PercistError::DuplicateId { .. })
    ));
    let mut s = settings();
    s.match_tolerance_mm = 0.0;
    assert_eq!(
        assess(&ok, &ok, &s),
        Err(PercistError::InvalidSetting("match_tolerance_mm"))
    );
}
