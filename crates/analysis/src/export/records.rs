//! A participant's recorded facts as export records: one record per current entry or
//! record, each with its form, its visit and the event that recorded it.
//!
//! The writers never look at the participant's structure themselves; they read these
//! records, so ODM and SDTM say the same thing about the same participant.
//!
//! Which event recorded a fact is found by folding the participant's events one at a
//! time with [`protocol::evolve`]: every list of the participant only grows (a correction
//! adds an entry and marks the earlier one superseded), so the event after which a list
//! is one longer recorded its new element. Single facts (the allocation, the end of
//! participation) are attributed to the last event that changed them.

use chrono::{DateTime, NaiveDate, Utc};
use protocol::imaging::PetTimepoint;
use protocol::journey::trial::OffStudyRecord;
use protocol::oversight::Visit;
use protocol::{Arm, Entry, Participant, Sex, StateKind, Withdrawal};
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;

use super::ExportError;
use crate::source::{AuditedEvent, ParticipantSource};

macro_rules! forms {
    ($($variant:ident => $id:literal, $name:literal, $ty:ty;)+) => {
        /// A kind of recorded fact: one ODM form, one item group.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Form {
            $(
                #[doc = $name]
                $variant,
            )+
        }

        impl Form {
            /// Every form, in the order of the casebook.
            pub const ALL: &'static [Form] = &[$(Form::$variant),+];

            /// The form's id (lowercase; the entry prefix for entries, e.g. `lab`).
            pub fn id(self) -> &'static str {
                match self { $(Form::$variant => $id,)+ }
            }

            /// The form's name as people read it.
            pub fn name(self) -> &'static str {
                match self { $(Form::$variant => $name,)+ }
            }

            /// The JSON schema of the form's value, from the protocol type's derive.
            pub fn schema(self) -> schemars::Schema {
                match self { $(Form::$variant => schemars::schema_for!($ty),)+ }
            }
        }
    };
}

forms! {
    Dm => "dm", "Registration and demography", Demography;
    Consent => "consent", "Informed consent", protocol::Consent;
    Tx => "tx", "Earlier treatment line", protocol::TreatmentLine;
    Lesion => "lesion", "Screening lesion", protocol::Lesion;
    Lab => "lab", "Laboratory result", protocol::LabResult;
    Weight => "weight", "Body weight", protocol::BodyWeight;
    Ps => "ps", "Performance status", protocol::PerformanceStatus;
    Cbp => "cbp", "Child-bearing potential", protocol::ChildbearingStatus;
    Preg => "preg", "Pregnancy test", protocol::PregnancyTest;
    History => "history", "Medical history", protocol::MedicalHistory;
    Her2 => "her2", "Earlier HER2 result", protocol::PriorHer2Result;
    Malig => "malig", "Other malignancy", protocol::OtherMalignancy;
    Archival => "archival", "Archival biopsy", protocol::ArchivalBiopsy;
    Attest => "attest", "Investigator attestation", protocol::Attestation;
    Enrol => "enrol", "Enrolment", protocol::Enrolment;
    ScreenFail => "screenfail", "Screen failure", protocol::ScreenFailure;
    Imp => "imp", "IMP administration", protocol::imaging::ImpAdministration;
    PetQuant => "petquant", "PET quantification", protocol::imaging::PetQuantification;
    PetReview => "petreview", "PET reader review", protocol::imaging::PetReview;
    BiopsyTarget => "biopsytarget", "Biopsy target choice", protocol::imaging::BiopsyTargetChoice;
    PetResponse => "petresponse", "PET response read", protocol::pet_response::PetResponseRead;
    Biopsy => "biopsy", "Study biopsy", protocol::journey::trial::BiopsyRecord;
    Pathology => "pathology", "Pathology report", protocol::journey::trial::PathologyRecord;
    Allocation => "allocation", "Allocation", protocol::journey::trial::AllocationRecord;
    Tdxd => "tdxd", "T-DXd administration", protocol::journey::trial::TdxdRecord;
    Ae => "ae", "Adverse event", protocol::journey::trial::AeRecord;
    PregReport => "pregreport", "Pregnancy report", protocol::journey::trial::PregnancyReport;
    CtBaseline => "ctbaseline", "Baseline CT (RECIST 1.1)", protocol::response::TumourBaseline;
    Ct => "ct", "Follow-up CT assessment", protocol::response::TumourAssessment;
    Recist => "recist", "RECIST 1.1 evaluation", protocol::response::ResponseEvaluation;
    Progression => "progression", "Disease progression", protocol::response::Progression;
    Deviation => "deviation", "Protocol deviation", protocol::Deviation;
    End => "end", "End of participation", EndOfParticipation;
}

