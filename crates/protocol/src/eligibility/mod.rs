//! Eligibility (PROTOCOL §5): every criterion IN1–IN8 and EX1–EX5, with evidence.
//!
//! Each criterion is decided from the participant's current entries (corrected
//! or retracted entries do not count) with the thresholds of [`Settings`].
//! A criterion is `met`, `not_met` or `missing`. For an exclusion, `met` means
//! **the exclusion applies** (she is excluded); `summary` says so in words.
//! Overall: not eligible when an inclusion is not met or an exclusion applies,
//! otherwise incomplete while anything is missing, otherwise eligible.

mod exclusion;
mod inclusion;
mod lesions;
mod organ;
mod prior_adc;

use chrono::{DateTime, NaiveDate, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::labs::{Analyte, LabResult};
use crate::participant::{Entry, Participant, current};
use crate::records::{Attestation, AttestedCriterion, MedicalHistory};
use crate::rule::Rule;
use crate::settings::Settings;

pub use lesions::{Measurability, measurability};
pub use organ::cockcroft_gault_ml_min;
pub use prior_adc::her2_adc_named;

/// How a criterion is decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DecidedBy {
    /// From structured data.
    Computed,
    /// By the investigator's signed attestation.
    Attested,
    /// Both.
    ComputedAndAttested,
}

/// Inclusion or exclusion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CriterionKind {
    /// Must be met.
    Inclusion,
    /// Must not be met.
    Exclusion,
}

/// A criterion's status. For exclusions `Met` means the exclusion applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CriterionStatus {
    /// The criterion's statement holds.
    Met,
    /// It does not hold.
    NotMet,
    /// Data needed to decide are missing.
    Missing,
}

/// Overall result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Overall {
    /// All inclusions met, no exclusion applies.
    Eligible,
    /// An inclusion is not met or an exclusion applies.
    NotEligible,
    /// Nothing fails yet, but something is missing.
    Incomplete,
}

/// One criterion's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CriterionResult {
    /// Criterion id.
    pub id: Rule,
    /// Its text.
    pub text: String,
    /// Inclusion or exclusion.
    pub kind: CriterionKind,
    /// How decided.
    pub decided_by: DecidedBy,
    /// Status.
    pub status: CriterionStatus,
    /// One line a nurse can read, e.g. "Exclusion applies: INR 1.6 > 1.4".
    pub summary: String,
    /// The values, dates and thresholds used.
    pub evidence: Vec<String>,
}

impl CriterionResult {
    /// Whether this result stands in the way of enrolment (inclusion not met / exclusion applies).
    pub fn fails(&self) -> bool {
        match self.kind {
            CriterionKind::Inclusion => self.status == CriterionStatus::NotMet,
            CriterionKind::Exclusion => self.status == CriterionStatus::Met,
        }
    }
}

/// The eligibility result for one participant at one time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct EligibilityReport {
    /// Overall result.
    pub overall: Overall,
    /// Evaluation time.
    pub evaluated_at: DateTime<Utc>,
    /// Settings version used.
    pub settings_version: u32,
    /// The protocol version those settings belong to ([`Settings::protocol_version`]);
    /// empty in reports stored before it was recorded.
    #[serde(default)]
    pub protocol_version: String,
    /// IN1–IN8 then EX1–EX5.
    pub criteria: Vec<CriterionResult>,
}

impl EligibilityReport {
    /// Ids of the criteria that fail.
    pub fn failed(&self) -> Vec<Rule> {
        self.criteria
            .iter()
            .filter(|c| c.fails())
            .map(|c| c.id)
            .collect()
    }

    /// Ids of the criteria with missing data.
    pub fn missing(&self) -> Vec<Rule> {
        self.criteria
            .iter()
            .filter(|c| c.status == CriterionStatus::Missing)
            .map(|c| c.id)
            .collect()
    }

    /// The result for one criterion.
    pub fn get(&self, id: Rule) -> Option<&CriterionResult> {
        self.criteria.iter().find(|c| c.id == id)
    }
}

/// What a criterion function finds.
pub(crate) struct Finding {
    pub status: CriterionStatus,
    pub summary: String,
    pub evidence: Vec<String>,
}

