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
        "Call 08-517 700 00",
        "CT 2026-03-02 14:30, slice 2.5 mm",
        "811318-9876",
        "Accession 1234567890123",
        "LAB 26030200427",
        "Dose 5.4 mg/kg, 68 kg",
        "Hb 121 g/L, LVEF 58 %, weight 68.5 kg on 2026-03-02",
        "Cycle 3 day 1, 21-day cycles, 5.4 mg/kg",
    ] {
        assert_eq!(find_personal_number(text), None, "{text}");
        assert!(check_free_text("note", text).is_ok(), "{text}");
    }
}

/// A mistyped personnummer still carries a birth date: a wrong check digit is refused
/// too, and so are dated look-alikes whose ten or twelve digits read as a real date.
#[test]
fn a_wrong_check_digit_is_still_refused() {
    for text in [
        "811218-9875",
        "19811218-9875",
        "811278-9874",
        "Sample 20260302-0042 sent",
        "Call 070-123 45 67",
        "0701234567",
    ] {
        let m = find_personal_number(text).unwrap_or_else(|| panic!("{text} not found"));
        assert_eq!(
            check_free_text("note", text).unwrap_err().rule,
            Rule::PRIV_PNR,
            "{text}"
        );
        if text.starts_with("811218") {
            assert!(!m.check_digit_valid, "{text}");
        }
    }
    assert!(
        find_personal_number("811218-9876")
            .unwrap()
            .check_digit_valid
    );
}

/// The ways of writing 811218-9876 past a filter that matched only ASCII shapes.
#[test]
fn evasions_are_normalised_and_refused() {
    let evasions = [
        "811218\u{2011}9876",     // non-breaking hyphen
        "811218\u{2010}9876",     // hyphen
        "811218\u{2013}9876",     // en dash
        "811218\u{2014}9876",     // em dash
        "811218\u{2212}9876",     // minus sign
        "811218\u{FE63}9876",     // small hyphen-minus
        "811218\u{FF0D}9876",     // fullwidth hyphen-minus
        "811218\u{00A0}9876",     // no-break space
        "811218\u{202F}9876",     // narrow no-break space
        "811218\u{2009}9876",     // thin space
        "811218\u{3000}9876",     // ideographic space
        "811218\n9876",           // line break
        "811218\r\n9876",         // Windows line break
        "811218\t9876",           // tab
        "８１１２１８－９８７６", // fullwidth digits and dash
        "８１１２１８９８７６",   // fullwidth digits, no separator
        "\u{0668}\u{0661}\u{0661}\u{0662}\u{0661}\u{0668}-\u{0669}\u{0668}\u{0667}\u{0666}", // Arabic-Indic
        "𝟖𝟏𝟏𝟐𝟏𝟖-𝟗𝟖𝟕𝟔",                 // mathematical bold digits
        "8\u{200B}1\u{200B}1218-9876", // zero-width spaces
        "811218\u{00AD}9876",          // soft hyphen
        "811218\u{2060}9876",          // word joiner
        "81 12 18 98 76",              // spaced pairs
        "811 218 98 76",               // grouped
        "811218 - 9876",               // spaced dash
        "81-12-18-98-76",              // dashes between pairs
        "19811218\u{2011}9876",        // twelve digits, non-breaking hyphen
    ];
    for e in evasions {
        let text = format!("Patient {e} seen today");
        let m = find_personal_number(&text).unwrap_or_else(|| panic!("{e:?} got through"));
        assert!(
            m.start >= "Patient ".len() && m.end <= text.len() - " seen today".len(),
            "{e:?}"
        );
        let r = check_free_text("note", &text).unwrap_err();
        assert_eq!(r.rule, Rule::PRIV_PNR, "{e:?}");
        assert!(!r.message.contains("9876"), "{}", r.message);
    }
}

/// Free text is at most 4 000 characters and holds no control characters; line breaks
/// are allowed only where a text may span lines.
#[test]
fn long_text_and_control_characters_are_refused() {
    let long = "a".repeat(protocol::privacy::MAX_TEXT_CHARS + 1);
    assert_eq!(
        check_free_text("note", &long).unwrap_err().rule,
        Rule::TEXT_LENGTH
    );
    assert!(check_free_text("note", &"å".repeat(protocol::privacy::MAX_TEXT_CHARS)).is_ok());
    for bad in [
        "a\u{0000}b",
        "a\u{0007}b",
        "a\u{001B}[31mb",
        "a\u{007F}b",
        "a\u{202E}b",
    ] {
        let r = check_free_text("note", bad).unwrap_err();
        assert_eq!(r.rule, Rule::TEXT_CONTROL, "{bad:?}");
    }
    assert!(check_free_text("note", "line one\nline two\tend").is_ok());
    assert_eq!(
        check_free_text("regimen", "capecitabine\nx")
            .unwrap_err()
            .rule,
        Rule::TEXT_CONTROL
    );
    let r = refusal(&edit(base(), |c| {
        if let Command::RecordTreatmentLine(t) = c {
            t.regimen = "x".repeat(5_000);
        }
    }));
    assert_eq!(r.rule, Rule::TEXT_LENGTH);
    assert!(
        r.message.contains("`regimen`") || r.message.contains("regimen"),
        "{}",
        r.message
    );
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
