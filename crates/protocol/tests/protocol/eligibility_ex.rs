//! EX1–EX5: exclusion applies (met), does not apply (not met), missing, with boundaries.

use chrono::Duration;
use protocol::CriterionStatus::{Met, Missing, NotMet};
use protocol::eligibility::cockcroft_gault_ml_min;
use protocol::testing::{attest, lab};
use protocol::{
    Analyte, AttestedCriterion, Command, IhcScore, IshResult, OtherMalignancyType, Overall,
    RecordOtherMalignancy, RecordPriorHer2Result, Rule, Settings,
};

use crate::common::*;

fn with_lab(a: Analyte, v: f64, unit: &str, uln: Option<f64>) -> Vec<Command> {
    plus(base(), [lab(a, v, unit, uln, at(3))])
}

fn history(f: impl Fn(&mut protocol::RecordMedicalHistory)) -> Vec<Command> {
    edit(base(), move |c| {
        if let Command::RecordMedicalHistory(h) = c {
            f(h);
        }
    })
}

#[test]
fn ex1_follows_the_attestation_and_shows_structured_checks() {
    let r = eval(&base());
    assert_eq!(r.get(Rule::EX1).unwrap().status, NotMet);
    assert!(evidence(&r, Rule::EX1).contains("LVEF 60"));
    let yes = plus(base(), [attest(AttestedCriterion::Ex1, true, at(3))]);
    assert_eq!(status(&yes, Rule::EX1), Met);
    assert_eq!(eval(&yes).overall, Overall::NotEligible);
    let none = without(
        base(),
        |c| matches!(c, Command::RecordAttestation(a) if a.criterion == AttestedCriterion::Ex1),
    );
    assert_eq!(status(&none, Rule::EX1), Missing);
}

fn her2(metastatic: bool, ihc: Option<IhcScore>, ish: Option<IshResult>) -> Command {
    Command::RecordPriorHer2Result(RecordPriorHer2Result {
        biopsy_date: consent_at().date_naive() - Duration::days(100),
        site_description: "liver metastasis".into(),
        metastatic,
        ihc_score: ihc,
        ish,
        corrects: None,
        correction_reason: None,
    })
}

#[test]
fn ex2_her2_positive_metastatic_biopsy_excludes() {
    assert_eq!(status(&base(), Rule::EX2), NotMet);
    let ihc3 = plus(base(), [her2(true, Some(IhcScore::ThreePlus), None)]);
    assert_eq!(status(&ihc3, Rule::EX2), Met);
    let amplified = plus(
        base(),
        [her2(
            true,
            Some(IhcScore::TwoPlus),
            Some(IshResult::Amplified),
        )],
    );
    assert_eq!(status(&amplified, Rule::EX2), Met);
    let not_amplified = plus(
        base(),
        [her2(
            true,
            Some(IhcScore::TwoPlus),
            Some(IshResult::NotAmplified),
        )],
    );
    assert_eq!(status(&not_amplified, Rule::EX2), NotMet);
}

#[test]
fn ex2_her2_positive_primary_tumour_does_not_count() {
    let primary = plus(base(), [her2(false, Some(IhcScore::ThreePlus), None)]);
    let r = eval(&primary);
    assert_eq!(r.get(Rule::EX2).unwrap().status, NotMet);
    assert!(evidence(&r, Rule::EX2).contains("not a metastasis"));
}

#[test]
fn ex2_missing_when_known_biopsies_have_no_result() {
    let cmds = without(base(), |c| matches!(c, Command::RecordPriorHer2Result(_)));
    assert_eq!(status(&cmds, Rule::EX2), Missing);
    let no_history = without(base(), |c| matches!(c, Command::RecordMedicalHistory(_)));
    assert_eq!(status(&no_history, Rule::EX2), Missing);
}

fn malignancy(t: OtherMalignancyType, manifest: bool) -> Command {
    Command::RecordOtherMalignancy(RecordOtherMalignancy {
        malignancy_type: t,
        description: "dermatology record".into(),
        diagnosed_on: None,
        manifest,
        corrects: None,
        correction_reason: None,
    })
}

#[test]
fn ex3_other_manifest_malignancy_excludes_except_basal_cell_carcinoma() {
    assert_eq!(status(&base(), Rule::EX3), NotMet);
    let bcc = plus(
        base(),
        [malignancy(
            OtherMalignancyType::BasalCellCarcinomaSkin,
            true,
        )],
    );
    let r = eval(&bcc);
    assert_eq!(r.get(Rule::EX3).unwrap().status, NotMet);
    assert!(evidence(&r, Rule::EX3).contains("excepted"));
    let melanoma = plus(base(), [malignancy(OtherMalignancyType::Melanoma, true)]);
    assert_eq!(status(&melanoma, Rule::EX3), Met);
    let cured = plus(base(), [malignancy(OtherMalignancyType::Other, false)]);
    assert_eq!(status(&cured, Rule::EX3), NotMet);
}

