//! Arm 1 treatment: T-DXd administrations and the label's dose rules
//! (PROTOCOL §9; clinical-rules §1.1–§1.3; EU SmPC 4.2/4.4, enhertuhcp.com).
//!
//! A [`TdxdCourse`] is the course so far: the highest dose level still allowed,
//! the open interruptions and whether T-DXd is discontinued. Toxicity findings
//! become [`DoseDecision`]s through the rule functions ([`ild_decision`],
//! [`ild_resolved`], [`lvef_decision`], [`lvef_repeat_decision`],
//! [`neutropenia_decision`]); [`TdxdCourse::apply`] folds a decision in, and
//! [`TdxdCourse::record`] checks and adds an administration. Only the rules the
//! label states unambiguously are enforced.

use chrono::NaiveDate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::rule::{Refusal, Rule};
use crate::settings::Settings;

/// T-DXd dose level (label reduction schedule, breast cancer).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum DoseLevel {
    /// 5.4 mg/kg, the starting dose.
    #[serde(rename = "5.4")]
    Start,
    /// 4.4 mg/kg, first reduction.
    #[serde(rename = "4.4")]
    Reduced1,
    /// 3.2 mg/kg, second reduction; a further reduction means discontinuation.
    #[serde(rename = "3.2")]
    Reduced2,
}

impl DoseLevel {
    /// mg per kg body weight.
    pub fn mg_per_kg(self) -> f64 {
        match self {
            DoseLevel::Start => 5.4,
            DoseLevel::Reduced1 => 4.4,
            DoseLevel::Reduced2 => 3.2,
        }
    }

    /// One level down, or `None` below 3.2 mg/kg (then: discontinue).
    pub fn one_lower(self) -> Option<DoseLevel> {
        match self {
            DoseLevel::Start => Some(DoseLevel::Reduced1),
            DoseLevel::Reduced1 => Some(DoseLevel::Reduced2),
            DoseLevel::Reduced2 => None,
        }
    }

    /// Steps below the start (0, 1, 2).
    fn rank(self) -> u8 {
        match self {
            DoseLevel::Start => 0,
            DoseLevel::Reduced1 => 1,
            DoseLevel::Reduced2 => 2,
        }
    }
}

/// One T-DXd administration as entered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Administration {
    /// Date given.
    pub date: NaiveDate,
    /// Body weight used for the dose, kg.
    pub weight_kg: f64,
    /// Dose level.
    pub dose_level: DoseLevel,
    /// Dose given, mg.
    pub dose_mg: f64,
    /// Why the level is lower than the previous one (required for a reduction the course did not impose).
    pub reduction_reason: Option<String>,
    /// Why the dose is later than due, if it is.
    pub delay_reason: Option<String>,
}

/// What to do when an interruption ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OnResolution {
    /// Resume at the same dose level.
    SameDose,
    /// Resume one level down (discontinue below 3.2 mg/kg).
    OneLevelDown,
    /// Decided when it resolves (ILD grade 1: by the days to resolution; LVEF: by the repeat).
    DecidedAtResolution,
}

/// What a dose rule says to do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum DoseAction {
    /// Keep dosing as planned.
    Continue,
    /// Hold T-DXd until a condition is met.
    Interrupt {
        /// The condition, in words.
        until: String,
        /// What happens then.
        then: OnResolution,
    },
    /// End the interruption of this rule at the same level.
    ResumeSameDose,
    /// End the interruption of this rule one level down.
    ResumeOneLevelDown,
    /// Stop T-DXd permanently.
    Discontinue,
}

/// A dose rule's decision with its reason.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DoseDecision {
    /// The rule (`TDXD_ILD`, `TDXD_LVEF`, `TDXD_NEUTROPENIA`).
    pub rule: Rule,
    /// What to do.
    pub action: DoseAction,
    /// Repeat the LVEF within this many days, when the LVEF rule asks for it.
    pub repeat_lvef_within_days: Option<u32>,
    /// Why, with the values and thresholds.
    pub reason: String,
}

fn decision(rule: Rule, action: DoseAction, reason: String) -> DoseDecision {
    DoseDecision {
        rule,
        action,
        repeat_lvef_within_days: None,
        reason,
    }
}

