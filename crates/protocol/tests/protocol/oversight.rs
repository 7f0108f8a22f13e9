//! Study oversight (PROTOCOL §12): every transition of queries, source data verification,
//! freeze and lock, casebook signatures and deviations, with the role that may and the
//! roles that may not, through `decide_oversight` and `decide_in` as the trial runs them.

use chrono::{DateTime, Duration, Utc};
use protocol::oversight::{
    AnswerQuery, AssessDeviation, ChangeHold, DataPoint, DeviationCategory, DeviationStatus,
    EditCheck, HoldLevel, OversightCommand, QueryOrigin, QueryStatus, RaiseQuery, ReportDeviation,
    ResolveQuery, Scope, SdvState, SignCasebook, SignScope, Staff, StudyOversight, VerifyEntries,
    Visit,
};
use protocol::roles::Role;
use protocol::testing::{investigator_signature, lab};
use protocol::{
    Analyte, Command, DeviationSeverity, EntryStatus, Event, Participant, Refusal, RetractEntry,
    Rule, Settings, decide_in, decide_oversight, decide_study, evolve,
};

use crate::common::*;

fn staff(role: Role) -> Staff {
    Staff::new(format!("{}.ks", role.id()), role)
}

fn monitor() -> Staff {
    staff(Role::Monitor)
}

fn data_manager() -> Staff {
    staff(Role::DataManager)
}

fn nurse() -> Staff {
    staff(Role::ResearchNurse)
}

fn investigator() -> Staff {
    staff(Role::Investigator)
}

/// The roles other than the ones named.
fn others(allowed: &[Role]) -> Vec<Role> {
    Role::ALL
        .into_iter()
        .filter(|r| !allowed.contains(r))
        .collect()
}

/// The eligible participant in screening: her labs are `lab-1`…`lab-10`.
fn screened() -> Participant {
    build(&base()).0
}

fn when() -> DateTime<Utc> {
    now() + Duration::hours(1)
}

/// Applies events to a copy of the participant.
fn apply(p: &Participant, events: &[Event]) -> Participant {
    let mut p = p.clone();
    for e in events {
        evolve(&mut p, e);
    }
    p
}

/// An act of oversight at `when()`, applied.
fn act(p: &Participant, who: &Staff, cmd: OversightCommand) -> Result<Participant, Refusal> {
    act_in(p, &StudyOversight::default(), who, cmd)
}

fn act_in(
    p: &Participant,
    study: &StudyOversight,
    who: &Staff,
    cmd: OversightCommand,
) -> Result<Participant, Refusal> {
    decide_oversight(p, study, who, &cmd, when(), &Settings::default()).map(|e| apply(p, &e))
}

/// A data command at `when()`, applied, with the events.
fn data(p: &Participant, cmd: Command) -> Result<(Participant, Vec<Event>), Refusal> {
    decide_in(
        p,
        &StudyOversight::default(),
        &cmd,
        when(),
        &Settings::default(),
    )
    .map(|e| (apply(p, &e), e))
}

fn ok<T>(r: Result<T, Refusal>) -> T {
    r.unwrap_or_else(|r| panic!("refused: {r}"))
}

fn rule_of<T: std::fmt::Debug>(r: Result<T, Refusal>) -> Rule {
    r.expect_err("expected a refusal").rule
}

fn raise(entry: &str, field: Option<&str>, text: &str) -> OversightCommand {
    OversightCommand::RaiseQuery(RaiseQuery {
        point: DataPoint {
            entry_id: entry.into(),
            field: field.map(Into::into),
        },
        text: text.into(),
    })
}

fn answer(id: &str, text: &str, correction: Option<Command>) -> OversightCommand {
    OversightCommand::AnswerQuery(AnswerQuery {
        query_id: id.into(),
        text: text.into(),
        correction: correction.map(Box::new),
    })
}

fn resolve(id: &str, text: &str) -> ResolveQuery {
    ResolveQuery {
        query_id: id.into(),
        text: text.into(),
    }
}

fn close(id: &str) -> OversightCommand {
    OversightCommand::CloseQuery(resolve(id, "resolved"))
}

fn verify(ids: &[&str]) -> OversightCommand {
    OversightCommand::VerifyEntries(VerifyEntries {
        entry_ids: ids.iter().map(|s| s.to_string()).collect(),
        scope: None,
    })
}

fn hold(scope: Scope, reason: Option<&str>) -> ChangeHold {
    ChangeHold {
        scope,
        reason: reason.map(Into::into),
    }
}

