//! Issue 10, point 16 through `decide`: the eligibility settings of clinical-rules §7 —
//! A3 (EX2 scope), A8 (APTT in seconds or × ULN), A17 (earlier anti-HER2 ADC), A18 (EX3
//! look-back) — each change whether the investigator can enrol, and the enrolment
//! records the protocol version beside the settings version. Settings stored before
//! these keys existed load with the documented defaults.

use chrono::{Duration, NaiveDate};
use protocol::settings::{Ex2Scope, REGISTERED_PROTOCOL_VERSION};
use protocol::testing::{enrol_command, lab};
use protocol::{
    Analyte, Command, CriterionStatus, EligibilityReport, Event, IhcScore, OtherMalignancyType,
    RecordOtherMalignancy, RecordPriorHer2Result, RecordTreatmentLine, Refusal, Rule, Settings,
    TreatmentSetting, testing,
};

use crate::common::*;

/// Amendment 2 of the defaults, changed by `f`.
fn amended(f: impl FnOnce(&mut Settings)) -> Settings {
    let mut s = Settings {
        version: 2,
        protocol_version: "HER2-Ex PET protocol v2.0 (amendment 1)".into(),
        ..Settings::default()
    };
    f(&mut s);
    assert_eq!(s.validate(), Ok(()));
    s
}

/// The investigator signs the enrolment after `cmds`: the signed eligibility report, or
/// the refusal.
fn enrol(cmds: Vec<Command>, s: &Settings) -> Result<EligibilityReport, Refusal> {
    let cmds = plus(cmds, [enrol_command(now() - Duration::minutes(1))]);
    match testing::run(&cmds, now(), s) {
        Ok((_, events)) => match events.last() {
            Some(Event::Enrolled { eligibility, .. }) => Ok(eligibility.clone()),
            other => panic!("no enrolment: {other:?}"),
        },
        Err((_, r)) => Err(r),
    }
}

/// The refusal of the enrolment names `rule` as not satisfied.
fn refused_for(cmds: Vec<Command>, s: &Settings, rule: Rule) -> Refusal {
    let r = enrol(cmds, s).expect_err("enrolment should be refused");
    assert_eq!(r.rule, Rule::ELIGIBILITY);
    assert!(r.message.contains(rule.id()), "{}", r.message);
    r
}

fn criterion_evidence(r: &EligibilityReport, rule: Rule) -> String {
    r.get(rule).unwrap().evidence.join(" | ")
}

#[test]
fn a8_aptt_in_seconds_or_as_a_multiple_of_the_uln() {
    // 34 s with a laboratory ULN of 38 s: above the registration's 30 s, normal for the lab.
    let aptt = plus(base(), [lab(Analyte::Aptt, 34.0, "s", Some(38.0), at(3))]);
    let r = refused_for(aptt.clone(), &Settings::default(), Rule::EX5);
    assert!(r.message.contains("Not satisfied: EX5"), "{}", r.message);
    let by_uln = amended(|s| {
        s.bleeding.aptt_max_s = None;
        s.bleeding.aptt_max_x_uln = Some(1.0);
    });
    let report = enrol(aptt, &by_uln).expect("enrolled under APTT ≤ 1 × ULN");
    assert!(
        criterion_evidence(&report, Rule::EX5).contains("acceptable: 34 ≤ 38 s (1 × ULN 38 s)"),
        "{}",
        criterion_evidence(&report, Rule::EX5)
    );
    // The screening APTT without a ULN cannot be judged by a multiple of it.
    let r = enrol(base(), &by_uln).unwrap_err();
    assert!(r.message.contains("Missing data: EX5"), "{}", r.message);
    let e = eval_with(&base(), now(), &by_uln);
    assert_eq!(e.get(Rule::EX5).unwrap().status, CriterionStatus::Missing);
    assert!(
        criterion_evidence(&e, Rule::EX5).contains("no ULN recorded"),
        "{}",
        criterion_evidence(&e, Rule::EX5)
    );
}

fn line(regimen: &str) -> Command {
    let day = consent_at().date_naive();
    Command::RecordTreatmentLine(RecordTreatmentLine {
        setting: TreatmentSetting::Palliative,
        regimen: regimen.into(),
        is_chemotherapy: false,
        is_her2_targeted: true,
        start_date: day - Duration::days(500),
        end_date: Some(day - Duration::days(320)),
        progression_date: Some(day - Duration::days(320)),
        corrects: None,
        correction_reason: None,
    })
}

#[test]
fn a17_an_earlier_anti_her2_adc_excludes_unless_allowed() {
    let tdxd = plus(base(), [line("Enhertu (trastuzumab deruxtecan)")]);
    let r = refused_for(tdxd.clone(), &Settings::default(), Rule::IN2);
    assert!(r.message.contains("Not satisfied: IN2"), "{}", r.message);
    let e = eval(&tdxd);
    assert_eq!(
        e.get(Rule::IN2).unwrap().summary,
        "Not met: an earlier anti-HER2 antibody–drug conjugate is not allowed (clinical-rules A17)"
    );
    let allowed = amended(|s| s.prior_chemo.prior_her2_adc_allowed = true);
    let report = enrol(tdxd, &allowed).expect("enrolled when allowed");
    assert_eq!(report.get(Rule::IN2).unwrap().status, CriterionStatus::Met);
    assert!(
        criterion_evidence(&report, Rule::IN2)
            .contains("prior_chemo.prior_her2_adc_allowed is true"),
        "{}",
        criterion_evidence(&report, Rule::IN2)
    );
    // T-DM1 is an anti-HER2 ADC too; trastuzumab alone is not.
    refused_for(
        plus(base(), [line("T-DM1")]),
        &Settings::default(),
        Rule::IN2,
    );
    enrol(
        plus(base(), [line("trastuzumab + pertuzumab")]),
        &Settings::default(),
    )
    .expect("trastuzumab alone is no ADC");
}

