//! The sites' calendar (issue: local time, PROTOCOL §2, §4, §11).
//!
//! Instants are stored in UTC, but every calendar rule of the protocol counts local days
//! at the sites: "today", a date that may not lie in the future, the 14-day lab window,
//! PET2 on day 63–84, the SAE 24-hour check against the onset date, all windows. A dose
//! given at 00:30 in Stockholm on 1 July is a 1 July dose, although it is still 30 June in
//! UTC. The zone is a setting ([`crate::settings::Settings::site_time_zone`], default
//! Europe/Stockholm: CET in winter, CEST in summer), so every decision records which
//! calendar it counted in.

use std::fmt;

use chrono::{DateTime, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An IANA time zone, stored by its name (`Europe/Stockholm`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SiteTimeZone(pub Tz);

impl Default for SiteTimeZone {
    /// The trial's three Swedish sites.
    fn default() -> Self {
        SiteTimeZone(chrono_tz::Europe::Stockholm)
    }
}

impl SiteTimeZone {
    /// Parses an IANA zone name; `None` when the name is not a known zone.
    pub fn parse(name: &str) -> Option<Self> {
        name.parse::<Tz>().ok().map(SiteTimeZone)
    }

    /// The zone's IANA name.
    pub fn name(self) -> &'static str {
        self.0.name()
    }

    /// The local calendar date of an instant.
    pub fn date_of(self, t: DateTime<Utc>) -> NaiveDate {
        t.with_timezone(&self.0).date_naive()
    }

    /// The first instant of a local calendar day (midnight, or the first valid time after
    /// a gap).
    pub fn start_of(self, d: NaiveDate) -> DateTime<Utc> {
        (0..3)
            .find_map(|h| {
                self.0
                    .from_local_datetime(&d.and_hms_opt(h, 0, 0)?)
                    .earliest()
            })
            .map_or_else(
                || d.and_time(NaiveTime::MIN).and_utc(),
                |t| t.with_timezone(&Utc),
            )
    }

    /// An instant as people at the sites read it: `2026-07-01 10:30 CEST`.
    pub fn format(self, t: DateTime<Utc>) -> String {
        t.with_timezone(&self.0)
            .format("%Y-%m-%d %H:%M %Z")
            .to_string()
    }
}

impl fmt::Display for SiteTimeZone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Serialize for SiteTimeZone {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for SiteTimeZone {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        SiteTimeZone::parse(&name).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "`{name}` is not an IANA time zone (for example Europe/Stockholm)"
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_past_midnight_in_stockholm_is_the_next_day() {
        let z = SiteTimeZone::default();
        let t = Utc.with_ymd_and_hms(2026, 6, 30, 22, 30, 0).unwrap();
        assert_eq!(z.date_of(t), NaiveDate::from_ymd_opt(2026, 7, 1).unwrap());
        assert_eq!(z.format(t), "2026-07-01 00:30 CEST");
        let winter = Utc.with_ymd_and_hms(2026, 12, 4, 23, 30, 0).unwrap();
        assert_eq!(z.format(winter), "2026-12-05 00:30 CET");
    }

    #[test]
    fn a_zone_is_stored_by_name_and_an_unknown_name_is_refused() {
        let json = serde_json::to_string(&SiteTimeZone::default()).unwrap();
        assert_eq!(json, "\"Europe/Stockholm\"");
        let back: SiteTimeZone = serde_json::from_str(&json).unwrap();
        assert_eq!(back, SiteTimeZone::default());
        let err = serde_json::from_str::<SiteTimeZone>("\"Europe/Stockhom\"").unwrap_err();
        assert!(err.to_string().contains("not an IANA time zone"), "{err}");
    }
}
