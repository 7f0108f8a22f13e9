//! Where the archive keeps its index: the study database ([`Catalog`], every production
//! archive) or, for an archive opened without a database, index files beside the objects
//! (`index`, the archive's own tests). Both answer the same questions; the database
//! answers the listings with its indexes and SQL, the files by reading every entry.

use std::collections::{BTreeMap, HashSet};

use store::SeriesQuery;

use crate::archive::{ArchivedInstance, SeriesSummary};
use crate::catalog::Catalog;
use crate::error::IngestError;
use crate::index::Index;

/// The index of an archive.
#[derive(Debug)]
pub(crate) enum Entries {
    /// Index files under `<data dir>/dicom/index` (no database).
    Files(Index),
    /// The `dicom_instances` table of the study database.
    Database(Catalog),
}

impl Entries {
    /// The versions held of a SOP instance.
    pub(crate) fn versions(
        &self,
        sop_instance_uid: &str,
    ) -> Result<Vec<ArchivedInstance>, IngestError> {
        match self {
            Entries::Files(index) => index.versions(sop_instance_uid),
            Entries::Database(catalog) => catalog.versions(sop_instance_uid),
        }
    }

    /// Adds a version; `durable` returns only once it is on disk.
    pub(crate) fn add(&self, entry: &ArchivedInstance, durable: bool) -> Result<(), IngestError> {
        match self {
            Entries::Files(index) => index.append(entry, durable),
            Entries::Database(catalog) => catalog.add(entry, durable),
        }
    }

    /// Adds versions found on disk (the recovery at open, the index files of an earlier
    /// version): committed when this returns in the database; in index files not
    /// flushed, as they are found again if a crash loses them.
    pub(crate) fn add_found(&self, entries: &[ArchivedInstance]) -> Result<(), IngestError> {
        match self {
            Entries::Files(index) => entries.iter().try_for_each(|e| index.append(e, false)),
            Entries::Database(catalog) => catalog.add_all(entries),
        }
    }

    /// The hashes of every indexed object.
    pub(crate) fn indexed_hashes(&self) -> Result<HashSet<String>, IngestError> {
        match self {
            Entries::Files(index) => Ok(index.all()?.into_iter().map(|e| e.sha256).collect()),
            Entries::Database(catalog) => catalog.indexed_hashes(),
        }
    }

    /// Every version, by SOPInstanceUID, then received time, then hash.
    pub(crate) fn all(&self) -> Result<Vec<ArchivedInstance>, IngestError> {
        match self {
            Entries::Files(index) => {
                let mut out = index.all()?;
                out.sort_by(|a, b| {
                    (&a.sop_instance_uid, a.received_at, &a.sha256).cmp(&(
                        &b.sop_instance_uid,
                        b.received_at,
                        &b.sha256,
                    ))
                });
                Ok(out)
            }
            Entries::Database(catalog) => catalog.all(),
        }
    }

    /// The series `q` asks for, by SeriesInstanceUID: those with an entry matching it,
    /// kept when their summary (of their first instance) matches its site and PatientID.
    pub(crate) fn series(&self, q: SeriesQuery) -> Result<Vec<SeriesSummary>, IngestError> {
        match self {
            Entries::Files(_) => {
                let mut list = sum_up(self.all()?);
                list.retain(|s| {
                    q.site
                        .as_ref()
                        .is_none_or(|site| s.site.as_ref() == Some(site))
                        && q.patient_id
                            .as_ref()
                            .is_none_or(|id| s.patient_id.as_ref() == Some(id))
                        && q.series_instance_uid
                            .as_ref()
                            .is_none_or(|uid| &s.series_instance_uid == uid)
                });
                Ok(list)
            }
            Entries::Database(catalog) => catalog.series(q),
        }
    }

    /// `(SOPInstanceUID, SHA-256)` of each SOP instance of a series, by SOPInstanceUID:
    /// its first version received when it has several.
    pub(crate) fn series_objects(
        &self,
        series_uid: &str,
    ) -> Result<Vec<(String, String)>, IngestError> {
        match self {
            Entries::Files(_) => {
                let mut out: Vec<(String, String)> = Vec::new();
                for entry in self.all()? {
                    if entry.series_instance_uid != series_uid
                        || out
                            .last()
                            .is_some_and(|(sop, _)| *sop == entry.sop_instance_uid)
                    {
                        continue;
                    }
                    out.push((entry.sop_instance_uid, entry.sha256));
                }
                Ok(out)
            }
            Entries::Database(catalog) => catalog.series_objects(series_uid),
        }
    }
}

/// The series of `entries` (sorted as [`Entries::all`] sorts them), by SeriesInstanceUID.
fn sum_up(entries: Vec<ArchivedInstance>) -> Vec<SeriesSummary> {
    let mut by_series: BTreeMap<String, Vec<ArchivedInstance>> = BTreeMap::new();
    for entry in entries {
        by_series
            .entry(entry.series_instance_uid.clone())
            .or_default()
            .push(entry);
    }
    by_series
        .into_iter()
        .map(|(uid, entries)| {
            let mut versions: BTreeMap<&str, usize> = BTreeMap::new();
            for e in &entries {
                *versions.entry(e.sop_instance_uid.as_str()).or_default() += 1;
            }
            SeriesSummary {
                study_instance_uid: entries[0].study_instance_uid.clone(),
                modality: entries[0].modality.clone(),
                instance_count: versions.len(),
                conflicting_instances: versions.values().filter(|&&n| n > 1).count(),
                is_pet: entries.iter().all(ArchivedInstance::is_pet_image),
                patient_id: entries[0].patient_id.clone(),
                series_date: entries[0].series_date.clone(),
                series_description: entries[0].series_description.clone(),
                site: entries[0].site.clone(),
                last_received_at: entries
                    .iter()
                    .map(|e| e.received_at)
                    .max()
                    .unwrap_or(entries[0].received_at),
                series_instance_uid: uid,
            }
        })
        .collect()
}
