//! The study dashboard (PROTOCOL §13: recruitment per site against the target, the
//! CONSORT-style participant flow) and the study-wide deviation list, for the people who
//! run the study. Study-wide roles see every site (or one they choose); a site's staff see
//! their own site only; the administrator sees no trial data.
//!
//! Every figure is read from the read tables the one write path keeps: the participants
//! table (one row per participant with the snapshot of her folded state) and the visits
//! table. No event stream is folded per request: a dashboard costs one scan of the
//! participant rows (of the site shown) and the overdue and due rows of the visits table.
//!
//! | figure | from |
//! |---|---|
//! | recruitment by month, per site and in total, against [`RECRUITMENT_TARGET`] | `enrolment.enrolled_at` of each snapshot |
//! | participant flow (screened → screen-failed by criterion → enrolled → allocated per arm → on treatment → ended by reason) | each snapshot's state, `screen_failure`, `enrolment`, `allocation`, `off_study` |
//! | overdue and due visits with their windows | the visits table, judged on today at the sites |
//! | serious adverse events with the 24-hour clock | each snapshot's current adverse events, [`protocol::journey::safety::sae_clock_of`] |
//! | deviations by site and severity, and the deviation list | each snapshot's `deviations` |

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use protocol::journey::safety::{SaeClock, SaeClockState, sae_clock_of};
use protocol::journey::schedule::{ExpectedVisit, VisitKind, VisitState};
use protocol::journey::trial::AllocationRecord;
use protocol::{Participant, Settings, State};
use serde::{Deserialize, Serialize};
use store::{ParticipantRow, VisitQuery, VisitRow};

use crate::Trial;
use crate::access::User;
use crate::clock::SiteZone;
use crate::error::{Error, Result};
use crate::roles::Capability;

mod deviations;

pub use deviations::{
    DEVIATION_CSV_COLUMNS, DeviationQuery, DeviationRow, deviations_csv, deviations_of,
};

/// Participants the study means to enrol (PROTOCOL §1: 70 participants). The settings
/// name no recruitment target, so the number lives here; the dashboard draws it as the
/// target line of the whole study and of each site.
pub const RECRUITMENT_TARGET: u32 = 70;

/// Which part of the study a dashboard shows.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
pub struct DashboardQuery {
    /// Only this site (study-wide roles; a site's staff always see their own site).
    #[serde(default)]
    pub site: Option<String>,
}

/// Everything the study dashboard shows, for one site or the whole study.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Dashboard {
    /// The site shown, or `None` for the whole study.
    pub site: Option<String>,
    /// The sites the figures cover, by code.
    pub sites: Vec<String>,
    /// The day the visits are judged on, at the sites.
    pub today: NaiveDate,
    /// When the figures were read (UTC).
    pub generated_at: DateTime<Utc>,
    /// Enrolments over time against the target.
    pub recruitment: Recruitment,
    /// The participant flow, as a CONSORT diagram draws it.
    pub flow: Flow,
    /// Open visits: overdue ones and the windows open today.
    pub visits: VisitFigures,
    /// Serious adverse events with their reporting clock, late ones first.
    pub serious_adverse_events: Vec<SaeRow>,
    /// Protocol deviations by site and severity.
    pub deviations_by_site: Vec<SiteDeviations>,
    /// Open queries by age and site: empty until the study records queries.
    pub open_queries: OpenQueries,
}

/// Enrolments over time against the target.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Recruitment {
    /// The recruitment target, of the study and of each site.
    pub target: u32,
    /// Enrolled participants per site, by site code (sites without any included).
    pub enrolled_by_site: BTreeMap<String, u64>,
    /// Enrolled participants in all.
    pub enrolled: u64,
    /// Every month from the first enrolment to this month, in order.
    pub months: Vec<RecruitmentMonth>,
}

/// One month of recruitment.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct RecruitmentMonth {
    /// The month, `YYYY-MM`, at the sites.
    pub month: String,
    /// Enrolments in the month, in all.
    pub enrolled: u64,
    /// Enrolments up to the end of the month, per site.
    pub cumulative_by_site: BTreeMap<String, u64>,
    /// Enrolments up to the end of the month, in all.
    pub cumulative: u64,
}

