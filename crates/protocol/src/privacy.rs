//! Keeping Swedish personal identity numbers and unsafe text out of the study (PROTOCOL §3).
//!
//! Participants are pseudonymous. A personnummer (or samordningsnummer, the
//! coordination number whose day is increased by 60) must never be stored,
//! free text included, so every text field of every command is screened here.
//!
//! # What counts as a personal identity number
//! Ten or twelve digits — `YYMMDDNNNN` or `YYYYMMDDNNNN` — whose date part is a
//! real calendar date (day + 60 for a samordningsnummer), written as one run or
//! split by separators: `YYMMDD-NNNN`, `YYMMDD+NNNN` (the `+` marks age ≥ 100),
//! `YYYYMMDD-NNNN`, `811 218 98 76`, a line break inside the number. A separator
//! is up to three spaces, dashes or `+` signs between two digit runs.
//!
//! Before matching, the text is folded ([`normalise`]): Unicode NFKC, every
//! dash and hyphen (the non-breaking hyphen U+2011, en and em dash, minus sign)
//! to `-`, every space (no-break space, line break, tab) to a space, digits of
//! any script (fullwidth `８`, Arabic-Indic) to ASCII, zero-width characters dropped.
//!
//! **Decision on a wrong check digit:** a number whose Luhn check digit is wrong
//! is refused too. A mistyped personnummer still carries a birth date and most
//! of a person's identity, so it is personal data. The price is that some
//! dated look-alikes are refused as well — a sample id `20260302-0042`, a
//! mobile number `070-123 45 67` whose digits read as a date — and have to be
//! written another way (`S-0042 of 2026-03-02`). Dates (`2026-03-12`), times,
//! lab values and short numbers are never ten or twelve digits and pass.
//!
//! # Length and control characters
//! Every free-text field holds at most [`MAX_TEXT_CHARS`] characters (4 000; no
//! field has another limit today), refused with rule `TEXT_LENGTH`. Control
//! characters (U+0000–U+001F, U+007F–U+009F) and bidirectional overrides are
//! refused with rule `TEXT_CONTROL`, except line break, carriage return and tab
//! in the multi-line fields of [`MULTI_LINE_FIELDS`]. No refusal echoes the text.

mod normalise;

use crate::rule::{Refusal, Rule};

/// The most characters a free-text field may hold.
pub const MAX_TEXT_CHARS: usize = 4_000;

/// Fields (the last part of a field path, e.g. `note` of `signature.note`) that may span
/// lines, so a line break or tab in them is not refused.
pub const MULTI_LINE_FIELDS: &[&str] = &[
    "note",
    "notes",
    "details",
    "description",
    "reason",
    "correction_reason",
    "cause",
    "comment",
    "meaning",
    "site_description",
];

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
    /// Whether the last digit is the correct Luhn check digit (SKV 704).
    pub check_digit_valid: bool,
}

/// A run of ASCII digits in the folded text and whether a `+` separates it from the previous run.
struct Run {
    digits: String,
    start: usize,
    end: usize,
    plus_before: bool,
}

/// Finds the first Swedish personal identity number in `text`, if any.
pub fn find_personal_number(text: &str) -> Option<PersonalNumberMatch> {
    for group in digit_groups(&normalise::fold(text)) {
        for first in 0..group.len() {
            let mut digits = String::new();
            let mut plus = false;
            for (k, run) in group[first..].iter().enumerate() {
                plus |= k > 0 && run.plus_before;
                digits.push_str(&run.digits);
                if digits.len() > 12 {
                    break;
                }
                if (digits.len() == 10 || digits.len() == 12)
                    && let Some(kind) = date_kind(&digits[..digits.len() - 4], plus)
                {
                    return Some(PersonalNumberMatch {
                        start: group[first].start,
                        end: run.end,
                        kind,
                        check_digit_valid: luhn_ok(&digits[digits.len() - 10..]),
                    });
                }
            }
        }
    }
    None
}

/// Splits folded text into groups of digit runs joined by short separators.
fn digit_groups(folded: &[normalise::Folded]) -> Vec<Vec<Run>> {
    let mut groups: Vec<Vec<Run>> = Vec::new();
    let mut current: Vec<Run> = Vec::new();
    let mut i = 0;
    while i < folded.len() {
        if !folded[i].c.is_ascii_digit() {
            let sep_end = (i..folded.len())
                .find(|&j| !matches!(folded[j].c, ' ' | '-' | '+'))
                .unwrap_or(folded.len());
            let joins = sep_end - i <= 3
                && sep_end < folded.len()
                && folded[sep_end].c.is_ascii_digit()
                && !current.is_empty();
            if !joins {
                groups.push(std::mem::take(&mut current));
            }
            let plus_before = joins && folded[i..sep_end].iter().any(|f| f.c == '+');
            i = sep_end.max(i + 1);
            if joins {
                let run = digit_run(folded, &mut i, plus_before);
                current.push(run);
            }
            continue;
        }
        let run = digit_run(folded, &mut i, false);
        current.push(run);
    }
    groups.push(current);
    groups.retain(|g| !g.is_empty());
    groups
}

/// Reads the digit run starting at `*i` and moves `*i` past it.
fn digit_run(folded: &[normalise::Folded], i: &mut usize, plus_before: bool) -> Run {
    let from = *i;
    while *i < folded.len() && folded[*i].c.is_ascii_digit() {
        *i += 1;
    }
    Run {
        digits: folded[from..*i].iter().map(|f| f.c).collect(),
        start: folded[from].start,
        end: folded[*i - 1].end,
        plus_before,
    }
}

/// Refuses `text` in `field` when it is too long (`TEXT_LENGTH`), holds control characters
/// (`TEXT_CONTROL`) or a personal identity number (`PRIV_PNR`).
///
/// The message names the field but never repeats the text or the number.
pub fn check_free_text(field: &str, text: &str) -> Result<(), Refusal> {
    let length = text.chars().count();
    if length > MAX_TEXT_CHARS {
        return Err(Refusal::new(
            Rule::TEXT_LENGTH,
            format!(
                "The field `{field}` holds {length} characters; at most {MAX_TEXT_CHARS} are allowed."
            ),
        )
        .with_hint("Shorten the text; long documents belong in the source records, not the study database."));
    }
    if let Some((position, c)) = forbidden_control(field, text) {
        return Err(Refusal::new(
            Rule::TEXT_CONTROL,
            format!(
                "The field `{field}` contains an invisible control character (U+{:04X}) at position {}.",
                c as u32,
                position + 1
            ),
        )
        .with_hint("Retype the text or paste it as plain text."));
    }
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
            .with_hint("Remove the number from the text and submit again. A date with a four-digit \
                        number after it counts as one; write such ids another way (`S-0042 of 2026-03-02`)."))
        }
    }
}

/// The first control character the field may not hold, with its position in characters.
fn forbidden_control(field: &str, text: &str) -> Option<(usize, char)> {
    let last = field.rsplit('.').next().unwrap_or(field);
    let last = last.split('[').next().unwrap_or(last);
    let multi_line = MULTI_LINE_FIELDS.contains(&last);
    text.chars().enumerate().find(|&(_, c)| {
        let line_break = matches!(c, '\n' | '\r' | '\t');
        let bidi = matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}');
        (c.is_control() && !(multi_line && line_break)) || bidi
    })
}

/// The kind of number when the date part (6 or 8 digits) is a real calendar date.
fn date_kind(date: &str, plus: bool) -> Option<PersonalNumberKind> {
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
    Some(kind)
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
