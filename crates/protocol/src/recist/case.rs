//! A whole RECIST case: baseline, follow-up assessments in date order, and the response
//! at each time point and over all of them.
//!
//! ## Reappearance after a confirmed complete response
//!
//! A nodal target is back to normal below 10 mm short axis, so a node that was < 10 mm at
//! a CR and grows to 11 mm adds little to the sum and would rarely be PD by the sum rule
//! (+20 % and +5 mm over the nadir). The EORTC RECIST FAQ ("Abnormal lymph node"; "Does a
//! new lesion always result in PD?", recist.eortc.org) answers: a nodal target has
//! reappeared when it is ≥ 10 mm short axis again, and when CR was "definitively"
//! assigned at the previous assessment the reappearance of any malignant lesion is PD —
//! with the recommendation that the CR be confirmed, since lesions may have been present
//! but indistinct. So after a confirmed CR (a CR and a later CR at least
//! `confirm_min_days` after it, only CR or NE between, [`CrRun`]) a target that reappears
//! — a node ≥ 10 mm short axis, a non-nodal target with any size — makes the target
//! response PD, with a note naming the lesion. After an unconfirmed CR the ordinary rules
//! apply. Non-target lesions are left to the reader (unequivocal progression, or a new
//! lesion), as the FAQ asks for nodes.

use super::baseline::{Baseline, CysticLesion, LesionId, Measurability, NORMAL_NODE_BELOW, Role};
use super::best::{BestOverallResponse, BestResponseRules, CrRun, best_overall_response};
use super::error::RuleError;
use super::measure::{Tenths, percent_change};
use super::response::{NonTargetResponse, OverallResponse, TargetResponse, table1, table2};
use super::timepoint::{
    Measurements, NewLesions, TOO_SMALL_DEFAULT, TargetMeasurement, non_target_response,
    target_response, target_sum,
};
use chrono::NaiveDate;

/// Longest recommended gap between baseline scan and treatment start (RECIST 1.1 §3.2.1:
/// "never more than 4 weeks before the beginning of the treatment").
pub const BASELINE_MAX_DAYS_BEFORE_START: i64 = 28;

/// Settings of a RECIST evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecistSettings {
    /// Best-overall-response rules (confirmation, intervals).
    pub best: BestResponseRules,
    /// Size given to a target too small to measure (RECIST 1.1 §4.3.2: 5 mm).
    pub too_small: Tenths,
}

impl Default for RecistSettings {
    fn default() -> Self {
        RecistSettings {
            best: BestResponseRules::default(),
            too_small: TOO_SMALL_DEFAULT,
        }
    }
}

/// What is known of a follow-up assessment.
#[derive(Debug, Clone, PartialEq)]
pub enum AssessmentData {
    /// The reader's lesion findings; the engine derives the responses.
    Measured(Measurements),
    /// An overall response read elsewhere, taken as given.
    Reported(OverallResponse),
}

/// One follow-up assessment.
#[derive(Debug, Clone, PartialEq)]
pub struct Assessment {
    /// Scan date.
    pub date: NaiveDate,
    /// Findings or reported response.
    pub data: AssessmentData,
}

/// A patient's RECIST case.
#[derive(Debug, Clone, PartialEq)]
pub struct Case {
    /// First day of study treatment; SD duration is measured from it.
    pub treatment_start: NaiveDate,
    /// Settings.
    pub settings: RecistSettings,
    /// The validated baseline.
    pub baseline: Baseline,
    /// Follow-up assessments in date order.
    pub assessments: Vec<Assessment>,
}

/// The derived values of a measured time point.
#[derive(Debug, Clone, PartialEq)]
pub struct MeasuredTimePoint {
    /// Sum of diameters; `None` when a target was not evaluated.
    pub sum: Option<Tenths>,
    /// Nadir before this time point: smallest complete sum over baseline and all earlier
    /// assessments (RECIST 1.1 §4.3.1).
    pub nadir: Tenths,
    /// % change of the sum from baseline.
    pub change_from_baseline_pct: Option<f64>,
    /// % change of the sum from the nadir (`None` when the nadir is 0).
    pub change_from_nadir_pct: Option<f64>,
    /// Target response; `None` without target lesions.
    pub target: Option<TargetResponse>,
    /// Non-target response; `None` without non-target lesions.
    pub non_target: Option<NonTargetResponse>,
    /// New lesions as read.
    pub new_lesions: NewLesions,
}