fn check_grade(grade: u8) -> Result<(), Refusal> {
    if (1..=5).contains(&grade) {
        Ok(())
    } else {
        Err(Refusal::new(
            Rule::CTCAE_GRADE,
            format!("CTCAE grade {grade} does not exist; grades run 1–5."),
        ))
    }
}

/// ILD/pneumonitis (SmPC 4.4): grade 1 → interrupt until grade 0 (the dose on
/// resumption depends on the days to resolution, see [`ild_resolved`]);
/// grade ≥ 2 → discontinue permanently.
pub fn ild_decision(grade: u8) -> Result<DoseDecision, Refusal> {
    check_grade(grade)?;
    Ok(if grade == 1 {
        decision(
            Rule::TDXD_ILD,
            DoseAction::Interrupt {
                until: "ILD/pneumonitis resolved to grade 0".into(),
                then: OnResolution::DecidedAtResolution,
            },
            "ILD/pneumonitis grade 1: interrupt T-DXd until resolved to grade 0".into(),
        )
    } else {
        decision(
            Rule::TDXD_ILD,
            DoseAction::Discontinue,
            format!("ILD/pneumonitis grade {grade} (≥ 2): permanently discontinue T-DXd"),
        )
    })
}

/// Grade 1 ILD resolved to grade 0: resolved ≤ 28 days (configurable) from onset →
/// same dose; later → one level down.
pub fn ild_resolved(
    onset: NaiveDate,
    resolved_on: NaiveDate,
    s: &Settings,
) -> Result<DoseDecision, Refusal> {
    let days = (resolved_on - onset).num_days();
    if days < 0 {
        return Err(Refusal::new(
            Rule::VALUE_IMPOSSIBLE,
            format!("ILD resolved {resolved_on}, before its onset {onset}."),
        ));
    }
    let max = s.tdxd.ild_resolution_same_dose_max_days;
    Ok(if days <= i64::from(max) {
        decision(
            Rule::TDXD_ILD,
            DoseAction::ResumeSameDose,
            format!(
                "ILD grade 1 resolved {days} days after onset (≤ {max}): resume at the same dose"
            ),
        )
    } else {
        decision(
            Rule::TDXD_ILD,
            DoseAction::ResumeOneLevelDown,
            format!(
                "ILD grade 1 resolved {days} days after onset (> {max}): resume one dose level down"
            ),
        )
    })
}

/// The LVEF band of a first finding (which the repeat is judged against).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum LvefBand {
    /// LVEF > 45 % and a drop ≤ 20 points: continue.
    Continue,
    /// LVEF 40–45 % and a drop < 10: continue, repeat within 3 weeks.
    ContinueRepeat,
    /// LVEF 40–45 % and a drop of 10–20: interrupt; discontinue unless back within 10 points of baseline.
    InterruptUntilRecovered,
    /// LVEF < 40 % or a drop > 20: interrupt; discontinue if confirmed.
    InterruptConfirm,
    /// Symptomatic congestive heart failure: discontinue.
    SymptomaticChf,
}

/// The LVEF band of a value (percent) against the baseline (label table, clinical-rules §1.3).
pub fn lvef_band(baseline_pct: f64, current_pct: f64, symptomatic_chf: bool) -> LvefBand {
    let drop = baseline_pct - current_pct;
    if symptomatic_chf {
        LvefBand::SymptomaticChf
    } else if current_pct < 40.0 || drop > 20.0 {
        LvefBand::InterruptConfirm
    } else if current_pct <= 45.0 {
        if drop < 10.0 {
            LvefBand::ContinueRepeat
        } else {
            LvefBand::InterruptUntilRecovered
        }
    } else {
        LvefBand::Continue
    }
}

