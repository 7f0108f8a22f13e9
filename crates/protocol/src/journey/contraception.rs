//! How long a woman of child-bearing potential must keep using contraception (PROTOCOL
//! §6; clinical-rules A11/A12): the configured number of calendar months after her last
//! IMP dose ([68Ga]Ga-ABY-025, `pregnancy.contraception_months_after_last_imp`, default 6)
//! and after her last T-DXd dose (`…_after_last_tdxd`, default 7), whichever ends later.

use chrono::{Months, NaiveDate};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::participant::{Participant, current};
use crate::settings::Settings;

/// The end of the contraception period, with what it counts from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ContraceptionPeriod {
    /// Contraception is needed up to and including this day.
    pub until: NaiveDate,
    /// The dose it counts from, and the months added, in words.
    pub basis: String,
    /// The settings version the months came from.
    pub settings_version: u32,
}

/// The contraception period of a participant: none unless the current record says she is
/// of child-bearing potential and she has had a study drug.
pub fn contraception_period(p: &Participant, s: &Settings) -> Option<ContraceptionPeriod> {
    let childbearing = current(&p.childbearing).last()?;
    if !childbearing.value.childbearing_potential {
        return None;
    }
    let last_imp = current(&p.imp_administrations)
        .map(|a| s.local_date(a.value.injected_at))
        .max();
    let last_tdxd = p.tdxd.administrations.iter().map(|a| a.date).max();
    let months = &s.pregnancy;
    let candidates = [
        last_imp.map(|d| (d, months.contraception_months_after_last_imp, "IMP")),
        last_tdxd.map(|d| (d, months.contraception_months_after_last_tdxd, "T-DXd")),
    ];
    candidates
        .into_iter()
        .flatten()
        .filter_map(|(dose, n, drug)| {
            let until = dose.checked_add_months(Months::new(n))?;
            Some((
                until,
                format!("{n} months after the last {drug} dose on {dose}"),
            ))
        })
        .max_by_key(|(until, _)| *until)
        .map(|(until, basis)| ContraceptionPeriod {
            until,
            basis,
            settings_version: s.version,
        })
}