fn freeze(scope: Scope) -> OversightCommand {
    OversightCommand::Freeze(hold(scope, None))
}

fn lock(scope: Scope) -> OversightCommand {
    OversightCommand::Lock(hold(scope, None))
}

fn sign(scope: SignScope) -> OversightCommand {
    OversightCommand::SignCasebook(SignCasebook {
        scope,
        signature: investigator_signature(now()),
    })
}

/// A correction of `lab-3` (haemoglobin 124 g/L) to `value`.
fn correct_hb(entry: &str, value: f64) -> Command {
    let mut c = lab(Analyte::Haemoglobin, value, "g/L", None, at(1));
    if let Command::RecordLab(l) = &mut c {
        l.corrects = Some(entry.into());
        l.correction_reason = Some("transcription error".into());
    }
    c
}

fn haemoglobin_entry(p: &Participant) -> String {
    p.labs
        .iter()
        .find(|e| e.is_current() && e.value.analyte == Analyte::Haemoglobin)
        .map(|e| e.entry_id.clone())
        .expect("a haemoglobin")
}

// ---- queries ----

#[test]
fn a_monitor_or_data_manager_raises_a_query_on_a_data_point_and_no_other_role_may() {
    let p = screened();
    let hb = haemoglobin_entry(&p);
    for role in [Role::Monitor, Role::DataManager] {
        let after = ok(act(
            &p,
            &staff(role),
            raise(&hb, Some("value"), "Please check against the lab report."),
        ));
        let q = &after.oversight.queries[0];
        assert_eq!(q.query_id, "q-1");
        assert_eq!(q.status, QueryStatus::Open);
        assert_eq!(q.point.entry_id, hb);
        assert_eq!(q.point.field.as_deref(), Some("value"));
        assert_eq!(q.raiser_role(), Some(role));
        assert_eq!(q.text(), "Please check against the lab report.");
    }
    for role in others(&[Role::Monitor, Role::DataManager]) {
        let r = act(&p, &staff(role), raise(&hb, None, "?"));
        assert_eq!(rule_of(r), Rule::ROLE, "{role:?} raised a query");
    }
}

#[test]
fn a_query_needs_a_text_a_current_entry_and_a_field_the_entry_has() {
    let p = screened();
    let hb = haemoglobin_entry(&p);
    assert_eq!(
        rule_of(act(&p, &monitor(), raise(&hb, None, "  "))),
        Rule::VALUE_REQUIRED
    );
    let r = act(&p, &monitor(), raise(&hb, Some("colour"), "?")).unwrap_err();
    assert_eq!(r.rule, Rule::QUERY);
    assert!(
        r.message.contains("unit"),
        "lists the fields: {}",
        r.message
    );
    assert_eq!(
        rule_of(act(&p, &monitor(), raise("lab-99", None, "?"))),
        Rule::ENTRY_UNKNOWN
    );
    let (corrected, _) = ok(data(&p, correct_hb(&hb, 125.0)));
    assert_eq!(
        rule_of(act(&corrected, &monitor(), raise(&hb, None, "?"))),
        Rule::ENTRY_UNKNOWN
    );
    let pnr = act(&p, &monitor(), raise(&hb, None, "Is this 19121212-1212?"));
    assert_eq!(rule_of(pnr), Rule::PRIV_PNR);
}

#[test]
fn the_site_answers_an_open_query_and_only_the_site() {
    let p = ok(act(
        &screened(),
        &monitor(),
        raise("lab-1", None, "Source?"),
    ));
    for role in [Role::ResearchNurse, Role::Investigator] {
        let after = ok(act(
            &p,
            &staff(role),
            answer("q-1", "Checked against the echo report.", None),
        ));
        let q = &after.oversight.queries[0];
        assert_eq!(q.status, QueryStatus::Answered);
        assert_eq!(q.messages.len(), 2);
        assert_eq!(q.messages[1].by.as_ref().map(|s| s.role), Some(role));
    }
    for role in others(&[Role::ResearchNurse, Role::Investigator]) {
        assert_eq!(
            rule_of(act(&p, &staff(role), answer("q-1", "x", None))),
            Rule::ROLE,
            "{role:?}"
        );
    }
    let answered = ok(act(&p, &nurse(), answer("q-1", "Checked.", None)));
    assert_eq!(
        rule_of(act(&answered, &nurse(), answer("q-1", "Again.", None))),
        Rule::QUERY
    );
    assert_eq!(
        rule_of(act(&p, &nurse(), answer("q-7", "x", None))),
        Rule::QUERY
    );
    assert_eq!(
        rule_of(act(&p, &nurse(), answer("q-1", "", None))),
        Rule::VALUE_REQUIRED
    );
}

