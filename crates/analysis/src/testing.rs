//! Participants and study facts for tests and benches: event streams built through
//! `protocol::decide`, wrapped with the audit facts the store would keep.
//!
//! The synthetic hashes and sequence numbers only need to be distinct and stable; they
//! are not a real audit chain.

use chrono::{DateTime, Duration, TimeZone, Utc};
use protocol::journey::tdxd::DoseLevel;
use protocol::oversight::{
    DataPoint, DeviationCategory, OversightCommand, RaiseQuery, ReportDeviation, SignCasebook,
    SignScope, Staff, StudyOversight, Visit,
};
use protocol::roles::Role;
use protocol::{
    Analyte, Command, DeviationSeverity, Event, IhcScore, Participant, Settings, testing,
};

use crate::source::{AuditedEvent, CutOff, ParticipantSource, SiteInfo, StudyInfo, UserInfo};

/// The study facts of the synthetic study, cut off at `as_of` after `head_seq` events.
pub fn study_info(as_of: DateTime<Utc>, head_seq: i64) -> StudyInfo {
    let user = |u: &str, name: &str, role: &str, site: Option<&str>| UserInfo {
        username: u.into(),
        display_name: name.into(),
        role: role.into(),
        site: site.map(Into::into),
    };
    StudyInfo {
        study_oid: "HER2-EX".into(),
        name: "HER2-Ex: HER2-PET guided biopsy & T-DXd".into(),
        protocol_name: "HER2-EX-2026".into(),
        sites: vec![SiteInfo {
            code: "KS".into(),
            name: "Karolinska & Söder".into(),
        }],
        users: vec![
            user(
                "investigator.demo",
                "Ina Vestig",
                "investigator",
                Some("KS"),
            ),
            user("nurse.demo", "Nora Nurse", "research_nurse", Some("KS")),
            user(
                "reader.demo",
                "Rita Reader",
                "nuclear_medicine_reader",
                Some("KS"),
            ),
            user(
                "pathologist.demo",
                "Pat Hologist",
                "pathologist",
                Some("KS"),
            ),
            user("monitor.demo", "Moa Nitor", "monitor", None),
        ],
        cut_off: CutOff {
            as_of,
            head_seq,
            head_hash: format!("{:064x}", head_seq),
            settings_version: 1,
            protocol_version: "1.0".into(),
            software_version: "0.1.0".into(),
        },
    }
}

/// Builds a participant's audited events one command at a time.
struct Stream {
    p: Participant,
    events: Vec<AuditedEvent>,
    seq: i64,
    site: String,
}

impl Stream {
    fn record(
        &mut self,
        actor: &str,
        role: &str,
        at: DateTime<Utc>,
        reason: Option<&str>,
        evs: Vec<Event>,
    ) {
        for event in evs {
            protocol::evolve(&mut self.p, &event);
            self.seq += 1;
            self.events.push(AuditedEvent {
                event,
                seq: self.seq,
                version: self.events.len() as i64 + 1,
                actor: actor.into(),
                role: role.into(),
                site: Some(self.site.clone()),
                recorded_at: at,
                reason: reason.map(Into::into),
                hash: format!(
                    "{:064x}",
                    (self.seq as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15)
                ),
            });
        }
    }

    /// Decides `cmd` at `at`; a refusal is a broken fixture.
    fn cmd(&mut self, actor: &str, role: &str, at: DateTime<Utc>, cmd: Command) {
        match protocol::decide(&self.p, &cmd, at, &Settings::default()) {
            Ok(evs) => self.record(actor, role, at, None, evs),
            Err(r) => panic!("fixture command {} refused: {r}", cmd.name()),
        }
    }

    fn oversight(&mut self, staff: Staff, at: DateTime<Utc>, cmd: OversightCommand) {
        let study = StudyOversight::default();
        let s = Settings::default();
        match protocol::decide_oversight(&self.p, &study, &staff, &cmd, at, &s) {
            Ok(evs) => self.record(&staff.user, "oversight", at, None, evs),
            Err(r) => panic!("fixture oversight refused: {r}"),
        }
    }
}

