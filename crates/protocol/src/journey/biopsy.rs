//! The study biopsy (PROTOCOL §7): a fresh PET-guided biopsy, or an earlier
//! (archival) biopsy that replaces it.
//!
//! A fresh biopsy is cleared only with bleeding-risk labs (INR, platelets,
//! APTT) inside the configured window and limits and with anticoagulation
//! paused (EX5). An archival biopsy counts only if it is recent enough and no
//! disallowed therapy came between it and its use (clinical-rules A1). The
//! screening criteria EX5 and IN4 use the same functions, so screening and the
//! journey cannot disagree.

use chrono::{DateTime, NaiveDate, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::ctcae::ctcae_v5;
use crate::labs::{Analyte, LabResult};
use crate::records::ArchivalBiopsy;
use crate::rule::{Refusal, Rule};
use crate::settings::{ArchivalBiopsySettings, BleedingSettings, DisallowedIntervening, Settings};

/// Anticoagulant or antiplatelet treatment around a fresh biopsy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Anticoagulation {
    /// No anticoagulant or antiplatelet treatment.
    None,
    /// Paused before the biopsy.
    Paused {
        /// The drug, e.g. "apixaban".
        agent: String,
        /// The last dose before the biopsy.
        last_dose_at: DateTime<Utc>,
    },
    /// Still taken (could not be or was not paused).
    NotPaused {
        /// The drug.
        agent: String,
    },
}

/// A complication of a biopsy, coded by CTCAE when possible.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct BiopsyComplication {
    /// What happened, e.g. "haematoma at the puncture site".
    pub description: String,
    /// CTCAE v5.0 term's MedDRA code (e.g. 10019428 Hematoma), when coded.
    pub ctcae_meddra_code: Option<u32>,
    /// CTCAE grade 1–5, when graded.
    pub grade: Option<u8>,
    /// When it was noted.
    pub noted_at: DateTime<Utc>,
}

/// A fresh, PET-guided study biopsy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct FreshBiopsy {
    /// Biopsy id, unique per participant (specimens refer to it).
    pub biopsy_id: String,
    /// The biopsied lesion's id (from the PET lesion list).
    pub lesion_id: String,
    /// The lesions the program proposed, best first (PROTOCOL §7), as shown when choosing.
    pub proposed_lesion_ids: Vec<String>,
    /// Why this lesion; required unless it is the first proposed.
    pub choice_reason: Option<String>,
    /// When the biopsy was taken.
    pub performed_at: DateTime<Utc>,
    /// Anticoagulation status at the biopsy.
    pub anticoagulation: Anticoagulation,
    /// Complications, possibly added later.
    pub complications: Vec<BiopsyComplication>,
}

/// An earlier biopsy put forward instead of the study biopsy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ArchivalSample {
    /// Biopsy id, unique per participant (specimens refer to it).
    pub biopsy_id: String,
    /// Date, lesion and intervening therapies (the record IN4 also uses).
    pub record: ArchivalBiopsy,
    /// The day it is used instead of the study biopsy; its age is counted to this day.
    pub used_on: NaiveDate,
}

/// Where the tissue of a specimen came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum BiopsySource {
    /// A fresh PET-guided study biopsy.
    Fresh(FreshBiopsy),
    /// An earlier biopsy.
    Archival(ArchivalSample),
}

impl BiopsySource {
    /// The biopsy id.
    pub fn biopsy_id(&self) -> &str {
        match self {
            BiopsySource::Fresh(f) => &f.biopsy_id,
            BiopsySource::Archival(a) => &a.biopsy_id,
        }
    }

    /// The biopsied lesion's id, when known.
    pub fn lesion_id(&self) -> Option<&str> {
        match self {
            BiopsySource::Fresh(f) => Some(&f.lesion_id),
            BiopsySource::Archival(a) => a.record.lesion_id.as_deref(),
        }
    }
}

