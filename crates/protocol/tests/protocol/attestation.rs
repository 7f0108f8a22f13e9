//! Attestations (PROTOCOL §5, "attested"): each is the investigator's Yes or No to the
//! criterion's question, with no default; Yes states the criterion, so Yes keeps her
//! eligible for an inclusion (IN7, IN8) and excludes her for an exclusion (EX1, EX5).

use protocol::testing::{attest, investigator_signature};
use protocol::{
    AttestedCriterion, Command, CriterionStatus, Overall, RecordAttestation, Rule, Settings,
};

use crate::common::*;

fn unanswered(criterion: AttestedCriterion) -> Command {
    Command::RecordAttestation(RecordAttestation {
        criterion,
        answer: None,
        note: None,
        signature: investigator_signature(at(3)),
    })
}

fn without_attestation(c: AttestedCriterion) -> Vec<Command> {
    without(
        base(),
        |x| matches!(x, Command::RecordAttestation(a) if a.criterion == c),
    )
}

#[test]
fn an_unanswered_question_is_refused_naming_the_question() {
    for c in AttestedCriterion::ALL {
        let r = refusal(&plus(without_attestation(c), [unanswered(c)]));
        assert_eq!(r.rule, Rule::VALUE_REQUIRED, "{c:?}");
        assert!(
            r.message.contains(&c.question(&Settings::default())),
            "{c:?}: {}",
            r.message
        );
        assert!(r.hint.unwrap_or_default().contains("Yes or No"));
    }
}

#[test]
fn an_unanswered_question_in_json_is_refused_not_read_as_no() {
    let json = serde_json::json!({
        "type": "record_attestation",
        "criterion": "EX1",
        "signature": investigator_signature(at(3)),
    });
    let cmd: Command = serde_json::from_value(json).expect("an attestation without an answer");
    let r = refusal(&plus(without_attestation(AttestedCriterion::Ex1), [cmd]));
    assert_eq!(r.rule, Rule::VALUE_REQUIRED);
    assert!(
        r.message
            .contains("contraindication to trastuzumab deruxtecan")
    );
}

#[test]
fn yes_keeps_her_eligible_for_an_inclusion_and_excludes_her_for_an_exclusion() {
    for c in AttestedCriterion::ALL {
        let rule = c.rule();
        let (p, _) = build(&plus(
            without_attestation(c),
            [attest(c, c.eligible_answer(), at(3))],
        ));
        assert_eq!(
            protocol::evaluate_eligibility(&p, now(), &Settings::default()).overall,
            Overall::Eligible,
            "{c:?} answered {}",
            c.eligible_answer()
        );
        let other = plus(
            without_attestation(c),
            [attest(c, !c.eligible_answer(), at(3))],
        );
        let r = eval(&other);
        assert_eq!(r.overall, Overall::NotEligible, "{c:?}");
        assert_eq!(r.failed(), vec![rule], "{c:?}");
    }
    // The stored meaning: Yes to IN7 is met, Yes to EX1 means the exclusion applies.
    assert!(AttestedCriterion::In7.eligible_answer());
    assert!(!AttestedCriterion::Ex1.eligible_answer());
    let yes_ex1 = plus(
        without_attestation(AttestedCriterion::Ex1),
        [attest(AttestedCriterion::Ex1, true, at(3))],
    );
    assert_eq!(status(&yes_ex1, Rule::EX1), CriterionStatus::Met);
}

#[test]
fn questions_are_phrased_for_their_criterion_and_follow_the_settings() {
    let mut s = Settings::default();
    assert_eq!(
        AttestedCriterion::In7.question(&s),
        "Is the participant's expected survival more than 12 weeks?"
    );
    s.min_life_expectancy_weeks = 16;
    assert!(AttestedCriterion::In7.question(&s).contains("16 weeks"));
    assert!(
        AttestedCriterion::Ex1
            .question(&s)
            .starts_with("Does the participant have a contraindication")
    );
}

#[test]
fn open_attestations_are_those_without_a_current_answer() {
    let (p, _) = build(&base());
    assert!(AttestedCriterion::open_in(&p).is_empty());
    let (p, _) = build(&without(base(), |c| {
        matches!(c, Command::RecordAttestation(a)
            if matches!(a.criterion, AttestedCriterion::In7 | AttestedCriterion::Ex5))
    }));
    assert_eq!(
        AttestedCriterion::open_in(&p),
        [AttestedCriterion::In7, AttestedCriterion::Ex5]
    );
}
