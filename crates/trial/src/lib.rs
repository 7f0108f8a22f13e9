//! The her2ex application: one method per use case on [`Trial`], between the shells (the
//! web pages and JSON API in `server`, the `her2ex` command line) and the crates under it
//! (`protocol`'s rules, `store`'s audited log, `pet`'s measurements, `archive`'s DICOM
//! files).
//!
//! A use case checks who is asking once ([`User`], [`roles`]), loads what it needs once,
//! and for a change runs the one write path ([`Trial::execute`]): the protocol decides,
//! the store appends the events with the read rows in one transaction, and the new state
//! comes back without a reload. Time comes from an injected [`Clock`]; every "today" and
//! every displayed time is read in the sites' time zone ([`SiteZone`]). Failures are one
//! [`Error`] type that the server maps to HTTP and the command line to exit codes.
//!
//! | module | what |
//! |---|---|
//! | [`access`] | the signed-in user, the author of a write, the access check |
//! | [`roles`] | roles and the access policy |
//! | [`sessions`] | passwords (argon2id) and sign-in sessions |
//! | [`signin`] | the account policy and the sign-in throttle |
//! | [`accounts`] | account lifecycle: passwords, deactivation, lockout, role and site |
//! | [`write`] | the one write path and the read rows it keeps |
//! | [`admin`] | sites, users and settings as audited administrative commands |
//! | [`commands`] | the participant commands the API and the pages offer |
//! | [`analyses`] | the analysis data set, the analyses and the study report as of a cut-off |
//! | [`cutoff`] | the data cut-off outputs rest on; participants as of it, one at a time; outputs recorded |
//! | [`export`] | exports as of a cut-off: CDISC ODM 1.3.2 and SDTM-like datasets, each recorded as an output |
//! | [`dashboard`] | the study dashboard and the study-wide deviation list, from the read tables |
//! | [`figures`] | the dashboard's pictures as SVG: the recruitment curve, the CONSORT flow |
//! | [`checkpoints`] | the read tables checked against the log they are derived from |
//! | [`batch`] | several commands of one kind for a participant, all or nothing |
//! | [`participants`] | registration, lists, a participant's record, audit trail, eligibility, running a command |
//! | [`overview`] | everything the participant page shows, from one load |
//! | [`oversight`] | queries, source data verification, freeze and lock, casebook signatures, data points |
//! | [`worklist`] | what each role has to do now, from the read rows |
//! | [`imaging`] | PET exams: quantification from the DICOM archive, the MIP picture |
//! | [`journey`] | the journey after PET, the visit list, CTCAE terms |
//! | [`response`] | tumour response: CT assessments and the RECIST 1.1 result |
//! | [`pet_response`] | the PET response read PET1 → PET2 (PERCIST-style): proposal and confirmed read |
//! | [`clock`] | the injected clock and the sites' time zone |
//! | [`error`] | the error type |

pub mod access;
pub mod accounts;
pub mod admin;
pub mod analyses;
pub mod batch;
pub mod checkpoints;
pub mod clock;
pub mod commands;
pub mod cutoff;
pub mod dashboard;
pub mod demo;
pub mod error;
pub mod export;
pub mod figures;
mod folded;
pub mod imaging;
pub mod jobs;
pub mod journey;
pub mod oversight;
pub mod overview;
pub mod participants;
pub mod pet_response;
pub mod receipts;
pub mod response;
pub mod roles;
pub mod sessions;
pub mod signin;
pub mod worklist;
pub mod write;

use std::sync::Arc;

use archive::Archive;
use chrono::{DateTime, NaiveDate, Utc};
use store::Store;

pub use access::{Actor, User};
pub use clock::{Clock, FixedClock, SiteZone, SystemClock};
pub use error::{Error, Result};
pub use roles::{Capability, Role};
pub use signin::AccountPolicy;
pub use write::Written;

/// The application: the store, the DICOM archive (when the server has one), the clock and
/// the sites' time zone. Cheap to clone; every clone shares the same parts.
#[derive(Clone)]
pub struct Trial {
    store: Store,
    archive: Option<Arc<Archive>>,
    clock: Arc<dyn Clock>,
    /// The sites' zone: the settings' `site_time_zone`, refreshed whenever the settings are
    /// read (every command reads them), unless fixed with [`Trial::with_zone`].
    zone: Arc<std::sync::RwLock<SiteZone>>,
    zone_fixed: bool,
    /// How sign-in and sessions are guarded.
    policy: Arc<AccountPolicy>,
    /// Recent failed sign-ins, shared by every clone.
    throttle: Arc<signin::Throttle>,
    /// Wakes this process's imaging workers when a job is queued here.
    job_queued: Arc<tokio::sync::Notify>,
    /// The settings and study-wide oversight as last folded, and the study numbers
    /// handed out (see `folded`), shared by every clone.
    folded: Arc<folded::Folded>,
}

impl Trial {
    /// The application over a store, on the machine's clock, without a DICOM archive. Its
    /// time zone is the default (Europe/Stockholm) until the settings are first read;
    /// [`Trial::open`] reads them at once.
    pub fn new(store: Store) -> Self {
        Trial {
            store,
            archive: None,
            clock: Arc::new(SystemClock),
            zone: Arc::new(std::sync::RwLock::new(SiteZone::default())),
            zone_fixed: false,
            policy: Arc::new(AccountPolicy::default()),
            throttle: Arc::new(signin::Throttle::default()),
            job_queued: Arc::new(tokio::sync::Notify::new()),
            folded: Arc::default(),
        }
    }

    /// The application over a store, in the time zone its settings name.
    pub async fn open(store: Store) -> Result<Self> {
        let trial = Trial::new(store);
        trial.settings().await?;
        Ok(trial)
    }

    /// The same application reading PET exams from `archive`.
    pub fn with_archive(mut self, archive: Arc<Archive>) -> Self {
        self.archive = Some(archive);
        self
    }

    /// The same application on another clock (tests use a [`FixedClock`]).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The same application in another time zone.
    /// The settings' `site_time_zone` no longer changes it (tests of another zone).
    pub fn with_zone(mut self, zone: SiteZone) -> Self {
        self.zone = Arc::new(std::sync::RwLock::new(zone));
        self.zone_fixed = true;
        self
    }

    /// The same application under another account policy (lockout, inactivity,
    /// throttling).
    pub fn with_account_policy(mut self, policy: AccountPolicy) -> Self {
        self.policy = Arc::new(policy);
        self
    }

    /// The account policy in force.
    pub fn account_policy(&self) -> &AccountPolicy {
        &self.policy
    }

    /// The sign-in throttle.
    pub(crate) fn throttle(&self) -> &signin::Throttle {
        &self.throttle
    }

    /// Follows the zone the settings in force name.
    pub(crate) fn follow_zone(&self, zone: SiteZone) {
        if !self.zone_fixed {
            *self.zone.write().unwrap_or_else(|p| p.into_inner()) = zone;
        }
    }

    /// The database.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The DICOM archive, if this application has one.
    pub fn archive(&self) -> Option<&Arc<Archive>> {
        self.archive.as_ref()
    }

    /// Now, from the injected clock.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// The sites' time zone.
    pub fn zone(&self) -> SiteZone {
        *self.zone.read().unwrap_or_else(|p| p.into_inner())
    }

    /// Today's date at the sites.
    pub fn today(&self) -> NaiveDate {
        self.zone().date_of(self.now())
    }
}