#[test]
fn an_answer_with_a_correction_records_it_through_its_own_rules_and_links_it() {
    let p = screened();
    let hb = haemoglobin_entry(&p);
    let p = ok(act(&p, &monitor(), verify(&[&hb])));
    let p = ok(act(
        &p,
        &monitor(),
        raise(&hb, Some("value"), "The report says 142 g/L."),
    ));
    let events = decide_oversight(
        &p,
        &StudyOversight::default(),
        &nurse(),
        &answer(
            "q-1",
            "Typing error, corrected.",
            Some(correct_hb(&hb, 142.0)),
        ),
        when(),
        &Settings::default(),
    )
    .unwrap();
    let kinds: Vec<&str> = events.iter().map(Event::kind).collect();
    assert_eq!(
        kinds,
        ["query_answered", "lab_recorded", "verification_reset"]
    );
    let after = apply(&p, &events);
    let new = after.labs.last().unwrap();
    assert_eq!(new.value.value, 142.0);
    let q = &after.oversight.queries[0];
    assert_eq!(q.status, QueryStatus::Answered);
    assert_eq!(
        q.messages[1].correction.as_deref(),
        Some(new.entry_id.as_str())
    );
    assert!(matches!(
        after.oversight.sdv_of(&hb),
        SdvState::ChangedSinceVerified { .. }
    ));
    assert!(matches!(
        after.oversight.sdv_of(&new.entry_id),
        SdvState::ChangedSinceVerified { .. }
    ));
    // A correction of another entry is not an answer to this query.
    let r = act(
        &p,
        &nurse(),
        answer("q-1", "x", Some(correct_hb("lab-1", 60.0))),
    );
    assert_eq!(rule_of(r), Rule::QUERY);
    // The correction's own rules still apply: an impossible value is refused.
    let r = act(
        &p,
        &nurse(),
        answer("q-1", "x", Some(correct_hb(&hb, 900.0))),
    );
    assert_eq!(rule_of(r), Rule::VALUE_IMPOSSIBLE);
}

#[test]
fn only_the_raisers_role_closes_requeries_or_cancels_and_closed_is_final() {
    let open = ok(act(
        &screened(),
        &monitor(),
        raise("lab-1", None, "Source?"),
    ));
    let answered = ok(act(
        &open,
        &nurse(),
        answer("q-1", "See echo report.", None),
    ));
    // Close: Answered → Closed, the raiser's role only.
    let closed = ok(act(&answered, &monitor(), close("q-1")));
    assert_eq!(closed.oversight.queries[0].status, QueryStatus::Closed);
    for role in others(&[Role::Monitor]) {
        assert_eq!(
            rule_of(act(&answered, &staff(role), close("q-1"))),
            Rule::ROLE,
            "{role:?}"
        );
    }
    // An open query is not closed by hand: it is answered first, or cancelled.
    assert_eq!(rule_of(act(&open, &monitor(), close("q-1"))), Rule::QUERY);
    // Requery: Answered → Open, with a text.
    let requery = |t: &str| OversightCommand::Requery(resolve("q-1", t));
    let reopened = ok(act(
        &answered,
        &monitor(),
        requery("The report shows 55 %, not 60 %."),
    ));
    assert_eq!(reopened.oversight.queries[0].status, QueryStatus::Open);
    assert_eq!(
        rule_of(act(&answered, &monitor(), requery(""))),
        Rule::VALUE_REQUIRED
    );
    assert_eq!(rule_of(act(&open, &monitor(), requery("x"))), Rule::QUERY);
    assert_eq!(
        rule_of(act(&answered, &data_manager(), requery("x"))),
        Rule::ROLE
    );
    let again = ok(act(
        &reopened,
        &nurse(),
        answer("q-1", "Corrected in the echo report.", None),
    ));
    assert_eq!(again.oversight.queries[0].status, QueryStatus::Answered);
    // Cancel: Open → Cancelled, the raiser's role only.
    let cancel = |t: &str| OversightCommand::CancelQuery(resolve("q-1", t));
    let cancelled = ok(act(&open, &monitor(), cancel("Raised on the wrong entry.")));
    assert_eq!(
        cancelled.oversight.queries[0].status,
        QueryStatus::Cancelled
    );
    assert_eq!(
        rule_of(act(&answered, &monitor(), cancel("x"))),
        Rule::QUERY
    );
    assert_eq!(rule_of(act(&open, &nurse(), cancel("x"))), Rule::ROLE);
    // Closed and cancelled are final.
    for done in [&closed, &cancelled] {
        assert_eq!(
            rule_of(act(done, &nurse(), answer("q-1", "x", None))),
            Rule::QUERY
        );
        assert_eq!(rule_of(act(done, &monitor(), requery("x"))), Rule::QUERY);
        assert_eq!(rule_of(act(done, &monitor(), close("q-1"))), Rule::QUERY);
        assert_eq!(rule_of(act(done, &monitor(), cancel("x"))), Rule::QUERY);
    }
}

