//! The sponsor's side of the demo: the monitor's visits every two months (source data
//! verified, queries raised, answered by the site, closed at the next visit), the
//! investigators' casebook signatures at the end of participation, the data manager's
//! freeze and lock of finished casebooks, and reported protocol deviations. The last
//! visit's queries are still open or answered, so every list has work in it.

use crate::Role;
use std::collections::BTreeSet;

use chrono::{DateTime, Duration, Utc};
use protocol::Command;
use protocol::oversight::{
    ChangeHold, DataPoint, DeviationCategory, OversightCommand as O, RaiseQuery, ReportDeviation,
    Scope, SignCasebook, SignScope,
};
use protocol::records::DeviationSeverity;

use super::people;
use super::plan::{Action, Builder};

/// What the plan says of a woman, read from her planned steps.
#[derive(Debug, Default, Clone)]
struct Course {
    /// Her screening forms were entered (she has the screening labs).
    screened: Option<DateTime<Utc>>,
    /// She ended by the protocol's end of participation.
    ended: Option<DateTime<Utc>>,
    /// She withdrew, died, failed screening or was lost: no query is raised after that.
    closed: Option<DateTime<Utc>>,
    /// When her site entered data (forms, follow-ups, PET exams), in order.
    entered: Vec<DateTime<Utc>>,
}

/// What the monitor asks about, by screening lab entry (the screening labs are lab-1
/// to lab-10 in the order `protocol::testing` enters them).
const QUESTIONS: [(&str, &str, &str); 4] = [
    (
        "lab-5",
        "Creatinine: please confirm the value against the laboratory report in the chart.",
        "Checked against the laboratory report: the value is correct.",
    ),
    (
        "lab-1",
        "LVEF: which echocardiography report is this from? Please file it with the source.",
        "The report of the screening echocardiography is now in the source binder.",
    ),
    (
        "lab-3",
        "Platelets: the sample time is before the consent time on the lab sheet. Please check.",
        "The sheet's time is the lab's print time; the sample was drawn after consent.",
    ),
    (
        "lab-9",
        "INR: please confirm the unit and the reference range used.",
        "INR has no unit; the local reference range is 0.9–1.2.",
    ),
];

fn courses(b: &Builder) -> Vec<Course> {
    let mut out = vec![Course::default(); b.plan.people.len()];
    for s in &b.plan.steps {
        let c = &mut out[s.person];
        if matches!(
            s.action,
            Action::Enter(_) | Action::FollowUp { .. } | Action::Pet { .. }
        ) {
            c.entered.push(s.at);
        }
        let Action::Enter(cmds) = &s.action else {
            continue;
        };
        for cmd in cmds {
            match cmd {
                Command::RecordLab(_) if c.screened.is_none() => c.screened = Some(s.at),
                Command::EndParticipation(_) => c.ended = Some(s.at),
                Command::WithdrawConsent(_)
                | Command::RecordDeath(_)
                | Command::ScreenFail(_)
                | Command::RecordLostToFollowUp(_) => c.closed = Some(s.at),
                _ => {}
            }
        }
    }
    out
}

/// Plans the monitor's, the investigators' and the data manager's work.
pub fn oversight(b: &mut Builder) {
    let courses = courses(b);
    let mut m = Monitoring::default();
    let mut visit = b.cal.at(b.cal.start + Duration::days(60), 10, 0);
    while visit < b.cal.present {
        let last_visit = visit + Duration::days(60) >= b.cal.present;
        // Queries of the previous visit that the site answered are closed now.
        for (person, entry) in std::mem::take(&mut m.answered) {
            let close = Action::CloseQuery {
                entry,
                text: "Confirmed at the monitoring visit.",
            };
            b.add(person, visit + Duration::hours(1), MONITOR, close);
        }
        for (k, c) in courses.iter().enumerate() {
            let open = c.closed.is_none_or(|t| t > visit) && c.ended.is_none_or(|t| t > visit);
            // Only data entered since the last visit are there to verify.
            let since = visit - Duration::days(60);
            let recent = c.entered.iter().any(|t| *t > since && *t <= visit);
            if c.screened.is_some_and(|t| t + Duration::days(14) <= visit) && open && recent {
                m.visit(b, k, visit, last_visit);
            }
        }
        visit += Duration::days(60);
    }
    sign_and_lock(b, &courses, &m.queried);
    deviations(b, &courses);
}

/// The monitor who visits the sites.
const MONITOR: &str = "monica.monitor";

