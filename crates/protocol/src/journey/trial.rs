//! What the participant's record keeps of the journey after PET, and the views derived
//! from it: the schedule anchors, the end-of-participation facts and the visit list.

use chrono::{DateTime, NaiveDate, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::allocation::{Allocation, AllocationTarget, PendingReallocation};
use super::biopsy::{BiopsyClearance, BiopsySource};
use super::end::EndFacts;
use super::pathology::{CategoryDerivation, SpecimenReport};
use super::safety::{AdverseEvent, CodedAdverseEvent};
use super::schedule::{Anchors, VisitKind, VisitStatus, visit_statuses};
use super::tdxd::{AdministrationCheck, DatedDecision};
use crate::command::OffStudyReason;
use crate::imaging::PetTimepoint;
use crate::participant::{Arm, Participant, State, current};
use crate::records::ESignature;
use crate::settings::Settings;

/// A study biopsy as recorded (fresh or archival).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct BiopsyRecord {
    /// The biopsy and where it came from.
    pub source: BiopsySource,
    /// For a fresh biopsy: the bleeding-lab and anticoagulation clearance.
    pub clearance: Option<BiopsyClearance>,
    /// Evidence lines (validity of an archival sample, labs of a fresh one).
    pub evidence: Vec<String>,
    /// The PET that guided it (PET1, or PET3 at progression).
    pub guided_by: Option<PetTimepoint>,
    /// When recorded.
    pub recorded_at: DateTime<Utc>,
}

impl BiopsyRecord {
    /// The date the tissue was taken, in the sites' calendar.
    pub fn date(&self, s: &Settings) -> NaiveDate {
        match &self.source {
            BiopsySource::Fresh(f) => s.local_date(f.performed_at),
            BiopsySource::Archival(a) => a.record.biopsy_date,
        }
    }
}

/// A pathology report with the HER2 category derived from it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PathologyRecord {
    /// The report.
    pub report: SpecimenReport,
    /// The derived category (none for a non-diagnostic specimen).
    pub derivation: Option<CategoryDerivation>,
    /// When recorded.
    pub recorded_at: DateTime<Utc>,
}

/// The allocation in force and how it came about.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AllocationRecord {
    /// The automatic decision with its evidence.
    pub decision: Allocation,
    /// When decided.
    pub decided_at: DateTime<Utc>,
    /// Signed corrections, in order; the last one is in force.
    pub corrections: Vec<AllocationCorrection>,
    /// A later report re-derived a different allocation: awaiting the investigator's
    /// signed confirmation (a correction), it changes nothing yet.
    #[serde(default)]
    pub pending: Option<PendingReallocation>,
}

impl AllocationRecord {
    /// The arm in force: the last correction's, else the decision's.
    pub fn arm(&self) -> Option<Arm> {
        self.in_force().and_then(AllocationTarget::arm)
    }

    /// Where she is in force (an arm or off study): the last correction's, else the
    /// decision's.
    pub fn in_force(&self) -> Option<AllocationTarget> {
        match self.corrections.last() {
            Some(c) => Some(c.to),
            None => self.decision.outcome.target(),
        }
    }
}

/// A signed change of arm.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AllocationCorrection {
    /// The arm before (none: off study).
    pub from: Option<Arm>,
    /// The arm now, or off study.
    pub to: AllocationTarget,
    /// Why.
    pub reason: String,
    /// The investigator's signature.
    pub signature: ESignature,
}

/// A T-DXd administration with its check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TdxdRecord {
    /// What was given.
    pub administration: super::tdxd::Administration,
    /// Cycle, expected dose, delay, reduction.
    pub check: AdministrationCheck,
}

/// An adverse event with its coding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AeRecord {
    /// The event as reported.
    pub ae: AdverseEvent,
    /// CTCAE term and grade text, seriousness, AESI, T-DXd decision.
    pub coded: CodedAdverseEvent,
    /// Dose decisions this entry applied to the T-DXd course.
    pub tdxd_decisions: Vec<DatedDecision>,
}

