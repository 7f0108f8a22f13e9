//! Participants: registration, the lists, one participant's record, her audit trail and
//! her eligibility, and running a command on her. Every method checks access once, then
//! loads what it needs once: lists come from the read tables a page at a time, one
//! participant from her stored snapshot (the fold of her events, written with them).

use chrono::{DateTime, Utc};
use protocol::{Command, Participant};
use serde::{Deserialize, Serialize};
use store::{ParticipantQuery, ParticipantRow};

use crate::Trial;
use crate::access::{Actor, User};
use crate::commands::{self, CommandSpec};
use crate::error::{Error, Result};
use crate::roles::Capability;
use crate::write::{Loaded, Written, participant_stream};

/// Rows per page when the caller does not say.
pub const DEFAULT_PAGE_SIZE: u32 = 100;

/// A page of a list: the rows and how many match in all.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Page<T> {
    /// The rows of this page.
    pub rows: Vec<T>,
    /// Rows matching the filter in all pages.
    pub total: u64,
    /// Rows skipped before this page.
    pub offset: u32,
    /// Largest page asked for.
    pub limit: u32,
}

/// Filter and page of the participant list.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
pub struct ListQuery {
    /// Only this site (study-wide roles; a site's staff always see their own site).
    #[serde(default)]
    pub site: Option<String>,
    /// Only this state (`screening`, `on_treatment`, …).
    #[serde(default)]
    pub state: Option<String>,
    /// Only study ids containing this text (`ks-00` finds KS-001).
    #[serde(default)]
    pub q: Option<String>,
    /// Rows per page (default 100, at most 1000).
    #[serde(default)]
    pub limit: Option<u32>,
    /// Rows to skip.
    #[serde(default)]
    pub offset: Option<u32>,
}

impl ListQuery {
    fn limit(&self) -> u32 {
        self.limit
            .unwrap_or(DEFAULT_PAGE_SIZE)
            .min(store::MAX_PAGE_SIZE)
    }
}

fn non_empty(s: &Option<String>) -> Option<String> {
    s.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// A participant as the list shows it.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct ParticipantSummary {
    /// Pseudonymous study id.
    pub study_id: String,
    /// Site code.
    pub site: String,
    /// State in the journey (PROTOCOL.md §2).
    pub state: String,
    /// Version: send it as `expected_version` with the next command.
    pub version: i64,
    /// Last change (UTC).
    pub updated_at: DateTime<Utc>,
}

/// A participant in full.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct ParticipantDetail {
    /// Pseudonymous study id.
    pub study_id: String,
    /// Site code.
    pub site: String,
    /// State in the journey.
    pub state: String,
    /// Version: send it as `expected_version` with the next command.
    pub version: i64,
    /// Every recorded fact, as folded from the audit trail.
    pub participant: serde_json::Value,
}

/// One entry of the audit trail.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct TimelineEntry {
    /// Position in the whole study's log.
    pub seq: i64,
    /// Version of the participant after this event.
    pub version: i64,
    /// What happened.
    pub kind: String,
    /// The event's data.
    pub data: serde_json::Value,
    /// Who.
    pub actor: String,
    /// In which role.
    pub role: String,
    /// When it was recorded (UTC).
    pub recorded_at: DateTime<Utc>,
    /// Why, for corrections.
    pub reason: Option<String>,
    /// The event's link in the hash chain.
    pub hash: String,
}

/// The body of a registration: the server assigns the study id.
#[derive(Debug, Clone, serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Registration {
    /// Site code; site-bound users may leave it out (their own site is used).
    #[serde(default)]
    pub site: Option<String>,
    /// Year of birth (never the birth date).
    pub year_of_birth: i32,
    /// Sex as recorded.
    pub sex: protocol::Sex,
}

/// Password re-entry for a signed command.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SignatureRequest {
    /// The signer's password, entered again.
    pub password: String,
}

/// A command for a participant.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CommandRequest {
    /// The participant's version you saw; a stale one gets 409.
    pub expected_version: i64,
    /// Why (required for corrections).
    #[serde(default)]
    pub reason: Option<String>,
    /// The command's data (see the command's schema).
    pub data: serde_json::Value,
    /// For signed commands: the password, entered again.
    #[serde(default)]
    pub signature: Option<SignatureRequest>,
}

/// One participant this user may see: her read row and her state.
pub struct Visible {
    /// The read row (site, state, version, snapshot).
    pub row: ParticipantRow,
    /// Her state, from the snapshot.
    pub participant: Participant,
}

