//! Deriving the analysis rows from one participant's recorded facts.

use chrono::NaiveDate;
use protocol::imaging::{PetQuantification, PetReview, PetTimepoint};
use protocol::journey::allocation::AllocationOutcome;
use protocol::journey::pathology::{Her2Category, SpecimenFinding, derive_category};
use protocol::participant::current;
use protocol::{Participant, State};

use super::{
    AeWorst, BiopsiedLesion, Dataset, LesionRow, ParticipantRow, Phenotype, PhenotypeClass, Rules,
    SizePoint, SpecimenHer2, TimeToEvent,
};
use crate::source::ParticipantSource;

/// The data set of all participants handed in.
pub fn derive(rules: &Rules, sources: &[ParticipantSource]) -> Dataset {
    let mut ds = Dataset::new(rules.clone());
    for s in sources {
        ds.add(s);
    }
    ds.participants.sort_by(|a, b| a.study_id.cmp(&b.study_id));
    ds
}

impl Dataset {
    /// An empty data set under these rules.
    pub fn new(rules: Rules) -> Dataset {
        Dataset {
            rules,
            participants: Vec::new(),
            lesions: Vec::new(),
        }
    }

    /// Adds one participant (her row and her lesion rows), so a caller that reads the
    /// participants one at a time keeps only the rows, not the events.
    pub fn add(&mut self, s: &ParticipantSource) {
        let p = s.participant();
        let (row, mut lesions) = derive_participant(&self.rules, &s.study_id, &s.site, &p);
        self.participants.push(row);
        self.lesions.append(&mut lesions);
    }
}

/// One participant's row and her baseline lesion rows.
pub fn derive_participant(
    rules: &Rules,
    study_id: &str,
    site: &str,
    p: &Participant,
) -> (ParticipantRow, Vec<LesionRow>) {
    let lesions = baseline_lesions(rules, study_id, p);
    let her2_by_specimen = specimens(p);
    let her2_category = deciding_category(p);
    let arm = match p.allocation.as_ref().map(|a| &a.decision.outcome) {
        Some(AllocationOutcome::Allocated { arm }) => Some(*arm),
        _ => None,
    };
    let baseline_suv_max = lesions
        .iter()
        .filter_map(|l| l.suv_max)
        .fold(None, |m: Option<f64>, v| Some(m.map_or(v, |m| m.max(v))));
    let tdxd_dates: Vec<NaiveDate> = p
        .tdxd_records
        .iter()
        .map(|r| r.administration.date)
        .collect();
    let tdxd_start = tdxd_dates.iter().min().copied();
    let evaluation = p.response_evaluation();
    let size_course = size_course(p, tdxd_start);
    let row = ParticipantRow {
        study_id: study_id.to_string(),
        site: site.to_string(),
        state: p.state.name().to_string(),
        age_at_consent: p
            .consent()
            .map(|c| c.age_at_consent.unwrap_or((c.age_min + c.age_max) / 2)),
        enrolled_on: p.enrolment.as_ref().map(|e| e.enrolled_at.date_naive()),
        screen_failed: p.state == State::ScreenFailed,
        her2_expressing: her2_category.map(|c| c >= rules.expressing_from),
        her2_by_specimen,
        her2_category,
        arm,
        baseline_suv_max,
        pet_positive: baseline_suv_max.map(|v| v >= rules.avid_suvmax_threshold),
        biopsied: biopsied(rules, p),
        phenotype: phenotype(&lesions),
        pet2_change_pct: p.pet_response().and_then(|r| r.hottest.change_pct),
        pet2_category: p.pet_response().map(|r| name_of(&r.category)),
        best_response: evaluation.map(|e| name_of(&e.best().response)),
        best_change_pct: size_course
            .iter()
            .map(|s| s.change_pct)
            .fold(None, |m: Option<f64>, v| Some(m.map_or(v, |m| m.min(v)))),
        size_course,
        tdxd_start,
        tdxd_last: tdxd_dates.iter().max().copied(),
        tdxd_cycles: tdxd_dates.len(),
        progression_on: p.progression.as_ref().map(|g| g.date),
        died_on: p.died_on,
        pfs: tdxd_start.map(|start| pfs(rules, p, start)),
        os: p
            .enrolment
            .as_ref()
            .map(|e| os(rules, p, e.enrolled_at.date_naive())),
        adverse_events: adverse_events(p),
        deviations: p.deviations.len(),
        major_deviations: p
            .deviations
            .iter()
            .filter(|d| d.severity == protocol::DeviationSeverity::Major)
            .count(),
    };
    (row, lesions)
}

