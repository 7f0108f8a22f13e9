//! Deciding the acts of oversight: who may, on what, in which status.

use chrono::{DateTime, Utc};

use super::apply::hold_rule;
use super::command::{
    AnswerQuery, AssessDeviation, ChangeHold, OversightCommand, RaiseQuery, ReportDeviation,
    ResolveQuery, SignCasebook, VerifyEntries,
};
use super::consequences::{covers, decide_in};
use super::model::{
    CasebookSignature, DeviationNote, DeviationStatus, Hold, HoldLevel, Query, QueryMessage,
    QueryOrigin, QueryStatus, Scope, SignScope, Staff, StudyOversight, Visit, Voided,
};
use super::{form_of, visit_of_entry};
use crate::decide::Dc;
use crate::event::Event;
use crate::participant::{EntryStatus, Participant};
use crate::privacy::check_free_text;
use crate::records::Deviation;
use crate::roles::Capability;
use crate::rule::{Refusal, Rule};
use crate::settings::Settings;

/// Decides an act of oversight on a participant's record by `staff`.
pub fn decide_oversight(
    p: &Participant,
    study: &StudyOversight,
    staff: &Staff,
    cmd: &OversightCommand,
    now: DateTime<Utc>,
    settings: &Settings,
) -> Result<Vec<Event>, Refusal> {
    for (field, text) in cmd.text_fields() {
        check_free_text(field, text)?;
    }
    if p.study_id.is_none() {
        return Err(Refusal::new(
            Rule::STATE_TRANSITION,
            "The participant is not registered.",
        ));
    }
    let o = Ox {
        p,
        study,
        staff,
        now,
    };
    match cmd {
        OversightCommand::RaiseQuery(c) => o.raise(c),
        OversightCommand::AnswerQuery(c) => o.answer(c, settings),
        OversightCommand::CloseQuery(c) => o.resolve(c, QueryStatus::Closed),
        OversightCommand::Requery(c) => o.resolve(c, QueryStatus::Open),
        OversightCommand::CancelQuery(c) => o.resolve(c, QueryStatus::Cancelled),
        OversightCommand::VerifyEntries(c) => o.verify(c),
        OversightCommand::Freeze(c) => o.freeze(c),
        OversightCommand::Lock(c) => o.lock(c),
        OversightCommand::Unlock(c) => o.unhold(c, HoldLevel::Locked),
        OversightCommand::Unfreeze(c) => o.unhold(c, HoldLevel::Frozen),
        OversightCommand::SignCasebook(c) => o.sign(c, settings),
        OversightCommand::ReportDeviation(c) => o.report_deviation(c, settings),
        OversightCommand::AssessDeviation(c) => o.assess_deviation(c),
    }
}

/// Decides a study-wide freeze, lock, unlock or unfreeze (scope [`Scope::Study`]).
pub fn decide_study(
    study: &StudyOversight,
    staff: &Staff,
    cmd: &OversightCommand,
    now: DateTime<Utc>,
) -> Result<Vec<Event>, Refusal> {
    let (c, act) = match cmd {
        OversightCommand::Freeze(c) => (c, Act::Freeze),
        OversightCommand::Lock(c) => (c, Act::Lock),
        OversightCommand::Unlock(c) => (c, Act::Unhold(HoldLevel::Locked)),
        OversightCommand::Unfreeze(c) => (c, Act::Unhold(HoldLevel::Frozen)),
        other => {
            return Err(Refusal::new(
                Rule::STATE_TRANSITION,
                format!(
                    "`{}` is asked of a participant, not of the study.",
                    other.name()
                ),
            ));
        }
    };
    if c.scope != Scope::Study {
        return Err(Refusal::new(
            Rule::VALUE_IMPOSSIBLE,
            "A study-wide hold has the scope `study`.",
        ));
    }
    for (field, text) in cmd.text_fields() {
        check_free_text(field, text)?;
    }
    let current = study.hold.as_ref().map(|h| h.level);
    hold_change(
        staff,
        &c.scope,
        &c.reason,
        current,
        act,
        now,
        "the whole study",
    )
}

