//! Keeping Swedish personal identity numbers out of the study (PROTOCOL §3).
//!
//! Participants are pseudonymous. A personnummer (or samordningsnummer, the
//! coordination number whose day is increased by 60) must never be stored,
//! free text included, so every text field of every command is screened here.
//!
//! # What counts as a personal identity number
//! The shapes `YYMMDD-NNNN`, `YYMMDD+NNNN` (the `+` marks age ≥ 100),
//! `YYYYMMDD-NNNN`, `YYMMDDNNNN` and `YYYYMMDDNNNN` (a space is also accepted
//! as the separator), where the date is a real calendar date (day + 60 for a
//! samordningsnummer) **and** the last digit is the correct Luhn check digit
//! over the ten digits `YYMMDDNNN` (Skatteverket, SKV 704).
//!
//! Requiring both a valid date and a correct check digit keeps look-alikes
//! from being refused: telephone numbers, dates followed by a time, lab
//! accession numbers and dated sample ids (`20260115-0042`) nearly always fail
//! one of the two, so nurses are not blocked by false alarms.
//!
//! **Decision on a wrong check digit:** a number whose check digit is wrong is
//! not any person's personnummer, and refusing such digit runs would refuse one
//! dated sample id in ten as well as nine in ten. We therefore accept it. The
//! residual risk (a mistyped real number still carries a birth date) is not
//! covered by this filter.

use crate::rule::{Refusal, Rule};

/// Which kind of Swedish identity number was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PersonalNumberKind {
    /// A personnummer (day of month as is).
    Personnummer,
    /// A samordningsnummer (day of month + 60).
    Samordningsnummer,
}

/// Where a personal identity number was found; deliberately holds no digits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonalNumberMatch {
    /// Byte offset of the first character of the number in the text.
    pub start: usize,
    /// Byte offset just past the number.
    pub end: usize,
    /// Personnummer or samordningsnummer.
    pub kind: PersonalNumberKind,
}

/// Finds the first Swedish personal identity number in `text`, if any.
pub fn find_personal_number(text: &str) -> Option<PersonalNumberMatch> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let is_digit = |i: usize| chars.get(i).is_some_and(|(_, c)| c.is_ascii_digit());
    let mut i = 0;
    while i < chars.len() {
        if !is_digit(i) || (i > 0 && is_digit(i - 1)) {
            i += 1;
            continue;
        }
        let run1_end = (i..chars.len())
            .find(|&j| !is_digit(j))
            .unwrap_or(chars.len());
        let run1: String = chars[i..run1_end].iter().map(|(_, c)| *c).collect();
        let byte_end = |idx: usize| chars.get(idx).map_or(text.len(), |(b, _)| *b);
        if run1.len() == 10 || run1.len() == 12 {
            let (date, serial) = run1.split_at(run1.len() - 4);
            if let Some(kind) = validate(date, serial, false) {
                return Some(PersonalNumberMatch {
                    start: chars[i].0,
                    end: byte_end(run1_end),
                    kind,
                });
            }
        }
        if (run1.len() == 6 || run1.len() == 8)
            && let Some((_, sep)) = chars.get(run1_end)
            && matches!(sep, '-' | '+' | ' ' | '\u{2013}' | '\u{2212}')
        {
            let run2_start = run1_end + 1;
            let run2_end = (run2_start..chars.len())
                .find(|&j| !is_digit(j))
                .unwrap_or(chars.len());
            if run2_end - run2_start == 4 {
                let serial: String = chars[run2_start..run2_end]
                    .iter()
                    .map(|(_, c)| *c)
                    .collect();
                if let Some(kind) = validate(&run1, &serial, *sep == '+') {
                    return Some(PersonalNumberMatch {
                        start: chars[i].0,
                        end: byte_end(run2_end),
                        kind,
                    });
                }
            }
        }
        i = run1_end;
    }
    None
}

/// Refuses `text` with rule `PRIV_PNR` when it contains a personal identity number.
///
/// The message names the field but never repeats the number.
pub fn check_free_text(field: &str, text: &str) -> Result<(), Refusal> {
    match find_personal_number(text) {
        None => Ok(()),
        Some(m) => {
            let what = match m.kind {
                PersonalNumberKind::Personnummer => "personnummer",
                PersonalNumberKind::Samordningsnummer => "samordningsnummer",
            };
            Err(Refusal::new(
                Rule::PRIV_PNR,
                format!(
                    "The field `{field}` contains what looks like a Swedish personal identity number ({what}). \
                     It cannot be stored: participants are known to the study only by their study id."
                ),
            )
            .with_hint("Remove the number from the text and submit again."))
        }
    }
}

