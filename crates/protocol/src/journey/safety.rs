//! Adverse events (PROTOCOL §11; clinical-rules §3): CTCAE v5.0 coding and
//! grade, seriousness by ICH E2A (independent of the grade), relation to the IMP
//! and to T-DXd, action, outcome, AEs of special interest, the T-DXd dose rule an
//! AE triggers, and the serious-event reporting clock.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::ctcae::{CTCAE_VERSION, ctcae_v5};
use super::tdxd::{DoseDecision, ild_decision, neutropenia_decision, symptomatic_chf_decision};
use crate::rule::{Refusal, Rule};
use crate::settings::{ImpProduct, RegulatoryFramework, Settings};

/// ICH E2A seriousness criteria, each its own flag (clinical-rules §3.4).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Seriousness {
    /// Results in death.
    pub death: bool,
    /// Life-threatening at the time of the event.
    pub life_threatening: bool,
    /// Requires inpatient hospitalisation or prolongs it.
    pub hospitalisation: bool,
    /// Persistent or significant disability/incapacity.
    pub disability: bool,
    /// Congenital anomaly / birth defect.
    pub congenital_anomaly: bool,
    /// Important medical event (medical judgement).
    pub important_medical_event: bool,
}

impl Seriousness {
    /// The criteria that hold, in words.
    pub fn criteria(&self) -> Vec<&'static str> {
        [
            (self.death, "death"),
            (self.life_threatening, "life-threatening"),
            (self.hospitalisation, "hospitalisation"),
            (self.disability, "disability/incapacity"),
            (self.congenital_anomaly, "congenital anomaly"),
            (self.important_medical_event, "important medical event"),
        ]
        .into_iter()
        .filter(|(on, _)| *on)
        .map(|(_, t)| t)
        .collect()
    }

    /// Serious when any criterion holds.
    pub fn is_serious(&self) -> bool {
        !self.criteria().is_empty()
    }
}

/// Relation of an AE to a product or procedure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Causality {
    /// Related.
    Related,
    /// Possibly related.
    PossiblyRelated,
    /// Unlikely related.
    UnlikelyRelated,
    /// Not related.
    NotRelated,
    /// Not exposed to the product.
    NotApplicable,
}

impl Causality {
    /// Counts as a (suspected) adverse reaction.
    pub fn is_related(self) -> bool {
        matches!(self, Causality::Related | Causality::PossiblyRelated)
    }
}

/// Action taken with T-DXd (CDISC AEACN terms).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ActionTaken {
    /// Dose not changed.
    DoseNotChanged,
    /// Dose reduced.
    DoseReduced,
    /// Drug interrupted.
    DrugInterrupted,
    /// Drug withdrawn.
    DrugWithdrawn,
    /// Not on T-DXd.
    NotApplicable,
}

/// Outcome (CDISC AEOUT terms).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AeOutcome {
    /// Recovered/resolved.
    Recovered,
    /// Recovering/resolving.
    Recovering,
    /// Not recovered/not resolved.
    NotRecovered,
    /// Recovered with sequelae.
    RecoveredWithSequelae,
    /// Fatal.
    Fatal,
    /// Unknown.
    Unknown,
}

/// An adverse event of special interest for T-DXd (clinical-rules §3.6).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Aesi {
    /// Interstitial lung disease / pneumonitis (adjudication candidate).
    IldPneumonitis,
    /// Ejection fraction decreased / left-ventricular dysfunction / heart failure.
    LvefDecrease,
}

