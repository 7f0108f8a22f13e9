//! The analysis data set and the analyses derived from participants built through
//! `decide` (the path the trial takes), not from hand-made rows.

use analysis::analyses::analyse;
use analysis::dataset::{PhenotypeClass, Rules, derive};
use analysis::source::{AuditedEvent, CutOff, ParticipantSource};
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use protocol::journey::pathology::Her2Category;
use protocol::journey::tdxd::DoseLevel;
use protocol::records::IhcScore;
use protocol::testing::{
    adverse_event_command, baseline_pet_commands, eligible_participant_commands, enrol_command,
    fresh_biopsy_command, pathology_command, run_from, tdxd_command,
};
use protocol::{Arm, Command, Event, Settings};

/// Pneumonitis (CTCAE v5.0, MedDRA 10035742).
const PNEUMONITIS: u32 = 10035742;

fn consent_at() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap()
}

fn at(h: i64) -> DateTime<Utc> {
    consent_at() + Duration::hours(h)
}

/// Decides each step's commands at its own time, as the trial would.
fn events(study_id: &str, steps: &[(Vec<Command>, DateTime<Utc>)]) -> Vec<Event> {
    let s = Settings::default();
    let mut p = protocol::Participant::default();
    let mut all = Vec::new();
    for (cmds, now) in steps {
        let (next, evs) = run_from(p, cmds, *now, &s).unwrap_or_else(|(i, r)| {
            panic!("{study_id}: command {i} ({}) refused: {r}", cmds[i].name())
        });
        p = next;
        all.extend(evs);
    }
    all
}

fn source(study_id: &str, events: Vec<Event>) -> ParticipantSource {
    ParticipantSource {
        study_id: study_id.into(),
        site: "KS".into(),
        events: events
            .into_iter()
            .enumerate()
            .map(|(i, event)| AuditedEvent {
                event,
                seq: i as i64 + 1,
                version: i as i64 + 1,
                actor: "nurse".into(),
                role: "research_nurse".into(),
                site: Some("KS".into()),
                recorded_at: consent_at(),
                reason: None,
                hash: format!("{i:064}"),
            })
            .collect(),
    }
}

fn allocated_steps(study_id: &str, ihc: IhcScore) -> Vec<(Vec<Command>, DateTime<Utc>)> {
    let mut screening = eligible_participant_commands("KS", study_id, consent_at());
    screening.push(enrol_command(at(30)));
    vec![
        (screening, at(31)),
        (baseline_pet_commands(at(48)), at(50)),
        (vec![fresh_biopsy_command(at(72))], at(73)),
        (
            vec![pathology_command(
                "biopsy-1",
                "A",
                ihc,
                false,
                at(24 * 6).date_naive(),
            )],
            at(24 * 6),
        ),
    ]
}

fn cut() -> CutOff {
    CutOff {
        as_of: at(24 * 200),
        head_seq: 1,
        head_hash: "0".repeat(64),
        settings_version: 1,
        protocol_version: "test".into(),
        software_version: "test".into(),
    }
}

#[test]
fn an_arm_1_participant_on_t_dxd_becomes_one_row_with_her_pet_biopsy_and_safety() {
    let mut steps = allocated_steps("KS-001", IhcScore::OnePlus);
    let c1d1 = at(24 * 10).date_naive();
    steps.push((vec![tdxd_command(c1d1, DoseLevel::Start)], at(24 * 10 + 1)));
    let onset = c1d1 + Duration::days(14);
    steps.push((
        vec![adverse_event_command(
            PNEUMONITIS,
            2,
            onset,
            onset.and_hms_opt(10, 0, 0).unwrap().and_utc(),
        )],
        at(24 * 30),
    ));
    let arm2 = allocated_steps("KS-002", IhcScore::Zero);
    let sources = vec![
        source("KS-001", events("KS-001", &steps)),
        source("KS-002", events("KS-002", &arm2)),
    ];
    let rules = Rules::from_settings(
        &Settings::default(),
        NaiveDate::from_ymd_opt(2026, 9, 1).unwrap(),
    );
    let ds = derive(&rules, &sources);

    let r = &ds.participants[0];
    assert_eq!(r.study_id, "KS-001");
    assert_eq!(r.her2_category, Some(Her2Category::Low));
    assert_eq!(r.her2_expressing, Some(true));
    assert_eq!(r.arm, Some(Arm::Arm1));
    // Two confirmed lesions, SUVmax 9 (biopsied, avid) and 4.5 (not avid).
    assert_eq!(r.baseline_suv_max, Some(9.0));
    assert_eq!(r.pet_positive, Some(true));
    let b = r.biopsied.as_ref().unwrap();
    assert_eq!(
        (b.label.as_str(), b.suv_max, b.avid),
        ("L1", Some(9.0), Some(true))
    );
    let ph = r.phenotype.as_ref().unwrap();
    assert_eq!(ph.class, PhenotypeClass::Mixed);
    assert_eq!((ph.lesions, ph.avid_lesions), (2, 1));
    assert!(
        (ph.avid_fraction_by_mtv.unwrap() - 0.5).abs() < 1e-12,
        "equal volumes"
    );
    assert_eq!(r.tdxd_cycles, 1);
    assert_eq!(r.tdxd_start, Some(c1d1));
    // No CT yet: PFS censored at the start, by the stated rule.
    let pfs = r.pfs.as_ref().unwrap();
    assert_eq!((pfs.days, pfs.event), (0, false));
    assert!(pfs.rule.contains("no CT assessment"), "{}", pfs.rule);
    assert_eq!(r.adverse_events.len(), 1);
    assert_eq!(r.adverse_events[0].worst_grade, 2);
    assert_eq!(
        r.adverse_events[0].aesi,
        vec!["ild_pneumonitis".to_string()]
    );

    let zero = &ds.participants[1];
    assert_eq!(zero.her2_category, Some(Her2Category::Null));
    assert_eq!(zero.her2_expressing, Some(false));
    assert_eq!(zero.arm, Some(Arm::Arm2));
    assert!(zero.pfs.is_none(), "no T-DXd, no PFS");

    assert_eq!(ds.lesions.len(), 4);
    assert_eq!(ds.lesions.iter().filter(|l| l.biopsied).count(), 2);

    let a = analyse(&cut(), &ds);
    assert_eq!((a.counts.enrolled, a.counts.arm1, a.counts.arm2), (2, 1, 1));
    // One expressing, one zero, both SUVmax 9: AUC 0.5, no interval with one per group.
    let roc = a.diagnostic.roc_patient.as_ref().unwrap();
    assert_eq!((roc.n_positive, roc.n_negative), (1, 1));
    assert!((roc.auc - 0.5).abs() < 1e-12);
    assert!(roc.ci.is_err());
    // The biopsied lesions are both avid; one biopsy is HER2-zero.
    assert_eq!(a.diagnostic.agreement.table, [[0, 0], [1, 1]]);
    assert_eq!(a.safety.arms[0].with_ild, 1);
    assert_eq!(a.safety.arms[0].terms[0].by_worst_grade, [0, 1, 0, 0, 0]);
    assert!(
        a.response.objective_response.is_err(),
        "no CT: nobody evaluable"
    );
    let json = serde_json::to_value(&a).unwrap();
    assert!(
        json["response"]["objective_response"]["not_estimable"].is_string(),
        "{}",
        json["response"]
    );
    assert!(!json.to_string().contains("NaN"));
}
