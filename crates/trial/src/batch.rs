//! Several commands of one kind for one participant, written all or nothing: the
//! investigator answers every open attestation under one signature, and either every
//! answer is recorded or none is.
//!
//! Each command still goes through the protocol on its own (`decide`, then `evolve`, so
//! the second is decided on the state the first leaves); the events of all of them are
//! appended in one transaction with one version check. One refusal stores nothing and
//! names the command it came from.

use protocol::{Command, Event, Refusal};
use serde::Deserialize;
use serde_json::Value;

use crate::Trial;
use crate::access::User;
use crate::commands::{self, CommandSpec};
use crate::error::{Error, Result};
use crate::participants::SignatureRequest;
use crate::write::{Written, encode, participant_stream, projections};

/// Several commands of one kind for a participant, as one write.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchRequest {
    /// The participant's version you saw; a stale one gets 409 and nothing is written.
    pub expected_version: i64,
    /// Why (kept with every event of the write).
    #[serde(default)]
    pub reason: Option<String>,
    /// The data of each command, in the order they are decided (see the command's schema).
    pub items: Vec<Value>,
    /// For signed commands: the password, entered once for all of them.
    #[serde(default)]
    pub signature: Option<SignatureRequest>,
}

/// Names the command of a batch a refusal came from ("Item 2 of 3"), keeping its rule.
fn in_batch(r: Refusal, index: usize, of: usize) -> Refusal {
    Refusal {
        message: format!("Item {} of {of}: {}", index + 1, r.message),
        ..r
    }
}

impl Trial {
    /// Runs several commands of the named kind for a participant, all or nothing.
    pub async fn run_batch(
        &self,
        user: &User,
        id: &str,
        name: &str,
        req: BatchRequest,
    ) -> Result<Written> {
        let spec =
            commands::find(name).ok_or_else(|| Error::NotFound(format!("no command {name}")))?;
        self.run_spec_batch(user, id, spec, req).await
    }

    /// [`Trial::run_batch`] for a command already looked up: capability, visibility and
    /// the signature once, then every command decided in turn and one append.
    pub async fn run_spec_batch(
        &self,
        user: &User,
        id: &str,
        spec: &CommandSpec,
        req: BatchRequest,
    ) -> Result<Written> {
        user.require(spec.capability)?;
        self.visible_row(user, id).await?;
        if req.items.is_empty() {
            return Err(Error::BadRequest(
                "nothing to record: the list of items is empty".into(),
            ));
        }
        if let Some(reason) = &req.reason {
            protocol::privacy::check_free_text("reason", reason)?;
        }
        let signer = match (spec.signature_meaning, &req.signature) {
            (None, _) => None,
            (Some(_), None) => {
                return Err(Error::BadRequest(
                    "these items are signed: send signature.password".into(),
                ));
            }
            (Some(meaning), Some(sig)) => {
                if !self.check_signature(user, &sig.password, meaning).await? {
                    return Err(Error::Forbidden("signature refused: wrong password".into()));
                }
                Some((user, meaning))
            }
        };
        // One signature time for all: they are signed together.
        let now = self.now();
        let commands = req
            .items
            .into_iter()
            .map(|data| commands::build(spec, data, signer, now))
            .collect::<Result<Vec<Command>>>()?;
        self.execute_all(
            &user.actor(),
            id,
            req.expected_version,
            &commands,
            req.reason,
        )
        .await
    }

    /// Decides `commands` in turn on the participant and appends all their events in one
    /// transaction as `actor`, or nothing when one is refused: a form saved at once (a
    /// visit's labs, weight and dose). Access was checked by the caller, as for
    /// [`Trial::execute`].
    pub async fn execute_all(
        &self,
        actor: &crate::Actor,
        study_id: &str,
        expected_version: i64,
        commands: &[Command],
        reason: Option<String>,
    ) -> Result<Written> {
        let loaded = self.load(study_id).await?;
        if loaded.version != expected_version {
            return Err(Error::Conflict {
                expected: expected_version,
                actual: loaded.version,
            });
        }
        let now = self.now();
        let settings = self.settings().await?;
        let study = self.study_oversight().await?;
        let mut participant = loaded.participant;
        let mut events: Vec<Event> = Vec::new();
        for (i, command) in commands.iter().enumerate() {
            let decided = protocol::decide_in(&participant, &study, command, now, &settings)
                .map_err(|r| Error::Refused(in_batch(r, i, commands.len())))?;
            for e in &decided {
                protocol::evolve(&mut participant, e);
            }
            events.extend(decided);
        }
        let new_events = encode(&events)?;
        let version = expected_version + new_events.len() as i64;
        let rows = projections(study_id, &participant, version, &settings, now)?;
        self.store()
            .append(
                &participant_stream(study_id),
                expected_version,
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
}
