//! The study-wide deviation list: every protocol deviation the participants' snapshots
//! hold (the automatic ones the protocol records and those recorded by hand), filtered
//! by site, severity and status, as JSON rows or a CSV file.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use store::ParticipantRow;

use crate::Trial;
use crate::access::User;
use crate::error::Result;
use crate::roles::Capability;

use super::trimmed;

/// Filter of the deviation list.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
pub struct DeviationQuery {
    /// Only this site (study-wide roles; a site's staff always see their own site).
    #[serde(default)]
    pub site: Option<String>,
    /// Only this severity (`major`, `minor`).
    #[serde(default)]
    pub severity: Option<String>,
    /// Only this status (`open`, `assessed`, `closed`).
    #[serde(default)]
    pub status: Option<String>,
    /// `csv` for a CSV file instead of JSON.
    #[serde(default)]
    pub format: Option<String>,
}

/// One protocol deviation of the study-wide list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct DeviationRow {
    /// Study id.
    pub study_id: String,
    /// Site.
    pub site: String,
    /// The deviation's id within the participant, e.g. `dev-1`.
    pub deviation_id: String,
    /// `major` or `minor`.
    pub severity: String,
    /// The rule broken (automatic deviations) or the category (recorded ones).
    pub rule: String,
    /// What happened.
    pub description: String,
    /// When the deviating fact happened.
    pub occurred_at: Option<DateTime<Utc>>,
    /// The entry concerned, if any.
    pub entry_id: Option<String>,
    /// `open`, `assessed` or `closed` (`open` when the record holds no status).
    pub status: String,
}

/// The columns of the deviation list's CSV file, in order.
pub const DEVIATION_CSV_COLUMNS: [&str; 9] = [
    "study_id",
    "site",
    "deviation_id",
    "severity",
    "rule",
    "description",
    "occurred_at",
    "entry_id",
    "status",
];

impl Trial {
    /// Every protocol deviation of the participants this user may see, filtered by site,
    /// severity and status, by site, study id and deviation id.
    pub async fn deviation_list(
        &self,
        user: &User,
        query: &DeviationQuery,
    ) -> Result<Vec<DeviationRow>> {
        user.require(Capability::ReadParticipants)?;
        let site = user.site_scope().or_else(|| trimmed(&query.site));
        let severity = trimmed(&query.severity).map(|s| s.to_ascii_lowercase());
        let status = trimmed(&query.status).map(|s| s.to_ascii_lowercase());
        let rows = self.store().participants(site.as_deref()).await?;
        let mut list: Vec<DeviationRow> = rows
            .iter()
            .flat_map(deviations_of)
            .filter(|d| severity.as_ref().is_none_or(|s| &d.severity == s))
            .filter(|d| status.as_ref().is_none_or(|s| &d.status == s))
            .collect();
        list.sort_by(|a, b| {
            (&a.site, &a.study_id, deviation_number(a), &a.deviation_id).cmp(&(
                &b.site,
                &b.study_id,
                deviation_number(b),
                &b.deviation_id,
            ))
        });
        Ok(list)
    }
}

fn deviation_number(d: &DeviationRow) -> Option<u64> {
    d.deviation_id.rsplit('-').next()?.parse().ok()
}

/// The deviations a participant's snapshot holds. Read from the snapshot's JSON rather
/// than the typed record so fields the record gains (a status, a category) are shown as
/// soon as they are written, and a record without them still reads.
pub fn deviations_of(row: &ParticipantRow) -> Vec<DeviationRow> {
    let text = |v: &serde_json::Value, key: &str| {
        v.get(key)
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned)
    };
    let Some(list) = row
        .snapshot
        .get("deviations")
        .and_then(serde_json::Value::as_array)
    else {
        return Vec::new();
    };
    list.iter()
        .map(|d| DeviationRow {
            study_id: row.study_id.clone(),
            site: row.site.clone(),
            deviation_id: text(d, "deviation_id").unwrap_or_default(),
            severity: text(d, "severity").unwrap_or_default(),
            rule: text(d, "rule")
                .or_else(|| text(d, "category"))
                .unwrap_or_default(),
            description: text(d, "description").unwrap_or_default(),
            occurred_at: d
                .get("occurred_at")
                .and_then(|t| serde_json::from_value(t.clone()).ok()),
            entry_id: text(d, "entry_id"),
            status: text(d, "status")
                .or_else(|| d.get("status").and_then(|s| text(s, "status")))
                .unwrap_or_else(|| "open".to_owned()),
        })
        .collect()
}