impl Finding {
    pub fn new(status: CriterionStatus, summary: impl Into<String>, evidence: Vec<String>) -> Self {
        Finding {
            status,
            summary: summary.into(),
            evidence,
        }
    }
}

/// Evaluates every criterion of PROTOCOL §5 at time `now`.
pub fn evaluate_eligibility(
    p: &Participant,
    now: DateTime<Utc>,
    settings: &Settings,
) -> EligibilityReport {
    use CriterionKind::{Exclusion as X, Inclusion as I};
    use DecidedBy::{Attested as A, Computed as C, ComputedAndAttested as CA};
    let ctx = Ctx {
        p,
        now,
        s: settings,
    };
    let rows: [(Rule, CriterionKind, DecidedBy, &str, Finding); 13] = [
        (
            Rule::IN1,
            I,
            C,
            "Female, age ≥ 18 at consent",
            inclusion::in1(&ctx),
        ),
        (
            Rule::IN2,
            I,
            C,
            "Metastatic or locally advanced breast cancer; progression after ≥ 1 line of palliative chemotherapy, or relapse within 6 months after completing (neo)adjuvant chemotherapy",
            inclusion::in2(&ctx),
        ),
        (
            Rule::IN3,
            I,
            C,
            "Written informed consent",
            inclusion::in3(&ctx),
        ),
        (
            Rule::IN4,
            I,
            C,
            "≥ 1 metastatic lesion ≥ 10 mm available for biopsy, or a recent biopsy",
            lesions::in4(&ctx),
        ),
        (
            Rule::IN5,
            I,
            C,
            "≥ 1 additional index lesion measurable by RECIST 1.1",
            lesions::in5(&ctx),
        ),
        (
            Rule::IN6,
            I,
            C,
            "WHO performance status ≤ 2",
            inclusion::in6(&ctx),
        ),
        (
            Rule::IN7,
            I,
            A,
            "Expected survival > 12 weeks",
            inclusion::in7(&ctx),
        ),
        (
            Rule::IN8,
            I,
            CA,
            "Women of child-bearing potential: adequate contraception agreed and a negative serum pregnancy test",
            inclusion::in8(&ctx),
        ),
        (
            Rule::EX1,
            X,
            A,
            "Contraindication to trastuzumab deruxtecan",
            exclusion::ex1(&ctx),
        ),
        (
            Rule::EX2,
            X,
            C,
            "Earlier metastatic biopsy HER2-positive (IHC 3+ and/or ISH amplified)",
            exclusion::ex2(&ctx),
        ),
        (
            Rule::EX3,
            X,
            C,
            "Other manifest malignancy except basal cell carcinoma of the skin",
            exclusion::ex3(&ctx),
        ),
        (
            Rule::EX4,
            X,
            C,
            "Inadequate cardiac, renal, bone-marrow or liver function",
            organ::ex4(&ctx),
        ),
        (
            Rule::EX5,
            X,
            CA,
            "Increased biopsy bleeding risk: INR > 1.4, platelets < 70×10⁹/L, APTT > 30 s, known bleeding disorder, anticoagulant/antiplatelet that cannot be paused",
            exclusion::ex5(&ctx),
        ),
    ];
    let criteria: Vec<CriterionResult> = rows
        .into_iter()
        .map(|(id, kind, decided_by, text, f)| CriterionResult {
            id,
            text: text.to_owned(),
            kind,
            decided_by,
            status: f.status,
            summary: f.summary,
            evidence: f.evidence,
        })
        .collect();
    let overall = if criteria.iter().any(|c| c.fails()) {
        Overall::NotEligible
    } else if criteria
        .iter()
        .any(|c| c.status == CriterionStatus::Missing)
    {
        Overall::Incomplete
    } else {
        Overall::Eligible
    };
    EligibilityReport {
        overall,
        evaluated_at: now,
        settings_version: settings.version,
        protocol_version: settings.protocol_version.clone(),
        criteria,
    }
}

/// Everything a criterion function needs.
pub(crate) struct Ctx<'a> {
    pub p: &'a Participant,
    pub now: DateTime<Utc>,
    pub s: &'a Settings,
}

