//! Study oversight as use cases: queries, source data verification, freeze and lock,
//! casebook signatures and deviations (PROTOCOL §12). Every act goes through the one
//! write path: the protocol decides it ([`protocol::decide_oversight`]) with the member of
//! staff who asks, and the events are appended with the read rows in one transaction.
//! The whole study's freeze or lock lives in its own stream ([`STUDY_STREAM`]); every
//! participant command reads it ([`Trial::study_oversight`]).

use chrono::{DateTime, Utc};
use protocol::oversight::{
    self, DataPoint, HoldLevel, OversightCommand, Query, QueryStatus, Scope, SdvState,
    SignCasebook, SignScope, Staff, StudyOversight, Visit,
};
use protocol::{ESignature, EntryStatus, Participant};
use serde::{Deserialize, Serialize};
use store::StreamAppend;

use crate::Trial;
use crate::access::{Actor, User};
use crate::error::{Error, Result};
use crate::roles::Capability;
use crate::write::{Written, decode_event, encode, participant_stream, projections};

/// The stream of the study-wide freezes and locks.
pub const STUDY_STREAM: &str = "study/oversight";

/// The meaning an investigator's casebook signature records unless the request gives one.
pub const CASEBOOK_MEANING: &str =
    "I have reviewed the data of this casebook and confirm they are complete and accurate.";

/// The member of staff a user acts as.
pub fn staff_of(user: &User) -> Staff {
    Staff::new(user.username.clone(), user.role)
}

/// An act of oversight on one participant, as the API and the pages send it.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OversightRequest {
    /// The participant's version the user saw; when given, a newer record is refused with
    /// a conflict rather than acted on unseen.
    #[serde(default)]
    pub expected_version: Option<i64>,
    /// The act.
    pub command: OversightCommand,
    /// Why, for the audit trail (unlock and unfreeze carry their own reason).
    #[serde(default)]
    pub reason: Option<String>,
}

/// The investigator's casebook or visit signature, as the API and the pages send it.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SignRequest {
    /// The participant's version the user saw.
    #[serde(default)]
    pub expected_version: Option<i64>,
    /// What is signed: the casebook or one visit.
    pub scope: SignScope,
    /// The password, entered again.
    pub password: String,
    /// The meaning of the signature; the standard casebook meaning when absent.
    #[serde(default)]
    pub meaning: Option<String>,
}

/// The site's answer to a query, as the API and the pages send it: a text and, optionally,
/// a correction of the queried entry given as a command's data (as `/commands/` takes it).
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AnswerRequest {
    /// The participant's version the user saw.
    #[serde(default)]
    pub expected_version: Option<i64>,
    /// The answer.
    pub text: String,
    /// A correction of the queried entry, recorded with the answer.
    #[serde(default)]
    pub correction: Option<CorrectionRequest>,
}

/// A correction sent with an answer: the command that records the entry's form (`lab`)
/// and its data, with `corrects` naming the queried entry and a `correction_reason`.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CorrectionRequest {
    /// The command's id, as in `/api/v1/participants/{id}/commands/{command}`.
    pub command: String,
    /// The command's data (see the command's schema).
    pub data: serde_json::Value,
}