#[test]
fn an_unusual_lab_value_raises_an_automatic_query_that_closes_itself_when_corrected() {
    let p = screened();
    let hb = haemoglobin_entry(&p);
    let (low, events) = ok(data(&p, correct_hb(&hb, 55.0)));
    let raised: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            Event::QueryRaised { query } => Some(query),
            _ => None,
        })
        .collect();
    assert_eq!(raised.len(), 1);
    let q = raised[0];
    assert_eq!(
        q.origin,
        QueryOrigin::Automatic {
            check: EditCheck::LabUnusual
        }
    );
    let low_entry = low.labs.last().unwrap().entry_id.clone();
    assert_eq!(q.point.entry_id, low_entry);
    assert!(q.text().contains("55"), "{}", q.text());
    // The site corrects the value: the query closes by itself, by the system.
    let (fixed, events) = ok(data(&low, correct_hb(&low_entry, 115.0)));
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::QueryClosed { .. }))
    );
    let q = &fixed.oversight.queries[0];
    assert_eq!(q.status, QueryStatus::Closed);
    let last = q.messages.last().unwrap();
    assert_eq!(last.by, None);
    assert!(last.text.contains("corrected by"), "{}", last.text);
    // A retraction closes it too.
    let retract = Command::RetractEntry(RetractEntry {
        entry_id: low_entry.clone(),
        reason: "wrong participant".into(),
    });
    let (gone, _) = ok(data(&low, retract));
    assert_eq!(gone.oversight.queries[0].status, QueryStatus::Closed);
}

#[test]
fn a_confirmed_unusual_value_is_not_queried_again_by_the_next_change() {
    let (low, _) = ok(data(&screened(), correct_hb("lab-4", 55.0)));
    let answered = ok(act(
        &low,
        &nurse(),
        answer("q-1", "Confirmed with the lab: 55 g/L.", None),
    ));
    // Automatic queries are closed by the roles that raise queries.
    assert_eq!(rule_of(act(&answered, &nurse(), close("q-1"))), Rule::ROLE);
    let closed = ok(act(&answered, &data_manager(), close("q-1")));
    let (next, events) = ok(data(&closed, lab(Analyte::Lvef, 58.0, "%", None, at(2))));
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, Event::QueryRaised { .. }))
    );
    assert_eq!(next.oversight.queries.len(), 1);
}

// ---- source data verification ----

#[test]
fn only_a_monitor_verifies_and_only_current_entries() {
    let p = screened();
    let after = ok(act(&p, &monitor(), verify(&["lab-1", "lab-2"])));
    assert!(after.oversight.sdv_of("lab-1").is_verified());
    assert!(after.oversight.sdv_of("lab-2").is_verified());
    assert_eq!(after.oversight.sdv_of("lab-3"), SdvState::NotVerified);
    for role in others(&[Role::Monitor]) {
        assert_eq!(
            rule_of(act(&p, &staff(role), verify(&["lab-1"]))),
            Rule::ROLE,
            "{role:?}"
        );
    }
    assert_eq!(
        rule_of(act(&after, &monitor(), verify(&["lab-1"]))),
        Rule::SDV
    );
    assert_eq!(
        rule_of(act(&p, &monitor(), verify(&["lab-99"]))),
        Rule::ENTRY_UNKNOWN
    );
}

