//! Validated identifiers: site codes and pseudonymous study ids (PROTOCOL §3).
//!
//! A value of these types is always well formed; they are built with `parse`.

use std::fmt;

use crate::rule::{Refusal, Rule};

/// A site code: 2–4 upper-case ASCII letters, e.g. `KS` (Karolinska Solna).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SiteCode(String);

impl SiteCode {
    /// Parses a site code; refuses anything but 2–4 upper-case ASCII letters.
    pub fn parse(s: &str) -> Result<Self, Refusal> {
        let ok = (2..=4).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_uppercase());
        if ok {
            Ok(SiteCode(s.to_owned()))
        } else {
            Err(Refusal::new(
                Rule::ID_FORMAT,
                "A site code is 2–4 capital letters (e.g. KS).",
            ))
        }
    }

    /// The code as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A pseudonymous study id: site code, dash, three digits, e.g. `KS-014`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StudyId {
    site: SiteCode,
    number: u16,
}

impl StudyId {
    /// Parses a study id of the form `KS-014` (number 001–999).
    pub fn parse(s: &str) -> Result<Self, Refusal> {
        let refuse = || {
            Refusal::new(
                Rule::ID_FORMAT,
                "A study id is the site code, a dash and three digits (e.g. KS-014).",
            )
        };
        let (site, digits) = s.split_once('-').ok_or_else(refuse)?;
        let site = SiteCode::parse(site).map_err(|_| refuse())?;
        if digits.len() != 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(refuse());
        }
        let number: u16 = digits.parse().map_err(|_| refuse())?;
        if number == 0 {
            return Err(refuse());
        }
        Ok(StudyId { site, number })
    }

    /// The site part of the id.
    pub fn site(&self) -> &SiteCode {
        &self.site
    }

    /// The sequence number within the site.
    pub fn number(&self) -> u16 {
        self.number
    }
}

impl fmt::Display for StudyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{:03}", self.site.as_str(), self.number)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_valid_ids() {
        let id = StudyId::parse("KS-014").unwrap();
        assert_eq!(id.site().as_str(), "KS");
        assert_eq!(id.number(), 14);
        assert_eq!(id.to_string(), "KS-014");
        assert!(StudyId::parse("UAS-999").is_ok());
    }

    #[test]
    fn refuses_malformed_ids() {
        for bad in [
            "KS014",
            "ks-014",
            "KS-14",
            "KS-0140",
            "KS-000",
            "K-014",
            "KSABC-014",
            "KS-01a",
            "",
        ] {
            assert_eq!(
                StudyId::parse(bad).unwrap_err().rule,
                Rule::ID_FORMAT,
                "{bad}"
            );
        }
    }
}
