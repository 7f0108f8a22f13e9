//! Each participant's expected visits and their windows (PROTOCOL §7, §9, §11;
//! clinical-rules §6.1, A6, A7).
//!
//! Windows are derived from anchors (consent, PET1, biopsy, allocation, T-DXd
//! dates, progression). A fact recorded outside its window is kept: the check
//! returns a [`WindowDeviation`] to record beside it, never a refusal. A fact
//! dated before the signed consent is a major `GATE_CONSENT` deviation (PROTOCOL
//! §4); a fact before its own anchor (e.g. a biopsy before the PET that guides it)
//! is a major deviation; a fact outside the window otherwise is minor (PROTOCOL §9: PET2).

use chrono::{DateTime, Days, NaiveDate, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::participant::Arm;
use crate::records::{Deviation, DeviationSeverity};
use crate::rule::{Refusal, Rule};
use crate::settings::{Arm2Anchor, Pet2Anchor, Settings};

/// The dates the windows count from.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Anchors {
    /// Informed consent signed.
    pub consent: Option<NaiveDate>,
    /// Baseline HER2-PET.
    pub pet1: Option<NaiveDate>,
    /// Study biopsy (fresh) taken.
    pub biopsy: Option<NaiveDate>,
    /// Allocation date and arm.
    pub allocation: Option<(NaiveDate, Arm)>,
    /// T-DXd administration dates in order; the first is cycle 1 day 1.
    pub tdxd_dates: Vec<NaiveDate>,
    /// Disease progression.
    pub progression: Option<NaiveDate>,
    /// An LVEF finding on T-DXd that asks for a repeat: (finding date, repeat by).
    #[serde(default)]
    pub lvef_repeat: Option<(NaiveDate, NaiveDate)>,
}

impl Anchors {
    /// Cycle 1 day 1.
    pub fn c1d1(&self) -> Option<NaiveDate> {
        self.tdxd_dates.first().copied()
    }

    /// The allocated arm.
    pub fn arm(&self) -> Option<Arm> {
        self.allocation.map(|(_, a)| a)
    }
}

/// A visit (or milestone) the schedule expects.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum VisitKind {
    /// Fresh study biopsy after PET1 (an archival sample has no window).
    Biopsy,
    /// T-DXd cycle 1 day 1 (arm 1).
    C1d1,
    /// Response HER2-PET (arm 1).
    Pet2,
    /// Optional HER2-PET + biopsy at progression (arm 1).
    Pet3,
    /// End of the arm-2 adverse-event follow-up.
    Arm2FollowUpEnd,
    /// A repeat LVEF on T-DXd (LVEF 40–45 % with a drop under 10 points: repeat within
    /// 3 weeks, T-DXd label); expected while the finding is open.
    LvefRepeat,
}

impl VisitKind {
    /// The rule whose window it is.
    pub fn rule(self) -> Rule {
        match self {
            VisitKind::Biopsy => Rule::BIOPSY_WINDOW,
            VisitKind::C1d1 => Rule::C1D1_WINDOW,
            VisitKind::Pet2 => Rule::PET2_WINDOW,
            VisitKind::Pet3 => Rule::PET3_WINDOW,
            VisitKind::Arm2FollowUpEnd => Rule::ARM2_FOLLOWUP,
            VisitKind::LvefRepeat => Rule::TDXD_LVEF,
        }
    }

    /// Name for messages.
    pub fn label(self) -> &'static str {
        match self {
            VisitKind::Biopsy => "study biopsy",
            VisitKind::C1d1 => "T-DXd cycle 1 day 1",
            VisitKind::Pet2 => "PET2",
            VisitKind::Pet3 => "PET3 + biopsy at progression",
            VisitKind::Arm2FollowUpEnd => "end of arm-2 follow-up",
            VisitKind::LvefRepeat => "repeat LVEF (T-DXd)",
        }
    }

    /// Optional visits are never overdue.
    pub fn optional(self) -> bool {
        self == VisitKind::Pet3
    }
}

/// A window of dates, both ends inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Window {
    /// The anchor date the window counts from.
    pub anchor: NaiveDate,
    /// First day.
    pub earliest: NaiveDate,
    /// Last day.
    pub latest: NaiveDate,
}

/// A visit the schedule expects, with its window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ExpectedVisit {
    /// Which visit.
    pub kind: VisitKind,
    /// Its window.
    pub window: Window,
    /// How the window was derived, with the settings used.
    pub derivation: String,
}

/// A fact dated outside its window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct WindowDeviation {
    /// The window's rule.
    pub rule: Rule,
    /// Major before the anchor, minor otherwise.
    pub severity: DeviationSeverity,
    /// The visit.
    pub kind: VisitKind,
    /// When it happened.
    pub date: NaiveDate,
    /// Days before the window (negative) or after it (positive); before consent:
    /// days before the consent date (negative).
    pub days_outside: i64,
    /// What happened, with the window.
    pub description: String,
}

