//! The study biopsy (PROTOCOL §7): a fresh PET-guided biopsy, or an earlier
//! (archival) biopsy that replaces it.
//!
//! A fresh biopsy is cleared only with bleeding-risk labs (INR, platelets,
//! APTT) inside the configured window and limits and with anticoagulation
//! paused (EX5). An archival biopsy counts only if it precedes PET1, is at most
//! the configured number of calendar months old on the day of PET1, and no
//! disallowed therapy came after it, as said on its form or shown by the recorded
//! treatment lines (clinical-rules A1). The screening criteria EX5 and IN4 use
//! the same functions, so screening and the journey cannot disagree.

use chrono::{DateTime, Months, NaiveDate, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::ctcae::ctcae_v5;
use crate::labs::{Analyte, LabResult};
use crate::records::{ArchivalBiopsy, TreatmentLine};
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
    /// The day the decision to use it was recorded. Kept for the record only: the age
    /// counts to PET1, which a back-dated decision cannot move.
    pub used_on: NaiveDate,
    /// The day of PET1 (its IMP injection): the biopsy must precede it and its age is
    /// counted to it. `None` only in samples recorded before this was kept; their
    /// age counts to `used_on`.
    #[serde(default)]
    pub pet1_on: Option<NaiveDate>,
    /// The recorded treatment lines given after the biopsy, as known when it was used.
    #[serde(default)]
    pub lines_since: Vec<TreatmentLine>,
    /// The major deviation recorded when the sample was used as a past fact although
    /// it did not qualify (`late_entry_of_fact`); it then counts, with that deviation.
    #[serde(default)]
    pub deviation_id: Option<String>,
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
#[derive(Debug, Clone, PartialEq)]
pub struct BleedingVerdict {
    /// Within the limit.
    pub acceptable: bool,
    /// The limit (INR max, platelets min, APTT max in seconds).
    pub limit: f64,
    /// The comparison that holds: `≤`/`>` for maxima, `≥`/`<` for minima.
    pub op: &'static str,
    /// How an APTT limit came from the result's ULN (`1.5 × ULN 35 s`), when it did.
    pub by_uln: Option<String>,
}

/// The comparison of a bleeding lab with its limit: `(acceptable, op)`; INR and APTT
/// are maxima, platelets a minimum.
fn compare(analyte: Analyte, value: f64, limit: f64) -> (bool, &'static str) {
    if analyte == Analyte::Platelets {
        if value >= limit {
            (true, "≥")
        } else {
            (false, "<")
        }
    } else if value <= limit {
        (true, "≤")
    } else {
        (false, ">")
    }
}

/// EX5 limits: INR ≤ 1.4, platelets ≥ 70×10⁹/L, APTT ≤ 30 s by default (trial
/// registration), or APTT ≤ a multiple of the result's ULN when so configured
/// (clinical-rules A8). `None` for analytes that are not bleeding labs; `Some(Err)`,
/// in words, for an APTT without a ULN when the limit is a multiple of it.
pub fn bleeding_verdict(
    l: &LabResult,
    b: &BleedingSettings,
) -> Option<Result<BleedingVerdict, String>> {
    let (limit, by_uln) = match l.analyte {
        Analyte::Inr => (b.inr_max, None),
        Analyte::Platelets => (b.plt_min_e9, None),
        Analyte::Aptt => match b.aptt_limit(l.canonical_uln) {
            Ok(a) => (a.max_s, a.by_uln),
            Err(e) => return Some(Err(e)),
        },
        _ => return None,
    };
    let (acceptable, op) = compare(l.analyte, l.canonical_value, limit);
    Some(Ok(BleedingVerdict {
        acceptable,
        limit,
        op,
        by_uln,
    }))
}

/// The limits of the bleeding labs in words, with the settings they come from.
fn bleeding_limits(s: &Settings) -> String {
    format!(
        "INR ≤ {}, platelets ≥ {} ×10⁹/L and {}",
        s.bleeding.inr_max,
        s.bleeding.plt_min_e9,
        s.bleeding.aptt_rule()
    )
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
        let age_days = (s.local_date(at) - s.local_date(l.sample_at)).num_days();
        if age_days > window {
            problems.push(format!(
                "{} {} sampled {} is {age_days} days old (max {window})",
                analyte.label(),
                l.canonical_value,
                s.local_date(l.sample_at)
            ));
            continue;
        }
        let v = match bleeding_verdict(l, &s.bleeding) {
            None => continue,
            Some(Err(why)) => {
                problems.push(format!(
                    "{} {}{}: {why}",
                    analyte.label(),
                    l.canonical_value,
                    unit(analyte)
                ));
                continue;
            }
            Some(Ok(v)) => v,
        };
        if !v.acceptable {
            problems.push(format!(
                "{} {} {} {}{}{}",
                analyte.label(),
                l.canonical_value,
                v.op,
                v.limit,
                unit(analyte),
                v.by_uln.map(|u| format!(" ({u})")).unwrap_or_default()
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
            "Needs {} sampled within {window} days before the biopsy.",
            bleeding_limits(s)
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
        s.local_text(b.performed_at),
        reason.map(|r| format!("; reason: {r}")).unwrap_or_default()
    )];
    for c in &checks {
        let (_, v) = compare(c.analyte, c.value, c.limit);
        evidence.push(format!(
            "{} {} {v} {}{} sampled {} ({} days before)",
            c.analyte.label(),
            c.value,
            c.limit,
            unit(c.analyte),
            s.local_text(c.sample_at),
            c.age_days
        ));
    }
    evidence.push(format!(
        "Limits: {} ({})",
        bleeding_limits(s),
        s.provenance()
    ));
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
                s.local_text(*last_dose_at)
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

/// The oldest biopsy date that is at most `months` calendar months before `on`: the
/// first day from which adding the months reaches `on`, as IN2 counts its relapse
/// window (1 July + 3 months = 1 October).
pub fn oldest_usable(on: NaiveDate, months: u32) -> Option<NaiveDate> {
    let m = Months::new(months);
    let mut oldest = on.checked_sub_months(m)?;
    // Month ends: 28 Feb + 3 months is 28 May, so on 31 May the oldest is 1 March.
    while oldest.checked_add_months(m).is_some_and(|d| d < on) {
        oldest = oldest.succ_opt()?;
    }
    Some(oldest)
}

/// Whether a treatment line gave therapy after a biopsy taken on `biopsy_date`: it
/// started after that day, or its recorded last day is after it. A line that
/// starts on the biopsy day is taken to start after the biopsy was taken.
pub fn given_after(l: &TreatmentLine, biopsy_date: NaiveDate) -> bool {
    l.start_date > biopsy_date || l.end_date.is_some_and(|end| end > biopsy_date)
}

/// The treatment lines given after an earlier biopsy (see [`given_after`]).
pub fn lines_since<'a>(
    b: &ArchivalBiopsy,
    lines: impl IntoIterator<Item = &'a TreatmentLine>,
) -> Vec<TreatmentLine> {
    lines
        .into_iter()
        .filter(|l| given_after(l, b.biopsy_date))
        .cloned()
        .collect()
}

/// Why an earlier biopsy cannot replace the study biopsy when counted to `on`,
/// named `what` in the messages ("PET1" or "today"); empty = usable.
///
/// The age is in calendar months ([`oldest_usable`]). The disallowed therapy follows
/// `archival_biopsy.disallowed_intervening` (any systemic, the default, also covers
/// HER2-targeted therapy) and is read both from the form's answers and from the
/// recorded treatment `lines` given after the biopsy.
pub fn archival_problems(
    b: &ArchivalBiopsy,
    on: NaiveDate,
    what: &str,
    lines: &[TreatmentLine],
    a: &ArchivalBiopsySettings,
) -> Vec<String> {
    let age = (on - b.biopsy_date).num_days();
    let mut problems = Vec::new();
    let oldest = oldest_usable(on, a.max_age_months);
    if age < 0 {
        problems.push(format!("{age} days old: dated after {what} ({on})"));
    } else if what == "PET1" && age == 0 {
        problems.push(format!(
            "taken on the day of PET1 ({on}): an earlier biopsy must precede PET1"
        ));
    } else if oldest.is_none_or(|o| b.biopsy_date < o) {
        let max = oldest.map_or(0, |o| (on - o).num_days());
        problems.push(format!(
            "{age} days old (max {max}): more than {} calendar months before {what} ({on})",
            a.max_age_months
        ));
    }
    let her2_only = a.disallowed_intervening == DisallowedIntervening::Her2Targeted;
    let therapy = if her2_only {
        b.her2_targeted_therapy_since
    } else {
        b.systemic_therapy_since || b.her2_targeted_therapy_since
    };
    if therapy {
        problems.push(
            if her2_only {
                "HER2-targeted therapy since the biopsy"
            } else {
                "systemic therapy since the biopsy"
            }
            .to_owned(),
        );
    }
    for l in lines.iter().filter(|l| given_after(l, b.biopsy_date)) {
        if her2_only && !l.is_her2_targeted {
            continue;
        }
        problems.push(format!(
            "{} therapy since the biopsy: {} ({}) given {} → {}",
            if her2_only {
                "HER2-targeted"
            } else {
                "systemic"
            },
            l.regimen,
            l.setting.label(),
            l.start_date,
            l.end_date.map_or("ongoing".into(), |d| d.to_string())
        ));
    }
    if a.local_rt_to_biopsied_lesion_disallowed && b.radiotherapy_to_lesion_since {
        problems.push("radiotherapy to the lesion since the biopsy".into());
    }
    problems
}

/// Why an archival sample cannot replace the study biopsy (empty = usable): its age
/// and precedence counted to PET1, the therapies recorded since.
pub fn archival_sample_problems(a: &ArchivalSample, s: &Settings) -> Vec<String> {
    let (on, what) = match a.pet1_on {
        Some(pet1) => (pet1, "PET1"),
        None => (a.used_on, "its use"),
    };
    archival_problems(&a.record, on, what, &a.lines_since, &s.archival_biopsy)
}

/// Checks an archival sample; refuses with `ARCHIVAL_BIOPSY` naming every problem,
/// unless it was used as a past fact with a recorded major deviation. On success
/// returns the evidence line.
pub fn check_archival_sample(a: &ArchivalSample, s: &Settings) -> Result<String, Refusal> {
    let rules = &s.archival_biopsy;
    let problems = archival_sample_problems(a, s);
    let (on, what) = match a.pet1_on {
        Some(pet1) => (pet1, "PET1"),
        None => (a.used_on, "its use"),
    };
    let age = (on - a.record.biopsy_date).num_days();
    let head = format!(
        "Archival biopsy {} of {} ({}) taken {}: {age} days old at {what} ({on}; max {} calendar months)",
        a.biopsy_id,
        a.record.lesion_id.as_deref().unwrap_or("unlisted lesion"),
        a.record.site_description,
        a.record.biopsy_date,
        rules.max_age_months
    );
    if problems.is_empty() {
        return Ok(format!("{head}, no disallowed therapy since"));
    }
    if let Some(dev) = &a.deviation_id {
        return Ok(format!(
            "{head}; used as a past fact although {} (major deviation {dev})",
            problems.join(", ")
        ));
    }
    Err(archival_refusal(a, &problems, s))
}

/// The `ARCHIVAL_BIOPSY` refusal naming every problem of a sample.
pub fn archival_refusal(a: &ArchivalSample, problems: &[String], s: &Settings) -> Refusal {
    let rules = &s.archival_biopsy;
    Refusal::new(
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
        "Settings v{}: taken before PET1, at most {} calendar months before it, no {} since the biopsy{}. Take a fresh biopsy.",
        s.version,
        rules.max_age_months,
        match rules.disallowed_intervening {
            DisallowedIntervening::AnySystemic => "systemic anti-cancer therapy",
            DisallowedIntervening::Her2Targeted => "HER2-targeted therapy",
        },
        if rules.local_rt_to_biopsied_lesion_disallowed {
            " and no radiotherapy to the lesion"
        } else {
            ""
        }
    ))
}