/// A reported pregnancy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PregnancyReport {
    /// Id, e.g. `pregnancy-1`.
    pub report_id: String,
    /// When the site learnt of it.
    pub site_aware_at: DateTime<Utc>,
    /// Estimated conception.
    pub estimated_conception: Option<NaiveDate>,
    /// Exposed to T-DXd.
    pub exposed_to_tdxd: bool,
    /// Reported to the sponsor.
    pub reported_to_sponsor_at: Option<DateTime<Utc>>,
    /// Outcome or follow-up.
    pub note: Option<String>,
}

/// The end of participation other than withdrawal, death or loss to follow-up.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct OffStudyRecord {
    /// Why.
    pub reason: OffStudyReason,
    /// Last study contact.
    pub ended_on: NaiveDate,
    /// Note.
    pub note: Option<String>,
}

/// The schedule's anchors from what is recorded.
pub fn anchors(p: &Participant, s: &Settings) -> Anchors {
    let pet = |tp| {
        p.imp_administration(tp)
            .map(|a| s.local_date(a.value.injected_at))
    };
    let allocation = p
        .allocation
        .as_ref()
        .and_then(|a| a.arm().map(|arm| (s.local_date(a.decided_at), arm)));
    Anchors {
        consent: p.first_consent().map(|c| s.local_date(c.signed_at)),
        pet1: pet(PetTimepoint::Pet1),
        biopsy: p
            .biopsies
            .iter()
            .find(|b| b.guided_by != Some(PetTimepoint::Pet3))
            .map(|b| b.date(s)),
        allocation,
        tdxd_dates: p.tdxd.administrations.iter().map(|a| a.date).collect(),
        progression: p.progression.as_ref().map(|x| x.date),
        lvef_repeat: p
            .tdxd
            .lvef_repeat
            .as_ref()
            .filter(|_| p.tdxd.discontinued.is_none())
            .map(|r| (r.since, r.due)),
    }
}

/// The facts that end participation, from what is recorded.
pub fn end_facts(p: &Participant, s: &Settings) -> EndFacts {
    let pet = |tp| {
        p.pet_quantification(tp)
            .and_then(|_| p.imp_administration(tp))
            .map(|a| s.local_date(a.value.injected_at))
    };
    EndFacts {
        withdrawn_at: p.withdrawal.as_ref().map(|w| w.withdrawn_at),
        died_on: p.died_on,
        lost_to_follow_up_on: p.last_contact_on,
        pet2_on: pet(PetTimepoint::Pet2),
        pet3_on: pet(PetTimepoint::Pet3),
        tdxd_discontinued_on: p.tdxd.discontinued.as_ref().map(|d| d.on),
        arm2_followup_done_on: p
            .off_study
            .as_ref()
            .filter(|o| o.reason == OffStudyReason::Arm2FollowUpComplete)
            .map(|o| o.ended_on),
    }
}

/// Visits done so far, by kind and date.
pub fn visits_done(p: &Participant, s: &Settings) -> Vec<(VisitKind, NaiveDate)> {
    let mut done = Vec::new();
    if let Some(b) = p
        .biopsies
        .iter()
        .find(|b| b.guided_by != Some(PetTimepoint::Pet3))
    {
        done.push((VisitKind::Biopsy, b.date(s)));
    }
    if let Some(a) = p.tdxd.administrations.first() {
        done.push((VisitKind::C1d1, a.date));
    }
    for (tp, kind) in [
        (PetTimepoint::Pet2, VisitKind::Pet2),
        (PetTimepoint::Pet3, VisitKind::Pet3),
    ] {
        if p.pet_quantification(tp).is_some()
            && let Some(a) = p.imp_administration(tp)
        {
            done.push((kind, s.local_date(a.value.injected_at)));
        }
    }
    if let Some(o) = &p.off_study
        && o.reason == OffStudyReason::Arm2FollowUpComplete
    {
        done.push((VisitKind::Arm2FollowUpEnd, o.ended_on));
    }
    done
}

/// The participant's expected visits with their state on `today`; none once her
/// participation has ended.
pub fn visits(p: &Participant, today: NaiveDate, s: &Settings) -> Vec<VisitStatus> {
    if p.state.is_terminal() || p.state == State::Withdrawn {
        return Vec::new();
    }
    visit_statuses(&anchors(p, s), &visits_done(p, s), today, s)
}

/// Current adverse-event entries.
pub fn current_adverse_events(p: &Participant) -> impl Iterator<Item = &crate::Entry<AeRecord>> {
    current(&p.adverse_events)
}
