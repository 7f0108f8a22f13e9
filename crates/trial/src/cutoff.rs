//! The data cut-off: what a report, an analysis or an export rests on.
//!
//! A cut-off is the longest prefix of the audit log recorded at or before a moment (the
//! `--as-of` of the command line, "now" by default). Its last event's hash is the chain
//! head the output names, and every participant is read as of that prefix, so the same
//! cut-off taken later gives the same input, hence the same bytes.
//!
//! Participants are handed out one at a time ([`Trial::participant_sources`]), so an
//! export of ten thousand participants holds one participant's events in memory at once.

use analysis::source::{AuditedEvent, CutOff, ParticipantSource, SiteInfo, StudyInfo, UserInfo};
use chrono::{DateTime, Utc};
use protocol::outputs::{Output, OutputKind};

use crate::Trial;
use crate::access::User;
use crate::error::{Error, Result};
use crate::oversight::staff_of;
use crate::write::{decode_event, encode, participant_stream};

/// The stream where reports, analyses and exports handed out are recorded.
pub const OUTPUTS_STREAM: &str = "study/outputs";

/// The study's short name and OID in outputs.
pub const STUDY_OID: &str = "HER2-EX";

/// The hash a cut-off before the first event names (the chain's genesis).
const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

impl Trial {
    /// The cut-off as of `as_of` (now when `None`). A cut-off in the future is refused:
    /// it would name a chain head that later events could still change.
    pub async fn cut_off(&self, as_of: Option<DateTime<Utc>>) -> Result<CutOff> {
        let now = self.now();
        let as_of = as_of.unwrap_or(now);
        if as_of > now {
            return Err(Error::BadRequest(format!(
                "The data cut-off {} lies in the future; give a moment up to now.",
                store::hash::format_timestamp(as_of)
            )));
        }
        let (head_seq, head_hash) = self
            .store()
            .head_as_of(as_of)
            .await?
            .unwrap_or_else(|| (0, GENESIS.to_string()));
        let settings = self.settings_as_of(head_seq).await?;
        Ok(CutOff {
            as_of: store::hash::truncate_to_micros(as_of),
            head_seq,
            head_hash,
            settings_version: settings.version,
            protocol_version: settings.protocol_version.clone(),
            software_version: concat!("her2ex ", env!("CARGO_PKG_VERSION")).to_string(),
        })
    }

    /// The settings in force at a point of the log.
    pub async fn settings_as_of(&self, head_seq: i64) -> Result<protocol::Settings> {
        let mut events = self.store().read_stream("settings").await?;
        events.retain(|e| e.seq <= head_seq);
        crate::admin::settings_from(&events)
    }

    /// The study's sites, users and the cut-off, as reports and exports name them.
    pub async fn study_info(&self, cut: &CutOff) -> Result<StudyInfo> {
        let sites = self
            .store()
            .sites()
            .await?
            .into_iter()
            .map(|s| SiteInfo {
                code: s.code,
                name: s.name,
            })
            .collect();
        let users = self
            .store()
            .users()
            .await?
            .into_iter()
            .map(|u| UserInfo {
                username: u.username,
                display_name: u.display_name,
                role: u.role,
                site: u.site,
            })
            .collect();
        Ok(StudyInfo {
            study_oid: STUDY_OID.to_string(),
            name: "HER2-Ex: HER2-PET with [68Ga]Ga-ABY-025 to select women with metastatic \
                   breast cancer for trastuzumab deruxtecan"
                .to_string(),
            protocol_name: cut.protocol_version.clone(),
            sites,
            users,
            cut_off: cut.clone(),
        })
    }

    /// Calls `f` with each participant as of the cut-off, one at a time in study-id order;
    /// participants registered after the cut-off are left out. Returns how many were
    /// handed over.
    pub async fn participant_sources(
        &self,
        cut: &CutOff,
        mut f: impl FnMut(ParticipantSource) -> Result<()>,
    ) -> Result<usize> {
        let mut n = 0;
        for (study_id, site) in self.store().participant_ids().await? {
            let Some(source) = self.participant_source(cut, &study_id, &site).await? else {
                continue;
            };
            f(source)?;
            n += 1;
        }
        Ok(n)
    }

    /// One participant's events up to the cut-off, `None` if she has none by then.
    async fn participant_source(
        &self,
        cut: &CutOff,
        study_id: &str,
        site: &str,
    ) -> Result<Option<ParticipantSource>> {
        let recorded = self
            .store()
            .read_stream(&participant_stream(study_id))
            .await?;
        let mut events = Vec::with_capacity(recorded.len());
        for r in recorded.iter().filter(|r| r.seq <= cut.head_seq) {
            events.push(AuditedEvent {
                event: decode_event(r)?,
                seq: r.seq,
                version: r.version,
                actor: r.meta.actor.clone(),
                role: r.meta.role.clone(),
                site: r.meta.site.clone(),
                recorded_at: r.meta.recorded_at,
                reason: r.meta.reason.clone(),
                hash: r.hash.clone(),
            });
        }
        if events.is_empty() {
            return Ok(None);
        }
        Ok(Some(ParticipantSource {
            study_id: study_id.to_string(),
            site: site.to_string(),
            events,
        }))
    }

    /// Records that `user` took an output of `kind` as of `cut` (an audited event of the
    /// [`OUTPUTS_STREAM`]); refused for a role that may not take it.
    pub async fn record_output(
        &self,
        user: &User,
        kind: OutputKind,
        cut: &CutOff,
        participants: usize,
        destination: &str,
    ) -> Result<()> {
        let now = self.now();
        let events = protocol::outputs::decide_output(Output {
            kind,
            as_of: cut.as_of,
            head_seq: cut.head_seq,
            head_hash: cut.head_hash.clone(),
            participants: participants as u64,
            destination: destination.to_string(),
            by: staff_of(user),
            at: now,
        })?;
        let version = self.store().stream_version(OUTPUTS_STREAM).await?;
        self.store()
            .append(
                OUTPUTS_STREAM,
                version,
                &encode(&events)?,
                &user.actor().meta(now, None),
                &[],
            )
            .await?;
        Ok(())
    }

    /// Checks that `user` may take an output of `kind`, before any work is done.
    pub fn require_output(&self, user: &User, kind: OutputKind) -> Result<()> {
        let cap = kind.capability();
        if user.role.may(cap) {
            return Ok(());
        }
        let allowed: Vec<String> = crate::Role::ALL
            .into_iter()
            .filter(|r| r.may(cap))
            .map(|r| r.label().to_lowercase())
            .collect();
        Err(Error::Forbidden(format!(
            "a {} may not take the {}: it is for the {}",
            user.role.label().to_lowercase(),
            kind.label(),
            allowed.join(" and the ")
        )))
    }
}