/// The participant flow (CONSORT): how many reached each step and where the others left.
#[derive(Debug, Clone, Default, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Flow {
    /// Registered for screening.
    pub screened: u64,
    /// Still in screening (registered, consented or screening).
    pub in_screening: u64,
    /// Screen-failed.
    pub screen_failed: u64,
    /// Screen failures per criterion that failed, by criterion id (a participant who
    /// failed several criteria counts under each).
    pub screen_failed_by_criterion: BTreeMap<String, u64>,
    /// Enrolled.
    pub enrolled: u64,
    /// Enrolled and not yet allocated, still in the study.
    pub awaiting_allocation: u64,
    /// Allocated, per arm (`arm1`, `arm2`, both always present), by the allocation in
    /// force.
    pub allocated: BTreeMap<String, u64>,
    /// Arm 1 on T-DXd (on treatment, response PET done, or progressed).
    pub on_treatment: u64,
    /// Arm 2 in the adverse-event follow-up.
    pub safety_follow_up: u64,
    /// Ended participation after registration other than by screen failure.
    pub ended: u64,
    /// Ended participation, per reason.
    pub ended_by_reason: Vec<EndedCount>,
}

/// How many ended participation for one reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct EndedCount {
    /// The reason's id: an off-study reason (`arm2_follow_up_complete`,
    /// `arm1_end_event`, `investigator_decision`), `allocation` (the allocation ended
    /// her participation), `consent_withdrawn`, `died` or `lost_to_follow_up`.
    pub reason: String,
    /// The reason as people read it.
    pub label: String,
    /// How many.
    pub count: u64,
}

/// Open visits on today.
#[derive(Debug, Clone, Default, PartialEq, Serialize, schemars::JsonSchema)]
pub struct VisitFigures {
    /// Required visits whose window has closed.
    pub overdue: u64,
    /// Visits whose window is open today.
    pub due: u64,
    /// Visits whose window opens later.
    pub upcoming: u64,
    /// The overdue and due visits, overdue first, each by the window's last day.
    pub open_windows: Vec<OpenVisit>,
}

/// An overdue or due visit with its window.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct OpenVisit {
    /// Study id.
    pub study_id: String,
    /// Site.
    pub site: String,
    /// Which visit.
    pub kind: VisitKind,
    /// What the visit is, as the schedule names it.
    pub label: String,
    /// First day of the window.
    pub earliest: NaiveDate,
    /// Last day of the window.
    pub latest: NaiveDate,
    /// `overdue` or `due`.
    pub state: VisitState,
}

/// A serious adverse event with its 24-hour reporting clock.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct SaeRow {
    /// Study id.
    pub study_id: String,
    /// Site.
    pub site: String,
    /// The event's id across follow-ups.
    pub ae_id: String,
    /// CTCAE term.
    pub term: String,
    /// CTCAE grade.
    pub grade: u8,
    /// When the site reported it to the sponsor, if it has.
    pub reported_at: Option<DateTime<Utc>>,
    /// The reporting clock (PROTOCOL §11).
    pub clock: SaeClock,
}

/// Deviations of one site by severity.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct SiteDeviations {
    /// Site code.
    pub site: String,
    /// Major deviations.
    pub major: u64,
    /// Minor deviations.
    pub minor: u64,
}

/// Queries still to be resolved (open: awaiting the site; answered: awaiting the raiser),
/// by site and by how long they have been open.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct OpenQueries {
    /// Open queries per site and age band.
    pub rows: Vec<OpenQueryCount>,
}

/// How many queries of one site have been unresolved for an age band.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct OpenQueryCount {
    /// Site code.
    pub site: String,
    /// Age band since the query was raised, e.g. `0–7 days`.
    pub age: String,
    /// Open: waiting for the site's answer.
    pub count: u64,
    /// Answered: waiting for the raiser to close or requery.
    pub answered: u64,
}

/// The age bands of unresolved queries, by whole days since raised (upper bound included).
const QUERY_AGE_BANDS: [(i64, &str); 4] = [
    (7, "0–7 days"),
    (14, "8–14 days"),
    (30, "15–30 days"),
    (i64::MAX, "over 30 days"),
];