/// What the monitoring visits have done so far.
#[derive(Default)]
struct Monitoring {
    /// Queries raised, for choosing the next question.
    asked: usize,
    /// Queries the site answered since the last visit: woman and entry.
    answered: Vec<(usize, &'static str)>,
    /// Sites with a query left open at the last visit.
    waiting: BTreeSet<&'static str>,
    /// Women with a query.
    queried: BTreeSet<usize>,
}

impl Monitoring {
    /// Woman `k` at a visit: her entries verified; for one in six (and one per site at
    /// the last visit, left unanswered) a query on a screening lab that her site answers
    /// three days later.
    fn visit(&mut self, b: &mut Builder, k: usize, visit: DateTime<Utc>, last_visit: bool) {
        let at = visit + Duration::minutes(k as i64 % 50);
        b.add(k, at, MONITOR, Action::VerifyRemaining);
        let leave_open = last_visit && self.waiting.insert(b.plan.people[k].site);
        if k % 6 != 1 && !leave_open {
            return;
        }
        let (entry, question, answer) = QUESTIONS[self.asked % QUESTIONS.len()];
        self.asked += 1;
        self.queried.insert(k);
        let raise = O::RaiseQuery(RaiseQuery {
            point: DataPoint {
                entry_id: entry.into(),
                field: Some("value".into()),
            },
            text: question.into(),
        });
        b.add(
            k,
            visit + Duration::minutes(55),
            MONITOR,
            Action::Oversee(Box::new(raise)),
        );
        if leave_open {
            return;
        }
        let nurse = b.staff(k, Role::ResearchNurse);
        let reply = Action::AnswerQuery {
            entry,
            text: answer,
        };
        if b.add(k, visit + Duration::days(3), nurse, reply) {
            self.answered.push((k, entry));
        }
    }
}

/// Casebooks signed by the investigator ten days after the end; the first three ended
/// at least three months ago whose data were never queried (a lock waits for every
/// query to close) frozen and locked by the data manager a month later.
fn sign_and_lock(b: &mut Builder, courses: &[Course], queried: &BTreeSet<usize>) {
    let present = b.cal.present;
    let mut locked = 0;
    for (k, c) in courses.iter().enumerate() {
        let Some(ended) = c.ended else { continue };
        let inv = b.staff(k, Role::Investigator);
        let at = ended + Duration::days(10);
        let sign = O::SignCasebook(SignCasebook {
            scope: SignScope::Casebook,
            signature: people::sign(inv, crate::oversight::CASEBOOK_MEANING, at),
        });
        if !b.add(
            k,
            at + Duration::minutes(2),
            inv,
            Action::Oversee(Box::new(sign)),
        ) {
            continue;
        }
        if locked < 3 && ended + Duration::days(90) < present && !queried.contains(&k) {
            locked += 1;
            let at = ended + Duration::days(30);
            b.add(k, at, MONITOR, Action::VerifyRemaining);
            for (h, command) in [(1, O::Freeze as fn(ChangeHold) -> O), (2, O::Lock)] {
                let hold = command(ChangeHold {
                    scope: Scope::Participant,
                    reason: None,
                });
                b.add(
                    k,
                    at + Duration::hours(h),
                    "dana.dm",
                    Action::Oversee(Box::new(hold)),
                );
            }
        }
    }
}

/// Two deviations the monitor found on source review.
fn deviations(b: &mut Builder, courses: &[Course]) {
    let found: Vec<usize> = courses
        .iter()
        .enumerate()
        .filter(|(_, c)| c.screened.is_some() && c.closed.is_none() && c.ended.is_none())
        .map(|(k, _)| k)
        .take(2)
        .collect();
    let texts = [
        (
            DeviationCategory::Procedure,
            DeviationSeverity::Minor,
            "The PET1 injection syringe's residual activity was not measured.",
        ),
        (
            DeviationCategory::Consent,
            DeviationSeverity::Major,
            "The consent form's page 3 was not initialled by the participant.",
        ),
    ];
    for (k, (category, severity, text)) in found.into_iter().zip(texts) {
        let Some(screened) = courses[k].screened else {
            continue;
        };
        let at = screened + Duration::days(20);
        let report = O::ReportDeviation(ReportDeviation {
            category,
            severity,
            description: text.into(),
            occurred_at: screened,
            entry_id: None,
        });
        b.add(k, at, MONITOR, Action::Oversee(Box::new(report)));
    }
}
