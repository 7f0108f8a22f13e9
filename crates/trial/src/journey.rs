//! The journey after PET (PROTOCOL §7–§9, §11) as the sites read it: arm, biopsies,
//! pathology, the T-DXd course, adverse events with the SAE clock, visits and deviations;
//! the sites' list of upcoming, due and overdue visits (from the visits read table, a page
//! at a time); and the CTCAE v5.0 term list. The writes are ordinary commands.

use chrono::{DateTime, NaiveDate, Utc};
use protocol::journey::ctcae::{CTCAE_VERSION, ctcae_v5};
use protocol::journey::safety::{SaeClock, sae_clock_of};
use protocol::journey::schedule::{ExpectedVisit, VisitState, VisitStatus};
use protocol::journey::tdxd::TdxdCourse;
use protocol::journey::trial::{
    AllocationRecord, BiopsyRecord, OffStudyRecord, PathologyRecord, TdxdRecord, visits,
};
use protocol::records::Deviation;
use protocol::{Arm, Participant, Settings};
use serde::{Deserialize, Serialize};
use store::VisitQuery;

use crate::Trial;
use crate::access::User;
use crate::error::{Error, Result};
use crate::participants::Page;
use crate::roles::Capability;

/// An adverse event as a site reads it.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct AeView {
    /// Entry id (a follow-up corrects it and gets a new one).
    pub entry_id: String,
    /// The event's id across follow-ups.
    pub ae_id: String,
    /// Whether this entry is the current one.
    pub current: bool,
    /// CTCAE term.
    pub term: String,
    /// MedDRA code.
    pub meddra_code: u32,
    /// Grade.
    pub grade: u8,
    /// The term's text for that grade.
    pub grade_text: String,
    /// Onset.
    pub onset: chrono::NaiveDate,
    /// Resolution.
    pub resolved: Option<chrono::NaiveDate>,
    /// Serious by ICH E2A.
    pub serious: bool,
    /// Seriousness criteria that hold.
    pub seriousness_criteria: Vec<String>,
    /// Adverse events of special interest it is.
    pub aesi: Vec<String>,
    /// The 24-hour reporting clock of a serious event.
    pub sae_clock: Option<SaeClock>,
    /// What it did to the T-DXd course.
    pub tdxd_decisions: Vec<String>,
}

/// The journey after PET.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct JourneyView {
    /// Study id.
    pub study_id: String,
    /// State.
    pub state: String,
    /// Version: send it as `expected_version`.
    pub version: i64,
    /// The arm in force.
    pub arm: Option<Arm>,
    /// The allocation with its evidence and corrections.
    pub allocation: Option<AllocationRecord>,
    /// Study biopsies.
    pub biopsies: Vec<BiopsyRecord>,
    /// Pathology reports.
    pub pathology: Vec<PathologyRecord>,
    /// T-DXd course: level allowed, interruptions, discontinuation.
    pub tdxd: TdxdCourse,
    /// T-DXd administrations with their checks.
    pub tdxd_records: Vec<TdxdRecord>,
    /// Adverse events, newest entry first.
    pub adverse_events: Vec<AeView>,
    /// Expected visits and their state today.
    pub visits: Vec<VisitStatus>,
    /// The next visit due (due or overdue first, then upcoming).
    pub next_visit: Option<VisitStatus>,
    /// Protocol deviations.
    pub deviations: Vec<Deviation>,
    /// Off study, once ended.
    pub off_study: Option<OffStudyRecord>,
    /// Pregnancy reports with their 24-hour reporting clock.
    pub pregnancy_reports: Vec<PregnancyView>,
    /// For a woman of child-bearing potential: contraception needed until this day.
    pub contraception: Option<protocol::journey::contraception::ContraceptionPeriod>,
}

/// A pregnancy report with its reporting clock.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct PregnancyView {
    /// The report.
    pub report: protocol::journey::trial::PregnancyReport,
    /// The 24-hour clock from site awareness.
    pub clock: Option<SaeClock>,
}

fn ae_views(p: &Participant, s: &Settings, now: DateTime<Utc>) -> Vec<AeView> {
    p.adverse_events
        .iter()
        .rev()
        .map(|e| {
            let r = &e.value;
            AeView {
                entry_id: e.entry_id.clone(),
                ae_id: r.ae.ae_id.clone(),
                current: e.is_current(),
                term: r.coded.term.clone(),
                meddra_code: r.ae.meddra_code,
                grade: r.ae.grade,
                grade_text: r.coded.grade_text.clone(),
                onset: r.ae.onset,
                resolved: r.ae.resolved,
                serious: r.coded.serious,
                seriousness_criteria: r.coded.seriousness_criteria.clone(),
                aesi: r
                    .coded
                    .aesi
                    .iter()
                    .map(|a| match a {
                        protocol::journey::safety::Aesi::IldPneumonitis => {
                            "ILD/pneumonitis".to_string()
                        }
                        protocol::journey::safety::Aesi::LvefDecrease => {
                            "LVEF decrease".to_string()
                        }
                    })
                    .collect(),
                sae_clock: sae_clock_of(&r.ae, now, s).ok().flatten(),
                tdxd_decisions: r
                    .tdxd_decisions
                    .iter()
                    .map(|d| d.decision.reason.clone())
                    .collect(),
            }
        })
        .collect()
}

fn next_visit(v: &[VisitStatus]) -> Option<VisitStatus> {
    let open = |s: &VisitStatus| matches!(s.state, VisitState::Due | VisitState::Overdue);
    v.iter()
        .find(|s| open(s))
        .or_else(|| v.iter().find(|s| s.state == VisitState::Upcoming))
        .cloned()
}

