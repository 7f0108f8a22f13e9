//! Laboratory values with units (PROTOCOL §5, last line; clinical-rules §1.5).
//!
//! Every lab result carries its unit. Known units are converted to one
//! canonical unit per analyte; an unknown unit is refused (`UNIT_UNKNOWN`) and
//! a value that cannot be true is refused (`VALUE_IMPOSSIBLE`). AST, ALT and
//! bilirubin are judged as multiples of the upper limit of normal (ULN) that
//! the lab reported with the result, so their ULN is required.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::rule::{Refusal, Rule};

/// The analytes the screening rules use.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Analyte {
    /// Platelet count.
    Platelets,
    /// Absolute neutrophil count.
    Anc,
    /// Haemoglobin.
    Haemoglobin,
    /// Serum creatinine.
    Creatinine,
    /// Total bilirubin.
    Bilirubin,
    /// Aspartate aminotransferase.
    Ast,
    /// Alanine aminotransferase.
    Alt,
    /// Prothrombin time as INR (PK(INR) in Swedish labs).
    Inr,
    /// Activated partial thromboplastin time.
    Aptt,
    /// Left-ventricular ejection fraction (echocardiography / MUGA / MRI).
    Lvef,
}

/// Whether a sample was taken for the study or in routine care.
///
/// Only study samples fall under the consent gate (PROTOCOL §4); routine-care
/// results taken before consent may be transcribed from the medical record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SampleOrigin {
    /// Taken for the study: must be dated after signed consent.
    Study,
    /// Taken in routine care and transcribed.
    RoutineCare,
}

/// A lab result as entered and in canonical units.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct LabResult {
    /// The analyte.
    pub analyte: Analyte,
    /// The value as entered.
    pub value: f64,
    /// The unit as entered.
    pub unit: String,
    /// Upper limit of normal as entered (same unit as the value).
    pub uln: Option<f64>,
    /// Lower limit of normal as entered (same unit as the value).
    pub lln: Option<f64>,
    /// The value in the canonical unit.
    pub canonical_value: f64,
    /// The canonical unit (see [`Analyte::canonical_unit`]).
    pub canonical_unit: String,
    /// The ULN in the canonical unit.
    pub canonical_uln: Option<f64>,
    /// When the sample was taken.
    pub sample_at: DateTime<Utc>,
    /// Study sample or routine care.
    pub origin: SampleOrigin,
    /// Plausibility warnings: the value is possible but unusual (see
    /// [`Analyte::plausibility`]); the result is kept and the warning shown with it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

impl LabResult {
    /// The value as a multiple of the ULN, when a ULN was given.
    pub fn x_uln(&self) -> Option<f64> {
        self.canonical_uln
            .filter(|u| *u > 0.0)
            .map(|u| self.canonical_value / u)
    }
}

/// Accepted units per analyte: (normalised spelling, factor to canonical).
type UnitTable = &'static [(&'static str, f64)];

// Cell counts: 10^3/µL = 10^9/L; a count per mm³ (= per µL) is 10^-3 × 10^9/L.
const COUNTS: UnitTable = &[
    ("10^9/l", 1.0),
    ("10^3/ul", 1.0),
    ("10^3/mm3", 1.0),
    ("k/ul", 1.0),
    ("/mm3", 0.001),
    ("/ul", 0.001),
];
// Haemoglobin: g/dL × 10; mmol/L (monomer) × 16.11.
const HB: UnitTable = &[("g/l", 1.0), ("g/dl", 10.0), ("mmol/l", 16.11)];
// Creatinine: 1 mg/dL = 88.42 µmol/L.
const CREA: UnitTable = &[("umol/l", 1.0), ("mg/dl", 88.42), ("mmol/l", 1000.0)];
// Bilirubin: 1 mg/dL = 17.1 µmol/L.
const BILI: UnitTable = &[("umol/l", 1.0), ("mg/dl", 17.1)];
// Enzyme activity: 1 µkat/L = 60 U/L (1 U = 1 µmol/min = 16.67 nkat).
const ENZYME: UnitTable = &[
    ("u/l", 1.0),
    ("iu/l", 1.0),
    ("ukat/l", 60.0),
    ("nkat/l", 0.06),
];
const RATIO: UnitTable = &[("", 1.0), ("ratio", 1.0), ("inr", 1.0)];
const SECONDS: UnitTable = &[("s", 1.0), ("sec", 1.0), ("seconds", 1.0)];
const PERCENT: UnitTable = &[("%", 1.0)];

