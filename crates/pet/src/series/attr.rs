//! Reading single attributes from a DICOM data set, with errors that name the attribute.
//!
//! Values are read through their text form and parsed here, so a malformed decimal string
//! (DS) or date (DA/TM/DT) becomes a clear [`ErrorKind::BadTag`] instead of a silent zero.

use std::borrow::Cow;

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use dicom_core::Tag;
use dicom_object::{DefaultDicomObject, InMemDicomObject};

use crate::error::ErrorKind;

/// A data set whose attributes can be read as text: a dicom-rs object, or the header
/// read by the series reader's fast path. Both give the text dicom-rs would give
/// (`PrimitiveValue::to_str`), so every reading below behaves the same on either.
pub trait AttrSource {
    /// The data set of one sequence item.
    type Item: AttrSource;

    /// The text of the value of `tag`: `None` when absent, `Err` (the reason) when the
    /// value has no text form.
    fn value_text(&self, tag: Tag) -> Option<Result<Cow<'_, str>, String>>;

    /// The items of the sequence `tag`: `None` when absent, `Some(None)` when the
    /// attribute is not a sequence.
    fn sequence(&self, tag: Tag) -> Option<Option<&[Self::Item]>>;

    /// Whether the attribute `tag` is present.
    fn contains(&self, tag: Tag) -> bool;
}

impl AttrSource for InMemDicomObject {
    type Item = InMemDicomObject;

    fn value_text(&self, tag: Tag) -> Option<Result<Cow<'_, str>, String>> {
        self.get(tag).map(|e| e.to_str().map_err(|e| e.to_string()))
    }

    fn sequence(&self, tag: Tag) -> Option<Option<&[InMemDicomObject]>> {
        self.get(tag).map(|e| e.items())
    }

    fn contains(&self, tag: Tag) -> bool {
        self.get(tag).is_some()
    }
}

/// A DICOM attribute: its keyword (PS3.6) and its tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attr {
    /// PS3.6 keyword, e.g. `RescaleSlope`.
    pub name: &'static str,
    /// The tag, e.g. (0028,1053).
    pub tag: Tag,
}

impl std::fmt::Display for Attr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({:04X},{:04X})", self.name, self.tag.0, self.tag.1)
    }
}

impl AttrSource for DefaultDicomObject {
    type Item = InMemDicomObject;

    fn value_text(&self, tag: Tag) -> Option<Result<Cow<'_, str>, String>> {
        (**self).value_text(tag)
    }

    fn sequence(&self, tag: Tag) -> Option<Option<&[InMemDicomObject]>> {
        (**self).sequence(tag)
    }

    fn contains(&self, tag: Tag) -> bool {
        (**self).contains(tag)
    }
}

/// Shorthand to declare an attribute constant.
pub const fn attr(name: &'static str, group: u16, element: u16) -> Attr {
    Attr {
        name,
        tag: Tag(group, element),
    }
}

fn bad(a: Attr, problem: impl Into<String>) -> ErrorKind {
    ErrorKind::BadTag {
        tag: a.to_string(),
        problem: problem.into(),
    }
}

/// The trimmed text of an attribute; `None` when absent or empty.
pub fn text<D: AttrSource + ?Sized>(obj: &D, a: Attr) -> Result<Option<String>, ErrorKind> {
    let Some(value) = obj.value_text(a.tag) else {
        return Ok(None);
    };
    let value = value.map_err(|e| bad(a, format!("not text: {e}")))?;
    let trimmed = value
        .trim_matches(|c: char| c == ' ' || c == '\0')
        .to_string();
    Ok((!trimmed.is_empty()).then_some(trimmed))
}

/// A required text attribute.
pub fn text_req<D: AttrSource + ?Sized>(obj: &D, a: Attr) -> Result<String, ErrorKind> {
    text(obj, a)?.ok_or_else(|| ErrorKind::MissingTag(a.to_string()))
}

/// All numeric values of a multi-valued attribute (DS, IS, US, FD…); `None` when absent.
pub fn numbers<D: AttrSource + ?Sized>(obj: &D, a: Attr) -> Result<Option<Vec<f64>>, ErrorKind> {
    let Some(t) = text(obj, a)? else {
        return Ok(None);
    };
    let mut out = Vec::new();
    for part in t.split('\\') {
        let part = part.trim_matches(|c: char| c == ' ' || c == '\0');
        let v: f64 = part
            .parse()
            .map_err(|_| bad(a, format!("{part:?} is not a number")))?;
        if !v.is_finite() {
            return Err(bad(a, format!("{part:?} is not finite")));
        }
        out.push(v);
    }
    Ok(Some(out))
}

/// A single numeric value; `None` when absent.
pub fn number<D: AttrSource + ?Sized>(obj: &D, a: Attr) -> Result<Option<f64>, ErrorKind> {
    match numbers(obj, a)? {
        None => Ok(None),
        Some(v) if v.len() == 1 => Ok(Some(v[0])),
        Some(v) => Err(bad(a, format!("expected one value, found {}", v.len()))),
    }
}