/// The journey of a participant from her state, on `now` (visits judged on `today`).
pub fn journey_from(
    id: &str,
    p: Participant,
    version: i64,
    settings: &Settings,
    now: DateTime<Utc>,
    today: NaiveDate,
) -> JourneyView {
    let v = visits(&p, today, settings);
    let contraception = protocol::journey::contraception::contraception_period(&p, settings);
    JourneyView {
        contraception,
        study_id: id.to_string(),
        state: p.state.name().to_string(),
        version,
        arm: p.allocation.as_ref().and_then(AllocationRecord::arm),
        adverse_events: ae_views(&p, settings, now),
        next_visit: next_visit(&v),
        visits: v,
        allocation: p.allocation,
        biopsies: p.biopsies,
        pathology: p.pathology,
        tdxd: p.tdxd,
        tdxd_records: p.tdxd_records,
        deviations: p.deviations,
        off_study: p.off_study,
        pregnancy_reports: p
            .pregnancy_reports
            .into_iter()
            .map(|r| PregnancyView {
                clock: protocol::journey::safety::sae_clock(
                    r.site_aware_at,
                    r.reported_to_sponsor_at,
                    now,
                    settings,
                )
                .ok(),
                report: r,
            })
            .collect(),
    }
}

/// A visit a site has to plan.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct SiteVisit {
    /// Study id.
    pub study_id: String,
    /// Site.
    pub site: String,
    /// The visit and its window.
    pub visit: VisitStatus,
}

/// Filter and page of the visit list.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
pub struct VisitListQuery {
    /// Only this site (study-wide roles; a site's staff always see their own site).
    #[serde(default)]
    pub site: Option<String>,
    /// Only study ids containing this text.
    #[serde(default)]
    pub q: Option<String>,
    /// Rows per page (default 100, at most 1000).
    #[serde(default)]
    pub limit: Option<u32>,
    /// Rows to skip.
    #[serde(default)]
    pub offset: Option<u32>,
}

fn trimmed(s: &Option<String>) -> Option<String> {
    s.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// A visit's state on `today` from its window (it is not done: done visits have no row).
fn open_state(v: &ExpectedVisit, today: NaiveDate) -> VisitState {
    if today < v.window.earliest {
        VisitState::Upcoming
    } else if today <= v.window.latest {
        VisitState::Due
    } else {
        VisitState::Overdue
    }
}

impl Trial {
    /// A participant's journey, if this user may see her.
    pub async fn journey(&self, user: &User, id: &str) -> Result<JourneyView> {
        let v = self.visible(user, id).await?;
        let settings = self.settings().await?;
        Ok(journey_from(
            id,
            v.participant,
            v.row.version,
            &settings,
            self.now(),
            self.today(),
        ))
    }

    /// A page of the upcoming, due and overdue visits of the participants this user may
    /// see, overdue first, then by the window's last day.
    pub async fn visits(&self, user: &User, query: &VisitListQuery) -> Result<Page<SiteVisit>> {
        user.require(Capability::ReadParticipants)?;
        let q = VisitQuery {
            site: user.site_scope().or_else(|| trimmed(&query.site)),
            search: trimmed(&query.q),
            today: self.today(),
            limit: query
                .limit
                .unwrap_or(crate::participants::DEFAULT_PAGE_SIZE)
                .min(store::MAX_PAGE_SIZE),
            offset: query.offset.unwrap_or(0),
        };
        let (rows, total) = self.store().open_visits(&q).await?;
        let rows = rows
            .into_iter()
            .map(|r| {
                let expected: ExpectedVisit = serde_json::from_value(r.detail).map_err(|e| {
                    Error::internal(format!("reading a visit of {}", r.study_id), e)
                })?;
                Ok(SiteVisit {
                    visit: VisitStatus {
                        state: open_state(&expected, q.today),
                        expected,
                        done_on: None,
                    },
                    study_id: r.study_id,
                    site: r.site,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Page {
            rows,
            total,
            offset: q.offset,
            limit: q.limit,
        })
    }
}

/// A CTCAE v5.0 term with its grade texts.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct CtcaeView {
    /// CTCAE version.
    pub version: String,
    /// MedDRA code.
    pub meddra_code: u32,
    /// System organ class.
    pub soc: String,
    /// Term.
    pub term: String,
    /// Grade 1–5 texts; `null` where the grade does not exist for the term.
    pub grades: [Option<String>; 5],
    /// Definition.
    pub definition: Option<String>,
}

fn view(t: &protocol::journey::ctcae::CtcaeTerm) -> CtcaeView {
    CtcaeView {
        version: CTCAE_VERSION.to_string(),
        meddra_code: t.meddra_code,
        soc: t.soc.clone(),
        term: t.term.clone(),
        grades: t.grades.clone(),
        definition: t.definition.clone(),
    }
}

/// Search text.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct CtcaeQuery {
    /// Part of a term's name, or a MedDRA code.
    pub q: Option<String>,
}

/// Terms whose name contains the text (or whose code is the number), at most 50.
pub fn ctcae_lookup(q: &str) -> Vec<CtcaeView> {
    let q = q.trim();
    if q.is_empty() {
        return Vec::new();
    }
    let list = ctcae_v5();
    if let Ok(code) = q.parse::<u32>() {
        return list.by_meddra_code(code).map(view).into_iter().collect();
    }
    list.search(q).into_iter().take(50).map(view).collect()
}

/// The CTCAE term of a MedDRA code.
pub fn ctcae_term(code: &str) -> Result<CtcaeView> {
    let code: u32 = code
        .parse()
        .map_err(|_| Error::NotFound(format!("{code:?} is not a MedDRA code")))?;
    ctcae_v5().by_meddra_code(code).map(view).ok_or_else(|| {
        Error::NotFound(format!(
            "MedDRA code {code} is not a CTCAE v{CTCAE_VERSION} term"
        ))
    })
}