impl Analyte {
    /// The analyte's name for messages.
    pub fn label(&self) -> &'static str {
        match self {
            Analyte::Platelets => "platelets",
            Analyte::Anc => "absolute neutrophil count",
            Analyte::Haemoglobin => "haemoglobin",
            Analyte::Creatinine => "creatinine",
            Analyte::Bilirubin => "bilirubin",
            Analyte::Ast => "AST",
            Analyte::Alt => "ALT",
            Analyte::Inr => "INR",
            Analyte::Aptt => "APTT",
            Analyte::Lvef => "LVEF",
        }
    }

    /// The canonical unit values are converted to.
    pub fn canonical_unit(&self) -> &'static str {
        match self {
            Analyte::Platelets | Analyte::Anc => "10^9/L",
            Analyte::Haemoglobin => "g/L",
            Analyte::Creatinine | Analyte::Bilirubin => "µmol/L",
            Analyte::Ast | Analyte::Alt => "U/L",
            Analyte::Inr => "ratio",
            Analyte::Aptt => "s",
            Analyte::Lvef => "%",
        }
    }

    /// The units accepted, as shown to the user.
    pub fn accepted_units(&self) -> &'static str {
        match self {
            Analyte::Platelets | Analyte::Anc => "10^9/L, 10^3/µL, /mm³, /µL",
            Analyte::Haemoglobin => "g/L, g/dL, mmol/L",
            Analyte::Creatinine => "µmol/L, mg/dL, mmol/L",
            Analyte::Bilirubin => "µmol/L, mg/dL",
            Analyte::Ast | Analyte::Alt => "U/L, IU/L, µkat/L, nkat/L",
            Analyte::Inr => "no unit (ratio)",
            Analyte::Aptt => "s",
            Analyte::Lvef => "%",
        }
    }

    fn units(&self) -> UnitTable {
        match self {
            Analyte::Platelets | Analyte::Anc => COUNTS,
            Analyte::Haemoglobin => HB,
            Analyte::Creatinine => CREA,
            Analyte::Bilirubin => BILI,
            Analyte::Ast | Analyte::Alt => ENZYME,
            Analyte::Inr => RATIO,
            Analyte::Aptt => SECONDS,
            Analyte::Lvef => PERCENT,
        }
    }

    /// Whether the rules need the lab's ULN with the result (× ULN criteria of EX4).
    pub fn needs_uln(&self) -> bool {
        matches!(self, Analyte::Bilirubin | Analyte::Ast | Analyte::Alt)
    }

    /// The plausibility limits of the analyte in its canonical unit: a value beyond
    /// them cannot be a true result (a typing or unit error) and is refused.
    /// Conservative physiological bounds, each wider than any value reported in
    /// living patients that we know of; the sources are named per analyte.
    pub fn plausibility(&self) -> Plausibility {
        let p = |possible, unusual| Plausibility { possible, unusual };
        match self {
            // Essential thrombocythaemia reaches a few thousand ×10⁹/L at most; a count
            // ≥ 1000 ×10⁹/L is "extreme thrombocytosis", < 10 ×10⁹/L is below the
            // prophylactic transfusion threshold (CTCAE grade 4 is < 25).
            Analyte::Platelets => p(Limits::from(0.0, 4000.0), Limits::from(10.0, 1000.0)),
            // Hyperleukocytosis of leukaemia is a few hundred ×10⁹/L of white cells;
            // a neutrophil count above 30 ×10⁹/L is a leukaemoid range (normal
            // upper limit ≈ 7.5). Zero is possible (agranulocytosis).
            Analyte::Anc => p(Limits::from(0.0, 300.0), Limits::from(0.0, 30.0)),
            // Conservative physiological bound: survival below 10 g/L or above 250 g/L
            // is not reported; < 60 g/L is severe anaemia (CTCAE grade 3 is < 80),
            // > 160 g/L in a woman meets the WHO 2016 polycythaemia vera criterion.
            Analyte::Haemoglobin => p(Limits::from(10.0, 250.0), Limits::from(60.0, 160.0)),
            // Conservative physiological bound: anuric kidney failure rarely passes
            // 2000 µmol/L; > 500 µmol/L is kidney failure (CTCAE grade 4 is > 6 × ULN),
            // < 25 µmol/L only with extreme muscle wasting.
            Analyte::Creatinine => p(Limits::from(5.0, 4000.0), Limits::from(25.0, 500.0)),
            // Conservative physiological bound: adult cholestasis reaches ≈ 1000 µmol/L
            // (≈ 60 mg/dL); > 340 µmol/L (20 mg/dL) is far above CTCAE grade 4 (> 10 × ULN).
            Analyte::Bilirubin => p(Limits::from(0.0, 1500.0), Limits::from(0.0, 340.0)),
            // Ischaemic or toxic hepatitis reaches 10 000–30 000 U/L; > 1000 U/L is the
            // range of those causes (CTCAE grade 4 is > 20 × ULN).
            Analyte::Ast | Analyte::Alt => {
                p(Limits::from(0.0, 50_000.0), Limits::from(0.0, 1000.0))
            }
            // Coagulometers report INR up to ≈ 10–20; normal ≈ 0.9–1.2, > 5 only with
            // over-anticoagulation.
            Analyte::Inr => p(Limits::from(0.5, 20.0), Limits::from(0.8, 5.0)),
            // Conservative physiological bound: no clot in 300 s is reported as
            // unclottable; normal ≈ 25–35 s, > 100 s only with heparin or a factor defect.
            Analyte::Aptt => p(Limits::from(10.0, 300.0), Limits::from(20.0, 100.0)),
            // Conservative physiological bound: a hyperdynamic ventricle ejects ≈ 80 %;
            // below 20 % is end-stage heart failure.
            Analyte::Lvef => p(Limits::above(0.0, 95.0), Limits::from(20.0, 80.0)),
        }
    }
}

