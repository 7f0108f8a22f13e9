//! Response categories and the time-point response tables of RECIST 1.1 §4.4.1:
//! Table 1 (target lesions with or without non-target lesions) and Table 2 (non-target
//! lesions only).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Response of the target lesions at one time point (RECIST 1.1 §4.3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum TargetResponse {
    /// All non-nodal targets gone and every nodal target < 10 mm short axis.
    #[serde(rename = "CR")]
    CompleteResponse,
    /// Sum at least 30 % below the baseline sum.
    #[serde(rename = "PR")]
    PartialResponse,
    /// Neither PR nor PD.
    #[serde(rename = "SD")]
    StableDisease,
    /// Sum at least 20 % and at least 5 mm above the nadir.
    #[serde(rename = "PD")]
    ProgressiveDisease,
    /// Not all targets evaluated and the evaluated ones do not show PD.
    #[serde(rename = "NE")]
    NotEvaluable,
}

/// Response of the non-target lesions at one time point (RECIST 1.1 §4.3.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum NonTargetResponse {
    /// All non-target lesions gone (nodes normal, < 10 mm short axis).
    #[serde(rename = "CR")]
    CompleteResponse,
    /// One or more non-target lesions persist.
    #[serde(rename = "NON_CR_NON_PD")]
    NonCrNonPd,
    /// Unequivocal progression of existing non-target lesions.
    #[serde(rename = "PD")]
    ProgressiveDisease,
    /// Not all non-target lesions evaluated, none progressing.
    #[serde(rename = "NE")]
    NotEvaluable,
}

/// Overall response at one time point, and best overall response (RECIST 1.1 §4.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum OverallResponse {
    /// Complete response.
    #[serde(rename = "CR")]
    CompleteResponse,
    /// Partial response.
    #[serde(rename = "PR")]
    PartialResponse,
    /// Stable disease.
    #[serde(rename = "SD")]
    StableDisease,
    /// Non-CR/non-PD: the "stable" category of non-target-only disease (Table 2).
    #[serde(rename = "NON_CR_NON_PD")]
    NonCrNonPd,
    /// Progressive disease.
    #[serde(rename = "PD")]
    ProgressiveDisease,
    /// Inevaluable.
    #[serde(rename = "NE")]
    NotEvaluable,
}

impl OverallResponse {
    /// The abbreviation used in RECIST tables and in the input/output format.
    pub fn code(self) -> &'static str {
        match self {
            OverallResponse::CompleteResponse => "CR",
            OverallResponse::PartialResponse => "PR",
            OverallResponse::StableDisease => "SD",
            OverallResponse::NonCrNonPd => "NON_CR_NON_PD",
            OverallResponse::ProgressiveDisease => "PD",
            OverallResponse::NotEvaluable => "NE",
        }
    }

    /// Parses an abbreviation as written by [`OverallResponse::code`].
    pub fn from_code(code: &str) -> Option<Self> {
        [
            OverallResponse::CompleteResponse,
            OverallResponse::PartialResponse,
            OverallResponse::StableDisease,
            OverallResponse::NonCrNonPd,
            OverallResponse::ProgressiveDisease,
            OverallResponse::NotEvaluable,
        ]
        .into_iter()
        .find(|r| r.code() == code)
    }
}

impl fmt::Display for OverallResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl TargetResponse {
    /// The abbreviation used in RECIST tables.
    pub fn code(self) -> &'static str {
        match self {
            TargetResponse::CompleteResponse => "CR",
            TargetResponse::PartialResponse => "PR",
            TargetResponse::StableDisease => "SD",
            TargetResponse::ProgressiveDisease => "PD",
            TargetResponse::NotEvaluable => "NE",
        }
    }
}

impl NonTargetResponse {
    /// The abbreviation used in RECIST tables.
    pub fn code(self) -> &'static str {
        match self {
            NonTargetResponse::CompleteResponse => "CR",
            NonTargetResponse::NonCrNonPd => "NON_CR_NON_PD",
            NonTargetResponse::ProgressiveDisease => "PD",
            NonTargetResponse::NotEvaluable => "NE",
        }
    }
}

/// Time-point response for a patient with target lesions, RECIST 1.1 Table 1.
///
/// `non_target` is `None` when the patient has no non-target lesions; that counts as
/// their complete response (nothing is left of them), so CR targets give CR overall.
/// `new_lesions` is whether an unequivocal new lesion is present (an equivocal one does not
/// count until confirmed, RECIST 1.1 §4.3.5).
pub fn table1(
    target: TargetResponse,
    non_target: Option<NonTargetResponse>,
    new_lesions: bool,
) -> OverallResponse {
    use NonTargetResponse as N;
    use OverallResponse as O;
    use TargetResponse as T;
    let non_target = non_target.unwrap_or(N::CompleteResponse);
    if new_lesions || target == T::ProgressiveDisease || non_target == N::ProgressiveDisease {
        // Rows "PD / any / yes or no", "any / PD / yes or no", "any / any / yes".
        return O::ProgressiveDisease;
    }
    match (target, non_target) {
        // Row "CR / CR / no".
        (T::CompleteResponse, N::CompleteResponse) => O::CompleteResponse,
        // Rows "CR / non-CR/non-PD / no" and "CR / not evaluated / no".
        (T::CompleteResponse, N::NonCrNonPd | N::NotEvaluable) => O::PartialResponse,
        // Row "PR / non-PD or not all evaluated / no".
        (T::PartialResponse, _) => O::PartialResponse,
        // Row "SD / non-PD or not all evaluated / no".
        (T::StableDisease, _) => O::StableDisease,
        // Row "not all evaluated / non-PD / no".
        (T::NotEvaluable, _) => O::NotEvaluable,
        // PD on either side returned above.
        (T::ProgressiveDisease, _) | (_, N::ProgressiveDisease) => O::ProgressiveDisease,
    }
}

/// Time-point response for a patient with non-target lesions only, RECIST 1.1 Table 2.
pub fn table2(non_target: NonTargetResponse, new_lesions: bool) -> OverallResponse {
    use NonTargetResponse as N;
    use OverallResponse as O;
    if new_lesions {
        // Row "any / yes".
        return O::ProgressiveDisease;
    }
    match non_target {
        N::CompleteResponse => O::CompleteResponse,
        N::NonCrNonPd => O::NonCrNonPd,
        N::NotEvaluable => O::NotEvaluable,
        N::ProgressiveDisease => O::ProgressiveDisease,
    }
}
