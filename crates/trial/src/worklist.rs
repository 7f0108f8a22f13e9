//! Work lists: what each role has to do next, so a user lands on her work rather than on
//! a list of everyone (PROTOCOL §12). Read from the participants' read rows (their stored
//! snapshots) and the visits read table, never by folding every stream.
//!
//! | role | work |
//! |---|---|
//! | investigator | attestations, enrolments, biopsy targets and allocations to sign; casebooks to sign |
//! | nuclear-medicine reader | PET exams to review, PET responses, baseline CTs to read |
//! | pathologist | study biopsies to report |
//! | research nurse | overdue visits and open queries of her site |
//! | monitor | entries to verify; answered queries awaiting closing |
//! | data manager | her answered queries; participants ready to freeze or lock |

use chrono::{DateTime, Utc};
use protocol::eligibility::DecidedBy;
use protocol::oversight::{HoldLevel, QueryStatus, Scope, SignScope};
use protocol::{CriterionStatus, Overall, Participant, PetTimepoint, StateKind};
use serde::Serialize;

use crate::Trial;
use crate::access::User;
use crate::error::{Error, Result};
use crate::journey::VisitListQuery;
use crate::oversight::sdv_required;
use crate::roles::{Capability, Role};

/// The kinds of work a list holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum WorkKind {
    /// Eligibility questions only the investigator's attestation answers.
    Attestation,
    /// An eligible participant waiting for the signed enrolment.
    Enrolment,
    /// A reviewed PET1 waiting for the biopsy target.
    BiopsyTarget,
    /// A later pathology report proposes another arm: the investigator confirms or not.
    Allocation,
    /// A casebook with no signature in force (ended, or its signature voided).
    Casebook,
    /// A quantified PET exam waiting for the reader's lesion review.
    PetReview,
    /// A reviewed PET2 waiting for the reader's response read.
    PetResponse,
    /// An allocated participant without a baseline CT read.
    CtBaseline,
    /// A study biopsy waiting for its pathology report.
    Pathology,
    /// A required visit whose window has closed.
    OverdueVisit,
    /// A query waiting for the site's answer.
    OpenQuery,
    /// Entries the settings require verified that are not (or changed since).
    Verify,
    /// An answered query waiting for its raiser to close or requery it.
    QueryToClose,
    /// An ended participant with clean data: ready to freeze.
    ReadyToFreeze,
    /// A frozen participant with no query left: ready to lock.
    ReadyToLock,
}

impl WorkKind {
    /// The kind as a list heading.
    pub fn heading(self) -> &'static str {
        match self {
            WorkKind::Attestation => "Attestations to sign",
            WorkKind::Enrolment => "Enrolments to sign",
            WorkKind::BiopsyTarget => "Biopsy targets to choose",
            WorkKind::Allocation => "Allocations to confirm",
            WorkKind::Casebook => "Casebooks to sign",
            WorkKind::PetReview => "PET exams to review",
            WorkKind::PetResponse => "PET responses to read",
            WorkKind::CtBaseline => "Baseline CTs to read",
            WorkKind::Pathology => "Biopsies to report",
            WorkKind::OverdueVisit => "Overdue visits",
            WorkKind::OpenQuery => "Open queries",
            WorkKind::Verify => "Entries to verify",
            WorkKind::QueryToClose => "Answered queries to close",
            WorkKind::ReadyToFreeze => "Ready to freeze",
            WorkKind::ReadyToLock => "Ready to lock",
        }
    }
}

/// One thing to do.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct WorkItem {
    /// What kind of work.
    pub kind: WorkKind,
    /// The participant.
    pub study_id: String,
    /// Her site.
    pub site: String,
    /// What to do, in words.
    pub what: String,
    /// The page where it is done.
    pub link: String,
    /// Since when it waits, where known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub since: Option<DateTime<Utc>>,
}

/// A user's work list.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct WorkList {
    /// The role it is for.
    pub role: Role,
    /// The site it covers (none: every site).
    pub site: Option<String>,
    /// The work, by kind, then participant.
    pub items: Vec<WorkItem>,
}

impl Trial {
    /// What `user` has to do now: her role's work over the participants she may see.
    pub async fn work_list(&self, user: &User) -> Result<WorkList> {
        user.require(Capability::ReadParticipants)?;
        let site = user.site_scope();
        let settings = self.settings().await?;
        let now = self.now();
        let mut items = Vec::new();
        for row in self.store().participants(site.as_deref()).await? {
            let p: Participant = serde_json::from_value(row.snapshot.clone())
                .map_err(|e| Error::internal("reading a snapshot", e))?;
            let ctx = Ctx {
                id: &row.study_id,
                site: &row.site,
                p: &p,
            };
            match user.role {
                Role::Investigator => investigator_work(&ctx, &settings, now, &mut items),
                Role::NuclearMedicineReader => reader_work(&ctx, &mut items),
                Role::Pathologist => pathologist_work(&ctx, &mut items),
                Role::ResearchNurse => open_queries(&ctx, &mut items),
                Role::Monitor => monitor_work(&ctx, &settings, &mut items),
                Role::DataManager => data_manager_work(&ctx, user, &settings, &mut items),
                Role::Statistician | Role::StudyDirector | Role::Admin => {}
            }
        }
        if user.role == Role::ResearchNurse {
            self.overdue_visits(user, &mut items).await?;
        }
        items.sort_by(|a, b| (a.kind, &a.study_id).cmp(&(b.kind, &b.study_id)));
        Ok(WorkList {
            role: user.role,
            site,
            items,
        })
    }