/// CTCAE terms flagged as ILD/pneumonitis AESI: Pneumonitis, Pulmonary fibrosis,
/// Respiratory failure (the CTCAE terms among the T-DXd adjudication terms).
pub const ILD_TERMS: [u32; 3] = [10035742, 10037383, 10038695];
/// ILD terms that trigger the T-DXd ILD dose rule by themselves (Pneumonitis,
/// Pulmonary fibrosis). Respiratory failure is flagged for adjudication only: it
/// has other causes.
pub const ILD_DOSE_RULE_TERMS: [u32; 2] = [10035742, 10037383];
/// CTCAE terms flagged as LVEF AESI: Ejection fraction decreased, Left ventricular
/// systolic dysfunction, Heart failure.
pub const LVEF_TERMS: [u32; 3] = [10050528, 10069501, 10019279];
/// Heart failure (CTCAE v5.0): grade 1 is asymptomatic, grade ≥ 2 symptomatic.
const HEART_FAILURE: u32 = 10019279;
/// Left ventricular systolic dysfunction (CTCAE v5.0): every grade (3–5) is symptomatic.
const LV_SYSTOLIC_DYSFUNCTION: u32 = 10069501;
const NEUTROPHIL_COUNT_DECREASED: u32 = 10029366;
const FEBRILE_NEUTROPENIA: u32 = 10016288;

/// The AESI flags of a CTCAE term.
pub fn aesi_of(meddra_code: u32) -> Vec<Aesi> {
    let mut v = Vec::new();
    if ILD_TERMS.contains(&meddra_code) {
        v.push(Aesi::IldPneumonitis);
    }
    if LVEF_TERMS.contains(&meddra_code) {
        v.push(Aesi::LvefDecrease);
    }
    v
}

/// An adverse event as entered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AdverseEvent {
    /// AE id, unique per participant.
    pub ae_id: String,
    /// CTCAE v5.0 term's MedDRA code.
    pub meddra_code: u32,
    /// The investigator's verbatim term (required for "Other, specify").
    pub verbatim: Option<String>,
    /// CTCAE grade 1–5.
    pub grade: u8,
    /// Onset date.
    pub onset: NaiveDate,
    /// Resolution date, if resolved.
    pub resolved: Option<NaiveDate>,
    /// ICH E2A criteria.
    pub seriousness: Seriousness,
    /// Relation to the IMP (\[68Ga\]Ga-ABY-025).
    pub relation_imp: Causality,
    /// Relation to T-DXd.
    pub relation_tdxd: Causality,
    /// Action taken with T-DXd.
    pub action_tdxd: ActionTaken,
    /// Outcome.
    pub outcome: AeOutcome,
    /// When the site became aware of it.
    pub site_aware_at: DateTime<Utc>,
    /// When it was reported to the sponsor (serious events).
    pub reported_to_sponsor_at: Option<DateTime<Utc>>,
    /// Whether the participant was on T-DXd at onset (arm 1 after C1D1).
    pub on_tdxd: bool,
}

/// An AE after coding and checking.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CodedAdverseEvent {
    /// CTCAE version.
    pub ctcae_version: String,
    /// CTCAE term.
    pub term: String,
    /// System organ class.
    pub soc: String,
    /// The grade's text for this term.
    pub grade_text: String,
    /// Serious by ICH E2A.
    pub serious: bool,
    /// The criteria that hold.
    pub seriousness_criteria: Vec<String>,
    /// AESI flags.
    pub aesi: Vec<Aesi>,
    /// The T-DXd dose rule this AE triggers (on T-DXd only).
    pub tdxd_decision: Option<DoseDecision>,
    /// Settings version used.
    pub settings_version: u32,
}

fn serious_refusal(msg: String) -> Refusal {
    Refusal::new(Rule::AE_SERIOUSNESS, msg)
}