#[test]
fn any_change_of_a_verified_entry_moves_it_to_changed_since_verified() {
    let p = ok(act(&screened(), &monitor(), verify(&["lab-4", "lab-5"])));
    let (corrected, events) = ok(data(&p, correct_hb("lab-4", 125.0)));
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::VerificationReset { .. }))
    );
    let new = corrected.labs.last().unwrap().entry_id.clone();
    for id in ["lab-4", new.as_str()] {
        match corrected.oversight.sdv_of(id) {
            SdvState::ChangedSinceVerified { verified_by, .. } => {
                assert_eq!(verified_by, "monitor.ks")
            }
            other => panic!("{id}: {other:?}"),
        }
    }
    // Verified again, the new value is verified.
    let again = ok(act(&corrected, &monitor(), verify(&[&new])));
    assert!(again.oversight.sdv_of(&new).is_verified());
    // A retraction is a change too.
    let retract = Command::RetractEntry(RetractEntry {
        entry_id: "lab-5".into(),
        reason: "entered twice".into(),
    });
    let (retracted, _) = ok(data(&p, retract));
    assert!(matches!(
        retracted.oversight.sdv_of("lab-5"),
        SdvState::ChangedSinceVerified { .. }
    ));
    // An entry that was never verified stays simply not verified.
    let (plain, events) = ok(data(&screened(), correct_hb("lab-4", 125.0)));
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, Event::VerificationReset { .. }))
    );
    assert_eq!(plain.oversight.sdv_of("lab-4"), SdvState::NotVerified);
}

#[test]
fn bulk_verification_of_a_form_or_a_visit_verifies_every_current_entry_of_it() {
    let p = screened();
    let form = OversightCommand::VerifyEntries(VerifyEntries {
        entry_ids: vec![],
        scope: Some(Scope::Form { form: "lab".into() }),
    });
    let after = ok(act(&p, &monitor(), form.clone()));
    let labs: Vec<_> = p.labs.iter().map(|e| e.entry_id.clone()).collect();
    assert!(labs.len() >= 10);
    assert!(
        labs.iter()
            .all(|id| after.oversight.sdv_of(id).is_verified())
    );
    assert_eq!(after.oversight.sdv_of("ps-1"), SdvState::NotVerified);
    assert_eq!(rule_of(act(&after, &monitor(), form)), Rule::SDV);
    let visit = OversightCommand::VerifyEntries(VerifyEntries {
        entry_ids: vec![],
        scope: Some(Scope::Visit {
            visit: Visit::Screening,
        }),
    });
    let all = ok(act(&p, &monitor(), visit));
    let current = p
        .entry_ids()
        .into_iter()
        .filter(|(_, s)| *s == EntryStatus::Current);
    for (id, _) in current {
        assert!(all.oversight.sdv_of(&id).is_verified(), "{id}");
    }
}

// ---- freeze and lock ----

#[test]
fn a_frozen_participant_refuses_data_changes_but_takes_queries_and_verification() {
    let p = screened();
    for role in [Role::Monitor, Role::DataManager] {
        let frozen = ok(act(&p, &staff(role), freeze(Scope::Participant)));
        assert_eq!(frozen.oversight.holds[0].level, HoldLevel::Frozen);
    }
    for role in others(&[Role::Monitor, Role::DataManager]) {
        assert_eq!(
            rule_of(act(&p, &staff(role), freeze(Scope::Participant))),
            Rule::ROLE,
            "{role:?}"
        );
    }
    let frozen = ok(act(&p, &data_manager(), freeze(Scope::Participant)));
    let r = data(&frozen, correct_hb("lab-4", 125.0)).unwrap_err();
    assert_eq!(r.rule, Rule::FROZEN);
    assert!(r.message.contains("KS-014"), "{}", r.message);
    assert_eq!(
        rule_of(data(&frozen, lab(Analyte::Lvef, 58.0, "%", None, at(2)))),
        Rule::FROZEN
    );
    let queried = ok(act(&frozen, &monitor(), raise("lab-4", None, "Source?")));
    ok(act(&queried, &nurse(), answer("q-1", "See report.", None)));
    ok(act(&frozen, &monitor(), verify(&["lab-4"])));
    assert_eq!(
        rule_of(act(&frozen, &data_manager(), freeze(Scope::Participant))),
        Rule::FROZEN
    );
}

#[test]
fn lock_needs_freeze_first_and_refuses_changes_queries_and_verification() {
    let p = screened();
    assert_eq!(
        rule_of(act(&p, &data_manager(), lock(Scope::Participant))),
        Rule::LOCKED
    );
    let frozen = ok(act(&p, &data_manager(), freeze(Scope::Participant)));
    for role in others(&[Role::DataManager]) {
        assert_eq!(
            rule_of(act(&frozen, &staff(role), lock(Scope::Participant))),
            Rule::ROLE,
            "{role:?}"
        );
    }
    let locked = ok(act(&frozen, &data_manager(), lock(Scope::Participant)));
    assert_eq!(locked.oversight.holds[0].level, HoldLevel::Locked);
    assert_eq!(
        rule_of(data(&locked, correct_hb("lab-4", 125.0))),
        Rule::LOCKED
    );
    assert_eq!(
        rule_of(act(&locked, &monitor(), raise("lab-4", None, "?"))),
        Rule::LOCKED
    );
    assert_eq!(
        rule_of(act(&locked, &monitor(), verify(&["lab-4"]))),
        Rule::LOCKED
    );
    assert_eq!(
        rule_of(act(&locked, &data_manager(), lock(Scope::Participant))),
        Rule::LOCKED
    );
}