impl Form {
    /// The visits the form's records can fall in ([`protocol::oversight::visit_of_entry`]:
    /// screening forms recorded after the enrolment decision are follow-up data).
    pub fn visits(self) -> &'static [Visit] {
        use Form::*;
        match self {
            Dm | Consent | Enrol | ScreenFail => &[Visit::Screening],
            Tx | Lesion | Lab | Weight | Ps | Cbp | Preg | History | Her2 | Malig | Archival
            | Attest => &[Visit::Screening, Visit::FollowUp],
            Imp | PetQuant | PetReview | BiopsyTarget => {
                &[Visit::Baseline, Visit::Pet2, Visit::Pet3]
            }
            PetResponse => &[Visit::Pet2],
            Biopsy | Pathology | Allocation | CtBaseline => &[Visit::Baseline],
            Tdxd | Ae | PregReport | Ct | Recist | Progression | Deviation => &[Visit::FollowUp],
            End => &[Visit::End],
        }
    }
}

/// Registration facts (PROTOCOL §3: year of birth, never the birth date).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Demography {
    /// Study id.
    pub study_id: String,
    /// Site code.
    pub site: String,
    /// Year of birth.
    pub year_of_birth: Option<i32>,
    /// Sex.
    pub sex: Option<Sex>,
    /// When registered.
    pub registered_at: Option<DateTime<Utc>>,
    /// State at the cut-off.
    pub state: StateKind,
    /// Arm in force at the cut-off, once allocated.
    pub arm: Option<Arm>,
}

/// How participation ended, when it has.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct EndOfParticipation {
    /// State at the cut-off.
    pub state: StateKind,
    /// Consent withdrawal.
    pub withdrawal: Option<Withdrawal>,
    /// Date of death.
    pub died_on: Option<NaiveDate>,
    /// Date of last contact, when lost to follow-up.
    pub last_contact_on: Option<NaiveDate>,
    /// Off study for another reason.
    pub off_study: Option<OffStudyRecord>,
}

/// One exported fact.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// Its form.
    pub form: Form,
    /// Its key: the entry id for entries (`lab-3`), `form.n` for other records
    /// (`tdxd.2`, the n-th of the participant's list, from 1).
    pub key: String,
    /// The visit it belongs to.
    pub visit: Visit,
    /// The fact as JSON (the protocol type's serialization).
    pub value: Value,
    /// Index in the source's events of the event that recorded it.
    pub event: usize,
    /// Why an earlier value was corrected, when this is a correction.
    pub reason: Option<String>,
}

/// The participant folded from her events and her current facts as records, in form
/// order and, within a form, in the order recorded.
pub fn records(src: &ParticipantSource) -> Result<(Participant, Vec<Record>), ExportError> {
    if src.events.is_empty() {
        return Err(ExportError::Invalid(format!(
            "participant {} has no events before the cut-off",
            src.study_id
        )));
    }
    let (p, by) = attribute(&src.events);
    let mut out = Vec::new();
    for &form in Form::ALL {
        collect(&p, form, &by[form as usize], &mut out)?;
    }
    Ok((p, out))
}

