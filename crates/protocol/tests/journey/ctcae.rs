//! PROTOCOL §11: CTCAE v5.0 term lookup by name and MedDRA code, grade texts.

use protocol::journey::*;
use protocol::rule::Rule;

#[test]
fn lookup_by_name_ignores_case_and_spacing() {
    let c = ctcae_v5();
    for name in [
        "Pneumonitis",
        "pneumonitis",
        "PNEUMONITIS",
        "  Pneumonitis ",
    ] {
        assert_eq!(c.by_name(name).unwrap().meddra_code, 10035742, "{name}");
    }
    assert_eq!(
        c.by_name("ejection  FRACTION decreased")
            .unwrap()
            .meddra_code,
        10050528
    );
    assert!(c.by_name("pneumonia-ish").is_none());
}

#[test]
fn lookup_by_meddra_code() {
    let c = ctcae_v5();
    let t = c.by_meddra_code(10050528).unwrap();
    assert_eq!(t.term, "Ejection fraction decreased");
    assert_eq!(t.soc, "Investigations");
    assert_eq!(c.by_meddra_code(10002272).unwrap().term, "Anemia");
    assert_eq!(c.term(12345).unwrap_err().rule, Rule::CTCAE_TERM);
}

#[test]
fn each_term_has_its_own_grade_texts() {
    let c = ctcae_v5();
    let ef = c.by_meddra_code(10050528).unwrap();
    assert_eq!(ef.grade_text(1), None);
    assert_eq!(
        ef.grade_text(2),
        Some("Resting ejection fraction (EF) 50 - 40%; 10 - 19% drop from baseline")
    );
    assert_eq!(ef.grade_text(5), None);
    let r = ef.check_grade(1).unwrap_err();
    assert_eq!(r.rule, Rule::CTCAE_GRADE);
    assert!(r.message.contains("grades are 2, 3, 4"), "{}", r.message);
    let p = c.by_name("Pneumonitis").unwrap();
    assert!(p.grade_text(1).unwrap().starts_with("Asymptomatic"));
    assert_eq!(p.grade_text(5), Some("Death"));
    assert_eq!(p.grade_text(0), None);
    assert_eq!(p.grade_text(6), None);
}

#[test]
fn quoted_fields_with_commas_and_line_breaks_survive() {
    let c = ctcae_v5();
    let other = c.by_meddra_code(10005329).unwrap();
    assert_eq!(
        other.term,
        "Blood and lymphatic system disorders - Other, specify"
    );
    assert!(
        other
            .grade_text(2)
            .unwrap()
            .contains("local or noninvasive")
    );
    let anemia = c.by_name("anemia").unwrap();
    assert!(
        anemia
            .definition
            .as_deref()
            .unwrap()
            .contains("pallor of the skin")
    );
    // Hypertension's grade texts span several lines in the file.
    let h = c.by_name("Hypertension").unwrap();
    assert!(h.grade_text(3).is_some());
    assert_eq!(c.terms().len(), 837);
    assert_eq!(
        c.terms()
            .iter()
            .filter(|t| t.term.ends_with("Other, specify"))
            .count(),
        26
    );
}

#[test]
fn search_finds_terms_containing_the_text() {
    let found: Vec<String> = ctcae_v5()
        .search("FIBROSIS")
        .into_iter()
        .map(|t| t.term.clone())
        .collect();
    assert!(
        found.contains(&"Pulmonary fibrosis".to_owned()),
        "{found:?}"
    );
    assert!(found.iter().all(|t| t.to_lowercase().contains("fibrosis")));
}