#[test]
fn unlock_and_unfreeze_need_a_reason_and_the_data_manager() {
    let frozen = ok(act(
        &screened(),
        &data_manager(),
        freeze(Scope::Participant),
    ));
    let locked = ok(act(&frozen, &data_manager(), lock(Scope::Participant)));
    let unlock = |r: Option<&str>| OversightCommand::Unlock(hold(Scope::Participant, r));
    let unfreeze = |r: Option<&str>| OversightCommand::Unfreeze(hold(Scope::Participant, r));
    assert_eq!(
        rule_of(act(&locked, &data_manager(), unlock(None))),
        Rule::VALUE_REQUIRED
    );
    assert_eq!(
        rule_of(act(&locked, &data_manager(), unlock(Some(" ")))),
        Rule::VALUE_REQUIRED
    );
    for role in others(&[Role::DataManager]) {
        assert_eq!(
            rule_of(act(&locked, &staff(role), unlock(Some("x")))),
            Rule::ROLE,
            "{role:?}"
        );
        assert_eq!(
            rule_of(act(&frozen, &staff(role), unfreeze(Some("x")))),
            Rule::ROLE,
            "{role:?}"
        );
    }
    // Unfreezing a locked participant is refused: unlock first.
    assert_eq!(
        rule_of(act(&locked, &data_manager(), unfreeze(Some("x")))),
        Rule::FROZEN
    );
    let unlocked = ok(act(
        &locked,
        &data_manager(),
        unlock(Some("Query q-4 reopened")),
    ));
    assert_eq!(unlocked.oversight.holds[0].level, HoldLevel::Frozen);
    assert_eq!(
        rule_of(data(&unlocked, correct_hb("lab-4", 125.0))),
        Rule::FROZEN
    );
    assert_eq!(
        rule_of(act(&unlocked, &data_manager(), unlock(Some("x")))),
        Rule::LOCKED
    );
    assert_eq!(
        rule_of(act(&frozen, &data_manager(), unfreeze(None))),
        Rule::VALUE_REQUIRED
    );
    let open = ok(act(
        &unlocked,
        &data_manager(),
        unfreeze(Some("Correction needed")),
    ));
    assert!(open.oversight.holds.is_empty());
    ok(data(&open, correct_hb("lab-4", 125.0)));
}

#[test]
fn an_entry_form_or_visit_hold_refuses_only_what_it_covers() {
    let p = screened();
    // Entry: its correction and retraction are refused; other entries are not.
    let entry = ok(act(
        &p,
        &data_manager(),
        freeze(Scope::Entry {
            entry_id: "lab-4".into(),
        }),
    ));
    assert_eq!(
        rule_of(data(&entry, correct_hb("lab-4", 125.0))),
        Rule::FROZEN
    );
    let retract = Command::RetractEntry(RetractEntry {
        entry_id: "lab-4".into(),
        reason: "x".into(),
    });
    assert_eq!(rule_of(data(&entry, retract)), Rule::FROZEN);
    ok(data(&entry, lab(Analyte::Lvef, 58.0, "%", None, at(2))));
    // Form: any lab, new or corrected, is refused; another form is not.
    let form = ok(act(
        &p,
        &data_manager(),
        freeze(Scope::Form { form: "lab".into() }),
    ));
    assert_eq!(
        rule_of(data(&form, lab(Analyte::Lvef, 58.0, "%", None, at(2)))),
        Rule::FROZEN
    );
    let ps = Command::RecordPerformanceStatus(protocol::RecordPerformanceStatus {
        who_ps: 1,
        assessed_on: now().date_naive(),
        corrects: Some("ps-1".into()),
        correction_reason: Some("typo".into()),
    });
    ok(data(&form, ps.clone()));
    // Visit: screening data are refused while the screening visit is frozen; a hold on
    // another visit does not touch them.
    let screening = ok(act(
        &p,
        &data_manager(),
        freeze(Scope::Visit {
            visit: Visit::Screening,
        }),
    ));
    assert_eq!(rule_of(data(&screening, ps.clone())), Rule::FROZEN);
    let baseline = ok(act(
        &p,
        &data_manager(),
        freeze(Scope::Visit {
            visit: Visit::Baseline,
        }),
    ));
    ok(data(&baseline, ps));
    assert_eq!(
        rule_of(act(
            &p,
            &data_manager(),
            freeze(Scope::Form { form: "ct".into() })
        )),
        Rule::ENTRY_UNKNOWN
    );
}