impl Trial {
    /// The site answers a query, optionally correcting the queried entry in the same
    /// write: the correction is built as its command is on the command route and decided
    /// with the answer, so every rule of the command and of oversight applies to it.
    pub async fn answer_query(
        &self,
        user: &User,
        study_id: &str,
        query_id: &str,
        req: AnswerRequest,
    ) -> Result<Written> {
        self.visible_row(user, study_id).await?;
        let (correction, reason) = match req.correction {
            None => (None, None),
            Some(c) => {
                let spec = crate::commands::find(&c.command).ok_or_else(|| {
                    Error::BadRequest(format!("no command {} to correct with", c.command))
                })?;
                if spec.signature_meaning.is_some() {
                    return Err(Error::BadRequest(format!(
                        "`{}` is a signed command: correct it through its own command route, \
                         with your password, and answer the query without a correction",
                        spec.name
                    )));
                }
                user.require(spec.capability)?;
                let reason = c
                    .data
                    .get("correction_reason")
                    .and_then(serde_json::Value::as_str)
                    .map(str::trim)
                    .filter(|r| !r.is_empty())
                    .map(str::to_owned);
                let command = crate::commands::build(spec, c.data, None, self.now())?;
                (Some(Box::new(command)), reason)
            }
        };
        let request = OversightRequest {
            expected_version: req.expected_version,
            command: OversightCommand::AnswerQuery(oversight::AnswerQuery {
                query_id: query_id.to_string(),
                text: req.text,
                correction,
            }),
            reason,
        };
        self.oversee(user, study_id, request).await
    }

    /// The queries of one participant this user may see, oldest first; another site's
    /// participant is "not found", as one that does not exist.
    pub async fn participant_queries(&self, user: &User, study_id: &str) -> Result<Vec<QueryRow>> {
        let visible = self.visible(user, study_id).await?;
        let now = self.now();
        Ok(visible
            .participant
            .oversight
            .queries
            .into_iter()
            .map(|q| QueryRow {
                study_id: visible.row.study_id.clone(),
                site: visible.row.site.clone(),
                age_days: (now - q.raised_at).num_days(),
                query: q,
            })
            .collect())
    }

    /// The whole study's freeze or lock, folded from its stream.
    pub async fn study_oversight(&self) -> Result<StudyOversight> {
        Ok(self.study_oversight_versioned().await?.0)
    }

    /// Runs an act of oversight on a participant for `user`: she must see the participant
    /// (a site user only her site's: anyone else's is "not found"); the protocol decides
    /// whether her role may do it.
    pub async fn oversee(
        &self,
        user: &User,
        study_id: &str,
        req: OversightRequest,
    ) -> Result<Written> {
        self.visible_row(user, study_id).await?;
        if let OversightCommand::SignCasebook(_) = req.command {
            return Err(Error::BadRequest(
                "a signature is sent to the signatures endpoint, with the password".into(),
            ));
        }
        if let Some(reason) = &req.reason {
            protocol::privacy::check_free_text("reason", reason)?;
        }
        self.oversee_as(
            user,
            study_id,
            req.expected_version,
            &req.command,
            req.reason,
        )
        .await
    }

    /// The investigator signs the casebook or a visit: the password is checked again, then
    /// the protocol decides.
    pub async fn sign_casebook(
        &self,
        user: &User,
        study_id: &str,
        req: SignRequest,
    ) -> Result<Written> {
        // The role first, as every command does: a role that may never sign is told so
        // whatever the study id, and a site user of another site learns nothing.
        user.require(Capability::InvestigatorSign)?;
        self.visible_row(user, study_id).await?;
        let meaning = req
            .meaning
            .as_deref()
            .map(str::trim)
            .filter(|m| !m.is_empty())
            .unwrap_or(CASEBOOK_MEANING)
            .to_string();
        if !self.check_signature(user, &req.password, &meaning).await? {
            return Err(Error::Forbidden("signature refused: wrong password".into()));
        }
        let command = OversightCommand::SignCasebook(SignCasebook {
            scope: req.scope,
            signature: ESignature {
                signer: user.username.clone(),
                role: user.role.id().to_string(),
                meaning,
                signed_at: self.now(),
            },
        });
        self.oversee_as(user, study_id, req.expected_version, &command, None)
            .await
    }

    async fn oversee_as(
        &self,
        user: &User,
        study_id: &str,
        expected_version: Option<i64>,
        command: &OversightCommand,
        reason: Option<String>,
    ) -> Result<Written> {
        self.oversee_by(
            &user.actor(),
            &staff_of(user),
            study_id,
            expected_version,
            command,
            reason,
        )
        .await
    }