/// A serde enum's name as it is written in the record (e.g. `PR`, `partial_metabolic_response`).
fn name_of<T: serde::Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => String::from("unknown"),
    }
}

/// The reader-confirmed lesions of the current baseline review.
fn baseline_lesions(rules: &Rules, study_id: &str, p: &Participant) -> Vec<LesionRow> {
    let Some(review) = p.pet_review(PetTimepoint::Pet1) else {
        return Vec::new();
    };
    confirmed_lesions(
        study_id,
        review,
        p.pet_quantification(PetTimepoint::Pet1),
        p.biopsy_target(PetTimepoint::Pet1)
            .map(|t| t.label.as_str()),
        rules.avid_suvmax_threshold,
    )
}

/// The lesions a reader confirmed in a review, with the quantification's volume for
/// candidates; `target` is the biopsied lesion's label. Rejected candidates (physiological
/// uptake, artefacts) are not lesions and are left out.
pub fn confirmed_lesions(
    study_id: &str,
    review: &PetReview,
    quant: Option<&PetQuantification>,
    target: Option<&str>,
    avid_suvmax_threshold: f64,
) -> Vec<LesionRow> {
    review
        .lesions
        .iter()
        .filter(|l| l.confirmed())
        .map(|l| {
            let candidate = l.candidate.and_then(|n| candidate(quant, n));
            let suv_max = l.suv_max.or(candidate.map(|c| c.suv_max));
            LesionRow {
                study_id: study_id.to_string(),
                label: l.label.clone(),
                site: l
                    .anatomical_site
                    .clone()
                    .unwrap_or_else(|| "unspecified".to_string()),
                suv_max,
                suv_peak: l.suv_peak.or(candidate.map(|c| c.suv_peak)),
                mtv_ml: candidate.map(|c| c.mtv_ml),
                tlu: candidate.map(|c| c.tlu),
                avid: suv_max.is_some_and(|v| v >= avid_suvmax_threshold),
                biopsied: target == Some(l.label.as_str()),
            }
        })
        .collect()
}

fn candidate(q: Option<&PetQuantification>, n: u32) -> Option<&protocol::imaging::PetCandidate> {
    q?.candidates.iter().find(|c| c.number == n)
}

/// The lesion the baseline biopsy targeted.
fn biopsied(rules: &Rules, p: &Participant) -> Option<BiopsiedLesion> {
    let t = p.biopsy_target(PetTimepoint::Pet1)?;
    Some(BiopsiedLesion {
        label: t.label.clone(),
        site: t.lesion.anatomical_site.clone(),
        suv_max: t.lesion.suv_max,
        avid: t.lesion.suv_max.map(|v| v >= rules.avid_suvmax_threshold),
    })
}

/// The whole-body phenotype from the confirmed lesions (`None` without any).
pub fn phenotype(lesions: &[LesionRow]) -> Option<Phenotype> {
    let measured: Vec<&LesionRow> = lesions.iter().filter(|l| l.suv_max.is_some()).collect();
    if measured.is_empty() {
        return None;
    }
    let avid = measured.iter().filter(|l| l.avid).count();
    let mtv: f64 = measured.iter().filter_map(|l| l.mtv_ml).sum();
    let avid_mtv: f64 = measured
        .iter()
        .filter(|l| l.avid)
        .filter_map(|l| l.mtv_ml)
        .sum();
    let class = if avid == measured.len() {
        PhenotypeClass::AllAvid
    } else if avid == 0 {
        PhenotypeClass::NoneAvid
    } else {
        PhenotypeClass::Mixed
    };
    Some(Phenotype {
        lesions: measured.len(),
        avid_lesions: avid,
        avid_fraction_by_count: avid as f64 / measured.len() as f64,
        mtv_ml: mtv,
        avid_fraction_by_mtv: (mtv > 0.0).then(|| avid_mtv / mtv),
        class,
    })
}

/// Every specimen's HER2 category, by the current read of each specimen.
fn specimens(p: &Participant) -> Vec<SpecimenHer2> {
    let mut out: Vec<SpecimenHer2> = Vec::new();
    for r in &p.pathology {
        let category = match &r.report.finding {
            SpecimenFinding::Her2(read) => r
                .derivation
                .as_ref()
                .map(|d| d.category)
                .or_else(|| derive_category(read).ok().map(|d| d.category)),
            SpecimenFinding::NonDiagnostic { .. } => None,
        };
        let row = SpecimenHer2 {
            specimen_id: r.report.specimen_id.clone(),
            biopsy_id: r.report.biopsy_id.clone(),
            category,
        };
        match out.iter_mut().find(|s| s.specimen_id == row.specimen_id) {
            Some(existing) => *existing = row,
            None => out.push(row),
        }
    }
    out
}

