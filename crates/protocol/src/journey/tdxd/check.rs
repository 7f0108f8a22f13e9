//! The checks an administration must pass against the course (PROTOCOL §9; SmPC 4.2):
//! not discontinued or interrupted, no re-escalation, a reason for a reduction, the
//! dose in mg, and the cycle's interval.

use chrono::NaiveDate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::DoseLevel;
use super::course::TdxdCourse;
use crate::rule::{Refusal, Rule};
use crate::settings::Settings;

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

impl TdxdCourse {
    /// Refuses dosing while discontinued (`TDXD_DISCONTINUED`) or interrupted
    /// (`TDXD_INTERRUPTED`), naming the rule and since when.
    pub fn ensure_may_dose(&self) -> Result<(), Refusal> {
        if let Some(d) = &self.discontinued {
            return Err(Refusal::new(
                Rule::TDXD_DISCONTINUED,
                format!(
                    "T-DXd was permanently discontinued on {} ({}): {}.",
                    d.on, d.rule, d.reason
                ),
            ));
        }
        if self.interruptions.is_empty() {
            return Ok(());
        }
        let open: Vec<String> = self
            .interruptions
            .iter()
            .map(|i| format!("{} since {} until {}", i.rule, i.since, i.until))
            .collect();
        Err(Refusal::new(
            Rule::TDXD_INTERRUPTED,
            format!("T-DXd is interrupted: {}.", open.join("; ")),
        )
        .with_hint("Record the resolution (the rule's resume decision) first."))
    }

    /// No re-escalation above the course level; a reduction needs a reason.
    /// Returns the level reduced from, for a reduction.
    fn check_level(&self, a: &Administration) -> Result<Option<DoseLevel>, Refusal> {
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
        if let (Some(from), None) = (reduced_from, reduction_reason(a)) {
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
        Ok(reduced_from)
    }

    /// Not earlier than `cycle_days − dosing_window_days` after the previous dose
    /// (`TDXD_INTERVAL`). Returns the days since the previous dose.
    fn check_interval(&self, a: &Administration, s: &Settings) -> Result<Option<i64>, Refusal> {
        let t = &s.tdxd;
        let Some(p) = self.administrations.last() else {
            return Ok(None);
        };
        let d = (a.date - p.date).num_days();
        let earliest = i64::from(t.cycle_days) - i64::from(t.dosing_window_days);
        if d < earliest {
            return Err(Refusal::new(
                Rule::TDXD_INTERVAL,
                format!(
                    "Administration on {} is {d} days after the previous one ({}); the earliest is day {earliest} of a {}-day cycle.",
                    a.date, p.date, t.cycle_days
                ),
            ));
        }
        Ok(Some(d))
    }

    /// Checks an administration against the course: not discontinued
    /// (`TDXD_DISCONTINUED`), not interrupted (`TDXD_INTERRUPTED`), no
    /// re-escalation, a reason for a reduction and dose = level × weight within
    /// the tolerance (`TDXD_DOSE`), not earlier than the cycle allows (`TDXD_INTERVAL`).
    pub fn check(&self, a: &Administration, s: &Settings) -> Result<AdministrationCheck, Refusal> {
        self.ensure_may_dose()?;
        let expected = check_dose_mg(a, s)?;
        let reduced_from = self.check_level(a)?;
        let days = self.check_interval(a, s)?;
        let cycle_days = s.tdxd.cycle_days;
        let delay_days = days.map_or(0, |d| (d - i64::from(cycle_days)).max(0));
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
                "{d} days after the previous dose (cycle {cycle_days} days); delay {delay_days} days{}",
                a.delay_reason.as_deref().map(|r| format!(": {r}")).unwrap_or_default()
            ));
        }
        if let (Some(from), Some(r)) = (reduced_from, reduction_reason(a)) {
            evidence.push(format!("Reduced from {} mg/kg: {r}", from.mg_per_kg()));
        }
        // clinical-rules A23: which table the dose rules follow, with the protocol version.
        evidence.push(format!("T-DXd {}; {}", s.tdxd.dose_rules(), s.provenance()));
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
        c.level = c.level.lower(a.dose_level);
        c.administrations.push(a.clone());
        Ok((c, check))
    }
}

fn reduction_reason(a: &Administration) -> Option<&str> {
    a.reduction_reason
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty())
}

/// Level × weight in mg (to 0.1 mg), refusing an impossible weight
/// (`VALUE_IMPOSSIBLE`) or a dose further from it than `tdxd.dose_tolerance_pct` (`TDXD_DOSE`).
pub fn check_dose_mg(a: &Administration, s: &Settings) -> Result<f64, Refusal> {
    if !(a.weight_kg.is_finite() && a.weight_kg > 20.0 && a.weight_kg < 300.0) {
        return Err(Refusal::new(
            Rule::VALUE_IMPOSSIBLE,
            format!("Body weight {} kg cannot be true (20–300 kg).", a.weight_kg),
        ));
    }
    let tolerance = s.tdxd.dose_tolerance_pct;
    let expected = ((a.dose_level.mg_per_kg() * a.weight_kg) * 10.0).round() / 10.0;
    let off_pct = (a.dose_mg - expected).abs() / expected * 100.0;
    if !a.dose_mg.is_finite() || off_pct > tolerance {
        return Err(Refusal::new(
            Rule::TDXD_DOSE,
            format!(
                "Dose {} mg differs from {} mg/kg × {} kg = {expected} mg by {off_pct:.1} % (max {tolerance} %).",
                a.dose_mg,
                a.dose_level.mg_per_kg(),
                a.weight_kg,
            ),
        ));
    }
    Ok(expected)
}