/// One bleeding-risk lab as judged for a biopsy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct BleedingLabCheck {
    /// INR, platelets or APTT.
    pub analyte: Analyte,
    /// Value in the canonical unit.
    pub value: f64,
    /// The limit it was compared with.
    pub limit: f64,
    /// When the sample was taken.
    pub sample_at: DateTime<Utc>,
    /// Age in days at the biopsy.
    pub age_days: i64,
}

/// The evidence that a fresh biopsy was allowed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct BiopsyClearance {
    /// The biopsy.
    pub biopsy_id: String,
    /// The biopsied lesion.
    pub lesion_id: String,
    /// The three labs used.
    pub labs: Vec<BleedingLabCheck>,
    /// Lines a nurse can read: values, limits, dates, anticoagulation.
    pub evidence: Vec<String>,
    /// Settings version used.
    pub settings_version: u32,
}

/// Whether a bleeding lab value is acceptable for a biopsy, and the comparison used.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BleedingVerdict {
    /// Within the limit.
    pub acceptable: bool,
    /// The limit (INR max, platelets min, APTT max).
    pub limit: f64,
    /// The comparison that holds: `≤`/`>` for maxima, `≥`/`<` for minima.
    pub op: &'static str,
}

/// EX5 limits: INR ≤ 1.4, platelets ≥ 70×10⁹/L, APTT ≤ 30 s by default (trial
/// registration). `None` for analytes that are not bleeding labs.
pub fn bleeding_verdict(
    analyte: Analyte,
    value: f64,
    b: &BleedingSettings,
) -> Option<BleedingVerdict> {
    let (limit, upper) = match analyte {
        Analyte::Inr => (b.inr_max, true),
        Analyte::Platelets => (b.plt_min_e9, false),
        Analyte::Aptt => (b.aptt_max_s, true),
        _ => return None,
    };
    let acceptable = if upper {
        value <= limit
    } else {
        value >= limit
    };
    let op = match (upper, acceptable) {
        (true, true) => "≤",
        (true, false) => ">",
        (false, true) => "≥",
        (false, false) => "<",
    };
    Some(BleedingVerdict {
        acceptable,
        limit,
        op,
    })
}

/// " unit" for messages; INR has none.
fn unit(a: Analyte) -> String {
    match a.canonical_unit() {
        "ratio" => String::new(),
        u => format!(" {u}"),
    }
}

/// The analytes a fresh biopsy needs.
pub const BLEEDING_LABS: [Analyte; 3] = [Analyte::Inr, Analyte::Platelets, Analyte::Aptt];

/// Checks INR, platelets and APTT for a biopsy at `at`: the latest sample of
/// each taken no later than `at`, at most `recency.bleeding_lab_max_age_days`
/// days old (counted in calendar days, as EX5 does), within the EX5 limits.
/// Refuses with `BIOPSY_LABS` listing every missing, old or out-of-range lab.
pub fn check_bleeding_labs(
    labs: &[LabResult],
    at: DateTime<Utc>,
    s: &Settings,
) -> Result<Vec<BleedingLabCheck>, Refusal> {
    let window = i64::from(s.recency.bleeding_lab_max_age_days);
    let mut problems = Vec::new();
    let mut checks = Vec::new();
    for analyte in BLEEDING_LABS {
        let latest = labs
            .iter()
            .filter(|l| l.analyte == analyte && l.sample_at <= at)
            .max_by_key(|l| l.sample_at);
        let Some(l) = latest else {
            problems.push(format!("{}: no result before the biopsy", analyte.label()));
            continue;
        };
        let age_days = (at.date_naive() - l.sample_at.date_naive()).num_days();
        if age_days > window {
            problems.push(format!(
                "{} {} sampled {} is {age_days} days old (max {window})",
                analyte.label(),
                l.canonical_value,
                l.sample_at.format("%Y-%m-%d")
            ));
            continue;
        }
        let Some(v) = bleeding_verdict(analyte, l.canonical_value, &s.bleeding) else {
            continue;
        };
        if !v.acceptable {
            problems.push(format!(
                "{} {} {} {}{}",
                analyte.label(),
                l.canonical_value,
                v.op,
                v.limit,
                unit(analyte)
            ));
        }
        checks.push(BleedingLabCheck {
            analyte,
            value: l.canonical_value,
            limit: v.limit,
            sample_at: l.sample_at,
            age_days,
        });
    }
    if problems.is_empty() {
        Ok(checks)
    } else {
        Err(Refusal::new(
            Rule::BIOPSY_LABS,
            format!(
                "Biopsy refused ({}): {}.",
                Rule::BIOPSY_LABS,
                problems.join("; ")
            ),
        )
        .with_hint(format!(
            "Needs INR ≤ {}, platelets ≥ {} ×10⁹/L and APTT ≤ {} s sampled within {window} days before the biopsy.",
            s.bleeding.inr_max, s.bleeding.plt_min_e9, s.bleeding.aptt_max_s
        )))
    }
}

