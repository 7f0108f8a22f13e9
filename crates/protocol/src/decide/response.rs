//! Tumour response (PROTOCOL §10): the reader's baseline and follow-up CT assessments,
//! evaluated by the RECIST 1.1 engine after every change; the engine's first PD is
//! recorded as progression (§9).
//!
//! The baseline is checked under the protocol's settings, not RECIST's constants: the size
//! minima of `lesions` (longest diameter, node short axis, the slice thickness above which
//! twice the slice is the minimum) and `recist.irradiated_measurable_if_progressed`. A
//! lesion chosen as target that is not measurable — too small, a bone lesion without an
//! identifiable soft-tissue component, a blastic bone lesion, an irradiated lesion without
//! progression — is refused (`RECIST`), naming the lesion; it may be a non-target. A
//! simple cyst is no tumour lesion and is refused in either role (RECIST 1.1 §3.1.3).
//! Table 3 note a follows `recist.pd_after_cr` (see [`crate::recist::best`]).

use std::collections::BTreeMap;

use super::Dc;
use crate::command::{RecordBaselineTumourAssessment, RecordTumourAssessment};
use crate::event::Event;
use crate::participant::{Entry, EntryStatus};
use crate::recist::{
    self, Assessment, AssessmentData, Baseline, BaselineLesion, BestResponseRules, Case, LesionId,
    MeasurabilityRules, Measurements, RecistSettings, RuleError, TargetMeasurement, Tenths,
    best_overall_response,
};
use crate::response::{
    BestResponse, Progression, ProgressionSource, ResponseEvaluation, ResponseTimePoint,
    TargetFinding, TumourAssessment, TumourBaseline, mm, one_decimal,
};
use crate::rule::{Refusal, Rule};
use crate::settings::Settings;

/// Entry-id prefix of a baseline CT (`ctbaseline-1`).
const BASELINE: &str = "ctbaseline";
/// Entry-id prefix of a follow-up CT (`ct-1`).
const FOLLOW_UP: &str = "ct";
/// Thickest CT slice accepted, mm: thicker is not a diagnostic CT (a typing error).
const MAX_SLICE_MM: f64 = 20.0;

fn broken(what: &str, errors: &[RuleError]) -> Refusal {
    let list: Vec<String> = errors.iter().map(ToString::to_string).collect();
    Refusal::new(Rule::RECIST, format!("{what}: {}.", list.join("; ")))
}

/// The position `i` of an engine path `baseline.lesions[i]…`.
fn lesion_index(path: &str) -> Option<usize> {
    let rest = path.strip_prefix("baseline.lesions[")?;
    rest[..rest.find(']')?].parse().ok()
}

/// The baseline's broken rules in a reader's words: lesions named by id and organ rather
/// than by position, and a hint when a lesion chosen as target is not measurable.
fn baseline_refusal(b: &TumourBaseline, errors: &[RuleError]) -> Refusal {
    let mut not_measurable = false;
    let lines: Vec<String> = errors
        .iter()
        .map(|e| {
            not_measurable |= e.message.starts_with("not measurable");
            match lesion_index(&e.path).and_then(|i| b.lesions.get(i)) {
                Some(l) => format!("lesion {} ({}): {}", l.id, l.organ, e.message),
                None if e.path == "baseline.lesions" => e.message.clone(),
                None => e.to_string(),
            }
        })
        .collect();
    let refusal = Refusal::new(
        Rule::RECIST,
        format!("The baseline breaks RECIST 1.1: {}.", lines.join("; ")),
    );
    if not_measurable {
        refusal.with_hint(
            "Choose measurable lesions as targets; a lesion that is not measurable may be \
             recorded as a non-target lesion.",
        )
    } else {
        refusal
    }
}

/// The protocol's measurability rules: the size minima of `lesions` and the
/// irradiated-lesion choice of `recist` (RECIST 1.1 §3.1.1, §3.1.3). Validated settings
/// always convert; RECIST's own value stands in otherwise.
fn measurability_rules(s: &Settings) -> MeasurabilityRules {
    let d = MeasurabilityRules::default();
    let mm = |v: f64, fallback: Tenths| Tenths::from_mm(v).unwrap_or(fallback);
    MeasurabilityRules {
        min_longest: mm(s.lesions.measurable_min_longest_mm, d.min_longest),
        min_node_short_axis: mm(s.lesions.node_min_short_axis_mm, d.min_node_short_axis),
        fixed_minimum_max_slice: mm(
            s.lesions.max_slice_for_fixed_minimum_mm,
            d.fixed_minimum_max_slice,
        ),
        irradiated_measurable_if_progressed: s.recist.irradiated_measurable_if_progressed,
    }
}