/// The category that decided the allocation.
fn deciding_category(p: &Participant) -> Option<Her2Category> {
    p.allocation.as_ref()?.decision.deciding_category
}

/// The sum-of-diameters course: one point per current follow-up with a change.
fn size_course(p: &Participant, tdxd_start: Option<NaiveDate>) -> Vec<SizePoint> {
    let Some(e) = p.response_evaluation() else {
        return Vec::new();
    };
    let origin = tdxd_start.unwrap_or(e.baseline_date);
    e.time_points
        .iter()
        .filter_map(|t| {
            Some(SizePoint {
                date: t.scan_date,
                day: (t.scan_date - origin).num_days(),
                change_pct: t.change_from_baseline_pct?,
            })
        })
        .collect()
}

/// Progression-free survival from the first T-DXd administration: progression (RECIST)
/// or death, whichever first; otherwise censored at the last CT assessment without
/// progression, or at the start when there is none (FDA 2018 censoring guidance).
fn pfs(rules: &Rules, p: &Participant, start: NaiveDate) -> TimeToEvent {
    let events = [
        p.progression
            .as_ref()
            .map(|g| (g.date, "progression (RECIST 1.1)")),
        p.died_on.map(|d| (d, "death")),
    ];
    if let Some((date, rule)) = events.into_iter().flatten().min_by_key(|(d, _)| *d) {
        return TimeToEvent {
            start,
            days: (date - start).num_days().max(0),
            event: true,
            rule: rule.to_string(),
        };
    }
    let last_ct = p
        .current_tumour_assessments()
        .iter()
        .map(|a| a.value.scan_date)
        .filter(|d| *d <= rules.cut_off_date)
        .max();
    match last_ct {
        Some(d) if d >= start => TimeToEvent {
            start,
            days: (d - start).num_days(),
            event: false,
            rule: "censored at the last CT assessment without progression".to_string(),
        },
        _ => TimeToEvent {
            start,
            days: 0,
            event: false,
            rule: "censored at the start: no CT assessment after it".to_string(),
        },
    }
}

/// Overall survival from enrolment: death, else censored at the last known contact
/// (withdrawal, end of participation, loss to follow-up) or at the cut-off date.
fn os(rules: &Rules, p: &Participant, start: NaiveDate) -> TimeToEvent {
    if let Some(d) = p.died_on {
        return TimeToEvent {
            start,
            days: (d - start).num_days().max(0),
            event: true,
            rule: "death".to_string(),
        };
    }
    let (end, rule) = if let Some(w) = &p.withdrawal {
        (
            w.withdrawn_at.date_naive(),
            "censored at consent withdrawal",
        )
    } else if let Some(d) = p.last_contact_on {
        (d, "censored at the last contact (lost to follow-up)")
    } else if let Some(o) = &p.off_study {
        (o.ended_on, "censored at the end of participation")
    } else {
        (rules.cut_off_date, "censored at the data cut-off")
    };
    TimeToEvent {
        start,
        days: (end.min(rules.cut_off_date) - start).num_days().max(0),
        event: false,
        rule: rule.to_string(),
    }
}

/// Worst grade per CTCAE term over the current adverse-event entries.
fn adverse_events(p: &Participant) -> Vec<AeWorst> {
    let mut out: Vec<AeWorst> = Vec::new();
    for e in current(&p.adverse_events) {
        let (ae, coded) = (&e.value.ae, &e.value.coded);
        let aesi: Vec<String> = coded.aesi.iter().map(name_of).collect();
        match out.iter_mut().find(|w| w.term == coded.term) {
            Some(w) => {
                w.worst_grade = w.worst_grade.max(ae.grade);
                w.serious |= coded.serious;
                w.first_onset = w.first_onset.min(ae.onset);
                for a in aesi {
                    if !w.aesi.contains(&a) {
                        w.aesi.push(a);
                    }
                }
            }
            None => out.push(AeWorst {
                term: coded.term.clone(),
                soc: coded.soc.clone(),
                worst_grade: ae.grade,
                serious: coded.serious,
                aesi,
                first_onset: ae.onset,
            }),
        }
    }
    out.sort_by(|a, b| a.term.cmp(&b.term));
    out
}