impl WindowDeviation {
    /// The deviation record to store, once the caller has an id and the entry.
    pub fn to_deviation(
        &self,
        deviation_id: String,
        occurred_at: DateTime<Utc>,
        entry_id: Option<String>,
    ) -> Deviation {
        Deviation {
            deviation_id,
            severity: self.severity,
            rule: self.rule,
            description: self.description.clone(),
            occurred_at,
            entry_id,
        }
    }
}

/// The timing of a recorded visit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct VisitTiming {
    /// The expected visit and its window.
    pub expected: ExpectedVisit,
    /// The date recorded.
    pub date: NaiveDate,
    /// Day number after the anchor (anchor = day 0).
    pub day: i64,
    /// The deviation to record, when outside the window.
    pub deviation: Option<WindowDeviation>,
    /// Settings version used.
    pub settings_version: u32,
}

fn add(d: NaiveDate, days: u32) -> NaiveDate {
    d.checked_add_days(Days::new(u64::from(days))).unwrap_or(d)
}

fn window(anchor: NaiveDate, min: u32, max: u32) -> Window {
    Window {
        anchor,
        earliest: add(anchor, min),
        latest: add(anchor, max),
    }
}

/// The end of cycle `n` (1-based): the n-th dose + one cycle, projecting missing
/// doses from the last one given at one per cycle.
fn end_of_cycle(dates: &[NaiveDate], n: u32, cycle_days: u32) -> Option<NaiveDate> {
    let n = usize::try_from(n).ok()?.max(1);
    let last = *dates.last()?;
    let nth = match dates.get(n - 1) {
        Some(d) => *d,
        None => {
            let missing = u32::try_from(n - dates.len()).ok()?;
            add(last, missing.checked_mul(cycle_days)?)
        }
    };
    Some(add(nth, cycle_days))
}

/// The expected window of one visit, or `None` while its anchor is missing or
/// the visit does not apply (wrong arm, no progression).
pub fn expected_visit(kind: VisitKind, a: &Anchors, s: &Settings) -> Option<ExpectedVisit> {
    let sc = &s.schedule;
    let v = s.version;
    let (window, derivation) = match kind {
        VisitKind::Biopsy => {
            let w = sc.biopsy_after_pet1;
            let p = a.pet1?;
            (
                window(p, w.min_days, w.max_days),
                format!(
                    "PET1 {p} + {}–{} days (settings v{v})",
                    w.min_days, w.max_days
                ),
            )
        }
        VisitKind::C1d1 => {
            if a.arm()? != Arm::Arm1 {
                return None;
            }
            let w = sc.c1d1_after_pet1;
            let p = a.pet1?;
            (
                window(p, w.min_days, w.max_days),
                format!(
                    "PET1 {p} + {}–{} days (settings v{v})",
                    w.min_days, w.max_days
                ),
            )
        }
        VisitKind::Pet2 => {
            if a.arm()? != Arm::Arm1 {
                return None;
            }
            pet2_window(a, s)?
        }
        VisitKind::Pet3 => {
            if a.arm()? != Arm::Arm1 {
                return None;
            }
            let w = sc.pet3_after_progression;
            let p = a.progression?;
            (
                window(p, w.min_days, w.max_days),
                format!(
                    "progression {p} + {}–{} days (settings v{v})",
                    w.min_days, w.max_days
                ),
            )
        }
        VisitKind::Arm2FollowUpEnd => {
            if a.arm()? != Arm::Arm2 {
                return None;
            }
            let days = s.arm2.ae_followup_days;
            let (anchor, what) = arm2_anchor(a, s)?;
            (
                window(anchor, days, days),
                format!("{what} {anchor} + {days} days (settings v{v})"),
            )
        }
        VisitKind::LvefRepeat => {
            let (since, due) = a.lvef_repeat?;
            (
                Window {
                    anchor: since,
                    earliest: since,
                    latest: due,
                },
                format!("LVEF finding {since}: repeat by {due} (T-DXd label; settings v{v})"),
            )
        }
    };
    Some(ExpectedVisit {
        kind,
        window,
        derivation,
    })
}

/// PET2 (PROTOCOL §9, clinical-rules A6): by calendar, day 63–84 after C1D1; by
/// cycles, from the end of cycle 3 to the end of cycle 4 as given (missing doses
/// projected one per cycle), so dose delays move the window.
fn pet2_window(a: &Anchors, s: &Settings) -> Option<(Window, String)> {
    let p2 = &s.pet2;
    let v = s.version;
    let c1 = a.c1d1()?;
    Some(match p2.anchor {
        Pet2Anchor::Calendar => (
            window(c1, p2.calendar_days_min, p2.calendar_days_max),
            format!(
                "C1D1 {c1} + {}–{} days (settings v{v})",
                p2.calendar_days_min, p2.calendar_days_max
            ),
        ),
        Pet2Anchor::Cycles => {
            let cd = s.tdxd.cycle_days;
            let w = Window {
                anchor: c1,
                earliest: end_of_cycle(&a.tdxd_dates, p2.after_cycles_min, cd)?,
                latest: end_of_cycle(&a.tdxd_dates, p2.after_cycles_max, cd)?,
            };
            (
                w,
                format!(
                    "after {}–{} cycles of {cd} days from the doses given (C1D1 {c1}; settings v{v})",
                    p2.after_cycles_min, p2.after_cycles_max
                ),
            )
        }
    })
}

