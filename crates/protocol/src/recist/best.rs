//! Best overall response over all time points, without confirmation and with
//! confirmation (RECIST 1.1 §4.4.3, Table 3; §4.6.1).
//!
//! ## Table 3, note a: disease after a complete response
//!
//! Note a says: "If a CR is *truly met* at first time point, then any disease seen at a
//! subsequent time point, even disease meeting PR criteria relative to baseline, makes the
//! disease PD at that point", and adds that a CR is sometimes claimed where small lesions
//! were still present, in which case it was a PR. Which CR is "truly met" is a choice,
//! [`PdAfterCr`]:
//!
//! - [`PdAfterCr::AfterConfirmedCr`] (default): only a CR confirmed by a later CR at least
//!   `confirm_min_days` after it, with only CR or NE between. An unconfirmed CR may have
//!   been a PR read as CR, so a later SD or PR stays what it is: CR (day 31), SD (day 63)
//!   is SD on day 63, not PD. The EORTC RECIST FAQ ("Does a new lesion always result in
//!   PD?", "Abnormal lymph node") asks for the same: reappearance is PD when CR was
//!   "definitively assigned" at the previous assessment, and recommends that CR be
//!   confirmed.
//! - [`PdAfterCr::AfterAnyCr`]: any CR time point, as Table 3 is printed (its rows "CR then
//!   SD: SD if the SD duration is met, otherwise PD"); engine 1.0 read it so.
//!
//! The choice matters only with confirmation: without it the best response is the best
//! time point and nothing after a CR is reinterpreted. Reappearance of target disease after
//! a *confirmed* CR is progression at the time point itself, under either reading
//! ([`super::case`]).

use super::response::OverallResponse;
use chrono::NaiveDate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Default minimum interval between a response and the scan confirming it
/// (RECIST 1.1 §4.6.1: "no less than 4 weeks").
pub const CONFIRM_MIN_DAYS_DEFAULT: u32 = 28;
/// Default minimum time from treatment start at which stable disease counts as best
/// response (RECIST 1.1 §4.4.3 leaves it to the protocol, "in general 6–8 weeks").
pub const SD_MIN_DAYS_DEFAULT: u32 = 42;

/// After which complete response RECIST 1.1 Table 3 note a makes any later disease PD
/// (see the [module documentation](self)).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PdAfterCr {
    /// Only after a CR confirmed by a later CR (default; EORTC RECIST FAQ): an unconfirmed
    /// CR does not make a later SD or PR into PD.
    #[default]
    AfterConfirmedCr,
    /// After any CR time point, as Table 3 is printed.
    AfterAnyCr,
}

/// How the best overall response is derived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BestResponseRules {
    /// Whether CR and PR must be confirmed by a later scan (Table 3).
    pub confirmation: bool,
    /// Minimum days from a response to its confirming scan.
    pub confirm_min_days: u32,
    /// Minimum days from treatment start for a non-PD time point to count as SD.
    pub sd_min_days: u32,
    /// Which CR Table 3 note a follows.
    pub pd_after_cr: PdAfterCr,
}

impl Default for BestResponseRules {
    /// No confirmation, 28 and 42 days. Confirmation is needed in non-randomised trials
    /// where response is the primary endpoint (RECIST 1.1 §4.6.1); in HER2-Ex response to
    /// T-DXd at 9–12 weeks is a secondary, exploratory endpoint read at one scan.
    fn default() -> Self {
        BestResponseRules {
            confirmation: false,
            confirm_min_days: CONFIRM_MIN_DAYS_DEFAULT,
            sd_min_days: SD_MIN_DAYS_DEFAULT,
            pd_after_cr: PdAfterCr::default(),
        }
    }
}

/// The best overall response and the date of the time point that gives it (`None` for
/// NE when no time point qualifies).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct BestOverallResponse {
    /// The response.
    pub response: OverallResponse,
    /// The date it was first met.
    pub date: Option<NaiveDate>,
}