/// The participant state stored with a read row.
pub fn snapshot_of(row: &ParticipantRow) -> Result<Participant> {
    serde_json::from_value(row.snapshot.clone())
        .map_err(|e| Error::internal(format!("reading the snapshot of {}", row.study_id), e))
}

/// Chooses the site of a new registration: a site-bound user's own, or the one given.
pub fn registration_site(user: &User, asked: Option<&str>) -> Result<String> {
    match (&user.site, asked) {
        (Some(own), Some(asked)) if own != asked => Err(Error::Forbidden(format!(
            "you register participants at {own} only"
        ))),
        (Some(own), _) => Ok(own.clone()),
        (None, Some(asked)) => Ok(asked.to_string()),
        (None, None) => Err(Error::BadRequest("give the site".into())),
    }
}

impl Trial {
    /// A page of the participants this user may see: their own site's, or every site's
    /// for study-wide roles, filtered by site, state and study id.
    pub async fn participant_list(
        &self,
        user: &User,
        query: &ListQuery,
    ) -> Result<Page<ParticipantSummary>> {
        user.require(Capability::ReadParticipants)?;
        let site = user.site_scope().or_else(|| non_empty(&query.site));
        let q = ParticipantQuery {
            site,
            state: non_empty(&query.state),
            search: non_empty(&query.q),
            limit: query.limit(),
            offset: query.offset.unwrap_or(0),
        };
        let (rows, total) = self.store().participants_page(&q).await?;
        Ok(Page {
            rows: rows
                .into_iter()
                .map(|r| ParticipantSummary {
                    study_id: r.study_id,
                    site: r.site,
                    state: r.state,
                    version: r.version,
                    updated_at: r.updated_at,
                })
                .collect(),
            total,
            offset: q.offset,
            limit: q.limit,
        })
    }

    /// One participant's read row, if this user may see her; otherwise the same answer as
    /// for none.
    pub async fn visible_row(&self, user: &User, study_id: &str) -> Result<ParticipantRow> {
        user.require(Capability::ReadParticipants)?;
        match self.store().participant(study_id).await? {
            Some(row) if user.sees_site(&row.site) => Ok(row),
            _ => Err(Error::no_participant(study_id)),
        }
    }

    /// One participant with her state, if this user may see her.
    pub async fn visible(&self, user: &User, study_id: &str) -> Result<Visible> {
        let row = self.visible_row(user, study_id).await?;
        let participant = snapshot_of(&row)?;
        Ok(Visible { row, participant })
    }

    /// A participant in full.
    pub async fn participant_detail(&self, user: &User, id: &str) -> Result<ParticipantDetail> {
        let row = self.visible_row(user, id).await?;
        Ok(ParticipantDetail {
            study_id: row.study_id,
            site: row.site,
            state: row.state,
            version: row.version,
            participant: row.snapshot,
        })
    }

    /// The audit trail of a participant this user may see, oldest first.
    pub async fn timeline(&self, user: &User, id: &str) -> Result<Vec<TimelineEntry>> {
        self.visible_row(user, id).await?;
        self.timeline_of(id).await
    }

    pub(crate) async fn timeline_of(&self, id: &str) -> Result<Vec<TimelineEntry>> {
        let events = self.store().read_stream(&participant_stream(id)).await?;
        Ok(events
            .into_iter()
            .map(|e| TimelineEntry {
                seq: e.seq,
                version: e.version,
                kind: e.kind,
                data: e.payload,
                actor: e.meta.actor,
                role: e.meta.role,
                recorded_at: e.meta.recorded_at,
                reason: e.meta.reason,
                hash: e.hash,
            })
            .collect())
    }

    /// The eligibility result of a participant this user may see, evaluated now.
    pub async fn eligibility(&self, user: &User, id: &str) -> Result<protocol::EligibilityReport> {
        let v = self.visible(user, id).await?;
        let settings = self.settings().await?;
        Ok(protocol::evaluate_eligibility(
            &v.participant,
            self.now(),
            &settings,
        ))
    }

    /// Registers a participant for this user: at her own site, or the one given by a
    /// study-wide user.
    pub async fn register(&self, user: &User, reg: &Registration) -> Result<Written> {
        user.require(Capability::EnterData)?;
        let site = registration_site(user, reg.site.as_deref())?;
        self.register_as(&user.actor(), &site, reg).await
    }