fn lesion_id(id: &str) -> Result<LesionId, Refusal> {
    LesionId::parse(id)
        .ok_or_else(|| Refusal::new(Rule::VALUE_REQUIRED, "Every lesion needs an id (e.g. T1)."))
}

fn length(what: &str, v: f64) -> Result<Tenths, Refusal> {
    Tenths::from_mm(v).map_err(|e| Refusal::new(Rule::VALUE_IMPOSSIBLE, format!("{what}: {e}.")))
}

/// The engine's baseline under the protocol's measurability rules, or the RECIST rules it
/// breaks.
fn engine_baseline(b: &TumourBaseline, s: &Settings) -> Result<Baseline, Refusal> {
    if !b.slice_thickness_mm.is_finite()
        || b.slice_thickness_mm <= 0.0
        || b.slice_thickness_mm > MAX_SLICE_MM
    {
        return Err(Refusal::new(
            Rule::VALUE_IMPOSSIBLE,
            format!(
                "`slice_thickness_mm` {} is not possible (above 0 and at most {MAX_SLICE_MM} mm).",
                b.slice_thickness_mm
            ),
        ));
    }
    let mut lesions = Vec::with_capacity(b.lesions.len());
    for l in &b.lesions {
        let id = lesion_id(&l.id)?;
        let diameter = l
            .diameter_mm
            .map(|d| length(&format!("lesion {id}"), d))
            .transpose()?;
        let mut lesion = BaselineLesion::new(id, &l.organ, l.node, l.role, diameter);
        lesion.bone = l.bone;
        lesion.cystic = l.cystic;
        lesion.irradiated = l.irradiated;
        lesion.progressed_after_irradiation = l.progressed_after_irradiation;
        lesions.push(lesion);
    }
    let thickness = length("slice thickness", b.slice_thickness_mm)?;
    Baseline::with_rules(b.scan_date, thickness, lesions, measurability_rules(s))
        .map_err(|e| baseline_refusal(b, &e))
}

/// The engine's measurements of one follow-up.
fn measurements(a: &TumourAssessment) -> Result<Measurements, Refusal> {
    let duplicate = |id: &LesionId| {
        Refusal::new(
            Rule::DUPLICATE,
            format!(
                "Lesion {id} is read twice in the assessment of {}.",
                a.scan_date
            ),
        )
    };
    let mut targets = BTreeMap::new();
    for t in &a.targets {
        let id = lesion_id(&t.lesion)?;
        let m = match (t.finding, t.diameter_mm) {
            (TargetFinding::Measured, Some(d)) => {
                TargetMeasurement::Measured(length(&format!("lesion {id}"), d)?)
            }
            (TargetFinding::Measured, None) => {
                return Err(Refusal::new(
                    Rule::VALUE_REQUIRED,
                    format!("Target {id} is measured: give its diameter in mm."),
                ));
            }
            (_, Some(_)) => {
                return Err(Refusal::new(
                    Rule::VALUE_IMPOSSIBLE,
                    format!("Target {id} has a diameter but is not marked measured: choose one."),
                ));
            }
            (TargetFinding::TooSmall, None) => TargetMeasurement::TooSmall,
            (TargetFinding::Disappeared, None) => TargetMeasurement::Disappeared,
            (TargetFinding::NotEvaluated, None) => TargetMeasurement::NotEvaluated,
        };
        if targets.insert(id.clone(), m).is_some() {
            return Err(duplicate(&id));
        }
    }
    let mut non_targets = BTreeMap::new();
    for n in &a.non_targets {
        let id = lesion_id(&n.lesion)?;
        if non_targets.insert(id.clone(), n.status).is_some() {
            return Err(duplicate(&id));
        }
    }
    Ok(Measurements {
        targets,
        non_targets,
        new_lesions: a.new_lesions,
    })
}