/// Clears a fresh biopsy: the chosen lesion's reason, bleeding labs and the
/// anticoagulation pause. Returns the evidence to store with the biopsy.
pub fn clear_fresh_biopsy(
    b: &FreshBiopsy,
    labs: &[LabResult],
    s: &Settings,
) -> Result<BiopsyClearance, Refusal> {
    let first = b.proposed_lesion_ids.first();
    let reason = b
        .choice_reason
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty());
    if first != Some(&b.lesion_id) && reason.is_none() {
        return Err(Refusal::new(
            Rule::VALUE_REQUIRED,
            format!(
                "Lesion {} is not the first proposed lesion ({}): the reason for the choice is required.",
                b.lesion_id,
                first.map_or("none proposed", String::as_str)
            ),
        ));
    }
    let checks = check_bleeding_labs(labs, b.performed_at, s)?;
    let mut evidence = vec![format!(
        "Biopsy {} of lesion {} at {}{}",
        b.biopsy_id,
        b.lesion_id,
        b.performed_at.format("%Y-%m-%d %H:%M UTC"),
        reason.map(|r| format!("; reason: {r}")).unwrap_or_default()
    )];
    for c in &checks {
        let v = bleeding_verdict(c.analyte, c.value, &s.bleeding).map_or("", |v| v.op);
        evidence.push(format!(
            "{} {} {v} {}{} sampled {} ({} days before)",
            c.analyte.label(),
            c.value,
            c.limit,
            unit(c.analyte),
            c.sample_at.format("%Y-%m-%d %H:%M UTC"),
            c.age_days
        ));
    }
    evidence.push(anticoagulation_evidence(b, s)?);
    for c in &b.complications {
        evidence.push(check_complication(c)?);
    }
    Ok(BiopsyClearance {
        biopsy_id: b.biopsy_id.clone(),
        lesion_id: b.lesion_id.clone(),
        labs: checks,
        evidence,
        settings_version: s.version,
    })
}

fn anticoagulation_evidence(b: &FreshBiopsy, s: &Settings) -> Result<String, Refusal> {
    let min = s.biopsy.anticoagulant_min_pause_hours;
    match &b.anticoagulation {
        Anticoagulation::None => Ok("No anticoagulant or antiplatelet".into()),
        Anticoagulation::NotPaused { agent } => Err(Refusal::new(
            Rule::BIOPSY_ANTICOAGULATION,
            format!(
                "Biopsy refused ({}): {agent} was not paused before the biopsy.",
                Rule::BIOPSY_ANTICOAGULATION
            ),
        )
        .with_hint("Pause the anticoagulant/antiplatelet as the investigator prescribes, or the biopsy cannot be done (EX5).")),
        Anticoagulation::Paused { agent, last_dose_at } => {
            let hours = (b.performed_at - *last_dose_at).num_minutes() as f64 / 60.0;
            if hours < 0.0 || hours < f64::from(min) {
                return Err(Refusal::new(
                    Rule::BIOPSY_ANTICOAGULATION,
                    format!(
                        "Biopsy refused ({}): last dose of {agent} {hours:.1} h before the biopsy; a pause of at least {min} h is required.",
                        Rule::BIOPSY_ANTICOAGULATION
                    ),
                ));
            }
            Ok(format!(
                "{agent} paused: last dose {} ({hours:.1} h before; minimum {min} h)",
                last_dose_at.format("%Y-%m-%d %H:%M UTC")
            ))
        }
    }
}

