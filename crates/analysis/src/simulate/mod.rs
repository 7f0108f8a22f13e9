//! The trial simulator: virtual HER2-Ex trials generated from stated assumptions, and the
//! operating characteristics of the study's analyses over many of them (how wide the ROC
//! area's interval will be, what power a given true effect gives, how many women must be
//! screened).
//!
//! Pure like the rest of the crate: assumptions, sizes and a seed in; trials, numbers and
//! SVG text out. The same seed gives the same report whatever the number of threads.
//!
//! | module | what |
//! |---|---|
//! | [`assumptions`] | the assumptions file (TOML; defaults shipped with their sources), parsed and checked |
//! | [`generate`] | one virtual trial: screening, HER2, lesions' SUVmax, arm, response, PFS, adverse events |
//! | [`oc`] | operating characteristics over replicates at several sizes (rayon, seeded per replicate) |
//! | [`chart`] | the picture of power and CI width against n |

pub mod assumptions;
pub mod chart;
pub mod generate;
pub mod oc;
mod validate;

pub use assumptions::{Assumptions, AssumptionsError, DEFAULT_ASSUMPTIONS_TOML, RawAssumptions};
pub use chart::oc_chart;
pub use generate::{SimTrial, simulate_trial};
pub use oc::{Distribution, OcError, OcReport, OcRow, operating_characteristics, replicate_seed};