/// Unresolved queries per site and age band, in site then band order; bands without any
/// are left out.
pub fn open_queries(
    participants: &[(&ParticipantRow, Participant)],
    now: DateTime<Utc>,
) -> OpenQueries {
    let mut counts: BTreeMap<(String, usize), (u64, u64)> = BTreeMap::new();
    for (row, p) in participants {
        for q in p.oversight.queries.iter().filter(|q| q.status.is_active()) {
            let days = (now - q.raised_at).num_days();
            let band = QUERY_AGE_BANDS
                .iter()
                .position(|(max, _)| days <= *max)
                .unwrap_or(QUERY_AGE_BANDS.len() - 1);
            let c = counts.entry((row.site.clone(), band)).or_default();
            match q.status {
                protocol::oversight::QueryStatus::Open => c.0 += 1,
                _ => c.1 += 1,
            }
        }
    }
    OpenQueries {
        rows: counts
            .into_iter()
            .map(|((site, band), (count, answered))| OpenQueryCount {
                site,
                age: QUERY_AGE_BANDS[band].1.to_string(),
                count,
                answered,
            })
            .collect(),
    }
}

impl Trial {
    /// The study dashboard: every site's figures for study-wide roles (or one site's,
    /// when asked), the own site's for a site's staff.
    pub async fn dashboard(&self, user: &User, query: &DashboardQuery) -> Result<Dashboard> {
        user.require(Capability::ReadParticipants)?;
        let site = user.site_scope().or_else(|| trimmed(&query.site));
        let sites = match &site {
            Some(s) => vec![s.clone()],
            None => self
                .store()
                .sites()
                .await?
                .into_iter()
                .map(|s| s.code)
                .collect(),
        };
        let rows = self.store().participants(site.as_deref()).await?;
        let participants = rows
            .iter()
            .map(|r| Ok((r, figures_of(r)?)))
            .collect::<Result<Vec<_>>>()?;
        let settings = self.settings().await?;
        let (now, today, zone) = (self.now(), self.today(), self.zone());
        let visits = self.open_windows(site.clone(), today).await?;
        Ok(Dashboard {
            recruitment: recruitment(&participants, &sites, zone, today),
            flow: flow(participants.iter().map(|(_, p)| p)),
            visits,
            serious_adverse_events: serious_adverse_events(&participants, now, &settings),
            deviations_by_site: deviations_by_site(&rows, &sites),
            open_queries: open_queries(&participants, now),
            site,
            sites,
            today,
            generated_at: now,
        })
    }
}

/// The parts of a participant's snapshot the dashboard counts. The snapshot holds every
/// recorded fact (labs, PET quantifications, reviews, …); reading only these parts keeps
/// a dashboard over many participants from decoding what it never shows.
#[derive(Deserialize)]
struct FigureParts {
    state: State,
    #[serde(default)]
    screen_failure: Option<protocol::ScreenFailure>,
    #[serde(default)]
    enrolment: Option<protocol::Enrolment>,
    #[serde(default)]
    allocation: Option<AllocationRecord>,
    #[serde(default)]
    off_study: Option<protocol::journey::trial::OffStudyRecord>,
    #[serde(default)]
    adverse_events: Vec<protocol::Entry<protocol::journey::trial::AeRecord>>,
    #[serde(default)]
    oversight: QueryParts,
}

/// The queries of a snapshot's oversight part.
#[derive(Default, Deserialize)]
struct QueryParts {
    #[serde(default)]
    queries: Vec<protocol::oversight::Query>,
}

/// A participant with the parts of her snapshot the dashboard counts, the rest empty.
fn figures_of(row: &ParticipantRow) -> Result<Participant> {
    let parts = FigureParts::deserialize(&row.snapshot)
        .map_err(|e| Error::internal(format!("reading the snapshot of {}", row.study_id), e))?;
    Ok(Participant {
        state: parts.state,
        screen_failure: parts.screen_failure,
        enrolment: parts.enrolment,
        allocation: parts.allocation,
        off_study: parts.off_study,
        adverse_events: parts.adverse_events,
        oversight: protocol::oversight::Oversight {
            queries: parts.oversight.queries,
            ..Default::default()
        },
        ..Participant::default()
    })
}

