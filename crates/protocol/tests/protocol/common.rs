//! Shared fixtures: an eligible participant and ways to vary her.

use chrono::{DateTime, Duration, TimeZone, Utc};
use protocol::testing::{self, eligible_participant_commands};
use protocol::{
    Command, CriterionStatus, EligibilityReport, Event, Participant, Refusal, Rule, Settings,
    evaluate_eligibility,
};

/// Consent time of the standard participant.
pub fn consent_at() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap()
}

/// `h` hours after consent.
pub fn at(h: i64) -> DateTime<Utc> {
    consent_at() + Duration::hours(h)
}

/// Evaluation time: one day after consent.
pub fn now() -> DateTime<Utc> {
    at(24)
}

/// The eligible participant's commands.
pub fn base() -> Vec<Command> {
    eligible_participant_commands("KS", "KS-014", consent_at())
}

/// Runs commands at `now()` with default settings; panics on refusal (fixture error).
pub fn build(cmds: &[Command]) -> (Participant, Vec<Event>) {
    build_with(cmds, now(), &Settings::default())
}

/// Runs commands with the given time and settings.
pub fn build_with(cmds: &[Command], now: DateTime<Utc>, s: &Settings) -> (Participant, Vec<Event>) {
    match testing::run(cmds, now, s) {
        Ok(r) => r,
        Err((i, r)) => panic!("command {i} ({}) refused: {r}", cmds[i].name()),
    }
}

/// The refusal of the first refused command.
pub fn refusal(cmds: &[Command]) -> Refusal {
    testing::run(cmds, now(), &Settings::default())
        .expect_err("expected a refusal")
        .1
}

/// Eligibility at `now()` with default settings.
pub fn eval(cmds: &[Command]) -> EligibilityReport {
    eval_with(cmds, now(), &Settings::default())
}

/// Eligibility at a given time with given settings.
pub fn eval_with(cmds: &[Command], now: DateTime<Utc>, s: &Settings) -> EligibilityReport {
    let (p, _) = build_with(cmds, now, s);
    evaluate_eligibility(&p, now, s)
}

/// Status of one criterion at `now()`.
pub fn status(cmds: &[Command], rule: Rule) -> CriterionStatus {
    eval(cmds).get(rule).unwrap().status
}

/// Commands plus extra ones.
pub fn plus(mut cmds: Vec<Command>, extra: impl IntoIterator<Item = Command>) -> Vec<Command> {
    cmds.extend(extra);
    cmds
}

/// Commands without those matching `drop`.
pub fn without(cmds: Vec<Command>, drop: impl Fn(&Command) -> bool) -> Vec<Command> {
    cmds.into_iter().filter(|c| !drop(c)).collect()
}

/// Commands with `f` applied to each (edit the ones you want in place).
pub fn edit(mut cmds: Vec<Command>, f: impl Fn(&mut Command)) -> Vec<Command> {
    cmds.iter_mut().for_each(f);
    cmds
}

/// Evidence of a criterion joined into one string, for assertions.
pub fn evidence(r: &EligibilityReport, rule: Rule) -> String {
    r.get(rule).unwrap().evidence.join(" | ")
}