/// An arm-1 participant `<site>-nnn` (n from 1 to 999) consented at `consent_at`: the
/// eligible screening (with a corrected lab), enrolment, baseline PET, biopsy, HER2 1+
/// pathology and allocation, two T-DXd cycles, an adverse event and its follow-up, a
/// baseline and a follow-up CT (partial response, −30 %), a minor schedule deviation, a
/// query on a lab value and the investigator's signature on the screening visit.
pub fn arm1_participant(site: &str, n: u16, consent_at: DateTime<Utc>) -> ParticipantSource {
    let id = format!("{site}-{n:03}");
    let mut s = Stream {
        p: Participant::default(),
        events: Vec::new(),
        seq: i64::from(n) * 1000,
        site: site.into(),
    };
    let (nurse, inv, reader, path) = (
        "nurse.demo",
        "investigator.demo",
        "reader.demo",
        "pathologist.demo",
    );
    let at = |h: i64| consent_at + Duration::hours(h);
    for c in testing::eligible_participant_commands(site, &id, consent_at) {
        let who = if matches!(c, Command::RecordAttestation(_)) {
            inv
        } else {
            nurse
        };
        s.cmd(who, "research_nurse", at(3), c);
    }
    // A typing error found the same day: the haemoglobin was 128, not 124.
    let mut fix = testing::lab(Analyte::Haemoglobin, 128.0, "g/L", None, at(1));
    if let Command::RecordLab(l) = &mut fix {
        l.corrects = Some(hb_entry(&s.p));
        l.correction_reason = Some("Typing error, value from the lab report".into());
    }
    s.cmd(nurse, "research_nurse", at(4), fix);
    s.cmd(inv, "investigator", at(30), testing::enrol_command(at(30)));
    for c in testing::baseline_pet_commands(at(48)) {
        s.cmd(reader, "nuclear_medicine_reader", at(50), c);
    }
    s.cmd(
        inv,
        "investigator",
        at(73),
        testing::fresh_biopsy_command(at(72)),
    );
    let reported = at(24 * 6).date_naive();
    let report = testing::pathology_command("biopsy-1", "A", IhcScore::OnePlus, false, reported);
    s.cmd(path, "pathologist", at(24 * 6), report);
    let ct_day = at(24 * 5).date_naive();
    s.cmd(
        reader,
        "nuclear_medicine_reader",
        at(24 * 6 + 2),
        testing::ct_baseline_command(ct_day),
    );
    let c1 = at(24 * 10).date_naive();
    s.cmd(
        nurse,
        "research_nurse",
        at(24 * 10 + 8),
        testing::tdxd_command(c1, DoseLevel::Start),
    );
    let onset = c1 + Duration::days(3);
    let aware = at(24 * 14);
    s.cmd(
        nurse,
        "research_nurse",
        aware,
        testing::adverse_event_command(10028813, 1, onset, aware),
    );
    let mut follow = testing::adverse_event_command(10028813, 1, onset, aware);
    if let Command::RecordAdverseEvent(a) = &mut follow {
        a.resolved = Some(onset + Duration::days(4));
        a.outcome = protocol::journey::safety::AeOutcome::Recovered;
        a.corrects = Some("ae-1".into());
        a.correction_reason = Some("Follow-up: resolved".into());
    }
    s.cmd(nurse, "research_nurse", at(24 * 19), follow);
    let c2 = c1 + Duration::days(21);
    s.cmd(
        nurse,
        "research_nurse",
        at(24 * 31 + 8),
        testing::tdxd_command(c2, DoseLevel::Start),
    );
    let scan = c2 + Duration::days(14);
    let ct = testing::ct_follow_up_command(scan, 21.0, 14.0);
    s.cmd(reader, "nuclear_medicine_reader", at(24 * 46), ct);
    let monitor = Staff::new("monitor.demo", Role::Monitor);
    let dev = ReportDeviation {
        category: DeviationCategory::Schedule,
        severity: DeviationSeverity::Minor,
        description: "Cycle 2 safety labs drawn 3 days early, \"per the site's routine\"".into(),
        occurred_at: at(24 * 30),
        entry_id: None,
    };
    s.oversight(
        monitor.clone(),
        at(24 * 31),
        OversightCommand::ReportDeviation(dev),
    );
    let q = RaiseQuery {
        point: DataPoint {
            entry_id: "lab-2".into(),
            field: Some("value".into()),
        },
        text: "Please confirm the ANC against the lab report".into(),
    };
    s.oversight(monitor, at(24 * 32), OversightCommand::RaiseQuery(q));
    let sign = SignCasebook {
        scope: SignScope::Visit {
            visit: Visit::Screening,
        },
        signature: testing::investigator_signature(at(24 * 33)),
    };
    s.oversight(
        Staff::new(inv, Role::Investigator),
        at(24 * 33),
        OversightCommand::SignCasebook(sign),
    );
    ParticipantSource {
        study_id: id,
        site: site.into(),
        events: s.events,
    }
}

/// The entry id of the current haemoglobin.
fn hb_entry(p: &Participant) -> String {
    protocol::participant::current(&p.labs)
        .find(|e| e.value.analyte == Analyte::Haemoglobin)
        .map(|e| e.entry_id.clone())
        .unwrap_or_default()
}

/// The consent time of the `n`-th synthetic participant: one a day from March 2026.
pub fn consent_time(n: u16) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0)
        .single()
        .unwrap_or_default()
        + Duration::days(i64::from(n % 200))
}