    /// The required visits of her site whose window has closed, from the visits table.
    async fn overdue_visits(&self, user: &User, items: &mut Vec<WorkItem>) -> Result<()> {
        let query = VisitListQuery {
            limit: Some(store::MAX_PAGE_SIZE),
            ..VisitListQuery::default()
        };
        let page = self.visits(user, &query).await?;
        for v in page.rows {
            if v.visit.state != protocol::journey::schedule::VisitState::Overdue {
                continue;
            }
            items.push(WorkItem {
                kind: WorkKind::OverdueVisit,
                what: format!(
                    "{}: window closed {}",
                    v.visit.expected.kind.label(),
                    v.visit.expected.window.latest
                ),
                link: format!("/participants/{}", v.study_id),
                since: None,
                study_id: v.study_id,
                site: v.site,
            });
        }
        Ok(())
    }
}

/// The participant a work item is about.
struct Ctx<'a> {
    id: &'a str,
    site: &'a str,
    p: &'a Participant,
}

impl Ctx<'_> {
    fn item(&self, kind: WorkKind, what: String, link: String) -> WorkItem {
        WorkItem {
            kind,
            study_id: self.id.to_string(),
            site: self.site.to_string(),
            what,
            link,
            since: None,
        }
    }

    fn page(&self, rest: &str) -> String {
        format!("/participants/{}{rest}", self.id)
    }
}

fn investigator_work(
    c: &Ctx,
    settings: &protocol::Settings,
    now: DateTime<Utc>,
    items: &mut Vec<WorkItem>,
) {
    let kind = c.p.state.kind();
    if matches!(kind, StateKind::Consented | StateKind::Screening) {
        let report = protocol::evaluate_eligibility(c.p, now, settings);
        let to_attest: Vec<&str> = report
            .criteria
            .iter()
            .filter(|r| r.status == CriterionStatus::Missing)
            .filter(|r| matches!(r.decided_by, DecidedBy::Attested))
            .map(|r| r.id.id())
            .collect();
        if !to_attest.is_empty() {
            items.push(c.item(
                WorkKind::Attestation,
                format!("Attest {}", to_attest.join(", ")),
                c.page(""),
            ));
        }
        if report.overall == Overall::Eligible {
            items.push(c.item(
                WorkKind::Enrolment,
                "Eligible: sign the enrolment".into(),
                c.page("/do/enrol"),
            ));
        }
    }
    let pet1_reviewed =
        c.p.pet_reviews
            .iter()
            .any(|r| r.timepoint == PetTimepoint::Pet1);
    let target_chosen =
        c.p.biopsy_targets
            .iter()
            .any(|t| t.timepoint == PetTimepoint::Pet1);
    if kind == StateKind::BaselinePetDone && pet1_reviewed && !target_chosen {
        items.push(c.item(
            WorkKind::BiopsyTarget,
            "PET1 reviewed: choose the biopsy target".into(),
            c.page("/pet/pet1"),
        ));
    }
    if let Some(pending) = c.p.allocation.as_ref().and_then(|a| a.pending.as_ref()) {
        let proposed = serde_json::to_value(pending.proposed)
            .ok()
            .and_then(|v| v.as_str().map(|s| s.replace('_', " ")))
            .unwrap_or_else(|| "no arm".into());
        items.push(WorkItem {
            since: Some(pending.proposed_at),
            ..c.item(
                WorkKind::Allocation,
                format!("A later report proposes {proposed}: confirm or keep the arm"),
                c.page("/do/correct-allocation"),
            )
        });
    }
    let in_force =
        c.p.oversight
            .valid_signatures()
            .any(|s| s.scope == SignScope::Casebook);
    let voided = c.p.oversight.signatures.iter().any(|s| s.voided.is_some());
    let ended = c.p.state.is_terminal() && c.p.enrolment.is_some();
    if !in_force && (ended || voided) {
        let what = if voided {
            "Signature voided by a later change: sign again"
        } else {
            "Participation ended: sign the casebook"
        };
        items.push(c.item(WorkKind::Casebook, what.into(), c.page("/sign")));
    }
}

