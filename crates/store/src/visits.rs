//! The visits read table: where a visit stands on a day, which rows the store accepts,
//! and how a page of the open-visit list splits over its three parts.
//!
//! The table holds, per participant, the visits still to be done ([`VisitRow`]); the
//! caller replaces a participant's rows with each append that changes them
//! ([`crate::Projection::Visits`]) or, after a settings change, without events
//! ([`crate::Store::rebuild_visits`]). The list shows overdue visits first, then due ones,
//! then upcoming ones; each part is read with its own index range, so a page costs a few
//! index lookups however many visits lie outside it.

use std::collections::BTreeSet;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::error::StoreError;
use crate::lists::Filter;
use crate::model::VisitRow;

/// Where an open visit stands on a given day, in list order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum VisitStatus {
    /// Required, and its window has closed: `latest < today`.
    Overdue,
    /// Its window is open: `earliest <= today <= latest`.
    Due,
    /// Its window opens later: `today < earliest`.
    Upcoming,
}

impl VisitStatus {
    /// The three parts of the open-visit list, in list order.
    pub(crate) const ALL: [VisitStatus; 3] = [
        VisitStatus::Overdue,
        VisitStatus::Due,
        VisitStatus::Upcoming,
    ];

    /// The SQL condition selecting this part's rows, with `today` bound to `$1`. Each
    /// starts with a range on `latest`, the first column of the list's order, so a part
    /// is read from its own stretch of an index (upcoming rows have `latest >= earliest >
    /// today`: saying so keeps the closed windows out of its range).
    pub(crate) fn condition(self) -> &'static str {
        match self {
            VisitStatus::Overdue => "latest < $1 AND required",
            VisitStatus::Due => "latest >= $1 AND earliest <= $1",
            VisitStatus::Upcoming => "latest >= $1 AND earliest > $1",
        }
    }
}

impl VisitRow {
    /// Where the visit stands on `today`; `None` for an optional visit whose window has
    /// closed (it was skipped, and is not listed).
    pub fn status(&self, today: NaiveDate) -> Option<VisitStatus> {
        if today < self.earliest {
            Some(VisitStatus::Upcoming)
        } else if today <= self.latest {
            Some(VisitStatus::Due)
        } else if self.required {
            Some(VisitStatus::Overdue)
        } else {
            None
        }
    }
}

/// SQL counting the rows of the parts, `(overdue, due, due + upcoming)`, with `today`
/// bound to `$1` and `filter`'s conditions added. Due and upcoming rows share one index
/// range (`latest >= today`), counted in one pass: all of it, and those whose window has
/// opened. Overdue rows have their own range (required ones with `latest < today`).
pub(crate) fn counts_sql(filter: &Filter) -> String {
    format!(
        "SELECT (SELECT COUNT(*) FROM visits{}), COUNT(*) FILTER (WHERE earliest <= $1), \
         COUNT(*) FROM visits{}",
        filter.where_clause(Some(VisitStatus::Overdue.condition())),
        filter.where_clause(Some("latest >= $1"))
    )
}

/// Years whose dates the backends store and order alike (SQLite keeps `YYYY-MM-DD` text).
const YEARS: std::ops::RangeInclusive<i32> = 1..=9999;

/// Refuses visit rows the table cannot hold as one participant's schedule: a row of
/// another participant, a kind given twice, a window that ends before it starts.
pub(crate) fn check_rows(study_id: &str, rows: &[VisitRow]) -> Result<(), StoreError> {
    let mut kinds = BTreeSet::new();
    for row in rows {
        let refuse = |why: String| {
            Err(StoreError::InvalidInput(format!(
                "visit {:?} of participant {study_id:?}: {why}",
                row.kind
            )))
        };
        if row.study_id != study_id {
            return refuse(format!("the row names participant {:?}", row.study_id));
        }
        if !kinds.insert(row.kind.as_str()) {
            return refuse("the kind is given twice".to_owned());
        }
        if row.latest < row.earliest {
            return refuse(format!(
                "the window ends ({}) before it starts ({})",
                row.latest, row.earliest
            ));
        }
        for day in [row.earliest, row.latest] {
            if !YEARS.contains(&day.year()) {
                return refuse(format!("{day} is outside the years 1 to 9999"));
            }
        }
    }
    Ok(())
}

/// One part's share of a page: skip `offset` rows of `status`, then take `limit`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct PartWindow {
    pub status: VisitStatus,
    pub offset: u64,
    pub limit: u64,
}