impl Ctx<'_> {
    /// Today at the sites (local calendar, [`Settings::site_time_zone`]).
    pub fn today(&self) -> NaiveDate {
        self.s.local_date(self.now)
    }

    /// The sites' calendar date of an instant.
    pub fn day(&self, t: DateTime<Utc>) -> NaiveDate {
        self.s.local_date(t)
    }

    /// Evidence line for an attestation, with the signature time in local time.
    pub fn attestation_evidence(&self, a: &Attestation) -> String {
        attestation_evidence(a, self.s)
    }

    /// Evidence line for a lab value, with its sampling time in local time.
    pub fn lab_evidence(&self, l: &LabResult) -> String {
        lab_evidence(l, self.s)
    }

    /// Days from `date` to today (negative if in the future).
    pub fn age_days(&self, date: NaiveDate) -> i64 {
        (self.today() - date).num_days()
    }

    /// The latest current result of an analyte sampled no later than now.
    pub fn latest_lab(&self, analyte: Analyte) -> Option<&LabResult> {
        current(&self.p.labs)
            .map(|e| &e.value)
            .filter(|l| l.analyte == analyte && l.sample_at <= self.now)
            .max_by_key(|l| l.sample_at)
    }

    /// The latest current value of a dated list, dated no later than today.
    pub fn latest<'b, T>(
        &self,
        list: &'b [Entry<T>],
        date: impl Fn(&T) -> NaiveDate,
    ) -> Option<&'b T> {
        let today = self.today();
        current(list)
            .map(|e| &e.value)
            .filter(|v| date(v) <= today)
            .max_by_key(|v| date(v))
    }

    /// The latest current medical-history review.
    pub fn history(&self) -> Option<&MedicalHistory> {
        self.latest(&self.p.medical_history, |h| h.reviewed_on)
    }

    /// The current attestation of a criterion (the latest recorded).
    pub fn attestation(&self, c: AttestedCriterion) -> Option<&Attestation> {
        current(&self.p.attestations)
            .filter(|e| e.value.criterion == c)
            .max_by_key(|e| e.recorded_at)
            .map(|e| &e.value)
    }

    /// Liver metastases: from the history, or a current metastatic liver lesion.
    pub fn liver_metastases(&self) -> Option<bool> {
        let from_lesions = current(&self.p.lesions)
            .any(|e| e.value.metastatic && e.value.organ.to_lowercase().contains("liver"));
        match self.history() {
            Some(h) => Some(h.liver_metastases || from_lesions),
            None if from_lesions => Some(true),
            None => None,
        }
    }
}

/// Evidence line for an attestation.
pub(crate) fn attestation_evidence(a: &Attestation, s: &Settings) -> String {
    format!(
        "Attested {} by {} ({}) at {}: \"{}\"{}",
        if a.answer { "yes" } else { "no" },
        a.signature.signer,
        a.signature.role,
        s.local_text(a.signature.signed_at),
        a.signature.meaning,
        a.note
            .as_ref()
            .map(|n| format!("; note: {n}"))
            .unwrap_or_default()
    )
}

/// " unit" for display, nothing for unit-less values (INR).
pub(crate) fn unit_suffix(unit: &str) -> String {
    if unit.is_empty() || unit == "ratio" {
        String::new()
    } else {
        format!(" {unit}")
    }
}

/// "1 day ago" / "n days ago".
pub(crate) fn days_ago(n: i64) -> String {
    if n == 1 {
        "1 day ago".into()
    } else {
        format!("{n} days ago")
    }
}

/// Formats a lab value for evidence: value, unit, canonical value, ULN, date.
pub(crate) fn lab_evidence(l: &LabResult, s: &Settings) -> String {
    let unit = unit_suffix(&l.unit);
    let canon = if l.unit == l.canonical_unit || unit.is_empty() {
        String::new()
    } else {
        format!(" (= {:.3} {})", l.canonical_value, l.canonical_unit)
    };
    let uln = match (l.uln, l.x_uln()) {
        (Some(u), Some(x)) => format!(" (ULN {u}{unit}: {x:.2} × ULN)"),
        _ => String::new(),
    };
    format!(
        "{} {}{unit}{canon}{uln} sampled {}",
        l.analyte.label(),
        l.value,
        s.local_text(l.sample_at)
    )
}
