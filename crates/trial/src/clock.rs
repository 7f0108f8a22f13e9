//! Time as the trial sees it: the clock is injected ([`Clock`]; tests use a
//! [`FixedClock`]), and every "today" and every time shown to a person is read in the
//! sites' time zone ([`SiteZone`], Europe/Stockholm by default: CET in winter, CEST in
//! summer), never as a UTC date.

use std::sync::Mutex;

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;

/// Where the current time comes from.
pub trait Clock: Send + Sync {
    /// Now, in UTC.
    fn now(&self) -> DateTime<Utc>;
}

/// The machine's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that says what it is told: for tests and for replaying a history.
#[derive(Debug)]
pub struct FixedClock(Mutex<DateTime<Utc>>);

impl FixedClock {
    /// A clock standing at `at`.
    pub fn new(at: DateTime<Utc>) -> Self {
        FixedClock(Mutex::new(at))
    }

    /// Moves the clock to `at`.
    pub fn set(&self, at: DateTime<Utc>) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = at;
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: chrono::Duration) {
        let mut t = self.0.lock().unwrap_or_else(|p| p.into_inner());
        *t += by;
    }
}

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The sites' time zone: the calendar every "today" and every displayed time uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SiteZone(pub Tz);

impl Default for SiteZone {
    /// The trial's three Swedish sites: Europe/Stockholm.
    fn default() -> Self {
        SiteZone(chrono_tz::Europe::Stockholm)
    }
}

impl SiteZone {
    /// Parses an IANA zone name (`Europe/Stockholm`).
    pub fn parse(name: &str) -> Option<SiteZone> {
        name.parse::<Tz>().ok().map(SiteZone)
    }

    /// The zone's IANA name.
    pub fn name(self) -> &'static str {
        self.0.name()
    }

    /// The local calendar date of an instant.
    pub fn date_of(self, t: DateTime<Utc>) -> NaiveDate {
        t.with_timezone(&self.0).date_naive()
    }

    /// An instant as people at the sites read it: `2026-07-01 10:30 CEST`.
    pub fn format(self, t: DateTime<Utc>) -> String {
        t.with_timezone(&self.0)
            .format("%Y-%m-%d %H:%M %Z")
            .to_string()
    }

    /// A local wall-clock time as an instant. In the autumn hour that occurs twice the
    /// earlier reading is taken; in the spring hour that does not exist, nothing is guessed.
    pub fn to_utc(self, local: NaiveDateTime) -> Option<DateTime<Utc>> {
        self.0
            .from_local_datetime(&local)
            .earliest()
            .map(|t| t.with_timezone(&Utc))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_past_midnight_local_is_already_tomorrow() {
        let z = SiteZone::default();
        // 23:30 UTC on 30 June is 01:30 on 1 July in Stockholm (CEST, UTC+2).
        let t = Utc.with_ymd_and_hms(2026, 6, 30, 23, 30, 0).unwrap();
        assert_eq!(z.date_of(t), NaiveDate::from_ymd_opt(2026, 7, 1).unwrap());
        assert_eq!(z.format(t), "2026-07-01 01:30 CEST");
        let winter = Utc.with_ymd_and_hms(2026, 1, 15, 7, 0, 0).unwrap();
        assert_eq!(z.format(winter), "2026-01-15 08:00 CET");
    }

    #[test]
    fn spring_gap_is_not_guessed_and_fixed_clock_moves_only_when_told() {
        let z = SiteZone::default();
        let gap = NaiveDate::from_ymd_opt(2026, 3, 29)
            .unwrap()
            .and_hms_opt(2, 30, 0)
            .unwrap();
        assert_eq!(z.to_utc(gap), None);
        let at = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let c = FixedClock::new(at);
        assert_eq!(c.now(), at);
        c.advance(chrono::Duration::hours(1));
        assert_eq!(c.now(), at + chrono::Duration::hours(1));
    }
}
