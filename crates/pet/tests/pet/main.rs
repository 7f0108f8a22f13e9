//! Integration tests of the PET crate: IBSI SUV reference series, series reading, broken
//! files and header fuzzing. One binary, so the crate links once.

mod broken;
mod common;
mod dro;
mod fuzz;
mod series_reading;
mod suv_rules;