/// A participant's events when the whole study is unlocked: her signatures in force are
/// voided (the unlock opens her data to change).
pub fn void_on_study_unlock(p: &Participant, now: DateTime<Utc>) -> Option<Event> {
    let scopes: Vec<SignScope> = p
        .oversight
        .valid_signatures()
        .map(|s| s.scope.clone())
        .collect();
    (!scopes.is_empty()).then(|| Event::SignaturesVoided {
        scopes,
        voided: Voided {
            at: now,
            because: "the whole study was unlocked".into(),
        },
    })
}

#[derive(Clone, Copy)]
enum Act {
    Freeze,
    Lock,
    Unhold(HoldLevel),
}

/// The one table of hold transitions: freeze from nothing, lock from frozen, unlock back
/// to frozen, unfreeze from frozen; unlock and unfreeze need a reason.
fn hold_change(
    staff: &Staff,
    scope: &Scope,
    reason: &Option<String>,
    current: Option<HoldLevel>,
    act: Act,
    now: DateTime<Utc>,
    what: &str,
) -> Result<Vec<Event>, Refusal> {
    let cap = match act {
        Act::Freeze => Capability::Freeze,
        Act::Lock | Act::Unhold(_) => Capability::Lock,
    };
    may(staff, cap, "change freezes and locks of")?;
    let reason = reason
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(str::to_owned);
    let hold = |level| Event::HoldPlaced {
        hold: Hold {
            scope: scope.clone(),
            level,
            by: staff.clone(),
            at: now,
        },
        reason: reason.clone(),
    };
    match (act, current) {
        (Act::Freeze, None) => Ok(vec![hold(HoldLevel::Frozen)]),
        (Act::Freeze, Some(l)) => Err(Refusal::new(
            hold_rule(l),
            format!("{} is already {}.", what, l.label()),
        )),
        (Act::Lock, Some(HoldLevel::Frozen)) => Ok(vec![hold(HoldLevel::Locked)]),
        (Act::Lock, Some(HoldLevel::Locked)) => Err(Refusal::new(
            Rule::LOCKED,
            format!("{what} is already locked."),
        )),
        (Act::Lock, None) => Err(Refusal::new(
            Rule::LOCKED,
            format!("{what} is not frozen: lock needs freeze first."),
        )
        .with_hint("Freeze it, check that every query is resolved, then lock.")),
        (Act::Unhold(level), cur) => {
            if cur != Some(level) {
                let now_is = cur
                    .map(HoldLevel::label)
                    .unwrap_or("neither frozen nor locked");
                let rule = if level == HoldLevel::Locked {
                    Rule::LOCKED
                } else {
                    Rule::FROZEN
                };
                let hint = if cur == Some(HoldLevel::Locked) {
                    "Unlock it first; unlocking leaves it frozen."
                } else {
                    "Only a hold in force can be lifted."
                };
                return Err(Refusal::new(
                    rule,
                    format!("{what} is {now_is}, not {}.", level.label()),
                )
                .with_hint(hint));
            }
            let Some(reason) = reason else {
                return Err(Refusal::new(
                    Rule::VALUE_REQUIRED,
                    format!(
                        "To {} {what}, give a reason.",
                        if level == HoldLevel::Locked {
                            "unlock"
                        } else {
                            "unfreeze"
                        }
                    ),
                ));
            };
            Ok(vec![Event::HoldLifted {
                scope: scope.clone(),
                level,
                by: staff.clone(),
                at: now,
                reason,
            }])
        }
    }
}

/// Refuses a role that may not do it.
fn may(staff: &Staff, cap: Capability, what: &str) -> Result<(), Refusal> {
    if staff.role.may(cap) {
        return Ok(());
    }
    Err(Refusal::new(
        Rule::ROLE,
        format!(
            "A {} may not {what} a participant's record.",
            staff.role.label().to_lowercase()
        ),
    ))
}

