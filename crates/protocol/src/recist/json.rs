//! The JSON exchange format of the RECIST calculator (`docs/recist-format.md`): a case in,
//! an evaluation or a list of broken rules out.

use super::baseline::{Baseline, BaselineLesion, BoneLesion, CysticLesion, LesionId, Role};
use super::best::{BestOverallResponse, BestResponseRules};
use super::case::{Assessment, AssessmentData, Case, Evaluation, RecistSettings, evaluate};
use super::error::RuleError;
use super::measure::Tenths;
use super::response::OverallResponse;
use super::timepoint::{Measurements, NewLesions, NonTargetStatus, TargetMeasurement};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// Why an input could not be evaluated.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum InputError {
    /// Not JSON, or not the shape of the format (a missing field, a misspelt key, a value
    /// of the wrong type).
    #[error("unreadable input: {0}")]
    Unreadable(String),
    /// Well-formed, but breaks RECIST rules.
    #[error("{} rule error(s)", .0.len())]
    Rules(Vec<RuleError>),
}

/// A date written `YYYY-MM-DD`, with an error message that says so.
struct Date(NaiveDate);

impl<'de> Deserialize<'de> for Date {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        NaiveDate::parse_from_str(&text, "%Y-%m-%d")
            .map(Date)
            .map_err(|_| serde::de::Error::custom(format!("\"{text}\" is not a date YYYY-MM-DD")))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCase {
    treatment_start: Date,
    confirmation: Option<bool>,
    confirm_min_days: Option<u32>,
    sd_min_days: Option<u32>,
    too_small_mm: Option<f64>,
    baseline: RawBaseline,
    #[serde(default)]
    assessments: Vec<RawAssessment>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBaseline {
    date: Date,
    slice_thickness_mm: f64,
    lesions: Vec<RawLesion>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLesion {
    id: String,
    organ: String,
    #[serde(default)]
    node: bool,
    role: Role,
    diameter_mm: Option<f64>,
    bone: Option<BoneLesion>,
    cystic: Option<CysticLesion>,
    #[serde(default)]
    irradiated: bool,
    #[serde(default)]
    progressed_after_irradiation: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAssessment {
    date: Date,
    targets: Option<BTreeMap<String, Value>>,
    non_targets: Option<BTreeMap<String, NonTargetStatus>>,
    new_lesions: Option<NewLesions>,
    overall_response: Option<OverallResponse>,
}

/// Parses and evaluates a case written in the exchange format.
pub fn evaluate_text(text: &str) -> Result<(Case, Evaluation), InputError> {
    let case = parse_case(text)?;
    let evaluation = evaluate(&case).map_err(InputError::Rules)?;
    Ok((case, evaluation))
}

/// Parses a case written in the exchange format, checking the baseline rules.
pub fn parse_case(text: &str) -> Result<Case, InputError> {
    let raw: RawCase =
        serde_json::from_str(text).map_err(|e| InputError::Unreadable(e.to_string()))?;
    let mut errors = Vec::new();
    let defaults = RecistSettings::default();
    let too_small = match raw.too_small_mm {
        Some(mm) => length(mm, "too_small_mm".into(), &mut errors).unwrap_or(defaults.too_small),
        None => defaults.too_small,
    };
    let slice = length(
        raw.baseline.slice_thickness_mm,
        "baseline.slice_thickness_mm".into(),
        &mut errors,
    )
    .unwrap_or(Tenths::ZERO);
    let mut lesions = Vec::new();
    for (i, l) in raw.baseline.lesions.iter().enumerate() {
        let path = format!("baseline.lesions[{i}]");
        let diameter = l
            .diameter_mm
            .and_then(|mm| length(mm, format!("{path}.diameter_mm"), &mut errors));
        let Some(id) = LesionId::parse(&l.id) else {
            errors.push(RuleError::new(format!("{path}.id"), "empty lesion id"));
            continue;
        };
        let mut lesion = BaselineLesion::new(id, &l.organ, l.node, l.role, diameter);
        lesion.bone = l.bone;
        lesion.cystic = l.cystic;
        lesion.irradiated = l.irradiated;
        lesion.progressed_after_irradiation = l.progressed_after_irradiation;
        lesions.push(lesion);
    }
    let baseline = Baseline::new(raw.baseline.date.0, slice, lesions);
    let mut assessments = Vec::new();
    for (i, a) in raw.assessments.into_iter().enumerate() {
        if let Some(data) = assessment_data(
            a.targets,
            a.non_targets,
            a.new_lesions,
            a.overall_response,
            i,
            &mut errors,
        ) {
            assessments.push(Assessment {
                date: a.date.0,
                data,
            });
        }
    }
    let baseline = match baseline {
        Ok(b) if errors.is_empty() => b,
        Ok(_) => return Err(InputError::Rules(errors)),
        Err(mut baseline_errors) => {
            baseline_errors.append(&mut errors);
            return Err(InputError::Rules(baseline_errors));
        }
    };
    Ok(Case {
        treatment_start: raw.treatment_start.0,
        settings: RecistSettings {
            best: BestResponseRules {
                confirmation: raw.confirmation.unwrap_or(defaults.best.confirmation),
                confirm_min_days: raw
                    .confirm_min_days
                    .unwrap_or(defaults.best.confirm_min_days),
                sd_min_days: raw.sd_min_days.unwrap_or(defaults.best.sd_min_days),
                pd_after_cr: defaults.best.pd_after_cr,
            },
            too_small,
        },
        baseline,
        assessments,
    })
}

/// A length in mm, or a rule error at `path`.
fn length(mm: f64, path: String, errors: &mut Vec<RuleError>) -> Option<Tenths> {
    match Tenths::from_mm(mm) {
        Ok(t) => Some(t),
        Err(e) => {
            errors.push(RuleError::new(path, e.to_string()));
            None
        }
    }
}

/// One assessment: either the reader's findings or a reported overall response.
fn assessment_data(
    targets: Option<BTreeMap<String, Value>>,
    non_targets: Option<BTreeMap<String, NonTargetStatus>>,
    new_lesions: Option<NewLesions>,
    overall: Option<OverallResponse>,
    i: usize,
    errors: &mut Vec<RuleError>,
) -> Option<AssessmentData> {
    let path = format!("assessments[{i}]");
    let findings = targets.is_some() || non_targets.is_some() || new_lesions.is_some();
    if let Some(r) = overall {
        if findings {
            errors.push(RuleError::new(
                path,
                "give either lesion findings or overall_response, not both",
            ));
            return None;
        }
        return Some(AssessmentData::Reported(r));
    }
    let Some(new_lesions) = new_lesions else {
        errors.push(RuleError::new(
            format!("{path}.new_lesions"),
            "missing: \"no\", \"yes\" or \"equivocal\" (or give overall_response instead)",
        ));
        return None;
    };
    let mut measured = BTreeMap::new();
    let mut ok = true;
    for (key, value) in targets.unwrap_or_default() {
        let p = format!("{path}.targets.{key}");
        let Some(id) = LesionId::parse(&key) else {
            errors.push(RuleError::new(p, "empty lesion id"));
            ok = false;
            continue;
        };
        match target_value(&value) {
            Ok(t) => {
                measured.insert(id, t);
            }
            Err(message) => {
                errors.push(RuleError::new(p, message));
                ok = false;
            }
        }
    }
    let mut statuses = BTreeMap::new();
    for (key, status) in non_targets.unwrap_or_default() {
        match LesionId::parse(&key) {
            Some(id) => {
                statuses.insert(id, status);
            }
            None => {
                errors.push(RuleError::new(
                    format!("{path}.non_targets.{key}"),
                    "empty lesion id",
                ));
                ok = false;
            }
        }
    }
    ok.then_some(AssessmentData::Measured(Measurements {
        targets: measured,
        non_targets: statuses,
        new_lesions,
    }))
}

/// A target value: a number (mm), `null` (not evaluated), `"too_small"`, `"disappeared"`,
/// `{"fragments": [mm, …]}` or `{"coalesced_into": "ID"}`.
fn target_value(value: &Value) -> Result<TargetMeasurement, String> {
    let mm = |v: &Value| -> Result<Tenths, String> {
        let n = v
            .as_f64()
            .ok_or_else(|| format!("{v} is not a number of mm"))?;
        Tenths::from_mm(n).map_err(|e| e.to_string())
    };
    match value {
        Value::Null => Ok(TargetMeasurement::NotEvaluated),
        Value::Number(_) => mm(value).map(TargetMeasurement::Measured),
        Value::String(s) => match s.as_str() {
            "too_small" => Ok(TargetMeasurement::TooSmall),
            "disappeared" => Ok(TargetMeasurement::Disappeared),
            "not_evaluated" => Ok(TargetMeasurement::NotEvaluated),
            other => Err(format!(
                "\"{other}\" is not a target value: a number of mm, null, \"too_small\" or \
                 \"disappeared\""
            )),
        },
        Value::Object(map) if map.len() == 1 => {
            if let Some(Value::Array(parts)) = map.get("fragments") {
                let parts: Result<Vec<Tenths>, String> = parts.iter().map(mm).collect();
                parts.map(TargetMeasurement::Fragments)
            } else if let Some(Value::String(host)) = map.get("coalesced_into") {
                LesionId::parse(host)
                    .map(TargetMeasurement::CoalescedInto)
                    .ok_or_else(|| "empty lesion id in coalesced_into".to_owned())
            } else {
                Err("expected {\"fragments\": [mm, …]} or {\"coalesced_into\": \"ID\"}".into())
            }
        }
        other => Err(format!("{other} is not a target value")),
    }
}

/// Rounds to one decimal, for output.
fn one_decimal(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// One assessment in the output format.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OutTimePoint {
    /// Scan date.
    pub date: NaiveDate,
    /// Sum of diameters, mm.
    pub sum_mm: Option<f64>,
    /// Nadir before this assessment, mm.
    pub nadir_mm: Option<f64>,
    /// % change from baseline.
    pub change_from_baseline_pct: Option<f64>,
    /// % change from the nadir.
    pub change_from_nadir_pct: Option<f64>,
    /// Target response, `"NA"` without targets, `null` when reported.
    pub target_response: Option<&'static str>,
    /// Non-target response, `"NA"` without non-targets, `null` when reported.
    pub non_target_response: Option<&'static str>,
    /// New lesions as read, `null` when reported.
    pub new_lesions: Option<NewLesions>,
    /// Overall time-point response.
    pub overall_response: OverallResponse,
    /// Explanations.
    pub notes: Vec<String>,
}

/// The rules a result was derived with, echoed in the output.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OutRules {
    /// Whether CR/PR needed confirmation.
    pub confirmation: bool,
    /// Minimum days to a confirming scan.
    pub confirm_min_days: u32,
    /// Minimum days from treatment start for SD.
    pub sd_min_days: u32,
    /// Size given to a target too small to measure, mm.
    pub too_small_mm: f64,
}

/// A whole evaluation in the output format; serialises with its fields in this order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvaluationOutput {
    /// One per input assessment, in input order.
    pub assessments: Vec<OutTimePoint>,
    /// Best overall response and its date.
    pub best_overall_response: BestOverallResponse,
    /// The rules used.
    pub rules: OutRules,
    /// Recommendations not followed.
    pub warnings: Vec<RuleError>,
    /// Always empty here; rule errors are reported instead of an evaluation.
    pub errors: Vec<RuleError>,
}

/// The evaluation in the output format.
pub fn evaluation_output(case: &Case, evaluation: &Evaluation) -> EvaluationOutput {
    let assessments = evaluation
        .time_points
        .iter()
        .map(|p| {
            let m = p.measured.as_ref();
            OutTimePoint {
                date: p.date,
                sum_mm: m.and_then(|m| m.sum).map(|s| one_decimal(s.mm())),
                nadir_mm: m
                    .filter(|_| case.baseline.has_targets())
                    .map(|m| one_decimal(m.nadir.mm())),
                change_from_baseline_pct: m.and_then(|m| m.change_from_baseline_pct),
                change_from_nadir_pct: m.and_then(|m| m.change_from_nadir_pct),
                target_response: m.map(|m| m.target.map_or("NA", |t| t.code())),
                non_target_response: m.map(|m| m.non_target.map_or("NA", |t| t.code())),
                new_lesions: m.map(|m| m.new_lesions),
                overall_response: p.overall,
                notes: p.notes.clone(),
            }
        })
        .collect();
    let rules = &case.settings.best;
    EvaluationOutput {
        assessments,
        best_overall_response: evaluation.best,
        rules: OutRules {
            confirmation: rules.confirmation,
            confirm_min_days: rules.confirm_min_days,
            sd_min_days: rules.sd_min_days,
            too_small_mm: one_decimal(case.settings.too_small.mm()),
        },
        warnings: evaluation.warnings.clone(),
        errors: Vec::new(),
    }
}

/// The evaluation in the output format, as a JSON value: `assessments`,
/// `best_overall_response`, `rules`, `warnings` and an empty `errors`.
pub fn evaluation_json(case: &Case, evaluation: &Evaluation) -> Value {
    json!(evaluation_output(case, evaluation))
}

/// Broken rules in the output format: `{"errors": [{"path", "message"}, …]}`.
pub fn errors_json(errors: &[RuleError]) -> Value {
    json!({ "errors": errors })
}