fn trimmed(s: &Option<String>) -> Option<String> {
    s.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// `dev-10` after `dev-9`: the number after the last dash, when there is one.
/// Enrolments by month at the sites, from the first enrolment's month to today's.
pub fn recruitment(
    participants: &[(&ParticipantRow, Participant)],
    sites: &[String],
    zone: SiteZone,
    today: NaiveDate,
) -> Recruitment {
    let mut enrolled_by_site: BTreeMap<String, u64> =
        sites.iter().map(|s| (s.clone(), 0)).collect();
    let mut by_month: BTreeMap<(i32, u32), BTreeMap<String, u64>> = BTreeMap::new();
    for (row, p) in participants {
        if let Some(e) = &p.enrolment {
            let day = zone.date_of(e.enrolled_at);
            *enrolled_by_site.entry(row.site.clone()).or_default() += 1;
            *by_month
                .entry((day.year(), day.month()))
                .or_default()
                .entry(row.site.clone())
                .or_default() += 1;
        }
    }
    let mut months = Vec::new();
    if let Some((&first, _)) = by_month.first_key_value() {
        let last = by_month
            .last_key_value()
            .map_or(first, |(&m, _)| m)
            .max((today.year(), today.month()));
        let mut cumulative_by_site: BTreeMap<String, u64> =
            enrolled_by_site.keys().map(|s| (s.clone(), 0)).collect();
        let mut cumulative = 0;
        let mut month = first;
        while month <= last {
            let mut enrolled = 0;
            for (site, n) in by_month.get(&month).into_iter().flatten() {
                *cumulative_by_site.entry(site.clone()).or_default() += n;
                enrolled += n;
            }
            cumulative += enrolled;
            months.push(RecruitmentMonth {
                month: format!("{:04}-{:02}", month.0, month.1),
                enrolled,
                cumulative_by_site: cumulative_by_site.clone(),
                cumulative,
            });
            month = if month.1 == 12 {
                (month.0 + 1, 1)
            } else {
                (month.0, month.1 + 1)
            };
        }
    }
    Recruitment {
        target: RECRUITMENT_TARGET,
        enrolled: enrolled_by_site.values().sum(),
        enrolled_by_site,
        months,
    }
}

/// The participant flow of these participants, from their states and records.
pub fn flow<'a>(participants: impl IntoIterator<Item = &'a Participant>) -> Flow {
    let mut f = Flow {
        allocated: [protocol::Arm::Arm1, protocol::Arm::Arm2]
            .into_iter()
            .map(|a| (arm_id(a).to_owned(), 0))
            .collect(),
        ..Flow::default()
    };
    let mut ended: BTreeMap<String, (String, u64)> = BTreeMap::new();
    for p in participants {
        f.screened += 1;
        if let Some(sf) = &p.screen_failure {
            f.screen_failed += 1;
            for c in &sf.failed_criteria {
                *f.screen_failed_by_criterion.entry(c.clone()).or_default() += 1;
            }
        }
        if p.enrolment.is_some() {
            f.enrolled += 1;
        }
        let arm = p.allocation.as_ref().and_then(AllocationRecord::arm);
        if let Some(arm) = arm {
            *f.allocated.entry(arm_id(arm).to_owned()).or_default() += 1;
        }
        match &p.state {
            State::Registered | State::Consented | State::Screening => f.in_screening += 1,
            State::Enrolled
            | State::BaselinePetDone
            | State::BiopsyDone
            | State::PathologyReported => f.awaiting_allocation += 1,
            State::OnTreatment | State::ResponsePetDone | State::Progression => {
                f.on_treatment += 1;
            }
            State::SafetyFollowUp => f.safety_follow_up += 1,
            _ => {}
        }
        if let Some((reason, label)) = ended_reason(p) {
            f.ended += 1;
            ended.entry(reason).or_insert((label, 0)).1 += 1;
        }
    }
    f.ended_by_reason = ended
        .into_iter()
        .map(|(reason, (label, count))| EndedCount {
            reason,
            label,
            count,
        })
        .collect();
    f
}

/// The arm's id as serialized (`arm1`, `arm2`).
pub fn arm_id(arm: protocol::Arm) -> &'static str {
    match arm {
        protocol::Arm::Arm1 => "arm1",
        protocol::Arm::Arm2 => "arm2",
    }
}

/// Why a participant ended participation (id and label), if she has and not by a
/// screen failure.
fn ended_reason(p: &Participant) -> Option<(String, String)> {
    let pair = |id: &str, label: &str| Some((id.to_owned(), label.to_owned()));
    match &p.state {
        State::OffStudy { reason } => match &p.off_study {
            Some(r) => {
                let id = serde_json::to_value(r.reason)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_else(|| "off_study".to_owned());
                Some((id, reason.clone()))
            }
            None => pair("allocation", reason),
        },
        State::Withdrawn => pair("consent_withdrawn", "consent withdrawn"),
        State::Died => pair("died", "died"),
        State::LostToFollowUp => pair("lost_to_follow_up", "lost to follow-up"),
        _ => None,
    }
}