/// Refuses an empty text.
fn said(field: &str, text: &str) -> Result<String, Refusal> {
    let t = text.trim();
    if t.is_empty() {
        return Err(Refusal::new(
            Rule::VALUE_REQUIRED,
            format!("`{field}` is required."),
        ));
    }
    Ok(t.to_string())
}

/// Decision context of one act.
struct Ox<'a> {
    p: &'a Participant,
    study: &'a StudyOversight,
    staff: &'a Staff,
    now: DateTime<Utc>,
}

impl Ox<'_> {
    /// The study id, for messages.
    fn id(&self) -> &str {
        self.p.study_id.as_deref().unwrap_or("?")
    }

    /// Refuses when the whole study, or a lock covering the entry (none: the participant),
    /// is locked: no queries, no verification there.
    fn not_locked(&self, entry_id: Option<&str>) -> Result<(), Refusal> {
        if let Some(h) = &self.study.hold
            && h.level == HoldLevel::Locked
        {
            return Err(Refusal::new(
                Rule::LOCKED,
                "The whole study is locked: no queries, no verification.",
            ));
        }
        for h in self
            .p
            .oversight
            .holds
            .iter()
            .filter(|h| h.level == HoldLevel::Locked)
        {
            let hit = match entry_id {
                None => h.scope == Scope::Participant,
                Some(id) => covers(self.p, &h.scope, &self.touch_of(id)),
            };
            if hit {
                return Err(Refusal::new(
                    Rule::LOCKED,
                    format!(
                        "{} of {} is locked: no queries, no verification.",
                        h.scope.describe(),
                        self.id()
                    ),
                )
                .with_hint("A data manager can unlock it, giving a reason."));
            }
        }
        Ok(())
    }

    /// The touch an act on an entry stands for, to test holds against it.
    fn touch_of(&self, id: &str) -> super::consequences::Touch {
        super::consequences::Touch {
            entries: vec![id.to_string()],
            form: Some(form_of(id).to_string()),
            visit: visit_of_entry(self.p, id),
            changed: None,
        }
    }

    /// Refuses an entry that is not a current entry of the participant.
    fn current_entry(&self, id: &str) -> Result<(), Refusal> {
        match self.p.entry_status(id) {
            Some(EntryStatus::Current) => Ok(()),
            Some(EntryStatus::Superseded { by, .. }) => Err(Refusal::new(
                Rule::ENTRY_UNKNOWN,
                format!("{id} was corrected by {by}: act on the current entry."),
            )),
            Some(EntryStatus::Retracted { .. }) => Err(Refusal::new(
                Rule::ENTRY_UNKNOWN,
                format!("{id} was retracted."),
            )),
            None => Err(Refusal::new(
                Rule::ENTRY_UNKNOWN,
                format!("{} has no entry {id}.", self.id()),
            )),
        }
    }

    fn message(
        &self,
        status: QueryStatus,
        text: String,
        correction: Option<String>,
    ) -> QueryMessage {
        QueryMessage {
            at: self.now,
            by: Some(self.staff.clone()),
            status,
            text,
            correction,
        }
    }

    fn raise(&self, c: &RaiseQuery) -> Result<Vec<Event>, Refusal> {
        may(self.staff, Capability::RaiseQuery, "raise queries on")?;
        let text = said("text", &c.text)?;
        self.current_entry(&c.point.entry_id)?;
        if let Some(f) = &c.point.field {
            let fields = self.p.entry_json(&c.point.entry_id);
            let known = fields
                .as_ref()
                .and_then(|v| v.as_object())
                .is_some_and(|m| m.contains_key(f));
            if !known {
                let names: Vec<String> = fields
                    .as_ref()
                    .and_then(|v| v.as_object())
                    .map(|m| m.keys().cloned().collect())
                    .unwrap_or_default();
                return Err(Refusal::new(
                    Rule::QUERY,
                    format!(
                        "{} has no field `{f}`; its fields are: {}.",
                        c.point.entry_id,
                        names.join(", ")
                    ),
                ));
            }
        }
        self.not_locked(Some(&c.point.entry_id))?;
        Ok(vec![Event::QueryRaised {
            query: Query {
                query_id: format!("q-{}", self.p.oversight.queries.len() + 1),
                point: c.point.clone(),
                origin: QueryOrigin::Manual {
                    by: self.staff.clone(),
                },
                raised_at: self.now,
                status: QueryStatus::Open,
                messages: vec![self.message(QueryStatus::Open, text, None)],
            },
        }])
    }

    fn query(&self, id: &str) -> Result<&Query, Refusal> {
        self.p
            .oversight
            .query(id)
            .ok_or_else(|| Refusal::new(Rule::QUERY, format!("{} has no query {id}.", self.id())))
    }

    fn answer(&self, c: &AnswerQuery, settings: &Settings) -> Result<Vec<Event>, Refusal> {
        may(self.staff, Capability::AnswerQuery, "answer queries on")?;
        let q = self.query(&c.query_id)?;
        if q.status != QueryStatus::Open {
            return Err(Refusal::new(
                Rule::QUERY,
                format!(
                    "Query {} is {}: only an open query can be answered.",
                    q.query_id,
                    q.status.label()
                ),
            ));
        }
        let text = said("text", &c.text)?;
        self.not_locked(Some(&q.point.entry_id))?;
        let Some(correction) = &c.correction else {
            return Ok(vec![Event::QueryAnswered {
                query_id: q.query_id.clone(),
                message: self.message(QueryStatus::Answered, text, None),
            }]);
        };
        if correction.corrects() != Some(q.point.entry_id.as_str()) {
            return Err(Refusal::new(
                Rule::QUERY,
                format!(
                    "The correction sent with the answer must correct {} (the queried entry).",
                    q.point.entry_id
                ),
            ));
        }
        let corrected = decide_in(self.p, self.study, correction, self.now, settings)?;
        let new_entry = corrected
            .iter()
            .find_map(|e| e.entry_meta().map(|m| m.entry_id.clone()));
        let mut events = vec![Event::QueryAnswered {
            query_id: q.query_id.clone(),
            message: self.message(QueryStatus::Answered, text, new_entry),
        }];
        events.extend(corrected);
        Ok(events)
    }

    fn resolve(&self, c: &ResolveQuery, to: QueryStatus) -> Result<Vec<Event>, Refusal> {
        let q = self.query(&c.query_id)?;
        let raiser = q.raiser_role();
        let allowed = match raiser {
            Some(r) => self.staff.role == r,
            None => self.staff.role.may(Capability::RaiseQuery),
        };
        if !allowed {
            let who = raiser
                .map(|r| format!("a {}", r.label().to_lowercase()))
                .unwrap_or_else(|| "a monitor or data manager".into());
            return Err(Refusal::new(
                Rule::ROLE,
                format!(
                    "Query {} was raised by {who}: only that role moves it on.",
                    q.query_id
                ),
            ));
        }
        let needed = match to {
            QueryStatus::Closed | QueryStatus::Open => QueryStatus::Answered,
            _ => QueryStatus::Open,
        };
        if q.status != needed {
            let verb = match to {
                QueryStatus::Closed => "closed",
                QueryStatus::Open => "sent back (requeried)",
                _ => "cancelled",
            };
            return Err(Refusal::new(
                Rule::QUERY,
                format!(
                    "Query {} is {}: only an {} query can be {verb}.",
                    q.query_id,
                    q.status.label(),
                    needed.label()
                ),
            ));
        }
        let text = match to {
            QueryStatus::Closed => c.text.trim().to_string(),
            _ => said("text", &c.text)?,
        };
        self.not_locked(Some(&q.point.entry_id))?;
        let message = self.message(to, text, None);
        let query_id = q.query_id.clone();
        Ok(vec![match to {
            QueryStatus::Closed => Event::QueryClosed { query_id, message },
            QueryStatus::Open => Event::QueryReopened { query_id, message },
            _ => Event::QueryCancelled { query_id, message },
        }])
    }

    fn verify(&self, c: &VerifyEntries) -> Result<Vec<Event>, Refusal> {
        may(self.staff, Capability::VerifySource, "verify")?;
        let mut ids: Vec<String> = Vec::new();
        for id in &c.entry_ids {
            self.current_entry(id)?;
            ids.push(id.clone());
        }
        if let Some(scope) = &c.scope {
            for (id, status) in self.p.entry_ids() {
                if status == EntryStatus::Current
                    && covers(self.p, scope, &self.touch_of(&id))
                    && !self.p.oversight.sdv_of(&id).is_verified()
                    && !ids.contains(&id)
                {
                    ids.push(id);
                }
            }
        }
        for id in &ids {
            self.not_locked(Some(id))?;
        }
        ids.retain(|id| !self.p.oversight.sdv_of(id).is_verified());
        if ids.is_empty() {
            return Err(Refusal::new(
                Rule::SDV,
                "Nothing to verify: the entries named are verified already.",
            ));
        }
        Ok(vec![Event::EntriesVerified {
            entry_ids: ids,
            by: self.staff.clone(),
            at: self.now,
        }])
    }

    /// Refuses a scope that names nothing of this participant.
    fn scope_exists(&self, scope: &Scope) -> Result<(), Refusal> {
        match scope {
            Scope::Study => Err(Refusal::new(
                Rule::VALUE_IMPOSSIBLE,
                "A study-wide hold is set on the study, not on a participant.",
            )),
            Scope::Entry { entry_id } => self.current_entry(entry_id),
            Scope::Form { form } => {
                if self.p.entry_ids().iter().any(|(id, _)| form_of(id) == form) {
                    Ok(())
                } else {
                    Err(Refusal::new(
                        Rule::ENTRY_UNKNOWN,
                        format!("{} has no entry of form `{form}`.", self.id()),
                    ))
                }
            }
            Scope::Visit { .. } | Scope::Participant => Ok(()),
        }
    }

    fn current_hold(&self, scope: &Scope) -> Option<HoldLevel> {
        self.p
            .oversight
            .holds
            .iter()
            .find(|h| &h.scope == scope)
            .map(|h| h.level)
    }

    fn freeze(&self, c: &ChangeHold) -> Result<Vec<Event>, Refusal> {
        self.scope_exists(&c.scope)?;
        hold_change(
            self.staff,
            &c.scope,
            &c.reason,
            self.current_hold(&c.scope),
            Act::Freeze,
            self.now,
            &c.scope.describe(),
        )
    }

    fn lock(&self, c: &ChangeHold) -> Result<Vec<Event>, Refusal> {
        self.scope_exists(&c.scope)?;
        hold_change(
            self.staff,
            &c.scope,
            &c.reason,
            self.current_hold(&c.scope),
            Act::Lock,
            self.now,
            &c.scope.describe(),
        )
    }

    fn unhold(&self, c: &ChangeHold, level: HoldLevel) -> Result<Vec<Event>, Refusal> {
        self.scope_exists(&c.scope)?;
        let mut events = hold_change(
            self.staff,
            &c.scope,
            &c.reason,
            self.current_hold(&c.scope),
            Act::Unhold(level),
            self.now,
            &c.scope.describe(),
        )?;
        if level == HoldLevel::Locked {
            events.extend(self.void_for_unlock(&c.scope));
        }
        Ok(events)
    }

    /// An unlock voids the signatures in force over what it opens.
    fn void_for_unlock(&self, scope: &Scope) -> Option<Event> {
        let opened_visits: Vec<Visit> = match scope {
            Scope::Participant | Scope::Study => Visit::ALL.to_vec(),
            Scope::Visit { visit } => vec![*visit],
            Scope::Entry { entry_id } => vec![visit_of_entry(self.p, entry_id)],
            Scope::Form { form } => self
                .p
                .entry_ids()
                .iter()
                .filter(|(id, _)| form_of(id) == form)
                .map(|(id, _)| visit_of_entry(self.p, id))
                .collect(),
        };
        let scopes: Vec<SignScope> = self
            .p
            .oversight
            .valid_signatures()
            .filter(|s| match &s.scope {
                SignScope::Casebook => true,
                SignScope::Visit { visit } => opened_visits.contains(visit),
            })
            .map(|s| s.scope.clone())
            .collect();
        (!scopes.is_empty()).then(|| Event::SignaturesVoided {
            scopes,
            voided: Voided {
                at: self.now,
                because: format!("{} was unlocked", scope.describe()),
            },
        })
    }

    fn sign(&self, c: &SignCasebook, settings: &Settings) -> Result<Vec<Event>, Refusal> {
        may(self.staff, Capability::InvestigatorSign, "sign")?;
        let dc = Dc {
            p: self.p,
            now: self.now,
            s: settings,
        };
        dc.signature(&c.signature)?;
        if self.p.consent().is_none() {
            return Err(Refusal::new(
                Rule::SIGNATURE,
                format!(
                    "{} has no consent recorded: there is nothing to sign.",
                    self.id()
                ),
            ));
        }
        if self
            .p
            .oversight
            .valid_signatures()
            .any(|s| s.scope == c.scope)
        {
            return Err(Refusal::new(
                Rule::SIGNATURE,
                format!(
                    "The {} of {} is signed already and the signature is in force.",
                    c.scope.describe(),
                    self.id()
                ),
            ));
        }
        Ok(vec![Event::CasebookSigned {
            signature: CasebookSignature {
                scope: c.scope.clone(),
                signature: c.signature.clone(),
                recorded_at: self.now,
                voided: None,
            },
        }])
    }

    fn report_deviation(
        &self,
        c: &ReportDeviation,
        settings: &Settings,
    ) -> Result<Vec<Event>, Refusal> {
        may(
            self.staff,
            Capability::ReportDeviation,
            "record deviations on",
        )?;
        let description = said("description", &c.description)?;
        Dc {
            p: self.p,
            now: self.now,
            s: settings,
        }
        .not_future("occurred_at", c.occurred_at)?;
        if let Some(id) = &c.entry_id
            && self.p.entry_status(id).is_none()
        {
            return Err(Refusal::new(
                Rule::ENTRY_UNKNOWN,
                format!("{} has no entry {id}.", self.id()),
            ));
        }
        self.not_locked(c.entry_id.as_deref())?;
        Ok(vec![Event::DeviationReported {
            deviation: Deviation {
                deviation_id: format!("dev-{}", self.p.deviations.len() + 1),
                severity: c.severity,
                rule: Rule::DEVIATION,
                description,
                occurred_at: c.occurred_at,
                entry_id: c.entry_id.clone(),
            },
            category: c.category,
            by: self.staff.clone(),
        }])
    }

    fn assess_deviation(&self, c: &AssessDeviation) -> Result<Vec<Event>, Refusal> {
        may(
            self.staff,
            Capability::AssessDeviation,
            "assess deviations on",
        )?;
        if !self
            .p
            .deviations
            .iter()
            .any(|d| d.deviation_id == c.deviation_id)
        {
            return Err(Refusal::new(
                Rule::DEVIATION,
                format!("{} has no deviation {}.", self.id(), c.deviation_id),
            ));
        }
        let from = self.p.oversight.deviation_status(&c.deviation_id);
        let allowed = matches!(
            (from, c.status),
            (DeviationStatus::Open, DeviationStatus::Assessed)
                | (DeviationStatus::Open, DeviationStatus::Closed)
                | (DeviationStatus::Assessed, DeviationStatus::Closed)
                | (DeviationStatus::Assessed, DeviationStatus::Assessed)
        );
        if !allowed {
            return Err(Refusal::new(
                Rule::DEVIATION,
                format!(
                    "Deviation {} is {}: it cannot become {}.",
                    c.deviation_id,
                    from.label(),
                    c.status.label()
                ),
            )
            .with_hint("Open → assessed → closed; a closed deviation stays closed."));
        }
        let note = said("note", &c.note)?;
        self.not_locked(None)?;
        Ok(vec![Event::DeviationAssessed {
            deviation_id: c.deviation_id.clone(),
            note: DeviationNote {
                at: self.now,
                by: self.staff.clone(),
                status: c.status,
                note,
            },
        }])
    }
}