/// The deviation list as a CSV file (RFC 4180: comma-separated, CRLF line ends, fields
/// with a comma, quote or line break quoted), with a header row.
pub fn deviations_csv(rows: &[DeviationRow]) -> String {
    let mut out = String::new();
    push_csv_line(&mut out, DEVIATION_CSV_COLUMNS.iter().copied());
    for d in rows {
        let occurred = d
            .occurred_at
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
            .unwrap_or_default();
        push_csv_line(
            &mut out,
            [
                d.study_id.as_str(),
                &d.site,
                &d.deviation_id,
                &d.severity,
                &d.rule,
                &d.description,
                &occurred,
                d.entry_id.as_deref().unwrap_or_default(),
                &d.status,
            ],
        );
    }
    out
}

fn push_csv_line<'a>(out: &mut String, fields: impl IntoIterator<Item = &'a str>) {
    for (i, field) in fields.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        // A leading formula character is neutralised so a spreadsheet shows the text
        // instead of running it.
        let guarded = if field.starts_with(['=', '+', '-', '@']) {
            format!("'{field}")
        } else {
            field.to_owned()
        };
        if guarded.contains([',', '"', '\n', '\r']) {
            out.push('"');
            out.push_str(&guarded.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(&guarded);
        }
    }
    out.push_str("\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use serde_json::json;

    fn row(study_id: &str, site: &str, snapshot: serde_json::Value) -> ParticipantRow {
        ParticipantRow {
            study_id: study_id.into(),
            site: site.into(),
            state: "enrolled".into(),
            version: 1,
            snapshot,
            updated_at: Utc.with_ymd_and_hms(2026, 5, 1, 9, 0, 0).unwrap(),
        }
    }

    #[test]
    fn deviations_read_a_status_when_the_record_has_one_and_are_open_otherwise() {
        let r = row(
            "KS-001",
            "KS",
            json!({"deviations": [
                {"deviation_id": "dev-1", "severity": "major", "rule": "GATE_CONSENT",
                 "description": "PET before consent", "occurred_at": "2026-05-01T09:00:00Z",
                 "entry_id": null},
                {"deviation_id": "dev-2", "severity": "minor", "category": "visit window",
                 "description": "late", "status": "assessed"}
            ]}),
        );
        let list = deviations_of(&r);
        assert_eq!(list.len(), 2);
        assert_eq!(list[0].status, "open");
        assert_eq!(list[0].rule, "GATE_CONSENT");
        assert_eq!(
            list[0].occurred_at,
            Some(Utc.with_ymd_and_hms(2026, 5, 1, 9, 0, 0).unwrap())
        );
        assert_eq!(list[1].status, "assessed");
        assert_eq!(list[1].rule, "visit window");
        let by_site = crate::dashboard::deviations_by_site(&[r], &["KS".into(), "UU".into()]);
        assert_eq!(
            by_site,
            vec![
                crate::dashboard::SiteDeviations {
                    site: "KS".into(),
                    major: 1,
                    minor: 1
                },
                crate::dashboard::SiteDeviations {
                    site: "UU".into(),
                    major: 0,
                    minor: 0
                },
            ]
        );
    }

    #[test]
    fn the_csv_quotes_what_needs_quoting_and_defuses_formulas() {
        let d = DeviationRow {
            study_id: "KS-001".into(),
            site: "KS".into(),
            deviation_id: "dev-1".into(),
            severity: "major".into(),
            rule: "GATE_CONSENT".into(),
            description: "PET \"before\", consent\n=SUM(A1)".into(),
            occurred_at: None,
            entry_id: None,
            status: "open".into(),
        };
        let mut formula = d.clone();
        formula.description = "=HYPERLINK(\"x\")".into();
        let csv = deviations_csv(&[d, formula]);
        let lines: Vec<&str> = csv.split("\r\n").collect();
        assert_eq!(
            lines[0],
            "study_id,site,deviation_id,severity,rule,description,occurred_at,entry_id,status"
        );
        assert_eq!(
            lines[1],
            "KS-001,KS,dev-1,major,GATE_CONSENT,\"PET \"\"before\"\", consent\n=SUM(A1)\",,,open"
        );
        assert_eq!(
            lines[2],
            "KS-001,KS,dev-1,major,GATE_CONSENT,\"'=HYPERLINK(\"\"x\"\")\",,,open"
        );
        assert_eq!(lines[3], "");
    }
}