    /// Registers a participant under the next free study id of the site (`KS-014`).
    pub async fn register_as(
        &self,
        actor: &Actor,
        site: &str,
        reg: &Registration,
    ) -> Result<Written> {
        self.require_site(site).await?;
        let command_for = |study_id: &str| {
            Command::RegisterParticipant(protocol::RegisterParticipant {
                site: site.to_string(),
                study_id: study_id.to_string(),
                year_of_birth: reg.year_of_birth,
                sex: reg.sex,
            })
        };
        // A new stream: nothing to load; the store refuses it if it exists.
        let new_stream = || Loaded {
            participant: protocol::fold(std::iter::empty()),
            version: 0,
            events: Vec::new(),
        };
        // The protocol's answer does not depend on the number: a registration it refuses
        // is refused before it takes one, so registrations running beside it never step
        // over a number it would give back.
        let mut context = self.kept_context().await?;
        let probe = command_for(&format!("{site}-001"));
        let participant = new_stream().participant;
        self.decide_confirmed(&mut context, |c| {
            protocol::decide_in(&participant, &c.study, &probe, self.now(), &c.settings)
        })
        .await?;
        // Registrations at one site in the same moment take consecutive numbers (see
        // `folded`); another process may still take a number first: the store refuses
        // the second (the stream exists), and the next number is tried.
        for _ in 0..100 {
            let number = self.take_study_number(site).await?;
            let study_id = format!("{site}-{number:03}");
            let command = command_for(&study_id);
            let loaded = new_stream();
            match self
                .execute_on(actor, &study_id, loaded, 0, &command, None, context.clone())
                .await
            {
                Err(Error::Conflict { .. }) => self.numbers_taken_elsewhere(site).await?,
                Err(other) => {
                    self.give_back_study_number(site, number);
                    return Err(other);
                }
                Ok(written) => return Ok(written),
            }
        }
        Err(Error::internal(
            "registering",
            format!("no free study id at {site} after 100 tries"),
        ))
    }

    /// Runs a command for a participant on behalf of a user: capability, then visibility,
    /// then the signature, then the write path.
    pub async fn run_command(
        &self,
        user: &User,
        id: &str,
        name: &str,
        req: CommandRequest,
    ) -> Result<Written> {
        let spec =
            commands::find(name).ok_or_else(|| Error::NotFound(format!("no command {name}")))?;
        self.run_spec(user, id, spec, req).await
    }

    /// [`Trial::run_command`] for a command already looked up.
    pub async fn run_spec(
        &self,
        user: &User,
        id: &str,
        spec: &CommandSpec,
        req: CommandRequest,
    ) -> Result<Written> {
        user.require(spec.capability)?;
        self.visible_row(user, id).await?;
        if let Some(reason) = &req.reason {
            protocol::privacy::check_free_text("reason", reason)?;
        }
        let signer = match (spec.signature_meaning, &req.signature) {
            (None, _) => None,
            (Some(_), None) => {
                return Err(Error::BadRequest(
                    "this command is signed: send signature.password".into(),
                ));
            }
            (Some(meaning), Some(sig)) => {
                if !self.check_signature(user, &sig.password, meaning).await? {
                    return Err(Error::Forbidden("signature refused: wrong password".into()));
                }
                Some((user, meaning))
            }
        };
        let reason = req
            .reason
            .clone()
            .or_else(|| change_reason(spec, &req.data));
        let command = commands::build(spec, req.data, signer, self.now())?;
        self.execute(&user.actor(), id, req.expected_version, &command, reason)
            .await
    }

    /// The commands this user may run on a participant in her current state, without
    /// those that have a page of their own.
    pub fn offered_commands(&self, user: &User, p: &Participant) -> Vec<&'static CommandSpec> {
        let allowed = protocol::command_kinds_allowed_in(&p.state);
        commands::all()
            .iter()
            .filter(|s| s.own_page.is_none())
            .filter(|s| user.role.may(s.capability) && allowed.contains(&s.kind))
            .collect()
    }
}

/// The reason a correction or retraction gives in its data, for the audit trail's "why"
/// when the request gives none of its own.
fn change_reason(spec: &CommandSpec, data: &serde_json::Value) -> Option<String> {
    let field = if spec.kind == protocol::CommandKind::RetractEntry {
        "reason"
    } else if data.get("corrects").is_some_and(|c| !c.is_null()) {
        "correction_reason"
    } else {
        return None;
    };
    data.get(field)
        .and_then(serde_json::Value::as_str)
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(str::to_owned)
}