/// The LVEF rule for a new LVEF value.
pub fn lvef_decision(
    baseline_pct: f64,
    current_pct: f64,
    symptomatic_chf: bool,
    s: &Settings,
) -> DoseDecision {
    let drop = baseline_pct - current_pct;
    let repeat = s.tdxd.lvef_repeat_within_days;
    let values = format!("LVEF {current_pct} % (baseline {baseline_pct} %, drop {drop} points)");
    let (action, repeat_days, why) = match lvef_band(baseline_pct, current_pct, symptomatic_chf) {
        LvefBand::SymptomaticChf => (
            DoseAction::Discontinue,
            None,
            "symptomatic congestive heart failure: permanently discontinue".to_owned(),
        ),
        LvefBand::InterruptConfirm => (
            DoseAction::Interrupt {
                until: format!(
                    "a repeat LVEF within {repeat} days does not confirm < 40 % or a drop > 20 points"
                ),
                then: OnResolution::DecidedAtResolution,
            },
            Some(repeat),
            "< 40 % or a drop > 20 points: interrupt, repeat; discontinue if confirmed".to_owned(),
        ),
        LvefBand::InterruptUntilRecovered => (
            DoseAction::Interrupt {
                until: format!("a repeat LVEF within {repeat} days within 10 points of baseline"),
                then: OnResolution::DecidedAtResolution,
            },
            Some(repeat),
            "40–45 % with a drop of 10–20 points: interrupt, repeat; discontinue if not recovered"
                .to_owned(),
        ),
        LvefBand::ContinueRepeat => (
            DoseAction::Continue,
            Some(repeat),
            "40–45 % with a drop < 10 points: continue, repeat within 3 weeks".to_owned(),
        ),
        LvefBand::Continue => (
            DoseAction::Continue,
            None,
            "> 45 %, drop ≤ 20 points: continue".to_owned(),
        ),
    };
    DoseDecision {
        rule: Rule::TDXD_LVEF,
        action,
        repeat_lvef_within_days: repeat_days,
        reason: format!("{values}: {why}"),
    }
}

/// The LVEF rule for the repeat after an interrupting finding of band `first`:
/// after < 40 % / drop > 20, confirmed → discontinue, else resume at the same dose;
/// after 40–45 % with drop 10–20, back within 10 points of baseline → resume at the
/// same dose, else discontinue. Symptomatic CHF always discontinues.
pub fn lvef_repeat_decision(
    first: LvefBand,
    baseline_pct: f64,
    repeat_pct: f64,
    symptomatic_chf: bool,
) -> DoseDecision {
    let drop = baseline_pct - repeat_pct;
    let values =
        format!("Repeat LVEF {repeat_pct} % (baseline {baseline_pct} %, drop {drop} points)");
    let (action, why) = if symptomatic_chf {
        (
            DoseAction::Discontinue,
            "symptomatic congestive heart failure: permanently discontinue",
        )
    } else {
        match first {
            LvefBand::InterruptConfirm if repeat_pct < 40.0 || drop > 20.0 => (
                DoseAction::Discontinue,
                "< 40 % or drop > 20 points confirmed: permanently discontinue",
            ),
            LvefBand::InterruptUntilRecovered if drop >= 10.0 => (
                DoseAction::Discontinue,
                "not recovered to within 10 points of baseline: permanently discontinue",
            ),
            LvefBand::InterruptConfirm | LvefBand::InterruptUntilRecovered => (
                DoseAction::ResumeSameDose,
                "recovered: resume at the same dose",
            ),
            LvefBand::Continue | LvefBand::ContinueRepeat | LvefBand::SymptomaticChf => {
                (DoseAction::Continue, "no interruption to resolve: continue")
            }
        }
    };
    decision(Rule::TDXD_LVEF, action, format!("{values}: {why}"))
}