#[test]
fn ex3_missing_when_known_malignancies_are_not_recorded() {
    let cmds = history(|h| h.other_malignancies_known = true);
    assert_eq!(status(&cmds, Rule::EX3), Missing);
}

#[test]
fn ex4_thresholds_at_their_boundaries() {
    let cases: [(Analyte, f64, &str, f64); 4] = [
        (Analyte::Platelets, 100.0, "10^9/L", 99.0),
        (Analyte::Anc, 1.5, "10^9/L", 1.4),
        (Analyte::Haemoglobin, 90.0, "g/L", 89.0),
        (Analyte::Lvef, 50.0, "%", 49.0),
    ];
    for (a, ok, unit, bad) in cases {
        assert_eq!(
            status(&with_lab(a, ok, unit, None), Rule::EX4),
            NotMet,
            "{a:?} {ok}"
        );
        let r = eval(&with_lab(a, bad, unit, None));
        assert_eq!(r.get(Rule::EX4).unwrap().status, Met, "{a:?} {bad}");
        assert!(evidence(&r, Rule::EX4).contains("INADEQUATE"));
    }
}

#[test]
fn ex4_haemoglobin_in_g_dl_is_converted() {
    assert_eq!(
        status(
            &with_lab(Analyte::Haemoglobin, 8.9, "g/dL", None),
            Rule::EX4
        ),
        Met
    );
    assert_eq!(
        status(
            &with_lab(Analyte::Haemoglobin, 9.0, "g/dL", None),
            Rule::EX4
        ),
        NotMet
    );
}

fn aged_54_with_creatinine(v: f64, unit: &str) -> Vec<Command> {
    let cmds = edit(base(), |c| {
        if let Command::RecordConsent(x) = c {
            x.age_at_consent = Some(54);
        }
    });
    plus(cmds, [lab(Analyte::Creatinine, v, unit, None, at(3))])
}

#[test]
fn ex4_creatinine_clearance_by_cockcroft_gault() {
    // 54 years, 68 kg, female: 200 µmol/L → 30.5 mL/min, 210 µmol/L → 29.1 mL/min.
    let ok = cockcroft_gault_ml_min(54, 68.0, 200.0, true);
    let bad = cockcroft_gault_ml_min(54, 68.0, 210.0, true);
    assert!(
        (ok - 30.52).abs() < 0.05 && (bad - 29.07).abs() < 0.05,
        "{ok} {bad}"
    );
    assert_eq!(
        status(&aged_54_with_creatinine(200.0, "µmol/L"), Rule::EX4),
        NotMet
    );
    let r = eval(&aged_54_with_creatinine(210.0, "µmol/L"));
    assert_eq!(r.get(Rule::EX4).unwrap().status, Met);
    assert!(evidence(&r, Rule::EX4).contains("age 54 at the lab date"));
    assert!(evidence(&r, Rule::EX4).contains("29.1 mL/min"));
    // 2.4 mg/dL = 212.2 µmol/L → 28.8 mL/min.
    assert_eq!(
        status(&aged_54_with_creatinine(2.4, "mg/dL"), Rule::EX4),
        Met
    );
}

#[test]
fn ex4_without_exact_age_the_older_possible_age_is_used() {
    // Born 1971, lab in 2026: age 55 is used (the lower, safer clearance): 200 µmol/L → 30.2.
    let cmds = plus(
        base(),
        [lab(Analyte::Creatinine, 200.0, "µmol/L", None, at(3))],
    );
    let r = eval(&cmds);
    assert_eq!(r.get(Rule::EX4).unwrap().status, NotMet);
    assert!(evidence(&r, Rule::EX4).contains("age 55 at the lab date → creatinine clearance (Cockcroft–Gault, × 0.85 female) 30.2 mL/min"), "{}", evidence(&r, Rule::EX4));
}

#[test]
fn ex4_creatinine_clearance_needs_weight() {
    let cmds = without(base(), |c| matches!(c, Command::RecordBodyWeight(_)));
    let r = eval(&cmds);
    assert_eq!(r.get(Rule::EX4).unwrap().status, Missing);
    assert!(evidence(&r, Rule::EX4).contains("body weight"));
}

#[test]
fn ex4_bilirubin_and_transaminases_as_multiples_of_uln() {
    // ULN 26 µmol/L: 39 = 1.5 × ULN (ok), 40 > 1.5 × ULN.
    assert_eq!(
        status(
            &with_lab(Analyte::Bilirubin, 39.0, "µmol/L", Some(26.0)),
            Rule::EX4
        ),
        NotMet
    );
    assert_eq!(
        status(
            &with_lab(Analyte::Bilirubin, 40.0, "µmol/L", Some(26.0)),
            Rule::EX4
        ),
        Met
    );
    // ALT 2.25 µkat/L with ULN 0.75 = 3.0 × ULN (ok); 2.4 = 3.2 × ULN.
    assert_eq!(
        status(
            &with_lab(Analyte::Alt, 2.25, "µkat/L", Some(0.75)),
            Rule::EX4
        ),
        NotMet
    );
    assert_eq!(
        status(
            &with_lab(Analyte::Alt, 2.4, "µkat/L", Some(0.75)),
            Rule::EX4
        ),
        Met
    );
}