impl Trial {
    /// The overdue and due visits of a site (or all sites) on `today` with their windows,
    /// and how many visits are upcoming. The visit list orders overdue, due, upcoming:
    /// pages are read until the first upcoming visit, and the upcoming ones are counted
    /// from the list's total, so no upcoming row is read.
    async fn open_windows(&self, site: Option<String>, today: NaiveDate) -> Result<VisitFigures> {
        let mut f = VisitFigures::default();
        let mut q = VisitQuery {
            site,
            search: None,
            today,
            limit: store::MAX_PAGE_SIZE,
            offset: 0,
        };
        loop {
            let (rows, total) = self.store().open_visits(&q).await?;
            let read = rows.len();
            let reached_upcoming = add_open_windows(&mut f, rows, today)?;
            q.offset = q
                .offset
                .saturating_add(u32::try_from(read).unwrap_or(u32::MAX));
            if reached_upcoming || read == 0 || u64::from(q.offset) >= total {
                f.upcoming = total.saturating_sub(f.overdue + f.due);
                return Ok(f);
            }
        }
    }
}

/// Adds the overdue and due visits of a page of the visit list to `f`; whether the page
/// reached the upcoming ones.
fn add_open_windows(f: &mut VisitFigures, rows: Vec<VisitRow>, today: NaiveDate) -> Result<bool> {
    for row in rows {
        let state = match row.status(today) {
            Some(store::VisitStatus::Overdue) => {
                f.overdue += 1;
                VisitState::Overdue
            }
            Some(store::VisitStatus::Due) => {
                f.due += 1;
                VisitState::Due
            }
            Some(store::VisitStatus::Upcoming) => return Ok(true),
            None => continue,
        };
        let expected: ExpectedVisit = serde_json::from_value(row.detail)
            .map_err(|e| Error::internal(format!("reading a visit of {}", row.study_id), e))?;
        f.open_windows.push(OpenVisit {
            study_id: row.study_id,
            site: row.site,
            kind: expected.kind,
            label: expected.kind.label().to_owned(),
            earliest: row.earliest,
            latest: row.latest,
            state,
        });
    }
    Ok(false)
}

/// The current entries of serious adverse events with their clocks: late ones first
/// (unreported before reported), then by the deadline.
fn serious_adverse_events(
    participants: &[(&ParticipantRow, Participant)],
    now: DateTime<Utc>,
    settings: &Settings,
) -> Vec<SaeRow> {
    let mut list: Vec<SaeRow> = participants
        .iter()
        .flat_map(|(row, p)| {
            protocol::participant::current(&p.adverse_events).filter_map(move |e| {
                let ae = &e.value.ae;
                let clock = sae_clock_of(ae, now, settings).ok().flatten()?;
                Some(SaeRow {
                    study_id: row.study_id.clone(),
                    site: row.site.clone(),
                    ae_id: ae.ae_id.clone(),
                    term: e.value.coded.term.clone(),
                    grade: ae.grade,
                    reported_at: ae.reported_to_sponsor_at,
                    clock,
                })
            })
        })
        .collect();
    let rank = |s: &SaeRow| match s.clock.state {
        SaeClockState::Overdue { .. } => 0,
        SaeClockState::ReportedLate { .. } => 1,
        SaeClockState::Running { .. } => 2,
        SaeClockState::ReportedOnTime => 3,
    };
    list.sort_by(|a, b| {
        (rank(a), a.clock.due_at, &a.study_id, &a.ae_id).cmp(&(
            rank(b),
            b.clock.due_at,
            &b.study_id,
            &b.ae_id,
        ))
    });
    list
}