/// Codes and checks an AE: the term exists (`CTCAE_TERM`), the grade exists for
/// it (`CTCAE_GRADE`), "Other, specify" has a verbatim term, dates are in order,
/// and grade 5, the death criterion and a fatal outcome agree (`AE_SERIOUSNESS`).
/// On T-DXd, pneumonitis triggers the ILD rule, neutropenia the neutropenia rule,
/// and symptomatic heart failure (heart failure grade ≥ 2, left ventricular systolic
/// dysfunction) the LVEF rule's permanent discontinuation.
pub fn code_adverse_event(ae: &AdverseEvent, s: &Settings) -> Result<CodedAdverseEvent, Refusal> {
    let term = ctcae_v5().term(ae.meddra_code)?;
    let grade_text = term.check_grade(ae.grade)?;
    if term.term.ends_with("Other, specify")
        && ae
            .verbatim
            .as_deref()
            .map(str::trim)
            .is_none_or(str::is_empty)
    {
        return Err(Refusal::new(
            Rule::CTCAE_TERM,
            format!("\"{}\" needs the verbatim term.", term.term),
        ));
    }
    if let Some(r) = ae.resolved
        && r < ae.onset
    {
        return Err(Refusal::new(
            Rule::VALUE_IMPOSSIBLE,
            format!(
                "AE {} resolved {r}, before its onset {}.",
                ae.ae_id, ae.onset
            ),
        ));
    }
    let fatal = ae.outcome == AeOutcome::Fatal;
    if ae.grade == 5 && !(ae.seriousness.death && fatal) {
        return Err(serious_refusal(format!(
            "AE {} is grade 5 (death related to the AE): seriousness 'death' and outcome 'fatal' are required.",
            ae.ae_id
        )));
    }
    if ae.seriousness.death != fatal {
        return Err(serious_refusal(format!(
            "AE {}: seriousness 'death' ({}) and outcome 'fatal' ({}) must agree.",
            ae.ae_id, ae.seriousness.death, fatal
        )));
    }
    let tdxd_decision = if !ae.on_tdxd {
        None
    } else if ILD_DOSE_RULE_TERMS.contains(&ae.meddra_code) {
        Some(ild_decision(ae.grade)?)
    } else if ae.meddra_code == NEUTROPHIL_COUNT_DECREASED {
        Some(neutropenia_decision(ae.grade, false)?)
    } else if ae.meddra_code == FEBRILE_NEUTROPENIA {
        Some(neutropenia_decision(ae.grade, true)?)
    } else if (ae.meddra_code == HEART_FAILURE && ae.grade >= 2)
        || ae.meddra_code == LV_SYSTOLIC_DYSFUNCTION
    {
        Some(symptomatic_chf_decision(&term.term, ae.grade))
    } else {
        None
    };
    Ok(CodedAdverseEvent {
        ctcae_version: CTCAE_VERSION.to_owned(),
        term: term.term.clone(),
        soc: term.soc.clone(),
        grade_text: grade_text.to_owned(),
        serious: ae.seriousness.is_serious(),
        seriousness_criteria: ae
            .seriousness
            .criteria()
            .into_iter()
            .map(str::to_owned)
            .collect(),
        aesi: aesi_of(ae.meddra_code),
        tdxd_decision,
        settings_version: s.version,
    })
}

/// Where a serious event's reporting clock stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum SaeClockState {
    /// Not reported, still in time.
    Running {
        /// Minutes left.
        minutes_left: i64,
    },
    /// Not reported, past the deadline.
    Overdue {
        /// Minutes past the deadline.
        minutes_late: i64,
    },
    /// Reported by the deadline (exactly at it counts as on time).
    ReportedOnTime,
    /// Reported after the deadline: flagged late.
    ReportedLate {
        /// Minutes past the deadline.
        minutes_late: i64,
    },
}

/// A serious event's reporting clock (PROTOCOL §11; CTR Art. 41(2)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SaeClock {
    /// Site awareness: the clock starts.
    pub aware_at: DateTime<Utc>,
    /// The deadline.
    pub due_at: DateTime<Utc>,
    /// Hours allowed (settings).
    pub hours: u32,
    /// Where it stands.
    pub state: SaeClockState,
    /// Whether to flag the event as late.
    pub late: bool,
    /// Settings version used.
    pub settings_version: u32,
    /// The legal frame of the clocks (`regulatory_framework`, clinical-rules A13).
    #[serde(default)]
    pub regulatory_framework: RegulatoryFramework,
    /// The SUSAR clock, when the framework has one and the event is a suspected reaction
    /// to an IMP (`imp_products`); `None` otherwise.
    #[serde(default)]
    pub susar: Option<SusarClock>,
}