/// Runs the RECIST 1.1 engine over a baseline and follow-ups (any order).
fn evaluate(
    ctx: &Dc,
    baseline: &Entry<TumourBaseline>,
    follow_ups: &[(&str, &TumourAssessment)],
) -> Result<ResponseEvaluation, Refusal> {
    let mut follow_ups = follow_ups.to_vec();
    follow_ups.sort_by_key(|(_, a)| a.scan_date);
    let engine_base = engine_baseline(&baseline.value, ctx.s)?;
    let mut assessments = Vec::with_capacity(follow_ups.len());
    for (_, a) in &follow_ups {
        assessments.push(Assessment {
            date: a.scan_date,
            data: AssessmentData::Measured(measurements(a)?),
        });
    }
    let r = &ctx.s.recist;
    let rules = BestResponseRules {
        confirmation: r.confirmation,
        confirm_min_days: r.confirm_min_days,
        sd_min_days: r.sd_min_days,
        pd_after_cr: r.pd_after_cr,
    };
    // Treatment starts on T-DXd cycle 1 day 1 once it is recorded; before that, on the
    // date the reader gave (or the baseline scan).
    let start = ctx
        .p
        .tdxd
        .administrations
        .first()
        .map(|a| a.date)
        .unwrap_or_else(|| baseline.value.treatment_start());
    let case = Case {
        treatment_start: start,
        settings: RecistSettings {
            best: rules,
            ..RecistSettings::default()
        },
        baseline: engine_base,
        assessments,
    };
    let result = recist::evaluate(&case).map_err(|errors| {
        // Name assessments by their scan date rather than their position.
        let errors: Vec<RuleError> = errors
            .into_iter()
            .map(|mut e| {
                for (i, (_, a)) in follow_ups.iter().enumerate() {
                    let at = format!("assessments[{i}]");
                    if e.path.starts_with(&at) {
                        e.path = e.path.replacen(&at, &format!("CT {}", a.scan_date), 1);
                    }
                }
                e
            })
            .collect();
        broken("The assessments break RECIST 1.1", &errors)
    })?;
    let series: Vec<_> = result
        .time_points
        .iter()
        .map(|t| (t.date, t.overall))
        .collect();
    let has_targets = case.baseline.has_targets();
    let best = |confirmation| {
        let b = best_overall_response(
            start,
            &series,
            &BestResponseRules {
                confirmation,
                ..rules
            },
            has_targets,
        );
        BestResponse {
            response: b.response,
            date: b.date,
        }
    };
    let time_points = result
        .time_points
        .iter()
        .zip(&follow_ups)
        .map(|(t, (id, a))| {
            let m = t.measured.as_ref();
            ResponseTimePoint {
                assessment_id: (*id).to_owned(),
                scan_date: t.date,
                sum_mm: m.and_then(|m| m.sum).map(mm),
                nadir_mm: m.filter(|_| has_targets).map(|m| mm(m.nadir)),
                change_from_baseline_pct: m
                    .and_then(|m| m.change_from_baseline_pct)
                    .map(one_decimal),
                change_from_nadir_pct: m.and_then(|m| m.change_from_nadir_pct).map(one_decimal),
                target: m.and_then(|m| m.target),
                non_target: m.and_then(|m| m.non_target),
                new_lesions: a.new_lesions,
                overall: t.overall,
                notes: t.notes.clone(),
            }
        })
        .collect();
    Ok(ResponseEvaluation {
        baseline_id: baseline.entry_id.clone(),
        baseline_date: baseline.value.scan_date,
        baseline_sum_mm: mm(case.baseline.sum()),
        time_points,
        best_unconfirmed: best(false),
        best_confirmed: best(true),
        confirmation_required: r.confirmation,
        pd_after_cr: Some(r.pd_after_cr),
        engine_version: recist::ENGINE_VERSION.to_owned(),
        warnings: result.warnings.iter().map(ToString::to_string).collect(),
    })
}

/// The evaluation event, and progression when the engine's first PD is new or has moved.
fn evaluation_events(ctx: &Dc, evaluation: ResponseEvaluation) -> Vec<Event> {
    let progression = evaluation.first_progression().and_then(|t| {
        let known = ctx.p.progression.as_ref().map(|p| p.date);
        (known != Some(t.scan_date)).then(|| Progression {
            date: t.scan_date,
            source: ProgressionSource::Recist,
            assessment_id: t.assessment_id.clone(),
            engine_version: evaluation.engine_version.clone(),
        })
    });
    let mut events = vec![Event::ResponseEvaluated {
        evaluation,
        evaluated_at: ctx.now,
        settings_version: ctx.s.version,
    }];
    if let Some(progression) = progression {
        events.push(Event::ProgressionRecorded {
            progression,
            recorded_at: ctx.now,
            settings_version: ctx.s.version,
        });
    }
    events
}