/// Splits the page `offset .. offset + limit` of the whole list over its parts, given how
/// many rows each part has (in [`VisitStatus::ALL`] order). Parts the page does not reach
/// are left out.
pub(crate) fn page_windows(counts: [u64; 3], offset: u64, limit: u64) -> Vec<PartWindow> {
    let mut windows = Vec::new();
    let (mut skip, mut take) = (offset, limit);
    for (status, count) in VisitStatus::ALL.into_iter().zip(counts) {
        if take == 0 {
            break;
        }
        if skip >= count {
            skip -= count;
            continue;
        }
        let here = take.min(count - skip);
        windows.push(PartWindow {
            status,
            offset: skip,
            limit: here,
        });
        take -= here;
        skip = 0;
    }
    windows
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 5, d).unwrap()
    }

    fn row(kind: &str, earliest: u32, latest: u32, required: bool) -> VisitRow {
        VisitRow {
            study_id: "KS-001".into(),
            site: "KS".into(),
            kind: kind.into(),
            earliest: day(earliest),
            latest: day(latest),
            required,
            detail: json!({}),
        }
    }

    #[test]
    fn status_follows_the_window_and_drops_skipped_optional_visits() {
        let v = row("PET2", 10, 12, true);
        assert_eq!(v.status(day(9)), Some(VisitStatus::Upcoming));
        assert_eq!(v.status(day(10)), Some(VisitStatus::Due));
        assert_eq!(v.status(day(12)), Some(VisitStatus::Due));
        assert_eq!(v.status(day(13)), Some(VisitStatus::Overdue));
        let optional = row("Biopsy2", 10, 12, false);
        assert_eq!(optional.status(day(12)), Some(VisitStatus::Due));
        assert_eq!(optional.status(day(13)), None);
    }

    #[test]
    fn rows_of_another_participant_repeated_kinds_and_inverted_windows_are_refused() {
        assert!(check_rows("KS-001", &[row("A", 1, 2, true), row("B", 3, 3, false)]).is_ok());
        let mut other = row("A", 1, 2, true);
        other.study_id = "KS-002".into();
        for (rows, why) in [
            (vec![other], "names participant"),
            (vec![row("A", 1, 2, true), row("A", 5, 6, true)], "twice"),
            (vec![row("A", 3, 2, true)], "before it starts"),
        ] {
            let err = check_rows("KS-001", &rows).unwrap_err();
            assert!(err.to_string().contains(why), "{err}");
        }
    }

    #[test]
    fn the_parts_partition_the_open_rows_as_status_does() {
        // The SQL conditions, spelled out on a row, against `status`.
        let holds = |status: VisitStatus, r: &VisitRow, today: NaiveDate| match status {
            VisitStatus::Overdue => r.latest < today && r.required,
            VisitStatus::Due => r.latest >= today && r.earliest <= today,
            VisitStatus::Upcoming => r.latest >= today && r.earliest > today,
        };
        for required in [true, false] {
            let r = row("V", 10, 12, required);
            for d in 8..=14 {
                let parts: Vec<VisitStatus> = VisitStatus::ALL
                    .into_iter()
                    .filter(|s| holds(*s, &r, day(d)))
                    .collect();
                assert_eq!(parts, r.status(day(d)).into_iter().collect::<Vec<_>>());
            }
        }
    }

    #[test]
    fn counting_sql_counts_each_part_with_the_filter() {
        let f = Filter::new(2).equals("site", Some("KS"));
        assert_eq!(
            counts_sql(&f),
            "SELECT (SELECT COUNT(*) FROM visits WHERE latest < $1 AND required AND site = $2), \
             COUNT(*) FILTER (WHERE earliest <= $1), COUNT(*) \
             FROM visits WHERE latest >= $1 AND site = $2"
        );
    }

    #[test]
    fn a_page_splits_over_the_parts_in_list_order() {
        let w = |status, offset, limit| PartWindow {
            status,
            offset,
            limit,
        };
        use VisitStatus::*;
        assert_eq!(
            page_windows([3, 4, 10], 0, 5),
            [w(Overdue, 0, 3), w(Due, 0, 2)]
        );
        assert_eq!(
            page_windows([3, 4, 10], 2, 10),
            [w(Overdue, 2, 1), w(Due, 0, 4), w(Upcoming, 0, 5)]
        );
        assert_eq!(page_windows([3, 4, 10], 8, 50), [w(Upcoming, 1, 9)]);
        assert_eq!(page_windows([0, 0, 2], 0, 5), [w(Upcoming, 0, 2)]);
        assert!(page_windows([3, 4, 10], 17, 5).is_empty());
        assert!(page_windows([3, 4, 10], 0, 0).is_empty());
    }
}
