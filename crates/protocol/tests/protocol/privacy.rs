//! Personnummer / samordningsnummer detection and refusal (PROTOCOL §3).

use protocol::privacy::{PersonalNumberKind, check_free_text, find_personal_number};
use protocol::testing::investigator_signature;
use protocol::{Command, RecordAttestation, Rule, ScreenFail};

use crate::common::*;

/// Real-format numbers with valid dates and correct Luhn check digits.
const REFUSED: &[&str] = &[
    "811218-9876",
    "19811218-9876",
    "8112189876",
    "198112189876",
    "811218+9876",
    "811218 9876",
    "640823-3234",
    "19640823-3234",
    "19121212-1212",
    "121212-1212",
    "20000229-1235",
    "850101-1236",
    "198501011236",
    "900615-5676",
    "20030415-7217",
    "450917+6543",
];

#[test]
fn valid_personal_numbers_are_found_in_any_position() {
    for n in REFUSED {
        assert!(find_personal_number(n).is_some(), "{n} not found");
        let text = format!("Seen at the clinic (pnr {n}), doing well.");
        let m = find_personal_number(&text).unwrap_or_else(|| panic!("{n} not found in text"));
        assert_eq!(&text[m.start..m.end], *n);
    }
}

#[test]
fn samordningsnummer_day_plus_60_is_found() {
    for n in ["811278-9873", "19811278-9873"] {
        let m = find_personal_number(n).unwrap();
        assert_eq!(m.kind, PersonalNumberKind::Samordningsnummer, "{n}");
    }
}

#[test]
fn look_alikes_are_accepted() {
    for text in [
        "Call 070-123 45 67 or 08-517 700 00",
        "0701234567",
        "Sample 20260302-0042 sent",
        "CT 2026-03-02 14:30, slice 2.5 mm",
        "811218-9875",
        "811318-9876",
        "Accession 1234567890123",
        "LAB 26030200427",
        "Dose 5.4 mg/kg, 68 kg",
    ] {
        assert_eq!(find_personal_number(text), None, "{text}");
        assert!(check_free_text("note", text).is_ok());
    }
}

#[test]
fn decide_refuses_a_personal_number_in_any_text_field_without_echoing_it() {
    let sig_with_pnr = {
        let mut s = investigator_signature(at(3));
        s.meaning = "confirmed for 19640823-3234".into();
        s
    };
    let cases: Vec<(Command, &str)> = vec![
        (
            Command::ScreenFail(ScreenFail {
                reason: "see 640823-3234".into(),
            }),
            "reason",
        ),
        (
            Command::RecordAttestation(RecordAttestation {
                criterion: protocol::AttestedCriterion::In7,
                answer: Some(true),
                note: Some("pat 8112189876".into()),
                signature: investigator_signature(at(3)),
            }),
            "note",
        ),
        (
            Command::RecordAttestation(RecordAttestation {
                criterion: protocol::AttestedCriterion::In7,
                answer: Some(true),
                note: None,
                signature: sig_with_pnr,
            }),
            "signature.meaning",
        ),
    ];
    for (cmd, field) in cases {
        let r = refusal(&plus(base(), [cmd]));
        assert_eq!(r.rule, Rule::PRIV_PNR);
        assert!(r.message.contains(&format!("`{field}`")), "{}", r.message);
        assert!(
            !r.message.contains("3234") && !r.message.contains("9876"),
            "{}",
            r.message
        );
    }
}

#[test]
fn personal_number_in_regimen_or_organ_is_refused() {
    let regimen = edit(base(), |c| {
        if let Command::RecordTreatmentLine(t) = c {
            t.regimen = "capecitabine 811218-9876".into();
        }
    });
    assert_eq!(refusal(&regimen).rule, Rule::PRIV_PNR);
    let organ = edit(base(), |c| {
        if let Command::RecordLesion(l) = c {
            l.organ = "liver 19121212-1212".into();
        }
    });
    assert_eq!(refusal(&organ).rule, Rule::PRIV_PNR);
}