    /// Runs an act of oversight through the write path as `actor` acting as `staff`.
    /// Access (and a signature's password) was checked by the caller; the demo and the
    /// command line act through this directly.
    pub async fn oversee_by(
        &self,
        actor: &Actor,
        staff: &Staff,
        study_id: &str,
        expected_version: Option<i64>,
        command: &OversightCommand,
        reason: Option<String>,
    ) -> Result<Written> {
        let loaded = self.load(study_id).await?;
        if let Some(v) = expected_version
            && v != loaded.version
        {
            return Err(Error::Conflict {
                expected: v,
                actual: loaded.version,
            });
        }
        let now = self.now();
        let settings = self.settings().await?;
        let study = self.study_oversight().await?;
        let events = protocol::decide_oversight(
            &loaded.participant,
            &study,
            staff,
            command,
            now,
            &settings,
        )?;
        let reason = reason.or_else(|| hold_reason(command));
        let mut participant = loaded.participant;
        for e in &events {
            protocol::evolve(&mut participant, e);
        }
        let new_events = encode(&events)?;
        let version = loaded.version + new_events.len() as i64;
        let rows = projections(study_id, &participant, version, &settings, now)?;
        self.store()
            .append(
                &participant_stream(study_id),
                loaded.version,
                &new_events,
                &actor.meta(now, reason),
                &rows,
            )
            .await?;
        Ok(Written {
            study_id: study_id.to_string(),
            version,
            state: participant.state.name().to_string(),
            events: events.iter().map(|e| e.kind().to_string()).collect(),
            participant: Box::new(participant),
            appended: events,
        })
    }

    /// The whole study's freeze or lock with the version of its stream (send it as the
    /// expected version of the next study-wide hold).
    pub async fn study_oversight_versioned(&self) -> Result<(StudyOversight, i64)> {
        self.folded_study().await
    }

    /// Freezes, locks, unlocks or unfreezes the whole study. An unlock voids every
    /// signature in force, each in its participant's record, in the same transaction.
    pub async fn hold_study(
        &self,
        user: &User,
        command: &OversightCommand,
    ) -> Result<StudyOversight> {
        self.hold_study_seen(user, command, None).await
    }

    /// [`Trial::hold_study`] on the study-wide state the user saw: when `expected_version`
    /// is given and the study's stream moved on since, the hold is refused with a conflict
    /// rather than placed on a state she did not see.
    pub async fn hold_study_seen(
        &self,
        user: &User,
        command: &OversightCommand,
        expected_version: Option<i64>,
    ) -> Result<StudyOversight> {
        user.require(Capability::ReadParticipants)?;
        let events = self.store().read_stream(STUDY_STREAM).await?;
        let version = events.last().map(|e| e.version).unwrap_or(0);
        if let Some(v) = expected_version
            && v != version
        {
            return Err(Error::Conflict {
                expected: v,
                actual: version,
            });
        }
        let decoded = events
            .iter()
            .map(decode_event)
            .collect::<Result<Vec<_>>>()?;
        let study = oversight::fold_study(decoded.iter());
        let now = self.now();
        let decided = protocol::decide_study(&study, &staff_of(user), command, now)?;
        let meta = user.actor().meta(now, hold_reason(command));
        let mut batch = vec![StreamAppend {
            stream: STUDY_STREAM.to_string(),
            expected_version: version,
            events: encode(&decided)?,
            meta: meta.clone(),
            projections: Vec::new(),
        }];
        if matches!(command, OversightCommand::Unlock(_)) {
            let settings = self.settings().await?;
            for row in self.store().participants(None).await? {
                let p: Participant = serde_json::from_value(row.snapshot.clone())
                    .map_err(|e| Error::internal("reading a snapshot", e))?;
                let Some(void) = oversight::void_on_study_unlock(&p, now) else {
                    continue;
                };
                let mut after = p;
                protocol::evolve(&mut after, &void);
                let v = row.version + 1;
                batch.push(StreamAppend {
                    stream: participant_stream(&row.study_id),
                    expected_version: row.version,
                    events: encode(std::slice::from_ref(&void))?,
                    meta: meta.clone(),
                    projections: projections(&row.study_id, &after, v, &settings, now)?,
                });
            }
        }
        self.store().append_batch(&batch).await?;
        let mut after = decoded;
        after.extend(decided);
        Ok(oversight::fold_study(after.iter()))
    }
}