fn melanoma(diagnosed_on: Option<NaiveDate>) -> Command {
    Command::RecordOtherMalignancy(RecordOtherMalignancy {
        malignancy_type: OtherMalignancyType::Melanoma,
        description: "excised, no recurrence".into(),
        diagnosed_on,
        manifest: false,
        corrects: None,
        correction_reason: None,
    })
}

#[test]
fn a18_the_look_back_counts_a_recent_malignancy_that_is_no_longer_manifest() {
    let two_years_ago = consent_at().date_naive() - Duration::days(730);
    let cured = plus(base(), [melanoma(Some(two_years_ago))]);
    // Default (null = no look-back window): only a manifest malignancy counts.
    enrol(cured.clone(), &Settings::default()).expect("not manifest: enrolled");
    let five = amended(|s| s.other_malignancy_lookback_years = Some(5));
    let r = refused_for(cured.clone(), &five, Rule::EX3);
    assert!(r.message.contains("Not satisfied: EX3"), "{}", r.message);
    let e = eval_with(&cured, now(), &five);
    assert!(
        criterion_evidence(&e, Rule::EX3).contains("counts: diagnosed within the 5-year look-back"),
        "{}",
        criterion_evidence(&e, Rule::EX3)
    );
    let one = amended(|s| s.other_malignancy_lookback_years = Some(1));
    enrol(cured, &one).expect("diagnosed before the 1-year look-back");
    // Without its diagnosis date the look-back cannot place it.
    let undated = plus(base(), [melanoma(None)]);
    let r = enrol(undated, &five).unwrap_err();
    assert!(r.message.contains("Missing data: EX3"), "{}", r.message);
}

#[test]
fn a3_a_her2_positive_primary_excludes_only_when_ex2_covers_any_biopsy() {
    let primary = plus(
        base(),
        [Command::RecordPriorHer2Result(RecordPriorHer2Result {
            biopsy_date: consent_at().date_naive() - Duration::days(900),
            site_description: "primary tumour, left breast".into(),
            metastatic: false,
            ihc_score: Some(IhcScore::ThreePlus),
            ish: None,
            corrects: None,
            correction_reason: None,
        })],
    );
    enrol(primary.clone(), &Settings::default()).expect("the registration: metastases only");
    let any = amended(|s| s.exclusion_scope = Ex2Scope::AnyPriorBiopsy);
    refused_for(primary.clone(), &any, Rule::EX2);
    assert_eq!(
        eval_with(&primary, now(), &any)
            .get(Rule::EX2)
            .unwrap()
            .summary,
        "Exclusion applies: earlier biopsy HER2-positive"
    );
}

#[test]
fn the_enrolment_records_the_protocol_version_beside_the_settings_version() {
    let report = enrol(base(), &Settings::default()).expect("enrolled");
    assert_eq!(report.settings_version, 1);
    assert_eq!(report.protocol_version, REGISTERED_PROTOCOL_VERSION);
    let s = amended(|_| {});
    let report = enrol(base(), &s).expect("enrolled");
    assert_eq!(report.settings_version, 2);
    assert_eq!(
        report.protocol_version,
        "HER2-Ex PET protocol v2.0 (amendment 1)"
    );
}

#[test]
fn settings_stored_before_point_16_load_with_the_documented_defaults() {
    let mut json = serde_json::to_value(Settings::default()).unwrap();
    let obj = json.as_object_mut().unwrap();
    for key in [
        "protocol_version",
        "other_malignancy_lookback_years",
        "her2_positive_on_trial_biopsy_action",
        "exclusion_scope",
        "imp_products",
        "regulatory_framework",
    ] {
        assert!(obj.remove(key).is_some(), "{key}");
    }
    json["prior_chemo"]
        .as_object_mut()
        .unwrap()
        .remove("prior_her2_adc_allowed");
    json["bleeding"] = serde_json::json!({"inr_max": 1.4, "plt_min_e9": 70.0, "aptt_max_s": 30.0});
    let tdxd = json["tdxd"].as_object_mut().unwrap();
    tdxd.remove("dose_mod_table_version");
    tdxd.remove("smpc_date");
    let s: Settings = serde_json::from_value(json).unwrap();
    assert_eq!(s, Settings::default());
    assert_eq!(s.validate(), Ok(()));
}

#[test]
fn settings_json_schema_names_the_new_keys() {
    let schema = serde_json::to_value(schemars::schema_for!(Settings)).unwrap();
    let text = schema.to_string();
    for key in [
        "protocol_version",
        "her2_positive_on_trial_biopsy_action",
        "exclusion_scope",
        "imp_products",
        "regulatory_framework",
        "other_malignancy_lookback_years",
        "prior_her2_adc_allowed",
        "aptt_max_x_uln",
        "dose_mod_table_version",
        "smpc_date",
        "OFF_STUDY_REFER",
        "EU_CTR",
        "T-DXd",
    ] {
        assert!(text.contains(key), "{key} missing from the settings schema");
    }
}