/// Neutropenia (PROTOCOL §9): grade 3 → hold until ≤ grade 2, same dose;
/// grade 4 or febrile neutropenia → hold until resolved, then one level down;
/// grades 1–2 → continue.
pub fn neutropenia_decision(grade: u8, febrile: bool) -> Result<DoseDecision, Refusal> {
    check_grade(grade)?;
    Ok(if febrile {
        decision(
            Rule::TDXD_NEUTROPENIA,
            DoseAction::Interrupt {
                until: "febrile neutropenia resolved".into(),
                then: OnResolution::OneLevelDown,
            },
            format!(
                "Febrile neutropenia (neutropenia grade {grade}): interrupt until resolved, then one level down"
            ),
        )
    } else {
        match grade {
            1 | 2 => decision(
                Rule::TDXD_NEUTROPENIA,
                DoseAction::Continue,
                format!("Neutropenia grade {grade}: continue"),
            ),
            3 => decision(
                Rule::TDXD_NEUTROPENIA,
                DoseAction::Interrupt {
                    until: "neutrophils back to grade ≤ 2 (≥ 1.0 ×10⁹/L)".into(),
                    then: OnResolution::SameDose,
                },
                "Neutropenia grade 3: interrupt until grade ≤ 2, then the same dose".into(),
            ),
            _ => decision(
                Rule::TDXD_NEUTROPENIA,
                DoseAction::Interrupt {
                    until: "neutrophils back to grade ≤ 2 (≥ 1.0 ×10⁹/L)".into(),
                    then: OnResolution::OneLevelDown,
                },
                format!(
                    "Neutropenia grade {grade}: interrupt until grade ≤ 2, then one level down"
                ),
            ),
        }
    })
}

/// An open interruption.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Interruption {
    /// The rule that interrupted.
    pub rule: Rule,
    /// Since when.
    pub since: NaiveDate,
    /// Until what.
    pub until: String,
    /// What happens then.
    pub then: OnResolution,
}

/// A permanent discontinuation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Discontinuation {
    /// The rule (or `TDXD_DOSE` when the ladder ran out).
    pub rule: Rule,
    /// When.
    pub on: NaiveDate,
    /// Why.
    pub reason: String,
}

/// The T-DXd course so far.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TdxdCourse {
    /// The highest level still allowed (never rises: no re-escalation).
    pub level: DoseLevel,
    /// Administrations so far, in order.
    pub administrations: Vec<Administration>,
    /// Open interruptions.
    pub interruptions: Vec<Interruption>,
    /// Set once T-DXd is permanently discontinued.
    pub discontinued: Option<Discontinuation>,
    /// Every decision applied, in order, with its date (the course's audit trail).
    pub decisions: Vec<(NaiveDate, DoseDecision)>,
}

/// The checked administration with what was derived from it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AdministrationCheck {
    /// Cycle number (1 = cycle 1 day 1).
    pub cycle: u32,
    /// Level × weight, mg.
    pub expected_dose_mg: f64,
    /// Infusion volume at 20 mg/mL (SmPC section 2), mL.
    pub volume_ml: f64,
    /// Days since the previous administration.
    pub days_since_previous: Option<i64>,
    /// Days later than due (0 when on time).
    pub delay_days: i64,
    /// The level it was reduced from, when this is a reduction.
    pub reduced_from: Option<DoseLevel>,
    /// Lines a nurse can read.
    pub evidence: Vec<String>,
    /// Settings version used.
    pub settings_version: u32,
}

impl Default for TdxdCourse {
    fn default() -> Self {
        Self::new()
    }
}

impl TdxdCourse {
    /// A course before cycle 1: 5.4 mg/kg allowed, nothing open.
    pub fn new() -> Self {
        TdxdCourse {
            level: DoseLevel::Start,
            administrations: Vec::new(),
            interruptions: Vec::new(),
            discontinued: None,
            decisions: Vec::new(),
        }
    }

    /// Whether a dose may be given now (not discontinued, nothing interrupting).
    pub fn may_dose(&self) -> bool {
        self.discontinued.is_none() && self.interruptions.is_empty()
    }

    fn lower_or_discontinue(&mut self, rule: Rule, on: NaiveDate, why: &str) {
        match self.level.one_lower() {
            Some(l) => self.level = l,
            None => {
                self.discontinued = Some(Discontinuation {
                    rule,
                    on,
                    reason: format!(
                        "{why}: a reduction below 3.2 mg/kg is needed, so T-DXd is discontinued"
                    ),
                });
                self.interruptions.clear();
            }
        }
    }