/// A range of values in an analyte's canonical unit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    /// Lowest value.
    pub min: f64,
    /// Highest value (inclusive).
    pub max: f64,
    /// The lowest value itself is outside (an LVEF of 0 % is no heart beat).
    pub min_exclusive: bool,
}

impl Limits {
    const fn from(min: f64, max: f64) -> Limits {
        Limits {
            min,
            max,
            min_exclusive: false,
        }
    }

    const fn above(min: f64, max: f64) -> Limits {
        Limits {
            min,
            max,
            min_exclusive: true,
        }
    }

    /// Whether `v` lies within the range.
    pub fn contains(&self, v: f64) -> bool {
        let above_min = if self.min_exclusive {
            v > self.min
        } else {
            v >= self.min
        };
        above_min && v <= self.max
    }

    fn describe(&self, unit: &str) -> String {
        format!(
            "{} {} {} {} {unit}",
            if self.min_exclusive { "above" } else { "from" },
            self.min,
            if self.min_exclusive { "up to" } else { "to" },
            self.max
        )
    }
}

/// The plausibility of an analyte's values (issue 10, point 13).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Plausibility {
    /// Outside: cannot be a true result (`VALUE_IMPOSSIBLE`).
    pub possible: Limits,
    /// Outside (but possible): unusual, kept with a warning to check value and unit.
    pub unusual: Limits,
}

/// Normalises a unit spelling: case, spaces, µ/μ, ×, superscripts, `e`/`*` powers.
fn normalise_unit(unit: &str) -> String {
    let mut s: String = unit
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c {
            'µ' | 'μ' => 'u',
            '×' => 'x',
            '⁰' => '0',
            '¹' => '1',
            '²' => '2',
            '³' => '3',
            '⁶' => '6',
            '⁹' => '9',
            '^' => '^',
            other => other,
        })
        .collect::<String>()
        .to_lowercase();
    if let Some(rest) = s.strip_prefix('x') {
        s = rest.to_owned();
    }
    s = s.replace("10e", "10^").replace("10*", "10^");
    // Superscript exponents lose their caret: "10⁹/L" → "109/l".
    for (from, to) in [
        ("109/l", "10^9/l"),
        ("103/ul", "10^3/ul"),
        ("103/mm3", "10^3/mm3"),
    ] {
        if s == from {
            s = to.to_owned();
        }
    }
    s
}

/// Converts a value in `unit` to the analyte's canonical unit.
pub fn to_canonical(analyte: Analyte, value: f64, unit: &str) -> Result<f64, Refusal> {
    let key = normalise_unit(unit);
    let factor = analyte
        .units()
        .iter()
        .find(|(u, _)| *u == key)
        .map(|(_, f)| *f)
        .ok_or_else(|| {
            Refusal::new(
                Rule::UNIT_UNKNOWN,
                format!(
                    "The unit '{}' is not known for {}; accepted units: {}.",
                    unit.trim(),
                    analyte.label(),
                    analyte.accepted_units()
                ),
            )
            .with_hint("Enter the value in one of the accepted units.")
        })?;
    // Rounded to 6 decimals so that factors like 0.001 do not move a value
    // across a threshold (70 000 /mm³ must be exactly 70 × 10⁹/L).
    Ok(((value * factor) * 1e6).round() / 1e6)
}

fn impossible(msg: String) -> Refusal {
    Refusal::new(Rule::VALUE_IMPOSSIBLE, msg)
}

