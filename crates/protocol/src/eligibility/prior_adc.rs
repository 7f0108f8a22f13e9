//! IN2 and an earlier anti-HER2 antibody–drug conjugate (clinical-rules A17).
//!
//! The registration does not say whether earlier T-DXd or another anti-HER2 ADC is
//! allowed; `prior_chemo.prior_her2_adc_allowed` decides (default false, as
//! DESTINY-Breast04 excluded prior anti-HER2 therapy). A treatment line is an anti-HER2
//! ADC when its regimen names one (generic name, abbreviation, brand or code).

use super::CriterionStatus::NotMet;
use super::{Ctx, Finding};
use crate::participant::current;
use crate::records::TreatmentLine;

/// Names of anti-HER2 antibody–drug conjugates, lower case: trastuzumab deruxtecan
/// (Enhertu, DS-8201), trastuzumab emtansine (Kadcyla, T-DM1), disitamab vedotin
/// (RC48), trastuzumab duocarmazine (SYD985) and trastuzumab rezetecan (SHR-A1811).
const HER2_ADC_NAMES: [&str; 17] = [
    "deruxtecan",
    "t-dxd",
    "tdxd",
    "enhertu",
    "ds-8201",
    "emtansine",
    "t-dm1",
    "tdm1",
    "kadcyla",
    "disitamab",
    "rc48",
    "rc-48",
    "duocarmazine",
    "syd985",
    "rezetecan",
    "shr-a1811",
    "ado-trastuzumab",
];

/// The anti-HER2 ADC a treatment line's regimen names, if any.
pub fn her2_adc_named(line: &TreatmentLine) -> Option<&'static str> {
    let regimen = line.regimen.to_lowercase();
    HER2_ADC_NAMES.into_iter().find(|n| regimen.contains(n))
}

/// Adds the evidence on earlier anti-HER2 ADC lines to `ev`; when they are not allowed
/// and one is recorded, IN2 is not met and this returns the finding.
pub(super) fn judge(ctx: &Ctx, ev: &mut Vec<String>) -> Option<Finding> {
    let allowed = ctx.s.prior_chemo.prior_her2_adc_allowed;
    let lines: Vec<String> = current(&ctx.p.treatment_lines)
        .filter_map(|e| {
            her2_adc_named(&e.value)
                .map(|n| format!("{} from {} (\"{n}\")", e.value.regimen, e.value.start_date))
        })
        .collect();
    if lines.is_empty() {
        return None;
    }
    ev.push(format!(
        "Earlier anti-HER2 antibody–drug conjugate: {} — prior_chemo.prior_her2_adc_allowed is {allowed} ({})",
        lines.join("; "),
        ctx.s.provenance()
    ));
    (!allowed).then(|| {
        Finding::new(
            NotMet,
            "Not met: an earlier anti-HER2 antibody–drug conjugate is not allowed (clinical-rules A17)",
            std::mem::take(ev),
        )
    })
}