/// The response at one time point.
#[derive(Debug, Clone, PartialEq)]
pub struct TimePoint {
    /// Scan date.
    pub date: NaiveDate,
    /// Derived values; `None` for a reported response.
    pub measured: Option<MeasuredTimePoint>,
    /// Overall time-point response (Table 1 or 2, or as reported).
    pub overall: OverallResponse,
    /// Explanations a reader should see (for example progression back-dated).
    pub notes: Vec<String>,
}

/// The evaluation of a case.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    /// One time point per assessment, in input order.
    pub time_points: Vec<TimePoint>,
    /// Best overall response.
    pub best: BestOverallResponse,
    /// Recommendations the input does not follow (not errors).
    pub warnings: Vec<RuleError>,
}

/// Evaluates a case, or lists every rule the assessments break.
pub fn evaluate(case: &Case) -> Result<Evaluation, Vec<RuleError>> {
    let errors = validate(case);
    if !errors.is_empty() {
        return Err(errors);
    }
    let baseline = &case.baseline;
    let too_small = case.settings.too_small;
    let mut nadir = baseline.sum();
    let mut time_points: Vec<TimePoint> = Vec::with_capacity(case.assessments.len());
    let mut cr_run = CrRun::default();
    for a in &case.assessments {
        let point = match &a.data {
            AssessmentData::Reported(r) => TimePoint {
                date: a.date,
                measured: None,
                overall: *r,
                notes: Vec::new(),
            },
            AssessmentData::Measured(m) => {
                let s = target_sum(baseline, m, too_small);
                let sum = (baseline.has_targets() && s.complete).then_some(s.sum);
                let mut target = target_response(baseline, m, nadir, too_small);
                let mut notes = Vec::new();
                if target != Some(TargetResponse::ProgressiveDisease)
                    && let Some(note) = reappearance(&cr_run, baseline, m, too_small)
                {
                    target = Some(TargetResponse::ProgressiveDisease);
                    notes.push(note);
                }
                let non_target = non_target_response(baseline, &m.non_targets);
                let new = m.new_lesions == NewLesions::Yes;
                let overall = match (target, non_target) {
                    (Some(t), nt) => table1(t, nt, new),
                    (None, Some(nt)) => table2(nt, new),
                    // A validated baseline has at least one lesion.
                    (None, None) => OverallResponse::NotEvaluable,
                };
                if m.new_lesions == NewLesions::Equivocal {
                    notes.push(
                        "equivocal new lesion: not progression unless a later scan confirms \
                         it (RECIST 1.1 §4.3.5)"
                            .to_owned(),
                    );
                }
                let point = MeasuredTimePoint {
                    sum,
                    nadir,
                    change_from_baseline_pct: sum.and_then(|s| percent_change(baseline.sum(), s)),
                    change_from_nadir_pct: sum.and_then(|s| percent_change(nadir, s)),
                    target,
                    non_target,
                    new_lesions: m.new_lesions,
                };
                if let Some(s) = sum {
                    nadir = nadir.min(s);
                }
                TimePoint {
                    date: a.date,
                    measured: Some(point),
                    overall,
                    notes,
                }
            }
        };
        cr_run.push(
            point.date,
            point.overall,
            case.settings.best.confirm_min_days,
        );
        time_points.push(point);
    }
    backdate_confirmed_new_lesions(&mut time_points);
    let series: Vec<(NaiveDate, OverallResponse)> =
        time_points.iter().map(|p| (p.date, p.overall)).collect();
    let best = best_overall_response(
        case.treatment_start,
        &series,
        &case.settings.best,
        baseline.has_targets(),
    );
    Ok(Evaluation {
        time_points,
        best,
        warnings: warnings(case),
    })
}

/// After a confirmed CR, the note saying which targets are back and that this is
/// progression; `None` when the patient is not in a confirmed CR or nothing is back.
fn reappearance(
    cr: &CrRun,
    baseline: &Baseline,
    m: &Measurements,
    too_small: Tenths,
) -> Option<String> {
    let since = cr.confirmed_since()?;
    let back = reappeared(baseline, m, too_small);
    (!back.is_empty()).then(|| {
        format!(
            "{} after the complete response confirmed since {since}: disease reappeared, \
             which is progression (EORTC RECIST FAQ, \"Abnormal lymph node\"; RECIST 1.1 \
             Table 3 note a)",
            back.join(", ")
        )
    })
}