/// The reason an unlock or unfreeze gives, for the audit trail's "why".
fn hold_reason(command: &OversightCommand) -> Option<String> {
    match command {
        OversightCommand::Freeze(c)
        | OversightCommand::Lock(c)
        | OversightCommand::Unlock(c)
        | OversightCommand::Unfreeze(c) => c.reason.clone(),
        _ => None,
    }
}

/// One recorded datum as the pages and the API show it: what, the value with its unit,
/// when and by whom, and its oversight status, with the actions a user may take.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct DataPointRow {
    /// The entry id: the address corrections, queries and verification use.
    pub entry_id: String,
    /// The form (entry prefix, e.g. `lab`).
    pub form: String,
    /// What it is, in words (`Lab value`).
    pub what: String,
    /// The value with its unit, in words (`Haemoglobin 121 g/L`).
    pub value: String,
    /// The fields a query may name.
    pub fields: Vec<String>,
    /// When recorded.
    pub recorded_at: DateTime<Utc>,
    /// Who recorded it.
    pub recorded_by: Option<String>,
    /// The visit it belongs to.
    pub visit: Visit,
    /// Current, superseded or retracted.
    pub status: EntryStatus,
    /// Source data verification.
    pub sdv: SdvState,
    /// Whether the settings require it verified.
    pub sdv_required: bool,
    /// Queries on it or on the entries it corrects that are open or answered.
    pub active_queries: Vec<String>,
    /// The strongest freeze or lock over it, if any.
    pub hold: Option<HoldLevel>,
    /// Whether a signature in force covers it.
    pub signed: bool,
    /// The form that corrects it (`lab`), when it has one.
    pub correct_with: Option<String>,
}

/// The command form that records an entry of `form` (and corrects it).
pub fn command_of_form(form: &str) -> Option<&'static str> {
    Some(match form {
        "tx" => "treatment-line",
        "lesion" => "lesion",
        "lab" => "lab",
        "weight" => "body-weight",
        "ps" => "performance-status",
        "cbp" => "childbearing-potential",
        "preg" => "pregnancy-test",
        "history" => "medical-history",
        "her2" => "prior-her2-result",
        "malig" => "other-malignancy",
        "archival" => "archival-biopsy",
        "attest" => "attestation",
        "imp" => "imp-administration",
        "ae" => "adverse-event",
        "ctbaseline" => "tumour-baseline",
        "ct" => "tumour-assessment",
        _ => return None,
    })
}