/// For every form, the index of the event that recorded each element of its list (for
/// single facts, the last event that changed it).
fn attribute(events: &[AuditedEvent]) -> (Participant, Vec<Vec<usize>>) {
    let mut p = Participant::default();
    let mut by = vec![Vec::new(); Form::ALL.len()];
    let mut marks: Vec<usize> = vec![0; Form::ALL.len()];
    for (i, e) in events.iter().enumerate() {
        protocol::evolve(&mut p, &e.event);
        for &form in Form::ALL {
            let n = mark(&p, form);
            let f = form as usize;
            if n == marks[f] {
                continue;
            }
            marks[f] = n;
            if is_single(form) {
                by[f] = vec![i];
            } else {
                by[f].resize(n, i);
            }
        }
    }
    (p, by)
}

/// Forms holding one fact at most, which later events may change.
fn is_single(form: Form) -> bool {
    matches!(
        form,
        Form::Dm
            | Form::Enrol
            | Form::ScreenFail
            | Form::Allocation
            | Form::Progression
            | Form::End
    )
}

/// A number that grows whenever the form's facts change: a list's length, or for a
/// single fact a count of its parts.
fn mark(p: &Participant, form: Form) -> usize {
    match form {
        Form::Dm => usize::from(p.study_id.is_some()),
        Form::Consent => p.consents.len(),
        Form::Tx => p.treatment_lines.len(),
        Form::Lesion => p.lesions.len(),
        Form::Lab => p.labs.len(),
        Form::Weight => p.weights.len(),
        Form::Ps => p.performance_status.len(),
        Form::Cbp => p.childbearing.len(),
        Form::Preg => p.pregnancy_tests.len(),
        Form::History => p.medical_history.len(),
        Form::Her2 => p.prior_her2.len(),
        Form::Malig => p.other_malignancies.len(),
        Form::Archival => p.archival_biopsies.len(),
        Form::Attest => p.attestations.len(),
        Form::Enrol => usize::from(p.enrolment.is_some()),
        Form::ScreenFail => usize::from(p.screen_failure.is_some()),
        Form::Imp => p.imp_administrations.len(),
        Form::PetQuant => p.pet_quantifications.len(),
        Form::PetReview => p.pet_reviews.len(),
        Form::BiopsyTarget => p.biopsy_targets.len(),
        Form::PetResponse => p.pet_responses.len(),
        Form::Biopsy => p.biopsies.len(),
        Form::Pathology => p.pathology.len(),
        Form::Allocation => p.allocation.as_ref().map_or(0, |a| {
            1 + a.corrections.len() + usize::from(a.pending.is_some())
        }),
        Form::Tdxd => p.tdxd_records.len(),
        Form::Ae => p.adverse_events.len(),
        Form::PregReport => p.pregnancy_reports.len(),
        Form::CtBaseline => p.tumour_baselines.len(),
        Form::Ct => p.tumour_assessments.len(),
        Form::Recist => p.response_evaluations.len(),
        Form::Progression => usize::from(p.progression.is_some()),
        Form::Deviation => p.deviations.len(),
        Form::End => {
            usize::from(p.withdrawal.is_some())
                + usize::from(p.died_on.is_some())
                + usize::from(p.last_contact_on.is_some())
                + usize::from(p.off_study.is_some())
        }
    }
}