#[test]
fn ex4_liver_metastases_raise_the_transaminase_limit_to_5_uln() {
    let high = lab(Analyte::Ast, 140.0, "U/L", Some(35.0), at(3));
    let no_mets = plus(base(), [high.clone()]);
    assert_eq!(status(&no_mets, Rule::EX4), Met);
    let mets = plus(history(|h| h.liver_metastases = true), [high.clone()]);
    assert_eq!(status(&mets, Rule::EX4), NotMet);
    let very_high = plus(
        history(|h| h.liver_metastases = true),
        [lab(Analyte::Ast, 180.0, "U/L", Some(35.0), at(3))],
    );
    assert_eq!(status(&very_high, Rule::EX4), Met);
    // Without any history the 3–5 × ULN band cannot be judged.
    let unknown = plus(
        without(base(), |c| matches!(c, Command::RecordMedicalHistory(_))),
        [high],
    );
    assert_eq!(status(&unknown, Rule::EX4), Missing);
}

#[test]
fn ex4_old_labs_do_not_count() {
    // Labs at consent + 1 h; 15 days later they are older than 14 days.
    let r = eval_with(
        &base(),
        consent_at() + Duration::days(15) + Duration::hours(2),
        &Settings::default(),
    );
    assert_eq!(r.get(Rule::EX4).unwrap().status, Missing);
    assert_eq!(r.get(Rule::EX5).unwrap().status, Missing);
}

#[test]
fn ex5_inr_1_4_is_acceptable_and_1_41_excludes() {
    assert_eq!(
        status(&with_lab(Analyte::Inr, 1.4, "", None), Rule::EX5),
        NotMet
    );
    let r = eval(&with_lab(Analyte::Inr, 1.41, "", None));
    assert_eq!(r.get(Rule::EX5).unwrap().status, Met);
    assert!(evidence(&r, Rule::EX5).contains("BLEEDING RISK: 1.41 > 1.4"));
}

#[test]
fn ex5_platelets_70_are_acceptable_and_69_exclude() {
    let seventy = eval(&with_lab(Analyte::Platelets, 70.0, "10^9/L", None));
    assert_eq!(seventy.get(Rule::EX5).unwrap().status, NotMet);
    // 70 is below the EX4 marrow threshold of 100 all the same.
    assert_eq!(seventy.get(Rule::EX4).unwrap().status, Met);
    assert_eq!(
        status(
            &with_lab(Analyte::Platelets, 69.0, "10^9/L", None),
            Rule::EX5
        ),
        Met
    );
    // 70 000 /mm³ is exactly 70 × 10⁹/L.
    assert_eq!(
        status(
            &with_lab(Analyte::Platelets, 70_000.0, "/mm³", None),
            Rule::EX5
        ),
        NotMet
    );
}

#[test]
fn ex5_aptt_30_s_is_acceptable_and_30_1_excludes() {
    assert_eq!(
        status(&with_lab(Analyte::Aptt, 30.0, "s", None), Rule::EX5),
        NotMet
    );
    assert_eq!(
        status(&with_lab(Analyte::Aptt, 30.1, "s", None), Rule::EX5),
        Met
    );
}

#[test]
fn ex5_history_and_attestation_parts() {
    assert_eq!(
        status(&history(|h| h.known_bleeding_disorder = true), Rule::EX5),
        Met
    );
    assert_eq!(
        status(
            &history(|h| h.anticoagulant_cannot_be_paused = true),
            Rule::EX5
        ),
        Met
    );
    let attested = plus(base(), [attest(AttestedCriterion::Ex5, true, at(3))]);
    assert_eq!(status(&attested, Rule::EX5), Met);
}

#[test]
fn ex5_missing_without_inr() {
    let cmds = without(
        base(),
        |c| matches!(c, Command::RecordLab(l) if l.analyte == Analyte::Inr),
    );
    let r = eval(&cmds);
    assert_eq!(r.get(Rule::EX5).unwrap().status, Missing);
    assert!(evidence(&r, Rule::EX5).contains("INR: no result recorded"));
}

#[test]
fn thresholds_come_from_settings() {
    let mut s = Settings {
        version: 2,
        ..Settings::default()
    };
    s.bleeding.inr_max = 1.5;
    let cmds = with_lab(Analyte::Inr, 1.45, "", None);
    assert_eq!(status(&cmds, Rule::EX5), Met);
    let r = eval_with(&cmds, now(), &s);
    assert_eq!(r.get(Rule::EX5).unwrap().status, NotMet);
    assert_eq!(r.settings_version, 2);
}