fn reader_work(c: &Ctx, items: &mut Vec<WorkItem>) {
    // The latest quantification of each time point, when no review reads it.
    for tp in PetTimepoint::ALL {
        let Some(q) =
            c.p.pet_quantifications
                .iter()
                .rev()
                .find(|q| q.timepoint == tp)
        else {
            continue;
        };
        let reviewed =
            c.p.pet_reviews
                .iter()
                .any(|r| r.quantification_id == q.quantification_id);
        if !reviewed {
            items.push(c.item(
                WorkKind::PetReview,
                format!("{}: review the lesions", tp.label()),
                c.page(&format!("/pet/{}", tp.id())),
            ));
        }
    }
    let pet2_reviewed =
        c.p.pet_reviews
            .iter()
            .any(|r| r.timepoint == PetTimepoint::Pet2);
    if pet2_reviewed && c.p.pet_responses.is_empty() {
        items.push(c.item(
            WorkKind::PetResponse,
            "PET2 reviewed: read the response PET1 → PET2".into(),
            c.page("/pet/pet2"),
        ));
    }
    let has_baseline = c.p.tumour_baselines.iter().any(|e| e.is_current());
    if c.p.allocation.is_some() && !has_baseline && !c.p.state.is_terminal() {
        items.push(c.item(
            WorkKind::CtBaseline,
            "Allocated: read the baseline CT".into(),
            c.page("/response"),
        ));
    }
}

fn pathologist_work(c: &Ctx, items: &mut Vec<WorkItem>) {
    if c.p.state.kind() == StateKind::BiopsyDone {
        items.push(WorkItem {
            since: c.p.biopsies.last().map(|b| b.recorded_at),
            ..c.item(
                WorkKind::Pathology,
                "Study biopsy: report HER2".into(),
                c.page("/do/pathology"),
            )
        });
    }
}

/// The queries waiting for the site's answer.
fn open_queries(c: &Ctx, items: &mut Vec<WorkItem>) {
    for q in &c.p.oversight.queries {
        if q.status == QueryStatus::Open {
            items.push(WorkItem {
                since: Some(q.raised_at),
                ..c.item(
                    WorkKind::OpenQuery,
                    format!("{} on {}: {}", q.query_id, q.point.entry_id, q.text()),
                    c.page(&format!("/queries/{}", q.query_id)),
                )
            });
        }
    }
}

/// How many current entries the settings require verified are not verified now.
fn unverified(p: &Participant, settings: &protocol::Settings) -> usize {
    p.entry_ids()
        .into_iter()
        .filter(|(_, s)| *s == protocol::EntryStatus::Current)
        .filter(|(id, _)| sdv_required(p, settings, id))
        .filter(|(id, _)| !p.oversight.sdv_of(id).is_verified())
        .count()
}

fn monitor_work(c: &Ctx, settings: &protocol::Settings, items: &mut Vec<WorkItem>) {
    let n = unverified(c.p, settings);
    if n > 0 {
        items.push(c.item(
            WorkKind::Verify,
            format!("{n} entr{} to verify", if n == 1 { "y" } else { "ies" }),
            c.page("/verify"),
        ));
    }
    for q in &c.p.oversight.queries {
        // Automatic queries are the monitor's and the data manager's to close.
        let hers = matches!(q.raiser_role(), Some(Role::Monitor) | None);
        if q.status == QueryStatus::Answered && hers {
            items.push(answered(c, q));
        }
    }
}

fn answered(c: &Ctx, q: &protocol::oversight::Query) -> WorkItem {
    WorkItem {
        since: q.messages.last().map(|m| m.at),
        ..c.item(
            WorkKind::QueryToClose,
            format!("{} on {}: answered", q.query_id, q.point.entry_id),
            c.page(&format!("/queries/{}", q.query_id)),
        )
    }
}

fn data_manager_work(
    c: &Ctx,
    user: &User,
    settings: &protocol::Settings,
    items: &mut Vec<WorkItem>,
) {
    for q in &c.p.oversight.queries {
        let mine = matches!(&q.origin, protocol::oversight::QueryOrigin::Manual { by } if by.user == user.username);
        if q.status == QueryStatus::Answered && mine {
            items.push(answered(c, q));
        }
    }
    let active = c.p.oversight.queries.iter().any(|q| q.status.is_active());
    let held =
        c.p.oversight
            .holds
            .iter()
            .filter(|h| h.scope == Scope::Participant)
            .map(|h| h.level)
            .max();
    match held {
        None if c.p.state.is_terminal() && !active && unverified(c.p, settings) == 0 => {
            items.push(c.item(
                WorkKind::ReadyToFreeze,
                "Ended, no open query, verified: freeze".into(),
                c.page("/holds"),
            ));
        }
        Some(HoldLevel::Frozen) if !active => {
            items.push(c.item(
                WorkKind::ReadyToLock,
                "Frozen, no open query: lock".into(),
                c.page("/holds"),
            ));
        }
        _ => {}
    }
}