#[test]
fn a_study_wide_freeze_or_lock_holds_every_participant() {
    let p = screened();
    let study = StudyOversight::default();
    let freeze_study = OversightCommand::Freeze(hold(Scope::Study, None));
    assert_eq!(
        rule_of(decide_study(
            &study,
            &monitor(),
            &OversightCommand::Lock(hold(Scope::Study, None)),
            when()
        )),
        Rule::ROLE
    );
    let events = decide_study(&study, &data_manager(), &freeze_study, when()).unwrap();
    let frozen = protocol::oversight::fold_study(events.iter());
    assert_eq!(
        frozen.hold.as_ref().map(|h| h.level),
        Some(HoldLevel::Frozen)
    );
    let r = decide_in(
        &p,
        &frozen,
        &correct_hb("lab-4", 125.0),
        when(),
        &Settings::default(),
    );
    assert_eq!(rule_of(r), Rule::FROZEN);
    ok(act_in(&p, &frozen, &monitor(), raise("lab-4", None, "?")));
    let lock_study = OversightCommand::Lock(hold(Scope::Study, None));
    let more = decide_study(&frozen, &data_manager(), &lock_study, when()).unwrap();
    let locked = protocol::oversight::fold_study(events.iter().chain(more.iter()));
    let r = decide_in(
        &p,
        &locked,
        &correct_hb("lab-4", 125.0),
        when(),
        &Settings::default(),
    );
    assert_eq!(rule_of(r), Rule::LOCKED);
    assert_eq!(
        rule_of(act_in(&p, &locked, &monitor(), raise("lab-4", None, "?"))),
        Rule::LOCKED
    );
    assert_eq!(
        rule_of(act_in(&p, &locked, &monitor(), verify(&["lab-4"]))),
        Rule::LOCKED
    );
    // A study hold is set on the study, not on one participant.
    assert_eq!(
        rule_of(act(&p, &data_manager(), freeze(Scope::Study))),
        Rule::VALUE_IMPOSSIBLE
    );
}

// ---- signatures ----

#[test]
fn the_investigator_signs_the_casebook_and_a_later_change_voids_it_visibly() {
    let p = screened();
    for role in others(&[Role::Investigator]) {
        assert_eq!(
            rule_of(act(&p, &staff(role), sign(SignScope::Casebook))),
            Rule::ROLE,
            "{role:?}"
        );
    }
    let signed = ok(act(&p, &investigator(), sign(SignScope::Casebook)));
    assert_eq!(signed.oversight.valid_signatures().count(), 1);
    assert_eq!(
        rule_of(act(&signed, &investigator(), sign(SignScope::Casebook))),
        Rule::SIGNATURE
    );
    // Oversight acts do not void it.
    let queried = ok(act(&signed, &monitor(), raise("lab-4", None, "?")));
    let verified = ok(act(&queried, &monitor(), verify(&["lab-4"])));
    assert_eq!(verified.oversight.valid_signatures().count(), 1);
    // A data change does.
    let (changed, events) = ok(data(&verified, correct_hb("lab-4", 125.0)));
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::SignaturesVoided { .. }))
    );
    assert_eq!(changed.oversight.valid_signatures().count(), 0);
    let voided = changed.oversight.signatures[0].voided.as_ref().unwrap();
    assert!(
        voided.because.contains("lab recorded"),
        "{}",
        voided.because
    );
    // And the investigator can sign again.
    let resigned = ok(act(&changed, &investigator(), sign(SignScope::Casebook)));
    assert_eq!(resigned.oversight.valid_signatures().count(), 1);
    assert_eq!(resigned.oversight.signatures.len(), 2);
}

