//! Paged, filtered lists of the read tables: the participant list and the open visits.
//!
//! A list request names its filters and a page (`limit`, `offset`) and gets the page's
//! rows and the number of rows matching the filters, both read from one snapshot of the
//! database. The filters become SQL here, once for both backends: the SQL holds only
//! fixed fragments and `$n` placeholders, and the values travel as bound parameters.
//!
//! | List | Order | Indexes (see the migrations) |
//! |---|---|---|
//! | [`crate::Store::participants_page`] | study id | by site, by state, by site and state |
//! | [`crate::Store::open_visits`] | overdue, due, upcoming; then last day, study id, kind | by last day, required ones by last day, by site and last day |

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::error::StoreError;

/// The most rows one list request may ask for: a page, not an export.
pub const MAX_PAGE_SIZE: u32 = 1000;

/// Which participants [`crate::Store::participants_page`] lists.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParticipantQuery {
    /// Only this site's participants.
    pub site: Option<String>,
    /// Only participants in this state (its name, e.g. `Screening`).
    pub state: Option<String>,
    /// Only study ids containing this text, ignoring ASCII case (`ks-00` finds `KS-001`).
    pub search: Option<String>,
    /// At most this many rows (at most [`MAX_PAGE_SIZE`]; 0 counts without listing).
    pub limit: u32,
    /// Rows to skip before the page, in list order.
    pub offset: u32,
}

/// A participant as the list shows them: the read row without its snapshot.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParticipantListRow {
    /// The participant's study id.
    pub study_id: String,
    /// Code of the site that enrolled the participant.
    pub site: String,
    /// Name of the participant's state.
    pub state: String,
    /// Stream version the row reflects.
    pub version: i64,
    /// When the row last changed.
    pub updated_at: DateTime<Utc>,
}

/// Which visits [`crate::Store::open_visits`] lists.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VisitQuery {
    /// Only this site's visits.
    pub site: Option<String>,
    /// Only visits of study ids containing this text, ignoring ASCII case.
    pub search: Option<String>,
    /// The day the visits are judged on (see [`crate::VisitStatus`]).
    pub today: NaiveDate,
    /// At most this many rows (at most [`MAX_PAGE_SIZE`]; 0 counts without listing).
    pub limit: u32,
    /// Rows to skip before the page, in list order.
    pub offset: u32,
}

/// Refuses a page larger than [`MAX_PAGE_SIZE`].
pub(crate) fn check_limit(limit: u32) -> Result<(), StoreError> {
    if limit > MAX_PAGE_SIZE {
        return Err(StoreError::InvalidInput(format!(
            "a page of {limit} rows was asked for; at most {MAX_PAGE_SIZE} are listed at once"
        )));
    }
    Ok(())
}

/// The `WHERE` conditions of a list request and the text values they bind, numbered
/// from a given placeholder on.
#[derive(Clone, Debug)]
pub(crate) struct Filter {
    conditions: Vec<String>,
    values: Vec<String>,
    first: usize,
}

impl Filter {
    /// An empty filter whose first value will be `$first`.
    pub(crate) fn new(first: usize) -> Filter {
        Filter {
            conditions: Vec::new(),
            values: Vec::new(),
            first,
        }
    }

    /// Keeps rows whose `column` equals `value`, if there is one.
    pub(crate) fn equals(mut self, column: &'static str, value: Option<&str>) -> Filter {
        if let Some(value) = value {
            let n = self.next_placeholder();
            self.conditions.push(format!("{column} = ${n}"));
            self.values.push(value.to_owned());
        }
        self
    }

    /// Keeps rows whose `column` contains `needle`, ignoring ASCII case, if there is a
    /// non-empty needle. `like` is the backend's ASCII-case-insensitive `LIKE`: SQLite's
    /// `LIKE` is one, PostgreSQL's `ILIKE` is one under the bytewise ("C") collation the
    /// keys use. (Lower-casing the column instead would cost a conversion per row
    /// scanned, several times the match itself.)
    pub(crate) fn contains(
        mut self,
        column: &'static str,
        like: &'static str,
        needle: Option<&str>,
    ) -> Filter {
        if let Some(needle) = needle.filter(|n| !n.is_empty()) {
            let n = self.next_placeholder();
            self.conditions
                .push(format!("{column} {like} ${n} ESCAPE '\\'"));
            self.values.push(like_pattern(needle));
        }
        self
    }

    /// The number of the placeholder after this filter's values.
    pub(crate) fn next_placeholder(&self) -> usize {
        self.first + self.values.len()
    }

    /// The values to bind, in placeholder order from `$first`.
    pub(crate) fn values(&self) -> &[String] {
        &self.values
    }

    /// ` WHERE …` with `base` (if any) and this filter's conditions, or nothing when there
    /// are none.
    pub(crate) fn where_clause(&self, base: Option<&str>) -> String {
        let all: Vec<&str> = base
            .into_iter()
            .chain(self.conditions.iter().map(String::as_str))
            .collect();
        if all.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", all.join(" AND "))
        }
    }
}

/// A `LIKE` pattern matching any text that contains `needle` literally: `%`, `_` and the
/// escape character `\` in the needle match only themselves.
fn like_pattern(needle: &str) -> String {
    let mut out = String::with_capacity(needle.len() + 2);
    out.push('%');
    for c in needle.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_match_wildcards_literally() {
        assert_eq!(like_pattern("ks-0"), "%ks-0%");
        assert_eq!(like_pattern("50%_a\\b"), "%50\\%\\_a\\\\b%");
    }

    #[test]
    fn filters_number_their_placeholders_after_the_fixed_ones() {
        let f = Filter::new(2)
            .equals("site", Some("SE01"))
            .equals("state", None)
            .contains("study_id", "ILIKE", Some("Ks-0"));
        assert_eq!(
            f.where_clause(Some("earliest > $1")),
            " WHERE earliest > $1 AND site = $2 AND study_id ILIKE $3 ESCAPE '\\'"
        );
        assert_eq!(f.values(), ["SE01", "%Ks-0%"]);
        assert_eq!(f.next_placeholder(), 4);
    }

    #[test]
    fn an_empty_filter_has_no_where_clause_and_an_empty_search_is_no_filter() {
        let f = Filter::new(1).contains("study_id", "LIKE", Some(""));
        assert_eq!(f.where_clause(None), "");
        assert_eq!(f.next_placeholder(), 1);
    }

    #[test]
    fn pages_over_the_maximum_are_refused() {
        assert!(check_limit(MAX_PAGE_SIZE).is_ok());
        let err = check_limit(MAX_PAGE_SIZE + 1).unwrap_err();
        assert_eq!(err.kind(), crate::StoreErrorKind::InvalidInput);
    }
}
