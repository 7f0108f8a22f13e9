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

/// How often a command is decided again because the settings or the study-wide
/// oversight moved while it was decided (see [`Trial::decide_confirmed`] and
/// [`Trial::execute_on`]).
pub(crate) const DECISION_TRIES: u32 = 5;

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

/// What a command is decided under: the settings in force and the study-wide oversight
/// (freeze, lock), with the versions of the streams they were folded from.
#[derive(Clone, Debug)]
pub(crate) struct Context {
    pub settings: protocol::Settings,
    pub study: StudyOversight,
    settings_version: i64,
    study_version: i64,
}

impl Context {
    /// The streams a write decided under this context requires unchanged, at their
    /// versions (see `store::Store::append_unless_moved`).
    pub(crate) fn unchanged(&self) -> [(&'static str, i64); 2] {
        [
            (SETTINGS_STREAM, self.settings_version),
            (STUDY_STREAM, self.study_version),
        ]
    }

    /// Whether `stream` is one this context was folded from.
    pub(crate) fn is_folded_from(stream: &str) -> bool {
        stream == SETTINGS_STREAM || stream == STUDY_STREAM
    }

    /// Whether `other` was folded at the same versions.
    pub(crate) fn same_as(&self, other: &Context) -> bool {
        self.settings_version == other.settings_version && self.study_version == other.study_version
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
        Ok(self.settings_at(version).await?.0)
    }

    /// The settings at stream version `version` (from the kept fold when it is that one),
    /// and the version they were folded at.
    async fn settings_at(&self, version: i64) -> Result<(protocol::Settings, i64)> {
        self.folded
            .settings
            .at(self.store(), SETTINGS_STREAM, version, settings_from)
            .await
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

    /// The context a command is decided under as kept from the last one, without a read
    /// (read when nothing is kept yet). It may be stale: a write decided under it is
    /// appended only if neither stream moved ([`Context::unchanged`]), and a refusal under
    /// it stands only once [`Trial::current_context`] is found to be the same.
    pub(crate) async fn kept_context(&self) -> Result<Context> {
        let settings = lock(&self.folded.settings.0).clone();
        let study = lock(&self.folded.study.0).clone();
        if let (Some((settings_version, settings)), Some((study_version, study))) =
            (settings, study)
        {
            return Ok(Context {
                settings,
                study,
                settings_version,
                study_version,
            });
        }
        self.current_context().await
    }

    /// The context in force now: both streams' versions read in one statement, each
    /// folded again only if it moved.
    pub(crate) async fn current_context(&self) -> Result<Context> {
        let (settings_version, study_version) = self
            .store()
            .stream_versions(SETTINGS_STREAM, STUDY_STREAM)
            .await?;
        let (settings, settings_version) = self.settings_at(settings_version).await?;
        let (study, study_version) = self.study_at(study_version).await?;
        Ok(Context {
            settings,
            study,
            settings_version,
            study_version,
        })
    }

    /// `decide` under `context`, whose refusal stands only under the context in force
    /// now: when `context` was stale (kept from earlier commands and moved since), the
    /// decision is made again under the current one, which replaces it.
    pub(crate) async fn decide_confirmed<T>(
        &self,
        context: &mut Context,
        decide: impl Fn(&Context) -> std::result::Result<T, protocol::Refusal>,
    ) -> Result<T> {
        let mut tries = 0;
        loop {
            tries += 1;
            match decide(context) {
                Ok(decided) => return Ok(decided),
                Err(refusal) => {
                    let current = self.current_context().await?;
                    if current.same_as(context) || tries >= DECISION_TRIES {
                        return Err(refusal.into());
                    }
                    *context = current;
                }
            }
        }
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