/// The value of an entry in words, from its JSON: the fields that say what it is first.
fn value_text(form: &str, v: &serde_json::Value) -> String {
    let s = |k: &str| -> Option<String> {
        v.get(k).and_then(|x| match x {
            serde_json::Value::String(s) => Some(s.replace('_', " ")),
            serde_json::Value::Number(n) => Some(n.to_string()),
            serde_json::Value::Bool(b) => Some(if *b { "yes" } else { "no" }.into()),
            _ => None,
        })
    };
    let join = |parts: Vec<Option<String>>| {
        parts
            .into_iter()
            .flatten()
            .filter(|p| !p.trim().is_empty())
            .collect::<Vec<_>>()
            .join(" ")
    };
    let text = match form {
        "lab" => join(vec![s("analyte"), s("value"), s("unit")]),
        "weight" => join(vec![s("kg").or(s("weight_kg")), Some("kg".into())]),
        "ps" => join(vec![Some("WHO".into()), s("who_ps")]),
        "imp" => join(vec![s("timepoint"), s("activity_mbq"), Some("MBq".into())]),
        "ae" => v
            .get("ae")
            .map(|ae| {
                let g = |k: &str| {
                    ae.get(k)
                        .map(|x| x.to_string().trim_matches('"').to_string())
                };
                join(vec![
                    g("ae_id"),
                    g("verbatim"),
                    g("grade").map(|x| format!("grade {x}")),
                ])
            })
            .unwrap_or_default(),
        _ => String::new(),
    };
    if !text.trim().is_empty() {
        return text;
    }
    // Any other form: its first few plain fields, "name: value".
    v.as_object()
        .map(|m| {
            m.iter()
                .filter(|(_, x)| x.is_string() || x.is_number() || x.is_boolean())
                .take(4)
                .map(|(k, x)| {
                    format!(
                        "{}: {}",
                        k.replace('_', " "),
                        x.to_string().trim_matches('"')
                    )
                })
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default()
}

/// Whether an entry's verification is required by the settings' per-form requirement.
pub(crate) fn sdv_required(p: &Participant, settings: &protocol::Settings, entry_id: &str) -> bool {
    use protocol::settings::SdvRequirement;
    match settings.sdv_requirement(oversight::form_of(entry_id)) {
        SdvRequirement::None => false,
        SdvRequirement::Full => true,
        SdvRequirement::Partial => oversight::visit_of_entry(p, entry_id) == Visit::Screening,
    }
}

impl Trial {
    /// Every recorded entry of a participant as readable rows with their oversight status,
    /// current entries first in the order of the record, then the history.
    pub async fn data_points(&self, user: &User, study_id: &str) -> Result<Vec<DataPointRow>> {
        self.visible_row(user, study_id).await?;
        let loaded = self.load(study_id).await?;
        let settings = self.settings().await?;
        // A study-wide freeze or lock holds every entry, though it lives in its own stream.
        let study_hold = self.study_oversight().await?.hold.map(|h| h.level);
        let p = &loaded.participant;
        // Who recorded each entry: the author of the event that added it.
        let mut authors = std::collections::BTreeMap::new();
        for e in &loaded.events {
            if let Ok(ev) = decode_event(e)
                && let Some(m) = ev.entry_meta()
            {
                authors.insert(m.entry_id.clone(), e.meta.actor.clone());
            }
        }
        let mut rows: Vec<DataPointRow> = p
            .entry_ids()
            .into_iter()
            .map(|(id, status)| {
                let mut row = data_point(p, &settings, &authors, id, status);
                row.hold = row.hold.max(study_hold);
                row
            })
            .collect();
        rows.sort_by_key(|r| r.status != EntryStatus::Current);
        Ok(rows)
    }
}

fn data_point(
    p: &Participant,
    settings: &protocol::Settings,
    authors: &std::collections::BTreeMap<String, String>,
    id: String,
    status: EntryStatus,
) -> DataPointRow {
    let form = oversight::form_of(&id).to_string();
    let json = p.entry_json(&id).unwrap_or_default();
    let fields = json
        .as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    let chain = chain_of(p, &id);
    let active_queries = p
        .oversight
        .queries
        .iter()
        .filter(|q| q.status.is_active() && chain.contains(&q.point.entry_id))
        .map(|q| q.query_id.clone())
        .collect();
    let visit = oversight::visit_of_entry(p, &id);
    let hold = p
        .oversight
        .holds
        .iter()
        .filter(|h| match &h.scope {
            Scope::Participant | Scope::Study => true,
            Scope::Visit { visit: v } => *v == visit,
            Scope::Form { form: f } => *f == form,
            Scope::Entry { entry_id } => chain.contains(entry_id),
        })
        .map(|h| h.level)
        .max();
    let signed = p.oversight.valid_signatures().any(|s| match &s.scope {
        SignScope::Casebook => true,
        SignScope::Visit { visit: v } => *v == visit,
    });
    DataPointRow {
        what: command_of_form(&form)
            .and_then(crate::commands::find)
            .map(|s| s.title.to_string())
            .unwrap_or_else(|| form.clone()),
        value: value_text(&form, &json),
        fields,
        recorded_at: p.entry_recorded_at(&id).unwrap_or_default(),
        recorded_by: authors.get(&id).cloned(),
        visit,
        sdv: p.oversight.sdv_of(&id),
        sdv_required: status == EntryStatus::Current && sdv_required(p, settings, &id),
        active_queries,
        hold,
        signed,
        correct_with: command_of_form(&form).map(str::to_owned),
        status,
        entry_id: id,
        form,
    }
}

/// An entry and the entries it corrects, newest first.
fn chain_of(p: &Participant, id: &str) -> Vec<String> {
    let mut out = vec![id.to_string()];
    for _ in 0..=p.version {
        match p.entry_supersedes(out.last().map(String::as_str).unwrap_or_default()) {
            Some(prev) => out.push(prev),
            None => break,
        }
    }
    out
}

/// A query in a list, with its participant.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct QueryRow {
    /// The participant.
    pub study_id: String,
    /// Her site.
    pub site: String,
    /// The query.
    pub query: Query,
    /// Whole days since it was raised.
    pub age_days: i64,
}

/// Which queries a list shows.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
pub struct QueryFilter {
    /// Only this status (`open`, `answered`, `closed`, `cancelled`).
    #[serde(default)]
    pub status: Option<QueryStatus>,
    /// Only this site (study-wide roles).
    #[serde(default)]
    pub site: Option<String>,
    /// Only this participant.
    #[serde(default)]
    pub study_id: Option<String>,
}

impl Trial {
    /// The queries this user may see, from the participants' read rows: a site user sees
    /// her site's only. Oldest first.
    pub async fn queries(&self, user: &User, filter: &QueryFilter) -> Result<Vec<QueryRow>> {
        user.require(Capability::ReadParticipants)?;
        let site = match user.site_scope() {
            Some(own) => Some(own),
            None => filter.site.clone(),
        };
        let now = self.now();
        let mut out = Vec::new();
        for row in self.store().participants(site.as_deref()).await? {
            if filter.study_id.as_ref().is_some_and(|s| s != &row.study_id) {
                continue;
            }
            let p: Participant = serde_json::from_value(row.snapshot.clone())
                .map_err(|e| Error::internal("reading a snapshot", e))?;
            for q in p.oversight.queries {
                if filter.status.is_some_and(|s| s != q.status) {
                    continue;
                }
                out.push(QueryRow {
                    study_id: row.study_id.clone(),
                    site: row.site.clone(),
                    age_days: (now - q.raised_at).num_days(),
                    query: q,
                });
            }
        }
        out.sort_by(|a, b| {
            a.query
                .raised_at
                .cmp(&b.query.raised_at)
                .then(a.study_id.cmp(&b.study_id))
        });
        Ok(out)
    }

    /// One query of a participant this user may see.
    pub async fn query(&self, user: &User, study_id: &str, query_id: &str) -> Result<QueryRow> {
        let visible = self.visible(user, study_id).await?;
        let q = visible
            .participant
            .oversight
            .query(query_id)
            .cloned()
            .ok_or_else(|| Error::NotFound(format!("no query {query_id} of {study_id}")))?;
        Ok(QueryRow {
            study_id: visible.row.study_id.clone(),
            site: visible.row.site.clone(),
            age_days: (self.now() - q.raised_at).num_days(),
            query: q,
        })
    }
}

/// The data point of a query, for links (`lab-3` / `value`).
pub fn point_text(p: &DataPoint) -> String {
    match &p.field {
        Some(f) => format!("{} · {f}", p.entry_id),
        None => p.entry_id.clone(),
    }
}