/// Checks a biopsy complication's coding: a CTCAE term (`CTCAE_TERM`) and a
/// grade that exists for it (`CTCAE_GRADE`), when given. Returns the evidence line.
pub fn check_complication(c: &BiopsyComplication) -> Result<String, Refusal> {
    let Some(code) = c.ctcae_meddra_code else {
        return Ok(format!("Complication (not coded): {}", c.description));
    };
    let term = ctcae_v5().term(code)?;
    match c.grade {
        Some(g) => {
            let text = term.check_grade(g)?;
            Ok(format!(
                "Complication {}: CTCAE {} grade {g} ({text})",
                c.description, term.term
            ))
        }
        None => Ok(format!(
            "Complication {}: CTCAE {} (not graded)",
            c.description, term.term
        )),
    }
}

/// Why an earlier biopsy cannot replace the study biopsy on `on` (empty = usable).
///
/// The age counts from the biopsy date to `on`; the disallowed therapy follows
/// `archival_biopsy.disallowed_intervening` (any systemic, the default, also
/// covers HER2-targeted therapy).
pub fn archival_problems(
    b: &ArchivalBiopsy,
    on: NaiveDate,
    a: &ArchivalBiopsySettings,
) -> Vec<String> {
    let age = (on - b.biopsy_date).num_days();
    let mut problems = Vec::new();
    if age < 0 || age > i64::from(a.max_age_days) {
        problems.push(format!("{age} days old (max {})", a.max_age_days));
    }
    let therapy = match a.disallowed_intervening {
        DisallowedIntervening::AnySystemic => {
            b.systemic_therapy_since || b.her2_targeted_therapy_since
        }
        DisallowedIntervening::Her2Targeted => b.her2_targeted_therapy_since,
    };
    if therapy {
        problems.push(
            match a.disallowed_intervening {
                DisallowedIntervening::AnySystemic => "systemic therapy since the biopsy",
                DisallowedIntervening::Her2Targeted => "HER2-targeted therapy since the biopsy",
            }
            .to_owned(),
        );
    }
    if a.local_rt_to_biopsied_lesion_disallowed && b.radiotherapy_to_lesion_since {
        problems.push("radiotherapy to the lesion since the biopsy".into());
    }
    problems
}

/// Checks an archival sample; refuses with `ARCHIVAL_BIOPSY` naming every problem.
/// On success returns the evidence line.
pub fn check_archival_sample(a: &ArchivalSample, s: &Settings) -> Result<String, Refusal> {
    let rules = &s.archival_biopsy;
    let problems = archival_problems(&a.record, a.used_on, rules);
    let age = (a.used_on - a.record.biopsy_date).num_days();
    if problems.is_empty() {
        Ok(format!(
            "Archival biopsy {} of {} ({}) taken {}: {age} days old on {} (max {}), no disallowed therapy since",
            a.biopsy_id,
            a.record.lesion_id.as_deref().unwrap_or("unlisted lesion"),
            a.record.site_description,
            a.record.biopsy_date,
            a.used_on,
            rules.max_age_days
        ))
    } else {
        Err(Refusal::new(
            Rule::ARCHIVAL_BIOPSY,
            format!(
                "Archival biopsy {} taken {} cannot replace the study biopsy ({}): {}.",
                a.biopsy_id,
                a.record.biopsy_date,
                Rule::ARCHIVAL_BIOPSY,
                problems.join(", ")
            ),
        )
        .with_hint(format!(
            "Settings v{}: at most {} days old, no {} since the biopsy{}. Take a fresh biopsy.",
            s.version,
            rules.max_age_days,
            match rules.disallowed_intervening {
                DisallowedIntervening::AnySystemic => "systemic anti-cancer therapy",
                DisallowedIntervening::Her2Targeted => "HER2-targeted therapy",
            },
            if rules.local_rt_to_biopsied_lesion_disallowed {
                " and no radiotherapy to the lesion"
            } else {
                ""
            }
        )))
    }
}
