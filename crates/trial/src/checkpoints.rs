//! The read tables checked against the log they are derived from.
//!
//! The hash chain and its signed checkpoints ([`store::checkpoint`]) prove the log was
//! not rewritten; the read tables that pages and the access checks use are not in the
//! chain. Someone with write access to the database could edit a participant's row (move
//! her to another site, change her state) and every page would show it. Rebuilding each
//! row from the log, as the write path builds it (`protocol::fold` of the participant's
//! events), and comparing finds every such edit.

use std::collections::BTreeMap;

use protocol::Participant;
use store::RecordedEvent;

use crate::Trial;
use crate::error::Result;
use crate::write::decode_event;

/// How many events each read of the log takes.
const LOG_BATCH: i64 = 1000;

/// Where the participant streams start.
const PARTICIPANT_PREFIX: &str = "participant/";

/// A read row that does not match what the log says it should be.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowDifference {
    /// The read table, e.g. `participants`.
    pub table: &'static str,
    /// The row's key, e.g. the study id.
    pub key: String,
    /// What differs, in words.
    pub what: String,
}

impl std::fmt::Display for RowDifference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} row {}: {}", self.table, self.key, self.what)
    }
}

impl Trial {
    /// Rebuilds every participant's read row from her events and reports each row that
    /// differs (site, state, version or snapshot), each row with no events behind it and
    /// each participant with events but no row. Empty when the table matches the log.
    pub async fn participants_differing_from_log(&self) -> Result<Vec<RowDifference>> {
        let streams = self.participant_streams().await?;
        let rows: BTreeMap<String, store::ParticipantRow> = self
            .store()
            .participants(None)
            .await?
            .into_iter()
            .map(|r| (r.study_id.clone(), r))
            .collect();
        let mut differences = Vec::new();
        for (study_id, events) in &streams {
            let decoded = events
                .iter()
                .map(decode_event)
                .collect::<Result<Vec<_>>>()?;
            let folded = protocol::fold(decoded.iter());
            let version = events.last().map(|e| e.version).unwrap_or(0);
            match rows.get(study_id) {
                None => differences.push(difference(
                    study_id,
                    format!("missing: the log holds {version} events for this participant"),
                )),
                Some(row) => {
                    for what in compare(row, &folded, version)? {
                        differences.push(difference(study_id, what));
                    }
                }
            }
        }
        for study_id in rows.keys().filter(|id| !streams.contains_key(*id)) {
            differences.push(difference(
                study_id,
                "the log holds no events for this participant".to_owned(),
            ));
        }
        Ok(differences)
    }

    /// Every participant stream of the log, keyed by study id, events in version order.
    async fn participant_streams(&self) -> Result<BTreeMap<String, Vec<RecordedEvent>>> {
        let mut streams: BTreeMap<String, Vec<RecordedEvent>> = BTreeMap::new();
        let mut after = 0;
        loop {
            let batch = self.store().read_all(after, LOG_BATCH).await?;
            let full = batch.len() == LOG_BATCH as usize;
            for event in batch {
                after = event.seq;
                if let Some(id) = event.stream.strip_prefix(PARTICIPANT_PREFIX) {
                    streams.entry(id.to_owned()).or_default().push(event);
                }
            }
            if !full {
                break;
            }
        }
        Ok(streams)
    }
}

fn difference(study_id: &str, what: String) -> RowDifference {
    RowDifference {
        table: "participants",
        key: study_id.to_owned(),
        what,
    }
}

/// What differs between a stored row and the participant folded from the log.
fn compare(row: &store::ParticipantRow, p: &Participant, version: i64) -> Result<Vec<String>> {
    let mut out = Vec::new();
    let site = p.site.clone().unwrap_or_default();
    if row.site != site {
        out.push(format!("site is {:?}, the log says {site:?}", row.site));
    }
    let state = p.state.name();
    if row.state != state {
        out.push(format!("state is {:?}, the log says {state:?}", row.state));
    }
    if row.version != version {
        out.push(format!(
            "version is {}, the log says {version}",
            row.version
        ));
    }
    let snapshot = serde_json::to_value(p)
        .map_err(|e| crate::Error::internal("writing a snapshot to compare", e))?;
    if row.snapshot != snapshot {
        out.push("snapshot differs from the fold of the participant's events".to_owned());
    }
    Ok(out)
}