/// Exactly `n` numeric values, required.
pub fn numbers_n<D: AttrSource + ?Sized>(
    obj: &D,
    a: Attr,
    n: usize,
) -> Result<Vec<f64>, ErrorKind> {
    let v = numbers(obj, a)?.ok_or_else(|| ErrorKind::MissingTag(a.to_string()))?;
    if v.len() != n {
        return Err(bad(a, format!("expected {n} values, found {}", v.len())));
    }
    Ok(v)
}

/// The items of a sequence attribute; empty when absent.
pub fn items<D: AttrSource + ?Sized>(obj: &D, a: Attr) -> Result<&[D::Item], ErrorKind> {
    match obj.sequence(a.tag) {
        None => Ok(&[]),
        Some(items) => items.ok_or_else(|| bad(a, "expected a sequence")),
    }
}

/// Parses a DICOM DA value (`YYYYMMDD`; the pre-1993 `YYYY.MM.DD` form is accepted too).
pub fn parse_da(s: &str) -> Option<NaiveDate> {
    let digits: String = s.chars().filter(|c| *c != '.').collect();
    if digits.len() != 8 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let y = digits[0..4].parse().ok()?;
    let m = digits[4..6].parse().ok()?;
    let d = digits[6..8].parse().ok()?;
    NaiveDate::from_ymd_opt(y, m, d)
}

/// Parses a DICOM TM value (`HH[MM[SS[.FFFFFF]]]`, the old `HH:MM:SS` form accepted).
pub fn parse_tm(s: &str) -> Option<NaiveTime> {
    let s: String = s.chars().filter(|c| *c != ':').collect();
    let (whole, frac) = match s.split_once('.') {
        Some((w, f)) => (w, f),
        None => (s.as_str(), ""),
    };
    if !whole.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let field = |range: std::ops::Range<usize>| -> Option<u32> {
        match whole.get(range) {
            Some(t) if !t.is_empty() => t.parse().ok(),
            _ => Some(0),
        }
    };
    if !matches!(whole.len(), 2 | 4 | 6) {
        return None;
    }
    let (h, m, sec) = (field(0..2)?, field(2..4)?, field(4..6)?);
    let mut nanos = 0u32;
    for (i, c) in frac.bytes().take(9).enumerate() {
        nanos += u32::from(c - b'0') * 10u32.pow(8 - i as u32);
    }
    // DICOM allows a leap second (60); chrono does not at this place, so clamp it.
    NaiveTime::from_hms_nano_opt(h, m, sec.min(59), nanos)
}

/// Parses a DICOM DT value (`YYYYMMDDHHMMSS.FFFFFF`, optional `&ZZXX` offset ignored:
/// all times of one PET header come from the same scanner clock).
pub fn parse_dt(s: &str) -> Option<NaiveDateTime> {
    let core = s.split(['+', '-']).next().unwrap_or(s).trim();
    let date = parse_da(core.get(0..8)?)?;
    let rest = core.get(8..).unwrap_or("");
    let time = if rest.is_empty() {
        NaiveTime::MIN
    } else {
        parse_tm(rest)?
    };
    Some(NaiveDateTime::new(date, time))
}

/// A date attribute; `None` when absent, an error when malformed.
pub fn date<D: AttrSource + ?Sized>(obj: &D, a: Attr) -> Result<Option<NaiveDate>, ErrorKind> {
    match text(obj, a)? {
        None => Ok(None),
        Some(t) => parse_da(&t)
            .map(Some)
            .ok_or_else(|| bad(a, format!("{t:?} is not a DICOM date (DA)"))),
    }
}

/// A time attribute; `None` when absent, an error when malformed.
pub fn time<D: AttrSource + ?Sized>(obj: &D, a: Attr) -> Result<Option<NaiveTime>, ErrorKind> {
    match text(obj, a)? {
        None => Ok(None),
        Some(t) => parse_tm(&t)
            .map(Some)
            .ok_or_else(|| bad(a, format!("{t:?} is not a DICOM time (TM)"))),
    }
}

/// A date-time attribute; `None` when absent, an error when malformed.
pub fn datetime<D: AttrSource + ?Sized>(
    obj: &D,
    a: Attr,
) -> Result<Option<NaiveDateTime>, ErrorKind> {
    match text(obj, a)? {
        None => Ok(None),
        Some(t) => parse_dt(&t)
            .map(Some)
            .ok_or_else(|| bad(a, format!("{t:?} is not a DICOM date-time (DT)"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_dicom_times_with_fractions_and_partial_forms() {
        assert_eq!(
            parse_tm("110230.500000"),
            NaiveTime::from_hms_milli_opt(11, 2, 30, 500)
        );
        assert_eq!(parse_tm("1102"), NaiveTime::from_hms_opt(11, 2, 0));
        assert_eq!(parse_tm("11:02:30"), NaiveTime::from_hms_opt(11, 2, 30));
        assert_eq!(parse_tm("1x0230"), None);
        assert_eq!(parse_tm("11023"), None);
    }

    #[test]
    fn parses_dates_and_datetimes() {
        assert_eq!(parse_da("20250102"), NaiveDate::from_ymd_opt(2025, 1, 2));
        assert_eq!(parse_da("20251302"), None);
        let dt = parse_dt("20250101233000.000000+0100").unwrap();
        assert_eq!(dt.to_string(), "2025-01-01 23:30:00");
        assert_eq!(parse_dt("2025"), None);
    }
}