/// Checks the date part (6 or 8 digits) and the 4-digit serial; returns the kind when valid.
fn validate(date: &str, serial: &str, plus: bool) -> Option<PersonalNumberKind> {
    let num = |s: &str| s.parse::<u32>().ok();
    let (years, rest): (Vec<i32>, &str) = if date.len() == 8 {
        let y = num(&date[..4])? as i32;
        if !(1870..=2099).contains(&y) {
            return None;
        }
        (vec![y], &date[4..])
    } else {
        let yy = num(&date[..2])? as i32;
        let centuries: [i32; 2] = if plus { [1800, 1900] } else { [1900, 2000] };
        (centuries.iter().map(|c| c + yy).collect(), &date[2..])
    };
    let month = num(&rest[..2])?;
    let raw_day = num(&rest[2..4])?;
    let (day, kind) = if raw_day > 60 {
        (raw_day - 60, PersonalNumberKind::Samordningsnummer)
    } else {
        (raw_day, PersonalNumberKind::Personnummer)
    };
    let date_ok = years
        .iter()
        .any(|&y| chrono::NaiveDate::from_ymd_opt(y, month, day).is_some());
    if !date_ok {
        return None;
    }
    let ten: String = format!("{}{}", &date[date.len() - 6..], serial);
    luhn_ok(&ten).then_some(kind)
}

/// Luhn check over ten digits: weights 2,1,2,1,… on the first nine, the tenth is the check digit.
fn luhn_ok(ten: &str) -> bool {
    let digits: Vec<u32> = ten.chars().filter_map(|c| c.to_digit(10)).collect();
    if digits.len() != 10 {
        return false;
    }
    let sum: u32 = digits[..9]
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let p = if i % 2 == 0 { d * 2 } else { *d };
            p / 10 + p % 10
        })
        .sum();
    (10 - sum % 10) % 10 == digits[9]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luhn_matches_skatteverket_example() {
        // Skatteverket's published example 811218-9876.
        assert!(luhn_ok("8112189876"));
        assert!(!luhn_ok("8112189875"));
    }

    #[test]
    fn match_offsets_cover_the_number_only() {
        let text = "pat 811218-9876 ok";
        let m = find_personal_number(text).unwrap();
        assert_eq!(&text[m.start..m.end], "811218-9876");
        assert_eq!(m.kind, PersonalNumberKind::Personnummer);
    }

    #[test]
    fn refusal_names_field_and_hides_number() {
        let r = check_free_text("note", "see 19811218-9876").unwrap_err();
        assert_eq!(r.rule, Rule::PRIV_PNR);
        assert!(r.message.contains("`note`"));
        assert!(!r.message.contains("9876") && !r.message.contains("811218"));
    }

    mod props {
        use super::super::*;
        use proptest::prelude::*;

        /// Builds a valid ten-digit number YYMMDDNNN + Luhn check digit.
        fn with_check(nine: &str) -> String {
            (0..10)
                .map(|c| format!("{nine}{c}"))
                .find(|t| luhn_ok(t))
                .unwrap_or_default()
        }

        proptest! {
            #[test]
            fn never_panics_and_offsets_are_char_boundaries(text in "\\PC{0,60}") {
                if let Some(m) = find_personal_number(&text) {
                    prop_assert!(m.start < m.end);
                    prop_assert!(text.is_char_boundary(m.start) && text.is_char_boundary(m.end));
                }
            }

            #[test]
            fn every_valid_number_is_found_in_every_layout(
                year in 1930i32..2020,
                month in 1u32..=12,
                day in 1u32..=28,
                serial in 0u32..1000,
                coordination in any::<bool>(),
                layout in 0usize..5,
            ) {
                let shown_day = if coordination { day + 60 } else { day };
                let yy = year % 100;
                let ten = with_check(&format!("{yy:02}{month:02}{shown_day:02}{serial:03}"));
                let (date6, tail) = ten.split_at(6);
                let century = year / 100;
                let text = match layout {
                    0 => format!("{date6}-{tail}"),
                    1 => ten.clone(),
                    2 => format!("{century}{date6}-{tail}"),
                    3 => format!("{century}{ten}"),
                    _ => format!("note {century}{date6}-{tail} end"),
                };
                let m = find_personal_number(&text);
                prop_assert!(m.is_some(), "{} not found", text);
                let kind = m.map(|m| m.kind);
                let expected = if coordination {
                    PersonalNumberKind::Samordningsnummer
                } else {
                    PersonalNumberKind::Personnummer
                };
                prop_assert_eq!(kind, Some(expected));
            }
        }
    }
}
