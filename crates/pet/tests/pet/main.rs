//! Integration tests of the PET crate: IBSI SUV reference series, series reading (single-
//! frame and enhanced multi-frame), broken files and header fuzzing. One binary, so the
//! crate links once.

mod broken;
mod common;
mod dro;
mod enhanced;
mod enhanced_ibsi;
mod fuzz;
mod series_reading;
mod suv_rules;