/// Adds the current facts of one form.
fn collect(
    p: &Participant,
    form: Form,
    by: &[usize],
    out: &mut Vec<Record>,
) -> Result<(), ExportError> {
    let mut c = Collector { p, form, by, out };
    match form {
        Form::Dm => c.single(Visit::Screening, p.study_id.as_ref().map(|_| demography(p))),
        Form::Consent => c.list(&p.consents, |_, _| Some(Visit::Screening)),
        Form::Tx => c.entries(&p.treatment_lines),
        Form::Lesion => c.entries(&p.lesions),
        Form::Lab => c.entries(&p.labs),
        Form::Weight => c.entries(&p.weights),
        Form::Ps => c.entries(&p.performance_status),
        Form::Cbp => c.entries(&p.childbearing),
        Form::Preg => c.entries(&p.pregnancy_tests),
        Form::History => c.entries(&p.medical_history),
        Form::Her2 => c.entries(&p.prior_her2),
        Form::Malig => c.entries(&p.other_malignancies),
        Form::Archival => c.entries(&p.archival_biopsies),
        Form::Attest => c.entries(&p.attestations),
        Form::Enrol => c.single(Visit::Screening, p.enrolment.as_ref()),
        Form::ScreenFail => c.single(Visit::Screening, p.screen_failure.as_ref()),
        Form::Imp => c.entries(&p.imp_administrations),
        // Quantifications, reviews, target choices and response reads are replaced by
        // later ones of the same time point: the current one is the snapshot's fact.
        Form::PetQuant => c.list(&p.pet_quantifications, |i, q| {
            let current = p.pet_quantification(q.timepoint)?;
            std::ptr::eq(current, &p.pet_quantifications[i]).then(|| pet_visit(q.timepoint))
        }),
        Form::PetReview => c.list(&p.pet_reviews, |i, r| {
            let current = p.pet_review(r.timepoint)?;
            std::ptr::eq(current, &p.pet_reviews[i]).then(|| pet_visit(r.timepoint))
        }),
        Form::BiopsyTarget => c.list(&p.biopsy_targets, |i, t| {
            let current = p.biopsy_target(t.timepoint)?;
            std::ptr::eq(current, &p.biopsy_targets[i]).then(|| pet_visit(t.timepoint))
        }),
        Form::PetResponse => c.list(&p.pet_responses, |i, _| {
            let current = p.pet_response()?;
            std::ptr::eq(current, &p.pet_responses[i]).then_some(Visit::Pet2)
        }),
        Form::Biopsy => c.list(&p.biopsies, |_, _| Some(Visit::Baseline)),
        Form::Pathology => c.list(&p.pathology, |_, _| Some(Visit::Baseline)),
        Form::Allocation => c.single(Visit::Baseline, p.allocation.as_ref()),
        Form::Tdxd => c.list(&p.tdxd_records, |_, _| Some(Visit::FollowUp)),
        Form::Ae => c.entries(&p.adverse_events),
        Form::PregReport => c.list(&p.pregnancy_reports, |_, _| Some(Visit::FollowUp)),
        Form::CtBaseline => c.entries(&p.tumour_baselines),
        Form::Ct => c.entries(&p.tumour_assessments),
        Form::Recist => {
            let last = p.response_evaluations.len().saturating_sub(1);
            c.list(&p.response_evaluations, |i, _| {
                (i == last).then_some(Visit::FollowUp)
            })
        }
        Form::Progression => c.single(Visit::FollowUp, p.progression.as_ref()),
        Form::Deviation => c.list(&p.deviations, |_, _| Some(Visit::FollowUp)),
        Form::End => c.single(Visit::End, end_of_participation(p)),
    }
}

/// The visit of a PET time point's facts.
fn pet_visit(tp: PetTimepoint) -> Visit {
    match tp {
        PetTimepoint::Pet1 => Visit::Baseline,
        PetTimepoint::Pet2 => Visit::Pet2,
        PetTimepoint::Pet3 => Visit::Pet3,
    }
}

/// The registration facts.
fn demography(p: &Participant) -> Demography {
    Demography {
        study_id: p.study_id.clone().unwrap_or_default(),
        site: p.site.clone().unwrap_or_default(),
        year_of_birth: p.year_of_birth,
        sex: p.sex,
        registered_at: p.registered_at,
        state: p.state.kind(),
        arm: p.allocation.as_ref().and_then(|a| a.arm()),
    }
}

/// How participation ended, if it has.
fn end_of_participation(p: &Participant) -> Option<EndOfParticipation> {
    let ended = p.withdrawal.is_some()
        || p.died_on.is_some()
        || p.last_contact_on.is_some()
        || p.off_study.is_some();
    ended.then(|| EndOfParticipation {
        state: p.state.kind(),
        withdrawal: p.withdrawal.clone(),
        died_on: p.died_on,
        last_contact_on: p.last_contact_on,
        off_study: p.off_study.clone(),
    })
}