/// The target lesions that are back: a node at ≥ 10 mm short axis, a non-nodal target
/// with any size (a coalesced lesion is judged through the one it merged into), described
/// for a note.
fn reappeared(baseline: &Baseline, m: &Measurements, too_small: Tenths) -> Vec<String> {
    baseline
        .targets()
        .filter_map(|lesion| {
            let t = m.targets.get(&lesion.id)?;
            if matches!(t, TargetMeasurement::CoalescedInto(_)) {
                return None;
            }
            let d = t.contribution(too_small)?;
            if lesion.node && d >= NORMAL_NODE_BELOW {
                Some(format!("node {} is {d} short axis (≥ 10 mm)", lesion.id))
            } else if !lesion.node && d > Tenths::ZERO {
                Some(format!("{} is visible again ({d})", lesion.id))
            } else {
                None
            }
        })
        .collect()
}

/// When a new lesion is confirmed, progression is declared at the date of the scan where
/// it was first seen as equivocal (RECIST 1.1 §4.3.5): the unbroken run of equivocal
/// time points just before a "yes" becomes PD.
fn backdate_confirmed_new_lesions(points: &mut [TimePoint]) {
    let new_lesions = |p: &TimePoint| p.measured.as_ref().map(|m| m.new_lesions);
    for j in 0..points.len() {
        if new_lesions(&points[j]) != Some(NewLesions::Yes) {
            continue;
        }
        let confirmed_on = points[j].date;
        let mut i = j;
        while i > 0 && new_lesions(&points[i - 1]) == Some(NewLesions::Equivocal) {
            i -= 1;
            let p = &mut points[i];
            p.overall = OverallResponse::ProgressiveDisease;
            p.notes = vec![format!(
                "equivocal new lesion confirmed on {confirmed_on}: progression dated to this \
                 scan (RECIST 1.1 §4.3.5)"
            )];
        }
    }
}

/// Rules on the assessments (the baseline validated itself when built).
fn validate(case: &Case) -> Vec<RuleError> {
    let mut errors = Vec::new();
    let baseline = &case.baseline;
    if baseline.date() > case.treatment_start {
        errors.push(RuleError::new(
            "baseline.date",
            format!(
                "baseline scan {} is after treatment start {} (RECIST 1.1 §3.2.1)",
                baseline.date(),
                case.treatment_start
            ),
        ));
    }
    let mut previous = baseline.date().max(case.treatment_start);
    for (i, a) in case.assessments.iter().enumerate() {
        let path = format!("assessments[{i}]");
        if a.date <= previous {
            errors.push(RuleError::new(
                format!("{path}.date"),
                format!(
                    "{} is not after {previous}: assessments follow treatment start and each \
                     other in date order",
                    a.date
                ),
            ));
        }
        previous = previous.max(a.date);
        match &a.data {
            AssessmentData::Measured(m) => validate_measurements(baseline, m, &path, &mut errors),
            AssessmentData::Reported(r) => {
                let wrong = if baseline.has_targets() {
                    *r == OverallResponse::NonCrNonPd
                } else {
                    matches!(
                        r,
                        OverallResponse::PartialResponse | OverallResponse::StableDisease
                    )
                };
                if wrong {
                    let table = if baseline.has_targets() {
                        "with target lesions at baseline the responses are those of Table 1"
                    } else {
                        "without target lesions the responses are those of Table 2"
                    };
                    errors.push(RuleError::new(
                        format!("{path}.overall_response"),
                        format!("{r} is not possible here: {table} (RECIST 1.1 §4.4.1)"),
                    ));
                }
            }
        }
    }
    errors
}