/// Best overall response from time-point responses in date order.
///
/// Only time points up to and including the first PD count: best response is recorded
/// until progression (RECIST 1.1 §4.4.3). Stable disease (and NON_CR_NON_PD, its analogue
/// for non-target disease only) counts only at a time point at least `sd_min_days` after
/// `treatment_start`; if no time point qualifies the best response is PD when PD
/// followed, else NE (RECIST 1.1 §4.4.3). `measurable_disease` says whether the patient
/// had target lesions: without them the "stable" fallback is NON_CR_NON_PD, not SD.
///
/// With confirmation (Table 3):
/// - CR needs a later CR at least `confirm_min_days` after it, with only CR or NE between;
/// - PR needs a later PR or CR at least `confirm_min_days` after it, with only CR, PR or
///   NE between;
/// - after a CR that was truly met ([`PdAfterCr`]), a later PR, SD or NON_CR_NON_PD means
///   disease reappeared and counts as progression (Table 3, note a). Where the first CR
///   was in truth a PR, the reader corrects that time point and the best response becomes
///   PR;
/// - an unconfirmed CR or PR counts as SD when the SD duration is met.
pub fn best_overall_response(
    treatment_start: NaiveDate,
    points: &[(NaiveDate, OverallResponse)],
    rules: &BestResponseRules,
    measurable_disease: bool,
) -> BestOverallResponse {
    let seq = until_first_pd(points, rules);
    let stable = if measurable_disease {
        OverallResponse::StableDisease
    } else {
        OverallResponse::NonCrNonPd
    };
    let found = |response, date| BestOverallResponse {
        response,
        date: Some(date),
    };

    if rules.confirmation {
        if let Some(date) = first_confirmed(&seq, rules, OverallResponse::CompleteResponse) {
            return found(OverallResponse::CompleteResponse, date);
        }
        if let Some(date) = first_confirmed(&seq, rules, OverallResponse::PartialResponse) {
            return found(OverallResponse::PartialResponse, date);
        }
    } else {
        for wanted in [
            OverallResponse::CompleteResponse,
            OverallResponse::PartialResponse,
        ] {
            if let Some((date, _)) = seq.iter().find(|(_, r)| *r == wanted) {
                return found(wanted, *date);
            }
        }
    }
    // Any non-PD, evaluable time point late enough meets the SD criteria.
    let sd = seq.iter().find(|(date, r)| {
        !matches!(
            r,
            OverallResponse::ProgressiveDisease | OverallResponse::NotEvaluable
        ) && (*date - treatment_start).num_days() >= i64::from(rules.sd_min_days)
    });
    if let Some((date, _)) = sd {
        return found(stable, *date);
    }
    if let Some((date, _)) = seq
        .iter()
        .find(|(_, r)| *r == OverallResponse::ProgressiveDisease)
    {
        return found(OverallResponse::ProgressiveDisease, *date);
    }
    BestOverallResponse {
        response: OverallResponse::NotEvaluable,
        date: None,
    }
}

/// The time points up to and including the first PD. With confirmation, a PR, SD or
/// NON_CR_NON_PD after a CR that was truly met is read as progression (Table 3, note a).
fn until_first_pd(
    points: &[(NaiveDate, OverallResponse)],
    rules: &BestResponseRules,
) -> Vec<(NaiveDate, OverallResponse)> {
    let mut out = Vec::new();
    let mut seen_cr = false;
    let mut run = CrRun::default();
    for &(date, response) in points {
        let truly_met = match rules.pd_after_cr {
            PdAfterCr::AfterAnyCr => seen_cr,
            PdAfterCr::AfterConfirmedCr => run.confirmed_since().is_some(),
        };
        let response = match response {
            OverallResponse::PartialResponse
            | OverallResponse::StableDisease
            | OverallResponse::NonCrNonPd
                if rules.confirmation && truly_met =>
            {
                OverallResponse::ProgressiveDisease
            }
            r => r,
        };
        seen_cr |= response == OverallResponse::CompleteResponse;
        run.push(date, response, rules.confirm_min_days);
        out.push((date, response));
        if response == OverallResponse::ProgressiveDisease {
            break;
        }
    }
    out
}

/// A run of complete responses followed through the time points in date order, to tell
/// when the patient is in a confirmed CR: a CR and a later CR at least `confirm_min_days`
/// after it, with only CR or NE between (RECIST 1.1 §4.6.1). An NE keeps the run; any
/// other response ends it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CrRun {
    since: Option<NaiveDate>,
    confirmed: bool,
}

impl CrRun {
    /// Takes the next time point's overall response.
    pub fn push(&mut self, date: NaiveDate, response: OverallResponse, confirm_min_days: u32) {
        match response {
            OverallResponse::CompleteResponse => {
                let since = *self.since.get_or_insert(date);
                if (date - since).num_days() >= i64::from(confirm_min_days) {
                    self.confirmed = true;
                }
            }
            OverallResponse::NotEvaluable => {}
            _ => *self = CrRun::default(),
        }
    }

    /// The date of the first CR of the run, once a later CR has confirmed it.
    pub fn confirmed_since(&self) -> Option<NaiveDate> {
        self.since.filter(|_| self.confirmed)
    }
}

/// Date of the first time point with response `wanted` (CR or PR) that a later scan
/// confirms (Table 3; RECIST 1.1 §4.6.1).
fn first_confirmed(
    seq: &[(NaiveDate, OverallResponse)],
    rules: &BestResponseRules,
    wanted: OverallResponse,
) -> Option<NaiveDate> {
    use OverallResponse as O;
    let confirms = |r: O| match wanted {
        O::CompleteResponse => r == O::CompleteResponse,
        _ => matches!(r, O::CompleteResponse | O::PartialResponse),
    };
    let may_sit_between = |r: O| confirms(r) || r == O::NotEvaluable;
    for (i, &(date, response)) in seq.iter().enumerate() {
        if response != wanted {
            continue;
        }
        for &(later, r) in &seq[i + 1..] {
            if (later - date).num_days() >= i64::from(rules.confirm_min_days) && confirms(r) {
                return Some(date);
            }
            if !may_sit_between(r) {
                break;
            }
        }
    }
    None
}
