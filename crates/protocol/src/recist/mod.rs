//! RECIST 1.1 response assessment (Eisenhauer et al., Eur J Cancer 2009;45:228–247).
//!
//! | step | RECIST 1.1 | module |
//! |---|---|---|
//! | measurability (size minima, bone, cystic, irradiated), target selection (≤ 5, ≤ 2 per organ, nodes one organ) | §3.1, §4.2 | [`baseline`] |
//! | diameters in tenths of a millimetre, exact thresholds | §4.3.1 | [`measure`] |
//! | sum of diameters, target and non-target response | §4.3 | [`timepoint`] |
//! | time-point response | §4.4.1, Tables 1 and 2 | [`response`] |
//! | best overall response, with or without confirmation; Table 3 note a | §4.4.3, Table 3, §4.6 | [`best`] |
//! | a whole case, new lesions confirmed later, reappearance after a confirmed CR | §4.3.5; EORTC RECIST FAQ | [`case`] |
//! | the calculator's JSON format | — | [`json`] |
//!
//! The trial protocol (§10) asks for the sum of diameters, % change from baseline and
//! nadir, target / non-target / new-lesion response and the overall response per
//! assessment, and the best overall response: [`evaluate`] returns all of them.

/// Version of this RECIST engine, recorded with every evaluation it makes. Raise it when a
/// change can change a result for the same input, so a stored result can be explained later.
///
/// - 1.0: first version.
/// - 1.1: Table 3 note a follows a confirmed CR by default ([`PdAfterCr`]); a target
///   that reappears after a confirmed CR is progression ([`case`]); the size minima and the
///   irradiated-lesion choice are the protocol's ([`MeasurabilityRules`]).
pub const ENGINE_VERSION: &str = "1.1";

pub mod baseline;
pub mod best;
pub mod case;
pub mod error;
pub mod json;
pub mod measure;
pub mod response;
pub mod timepoint;

pub use baseline::{
    Baseline, BaselineLesion, BoneLesion, CysticLesion, LesionId, MeasurabilityRules, Role,
};
pub use best::{BestOverallResponse, BestResponseRules, CrRun, PdAfterCr, best_overall_response};
pub use case::{
    Assessment, AssessmentData, Case, Evaluation, MeasuredTimePoint, RecistSettings, TimePoint,
    evaluate,
};
pub use error::RuleError;
pub use json::{
    EvaluationOutput, InputError, errors_json, evaluate_text, evaluation_json, evaluation_output,
    parse_case,
};
pub use measure::Tenths;
pub use response::{NonTargetResponse, OverallResponse, TargetResponse, table1, table2};
pub use timepoint::{Measurements, NewLesions, NonTargetStatus, TargetMeasurement};