fn validate_measurements(
    baseline: &Baseline,
    m: &Measurements,
    path: &str,
    errors: &mut Vec<RuleError>,
) {
    for lesion in baseline.lesions() {
        let (present, map) = match lesion.role {
            Role::Target => (m.targets.contains_key(&lesion.id), "targets"),
            Role::NonTarget => (m.non_targets.contains_key(&lesion.id), "non_targets"),
        };
        if !present {
            errors.push(RuleError::new(
                format!("{path}.{map}"),
                format!(
                    "baseline {} lesion {} is missing: write it as not evaluated if it was not \
                     assessed",
                    if lesion.role == Role::Target {
                        "target"
                    } else {
                        "non-target"
                    },
                    lesion.id
                ),
            ));
        }
    }
    for (id, t) in &m.targets {
        let p = format!("{path}.targets.{id}");
        let Some(lesion) = baseline.lesion(id) else {
            errors.push(RuleError::new(p, format!("unknown lesion {id}")));
            continue;
        };
        if lesion.role != Role::Target {
            errors.push(RuleError::new(p, format!("{id} is a non-target lesion")));
            continue;
        }
        match t {
            TargetMeasurement::Fragments(_) if lesion.node => {
                errors.push(RuleError::new(
                    p,
                    "only non-nodal lesions are measured as fragments (RECIST 1.1 §4.3.2)",
                ));
            }
            TargetMeasurement::Fragments(parts) if parts.is_empty() => {
                errors.push(RuleError::new(p, "fragments need at least one diameter"));
            }
            TargetMeasurement::CoalescedInto(host) => {
                validate_coalesced(baseline, m, id, lesion.node, host, &p, errors);
            }
            _ => {}
        }
    }
    for id in m.non_targets.keys() {
        let p = format!("{path}.non_targets.{id}");
        match baseline.lesion(id) {
            None => errors.push(RuleError::new(p, format!("unknown lesion {id}"))),
            Some(l) if l.role != Role::NonTarget => {
                errors.push(RuleError::new(p, format!("{id} is a target lesion")));
            }
            Some(_) => {}
        }
    }
}

/// A coalesced lesion points at another target of the same kind whose measurement covers
/// both (RECIST 1.1 §4.3.2).
fn validate_coalesced(
    baseline: &Baseline,
    m: &Measurements,
    id: &LesionId,
    node: bool,
    host: &LesionId,
    path: &str,
    errors: &mut Vec<RuleError>,
) {
    let problem = match (baseline.lesion(host), m.targets.get(host)) {
        _ if host == id => Some("a lesion cannot coalesce into itself".to_owned()),
        (Some(h), Some(t)) if h.role == Role::Target && h.node == node => match t {
            TargetMeasurement::CoalescedInto(_) => Some(format!(
                "{host} is itself coalesced: name the lesion that carries the measurement"
            )),
            TargetMeasurement::Disappeared => {
                Some(format!("{host} disappeared, so nothing coalesced into it"))
            }
            _ => None,
        },
        (Some(h), _) if h.role == Role::Target && h.node != node => {
            Some("a node and a non-nodal lesion cannot coalesce into one measurement".to_owned())
        }
        _ => Some(format!("{host} is not a target lesion at this assessment")),
    };
    if let Some(message) = problem {
        errors.push(RuleError::new(path, message));
    }
}

/// Recommendations that do not block the evaluation.
fn warnings(case: &Case) -> Vec<RuleError> {
    let mut out = Vec::new();
    let baseline = &case.baseline;
    let days_before = (case.treatment_start - baseline.date()).num_days();
    if days_before > BASELINE_MAX_DAYS_BEFORE_START {
        out.push(RuleError::new(
            "baseline.date",
            format!(
                "baseline scan {days_before} days before treatment start: RECIST asks for no \
                 more than 4 weeks (RECIST 1.1 §3.2.1)"
            ),
        ));
    }
    let non_cystic_measurable_left = baseline.lesions().iter().any(|l| {
        l.role == Role::NonTarget
            && l.cystic.is_none()
            && baseline
                .rules()
                .measurability(l, baseline.slice_thickness())
                == Measurability::Measurable
    });
    for (i, l) in baseline.lesions().iter().enumerate() {
        if l.role == Role::Target
            && l.cystic == Some(CysticLesion::CysticMetastasis)
            && non_cystic_measurable_left
        {
            out.push(RuleError::new(
                format!("baseline.lesions[{i}]"),
                "a cystic metastasis is a target while a non-cystic measurable lesion is not: \
                 non-cystic lesions are preferred (RECIST 1.1 §3.1.3)",
            ));
        }
    }
    out
}