/// The sponsor's clock should a serious suspected reaction to an IMP prove unexpected
/// (a SUSAR; EU CTR Art. 42, Annex III §2.4): 7 days when fatal or life-threatening,
/// else 15, from the sponsor's awareness (the site's report).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SusarClock {
    /// Days from the sponsor's awareness.
    pub days: u32,
    /// Fatal or life-threatening (the 7-day clock).
    pub fatal_or_life_threatening: bool,
    /// When the expedited report is due; `None` until the site has reported to the sponsor.
    pub due_at: Option<DateTime<Utc>>,
}

/// The reporting clock of a serious event at `now`: due `safety.sae_report_hours`
/// (24; at most 24 under `regulatory_framework` EU_CTR, checked with the settings)
/// hours after site awareness; a report at the deadline is on time. Refuses
/// (`SAE_CLOCK`) a report dated before awareness.
pub fn sae_clock(
    aware_at: DateTime<Utc>,
    reported_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    s: &Settings,
) -> Result<SaeClock, Refusal> {
    let hours = s.safety.sae_report_hours;
    let due_at = aware_at + Duration::hours(i64::from(hours));
    let state = match reported_at {
        Some(r) if r < aware_at => {
            return Err(Refusal::new(
                Rule::SAE_CLOCK,
                format!(
                    "Reported to the sponsor {} before the site was aware {}.",
                    s.local_text(r),
                    s.local_text(aware_at)
                ),
            ));
        }
        Some(r) if r <= due_at => SaeClockState::ReportedOnTime,
        Some(r) => SaeClockState::ReportedLate {
            minutes_late: (r - due_at).num_minutes(),
        },
        None if now <= due_at => SaeClockState::Running {
            minutes_left: (due_at - now).num_minutes(),
        },
        None => SaeClockState::Overdue {
            minutes_late: (now - due_at).num_minutes(),
        },
    };
    Ok(SaeClock {
        aware_at,
        due_at,
        hours,
        state,
        late: matches!(
            state,
            SaeClockState::ReportedLate { .. } | SaeClockState::Overdue { .. }
        ),
        settings_version: s.version,
        regulatory_framework: s.regulatory_framework,
        susar: None,
    })
}

/// The SUSAR clock of a serious AE under `regulatory_framework`: only for a reaction
/// suspected (related or possibly related) to a product in `imp_products`.
fn susar_clock(ae: &AdverseEvent, s: &Settings) -> Option<SusarClock> {
    let days = s.regulatory_framework.susar_days()?;
    let suspected = ae.relation_imp.is_related()
        || (s.is_imp(ImpProduct::Tdxd) && ae.relation_tdxd.is_related());
    if !suspected {
        return None;
    }
    let fatal = ae.seriousness.death || ae.seriousness.life_threatening;
    let days = if fatal {
        days.fatal_or_life_threatening
    } else {
        days.other
    };
    Some(SusarClock {
        days,
        fatal_or_life_threatening: fatal,
        due_at: ae
            .reported_to_sponsor_at
            .map(|r| r + Duration::days(i64::from(days))),
    })
}

/// The reporting clock of an AE at `now` when it is serious, `None` when it is not.
pub fn sae_clock_of(
    ae: &AdverseEvent,
    now: DateTime<Utc>,
    s: &Settings,
) -> Result<Option<SaeClock>, Refusal> {
    if !ae.seriousness.is_serious() {
        return Ok(None);
    }
    let mut clock = sae_clock(ae.site_aware_at, ae.reported_to_sponsor_at, now, s)?;
    clock.susar = susar_clock(ae, s);
    Ok(Some(clock))
}
