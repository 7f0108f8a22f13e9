//! The DICOM archive's index (see migration `0008_dicom_instances`): which versions of
//! each SOP instance the archive holds, and what they are, so that the series of a
//! participant are answered by the database's indexes instead of by reading every entry.
//!
//! Like the imaging jobs, this sits beside the event log: rows are added in batches by the
//! archive after the object is on disk, never changed, and an insert of a row already
//! there does nothing, so a batch written twice (a recovery beside a store in progress)
//! is harmless. Arrivals are audited by the receiver's receipt events.
//!
//! The store knows nothing of DICOM: a row's `source` is JSON text the archive writes
//! and reads, and the archive turns rows into its own types.

use chrono::{DateTime, Utc};

/// One version of a SOP instance held in the archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogInstance {
    /// SOPInstanceUID (0008,0018).
    pub sop_instance_uid: String,
    /// SHA-256 of the stored bytes, lowercase hex (with the SOPInstanceUID, the key).
    pub sha256: String,
    /// SOPClassUID (0008,0016).
    pub sop_class_uid: String,
    /// SeriesInstanceUID (0020,000E).
    pub series_instance_uid: String,
    /// StudyInstanceUID (0020,000D).
    pub study_instance_uid: String,
    /// Modality (0008,0060), when present.
    pub modality: Option<String>,
    /// TransferSyntaxUID (0002,0010) of the stored file.
    pub transfer_syntax_uid: String,
    /// Size of the stored file in bytes.
    pub size: i64,
    /// When the archive received it (kept to the microsecond).
    pub received_at: DateTime<Utc>,
    /// Where it came from, as JSON text written by the archive.
    pub source: String,
    /// PatientID (0010,0020), when present.
    pub patient_id: Option<String>,
    /// SeriesDate (0008,0021), when present.
    pub series_date: Option<String>,
    /// SeriesDescription (0008,103E), when present.
    pub series_description: Option<String>,
    /// The site the object belongs to, when known.
    pub site: Option<String>,
    /// Whether it is a PET image the quantification may read.
    pub is_pet: bool,
}

/// A series, summed up over its rows. "Its first instance" is its row first in the order
/// SOPInstanceUID, received time, SHA-256.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogSeries {
    /// SeriesInstanceUID (0020,000E).
    pub series_instance_uid: String,
    /// StudyInstanceUID of its first instance.
    pub study_instance_uid: String,
    /// Modality of its first instance, when present.
    pub modality: Option<String>,
    /// Number of distinct SOP instances.
    pub instance_count: i64,
    /// SOP instances held in more than one version.
    pub conflicting_instances: i64,
    /// Whether every row is a PET image.
    pub is_pet: bool,
    /// PatientID of its first instance, when present.
    pub patient_id: Option<String>,
    /// SeriesDate of its first instance, when present.
    pub series_date: Option<String>,
    /// SeriesDescription of its first instance, when present.
    pub series_description: Option<String>,
    /// When the last of its rows was received.
    pub last_received_at: DateTime<Utc>,
    /// The site of its first instance, when known.
    pub site: Option<String>,
}

/// Which series to sum up. Every condition given must hold; none given lists them all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SeriesQuery {
    /// Only series whose first instance belongs to this site.
    pub site: Option<String>,
    /// Only series whose first instance has this PatientID.
    pub patient_id: Option<String>,
    /// Only this series.
    pub series_instance_uid: Option<String>,
}

/// Columns of `dicom_instances`, in the order of [`InstanceTuple`].
macro_rules! instance_columns {
    () => {
        "sop_instance_uid, sha256, sop_class_uid, series_instance_uid, study_instance_uid, \
         modality, transfer_syntax_uid, size, received_at, source, patient_id, series_date, \
         series_description, site, is_pet"
    };
}
pub(crate) use instance_columns;

/// How many columns [`instance_columns`] names.
pub(crate) const INSTANCE_COLUMNS: usize = 15;

/// One `dicom_instances` row, undecoded.
pub(crate) type InstanceTuple = (
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    String,
    i64,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    bool,
);

/// One series summed up, undecoded (see the series query in `queries::catalog`).
pub(crate) type SeriesTuple = (
    String,
    String,
    Option<String>,
    i64,
    i64,
    i64,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
    Option<String>,
);