/// The arm-2 follow-up anchor: PET1, or the last study procedure (PET1 or biopsy).
pub fn arm2_anchor(a: &Anchors, s: &Settings) -> Option<(NaiveDate, &'static str)> {
    match s.arm2.ae_followup_anchor {
        Arm2Anchor::Pet1 => a.pet1.map(|d| (d, "PET1")),
        Arm2Anchor::LastStudyProcedure => [a.pet1, a.biopsy]
            .into_iter()
            .flatten()
            .max()
            .map(|d| (d, "last study procedure")),
    }
}

/// Every visit the schedule expects now, in order.
pub fn expected_visits(a: &Anchors, s: &Settings) -> Vec<ExpectedVisit> {
    [
        VisitKind::Biopsy,
        VisitKind::C1d1,
        VisitKind::Pet2,
        VisitKind::Pet3,
        VisitKind::Arm2FollowUpEnd,
        VisitKind::LvefRepeat,
    ]
    .into_iter()
    .filter_map(|k| expected_visit(k, a, s))
    .collect()
}

/// Checks the date of a recorded visit against its window. The visit is kept
/// either way; outside the window a [`WindowDeviation`] comes back. Refused only
/// when the window cannot be known (its anchor is missing or it does not apply).
///
/// The end of arm-2 follow-up deviates only when early (follow-up cut short).
pub fn check_visit(
    kind: VisitKind,
    date: NaiveDate,
    a: &Anchors,
    s: &Settings,
) -> Result<VisitTiming, Refusal> {
    let expected = expected_visit(kind, a, s).ok_or_else(|| {
        Refusal::new(
            kind.rule(),
            format!("The window of the {} cannot be derived: its anchor is missing or it does not apply to this participant.", kind.label()),
        )
        .with_hint("Record the anchor (PET1, allocation, first T-DXd dose or progression) first.")
    })?;
    let w = expected.window;
    let day = (date - w.anchor).num_days();
    let days_outside = if date < w.earliest {
        (date - w.earliest).num_days()
    } else if date > w.latest && kind != VisitKind::Arm2FollowUpEnd {
        (date - w.latest).num_days()
    } else {
        0
    };
    let before_consent = a.consent.filter(|c| date < *c);
    let deviation = if let Some(c) = before_consent {
        Some(WindowDeviation {
            rule: Rule::GATE_CONSENT,
            severity: DeviationSeverity::Major,
            kind,
            date,
            days_outside: (date - c).num_days(),
            description: format!(
                "{} on {date} is before the signed consent {c} (PROTOCOL §4).",
                kind.label()
            ),
        })
    } else {
        (days_outside != 0).then(|| {
            let severity = if date < w.anchor {
                DeviationSeverity::Major
            } else {
                DeviationSeverity::Minor
            };
            WindowDeviation {
                rule: kind.rule(),
                severity,
                kind,
                date,
                days_outside,
                description: format!(
                    "{} on {date} (day {day}) is {} days {} its window {}–{} ({}).",
                    kind.label(),
                    days_outside.abs(),
                    if days_outside < 0 { "before" } else { "after" },
                    w.earliest,
                    w.latest,
                    expected.derivation
                ),
            }
        })
    };
    Ok(VisitTiming {
        expected,
        date,
        day,
        deviation,
        settings_version: s.version,
    })
}

/// Where a visit stands today.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum VisitState {
    /// Its window has not opened.
    Upcoming,
    /// Its window is open today.
    Due,
    /// Its window has closed and it was not done (required visits).
    Overdue,
    /// Its window has closed and it was not done (optional visits).
    Skipped,
    /// Done inside the window.
    DoneInWindow,
    /// Done outside the window (a deviation was raised).
    DoneOutOfWindow,
}

/// A visit's state today.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct VisitStatus {
    /// The expected visit.
    pub expected: ExpectedVisit,
    /// Its state.
    pub state: VisitState,
    /// Date done, if done.
    pub done_on: Option<NaiveDate>,
}

/// The state of every expected visit on `today`, given the visits done.
pub fn visit_statuses(
    a: &Anchors,
    done: &[(VisitKind, NaiveDate)],
    today: NaiveDate,
    s: &Settings,
) -> Vec<VisitStatus> {
    expected_visits(a, s)
        .into_iter()
        .map(|e| {
            let done_on = done
                .iter()
                .filter(|(k, _)| *k == e.kind)
                .map(|(_, d)| *d)
                .min();
            let w = e.window;
            let state = match done_on {
                Some(d) => match check_visit(e.kind, d, a, s) {
                    Ok(t) if t.deviation.is_some() => VisitState::DoneOutOfWindow,
                    _ => VisitState::DoneInWindow,
                },
                None if today < w.earliest => VisitState::Upcoming,
                None if today <= w.latest => VisitState::Due,
                None if e.kind.optional() => VisitState::Skipped,
                None => VisitState::Overdue,
            };
            VisitStatus {
                expected: e,
                state,
                done_on,
            }
        })
        .collect()
}