/// Gathers one form's records.
struct Collector<'a> {
    p: &'a Participant,
    form: Form,
    by: &'a [usize],
    out: &'a mut Vec<Record>,
}

impl Collector<'_> {
    /// The event that recorded the `i`-th element.
    fn event(&self, i: usize) -> Result<usize, ExportError> {
        self.by.get(i).copied().ok_or_else(|| {
            ExportError::Invalid(format!(
                "no event recorded {} number {} of participant {}",
                self.form.id(),
                i + 1,
                self.p.study_id.as_deref().unwrap_or("?")
            ))
        })
    }

    fn push(
        &mut self,
        key: String,
        visit: Visit,
        value: &impl Serialize,
        event: usize,
        reason: Option<String>,
    ) -> Result<(), ExportError> {
        let value = serde_json::to_value(value)
            .map_err(|e| ExportError::Invalid(format!("{key} cannot be written: {e}")))?;
        self.out.push(Record {
            form: self.form,
            key,
            visit,
            value,
            event,
            reason,
        });
        Ok(())
    }

    /// Current entries of a list of entries, in their visits.
    fn entries<T: Serialize>(&mut self, list: &[Entry<T>]) -> Result<(), ExportError> {
        for (i, e) in list.iter().enumerate().filter(|(_, e)| e.is_current()) {
            let visit = protocol::oversight::visit_of_entry(self.p, &e.entry_id);
            let event = self.event(i)?;
            let reason = e.correction_reason.clone();
            self.push(e.entry_id.clone(), visit, &e.value, event, reason)?;
        }
        Ok(())
    }

    /// The elements of a plain list that `visit` gives a visit to (the others are not
    /// current).
    fn list<T: Serialize>(
        &mut self,
        list: &[T],
        visit: impl Fn(usize, &T) -> Option<Visit>,
    ) -> Result<(), ExportError> {
        for (i, x) in list.iter().enumerate() {
            if let Some(v) = visit(i, x) {
                let key = format!("{}.{}", self.form.id(), i + 1);
                let event = self.event(i)?;
                self.push(key, v, x, event, None)?;
            }
        }
        Ok(())
    }

    /// A single fact, when present.
    fn single<T: Serialize>(&mut self, visit: Visit, x: Option<T>) -> Result<(), ExportError> {
        match x {
            Some(x) => {
                let event = self.event(0)?;
                self.push(self.form.id().to_string(), visit, &x, event, None)
            }
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{arm1_participant, consent_time};

    fn record<'a>(recs: &'a [Record], key: &str) -> &'a Record {
        recs.iter()
            .find(|r| r.key == key)
            .unwrap_or_else(|| panic!("no {key}"))
    }

    #[test]
    fn each_record_names_the_event_that_recorded_it() {
        let src = arm1_participant("KS", 1, consent_time(1));
        let (_, recs) = records(&src).unwrap();
        let kind = |r: &Record| {
            let v = serde_json::to_value(&src.events[r.event].event).unwrap();
            v["type"].as_str().unwrap().to_string()
        };
        let hb = record(&recs, "lab-11");
        assert_eq!(kind(hb), "lab_recorded");
        assert_eq!(
            hb.reason.as_deref(),
            Some("Typing error, value from the lab report")
        );
        assert_eq!(hb.visit, Visit::Screening);
        // The follow-up of the adverse event replaced its first report.
        assert!(recs.iter().all(|r| r.key != "ae-1"));
        assert_eq!(record(&recs, "ae-2").visit, Visit::FollowUp);
        assert_eq!(kind(record(&recs, "allocation")), "allocated");
        assert_eq!(record(&recs, "petquant.1").visit, Visit::Baseline);
        assert_eq!(kind(record(&recs, "tdxd.2")), "tdxd_administered");
    }
}