/// Builds a checked [`LabResult`] from what was entered.
pub fn lab_result(
    analyte: Analyte,
    value: f64,
    unit: &str,
    uln: Option<f64>,
    lln: Option<f64>,
    sample_at: DateTime<Utc>,
    origin: SampleOrigin,
) -> Result<LabResult, Refusal> {
    if !value.is_finite() {
        return Err(impossible(format!(
            "The {} value is not a number.",
            analyte.label()
        )));
    }
    let canonical_value = to_canonical(analyte, value, unit)?;
    let limits = analyte.plausibility();
    let canonical_unit = analyte.canonical_unit();
    let as_entered = format!("{} {} {}", analyte.label(), value, unit.trim());
    if !limits.possible.contains(canonical_value) {
        return Err(impossible(format!(
            "{as_entered} ({canonical_value:.4} {canonical_unit}) cannot be a true result: possible values lie {}.",
            limits.possible.describe(canonical_unit)
        ))
        .with_hint(format!(
            "Check the value and its unit (accepted units: {}).",
            analyte.accepted_units()
        )));
    }
    let mut warnings = Vec::new();
    if !limits.unusual.contains(canonical_value) {
        warnings.push(format!(
            "Unusual value: {as_entered} ({canonical_value:.4} {canonical_unit}) lies outside the usual {}–{} {canonical_unit}; check the value and its unit.",
            limits.unusual.min, limits.unusual.max
        ));
    }
    let canonical_uln = match uln {
        None if analyte.needs_uln() => {
            return Err(Refusal::new(
                Rule::VALUE_REQUIRED,
                format!(
                    "{} is judged as a multiple of the upper limit of normal: enter the lab's ULN with the result.",
                    analyte.label()
                ),
            ));
        }
        None => None,
        Some(u) if !u.is_finite() || u <= 0.0 => {
            return Err(impossible(format!(
                "The ULN of {} must be a positive number.",
                analyte.label()
            )));
        }
        Some(u) => Some(to_canonical(analyte, u, unit)?),
    };
    if let Some(l) = lln
        && (!l.is_finite() || l < 0.0 || uln.is_some_and(|u| l >= u))
    {
        return Err(impossible(format!(
            "The LLN of {} must be a non-negative number below the ULN.",
            analyte.label()
        )));
    }
    Ok(LabResult {
        analyte,
        value,
        unit: unit.trim().to_owned(),
        uln,
        lln,
        canonical_value,
        canonical_unit: analyte.canonical_unit().to_owned(),
        canonical_uln,
        sample_at,
        origin,
        warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn unit_spellings_normalise() {
        for u in [
            "10^9/L",
            "x10^9/L",
            "×10⁹/L",
            "10⁹/l",
            "10E9/L",
            " 10^9 / L ",
        ] {
            assert!(
                close(to_canonical(Analyte::Platelets, 150.0, u).unwrap(), 150.0),
                "{u}"
            );
        }
        assert!(close(
            to_canonical(Analyte::Platelets, 150.0, "10^3/µL").unwrap(),
            150.0
        ));
        assert!(close(
            to_canonical(Analyte::Platelets, 150_000.0, "/mm³").unwrap(),
            150.0
        ));
        assert!(close(
            to_canonical(Analyte::Ast, 0.5, "µkat/L").unwrap(),
            30.0
        ));
        assert!(close(to_canonical(Analyte::Inr, 1.1, "").unwrap(), 1.1));
    }

    #[test]
    fn enzyme_ratio_is_unit_free() {
        let t = DateTime::<Utc>::from_timestamp(1_760_000_000, 0).unwrap();
        let a = lab_result(
            Analyte::Alt,
            1.5,
            "µkat/L",
            Some(0.75),
            None,
            t,
            SampleOrigin::Study,
        )
        .unwrap();
        let b = lab_result(
            Analyte::Alt,
            90.0,
            "U/L",
            Some(45.0),
            None,
            t,
            SampleOrigin::Study,
        )
        .unwrap();
        assert!(close(a.x_uln().unwrap(), 2.0));
        assert!(close(b.x_uln().unwrap(), 2.0));
    }

    mod props {
        use super::super::*;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn any_value_is_either_refused_with_a_value_rule_or_within_range(
                v in proptest::num::f64::ANY,
                unit in prop::sample::select(vec!["10^9/L", "/mm3", "g/dL", "mg/dL", "µkat/L", "", "s", "%", "furlongs"]),
            ) {
                let t = DateTime::<Utc>::from_timestamp(1_760_000_000, 0).unwrap();
                for a in [Analyte::Platelets, Analyte::Haemoglobin, Analyte::Creatinine, Analyte::Inr, Analyte::Aptt, Analyte::Lvef] {
                    match lab_result(a, v, unit, None, None, t, SampleOrigin::Study) {
                        Ok(l) => {
                            let limits = a.plausibility();
                            prop_assert!(limits.possible.contains(l.canonical_value));
                            prop_assert_eq!(l.warnings.is_empty(), limits.unusual.contains(l.canonical_value));
                        }
                        Err(r) => prop_assert!(matches!(r.rule, Rule::VALUE_IMPOSSIBLE | Rule::UNIT_UNKNOWN)),
                    }
                }
            }
        }
    }
}
