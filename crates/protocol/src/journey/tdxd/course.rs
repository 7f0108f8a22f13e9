//! The T-DXd course: the allowed level, administrations, open interruptions, a
//! pending LVEF repeat, discontinuation, and how a dose decision folds in
//! (PROTOCOL §9; clinical-rules §1.2–§1.3).

use chrono::NaiveDate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::check::Administration;
use super::rules::ANC_RECOVERED;
use super::{DoseAction, DoseDecision, DoseLevel, OnResolution, decision};
use crate::rule::{Refusal, Rule};
use crate::settings::Settings;

/// Where a dose decision comes from, so that a correction or retraction of that
/// fact recomputes what it caused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DecisionSource {
    /// An adverse event (by its id, the same across follow-ups).
    AdverseEvent {
        /// The AE id.
        ae_id: String,
    },
    /// A measurement on T-DXd (LVEF, ANC), by its lab entry.
    Lab {
        /// The lab entry id.
        entry_id: String,
    },
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
    /// The fact that interrupted (none for a decision applied by hand).
    #[serde(default)]
    pub source: Option<DecisionSource>,
}

impl Interruption {
    /// A neutropenia hold (grade 3 or 4, not febrile) ends when a neutrophil
    /// count of grade ≤ 2 is measured; a febrile neutropenia needs its AE resolved.
    pub fn lifted_by_anc(&self) -> bool {
        self.rule == Rule::TDXD_NEUTROPENIA && self.until == ANC_RECOVERED
    }
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

/// A dose decision with the day it takes effect, the fact it comes from and the
/// settings version it was decided under.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DatedDecision {
    /// When applied.
    pub on: NaiveDate,
    /// The decision.
    pub decision: DoseDecision,
    /// The fact it was decided from.
    #[serde(default)]
    pub source: Option<DecisionSource>,
    /// The settings version it was decided under.
    #[serde(default)]
    pub settings_version: Option<u32>,
    /// The dose-modification table and SmPC date it was decided by, with the protocol
    /// version (`tdxd.dose_mod_table_version`, `tdxd.smpc_date`; clinical-rules A23).
    #[serde(default)]
    pub dose_rules: Option<String>,
}

impl DatedDecision {
    /// A decision of `source` on `on` under the settings `s` (their version, protocol
    /// version and dose-modification table are recorded with it).
    pub fn new(
        on: NaiveDate,
        decision: DoseDecision,
        source: Option<DecisionSource>,
        s: &Settings,
    ) -> DatedDecision {
        DatedDecision {
            on,
            decision,
            source,
            settings_version: Some(s.version),
            dose_rules: Some(format!("{}; {}", s.tdxd.dose_rules(), s.provenance())),
        }
    }
}

/// An LVEF to repeat by a date (LVEF 40–45 % with a drop < 10 points: continue and
/// repeat within 3 weeks; or an interrupting finding waiting for its repeat).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct LvefRepeat {
    /// The finding's date.
    pub since: NaiveDate,
    /// Repeat the LVEF by this date.
    pub due: NaiveDate,
    /// The finding, in words.
    pub reason: String,
}