    /// The course after a dose decision taken on `on`. A resumption ends the open
    /// interruptions of the same rule and goes one level down when the decision
    /// says so or an ended interruption said so (grade 4 / febrile neutropenia);
    /// one level down from 3.2 mg/kg discontinues. After discontinuation nothing
    /// changes the course.
    pub fn apply(&self, d: &DoseDecision, on: NaiveDate) -> TdxdCourse {
        let mut c = self.clone();
        c.decisions.push((on, d.clone()));
        if c.discontinued.is_some() {
            return c;
        }
        match &d.action {
            DoseAction::Continue => {}
            DoseAction::Interrupt { until, then } => c.interruptions.push(Interruption {
                rule: d.rule,
                since: on,
                until: until.clone(),
                then: *then,
            }),
            DoseAction::ResumeSameDose | DoseAction::ResumeOneLevelDown => {
                let reduce = d.action == DoseAction::ResumeOneLevelDown
                    || c.interruptions
                        .iter()
                        .any(|i| i.rule == d.rule && i.then == OnResolution::OneLevelDown);
                c.interruptions.retain(|i| i.rule != d.rule);
                if reduce {
                    c.lower_or_discontinue(d.rule, on, &d.reason);
                }
            }
            DoseAction::Discontinue => {
                c.discontinued = Some(Discontinuation {
                    rule: d.rule,
                    on,
                    reason: d.reason.clone(),
                });
                c.interruptions.clear();
            }
        }
        c
    }

    /// The course after the toxicity of `rule` resolved on `on`: each open
    /// interruption of that rule resumes as it said (same dose, or one level
    /// down). Interruptions decided at resolution (ILD grade 1, LVEF) need their
    /// own decision ([`ild_resolved`], [`lvef_repeat_decision`]) and are refused here.
    pub fn resolve(&self, rule: Rule, on: NaiveDate) -> Result<TdxdCourse, Refusal> {
        let open: Vec<&Interruption> = self
            .interruptions
            .iter()
            .filter(|i| i.rule == rule)
            .collect();
        if open.is_empty() {
            return Err(Refusal::new(
                rule,
                format!("No open interruption under {rule} to resolve."),
            ));
        }
        if open
            .iter()
            .any(|i| i.then == OnResolution::DecidedAtResolution)
        {
            return Err(Refusal::new(
                rule,
                format!(
                    "The interruption under {rule} is decided at resolution: record the resolution's values."
                ),
            ));
        }
        let reduce = open.iter().any(|i| i.then == OnResolution::OneLevelDown);
        let action = if reduce {
            DoseAction::ResumeOneLevelDown
        } else {
            DoseAction::ResumeSameDose
        };
        let reason = format!(
            "{rule} resolved: resume {}",
            if reduce {
                "one level down"
            } else {
                "at the same dose"
            }
        );
        Ok(self.apply(&decision(rule, action, reason), on))
    }

    /// The course after the investigator reduces the dose one level on `on` for
    /// `reason` (outside a rule); below 3.2 mg/kg this discontinues T-DXd.
    pub fn reduce(&self, on: NaiveDate, reason: &str) -> TdxdCourse {
        let mut c = self.clone();
        if c.discontinued.is_none() {
            c.lower_or_discontinue(Rule::TDXD_DOSE, on, reason);
        }
        c
    }