pub(super) fn baseline(
    ctx: &Dc,
    c: &RecordBaselineTumourAssessment,
) -> Result<Vec<Event>, Refusal> {
    ctx.not_future_date("scan_date", c.scan_date)?;
    if let Some(t) = c.treatment_start {
        ctx.not_future_date("treatment_start", t)?;
    }
    if c.corrects.is_none()
        && let Some(b) = ctx.p.tumour_baseline()
    {
        return Err(Refusal::new(
            Rule::DUPLICATE,
            format!(
                "A baseline CT ({}, scan {}) is already recorded: there is one baseline.",
                b.entry_id, b.value.scan_date
            ),
        )
        .with_hint(format!(
            "To change it, record a correction of {} with a reason.",
            b.entry_id
        )));
    }
    let entry = ctx.entry(BASELINE, &c.corrects, &c.correction_reason)?;
    let value = TumourBaseline {
        scan_date: c.scan_date,
        slice_thickness_mm: c.slice_thickness_mm,
        treatment_start: c.treatment_start,
        lesions: c.lesions.clone(),
    };
    engine_baseline(&value, ctx.s)?;
    let follow_ups: Vec<_> = ctx
        .p
        .current_tumour_assessments()
        .into_iter()
        .map(|e| (e.entry_id.as_str(), &e.value))
        .collect();
    // A corrected baseline changes every result: re-evaluate (refused if the recorded
    // assessments no longer fit it).
    let evaluation = if follow_ups.is_empty() {
        None
    } else {
        let as_entry = Entry {
            entry_id: entry.entry_id.clone(),
            recorded_at: ctx.now,
            supersedes: entry.supersedes.clone(),
            correction_reason: entry.correction_reason.clone(),
            status: EntryStatus::Current,
            value: value.clone(),
        };
        Some(evaluate(ctx, &as_entry, &follow_ups)?)
    };
    let mut events = vec![Event::TumourBaselineRecorded {
        entry,
        baseline: value,
    }];
    if let Some(evaluation) = evaluation {
        events.extend(evaluation_events(ctx, evaluation));
    }
    Ok(events)
}

pub(super) fn assessment(ctx: &Dc, c: &RecordTumourAssessment) -> Result<Vec<Event>, Refusal> {
    ctx.not_future_date("scan_date", c.scan_date)?;
    let Some(baseline) = ctx.p.tumour_baseline() else {
        return Err(Refusal::new(
            Rule::RECIST,
            "No baseline CT is recorded: a follow-up is compared with the baseline (RECIST 1.1 §4.1).",
        )
        .with_hint("Record the baseline CT's target and non-target lesions first."));
    };
    let entry = ctx.entry(FOLLOW_UP, &c.corrects, &c.correction_reason)?;
    let value = TumourAssessment {
        scan_date: c.scan_date,
        targets: c.targets.clone(),
        non_targets: c.non_targets.clone(),
        new_lesions: c.new_lesions,
    };
    let mut follow_ups: Vec<_> = ctx
        .p
        .current_tumour_assessments()
        .into_iter()
        .filter(|e| c.corrects.as_deref() != Some(e.entry_id.as_str()))
        .map(|e| (e.entry_id.as_str(), &e.value))
        .collect();
    follow_ups.push((entry.entry_id.as_str(), &value));
    let evaluation = evaluate(ctx, baseline, &follow_ups)?;
    let mut events = vec![Event::TumourAssessmentRecorded {
        entry,
        assessment: value.clone(),
    }];
    events.extend(evaluation_events(ctx, evaluation));
    Ok(events)
}

/// A retracted CT entry changes the result: a follow-up is evaluated again without it; the
/// baseline cannot go while follow-ups are compared with it.
pub(super) fn after_retraction(ctx: &Dc, entry_id: &str) -> Result<Vec<Event>, Refusal> {
    let Some(baseline) = ctx.p.tumour_baseline() else {
        return Ok(Vec::new());
    };
    let follow_ups: Vec<_> = ctx
        .p
        .current_tumour_assessments()
        .into_iter()
        .filter(|e| e.entry_id != entry_id)
        .map(|e| (e.entry_id.as_str(), &e.value))
        .collect();
    if baseline.entry_id == entry_id {
        if follow_ups.is_empty() {
            return Ok(Vec::new());
        }
        return Err(Refusal::new(
            Rule::RECIST,
            format!(
                "The baseline CT {entry_id} cannot be retracted while follow-ups are compared \
                 with it."
            ),
        )
        .with_hint("Correct the baseline instead, or retract the follow-ups first."));
    }
    let is_follow_up = ctx
        .p
        .current_tumour_assessments()
        .iter()
        .any(|e| e.entry_id == entry_id);
    if !is_follow_up {
        return Ok(Vec::new());
    }
    Ok(evaluation_events(
        ctx,
        evaluate(ctx, baseline, &follow_ups)?,
    ))
}