/// Major and minor deviations per site, every site listed.
fn deviations_by_site(rows: &[ParticipantRow], sites: &[String]) -> Vec<SiteDeviations> {
    let mut by_site: BTreeMap<String, SiteDeviations> = sites
        .iter()
        .map(|s| {
            (
                s.clone(),
                SiteDeviations {
                    site: s.clone(),
                    ..SiteDeviations::default()
                },
            )
        })
        .collect();
    for d in rows.iter().flat_map(deviations_of) {
        let entry = by_site
            .entry(d.site.clone())
            .or_insert_with(|| SiteDeviations {
                site: d.site.clone(),
                ..SiteDeviations::default()
            });
        match d.severity.as_str() {
            "major" => entry.major += 1,
            _ => entry.minor += 1,
        }
    }
    by_site.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use serde_json::json;

    fn row(study_id: &str, site: &str, snapshot: serde_json::Value) -> ParticipantRow {
        ParticipantRow {
            study_id: study_id.into(),
            site: site.into(),
            state: "enrolled".into(),
            version: 1,
            snapshot,
            updated_at: Utc.with_ymd_and_hms(2026, 5, 1, 9, 0, 0).unwrap(),
        }
    }

    #[test]
    fn recruitment_fills_empty_months_up_to_today_and_accumulates_per_site() {
        let consent = Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap();
        let enrolled = |site: &str, id: &str, at: DateTime<Utc>| {
            let mut p = Participant::builder(site, id, consent)
                .build(consent + chrono::Duration::days(1), &Settings::default())
                .unwrap();
            p.enrolment = Some(protocol::participant::Enrolment {
                enrolled_at: at,
                signature: protocol::testing::investigator_signature(at),
                settings_version: 1,
            });
            p
        };
        let r1 = row("KS-001", "KS", json!({}));
        let r2 = row("UU-001", "UU", json!({}));
        let r3 = row("KS-002", "KS", json!({}));
        let march = Utc.with_ymd_and_hms(2026, 3, 10, 9, 0, 0).unwrap();
        let may = Utc.with_ymd_and_hms(2026, 5, 31, 22, 30, 0).unwrap(); // 1 June in Stockholm
        let ps = vec![
            (&r1, enrolled("KS", "KS-001", march)),
            (&r2, enrolled("UU", "UU-001", march)),
            (&r3, enrolled("KS", "KS-002", may)),
        ];
        let today = NaiveDate::from_ymd_opt(2026, 7, 3).unwrap();
        let r = recruitment(
            &ps,
            &["KS".into(), "SU".into(), "UU".into()],
            SiteZone::default(),
            today,
        );
        let months: Vec<(&str, u64)> = r
            .months
            .iter()
            .map(|m| (m.month.as_str(), m.cumulative))
            .collect();
        assert_eq!(
            months,
            vec![
                ("2026-03", 2),
                ("2026-04", 2),
                ("2026-05", 2),
                ("2026-06", 3),
                ("2026-07", 3)
            ]
        );
        assert_eq!(r.months[3].cumulative_by_site["KS"], 2);
        assert_eq!(r.months[3].cumulative_by_site["SU"], 0);
        assert_eq!(r.enrolled, 3);
        assert_eq!(r.target, RECRUITMENT_TARGET);
    }

    #[test]
    fn the_flow_counts_each_participant_once_per_step_and_ended_ones_by_reason() {
        let with = |state: State| Participant {
            state,
            ..Participant::default()
        };
        let failed = |criteria: &[&str]| Participant {
            screen_failure: Some(protocol::ScreenFailure {
                recorded_at: Utc.with_ymd_and_hms(2026, 5, 1, 9, 0, 0).unwrap(),
                reason: "not eligible".into(),
                failed_criteria: criteria.iter().map(|c| c.to_string()).collect(),
            }),
            ..with(State::ScreenFailed)
        };
        let off = Participant {
            off_study: Some(protocol::journey::trial::OffStudyRecord {
                reason: protocol::OffStudyReason::InvestigatorDecision,
                ended_on: NaiveDate::from_ymd_opt(2026, 5, 2).unwrap(),
                note: Some("moved abroad".into()),
            }),
            ..with(State::OffStudy {
                reason: "investigator decision".into(),
            })
        };
        let ps = [
            with(State::Screening),
            with(State::Consented),
            failed(&["EX5"]),
            failed(&["EX4", "EX5"]),
            with(State::Withdrawn),
            with(State::Died),
            off,
            with(State::OffStudy {
                reason: "HER2-positive".into(),
            }),
        ];
        let f = flow(&ps);
        assert_eq!((f.screened, f.in_screening, f.screen_failed), (8, 2, 2));
        assert_eq!(
            f.screen_failed_by_criterion,
            BTreeMap::from([("EX4".into(), 1), ("EX5".into(), 2)])
        );
        assert_eq!(
            f.allocated,
            BTreeMap::from([("arm1".into(), 0), ("arm2".into(), 0)])
        );
        assert_eq!(f.ended, 4);
        let reasons: Vec<(&str, u64)> = f
            .ended_by_reason
            .iter()
            .map(|e| (e.reason.as_str(), e.count))
            .collect();
        assert_eq!(
            reasons,
            [
                ("allocation", 1),
                ("consent_withdrawn", 1),
                ("died", 1),
                ("investigator_decision", 1)
            ]
        );
    }
}