/// A stored time, or the error naming the row it came from.
fn time(text: &str, what: &str, of: &str) -> Result<DateTime<Utc>, crate::StoreError> {
    crate::hash::parse_timestamp(text).map_err(|e| {
        crate::StoreError::Corrupt(format!(
            "{what} of DICOM {of} is not an RFC 3339 time ({text:?}): {e}"
        ))
    })
}

/// Decodes a row.
pub(crate) fn instance(t: InstanceTuple) -> Result<CatalogInstance, crate::StoreError> {
    let received_at = time(&t.8, "received_at", &format!("instance {}", t.0))?;
    Ok(CatalogInstance {
        sop_instance_uid: t.0,
        sha256: t.1,
        sop_class_uid: t.2,
        series_instance_uid: t.3,
        study_instance_uid: t.4,
        modality: t.5,
        transfer_syntax_uid: t.6,
        size: t.7,
        received_at,
        source: t.9,
        patient_id: t.10,
        series_date: t.11,
        series_description: t.12,
        site: t.13,
        is_pet: t.14,
    })
}

/// Decodes a series.
pub(crate) fn series(t: SeriesTuple) -> Result<CatalogSeries, crate::StoreError> {
    let last_received_at = time(&t.9, "last received_at", &format!("series {}", t.0))?;
    Ok(CatalogSeries {
        series_instance_uid: t.0,
        study_instance_uid: t.1,
        modality: t.2,
        instance_count: t.3,
        conflicting_instances: t.4,
        is_pet: t.5 == 1,
        patient_id: t.6,
        series_date: t.7,
        series_description: t.8,
        last_received_at,
        site: t.10,
    })
}

/// The series query for `q`, with its parameters in the order of their placeholders.
///
/// The series chosen are those with a row matching `q`; they are summed up over all their
/// rows, and then kept only when their first instance matches the site and PatientID
/// asked for, so that a series is listed under the site and patient of its first instance
/// and nowhere else.
pub(crate) fn series_sql(q: &SeriesQuery) -> (String, Vec<String>) {
    let mut params: Vec<String> = Vec::new();
    let mut inner = Vec::new();
    let mut outer = Vec::new();
    for (column, value) in [
        ("site", &q.site),
        ("patient_id", &q.patient_id),
        ("series_instance_uid", &q.series_instance_uid),
    ] {
        if let Some(value) = value {
            params.push(value.clone());
            inner.push(format!("{column} = ${}", params.len()));
            outer.push(format!("f.{column} = ${}", params.len()));
        }
    }
    let members = if inner.is_empty() {
        "SELECT * FROM dicom_instances".to_string()
    } else {
        format!(
            "SELECT * FROM dicom_instances WHERE series_instance_uid IN \
             (SELECT series_instance_uid FROM dicom_instances WHERE {})",
            inner.join(" AND ")
        )
    };
    outer.insert(0, "f.n = 1".into());
    let sql = format!(
        "WITH members AS ({members}), \
         per_sop AS (SELECT series_instance_uid, sop_instance_uid, COUNT(*) AS versions \
           FROM members GROUP BY series_instance_uid, sop_instance_uid), \
         counts AS (SELECT series_instance_uid, COUNT(*) AS instance_count, \
           SUM(CASE WHEN versions > 1 THEN 1 ELSE 0 END) AS conflicting \
           FROM per_sop GROUP BY series_instance_uid), \
         totals AS (SELECT series_instance_uid, MIN(CASE WHEN is_pet THEN 1 ELSE 0 END) AS all_pet, \
           MAX(received_at) AS last_received_at FROM members GROUP BY series_instance_uid), \
         firsts AS (SELECT series_instance_uid, study_instance_uid, modality, patient_id, \
           series_date, series_description, site, ROW_NUMBER() OVER (PARTITION BY \
           series_instance_uid ORDER BY sop_instance_uid, received_at, sha256) AS n FROM members) \
         SELECT f.series_instance_uid, f.study_instance_uid, f.modality, \
           CAST(c.instance_count AS BIGINT), CAST(c.conflicting AS BIGINT), \
           CAST(t.all_pet AS BIGINT), f.patient_id, f.series_date, f.series_description, \
           t.last_received_at, f.site \
         FROM firsts f \
         JOIN counts c ON c.series_instance_uid = f.series_instance_uid \
         JOIN totals t ON t.series_instance_uid = f.series_instance_uid \
         WHERE {} ORDER BY f.series_instance_uid",
        outer.join(" AND ")
    );
    (sql, params)
}