#[test]
fn a_visit_signature_is_voided_only_by_a_change_in_that_visit_and_by_an_unlock() {
    let p = screened();
    let signed = ok(act(
        &p,
        &investigator(),
        sign(SignScope::Visit {
            visit: Visit::Baseline,
        }),
    ));
    let (same, _) = ok(data(&signed, correct_hb("lab-4", 125.0)));
    assert_eq!(
        same.oversight.valid_signatures().count(),
        1,
        "a screening change"
    );
    let screening = ok(act(
        &p,
        &investigator(),
        sign(SignScope::Visit {
            visit: Visit::Screening,
        }),
    ));
    let (voided, _) = ok(data(&screening, correct_hb("lab-4", 125.0)));
    assert_eq!(voided.oversight.valid_signatures().count(), 0);
    // An unlock voids what it opens.
    let frozen = ok(act(&screening, &data_manager(), freeze(Scope::Participant)));
    let locked = ok(act(&frozen, &data_manager(), lock(Scope::Participant)));
    assert_eq!(
        locked.oversight.valid_signatures().count(),
        1,
        "a lock does not void"
    );
    let unlock = OversightCommand::Unlock(hold(Scope::Participant, Some("late lab result")));
    let unlocked = ok(act(&locked, &data_manager(), unlock));
    assert_eq!(unlocked.oversight.valid_signatures().count(), 0);
    assert!(
        unlocked.oversight.signatures[0]
            .voided
            .as_ref()
            .unwrap()
            .because
            .contains("unlocked")
    );
}

#[test]
fn an_incomplete_signature_is_refused() {
    let mut sig = investigator_signature(now());
    sig.meaning = " ".into();
    let cmd = OversightCommand::SignCasebook(SignCasebook {
        scope: SignScope::Casebook,
        signature: sig,
    });
    assert_eq!(
        rule_of(act(&screened(), &investigator(), cmd)),
        Rule::SIGNATURE
    );
}

// ---- deviations ----

fn report(description: &str) -> OversightCommand {
    OversightCommand::ReportDeviation(ReportDeviation {
        category: DeviationCategory::Procedure,
        severity: DeviationSeverity::Minor,
        description: description.into(),
        occurred_at: at(2),
        entry_id: Some("lab-4".into()),
    })
}

fn assess(id: &str, status: DeviationStatus) -> OversightCommand {
    OversightCommand::AssessDeviation(AssessDeviation {
        deviation_id: id.into(),
        status,
        note: "No impact on the participant's safety or the data.".into(),
    })
}

#[test]
fn a_monitor_or_investigator_records_a_deviation_and_it_is_assessed_then_closed() {
    let p = screened();
    for role in [Role::Monitor, Role::Investigator] {
        let after = ok(act(
            &p,
            &staff(role),
            report("Sample drawn in the wrong tube."),
        ));
        let d = after.deviations.last().unwrap();
        assert_eq!(d.rule, Rule::DEVIATION);
        let review = &after.oversight.deviation_reviews[&d.deviation_id];
        assert_eq!(review.status, DeviationStatus::Open);
        assert_eq!(review.category, Some(DeviationCategory::Procedure));
        assert_eq!(review.reported_by.as_ref().map(|s| s.role), Some(role));
    }
    for role in others(&[Role::Monitor, Role::Investigator]) {
        assert_eq!(
            rule_of(act(&p, &staff(role), report("x"))),
            Rule::ROLE,
            "{role:?}"
        );
    }
    assert_eq!(
        rule_of(act(&p, &monitor(), report(" "))),
        Rule::VALUE_REQUIRED
    );
    let reported = ok(act(
        &p,
        &monitor(),
        report("Sample drawn in the wrong tube."),
    ));
    let id = reported.deviations.last().unwrap().deviation_id.clone();
    for role in others(&[Role::Monitor, Role::DataManager]) {
        assert_eq!(
            rule_of(act(
                &reported,
                &staff(role),
                assess(&id, DeviationStatus::Assessed)
            )),
            Rule::ROLE
        );
    }
    let assessed = ok(act(
        &reported,
        &data_manager(),
        assess(&id, DeviationStatus::Assessed),
    ));
    assert_eq!(
        assessed.oversight.deviation_status(&id),
        DeviationStatus::Assessed
    );
    let closed = ok(act(
        &assessed,
        &monitor(),
        assess(&id, DeviationStatus::Closed),
    ));
    assert_eq!(
        closed.oversight.deviation_status(&id),
        DeviationStatus::Closed
    );
    assert_eq!(
        rule_of(act(
            &closed,
            &monitor(),
            assess(&id, DeviationStatus::Assessed)
        )),
        Rule::DEVIATION
    );
    assert_eq!(
        rule_of(act(
            &reported,
            &monitor(),
            assess(&id, DeviationStatus::Open)
        )),
        Rule::DEVIATION
    );
    assert_eq!(
        rule_of(act(
            &reported,
            &monitor(),
            assess("dev-99", DeviationStatus::Closed)
        )),
        Rule::DEVIATION
    );
}
