//! The study's answers: the analysis data set derived from the participants' recorded
//! facts, the statistics with their uncertainty, the pictures, the study report and the
//! exports other tools read.
//!
//! Pure like `protocol`: no I/O, no clock, no database. The trial layer loads the
//! participants as of a data cut-off and hands them in; what comes back is numbers, SVG
//! text and file bytes, the same for the same input, byte for byte.
//!
//! | module | what |
//! |---|---|
//! | [`stats`] | estimators: ROC with DeLong, proportions with Wilson and Clopper–Pearson intervals, Cohen's kappa, Kaplan–Meier with Greenwood intervals, the log-rank test |
//! | [`svg`] | pictures drawn as SVG text: axes, strip/box, ROC, waterfall, swimmer, spider, Kaplan–Meier with numbers at risk, lesion heterogeneity |
//! | [`simulate`] | the trial simulator: virtual trials from stated assumptions and the operating characteristics of the study's analyses |
//! | [`source`] | what the trial layer hands in: events with their audit facts, cut at a data cut-off |
//! | [`export`] | CDISC ODM 1.3.2 and SDTM-like CSV datasets |
//! | [`testing`] | synthetic participants with audited events, for tests and benches |

pub mod analyses;
pub mod dataset;
pub mod export;
pub mod pictures;
pub mod report;
pub mod simulate;
pub mod source;
pub mod stats;
pub mod svg;
pub mod testing;
