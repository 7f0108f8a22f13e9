//! The HER2-Ex PET protocol as code.
//!
//! Pure: no I/O, no async, no clock. Time, settings and inputs come in as values.

pub mod percist;
pub mod recist;