    /// Checks an administration against the course: not discontinued
    /// (`TDXD_DISCONTINUED`), not interrupted (`TDXD_INTERRUPTED`), no
    /// re-escalation, a reason for a reduction and dose = level × weight within
    /// the tolerance (`TDXD_DOSE`), not earlier than the cycle allows (`TDXD_INTERVAL`).
    pub fn check(&self, a: &Administration, s: &Settings) -> Result<AdministrationCheck, Refusal> {
        let t = &s.tdxd;
        if let Some(d) = &self.discontinued {
            return Err(Refusal::new(
                Rule::TDXD_DISCONTINUED,
                format!(
                    "T-DXd was permanently discontinued on {} ({}): {}.",
                    d.on, d.rule, d.reason
                ),
            ));
        }
        if !self.interruptions.is_empty() {
            let open: Vec<String> = self
                .interruptions
                .iter()
                .map(|i| format!("{} since {} until {}", i.rule, i.since, i.until))
                .collect();
            return Err(Refusal::new(
                Rule::TDXD_INTERRUPTED,
                format!("T-DXd is interrupted: {}.", open.join("; ")),
            )
            .with_hint("Record the resolution (the rule's resume decision) first."));
        }
        if !(a.weight_kg.is_finite() && a.weight_kg > 20.0 && a.weight_kg < 300.0) {
            return Err(Refusal::new(
                Rule::VALUE_IMPOSSIBLE,
                format!("Body weight {} kg cannot be true (20–300 kg).", a.weight_kg),
            ));
        }
        if a.dose_level.rank() < self.level.rank() {
            return Err(Refusal::new(
                Rule::TDXD_DOSE,
                format!(
                    "Dose level {} mg/kg is above the current level {} mg/kg: re-escalation is not allowed.",
                    a.dose_level.mg_per_kg(),
                    self.level.mg_per_kg()
                ),
            )
            .with_hint(format!("Give {} mg/kg or lower.", self.level.mg_per_kg())));
        }
        let reduced_from = (a.dose_level.rank() > self.level.rank()).then_some(self.level);
        let reason = a
            .reduction_reason
            .as_deref()
            .map(str::trim)
            .filter(|r| !r.is_empty());
        if let (Some(from), None) = (reduced_from, reason) {
            return Err(Refusal::new(
                Rule::TDXD_DOSE,
                format!(
                    "Dose reduced from {} to {} mg/kg without a reason.",
                    from.mg_per_kg(),
                    a.dose_level.mg_per_kg()
                ),
            )
            .with_hint("Enter the reason for the reduction."));
        }
        let expected = ((a.dose_level.mg_per_kg() * a.weight_kg) * 10.0).round() / 10.0;
        let off_pct = (a.dose_mg - expected).abs() / expected * 100.0;
        if !a.dose_mg.is_finite() || off_pct > t.dose_tolerance_pct {
            return Err(Refusal::new(
                Rule::TDXD_DOSE,
                format!(
                    "Dose {} mg differs from {} mg/kg × {} kg = {expected} mg by {off_pct:.1} % (max {} %).",
                    a.dose_mg,
                    a.dose_level.mg_per_kg(),
                    a.weight_kg,
                    t.dose_tolerance_pct
                ),
            ));
        }
        let previous = self.administrations.last();
        let days = previous.map(|p| (a.date - p.date).num_days());
        let earliest = i64::from(t.cycle_days) - i64::from(t.dosing_window_days);
        if let (Some(p), Some(d)) = (previous, days)
            && d < earliest
        {
            return Err(Refusal::new(
                Rule::TDXD_INTERVAL,
                format!(
                    "Administration on {} is {d} days after the previous one ({}); the earliest is day {earliest} of a {}-day cycle.",
                    a.date, p.date, t.cycle_days
                ),
            ));
        }
        let delay_days = days.map_or(0, |d| (d - i64::from(t.cycle_days)).max(0));
        let cycle = u32::try_from(self.administrations.len())
            .unwrap_or(u32::MAX)
            .saturating_add(1);
        let mut evidence = vec![format!(
            "Cycle {cycle} on {}: {} mg/kg × {} kg = {expected} mg; given {} mg",
            a.date,
            a.dose_level.mg_per_kg(),
            a.weight_kg,
            a.dose_mg
        )];
        if let Some(d) = days {
            evidence.push(format!(
                "{d} days after the previous dose (cycle {} days); delay {delay_days} days",
                t.cycle_days
            ));
        }
        if let (Some(from), Some(r)) = (reduced_from, reason) {
            evidence.push(format!("Reduced from {} mg/kg: {r}", from.mg_per_kg()));
        }
        Ok(AdministrationCheck {
            cycle,
            expected_dose_mg: expected,
            volume_ml: a.dose_mg / 20.0,
            days_since_previous: days,
            delay_days,
            reduced_from,
            evidence,
            settings_version: s.version,
        })
    }

    /// Checks and adds an administration; a reduction lowers the allowed level for good.
    pub fn record(
        &self,
        a: &Administration,
        s: &Settings,
    ) -> Result<(TdxdCourse, AdministrationCheck), Refusal> {
        let check = self.check(a, s)?;
        let mut c = self.clone();
        c.level = a.dose_level;
        c.administrations.push(a.clone());
        Ok((c, check))
    }
}
