//! What every command reads besides its participant, kept folded between commands.
//!
//! A command is decided under the settings in force and the study-wide freeze or lock,
//! both folded from their own streams. Folding them again for every command read both
//! whole streams and decoded every event; now the folds are kept with the versions they
//! were made at, and a command reads only the two streams' current versions (one
//! statement) and folds again only a stream that moved. Another process (the command
//! line changing the settings while the server runs, a second server on PostgreSQL)
//! moves the version like this one does, so nothing stale is ever used.
//!
//! The next study number of each site is kept here too: registrations at one site in the
//! same moment take consecutive numbers instead of racing for the same one and retrying.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Mutex;

use protocol::oversight::{self, StudyOversight};
use store::{RecordedEvent, Store};

use crate::Trial;
use crate::admin::settings_from;
use crate::error::{Error, Result};
use crate::oversight::STUDY_STREAM;
use crate::write::decode_event;

/// The stream of the settings.
const SETTINGS_STREAM: &str = "settings";

/// The folds kept between commands (shared by every clone of a `Trial`).
#[derive(Debug, Default)]
pub(crate) struct Folded {
    settings: Kept<protocol::Settings>,
    study: Kept<StudyOversight>,
    /// Sites known to exist (a site is never removed).
    sites: Mutex<HashSet<String>>,
    /// Per site, the study numbers this process hands out.
    numbers: Mutex<HashMap<String, SiteNumbers>>,
}

/// One stream's fold, kept with the stream version it was made at.
#[derive(Debug)]
struct Kept<T>(Mutex<Option<(i64, T)>>);

impl<T> Default for Kept<T> {
    fn default() -> Self {
        Kept(Mutex::new(None))
    }
}

impl<T: Clone> Kept<T> {
    /// The fold of `stream` at `version` and the version it was made at: the kept one
    /// when it is at that version, else `fold` of the stream read again (kept in its
    /// place).
    async fn at(
        &self,
        store: &Store,
        stream: &str,
        version: i64,
        fold: impl FnOnce(&[RecordedEvent]) -> Result<T>,
    ) -> Result<(T, i64)> {
        if let Some((v, kept)) = &*lock(&self.0)
            && *v == version
        {
            return Ok((kept.clone(), version));
        }
        let events = store.read_stream(stream).await?;
        let folded = fold(&events)?;
        let read = events.last().map_or(0, |e| e.version);
        *lock(&self.0) = Some((read, folded.clone()));
        Ok((folded, read))
    }
}

/// The study numbers of one site as this process sees them.
#[derive(Debug, Default)]
struct SiteNumbers {
    /// The next number never handed out.
    next: i64,
    /// Numbers handed out and given back (their registration was refused), lowest
    /// first: taken again before `next`, so a refusal leaves no gap.
    returned: BTreeSet<i64>,
}

/// A poisoned lock only means a thread panicked while holding it; the data are plain
/// values that are always whole, so they are used as they are.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Trial {
    /// The settings in force: folded again only when their stream moved.
    pub(crate) async fn folded_settings(&self) -> Result<protocol::Settings> {
        let version = self.store().stream_version(SETTINGS_STREAM).await?;
        self.settings_at(version).await
    }

    /// The settings at stream version `version` (from the kept fold when it is that one).
    async fn settings_at(&self, version: i64) -> Result<protocol::Settings> {
        let (settings, _) = self
            .folded
            .settings
            .at(self.store(), SETTINGS_STREAM, version, settings_from)
            .await?;
        Ok(settings)
    }

    /// The study-wide oversight and its stream's version: folded again only when the
    /// stream moved.
    pub(crate) async fn folded_study(&self) -> Result<(StudyOversight, i64)> {
        let version = self.store().stream_version(STUDY_STREAM).await?;
        self.study_at(version).await
    }

    /// The study-wide oversight at stream version `version`.
    async fn study_at(&self, version: i64) -> Result<(StudyOversight, i64)> {
        self.folded
            .study
            .at(self.store(), STUDY_STREAM, version, |events| {
                let decoded = events
                    .iter()
                    .map(decode_event)
                    .collect::<Result<Vec<_>>>()?;
                Ok(oversight::fold_study(decoded.iter()))
            })
            .await
    }

    /// The settings and the study-wide oversight a command is decided under, their
    /// versions checked in one read.
    pub(crate) async fn decision_context(&self) -> Result<(protocol::Settings, StudyOversight)> {
        let (settings_version, study_version) = self
            .store()
            .stream_versions(SETTINGS_STREAM, STUDY_STREAM)
            .await?;
        let settings = self.settings_at(settings_version).await?;
        let (study, _) = self.study_at(study_version).await?;
        Ok((settings, study))
    }

    /// Refuses a site that does not exist (a known one is not read again).
    pub(crate) async fn require_site(&self, site: &str) -> Result<()> {
        if lock(&self.folded.sites).contains(site) {
            return Ok(());
        }
        if self.store().site(site).await?.is_none() {
            return Err(Error::NotFound(format!("no site {site}")));
        }
        lock(&self.folded.sites).insert(site.to_string());
        Ok(())
    }

    /// Hands out a study number of `site`: one given back first, else the next after
    /// every number registered (counted once per site, then again after a clash with
    /// another process, see [`Trial::numbers_taken_elsewhere`]).
    pub(crate) async fn take_study_number(&self, site: &str) -> Result<i64> {
        if !lock(&self.folded.numbers).contains_key(site) {
            let count = self.store().count_participants(site).await?;
            let mut numbers = lock(&self.folded.numbers);
            let entry = numbers.entry(site.to_string()).or_default();
            entry.next = entry.next.max(count + 1);
        }
        let mut numbers = lock(&self.folded.numbers);
        let entry = numbers.entry(site.to_string()).or_default();
        if let Some(n) = entry.returned.pop_first() {
            return Ok(n);
        }
        let n = entry.next.max(1);
        entry.next = n + 1;
        Ok(n)
    }

    /// Gives back a number whose registration was refused, to be handed out again.
    pub(crate) fn give_back_study_number(&self, site: &str, number: i64) {
        let mut numbers = lock(&self.folded.numbers);
        let entry = numbers.entry(site.to_string()).or_default();
        if number < entry.next {
            entry.returned.insert(number);
        }
    }

    /// Another process registered at `site` meanwhile (a number clashed): the next is
    /// moved past every registration there now. (A number given back and taken there
    /// meanwhile clashes once more and is dropped.)
    pub(crate) async fn numbers_taken_elsewhere(&self, site: &str) -> Result<()> {
        let count = self.store().count_participants(site).await?;
        let mut numbers = lock(&self.folded.numbers);
        let entry = numbers.entry(site.to_string()).or_default();
        entry.next = entry.next.max(count + 1);
        Ok(())
    }
}
