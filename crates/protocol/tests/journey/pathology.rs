//! PROTOCOL §8: HER2 IHC/ISH → derived category (ASCO/CAP 2018/2023, ultralow split).

use protocol::journey::*;
use protocol::records::{IhcScore, IshResult};
use protocol::rule::Rule;

use crate::common::*;

fn category(r: &Her2Read) -> Her2Category {
    derive_category(r).unwrap().category
}

fn with_ish(ihc: IhcScore, ratio: f64, copies: f64) -> Her2Read {
    Her2Read {
        ish: Some(IshTest {
            ratio: Some(ratio),
            mean_her2_copies: Some(copies),
            reported: None,
        }),
        ..read(ihc)
    }
}

#[test]
fn ihc_scores_map_to_categories() {
    assert_eq!(category(&read(IhcScore::Zero)), Her2Category::Null);
    assert_eq!(category(&read(IhcScore::Ultralow)), Her2Category::Ultralow);
    assert_eq!(category(&read(IhcScore::OnePlus)), Her2Category::Low);
    assert_eq!(
        category(&two_plus(IshResult::NotAmplified)),
        Her2Category::Low
    );
    assert_eq!(
        category(&two_plus(IshResult::Amplified)),
        Her2Category::Positive
    );
    assert_eq!(category(&read(IhcScore::ThreePlus)), Her2Category::Positive);
}

#[test]
fn two_plus_without_ish_cannot_be_categorised() {
    let r = derive_category(&read(IhcScore::TwoPlus)).unwrap_err();
    assert_eq!(r.rule, Rule::HER2_CATEGORY);
    assert!(r.message.contains("ISH result is required"));
}

#[test]
fn ultralow_needs_faint_staining_in_more_than_0_and_at_most_10_percent() {
    let at = |pct: f64| Her2Read {
        stained_pct: pct,
        ..read(IhcScore::Ultralow)
    };
    assert_eq!(category(&at(10.0)), Her2Category::Ultralow);
    assert_eq!(category(&at(1.0)), Her2Category::Ultralow);
    assert_eq!(
        derive_category(&at(10.5)).unwrap_err().rule,
        Rule::HER2_CATEGORY
    );
    assert_eq!(
        derive_category(&at(0.0)).unwrap_err().rule,
        Rule::HER2_CATEGORY
    );
}

#[test]
fn null_with_stained_cells_is_refused_with_a_hint() {
    let r = derive_category(&Her2Read {
        stained_pct: 5.0,
        intensity: StainingIntensity::Faint,
        ..read(IhcScore::Zero)
    })
    .unwrap_err();
    assert_eq!(r.rule, Rule::HER2_CATEGORY);
    assert!(r.hint.unwrap().contains("ultralow"));
}

#[test]
fn one_plus_needs_more_than_10_percent() {
    let r = Her2Read {
        stained_pct: 10.0,
        ..read(IhcScore::OnePlus)
    };
    assert!(derive_category(&r).is_err());
    let r = Her2Read {
        stained_pct: 11.0,
        ..read(IhcScore::OnePlus)
    };
    assert_eq!(category(&r), Her2Category::Low);
}

#[test]
fn ish_groups_follow_asco_cap_2018() {
    assert_eq!(ish_group(2.0, 4.0), IshGroup::Group1);
    assert_eq!(ish_group(2.0, 3.9), IshGroup::Group2);
    assert_eq!(ish_group(1.9, 6.0), IshGroup::Group3);
    assert_eq!(ish_group(1.9, 5.9), IshGroup::Group4);
    assert_eq!(ish_group(1.9, 4.0), IshGroup::Group4);
    assert_eq!(ish_group(1.9, 3.9), IshGroup::Group5);
}

#[test]
fn ish_values_decide_two_plus() {
    assert_eq!(
        category(&with_ish(IhcScore::TwoPlus, 2.3, 5.0)),
        Her2Category::Positive
    );
    assert_eq!(
        category(&with_ish(IhcScore::TwoPlus, 2.2, 3.5)),
        Her2Category::Low
    );
    assert_eq!(
        category(&with_ish(IhcScore::TwoPlus, 1.5, 6.5)),
        Her2Category::Positive
    );
    assert_eq!(
        category(&with_ish(IhcScore::TwoPlus, 1.5, 4.5)),
        Her2Category::Low
    );
    assert_eq!(
        category(&with_ish(IhcScore::TwoPlus, 1.2, 2.0)),
        Her2Category::Low
    );
    let d = derive_category(&with_ish(IhcScore::TwoPlus, 1.5, 6.5)).unwrap();
    assert_eq!(d.ish_group, Some(IshGroup::Group3));
    assert!(
        d.reason.contains("Group3") && d.reason.contains("HER2-positive"),
        "{}",
        d.reason
    );
}

#[test]
fn group_1_is_positive_whatever_the_ihc() {
    assert_eq!(
        category(&with_ish(IhcScore::OnePlus, 2.5, 7.0)),
        Her2Category::Positive
    );
}

#[test]
fn reported_ish_contradicting_its_values_is_refused() {
    let mut r = with_ish(IhcScore::TwoPlus, 1.2, 2.0);
    if let Some(ish) = r.ish.as_mut() {
        ish.reported = Some(IshResult::Amplified);
    }
    let e = derive_category(&r).unwrap_err();
    assert_eq!(e.rule, Rule::HER2_CATEGORY);
    assert!(e.message.contains("Group5"), "{}", e.message);
}

#[test]
fn stained_percentage_must_be_a_percentage() {
    let r = Her2Read {
        stained_pct: 120.0,
        ..read(IhcScore::ThreePlus)
    };
    assert_eq!(derive_category(&r).unwrap_err().rule, Rule::HER2_CATEGORY);
}