/// The T-DXd course so far.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TdxdCourse {
    /// The highest level still allowed: never above a level already given, and
    /// lowered by the rules (no re-escalation).
    pub level: DoseLevel,
    /// Administrations so far, in order.
    pub administrations: Vec<Administration>,
    /// Open interruptions.
    pub interruptions: Vec<Interruption>,
    /// Set once T-DXd is permanently discontinued.
    pub discontinued: Option<Discontinuation>,
    /// An LVEF to repeat, with its due date.
    #[serde(default)]
    pub lvef_repeat: Option<LvefRepeat>,
    /// Every decision applied, in date order (the course's audit trail).
    pub decisions: Vec<DatedDecision>,
    /// The decisions recorded from measurements on T-DXd (LVEF, ANC): facts the
    /// course is derived from, kept with their lab entry and settings version.
    #[serde(default)]
    pub measurements: Vec<DatedDecision>,
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
            lvef_repeat: None,
            decisions: Vec::new(),
            measurements: Vec::new(),
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

    /// The course after a dose decision taken on `on` (applied by hand, with no
    /// source): see [`TdxdCourse::apply_dated`].
    pub fn apply(&self, d: &DoseDecision, on: NaiveDate) -> TdxdCourse {
        let mut c = self.clone();
        c.apply_dated(&DatedDecision {
            on,
            decision: d.clone(),
            source: None,
            settings_version: None,
            dose_rules: None,
        });
        c
    }

    /// Folds a decision in. An interruption opens; a resumption ends the open
    /// interruptions it answers (those of its AE; for a measurement, those of its
    /// rule the measurement lifts; by hand, all of its rule) and goes one level
    /// down when the decision says so or an ended interruption said so (grade 4 /
    /// febrile neutropenia); one level down from 3.2 mg/kg discontinues. A
    /// resumption that ends nothing changes nothing. Any LVEF decision answers a
    /// pending LVEF repeat and may ask for a new one. After discontinuation nothing
    /// changes the course.
    pub fn apply_dated(&mut self, dd: &DatedDecision) {
        let (d, on) = (&dd.decision, dd.on);
        if self.discontinued.is_some() {
            self.decisions.push(dd.clone());
            return;
        }
        if d.rule == Rule::TDXD_LVEF {
            self.lvef_repeat = d.repeat_lvef_within_days.map(|days| LvefRepeat {
                since: on,
                due: on + chrono::Days::new(u64::from(days)),
                reason: d.reason.clone(),
            });
        }
        match &d.action {
            DoseAction::Continue => {}
            DoseAction::Interrupt { until, then } => self.interruptions.push(Interruption {
                rule: d.rule,
                since: on,
                until: until.clone(),
                then: *then,
                source: dd.source.clone(),
            }),
            DoseAction::ResumeSameDose | DoseAction::ResumeOneLevelDown => {
                let (ended, open): (Vec<Interruption>, Vec<Interruption>) =
                    self.interruptions.drain(..).partition(|i| ends(dd, i));
                self.interruptions = open;
                if ended.is_empty() {
                    return;
                }
                let reduce = d.action == DoseAction::ResumeOneLevelDown
                    || ended.iter().any(|i| i.then == OnResolution::OneLevelDown);
                if reduce {
                    self.lower_or_discontinue(d.rule, on, &d.reason);
                }
            }
            DoseAction::Discontinue => {
                self.discontinued = Some(Discontinuation {
                    rule: d.rule,
                    on,
                    reason: d.reason.clone(),
                });
                self.interruptions.clear();
                self.lvef_repeat = None;
            }
        }
        self.decisions.push(dd.clone());
    }

    /// The course after the toxicity of `rule` resolved on `on`: each open
    /// interruption of that rule resumes as it said (same dose, or one level
    /// down). Interruptions decided at resolution (ILD grade 1, LVEF) need their
    /// own decision ([`super::ild_resolved`], [`super::lvef_repeat_decision`]) and are refused here.
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
}

/// Whether resumption `r` ends interruption `i`: the same rule, and the same
/// adverse event; a measurement ends what it measures (an ANC the holds waiting
/// for it, an LVEF repeat the LVEF holds); by hand, every interruption of the rule.
fn ends(r: &DatedDecision, i: &Interruption) -> bool {
    if i.rule != r.decision.rule {
        return false;
    }
    match &r.source {
        Some(DecisionSource::AdverseEvent { .. }) => i.source == r.source,
        Some(DecisionSource::Lab { .. }) if i.rule == Rule::TDXD_NEUTROPENIA => i.lifted_by_anc(),
        Some(DecisionSource::Lab { .. }) | None => true,
    }
}
