//! Plausibility of entries (issue 10, point 13), through `decide`: lab values beyond
//! physiological limits are refused, unusual ones kept with a warning; an adverse event
//! cannot begin before consent, nor one related to T-DXd before its first dose.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use protocol::journey::safety::{ActionTaken, Causality};
use protocol::journey::tdxd::DoseLevel;
use protocol::labs::Analyte;
use protocol::participant::current;
use protocol::testing::{
    adverse_event_command, baseline_pet_commands, enrol_command, fresh_biopsy_command, lab,
    pathology_command, run_from, tdxd_command,
};
use protocol::{Command, IhcScore, Participant, Refusal, Rule, Settings};

/// Nausea (CTCAE v5.0).
const NAUSEA: u32 = 10028813;

fn consent_at() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap()
}

fn at(h: i64) -> DateTime<Utc> {
    consent_at() + Duration::hours(h)
}

fn day(n: i64) -> NaiveDate {
    at(24 * n).date_naive()
}

fn later() -> DateTime<Utc> {
    at(24 * 400)
}

fn step(p: Participant, cmds: &[Command], now: DateTime<Utc>) -> Participant {
    match run_from(p, cmds, now, &Settings::default()) {
        Ok((p, _)) => p,
        Err((i, r)) => panic!("command {i} ({}) refused: {r}", cmds[i].name()),
    }
}

fn refused(p: &Participant, cmd: Command, now: DateTime<Utc>) -> Refusal {
    run_from(p.clone(), &[cmd], now, &Settings::default())
        .expect_err("expected a refusal")
        .1
}

fn screened() -> Participant {
    Participant::builder("KS", "KS-014", consent_at())
        .build(at(20), &Settings::default())
        .expect("screened")
}

#[test]
fn lab_values_beyond_physiological_limits_are_refused_and_unusual_ones_kept_with_a_warning() {
    let p = screened();
    let labs_before = p.labs.len();
    // 5000 ×10⁹/L is not a platelet count: refused, with the units to check.
    let r = refused(
        &p,
        lab(Analyte::Platelets, 5000.0, "10^9/L", None, at(21)),
        at(22),
    );
    assert_eq!(r.rule, Rule::VALUE_IMPOSSIBLE, "{r}");
    assert!(r.message.contains("4000"), "{r}");
    assert!(r.hint.as_deref().unwrap_or("").contains("/µL"), "{r:?}");
    // The same count per µL typed with the wrong unit, and a haemoglobin in g/dL
    // read as g/L, are refused too.
    let r = refused(
        &p,
        lab(Analyte::Platelets, 150_000.0, "10^9/L", None, at(21)),
        at(22),
    );
    assert_eq!(r.rule, Rule::VALUE_IMPOSSIBLE);
    assert_eq!(
        refused(
            &p,
            lab(Analyte::Haemoglobin, 300.0, "g/L", None, at(21)),
            at(22)
        )
        .rule,
        Rule::VALUE_IMPOSSIBLE
    );
    // Possible but unusual: kept, with the warning on the result.
    let p = step(
        p,
        &[
            lab(Analyte::Platelets, 1500.0, "10^9/L", None, at(21)),
            lab(Analyte::Platelets, 150_000.0, "/µL", None, at(21)),
        ],
        at(22),
    );
    let labs: Vec<_> = current(&p.labs).skip(labs_before).collect();
    assert_eq!(labs.len(), 2);
    assert_eq!(labs[0].value.canonical_value, 1500.0);
    assert_eq!(labs[0].value.warnings.len(), 1, "{:?}", labs[0].value);
    assert!(
        labs[0].value.warnings[0].contains("Unusual value"),
        "{:?}",
        labs[0].value.warnings
    );
    assert_eq!(labs[1].value.canonical_value, 150.0);
    assert!(labs[1].value.warnings.is_empty(), "{:?}", labs[1].value);
}

#[test]
fn ae_onset_before_consent_or_before_the_first_tdxd_dose_when_related_is_refused() {
    let mut cmds = vec![enrol_command(at(30))];
    cmds.extend(baseline_pet_commands(at(48)));
    cmds.push(fresh_biopsy_command(at(72)));
    let p = step(screened(), &cmds, at(73));
    let p = step(
        p,
        &[pathology_command(
            "biopsy-1",
            "A",
            IhcScore::OnePlus,
            false,
            day(6),
        )],
        at(24 * 6),
    );
    let ae = |onset: NaiveDate, related: bool| {
        let Command::RecordAdverseEvent(mut c) =
            adverse_event_command(NAUSEA, 1, onset, at(24 * 20))
        else {
            unreachable!()
        };
        if !related {
            c.relation_tdxd = Causality::NotRelated;
            c.action_tdxd = ActionTaken::NotApplicable;
        }
        Command::RecordAdverseEvent(c)
    };
    // Before consent: not an adverse event of the trial; the hint says where it goes.
    let r = refused(&p, ae(day(-3), false), later());
    assert_eq!(r.rule, Rule::VALUE_IMPOSSIBLE, "{r}");
    assert!(
        r.hint.as_deref().unwrap_or("").contains("medical history"),
        "{r:?}"
    );
    // Related to T-DXd before any dose.
    let r = refused(&p, ae(day(8), true), later());
    assert_eq!(r.rule, Rule::VALUE_IMPOSSIBLE, "{r}");
    assert!(r.message.contains("no T-DXd dose"), "{r}");
    // Cycle 1 day 1 on day 10: related before it is refused, from it accepted; an
    // unrelated event after consent is accepted before the dose.
    let p = step(p, &[tdxd_command(day(10), DoseLevel::Start)], later());
    let r = refused(&p, ae(day(9), true), later());
    assert_eq!(r.rule, Rule::VALUE_IMPOSSIBLE, "{r}");
    assert!(r.message.contains(&day(10).to_string()), "{r}");
    let p = step(p, &[ae(day(9), false), ae(day(10), true)], later());
    assert_eq!(current(&p.adverse_events).count(), 2);
}
